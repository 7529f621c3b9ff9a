//! QUIC to a server that is not quinn, with IPv6 UDP dropped: `[::1]:P` is a UDP socket that
//! never reads (a path that drops UDP silently), `127.0.0.1:P` is aioquic's QUIC server
//! (Python) with a certificate from a CA made at run time. `localhost:P` resolves to both.
//!
//! The race (`Connector::tls(..).quic()`, QUIC only here) tries `[::1]:P` over QUIC first;
//! nothing ever answers, so `127.0.0.1:P` starts when the Connection Attempt Delay runs
//! out, and its QUIC handshake (ALPN `h3`) wins: about 250 ms.
//!
//! ```text
//! scripts/test installs aioquic in target/py; or: python3 -m venv target/py && target/py/bin/pip install aioquic
//! cargo run -p eyeballs-tokio --features quic --example quic_dropped_ipv6
//! ```

use std::net::SocketAddr;
use std::time::Instant;

use eyeballs_lab::SilentUdp;
use eyeballs_lab::quic::{AioquicServer, aioquic_python};
use eyeballs_lab::tls::TestCa;
use eyeballs_tokio::Connector;
use eyeballs_tokio::tls::TlsConfig;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    eyeballs_lab::ipv6_loopback()?;
    let python = aioquic_python()?;
    let ca = TestCa::new("eyeballs example CA")?;
    let cert = ca.issue(&["localhost"])?;
    let (server, dropped) = eyeballs_lab::same_port(
        "aioquic and a silent UDP socket",
        |_| AioquicServer::start(&python, &cert, &["h3"]),
        |v6, server: &AioquicServer| {
            SilentUdp::bind(SocketAddr::new(v6.ip(), server.addr().port()))
        },
    )?;
    let port = server.addr().port();
    println!(
        "lab: [::1]:{port} drops UDP; 127.0.0.1:{port} is aioquic's QUIC server ({})\n",
        python.display()
    );

    let mut connector = Connector::new()
        .tls(TlsConfig::with_roots(ca.roots())?.alpn(["h3"]))
        .quic();
    connector.config_mut().protocols.tcp = false;
    let started = Instant::now();
    let (result, report) = connector.connect_with_report(("localhost", port)).await;
    let elapsed = started.elapsed();
    print!("QUIC racing (eyeballs, Connector::tls(..).quic()):\n{report}");
    let secured = result?;
    let info = secured.info();
    println!(
        "=> QUIC with {} after {:.0?}, ALPN {:?}; IPv6 got {} datagram(s) and no answer",
        info.remote_addr(),
        elapsed,
        info.alpn().map(String::from_utf8_lossy),
        if dropped.received_any()? {
            "some"
        } else {
            "no"
        }
    );
    assert_eq!(info.remote_addr(), server.addr());
    assert_eq!(info.protocol(), eyeballs_tokio::Protocol::Quic);
    assert_eq!(info.alpn(), Some(&b"h3"[..]));
    Ok(())
}
