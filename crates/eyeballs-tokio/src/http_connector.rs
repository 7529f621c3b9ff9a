//! The connector as a `tower_service::Service<http::Uri>`, for hyper-util's legacy client.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use eyeballs_driver::{ConnectError, Network};
use http::Uri;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::{Connector, SystemNetwork, TokioRuntime};

/// A [`Connector`] as hyper-util's connector: `Service<Uri>` answering with a
/// [`TokioIo<TcpStream>`](TokioIo) (which implements hyper-util's `Connection`). The port
/// is the URI's, or the scheme's default (80 for `http`, 443 for `https`). TLS is not done
/// here: wrap this connector in a TLS connector (e.g. hyper-rustls) for `https`.
///
/// ```no_run
/// use http_body_util::Empty;
/// use hyper_util::client::legacy::Client;
/// use hyper_util::rt::TokioExecutor;
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// let connector = eyeballs_tokio::HttpConnector::new(eyeballs_tokio::Connector::new());
/// let client: Client<_, Empty<hyper::body::Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
/// let response = client.get("http://example.com/".parse()?).await?;
/// println!("{}", response.status());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct HttpConnector<N = SystemNetwork> {
    connector: Connector<N>,
}

impl<N> HttpConnector<N> {
    /// Serves hyper with `connector`.
    pub fn new(connector: Connector<N>) -> Self {
        HttpConnector { connector }
    }

    /// The connector.
    pub fn connector(&self) -> &Connector<N> {
        &self.connector
    }
}

/// The host (without IPv6 brackets) and port of `uri`. An IPv6 zone is written after
/// `%25` in a URI (RFC 6874 §2: the `%` escaped), and comes out after a plain `%`
/// (`fe80::1%eth0`), as the driver's targets take it; a bare `%` is taken as it is.
fn host_port(uri: &Uri) -> Result<(String, u16), ConnectError> {
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

impl<N> tower_service::Service<Uri> for HttpConnector<N>
where
    N: Network<TokioRuntime, Stream = TcpStream>,
{
    type Response = TokioIo<TcpStream>;
    type Error = ConnectError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, ConnectError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), ConnectError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connector = self.connector.clone();
        Box::pin(async move {
            let target = host_port(&uri)?;
            connector.connect(target).await.map(TokioIo::new)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
