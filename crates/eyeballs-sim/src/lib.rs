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
//! ## Secure racing: a transport handshake before the secure one
//!
//! A network rule may say when an attempt's transport handshake finishes apart from its
//! result ([`NetRule::transport_after`], `transport_after_ms` in the scenario format): TCP
//! connects then, and the secure handshake (TLS) goes on until the rule's result (`connected`:
//! the secure handshake finished; `handshake`, or any other failure: it failed, e.g. a
//! certificate rejected; `hang`: it never finishes, the TLS-dead path of a TCP-terminating
//! proxy). At that instant the
//! simulator records [`Event::TransportConnected`] and gives the engine
//! [`Race::handle_progress`], which extends the Next Connection Attempt Timer (HEv3 §6.1).
//!
//! ```
//! use std::time::Duration;
//! use eyeballs_sim::{run, NetResult, NetRule, Scenario};
//!
//! let ms = Duration::from_millis;
//! let scenario = Scenario::addresses(
//!     "TCP connects over IPv6 after 150 ms, TLS takes 300 ms more; IPv4 answers in 20 ms",
//!     ["[2001:db8::1]:443".parse().unwrap(), "192.0.2.1:443".parse().unwrap()],
//! )
//! .rule(NetRule::addr("2001:db8::1".parse().unwrap(), NetResult::Connected, ms(450))
//!     .with_transport_after(ms(150)))
//! .rule(NetRule::any(NetResult::Connected, ms(20)));
//! let trace = run(&scenario).unwrap();
//! let lines: Vec<String> = trace.events.iter().map(|e| e.to_string()).collect();
//! assert_eq!(lines, [
//!     "     0.000ms  attempt    #0 [2001:db8::1]:443 over tcp",
//!     "   150.000ms  transport  #0 [2001:db8::1]:443 over tcp (secure handshake under way)",
//!     // The timer, due at 250 ms, moved to 150 + 2 x 150 = 450 ms: IPv6 connects first.
//!     "   450.000ms  connected  #0 [2001:db8::1]:443 over tcp",
//! ]);
//! ```
//!
//! ## Ordering of simultaneous events
//!
//! Events due at the same virtual time are delivered in this order: DNS answers (in query
//! order), then attempt events, transport handshakes and results alike (in attempt start
//! order; an attempt's transport handshake before its own result), then timers, then the
//! caller's cancel. So of two attempts that connect at the same instant the one started
//! first wins; an attempt that connects exactly when the next attempt is due prevents that
//! attempt; and a transport handshake that finishes exactly when the next attempt is due
//! extends the timer before it fires.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod json;
pub mod monitor;
pub mod scenarios;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use eyeballs::{
    Action, AttemptFailure, AttemptId, Config, DnsAnswer, InputError, Instant, Outcome, Protocol,
    QueryId, Race, RecordType, StartError, Target,
};

use monitor::Monitor;

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
/// by the same lowercase names). With a transport handshake first
/// ([`NetRule::transport_after`]), it is how the secure handshake after it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetResult {
    /// The attempt connects (ready for the application: after a transport handshake, the
    /// secure handshake finished too).
    Connected,
    /// The peer refuses.
    Refused,
    /// No route.
    Unreachable,
    /// Any other failure.
    Fail,
    /// The secure handshake failed (a TLS alert, a rejected certificate, a QUIC handshake
    /// error): the engine's [`AttemptFailure::Handshake`]. With a transport handshake first
    /// ([`NetRule::transport_after`]), the transport connected and the handshake above it
    /// failed.
    Handshake,
    /// Nothing ever happens (until the engine cancels it); after a transport handshake, the
    /// secure handshake never finishes (a TCP-terminating proxy in front of a dead server).
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
    /// How long after the attempt starts (ignored for [`NetResult::Hang`]).
    pub after: Duration,
    /// How long after the attempt starts its transport handshake finishes, when the attempt
    /// has a secure handshake after it (`None`: its result is all there is). The simulator
    /// then records [`Event::TransportConnected`] and calls [`Race::handle_progress`]; the
    /// secure handshake ends as `result` says, `after` the start. A time later than
    /// `after` is never reached (the attempt has ended by then); the scenario format refuses
    /// it.
    pub transport_after: Option<Duration>,
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
            transport_after: None,
        }
    }

    /// A rule for every attempt to `addr`.
    pub fn addr(addr: IpAddr, result: NetResult, after: Duration) -> NetRule {
        NetRule {
            addr: Some(addr),
            ..NetRule::any(result, after)
        }
    }

    /// The same rule for an attempt whose transport handshake finishes `after` its start,
    /// before a secure handshake that ends as the rule says
    /// ([`transport_after`](NetRule::transport_after)).
    ///
    /// ```
    /// use std::time::Duration;
    /// use eyeballs_sim::{NetResult, NetRule};
    ///
    /// // TCP connects after 1 ms; TLS never answers (the TLS-dead path).
    /// let rule = NetRule::any(NetResult::Hang, Duration::ZERO)
    ///     .with_transport_after(Duration::from_millis(1));
    /// assert_eq!(rule.transport_after, Some(Duration::from_millis(1)));
    /// ```
    pub fn with_transport_after(self, after: Duration) -> NetRule {
        NetRule {
            transport_after: Some(after),
            ..self
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

/// What the simulator drives: the race itself ([`run`]), or the race under the invariant
/// monitor ([`run_monitored`]). The same calls, with the same results.
trait Engine {
    fn race(&self) -> &Race;
    fn handle_dns(
        &mut self,
        now: Instant,
        id: QueryId,
        answer: DnsAnswer,
    ) -> Result<(), InputError>;
    fn handle_connected(&mut self, now: Instant, id: AttemptId) -> Result<(), InputError>;
    fn handle_failed(
        &mut self,
        now: Instant,
        id: AttemptId,
        failure: AttemptFailure,
    ) -> Result<(), InputError>;
    fn handle_progress(&mut self, now: Instant, id: AttemptId) -> Result<(), InputError>;
    fn handle_timeout(&mut self, now: Instant) -> Result<(), InputError>;
    fn cancel(&mut self, now: Instant) -> Result<(), InputError>;
    fn poll_action(&mut self) -> Option<Action>;
}

/// Forwards every [`Engine`] call to the type's own method of the same name.
macro_rules! engine_by_name {
    ($t:ty, $race:expr) => {
        impl Engine for $t {
            fn race(&self) -> &Race {
                $race(self)
            }
            fn handle_dns(
                &mut self,
                now: Instant,
                id: QueryId,
                answer: DnsAnswer,
            ) -> Result<(), InputError> {
                <$t>::handle_dns(self, now, id, answer)
            }
            fn handle_connected(&mut self, now: Instant, id: AttemptId) -> Result<(), InputError> {
                <$t>::handle_connected(self, now, id)
            }
            fn handle_failed(
                &mut self,
                now: Instant,
                id: AttemptId,
                failure: AttemptFailure,
            ) -> Result<(), InputError> {
                <$t>::handle_failed(self, now, id, failure)
            }
            fn handle_progress(&mut self, now: Instant, id: AttemptId) -> Result<(), InputError> {
                <$t>::handle_progress(self, now, id)
            }
            fn handle_timeout(&mut self, now: Instant) -> Result<(), InputError> {
                <$t>::handle_timeout(self, now)
            }
            fn cancel(&mut self, now: Instant) -> Result<(), InputError> {
                <$t>::cancel(self, now)
            }
            fn poll_action(&mut self) -> Option<Action> {
                <$t>::poll_action(self)
            }
        }
    };
}

engine_by_name!(Race, std::convert::identity);
engine_by_name!(Monitor, Monitor::race);

struct Sim<'a, E> {
    scenario: &'a Scenario,
    race: E,
    events: Vec<TimedEvent>,
    /// Scripted answers not yet used: (index into the scenario's dns list).
    used: Vec<bool>,
    /// Answers due: (time, query id) -> answer.
    dns_due: BTreeMap<(Instant, QueryId), (String, RecordType, DnsAnswer)>,
    /// Attempt events due, in delivery order: (time, attempt id, transport or result).
    attempts_due: BTreeSet<(Instant, AttemptId, Stage)>,
    /// What is scripted for each attempt in flight (to deliver it, and to drop it when the
    /// attempt is cancelled).
    scripted: BTreeMap<AttemptId, Scripted>,
    /// The scripted answers not yet used, by (name without case and trailing dots, record
    /// type), in scenario order.
    dns_index: BTreeMap<(String, RecordType), VecDeque<usize>>,
    end: Instant,
}

/// What the network does to an attempt at an instant. At one instant an attempt's transport
/// handshake comes before its own result (the order of the variants).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    /// Its transport handshake finishes; the secure handshake goes on.
    Transport,
    /// It ends as its rule says.
    Result,
}

/// An attempt's scripted future, from the rule that matched it when it started.
#[derive(Clone, Copy, Debug, Default)]
struct Scripted {
    /// When its transport handshake finishes, until it has.
    transport: Option<Instant>,
    /// When and how it ends (`None`: it hangs).
    result: Option<(Instant, NetResult)>,
}

/// The key of a name in `Sim::dns_index`: compared as [`DnsEntry::answers`] compares names.
fn dns_key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Runs `scenario` to its end: until the race finishes, or until nothing is left to happen.
pub fn run(scenario: &Scenario) -> Result<Trace, SimError> {
    run_engine(scenario, start(scenario)?).map(|(trace, _)| trace)
}

/// Runs `scenario` as [`run`] does, with the race under the invariant [`Monitor`], which
/// checks every rule after every step; returns the trace (the same as [`run`]'s) and the
/// monitor, to [`check`](Monitor::check) and to read its log.
///
/// ```
/// use std::time::Duration;
/// use eyeballs_sim::{NetResult, NetRule, Scenario, run, run_monitored};
///
/// let scenario = Scenario::addresses(
///     "TLS dead over IPv6",
///     ["[2001:db8::1]:443".parse().unwrap(), "192.0.2.1:443".parse().unwrap()],
/// )
/// .rule(NetRule::addr("2001:db8::1".parse().unwrap(), NetResult::Hang, Duration::ZERO)
///     .with_transport_after(Duration::from_millis(1)))
/// .rule(NetRule::any(NetResult::Connected, Duration::from_millis(20)));
/// let (trace, monitor) = run_monitored(&scenario).unwrap();
/// monitor.check().unwrap();
/// assert_eq!(trace, run(&scenario).unwrap());
/// ```
pub fn run_monitored(scenario: &Scenario) -> Result<(Trace, Monitor), SimError> {
    run_engine(scenario, Monitor::new(start(scenario)?))
}

/// The scenario's race, started at virtual time zero.
fn start(scenario: &Scenario) -> Result<Race, SimError> {
    Race::new(
        scenario.config.clone(),
        scenario.engine_target(),
        Instant::ZERO,
    )
    .map_err(SimError::Start)
}

/// Runs `scenario` to its end on `race` (fresh: nothing polled yet); returns the trace and the
/// engine.
fn run_engine<E: Engine>(scenario: &Scenario, race: E) -> Result<(Trace, E), SimError> {
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
        attempts_due: BTreeSet::new(),
        scripted: BTreeMap::new(),
        dns_index,
        end: Instant::ZERO,
    };
    sim.drain(Instant::ZERO)?;
    let cancel_at = scenario.cancel_at.map(|d| Instant::ZERO + d);
    for _ in 0..MAX_STEPS {
        if sim.race.race().is_finished() {
            return Ok(sim.finish());
        }
        let dns = sim.dns_due.keys().next().map(|k| k.0);
        let attempt = sim.attempts_due.first().map(|k| k.0);
        let timer = sim.race.race().poll_timeout();
        let Some(t) = [dns, attempt, timer, cancel_at].into_iter().flatten().min() else {
            return Ok(sim.finish());
        };
        if dns == Some(t) {
            sim.deliver_dns()?;
        } else if attempt == Some(t) {
            sim.deliver_attempt_event()?;
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

impl<E: Engine> Sim<'_, E> {
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
            .race()
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

    /// The first attempt event due: a transport handshake or a result.
    fn deliver_attempt_event(&mut self) -> Result<(), SimError> {
        let Some((t, id, stage)) = self.attempts_due.pop_first() else {
            return Ok(());
        };
        let (addr, protocol) = self.endpoint(id)?;
        let result = match stage {
            Stage::Transport => {
                if let Some(s) = self.scripted.get_mut(&id) {
                    s.transport = None;
                }
                self.push(t, Event::TransportConnected { id, addr, protocol });
                self.race.handle_progress(t, id).map_err(input)?;
                return self.drain(t);
            }
            Stage::Result => self.unschedule(id).and_then(|s| s.result),
        };
        let Some((_, result)) = result else {
            return Err(SimError::Input(format!("no result was scripted for {id}")));
        };
        let failure = match result {
            NetResult::Connected => {
                self.push(t, Event::Connected { id, addr, protocol });
                self.race.handle_connected(t, id).map_err(input)?;
                return self.drain(t);
            }
            NetResult::Refused => AttemptFailure::Refused,
            NetResult::Unreachable => AttemptFailure::Unreachable,
            NetResult::Handshake => AttemptFailure::Handshake,
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
                        self.schedule_attempt(t, a.id, rule);
                    }
                    self.push(t, Event::Attempt(a));
                }
                Action::Cancel { id, reason } => {
                    self.unschedule(id);
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

    /// Schedules what `rule` says for attempt `id`, started at `t`.
    fn schedule_attempt(&mut self, t: Instant, id: AttemptId, rule: &NetRule) {
        let scripted = Scripted {
            transport: rule.transport_after.map(|after| t + after),
            result: (rule.result != NetResult::Hang).then(|| (t + rule.after, rule.result)),
        };
        if let Some(at) = scripted.transport {
            self.attempts_due.insert((at, id, Stage::Transport));
        }
        if let Some((at, _)) = scripted.result {
            self.attempts_due.insert((at, id, Stage::Result));
        }
        if scripted.transport.is_some() || scripted.result.is_some() {
            self.scripted.insert(id, scripted);
        }
    }

    /// Drops everything still scheduled for attempt `id` (it ended, or was cancelled), and
    /// returns what was scripted for it.
    fn unschedule(&mut self, id: AttemptId) -> Option<Scripted> {
        let s = self.scripted.remove(&id)?;
        if let Some(at) = s.transport {
            self.attempts_due.remove(&(at, id, Stage::Transport));
        }
        if let Some((at, _)) = s.result {
            self.attempts_due.remove(&(at, id, Stage::Result));
        }
        Some(s)
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

    fn finish(self) -> (Trace, E) {
        let unused = match &self.scenario.target {
            ScenarioTarget::Host { name, dns, .. } => dns
                .iter()
                .zip(&self.used)
                .filter(|(_, used)| !**used)
                .map(|(e, _)| (e.name.clone().unwrap_or_else(|| name.clone()), e.record))
                .collect(),
            ScenarioTarget::Addresses(_) => Vec::new(),
        };
        let outcome = self.race.race().outcome().cloned();
        let trace = Trace {
            name: self.scenario.name.clone(),
            end: outcome.as_ref().map_or(self.end, |o| o.at.max(self.end)),
            outcome,
            events: self.events,
            unused,
        };
        (trace, self.race)
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
