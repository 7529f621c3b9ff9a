//! `eyeballs connect --quic` (and `--quic-only`), for real, on loopback: QUIC over IPv4 wins
//! when IPv6 drops UDP, QUIC goes first on an address that serves both QUIC and TCP+TLS, a
//! certificate of another CA fails the QUIC attempt naming it, and bad flag combinations
//! are bad usage. QUIC attempts are shown as such everywhere: the live log, the chart (one
//! shade: no separate transport step), the result line and the JSON.
//!
//! Time bounds are generous (a loaded 2-core machine runs the command late); the results
//! checked (who won, over what, what each attempt was) do not depend on scheduling.

use std::net::SocketAddr;
use std::time::Duration;

use eyeballs_lab::precondition::require;
use eyeballs_lab::quic::{
    AioquicServer, QuicServer, quic_with_ipv6_udp_dropped, tls_and_quic_on_one_port,
};
use eyeballs_lab::tls::TestCa;
use eyeballs_lab::{SilentUdp, same_port};

use crate::support::*;

const LONG: Duration = Duration::from_secs(20);

/// The attempt events of a `--json` report: (id, protocol, addr:port).
fn json_attempts(report: &serde_json::Value) -> Vec<(u64, String, String)> {
    report["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "attempt")
        .map(|e| {
            let addr: std::net::IpAddr = e["addr"].as_str().unwrap().parse().unwrap();
            let port = e["port"].as_u64().unwrap() as u16;
            (
                e["id"].as_u64().unwrap(),
                e["protocol"].as_str().unwrap().to_string(),
                SocketAddr::new(addr, port).to_string(),
            )
        })
        .collect()
}

/// The issue's "done when" for `--quic`, with quinn's server: `127.0.0.1:P` serves QUIC,
/// `[::1]:P` drops UDP (a bound socket that never reads). `connect --quic localhost:P`
/// tries IPv6 over QUIC first (it waits for AAAA up to the 2 s Resolution Delay, so the
/// order does not depend on which answer comes first), hears nothing, and QUIC over IPv4
/// wins, with ALPN `h3`; the IPv6 QUIC attempt is cancelled. No QUIC attempt has a
/// `transport` line or a second shade. The winner is closed when the command ends: the
/// server forgets it well before QUIC's 30 s idle timeout would. As JSON (`--quic-only`),
/// every attempt event says `quic`, and the outcome `protocol` `quic`, `alpn` `h3`.
#[test]
fn connect_quic_leaves_a_udp_dropping_ipv6_path_and_ipv4_quic_wins() {
    let name = "connect_quic_leaves_a_udp_dropping_ipv6_path_and_ipv4_quic_wins";
    let Some(()) = require(name, eyeballs_lab::ipv6_loopback()) else {
        return;
    };
    let ca = TestCa::new("eyeballs cli QUIC test CA").unwrap();
    let cert = ca.issue(&["localhost"]).unwrap();
    let (server, dropped) = quic_with_ipv6_udp_dropped(&cert, &["h3"]).unwrap();
    let ca_pem = ca_file(&ca, "quic-ca.pem");
    let target = format!("localhost:{}", server.addr().port());
    let (v6, v4) = (dropped.addr().to_string(), server.addr().to_string());
    let out = eyeballs(&[
        "connect",
        "--quic",
        "--ca-file",
        ca_pem.arg(),
        "--resolution-delay",
        "2s",
        &target,
    ]);
    let (text, err) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{text}\n{err}");
    assert!(err.is_empty(), "{err}");
    assert!(
        text.contains(
            "\nsecure racing: QUIC, and TCP then TLS, per address, the first handshake done \
             wins (HEv3 §6.1, §6.2); server name: the host name, CA certificates from "
        ) && text.contains(", ALPN h3 over QUIC, h2,http/1.1 over TCP\n"),
        "{text}"
    );
    // The live log: IPv6 over QUIC first, IPv4 over QUIC connected, IPv6's QUIC attempt
    // cancelled; no transport step for QUIC.
    let v6_start = at_ms(log_line(&text, "attempt", &v6, "quic"));
    let v4_start = at_ms(log_line(&text, "attempt", &v4, "quic"));
    let v4_won = at_ms(log_line(&text, "connected", &v4, "quic"));
    assert!(v6_start <= v4_start && v4_start <= v4_won, "{text}");
    assert!(
        log_line(&text, "cancel", &v6, "quic").ends_with("(lost the race)"),
        "{text}"
    );
    assert!(
        !text
            .lines()
            .any(|l| l.contains(" transport ") && l.contains(" over quic")),
        "a QUIC attempt had a transport step: {text}"
    );
    assert!(dropped.received_any().unwrap(), "IPv6 was tried over UDP");
    // The chart: one row per attempt, named by its transport; QUIC's bars in one shade.
    let winner = chart_row(&text, "quic", &v4);
    assert!(winner.contains("<== WINNER"), "{text}");
    let loser = chart_row(&text, "quic", &v6);
    assert!(loser.contains("lost the race"), "{text}");
    assert!(!winner.contains('~') && !loser.contains('~'), "{text}");
    // The result line: IPv4, QUIC, TLS 1.3, the name, ALPN h3.
    let result = result_line(&text, &v4, "127.0.0.1");
    assert!(
        result.contains(" over quic + TLS 1.3 (server name localhost, ALPN h3) after "),
        "{result}"
    );
    assert!(server.wait_for_handshakes(1, LONG));
    assert_eq!(server.negotiated_alpn(), [Some(b"h3".to_vec())]);
    // Closed by the command (quinn's idle timeout, 30 s, would take longer).
    let closed = std::time::Instant::now() + Duration::from_secs(10);
    while server.open_connections() > 0 && std::time::Instant::now() < closed {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(server.open_connections(), 0, "the winner was left open");

    // QUIC alone, as JSON: every attempt over QUIC, the outcome's protocol and ALPN.
    let report = eyeballs_json(
        &[
            "connect",
            "--quic-only",
            "--ca-file",
            ca_pem.arg(),
            "--resolution-delay",
            "2s",
            &target,
        ],
        0,
    );
    let attempts = json_attempts(&report);
    assert_eq!(
        attempts,
        [
            (0, "quic".into(), v6.clone()),
            (1, "quic".into(), v4.clone())
        ],
        "{report}"
    );
    let kinds = event_kinds(&report);
    assert!(!kinds.contains(&"transport"), "{kinds:?}");
    let outcome = &report["outcome"];
    assert_eq!(outcome["result"], "connected", "{outcome}");
    assert_eq!(outcome["id"], 1, "{outcome}");
    assert_eq!(outcome["addr"], "127.0.0.1", "{outcome}");
    assert_eq!(outcome["protocol"], "quic", "{outcome}");
    assert_eq!(outcome["alpn"], "h3", "{outcome}");
    assert_eq!(outcome["server_name"], "localhost", "{outcome}");
    assert_eq!(outcome["tls_version"], "TLS 1.3", "{outcome}");
}

/// `127.0.0.1:P` serves TCP+TLS (`h2`) and QUIC (`h3`): the address is tried over QUIC
/// first (the engine's order) and QUIC wins, offered `h3` (added to `--alpn h2`, the TCP
/// list). The Connection Attempt Delay is 2 s so that a slow QUIC handshake on a loaded
/// machine still wins alone; `-4` goes with `--quic`.
#[test]
fn connect_quic_tries_quic_first_on_an_address_that_serves_both() {
    let ca = TestCa::new("eyeballs cli QUIC test CA").unwrap();
    let (tls, quic) =
        tls_and_quic_on_one_port(&ca.issue(&["localhost"]).unwrap(), &["h2"], &["h3"]).unwrap();
    let ca_pem = ca_file(&ca, "both-ca.pem");
    let addr = quic.addr().to_string();
    let target = format!("localhost:{}", quic.addr().port());
    let args = [
        "connect",
        "--quic",
        "-4",
        "--delay",
        "2s",
        "--ca-file",
        ca_pem.arg(),
        "--alpn",
        "h2",
        &target,
    ];
    let out = eyeballs(&args);
    let (text, err) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{text}\n{err}");
    assert!(
        text.contains(", ALPN h3 over QUIC, h2 over TCP\n"),
        "{text}"
    );
    let first = text
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("attempt"))
        .unwrap_or_else(|| panic!("no attempt in\n{text}"));
    assert!(first.ends_with(&format!("#0 {addr} over quic")), "{text}");
    assert!(
        log_line(&text, "connected", &addr, "quic").contains("#0"),
        "{text}"
    );
    assert!(
        chart_row(&text, "quic", &addr).contains("<== WINNER"),
        "{text}"
    );
    assert!(
        text.contains(" over quic + TLS 1.3 (server name localhost, ALPN h3) after "),
        "{text}"
    );
    assert!(quic.wait_for_handshakes(1, LONG));
    assert_eq!(quic.negotiated_alpn(), [Some(b"h3".to_vec())]);

    // As JSON: the first attempt is QUIC's and won.
    let report = eyeballs_json(&args, 0);
    assert_eq!(
        json_attempts(&report).first(),
        Some(&(0, "quic".to_string(), addr.clone())),
        "{report}"
    );
    let outcome = &report["outcome"];
    assert_eq!(outcome["id"], 0, "{outcome}");
    assert_eq!(outcome["protocol"], "quic", "{outcome}");
    assert_eq!(outcome["alpn"], "h3", "{outcome}");
    drop(tls);
}

/// A QUIC server whose certificate another CA issued: the QUIC attempt fails naming QUIC
/// and the certificate (rustls's reason, as quinn reports it), exit 1, and the hint says to
/// trust the issuing CA. With TCP in the race too, the TCP attempt (nothing listens on TCP
/// there) starts at once and its refusal is named beside it.
#[test]
fn connect_quic_with_the_wrong_ca_fails_naming_quic_and_the_certificate() {
    let (server_ca, other_ca) = (
        TestCa::new("the server's CA").unwrap(),
        TestCa::new("another CA").unwrap(),
    );
    let server = QuicServer::bind(
        "127.0.0.1:0".parse().unwrap(),
        &server_ca.issue(&["localhost"]).unwrap(),
        &["h3"],
    )
    .unwrap();
    let other_pem = ca_file(&other_ca, "quic-other-ca.pem");
    let addr = server.addr().to_string();
    let failure = format!("{addr}: QUIC handshake failed: ");
    for flag in ["--quic-only", "--quic"] {
        let args = [
            "connect",
            &addr,
            flag,
            "--server-name",
            "localhost",
            "--ca-file",
            other_pem.arg(),
        ];
        let out = eyeballs(&args);
        let (text, err) = (stdout(&out), stderr(&out));
        assert_eq!(out.status.code(), Some(1), "{flag}: {text}\n{err}");
        assert!(
            err.starts_with(&format!("error: connecting to {addr} failed: ")),
            "{flag}: {err}"
        );
        let quic_error = err
            .split(&failure)
            .nth(1)
            .unwrap_or_else(|| panic!("{flag}: no QUIC failure in {err}"));
        assert!(
            quic_error.contains("invalid peer certificate: UnknownIssuer"),
            "{flag}: {err}"
        );
        assert!(
            err.contains("hint: a server's certificate was rejected") && err.contains("--ca-file"),
            "{flag}: {err}"
        );
        assert!(
            log_line(&text, "failed", &addr, "quic").contains("QUIC handshake failed: "),
            "{flag}: {text}"
        );
        if flag == "--quic" {
            assert!(
                err.contains(&format!("{addr}: Connection refused")),
                "{flag}: {err}"
            );
            assert!(
                find_log_line(&text, "failed", &addr, "tcp").is_some(),
                "{flag}: {text}"
            );
        } else {
            assert!(!text.contains(" over tcp"), "{flag}: {text}");
        }
        // As JSON: a handshake failure, with the reason.
        let report = eyeballs_json(&args, 1);
        let errors = report["outcome"]["errors"].as_array().unwrap();
        let quic = errors
            .iter()
            .find(|e| e["protocol"] == "quic")
            .unwrap_or_else(|| panic!("{flag}: no QUIC error in {report}"));
        assert_eq!(quic["error"], "handshake", "{report}");
        assert!(quic.to_string().contains("UnknownIssuer"), "{report}");
    }
}

/// Bad combinations with `--quic` are bad usage (exit 2), each named: an ALPN list with no
/// TCP id when TCP is raced too, one with no QUIC id for `--quic-only`, an address with no
/// name, a TLS flag without `--tls`/`--quic`/`--quic-only` (the message names all three).
/// Nothing is sent.
#[test]
fn connect_bad_quic_flags_are_bad_usage() {
    let dropped = SilentUdp::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = dropped.addr().to_string();
    let by_name = format!("localhost:{}", dropped.addr().port());
    let err = fails_with_usage(&["connect", &by_name, "--quic", "--alpn", "h3"]);
    assert!(
        err.contains("invalid --alpn 'h3' with --quic: it names no protocol that runs over TCP")
            && err.contains("--quic-only"),
        "{err}"
    );
    let err = fails_with_usage(&["connect", &by_name, "--quic-only", "--alpn", "h2,http/1.1"]);
    assert!(
        err.contains(
            "invalid --alpn 'h2,http/1.1' with --quic-only: it names no protocol that runs \
             over QUIC"
        ) && err.contains("add h3"),
        "{err}"
    );
    let err = fails_with_usage(&["connect", &by_name, "--quic", "--alpn", "h2,,h3"]);
    assert!(err.contains("a protocol id is empty"), "{err}");
    for flag in ["--quic", "--quic-only"] {
        let err = fails_with_usage(&["connect", &addr, flag]);
        assert!(
            err.contains(&format!("{flag} needs a name to authenticate"))
                && err.contains("--server-name NAME"),
            "{err}"
        );
    }
    let err = fails_with_usage(&["connect", &by_name, "--alpn", "h3"]);
    assert!(err.contains("<--tls|--quic|--quic-only>"), "{err}");
    std::thread::sleep(Duration::from_millis(50));
    assert!(
        !dropped.received_any().unwrap(),
        "bad usage sent a datagram"
    );
}

/// A QUIC server that shares no ALPN id with the client (it serves `h3`, the client offers
/// `h3-29` alone) refuses the handshake: the QUIC attempt fails naming QUIC, exit 1, and
/// the hint (no certificate was rejected) says to check that the port speaks QUIC.
#[test]
fn connect_quic_refused_by_the_server_fails_with_the_quic_hint() {
    let ca = TestCa::new("eyeballs cli QUIC test CA").unwrap();
    let server = QuicServer::bind(
        "127.0.0.1:0".parse().unwrap(),
        &ca.issue(&["localhost"]).unwrap(),
        &["h3"],
    )
    .unwrap();
    let ca_pem = ca_file(&ca, "quic-alpn-ca.pem");
    let addr = server.addr().to_string();
    let out = eyeballs(&[
        "connect",
        &addr,
        "--quic-only",
        "--alpn",
        "h3-29",
        "--server-name",
        "localhost",
        "--ca-file",
        ca_pem.arg(),
    ]);
    let (text, err) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{text}\n{err}");
    assert!(
        err.contains(&format!("{addr}: QUIC handshake failed: ")),
        "{err}"
    );
    assert!(
        err.contains("hint: a QUIC handshake failed: check that the server speaks QUIC"),
        "{err}"
    );
    assert!(!err.contains("certificate was rejected"), "{err}");
}

/// The issue's "done when": `--quic` connects to a QUIC server that is not quinn (aioquic,
/// Python) on IPv4 while IPv6 drops UDP. aioquic listens on `127.0.0.1:P`; `[::1]:P` is a
/// UDP socket that never reads; `localhost:P` resolves to both, IPv6 first.
#[test]
fn connect_quic_reaches_aioquic_over_ipv4_while_ipv6_udp_is_dropped() {
    let name = "connect_quic_reaches_aioquic_over_ipv4_while_ipv6_udp_is_dropped";
    let Some(()) = require(name, eyeballs_lab::ipv6_loopback()) else {
        return;
    };
    let Some(python) = require(name, eyeballs_lab::quic::aioquic_python()) else {
        return;
    };
    let ca = TestCa::new("eyeballs cli aioquic test CA").unwrap();
    let cert = ca.issue(&["localhost"]).unwrap();
    // aioquic picks its port; `[::1]` with the same port is almost always free, and when it
    // is not, another start picks another port.
    let (server, dropped) = same_port(
        "aioquic and a silent UDP socket",
        |_| AioquicServer::start(&python, &cert, &["h3"]),
        |v6, server: &AioquicServer| {
            SilentUdp::bind(SocketAddr::new(v6.ip(), server.addr().port()))
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let ca_pem = ca_file(&ca, "aioquic-ca.pem");
    let target = format!("localhost:{}", server.addr().port());
    let report = eyeballs_json(
        &[
            "connect",
            "--quic",
            "--ca-file",
            ca_pem.arg(),
            "--resolution-delay",
            "2s",
            &target,
        ],
        0,
    );
    let (v6, v4) = (dropped.addr().to_string(), server.addr().to_string());
    let attempts = json_attempts(&report);
    assert_eq!(attempts.first(), Some(&(0, "quic".into(), v6)), "{report}");
    // Then `[::1]:P` over TCP (refused: nothing listens there), then IPv4 over QUIC.
    assert!(
        attempts
            .iter()
            .any(|(_, protocol, addr)| protocol == "quic" && *addr == v4),
        "IPv4 was not tried over QUIC: {report}"
    );
    let outcome = &report["outcome"];
    assert_eq!(outcome["result"], "connected", "{outcome}");
    assert_eq!(outcome["addr"], "127.0.0.1", "{outcome}");
    assert_eq!(outcome["protocol"], "quic", "{outcome}");
    assert_eq!(outcome["alpn"], "h3", "{outcome}");
    assert!(
        dropped.received_any().unwrap(),
        "IPv6 was not tried over UDP"
    );
    assert!(
        server.wait_for_handshakes(1, LONG),
        "aioquic reported no handshake"
    );
    assert_eq!(server.negotiated_alpn(), ["h3"]);
}
