//! The handshake seam: how a runtime runs a rustls client handshake on its streams
//! ([`TlsHandshake`]), and the futures-rustls one ([`FuturesTls`]).

use std::io;
use std::sync::Arc;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection};

use crate::runtime::BoxFuture;

/// How a runtime runs a rustls client handshake on its transport streams: tokio-rustls for
/// tokio (`eyeballs_tokio::TokioTls`), futures-rustls for the `futures-io` runtimes.
pub trait TlsHandshake<T>: Send + Sync + 'static {
    /// The TLS stream over `T`.
    type Stream: Send + 'static;

    /// Runs the client handshake on `transport` with `config`, authenticating `name`.
    /// Dropping the future closes `transport`.
    fn handshake(
        &self,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
        transport: T,
    ) -> BoxFuture<io::Result<Self::Stream>>;

    /// The rustls connection inside a stream (for the negotiated ALPN, the ECH status).
    fn connection(stream: &Self::Stream) -> &ClientConnection;
}

/// The TLS handshake on `futures-io` streams, with futures-rustls (feature
/// `futures-rustls`): the handshake of the smol adapter, and of any runtime whose TCP
/// streams implement `futures_io::{AsyncRead, AsyncWrite}`.
///
/// ```
/// use eyeballs_driver::SystemNetwork;
/// use eyeballs_driver::tls::{FuturesTls, Tls, TlsConfig};
///
/// let network = Tls::new(SystemNetwork, FuturesTls, TlsConfig::webpki_roots()?);
/// # let _ = network; Ok::<(), eyeballs_driver::tls::rustls::Error>(())
/// ```
#[cfg(feature = "futures-rustls")]
#[cfg_attr(docsrs, doc(cfg(feature = "futures-rustls")))]
#[derive(Clone, Copy, Debug, Default)]
pub struct FuturesTls;

#[cfg(feature = "futures-rustls")]
impl<T> TlsHandshake<T> for FuturesTls
where
    T: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin + Send + 'static,
{
    type Stream = futures_rustls::client::TlsStream<T>;

    fn handshake(
        &self,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
        transport: T,
    ) -> BoxFuture<io::Result<Self::Stream>> {
        Box::pin(futures_rustls::TlsConnector::from(config).connect(name, transport))
    }

    fn connection(stream: &Self::Stream) -> &ClientConnection {
        stream.get_ref().1
    }
}
