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
//! [`Config::destination_filter`] when asked about the IPv4 address the destination carries, if it
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
//! let Some(Action::Attempt(first)) = m.poll_action() else { panic!() };
//!
//! // The first attempt fails after 30 ms: the second starts at once (rule 2).
//! m.handle_failed(Instant::from_millis(30), first.id, AttemptFailure::Refused).unwrap();
//! let Some(Action::Attempt(second)) = m.poll_action() else { panic!() };
//! m.handle_connected(Instant::from_millis(50), second.id).unwrap();
//! assert!(m.is_finished());
//! m.check().unwrap();
//!
//! // Bad input is refused with a typed error, and the monitor checks that it was the right one.
//! assert!(m.handle_failed(Instant::from_millis(60), first.id, AttemptFailure::Other).is_err());
//! m.check().unwrap();
//! assert_eq!(m.log().len(), 4);
//! ```

// The wrapper ([`Monitor`]) is here; what it records ([`Step`], [`Input`]) and reports
// ([`Violation`], [`Rule`]) are in `log` and `violation`; the independent model of the rules it
// checks every step against is in `model`.
mod log;
mod model;
mod violation;

pub use log::{Input, Step};
pub use violation::{Rule, Violation};

use std::collections::VecDeque;
use std::fmt;

use eyeballs::{
    Action, AttemptFailure, AttemptId, Config, DnsAnswer, InputError, Instant, QueryId, Race,
    RecordType, StartError, Target,
};

use model::{Cx, Model, Observed};

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
        self.model.open_query_list()
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
