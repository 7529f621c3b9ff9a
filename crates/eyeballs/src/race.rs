//! The race state machine.

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use core::net::{IpAddr, SocketAddr};

use crate::action::{
    Action, Attempt, AttemptError, AttemptFailure, AttemptId, AttemptRecord, AttemptState,
    CancelReason, FailReason, Outcome, RaceResult, SkipReason, Skipped,
};
use crate::addr::{Family, Protocol, canonical, check_connectable, check_ip};
use crate::config::Config;
use crate::dns::{DnsAnswer, DnsError, DnsFailure, QueryId, RecordType, check_host_name};
use crate::error::{InputError, StartError};
use crate::global::judged_address;
use crate::plan::{Endpoint, GroupKey, Plan};
use crate::rfc6724::{PathInfo, SortKey};
use crate::svcb::{ServiceRecord, usable};
use crate::time::Instant;

/// RFC 9460 §2.4.2 asks clients to bound AliasMode chains; we follow at most this many
/// aliases, and treat a longer chain (or a loop) as "no service records".
pub const MAX_ALIAS_CHAIN: usize = 8;

/// What a race connects to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A host name (resolved through [`Action::Resolve`]) and the port to connect to. A name
    /// that is an IP address literal is used as that address, without DNS.
    Host {
        /// The host name.
        name: String,
        /// The port.
        port: u16,
    },
    /// Addresses known already, in the caller's order.
    Addresses(Vec<SocketAddr>),
}

impl Target {
    /// A host name and port.
    pub fn host(name: &str, port: u16) -> Target {
        Target::Host {
            name: String::from(name),
            port,
        }
    }

    /// Literal socket addresses.
    pub fn addresses(addrs: impl IntoIterator<Item = SocketAddr>) -> Target {
        Target::Addresses(addrs.into_iter().collect())
    }
}

/// Where the race is (the state diagram in the [crate docs](crate)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for DNS answers that let attempts start.
    Resolving,
    /// Some addresses are known, but not yet those of the preferred family (or the service
    /// records): waiting until `until` at the latest (the Resolution Delay).
    ResolutionDelay {
        /// When the wait ends.
        until: Instant,
    },
    /// Attempts are being made.
    Connecting,
    /// The race is over.
    Finished,
}

#[derive(Clone, Debug)]
enum AddrAnswer {
    NotAsked,
    Pending,
    Positive(Vec<IpAddr>),
    Negative,
}

#[derive(Clone, Debug)]
enum SvcAnswer {
    NotAsked,
    Pending,
    Records(Vec<ServiceRecord>),
    Negative(DnsError),
}

#[derive(Clone, Debug)]
struct NameState {
    name: String,
    addrs: [AddrAnswer; 2],
    https: SvcAnswer,
    /// A host name the engine accepts (`check_host_name`). Queries for a name that is not one
    /// (a service record's TargetName) are never sent: they fail at once with
    /// [`DnsError::InvalidName`].
    valid: bool,
}

#[derive(Clone, Copy, Debug)]
struct Query {
    name: usize,
    record: RecordType,
    open: bool,
}

/// Where the chain of HTTPS answers starting at the host name has got to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Chain {
    /// HTTPS is not queried.
    Off,
    /// The HTTPS answer for this name is awaited (or not yet asked).
    Waiting(usize),
    /// The alias at this name points at a name that has no entry yet.
    NeedName(usize),
    /// No service records (a negative answer, or an alias chain that is too long or loops).
    Negative { failed: bool },
    /// ServiceMode records at this name.
    Found(usize),
}

/// The per-address verdict, computed once per address and race.
#[derive(Clone, Copy, Debug)]
struct AddrInfo {
    connect: IpAddr,
    verdict: Result<PathInfo, SkipReason>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    Total,
    Attempt(usize),
    Resolution,
    NextAttempt,
}

/// One Happy Eyeballs race: a sans-IO state machine.
///
/// Feed it inputs with the `handle_*` methods, take its outputs with
/// [`poll_action`](Race::poll_action), and wake it at [`poll_timeout`](Race::poll_timeout)
/// with [`handle_timeout`](Race::handle_timeout). Every method takes the current time; the
/// race never reads a clock, never does I/O, and never panics.
///
/// Inputs given at the same instant as a timer deadline are applied before the timer fires
/// (so an attempt that connects exactly when the next one is due prevents that next one).
/// Timers whose deadline is strictly before an input's `now` fire first, at `now`.
///
/// Every input is checked before anything happens, and a refused one ([`InputError`]) leaves
/// the race exactly as it was: no timer fires, its time does not move, no action is queued,
/// and every getter answers as before. That includes an input that a timer due before its
/// `now` overtakes: a result for an attempt whose attempt timeout has passed is refused with
/// [`InputError::AttemptAlreadyEnded`] (the state the timer gives it), and any input after the
/// total timeout has passed, or after attempt timeouts that leave nothing to try, with
/// [`InputError::Finished`]; [`handle_timeout`](Race::handle_timeout) at that `now` then
/// fires the timers. An input that is wrong in itself (an attempt never started, a query
/// never asked, an answer that does not fit) gets that error, whatever timers are due.
///
/// ```
/// use eyeballs::{Action, Config, Instant, Race, RaceResult, Target};
/// use core::time::Duration;
///
/// let v6 = "[2001:db8::1]:443".parse().unwrap();
/// let v4 = "192.0.2.1:443".parse().unwrap();
/// let mut race = Race::new(Config::default(), Target::addresses([v6, v4]), Instant::ZERO).unwrap();
///
/// // IPv6 is attempted first, at once.
/// let Some(Action::Start(first)) = race.poll_action() else { panic!() };
/// assert_eq!(first.addr, v6);
///
/// // Nothing happens for 250 ms (the Connection Attempt Delay), then IPv4 starts.
/// let wake = race.poll_timeout().unwrap();
/// assert_eq!(wake, Instant::ZERO + Duration::from_millis(250));
/// race.handle_timeout(wake).unwrap();
/// let Some(Action::Start(second)) = race.poll_action() else { panic!() };
/// assert_eq!(second.addr, v4);
///
/// // IPv4 connects; IPv6 is cancelled and the race is won.
/// race.handle_connected(wake + Duration::from_millis(20), second.id).unwrap();
/// assert!(matches!(race.poll_action(), Some(Action::Cancel { id, .. }) if id == first.id));
/// assert_eq!(race.poll_action(), Some(Action::Finished(RaceResult::Connected(second.id))));
/// ```
///
/// A race is `Clone`: a copy continues independently, which lets tests and model checkers
/// branch a race at any point and explore each continuation.
#[derive(Clone, Debug)]
pub struct Race {
    config: Config,
    port: u16,
    literals: Option<Vec<SocketAddr>>,
    names: Vec<NameState>,
    /// The index in `names` of each name (by [`name_key`]).
    name_index: BTreeMap<String, usize>,
    queries: Vec<Query>,
    phase: Phase,
    now: Instant,
    started: Instant,
    rd_expired: bool,
    /// Whether any positive address answer (or address hint) has been seen.
    positive: bool,
    addr_info: BTreeMap<IpAddr, AddrInfo>,
    plan: Plan,
    dirty: bool,
    attempts: Vec<AttemptRecord>,
    in_flight: u32,
    /// The first attempt in start order that is in flight (`attempts.len()` when none is).
    /// Attempt timeouts are the start plus one fixed duration, so its timeout is the earliest.
    first_in_flight: usize,
    /// Queries not yet answered (nor cancelled), and the first query whose `Resolve` action
    /// has not been emitted (queries are emitted after the starts of the input that caused
    /// them).
    open_count: usize,
    first_unemitted: usize,
    /// The next attempt may start now (no attempt yet, or the most recent one has run for
    /// its delay or has failed).
    gate_open: bool,
    /// When the most recent attempt will have run for its Connection Attempt Delay.
    next_attempt_at: Option<Instant>,
    total_deadline: Option<Instant>,
    actions: VecDeque<Action>,
    outcome: Option<Outcome>,
    skipped: Vec<Skipped>,
    /// The same, to keep `skipped` free of duplicates in O(log n).
    skipped_set: BTreeSet<Skipped>,
    dns_errors: Vec<DnsFailure>,
}

/// splitmix64: a tiny deterministic mixer for the seeded shuffle of equal-priority services.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The key of a name in [`Race::name_index`]: without case and trailing dot.
fn name_key(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

fn count_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Race {
    /// Starts a race at `now`. For a host name the first actions are its DNS queries (HTTPS
    /// when [`Config::query_https`] is set, then AAAA, then A: HEv3 §4.1); for addresses, the
    /// first attempt.
    pub fn new(config: Config, target: Target, now: Instant) -> Result<Race, StartError> {
        config.validate()?;
        let total_deadline = config.total_timeout.map(|t| now + t);
        let mut race = Race {
            config,
            port: 0,
            literals: None,
            names: Vec::new(),
            name_index: BTreeMap::new(),
            queries: Vec::new(),
            phase: Phase::Resolving,
            now,
            started: now,
            rd_expired: false,
            positive: false,
            addr_info: BTreeMap::new(),
            plan: Plan::default(),
            dirty: true,
            attempts: Vec::new(),
            in_flight: 0,
            first_in_flight: 0,
            open_count: 0,
            first_unemitted: 0,
            gate_open: true,
            next_attempt_at: None,
            total_deadline,
            actions: VecDeque::new(),
            outcome: None,
            skipped: Vec::new(),
            skipped_set: BTreeSet::new(),
            dns_errors: Vec::new(),
        };
        match target {
            Target::Host { name, port } => {
                if let Ok(ip) = name.parse::<IpAddr>() {
                    return Race::new_literals(race, Vec::from([SocketAddr::new(ip, port)]));
                }
                check_host_name(&name).map_err(StartError::HostName)?;
                if port == 0 {
                    return Err(StartError::PortZero);
                }
                race.port = port;
                // Exact first sizes: most races have one name and two or three queries.
                race.names.reserve_exact(1);
                race.queries.reserve_exact(3);
                race.name_index.insert(name_key(&name), 0);
                race.names.push(NameState {
                    name,
                    addrs: [AddrAnswer::NotAsked, AddrAnswer::NotAsked],
                    https: SvcAnswer::NotAsked,
                    valid: true,
                });
                if race.config.query_https {
                    race.ask(0, RecordType::Https);
                }
                race.ask_addresses(0);
                race.progress(now);
                Ok(race)
            }
            Target::Addresses(addrs) => Race::new_literals(race, addrs),
        }
    }

    fn new_literals(mut race: Race, addrs: Vec<SocketAddr>) -> Result<Race, StartError> {
        if addrs.is_empty() {
            return Err(StartError::NoAddresses);
        }
        for a in &addrs {
            check_connectable(a).map_err(|why| StartError::Unconnectable { addr: *a, why })?;
        }
        race.positive = true;
        race.phase = Phase::Connecting;
        race.literals = Some(addrs);
        let now = race.now;
        race.progress(now);
        Ok(race)
    }

    // ----- outputs and getters -----

    /// The next action for the driver, if any.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When [`handle_timeout`](Race::handle_timeout) must be called next, if anything is
    /// scheduled. `None` after the race has finished, or while it only waits for input.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.earliest_timer(false).map(|(t, _)| t)
    }

    /// Where the race is.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Every attempt started so far, in start order (index = attempt id).
    pub fn attempts(&self) -> &[AttemptRecord] {
        &self.attempts
    }

    /// How the race ended, once it has.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    /// Whether the race has finished.
    pub fn is_finished(&self) -> bool {
        self.outcome.is_some()
    }

    /// The configuration the race runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Endpoints known but not yet attempted.
    pub fn pending_endpoints(&self) -> usize {
        self.plan.len()
    }

    /// Whether the service information (HTTPS records) is settled: received, known to be
    /// absent, or not asked for. A client that must hold its TLS ClientHello until then
    /// (HEv3 §6.1, §6.3) checks this.
    pub fn service_info_settled(&self) -> bool {
        !matches!(self.chain(), Chain::Waiting(_) | Chain::NeedName(_))
    }

    /// Every endpoint that was not attempted because it was unusable or filtered, so far.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    // ----- inputs -----

    /// Time passed: fires every timer due at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), InputError> {
        self.check_time(now)?;
        self.now = now;
        self.fire_timers(now, true);
        Ok(())
    }

    /// The answer to a query from [`Action::Resolve`].
    ///
    /// A query may be answered again later (a DNS update, e.g. after a TTL expiry or a push
    /// notification, HEv3 §4.4 and §7): the new answer replaces the old one; endpoints that
    /// disappear are dropped unless already attempted, and attempts are never cancelled. A
    /// transient error (SERVFAIL, timeout) after a positive answer keeps the addresses.
    /// Addresses that cannot be used are not attempted and are listed in
    /// [`Outcome::skipped`].
    pub fn handle_dns(
        &mut self,
        now: Instant,
        id: QueryId,
        answer: DnsAnswer,
    ) -> Result<(), InputError> {
        self.check_time(now)?;
        let query = *self
            .queries
            .get(id.0 as usize)
            .ok_or(InputError::UnknownQuery(id))?;
        let mismatch = |addr| InputError::AnswerMismatch {
            id,
            asked: query.record,
            addr,
        };
        match (&answer, query.record) {
            (DnsAnswer::Addresses(list), RecordType::Aaaa | RecordType::A) => {
                // An AAAA record holds 128 bits, so any IPv6 address fits (an IPv4-mapped one
                // is then the IPv4 address it maps); an A answer holds IPv4 addresses, given
                // plainly or mapped.
                let fits = |ip: &IpAddr| match query.record {
                    RecordType::Aaaa => ip.is_ipv6(),
                    _ => Family::of(ip) == Family::V4,
                };
                if let Some(bad) = list.iter().find(|ip| !fits(ip)) {
                    return Err(mismatch(Some(*bad)));
                }
            }
            (DnsAnswer::Services(_), RecordType::Https) | (DnsAnswer::Error(_), _) => {}
            _ => return Err(mismatch(None)),
        }
        self.begin(now, None)?;
        self.close_query(id.0 as usize);
        let name = &mut self.names[query.name];
        let failure = |error| DnsFailure {
            name: name.name.clone(),
            record: query.record,
            error,
        };
        let mut error = None;
        match (answer, query.record) {
            (DnsAnswer::Addresses(list), rt) => {
                let slot = &mut name.addrs[if rt == RecordType::Aaaa { 0 } else { 1 }];
                *slot = if list.is_empty() {
                    error = Some(failure(DnsError::NoData));
                    AddrAnswer::Negative
                } else {
                    AddrAnswer::Positive(list)
                };
            }
            (DnsAnswer::Services(records), _) => {
                name.https = if records.is_empty() {
                    error = Some(failure(DnsError::NoData));
                    SvcAnswer::Negative(DnsError::NoData)
                } else {
                    SvcAnswer::Records(records)
                };
            }
            (DnsAnswer::Error(e), RecordType::Https) => {
                error = Some(failure(e));
                if e.is_definitive() || !matches!(name.https, SvcAnswer::Records(_)) {
                    name.https = SvcAnswer::Negative(e);
                }
            }
            (DnsAnswer::Error(e), rt) => {
                error = Some(failure(e));
                let slot = &mut name.addrs[if rt == RecordType::Aaaa { 0 } else { 1 }];
                if e.is_definitive() || !matches!(slot, AddrAnswer::Positive(_)) {
                    *slot = AddrAnswer::Negative;
                }
            }
        }
        if let Some(e) = error {
            if !self.dns_errors.contains(&e) {
                self.dns_errors.push(e);
            }
        }
        self.dirty = true;
        self.ensure_queries();
        self.progress(now);
        Ok(())
    }

    /// Attempt `id` connected (by whatever the application counts as connected: HEv3 §6.1).
    /// It wins: every other attempt in flight is cancelled and the race finishes.
    pub fn handle_connected(&mut self, now: Instant, id: AttemptId) -> Result<(), InputError> {
        let index = self.check_attempt(now, id)?;
        self.end_attempt(index, AttemptState::Connected { at: now });
        self.finish(now, RaceResult::Connected(id), CancelReason::LostRace);
        Ok(())
    }

    /// Attempt `id` failed. When it is the most recently started attempt, the next attempt
    /// starts at once; the failure of an older attempt does not bring the next one forward.
    pub fn handle_failed(
        &mut self,
        now: Instant,
        id: AttemptId,
        failure: AttemptFailure,
    ) -> Result<(), InputError> {
        let index = self.check_attempt(now, id)?;
        self.fail_attempt(index, now, failure);
        self.progress(now);
        Ok(())
    }

    /// Attempt `id` made progress short of success (e.g. TCP connected, TLS still running).
    /// HEv3 §6.1: "the timer SHOULD be extended to a new value that represents an estimated
    /// time for the full connection establishment to complete". When `id` is the most recent
    /// attempt, the next attempt waits at least another two handshake times (the time `id`
    /// took so far, taken as one round trip; at most the Maximum Connection Attempt Delay).
    /// The timer is never shortened.
    pub fn handle_progress(&mut self, now: Instant, id: AttemptId) -> Result<(), InputError> {
        let index = self.check_attempt(now, id)?;
        if index + 1 == self.attempts.len() {
            if let Some(at) = self.next_attempt_at {
                let rtt = now.saturating_duration_since(self.attempts[index].started);
                let extension = rtt
                    .saturating_mul(2)
                    .max(crate::config::CONNECTION_ATTEMPT_DELAY_FLOOR)
                    .min(self.config.max_connection_attempt_delay);
                self.next_attempt_at = Some(at.max(now + extension));
            }
        }
        Ok(())
    }

    /// The caller gives up: every attempt in flight is cancelled, and the race finishes as
    /// cancelled.
    pub fn cancel(&mut self, now: Instant) -> Result<(), InputError> {
        self.check_time(now)?;
        self.begin(now, None)?;
        self.finish(now, RaceResult::Cancelled, CancelReason::Cancelled);
        Ok(())
    }

    // ----- internals -----

    fn check_time(&self, now: Instant) -> Result<(), InputError> {
        if self.outcome.is_some() {
            return Err(InputError::Finished);
        }
        if now < self.now {
            return Err(InputError::TimeWentBackwards {
                last: self.now,
                now,
            });
        }
        Ok(())
    }

    /// The common checks of a result for attempt `id`, then [`begin`](Race::begin): its
    /// index.
    fn check_attempt(&mut self, now: Instant, id: AttemptId) -> Result<usize, InputError> {
        self.check_time(now)?;
        let index = self.in_flight_index(id)?;
        self.begin(now, Some(index))?;
        Ok(index)
    }

    /// The common start of every input once it has been checked (finished, time, ids,
    /// answer): refuses it if a timer due strictly before `now` overtakes it, which leaves the
    /// race as it was; otherwise moves to `now` and fires those timers.
    fn begin(&mut self, now: Instant, attempt: Option<usize>) -> Result<(), InputError> {
        self.overtaken(now, attempt)?;
        self.now = now;
        self.fire_timers(now, false);
        if self.outcome.is_some() {
            // Not reached: `overtaken` predicts every way the timers can end the race.
            return Err(InputError::Finished);
        }
        Ok(())
    }

    /// Whether the timers due strictly before `now` end the race (`Finished`) or end attempt
    /// `attempt` (`AttemptAlreadyEnded`, with the state they give it), computed without
    /// firing them. Only the total timeout and attempt timeouts end anything: the Resolution
    /// Delay and the Next Connection Attempt Timer only let attempts start. Attempt timeouts
    /// end the race when they end every attempt in flight while nothing is left to try and no
    /// answer is awaited (rule 5).
    fn overtaken(&self, now: Instant, attempt: Option<usize>) -> Result<(), InputError> {
        let due = |t: Option<Instant>| t.is_some_and(|t| t < now);
        if due(self.total_deadline) {
            return Err(InputError::Finished);
        }
        let first_due = self
            .attempts
            .get(self.first_in_flight)
            .is_some_and(|a| due(a.timeout_at));
        if !first_due {
            return Ok(());
        }
        if self.plan.is_empty() && self.open_count == 0 {
            // Timeouts grow with the start order: the in-flight attempts that time out are the
            // first ones; count them up to the first that does not.
            let mut ending = 0u32;
            for a in self.attempts.iter().skip(self.first_in_flight) {
                if a.state == AttemptState::InFlight {
                    if !due(a.timeout_at) {
                        break;
                    }
                    ending += 1;
                }
            }
            if ending == self.in_flight {
                return Err(InputError::Finished);
            }
        }
        if let Some(a) = attempt.and_then(|i| self.attempts.get(i)) {
            if a.state == AttemptState::InFlight && due(a.timeout_at) {
                return Err(InputError::AttemptAlreadyEnded {
                    id: a.id,
                    state: AttemptState::Failed {
                        at: now,
                        failure: AttemptFailure::TimedOut,
                    },
                });
            }
        }
        Ok(())
    }

    /// Attempt `index` (in flight) ends as `state`.
    fn end_attempt(&mut self, index: usize, state: AttemptState) {
        self.attempts[index].state = state;
        self.in_flight = self.in_flight.saturating_sub(1);
        while self
            .attempts
            .get(self.first_in_flight)
            .is_some_and(|a| a.state != AttemptState::InFlight)
        {
            self.first_in_flight += 1;
        }
    }

    fn close_query(&mut self, index: usize) {
        if let Some(q) = self.queries.get_mut(index) {
            if q.open {
                q.open = false;
                self.open_count = self.open_count.saturating_sub(1);
            }
        }
    }

    fn in_flight_index(&self, id: AttemptId) -> Result<usize, InputError> {
        let index = id.0 as usize;
        let record = self
            .attempts
            .get(index)
            .ok_or(InputError::UnknownAttempt(id))?;
        match record.state {
            AttemptState::InFlight => Ok(index),
            state => Err(InputError::AttemptAlreadyEnded { id, state }),
        }
    }

    fn ask(&mut self, name: usize, record: RecordType) {
        if !self.names[name].valid {
            // Never sent: the name is not a host name. It fails at once, definitively for the
            // addresses (no hints either), as a failure of the service information for HTTPS.
            let state = &mut self.names[name];
            match record {
                RecordType::Https => state.https = SvcAnswer::Negative(DnsError::InvalidName),
                RecordType::Aaaa => state.addrs[0] = AddrAnswer::Negative,
                RecordType::A => state.addrs[1] = AddrAnswer::Negative,
            }
            // Each record type of a name is asked at most once.
            self.dns_errors.push(DnsFailure {
                name: state.name.clone(),
                record,
                error: DnsError::InvalidName,
            });
            return;
        }
        self.queries.push(Query {
            name,
            record,
            open: true,
        });
        self.open_count += 1;
        let state = &mut self.names[name];
        match record {
            RecordType::Https => state.https = SvcAnswer::Pending,
            RecordType::Aaaa => state.addrs[0] = AddrAnswer::Pending,
            RecordType::A => state.addrs[1] = AddrAnswer::Pending,
        }
    }

    /// HEv3 §4.1: AAAA with IPv6 connectivity; A with IPv4 connectivity, or with a NAT64
    /// prefix (HEv3 §8.2: "if PREF64 is available, clients SHOULD send an A query in addition
    /// to an AAAA query").
    fn ask_addresses(&mut self, name: usize) {
        if self.config.connectivity.ipv6
            && matches!(self.names[name].addrs[0], AddrAnswer::NotAsked)
        {
            self.ask(name, RecordType::Aaaa);
        }
        if (self.config.connectivity.ipv4 || self.config.nat64_prefix.is_some())
            && matches!(self.names[name].addrs[1], AddrAnswer::NotAsked)
        {
            self.ask(name, RecordType::A);
        }
    }

    /// The entry for `name` (compared without case and trailing dot).
    fn name_index(&self, name: &str) -> Option<usize> {
        self.name_index.get(&name_key(name)).copied()
    }

    fn add_name(&mut self, name: &str) -> usize {
        if let Some(i) = self.name_index(name) {
            return i;
        }
        let index = self.names.len();
        self.name_index.insert(name_key(name), index);
        let valid = check_host_name(name).is_ok();
        self.names.push(NameState {
            // A name that is not a host name is reported exactly as given (`a..` is not `a.`).
            name: String::from(match valid {
                true => name.strip_suffix('.').unwrap_or(name),
                false => name,
            }),
            addrs: [AddrAnswer::NotAsked, AddrAnswer::NotAsked],
            https: SvcAnswer::NotAsked,
            valid,
        });
        index
    }

    /// Follows the HTTPS answers from the host name through AliasMode records.
    fn chain(&self) -> Chain {
        if !self.config.query_https || self.names.is_empty() {
            return Chain::Off;
        }
        let mut at = 0;
        let mut seen = [0usize; MAX_ALIAS_CHAIN + 1];
        for depth in 0..=MAX_ALIAS_CHAIN {
            seen[depth] = at;
            match &self.names[at].https {
                SvcAnswer::NotAsked | SvcAnswer::Pending => return Chain::Waiting(at),
                SvcAnswer::Negative(e) => {
                    return Chain::Negative {
                        failed: !e.is_definitive(),
                    };
                }
                SvcAnswer::Records(records) => {
                    // RFC 9460 §2.4.2: when AliasMode records are present, ServiceMode
                    // records in the same set are ignored.
                    let Some(alias) = records.iter().find(|r| r.is_alias()) else {
                        return Chain::Found(at);
                    };
                    if alias.target == "." {
                        return Chain::Negative { failed: false };
                    }
                    match self.name_index(&alias.target) {
                        None => return Chain::NeedName(at),
                        Some(next) if seen[..=depth].contains(&next) => {
                            return Chain::Negative { failed: false };
                        }
                        Some(next) => at = next,
                    }
                }
            }
        }
        Chain::Negative { failed: false }
    }

    /// Registers the queries the HTTPS answers call for: the next name of an alias chain,
    /// and AAAA/A for each service's TargetName (HEv3 §4.2.1).
    fn ensure_queries(&mut self) {
        for _ in 0..=MAX_ALIAS_CHAIN + 1 {
            match self.chain() {
                Chain::Waiting(at) => {
                    if matches!(self.names[at].https, SvcAnswer::NotAsked) {
                        self.ask(at, RecordType::Https);
                    }
                    return;
                }
                Chain::NeedName(at) => {
                    let target = match &self.names[at].https {
                        SvcAnswer::Records(r) => {
                            r.iter().find(|r| r.is_alias()).map(|a| a.target.clone())
                        }
                        _ => None,
                    };
                    match target {
                        Some(t) => {
                            self.add_name(&t);
                        }
                        None => return,
                    }
                }
                Chain::Found(owner) => {
                    let targets: Vec<String> = match &self.names[owner].https {
                        // The TargetNames of services the client cannot use are not
                        // resolved (HEv3 §6.2); their hints are reported as skipped.
                        SvcAnswer::Records(r) => r
                            .iter()
                            .filter(|r| !r.is_alias() && self.service_usable(r))
                            .map(|r| r.target.clone())
                            .collect(),
                        _ => Vec::new(),
                    };
                    for t in targets {
                        let index = if t == "." { owner } else { self.add_name(&t) };
                        self.ask_addresses(index);
                    }
                    return;
                }
                Chain::Off | Chain::Negative { .. } => return,
            }
        }
    }

    fn open_queries(&self) -> bool {
        self.open_count > 0
    }

    /// The per-address checks (connectable, connectivity, filter) and the NAT64 mapping,
    /// computed once per (canonical) address.
    fn addr_info(&mut self, ip: IpAddr) -> AddrInfo {
        let callbacks = self.config.filter.is_some() || self.config.path_info.is_some();
        if let Some(info) = self.addr_info.get(&ip) {
            return *info;
        }
        let connect = match (ip, self.config.nat64_prefix) {
            (IpAddr::V4(v4), Some(prefix)) => prefix.synthesize(v4).map_or(ip, IpAddr::V6),
            _ => ip,
        };
        let verdict = check_ip(&connect)
            .map_err(SkipReason::Unconnectable)
            .and_then(|()| {
                if self.config.connectivity.has(Family::of(&connect)) {
                    Ok(())
                } else {
                    Err(SkipReason::NoConnectivity)
                }
            })
            .and_then(|()| match &self.config.filter {
                // The filter judges what the address carries (`judged_address`): an A answer
                // synthesised into the NAT64 prefix and the DNS64 AAAA answer for it are the
                // same IPv4 address.
                Some(f) => f
                    .check(judged_address(ip, self.config.nat64_prefix))
                    .map_err(SkipReason::Filtered),
                None => Ok(()),
            })
            .map(|()| match &self.config.path_info {
                Some(p) => p.path_info(connect),
                None => PathInfo::default(),
            });
        let info = AddrInfo { connect, verdict };
        // The caller's filter and path information are asked once per address and race;
        // without them the checks are cheaper than a cache.
        if callbacks {
            self.addr_info.insert(ip, info);
        }
        info
    }

    fn skip(&mut self, addr: SocketAddr, reason: SkipReason) {
        let s = Skipped { addr, reason };
        if self.skipped_set.insert(s) {
            self.skipped.push(s);
        }
    }

    /// The transports to try for an endpoint, in preference order.
    fn transports(&self, allowed_tcp: bool, allowed_quic: bool) -> [Option<Protocol>; 2] {
        let tcp = (self.config.protocols.tcp && allowed_tcp).then_some(Protocol::Tcp);
        let quic = (self.config.protocols.quic && allowed_quic).then_some(Protocol::Quic);
        match self.config.prefer_protocol {
            Protocol::Quic => [quic, tcp],
            Protocol::Tcp => [tcp, quic],
        }
    }

    fn service_usable(&self, record: &ServiceRecord) -> bool {
        let u = usable(record, self.config.alpn.as_deref());
        self.transports(u.tcp, u.quic).iter().any(Option::is_some)
    }

    fn transport_group(&self, p: Protocol) -> u8 {
        if self.config.group_by_protocol && p != self.config.prefer_protocol {
            1
        } else {
            0
        }
    }

    /// Every address the race is given (literals, answers, hints) becomes endpoints here, in
    /// its canonical form ([`canonical`]: an IPv4-mapped address is the IPv4 address it maps);
    /// a literal keeps its flow label and zone.
    fn push_endpoints(
        &mut self,
        out: &mut Vec<Endpoint>,
        given: SocketAddr,
        service: Option<(&ServiceRecord, u32, u64)>,
    ) {
        self.positive = true;
        let given = canonical(given);
        let (ip, port) = (given.ip(), given.port());
        let info = self.addr_info(ip);
        let addr = if info.connect == ip {
            given
        } else {
            SocketAddr::new(info.connect, port)
        };
        let path = match info.verdict {
            Ok(p) => p,
            Err(reason) => return self.skip(addr, reason),
        };
        if port == 0 {
            return self.skip(
                addr,
                SkipReason::Unconnectable(crate::addr::Unconnectable::PortZero),
            );
        }
        let (protocols, alpn, ech, group) = match service {
            Some((record, index, rank)) => {
                let u = usable(record, self.config.alpn.as_deref());
                let group = GroupKey {
                    transport: 0,
                    priority: u32::from(record.priority),
                    rank,
                    index,
                };
                (
                    self.transports(u.tcp, u.quic),
                    Some(u.alpn),
                    record.ech.clone(),
                    group,
                )
            }
            None => (
                self.transports(true, true),
                None,
                None,
                GroupKey::unassociated(0),
            ),
        };
        if protocols.iter().all(Option::is_none) {
            return self.skip(addr, SkipReason::NoSupportedProtocol);
        }
        let key = SortKey::new(ip, self.config.prefer == Family::V4, path);
        let delay = self.config.attempt_delay_for(&path);
        for protocol in protocols.into_iter().flatten() {
            out.push(Endpoint {
                addr,
                key,
                protocol,
                group: GroupKey {
                    transport: self.transport_group(protocol),
                    ..group
                },
                alpn: alpn.clone(),
                ech: ech.clone(),
                delay,
            });
        }
    }

    /// Recomputes every endpoint known now and hands them to the plan. The name table and the
    /// literal list are moved out while endpoints are pushed (nothing is cloned), and the
    /// plan's buffers are reused.
    fn rebuild(&mut self) {
        self.dirty = false;
        let mut out = self.plan.take_buffer();
        let chain = self.chain();
        let names = core::mem::take(&mut self.names);
        if let Some(literals) = self.literals.take() {
            for a in &literals {
                self.push_endpoints(&mut out, *a, None);
            }
            self.literals = Some(literals);
        } else {
            let mut host_has_service = false;
            if let Chain::Found(owner) = chain {
                if let SvcAnswer::Records(records) = &names[owner].https {
                    for (i, record) in records.iter().filter(|r| !r.is_alias()).enumerate() {
                        // A target without an entry is one that is not resolved (an unusable
                        // service): only its hints exist, to be reported as skipped.
                        let target = if record.target == "." {
                            Some(owner)
                        } else {
                            self.name_index(&record.target)
                        };
                        host_has_service |= target == Some(0);
                        let index = count_u32(i);
                        // HEv3 §5.2: "When there are multiple services ... with the same
                        // priority, the client SHOULD shuffle these groups randomly."
                        let rank = splitmix64(self.config.shuffle_seed ^ u64::from(index));
                        let port = record.port.unwrap_or(self.port);
                        let service = Some((record, index, rank));
                        for family in [Family::V6, Family::V4] {
                            // HEv3 §4.2.1: hints count "when A and AAAA records corresponding
                            // to the TargetName are not available yet"; real records replace
                            // them (§7).
                            match target.map(|t| &names[t].addrs[family.index()]) {
                                Some(AddrAnswer::Positive(list)) => {
                                    for ip in list {
                                        let addr = SocketAddr::new(*ip, port);
                                        self.push_endpoints(&mut out, addr, service);
                                    }
                                }
                                Some(AddrAnswer::Negative) => {}
                                _ if family == Family::V6 => {
                                    for h in &record.ipv6hint {
                                        let addr = SocketAddr::new((*h).into(), port);
                                        self.push_endpoints(&mut out, addr, service);
                                    }
                                }
                                _ => {
                                    for h in &record.ipv4hint {
                                        let addr = SocketAddr::new((*h).into(), port);
                                        self.push_endpoints(&mut out, addr, service);
                                    }
                                }
                            }
                        }
                    }
                }
            }
            if !host_has_service {
                for family in [Family::V6, Family::V4] {
                    if let Some(AddrAnswer::Positive(list)) =
                        names.first().map(|n| &n.addrs[family.index()])
                    {
                        for ip in list {
                            let addr = SocketAddr::new(*ip, self.port);
                            self.push_endpoints(&mut out, addr, None);
                        }
                    }
                }
            }
        }
        self.names = names;
        let sort = self.config.sort;
        self.plan.set(out, sort);
    }

    /// Whether the preferred family has been answered (HEv3 §4.2, first condition set):
    /// its query on the host name has an answer, or a positive address of that family is
    /// known from elsewhere (a hint or a service target).
    fn preferred_answered(&self) -> bool {
        let family = self.config.preferred_family();
        let host = match self.names.first() {
            Some(h) => h,
            None => return true,
        };
        if matches!(
            host.addrs[family.index()],
            AddrAnswer::Positive(_) | AddrAnswer::Negative
        ) {
            return true;
        }
        if matches!(host.addrs[family.index()], AddrAnswer::NotAsked) {
            // Not asked: nothing to wait for.
            return true;
        }
        self.plan_has_family(family)
    }

    /// History marks every address of the preferred family known so far as broken, while
    /// the host's answer for the other family is still awaited. For this race the other
    /// family is then the one worth waiting for: the Resolution Delay applies as it does to
    /// an A answer that arrives before AAAA (RFC 8305 §3), and the broken path is raced
    /// second rather than first.
    fn preferred_known_broken(&self) -> bool {
        let family = self.config.preferred_family();
        let other_awaited = self
            .names
            .first()
            .is_some_and(|h| matches!(h.addrs[family.other().index()], AddrAnswer::Pending));
        other_awaited && self.plan.all_broken(family)
    }

    fn plan_has_family(&self, family: Family) -> bool {
        self.names
            .iter()
            .skip(1)
            .any(|n| matches!(&n.addrs[family.index()], AddrAnswer::Positive(l) if !l.is_empty()))
            || match self.chain() {
                Chain::Found(owner) => match &self.names[owner].https {
                    SvcAnswer::Records(r) => r.iter().any(|r| match family {
                        Family::V6 => !r.ipv6hint.is_empty(),
                        Family::V4 => !r.ipv4hint.is_empty(),
                    }),
                    _ => false,
                },
                _ => false,
            }
    }

    /// Runs after every input and timer: rebuilds the plan, moves the phase on, starts an
    /// attempt if one is due, and ends the race when nothing is left.
    fn progress(&mut self, now: Instant) {
        if self.outcome.is_some() {
            return;
        }
        if self.dirty {
            self.rebuild();
        }
        let chain = self.chain();
        if self.config.svcb_reliant {
            if let Chain::Negative { failed: true } = chain {
                return self.finish(
                    now,
                    RaceResult::Failed(FailReason::ServiceResolutionFailed),
                    CancelReason::ServiceResolutionFailed,
                );
            }
        }
        if matches!(self.phase, Phase::Resolving | Phase::ResolutionDelay { .. }) {
            let service_settled = !matches!(chain, Chain::Waiting(_) | Chain::NeedName(_));
            // HEv3 §4.2, first set: positive answers, the preferred family answered, and the
            // service information received (or negative).
            let s1 = self.positive
                && self.preferred_answered()
                && service_settled
                && !self.preferred_known_broken();
            // Second set: positive answers and the Resolution Delay has passed. In
            // SVCB-reliant mode the service information is always waited for (§6.3).
            let s2 =
                self.positive && self.rd_expired && (service_settled || !self.config.svcb_reliant);
            if s1 || s2 {
                self.phase = Phase::Connecting;
            } else if self.positive && !self.rd_expired && self.phase == Phase::Resolving {
                self.phase = Phase::ResolutionDelay {
                    until: now + self.config.resolution_delay,
                };
            }
        }
        self.try_start(now);
        self.unsent_to_actions();
        if self.in_flight == 0 && self.plan.is_empty() && !self.open_queries() {
            let reason = if self.attempts.is_empty() {
                FailReason::NoAddresses
            } else {
                FailReason::AllAttemptsFailed
            };
            self.finish(now, RaceResult::Failed(reason), CancelReason::LostRace);
        }
    }

    fn unsent_to_actions(&mut self) {
        for (i, q) in self.queries.iter().enumerate().skip(self.first_unemitted) {
            self.actions.push_back(Action::Resolve {
                id: QueryId(count_u32(i)),
                name: self.names[q.name].name.clone(),
                record: q.record,
            });
        }
        self.first_unemitted = self.queries.len();
    }

    /// Starts the next attempt when the pacing allows (RFC 8305 §5, HEv3 §6).
    fn try_start(&mut self, now: Instant) {
        if !self.gate_open || self.phase != Phase::Connecting {
            return;
        }
        // A caller that wakes late may hand in a `now` past the total deadline, with other
        // timers due before it: the race is over at this call, so do not open a socket only
        // to cancel it.
        if self.total_deadline.is_some_and(|t| t < now) {
            return;
        }
        if let Some(cap) = self.config.max_concurrent_attempts {
            if self.in_flight >= cap {
                return;
            }
        }
        let Some(family) = self.plan.pick(
            self.config.interleave,
            self.config.first_address_family_count,
        ) else {
            return;
        };
        let Some(e) = self.plan.take(family) else {
            return;
        };
        let id = AttemptId(count_u32(self.attempts.len()));
        self.attempts.push(AttemptRecord {
            id,
            addr: e.addr,
            protocol: e.protocol,
            started: now,
            timeout_at: self.config.attempt_timeout.map(|t| now + t),
            state: AttemptState::InFlight,
        });
        self.in_flight = self.in_flight.saturating_add(1);
        self.gate_open = false;
        self.next_attempt_at = Some(now + e.delay);
        self.actions.push_back(Action::Start(Attempt {
            id,
            addr: e.addr,
            protocol: e.protocol,
            alpn: e.alpn,
            ech: e.ech,
        }));
    }

    fn fail_attempt(&mut self, index: usize, now: Instant, failure: AttemptFailure) {
        self.end_attempt(index, AttemptState::Failed { at: now, failure });
        if index + 1 == self.attempts.len() {
            // The most recent attempt failed: the next one may start at once.
            self.gate_open = true;
            self.next_attempt_at = None;
        }
    }

    fn earliest_timer(&self, internal: bool) -> Option<(Instant, Timer)> {
        if self.outcome.is_some() {
            return None;
        }
        let mut best: Option<(Instant, Timer)> = None;
        let mut consider = |t: Instant, timer: Timer| {
            if best.is_none_or(|b| (t, timer) < b) {
                best = Some((t, timer));
            }
        };
        if let Some(t) = self.total_deadline {
            consider(t, Timer::Total);
        }
        // Attempt timeouts are the start plus one duration: the first attempt in flight has
        // the earliest.
        if let Some(a) = self.attempts.get(self.first_in_flight) {
            if let (Some(t), AttemptState::InFlight) = (a.timeout_at, a.state) {
                consider(t, Timer::Attempt(self.first_in_flight));
            }
        }
        if let Phase::ResolutionDelay { until } = self.phase {
            consider(until, Timer::Resolution);
        }
        // The Next Connection Attempt Timer is reported only while there is something to
        // start; internally it still fires, so that an address arriving after the delay has
        // passed starts at once.
        if let Some(t) = self.next_attempt_at {
            if !self.gate_open && (internal || !self.plan.is_empty()) {
                consider(t, Timer::NextAttempt);
            }
        }
        best
    }

    fn fire_timers(&mut self, now: Instant, inclusive: bool) {
        while let Some((t, timer)) = self.earliest_timer(true) {
            if t > now || (t == now && !inclusive) {
                return;
            }
            match timer {
                Timer::Total => {
                    return self.finish(now, RaceResult::TimedOut, CancelReason::RaceTimedOut);
                }
                Timer::Attempt(index) => {
                    let id = self.attempts[index].id;
                    self.fail_attempt(index, now, AttemptFailure::TimedOut);
                    self.actions.push_back(Action::Cancel {
                        id,
                        reason: CancelReason::AttemptTimedOut,
                    });
                }
                Timer::Resolution => {
                    self.rd_expired = true;
                    self.phase = Phase::Resolving;
                }
                Timer::NextAttempt => {
                    self.gate_open = true;
                    self.next_attempt_at = None;
                }
            }
            self.progress(now);
        }
    }

    fn finish(&mut self, now: Instant, result: RaceResult, reason: CancelReason) {
        if self.outcome.is_some() {
            return;
        }
        self.unsent_to_actions();
        for record in self.attempts.iter_mut() {
            if record.state == AttemptState::InFlight {
                record.state = AttemptState::Cancelled { at: now, reason };
                self.actions.push_back(Action::Cancel {
                    id: record.id,
                    reason,
                });
            }
        }
        self.in_flight = 0;
        self.first_in_flight = self.attempts.len();
        if self.open_queries() {
            for q in self.queries.iter_mut() {
                q.open = false;
            }
            self.open_count = 0;
            self.actions.push_back(Action::CancelQueries);
        }
        let errors = self
            .attempts
            .iter()
            .filter_map(|a| match a.state {
                AttemptState::Failed { failure, .. } => Some(AttemptError {
                    id: a.id,
                    addr: a.addr,
                    protocol: a.protocol,
                    failure,
                }),
                _ => None,
            })
            .collect();
        let winner = match result {
            RaceResult::Connected(id) => self
                .attempts
                .get(id.0 as usize)
                .map(|a| (a.addr, a.protocol)),
            _ => None,
        };
        self.phase = Phase::Finished;
        self.next_attempt_at = None;
        // Nothing will start any more: free what only served starting.
        self.plan = Plan::default();
        self.addr_info = BTreeMap::new();
        self.outcome = Some(Outcome {
            at: now,
            result,
            winner,
            errors,
            skipped: self.skipped.clone(),
            dns_errors: self.dns_errors.clone(),
        });
        self.actions.push_back(Action::Finished(result));
    }

    /// The instant the race started.
    pub fn started_at(&self) -> Instant {
        self.started
    }
}
