//! QUIC in the race on tokio (feature `quic`, quinn 0.11): QUIC attempts race alongside
//! TCP+TLS ones, and the first attempt whose handshake is done wins, over QUIC or TLS (HEv3
//! §6.1, §6.2).
//!
//! ```no_run
//! use eyeballs_tokio::Connector;
//! use eyeballs_tokio::quic::{QuicOrTls, SecureConnection};
//! use eyeballs_tokio::tls::{Secured, TlsConfig};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let connector = Connector::new()
//!     .tls(TlsConfig::webpki_roots()?.alpn(["h3", "h2", "http/1.1"]))
//!     .quic();
//! let (result, report) = connector.connect_with_report("example.com:443").await;
//! println!("{report}"); // QUIC first for each address, then TCP+TLS, 250 ms apart
//! let secured: Secured<QuicOrTls> = result?;
//! println!(
//!     "{} over {} won, ALPN {:?}",
//!     secured.info().remote_addr(),
//!     secured.info().protocol(),
//!     secured.info().alpn().map(String::from_utf8_lossy)
//! );
//! match secured.into_inner() {
//!     SecureConnection::Quic(connection) => {
//!         let (mut send, _recv) = connection.open_bi().await?; // HTTP/3 goes here
//!         send.write_all(b"...").await?;
//!     }
//!     SecureConnection::Tls(mut tls) => {
//!         use tokio::io::AsyncWriteExt;
//!         tls.write_all(b"...").await?; // HTTP/2 or HTTP/1.1 by the ALPN negotiated
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! [`Connector::quic`] turns QUIC on in the engine (`Config::protocols.quic`): every address
//! is then tried over QUIC, then over TCP the Connection Attempt Delay later, before the next
//! address (the engine's reading 4; `prefer_protocol` and `group_by_protocol` change the
//! order), and HTTPS records' `h3` endpoints are used (the `hickory` feature asks for them
//! with `query_https(true)`). Everything else is the TLS configuration's: the name
//! authenticated, the roots, the ALPN list (`h3` goes to QUIC attempts, the other ids to TCP
//! ones: give both), the handshake timeout. QUIC failures are named in the error (`QUIC
//! handshake failed: ...`); a QUIC attempt to a path that drops UDP is left behind after
//! the attempt delay. To keep the type and race without QUIC (a command's switch), set
//! `config_mut().protocols.quic = false`.
//!
//! The connector keeps one quinn endpoint (one UDP socket) per family, made by the first
//! race that needs it, for all its races and clones ([`QuicNetwork::endpoints`]): keep the
//! connector on one tokio runtime. The driver's [`eyeballs_driver::quic`] says the rest:
//! how losers are closed, ECH, the limits.

use std::io;
use std::sync::Arc;

use tokio::net::TcpStream;

use crate::tls::{Secured, TlsConfig, TlsNetwork, TlsStream, TokioTls};
use crate::{Connector, IntoTarget, SystemNetwork};

#[doc(no_inline)]
pub use eyeballs_driver::quic::{
    Quic, QuicEndpoints, SecureConnection, client_config, handshake_error, quinn,
};

/// A network whose QUIC attempts are made with quinn on tokio and whose TCP attempts are
/// TCP (made by `N`: the system's by default, hickory's, ...) then TLS with tokio-rustls:
/// what [`Connector::quic`] races over.
pub type QuicNetwork<N = SystemNetwork> = Quic<N, TokioTls>;

/// What a race over a [`QuicNetwork`] returns inside its [`Secured`]: the TLS stream or the
/// QUIC connection.
pub type QuicOrTls<T = TcpStream> = SecureConnection<TlsStream<T>>;

impl<N> Connector<TlsNetwork<N>> {
    /// This secure connector with QUIC in the race too: QUIC on in the engine, QUIC
    /// attempts made with quinn on tokio, TCP ones TCP+TLS as before, all configured by the
    /// TLS configuration. Its races return a [`Secured`] [`QuicOrTls`]. See the
    /// [module](self).
    ///
    /// ```no_run
    /// use eyeballs_tokio::Connector;
    /// use eyeballs_tokio::tls::TlsConfig;
    ///
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    /// let connector = Connector::new()
    ///     .tls(TlsConfig::webpki_roots()?.alpn(["h3", "h2"]))
    ///     .quic();
    /// let secured = connector.connect("example.com:443").await?;
    /// println!("{} won", secured.info().protocol());
    /// # Ok(()) }
    /// ```
    pub fn quic(self) -> Connector<QuicNetwork<N>> {
        Connector::from(self.into_driver().quic(Arc::new(quinn::TokioRuntime)))
    }
}

/// Connects to `target` with QUIC and TCP+TLS raced, and the default settings: the Mozilla
/// roots ([`TlsConfig::webpki_roots`]), ALPN `h3` over QUIC and `h2`, `http/1.1` over TCP.
/// Returns the first connection whose handshake is done; every other attempt is closed.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// let secured = eyeballs_tokio::quic::connect("example.com:443").await?;
/// println!("{} over {}", secured.info().remote_addr(), secured.info().protocol());
/// # Ok(()) }
/// ```
pub async fn connect<T: IntoTarget>(target: T) -> io::Result<Secured<QuicOrTls>> {
    let config = TlsConfig::webpki_roots()
        .map_err(io::Error::other)?
        .alpn(["h3", "h2", "http/1.1"]);
    let connector = Connector::new().tls(config).quic();
    connector.connect(target).await.map_err(io::Error::from)
}
