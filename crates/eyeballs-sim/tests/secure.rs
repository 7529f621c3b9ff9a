//! Secure racing in virtual time (issue 13, item 6): attempts whose transport handshake (TCP)
//! finishes before their secure handshake (TLS), with `transport_after_ms` in the scenario
//! format and [`NetRule::transport_after`] in Rust. At the transport handshake the simulator
//! gives the engine `handle_progress`, whose rule (its rustdoc; HEv3 §6.1) is: when the attempt
//! is the most recent one and the next attempt is still waiting, the next attempt waits until
//! at least `now + clamp(2 × (now − start), 10 ms, max delay)`; the timer is never shortened.
//! Every schedule below is worked out by hand from that rule, then asserted exactly.

use std::net::SocketAddr;
use std::time::Duration;

use eyeballs::Config;
use eyeballs_sim::json::{parse_scenario, read_scenario, trace_to_json};
use eyeballs_sim::{Event, NetResult, NetRule, Scenario, Trace, run, run_monitored, scenarios};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

const V6: &str = "[2001:db8::1]:443";
const V4: &str = "192.0.2.1:443";
const V6B: &str = "[2001:db8::2]:443";

fn sock(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn rule(addr: &str, result: NetResult, after: u64) -> NetRule {
    NetRule::addr(sock(addr).ip(), result, ms(after))
}

/// The race as `@T event #id ...` lines, T in whole milliseconds.
fn schedule(trace: &Trace) -> Vec<String> {
    trace
        .events
        .iter()
        .map(|e| {
            let what = match &e.event {
                Event::Query { record, .. } => format!("query {record}"),
                Event::Answer { record, .. } => format!("answer {record}"),
                Event::Attempt(a) => format!("attempt #{} {}", a.id.0, a.addr),
                Event::TransportConnected { id, .. } => format!("transport #{}", id.0),
                Event::Failed { id, failure, .. } => {
                    format!("failed #{} {}", id.0, failure.as_str())
                }
                Event::Connected { id, .. } => format!("connected #{}", id.0),
                Event::Cancel { id, reason, .. } => {
                    format!("cancel #{} {}", id.0, reason.as_str())
                }
                Event::CancelQueries => "cancel_queries".to_string(),
            };
            format!("@{} {what}", e.at.as_millis())
        })
        .collect()
}

/// Runs a scenario file of `scenarios/secure/` under the invariant monitor: its schedule, and
/// its outcome line.
fn secure_file(name: &str) -> (Vec<String>, String) {
    let scenario = read_scenario(&scenarios::secure_dir().join(name)).unwrap();
    let (trace, monitor) = run_monitored(&scenario).unwrap();
    if let Err(v) = monitor.check() {
        panic!("{v}\n{}", monitor.history());
    }
    let outcome = trace.outcome.as_ref().unwrap().to_string();
    (schedule(&trace), outcome)
}

fn lines(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// IPv6 TCP connects 1 ms after its start (a TCP-terminating proxy), then TLS never answers;
/// IPv4 serves TLS. By hand: AAAA and A answer at 10 ms; IPv6 starts at once (the preferred
/// family answered), its timer at 10 + 250 = 260. Its transport handshake at 11 ms: 2 × 1 ms
/// = 2 ms, raised to the 10 ms floor, is 21 ms: earlier than 260, and the timer is never
/// shortened, so it stays at 260. IPv4 starts at 260, its TCP connects at 270, its TLS at 290:
/// it wins, and the IPv6 attempt (TCP up, TLS dead) is cancelled. The TCP connection alone
/// never won: with secure racing a TLS-dead path costs one Connection Attempt Delay.
#[test]
fn tls_dead_ipv6_starts_ipv4_when_the_timer_runs_out() {
    let (got, outcome) = secure_file("tls-dead-ipv6.json");
    assert_eq!(
        got,
        lines(&[
            "@0 query AAAA",
            "@0 query A",
            "@10 answer AAAA",
            "@10 attempt #0 [2001:db8::1]:443",
            "@10 answer A",
            "@11 transport #0",
            "@260 attempt #1 192.0.2.1:443",
            "@270 transport #1",
            "@290 connected #1",
            "@290 cancel #0 lost_race",
        ])
    );
    assert_eq!(
        outcome,
        "connected (attempt #1 to 192.0.2.1:443 over tcp) at 290ms"
    );
}

/// IPv6 TCP connects after 5 ms, then its certificate is rejected 20 ms later (a handshake
/// failure). By hand: IPv6 starts at 10 ms (timer 260); transport at 15 ms extends nothing
/// (15 + max(2 × 5, 10) = 25 < 260); the failure at 35 ms is the most recent attempt's, so
/// IPv4 starts at once, at 35; TCP at 40, TLS at 60: connected at 60. Nothing is left to
/// cancel.
#[test]
fn a_rejected_certificate_starts_ipv4_at_once() {
    let (got, outcome) = secure_file("certificate-rejected-ipv6.json");
    assert_eq!(
        got,
        lines(&[
            "@0 query AAAA",
            "@0 query A",
            "@10 answer AAAA",
            "@10 attempt #0 [2001:db8::1]:443",
            "@10 answer A",
            "@15 transport #0",
            "@35 failed #0 handshake",
            "@35 attempt #1 192.0.2.1:443",
            "@40 transport #1",
            "@60 connected #1",
        ])
    );
    assert_eq!(
        outcome,
        "connected (attempt #1 to 192.0.2.1:443 over tcp) at 60ms"
    );
}

/// Both paths work; IPv6's TCP takes 200 ms and its TLS 500 ms more. By hand: the timer is at
/// 250; the transport handshake at 200 ms moves it to 200 + 2 × 200 = 600 (under the 2 s
/// maximum). So IPv4 starts at 600, not 250: TCP at 610, TLS at 630, and it wins before
/// IPv6's TLS (due at 700).
#[test]
fn a_slow_tls_handshake_delays_the_next_attempt_to_the_extended_timer() {
    let (got, outcome) = secure_file("slow-tls-extends-the-timer.json");
    assert_eq!(
        got,
        lines(&[
            "@0 attempt #0 [2001:db8::1]:443",
            "@200 transport #0",
            "@600 attempt #1 192.0.2.1:443",
            "@610 transport #1",
            "@630 connected #1",
            "@630 cancel #0 lost_race",
        ])
    );
    assert_eq!(
        outcome,
        "connected (attempt #1 to 192.0.2.1:443 over tcp) at 630ms"
    );
}

/// The same race with IPv6's TLS done at 450 ms, inside the extension (timer at 600): IPv6
/// wins and IPv4 never starts (without the extension it would have started at 250).
#[test]
fn a_tls_handshake_inside_the_extension_wins_alone() {
    let scenario = Scenario::addresses("inside", [sock(V6), sock(V4)])
        .rule(rule(V6, NetResult::Connected, 450).with_transport_after(ms(200)))
        .rule(rule(V4, NetResult::Connected, 30).with_transport_after(ms(10)));
    assert_eq!(
        schedule(&run(&scenario).unwrap()),
        lines(&[
            "@0 attempt #0 [2001:db8::1]:443",
            "@200 transport #0",
            "@450 connected #0",
        ])
    );
}

/// The ordering rule: a transport handshake at the very instant the next attempt is due is
/// delivered before the timer, so it extends it (250 + 2 × 250 = 750); one a nanosecond
/// later comes after the timer fired: IPv4 has started at 250 and the progress of the older
/// attempt changes nothing.
#[test]
fn a_transport_handshake_at_the_deadline_extends_it_before_it_fires() {
    let race = |transport: Duration| {
        let scenario = Scenario::addresses("deadline", [sock(V6), sock(V4)])
            .rule(rule(V6, NetResult::Hang, 0).with_transport_after(transport))
            .rule(rule(V4, NetResult::Hang, 0));
        let (trace, monitor) = run_monitored(&scenario).unwrap();
        monitor.check().unwrap();
        trace
            .events
            .iter()
            .map(|e| (e.at, e.event.name()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        race(ms(250)),
        [
            (ms(0), "attempt"),
            (ms(250), "transport"),
            (ms(750), "attempt")
        ]
    );
    let late = ms(250) + Duration::from_nanos(1);
    assert_eq!(
        race(late),
        [
            (ms(0), "attempt"),
            (ms(250), "attempt"),
            (late, "transport")
        ]
    );
}

/// A transport handshake and the result at the same instant: the transport handshake first.
#[test]
fn a_transport_handshake_and_a_result_at_one_instant_read_in_that_order() {
    let scenario = Scenario::addresses("same instant", [sock(V6), sock(V4)])
        .rule(rule(V6, NetResult::Connected, 30).with_transport_after(ms(30)));
    assert_eq!(
        schedule(&run(&scenario).unwrap()),
        lines(&[
            "@0 attempt #0 [2001:db8::1]:443",
            "@30 transport #0",
            "@30 connected #0",
        ])
    );
}

/// Only the most recent attempt's transport handshake moves the timer. By hand: 6a at 0, 4a
/// at 250 (timer 500); 6a's transport handshake at 300 is an older attempt's: nothing; 4a's
/// at 250 + 150 = 400 extends to 400 + 2 × 150 = 700: 6b starts at 700.
#[test]
fn only_the_most_recent_attempts_transport_handshake_extends_the_timer() {
    let scenario = Scenario::addresses("three", [sock(V6), sock(V4), sock(V6B)])
        .rule(rule(V6, NetResult::Hang, 0).with_transport_after(ms(300)))
        .rule(rule(V4, NetResult::Hang, 0).with_transport_after(ms(150)))
        .rule(rule(V6B, NetResult::Hang, 0));
    assert_eq!(
        schedule(&run(&scenario).unwrap()),
        lines(&[
            "@0 attempt #0 [2001:db8::1]:443",
            "@250 attempt #1 192.0.2.1:443",
            "@300 transport #0",
            "@400 transport #1",
            "@700 attempt #2 [2001:db8::2]:443",
        ])
    );
}

/// The extension is at most the Maximum Connection Attempt Delay: with it at 300 ms, a
/// transport handshake at 200 ms gives 200 + min(2 × 200, 300) = 500 (not 600).
#[test]
fn the_extension_is_at_most_the_maximum_delay() {
    let mut config = Config::default();
    config.max_connection_attempt_delay = ms(300);
    let scenario = Scenario::addresses("capped", [sock(V6), sock(V4)])
        .config(config)
        .rule(rule(V6, NetResult::Hang, 0).with_transport_after(ms(200)))
        .rule(rule(V4, NetResult::Connected, 10));
    assert_eq!(
        schedule(&run(&scenario).unwrap()),
        lines(&[
            "@0 attempt #0 [2001:db8::1]:443",
            "@200 transport #0",
            "@500 attempt #1 192.0.2.1:443",
            "@510 connected #1",
            "@510 cancel #0 lost_race",
        ])
    );
}

/// An attempt timeout still ends an attempt whose TLS hangs, whatever the extension: the
/// attempt timed out is the most recent one, so the next starts at once.
#[test]
fn an_attempt_timeout_ends_a_hanging_tls_handshake() {
    let mut config = Config::default();
    config.attempt_timeout = Some(ms(300));
    // Transport at 200: the timer moves to 600; the attempt timeout at 300 comes first.
    let scenario = Scenario::addresses("timeout", [sock(V6), sock(V4)])
        .config(config)
        .rule(rule(V6, NetResult::Hang, 0).with_transport_after(ms(200)))
        .rule(rule(V4, NetResult::Connected, 20));
    assert_eq!(
        schedule(&run(&scenario).unwrap()),
        lines(&[
            "@0 attempt #0 [2001:db8::1]:443",
            "@200 transport #0",
            "@300 cancel #0 timeout",
            "@300 attempt #1 192.0.2.1:443",
            "@320 connected #1",
        ])
    );
}

/// The transport handshake of an attempt that ended before it is never delivered: cancelled
/// (IPv4 won at 270) or failed first (a rule built in Rust with the transport handshake after
/// the result, which the scenario format refuses).
#[test]
fn an_ended_attempts_transport_handshake_is_never_delivered() {
    let cancelled = Scenario::addresses("cancelled", [sock(V6), sock(V4)])
        .rule(rule(V6, NetResult::Hang, 0).with_transport_after(ms(400)))
        .rule(rule(V4, NetResult::Connected, 20));
    assert_eq!(
        schedule(&run(&cancelled).unwrap()),
        lines(&[
            "@0 attempt #0 [2001:db8::1]:443",
            "@250 attempt #1 192.0.2.1:443",
            "@270 connected #1",
            "@270 cancel #0 lost_race",
        ])
    );
    let failed = Scenario::addresses("failed", [sock(V6), sock(V4)])
        .rule(rule(V6, NetResult::Refused, 5).with_transport_after(ms(100)))
        .rule(rule(V4, NetResult::Hang, 0));
    assert_eq!(
        schedule(&run(&failed).unwrap()),
        lines(&[
            "@0 attempt #0 [2001:db8::1]:443",
            "@5 failed #0 refused",
            "@5 attempt #1 192.0.2.1:443",
        ])
    );
}

fn refused(text: &str) -> String {
    parse_scenario(text).unwrap_err().to_string()
}

/// `transport_after_ms` is read, checked against `after_ms` (named, with the value), and
/// written as `transport` events; `handshake` is a result of its own.
#[test]
fn the_format_reads_and_checks_transport_after_ms() {
    let net = |entries: &str| {
        format!(r#"{{"port": 443, "addresses": ["2001:db8::1"], "network": [{entries}]}}"#)
    };
    assert_eq!(
        refused(&net(
            r#"{"addr": "*", "result": "connected", "transport_after_ms": 25, "after_ms": 20}"#
        )),
        "field `network[0].transport_after_ms`: the transport handshake at 25 ms comes after \
         the attempt's result (`after_ms`: 20); it must finish at or before `after_ms`"
    );
    assert_eq!(
        refused(&net(r#"{"addr": "::1", "result": "hang"},
               {"addr": "*", "result": "handshake", "transport_after_ms": 1.5}"#)),
        "field `network[1].transport_after_ms`: the transport handshake at 1.5 ms comes after \
         the attempt's result (`after_ms`: 0, its default); it must finish at or before \
         `after_ms`"
    );
    let e = refused(&net(
        r#"{"addr": "*", "result": "hang", "transport_after_ms": -1}"#,
    ));
    assert!(
        e.starts_with("field `network[0].transport_after_ms`: -1 is not a time"),
        "{e}"
    );
    let e = refused(&net(
        r#"{"addr": "*", "result": "hang", "transport_after_ms": "1"}"#,
    ));
    assert!(
        e.starts_with("field `network[0].transport_after_ms`: "),
        "{e}"
    );
    // A hanging secure handshake has no result time: any transport time; equal times pass.
    for ok in [
        r#"{"addr": "*", "result": "hang", "transport_after_ms": 900, "after_ms": 5}"#,
        r#"{"addr": "*", "result": "fail", "transport_after_ms": 20, "after_ms": 20}"#,
    ] {
        let s = parse_scenario(&net(ok)).unwrap();
        assert!(s.network[0].transport_after.is_some(), "{ok}");
    }
    let s = parse_scenario(&net(
        r#"{"addr": "*", "result": "handshake", "transport_after_ms": 2.5, "after_ms": 9}"#,
    ))
    .unwrap();
    assert_eq!(
        s.network[0],
        NetRule::any(NetResult::Handshake, ms(9)).with_transport_after(Duration::from_micros(2500))
    );
    let out = trace_to_json(&run(&s).unwrap());
    assert_eq!(
        out["events"],
        serde_json::json!([
            {"t_ms": 0, "event": "attempt", "id": 0, "addr": "2001:db8::1", "port": 443, "protocol": "tcp"},
            {"t_ms": 2.5, "event": "transport", "id": 0},
            {"t_ms": 9, "event": "failed", "id": 0, "error": "handshake"}
        ])
    );
    assert_eq!(out["outcome"]["errors"][0]["error"], "handshake");
}

/// Every scenario that comes with the simulator (the format's examples, the project's, the
/// secure ones) runs the same under the invariant monitor, which finds no broken rule.
#[test]
fn every_scenario_keeps_the_monitors_rules() {
    let mut count = 0;
    for dir in [
        scenarios::dir(),
        scenarios::spec_dir(),
        scenarios::secure_dir(),
    ] {
        for file in scenarios::files(&dir).unwrap() {
            let scenario = read_scenario(&file).unwrap();
            let (trace, monitor) = run_monitored(&scenario).unwrap();
            if let Err(v) = monitor.check() {
                panic!("{}: {v}\n{}", file.display(), monitor.history());
            }
            assert_eq!(trace, run(&scenario).unwrap(), "{}", file.display());
            count += 1;
        }
    }
    assert!(count >= 11, "{count} scenarios");
}
