//! QUIC in the race on real sockets (loopback): QUIC attempts race alongside TCP+TLS ones and
//! the first handshake done wins (HEv3 §6.1, §6.2). A path that drops UDP is left behind
//! after the Connection Attempt Delay; QUIC goes first for an address, TCP the attempt delay
//! later (the engine's reading 4); an HTTPS record's `alpn=h3,h2` reaches both transports;
//! QUIC failures are named as such; a race dropped mid-handshake leaves no quinn connection
//! and no descriptor; a QUIC server that is not quinn (aioquic's) serves the race.
//!
//! Time bounds are generous and no result depends on scheduling: who won, what the report
//! recorded in order, what was closed.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use eyeballs::trace::Event;
use eyeballs::{AttemptFailure, CancelReason, Protocol};
use eyeballs_lab::precondition::require;
use eyeballs_lab::quic::{
    AioquicServer, QuicServer, aioquic_python, quic_with_ipv6_udp_dropped, tls_and_quic_on_one_port,
};
use eyeballs_lab::tls::TestCa;
use eyeballs_lab::{SilentListener, SilentUdp, V4_LOOPBACK, count_fds};
use eyeballs_tokio::hickory::HickoryNetwork;
use eyeballs_tokio::quic::{QuicNetwork, SecureConnection};
use eyeballs_tokio::tls::{TlsConfig, rustls};
use eyeballs_tokio::{AttemptResult, Connector, RaceReport};

#[path = "support/dns_server.rs"]
mod dns_server;
use dns_server::{DnsServer, resolver};

const LONG: Duration = Duration::from_secs(20);

fn ca() -> TestCa {
    TestCa::new("eyeballs test CA").unwrap()
}

fn trusting(ca: &TestCa) -> TlsConfig {
    TlsConfig::with_roots(ca.roots()).unwrap()
}

fn localhost() -> rustls::pki_types::ServerName<'static> {
    rustls::pki_types::ServerName::try_from("localhost").unwrap()
}

/// The engine's configuration with the addresses tried in the order given.
fn given_order() -> eyeballs::Config {
    let mut config = eyeballs::Config::default();
    config.sort = eyeballs::SortMode::Given;
    config
}

/// Each attempt of the report: where to, over what.
fn attempts(report: &RaceReport) -> Vec<(SocketAddr, Protocol)> {
    report
        .attempts
        .iter()
        .map(|a| (a.addr, a.protocol))
        .collect()
}

/// The connector's quinn connections open, waiting (up to `LONG`) for them to fall to
/// `n` (a closed connection is forgotten after QUIC's draining period, RFC 9000 §10.2).
async fn wait_for_open_connections<N>(connector: &Connector<QuicNetwork<N>>, n: usize) -> usize {
    let deadline = Instant::now() + LONG;
    loop {
        let open = connector.network().endpoints().open_connections();
        if open <= n || Instant::now() >= deadline {
            return open;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Whether `done` holds within `LONG` (polled): a server counts a handshake when the
/// client's last flight reaches it, which may be after the client has its connection.
async fn eventually(done: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + LONG;
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    true
}

/// `[::1]:P` drops UDP (a socket that never reads), `127.0.0.1:P` is a quinn server: the
/// QUIC attempt over IPv6 goes first and hears nothing, IPv4's starts when the Connection
/// Attempt Delay runs out and wins, with `h3`. The loser is closed at once: once the winner
/// is dropped too, the connector's endpoints have no connection left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quic_over_ipv4_wins_when_ipv6_udp_is_dropped() {
    let name = "quic_over_ipv4_wins_when_ipv6_udp_is_dropped";
    let Some(()) = require(name, eyeballs_lab::ipv6_loopback()) else {
        return;
    };
    let ca = ca();
    let cert = ca.issue(&["localhost"]).unwrap();
    let (server, dropped) = quic_with_ipv6_udp_dropped(&cert, &["h3"]).unwrap();
    // IPv6 first whichever answer comes first: the engine waits for AAAA up to the
    // Resolution Delay (RFC 8305 §3), at its 2 s maximum here, for a loaded machine.
    let mut connector = Connector::new()
        .resolution_delay(eyeballs::MAX_RESOLUTION_DELAY)
        .tls(trusting(&ca).alpn(["h3"]))
        .quic();
    connector.config_mut().protocols.tcp = false;
    let started = Instant::now();
    let (result, report) = connector
        .connect_with_report(("localhost", server.addr().port()))
        .await;
    let elapsed = started.elapsed();
    let secured = result.unwrap_or_else(|e| panic!("{e}\n{report}"));
    assert_eq!(secured.info().remote_addr(), server.addr(), "{report}");
    assert_eq!(secured.info().protocol(), Protocol::Quic);
    assert_eq!(secured.info().alpn(), Some(&b"h3"[..]));
    assert!(eventually(|| server.handshakes() == 1).await);
    assert_eq!(server.negotiated_alpn(), [Some(b"h3".to_vec())]);
    assert_eq!(
        attempts(&report),
        [
            (dropped.addr(), Protocol::Quic),
            (server.addr(), Protocol::Quic)
        ],
        "{report}"
    );
    assert!(dropped.received_any().unwrap(), "IPv6 was tried over UDP");
    assert_eq!(
        report.attempts[0].result,
        AttemptResult::Cancelled {
            reason: CancelReason::LostRace
        },
        "{report}"
    );
    // No transport step for QUIC: its handshake is transport and TLS at once.
    assert!(
        report
            .attempts
            .iter()
            .all(|a| a.transport_connected.is_none()),
        "{report}"
    );
    assert!(
        report.attempts[1].started >= Duration::from_millis(250),
        "{report}"
    );
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}\n{report}");
    // The connection works: the server sees it until the client closes it.
    let connection = secured.into_inner().into_quic().unwrap();
    assert_eq!(server.open_connections(), 1);
    drop(connection);
    assert_eq!(wait_for_open_connections(&connector, 0).await, 0);
    // One endpoint per family, each made once (IPv6's and IPv4's), kept for the next race.
    let bound: Vec<bool> = connector
        .network()
        .endpoints()
        .endpoints()
        .iter()
        .map(|e| e.local_addr().unwrap().is_ipv6())
        .collect();
    assert_eq!(bound, [true, false]);
    let again = connector
        .connect(("localhost", server.addr().port()))
        .await
        .unwrap();
    assert_eq!(again.info().remote_addr(), server.addr());
    assert_eq!(connector.network().endpoints().endpoints().len(), 2);
}

/// TCP+TLS and QUIC both served on `127.0.0.1:P`. QUIC goes first (HEv3 §3; the engine's
/// reading 4) and, answering, wins alone. Answering late, the same address is tried over
/// TCP the Connection Attempt Delay later, and TLS wins (`h2` over TCP, while QUIC was
/// offered `h3`). With `prefer_protocol = Tcp`, TCP goes first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quic_goes_first_for_an_address_then_tcp_after_the_attempt_delay() {
    let ca = ca();
    let cert = ca.issue(&["localhost"]).unwrap();
    let (tls, quic) = tls_and_quic_on_one_port(&cert, &["h2"], &["h3"]).unwrap();
    let addr = tls.addr();
    let config = trusting(&ca).server_name(localhost()).alpn(["h3", "h2"]);

    // Both answer: QUIC first, and (with a 2 s attempt delay, longer than any handshake
    // here) QUIC wins before TCP starts.
    let connector = Connector::new()
        .connection_attempt_delay(Duration::from_secs(2))
        .tls(config.clone())
        .quic();
    let (result, report) = connector.connect_with_report(addr).await;
    let secured = result.unwrap_or_else(|e| panic!("{e}\n{report}"));
    assert_eq!(attempts(&report), [(addr, Protocol::Quic)], "{report}");
    assert_eq!(secured.info().protocol(), Protocol::Quic);
    assert_eq!(secured.info().alpn(), Some(&b"h3"[..]));
    assert!(matches!(secured.get_ref(), SecureConnection::Quic(_)));
    assert!(eventually(|| quic.handshakes() == 1).await);
    assert_eq!(quic.negotiated_alpn(), [Some(b"h3".to_vec())]);
    assert_eq!(tls.accepted(), 0);
    drop(secured);

    // QUIC answers late: TCP for the same address starts the attempt delay after it, and
    // its TLS handshake wins; the QUIC attempt is cancelled as lost.
    quic.answer_after(Some(Duration::from_secs(60)));
    let connector = Connector::new().tls(config.clone()).quic();
    let (result, report) = connector.connect_with_report(addr).await;
    let secured = result.unwrap_or_else(|e| panic!("{e}\n{report}"));
    assert_eq!(
        attempts(&report),
        [(addr, Protocol::Quic), (addr, Protocol::Tcp)],
        "{report}"
    );
    let (first, second) = (&report.attempts[0], &report.attempts[1]);
    assert!(
        second.started >= first.started + Duration::from_millis(250),
        "{report}"
    );
    assert_eq!(
        first.result,
        AttemptResult::Cancelled {
            reason: CancelReason::LostRace
        },
        "{report}"
    );
    assert_eq!(secured.info().protocol(), Protocol::Tcp);
    assert_eq!(secured.info().alpn(), Some(&b"h2"[..]));
    assert!(secured.get_ref().tls().is_some());
    assert!(eventually(|| tls.handshakes() == 1).await);
    assert_eq!(tls.negotiated_alpn(), [Some(b"h2".to_vec())]);
    assert_eq!(quic.handshakes(), 1, "the late QUIC attempt never finished");
    assert!(
        quic.wait_for_incoming(2, LONG),
        "the QUIC attempt reached the server"
    );
    drop(secured);
    assert_eq!(wait_for_open_connections(&connector, 0).await, 0);

    // TCP preferred: TCP goes first and wins; QUIC is never tried.
    let mut connector = Connector::new()
        .connection_attempt_delay(Duration::from_secs(2))
        .tls(config)
        .quic();
    connector.config_mut().prefer_protocol = Protocol::Tcp;
    let (result, report) = connector.connect_with_report(addr).await;
    let secured = result.unwrap_or_else(|e| panic!("{e}\n{report}"));
    assert_eq!(attempts(&report), [(addr, Protocol::Tcp)], "{report}");
    assert_eq!(secured.info().protocol(), Protocol::Tcp);
}

/// An HTTPS record from a local DNS server (hickory) with `alpn=h3,h2` and the port of a
/// QUIC and a TLS server: the QUIC endpoint is tried first, with the record's ALPN ids, and
/// the server sees `h3`; with QUIC answering late, the TCP endpoint follows and the TLS
/// server sees `h2`. QUIC is on only through the connector (`quic()`); the endpoints come
/// from the record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_record_with_h3_and_h2_tries_quic_first_and_passes_the_alpn_through() {
    let ca = ca();
    let cert = ca.issue(&["svc.test"]).unwrap();
    let (tls, quic) = tls_and_quic_on_one_port(&cert, &["h2"], &["h3"]).unwrap();
    let port = tls.addr().port();
    let dns = DnsServer::start(port, false, &["h3", "h2"], Duration::ZERO);
    // A 2 s attempt delay: QUIC, answering, wins before TCP starts, however loaded the
    // machine.
    let connector = Connector::with_network(HickoryNetwork::new(resolver(dns.addr)))
        .query_https(true)
        .connection_attempt_delay(Duration::from_secs(2))
        // The first attempt waits for the HTTPS answer up to the Resolution Delay (HEv3
        // §4.2): at its 2 s maximum, a loaded machine's HTTPS answer still comes first.
        .resolution_delay(eyeballs::MAX_RESOLUTION_DELAY)
        .tls(trusting(&ca).alpn(["h3", "h2"]))
        .quic();
    let addr = SocketAddr::new(V4_LOOPBACK, port);
    // Port 1 in the target: only the HTTPS record's port leads to the servers.
    let (result, report) = connector.connect_with_report(("svc.test.", 1)).await;
    let secured = result.unwrap_or_else(|e| panic!("{e}\n{report}"));
    assert_eq!(secured.info().remote_addr(), addr, "{report}");
    assert_eq!(attempts(&report), [(addr, Protocol::Quic)], "{report}");
    assert_eq!(secured.info().protocol(), Protocol::Quic, "{report}");
    assert_eq!(secured.info().alpn(), Some(&b"h3"[..]));
    assert!(eventually(|| quic.handshakes() == 1).await);
    assert_eq!(quic.negotiated_alpn(), [Some(b"h3".to_vec())]);
    let first = report.events.iter().find_map(|e| match &e.event {
        Event::Attempt(a) => Some((a.addr, a.protocol, a.alpn.as_deref().map(<[_]>::to_vec))),
        _ => None,
    });
    let record_alpn = Some(vec!["h3".to_string(), "h2".to_string()]);
    assert_eq!(
        first,
        Some((addr, Protocol::Quic, record_alpn.clone())),
        "{report}"
    );
    drop(secured);

    quic.answer_after(Some(Duration::from_secs(60)));
    let (result, report) = connector.connect_with_report(("svc.test.", 1)).await;
    let secured = result.unwrap_or_else(|e| panic!("{e}\n{report}"));
    assert_eq!(
        attempts(&report),
        [(addr, Protocol::Quic), (addr, Protocol::Tcp)],
        "{report}"
    );
    assert_eq!(secured.info().protocol(), Protocol::Tcp);
    assert_eq!(secured.info().alpn(), Some(&b"h2"[..]));
    assert!(eventually(|| tls.handshakes() == 1).await);
    assert_eq!(tls.negotiated_alpn(), [Some(b"h2".to_vec())]);
    let tcp_alpn = report.events.iter().find_map(|e| match &e.event {
        Event::Attempt(a) if a.protocol == Protocol::Tcp => {
            Some(a.alpn.as_deref().map(<[_]>::to_vec))
        }
        _ => None,
    });
    assert_eq!(tcp_alpn, Some(record_alpn), "{report}");
}

/// Every QUIC attempt fails in its handshake (a certificate of another CA; a server with no
/// ALPN id in common): the error names each as a QUIC handshake failure, once, and the
/// engine counts each as a handshake failure; the next attempt started at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_quic_attempt_failing_gives_an_error_naming_each_as_quic() {
    let (good, other) = (ca(), TestCa::new("another CA").unwrap());
    let untrusted = QuicServer::bind(
        "127.0.0.1:0".parse().unwrap(),
        &other.issue(&["localhost"]).unwrap(),
        &["h3"],
    )
    .unwrap();
    let no_alpn = QuicServer::bind(
        "127.0.0.1:0".parse().unwrap(),
        &good.issue(&["localhost"]).unwrap(),
        &["hq-interop"],
    )
    .unwrap();
    let mut connector = Connector::new()
        .config(given_order())
        .connection_attempt_delay(Duration::from_secs(2))
        .tls(trusting(&good).server_name(localhost()).alpn(["h3"]))
        .quic();
    connector.config_mut().protocols.tcp = false;
    let (result, report) = connector
        .connect_with_report([untrusted.addr(), no_alpn.addr()])
        .await;
    let e = result.unwrap_err();
    let text = e.to_string();
    assert!(text.contains("every connection attempt failed"), "{text}");
    // rustls's alert, as the QUIC CRYPTO_ERROR carries it (RFC 9001 §4.8).
    assert!(
        text.contains(&format!(
            "{}: QUIC handshake failed: the cryptographic handshake failed: error 48: \
             invalid peer certificate: UnknownIssuer",
            untrusted.addr()
        )),
        "{text}"
    );
    assert_eq!(text.matches("UnknownIssuer").count(), 1, "{text}");
    assert!(
        text.contains(&format!(
            "{}: QUIC handshake failed: aborted by peer: the cryptographic handshake failed: \
             error 120",
            no_alpn.addr()
        )),
        "{text}"
    );
    assert_eq!(text.matches("QUIC handshake failed").count(), 2, "{text}");
    assert_eq!(e.attempt_errors().len(), 2);
    for a in e.attempt_errors() {
        assert_eq!(a.attempt.failure, AttemptFailure::Handshake, "{text}");
        assert_eq!(a.error.kind(), io::ErrorKind::InvalidData, "{text}");
    }
    // The second attempt started when the first failed, not after the 2 s delay.
    assert_eq!(
        Some(report.attempts[1].started),
        report.attempts[0].ended,
        "{report}"
    );
    assert_eq!(untrusted.handshakes() + no_alpn.handshakes(), 0);
}

/// A race dropped while its QUIC attempt (to a port that drops UDP) and its TCP+TLS
/// attempt (to a listener that accepts and never speaks) are both in their handshakes:
/// no quinn connection is left (the endpoints' count back to its baseline), the TCP
/// socket is closed, and the process's descriptor count is back to where it was (the
/// endpoints' UDP sockets, made by a first race, are kept: they are the connector's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_quic_race_mid_handshake_leaks_no_fd_and_no_quinn_connection() {
    let Some(_) = require(
        "dropping_a_quic_race_mid_handshake_leaks_no_fd_and_no_quinn_connection",
        count_fds(),
    ) else {
        return;
    };
    let ca = ca();
    let (tcp, udp) = {
        let mut made = None;
        for _ in 0..20 {
            let tcp = SilentListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
            if let Ok(udp) = SilentUdp::bind(tcp.addr()) {
                made = Some((tcp, udp));
                break;
            }
        }
        made.expect("a port free for both TCP and UDP on 127.0.0.1")
    };
    let working = QuicServer::bind(
        "127.0.0.1:0".parse().unwrap(),
        &ca.issue(&["localhost"]).unwrap(),
        &["h3"],
    )
    .unwrap();
    let connector = Connector::new()
        .connection_attempt_delay(Duration::from_millis(10))
        .tls(trusting(&ca).server_name(localhost()).alpn(["h3", "h2"]))
        .quic();
    // A first race makes the IPv4 endpoint (kept by the connector); then count.
    let warm = connector.connect(working.addr()).await.unwrap();
    drop(warm);
    assert_eq!(wait_for_open_connections(&connector, 0).await, 0);
    let baseline = eyeballs_lab::open_fds().unwrap();

    let race = tokio::spawn(connector.connect(tcp.addr()));
    let deadline = Instant::now() + LONG;
    while (tcp.accepted() < 1 || !udp.received_any().unwrap()) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(tcp.accepted(), 1, "the TCP attempt connected");
    assert!(
        udp.received_any().unwrap(),
        "the QUIC attempt sent its Initial"
    );
    assert_eq!(connector.network().endpoints().open_connections(), 1);
    race.abort();
    assert!(race.await.unwrap_err().is_cancelled());
    assert_eq!(
        wait_for_open_connections(&connector, 0).await,
        0,
        "a quinn connection was left open"
    );
    assert!(tcp.wait_until_open(0, LONG), "the TCP socket was left open");
    let after = eyeballs_lab::wait_for_fds(baseline, LONG).unwrap();
    assert!(
        after <= baseline,
        "{after} descriptors open, {baseline} before"
    );
}

/// aioquic's QUIC server (Python; shares no code with quinn or rustls) serves the race:
/// `127.0.0.1:Q` drops UDP, `127.0.0.1:P` is aioquic: it wins after the attempt delay, its
/// handshake done with `h3` on both sides.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quic_race_interoperates_with_aioquic() {
    let name = "a_quic_race_interoperates_with_aioquic";
    let Some(python) = require(name, aioquic_python()) else {
        return;
    };
    let ca = ca();
    let server = AioquicServer::start(&python, &ca.issue(&["localhost"]).unwrap(), &["h3"])
        .unwrap_or_else(|e| panic!("{e}"));
    let dropped = SilentUdp::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let mut connector = Connector::new()
        .config(given_order())
        .tls(trusting(&ca).server_name(localhost()).alpn(["h3"]))
        .quic();
    connector.config_mut().protocols.tcp = false;
    let (result, report) = connector
        .connect_with_report([dropped.addr(), server.addr()])
        .await;
    let secured = result.unwrap_or_else(|e| panic!("{e}\n{report}"));
    assert_eq!(secured.info().remote_addr(), server.addr(), "{report}");
    assert_eq!(secured.info().protocol(), Protocol::Quic);
    assert_eq!(secured.info().alpn(), Some(&b"h3"[..]));
    assert!(
        report.attempts[1].started >= Duration::from_millis(250),
        "{report}"
    );
    assert!(
        server.wait_for_handshakes(1, LONG),
        "aioquic reported no handshake"
    );
    assert_eq!(server.negotiated_alpn(), ["h3"]);
    // The connection is open until the client closes it.
    let connection = secured.into_inner().into_quic().unwrap();
    assert!(connection.close_reason().is_none(), "closed by the server");
    connection.close(0u32.into(), b"done");
    assert_eq!(wait_for_open_connections(&connector, 0).await, 0);
}
