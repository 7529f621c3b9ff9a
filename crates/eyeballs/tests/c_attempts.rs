//! Checklist section (c): connection attempts and their pacing (RFC 8305 §5, HEv3 §6), plus
//! the engine issue's pacing rules 1-6.

mod common;
use common::*;

use std::sync::Arc;

use eyeballs::AttemptFailure::{Handshake, Refused, Unreachable};
use eyeballs::RecordType::{A, Aaaa};
use eyeballs::{
    Action, CancelReason, Config, ConfigError, PathInfo, Protocols, RaceResult, RttEstimate,
    ServiceRecord,
};

/// C1 / C4: no simultaneous starts; one every Connection Attempt Delay.
#[test]
fn c1_c4_one_start_per_delay() {
    let mut h = H::addrs(config(), &["6a", "6b", "4a", "4b"]);
    h.run_until(10_000);
    assert_eq!(
        h.starts(),
        lines(&[
            "@0 start 6a/tcp",
            "@250 start 4a/tcp",
            "@500 start 6b/tcp",
            "@750 start 4b/tcp"
        ])
    );
}

/// C2: earlier attempts keep running when a new one starts, and can still win.
#[test]
fn c2_earlier_attempts_keep_running() {
    let mut h = H::addrs(config(), &["6a", "4a"]);
    h.ok(400, "6a");
    assert_eq!(
        h.take(),
        lines(&[
            "@0 start 6a/tcp",
            "@250 start 4a/tcp",
            "@400 cancel 4a",
            "@400 finished Connected(AttemptId(0))"
        ])
    );
}

/// C3: on success the others are cancelled and nothing else starts.
#[test]
fn c3_cancel_the_rest_on_success() {
    let mut h = H::addrs(config(), &["6a", "4a", "6b"]);
    h.ok(300, "4a");
    h.take();
    assert_eq!(h.race.poll_timeout(), None);
    assert!(h.race.is_finished());
    let mut h = H::addrs(config(), &["6a", "4a", "6b"]);
    h.ok(300, "4a");
    assert_eq!(
        h.take(),
        lines(&[
            "@0 start 6a/tcp",
            "@250 start 4a/tcp",
            "@300 cancel 6a",
            "@300 finished Connected(AttemptId(1))"
        ])
    );
}

fn rtt_config(srtt: u64, rttvar: u64) -> Config {
    let mut c = config();
    c.path_info = Some(Arc::new(move |_| PathInfo {
        rtt: Some(RttEstimate {
            srtt: dur(srtt),
            rttvar: dur(rttvar),
        }),
        ..PathInfo::default()
    }));
    c
}

/// C5: the delay follows the RFC 6298 RTO from history, clamped to 100 ms ..= 2 s.
#[test]
fn c5_delay_from_rtt_history() {
    let mut h = H::addrs(rtt_config(40, 10), &["6a", "4a"]);
    h.run_until(10_000);
    assert_eq!(h.starts(), lines(&["@0 start 6a/tcp", "@100 start 4a/tcp"]));
    let mut h = H::addrs(rtt_config(600, 200), &["6a", "4a"]);
    h.run_until(10_000);
    assert_eq!(
        h.starts(),
        lines(&["@0 start 6a/tcp", "@1400 start 4a/tcp"])
    );
}

/// C6: the lower bound: a 5 ms RTT gives the 100 ms minimum; a configured minimum may go down
/// to the 10 ms floor but not below it.
#[test]
fn c6_lower_bound() {
    let mut h = H::addrs(rtt_config(5, 0), &["6a", "4a"]);
    h.run_until(10_000);
    assert_eq!(h.starts(), lines(&["@0 start 6a/tcp", "@100 start 4a/tcp"]));

    let mut c = rtt_config(1, 0);
    c.min_connection_attempt_delay = dur(10);
    let mut h = H::addrs(c.clone(), &["6a", "4a"]);
    h.run_until(10_000);
    assert_eq!(h.starts(), lines(&["@0 start 6a/tcp", "@10 start 4a/tcp"]));

    c.min_connection_attempt_delay = dur(9);
    assert!(matches!(
        c.validate(),
        Err(ConfigError::DelayOutOfRange {
            field: "min_connection_attempt_delay",
            ..
        })
    ));
}

/// C7: the upper bound: a 3.5 s RTO is capped at 2 s.
#[test]
fn c7_upper_bound() {
    let mut h = H::addrs(rtt_config(3500, 0), &["6a", "4a"]);
    h.run_until(10_000);
    assert_eq!(
        h.starts(),
        lines(&["@0 start 6a/tcp", "@2000 start 4a/tcp"])
    );
}

/// C8: the Next Connection Attempt Timer is armed after each start and gone at the end of
/// the list.
#[test]
fn c8_timer_cancelled_at_end_of_list() {
    let mut h = H::addrs(config(), &["6a", "4a"]);
    assert_eq!(h.timeout_ms(), Some(250));
    h.run_until(250);
    assert_eq!(h.starts(), lines(&["@0 start 6a/tcp", "@250 start 4a/tcp"]));
    assert_eq!(h.timeout_ms(), None);
}

/// C9 / pacing rule 2: the failure of the most recent attempt starts the next at once.
#[test]
fn c9_failure_starts_next_at_once() {
    let mut h = H::addrs(config(), &["6a", "4a"]);
    h.fail(20, "6a", Refused);
    assert_eq!(h.starts(), lines(&["@0 start 6a/tcp", "@20 start 4a/tcp"]));
}

/// Ambiguity 3 pinned: a failure 3 ms after the start still starts the next attempt at once
/// (the 10 ms floor governs the Connection Attempt Delay, not failure-driven starts).
#[test]
fn c9_ambiguity3_failure_start_is_immediate_even_within_10ms() {
    let mut h = H::addrs(config(), &["6a", "4a"]);
    h.fail(3, "6a", Unreachable);
    assert_eq!(h.starts(), lines(&["@0 start 6a/tcp", "@3 start 4a/tcp"]));
}

/// Pacing rule 2: the failure of an older attempt does not bring the next one forward.
#[test]
fn older_failure_does_not_advance_the_next_start() {
    let mut h = H::addrs(config(), &["6a", "4a", "6b"]);
    h.run_until(250);
    h.fail(300, "6a", Refused);
    h.run_until(10_000);
    assert_eq!(
        h.starts(),
        lines(&["@0 start 6a/tcp", "@250 start 4a/tcp", "@500 start 6b/tcp"])
    );
}

/// C10: partial progress extends the timer (never shortens it).
#[test]
fn c10_progress_extends_the_timer() {
    // Progress at 60 ms: 60 + 2 x 60 = 180 < 250, so the timer stays at 250.
    let mut h = H::addrs(config(), &["6a", "4a"]);
    h.progress(60, "6a");
    assert_eq!(h.timeout_ms(), Some(250));
    // Progress at 240 ms: the TLS handshake gets 2 x 240 ms more: the next start moves to 720.
    let mut h = H::addrs(config(), &["6a", "4a"]);
    h.progress(240, "6a");
    assert_eq!(h.timeout_ms(), Some(720));
    h.ok(700, "6a");
    assert_eq!(
        h.take(),
        lines(&["@0 start 6a/tcp", "@700 finished Connected(AttemptId(0))"])
    );
}

/// C11: every endpoint of the first service group goes before the next group; earlier
/// attempts keep running.
#[test]
fn c11_service_groups_in_order() {
    let mut h = H::with_https(config());
    h.take();
    h.dns(10, Aaaa, &[]);
    h.dns(10, A, &[]);
    h.https(
        10,
        vec![
            hints(1, "p1.", &["6a"], &["4a"]),
            hints(2, "p2.", &["6b"], &[]),
        ],
    );
    h.run_until(10_000);
    assert_eq!(
        h.starts(),
        lines(&[
            "@10 start 6a/tcp alpn=",
            "@260 start 4a/tcp alpn=",
            "@510 start 6b/tcp alpn="
        ])
    );
    assert!(!h.log.iter().any(|l| l.contains("cancel ")));
}

/// C12 / E4 (ambiguity 4): the most preferred group first; with QUIC and TCP each address is
/// tried over QUIC, then TCP, one delay apart, before the next address.
#[test]
fn c12_e4_ambiguity4_quic_then_tcp_per_address() {
    let mut c = config();
    c.protocols = Protocols {
        tcp: true,
        quic: true,
    };
    let mut h = H::with_https(c.clone());
    h.take();
    h.https(
        0,
        vec![ServiceRecord::service(1, ".").with_alpn(["h3", "h2"])],
    );
    h.dns(0, Aaaa, &["6a"]);
    h.dns(0, A, &["4a"]);
    h.run_until(10_000);
    assert_eq!(
        h.starts(),
        lines(&[
            "@0 start 6a/quic alpn=h3,h2",
            "@250 start 6a/tcp alpn=h3,h2",
            "@500 start 4a/quic alpn=h3,h2",
            "@750 start 4a/tcp alpn=h3,h2"
        ])
    );
    // With grouping by protocol, every QUIC endpoint goes first.
    c.group_by_protocol = true;
    let mut h = H::with_https(c);
    h.https(
        0,
        vec![ServiceRecord::service(1, ".").with_alpn(["h3", "h2"])],
    );
    h.dns(0, Aaaa, &["6a"]);
    h.dns(0, A, &["4a"]);
    h.ok(600, "4a");
    assert_eq!(
        h.starts(),
        lines(&[
            "@0 start 6a/quic alpn=h3,h2",
            "@250 start 4a/quic alpn=h3,h2",
            "@500 start 6a/tcp alpn=h3,h2"
        ])
    );
}

/// C14 test 1: a late A answer goes next (interleaving), ahead of the remaining IPv6.
#[test]
fn c14_late_a_answer_goes_next() {
    let mut h = H::host(config());
    h.take();
    h.dns(0, Aaaa, &["6a", "6b", "6c"]);
    h.dns(100, A, &["4a"]);
    h.run_until(600);
    assert_eq!(
        h.starts(),
        lines(&["@0 start 6a/tcp", "@250 start 4a/tcp", "@500 start 6b/tcp"])
    );
}

/// C14 test 2: an attempted endpoint removed from DNS keeps running; an unattempted one is
/// dropped.
#[test]
fn c14_removed_endpoints() {
    let mut h = H::host(config());
    h.take();
    h.dns(0, Aaaa, &["6a", "6b"]);
    h.dns(100, Aaaa, &["6c"]);
    h.run_until(10_000);
    assert_eq!(h.starts(), lines(&["@0 start 6a/tcp", "@250 start 6c/tcp"]));
    assert!(!h.log.iter().any(|l| l.contains("cancel")));
}

/// C14 test 3 (a MAY we do not take): a DNS update never fires the timer early.
#[test]
fn c14_dns_update_does_not_fire_timer_early() {
    let mut h = H::host(config());
    h.take();
    h.dns(0, Aaaa, &["6a"]);
    h.dns(50, A, &["4a"]);
    h.run_until(249);
    assert_eq!(h.starts(), lines(&["@0 start 6a/tcp"]));
    h.run_until(250);
    assert_eq!(h.starts(), lines(&["@0 start 6a/tcp", "@250 start 4a/tcp"]));
}

/// Pacing rule 2: an address that arrives after the most recent attempt has run for the
/// delay starts at once; one that arrives before waits for the delay.
#[test]
fn late_address_starts_at_once_when_delay_passed() {
    let mut h = H::host(config());
    h.take();
    h.dns(0, Aaaa, &["6a"]);
    h.dns(400, A, &["4a"]);
    assert_eq!(h.starts(), lines(&["@0 start 6a/tcp", "@400 start 4a/tcp"]));
    // ... and after the most recent attempt failed.
    let mut h = H::host(config());
    h.take();
    h.dns(0, Aaaa, &["6a"]);
    h.fail(20, "6a", Refused);
    h.dns(100, A, &["4a"]);
    assert_eq!(h.starts(), lines(&["@0 start 6a/tcp", "@100 start 4a/tcp"]));
}

/// Simultaneous events: an attempt that connects exactly when the next is due prevents it.
#[test]
fn connect_at_the_due_instant_prevents_the_next_start() {
    let mut h = H::addrs(config(), &["6a", "4a"]);
    h.ok(250, "6a");
    assert_eq!(
        h.take(),
        lines(&["@0 start 6a/tcp", "@250 finished Connected(AttemptId(0))"])
    );
}

/// C15: RFC 6555 pacing: the first address of the other family goes second.
#[test]
fn c15_ambiguity7_rfc6555_pacing() {
    let mut c = config();
    c.connection_attempt_delay = dur(200);
    let mut h = H::addrs(c, &["6a", "6b", "4a"]);
    h.run_until(10_000);
    assert_eq!(
        h.starts(),
        lines(&["@0 start 6a/tcp", "@200 start 4a/tcp", "@400 start 6b/tcp"])
    );
}

/// C16: delays below 10 ms are rejected; anything from 10 ms to 2 s is accepted.
#[test]
fn c16_delay_validation() {
    let mut c = config();
    c.connection_attempt_delay = dur(9);
    assert!(matches!(
        c.validate(),
        Err(ConfigError::DelayOutOfRange {
            field: "connection_attempt_delay",
            ..
        })
    ));
    for ok in [10, 99, 100, 2000] {
        c.connection_attempt_delay = dur(ok);
        assert_eq!(c.validate(), Ok(()), "{ok} ms");
    }
    c.connection_attempt_delay = dur(2001);
    assert!(c.validate().is_err());
}

/// Pacing rule 3: a single address is waited for as long as it takes.
#[test]
fn single_address_waits_forever() {
    let mut h = H::addrs(config(), &["6a"]);
    assert_eq!(h.timeout_ms(), None);
    h.ok(3_600_000, "6a");
    assert_eq!(
        h.result,
        Some(RaceResult::Connected(eyeballs::AttemptId(0)))
    );
}

/// Pacing rule 3: the per-attempt timeout counts as a failure (the most recent attempt's
/// timeout starts the next at once).
#[test]
fn attempt_timeout_counts_as_failure() {
    let mut c = config();
    c.attempt_timeout = Some(dur(100));
    let mut h = H::addrs(c, &["6a", "4a"]);
    h.run_until(10_000);
    assert_eq!(
        h.take(),
        lines(&[
            "@0 start 6a/tcp",
            "@100 cancel 6a",
            "@100 start 4a/tcp",
            "@200 cancel 4a",
            "@200 finished Failed(AllAttemptsFailed)"
        ])
    );
    let errors = &h.race.outcome().unwrap().attempt_errors;
    assert_eq!(errors.len(), 2);
    assert!(
        errors
            .iter()
            .all(|e| e.failure == eyeballs::AttemptFailure::TimedOut)
    );
}

/// Pacing rule 6: a concurrency cap delays a start until an attempt ends.
#[test]
fn concurrency_cap_delays_starts() {
    let mut c = config();
    c.max_concurrent_attempts = Some(2);
    let mut h = H::addrs(c, &["6a", "4a", "6b"]);
    h.run_until(600);
    assert_eq!(h.starts(), lines(&["@0 start 6a/tcp", "@250 start 4a/tcp"]));
    // An older attempt ends: the start, already due, happens now.
    h.fail(700, "6a", Refused);
    assert_eq!(
        h.starts(),
        lines(&["@0 start 6a/tcp", "@250 start 4a/tcp", "@700 start 6b/tcp"])
    );
}

/// Pacing rule 4: cancels happen in start order, at the moment of the win.
#[test]
fn winner_cancels_others_in_start_order() {
    let mut h = H::addrs(config(), &["6a", "4a", "6b", "4b"]);
    h.ok(800, "6b");
    let cancels: Vec<&String> = h.log.iter().filter(|l| l.contains("cancel")).collect();
    assert_eq!(
        cancels,
        ["@800 cancel 6a", "@800 cancel 4a", "@800 cancel 4b"]
    );
    // The cancel actions say why.
    let mut h = H::addrs(config(), &["6a", "4a"]);
    h.run_until(250);
    h.race.handle_connected(ms(260), h.id_of("4a")).unwrap();
    assert_eq!(
        h.race.poll_action(),
        Some(Action::Cancel {
            id: h.id_of("6a"),
            reason: CancelReason::LostRace
        })
    );
}

/// F1 (checklist variant): a TLS-level failure of an older attempt does not cancel the
/// running newer one. Unlike the checklist's variant, the next start stays at its delay
/// (pacing rule 2 of the engine issue: an older failure does not bring it forward).
#[test]
fn f1_failures_never_cancel_others() {
    let mut h = H::addrs(config(), &["6a", "4a", "6b"]);
    h.run_until(250);
    h.fail(300, "6a", Handshake);
    h.run_until(500);
    assert_eq!(
        h.take(),
        lines(&["@0 start 6a/tcp", "@250 start 4a/tcp", "@500 start 6b/tcp"])
    );
}
