//! `eyeballs connect --tls`, for real, on loopback: secure racing on the TLS-dead-IPv6 lab
//! (`[::1]:P` accepts TCP and never speaks, `127.0.0.1:P` serves TLS), the `transport`
//! events in the log, the chart and the JSON, a rejected certificate, and bad TLS flags.

use std::time::Duration;

use eyeballs_lab::precondition::require;
use eyeballs_lab::tls::{TestCa, TlsDeadIpv6, TlsServer};

use crate::support::*;

/// The issue's "done when": `eyeballs connect --tls --ca-file C localhost:P` against a
/// TLS-dead IPv6 path and a TLS IPv4 server exits 0 with the IPv4 winner in well under a
/// second. IPv6 goes first, its TCP connects (a `transport` line) and TLS never answers;
/// IPv4 starts when the Connection Attempt Delay runs out, and wins when its TLS handshake
/// is done; IPv6 is cancelled. The chart draws both TLS handshakes in their second shade,
/// and the JSON has both `transport` events and the ALPN chosen.
#[test]
fn connect_tls_leaves_a_tls_dead_ipv6_path_and_ipv4_wins() {
    let Some(()) = require(
        "connect_tls_leaves_a_tls_dead_ipv6_path_and_ipv4_wins",
        eyeballs_lab::ipv6_loopback(),
    ) else {
        return;
    };
    let ca = TestCa::new("eyeballs cli test CA").unwrap();
    let lab = TlsDeadIpv6::new(&ca.issue(&["localhost"]).unwrap(), &["h2", "http/1.1"]).unwrap();
    let ca_pem = ca_file(&ca, "tls-dead-ca.pem");
    let target = format!("localhost:{}", lab.port());
    let (v6, v4) = (lab.v6_addr().to_string(), lab.v4_addr().to_string());
    let args = [
        "connect",
        "--tls",
        "--ca-file",
        ca_pem.arg(),
        "--alpn",
        "h2,http/1.1",
        &target,
    ];

    let out = eyeballs(&args);
    let (text, err) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{text}\n{err}");
    assert!(err.is_empty(), "{err}");
    assert!(
        text.contains("\nsecure racing: TCP then TLS per attempt, the first TLS handshake done wins (HEv3 §6.1); server name: the host name, CA certificates from "),
        "{text}"
    );
    // The live log: IPv6 first, its TCP connected, then IPv4 one attempt delay later, its
    // TCP, its TLS done (connected), IPv6 cancelled.
    let v6_start = at_ms(log_line(&text, "attempt", &v6, "tcp"));
    let v6_tcp = at_ms(log_line(&text, "transport", &v6, "tcp"));
    let v4_start = at_ms(log_line(&text, "attempt", &v4, "tcp"));
    let v4_tcp = at_ms(log_line(&text, "transport", &v4, "tcp"));
    let v4_tls = at_ms(log_line(&text, "connected", &v4, "tcp"));
    assert!(v6_start <= v6_tcp && v6_tcp < v4_start, "{text}");
    assert!(v4_start - v6_start >= 250.0, "{text}");
    assert!(v4_start <= v4_tcp && v4_tcp <= v4_tls, "{text}");
    assert!(
        log_line(&text, "cancel", &v6, "tcp").ends_with("(lost the race)"),
        "{text}"
    );
    assert!(
        !text.contains(&format!("connected  #0 {v6}")),
        "IPv6 connected: {text}"
    );
    // The chart: IPv6's bar in the TLS shade from its transport handshake on (IPv4's TLS
    // handshake takes a millisecond or two, less than a column), the legend saying so,
    // IPv4 the winner.
    let row = |addr: &str| chart_row(&text, "tcp", addr);
    assert!(
        row(&v6).contains('~') && row(&v6).contains("lost the race"),
        "{text}"
    );
    assert!(row(&v4).contains("<== WINNER"), "{text}");
    assert!(
        text.contains("~ transport connected, secure handshake under way"),
        "{text}"
    );
    // The result: IPv4, TLS, the name, the ALPN chosen, in well under a second.
    let result = result_line(&text, &v4, "127.0.0.1");
    assert!(
        result.contains(" over tcp + TLS 1.3 (server name localhost, ALPN h2) after "),
        "{result}"
    );
    assert!(v4_tls < 1000.0, "IPv4 won after {v4_tls}ms\n{text}");

    // The same race as JSON: the `transport` event of each attempt before its result, the
    // outcome with the protocol and the ALPN chosen.
    let report = eyeballs_json(&args, 0);
    let events = report["events"].as_array().unwrap();
    let kinds: Vec<(&str, u64)> = events
        .iter()
        .filter(|e| e["id"].is_u64())
        .map(|e| (e["event"].as_str().unwrap(), e["id"].as_u64().unwrap()))
        .collect();
    let position = |kind: &str, id: u64| {
        kinds
            .iter()
            .position(|k| *k == (kind, id))
            .unwrap_or_else(|| panic!("no {kind} event for #{id}: {kinds:?}"))
    };
    assert!(position("attempt", 0) < position("transport", 0));
    assert!(position("transport", 0) < position("attempt", 1));
    assert!(position("attempt", 1) < position("transport", 1));
    assert!(position("transport", 1) < position("connected", 1));
    assert!(position("connected", 1) < position("cancel", 0));
    let outcome = &report["outcome"];
    assert_eq!(outcome["result"], "connected", "{outcome}");
    assert_eq!(outcome["addr"], "127.0.0.1", "{outcome}");
    assert_eq!(outcome["protocol"], "tcp", "{outcome}");
    assert_eq!(outcome["alpn"], "h2", "{outcome}");
    assert_eq!(outcome["server_name"], "localhost", "{outcome}");
    assert_eq!(outcome["tls_version"], "TLS 1.3", "{outcome}");
    assert!(outcome["t_ms"].as_f64().unwrap() < 1000.0, "{outcome}");
    // Both races' losing IPv6 sockets were closed.
    assert!(
        accepted_then_closed(lab.v6(), 2),
        "IPv6: {} accepted (2 expected), {} left open",
        lab.v6().accepted(),
        lab.v6().open()
    );
}

/// A TLS server on `127.0.0.1` alone, named with `--server-name`: the JSON report has the
/// attempt's `transport` event between its start and its result, and the outcome says the
/// transport and the ALPN protocol chosen (none when the client offers none). An SVG
/// picture draws the TLS handshake as its own layer.
#[test]
fn connect_tls_json_and_svg_show_the_transport_handshake() {
    let ca = TestCa::new("eyeballs cli test CA").unwrap();
    let server = TlsServer::bind(
        "127.0.0.1:0".parse().unwrap(),
        &ca.issue(&["localhost"]).unwrap(),
        &["http/1.1"],
    )
    .unwrap();
    let ca_pem = ca_file(&ca, "json-ca.pem");
    let addr = server.addr().to_string();
    let svg = Scratch::new("tls.svg");
    let report = eyeballs_json(
        &[
            "connect",
            &addr,
            "--tls",
            "--server-name",
            "localhost",
            "--ca-file",
            ca_pem.arg(),
            "--alpn",
            "h2,http/1.1",
            "--svg",
            svg.arg(),
        ],
        0,
    );
    assert_eq!(event_kinds(&report), ["attempt", "transport", "connected"]);
    let transport = &report["events"][1];
    assert_eq!(transport["id"], 0);
    assert!(transport["t_ms"].is_number(), "{transport}");
    let outcome = &report["outcome"];
    assert_eq!(outcome["protocol"], "tcp", "{outcome}");
    assert_eq!(outcome["alpn"], "http/1.1", "{outcome}");
    assert_eq!(outcome["server_name"], "localhost", "{outcome}");
    // The picture: the attempt's bar with its secure layer.
    let picture = std::fs::read_to_string(&svg.0).unwrap();
    let doc = roxmltree::Document::parse(&picture).unwrap();
    let count = |class: &str| class_count(&doc, class);
    assert_eq!(count("secure"), 1, "{picture}");
    assert_eq!(count("legend-secure"), 1, "{picture}");

    // No ALPN offered: none chosen, said as `null`.
    let report = eyeballs_json(
        &[
            "connect",
            &addr,
            "--tls",
            "--server-name",
            "localhost",
            "--ca-file",
            ca_pem.arg(),
        ],
        0,
    );
    assert!(report["outcome"]["alpn"].is_null(), "{report}");
    // Without --tls the outcome has no TLS fields.
    let out = eyeballs(&["connect", &addr, "--json"]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(report["outcome"].get("alpn").is_none(), "{report}");
}

/// A server whose certificate another CA issued: the attempt fails in TLS with rustls's
/// reason (the certificate), the race fails, exit 1, and the hint says what to check.
#[test]
fn connect_tls_with_the_wrong_ca_fails_naming_the_certificate() {
    let (server_ca, other_ca) = (
        TestCa::new("the server's CA").unwrap(),
        TestCa::new("another CA").unwrap(),
    );
    let server = TlsServer::bind(
        "127.0.0.1:0".parse().unwrap(),
        &server_ca.issue(&["localhost"]).unwrap(),
        &[],
    )
    .unwrap();
    let other_pem = ca_file(&other_ca, "other-ca.pem");
    let addr = server.addr().to_string();
    let args = [
        "connect",
        &addr,
        "--tls",
        "--server-name",
        "localhost",
        "--ca-file",
        other_pem.arg(),
    ];
    let out = eyeballs(&args);
    let (text, err) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{text}\n{err}");
    // The error: the attempt, the layer, rustls's reason.
    assert!(
        err.starts_with(&format!("error: connecting to {addr} failed: ")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{addr}: TLS handshake failed: invalid peer certificate: UnknownIssuer"
        )),
        "{err}"
    );
    assert!(
        err.contains("hint: a server's certificate was rejected") && err.contains("--ca-file"),
        "{err}"
    );
    // The log: TCP connected, then the TLS failure.
    assert!(
        log_line(&text, "transport", &addr, "tcp").contains("#0"),
        "{text}"
    );
    assert!(
        log_line(&text, "failed", &addr, "tcp")
            .ends_with("TLS handshake failed: invalid peer certificate: UnknownIssuer"),
        "{text}"
    );
    // As JSON: a handshake failure, with the reason.
    let report = eyeballs_json(&args, 1);
    let error = &report["outcome"]["errors"][0];
    assert_eq!(error["error"], "handshake", "{report}");
    assert!(error.to_string().contains("UnknownIssuer"), "{report}");
}

/// Bad TLS flags are bad usage (exit 2), each named: a TLS flag without --tls, a CA file
/// that cannot be read or holds no certificate, an empty ALPN list, a bad server name, an
/// address with no name to authenticate. Nothing is sent.
#[test]
fn connect_bad_tls_flags_are_bad_usage() {
    let listener = loopback_listener();
    let addr = listener.addr().to_string();
    let by_name = format!("localhost:{}", listener.addr().port());
    for flag in [
        &["--server-name", "localhost"][..],
        &["--ca-file", "ca.pem"],
        &["--alpn", "h2"],
        &["--handshake-timeout", "1s"],
    ] {
        let mut args = vec!["connect", &by_name];
        args.extend_from_slice(flag);
        let err = fails_with_usage(&args);
        assert!(err.contains(flag[0]) && err.contains("--tls"), "{err}");
    }
    let err = fails_with_usage(&[
        "connect",
        &by_name,
        "--tls",
        "--ca-file",
        "/nonexistent/ca.pem",
    ]);
    assert!(
        err.contains("invalid --ca-file: /nonexistent/ca.pem: "),
        "{err}"
    );
    let empty = Scratch::new("empty-ca.pem");
    std::fs::write(&empty.0, "no certificate here\n").unwrap();
    let err = fails_with_usage(&["connect", &by_name, "--tls", "--ca-file", empty.arg()]);
    assert!(
        err.contains("invalid --ca-file: ") && err.contains("no CERTIFICATE block"),
        "{err}"
    );
    let err = fails_with_usage(&["connect", &by_name, "--tls", "--alpn", ""]);
    assert!(
        err.contains("invalid --alpn '': the list is empty"),
        "{err}"
    );
    let err = fails_with_usage(&["connect", &by_name, "--tls", "--alpn", "h2,,http/1.1"]);
    assert!(err.contains("a protocol id is empty"), "{err}");
    let err = fails_with_usage(&["connect", &by_name, "--tls", "--server-name", "a b"]);
    assert!(err.contains("invalid --server-name 'a b'"), "{err}");
    for target in [addr.clone(), format!("[::1]:80,{addr}")] {
        let err = fails_with_usage(&["connect", &target, "--tls"]);
        assert!(
            err.contains("the target is an IP address") && err.contains("--server-name NAME"),
            "{err}"
        );
    }
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(listener.accepted(), 0, "bad usage connected");
}

/// A server that does not speak TLS: one that closes at once fails the handshake (the
/// peer closed); one that never speaks fails it when --handshake-timeout passes. Exit 1,
/// the TLS failure named, and the hint says to check that the port speaks TLS.
#[test]
fn connect_tls_to_a_port_that_does_not_speak_tls_fails_in_tls() {
    let closing = loopback_listener();
    let addr = closing.addr().to_string();
    let out = eyeballs(&["connect", &addr, "--tls", "--server-name", "localhost"]);
    let (text, err) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{text}\n{err}");
    assert!(
        err.contains(&format!("{addr}: TLS handshake failed: ")),
        "{err}"
    );
    assert!(
        err.contains("hint: a TLS handshake failed: check that the server speaks TLS"),
        "{err}"
    );
    assert!(
        log_line(&text, "transport", &addr, "tcp").contains("#0"),
        "{text}"
    );

    let silent = eyeballs_lab::SilentListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = silent.addr().to_string();
    let out = eyeballs(&[
        "connect",
        &addr,
        "--tls",
        "--server-name",
        "localhost",
        "--handshake-timeout",
        "200ms",
    ]);
    let (text, err) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{text}\n{err}");
    assert!(
        err.contains(&format!(
            "{addr}: TLS handshake failed: no TLS handshake within 200ms of the TCP connection"
        )),
        "{err}"
    );
    // It failed when the handshake timeout passed after TCP connected, not before.
    let tcp = at_ms(log_line(&text, "transport", &addr, "tcp"));
    let failed = at_ms(log_line(&text, "failed", &addr, "tcp"));
    assert!(failed - tcp >= 200.0, "{text}");
    assert!(
        accepted_then_closed(&silent, 1),
        "{} accepted (1 expected), {} left open",
        silent.accepted(),
        silent.open()
    );
}
