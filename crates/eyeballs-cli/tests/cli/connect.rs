//! `eyeballs connect`, for real, on loopback: the live log, the chart, `--json`, `--svg`, the
//! exit codes, bad targets and flags, zones, `--global-only`, mapped addresses.

use std::path::Path;

use eyeballs_lab::precondition::require;
use eyeballs_lab::{BrokenIpv6, ClosedPort, Listener, V4_LOOPBACK};

use crate::support::*;

#[test]
fn connect_to_a_loopback_listener() {
    let listener = loopback_listener();
    let addr = listener.addr().to_string();
    let out = eyeballs(&["connect", &addr]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    // The header, the live log (each event as the race report writes it: the endpoint on
    // every line about an attempt), the chart, the result.
    assert!(text.starts_with(&format!("racing to {addr}: connection attempt delay 250ms")));
    assert!(
        text.contains(&format!("ms  attempt    #0 {addr} over tcp\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!("ms  connected  #0 {addr} over tcp\n")),
        "{text}"
    );
    let row = chart_rows(&text)
        .into_iter()
        .find(|r| r.starts_with("#0 tcp "))
        .unwrap();
    assert!(row.contains(&addr) && row.contains("<== WINNER"), "{text}");
    assert!(
        text.contains(&format!("\nconnected to {addr} from 127.0.0.1:")),
        "{text}"
    );
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    // It really connected (and closed: the listener's thread saw it).
    eyeballs_lab::wait_until(std::time::Duration::from_secs(5), || {
        listener.accepted() != 0
    });
    assert_eq!(listener.accepted(), 1);
}

#[test]
fn connect_by_name_shows_the_dns_queries() {
    let listener = loopback_listener();
    let target = format!("localhost:{}", listener.addr().port());
    let out = eyeballs(&["connect", &target, "-4"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    // -4: no AAAA query at all.
    assert!(text.contains("ms  query      A localhost\n"), "{text}");
    assert!(!text.contains("query      AAAA"), "{text}");
    assert!(
        text.contains("ms  answer     A localhost: 127.0.0.1"),
        "{text}"
    );
    assert!(text.contains("\nDNS "), "{text}");
}

#[test]
fn connect_to_a_closed_port_fails_with_the_os_error() {
    let closed = ClosedPort::new(V4_LOOPBACK).unwrap();
    let addr = closed.addr().to_string();
    let out = eyeballs(&["connect", &addr]);
    let (text, err) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{text}\n{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(
        err.contains(&addr) && err.contains("Connection refused"),
        "{err}"
    );
    assert!(err.contains("hint: nothing listens on that port"), "{err}");
    // The live log and the chart still show what happened.
    assert!(
        text.contains(&format!("attempt    #0 {addr} over tcp\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "failed     #0 {addr} over tcp: Connection refused"
        )),
        "{text}"
    );
    assert!(text.contains("failed after "), "{text}");
}

#[test]
fn connect_json_is_the_report_in_the_simulators_vocabulary() {
    let listener = loopback_listener();
    // Only JSON on stdout.
    let report = eyeballs_json(&["connect", &listener.addr().to_string()], 0);
    let events = report["events"].as_array().unwrap();
    assert_eq!(event_kinds(&report), ["attempt", "connected"]);
    assert_eq!(events[0]["addr"], "127.0.0.1");
    assert_eq!(events[0]["port"], listener.addr().port());
    assert_eq!(events[0]["protocol"], "tcp");
    assert!(events.iter().all(|e| e["t_ms"].is_number()));
    assert_eq!(report["outcome"]["result"], "connected");
    assert_eq!(report["outcome"]["id"], 0);

    let closed = ClosedPort::new(V4_LOOPBACK).unwrap();
    let out = eyeballs(&["connect", &closed.addr().to_string(), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["events"][1]["event"], "failed");
    assert_eq!(report["events"][1]["error"], "refused");
    assert_eq!(report["outcome"]["result"], "failed");
    assert_eq!(report["outcome"]["errors"][0]["error"], "refused");
    assert!(stderr(&out).contains("Connection refused"));
}

#[test]
fn connect_svg_draws_the_race() {
    let listener = loopback_listener();
    let svg = Scratch::new("connect.svg");
    let out = eyeballs(&["connect", &listener.addr().to_string(), "--svg", svg.arg()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let picture = std::fs::read_to_string(&svg.0).unwrap();
    let doc = roxmltree::Document::parse(&picture).unwrap();
    assert_eq!(class_count(&doc, "bar connected winner"), 1);
}

/// The broken-IPv6 lab raced with a pre-resolved address list: IPv6 first, hanging; IPv4
/// one Connection Attempt Delay later, winning; the IPv6 attempt cancelled.
#[test]
fn connect_races_an_address_list_on_the_broken_ipv6_lab() {
    let Some(lab) = require(
        "connect_races_an_address_list_on_the_broken_ipv6_lab",
        BrokenIpv6::new(),
    ) else {
        return;
    };
    let [v6, v4] = lab.addrs();
    let target = format!("{v6},{v4}");
    let out = eyeballs(&["connect", &target, "--delay", "100ms"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    let attempt_lines: Vec<&str> = text.lines().filter(|l| l.contains("  attempt  ")).collect();
    assert_eq!(attempt_lines.len(), 2, "{text}");
    assert!(
        attempt_lines[0].ends_with(&format!("#0 {v6} over tcp")),
        "{text}"
    );
    assert!(
        attempt_lines[1].ends_with(&format!("#1 {v4} over tcp")),
        "{text}"
    );
    // The IPv6 attempt cancelled, in the live log and in the chart, with why.
    assert!(
        text.contains(&format!(
            "ms  cancel     #0 {v6} over tcp (lost the race)\n"
        )),
        "{text}"
    );
    let row = chart_rows(&text)
        .into_iter()
        .find(|r| r.starts_with(&format!("#0 tcp {v6} ")))
        .unwrap_or_else(|| panic!("no chart row for #0 in\n{text}"));
    assert!(row.contains("lost the race"), "{text}");
    assert!(
        text.contains(&format!("\nconnected to {v4} from ")),
        "{text}"
    );
}

#[test]
fn connect_bad_input_is_bad_usage() {
    let err = fails_with_usage(&["connect", "localhost"]);
    assert!(
        err.contains("invalid target 'localhost'") && err.contains("host:port"),
        "{err}"
    );
    let err = fails_with_usage(&["connect", "::1:80"]);
    assert!(err.contains("brackets"), "{err}");
    let err = fails_with_usage(&["connect", "[::1]:80,127.0.0.1"]);
    assert!(
        err.contains("'127.0.0.1' is not an address with a port"),
        "{err}"
    );
    let err = fails_with_usage(&["connect", "127.0.0.1:80", "--frobnicate"]);
    assert!(err.contains("--frobnicate"), "{err}");
    let err = fails_with_usage(&["connect", "127.0.0.1:80", "--prefer", "v5"]);
    assert!(
        err.contains("v5") && err.contains("v4") && err.contains("v6"),
        "{err}"
    );
    let err = fails_with_usage(&["connect", "127.0.0.1:80", "--delay", "5ms"]);
    assert!(err.contains("invalid --delay"), "{err}");
    assert!(err.contains("10ms") && err.contains("RFC 8305 §5"), "{err}");
    let err = fails_with_usage(&["connect", "127.0.0.1:80", "--delay", "soon"]);
    assert!(err.contains("'soon' is not a duration"), "{err}");
    let err = fails_with_usage(&["connect", "127.0.0.1:80", "-4", "-6"]);
    assert!(err.contains("cannot be used with"), "{err}");
    let err = fails_with_usage(&["connect", "127.0.0.1:80", "--local-addr", "::1", "-4"]);
    assert!(err.contains("-4/-6"), "{err}");
    let err = fails_with_usage(&["connect", "0.0.0.0:80"]);
    assert!(err.contains("0.0.0.0:80"), "{err}");
    let err = fails_with_usage(&["connect"]);
    assert!(err.contains("TARGET"), "{err}");
}

#[test]
fn connect_reports_what_it_cannot_write_after_the_race() {
    let listener = loopback_listener();
    let addr = listener.addr().to_string();
    let nowhere = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-such-dir");
    let svg = nowhere.join("race.svg");
    let out = eyeballs(&["connect", &addr, "--svg", svg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    // The race ran and was printed; the error names the path.
    assert!(stdout(&out).contains("<== WINNER"), "{}", stdout(&out));
    assert!(
        stderr(&out).contains(svg.to_str().unwrap()),
        "{}",
        stderr(&out)
    );

    let history = nowhere.join("history.json");
    let out = eyeballs(&["connect", &addr, "--history", history.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot save the history to"), "{err}");
    assert!(err.contains(history.to_str().unwrap()), "{err}");
    assert!(stdout(&out).contains("<== WINNER"));
}

/// An IPv6 literal with its zone, by name (`%lo`): accepted, and connected.
#[cfg(target_os = "linux")]
#[test]
fn connect_takes_an_ipv6_zone_by_name() {
    if std::env::var_os("EYEBALLS_TEST_NO_IPV6").is_some() {
        // The explicit opt-out for hosts without IPv6 loopback.
        return;
    }
    assert!(
        eyeballs_lab::has_ipv6_loopback(),
        "this test needs IPv6 loopback ([::1]); set EYEBALLS_TEST_NO_IPV6=1 to opt out"
    );
    let listener = Listener::bind("[::1]:0".parse().unwrap()).unwrap();
    let target = format!("[::1%lo]:{}", listener.addr().port());
    let out = eyeballs(&["connect", &target]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    assert!(text.contains("<== WINNER"), "{text}");
    eyeballs_lab::wait_until(std::time::Duration::from_secs(5), || {
        listener.accepted() != 0
    });
    assert_eq!(listener.accepted(), 1);
    // An interface that does not exist is bad usage, named.
    let err = fails_with_usage(&["connect", "[fe80::1%nosuchif0]:80"]);
    assert!(
        err.contains("no network interface is named 'nosuchif0'"),
        "{err}"
    );
}

/// `--global-only` refuses loopback in every spelling (IPv4, IPv4-mapped, NAT64 well-known
/// prefix, a name) before anything is attempted: exit 1, the reason named, and the listener
/// sees no connection. Issue 10, items 1-3: the mapped spelling used to connect.
#[test]
fn connect_global_only_refuses_loopback_in_every_spelling() {
    let listener = loopback_listener();
    let port = listener.addr().port();
    for target in [
        format!("127.0.0.1:{port}"),
        format!("[::ffff:127.0.0.1]:{port}"),
        format!("[64:ff9b::7f00:1]:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ] {
        let out = eyeballs(&["connect", &target, "--global-only"]);
        let (text, err) = (stdout(&out), stderr(&out));
        assert_eq!(out.status.code(), Some(1), "{target}: {text}\n{err}");
        assert!(
            err.contains("loopback") || err.contains("not globally reachable"),
            "{target}: {err}"
        );
        assert!(!text.contains("attempt    #0"), "{target}: {text}");
    }
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert_eq!(
        listener.accepted(),
        0,
        "a refused destination was connected"
    );
}

/// An IPv4-mapped address is IPv4: `-6` ("IPv6 only") does not connect to it, and without
/// `-6` it is connected and reported in its IPv4 form. Issue 10, item 1.
#[test]
fn connect_treats_a_mapped_address_as_ipv4() {
    let listener = loopback_listener();
    let port = listener.addr().port();
    let mapped = format!("[::ffff:127.0.0.1]:{port}");
    let out = eyeballs(&["connect", &mapped, "-6"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert_eq!(listener.accepted(), 0, "-6 connected over IPv4");
    let out = eyeballs(&["connect", &mapped]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    assert!(
        text.contains(&format!("attempt    #0 127.0.0.1:{port} over tcp\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!("connected  #0 127.0.0.1:{port} over tcp\n")),
        "{text}"
    );
}
