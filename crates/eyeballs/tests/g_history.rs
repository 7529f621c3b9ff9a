//! Checklist section (g) and the history issue: what the engine remembers between races, all
//! in virtual time.

mod common;
use common::*;

use eyeballs::history::{
    BROKEN_LIFETIME, HISTORY_LIFETIME, History, HistoryConfig, HistoryRecord, NetworkId,
};
use eyeballs::{
    AttemptFailure, Config, MAX_CONNECTION_ATTEMPT_DELAY, MIN_CONNECTION_ATTEMPT_DELAY, PathInfo,
    RttEstimate,
};
use proptest::prelude::*;

const HOME: NetworkId = NetworkId(1);
const CAFE: NetworkId = NetworkId(2);

/// Starts a race at `t0` (ms) with `history`'s view of `network`, on 6a + 4a.
fn race_at(history: &History, network: NetworkId, t0: u64) -> H {
    let mut c = config();
    c.path_info = Some(history.snapshot(network, ms(t0)).into_provider());
    H::new_at(c, &["6a", "4a"], t0)
}

/// A first race on `network` in which IPv6 hangs and IPv4 wins 20 ms after it starts.
fn ipv6_hangs(history: &mut History, network: NetworkId, t0: u64) {
    let mut h = race_at(history, network, t0);
    h.ok(t0 + 270, "4a");
    assert_eq!(h.attempt_name(h.race.attempts()[0].id), "6a");
    history.learn(network, &h.race);
}

/// The first test: the second race to a host whose IPv6 hung starts IPv4 first and
/// connects in one RTT.
#[test]
fn second_race_after_broken_ipv6_goes_ipv4_first() {
    let mut history = History::default();
    ipv6_hangs(&mut history, HOME, 0);
    let info = history.path_info(HOME, ip("6a"), ms(1000));
    assert!(info.broken);
    let mut h = race_at(&history, HOME, 1000);
    h.ok(1020, "4a");
    assert_eq!(
        h.take(),
        lines(&[
            "@1000 start 4a/tcp",
            "@1020 finished Connected(AttemptId(0))"
        ])
    );
    // Had IPv4 not answered, IPv6 would have been raced second, after IPv4's RTT-derived
    // delay: SRTT 20 ms, RTTVAR 10 ms -> RTO 60 ms -> the 100 ms minimum.
    let mut h = race_at(&history, HOME, 1000);
    h.run_until(1100);
    assert_eq!(
        h.take(),
        lines(&["@1000 start 4a/tcp", "@1100 start 6a/tcp"])
    );
}

/// The same by name: the AAAA answer (a broken path) arrives before A. The race waits for A
/// (up to the Resolution Delay) and starts IPv4 first; without A it goes ahead with IPv6 when
/// the delay ends.
#[test]
fn by_name_a_broken_aaaa_answer_waits_for_a() {
    let mut history = History::default();
    ipv6_hangs(&mut history, HOME, 0);
    let mut c = config();
    c.path_info = Some(history.snapshot(HOME, ms(1000)).into_provider());
    let mut h = H::new(c.clone(), eyeballs::Target::host(HOST, PORT));
    h.take();
    h.dns(1, eyeballs::RecordType::Aaaa, &["6a"]);
    assert_eq!(h.timeout_ms(), Some(51));
    h.dns(2, eyeballs::RecordType::A, &["4a"]);
    h.ok(22, "4a");
    assert_eq!(
        h.take(),
        lines(&["@2 start 4a/tcp", "@22 finished Connected(AttemptId(0))"])
    );
    // A never answers: IPv6 when the Resolution Delay ends.
    let mut h = H::new(c, eyeballs::Target::host(HOST, PORT));
    h.take();
    h.dns(1, eyeballs::RecordType::Aaaa, &["6a"]);
    h.run_until(51);
    assert_eq!(h.take(), lines(&["@51 start 6a/tcp"]));
}

/// The second test: a recovered IPv6 path wins again once its mark has aged, and the
/// success clears the mark.
#[test]
fn recovered_ipv6_wins_again_after_the_mark_ages() {
    let mut history = History::default();
    ipv6_hangs(&mut history, HOME, 0);
    let later = 270 + BROKEN_LIFETIME.as_millis() as u64;
    assert!(!history.path_info(HOME, ip("6a"), ms(later)).broken);
    let mut h = race_at(&history, HOME, later);
    assert_eq!(h.starts(), [format!("@{later} start 6a/tcp")]);
    h.ok(later + 15, "6a");
    history.learn(HOME, &h.race);
    let info = history.path_info(HOME, ip("6a"), ms(later + 16));
    assert!(!info.broken && info.used_before);
    assert_eq!(info.rtt.unwrap().srtt, dur(15));
}

/// Convergence: a success clears a broken mark at once.
#[test]
fn success_clears_the_mark() {
    let mut history = History::default();
    history.record_broken(HOME, ip("6a"), true, ms(0));
    assert!(history.path_info(HOME, ip("6a"), ms(1)).broken);
    history.record_success(HOME, ip("6a"), dur(30), ms(2));
    assert!(!history.path_info(HOME, ip("6a"), ms(3)).broken);
}

/// The fourth test (checklist G1): different network identities never see each
/// other's history; flushing works per network.
#[test]
fn networks_never_share_history() {
    let mut history = History::default();
    ipv6_hangs(&mut history, HOME, 0);
    assert_eq!(
        history.path_info(CAFE, ip("6a"), ms(1000)),
        PathInfo::default()
    );
    let h = race_at(&history, CAFE, 1000);
    assert_eq!(h.race.attempts()[0].addr.ip(), ip("6a"));
    assert_eq!(history.snapshot(CAFE, ms(1000)), Default::default());
    // Back on HOME (re-identified): the history is used again.
    assert!(history.path_info(HOME, ip("6a"), ms(1000)).broken);
    history.keep_only(CAFE);
    assert!(history.is_empty());
    ipv6_hangs(&mut history, HOME, 0);
    history.forget_network(HOME);
    assert!(history.is_empty());
}

/// Entries expire after the lifetime.
#[test]
fn entries_expire() {
    let mut history = History::default();
    history.record_success(HOME, ip("4a"), dur(20), ms(0));
    let life = HISTORY_LIFETIME.as_millis() as u64;
    assert!(history.path_info(HOME, ip("4a"), ms(life)).used_before);
    assert_eq!(
        history.path_info(HOME, ip("4a"), ms(life + 1)),
        PathInfo::default()
    );
    history.purge(ms(life + 1));
    assert!(history.is_empty());
}

/// Capacity is bounded; the entry updated least recently is evicted.
#[test]
fn capacity_evicts_least_recently_updated() {
    let mut history = History::new(HistoryConfig {
        capacity: 2,
        ..HistoryConfig::default()
    });
    history.record_success(HOME, ip("4a"), dur(10), ms(0));
    history.record_success(HOME, ip("4b"), dur(10), ms(1));
    history.record_success(HOME, ip("4a"), dur(10), ms(2)); // 4a is now the newer one
    history.record_success(HOME, ip("4c"), dur(10), ms(3));
    assert_eq!(history.len(), 2);
    assert!(history.path_info(HOME, ip("4a"), ms(4)).used_before);
    assert!(!history.path_info(HOME, ip("4b"), ms(4)).used_before);
    assert!(history.path_info(HOME, ip("4c"), ms(4)).used_before);
}

/// Attempts cancelled by the caller or a total timeout teach nothing; a loser that started
/// after the winner is not marked.
#[test]
fn only_real_signals_are_learned() {
    let mut history = History::default();
    let mut h = race_at(&history, HOME, 0);
    h.cancel(100);
    history.learn(HOME, &h.race);
    assert!(history.is_empty());

    let mut h = race_at(&history, HOME, 0);
    h.run_until(250);
    h.ok(260, "6a"); // the older attempt wins; 4a (started later) lost while pending
    history.learn(HOME, &h.race);
    assert!(!history.path_info(HOME, ip("4a"), ms(300)).broken);
    assert!(history.path_info(HOME, ip("6a"), ms(300)).used_before);

    let mut h = race_at(&history, HOME, 1000);
    h.fail(1010, "6a", AttemptFailure::Refused);
    history.learn(HOME, &h.race);
    assert!(history.path_info(HOME, ip("6a"), ms(1011)).broken);
}

/// History survives a trip through export/import (another process, another clock).
#[test]
fn export_import_round_trip() {
    let mut history = History::default();
    ipv6_hangs(&mut history, HOME, 0);
    let records: Vec<HistoryRecord> = history.export(ms(1000));
    assert_eq!(records.len(), 2);
    let mut other = History::default();
    other.import(ms(50_000), records);
    assert_eq!(
        other.path_info(HOME, ip("6a"), ms(50_000)),
        history.path_info(HOME, ip("6a"), ms(1000))
    );
    assert_eq!(
        other.path_info(HOME, ip("4a"), ms(50_000)),
        history.path_info(HOME, ip("4a"), ms(1000))
    );
}

proptest! {
    /// The third test: RTT-derived delays stay inside the bounds, whatever the
    /// samples (10 ms floor, 100 ms recommended minimum, 2 s cap by default).
    #[test]
    fn rtt_derived_delays_stay_in_bounds(samples in proptest::collection::vec(0u64..10_000, 1..20)) {
        let mut history = History::default();
        for (i, s) in samples.iter().enumerate() {
            history.record_success(HOME, ip("6a"), dur(*s), ms(i as u64));
        }
        let info = history.path_info(HOME, ip("6a"), ms(100));
        let delay = Config::default().attempt_delay_for(&info);
        prop_assert!(delay >= MIN_CONNECTION_ATTEMPT_DELAY);
        prop_assert!(delay <= MAX_CONNECTION_ATTEMPT_DELAY);
    }

    /// And with the minimum lowered to the floor, never below 10 ms.
    #[test]
    fn delays_never_below_the_floor(srtt in 0u64..50, rttvar in 0u64..10) {
        let mut c = Config::default();
        c.min_connection_attempt_delay = eyeballs::CONNECTION_ATTEMPT_DELAY_FLOOR;
        let info = PathInfo {
            rtt: Some(RttEstimate { srtt: dur(srtt), rttvar: dur(rttvar) }),
            ..PathInfo::default()
        };
        prop_assert!(c.attempt_delay_for(&info) >= eyeballs::CONNECTION_ATTEMPT_DELAY_FLOOR);
    }
}

/// RFC 6298 §2: the first sample sets SRTT = R, RTTVAR = R/2; later ones smooth with 1/8 and
/// 1/4.
#[test]
fn rfc6298_estimator() {
    let mut history = History::default();
    history.record_success(HOME, ip("4a"), dur(100), ms(0));
    let e = history.path_info(HOME, ip("4a"), ms(0)).rtt.unwrap();
    assert_eq!((e.srtt, e.rttvar), (dur(100), dur(50)));
    history.record_success(HOME, ip("4a"), dur(20), ms(1));
    let e = history.path_info(HOME, ip("4a"), ms(1)).rtt.unwrap();
    // RTTVAR = 3/4 * 50 + 1/4 * |100 - 20| = 57.5; SRTT = 7/8 * 100 + 1/8 * 20 = 90.
    assert_eq!(e.srtt, dur(90));
    assert_eq!(e.rttvar, std::time::Duration::from_micros(57_500));
}
