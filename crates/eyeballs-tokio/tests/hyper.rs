//! hyper-util's legacy client, with the eyeballs connector, sends real HTTP requests to a
//! hyper server on loopback: GET works, `https://` is refused unless a TLS layer is said to
//! wrap the connector (`enforce_http(false)`), and every response says which endpoint won
//! (`ConnectionInfo`, with the ALPN ids of an HTTPS record's endpoint).

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use eyeballs::{Attempt, DnsAnswer, DnsError, RecordType, ServiceRecord};
use eyeballs_driver::{BoxFuture, Network, RaceContext, connect_tcp};
use eyeballs_tokio::{ConnectError, ConnectionInfo, Connector, HttpConnector, TokioRuntime};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpInfo;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

async fn hello(req: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from(format!(
        "hello {}",
        req.uri().path()
    )))))
}

/// A hello server on `127.0.0.1`; its address and how many connections it accepted.
async fn server() -> (SocketAddr, Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(
                http1::Builder::new().serve_connection(TokioIo::new(stream), service_fn(hello)),
            );
        }
    });
    (addr, accepted, task)
}

fn client<N>(connector: HttpConnector<N>) -> Client<HttpConnector<N>, Empty<Bytes>>
where
    N: Network<TokioRuntime, Stream = tokio::net::TcpStream>,
{
    Client::builder(TokioExecutor::new()).build(connector)
}

/// The `ConnectError` inside a hyper client error.
fn connect_error(error: &hyper_util::client::legacy::Error) -> &ConnectError {
    std::error::Error::source(error)
        .and_then(|e| e.downcast_ref::<ConnectError>())
        .unwrap_or_else(|| panic!("no ConnectError in {error:?}"))
}

#[tokio::test]
async fn a_hyper_client_connects_through_eyeballs() {
    let (addr, _, server) = server().await;
    let port = addr.port();
    let client = client(HttpConnector::new(Connector::new()));
    for uri in [
        format!("http://localhost:{port}/by-name"),
        format!("http://127.0.0.1:{port}/by-address"),
    ] {
        let response = client.get(uri.parse().unwrap()).await.unwrap();
        assert_eq!(response.status(), 200);
        // Which endpoint won, next to hyper-util's own connection info.
        let info = response.extensions().get::<ConnectionInfo>().cloned();
        let info = info.unwrap_or_else(|| panic!("no ConnectionInfo for {uri}"));
        assert_eq!(info.remote_addr().port(), port);
        assert_eq!(info.alpn(), None, "A/AAAA endpoints have no ALPN");
        let http_info = response.extensions().get::<HttpInfo>().unwrap();
        assert_eq!(http_info.remote_addr(), info.remote_addr());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let path = uri.rsplit('/').next().unwrap();
        assert_eq!(body, format!("hello /{path}"));
    }

    // A refused connect surfaces the aggregate error.
    let closed = eyeballs_lab::ClosedPort::new(eyeballs_lab::V4_LOOPBACK).unwrap();
    let error = client
        .get(format!("http://{}/", closed.addr()).parse().unwrap())
        .await
        .unwrap_err();
    assert!(error.is_connect(), "{error:?}");
    let text = connect_error(&error).to_string();
    assert!(text.contains(&closed.addr().to_string()), "{text}");
    server.abort();
}

#[tokio::test]
async fn https_is_refused_unless_a_tls_layer_is_said_to_wrap_the_connector() {
    let (addr, accepted, server) = server().await;
    let https = format!("https://127.0.0.1:{}/secret", addr.port());
    for uri in [https.clone(), format!("ftp://127.0.0.1:{}/", addr.port())] {
        let error = client(HttpConnector::new(Connector::new()))
            .get(uri.parse().unwrap())
            .await
            .unwrap_err();
        assert!(error.is_connect(), "{error:?}");
        let e = connect_error(&error);
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{e}");
        assert!(e.to_string().contains("not http"), "{e}");
        assert!(e.to_string().contains("enforce_http(false)"), "{e}");
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        0,
        "nothing was sent in plaintext"
    );

    // What a TLS layer wrapping it would see: the connection, to the URI's port. (This
    // server speaks plain HTTP, so the plaintext request gets an answer here.)
    let plain = HttpConnector::new(Connector::new()).enforce_http(false);
    let response = client(plain).get(https.parse().unwrap()).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    server.abort();
}

/// A resolver with an HTTPS record for every name: a service on `.` (the name itself)
/// offering `h2` and `http/1.1`, at `port`; A answers `127.0.0.1`, AAAA nothing.
struct WithHttpsRecord {
    port: u16,
}

impl Network<TokioRuntime> for WithHttpsRecord {
    type Stream = tokio::net::TcpStream;

    fn resolve(&self, _: &TokioRuntime, _: &str, record: RecordType) -> BoxFuture<DnsAnswer> {
        let answer = match record {
            RecordType::A => DnsAnswer::Addresses(vec!["127.0.0.1".parse().unwrap()]),
            RecordType::Aaaa => DnsAnswer::Error(DnsError::NoData),
            RecordType::Https => DnsAnswer::Services(vec![
                ServiceRecord::service(1, ".")
                    .with_alpn(["h2", "http/1.1"])
                    .with_port(self.port),
            ]),
        };
        Box::pin(std::future::ready(answer))
    }

    fn connect(
        &self,
        runtime: &TokioRuntime,
        attempt: &Attempt,
        race: &RaceContext<'_>,
    ) -> BoxFuture<io::Result<tokio::net::TcpStream>> {
        connect_tcp(runtime, attempt, race.sockets)
    }
}

#[tokio::test]
async fn the_alpn_of_an_https_record_reaches_the_response() {
    let (addr, _, server) = server().await;
    let network = WithHttpsRecord { port: addr.port() };
    let connector = HttpConnector::new(Connector::with_network(network).query_https(true));
    // The record's port, not the URI's (80), is where the service is.
    let response = client(connector)
        .get("http://service.test/".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let info = response.extensions().get::<ConnectionInfo>().unwrap();
    assert_eq!(info.remote_addr(), addr);
    assert_eq!(
        info.alpn(),
        Some(&["h2".to_string(), "http/1.1".to_string()][..])
    );
    server.abort();
}
