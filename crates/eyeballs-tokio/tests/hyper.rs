//! hyper-util's legacy client, with the eyeballs connector, sends a real HTTP request to a
//! hyper server on loopback.

use std::convert::Infallible;

use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

async fn hello(req: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from(format!(
        "hello {}",
        req.uri().path()
    )))))
}

#[tokio::test]
async fn a_hyper_client_connects_through_eyeballs() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(
                http1::Builder::new().serve_connection(TokioIo::new(stream), service_fn(hello)),
            );
        }
    });

    let connector = eyeballs_tokio::HttpConnector::new(eyeballs_tokio::Connector::new());
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
    for uri in [
        format!("http://localhost:{port}/by-name"),
        format!("http://127.0.0.1:{port}/by-address"),
    ] {
        let response = client.get(uri.parse().unwrap()).await.unwrap();
        assert_eq!(response.status(), 200);
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
    let text = format!("{:?}", std::error::Error::source(&error));
    assert!(text.contains(&closed.addr().to_string()), "{text}");
    server.abort();
}
