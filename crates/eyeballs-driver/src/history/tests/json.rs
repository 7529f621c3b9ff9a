//! The history file's format (feature `serde`): round trips, ages across runs, and bad
//! files refused with the problem named.

use super::*;
use crate::history::json::{parse, unix_ms};
use std::time::SystemTime;

#[test]
fn round_trip() {
    let history = SharedHistory::new(HistoryConfig::default(), HOME);
    let rich = HistoryRecord {
        network: CAFE,
        addr: "192.0.2.1".parse().unwrap(),
        rtt: Some(RttEstimate {
            srtt: Duration::from_nanos(20_500_001),
            rttvar: Duration::from_millis(10),
        }),
        success_age: Some(Duration::from_millis(1_000)),
        failures: 0,
        broken_age: None,
        age: Duration::from_millis(1_000),
    };
    history.import(vec![record(HOME, 10), rich]);
    let json = history.to_json();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["version"], 1);
    assert_eq!(value["entries"][0]["addr"], "2001:db8::1");
    let loaded = SharedHistory::default();
    loaded.load_json(&json).unwrap();
    let (a, b) = (history.export(), loaded.export());
    assert_eq!(a.len(), 2);
    for (a, b) in a.iter().zip(&b) {
        assert_eq!(
            (a.network, a.addr, a.rtt, a.failures),
            (b.network, b.addr, b.rtt, b.failures)
        );
        // Ages are carried over (give or take the time the test takes).
        assert!(
            b.age.abs_diff(a.age) < Duration::from_secs(5),
            "{a:?} {b:?}"
        );
        assert_eq!(a.broken_age.is_some(), b.broken_age.is_some());
    }
    assert!(loaded.with_network(CAFE).path_info(rich.addr).used_before);
}

#[test]
fn ages_grow_by_the_time_since_the_file_was_written() {
    let written = SystemTime::now() - Duration::from_secs(400);
    let json = format!(
        r#"{{"version": 1, "written_unix_ms": {}, "entries": [
            {{"network": 1, "addr": "2001:db8::1", "age_ms": 0, "failures": 1, "broken_age_ms": 0}}]}}"#,
        unix_ms(written)
    );
    let records = parse(&json, SystemTime::now()).unwrap();
    let age = records[0].broken_age.unwrap();
    assert!(
        age >= Duration::from_secs(400) && age < Duration::from_secs(405),
        "{age:?}"
    );
    // The broken mark (5 minutes) has aged out by the time the file is read again.
    let h = SharedHistory::new(HistoryConfig::default(), HOME);
    h.load_json(&json).unwrap();
    assert!(!h.path_info(v6()).broken);
    // A file from the future (a clock set back) counts as written now.
    let future = json.replace(
        &unix_ms(written).to_string(),
        &(unix_ms(SystemTime::now()) + 60_000).to_string(),
    );
    assert_eq!(
        parse(&future, SystemTime::now()).unwrap()[0].age,
        Duration::ZERO
    );
}

#[test]
fn bad_files_are_refused_with_the_problem_named() {
    let h = SharedHistory::default();
    let e = h.load_json("{ not json").unwrap_err();
    assert!(
        matches!(e, HistoryFileError::NotJson { line: 1, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("not JSON"), "{e}");

    let e = h.load_json(r#"{"entries": []}"#).unwrap_err();
    assert_eq!(e, HistoryFileError::UnsupportedVersion { found: None });
    let e = h
        .load_json(r#"{"version": "1", "entries": []}"#)
        .unwrap_err();
    assert_eq!(
        e,
        HistoryFileError::UnsupportedVersion {
            found: Some("\"1\"".into())
        }
    );
    assert!(e.to_string().contains("reads version 1"), "{e}");

    let entry = |addr: &str| {
        format!(
            r#"{{"version": 1, "entries": [
                {{"network": 1, "addr": "192.0.2.1", "age_ms": 5}},
                {{"network": 1, "addr": {addr}, "age_ms": 5}}]}}"#
        )
    };
    for addr in [r#""not-an-ip""#, r#""192.0.2.1:443""#, "17"] {
        let e = h.load_json(&entry(addr)).unwrap_err();
        assert_eq!(
            e,
            HistoryFileError::BadAddress {
                entry: 1,
                value: addr.into()
            }
        );
        assert!(e.to_string().contains("entries[1].addr"), "{e}");
    }
    assert!(h.is_empty(), "nothing is loaded from a bad file");

    let cases = [
        (
            r#"{"version": 1, "entries": [{"network": 1, "addr": "::1", "age_ms": -5}]}"#,
            "entries[0].age_ms",
        ),
        (
            r#"{"version": 1, "entries": [{"network": 1, "addr": "::1"}]}"#,
            "entries[0].age_ms",
        ),
        (
            r#"{"version": 1, "entries": [{"network": -1, "addr": "::1", "age_ms": 1}]}"#,
            "entries[0].network",
        ),
        (
            r#"{"version": 1, "entries": [{"network": 1, "addr": "::1", "age_ms": 1, "agee_ms": 1}]}"#,
            "entries[0].agee_ms",
        ),
        (
            r#"{"version": 1, "entries": [{"network": 1, "addr": "::1", "age_ms": 1, "rtt": {"srtt_ms": 1}}]}"#,
            "entries[0].rtt.rttvar_ms",
        ),
        (r#"{"version": 1, "entries": {}}"#, "entries"),
        (r#"{"version": 1}"#, "(top level).entries"),
    ];
    for (json, path) in cases {
        match h.load_json(json) {
            Err(HistoryFileError::BadField { path: p, problem }) => {
                assert_eq!(p, path, "{json}: {problem}")
            }
            other => panic!("{json}: {other:?}"),
        }
    }
    assert!(h.load_json("[]").is_err());
    assert!(h.is_empty());
}

/// A key given twice is refused, as the scenario parser refuses it: silently keeping
/// one of the two values would hide a hand edit gone wrong.
#[test]
fn duplicate_keys_are_refused() {
    let h = SharedHistory::default();
    let entry = r#"{"network": 1, "addr": "::1", "age_ms": 1}"#;
    let cases = [
        (
            format!(r#"{{"version": 1, "entries": [], "entries": [{entry}]}}"#),
            "(top level)",
            "`entries`",
        ),
        (
            format!(r#"{{"version": 2, "version": 1, "entries": [{entry}]}}"#),
            "(top level)",
            "`version`",
        ),
        (
            r#"{"version": 1, "entries": [{"network": 1, "addr": "::1", "addr": "::2", "age_ms": 1}]}"#
                .to_string(),
            "entries[0]",
            "`addr`",
        ),
        (
            format!(
                r#"{{"version": 1, "entries": [{entry}, {{"network": 1, "addr": "::2", "age_ms": 1, "rtt": {{"srtt_ms": 1, "rttvar_ms": 1, "srtt_ms": 2}}}}]}}"#
            ),
            "entries[1].rtt",
            "`srtt_ms`",
        ),
    ];
    for (json, path, key) in cases {
        match h.load_json(&json) {
            Err(HistoryFileError::BadField { path: p, problem }) => {
                assert_eq!(p, path, "{json}: {problem}");
                assert!(
                    problem.starts_with(&format!("duplicate field {key}")),
                    "{json}: {problem}"
                );
            }
            other => panic!("{json}: {other:?}"),
        }
    }
    assert!(h.is_empty(), "nothing is loaded from a bad file");
}
