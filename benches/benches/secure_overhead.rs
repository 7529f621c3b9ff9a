//! The cost of a secure race over a plain TLS connect, on loopback, one address, side by
//! side in one run: `eyeballs_tokio::Connector::tls` (a race whose attempt is TCP, then TLS,
//! ending when the handshake is done) against `tokio::net::TcpStream::connect` followed by
//! a tokio-rustls handshake, both with one rustls `ClientConfig`. `benches/run` turns the
//! estimates into a ratio (`summary secure`).
//!
//! The peer is `eyeballs_benches::tls::HandshakeServer` (blocking accepts on two threads, a
//! certificate for `localhost` from a CA made at run time, no session tickets) and the
//! client's resumption is off: every connect is a full TLS 1.3 handshake. Only the connect
//! and the handshake are timed; the connection is then reset.

// criterion's macros generate undocumented public functions.
#![allow(missing_docs)]

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use common::{pair, timed};
use criterion::{Criterion, criterion_group, criterion_main};
use eyeballs_benches::tls::{HandshakeServer, full_handshake_client};
use eyeballs_lab::tls::TestCa;
use eyeballs_tokio::Connector;
use eyeballs_tokio::tls::rustls::pki_types::ServerName;
use eyeballs_tokio::tls::{TlsConfig, tokio_rustls};

fn secure(c: &mut Criterion) {
    let ca = TestCa::new("eyeballs bench CA").expect("a test CA");
    let cert = ca.issue(&["localhost"]).expect("a server certificate");
    let server = HandshakeServer::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), &cert, 2)
        .expect("a TLS server");
    let addr = server.addr();
    let client = Arc::new(full_handshake_client(&ca).expect("a client configuration"));
    let name = ServerName::try_from("localhost").expect("a DNS name");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let plain = tokio_rustls::TlsConnector::from(client.clone());
    // The target is an address: the name to authenticate is given, as the plain connect's.
    let eyeballs = Connector::new().tls(TlsConfig::new(client).server_name(name.clone()));
    pair(
        c,
        "connect_tls",
        (
            "tokio_rustls",
            timed(|| {
                rt.block_on(async {
                    let tcp = tokio::net::TcpStream::connect(addr).await?;
                    plain.connect(name.clone(), tcp).await
                })
                .expect("a TLS connect")
            }),
        ),
        (
            "eyeballs_tokio_tls",
            timed(|| rt.block_on(eyeballs.connect(addr)).expect("a secure race")),
        ),
    );
    drop(server);
}

criterion_group!(benches, secure);
criterion_main!(benches);
