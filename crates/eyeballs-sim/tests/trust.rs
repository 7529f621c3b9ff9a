//! Issue 10 in the scenario format (`docs/scenario-format.md`): `config.destinations`, IPv4-mapped
//! addresses in the input, and error messages for absurd numbers. The test name starts with
//! the item number.

use eyeballs_sim::json::{parse_scenario, trace_to_json};
use serde_json::{Value, json};

fn run(text: &str) -> Value {
    let scenario = parse_scenario(text).unwrap();
    trace_to_json(&eyeballs_sim::run(&scenario).unwrap())
}

fn error(text: &str) -> String {
    parse_scenario(text).unwrap_err().to_string()
}

/// Item 3: `"destinations": "global"` turns on the built-in filter for untrusted names:
/// loopback and private answers (in every form) are never attempted and are listed in the
/// outcome's `skipped` with the registry entry.
#[test]
fn i3_destinations_global_refuses_non_global_answers() {
    let out = run(r#"{
        "host": "example.com", "port": 443,
        "config": {"destinations": "global"},
        "dns": [
            {"type": "AAAA", "answer": ["::1", "::ffff:127.0.0.1", "64:ff9b::a00:1"]},
            {"type": "A", "answer": ["10.0.0.1", "192.168.1.1"]}
        ],
        "network": [{"addr": "*", "result": "connected", "after_ms": 10}]
    }"#);
    assert_eq!(out["events"].as_array().unwrap().len(), 4, "{out:#}");
    assert_eq!(
        out["outcome"],
        json!({
            "result": "failed", "t_ms": 0, "reason": "no addresses",
            "skipped": [
                {"addr": "::1", "port": 443, "reason": "refused by the destination filter: loopback (RFC 4291)"},
                {"addr": "127.0.0.1", "port": 443, "reason": "refused by the destination filter: loopback (RFC 1122)"},
                {"addr": "64:ff9b::a00:1", "port": 443, "reason": "refused by the destination filter: private-use (RFC 1918)"},
                {"addr": "10.0.0.1", "port": 443, "reason": "refused by the destination filter: private-use (RFC 1918)"},
                {"addr": "192.168.1.1", "port": 443, "reason": "refused by the destination filter: private-use (RFC 1918)"}
            ]
        })
    );
    let any = run(r#"{
        "host": "example.com", "port": 443,
        "config": {"destinations": "any"},
        "dns": [{"type": "AAAA", "answer": ["::1"]}, {"type": "A", "answer": []}],
        "network": [{"addr": "*", "result": "connected", "after_ms": 10}]
    }"#);
    assert_eq!(any["outcome"]["result"], "connected");
    let e = error(r#"{"port": 1, "addresses": ["::1"], "config": {"destinations": "local"}}"#);
    assert!(
        e.contains("config.destinations") && e.contains("global"),
        "{e}"
    );
}

/// Item 1: an IPv4-mapped address anywhere in the input is the IPv4 address it maps: in an
/// address list, in an A answer, in a network rule; it appears in the output in IPv4 form.
#[test]
fn i1_mapped_addresses_in_a_scenario_are_ipv4() {
    let out = run(r#"{
        "port": 443,
        "addresses": ["[::ffff:192.0.2.1]:443", "192.0.2.1", "2001:db8::1"],
        "network": [
            {"addr": "2001:db8::1", "result": "refused"},
            {"addr": "::ffff:192.0.2.1", "result": "connected", "after_ms": 5}
        ]
    }"#);
    assert_eq!(
        out["events"],
        json!([
            {"t_ms": 0, "event": "attempt", "id": 0, "addr": "2001:db8::1", "port": 443, "protocol": "tcp"},
            {"t_ms": 0, "event": "failed", "id": 0, "error": "refused"},
            {"t_ms": 0, "event": "attempt", "id": 1, "addr": "192.0.2.1", "port": 443, "protocol": "tcp"},
            {"t_ms": 5, "event": "connected", "id": 1}
        ])
    );
    let out = run(r#"{
        "host": "example.com", "port": 80,
        "dns": [{"type": "A", "answer": ["::ffff:192.0.2.7"]}, {"type": "AAAA", "answer": []}],
        "network": [{"addr": "192.0.2.7", "result": "connected"}]
    }"#);
    assert_eq!(out["outcome"]["addr"], "192.0.2.7", "{out:#}");
}

/// Item 11: absurd numbers are shown compactly in scenario errors, whether the simulator or
/// the engine refuses them.
#[test]
fn i11_huge_numbers_are_shown_compactly() {
    let e = error(r#"{"port": 1, "addresses": ["::1"], "config": {"total_timeout_ms": 1e300}}"#);
    assert_eq!(
        e,
        "field `config.total_timeout_ms`: 1e300 is not a time in milliseconds (a number from 0 \
         to 1e12)"
    );
    let e = error(
        r#"{"port": 1, "addresses": ["::1"], "config": {"connection_attempt_delay_ms": 9e11}}"#,
    );
    assert_eq!(
        e,
        "field `config`: connection_attempt_delay is 9.0e8s, outside the allowed 10ms ..= 2s \
         (RFC 8305 §5: never below 10 ms; the cap is 2 s)"
    );
    let e = error(r#"{"port": 1, "addresses": ["::1"], "cancel_at_ms": -12345678901234567890}"#);
    assert_eq!(
        e,
        "field `cancel_at_ms`: -1.2345678901234567e19 is not a time in milliseconds (a number \
         from 0 to 1e12)"
    );
}

/// Item 9: a zone in a scenario's address list reaches the attempt and is written in the
/// output (`fe80::1%3`); two zones of one address are two endpoints.
#[test]
fn i9_zones_are_kept_in_the_output() {
    let out = run(r#"{
        "addresses": ["[fe80::1%3]:443", "[fe80::1%4]:443", "[fe80::1%3]:443"],
        "network": [{"addr": "*", "result": "refused", "after_ms": 1}]
    }"#);
    let attempts: Vec<&Value> = out["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "attempt")
        .map(|e| &e["addr"])
        .collect();
    assert_eq!(attempts, [&json!("fe80::1%3"), &json!("fe80::1%4")]);
    assert_eq!(out["outcome"]["errors"][1]["addr"], "fe80::1%4");
}

/// A key given twice anywhere in a scenario is refused, naming where: inside an HTTPS
/// record of a DNS answer too (it used to be read as an untyped value that kept the last
/// one). Bad answer lists still name the item.
#[test]
fn duplicate_keys_are_refused_inside_service_records() {
    let e = error(
        r#"{"host": "example.com", "port": 443, "config": {"query_https": true},
            "dns": [{"type": "HTTPS", "answer": [{"priority": 1, "priority": 2}]}]}"#,
    );
    assert!(
        e.contains("dns[0].answer[0]") && e.contains("duplicate field `priority`"),
        "{e}"
    );
    let e = error(
        r#"{"host": "example.com", "port": 443,
            "dns": [{"type": "A", "answer": [{"priority": 1}]}]}"#,
    );
    assert!(
        e.contains("dns[0].answer[0]") && e.contains("expected an address"),
        "{e}"
    );
    let e = error(
        r#"{"host": "example.com", "port": 443, "dns": [{"type": "A", "answer": "192.0.2.1"}]}"#,
    );
    assert!(
        e.contains("dns[0].answer") && e.contains("expected a list"),
        "{e}"
    );
    let e = error(
        r#"{"host": "example.com", "port": 443, "config": {"query_https": true},
            "dns": [{"type": "HTTPS", "answer": [{"priority": 1, "port": "x"}]}]}"#,
    );
    assert!(e.contains("dns[0].answer[0].port"), "{e}");
}
