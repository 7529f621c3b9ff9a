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

/// The host (without IPv6 brackets) and port of `uri`.
fn host_port(uri: &Uri) -> Result<(String, u16), ConnectError> {
    let text = uri.to_string();
    let host = uri
        .host()
        .ok_or_else(|| ConnectError::invalid_target(&text, "the URI has no host"))?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let port = match (uri.port_u16(), uri.scheme_str()) {
        (Some(port), _) => port,
        (None, Some("http")) | (None, None) => 80,
        (None, Some("https")) => 443,
        (None, Some(_)) => {
            return Err(ConnectError::invalid_target(
                &text,
                "the URI has no port and a scheme without a default port",
            ));
        }
    };
    Ok((host.to_string(), port))
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
}
