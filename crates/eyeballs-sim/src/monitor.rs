//! A step-by-step invariant monitor for a live [`Race`]: property- and fuzz-test race
//! ordering with it.
//!
//! A [`Monitor`] wraps a race and mirrors its API (`handle_*`, [`cancel`](Monitor::cancel),
//! [`poll_action`](Monitor::poll_action), [`poll_timeout`](Monitor::poll_timeout)). Every input
//! goes to the race unchanged and returns the race's own result; after each one the monitor
//! takes the actions the race emitted, records input, result and actions with their time in a
//! [`log`](Monitor::log), and checks them against an independent model of the rules below. The
//! first broken rule is kept as a typed [`Violation`] (which rule, which attempt, which step,
//! when): ask for it with [`check`](Monitor::check).
//!
//! What is checked after every step (the rules of the crate docs of `eyeballs`, "Pacing"):
//!
//! 1. The first attempt starts as soon as an address may be used: without HTTPS records, the
//!    race connects as soon as a positive answer is in and the preferred family has answered
//!    (HEv3 §4.2), or when the Resolution Delay (entered at the first positive answer, lasting
//!    [`Config::resolution_delay`]) has run out; and once it connects, an endpoint waiting to be
//!    tried starts at once when the pacing allows.
//! 2. Pacing: an attempt starts only when the most recent attempt has failed (or timed out) or
//!    has run for its Connection Attempt Delay (RFC 8305 §5, HEv3 §6; extended by
//!    [`handle_progress`](Race::handle_progress) as HEv3 §6.1 allows), and it does start then
//!    if anything is left to try. The failure of an older attempt changes nothing.
//! 3. An attempt ends only by its own result, its attempt timeout, or the end of the race.
//! 4. The first attempt to connect wins; every other attempt in flight is cancelled in that
//!    step, in start order; `Finished` is the last action ever.
//! 5. When nothing is in flight, nothing is left to try and no DNS answer is awaited, the race
//!    has failed (in that step); and it fails only then.
//! 6. [`Config::max_concurrent_attempts`] is never exceeded.
//!
//! And the contract around them: every started attempt ends exactly once (connected, failed
//! or cancelled), none is lost when the race finishes, ids count up from 0; timers (attempt
//! timeout, total timeout, Resolution Delay, next attempt) fire neither early nor late, with
//! the documented tie rule (a timer due strictly before an input's `now` fires before that
//! input, at `now`; one due exactly at `now` only on [`handle_timeout`](Race::handle_timeout)),
//! and [`poll_timeout`](Race::poll_timeout) names exactly the earliest of them (the next
//! attempt's time only while an endpoint waits), never before the latest `now` given, but
//! possibly equal to it (after an input at the very instant of a deadline); each refused input
//! returns exactly the [`InputError`] the contract names (what is wrong with the input itself,
//! or else, for an input that is valid in itself, what the timers due before its `now` make
//! of it: checked on a copy of the race advanced to 1 ns before) and changes nothing: no
//! action, and [`phase`](Race::phase), [`pending_endpoints`](Race::pending_endpoints),
//! [`poll_timeout`](Race::poll_timeout), [`attempts`](Race::attempts),
//! [`outcome`](Race::outcome), [`skipped`](Race::skipped) and
//! [`service_info_settled`](Race::service_info_settled) as before; after `Finished` every
//! input is refused with [`InputError::Finished`]; and [`attempts`](Race::attempts),
//! [`phase`](Race::phase) and [`outcome`](Race::outcome) agree with the actions.
//!
//! Every attempt is to a destination that may be used: connectable, of a family with
//! connectivity, over an allowed transport, not tried before, in its canonical form (an
//! IPv4-mapped address is the IPv4 address it maps and is started as such), and allowed by
//! [`Config::filter`] when asked about the IPv4 address the destination carries, if it
//! carries one (IPv4-mapped, inside the NAT64 Well-Known Prefix `64:ff9b::/96`, inside
//! [`Config::nat64_prefix`]). The monitor computes these itself, from `std` and RFC 6052
//! arithmetic, not from the engine's own helpers. Every name sent out in a query is a host
//! name the engine accepts.
//!
//! Wrap a race before taking any action from it (or build it with [`Monitor::start`]). The
//! monitor assumes a deterministic [`PathInfoProvider`](eyeballs::PathInfoProvider), as it
//! asks it again for each attempt's Connection Attempt Delay.
//!
//! ```
//! use eyeballs::{Action, AttemptFailure, Config, Instant, Target};
//! use eyeballs_sim::monitor::Monitor;
//!
//! let v6 = "[2001:db8::1]:443".parse().unwrap();
//! let v4 = "192.0.2.1:443".parse().unwrap();
//! let mut m = Monitor::start(Config::default(), Target::addresses([v6, v4]), Instant::ZERO).unwrap();
//! let Some(Action::Start(first)) = m.poll_action() else { panic!() };
//!
//! // The first attempt fails after 30 ms: the second starts at once (rule 2).
//! m.handle_failed(Instant::from_millis(30), first.id, AttemptFailure::Refused).unwrap();
//! let Some(Action::Start(second)) = m.poll_action() else { panic!() };
//! m.handle_connected(Instant::from_millis(50), second.id).unwrap();
//! assert!(m.is_finished());
//! m.check().unwrap();
//!
//! // Bad input is refused with a typed error, and the monitor checks that it was the right one.
//! assert!(m.handle_failed(Instant::from_millis(60), first.id, AttemptFailure::Other).is_err());
//! m.check().unwrap();
//! assert_eq!(m.log().len(), 4);
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::net::{IpAddr, SocketAddr};

use eyeballs::{
    Action, AttemptError, AttemptFailure, AttemptId, AttemptRecord, AttemptState,
    CONNECTION_ATTEMPT_DELAY_FLOOR, CancelReason, Config, DnsAnswer, DnsError, DnsFailure,
    FailReason, Family, InputError, Instant, Outcome, Phase, Protocol, QueryId, Race, RaceResult,
    RecordType, Skipped, StartError, Target, check_connectable,
};

/// One input given to a race.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// [`Race::handle_dns`].
    Dns {
        /// The query answered.
        id: QueryId,
        /// The answer.
        answer: DnsAnswer,
    },
    /// [`Race::handle_connected`].
    Connected(AttemptId),
    /// [`Race::handle_failed`].
    Failed(AttemptId, AttemptFailure),
    /// [`Race::handle_progress`].
    Progress(AttemptId),
    /// [`Race::handle_timeout`].
    Timeout,
    /// [`Race::cancel`].
    Cancel,
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::Dns { id, answer } => match answer {
                DnsAnswer::Addresses(list) => write!(f, "answer {id}: {list:?}"),
                DnsAnswer::Services(records) => {
                    write!(f, "answer {id}: {} service record(s)", records.len())
                }
                DnsAnswer::Error(e) => write!(f, "answer {id}: {e}"),
            },
            Input::Connected(id) => write!(f, "connected #{}", id.0),
            Input::Failed(id, failure) => write!(f, "failed #{} ({failure})", id.0),
            Input::Progress(id) => write!(f, "progress #{}", id.0),
            Input::Timeout => f.write_str("timeout"),
            Input::Cancel => f.write_str("cancel"),
        }
    }
}

/// One step of a monitored race: an input (or the race's creation), its time, the race's
/// answer and every action the race emitted in response, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The `now` given with the input (the race's start for its creation).
    pub at: Instant,
    /// The input; `None` for the race's creation.
    pub input: Option<Input>,
    /// What the race returned.
    pub result: Result<(), InputError>,
    /// The actions it emitted.
    pub actions: Vec<Action>,
}

impl fmt::Display for Step {
    /// One line: time, input, result, actions.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>12}  ", self.at.to_string())?;
        match &self.input {
            Some(input) => write!(f, "{input}")?,
            None => f.write_str("created")?,
        }
        if let Err(e) = &self.result {
            write!(f, " -> refused: {e}")?;
        }
        for a in &self.actions {
            match a {
                Action::Resolve { id, name, record } => {
                    write!(f, "; resolve {id} {record} {name}")?
                }
                Action::Start(a) => write!(f, "; start #{} {} {}", a.id.0, a.addr, a.protocol)?,
                Action::Cancel { id, reason } => write!(f, "; cancel #{} ({reason:?})", id.0)?,
                Action::CancelQueries => f.write_str("; cancel queries")?,
                Action::Finished(r) => write!(f, "; finished {r:?}")?,
            }
        }
        Ok(())
    }
}

/// Which rule a [`Violation`] breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// Rule 1: the race did not move to connecting when an address could be used (HEv3 §4.2),
    /// or moved before.
    FirstAttempt,
    /// Rule 2: an attempt started before the most recent one failed or ran for its
    /// Connection Attempt Delay.
    StartedTooEarly,
    /// Rules 1, 2, 6: an attempt was due (something left to try, the pacing and the cap
    /// allowing it) and did not start.
    NotStarted,
    /// Rule 3: an attempt was cancelled while the race went on, other than by its timeout.
    Abandoned,
    /// Rule 4: the win was not handled as the rules say (wrong result, attempts not
    /// cancelled in start order at that moment).
    Win,
    /// Rule 4: an action after `Finished`.
    AfterFinish,
    /// Rule 5: every attempt failed with nothing left and nothing awaited, and the race did
    /// not fail; or it failed while something was still in flight, left or awaited.
    AllFailed,
    /// Rule 6: more attempts in flight than [`Config::max_concurrent_attempts`].
    ConcurrencyCap,
    /// An attempt ended twice, or the race finished without ending it, or an action named an
    /// attempt that does not exist, or attempt ids did not count up from 0.
    Lifecycle,
    /// An attempt timeout, the total timeout or the Resolution Delay fired early or late.
    Timer,
    /// [`Race::poll_timeout`] is not the earliest pending deadline (or is in the past).
    Wakeup,
    /// An input got another result than the contract says, or a refused input changed the
    /// race.
    Input,
    /// A query that should not have been sent, or a phase change the rules do not allow.
    Resolution,
    /// An attempt to an address that may not be used (unconnectable, no connectivity for its
    /// family, refused by the filter, a transport not allowed, or tried before).
    Destination,
    /// [`Race::attempts`], [`Race::phase`] or [`Race::outcome`] disagree with the actions.
    Report,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rule::FirstAttempt => "rule 1 (first attempt as soon as an address may be used)",
            Rule::StartedTooEarly => "rule 2 (pacing: started too early)",
            Rule::NotStarted => "rules 1/2/6 (an attempt was due and did not start)",
            Rule::Abandoned => "rule 3 (attempt abandoned)",
            Rule::Win => "rule 4 (the first to connect wins, the rest are cancelled)",
            Rule::AfterFinish => "rule 4 (nothing after Finished)",
            Rule::AllFailed => "rule 5 (the race fails when everything has failed)",
            Rule::ConcurrencyCap => "rule 6 (concurrency cap)",
            Rule::Lifecycle => "attempt lifecycle",
            Rule::Timer => "timer",
            Rule::Wakeup => "poll_timeout",
            Rule::Input => "input contract",
            Rule::Resolution => "resolution",
            Rule::Destination => "destination",
            Rule::Report => "reporting getters",
        })
    }
}

/// A broken rule: which one, which attempt (when one is concerned), in which step of the
/// [`log`](Monitor::log), at what time, and what exactly happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The rule.
    pub rule: Rule,
    /// The attempt concerned, if any.
    pub attempt: Option<AttemptId>,
    /// The index of the step in [`Monitor::log`].
    pub step: usize,
    /// The time of that step.
    pub at: Instant,
    /// What happened, in words.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "step {} at {}: {}", self.step, self.at, self.rule)?;
        if let Some(id) = self.attempt {
            write!(f, ", {id}")?;
        }
        write!(f, ": {}", self.detail)
    }
}

impl std::error::Error for Violation {}

/// A [`Race`] under watch. See the [module docs](self).
pub struct Monitor {
    race: Race,
    model: Model,
    log: Vec<Step>,
    queue: VecDeque<Action>,
    violation: Option<Violation>,
}

impl Monitor {
    /// Creates a race ([`Race::new`]) and watches it from its first action.
    pub fn start(config: Config, target: Target, now: Instant) -> Result<Monitor, StartError> {
        Race::new(config, target, now).map(Monitor::new)
    }

    /// Watches `race`, which must be fresh: no action taken from it and no input given yet.
    /// The actions it emitted on creation are checked as step 0.
    pub fn new(race: Race) -> Monitor {
        let model = Model::new(race.config().clone(), race.started_at());
        let mut monitor = Monitor {
            race,
            model,
            log: Vec::new(),
            queue: VecDeque::new(),
            violation: None,
        };
        let at = monitor.race.started_at();
        monitor.step(at, None, Ok(()));
        monitor
    }

    /// [`Race::handle_dns`], checked.
    pub fn handle_dns(
        &mut self,
        now: Instant,
        id: QueryId,
        answer: DnsAnswer,
    ) -> Result<(), InputError> {
        self.apply(now, Input::Dns { id, answer })
    }

    /// [`Race::handle_connected`], checked.
    pub fn handle_connected(&mut self, now: Instant, id: AttemptId) -> Result<(), InputError> {
        self.apply(now, Input::Connected(id))
    }

    /// [`Race::handle_failed`], checked.
    pub fn handle_failed(
        &mut self,
        now: Instant,
        id: AttemptId,
        failure: AttemptFailure,
    ) -> Result<(), InputError> {
        self.apply(now, Input::Failed(id, failure))
    }

    /// [`Race::handle_progress`], checked.
    pub fn handle_progress(&mut self, now: Instant, id: AttemptId) -> Result<(), InputError> {
        self.apply(now, Input::Progress(id))
    }

    /// [`Race::handle_timeout`], checked.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), InputError> {
        self.apply(now, Input::Timeout)
    }

    /// [`Race::cancel`], checked.
    pub fn cancel(&mut self, now: Instant) -> Result<(), InputError> {
        self.apply(now, Input::Cancel)
    }

    /// Gives `input` to the race at `now` (the `handle_*` method it names) and checks the
    /// step. Returns the race's own result.
    pub fn apply(&mut self, now: Instant, input: Input) -> Result<(), InputError> {
        let race = &mut self.race;
        let result = match &input {
            Input::Dns { id, answer } => race.handle_dns(now, *id, answer.clone()),
            Input::Connected(id) => race.handle_connected(now, *id),
            Input::Failed(id, failure) => race.handle_failed(now, *id, *failure),
            Input::Progress(id) => race.handle_progress(now, *id),
            Input::Timeout => race.handle_timeout(now),
            Input::Cancel => race.cancel(now),
        };
        self.step(now, Some(input), result.clone());
        result
    }

    fn step(&mut self, at: Instant, input: Option<Input>, result: Result<(), InputError>) {
        let mut actions = Vec::new();
        while let Some(action) = self.race.poll_action() {
            actions.push(action);
        }
        if self.violation.is_none() {
            let mut cx = Cx::new(self.log.len(), at, input.as_ref(), &result);
            let mut obs = Observed::of(&self.race);
            if let (Err(_), Some(input)) = (&result, &input) {
                obs.ahead = self.model.look_ahead(&self.race, at, input);
            }
            if let Err(v) = self.model.check_step(&obs, &mut cx, &actions) {
                self.violation = Some(v);
            }
        }
        self.queue.extend(actions.iter().cloned());
        self.log.push(Step {
            at,
            input,
            result,
            actions,
        });
    }

    /// The next action of the race (already checked), as [`Race::poll_action`].
    pub fn poll_action(&mut self) -> Option<Action> {
        self.queue.pop_front()
    }

    /// [`Race::poll_timeout`].
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.race.poll_timeout()
    }

    /// Whether the race has finished.
    pub fn is_finished(&self) -> bool {
        self.race.is_finished()
    }

    /// The race, for its getters.
    pub fn race(&self) -> &Race {
        &self.race
    }

    /// Stops watching and hands the race back (with any actions not yet polled from the
    /// monitor lost: poll them first).
    pub fn into_race(self) -> Race {
        self.race
    }

    /// The queries asked and still open (neither answered nor cancelled), in the order
    /// asked: id, record type and name. Drivers and fuzzers pick the next answer from here.
    pub fn open_queries(&self) -> impl Iterator<Item = (QueryId, RecordType, &str)> {
        self.model
            .queries
            .iter()
            .enumerate()
            .filter(|(_, q)| q.open)
            .map(|(i, q)| {
                let id = QueryId(u32::try_from(i).unwrap_or(u32::MAX));
                (id, q.record, q.name.as_str())
            })
    }

    /// Every step so far: the creation, then one per input.
    pub fn log(&self) -> &[Step] {
        &self.log
    }

    /// The log as text, one step a line (for failure messages).
    pub fn history(&self) -> String {
        self.log.iter().map(|s| format!("{s}\n")).collect()
    }

    /// The first rule broken so far, if any.
    pub fn violation(&self) -> Option<&Violation> {
        self.violation.as_ref()
    }

    /// `Ok` while no rule has been broken; otherwise the first [`Violation`].
    pub fn check(&self) -> Result<(), Violation> {
        match &self.violation {
            None => Ok(()),
            Some(v) => Err(v.clone()),
        }
    }
}

impl fmt::Debug for Monitor {
    /// The race, the monitor's model of it, the actions not yet polled and the violation, if
    /// any; not the log. Two monitors of the same configuration with equal
    /// `Debug` text behave the same from here on (useful to deduplicate states when exploring).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Monitor")
            .field("race", &self.race)
            .field("model", &self.model)
            .field("queue", &self.queue)
            .field("violation", &self.violation)
            .finish_non_exhaustive()
    }
}

/// What the getters of the race say at the end of a step.
#[derive(Clone, Copy, Debug)]
struct Observed<'a> {
    phase: Phase,
    pending: usize,
    attempts: &'a [AttemptRecord],
    outcome: Option<&'a Outcome>,
    poll_timeout: Option<Instant>,
    skipped: &'a [Skipped],
    settled: bool,
    /// For a refused input: what the timers due strictly before its `now` do to the race.
    ahead: Option<Ahead>,
}

impl<'a> Observed<'a> {
    fn of(race: &'a Race) -> Observed<'a> {
        Observed {
            phase: race.phase(),
            pending: race.pending_endpoints(),
            attempts: race.attempts(),
            outcome: race.outcome(),
            poll_timeout: race.poll_timeout(),
            skipped: race.skipped(),
            settled: race.service_info_settled(),
            ahead: None,
        }
    }
}

/// The race after the timers due strictly before an input's `now` have fired (on a copy):
/// what a refusal of an input that is valid in itself must be explained by.
#[derive(Clone, Copy, Debug)]
struct Ahead {
    finished: bool,
    /// The state of the attempt the input names, if any.
    attempt: Option<AttemptState>,
}

/// What the monitor knows of one attempt.
#[derive(Clone, Debug)]
struct Shadow {
    addr: SocketAddr,
    protocol: Protocol,
    started: Instant,
    /// When its attempt timeout fires.
    deadline: Option<Instant>,
    state: AttemptState,
}

#[derive(Clone, Debug)]
struct QueryModel {
    name: String,
    record: RecordType,
    open: bool,
    answered: bool,
    /// The addresses of its latest positive answer (a definitive negative clears them; a
    /// transient error keeps them, as the engine does).
    addrs: Vec<IpAddr>,
}

/// The monitor's own model of the race, built from the actions and inputs only.
#[derive(Clone, Debug)]
struct Model {
    config: Config,
    started: Instant,
    now: Instant,
    finished: bool,
    /// How it finished.
    result: Option<RaceResult>,
    /// Built from literal addresses (no query at creation).
    literal: bool,
    attempts: Vec<Shadow>,
    /// The next attempt may start (rule 2).
    gate_open: bool,
    /// While the gate is closed: when the most recent attempt will have run for its delay.
    gate_at: Option<Instant>,
    queries: Vec<QueryModel>,
    /// A non-empty address answer was accepted.
    positive: bool,
    /// The Resolution Delay has run out.
    rd_expired: bool,
    /// A non-empty address answer or a service record with hints was accepted.
    maybe_positive: bool,
    dns_errors: Vec<DnsFailure>,
    /// Observed at the end of the previous step.
    phase: Phase,
    pending: usize,
    poll_timeout: Option<Instant>,
    skipped: Vec<Skipped>,
    settled: bool,
}

/// A finishing sequence (cancels, cancel queries, finished) in progress within a step.
#[derive(Clone, Debug)]
struct FinishSeq {
    /// The attempts in flight when it began, in start order.
    in_flight: Vec<AttemptId>,
    /// Queries were open when it began.
    open_queries: bool,
    cancels: Vec<(AttemptId, CancelReason)>,
    cancel_queries: bool,
    /// It is the effect of a timer, not of the input.
    by_timer: bool,
}

/// Per-step context.
struct Cx<'a> {
    step: usize,
    now: Instant,
    input: Option<&'a Input>,
    result: &'a Result<(), InputError>,
    /// `handle_timeout`: timers due exactly at `now` fire too.
    inclusive: bool,
    /// The input's effect has been applied to the model (actions from now on are its).
    input_applied: bool,
    /// Some timer was due in this step.
    timers_due: bool,
    /// An attempt timed out in this step.
    timed_out: bool,
    started: bool,
    finish: Option<FinishSeq>,
    /// The index of the `Finished` action.
    finished_at: Option<usize>,
    /// The input was accepted and requires the race to finish in this step.
    must_finish: Option<RaceResult>,
}

impl<'a> Cx<'a> {
    fn new(
        step: usize,
        now: Instant,
        input: Option<&'a Input>,
        result: &'a Result<(), InputError>,
    ) -> Cx<'a> {
        Cx {
            step,
            now,
            input,
            result,
            inclusive: matches!(input, Some(Input::Timeout)),
            input_applied: false,
            timers_due: false,
            timed_out: false,
            started: false,
            finish: None,
            finished_at: None,
            must_finish: None,
        }
    }

    fn violation(&self, rule: Rule, attempt: Option<AttemptId>, detail: String) -> Violation {
        Violation {
            rule,
            attempt,
            step: self.step,
            at: self.now,
            detail,
        }
    }

    /// Whether a deadline has been reached in this step (the tie rule of [`Race`]).
    fn due(&self, t: Instant) -> bool {
        t < self.now || (self.inclusive && t <= self.now)
    }

    /// Actions may still be timer effects (they come before the input's).
    fn timer_phase(&self) -> bool {
        !self.input_applied || self.inclusive
    }
}

fn count(n: usize) -> AttemptId {
    AttemptId(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Why `name` is not a host name the engine accepts, if it is not one: a race refuses it as
/// a host target. A race takes a name that is an IP address literal as that address, without
/// judging it as a name, so such a name is asked with a trailing dot (the same host name, if
/// it is one: `192.0.2.2.` is, `2001:db8::6.` is not).
fn not_a_host_name(name: &str) -> Option<String> {
    let probe = match name.parse::<IpAddr>() {
        Ok(_) => format!("{name}."),
        Err(_) => name.to_owned(),
    };
    match Race::new(Config::default(), Target::host(&probe, 1), Instant::ZERO) {
        Err(StartError::HostName(e)) => Some(e.to_string()),
        _ => None,
    }
}

fn cancel_reason_for(result: RaceResult) -> Option<CancelReason> {
    match result {
        RaceResult::Connected(_) => Some(CancelReason::LostRace),
        RaceResult::Cancelled => Some(CancelReason::Cancelled),
        RaceResult::TimedOut => Some(CancelReason::RaceTimedOut),
        RaceResult::Failed(FailReason::ServiceResolutionFailed) => {
            Some(CancelReason::ServiceResolutionFailed)
        }
        RaceResult::Failed(_) => None,
    }
}

/// The family of an address, by the rule the monitor holds the race to: an IPv4-mapped
/// address is the IPv4 address it maps (computed here, not by the engine's `Family::of`).
fn ip_family(ip: IpAddr) -> Family {
    match ip.to_canonical() {
        IpAddr::V4(_) => Family::V4,
        IpAddr::V6(_) => Family::V6,
    }
}

/// What the destination filter must have said yes to for an attempt to `ip`: the IPv4 address
/// it carries when it carries one (IPv4-mapped; inside the NAT64 Well-Known Prefix, RFC 6052
/// §3.1; inside the configured NAT64 prefix), otherwise `ip`. Computed here from `std` and the
/// RFC 6052 prefix arithmetic, independently of the engine's own rule.
fn judged(ip: IpAddr, c: &Config) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => eyeballs::nat64::WELL_KNOWN_PREFIX
            .extract(v6)
            .or_else(|| c.nat64_prefix.and_then(|p| p.extract(v6)))
            .map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

fn record_family(record: RecordType) -> Option<Family> {
    match record {
        RecordType::Aaaa => Some(Family::V6),
        RecordType::A => Some(Family::V4),
        RecordType::Https => None,
    }
}

impl Model {
    /// The engine's history rule: while every usable address answered for the preferred
    /// family is marked broken by the configuration's path information and the host's query
    /// for the other family is still open, the race waits for that answer (up to the
    /// Resolution Delay), as it does for AAAA after an early A.
    fn preferred_known_broken(&self, c: &Config, preferred: RecordType) -> bool {
        let Some(host) = self.queries.first().map(|q| q.name.clone()) else {
            return false;
        };
        let other_open = self.queries.iter().any(|q| {
            q.name == host && q.record != preferred && q.record != RecordType::Https && q.open
        });
        let Some(provider) = &c.path_info else {
            return false;
        };
        let mut usable = self
            .queries
            .iter()
            .filter(|q| q.name == host && q.record == preferred)
            .flat_map(|q| q.addrs.iter().map(|ip| ip.to_canonical()))
            .filter_map(|ip| {
                let connect = match (ip, c.nat64_prefix) {
                    (IpAddr::V4(v4), Some(p)) => p.synthesize(v4).map_or(ip, IpAddr::V6),
                    _ => ip,
                };
                let ok = check_connectable(&SocketAddr::new(connect, 1)).is_ok()
                    && c.connectivity.has(ip_family(connect))
                    && c.filter
                        .as_ref()
                        .is_none_or(|f| f.check(judged(ip, c)).is_ok());
                ok.then(|| provider.path_info(connect).broken)
            })
            .peekable();
        other_open && usable.peek().is_some() && usable.all(|broken| broken)
    }

    fn new(config: Config, started: Instant) -> Model {
        Model {
            config,
            started,
            now: started,
            finished: false,
            result: None,
            literal: false,
            attempts: Vec::new(),
            gate_open: true,
            gate_at: None,
            queries: Vec::new(),
            positive: false,
            rd_expired: false,
            maybe_positive: false,
            dns_errors: Vec::new(),
            phase: Phase::Resolving,
            pending: 0,
            poll_timeout: None,
            skipped: Vec::new(),
            settled: true,
        }
    }

    /// For a refused `input` at `now` that is valid in itself: a copy of the race with the
    /// timers due strictly before `now` fired (`handle_timeout` 1 ns earlier). `None` when no
    /// timer can be due (time has not moved) or the race has finished.
    fn look_ahead(&self, race: &Race, now: Instant, input: &Input) -> Option<Ahead> {
        if self.finished || now <= self.now || self.expected_result(input).is_err() {
            return None;
        }
        let mut copy = race.clone();
        copy.handle_timeout(Instant::from_nanos(now.as_nanos() - 1))
            .ok()?;
        let attempt = match input {
            Input::Connected(id) | Input::Failed(id, _) | Input::Progress(id) => {
                copy.attempts().get(id.0 as usize).map(|a| a.state)
            }
            _ => None,
        };
        Some(Ahead {
            finished: copy.is_finished(),
            attempt,
        })
    }

    /// Remembers what the getters said at the end of a step, for the next one.
    fn observe(&mut self, obs: &Observed<'_>) {
        self.phase = obs.phase;
        self.pending = obs.pending;
        self.poll_timeout = obs.poll_timeout;
        if self.skipped.len() != obs.skipped.len() {
            self.skipped = obs.skipped.to_vec();
        }
        self.settled = obs.settled;
    }

    /// A refused input: it got the error the contract names (what is wrong with the input
    /// itself, or else what a timer due before its `now` does to it), emitted nothing, and
    /// changed nothing any getter shows.
    fn check_refused(
        &mut self,
        obs: &Observed<'_>,
        cx: &Cx<'_>,
        actions: &[Action],
        input: &Input,
        error: &InputError,
    ) -> Result<(), Violation> {
        let v = |detail: String| Err(cx.violation(Rule::Input, None, detail));
        if let Some(a) = actions.first() {
            return v(format!("a refused input ({input}: {error}) emitted {a:?}"));
        }
        match self.expected_result(input) {
            Err(expected) if expected == *error => {}
            Err(expected) => {
                return v(format!(
                    "{input} returned {error:?}; the contract says {expected:?}"
                ));
            }
            Ok(()) => {
                // Valid in itself: only a timer due before `now` may refuse it, with the
                // error the timer makes it.
                let now = cx.now;
                let explained = match (obs.ahead, error) {
                    (Some(a), InputError::Finished) => a.finished,
                    (
                        Some(a),
                        InputError::AttemptAlreadyEnded {
                            state:
                                AttemptState::Failed {
                                    at,
                                    failure: AttemptFailure::TimedOut,
                                },
                            ..
                        },
                    ) => {
                        !a.finished
                            && *at == now
                            && matches!(
                                a.attempt,
                                Some(AttemptState::Failed {
                                    failure: AttemptFailure::TimedOut,
                                    ..
                                })
                            )
                    }
                    _ => false,
                };
                if !explained {
                    return v(format!(
                        "{input} at {now} is valid, yet it was refused with {error:?}, which the \
                         timers due before {now} do not explain (they give {:?})",
                        obs.ahead
                    ));
                }
            }
        }
        self.check_unchanged(obs, cx, input, error)
    }

    /// After a refused input: every getter says what it said before the input.
    fn check_unchanged(
        &self,
        obs: &Observed<'_>,
        cx: &Cx<'_>,
        input: &Input,
        error: &InputError,
    ) -> Result<(), Violation> {
        let v = |detail: String| Err(cx.violation(Rule::Input, None, detail));
        let unchanged = obs.phase == self.phase
            && obs.pending == self.pending
            && obs.poll_timeout == self.poll_timeout
            && obs.outcome.is_some() == self.finished
            && obs.skipped == self.skipped.as_slice()
            && obs.settled == self.settled;
        if !unchanged {
            return v(format!(
                "a refused input ({input}: {error}) changed the race: phase {:?} -> {:?}, \
                 pending {} -> {}, poll_timeout {:?} -> {:?}, outcome {:?}, skipped {} -> {}, \
                 service info settled {} -> {}",
                self.phase,
                obs.phase,
                self.pending,
                obs.pending,
                self.poll_timeout,
                obs.poll_timeout,
                obs.outcome.map(|o| o.result),
                self.skipped.len(),
                obs.skipped.len(),
                self.settled,
                obs.settled
            ));
        }
        self.check_getters(obs, cx)
    }

    fn total_deadline(&self) -> Option<Instant> {
        self.config.total_timeout.map(|t| self.started + t)
    }

    fn in_flight(&self) -> impl Iterator<Item = (AttemptId, &Shadow)> {
        self.attempts
            .iter()
            .enumerate()
            .filter(|(_, a)| a.state == AttemptState::InFlight)
            .map(|(i, a)| (count(i), a))
    }

    fn in_flight_count(&self) -> usize {
        self.in_flight().count()
    }

    fn open_queries(&self) -> bool {
        self.queries.iter().any(|q| q.open)
    }

    fn cap_allows(&self) -> bool {
        self.config
            .max_concurrent_attempts
            .is_none_or(|cap| self.in_flight_count() < cap as usize)
    }

    fn check_step(
        &mut self,
        obs: &Observed<'_>,
        cx: &mut Cx<'_>,
        actions: &[Action],
    ) -> Result<(), Violation> {
        let now = cx.now;
        let Some(input) = cx.input else {
            // The race's creation: every action is its effect.
            self.literal = !actions.iter().any(|a| matches!(a, Action::Resolve { .. }));
            self.positive = self.literal;
            self.maybe_positive = self.literal;
            cx.input_applied = true;
            return self.walk(obs, cx, actions);
        };
        if self.finished {
            if *cx.result != Err(InputError::Finished) {
                return Err(cx.violation(
                    Rule::Input,
                    None,
                    format!(
                        "{input} after Finished returned {:?}, not InputError::Finished",
                        cx.result
                    ),
                ));
            }
            if let Some(a) = actions.first() {
                return Err(cx.violation(Rule::AfterFinish, None, format!("{a:?} after Finished")));
            }
            return self.check_unchanged(obs, cx, input, &InputError::Finished);
        }
        if now < self.now {
            let backwards = InputError::TimeWentBackwards {
                last: self.now,
                now,
            };
            let expected = Err(backwards.clone());
            if *cx.result != expected {
                return Err(cx.violation(
                    Rule::Input,
                    None,
                    format!(
                        "{input} at {now} after {} returned {:?}, not {expected:?}",
                        self.now, cx.result
                    ),
                ));
            }
            if let Some(a) = actions.first() {
                return Err(cx.violation(
                    Rule::Input,
                    None,
                    format!("refused input (time went backwards) emitted {a:?}"),
                ));
            }
            return self.check_unchanged(obs, cx, input, &backwards);
        }
        if let Err(e) = cx.result {
            return self.check_refused(obs, cx, actions, input, e);
        }
        self.now = now;
        // Timers due in this step. The gate's own timer opens it before anything else
        // starts (a start replaces the gate's deadline only once the gate is open).
        cx.timers_due = self.total_deadline().is_some_and(|t| cx.due(t))
            || self
                .in_flight()
                .any(|(_, a)| a.deadline.is_some_and(|t| cx.due(t)))
            || matches!(self.phase, Phase::ResolutionDelay { until } if cx.due(until))
            || self.gate_at.is_some_and(|t| cx.due(t));
        if self.gate_at.is_some_and(|t| cx.due(t)) {
            self.gate_open = true;
            self.gate_at = None;
        }
        if cx.inclusive {
            // handle_timeout: its only effect is the timers.
            self.apply_input(cx)?;
        }
        self.walk(obs, cx, actions)
    }

    /// Checks every action in order, then the state at the end of the step.
    fn walk(
        &mut self,
        obs: &Observed<'_>,
        cx: &mut Cx<'_>,
        actions: &[Action],
    ) -> Result<(), Violation> {
        for (i, action) in actions.iter().enumerate() {
            if cx.finished_at.is_some() {
                return Err(cx.violation(
                    Rule::AfterFinish,
                    None,
                    format!("{action:?} after Finished"),
                ));
            }
            if !cx.input_applied && !self.timer_explains(cx, action) {
                self.apply_input(cx)?;
                if cx.result.is_err() {
                    return Err(cx.violation(
                        Rule::Input,
                        None,
                        format!(
                            "the input was refused ({:?}) yet the race emitted {action:?}, \
                             which no timer explains",
                            cx.result
                        ),
                    ));
                }
            }
            self.action(obs, cx, action)?;
            if matches!(action, Action::Finished(_)) {
                cx.finished_at = Some(i);
            }
        }
        if !cx.input_applied {
            self.apply_input(cx)?;
        }
        self.end_of_step(obs, cx)
    }

    /// Whether `action` can be the effect of a timer due in this step (timers fire before the
    /// input is applied).
    fn timer_explains(&self, cx: &Cx<'_>, action: &Action) -> bool {
        let total_due = self.total_deadline().is_some_and(|t| cx.due(t));
        match action {
            Action::Resolve { .. } => false,
            // A start that the cap would block now may be the effect of the input (an older
            // attempt failing frees a slot).
            Action::Start(_) => self.gate_open && self.cap_allows(),
            Action::Cancel {
                reason: CancelReason::AttemptTimedOut,
                ..
            } => true,
            Action::Cancel { reason, .. } => {
                total_due && *reason == CancelReason::RaceTimedOut
                    || cx.finish.as_ref().is_some_and(|f| f.by_timer)
            }
            Action::CancelQueries => total_due,
            Action::Finished(result) => match result {
                RaceResult::TimedOut => total_due,
                RaceResult::Failed(FailReason::AllAttemptsFailed) => {
                    cx.timed_out && self.in_flight_count() == 0 && !self.open_queries()
                }
                _ => false,
            },
        }
    }

    /// Applies the step's input to the model, after checking the race's result for it.
    fn apply_input(&mut self, cx: &mut Cx<'_>) -> Result<(), Violation> {
        cx.input_applied = true;
        let Some(input) = cx.input else {
            return Ok(());
        };
        let expected = self.expected_result(input);
        if *cx.result != expected {
            return Err(cx.violation(
                Rule::Input,
                None,
                format!(
                    "{input} returned {:?}; the contract says {expected:?}",
                    cx.result
                ),
            ));
        }
        if expected.is_err() {
            return Ok(());
        }
        let now = cx.now;
        match input {
            Input::Timeout => {}
            Input::Cancel => cx.must_finish = Some(RaceResult::Cancelled),
            Input::Connected(id) => {
                if let Some(a) = self.attempts.get_mut(id.0 as usize) {
                    a.state = AttemptState::Connected { at: now };
                }
                cx.must_finish = Some(RaceResult::Connected(*id));
            }
            Input::Failed(id, failure) => self.fail(*id, now, *failure),
            Input::Progress(id) => {
                // HEv3 §6.1: progress of the most recent attempt extends the wait for the
                // next one to at least two handshake times (the time so far), never shorter
                // than the floor of RFC 8305 §5 nor longer than the maximum delay.
                let most_recent = id.0 as usize + 1 == self.attempts.len();
                if let (true, Some(at), Some(a)) =
                    (most_recent, self.gate_at, self.attempts.get(id.0 as usize))
                {
                    let extension = now
                        .saturating_duration_since(a.started)
                        .saturating_mul(2)
                        .max(CONNECTION_ATTEMPT_DELAY_FLOOR)
                        .min(self.config.max_connection_attempt_delay);
                    self.gate_at = Some(at.max(now + extension));
                }
            }
            Input::Dns { id, answer } => {
                let Some(q) = self.queries.get_mut(id.0 as usize) else {
                    return Ok(());
                };
                q.open = false;
                q.answered = true;
                match answer {
                    DnsAnswer::Addresses(list) => q.addrs = list.clone(),
                    DnsAnswer::Error(e) if e.is_definitive() => q.addrs.clear(),
                    _ => {}
                }
                let error = match answer {
                    DnsAnswer::Addresses(list) if list.is_empty() => Some(DnsError::NoData),
                    DnsAnswer::Addresses(_) => {
                        self.positive = true;
                        self.maybe_positive = true;
                        None
                    }
                    DnsAnswer::Services(records) if records.is_empty() => Some(DnsError::NoData),
                    DnsAnswer::Services(records) => {
                        if records
                            .iter()
                            .any(|r| !r.ipv4hint.is_empty() || !r.ipv6hint.is_empty())
                        {
                            self.maybe_positive = true;
                        }
                        None
                    }
                    DnsAnswer::Error(e) => Some(*e),
                };
                if let Some(error) = error {
                    let failure = DnsFailure {
                        name: q.name.clone(),
                        record: q.record,
                        error,
                    };
                    if !self.dns_errors.contains(&failure) {
                        self.dns_errors.push(failure);
                    }
                }
            }
        }
        Ok(())
    }

    /// What the contract says the race must return for `input` now.
    fn expected_result(&self, input: &Input) -> Result<(), InputError> {
        match input {
            // handle_timeout only refuses a finished race or time going backwards, both
            // checked before its timers fire.
            Input::Timeout => Ok(()),
            _ if self.finished => Err(InputError::Finished),
            Input::Cancel => Ok(()),
            Input::Connected(id) | Input::Failed(id, _) | Input::Progress(id) => {
                match self.attempts.get(id.0 as usize) {
                    None => Err(InputError::UnknownAttempt(*id)),
                    Some(a) if a.state != AttemptState::InFlight => {
                        Err(InputError::AttemptAlreadyEnded {
                            id: *id,
                            state: a.state,
                        })
                    }
                    Some(_) => Ok(()),
                }
            }
            Input::Dns { id, answer } => {
                let Some(q) = self.queries.get(id.0 as usize) else {
                    return Err(InputError::UnknownQuery(*id));
                };
                let mismatch = |addr| {
                    Err(InputError::AnswerMismatch {
                        id: *id,
                        asked: q.record,
                        addr,
                    })
                };
                match (answer, record_family(q.record)) {
                    (DnsAnswer::Addresses(list), Some(family)) => {
                        // An AAAA answer may hold any IPv6 address (an IPv4-mapped one is then
                        // IPv4); an A answer only IPv4 addresses, plain or mapped.
                        let fits = |ip: &IpAddr| match family {
                            Family::V6 => ip.is_ipv6(),
                            Family::V4 => ip_family(*ip) == Family::V4,
                        };
                        match list.iter().find(|ip| !fits(ip)) {
                            Some(bad) => mismatch(Some(*bad)),
                            None => Ok(()),
                        }
                    }
                    (DnsAnswer::Services(_), None) | (DnsAnswer::Error(_), _) => Ok(()),
                    _ => mismatch(None),
                }
            }
        }
    }

    /// An attempt failed (by the input or its timeout): rule 2 opens the gate when it is the
    /// most recent one.
    fn fail(&mut self, id: AttemptId, now: Instant, failure: AttemptFailure) {
        let most_recent = id.0 as usize + 1 == self.attempts.len();
        if let Some(a) = self.attempts.get_mut(id.0 as usize) {
            a.state = AttemptState::Failed { at: now, failure };
        }
        if most_recent {
            self.gate_open = true;
            self.gate_at = None;
        }
    }

    fn action(
        &mut self,
        obs: &Observed<'_>,
        cx: &mut Cx<'_>,
        action: &Action,
    ) -> Result<(), Violation> {
        let now = cx.now;
        match action {
            Action::Resolve { id, name, record } => {
                let expected = QueryId(u32::try_from(self.queries.len()).unwrap_or(u32::MAX));
                let may_resolve = match cx.input {
                    None => true,
                    Some(Input::Dns { .. }) => cx.result.is_ok(),
                    Some(_) => false,
                };
                if !may_resolve || cx.finish.is_some() {
                    return Err(cx.violation(
                        Rule::Resolution,
                        None,
                        format!("{action:?} in a step that cannot ask for anything"),
                    ));
                }
                if *id != expected {
                    return Err(cx.violation(
                        Rule::Resolution,
                        None,
                        format!("query ids must count up: got {id}, expected {expected}"),
                    ));
                }
                // Every name sent out is one the engine accepts as a host name: a service
                // record's TargetName that is not one is never resolved.
                if let Some(e) = not_a_host_name(name) {
                    return Err(cx.violation(
                        Rule::Resolution,
                        None,
                        format!("{record} query for {name:?}, which is not a host name: {e}"),
                    ));
                }
                let c = &self.config;
                let allowed = match record {
                    RecordType::Aaaa => c.connectivity.ipv6,
                    RecordType::A => c.connectivity.ipv4 || c.nat64_prefix.is_some(),
                    RecordType::Https => c.query_https,
                };
                if !allowed {
                    return Err(cx.violation(
                        Rule::Resolution,
                        None,
                        format!(
                            "{record} query for {name} that the configuration rules out (HEv3 §4.1)"
                        ),
                    ));
                }
                self.queries.push(QueryModel {
                    name: name.clone(),
                    record: *record,
                    open: true,
                    answered: false,
                    addrs: Vec::new(),
                });
            }
            Action::Start(attempt) => {
                let id = attempt.id;
                let v = |rule, detail: String| Err(cx.violation(rule, Some(id), detail));
                if cx.finish.is_some() {
                    return v(
                        Rule::AfterFinish,
                        "started while the race was finishing".into(),
                    );
                }
                if id != count(self.attempts.len()) {
                    return v(
                        Rule::Lifecycle,
                        format!(
                            "attempt ids must count up from 0: expected #{}",
                            self.attempts.len()
                        ),
                    );
                }
                let can_start = match cx.input {
                    None | Some(Input::Dns { .. }) | Some(Input::Failed(..)) => true,
                    Some(_) => cx.timer_phase(),
                };
                if !can_start {
                    return v(
                        Rule::StartedTooEarly,
                        "started by an input that cannot start anything".into(),
                    );
                }
                if !self.gate_open {
                    let (prev, prev_shadow) = match self.attempts.last() {
                        Some(p) => (count(self.attempts.len() - 1), p),
                        None => return v(Rule::StartedTooEarly, "gate closed".into()),
                    };
                    return v(
                        Rule::StartedTooEarly,
                        format!(
                            "the most recent attempt, #{} (started at {}), has neither failed \
                             nor run for its delay (until {})",
                            prev.0,
                            prev_shadow.started,
                            self.gate_at.map_or_else(|| "?".into(), |t| t.to_string())
                        ),
                    );
                }
                if !self.cap_allows() {
                    return v(
                        Rule::ConcurrencyCap,
                        format!(
                            "{} attempts already in flight, cap {:?}",
                            self.in_flight_count(),
                            self.config.max_concurrent_attempts
                        ),
                    );
                }
                self.check_destination(cx, attempt.id, attempt.addr, attempt.protocol)?;
                let path = self
                    .config
                    .path_info
                    .as_ref()
                    .map(|p| p.path_info(attempt.addr.ip()))
                    .unwrap_or_default();
                let delay = self.config.attempt_delay_for(&path);
                self.attempts.push(Shadow {
                    addr: attempt.addr,
                    protocol: attempt.protocol,
                    started: now,
                    deadline: self.config.attempt_timeout.map(|t| now + t),
                    state: AttemptState::InFlight,
                });
                self.gate_open = false;
                self.gate_at = Some(now + delay);
                cx.started = true;
            }
            Action::Cancel {
                id,
                reason: CancelReason::AttemptTimedOut,
            } => {
                let v = |rule, detail: String| Err(cx.violation(rule, Some(*id), detail));
                if cx.finish.is_some() {
                    return v(
                        Rule::Lifecycle,
                        "an attempt timed out while the race was finishing".into(),
                    );
                }
                if !cx.timer_phase() {
                    return v(
                        Rule::Timer,
                        "attempt timeout after the input's effects (timers due before now \
                         fire before the input)"
                            .into(),
                    );
                }
                let Some(a) = self.attempts.get(id.0 as usize) else {
                    return v(Rule::Lifecycle, "cancel of an attempt never started".into());
                };
                if a.state != AttemptState::InFlight {
                    return v(
                        Rule::Lifecycle,
                        format!("timed out, but it already ended ({:?})", a.state),
                    );
                }
                match a.deadline {
                    Some(t) if cx.due(t) => {}
                    deadline => {
                        return v(
                            Rule::Abandoned,
                            format!(
                                "cancelled as timed out at {now}; its deadline is {deadline:?}"
                            ),
                        );
                    }
                }
                self.fail(*id, now, AttemptFailure::TimedOut);
                cx.timed_out = true;
            }
            Action::Cancel { id, reason } => {
                self.begin_finish(cx);
                let v = |rule, detail: String| Err(cx.violation(rule, Some(*id), detail));
                let Some(a) = self.attempts.get(id.0 as usize) else {
                    return v(Rule::Lifecycle, "cancel of an attempt never started".into());
                };
                if a.state != AttemptState::InFlight {
                    return v(
                        Rule::Lifecycle,
                        format!(
                            "cancelled ({reason:?}), but it already ended ({:?})",
                            a.state
                        ),
                    );
                }
                let cancels = cx.finish.as_ref().map_or(&[][..], |f| &f.cancels[..]);
                if cancels.last().is_some_and(|(last, _)| last >= id) {
                    return v(
                        Rule::Win,
                        "cancels at the end of the race must come in start order".into(),
                    );
                }
                if cancels.first().is_some_and(|(_, r)| r != reason) {
                    return v(Rule::Lifecycle, "cancels with different reasons".into());
                }
                if let Some(f) = cx.finish.as_mut() {
                    f.cancels.push((*id, *reason));
                }
            }
            Action::CancelQueries => {
                self.begin_finish(cx);
                if let Some(f) = cx.finish.as_mut() {
                    if f.cancel_queries {
                        return Err(cx.violation(
                            Rule::Resolution,
                            None,
                            "CancelQueries twice".into(),
                        ));
                    }
                    f.cancel_queries = true;
                }
            }
            Action::Finished(result) => {
                self.begin_finish(cx);
                self.finish(obs, cx, *result)?;
            }
        }
        Ok(())
    }

    fn check_destination(
        &self,
        cx: &Cx<'_>,
        id: AttemptId,
        addr: SocketAddr,
        protocol: Protocol,
    ) -> Result<(), Violation> {
        let c = &self.config;
        let ip = addr.ip();
        let judged = judged(ip, c);
        let problem = if let Err(why) = check_connectable(&addr) {
            Some(format!("{addr} is unconnectable: {why}"))
        } else if !c.connectivity.has(ip_family(ip)) {
            Some(format!("{addr}: no connectivity for its family"))
        } else if !c.protocols.has(protocol) {
            Some(format!("{protocol} is not an allowed transport"))
        } else if self
            .attempts
            .iter()
            .any(|a| a.addr == addr && a.protocol == protocol)
        {
            Some(format!("{addr} over {protocol} was attempted before"))
        } else if let Some(why) = c.filter.as_ref().and_then(|f| f.check(judged).err()) {
            Some(format!(
                "{addr} (judged as {judged}) is refused by the destination filter: {why}"
            ))
        } else if ip.to_canonical() != ip {
            Some(format!(
                "{addr} is IPv4-mapped: it is the IPv4 address it maps and must be started in \
                 that form"
            ))
        } else {
            None
        };
        match problem {
            Some(detail) => Err(cx.violation(Rule::Destination, Some(id), detail)),
            None => Ok(()),
        }
    }

    /// The first action of a finishing sequence: decides whether it is a timer's or the
    /// input's, and takes note of what is in flight and open.
    fn begin_finish(&mut self, cx: &mut Cx<'_>) {
        if cx.finish.is_some() {
            return;
        }
        cx.finish = Some(FinishSeq {
            in_flight: self.in_flight().map(|(id, _)| id).collect(),
            open_queries: self.open_queries(),
            cancels: Vec::new(),
            cancel_queries: false,
            by_timer: !cx.input_applied,
        });
    }

    fn finish(
        &mut self,
        obs: &Observed<'_>,
        cx: &mut Cx<'_>,
        result: RaceResult,
    ) -> Result<(), Violation> {
        let Some(f) = cx.finish.take() else {
            return Ok(());
        };
        let v = |rule, attempt, detail: String| Err(cx.violation(rule, attempt, detail));
        let svcb_fail = self.config.query_https && self.config.svcb_reliant;
        let allowed = if f.by_timer || cx.inclusive {
            let total_due = self.total_deadline().is_some_and(|t| cx.due(t));
            match result {
                RaceResult::TimedOut => total_due,
                RaceResult::Failed(FailReason::AllAttemptsFailed) => cx.timed_out,
                _ => false,
            }
        } else {
            match (cx.input, result) {
                (None, RaceResult::Failed(FailReason::NoAddresses)) => true,
                (Some(Input::Connected(id)), RaceResult::Connected(won)) => *id == won,
                (Some(Input::Cancel), RaceResult::Cancelled) => true,
                (Some(Input::Failed(..)), RaceResult::Failed(FailReason::AllAttemptsFailed)) => {
                    true
                }
                (Some(Input::Dns { .. }), RaceResult::Failed(reason)) => {
                    reason != FailReason::ServiceResolutionFailed || svcb_fail
                }
                _ => false,
            }
        };
        if !allowed {
            let rule = match result {
                RaceResult::Connected(_) => Rule::Win,
                RaceResult::Failed(_) => Rule::AllFailed,
                RaceResult::TimedOut => Rule::Timer,
                RaceResult::Cancelled => Rule::Input,
            };
            return v(
                rule,
                None,
                format!(
                    "finished as {result:?} after {}",
                    cx.input
                        .map_or_else(|| "creation".to_string(), |i| i.to_string())
                ),
            );
        }
        // Every attempt in flight is cancelled, in start order, for the reason the result
        // gives: none is lost (rule 4, and rule 3 for the reason).
        let reason = cancel_reason_for(result);
        let cancelled: Vec<AttemptId> = f.cancels.iter().map(|c| c.0).collect();
        if cancelled != f.in_flight {
            let lost = f
                .in_flight
                .iter()
                .find(|id| !cancelled.contains(id))
                .copied();
            return v(
                if matches!(result, RaceResult::Connected(_)) {
                    Rule::Win
                } else {
                    Rule::Lifecycle
                },
                lost,
                format!(
                    "finished as {result:?} with {:?} in flight but cancelled {cancelled:?}",
                    f.in_flight
                ),
            );
        }
        if let Some((id, r)) = f.cancels.iter().find(|(_, r)| Some(*r) != reason) {
            return v(
                Rule::Abandoned,
                Some(*id),
                format!("cancelled as {r:?} when the race finished as {result:?}"),
            );
        }
        if f.cancel_queries != f.open_queries {
            return v(
                Rule::Resolution,
                None,
                format!(
                    "CancelQueries must come exactly when queries are open at the end \
                     (open: {}, emitted: {})",
                    f.open_queries, f.cancel_queries
                ),
            );
        }
        match result {
            RaceResult::Failed(FailReason::AllAttemptsFailed | FailReason::NoAddresses) => {
                let no_attempts = self.attempts.is_empty();
                let expected_reason = if no_attempts {
                    FailReason::NoAddresses
                } else {
                    FailReason::AllAttemptsFailed
                };
                if !f.in_flight.is_empty() || f.open_queries {
                    return v(
                        Rule::AllFailed,
                        None,
                        format!(
                            "failed with {:?} in flight and queries open: {}",
                            f.in_flight, f.open_queries
                        ),
                    );
                }
                if result != RaceResult::Failed(expected_reason) {
                    return v(
                        Rule::AllFailed,
                        None,
                        format!(
                            "finished as {result:?} with {} attempt(s) made",
                            self.attempts.len()
                        ),
                    );
                }
            }
            RaceResult::Connected(id) => {
                let winners = self
                    .attempts
                    .iter()
                    .filter(|a| matches!(a.state, AttemptState::Connected { .. }))
                    .count();
                if winners != 1 {
                    return v(Rule::Win, Some(id), format!("{winners} winners"));
                }
            }
            _ => {}
        }
        for (id, reason) in &f.cancels {
            if let Some(a) = self.attempts.get_mut(id.0 as usize) {
                a.state = AttemptState::Cancelled {
                    at: cx.now,
                    reason: *reason,
                };
            }
        }
        for q in &mut self.queries {
            q.open = false;
        }
        if cx.must_finish.is_some_and(|m| m != result) {
            return v(
                Rule::Win,
                None,
                format!("finished as {result:?}, expected {:?}", cx.must_finish),
            );
        }
        cx.must_finish = None;
        self.finished = true;
        self.result = Some(result);
        self.gate_at = None;
        self.check_outcome(obs, cx, result)
    }

    fn check_outcome(
        &self,
        obs: &Observed<'_>,
        cx: &Cx<'_>,
        result: RaceResult,
    ) -> Result<(), Violation> {
        let v = |detail: String| Err(cx.violation(Rule::Report, None, detail));
        let Some(o) = obs.outcome else {
            return v("Finished emitted but outcome() is None".into());
        };
        let winner = match result {
            RaceResult::Connected(id) => self
                .attempts
                .get(id.0 as usize)
                .map(|a| (a.addr, a.protocol)),
            _ => None,
        };
        let errors: Vec<AttemptError> = self
            .attempts
            .iter()
            .enumerate()
            .filter_map(|(i, a)| match a.state {
                AttemptState::Failed { failure, .. } => Some(AttemptError {
                    id: count(i),
                    addr: a.addr,
                    protocol: a.protocol,
                    failure,
                }),
                _ => None,
            })
            .collect();
        // Queries never sent because the name is not a host name (a service record's
        // TargetName) are reported as `InvalidName` failures: each must name a non-host name;
        // the other failures are the answers'.
        let (invalid, answered): (Vec<DnsFailure>, Vec<DnsFailure>) = o
            .dns_errors
            .iter()
            .cloned()
            .partition(|d| d.error == DnsError::InvalidName);
        if let Some(d) = invalid.iter().find(|d| not_a_host_name(&d.name).is_none()) {
            return v(format!("{d} is reported, but {:?} is a host name", d.name));
        }
        let expected = Outcome {
            at: cx.now,
            result,
            winner,
            errors,
            skipped: o.skipped.clone(),
            dns_errors: self.dns_errors.clone(),
        };
        let got = Outcome {
            dns_errors: answered,
            ..o.clone()
        };
        if got != expected {
            return v(format!("outcome() is {o:?}; the actions say {expected:?}"));
        }
        Ok(())
    }

    /// Checks the state at the end of a step: leftover due timers, starts that were due, rule
    /// 5, the wake-up time, the phase and the getters.
    fn end_of_step(&mut self, obs: &Observed<'_>, cx: &Cx<'_>) -> Result<(), Violation> {
        let now = cx.now;
        let v = |rule, attempt, detail: String| Err(cx.violation(rule, attempt, detail));
        let phase = obs.phase;
        let pending = obs.pending;
        if let Some(f) = &cx.finish {
            return v(
                Rule::Lifecycle,
                f.in_flight.first().copied(),
                "the race began to finish (cancels or CancelQueries) but never emitted Finished"
                    .into(),
            );
        }
        if let Some(m) = cx.must_finish {
            return v(
                Rule::Win,
                None,
                format!(
                    "{} was accepted but the race did not finish as {m:?}",
                    cx.input.map_or_else(String::new, |i| i.to_string())
                ),
            );
        }
        if self.finished {
            if phase != Phase::Finished {
                return v(
                    Rule::Report,
                    None,
                    format!("finished but phase() is {phase:?}"),
                );
            }
            if let Some(t) = obs.poll_timeout {
                return v(
                    Rule::Wakeup,
                    None,
                    format!("finished but poll_timeout() is {t}"),
                );
            }
            if let (Some(RaceResult::Failed(r)), true) = (self.result, pending > 0) {
                if r != FailReason::ServiceResolutionFailed {
                    return v(
                        Rule::AllFailed,
                        None,
                        format!("failed ({r:?}) with {pending} endpoint(s) never tried"),
                    );
                }
            }
            self.observe(obs);
            return self.check_getters(obs, cx);
        }
        if obs.outcome.is_some() || phase == Phase::Finished {
            return v(
                Rule::Report,
                None,
                "outcome()/phase() say finished, but no Finished action came".into(),
            );
        }
        // Timers whose deadline was reached in this step have fired.
        if let Some(t) = self.total_deadline().filter(|t| cx.due(*t)) {
            return v(
                Rule::Timer,
                None,
                format!("the total timeout ({t}) passed and the race goes on"),
            );
        }
        if let Some((id, a)) = self
            .in_flight()
            .find(|(_, a)| a.deadline.is_some_and(|t| cx.due(t)))
        {
            return v(
                Rule::Timer,
                Some(id),
                format!(
                    "its attempt timeout ({:?}) passed and it is still in flight",
                    a.deadline
                ),
            );
        }
        // Phase (rule 1).
        self.check_phase(cx, phase)?;
        if matches!(self.phase, Phase::ResolutionDelay { until } if cx.due(until)) {
            self.rd_expired = true;
        }
        // Rules 1, 2, 6: a start that is due happens in this step.
        if phase == Phase::Connecting && pending > 0 && self.gate_open && self.cap_allows() {
            return v(
                Rule::NotStarted,
                None,
                format!(
                    "{pending} endpoint(s) left, the most recent attempt has failed or run for \
                     its delay, {} in flight: an attempt must start now",
                    self.in_flight_count()
                ),
            );
        }
        // Rule 5.
        if self.in_flight_count() == 0 && pending == 0 && !self.open_queries() {
            return v(
                Rule::AllFailed,
                None,
                "nothing in flight, nothing left to try, no answer awaited: the race must have \
                 failed"
                    .into(),
            );
        }
        // The wake-up: exactly the earliest deadline, never in the past.
        let mut expected: Option<Instant> = None;
        let mut consider = |t: Instant| {
            if expected.is_none_or(|e| t < e) {
                expected = Some(t);
            }
        };
        if let Some(t) = self.total_deadline() {
            consider(t);
        }
        for (_, a) in self.in_flight() {
            if let Some(t) = a.deadline {
                consider(t);
            }
        }
        if let Phase::ResolutionDelay { until } = phase {
            consider(until);
        }
        if let (Some(t), true) = (self.gate_at, pending > 0) {
            consider(t);
        }
        let got = obs.poll_timeout;
        if got.is_some_and(|t| t < now) {
            return v(
                Rule::Wakeup,
                None,
                format!("poll_timeout() is {got:?}, before now ({now})"),
            );
        }
        if got != expected {
            return v(
                Rule::Wakeup,
                None,
                format!(
                    "poll_timeout() is {got:?}; the pending deadlines say {expected:?} (gate {:?}, \
                     {pending} pending)",
                    self.gate_at
                ),
            );
        }
        self.observe(obs);
        self.check_getters(obs, cx)
    }

    fn check_phase(&self, cx: &Cx<'_>, phase: Phase) -> Result<(), Violation> {
        let v = |rule, detail: String| Err(cx.violation(rule, None, detail));
        let c = &self.config;
        let reliant = c.query_https && c.svcb_reliant;
        let creation = cx.input.is_none();
        let ok = match (self.phase, phase) {
            (_, Phase::Finished) => false,
            (Phase::Finished, _) => false,
            (Phase::Connecting, p) => p == Phase::Connecting,
            (Phase::Resolving, _) => true,
            (Phase::ResolutionDelay { until }, Phase::ResolutionDelay { until: u2 }) => {
                creation || until == u2
            }
            (Phase::ResolutionDelay { .. }, Phase::Connecting) => true,
            (Phase::ResolutionDelay { until }, Phase::AwaitingServiceInfo) => {
                reliant && cx.due(until)
            }
            (Phase::ResolutionDelay { .. }, Phase::Resolving) => false,
            (Phase::AwaitingServiceInfo, p) => {
                matches!(p, Phase::AwaitingServiceInfo | Phase::Connecting)
            }
        };
        if !ok {
            return v(
                Rule::Resolution,
                format!("phase went from {:?} to {phase:?}", self.phase),
            );
        }
        if let Phase::ResolutionDelay { until } = phase {
            if !matches!(self.phase, Phase::ResolutionDelay { .. }) || creation {
                let expected = cx.now + c.resolution_delay;
                if until != expected {
                    return v(
                        Rule::Timer,
                        format!(
                            "the Resolution Delay entered at {} must last until {expected}, not \
                             {until}",
                            cx.now
                        ),
                    );
                }
            }
            if cx.due(until) {
                return v(
                    Rule::Timer,
                    format!("the Resolution Delay (until {until}) passed and it is still on"),
                );
            }
        }
        if phase == Phase::Connecting && !self.maybe_positive {
            return v(
                Rule::FirstAttempt,
                "connecting before any address is known".into(),
            );
        }
        if cx.started && phase != Phase::Connecting {
            return v(
                Rule::FirstAttempt,
                format!("an attempt started but the phase is {phase:?}"),
            );
        }
        if !c.query_https && !self.literal {
            // HEv3 §4.2, first condition set without service records: a positive answer and
            // the preferred family answered (or never asked) -> connecting at once. Second
            // set: the Resolution Delay ran out -> connecting.
            let preferred = match c.preferred_family() {
                Family::V6 => RecordType::Aaaa,
                Family::V4 => RecordType::A,
            };
            let preferred_answered = self
                .queries
                .iter()
                .find(|q| q.record == preferred)
                .is_none_or(|q| q.answered);
            let rd_over = self.rd_expired
                || matches!(self.phase, Phase::ResolutionDelay { until } if cx.due(until));
            let may_connect = self.positive
                && ((preferred_answered && !self.preferred_known_broken(c, preferred)) || rd_over);
            // Checked when the phase is entered: once connecting, a race stays connecting
            // whatever later answers say.
            if phase == Phase::Connecting && self.phase != Phase::Connecting && !may_connect {
                return v(
                    Rule::FirstAttempt,
                    "connecting before the preferred family answered and before the Resolution \
                     Delay ran out"
                        .into(),
                );
            }
            if may_connect && phase != Phase::Connecting {
                return v(
                    Rule::FirstAttempt,
                    format!(
                        "a positive answer is in and the preferred family has answered (or the \
                         Resolution Delay ran out), yet the phase is {phase:?}"
                    ),
                );
            }
            if !self.positive && phase != Phase::Resolving {
                return v(
                    Rule::FirstAttempt,
                    format!("no positive answer yet, but the phase is {phase:?}"),
                );
            }
        }
        Ok(())
    }

    /// `attempts()` agrees with the model.
    fn check_getters(&self, obs: &Observed<'_>, cx: &Cx<'_>) -> Result<(), Violation> {
        let records = obs.attempts;
        if records.len() != self.attempts.len() {
            return Err(cx.violation(
                Rule::Report,
                None,
                format!(
                    "attempts() lists {} attempts; {} were started",
                    records.len(),
                    self.attempts.len()
                ),
            ));
        }
        for (i, (r, m)) in records.iter().zip(&self.attempts).enumerate() {
            if r.id != count(i)
                || r.addr != m.addr
                || r.protocol != m.protocol
                || r.started != m.started
                || r.timeout_at != m.deadline
                || r.state != m.state
            {
                return Err(cx.violation(
                    Rule::Report,
                    Some(count(i)),
                    format!(
                        "attempts() says {r:?}; the actions say started {} at {}, {:?}",
                        m.addr, m.started, m.state
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! The monitor's teeth: a real race runs, and one step's actions or getters are tampered
    //! with before the model sees them, as a broken engine would emit them. Each check must
    //! name its rule. (The same was done by mutating the engine itself; see the report of
    //! the issue.)

    use super::*;
    use eyeballs::Attempt;
    use std::time::Duration;

    const V6: &str = "[2001:db8::1]:443";
    const V6B: &str = "[2001:db8::2]:443";
    const V4: &str = "192.0.2.1:443";

    fn ms(n: u64) -> Instant {
        Instant::from_millis(n)
    }

    fn literals(addrs: &[&str]) -> Target {
        Target::addresses(addrs.iter().map(|a| a.parse().unwrap()))
    }

    struct Tamper {
        actions: Vec<Action>,
        result: Result<(), InputError>,
        phase: Phase,
        pending: usize,
        poll_timeout: Option<Instant>,
        no_outcome: bool,
    }

    /// Runs `inputs` (step 0 is the creation) through a race and the model; before the model
    /// sees step `at`, `tamper` may change what the race said. Returns the first violation.
    fn run(
        config: Config,
        target: Target,
        inputs: &[(Instant, Input)],
        at: usize,
        tamper: impl Fn(&mut Tamper),
    ) -> Option<Violation> {
        let mut race = Race::new(config, target, Instant::ZERO).unwrap();
        let mut model = Model::new(race.config().clone(), race.started_at());
        let steps =
            std::iter::once((Instant::ZERO, None)).chain(inputs.iter().map(|(t, i)| (*t, Some(i))));
        for (i, (now, input)) in steps.enumerate() {
            let result = match input {
                None => Ok(()),
                Some(Input::Dns { id, answer }) => race.handle_dns(now, *id, answer.clone()),
                Some(Input::Connected(id)) => race.handle_connected(now, *id),
                Some(Input::Failed(id, f)) => race.handle_failed(now, *id, *f),
                Some(Input::Progress(id)) => race.handle_progress(now, *id),
                Some(Input::Timeout) => race.handle_timeout(now),
                Some(Input::Cancel) => race.cancel(now),
            };
            let mut actions = Vec::new();
            while let Some(a) = race.poll_action() {
                actions.push(a);
            }
            let mut obs = Observed::of(&race);
            let mut t = Tamper {
                actions,
                result,
                phase: obs.phase,
                pending: obs.pending,
                poll_timeout: obs.poll_timeout,
                no_outcome: false,
            };
            if i == at {
                tamper(&mut t);
            }
            obs.phase = t.phase;
            obs.pending = t.pending;
            obs.poll_timeout = t.poll_timeout;
            if t.no_outcome {
                obs.outcome = None;
            }
            let mut cx = Cx::new(i, now, input, &t.result);
            if let Err(v) = model.check_step(&obs, &mut cx, &t.actions) {
                return Some(v);
            }
        }
        None
    }

    fn rule(v: Option<Violation>) -> Option<Rule> {
        v.map(|v| v.rule)
    }

    fn start(id: u32, addr: &str) -> Action {
        Action::Start(Attempt {
            id: AttemptId(id),
            addr: addr.parse().unwrap(),
            protocol: Protocol::Tcp,
            alpn: None,
            ech: None,
        })
    }

    /// Three literals; #0 at 0, #1 at 250 (timer), #2 at 500 (timer), #1 connects at 600.
    fn three() -> (Config, Target, Vec<(Instant, Input)>) {
        let inputs = vec![
            (ms(250), Input::Timeout),
            (ms(500), Input::Timeout),
            (ms(600), Input::Connected(AttemptId(1))),
        ];
        (Config::default(), literals(&[V6, V4, V6B]), inputs)
    }

    #[test]
    fn an_honest_race_passes() {
        let (c, t, i) = three();
        assert_eq!(run(c, t, &i, usize::MAX, |_| {}), None);
    }

    #[test]
    fn rule2_a_start_before_the_delay() {
        let (c, t, i) = three();
        let v = run(c, t, &i, 0, |t| t.actions.push(start(1, V4)));
        assert_eq!(rule(v), Some(Rule::StartedTooEarly));
    }

    #[test]
    fn rules126_a_due_start_that_does_not_happen() {
        let (c, t, i) = three();
        let v = run(c, t, &i, 1, |t| t.actions.clear());
        assert_eq!(rule(v), Some(Rule::NotStarted));
    }

    #[test]
    fn rule4_a_loser_not_cancelled_or_cancelled_out_of_order() {
        let (c, t, i) = three();
        let v = run(c.clone(), t.clone(), &i, 3, |t| {
            t.actions.retain(|a| {
                !matches!(
                    a,
                    Action::Cancel {
                        id: AttemptId(2),
                        ..
                    }
                )
            });
        });
        assert_eq!(rule(v.clone()), Some(Rule::Win));
        assert_eq!(v.and_then(|v| v.attempt), Some(AttemptId(2)));
        let v = run(c, t, &i, 3, |t| t.actions.swap(0, 1));
        assert_eq!(rule(v), Some(Rule::Win));
    }

    #[test]
    fn rule3_a_cancel_for_the_wrong_reason() {
        let (c, t, i) = three();
        let v = run(c, t, &i, 3, |t| {
            for a in &mut t.actions {
                if let Action::Cancel { reason, .. } = a {
                    *reason = CancelReason::Cancelled;
                }
            }
        });
        assert_eq!(rule(v), Some(Rule::Abandoned));
        let (c, t, i) = three();
        let v = run(c, t, &i, 2, |t| {
            t.actions.push(Action::Cancel {
                id: AttemptId(0),
                reason: CancelReason::AttemptTimedOut,
            })
        });
        assert_eq!(rule(v), Some(Rule::Abandoned));
    }

    #[test]
    fn rule4_nothing_after_finished() {
        let (c, t, i) = three();
        let v = run(c, t, &i, 3, |t| t.actions.push(start(3, "192.0.2.9:443")));
        assert_eq!(rule(v), Some(Rule::AfterFinish));
    }

    #[test]
    fn rule5_everything_failed_and_the_race_goes_on() {
        let inputs = [(ms(10), Input::Failed(AttemptId(0), AttemptFailure::Refused))];
        let v = run(Config::default(), literals(&[V6]), &inputs, 1, |t| {
            t.actions.clear();
            t.phase = Phase::Connecting;
            t.poll_timeout = None;
            t.no_outcome = true;
        });
        assert_eq!(rule(v), Some(Rule::AllFailed));
    }

    #[test]
    fn rule6_the_cap() {
        let mut c = Config::default();
        c.max_concurrent_attempts = Some(1);
        let inputs = [(ms(250), Input::Timeout)];
        let v = run(c, literals(&[V6, V4]), &inputs, 1, |t| {
            t.actions.push(start(1, V4))
        });
        assert_eq!(rule(v), Some(Rule::ConcurrencyCap));
    }

    #[test]
    fn the_input_contract() {
        let (c, t, i) = three();
        let v = run(c, t, &i, 3, |t| {
            t.result = Err(InputError::UnknownAttempt(AttemptId(1)))
        });
        assert_eq!(rule(v), Some(Rule::Input));
        let mut inputs = three().2;
        inputs.push((ms(700), Input::Cancel));
        let (c, t, _) = three();
        let v = run(c, t, &inputs, 4, |t| t.result = Ok(()));
        assert_eq!(rule(v), Some(Rule::Input));
    }

    #[test]
    fn the_wakeup_and_the_phase() {
        let (c, t, i) = three();
        let v = run(c, t, &i, 1, |t| {
            t.poll_timeout = t.poll_timeout.map(|x| x + Duration::from_millis(1))
        });
        assert_eq!(rule(v), Some(Rule::Wakeup));
        let v = run(
            Config::default(),
            Target::host("example.com", 443),
            &[],
            0,
            |t| {
                t.phase = Phase::Connecting;
            },
        );
        assert_eq!(rule(v), Some(Rule::FirstAttempt));
    }

    /// Issue 10, items 1 and 2: the destination check judges what an address carries.
    #[test]
    fn destinations_are_judged_by_the_ipv4_they_carry() {
        let mut c = Config::default();
        c.filter = Some(std::sync::Arc::new(|ip: IpAddr| match ip {
            IpAddr::V4(v4) if v4.is_loopback() => Err("loopback"),
            _ => Ok(()),
        }));
        for bad in [
            "[::ffff:127.0.0.1]:443",
            "[64:ff9b::7f00:1]:443",
            "[::ffff:192.0.2.1]:443",
        ] {
            let v = run(c.clone(), literals(&[V6]), &[], 0, |t| {
                if let Some(Action::Start(a)) = t.actions.first_mut() {
                    a.addr = bad.parse().unwrap();
                }
            });
            assert_eq!(rule(v), Some(Rule::Destination), "{bad}");
        }
    }

    /// Issue 10, item 7: a refused input that emits an action, or changes what a getter
    /// says, or is refused with an error no due timer explains, breaks the input contract.
    #[test]
    fn refused_inputs_change_nothing() {
        let unknown = [(ms(1), Input::Connected(AttemptId(9)))];
        let (c, t, _) = three();
        assert_eq!(
            run(c.clone(), t.clone(), &unknown, usize::MAX, |_| {}),
            None
        );
        let v = run(c.clone(), t.clone(), &unknown, 1, |t| {
            t.poll_timeout = t.poll_timeout.map(|x| x + Duration::from_millis(1))
        });
        assert_eq!(rule(v), Some(Rule::Input));
        let v = run(c.clone(), t.clone(), &unknown, 1, |t| t.pending += 1);
        assert_eq!(rule(v), Some(Rule::Input));
        let v = run(c.clone(), t.clone(), &unknown, 1, |t| {
            t.actions.push(start(1, V4))
        });
        assert_eq!(rule(v), Some(Rule::Input));
        // A valid input at 100 ms refused as Finished: no timer explains it.
        let early = [(ms(100), Input::Connected(AttemptId(0)))];
        let v = run(c, t, &early, 1, |t| {
            t.actions.clear();
            t.result = Err(InputError::Finished);
            t.phase = Phase::Connecting;
            t.pending = 2;
            t.poll_timeout = Some(ms(250));
            t.no_outcome = true;
        });
        assert_eq!(rule(v), Some(Rule::Input));
    }

    #[test]
    fn destinations_and_queries() {
        let (c, t, i) = three();
        let v = run(c, t, &i, 1, |t| {
            if let Some(Action::Start(a)) = t.actions.first_mut() {
                a.addr.set_port(0);
            }
        });
        assert_eq!(rule(v), Some(Rule::Destination));
        let v = run(
            Config::default(),
            Target::host("example.com", 443),
            &[],
            0,
            |t| {
                t.actions.push(Action::Resolve {
                    id: QueryId(2),
                    name: "example.com".into(),
                    record: RecordType::Https,
                })
            },
        );
        assert_eq!(rule(v), Some(Rule::Resolution));
    }

    /// A service's TargetName that looks like an IP address literal is judged as a name
    /// (found by the fuzzer: the model asked a race, which takes the same text as a literal
    /// target): an IPv6 one is not a host name, never resolved and reported as `InvalidName`;
    /// a dotted IPv4 one is a host name, and resolved.
    #[test]
    fn an_ip_literal_target_name_is_judged_as_a_name() {
        let mut c = Config::default();
        c.query_https = true;
        for target in ["2001:db8::6", "b8::", "192.0.2.2"] {
            let answer =
                eyeballs::DnsAnswer::Services(vec![eyeballs::ServiceRecord::service(1, target)]);
            let inputs = [
                (
                    ms(1),
                    Input::Dns {
                        id: QueryId(0),
                        answer,
                    },
                ),
                (ms(2), Input::Cancel),
            ];
            let t = Target::host("example.com", 443);
            assert_eq!(
                run(c.clone(), t, &inputs, usize::MAX, |_| {}),
                None,
                "{target}"
            );
        }
    }
}
