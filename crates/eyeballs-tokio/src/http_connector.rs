//! The connector as a `tower_service::Service<http::Uri>`, for hyper-util's legacy client
//! and the TLS connectors that wrap one.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use eyeballs::AttemptId;
use eyeballs::trace::Event;
use eyeballs_driver::{ConnectError, Network, RaceReport};
use http::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::{Connector, SystemNetwork, TokioRuntime};

/// A [`Connector`] as hyper-util's connector: `Service<Uri>` answering with a
/// [`TokioIo<HttpStream>`](HttpStream), which hyper reads and writes and which tells the
/// client which endpoint won ([`ConnectionInfo`]). The port is the URI's, or the scheme's
/// default (80 for `http`, 443 for `https`).
///
/// It connects TCP and sends what hyper writes as it is: plaintext. So, like hyper-util's
/// own `HttpConnector`, it refuses a URI whose scheme is not `http` (an `https://` URI
/// would otherwise go out unencrypted), with an error saying so; a TLS connector that wraps
/// it (hyper-rustls, hyper-tls, tonic's TLS) hands it `https://` URIs and does the TLS
/// itself: give it [`enforce_http(false)`](HttpConnector::enforce_http).
///
/// ```no_run
/// use http_body_util::Empty;
/// use hyper_util::client::legacy::Client;
/// use hyper_util::rt::TokioExecutor;
/// use eyeballs_tokio::{ConnectionInfo, Connector, HttpConnector};
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// let connector = HttpConnector::new(Connector::new().tcp_nodelay(true));
/// let client: Client<_, Empty<hyper::body::Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
/// let response = client.get("http://example.com/".parse()?).await?;
/// // Which endpoint won (and, for an HTTPS record's endpoint, the ALPN ids it offered):
/// let info = response.extensions().get::<ConnectionInfo>().unwrap();
/// println!("{} from {}", response.status(), info.remote_addr());
///
/// // `https://` needs TLS: a TLS connector wraps ours, which then lets https URIs through.
/// let plain = HttpConnector::new(Connector::new()).enforce_http(false);
/// # drop(plain); Ok(()) }
/// ```
#[derive(Debug)]
pub struct HttpConnector<N = SystemNetwork> {
    connector: Connector<N>,
    enforce_http: bool,
}

impl<N> Clone for HttpConnector<N> {
    fn clone(&self) -> Self {
        HttpConnector {
            connector: self.connector.clone(),
            enforce_http: self.enforce_http,
        }
    }
}

impl<N> HttpConnector<N> {
    /// Serves hyper with `connector`, refusing URIs that are not `http://`.
    pub fn new(connector: Connector<N>) -> Self {
        HttpConnector {
            connector,
            enforce_http: true,
        }
    }

    /// Whether to refuse URIs whose scheme is not `http` (default `true`). Set it to
    /// `false` only when a TLS connector wraps this one (hyper-rustls's
    /// `HttpsConnectorBuilder::wrap_connector`, hyper-tls, tonic with TLS): it gives this
    /// connector the `https://` URIs it will encrypt.
    ///
    /// ```
    /// use eyeballs_tokio::{Connector, HttpConnector};
    ///
    /// let connector = HttpConnector::new(Connector::new());
    /// assert!(connector.enforces_http());
    /// assert!(!connector.enforce_http(false).enforces_http());
    /// ```
    pub fn enforce_http(mut self, enforce: bool) -> Self {
        self.enforce_http = enforce;
        self
    }

    /// Whether URIs that are not `http://` are refused.
    pub fn enforces_http(&self) -> bool {
        self.enforce_http
    }

    /// The connector.
    pub fn connector(&self) -> &Connector<N> {
        &self.connector
    }
}

/// Which endpoint a connection of [`HttpConnector`] went to: hyper's
/// [`Connected::extra`], so hyper-util's legacy client puts it in every response's
/// extensions (next to hyper-util's own `HttpInfo`, which has the socket's local and
/// remote addresses).
///
/// ```no_run
/// # async fn demo(response: http::Response<hyper::body::Incoming>) {
/// use eyeballs_tokio::ConnectionInfo;
///
/// if let Some(info) = response.extensions().get::<ConnectionInfo>() {
///     println!("attempt {} to {} won", info.attempt(), info.remote_addr());
///     if let Some(alpn) = info.alpn() {
///         println!("its HTTPS record offered {alpn:?}");
///     }
/// }
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionInfo {
    remote_addr: SocketAddr,
    attempt: AttemptId,
    alpn: Option<Arc<[String]>>,
    ech: Option<Arc<[u8]>>,
    negotiated_alpn: Option<Vec<u8>>,
}

impl ConnectionInfo {
    /// The same, with the ALPN protocol a TLS handshake negotiated.
    #[cfg(feature = "rustls")]
    pub(crate) fn with_negotiated_alpn(mut self, alpn: Option<&[u8]>) -> ConnectionInfo {
        self.negotiated_alpn = alpn.map(<[u8]>::to_vec);
        self
    }

    /// The address the winning attempt connected to.
    pub fn remote_addr(&self) -> SocketAddr {
        self.remote_addr
    }

    /// The winning attempt (its number in the race's report).
    pub fn attempt(&self) -> AttemptId {
        self.attempt
    }

    /// For an endpoint that came from an HTTPS (SVCB) record: the ALPN ids the record
    /// offered that the client supports, in the record's order (give the TLS handshake
    /// these). `None` for an endpoint from plain A/AAAA answers.
    pub fn alpn(&self) -> Option<&[String]> {
        self.alpn.as_deref()
    }

    /// For an endpoint whose HTTPS record had an `ech` parameter: the ECHConfigList for
    /// the TLS ClientHello.
    pub fn ech(&self) -> Option<&[u8]> {
        self.ech.as_deref()
    }

    /// For a connection of the `HttpsConnector` (features `hyper` and `rustls`): the ALPN
    /// protocol the TLS handshake negotiated (`b"h2"`). `None` for plain TCP.
    pub fn negotiated_alpn(&self) -> Option<&[u8]> {
        self.negotiated_alpn.as_deref()
    }
}

/// A connection [`HttpConnector`] made: the TCP stream and which endpoint it is
/// ([`ConnectionInfo`]). hyper uses it through [`TokioIo`]; it reads and writes like the
/// stream.
///
/// ```no_run
/// use tower_service::Service;
/// use eyeballs_tokio::{Connector, HttpConnector, HttpStream};
///
/// # async fn demo() -> Result<(), eyeballs_tokio::ConnectError> {
/// let mut connector = HttpConnector::new(Connector::new());
/// let io = connector.call("http://example.com/".parse().unwrap()).await?;
/// let stream: HttpStream = io.into_inner();
/// println!("{}", stream.info().remote_addr());
/// let tcp: tokio::net::TcpStream = stream.into_inner();
/// # drop(tcp); Ok(()) }
/// ```
#[derive(Debug)]
pub struct HttpStream {
    stream: TcpStream,
    info: ConnectionInfo,
}

impl HttpStream {
    /// Which endpoint it is.
    pub fn info(&self) -> &ConnectionInfo {
        &self.info
    }

    /// The TCP stream.
    pub fn get_ref(&self) -> &TcpStream {
        &self.stream
    }

    /// The TCP stream, to own.
    pub fn into_inner(self) -> TcpStream {
        self.stream
    }
}

impl Connection for HttpStream {
    /// The TCP stream's (hyper-util's `HttpInfo`), with the [`ConnectionInfo`].
    fn connected(&self) -> Connected {
        self.stream.connected().extra(self.info.clone())
    }
}

impl AsyncRead for HttpStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for HttpStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// The host (without IPv6 brackets) and port of `uri`. An IPv6 zone is written after
/// `%25` in a URI (RFC 6874 §2: the `%` escaped), and comes out after a plain `%`
/// (`fe80::1%eth0`), as the driver's targets take it; a bare `%` is taken as it is.
pub(crate) fn host_port(uri: &Uri) -> Result<(String, u16), ConnectError> {
    let text = uri.to_string();
    let host = uri
        .host()
        .ok_or_else(|| ConnectError::invalid_target(&text, "the URI has no host"))?;
    let host = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(literal) => match literal.split_once('%') {
            Some((ip, zone)) => {
                let zone = zone.strip_prefix("25").unwrap_or(zone);
                return port_of(uri, &text).map(|port| (format!("{ip}%{zone}"), port));
            }
            None => literal,
        },
        None => host,
    };
    port_of(uri, &text).map(|port| (host.to_string(), port))
}

/// The port of `uri`, or its scheme's default.
fn port_of(uri: &Uri, text: &str) -> Result<u16, ConnectError> {
    match (uri.port_u16(), uri.scheme_str()) {
        (Some(port), _) => Ok(port),
        (None, Some("http")) | (None, None) => Ok(80),
        (None, Some("https")) => Ok(443),
        (None, Some(_)) => Err(ConnectError::invalid_target(
            text,
            "the URI has no port and a scheme without a default port",
        )),
    }
}

/// Refuses `uri` unless its scheme is `http` (when the connector enforces it).
fn check_scheme(uri: &Uri) -> Result<(), ConnectError> {
    match uri.scheme_str() {
        Some("http") => Ok(()),
        Some(scheme) => Err(ConnectError::invalid_target(
            &uri.to_string(),
            &format!(
                "the URI's scheme is {scheme}, not http, and this connector sends plaintext: \
                 wrap it in a TLS connector (hyper-rustls, hyper-tls, tonic's TLS) and call \
                 enforce_http(false) on it"
            ),
        )),
        None => Err(ConnectError::invalid_target(
            &uri.to_string(),
            "the URI has no scheme: write http://host/ (or wrap the connector in a TLS \
             connector and call enforce_http(false) on it)",
        )),
    }
}

/// The winning endpoint of a race that connected, as its report recorded it.
pub(crate) fn connection_info(report: &RaceReport) -> Option<ConnectionInfo> {
    let winner = report.winner?;
    report.events.iter().find_map(|e| match &e.event {
        Event::Attempt(a) if a.id == winner => Some(ConnectionInfo {
            remote_addr: a.addr,
            attempt: a.id,
            alpn: a.alpn.clone(),
            ech: a.ech.clone(),
            negotiated_alpn: None,
        }),
        _ => None,
    })
}

impl<N> tower_service::Service<Uri> for HttpConnector<N>
where
    N: Network<TokioRuntime, Stream = TcpStream>,
{
    type Response = TokioIo<HttpStream>;
    type Error = ConnectError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, ConnectError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), ConnectError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let checked = if self.enforce_http {
            check_scheme(&uri)
        } else {
            Ok(())
        };
        let race = checked
            .and_then(|()| host_port(&uri))
            .map(|target| self.connector.connect_with_report(target));
        Box::pin(async move {
            let (result, report) = race?.await;
            let stream = result?;
            let info = connection_info(&report).ok_or_else(|| {
                ConnectError::io(
                    &report.target,
                    &io::Error::other("the race's report names no winning attempt"),
                )
            })?;
            Ok(TokioIo::new(HttpStream { stream, info }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_passes_the_scheme_check() {
        let check = |s: &str| check_scheme(&s.parse().unwrap());
        assert!(check("http://example.com/").is_ok());
        let e = check("https://example.com/").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("scheme is https, not http"), "{e}");
        assert!(e.to_string().contains("enforce_http(false)"), "{e}");
        assert!(check("/path-only").is_err());
    }

    #[test]
    fn ports_and_hosts() {
        let hp = |s: &str| host_port(&s.parse().unwrap());
        assert_eq!(
            hp("http://example.com/").unwrap(),
            ("example.com".into(), 80)
        );
        assert_eq!(
            hp("https://example.com/").unwrap(),
            ("example.com".into(), 443)
        );
        assert_eq!(hp("http://[::1]:8080/x").unwrap(), ("::1".into(), 8080));
        assert!(hp("/path-only").is_err());
        assert!(hp("ftp://example.com/").is_err());
    }

    /// RFC 6874: in a URI the zone of an IPv6 address follows `%25` (the `%` escaped).
    #[test]
    fn zones_in_uris() {
        use eyeballs_driver::IntoTarget;
        let hp = |s: &str| host_port(&s.parse().unwrap());
        assert_eq!(
            hp("http://[fe80::1%253]:8080/").unwrap(),
            ("fe80::1%3".into(), 8080)
        );
        // A bare `%` (not escaped) is taken as it is.
        assert_eq!(hp("http://[fe80::1%3]/").unwrap(), ("fe80::1%3".into(), 80));
        let scoped = |scope| {
            let mut a: std::net::SocketAddrV6 = "[fe80::1]:80".parse().unwrap();
            a.set_scope_id(scope);
            eyeballs::Target::addresses([std::net::SocketAddr::V6(a)])
        };
        assert_eq!(
            hp("http://[fe80::1%253]/").unwrap().into_target().unwrap(),
            scoped(3)
        );
        #[cfg(target_os = "linux")]
        assert_eq!(
            hp("http://[fe80::1%25lo]/").unwrap().into_target().unwrap(),
            scoped(1)
        );
        let e = hp("http://[fe80::1%25]/")
            .unwrap()
            .into_target()
            .unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
    }
}
