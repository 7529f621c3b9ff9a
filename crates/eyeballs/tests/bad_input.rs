//! One test per kind of bad input: each is a typed error, never a panic, and a refused input
//! leaves the race as it was.

mod common;
use common::*;

use eyeballs::RecordType::{A, Aaaa};
use eyeballs::{
    AttemptFailure, AttemptId, AttemptState, ConfigError, DnsAnswer, HostNameError, InputError,
    QueryId, Race, ServiceRecord, StartError, Target, Unconnectable,
};

#[test]
fn result_for_unknown_attempt() {
    let mut h = H::addrs(config(), &["6a"]);
    assert_eq!(
        h.race.handle_connected(ms(1), AttemptId(7)),
        Err(InputError::UnknownAttempt(AttemptId(7)))
    );
    assert_eq!(
        h.race
            .handle_failed(ms(1), AttemptId(7), AttemptFailure::Refused),
        Err(InputError::UnknownAttempt(AttemptId(7)))
    );
    assert_eq!(
        h.race.handle_progress(ms(1), AttemptId(7)),
        Err(InputError::UnknownAttempt(AttemptId(7)))
    );
    // The race is untouched and still works.
    h.ok(2, "6a");
    assert!(h.race.is_finished());
}

#[test]
fn second_result_for_the_same_attempt() {
    let mut h = H::addrs(config(), &["6a", "4a"]);
    h.fail(10, "6a", AttemptFailure::Refused);
    let id = h.id_of("6a");
    let err = h
        .race
        .handle_failed(ms(11), id, AttemptFailure::Refused)
        .unwrap_err();
    assert!(matches!(
        err,
        InputError::AttemptAlreadyEnded {
            state: AttemptState::Failed { .. },
            ..
        }
    ));
    assert!(matches!(
        h.race.handle_connected(ms(11), id),
        Err(InputError::AttemptAlreadyEnded { .. })
    ));
    assert!(!h.race.is_finished());
}

#[test]
fn result_for_an_attempt_cancelled_by_its_timeout() {
    let mut c = config();
    c.attempt_timeout = Some(dur(100));
    let mut h = H::addrs(c, &["6a", "4a"]);
    h.run_until(100);
    let id = h.id_of("6a");
    assert!(matches!(
        h.race.handle_connected(ms(120), id),
        Err(InputError::AttemptAlreadyEnded { .. })
    ));
}

#[test]
fn time_going_backwards() {
    let mut h = H::addrs(config(), &["6a", "4a"]);
    h.run_until(250);
    h.race.handle_timeout(ms(300)).unwrap();
    assert_eq!(
        h.race.handle_timeout(ms(299)),
        Err(InputError::TimeWentBackwards {
            last: ms(300),
            now: ms(299)
        })
    );
    let id = h.id_of("4a");
    assert!(matches!(
        h.race.handle_connected(ms(10), id),
        Err(InputError::TimeWentBackwards { .. })
    ));
    h.ok(301, "4a");
    assert!(h.race.is_finished());
}

#[test]
fn input_after_the_outcome() {
    let mut h = H::addrs(config(), &["6a", "4a"]);
    h.ok(10, "6a");
    assert_eq!(h.race.handle_timeout(ms(20)), Err(InputError::Finished));
    assert_eq!(h.race.cancel(ms(20)), Err(InputError::Finished));
    assert_eq!(
        h.race.handle_connected(ms(20), AttemptId(0)),
        Err(InputError::Finished)
    );
    assert_eq!(h.race.poll_action(), None);
    assert_eq!(h.race.poll_timeout(), None);
}

#[test]
fn answer_to_a_query_never_asked() {
    let mut h = H::host(config());
    assert_eq!(
        h.race
            .handle_dns(ms(1), QueryId(99), DnsAnswer::Addresses(vec![])),
        Err(InputError::UnknownQuery(QueryId(99)))
    );
    let mut h = H::addrs(config(), &["6a"]);
    assert_eq!(
        h.race
            .handle_dns(ms(1), QueryId(0), DnsAnswer::Addresses(vec![])),
        Err(InputError::UnknownQuery(QueryId(0)))
    );
}

#[test]
fn answer_that_does_not_fit_the_query() {
    let mut h = H::host(config());
    let aaaa = h.query_id(HOST, Aaaa);
    assert_eq!(
        h.race
            .handle_dns(ms(1), aaaa, DnsAnswer::Addresses(vec![ip("4a")])),
        Err(InputError::AnswerMismatch {
            id: aaaa,
            asked: Aaaa,
            addr: Some(ip("4a"))
        })
    );
    let a = h.query_id(HOST, A);
    assert!(matches!(
        h.race.handle_dns(
            ms(1),
            a,
            DnsAnswer::Services(vec![ServiceRecord::service(1, ".")])
        ),
        Err(InputError::AnswerMismatch { addr: None, .. })
    ));
    // Nothing changed: the real answers still work.
    h.take();
    h.dns(2, Aaaa, &["6a"]);
    assert_eq!(h.take(), lines(&["@2 start 6a/tcp"]));
}

#[test]
fn unconnectable_literal_addresses() {
    for (addr, why) in [
        ("0.0.0.0:80", Unconnectable::Unspecified),
        ("[::]:80", Unconnectable::Unspecified),
        ("224.0.0.1:80", Unconnectable::Multicast),
        ("[ff02::1]:80", Unconnectable::Multicast),
        ("255.255.255.255:80", Unconnectable::Broadcast),
        ("192.0.2.1:0", Unconnectable::PortZero),
    ] {
        let a = addr.parse().unwrap();
        assert_eq!(
            Race::new(config(), Target::addresses([a]), ms(0)).unwrap_err(),
            StartError::Unconnectable { addr: a, why },
            "{addr}"
        );
    }
    assert_eq!(
        Race::new(config(), Target::addresses([]), ms(0)).unwrap_err(),
        StartError::NoAddresses
    );
    assert_eq!(
        Race::new(config(), Target::host("example.com", 0), ms(0)).unwrap_err(),
        StartError::PortZero
    );
    assert_eq!(
        Race::new(config(), Target::host("", 80), ms(0)).unwrap_err(),
        StartError::HostName(HostNameError::Empty)
    );
}

/// Unconnectable addresses from DNS are not attempted and are reported, not dropped.
#[test]
fn unconnectable_dns_addresses_are_reported() {
    let mut h = H::host(config());
    h.take();
    h.dns(1, Aaaa, &["::", "ff02::1", "6a"]);
    h.dns(1, A, &["255.255.255.255", "0.0.0.0", "224.0.0.9"]);
    h.fail(5, "6a", AttemptFailure::Refused);
    let o = h.race.outcome().unwrap();
    let reasons: Vec<String> = o.skipped.iter().map(|s| s.reason.to_string()).collect();
    assert_eq!(o.skipped.len(), 5, "{reasons:?}");
    assert_eq!(o.attempt_errors.len(), 1);
}

#[test]
fn configuration_out_of_range() {
    type Setter = fn(&mut eyeballs::Config);
    let cases: Vec<(Setter, &str)> = vec![
        (
            |c| c.connection_attempt_delay = dur(9),
            "connection_attempt_delay",
        ),
        (
            |c| c.connection_attempt_delay = dur(2001),
            "connection_attempt_delay",
        ),
        (
            |c| c.max_connection_attempt_delay = dur(3000),
            "max_connection_attempt_delay",
        ),
        (|c| c.resolution_delay = dur(2001), "resolution_delay"),
    ];
    for (set, field) in cases {
        let mut c = config();
        set(&mut c);
        match Race::new(c, Target::host("example.com", 1), ms(0)) {
            Err(StartError::Config(ConfigError::DelayOutOfRange { field: f, .. })) => {
                assert_eq!(f, field)
            }
            other => panic!("{field}: {other:?}"),
        }
    }
    let mut c = config();
    c.first_address_family_count = 0;
    assert_eq!(c.validate(), Err(ConfigError::FamilyCountZero));
    let mut c = config();
    c.max_concurrent_attempts = Some(0);
    assert_eq!(c.validate(), Err(ConfigError::ConcurrencyCapZero));
    let mut c = config();
    c.min_connection_attempt_delay = dur(500);
    c.max_connection_attempt_delay = dur(400);
    assert!(matches!(c.validate(), Err(ConfigError::MinAboveMax { .. })));
    let mut c = config();
    c.total_timeout = Some(dur(0));
    assert_eq!(
        c.validate(),
        Err(ConfigError::ZeroTimeout {
            field: "total_timeout"
        })
    );
    let mut c = config();
    c.protocols.tcp = false;
    assert_eq!(c.validate(), Err(ConfigError::NoProtocols));
    let mut c = config();
    c.alpn = Some(vec![]);
    assert_eq!(c.validate(), Err(ConfigError::EmptyAlpn));
    let mut c = config();
    c.connectivity.ipv4 = false;
    c.connectivity.ipv6 = false;
    assert_eq!(c.validate(), Err(ConfigError::NoConnectivity));
    // Every error names its field or problem in its message.
    let msg = ConfigError::FamilyCountZero.to_string();
    assert!(msg.contains("first_address_family_count"), "{msg}");
}

/// The race's whole state, to check that a refused input changed nothing.
fn state(race: &eyeballs::Race) -> String {
    format!("{race:?}")
}

/// Issue 10, item 7: an answer to a query never asked, given long after a timer is due, is
/// refused before anything happens: the due timer does not fire, time does not move, and
/// the race goes on from where it was (an input at an earlier time is still accepted).
#[test]
fn i7_refused_answer_after_a_due_timer_changes_nothing() {
    let mut h = H::host(config());
    h.take();
    h.dns(10, A, &["4a"]);
    assert_eq!(h.timeout_ms(), Some(60));
    let before = state(&h.race);
    assert_eq!(
        h.race
            .handle_dns(ms(5000), QueryId(99), DnsAnswer::Addresses(vec![])),
        Err(InputError::UnknownQuery(QueryId(99)))
    );
    assert_eq!(state(&h.race), before);
    assert_eq!(h.race.poll_action(), None);
    let aaaa = h.query_id(HOST, Aaaa);
    assert!(matches!(
        h.race
            .handle_dns(ms(5000), aaaa, DnsAnswer::Addresses(vec![ip("4b")])),
        Err(InputError::AnswerMismatch { .. })
    ));
    assert_eq!(state(&h.race), before);
    // Still at 10 ms: AAAA at 20 ms is in time for the Resolution Delay.
    h.dns(20, Aaaa, &["6a"]);
    assert_eq!(h.take(), lines(&["@20 start 6a/tcp"]));
}

/// Issue 10, item 7: a result for an attempt never started, after the total timeout has
/// passed, is `UnknownAttempt` (what is wrong with the input), not `Finished`, and the race
/// has not been finished by it.
#[test]
fn i7_never_started_attempt_after_the_total_timeout_is_unknown() {
    let mut c = config();
    c.total_timeout = Some(dur(100));
    let mut h = H::addrs(c, &["6a"]);
    let before = state(&h.race);
    assert_eq!(
        h.race.handle_connected(ms(500), AttemptId(3)),
        Err(InputError::UnknownAttempt(AttemptId(3)))
    );
    assert_eq!(state(&h.race), before);
    assert!(!h.race.is_finished());
    assert_eq!(h.timeout_ms(), Some(100));
}

/// Issue 10, item 7, the reading for a known attempt that a due timer ends: the input is
/// refused with the error the timer makes it (`Finished` when the timers end the race,
/// `AttemptAlreadyEnded` with the timed-out state when they end the attempt), and the race
/// is left exactly as it was; `handle_timeout(now)` then fires the timers.
#[test]
fn i7_known_attempt_overtaken_by_a_due_timer() {
    // The total timeout (100 ms) passed before the connection at 500 ms.
    let mut c = config();
    c.total_timeout = Some(dur(100));
    let mut h = H::addrs(c, &["6a"]);
    let before = state(&h.race);
    let id = h.id_of("6a");
    assert_eq!(
        h.race.handle_connected(ms(500), id),
        Err(InputError::Finished)
    );
    assert_eq!(h.race.cancel(ms(500)), Err(InputError::Finished));
    assert_eq!(state(&h.race), before);
    h.race.handle_timeout(ms(500)).unwrap();
    assert_eq!(
        h.race.outcome().map(|o| (o.result, o.at)),
        Some((eyeballs::RaceResult::TimedOut, ms(500)))
    );

    // Its attempt timeout (100 ms) passed, another address is left: the attempt ended.
    let mut c = config();
    c.attempt_timeout = Some(dur(100));
    let mut h = H::addrs(c.clone(), &["6a", "4a"]);
    let before = state(&h.race);
    let id = h.id_of("6a");
    let ended = AttemptState::Failed {
        at: ms(150),
        failure: AttemptFailure::TimedOut,
    };
    assert_eq!(
        h.race.handle_connected(ms(150), id),
        Err(InputError::AttemptAlreadyEnded { id, state: ended })
    );
    assert_eq!(
        h.race.handle_progress(ms(150), id),
        Err(InputError::AttemptAlreadyEnded { id, state: ended })
    );
    assert_eq!(state(&h.race), before);
    h.race.handle_timeout(ms(150)).unwrap();
    assert_eq!(h.race.attempts()[0].state, ended);

    // Its attempt timeout passed and nothing is left: the timers end the race.
    let mut h = H::addrs(c, &["6a"]);
    let before = state(&h.race);
    let id = h.id_of("6a");
    assert_eq!(
        h.race.handle_failed(ms(150), id, AttemptFailure::Refused),
        Err(InputError::Finished)
    );
    assert_eq!(state(&h.race), before);

    // A timer due exactly at `now` does not overtake the input (inputs come first).
    let mut c = config();
    c.total_timeout = Some(dur(100));
    let mut h = H::addrs(c, &["6a"]);
    h.ok(100, "6a");
    assert_eq!(
        h.result,
        Some(eyeballs::RaceResult::Connected(AttemptId(0)))
    );
}

/// Issue 10, items 11 and 14: a configuration error shows huge durations compactly (not 20
/// digits of seconds and 9 of nanoseconds), and the Resolution Delay's range is its own (its
/// minimum is 0, not the 10 ms floor of the Connection Attempt Delay).
#[test]
fn i11_i14_configuration_errors_read_well() {
    let mut c = config();
    c.connection_attempt_delay = std::time::Duration::MAX;
    let msg = StartError::Config(c.validate().unwrap_err()).to_string();
    assert_eq!(
        msg,
        "invalid configuration: connection_attempt_delay is 1.8e19s, outside the allowed \
         10ms ..= 2s (RFC 8305 §5: never below 10 ms; the cap is 2 s)"
    );
    let mut c = config();
    c.resolution_delay = dur(2500);
    let msg = c.validate().unwrap_err().to_string();
    assert_eq!(
        msg,
        "resolution_delay is 2.5s, outside the allowed 0ns ..= 2s (the cap is the Maximum \
         Connection Attempt Delay; RFC 8305 §3 recommends 50 ms)"
    );
    let mut c = config();
    c.min_connection_attempt_delay = dur(1500);
    c.max_connection_attempt_delay = dur(400);
    assert_eq!(
        c.validate().unwrap_err().to_string(),
        "min_connection_attempt_delay (1.5s) is above max_connection_attempt_delay (400ms)"
    );
}
