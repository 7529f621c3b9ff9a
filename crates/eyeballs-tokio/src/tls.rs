//! Secure racing with rustls on tokio (feature `rustls`): a race ends when a TLS handshake
//! is done, not a TCP one (HEv3 §6.1).
//!
//! ```no_run
//! use eyeballs_tokio::tls::{Secured, TlsConfig, TlsStream};
//! use eyeballs_tokio::Connector;
//! use tokio::io::AsyncWriteExt;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let connector = Connector::new().tls(TlsConfig::webpki_roots()?.alpn(["h2", "http/1.1"]));
//! let secured: Secured<TlsStream> = connector.connect("example.com:443").await?;
//! println!(
//!     "{} won, ALPN {:?}",
//!     secured.info().remote_addr(),
//!     secured.info().alpn().map(String::from_utf8_lossy)
//! );
//! let mut tls = secured.into_inner();
//! tls.write_all(b"GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n").await?;
//! # Ok(()) }
//! ```
//!
//! Each attempt connects TCP, reports it (the race report's `transport` event; the engine
//! extends the Next Connection Attempt Timer), then runs the TLS handshake with
//! tokio-rustls. A path where TCP connects and TLS never answers (a TCP-terminating proxy)
//! costs one Connection Attempt Delay: the next address starts when the timer runs out, and
//! the first TLS handshake done wins. A TLS failure (an alert, a certificate rejected, the
//! peer closing) fails that attempt at once, so the next one starts; when every attempt
//! fails the [`ConnectError`](crate::ConnectError) lists each, the TLS ones as `TLS
//! handshake failed: ...` with rustls's reason.
//!
//! The name authenticated, the ALPN list each attempt offers, ECH and the limits are the
//! driver's ([`eyeballs_driver::tls`]). The default roots are the Mozilla root certificates
//! compiled in ([`TlsConfig::webpki_roots`]); with the `native-roots` feature,
//! [`TlsConfig::native_roots`](eyeballs_driver::tls::TlsConfig) loads the system's.

use std::io;
use std::sync::Arc;

use eyeballs_driver::BoxFuture;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, ClientConnection};

use crate::{Connector, IntoTarget, SystemNetwork};

#[doc(no_inline)]
pub use eyeballs_driver::tls::{
    DEFAULT_HANDSHAKE_TIMEOUT, Ech, SecureInfo, Secured, Tls, TlsConfig, TlsHandshake, rustls,
};
#[doc(no_inline)]
pub use tokio_rustls;

/// The TLS handshake on tokio streams, with tokio-rustls: the [`TlsHandshake`] of this
/// adapter's [`TlsNetwork`].
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioTls;

impl<T> TlsHandshake<T> for TokioTls
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = tokio_rustls::client::TlsStream<T>;

    fn handshake(
        &self,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
        transport: T,
    ) -> BoxFuture<io::Result<Self::Stream>> {
        Box::pin(tokio_rustls::TlsConnector::from(config).connect(name, transport))
    }

    fn connection(stream: &Self::Stream) -> &ClientConnection {
        stream.get_ref().1
    }
}

/// A network whose attempts are TCP (made by `N`: the system's by default, hickory's, ...)
/// then TLS with tokio-rustls: what [`Connector::tls`] races over.
pub type TlsNetwork<N = SystemNetwork> = Tls<N, TokioTls>;

/// The TLS stream a secure race over TCP returns (inside a [`Secured`]).
pub type TlsStream<T = TcpStream> = tokio_rustls::client::TlsStream<T>;

impl<N> Connector<N> {
    /// This connector with secure racing: every attempt is TCP, then TLS configured by
    /// `config`, and a race ends when a TLS handshake is done (HEv3 §6.1). Its races return
    /// a [`Secured`] TLS stream (the endpoint, the ALPN negotiated). The engine gets the
    /// client's ALPN list and, for [`Ech::Reliant`], SVCB reliance
    /// ([`TlsConfig::configure`]). Every other setting is kept.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use eyeballs_tokio::Connector;
    /// use eyeballs_tokio::tls::TlsConfig;
    ///
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    /// let connector = Connector::new()
    ///     .total_timeout(Duration::from_secs(10))
    ///     .tls(TlsConfig::webpki_roots()?);
    /// let (result, report) = connector.connect_with_report("example.com:443").await;
    /// println!("{report}"); // each attempt's `transport` event, then the TLS result
    /// let secured = result?;
    /// # drop(secured); Ok(()) }
    /// ```
    pub fn tls(self, config: TlsConfig) -> Connector<TlsNetwork<N>> {
        Connector::from(self.into_driver().tls(config, TokioTls))
    }
}

/// Connects to `target` with secure racing and the default settings: the Mozilla roots
/// ([`TlsConfig::webpki_roots`]), no ALPN. Returns the TLS stream of the first attempt
/// whose TLS handshake is done; every other socket is closed.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// let secured = eyeballs_tokio::tls::connect("example.com:443").await?;
/// println!("connected to {}", secured.info().remote_addr());
/// # Ok(()) }
/// ```
pub async fn connect<T: IntoTarget>(target: T) -> io::Result<Secured<TlsStream>> {
    let config = TlsConfig::webpki_roots().map_err(io::Error::other)?;
    let connector = Connector::new().tls(config);
    connector.connect(target).await.map_err(io::Error::from)
}
