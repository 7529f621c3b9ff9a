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
//! network changes ([`SharedHistory::set_network`], or by itself:
//! [`SharedHistory::follow_network`] re-keys it when the machine's
//! [network](crate::network) changes), and saving to a file (feature `serde`:
//! [`SharedHistory::load_file`] / [`SharedHistory::save_file`], locked and atomic, on
//! [`SharedHistory::to_json`] / [`SharedHistory::load_json`]).
//!
//! One job per file: the store and its network here; what a race reads at its start and
//! feeds back when it ends in `history/race.rs`; following the machine's network in
//! `history/follow.rs`; the file in `history/file.rs` (locking,
//! atomic replacement) and `history/json.rs` (the format).

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant as StdInstant;

use eyeballs::history::{History, HistoryConfig, HistoryRecord, NetworkId};
use eyeballs::{Instant, PathInfo};

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
/// Give it to a connector with its `history` builder method (or
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
/// use eyeballs_driver::{Request, Session, Settings, SharedHistory};
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
/// race.handle_timeout(ms(250));
/// while let Some(Request::Attempt(a)) = race.poll_request() {
///     if a.addr == v4 {
///         race.handle_connected(ms(270), a.id, ());
///     }
/// }
/// assert!(race.is_finished());
/// assert!(history.path_info(v6.ip()).broken, "the race taught the history");
///
/// // Second race, a second later: IPv4 goes first.
/// let mut race: Session<(), (), ()> =
///     Session::start(&settings, Target::addresses([v6, v4]), ms(1270)).unwrap();
/// let Some(Request::Attempt(first)) = race.poll_request() else { panic!() };
/// assert_eq!(first.addr, v4);
/// ```
#[derive(Clone)]
pub struct SharedHistory {
    store: Arc<Mutex<Store>>,
    network: Arc<AtomicU64>,
    /// Whether and how [`network`](SharedHistory::network) follows the machine's network
    /// ([`SharedHistory::follow_network`], in `history/follow.rs`).
    follow: Arc<follow::Follow>,
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
            follow: Arc::new(follow::Follow::new()),
        }
    }

    /// A handle on the same store whose races run on `network` (and whose
    /// [`set_network`](SharedHistory::set_network) changes only its own network): for
    /// connectors bound to different interfaces at once. Each sees only its own network's
    /// history. It does not follow the machine's network (see
    /// [`follow_network`](SharedHistory::follow_network)).
    pub fn with_network(&self, network: NetworkId) -> SharedHistory {
        SharedHistory {
            store: self.store.clone(),
            network: Arc::new(AtomicU64::new(network.0)),
            follow: Arc::new(follow::Follow::new()),
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
}

pub(crate) use race::Ticket;

#[cfg(feature = "serde")]
pub use file::{FileKind, HistoryPathError};
#[cfg(feature = "serde")]
pub use json::HistoryFileError;

#[cfg(feature = "serde")]
mod file;
mod follow;
#[cfg(feature = "serde")]
mod json;
mod race;

#[cfg(test)]
mod tests;
