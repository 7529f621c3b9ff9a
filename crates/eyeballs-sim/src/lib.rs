//! # eyeballs-sim: the eyeballs engine against a scripted network, in virtual time
//!
//! A [`Scenario`] says what DNS answers and when, how each connection attempt ends and when,
//! and when (if ever) the caller gives up. [`run`] drives a real [`eyeballs::Race`] through it
//! and returns a typed [`Trace`]: every action the engine emitted and every input it was
//! given, with virtual times. The JSON scenario format (`docs/scenario-format.md` in the
//! repository) is one front end ([`json`]); Rust code can build scenarios directly, e.g. for
//! property tests of race ordering. The scenario files that come with this crate, each with
//! the exact trace it must produce, are found through [`scenarios`].
//!
//! ```
//! use std::time::Duration;
//! use eyeballs_sim::{run, NetResult, NetRule, Scenario, Event};
//!
//! let scenario = Scenario::addresses(
//!     "v6 blackholed",
//!     ["[2001:db8::1]:443".parse().unwrap(), "192.0.2.1:443".parse().unwrap()],
//! )
//! .rule(NetRule::addr("2001:db8::1".parse().unwrap(), NetResult::Hang, Duration::ZERO))
//! .rule(NetRule::any(NetResult::Connected, Duration::from_millis(20)));
//!
//! let trace = run(&scenario).unwrap();
//! let outcome = trace.outcome.as_ref().unwrap();
//! assert_eq!(outcome.at.as_nanos(), 270_000_000); // IPv4 started at 250 ms, connected 20 ms later
//! // The IPv6 attempt, cancelled the moment IPv4 won, named by its endpoint.
//! let last = trace.events.last().unwrap();
//! assert_eq!(last.to_string(), "   270.000ms  cancel     #0 [2001:db8::1]:443 over tcp (lost the race)");
//! ```
//!
//! ## Ordering of simultaneous events
//!
//! Events due at the same virtual time are delivered in this order: DNS answers (in query
//! order), then attempt results (in attempt start order), then timers, then the caller's
//! cancel. So of two attempts that connect at the same instant the one started first wins,
//! and an attempt that connects exactly when the next attempt is due prevents that attempt.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod json;
pub mod monitor;
pub mod scenarios;

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use eyeballs::{
    Action, AttemptFailure, AttemptId, Config, DnsAnswer, Instant, Outcome, Protocol, QueryId,
    Race, RecordType, StartError, Target,
};

/// What happened, and when: the engine's event vocabulary ([`eyeballs::trace`]), which the
/// driver's race reports use too. In a trace a failure has no `detail` (the simulator has no
/// OS error to tell), and the time is virtual time since the race started.
pub use eyeballs::trace::{Event, TimedEvent};

/// One scripted DNS answer: it answers the first query the engine sends for `name` and
/// `record`, `after` that query is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsEntry {
    /// The name it answers (`None`: the scenario's host).
    pub name: Option<String>,
    /// The record type it answers.
    pub record: RecordType,
    /// How long after the query the answer arrives.
    pub after: Duration,
    /// The answer the engine is given (addresses, empty for a negative answer; service
    /// records, for an HTTPS query; or an error).
    pub answer: DnsAnswer,
}

/// How a scripted connection attempt ends (a network rule's `result` in the scenario format,
/// by the same lowercase names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetResult {
    /// The attempt connects.
    Connected,
    /// The peer refuses.
    Refused,
    /// No route.
    Unreachable,
    /// Any other failure.
    Fail,
    /// Nothing ever happens (until the engine cancels it).
    Hang,
}

/// How attempts to matching endpoints end. The first matching rule decides; an attempt no
/// rule matches hangs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetRule {
    /// The address it applies to (`None`: every address).
    pub addr: Option<IpAddr>,
    /// The port it applies to (`None`: every port).
    pub port: Option<u16>,
    /// The transport it applies to (`None`: both).
    pub protocol: Option<Protocol>,
    /// What happens.
    pub result: NetResult,
    /// How long after the attempt starts.
    pub after: Duration,
}

impl DnsEntry {
    /// Whether this entry answers a query for `name` and `record` in a scenario whose host is
    /// `host` (names compare without case and trailing dot).
    pub fn answers(&self, host: &str, name: &str, record: RecordType) -> bool {
        self.record == record && same_name(self.name.as_deref().unwrap_or(host), name)
    }
}

impl NetRule {
    /// A rule for every attempt.
    pub fn any(result: NetResult, after: Duration) -> NetRule {
        NetRule {
            addr: None,
            port: None,
            protocol: None,
            result,
            after,
        }
    }

    /// A rule for every attempt to `addr`.
    pub fn addr(addr: IpAddr, result: NetResult, after: Duration) -> NetRule {
        NetRule {
            addr: Some(addr),
            ..NetRule::any(result, after)
        }
    }

    /// Whether this rule applies to an attempt to `addr` over `protocol`. An IPv4-mapped
    /// address is the IPv4 address it maps, on either side.
    pub fn matches(&self, addr: &SocketAddr, protocol: Protocol) -> bool {
        self.addr
            .is_none_or(|a| a.to_canonical() == addr.ip().to_canonical())
            && self.port.is_none_or(|p| p == addr.port())
            && self.protocol.is_none_or(|p| p == protocol)
    }
}

/// What the race connects to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScenarioTarget {
    /// A host name resolved through the scripted DNS.
    Host {
        /// The name.
        name: String,
        /// The port.
        port: u16,
        /// The scripted answers.
        dns: Vec<DnsEntry>,
    },
    /// Literal addresses handed to the engine at time 0, in this order.
    Addresses(Vec<SocketAddr>),
}

/// A complete scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// A name for the scenario, copied to the trace.
    pub name: String,
    /// What to connect to.
    pub target: ScenarioTarget,
    /// The engine configuration.
    pub config: Config,
    /// How attempts end.
    pub network: Vec<NetRule>,
    /// When the caller gives up, if ever.
    pub cancel_at: Option<Duration>,
}

impl Scenario {
    /// A scenario resolving `host` with the default configuration, no DNS answers and a
    /// network on which everything hangs.
    pub fn host(name: &str, host: &str, port: u16) -> Scenario {
        Scenario {
            name: name.to_string(),
            target: ScenarioTarget::Host {
                name: host.to_string(),
                port,
                dns: Vec::new(),
            },
            config: Config::default(),
            network: Vec::new(),
            cancel_at: None,
        }
    }

    /// A scenario with literal addresses.
    pub fn addresses(name: &str, addrs: impl IntoIterator<Item = SocketAddr>) -> Scenario {
        Scenario {
            name: name.to_string(),
            target: ScenarioTarget::Addresses(addrs.into_iter().collect()),
            config: Config::default(),
            network: Vec::new(),
            cancel_at: None,
        }
    }

    /// Adds a scripted DNS answer (ignored for an address scenario).
    pub fn dns(mut self, entry: DnsEntry) -> Scenario {
        if let ScenarioTarget::Host { dns, .. } = &mut self.target {
            dns.push(entry);
        }
        self
    }

    /// Adds a network rule (rules are matched in the order added).
    pub fn rule(mut self, rule: NetRule) -> Scenario {
        self.network.push(rule);
        self
    }

    /// Sets the engine configuration.
    pub fn config(mut self, config: Config) -> Scenario {
        self.config = config;
        self
    }

    /// Gives up at `at`.
    pub fn cancel_at(mut self, at: Duration) -> Scenario {
        self.cancel_at = Some(at);
        self
    }

    /// The engine's target for this scenario.
    pub fn engine_target(&self) -> Target {
        match &self.target {
            ScenarioTarget::Host { name, port, .. } => Target::host(name, *port),
            ScenarioTarget::Addresses(a) => Target::Addresses(a.clone()),
        }
    }
}

/// Everything that happened in one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// The scenario's name.
    pub name: String,
    /// Every action and input, in order, with its virtual time since the race started.
    pub events: Vec<TimedEvent>,
    /// How the race ended; `None` when it was still waiting and nothing was left to happen
    /// (e.g. every attempt hangs and there is no timeout).
    pub outcome: Option<Outcome>,
    /// When the last event happened (the end of the run).
    pub end: Instant,
    /// Scripted DNS entries no query ever used: (name, record type).
    pub unused: Vec<(String, RecordType)>,
}

/// A scenario the engine refused, or a run that misbehaved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimError {
    /// The engine refused to start (invalid configuration or target).
    Start(StartError),
    /// The engine refused an input the simulator gave it (a bug in one of the two).
    Input(String),
    /// The run did not end within the step limit.
    TooManySteps,
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::Start(e) => write!(f, "the engine refused the scenario: {e}"),
            SimError::Input(e) => write!(f, "the engine refused a simulated input: {e}"),
            SimError::TooManySteps => {
                f.write_str("the simulation did not finish in 1,000,000 steps")
            }
        }
    }
}

impl std::error::Error for SimError {}

/// The most events a run may process.
const MAX_STEPS: usize = 1_000_000;

struct Sim<'a> {
    scenario: &'a Scenario,
    race: Race,
    events: Vec<TimedEvent>,
    /// Scripted answers not yet used: (index into the scenario's dns list).
    used: Vec<bool>,
    /// Answers due: (time, query id) -> answer.
    dns_due: BTreeMap<(Instant, QueryId), (String, RecordType, DnsAnswer)>,
    /// Results due: (time, attempt id) -> result.
    results_due: BTreeMap<(Instant, AttemptId), NetResult>,
    /// When each attempt's result is due (to drop it when the attempt is cancelled).
    result_at: BTreeMap<AttemptId, Instant>,
    /// The scripted answers not yet used, by (name without case and trailing dots, record
    /// type), in scenario order.
    dns_index: BTreeMap<(String, RecordType), VecDeque<usize>>,
    end: Instant,
}

/// The key of a name in `Sim::dns_index`: compared as [`DnsEntry::answers`] compares names.
fn dns_key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Runs `scenario` to its end: until the race finishes, or until nothing is left to happen.
pub fn run(scenario: &Scenario) -> Result<Trace, SimError> {
    let race = Race::new(
        scenario.config.clone(),
        scenario.engine_target(),
        Instant::ZERO,
    )
    .map_err(SimError::Start)?;
    let mut dns_index: BTreeMap<(String, RecordType), VecDeque<usize>> = BTreeMap::new();
    let dns_len = match &scenario.target {
        ScenarioTarget::Host { name, dns, .. } => {
            for (i, e) in dns.iter().enumerate() {
                let key = dns_key(e.name.as_deref().unwrap_or(name));
                dns_index.entry((key, e.record)).or_default().push_back(i);
            }
            dns.len()
        }
        ScenarioTarget::Addresses(_) => 0,
    };
    let mut sim = Sim {
        scenario,
        race,
        events: Vec::new(),
        used: vec![false; dns_len],
        dns_due: BTreeMap::new(),
        results_due: BTreeMap::new(),
        result_at: BTreeMap::new(),
        dns_index,
        end: Instant::ZERO,
    };
    sim.drain(Instant::ZERO)?;
    let cancel_at = scenario.cancel_at.map(|d| Instant::ZERO + d);
    for _ in 0..MAX_STEPS {
        if sim.race.is_finished() {
            return Ok(sim.finish());
        }
        let dns = sim.dns_due.keys().next().map(|k| k.0);
        let result = sim.results_due.keys().next().map(|k| k.0);
        let timer = sim.race.poll_timeout();
        let Some(t) = [dns, result, timer, cancel_at].into_iter().flatten().min() else {
            return Ok(sim.finish());
        };
        if dns == Some(t) {
            sim.deliver_dns()?;
        } else if result == Some(t) {
            sim.deliver_result()?;
        } else if timer == Some(t) {
            sim.race.handle_timeout(t).map_err(input)?;
            sim.drain(t)?;
        } else {
            sim.race.cancel(t).map_err(input)?;
            sim.drain(t)?;
        }
    }
    Err(SimError::TooManySteps)
}

fn input(e: eyeballs::InputError) -> SimError {
    SimError::Input(e.to_string())
}

fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

impl Sim<'_> {
    /// Records `event` at virtual time `at` (the race starts at [`Instant::ZERO`]).
    fn push(&mut self, at: Instant, event: Event) {
        self.end = self.end.max(at);
        self.events.push(TimedEvent {
            at: at.since_epoch(),
            event,
        });
    }

    /// Where attempt `id` connects, and over which transport (the engine's record of it).
    fn endpoint(&self, id: AttemptId) -> Result<(SocketAddr, Protocol), SimError> {
        self.race
            .attempt(id)
            .map(|a| (a.addr, a.protocol))
            .ok_or_else(|| SimError::Input(format!("the engine does not know {id}")))
    }

    fn deliver_dns(&mut self) -> Result<(), SimError> {
        let Some(((t, id), (name, record, answer))) = self.dns_due.pop_first() else {
            return Ok(());
        };
        self.push(
            t,
            Event::Answer {
                id,
                name,
                record,
                answer: answer.clone(),
            },
        );
        self.race.handle_dns(t, id, answer).map_err(input)?;
        self.drain(t)
    }

    fn deliver_result(&mut self) -> Result<(), SimError> {
        let Some(((t, id), result)) = self.results_due.pop_first() else {
            return Ok(());
        };
        self.result_at.remove(&id);
        let (addr, protocol) = self.endpoint(id)?;
        let failure = match result {
            NetResult::Connected => {
                self.push(t, Event::Connected { id, addr, protocol });
                self.race.handle_connected(t, id).map_err(input)?;
                return self.drain(t);
            }
            NetResult::Refused => AttemptFailure::Refused,
            NetResult::Unreachable => AttemptFailure::Unreachable,
            NetResult::Fail | NetResult::Hang => AttemptFailure::Other,
        };
        self.push(
            t,
            Event::Failed {
                id,
                addr,
                protocol,
                failure,
                detail: None,
            },
        );
        self.race.handle_failed(t, id, failure).map_err(input)?;
        self.drain(t)
    }

    /// Takes every action the engine has, logs it, and schedules what it sets in motion.
    fn drain(&mut self, t: Instant) -> Result<(), SimError> {
        while let Some(action) = self.race.poll_action() {
            match action {
                Action::Resolve { id, name, record } => {
                    let name = String::from(&*name);
                    self.push(
                        t,
                        Event::Query {
                            id,
                            name: name.clone(),
                            record,
                        },
                    );
                    self.schedule_dns(t, id, name, record);
                }
                Action::Attempt(a) => {
                    let rule = self
                        .scenario
                        .network
                        .iter()
                        .find(|r| r.matches(&a.addr, a.protocol));
                    if let Some(rule) = rule {
                        if rule.result != NetResult::Hang {
                            let at = t + rule.after;
                            self.results_due.insert((at, a.id), rule.result);
                            self.result_at.insert(a.id, at);
                        }
                    }
                    self.push(t, Event::Attempt(a));
                }
                Action::Cancel { id, reason } => {
                    if let Some(at) = self.result_at.remove(&id) {
                        self.results_due.remove(&(at, id));
                    }
                    let (addr, protocol) = self.endpoint(id)?;
                    self.push(
                        t,
                        Event::Cancel {
                            id,
                            addr,
                            protocol,
                            reason,
                        },
                    );
                }
                Action::CancelQueries => {
                    self.dns_due.clear();
                    self.push(t, Event::CancelQueries);
                }
                Action::Finished(_) => {
                    self.end = self.end.max(t);
                }
            }
        }
        Ok(())
    }

    fn schedule_dns(&mut self, t: Instant, id: QueryId, name: String, record: RecordType) {
        let ScenarioTarget::Host { dns, .. } = &self.scenario.target else {
            return;
        };
        // The first unused entry that answers the query (`DnsEntry::answers`), by its index.
        let found = self
            .dns_index
            .get_mut(&(dns_key(&name), record))
            .and_then(VecDeque::pop_front)
            .and_then(|i| dns.get(i).map(|e| (i, e)));
        if let Some((i, entry)) = found {
            self.used[i] = true;
            self.dns_due
                .insert((t + entry.after, id), (name, record, entry.answer.clone()));
        }
    }

    fn finish(self) -> Trace {
        let unused = match &self.scenario.target {
            ScenarioTarget::Host { name, dns, .. } => dns
                .iter()
                .zip(&self.used)
                .filter(|(_, used)| !**used)
                .map(|(e, _)| (e.name.clone().unwrap_or_else(|| name.clone()), e.record))
                .collect(),
            ScenarioTarget::Addresses(_) => Vec::new(),
        };
        Trace {
            name: self.scenario.name.clone(),
            outcome: self.race.outcome().cloned(),
            end: self.race.outcome().map_or(self.end, |o| o.at.max(self.end)),
            events: self.events,
            unused,
        }
    }
}

impl fmt::Display for Trace {
    /// A readable timeline: one line per event with its virtual time (as a race report
    /// prints it: [`TimedEvent`]'s line), then the outcome.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.name.is_empty() {
            writeln!(f, "{}", self.name)?;
        }
        for e in &self.events {
            writeln!(f, "{e}")?;
        }
        match &self.outcome {
            Some(o) => writeln!(f, "outcome: {o}")?,
            None => writeln!(
                f,
                "outcome: still waiting at {} with nothing left to happen (no timeout set)",
                self.end
            )?,
        }
        for (name, record) in &self.unused {
            writeln!(f, "unused DNS entry: {record} {name}")?;
        }
        Ok(())
    }
}
