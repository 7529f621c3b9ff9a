//! A connection history shared by connectors: the engine's
//! [`History`](eyeballs::history::History) behind an `Arc`, fed by every race of every
//! connector that has it, read at the start of every race.
//!
//! What the engine's history does (RFC 8305 §4 and §5, HEv3 §5.3 and §6): a destination
//! whose path looked broken (an attempt failed, or was still pending when a later attempt
//! won) is raced after the others for [`BROKEN_LIFETIME`](eyeballs::history::BROKEN_LIFETIME);
//! a destination's smoothed connect RTT sorts it and sets the Connection Attempt Delay after
//! it; entries expire after [`HISTORY_LIFETIME`](eyeballs::history::HISTORY_LIFETIME). So the
//! second connection to a host whose IPv6 is blackholed starts with IPv4 and connects in one
//! round trip instead of waiting 250 ms.
//!
//! What this type adds: sharing (clones share one store; `Send + Sync`), the network the
//! races run on (history is partitioned by [`NetworkId`] and never crosses networks),
//! network changes ([`SharedHistory::set_network`]), and saving to a file (feature `serde`:
//! [`SharedHistory::load_file`] / [`SharedHistory::save_file`], locked and atomic, on
//! [`SharedHistory::to_json`] / [`SharedHistory::load_json`]).

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant as StdInstant;

use eyeballs::history::{History, HistoryConfig, HistoryRecord, HistorySnapshot, NetworkId};
use eyeballs::{Instant, PathInfo, PathInfoProvider, Race};

use crate::clock;

struct Store {
    history: History,
    /// Counts flushes ([`SharedHistory::clear`], [`SharedHistory::set_network`] without
    /// `keep_others`): a race that started before a flush teaches nothing.
    flushes: u64,
    /// The latest engine instant a race using this history has reached. "Now" is never
    /// earlier: a test runtime's paused clock may run ahead of the system clock.
    latest: Instant,
}

/// A connection history shared by connectors: `Clone` (an `Arc` inside; clones share
/// everything), `Send + Sync`.
///
/// Give it to a connector with [`Configure::history`](crate::Configure::history) (or
/// [`Settings::history`](crate::Settings::history)). At the start of every race the
/// connector takes a snapshot of what the history knows about its network and gives it to
/// the engine through [`Config::path_info`](eyeballs::Config::path_info), combined with the
/// `path_info` provider the user set, if any: the user's provider decides the source
/// address, and its RTT wins over the learned one; "used before" and "broken" are set when
/// either says so. When the race ends (won, failed, timed out, cancelled, or dropped
/// mid-way) the connector feeds it to
/// [`History::learn`](eyeballs::history::History::learn).
///
/// Times are the driver's [`clock`]: one epoch for every race in the process.
///
/// ```
/// use std::time::{Duration, Instant};
/// use eyeballs::Target;
/// use eyeballs::history::{HistoryConfig, NetworkId};
/// use eyeballs_driver::{Configure, Request, Session, Settings, SharedHistory};
///
/// let history = SharedHistory::new(HistoryConfig::default(), NetworkId(1));
/// let settings = Settings::default().history(history.clone());
/// let v6 = "[2001:db8::1]:443".parse().unwrap();
/// let v4 = "192.0.2.1:443".parse().unwrap();
/// let t0 = Instant::now();
/// let ms = |n| t0 + Duration::from_millis(n);
///
/// // First race: IPv6 starts and hangs; IPv4 starts 250 ms later and connects at 270 ms.
/// let mut race: Session<(), (), ()> =
///     Session::start(&settings, Target::addresses([v6, v4]), t0).unwrap();
/// race.timeout(ms(250));
/// while let Some(Request::Connect(a)) = race.next_request() {
///     if a.addr == v4 {
///         race.connected(ms(270), a.id, ());
///     }
/// }
/// assert!(race.is_finished());
/// assert!(history.path_info(v6.ip()).broken, "the race taught the history");
///
/// // Second race, a second later: IPv4 goes first.
/// let mut race: Session<(), (), ()> =
///     Session::start(&settings, Target::addresses([v6, v4]), ms(1270)).unwrap();
/// let Some(Request::Connect(first)) = race.next_request() else { panic!() };
/// assert_eq!(first.addr, v4);
/// ```
#[derive(Clone)]
pub struct SharedHistory {
    store: Arc<Mutex<Store>>,
    network: Arc<AtomicU64>,
}

impl Default for SharedHistory {
    /// [`HistoryConfig::default`] on `NetworkId(0)`.
    fn default() -> SharedHistory {
        SharedHistory::new(HistoryConfig::default(), NetworkId::default())
    }
}

impl fmt::Debug for SharedHistory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedHistory")
            .field("network", &self.network())
            .field("entries", &self.len())
            .finish()
    }
}

/// What a race needs to feed its result back: where it ran, and whether its history was
/// flushed meanwhile.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ticket {
    network: NetworkId,
    flushes: u64,
}

/// The history's view of one race, combined with the user's provider.
struct WithHistory {
    user: Option<Arc<dyn PathInfoProvider>>,
    snapshot: HistorySnapshot,
}

impl PathInfoProvider for WithHistory {
    fn path_info(&self, destination: IpAddr) -> PathInfo {
        let learned = self.snapshot.get(destination);
        match &self.user {
            None => learned,
            Some(user) => {
                let given = user.path_info(destination);
                PathInfo {
                    rtt: given.rtt.or(learned.rtt),
                    used_before: given.used_before || learned.used_before,
                    broken: given.broken || learned.broken,
                    ..given
                }
            }
        }
    }
}

impl SharedHistory {
    /// An empty history with `config`'s limits, whose races run on `network`.
    pub fn new(config: HistoryConfig, network: NetworkId) -> SharedHistory {
        SharedHistory {
            store: Arc::new(Mutex::new(Store {
                history: History::new(config),
                flushes: 0,
                latest: Instant::ZERO,
            })),
            network: Arc::new(AtomicU64::new(network.0)),
        }
    }

    /// A handle on the same store whose races run on `network` (and whose
    /// [`set_network`](SharedHistory::set_network) changes only its own network): for
    /// connectors bound to different interfaces at once. Each sees only its own network's
    /// history.
    pub fn with_network(&self, network: NetworkId) -> SharedHistory {
        SharedHistory {
            store: self.store.clone(),
            network: Arc::new(AtomicU64::new(network.0)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Store> {
        // The store is consistent after every call (nothing in it panics mid-update), so a
        // panic elsewhere while it was locked leaves it usable.
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Now, on the engine's clock: the system clock, or the latest instant a race using this
    /// history has reached, whichever is later.
    fn now(store: &Store) -> Instant {
        clock::to_engine(StdInstant::now()).max(store.latest)
    }

    /// The network later races run on.
    pub fn network(&self) -> NetworkId {
        NetworkId(self.network.load(Ordering::Acquire))
    }

    /// A network change: later races use `network`. Every other network's entries are
    /// dropped unless `keep_others` (for networks the caller can reliably re-identify, HEv3
    /// §5.3: history "SHOULD be flushed whenever a device changes the PvD"). Races in flight
    /// when entries are dropped teach nothing. With several
    /// [`with_network`](SharedHistory::with_network) handles on one store, `keep_others =
    /// false` drops the other handles' networks too.
    pub fn set_network(&self, network: NetworkId, keep_others: bool) {
        let mut store = self.lock();
        self.network.store(network.0, Ordering::Release);
        if !keep_others {
            store.history.keep_only(network);
            store.flushes = store.flushes.wrapping_add(1);
        }
    }

    /// Forgets everything. Races in flight teach nothing.
    pub fn clear(&self) {
        let mut store = self.lock();
        store.history.clear();
        store.flushes = store.flushes.wrapping_add(1);
    }

    /// The limits.
    pub fn config(&self) -> HistoryConfig {
        self.lock().history.config()
    }

    /// How many (network, destination) entries are stored, every network counted.
    pub fn len(&self) -> usize {
        self.lock().history.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What the history says now about `addr` on [`network`](SharedHistory::network).
    ///
    /// "Now" is the system clock, or the latest instant a race using this history has
    /// reached when that is later (a test runtime's paused clock may run ahead of the system
    /// clock). [`path_info_at`](SharedHistory::path_info_at) takes the instant.
    pub fn path_info(&self, addr: IpAddr) -> PathInfo {
        let store = self.lock();
        store
            .history
            .path_info(self.network(), addr, SharedHistory::now(&store))
    }

    /// What the history says about `addr` on [`network`](SharedHistory::network) at `now`
    /// (e.g. a test runtime's clock).
    pub fn path_info_at(&self, addr: IpAddr, now: StdInstant) -> PathInfo {
        let store = self.lock();
        store
            .history
            .path_info(self.network(), addr, clock::to_engine(now))
    }

    /// Every live entry of every network, with times as ages relative to now (as
    /// [`path_info`](SharedHistory::path_info) reads it).
    pub fn export(&self) -> Vec<HistoryRecord> {
        let store = self.lock();
        store.history.export(SharedHistory::now(&store))
    }

    /// Every entry of every network live at `now`, with times as ages relative to `now`.
    pub fn export_at(&self, now: StdInstant) -> Vec<HistoryRecord> {
        self.lock().history.export(clock::to_engine(now))
    }

    /// Merges records made by [`export`](SharedHistory::export) (possibly in another
    /// process): ages are applied to now; expired records are skipped, and so is a record
    /// older than what is already known about its network and address. The capacity limit
    /// applies.
    pub fn import(&self, records: Vec<HistoryRecord>) {
        let mut store = self.lock();
        let now = SharedHistory::now(&store);
        let known: BTreeMap<(NetworkId, IpAddr), _> = store
            .history
            .export(now)
            .into_iter()
            .map(|r| ((r.network, r.addr), r.age))
            .collect();
        let newer = records.into_iter().filter(|r| {
            known
                .get(&(r.network, r.addr))
                .is_none_or(|age| r.age < *age)
        });
        store.history.import(now, newer);
    }

    /// Starts a race at `now`: the provider for its `Config::path_info` (`user`'s combined
    /// with the history's snapshot of the current network; `user` unchanged when the history
    /// knows nothing there), and the ticket to learn with.
    pub(crate) fn begin(
        &self,
        now: Instant,
        user: Option<Arc<dyn PathInfoProvider>>,
    ) -> (Option<Arc<dyn PathInfoProvider>>, Ticket) {
        let mut store = self.lock();
        store.latest = store.latest.max(now);
        let network = self.network();
        let snapshot = store.history.snapshot(network, now);
        let ticket = Ticket {
            network,
            flushes: store.flushes,
        };
        drop(store);
        if snapshot == HistorySnapshot::default() {
            return (user, ticket);
        }
        let provider: Arc<dyn PathInfoProvider> = Arc::new(WithHistory { user, snapshot });
        (Some(provider), ticket)
    }

    /// Learns from a race that ended (or is abandoned) at `last`, unless its history was
    /// flushed since it started.
    pub(crate) fn learn(&self, ticket: Ticket, race: &Race, last: Instant) {
        let mut store = self.lock();
        store.latest = store.latest.max(last);
        if store.flushes == ticket.flushes {
            store.history.learn(ticket.network, race);
        }
    }
}

#[cfg(feature = "serde")]
pub use file::{FileKind, HistoryPathError};
#[cfg(feature = "serde")]
pub use json::HistoryFileError;

#[cfg(feature = "serde")]
mod file;
#[cfg(feature = "serde")]
mod json;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use eyeballs::RttEstimate;

    const HOME: NetworkId = NetworkId(1);
    const CAFE: NetworkId = NetworkId(2);

    fn v6() -> IpAddr {
        "2001:db8::1".parse().unwrap()
    }

    fn record(network: NetworkId, age_ms: u64) -> HistoryRecord {
        HistoryRecord {
            network,
            addr: v6(),
            rtt: None,
            success_age: None,
            failures: 1,
            broken_age: Some(Duration::from_millis(age_ms)),
            age: Duration::from_millis(age_ms),
        }
    }

    #[test]
    fn shareable_across_threads() {
        fn send_sync<T: Send + Sync + Clone + 'static>() {}
        send_sync::<SharedHistory>();
        let history = SharedHistory::new(HistoryConfig::default(), HOME);
        let other = history.clone();
        std::thread::spawn(move || other.import(vec![record(HOME, 10)]))
            .join()
            .unwrap();
        assert!(history.path_info(v6()).broken, "clones share one store");
    }

    #[test]
    fn networks_are_partitions_and_changes_flush() {
        let history = SharedHistory::new(HistoryConfig::default(), HOME);
        history.import(vec![record(HOME, 10), record(CAFE, 10)]);
        assert!(history.path_info(v6()).broken);
        let cafe = history.with_network(CAFE);
        assert!(cafe.path_info(v6()).broken);
        assert_eq!(history.len(), 2);
        // Moving to CAFE, keeping HOME (re-identifiable).
        history.set_network(CAFE, true);
        assert_eq!(history.len(), 2);
        assert_eq!(cafe.network(), CAFE);
        // Moving to a new network, forgetting the others.
        history.set_network(NetworkId(3), false);
        assert!(history.is_empty());
        assert_eq!(history.path_info(v6()), PathInfo::default());
    }

    #[test]
    fn import_keeps_the_fresher_knowledge() {
        let history = SharedHistory::new(HistoryConfig::default(), HOME);
        history.import(vec![record(HOME, 10)]);
        let mut old = record(HOME, 5_000);
        old.failures = 9;
        history.import(vec![old]);
        assert_eq!(
            history.export()[0].failures,
            1,
            "the older record was skipped"
        );
        let mut expired = record(CAFE, 0);
        expired.age = HistoryConfig::default().lifetime + Duration::from_secs(1);
        history.import(vec![expired]);
        assert_eq!(history.len(), 1, "the expired record was skipped");
    }

    #[test]
    fn the_users_provider_and_the_history_combine() {
        let history = SharedHistory::new(HistoryConfig::default(), HOME);
        history.import(vec![HistoryRecord {
            rtt: Some(RttEstimate {
                srtt: Duration::from_millis(20),
                rttvar: Duration::from_millis(10),
            }),
            success_age: Some(Duration::from_millis(10)),
            ..record(HOME, 10)
        }]);
        let user_rtt = RttEstimate {
            srtt: Duration::from_millis(5),
            rttvar: Duration::from_millis(1),
        };
        let user: Arc<dyn PathInfoProvider> = Arc::new(move |ip: IpAddr| PathInfo {
            source: eyeballs::Source::Unreachable,
            rtt: (ip == "192.0.2.1".parse::<IpAddr>().unwrap()).then_some(user_rtt),
            ..PathInfo::default()
        });
        let now = clock::to_engine(StdInstant::now());
        let (provider, _) = history.begin(now, Some(user.clone()));
        let p = provider.unwrap().path_info(v6());
        assert_eq!(p.source, eyeballs::Source::Unreachable, "the user's source");
        assert_eq!(
            p.rtt.unwrap().srtt,
            Duration::from_millis(20),
            "learned RTT"
        );
        assert!(p.broken && p.used_before);
        // The user's RTT wins where it has one.
        let (provider, _) = history.begin(now, Some(user));
        let p = provider.unwrap().path_info("192.0.2.1".parse().unwrap());
        assert_eq!(p.rtt, Some(user_rtt));
        assert!(!p.broken);
        // Nothing known: the user's provider is used as it is, or none.
        let empty = SharedHistory::default();
        assert!(empty.begin(now, None).0.is_none());
    }

    #[cfg(feature = "serde")]
    mod json {
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
    }
}
