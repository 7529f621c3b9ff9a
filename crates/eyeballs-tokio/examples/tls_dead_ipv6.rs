//! The TLS-dead-IPv6 lab: `[::1]:P` accepts TCP and never speaks (a TCP-terminating proxy
//! whose upstream is gone), `127.0.0.1:P` serves TLS. `localhost:P` resolves to both.
//!
//! - Secure racing (`Connector::tls`): IPv6's TCP connects at once, its TLS never answers;
//!   IPv4 starts when the Connection Attempt Delay runs out and its TLS handshake wins:
//!   about 250 ms.
//! - TCP-only racing (what hyper-util, curl and asyncio do): IPv6's TCP connection wins the
//!   race, and the TLS handshake on it hangs (here until a 2 s timeout).
//!
//! ```text
//! cargo run -p eyeballs-tokio --features rustls --example tls_dead_ipv6
//! ```

use std::time::{Duration, Instant};

use eyeballs_lab::tls::{TestCa, TlsDeadIpv6};
use eyeballs_tokio::Connector;
use eyeballs_tokio::tls::{TlsConfig, TlsHandshake, TokioTls, rustls};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    eyeballs_lab::ipv6_loopback()?;
    let ca = TestCa::new("eyeballs example CA")?;
    let lab = TlsDeadIpv6::new(&ca.issue(&["localhost"])?, &[])?;
    println!(
        "lab: [::1]:{port} accepts TCP and never speaks; 127.0.0.1:{port} serves TLS\n",
        port = lab.port()
    );

    let secure = Connector::new().tls(TlsConfig::with_roots(ca.roots())?);
    let started = Instant::now();
    let (result, report) = secure.connect_with_report(("localhost", lab.port())).await;
    let elapsed = started.elapsed();
    print!("secure racing (eyeballs, Connector::tls):\n{report}");
    let secured = result?;
    println!(
        "=> TLS with {} after {:.0?}\n",
        secured.info().remote_addr(),
        elapsed
    );
    assert_eq!(secured.info().remote_addr(), lab.v4_addr());

    let tcp_only = Connector::new();
    let started = Instant::now();
    let tcp = tcp_only.connect(("localhost", lab.port())).await?;
    let peer = tcp.peer_addr()?;
    let config = std::sync::Arc::new(rustls::ClientConfig::clone(
        TlsConfig::with_roots(ca.roots())?.client_config(),
    ));
    let name = rustls::pki_types::ServerName::try_from("localhost")?;
    let handshake = TokioTls.handshake(config, name, tcp);
    let outcome = tokio::time::timeout(Duration::from_secs(2), handshake).await;
    println!(
        "TCP-only racing, then TLS: TCP won with {peer}, then {} after {:.0?}",
        match outcome {
            Ok(Ok(_)) => "TLS connected".to_string(),
            Ok(Err(e)) => format!("TLS failed: {e}"),
            Err(_) => "TLS still hanging".to_string(),
        },
        started.elapsed()
    );
    Ok(())
}
