//! Checklist section (f): how a race ends: success, failure, timeouts, and the caller giving
//! up (RFC 8305 §5, HEv3 §6).

mod common;
use common::*;

use eyeballs::AttemptFailure::Refused;
use eyeballs::RecordType::{A, Aaaa, Https};
use eyeballs::{DnsError, FailReason, RaceResult, SkipReason};

/// F3: an overall deadline cancels everything and reports a timeout; starts continue until
/// then.
#[test]
fn f3_total_timeout() {
    let mut c = config();
    c.total_timeout = Some(dur(600));
    let mut h = H::addrs(c, &["6a", "4a", "6b", "4b"]);
    h.run_until(10_000);
    assert_eq!(
        h.take(),
        lines(&[
            "@0 start 6a/tcp",
            "@250 start 4a/tcp",
            "@500 start 6b/tcp",
            "@600 cancel 6a",
            "@600 cancel 4a",
            "@600 cancel 6b",
            "@600 finished TimedOut"
        ])
    );
}

/// F3: a caller that wakes late, past the total deadline, gets the timeout and no attempt
/// that would only be cancelled in the same call.
#[test]
fn f3_late_wake_past_the_deadline_starts_nothing() {
    let mut c = config();
    c.connection_attempt_delay = dur(100);
    c.total_timeout = Some(dur(150));
    let mut h = H::addrs(c, &["6a", "4a"]);
    h.race.handle_timeout(ms(300)).unwrap();
    let mut actions = vec![];
    while let Some(a) = h.race.poll_action() {
        actions.push(a);
    }
    assert!(
        !actions
            .iter()
            .any(|a| matches!(a, eyeballs::Action::Attempt(_))),
        "{actions:?}"
    );
    assert_eq!(h.race.outcome().unwrap().result, RaceResult::TimedOut);
    assert_eq!(h.race.attempts().len(), 1);
}

/// F4: every DNS answer negative: the race fails at the last answer; with HTTPS still
/// pending it waits.
#[test]
fn f4_every_answer_negative() {
    let mut h = H::with_https(config());
    h.take();
    h.dns_err(30, Aaaa, DnsError::NoData);
    h.dns_err(31, A, DnsError::NxDomain);
    assert_eq!(h.take(), lines(&[]));
    assert!(!h.race.is_finished());
    assert_eq!(h.timeout_ms(), None);
    h.answer(32, HOST, Https, eyeballs::DnsAnswer::Services(vec![]));
    assert_eq!(h.take(), lines(&["@32 finished Failed(NoAddresses)"]));
    assert_eq!(h.race.outcome().unwrap().dns_errors.len(), 3);
}

/// F5: the race fails when the last attempt fails and nothing is left, not before; with A
/// still pending it waits.
#[test]
fn f5_fail_at_last_failure() {
    let mut h = H::addrs(config(), &["6a", "4a"]);
    h.fail(10, "6a", Refused);
    h.fail(30, "4a", Refused);
    assert_eq!(
        h.take(),
        lines(&[
            "@0 start 6a/tcp",
            "@10 start 4a/tcp",
            "@30 finished Failed(AllAttemptsFailed)"
        ])
    );
    let o = h.race.outcome().unwrap();
    assert_eq!(o.attempt_errors.len(), 2);
    assert_eq!(o.at, ms(30));

    let mut h = H::host(config());
    h.take();
    h.dns(0, Aaaa, &["6a"]);
    h.fail(10, "6a", Refused);
    assert!(!h.race.is_finished());
    h.dns(50, A, &["4a"]);
    assert_eq!(h.take(), lines(&["@0 start 6a/tcp", "@50 start 4a/tcp"]));
}

/// The caller gives up: in-flight attempts and queries are cancelled.
#[test]
fn cancel_ends_the_race() {
    let mut h = H::host(config());
    h.take();
    h.dns(0, Aaaa, &["6a"]);
    h.cancel(100);
    assert_eq!(
        h.take(),
        lines(&[
            "@0 start 6a/tcp",
            "@100 cancel 6a",
            "@100 cancel-queries",
            "@100 finished Cancelled"
        ])
    );
}

/// The destination filter refuses addresses, which are reported, never silently dropped.
#[test]
fn destination_filter_reports_refused_addresses() {
    let mut c = config();
    c.destination_filter = Some(std::sync::Arc::new(|ip: std::net::IpAddr| {
        if ip.is_loopback() {
            Err("loopback")
        } else {
            Ok(())
        }
    }));
    let mut h = H::host(c);
    h.take();
    h.dns(0, Aaaa, &["::1"]);
    h.dns(0, A, &["4a"]);
    h.fail(10, "4a", Refused);
    let o = h.race.outcome().unwrap();
    assert_eq!(o.result, RaceResult::Failed(FailReason::AllAttemptsFailed));
    assert_eq!(o.skipped.len(), 1);
    assert_eq!(o.skipped[0].reason, SkipReason::Filtered("loopback"));
    assert!(
        o.to_string()
            .contains("refused by the destination filter: loopback")
    );
}
