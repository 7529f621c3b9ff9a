//! hyper-util's legacy client with `HttpsConnector` (features `hyper` and `rustls`) GETs
//! `https://localhost:P/` from a hyper server behind tokio-rustls with a test CA made at run
//! time: over HTTP/1.1, and over HTTP/2 when ALPN says `h2`; `http://` goes plain TCP unless
//! the connector is `https_only`; every response says which endpoint won.

use std::convert::Infallible;
use std::net::SocketAddr;

use eyeballs_lab::tls::{Issued, TestCa};
use eyeballs_tokio::tls::TlsConfig;
use eyeballs_tokio::{ConnectError, ConnectionInfo, Connector, HttpsConnector};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Bytes;
use hyper::service::service_fn;
use hyper::{Request, Response, Version};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

async fn hello(req: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from(format!(
        "hello {} over {:?}",
        req.uri().path(),
        req.version()
    )))))
}

/// A hyper server on `127.0.0.1`, HTTP/1.1 and HTTP/2 (by ALPN), behind TLS with `cert`
/// (plaintext when `cert` is `None`).
async fn server(cert: Option<&Issued>) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = cert.map(|c| {
        eyeballs_tokio::tls::tokio_rustls::TlsAcceptor::from(
            c.server_config(&["h2", "http/1.1"]).unwrap(),
        )
    });
    let task = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let http = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                match acceptor {
                    Some(acceptor) => {
                        let Ok(tls) = acceptor.accept(tcp).await else {
                            return;
                        };
                        let _ = http
                            .serve_connection(TokioIo::new(tls), service_fn(hello))
                            .await;
                    }
                    None => {
                        let _ = http
                            .serve_connection(TokioIo::new(tcp), service_fn(hello))
                            .await;
                    }
                }
            });
        }
    });
    (addr, task)
}

fn client(https: HttpsConnector) -> Client<HttpsConnector, Empty<Bytes>> {
    Client::builder(TokioExecutor::new()).build(https)
}

async fn get(
    client: &Client<HttpsConnector, Empty<Bytes>>,
    uri: &str,
) -> Result<(Version, String, ConnectionInfo), hyper_util::client::legacy::Error> {
    let response = client.get(uri.parse().unwrap()).await?;
    let version = response.version();
    let info = response
        .extensions()
        .get::<ConnectionInfo>()
        .cloned()
        .expect("every response carries the ConnectionInfo");
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Ok((version, String::from_utf8_lossy(&body).into_owned(), info))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_legacy_client_gets_https_over_http1_and_http2() {
    let ca = TestCa::new("eyeballs test CA").unwrap();
    let cert = ca.issue(&["localhost"]).unwrap();
    let (addr, server) = server(Some(&cert)).await;
    let uri = format!("https://localhost:{}/page", addr.port());

    // HTTP/1.1: the client offers http/1.1 only.
    let h1 = HttpsConnector::new(
        Connector::new(),
        TlsConfig::with_roots(ca.roots())
            .unwrap()
            .alpn(["http/1.1"]),
    );
    let (version, body, info) = get(&client(h1), &uri).await.unwrap();
    assert_eq!(version, Version::HTTP_11);
    assert_eq!(body, "hello /page over HTTP/1.1");
    assert_eq!(info.remote_addr(), addr);
    assert_eq!(info.negotiated_alpn(), Some(&b"http/1.1"[..]));

    // HTTP/2: ALPN says h2, the connector says so to hyper, and hyper speaks HTTP/2.
    let h2 = HttpsConnector::new(
        Connector::new(),
        TlsConfig::with_roots(ca.roots())
            .unwrap()
            .alpn(["h2", "http/1.1"]),
    );
    let (version, body, info) = get(&client(h2), &uri).await.unwrap();
    assert_eq!(version, Version::HTTP_2);
    assert_eq!(body, "hello /page over HTTP/2.0");
    assert_eq!(info.negotiated_alpn(), Some(&b"h2"[..]));
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_goes_plain_unless_https_only_and_a_bad_certificate_is_named() {
    let (addr, server) = server(None).await;
    let ca = TestCa::new("eyeballs test CA").unwrap();
    let tls = TlsConfig::with_roots(ca.roots()).unwrap();
    let https = HttpsConnector::new(Connector::new(), tls.clone());
    let uri = format!("http://localhost:{}/plain", addr.port());
    let (version, body, info) = get(&client(https), &uri).await.unwrap();
    assert_eq!(
        (version, body.as_str()),
        (Version::HTTP_11, "hello /plain over HTTP/1.1")
    );
    assert_eq!(info.negotiated_alpn(), None);

    let only = client(HttpsConnector::new(Connector::new(), tls.clone()).https_only(true));
    let e = get(&only, &uri).await.unwrap_err();
    let ours = connect_error(&e);
    assert!(ours.to_string().contains("https_only"), "{ours}");
    server.abort();

    // A server whose certificate another CA signed: the request fails, naming it.
    let other = TestCa::new("another CA").unwrap();
    let (addr, server) = server_with(&other.issue(&["localhost"]).unwrap()).await;
    let uri = format!("https://localhost:{}/", addr.port());
    let e = get(&client(HttpsConnector::new(Connector::new(), tls)), &uri)
        .await
        .unwrap_err();
    let ours = connect_error(&e);
    assert!(
        ours.to_string()
            .contains("TLS handshake failed: invalid peer certificate: UnknownIssuer"),
        "{ours}"
    );
    server.abort();
}

async fn server_with(cert: &Issued) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    server(Some(cert)).await
}

/// The `ConnectError` inside a hyper client error.
fn connect_error(error: &hyper_util::client::legacy::Error) -> &ConnectError {
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        if let Some(ours) = e.downcast_ref::<ConnectError>() {
            return ours;
        }
        source = e.source();
    }
    panic!("no ConnectError in {error:?}")
}
