//! `HttpsConnector` (features `hyper` and `rustls`): hyper-util's connector that races TCP
//! and TLS together (HEv3 §6.1), without hyper-rustls on top.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use eyeballs_driver::{ConnectError, Network};
use http::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::http_connector::{ConnectionInfo, connection_info, host_port};
use crate::tls::{TlsConfig, TlsNetwork, TlsStream};
use crate::{Connector, SystemNetwork, TokioRuntime};

/// hyper-util's connector with secure racing: `Service<Uri>` answering with a
/// [`TokioIo<HttpsStream>`](HttpsStream). For an `https://` URI every attempt is TCP, then
/// TLS, and the first attempt whose TLS handshake is done wins (HEv3 §6.1): a path whose
/// TCP connects and whose TLS never answers (a TCP-terminating proxy) is left behind after
/// the Connection Attempt Delay instead of hanging the request, as it does with hyper-util's
/// `HttpConnector` under hyper-rustls (which takes the first TCP connection).
///
/// - The server name is the URI's host (an IP address literal needs
///   [`TlsConfig::server_name`] or [`TlsConfig::ip_address_names`]). The port is the URI's,
///   or 443 (80 for `http`).
/// - ALPN: the TLS configuration's list ([`TlsConfig::alpn`]; `["h2", "http/1.1"]` for
///   HTTP/2, which hyper-util's client then uses: [`Connected::negotiated_h2`]).
/// - `http://` URIs: plain TCP races by default, as hyper-rustls's `https_or_http`;
///   [`https_only(true)`](HttpsConnector::https_only) refuses them, as its `https_only`.
///   Any other scheme is refused.
/// - Every response carries a [`ConnectionInfo`] (the winning endpoint; for TLS, the ALPN
///   negotiated) next to hyper-util's `HttpInfo`.
///
/// ```no_run
/// use http_body_util::Empty;
/// use hyper_util::client::legacy::Client;
/// use hyper_util::rt::TokioExecutor;
/// use eyeballs_tokio::{ConnectionInfo, Connector, HttpsConnector};
/// use eyeballs_tokio::tls::TlsConfig;
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// let https = HttpsConnector::new(
///     Connector::new(),
///     TlsConfig::webpki_roots()?.alpn(["h2", "http/1.1"]),
/// );
/// let client: Client<_, Empty<hyper::body::Bytes>> =
///     Client::builder(TokioExecutor::new()).build(https);
/// let response = client.get("https://example.com/".parse()?).await?;
/// let info = response.extensions().get::<ConnectionInfo>().unwrap();
/// println!("{} from {} over {:?}", response.status(), info.remote_addr(), response.version());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct HttpsConnector<N = SystemNetwork> {
    plain: Connector<N>,
    secure: Connector<TlsNetwork<N>>,
    https_only: bool,
}

impl<N> Clone for HttpsConnector<N> {
    fn clone(&self) -> Self {
        HttpsConnector {
            plain: self.plain.clone(),
            secure: self.secure.clone(),
            https_only: self.https_only,
        }
    }
}

impl<N> HttpsConnector<N> {
    /// Races with `connector`'s settings and network: TCP for `http://`, TCP then TLS
    /// configured by `tls` for `https://`.
    pub fn new(connector: Connector<N>, tls: TlsConfig) -> Self {
        HttpsConnector {
            secure: connector.clone().tls(tls),
            plain: connector,
            https_only: false,
        }
    }

    /// Whether to refuse `http://` URIs (default `false`: they race plain TCP).
    ///
    /// ```
    /// use eyeballs_tokio::{Connector, HttpsConnector};
    /// use eyeballs_tokio::tls::TlsConfig;
    ///
    /// let https = HttpsConnector::new(Connector::new(), TlsConfig::webpki_roots()?);
    /// assert!(!https.is_https_only());
    /// assert!(https.https_only(true).is_https_only());
    /// # Ok::<(), eyeballs_tokio::tls::rustls::Error>(())
    /// ```
    pub fn https_only(mut self, only: bool) -> Self {
        self.https_only = only;
        self
    }

    /// Whether `http://` URIs are refused.
    pub fn is_https_only(&self) -> bool {
        self.https_only
    }

    /// The connector `https://` URIs race with (TCP, then TLS).
    pub fn secure_connector(&self) -> &Connector<TlsNetwork<N>> {
        &self.secure
    }

    /// The connector `http://` URIs race with (TCP).
    pub fn plain_connector(&self) -> &Connector<N> {
        &self.plain
    }
}

/// A connection [`HttpsConnector`] made: TLS over TCP for `https://`, TCP for `http://`,
/// and which endpoint it is ([`ConnectionInfo`]). hyper uses it through [`TokioIo`]; it
/// reads and writes like the stream inside.
///
/// ```no_run
/// use tower_service::Service;
/// use eyeballs_tokio::{Connector, HttpsConnector, HttpsStream};
/// use eyeballs_tokio::tls::TlsConfig;
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// let mut https = HttpsConnector::new(Connector::new(), TlsConfig::webpki_roots()?);
/// let io = https.call("https://example.com/".parse()?).await?;
/// let stream: HttpsStream = io.into_inner();
/// println!("{} ALPN {:?}", stream.info().remote_addr(), stream.info().negotiated_alpn());
/// if let HttpsStream::Tls { stream, .. } = stream {
///     let (tcp, tls) = stream.get_ref();
///     println!("{:?} {:?}", tcp.peer_addr(), tls.protocol_version());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum HttpsStream {
    /// TLS over TCP (an `https://` URI).
    Tls {
        /// The TLS stream.
        stream: Box<TlsStream>,
        /// Which endpoint it is.
        info: ConnectionInfo,
    },
    /// Plain TCP (an `http://` URI).
    Plain {
        /// The TCP stream.
        stream: TcpStream,
        /// Which endpoint it is.
        info: ConnectionInfo,
    },
}

impl HttpsStream {
    /// Which endpoint it is.
    pub fn info(&self) -> &ConnectionInfo {
        match self {
            HttpsStream::Tls { info, .. } | HttpsStream::Plain { info, .. } => info,
        }
    }

    /// The TCP stream underneath.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            HttpsStream::Tls { stream, .. } => stream.get_ref().0,
            HttpsStream::Plain { stream, .. } => stream,
        }
    }

    /// Whether it is TLS.
    pub fn is_tls(&self) -> bool {
        matches!(self, HttpsStream::Tls { .. })
    }
}

impl Connection for HttpsStream {
    /// The TCP stream's (hyper-util's `HttpInfo`), HTTP/2 when ALPN says `h2`, and the
    /// [`ConnectionInfo`].
    fn connected(&self) -> Connected {
        let connected = self.tcp().connected().extra(self.info().clone());
        if self.info().negotiated_alpn() == Some(b"h2") {
            connected.negotiated_h2()
        } else {
            connected
        }
    }
}

macro_rules! both {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            HttpsStream::Tls { stream, .. } => {
                let $s = Pin::new(stream.as_mut());
                $e
            }
            HttpsStream::Plain { stream, .. } => {
                let $s = Pin::new(stream);
                $e
            }
        }
    };
}

impl AsyncRead for HttpsStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        both!(self, s => s.poll_read(cx, buf))
    }
}

impl AsyncWrite for HttpsStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        both!(self, s => s.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        both!(self, s => s.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            HttpsStream::Tls { stream, .. } => stream.is_write_vectored(),
            HttpsStream::Plain { stream, .. } => stream.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        both!(self, s => s.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        both!(self, s => s.poll_shutdown(cx))
    }
}

/// What a URI asks of the connector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scheme {
    Https,
    Http,
}

/// The URI's scheme, or why it is refused.
fn scheme(uri: &Uri, https_only: bool) -> Result<Scheme, ConnectError> {
    let refuse = |why: &str| Err(ConnectError::invalid_target(&uri.to_string(), why));
    match uri.scheme_str() {
        Some("https") => Ok(Scheme::Https),
        Some("http") if https_only => refuse(
            "the URI's scheme is http, and this connector is https_only: write https://, or \
             build it with https_only(false) to send plaintext for http:// URIs",
        ),
        Some("http") => Ok(Scheme::Http),
        Some(other) => refuse(&format!(
            "the URI's scheme is {other}: this connector speaks https (and http)"
        )),
        None => refuse("the URI has no scheme: write https://host/"),
    }
}

/// The error of a race whose report names no winner (which cannot happen).
fn no_winner(target: &str) -> ConnectError {
    ConnectError::io(
        target,
        &io::Error::other("the race's report names no winning attempt"),
    )
}

impl<N> tower_service::Service<Uri> for HttpsConnector<N>
where
    N: Network<TokioRuntime, Stream = TcpStream>,
{
    type Response = TokioIo<HttpsStream>;
    type Error = ConnectError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, ConnectError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), ConnectError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let target = scheme(&uri, self.https_only).and_then(|s| Ok((s, host_port(&uri)?)));
        let (scheme, target) = match target {
            Ok(t) => t,
            Err(e) => return Box::pin(std::future::ready(Err(e))),
        };
        match scheme {
            Scheme::Https => {
                let race = self.secure.connect_with_report(target);
                Box::pin(async move {
                    let (result, report) = race.await;
                    let secured = result?;
                    let info = connection_info(&report)
                        .ok_or_else(|| no_winner(&report.target))?
                        .with_negotiated_alpn(secured.info().alpn());
                    Ok(TokioIo::new(HttpsStream::Tls {
                        stream: Box::new(secured.into_inner()),
                        info,
                    }))
                })
            }
            Scheme::Http => {
                let race = self.plain.connect_with_report(target);
                Box::pin(async move {
                    let (result, report) = race.await;
                    let stream = result?;
                    let info = connection_info(&report).ok_or_else(|| no_winner(&report.target))?;
                    Ok(TokioIo::new(HttpsStream::Plain { stream, info }))
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        let s = |uri: &str, only| scheme(&uri.parse().unwrap(), only);
        assert_eq!(s("https://example.com/", true).unwrap(), Scheme::Https);
        assert_eq!(s("http://example.com/", false).unwrap(), Scheme::Http);
        let e = s("http://example.com/", true).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("https_only"), "{e}");
        assert!(s("ftp://example.com/", false).is_err());
        assert!(s("/path-only", false).is_err());
    }
}
