//! The committed seeds: the hand-made ones do what their comments say, and every one, hand-made
//! or found by the fuzzer, keeps the rules.

use eyeballs::{AttemptId, FailReason, Protocol, RaceResult};

use crate::*;

fn seed(dir: &str, name: &str) -> Vec<u8> {
    let path = format!("{}/corpus/{dir}/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn engine(name: &str) -> Option<FuzzRace> {
    let case = EngineCase::decode(&seed("engine_inputs", name)).unwrap();
    assert!(text::strip_magic(&seed("engine_inputs", name)).is_some());
    run_engine(&case)
}

fn svcb(name: &str) -> FuzzRace {
    let case = SvcbCase::decode(&seed("svcb", name)).unwrap();
    run_svcb(&case).unwrap()
}

fn result(d: &FuzzRace) -> Option<RaceResult> {
    d.monitor().race().outcome().map(|o| o.result)
}

fn attempts(d: &FuzzRace) -> usize {
    d.monitor().race().attempts().len()
}

/// Every name the race sent a query for, in order.
fn asked(d: &FuzzRace) -> Vec<String> {
    d.monitor()
        .log()
        .iter()
        .flat_map(|s| &s.actions)
        .filter_map(|a| match a {
            eyeballs::Action::Resolve { name, .. } => Some(name.to_string()),
            _ => None,
        })
        .collect()
}

#[test]
fn engine_seeds() {
    let d = engine("v6-blackholed-host").unwrap();
    assert_eq!(result(&d), Some(RaceResult::Connected(AttemptId(2))));
    let d = engine("all-refused-literals").unwrap();
    assert_eq!(
        result(&d),
        Some(RaceResult::Failed(FailReason::AllAttemptsFailed))
    );
    assert_eq!(attempts(&d), 4);
    let d = engine("late-aaaa").unwrap();
    assert_eq!(result(&d), Some(RaceResult::Connected(AttemptId(2))));
    let d = engine("timeouts-cap-progress").unwrap();
    assert_eq!(result(&d), Some(RaceResult::TimedOut));
    let d = engine("bad-inputs").unwrap();
    assert_eq!(result(&d), Some(RaceResult::Cancelled));
    let refused = d
        .monitor()
        .log()
        .iter()
        .filter(|s| s.result.is_err())
        .count();
    assert!(refused >= 8, "{}", d.monitor().history());
    let d = engine("https-nat64-quic").unwrap();
    assert!(matches!(result(&d), Some(RaceResult::Connected(_))));
    assert!(
        d.monitor()
            .race()
            .attempts()
            .iter()
            .any(|a| a.protocol == Protocol::Quic)
    );
    assert!(engine("invalid-start").is_none());
    assert!(engine("bad-host").is_none());
    let d = engine("dns-errors-filter").unwrap();
    let o = d.monitor().race().outcome();
    assert!(o.is_some_and(|o| !o.skipped.is_empty() && !o.dns_errors.is_empty()));

    // Issue 10.
    let started = |d: &FuzzRace| -> Vec<String> {
        let race = d.monitor().race();
        race.attempts()
            .iter()
            .map(|a| a.addr.ip().to_string())
            .collect()
    };
    let d = engine("global-only").unwrap();
    assert_eq!(started(&d), ["2606:4700::1111", "1.1.1.1"]);
    assert_eq!(d.monitor().race().skipped().len(), 6);
    let d = engine("global-only-nat64").unwrap();
    assert_eq!(started(&d), ["2606:4700::1111", "2001:db8:64:808:8:800::"]);
    let d = engine("mapped-literal-filter").unwrap();
    assert_eq!(started(&d), ["2001:db8::1", "192.0.2.1"]);
    let d = engine("mapped-a-answer").unwrap();
    assert_eq!(started(&d), ["2001:db8::1", "192.0.2.7"]);
    let d = engine("dns64-filter").unwrap();
    assert_eq!(started(&d), ["2001:db8::1", "64:ff9b::c000:201"]);
    let d = engine("late-refused-inputs").unwrap();
    let log = d.monitor().log();
    assert_eq!(log.iter().filter(|s| s.result.is_err()).count(), 5);
    assert!(
        matches!(result(&d), Some(RaceResult::Connected(_))),
        "{}",
        d.monitor().history()
    );
}

#[test]
fn svcb_seeds() {
    let d = svcb("alias-chain");
    assert!(matches!(result(&d), Some(RaceResult::Connected(_))));
    let names = asked(&d);
    assert!(names.iter().any(|n| n == "s3.example.com"), "{names:?}");
    let d = svcb("alias-loop");
    assert_eq!(attempts(&d), 1);
    let d = svcb("reliant-servfail");
    assert_eq!(
        result(&d),
        Some(RaceResult::Failed(FailReason::ServiceResolutionFailed))
    );
    let d = svcb("priorities-alpn-quic");
    assert_eq!(result(&d), Some(RaceResult::Cancelled));
    let first = &d.monitor().race().attempts()[0];
    assert_eq!(first.addr.port(), 9443, "{}", d.monitor().history());

    // Issue 10.
    let d = svcb("mapped-ipv6hint-filter");
    let addrs: Vec<String> = d
        .monitor()
        .race()
        .attempts()
        .iter()
        .map(|a| a.addr.ip().to_string())
        .collect();
    assert_eq!(addrs, ["2001:db8::9"]);
    let d = svcb("ipv6-literal-target-name");
    let o = d.monitor().race().outcome();
    let invalid: Vec<&str> = o
        .iter()
        .flat_map(|o| &o.dns_errors)
        .filter(|e| e.error == eyeballs::DnsError::InvalidName)
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(invalid, ["8::1", "8::1"], "{}", d.monitor().history());
    assert!(matches!(result(&d), Some(RaceResult::Connected(_))));
    let names = asked(&d);
    assert!(names.iter().any(|n| n == "192.0.2.1"), "{names:?}");
    let d = svcb("invalid-target-names");
    let o = d.monitor().race().outcome();
    assert!(
        o.is_some_and(|o| o
            .dns_errors
            .iter()
            .any(|e| e.error == eyeballs::DnsError::InvalidName)),
        "{}",
        d.monitor().history()
    );
}

#[test]
fn scenario_seeds_run() {
    let dir = format!("{}/corpus/scenario_parser", env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(eyeballs_sim::json::parse_scenario(&text).is_ok());
        run_scenario_text(&text);
        n += 1;
    }
    assert!(n >= 11);
}

/// Secure racing (HEv3 §6.1): progress of the most recent attempt (its transport handshake
/// done) extends the wait for the next one, never shortens it.
#[test]
fn secure_racing_seeds() {
    let started = |d: &FuzzRace| -> Vec<u128> {
        let race = d.monitor().race();
        race.attempts()
            .iter()
            .map(|a| a.started.since_epoch().as_millis())
            .collect()
    };
    // TCP up 1 ms in, TLS dead: 1 + max(2, 10) = 11 ms is before 250, so IPv4 starts at 250.
    let d = engine("secure-tls-dead").unwrap();
    assert_eq!(started(&d), [0, 250], "{}", d.monitor().history());
    assert_eq!(result(&d), Some(RaceResult::Connected(AttemptId(1))));
    // Progress at the very deadline (250 ms) comes before the timer: 250 + 500 = 750.
    let d = engine("secure-progress-at-deadline").unwrap();
    assert_eq!(started(&d), [0, 750], "{}", d.monitor().history());
}

/// Every committed seed, hand-made or found by the fuzzer, runs under the monitor without
/// breaking a rule (the monitor panics with its log when one is broken).
#[test]
fn every_seed_keeps_the_rules() {
    let mut n = 0;
    for dir in ["engine_inputs", "svcb"] {
        let path = format!("{}/corpus/{dir}", env!("CARGO_MANIFEST_DIR"));
        let mut files: Vec<_> = std::fs::read_dir(&path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in files {
            let data = std::fs::read(&file).unwrap();
            eprintln!("seed {}", file.display());
            match dir {
                "engine_inputs" => {
                    if let Some(c) = EngineCase::decode(&data) {
                        run_engine(&c);
                    }
                }
                _ => {
                    if let Some(c) = SvcbCase::decode(&data) {
                        run_svcb(&c);
                    }
                }
            }
            n += 1;
        }
    }
    assert!(n >= 18, "only {n} seeds");
}

#[test]
fn garbage_and_arbitrary_bytes_are_harmless() {
    for data in [
        &b""[..],
        b"#!eyeballs",
        b"#!eyeballs\nanswer \xff live9 https 0",
        &[0xff; 64],
    ] {
        if let Some(c) = EngineCase::decode(data) {
            run_engine(&c);
        }
        if let Some(c) = SvcbCase::decode(data) {
            run_svcb(&c);
        }
    }
}
