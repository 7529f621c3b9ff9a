//! Connection history: remember what worked, so that the next race to the same place pays no
//! penalty for a path that is known to be broken.
//!
//! RFC 8305 §4 and HEv3 §5.3 let a stateful client sort by historical RTT and prefer
//! previously used addresses, and RFC 8305 §5 / HEv3 §6 let the Connection Attempt Delay
//! follow historical RTT. RFC 6555 §4.2 suggested caching connection outcomes "on the order
//! of 10 minutes". [`History`] does all of it, sans-IO: it learns from finished races
//! ([`History::learn`]) and answers, per destination, the [`PathInfo`] the engine sorts and
//! paces with ([`History::path_info`], or an owned [`HistorySnapshot`] to put in
//! [`Config::path_info`](crate::Config::path_info)).
//!
//! What it keeps, per network identity and destination address:
//! - a smoothed connect RTT (RFC 6298 §2 estimator over handshake times);
//! - the last success;
//! - recent failures, and "lost a race while still pending" (the attempt started before the
//!   winner and had not finished when the winner connected): the broken-path signal.
//!
//! How it is used:
//! - an address whose path is marked broken sorts after every unmarked one (RFC 6724 rule 1,
//!   "known to be unreachable"): it is still raced, second rather than first; nothing else
//!   lets history put an address above one that RFC 6724 rule 6 prefers;
//! - the RTT and previously-used rules sit between RFC 6724 rules 8 and 9;
//! - the Connection Attempt Delay after an attempt to an address with an RTT is the RFC 6298
//!   RTO, clamped to the configured bounds (100 ms ..= 2 s by default, never under 10 ms).
//!
//! Limits (RFC 8305 §4 and HEv3 §5.3, checklist G1):
//! - history is partitioned by a caller-supplied [`NetworkId`] (interface, provisioning
//!   domain): one network's history is never used on another ("MUST NOT be used across
//!   different Provisioning Domains");
//! - [`History::forget_network`] / [`History::keep_only`] flush it on a network change
//!   ("SHOULD be flushed whenever a device changes the PvD"; keeping a partition is allowed
//!   for a network the caller can reliably re-identify);
//! - entries expire ([`HistoryConfig::lifetime`]) and a broken mark ages out sooner
//!   ([`HistoryConfig::broken_lifetime`]), after which the path is raced in its normal place
//!   again: clients with different histories converge ("MUST ensure that clients with
//!   different historical data will eventually converge"); a success clears the mark at once;
//! - capacity is bounded: when full, the entry updated least recently is evicted.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::net::IpAddr;
use core::time::Duration;

use crate::action::{AttemptState, CancelReason, RaceResult};
use crate::race::Race;
use crate::rfc6724::{PathInfo, RttEstimate};
use crate::time::Instant;

/// The network a piece of history belongs to: the caller's identity for an interface or a
/// provisioning domain (RFC 7556), e.g. a hash of the interface name and its gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct NetworkId(pub u64);

/// RFC 6555 §4.2: cached connection outcomes should expire "on the order of 10 minutes".
pub const HISTORY_LIFETIME: Duration = Duration::from_secs(600);

/// How long a broken mark demotes a path: half the entry lifetime, so that a path that was
/// broken is raced in its normal place again well before its RTT data expires.
pub const BROKEN_LIFETIME: Duration = Duration::from_secs(300);

/// The default number of destinations remembered.
pub const HISTORY_CAPACITY: usize = 512;

/// Limits of a [`History`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistoryConfig {
    /// At most this many (network, destination) entries; the least recently updated is
    /// evicted when a new one arrives (default [`HISTORY_CAPACITY`]). 0 disables learning.
    pub capacity: usize,
    /// An entry not updated for this long is forgotten (default [`HISTORY_LIFETIME`]).
    pub lifetime: Duration,
    /// A broken mark stops demoting its path after this long (default [`BROKEN_LIFETIME`]).
    pub broken_lifetime: Duration,
}

impl Default for HistoryConfig {
    fn default() -> HistoryConfig {
        HistoryConfig {
            capacity: HISTORY_CAPACITY,
            lifetime: HISTORY_LIFETIME,
            broken_lifetime: BROKEN_LIFETIME,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    rtt: Option<RttEstimate>,
    last_success: Option<Instant>,
    failures: u32,
    broken_at: Option<Instant>,
    updated: Instant,
}

/// What is remembered about one destination, with times as ages (for storing it outside the
/// process, e.g. in a file, and loading it back with [`History::import`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistoryRecord {
    /// The network it was learned on.
    pub network: NetworkId,
    /// The destination.
    pub addr: IpAddr,
    /// The smoothed connect RTT.
    pub rtt: Option<RttEstimate>,
    /// How long ago the last success was.
    pub success_age: Option<Duration>,
    /// Failures since the last success.
    pub failures: u32,
    /// How long ago the path was marked broken.
    pub broken_age: Option<Duration>,
    /// How long ago the entry was last updated.
    pub age: Duration,
}

/// A bounded, partitioned, expiring store of connection history. See the
/// [module docs](self).
///
/// ```
/// use core::time::Duration;
/// use eyeballs::history::{History, NetworkId};
/// use eyeballs::{AttemptFailure, Action, Config, Instant, Race, Target};
///
/// let home = NetworkId(1);
/// let mut history = History::default();
/// let addrs = ["[2001:db8::1]:443".parse().unwrap(), "192.0.2.1:443".parse().unwrap()];
/// let t = |ms| Instant::from_millis(ms);
///
/// // First race: IPv6 hangs, IPv4 connects 20 ms after it starts at 250 ms.
/// let mut race = Race::new(Config::default(), Target::addresses(addrs), t(0)).unwrap();
/// race.handle_timeout(t(250)).unwrap();
/// race.handle_connected(t(270), eyeballs::AttemptId(1)).unwrap();
/// history.learn(home, &race);
///
/// // Second race, a second later: IPv4 goes first, IPv6 second.
/// let mut config = Config::default();
/// config.path_info = Some(history.snapshot(home, t(1270)).into_provider());
/// let mut race = Race::new(config, Target::addresses(addrs), t(1270)).unwrap();
/// let Some(Action::Attempt(first)) = race.poll_action() else { panic!() };
/// assert!(first.addr.is_ipv4());
/// ```
#[derive(Clone, Debug, Default)]
pub struct History {
    config: HistoryConfig,
    entries: BTreeMap<(NetworkId, IpAddr), Entry>,
}

/// RFC 6298 §2.3: α = 1/8 and β = 1/4, as shifts.
const ALPHA_SHIFT: u32 = 3;
const BETA_SHIFT: u32 = 2;

fn duration_div(d: Duration, shift: u32) -> Duration {
    Duration::from_nanos(u64::try_from(d.as_nanos() >> shift).unwrap_or(u64::MAX))
}

/// RFC 6298 §2.2 (first sample) and §2.3 (later samples).
fn update_rtt(old: Option<RttEstimate>, sample: Duration) -> RttEstimate {
    match old {
        None => RttEstimate {
            srtt: sample,
            rttvar: duration_div(sample, 1),
        },
        Some(e) => {
            let diff = e.srtt.abs_diff(sample);
            // RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|
            let rttvar = e
                .rttvar
                .saturating_sub(duration_div(e.rttvar, BETA_SHIFT))
                .saturating_add(duration_div(diff, BETA_SHIFT));
            // SRTT <- (1 - alpha) * SRTT + alpha * R'
            let srtt = e
                .srtt
                .saturating_sub(duration_div(e.srtt, ALPHA_SHIFT))
                .saturating_add(duration_div(sample, ALPHA_SHIFT));
            RttEstimate { srtt, rttvar }
        }
    }
}

impl History {
    /// An empty history with these limits.
    pub fn new(config: HistoryConfig) -> History {
        History {
            config,
            entries: BTreeMap::new(),
        }
    }

    /// The limits.
    pub fn config(&self) -> HistoryConfig {
        self.config
    }

    /// How many entries are stored (expired ones included until they are purged).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn live(&self, e: &Entry, now: Instant) -> bool {
        now.saturating_duration_since(e.updated) <= self.config.lifetime
    }

    /// What history says about `addr` on `network` at `now` (the default, "nothing known",
    /// for an unknown or expired entry).
    pub fn path_info(&self, network: NetworkId, addr: IpAddr, now: Instant) -> PathInfo {
        match self.entries.get(&(network, addr)) {
            Some(e) if self.live(e, now) => PathInfo {
                rtt: e.rtt,
                used_before: e.last_success.is_some(),
                broken: e.broken_at.is_some_and(|at| {
                    now.saturating_duration_since(at) < self.config.broken_lifetime
                }),
                ..PathInfo::default()
            },
            _ => PathInfo::default(),
        }
    }

    /// An owned copy of what `network`'s history says at `now`, to hand to a race.
    pub fn snapshot(&self, network: NetworkId, now: Instant) -> HistorySnapshot {
        let entries = self
            .entries
            .range((network, IpAddr::from([0u8; 4]))..)
            .take_while(|((n, _), _)| *n == network)
            .filter(|(_, e)| self.live(e, now))
            .map(|((_, addr), _)| (*addr, self.path_info(network, *addr, now)))
            .collect();
        HistorySnapshot { entries }
    }

    fn entry(&mut self, network: NetworkId, addr: IpAddr, now: Instant) -> Option<&mut Entry> {
        if self.config.capacity == 0 {
            return None;
        }
        let key = (network, addr);
        if !self.entries.contains_key(&key) {
            self.purge(now);
            if self.entries.len() >= self.config.capacity {
                // Evict the entry updated least recently.
                let oldest = self
                    .entries
                    .iter()
                    .min_by_key(|(_, e)| e.updated)
                    .map(|(k, _)| *k);
                if let Some(k) = oldest {
                    self.entries.remove(&k);
                }
            }
            self.entries.insert(
                key,
                Entry {
                    rtt: None,
                    last_success: None,
                    failures: 0,
                    broken_at: None,
                    updated: now,
                },
            );
        }
        let e = self.entries.get_mut(&key)?;
        e.updated = e.updated.max(now);
        Some(e)
    }

    /// Records a connection to `addr` that completed its handshake in `rtt` at `at`: the RTT
    /// estimate is updated, the address counts as used, and a broken mark is cleared.
    pub fn record_success(&mut self, network: NetworkId, addr: IpAddr, rtt: Duration, at: Instant) {
        if let Some(e) = self.entry(network, addr, at) {
            e.rtt = Some(update_rtt(e.rtt, rtt));
            e.last_success = Some(at);
            e.failures = 0;
            e.broken_at = None;
        }
    }

    /// Records that the path to `addr` looked broken at `at`: an attempt failed, or lost a
    /// race while still pending.
    pub fn record_broken(&mut self, network: NetworkId, addr: IpAddr, failed: bool, at: Instant) {
        if let Some(e) = self.entry(network, addr, at) {
            if failed {
                e.failures = e.failures.saturating_add(1);
            }
            e.broken_at = Some(at);
        }
    }

    /// Learns from a race (call it once, when the race has finished): the winner's handshake
    /// time, every failed attempt, and every attempt that started before the winner and was
    /// still pending when the winner connected. Attempts cancelled because the race timed out
    /// or was given up teach nothing.
    pub fn learn(&mut self, network: NetworkId, race: &Race) {
        let winner = match race.outcome().map(|o| o.result) {
            Some(RaceResult::Connected(id)) => race.attempts().get(id.0 as usize),
            _ => None,
        };
        for a in race.attempts() {
            let ip = a.addr.ip();
            match a.state {
                AttemptState::Connected { at } => {
                    self.record_success(network, ip, at.saturating_duration_since(a.started), at);
                }
                AttemptState::Failed { at, .. } => self.record_broken(network, ip, true, at),
                AttemptState::Cancelled {
                    at,
                    reason: CancelReason::LostRace,
                } if winner.is_some_and(|w| w.started > a.started) => {
                    self.record_broken(network, ip, false, at)
                }
                _ => {}
            }
        }
    }

    /// Drops expired entries.
    pub fn purge(&mut self, now: Instant) {
        let lifetime = self.config.lifetime;
        self.entries
            .retain(|_, e| now.saturating_duration_since(e.updated) <= lifetime);
    }

    /// Forgets everything (e.g. on any network change when networks cannot be re-identified).
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Forgets one network's history.
    pub fn forget_network(&mut self, network: NetworkId) {
        self.entries.retain(|(n, _), _| *n != network);
    }

    /// Keeps only `network`'s history (the device moved to it, and it can be re-identified).
    pub fn keep_only(&mut self, network: NetworkId) {
        self.entries.retain(|(n, _), _| *n == network);
    }

    /// Every live entry, with times as ages relative to `now`.
    pub fn export(&self, now: Instant) -> Vec<HistoryRecord> {
        self.entries
            .iter()
            .filter(|(_, e)| self.live(e, now))
            .map(|((network, addr), e)| HistoryRecord {
                network: *network,
                addr: *addr,
                rtt: e.rtt,
                success_age: e.last_success.map(|t| now.saturating_duration_since(t)),
                failures: e.failures,
                broken_age: e.broken_at.map(|t| now.saturating_duration_since(t)),
                age: now.saturating_duration_since(e.updated),
            })
            .collect()
    }

    /// Loads records made by [`export`](History::export) (possibly in another process, with
    /// another clock): ages are applied to `now`. Records already expired are skipped; the
    /// capacity limit applies.
    pub fn import(&mut self, now: Instant, records: impl IntoIterator<Item = HistoryRecord>) {
        for r in records {
            if r.age > self.config.lifetime {
                continue;
            }
            let updated = now.saturating_sub(r.age);
            if let Some(e) = self.entry(r.network, r.addr, updated) {
                *e = Entry {
                    rtt: r.rtt,
                    last_success: r.success_age.map(|a| now.saturating_sub(a)),
                    failures: r.failures,
                    broken_at: r.broken_age.map(|a| now.saturating_sub(a)),
                    updated,
                };
            }
        }
    }
}

/// One network's history at one instant, owned: a [`PathInfoProvider`](crate::PathInfoProvider)
/// for [`Config::path_info`](crate::Config::path_info).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HistorySnapshot {
    /// Sorted by address (the map's order).
    entries: Vec<(IpAddr, PathInfo)>,
}

impl HistorySnapshot {
    /// What the snapshot says about `addr`.
    pub fn get(&self, addr: IpAddr) -> PathInfo {
        self.entries
            .binary_search_by(|(a, _)| a.cmp(&addr))
            .map(|i| self.entries[i].1)
            .unwrap_or_default()
    }

    /// The snapshot as a provider for [`Config::path_info`](crate::Config::path_info).
    pub fn into_provider(self) -> alloc::sync::Arc<dyn crate::PathInfoProvider> {
        alloc::sync::Arc::new(self)
    }
}

impl crate::PathInfoProvider for HistorySnapshot {
    fn path_info(&self, destination: IpAddr) -> PathInfo {
        self.get(destination)
    }
}
