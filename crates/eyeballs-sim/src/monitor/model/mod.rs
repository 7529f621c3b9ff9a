//! The monitor's own model of the race, built from the actions and inputs only, never from the
//! engine's internals: it knows what each rule allows at every step and checks the race's
//! actions and getters against that.
//!
//! - this file: the model's state, the per-step context, and the walk through a step (the
//!   timers due, then the actions in order, the input applied where its effects begin);
//! - [`input`]: the input contract (the result each input must get, refused inputs changing
//!   nothing) and the input's effect on the model;
//! - [`actions`]: each action the race emits, checked against the rules (queries, starts and
//!   the pacing, attempt timeouts, cancels, destinations);
//! - [`finish`]: the finishing sequence and the outcome;
//! - [`end_of_step`]: the state when the step is over (timers, due starts, rule 5, the
//!   wake-up, the phase, the getters).

mod actions;
mod end_of_step;
mod finish;
mod input;
#[cfg(test)]
mod tests;

use std::net::{IpAddr, SocketAddr};

use eyeballs::{
    Action, AttemptId, AttemptRecord, AttemptState, CancelReason, Config, DnsFailure, FailReason,
    Family, InputError, Instant, Outcome, Phase, Protocol, QueryId, Race, RaceResult, RecordType,
    Skipped, StartError, Target, check_connectable,
};

use super::{Input, Rule, Violation};

/// What the getters of the race say at the end of a step.
#[derive(Clone, Copy, Debug)]
pub(super) struct Observed<'a> {
    phase: Phase,
    pending: usize,
    attempts: &'a [AttemptRecord],
    outcome: Option<&'a Outcome>,
    poll_timeout: Option<Instant>,
    skipped: &'a [Skipped],
    settled: bool,
    /// For a refused input: what the timers due strictly before its `now` do to the race.
    pub(super) ahead: Option<Ahead>,
}

impl<'a> Observed<'a> {
    pub(super) fn of(race: &'a Race) -> Observed<'a> {
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
pub(super) struct Ahead {
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
pub(super) struct Model {
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
pub(super) struct Cx<'a> {
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
    pub(super) fn new(
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

/// Why the engine does not take `name` for a host name (one it may resolve), or `None` when
/// it does. Asked of the engine's own rule through [`Race::new`], which refuses a bad host name
/// with [`StartError::HostName`], except for an IP address literal, which `Race::new` takes as
/// that address without judging it as a name: an IPv6 literal has colons, which no host name
/// has; an IPv4 literal is dotted labels of digits, a well-formed name.
fn not_a_host_name(name: &str) -> Option<String> {
    match name.parse::<IpAddr>() {
        Ok(IpAddr::V6(_)) => return Some("an IPv6 address: a host name has no ':'".into()),
        Ok(IpAddr::V4(_)) => return None,
        Err(_) => {}
    }
    match Race::new(Config::default(), Target::host(name, 1), Instant::ZERO) {
        Err(StartError::HostName(e)) => Some(e.to_string()),
        _ => None,
    }
}

/// Whether the engine takes `name` for a host name.
fn is_host_name(name: &str) -> bool {
    not_a_host_name(name).is_none()
}

fn record_family(record: RecordType) -> Option<Family> {
    match record {
        RecordType::Aaaa => Some(Family::V6),
        RecordType::A => Some(Family::V4),
        RecordType::Https => None,
    }
}

impl Model {
    pub(super) fn new(config: Config, started: Instant) -> Model {
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
                    && c.destination_filter
                        .as_ref()
                        .is_none_or(|f| f.check(judged(ip, c)).is_ok());
                ok.then(|| provider.path_info(connect).broken)
            })
            .peekable();
        other_open && usable.peek().is_some() && usable.all(|broken| broken)
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

    /// The queries asked and still open, in the order asked: id, record type and name.
    pub(super) fn open_query_list(&self) -> impl Iterator<Item = (QueryId, RecordType, &str)> {
        self.queries
            .iter()
            .enumerate()
            .filter(|(_, q)| q.open)
            .map(|(i, q)| {
                let id = QueryId(u32::try_from(i).unwrap_or(u32::MAX));
                (id, q.record, q.name.as_str())
            })
    }

    fn cap_allows(&self) -> bool {
        self.config
            .max_concurrent_attempts
            .is_none_or(|cap| self.in_flight_count() < cap as usize)
    }

    pub(super) fn check_step(
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
            Action::Attempt(_) => self.gate_open && self.cap_allows(),
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
}
