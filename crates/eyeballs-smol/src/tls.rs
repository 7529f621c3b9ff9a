//! Secure racing with rustls on smol (feature `rustls`): a race ends when a TLS handshake is
//! done, not a TCP one (HEv3 §6.1). The handshake is futures-rustls's
//! ([`FuturesTls`]); everything else (the name authenticated, the ALPN list each attempt
//! offers, ECH, the errors) is the driver's ([`eyeballs_driver::tls`]), as in the tokio
//! adapter.
//!
//! ```no_run
//! use eyeballs_smol::Connector;
//! use eyeballs_smol::tls::{Secured, TlsConfig, TlsStream};
//! use futures_lite::AsyncWriteExt;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let connector = Connector::new().tls(TlsConfig::webpki_roots()?.alpn(["http/1.1"]));
//! let mut secured: Secured<TlsStream> = connector.connect("example.com:443").await?;
//! println!("{} won", secured.info().remote_addr());
//! secured.get_mut().write_all(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n").await?;
//! # Ok(()) }
//! ```

use std::io;

use crate::{Connector, IntoTarget, SystemNetwork};

#[doc(no_inline)]
pub use eyeballs_driver::tls::{
    DEFAULT_HANDSHAKE_TIMEOUT, Ech, FuturesTls, SecureInfo, Secured, Tls, TlsConfig, TlsHandshake,
    rustls,
};

/// A network whose attempts are TCP (made by `N`: the system's by default) then TLS with
/// futures-rustls: what [`Connector::tls`] races over.
pub type TlsNetwork<N = SystemNetwork> = Tls<N, FuturesTls>;

/// The TLS stream a secure race over TCP returns (inside a [`Secured`]).
pub type TlsStream<T = async_net::TcpStream> = <FuturesTls as TlsHandshake<T>>::Stream;

impl<N> Connector<N> {
    /// This connector with secure racing: every attempt is TCP, then TLS configured by
    /// `config`, and a race ends when a TLS handshake is done (HEv3 §6.1). Its races return
    /// a [`Secured`] TLS stream (the endpoint, the ALPN negotiated). The engine gets the
    /// client's ALPN list and, for [`Ech::Reliant`], SVCB reliance
    /// ([`TlsConfig::configure`]). Every other setting is kept.
    ///
    /// ```no_run
    /// use eyeballs_smol::Connector;
    /// use eyeballs_smol::tls::TlsConfig;
    ///
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    /// let connector = Connector::new().tls(TlsConfig::webpki_roots()?);
    /// let (result, report) = connector.connect_with_report("example.com:443").await;
    /// println!("{report}");
    /// let secured = result?;
    /// # drop(secured); Ok(()) }
    /// ```
    pub fn tls(self, config: TlsConfig) -> Connector<TlsNetwork<N>> {
        Connector::from(self.into_driver().tls(config, FuturesTls))
    }
}

/// Connects to `target` with secure racing and the default settings: the Mozilla roots
/// ([`TlsConfig::webpki_roots`]), no ALPN.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// let secured = eyeballs_smol::tls::connect("example.com:443").await?;
/// println!("connected to {}", secured.info().remote_addr());
/// # Ok(()) }
/// ```
pub async fn connect<T: IntoTarget>(target: T) -> io::Result<Secured<TlsStream>> {
    let config = TlsConfig::webpki_roots().map_err(io::Error::other)?;
    let connector = Connector::new().tls(config);
    connector.connect(target).await.map_err(io::Error::from)
}
