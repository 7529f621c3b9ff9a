//! Secure racing on smol (feature `rustls`, futures-rustls): a TLS-dead address (TCP
//! accepted, no answer) is left behind after the Connection Attempt Delay and the TLS
//! server's address wins; a certificate of another CA fails its attempt at once, named in
//! the error.

use std::time::Duration;

use eyeballs_lab::SilentListener;
use eyeballs_lab::tls::{GREETING, TestCa, TlsServer};
use eyeballs_smol::tls::TlsConfig;
use eyeballs_smol::{AttemptFailure, Connector};
use futures_lite::AsyncReadExt;

fn given_order() -> eyeballs::Config {
    let mut config = eyeballs::Config::default();
    config.sort = eyeballs::SortMode::Given;
    config
}

fn localhost() -> eyeballs_smol::tls::rustls::pki_types::ServerName<'static> {
    "localhost".try_into().unwrap()
}

#[test]
fn a_tls_dead_address_is_left_behind_and_the_tls_server_wins() {
    let ca = TestCa::new("eyeballs test CA").unwrap();
    let server = TlsServer::bind(
        "127.0.0.1:0".parse().unwrap(),
        &ca.issue(&["localhost"]).unwrap(),
        &["http/1.1"],
    )
    .unwrap();
    let dead = SilentListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let tls = TlsConfig::with_roots(ca.roots())
        .unwrap()
        .server_name(localhost())
        .alpn(["http/1.1"]);
    smol::block_on(async {
        let connector = Connector::new().config(given_order()).tls(tls);
        let (result, report) = connector
            .connect_with_report([dead.addr(), server.addr()])
            .await;
        let mut secured = result.unwrap_or_else(|e| panic!("{e}\n{report}"));
        assert_eq!(secured.info().remote_addr(), server.addr());
        assert_eq!(secured.info().alpn(), Some(&b"http/1.1"[..]));
        assert!(report.attempts[0].transport_connected.is_some(), "{report}");
        assert!(
            report.attempts[1].started >= Duration::from_millis(250),
            "{report}"
        );
        let mut greeting = vec![0u8; GREETING.len()];
        secured.get_mut().read_exact(&mut greeting).await.unwrap();
        assert_eq!(greeting, GREETING);
    });
    // Its TCP connection accepted (when the listener's thread next ran), then closed.
    assert_eq!(
        dead.wait_until_accepted(1, Duration::from_secs(20))
            .unwrap(),
        1
    );
    assert!(dead.wait_until_open(0, Duration::from_secs(20)));
}

#[test]
fn a_certificate_of_another_ca_fails_its_attempt_naming_it() {
    let (ca, other) = (
        TestCa::new("eyeballs test CA").unwrap(),
        TestCa::new("another CA").unwrap(),
    );
    let server = TlsServer::bind(
        "127.0.0.1:0".parse().unwrap(),
        &other.issue(&["localhost"]).unwrap(),
        &[],
    )
    .unwrap();
    let tls = TlsConfig::with_roots(ca.roots())
        .unwrap()
        .server_name(localhost());
    let e = smol::block_on(Connector::new().tls(tls).connect(server.addr())).unwrap_err();
    assert_eq!(
        e.attempt_errors()[0].attempt.failure,
        AttemptFailure::Handshake
    );
    assert!(
        e.to_string()
            .contains("TLS handshake failed: invalid peer certificate: UnknownIssuer"),
        "{e}"
    );
}
