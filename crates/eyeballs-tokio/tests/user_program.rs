//! A user's program, written against `eyeballs-tokio` alone (feature `hyper`; hyper-util's
//! client is the user's own dependency), as the issue that asked for it describes: it
//! spawns races, sets socket options and `query_https` without importing a trait, names
//! `Family` and `socket2` through this crate, GETs through hyper-util's `Client`, sees an
//! `https://` URI refused by the bare connector, and prints an error chain in which no fact
//! appears twice.

use std::error::Error;
use std::time::Duration;

use eyeballs_tokio::{ConnectError, Connector, Family, HttpConnector, socket2};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};

/// Every message of an error's chain, outermost first.
fn chain(e: &(dyn Error + 'static)) -> Vec<String> {
    let mut messages = vec![e.to_string()];
    let mut next = e.source();
    while let Some(e) = next {
        messages.push(e.to_string());
        next = e.source();
    }
    messages
}

#[tokio::test]
async fn a_users_program_with_eyeballs_tokio_alone() {
    // A local HTTP server, and a port that refuses.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let hello = hyper::service::service_fn(|_req| async {
                Ok::<_, std::convert::Infallible>(hyper::Response::new(http_body_util::Full::new(
                    Bytes::from("hello"),
                )))
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), hello),
            );
        }
    });
    let refusing = eyeballs_lab::ClosedPort::new(eyeballs_lab::V4_LOOPBACK).unwrap();

    // Settings without importing a trait; the socket2 the hook is given, named through
    // eyeballs_tokio.
    let connector = Connector::new()
        .prefer_family(Family::V4)
        .tcp_nodelay(true)
        .tcp_keepalive(Duration::from_secs(30))
        .query_https(true)
        .socket_hook(|socket: &socket2::Socket, _peer| socket.set_reuse_address(true));
    assert!(connector.settings().config.query_https);

    // Races spawned on tokio: the futures own what they need.
    let by_name = tokio::spawn(connector.connect(format!("localhost:{}", addr.port())));
    let by_address = tokio::spawn(connector.connect(addr));
    for task in [by_name, by_address] {
        let stream = task.await.unwrap().unwrap();
        assert_eq!(stream.peer_addr().unwrap().port(), addr.port());
        assert!(stream.nodelay().unwrap());
        assert!(socket2::SockRef::from(&stream).keepalive().unwrap());
    }

    // hyper-util's client through the connector.
    let client: Client<_, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new(connector.clone()));
    let response = client
        .get(format!("http://{addr}/").parse().unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, "hello");

    // The bare connector refuses to send an https:// request in plaintext.
    let error = client
        .get(format!("https://{addr}/").parse().unwrap())
        .await
        .unwrap_err();
    let refused = error
        .source()
        .and_then(|e| e.downcast_ref::<ConnectError>())
        .unwrap();
    assert_eq!(
        refused.kind(),
        std::io::ErrorKind::InvalidInput,
        "{refused}"
    );

    // A failed connect: the chain says each fact once.
    let error = client
        .get(format!("http://{}/", refusing.addr()).parse().unwrap())
        .await
        .unwrap_err();
    let messages = chain(&error);
    let all = messages.join("\n");
    assert_eq!(messages.len(), 2, "hyper's, then ours: {messages:#?}");
    let os_error = std::io::Error::from(std::io::ErrorKind::ConnectionRefused).to_string();
    // (The address is said twice in our message, as the target and as the attempt's.)
    for fact in [os_error, "every connection attempt failed".to_string()] {
        assert_eq!(
            all.to_lowercase().matches(&fact.to_lowercase()).count(),
            1,
            "{fact:?} in {messages:#?}"
        );
    }
    for (i, a) in messages.iter().enumerate() {
        for b in &messages[i + 1..] {
            assert!(
                !a.contains(b.as_str()) && !b.contains(a.as_str()),
                "{messages:#?}"
            );
        }
    }
    server.abort();
}
