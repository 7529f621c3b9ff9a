//! The race state machine: its state, the pacing of attempts, the timers and finishing.
//! What is known of the destination (literals, DNS answers, the HTTPS chain) is
//! `resolve.rs`; turning addresses into endpoints is `endpoints.rs`; their order is `plan.rs`.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::net::{IpAddr, SocketAddr};

use crate::action::{
    Action, Actions, AttemptFailure, AttemptId, AttemptRecord, AttemptState, CancelReason,
    FailReason, Outcome, Pending, RaceResult, Skipped,
};
use crate::addr::check_connectable;
use crate::attempts::Attempts;
use crate::config::Config;
use crate::dns::{DnsAnswer, QueryId, check_host_name};
use crate::endpoints;
use crate::error::{InputError, StartError};
use crate::plan::{Endpoints, OneEndpoint, Plan};
use crate::resolve::{Chain, Resolution};
use crate::svcb::usable;
use crate::time::Instant;

/// What a race connects to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A host name (resolved through [`Action::Resolve`]) and the port to connect to. A name
    /// that is an IP address literal is used as that address, without DNS.
    Host {
        /// The host name (shared with the race and its [`Action::Resolve`]s: the race copies
        /// nothing of it).
        name: Arc<str>,
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
            name: Arc::from(name),
            port,
        }
    }

    /// Literal socket addresses.
    pub fn addresses(addrs: impl IntoIterator<Item = SocketAddr>) -> Target {
        Target::Addresses(addrs.into_iter().collect())
    }
}

/// Where the race is: its state as the [state diagram](crate#state-diagram) shows it,
/// without the data only the engine needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// No address is known yet: waiting for DNS answers.
    Resolving,
    /// Some addresses are known, but not yet those of the preferred family (or the service
    /// records): waiting until `until` at the latest (the Resolution Delay, HEv3 §4.2).
    ResolutionDelay {
        /// When the wait ends.
        until: Instant,
    },
    /// The Resolution Delay has run out, but an SVCB-reliant race
    /// ([`Config::svcb_reliant`]) still waits for the service information (HEv3 §6.3)
    /// before any attempt starts.
    AwaitingServiceInfo,
    /// Attempts are being made.
    Connecting,
    /// The race is over ([`Race::outcome`] says how).
    Finished,
}

/// The one state of a race: each variant carries what only it needs. [`Phase`] is the same
/// without the data.
#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    /// No address is known yet.
    Resolving,
    /// Addresses are known; the first condition set of HEv3 §4.2 does not hold yet.
    ResolutionDelay { until: Instant },
    /// The Resolution Delay ran out; SVCB-reliant, the service information is awaited.
    AwaitingServiceInfo,
    /// Attempts are being made. `next_attempt_at`: when the most recent attempt will have run
    /// for its Connection Attempt Delay (the Next Connection Attempt Timer); `None` when the
    /// next attempt may start now (no attempt yet, or the most recent one has run for its
    /// delay or has failed).
    Connecting { next_attempt_at: Option<Instant> },
    /// The race is over ([`Stage::Finished`] has how).
    Finished,
}

/// What only a running race needs, or how a finished one ended: never both, so that they
/// share their bytes (issue 14: a race's size counts in every driver's memory).
#[derive(Clone, Debug)]
enum Stage {
    Running {
        /// Turns addresses into endpoints; keeps the skipped ones.
        endpoints: endpoints::Builder,
        /// The endpoints not yet attempted, in order.
        plan: Plan,
    },
    Finished(Outcome),
}

/// The plan of a finished race: nothing pending.
static NO_PLAN: Plan = Plan::EMPTY;

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
/// let Some(Action::Attempt(first)) = race.poll_action() else { panic!() };
/// assert_eq!(first.addr, v6);
///
/// // Nothing happens for 250 ms (the Connection Attempt Delay), then IPv4 starts.
/// let wake = race.poll_timeout().unwrap();
/// assert_eq!(wake, Instant::ZERO + Duration::from_millis(250));
/// race.handle_timeout(wake).unwrap();
/// let Some(Action::Attempt(second)) = race.poll_action() else { panic!() };
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
    state: State,
    /// The literals, or the names, queries and answers.
    resolution: Resolution,
    /// The plan and the endpoint builder, or the outcome.
    stage: Stage,
    attempts: Attempts,
    now: Instant,
    started: Instant,
    total_deadline: Option<Instant>,
    /// The actions not yet polled, in the few bytes that say which.
    actions: Actions,
}

/// Starting a race.
impl Race {
    /// Starts a race at `now`. For a host name the first actions are its DNS queries (HTTPS
    /// when [`Config::query_https`] is set, then AAAA, then A: HEv3 §4.1); for addresses, the
    /// first attempt.
    pub fn new(config: Config, target: Target, now: Instant) -> Result<Race, StartError> {
        config.validate()?;
        let (resolution, state) = match target {
            Target::Host { name, port } => match name.parse::<IpAddr>() {
                Ok(ip) => Race::literals(Vec::from([SocketAddr::new(ip, port)]))?,
                Err(_) => {
                    check_host_name(&name).map_err(StartError::HostName)?;
                    if port == 0 {
                        return Err(StartError::PortZero);
                    }
                    (Resolution::host(name, port, &config), State::Resolving)
                }
            },
            Target::Addresses(addrs) => Race::literals(addrs)?,
        };
        let mut race = Race {
            total_deadline: config.total_timeout.map(|t| now + t),
            config,
            state,
            resolution,
            stage: Stage::Running {
                endpoints: endpoints::Builder::default(),
                plan: Plan::default(),
            },
            attempts: Attempts::default(),
            now,
            started: now,
            actions: Actions::default(),
        };
        race.rebuild();
        race.progress(now);
        Ok(race)
    }

    /// The literal addresses of a target, checked: the race connects at once.
    fn literals(addrs: Vec<SocketAddr>) -> Result<(Resolution, State), StartError> {
        if addrs.is_empty() {
            return Err(StartError::NoAddresses);
        }
        for a in &addrs {
            check_connectable(a).map_err(|why| StartError::Unconnectable { addr: *a, why })?;
        }
        let connecting = State::Connecting {
            next_attempt_at: None,
        };
        Ok((Resolution::literals(addrs), connecting))
    }
}

/// Getters: where the race is and what it has done so far. They change nothing.
impl Race {
    /// Where the race is.
    pub fn phase(&self) -> Phase {
        match self.state {
            State::Resolving => Phase::Resolving,
            State::ResolutionDelay { until } => Phase::ResolutionDelay { until },
            State::AwaitingServiceInfo => Phase::AwaitingServiceInfo,
            State::Connecting { .. } => Phase::Connecting,
            State::Finished => Phase::Finished,
        }
    }

    /// Whether the race has finished.
    pub fn is_finished(&self) -> bool {
        matches!(self.state, State::Finished)
    }

    /// How the race ended, once it has.
    pub fn outcome(&self) -> Option<&Outcome> {
        match &self.stage {
            Stage::Finished(outcome) => Some(outcome),
            Stage::Running { .. } => None,
        }
    }

    /// Every attempt started so far, in start order (index = attempt id).
    pub fn attempts(&self) -> &[AttemptRecord] {
        self.attempts.as_slice()
    }

    /// Attempt `id`, if the race has started it: where it connects, over which transport,
    /// and where it is now. A recorder of the race's [`Event`](crate::trace::Event)s takes
    /// an attempt's endpoint from here.
    ///
    /// ```
    /// use eyeballs::{Action, AttemptId, Config, Instant, Race, Target};
    ///
    /// let addr = "192.0.2.1:443".parse().unwrap();
    /// let mut race = Race::new(Config::default(), Target::addresses([addr]), Instant::ZERO).unwrap();
    /// let Some(Action::Attempt(first)) = race.poll_action() else { panic!() };
    /// assert_eq!(race.attempt(first.id).map(|a| a.addr), Some(addr));
    /// assert!(race.attempt(AttemptId(1)).is_none());
    /// ```
    pub fn attempt(&self, id: AttemptId) -> Option<&AttemptRecord> {
        self.attempts.as_slice().get(usize::try_from(id.0).ok()?)
    }

    /// Endpoints known but not yet attempted.
    pub fn pending_endpoints(&self) -> usize {
        self.plan().len()
    }

    /// Every endpoint that was not attempted because it was unusable or filtered, so far.
    pub fn skipped(&self) -> &[Skipped] {
        match &self.stage {
            Stage::Running { endpoints, .. } => endpoints.skipped(),
            Stage::Finished(outcome) => &outcome.skipped,
        }
    }

    /// Whether the service information (HTTPS records) is settled: received, known to be
    /// absent, or not asked for. A client that must hold its TLS ClientHello until then
    /// (HEv3 §6.1, §6.3) checks this.
    pub fn service_info_settled(&self) -> bool {
        self.resolution.chain(&self.config).settled()
    }

    /// The configuration the race runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The instant the race started.
    pub fn started_at(&self) -> Instant {
        self.started
    }
}

/// Inputs: time passing, DNS answers, attempt results, and the caller giving up. Each is
/// checked first; a refused one changes nothing.
impl Race {
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
        self.resolution.check_answer(id, &answer)?;
        self.begin(now, None)?;
        self.resolution.record_answer(id, answer, &self.config);
        self.rebuild();
        self.progress(now);
        Ok(())
    }

    /// Attempt `id` connected (by whatever the application counts as connected: HEv3 §6.1).
    /// It wins: every other attempt in flight is cancelled and the race finishes.
    pub fn handle_connected(&mut self, now: Instant, id: AttemptId) -> Result<(), InputError> {
        let index = self.check_attempt(now, id)?;
        self.attempts
            .end(index, AttemptState::Connected { at: now });
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
    ///
    /// The transport handshake of a secure attempt (TCP connected, TLS now under way) is the
    /// typical progress; its result follows with
    /// [`handle_connected`](Race::handle_connected) (the secure handshake finished too) or
    /// [`handle_failed`](Race::handle_failed) (it failed: the next attempt starts at once,
    /// as for any failure of the most recent attempt). A recorder writes it as
    /// [`Event::TransportConnected`](crate::trace::Event::TransportConnected).
    ///
    /// ```
    /// use core::time::Duration;
    /// use eyeballs::{Action, Config, Instant, Race, Target};
    ///
    /// let ms = |n| Instant::ZERO + Duration::from_millis(n);
    /// let v6 = "[2001:db8::1]:443".parse().unwrap();
    /// let v4 = "192.0.2.1:443".parse().unwrap();
    /// let mut race = Race::new(Config::default(), Target::addresses([v6, v4]), ms(0)).unwrap();
    /// let Some(Action::Attempt(first)) = race.poll_action() else { panic!() };
    /// assert_eq!(race.poll_timeout(), Some(ms(250)));
    /// // TCP connected after 150 ms; TLS gets two more handshake times: 150 + 2 x 150.
    /// race.handle_progress(ms(150), first.id).unwrap();
    /// assert_eq!(race.poll_timeout(), Some(ms(450)));
    /// ```
    pub fn handle_progress(&mut self, now: Instant, id: AttemptId) -> Result<(), InputError> {
        let index = self.check_attempt(now, id)?;
        if !self.attempts.is_latest(index) {
            return Ok(());
        }
        let Some(started) = self.attempts.as_slice().get(index).map(|a| a.started) else {
            return Ok(());
        };
        if let State::Connecting {
            next_attempt_at: Some(at),
        } = &mut self.state
        {
            let rtt = now.saturating_duration_since(started);
            let extension = rtt
                .saturating_mul(2)
                .max(crate::config::CONNECTION_ATTEMPT_DELAY_FLOOR)
                .min(self.config.max_connection_attempt_delay);
            *at = (*at).max(now + extension);
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
}

/// Outputs: the actions for the driver, and when to wake the race.
impl Race {
    /// The next action for the driver, if any.
    pub fn poll_action(&mut self) -> Option<Action> {
        loop {
            let pending = self.actions.pop_front()?;
            // Everything an action names outlives it in the race: not found cannot happen.
            if let Some(action) = self.action(pending) {
                return Some(action);
            }
        }
    }

    /// The action `pending` stands for.
    fn action(&self, pending: Pending) -> Option<Action> {
        Some(match pending {
            Pending::Resolve(id) => {
                let (name, record) = self.resolution.query(id)?;
                Action::Resolve { id, name, record }
            }
            Pending::Attempt(id) => Action::Attempt(self.attempts.action(id)?),
            Pending::Cancel(id, reason) => Action::Cancel { id, reason },
            Pending::CancelQueries => Action::CancelQueries,
            Pending::Finished => Action::Finished(self.outcome()?.result),
        })
    }

    /// When [`handle_timeout`](Race::handle_timeout) must be called next, if anything is
    /// scheduled. `None` after the race has finished, or while it only waits for input.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.earliest_timer(false).map(|(t, _)| t)
    }
}

/// Checking inputs.
impl Race {
    fn check_time(&self, now: Instant) -> Result<(), InputError> {
        if self.is_finished() {
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
        let index = self.attempts.index_in_flight(id)?;
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
        if self.is_finished() {
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
            .first_in_flight()
            .is_some_and(|(_, a)| due(a.timeout_at));
        if !first_due {
            return Ok(());
        }
        if self.plan().is_empty() && !self.resolution.has_open_queries() {
            // Timeouts grow with the start order: the in-flight attempts that time out are the
            // first ones; count them up to the first that does not.
            let ending = self
                .attempts
                .iter_in_flight()
                .take_while(|a| due(a.timeout_at))
                .count();
            if ending == self.attempts.in_flight() as usize {
                return Err(InputError::Finished);
            }
        }
        if let Some(a) = attempt.and_then(|i| self.attempts.as_slice().get(i)) {
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
}

/// Moving the state on: endpoints, transitions, pacing, timers, finishing.
impl Race {
    /// Recomputes every endpoint known now and hands them to the plan, which keeps what it
    /// needs of the pending ones (the list is sized once, inline for a few, and dropped
    /// here). Runs when what is known changes: at the start and on every DNS answer.
    fn rebuild(&mut self) {
        let Stage::Running { endpoints, plan } = &mut self.stage else {
            return;
        };
        let config = &self.config;
        // One endpoint per address and transport.
        let transports = usize::from(config.protocols.tcp) + usize::from(config.protocols.quic);
        let bound = self.resolution.address_bound() * transports;
        // The same endpoints either way; a race to one address and transport (the common
        // `connect(addr)`) builds its one endpoint without four slots' worth of room.
        if bound <= 1 {
            let mut out = OneEndpoint::new();
            self.resolution.for_each_address(config, |addr, service| {
                endpoints.push(config, &mut out, addr, service);
            });
            plan.set(out.as_slice(), config.sort, self.attempts.as_slice());
        } else {
            let mut out = Endpoints::with_capacity(bound);
            self.resolution.for_each_address(config, |addr, service| {
                endpoints.push(config, &mut out, addr, service);
            });
            plan.set(out.as_slice(), config.sort, self.attempts.as_slice());
        }
    }

    /// The endpoints not yet attempted (none once the race has finished).
    fn plan(&self) -> &Plan {
        match &self.stage {
            Stage::Running { plan, .. } => plan,
            Stage::Finished(_) => &NO_PLAN,
        }
    }

    /// Whether any address (an answer or a hint) is known. Asked while `Resolving`, when
    /// nothing has been attempted: every address known is then a pending endpoint or a
    /// skipped one.
    fn any_address_known(&self) -> bool {
        !self.plan().is_empty() || !self.skipped().is_empty()
    }

    /// History marks every address of the preferred family known so far as broken, while
    /// the host's answer for the other family is still awaited. For this race the other
    /// family is then the one worth waiting for: the Resolution Delay applies as it does to
    /// an A answer that arrives before AAAA (RFC 8305 §3), and the broken path is raced
    /// second rather than first.
    fn preferred_known_broken(&self) -> bool {
        let family = self.config.resolution_delay_family();
        self.resolution.awaits(family.other()) && self.plan().all_broken(family)
    }

    /// Runs after every input and timer: moves the state on, starts an attempt if one is
    /// due, and ends the race when nothing is left.
    fn progress(&mut self, now: Instant) {
        if self.is_finished() {
            return;
        }
        let chain = self.resolution.chain(&self.config);
        if self.config.svcb_reliant && chain == (Chain::Negative { failed: true }) {
            return self.finish(
                now,
                RaceResult::Failed(FailReason::ServiceResolutionFailed),
                CancelReason::ServiceResolutionFailed,
            );
        }
        self.leave_resolution(now, chain.settled());
        self.try_start(now);
        self.resolution.emit_queries(&mut self.actions);
        if self.attempts.in_flight() == 0
            && self.plan().is_empty()
            && !self.resolution.has_open_queries()
        {
            let reason = if self.attempts.as_slice().is_empty() {
                FailReason::NoAddresses
            } else {
                FailReason::AllAttemptsFailed
            };
            self.finish(now, RaceResult::Failed(reason), CancelReason::LostRace);
        }
    }

    /// The transitions out of `Resolving`, `ResolutionDelay` and `AwaitingServiceInfo` that
    /// answers cause (the Resolution Delay's own end is [`Timer::Resolution`]).
    fn leave_resolution(&mut self, now: Instant, service_settled: bool) {
        let connecting = State::Connecting {
            next_attempt_at: None,
        };
        match self.state {
            State::Resolving | State::ResolutionDelay { .. } => {
                let resolving = self.state == State::Resolving;
                if resolving && !self.any_address_known() {
                    return;
                }
                // HEv3 §4.2, first set: positive answers, the preferred family answered, and
                // the service information received (or negative).
                if self.resolution.preferred_answered(&self.config)
                    && service_settled
                    && !self.preferred_known_broken()
                {
                    self.state = connecting;
                } else if resolving {
                    self.state = State::ResolutionDelay {
                        until: now + self.config.resolution_delay,
                    };
                }
            }
            State::AwaitingServiceInfo if service_settled => self.state = connecting,
            _ => {}
        }
    }

    /// Starts the next attempt when the pacing allows (RFC 8305 §5, HEv3 §6).
    fn try_start(&mut self, now: Instant) {
        let State::Connecting {
            next_attempt_at: None,
        } = self.state
        else {
            return;
        };
        // A caller that wakes late may hand in a `now` past the total deadline, with other
        // timers due before it: the race is over at this call, so do not open a socket only
        // to cancel it.
        if self.total_deadline.is_some_and(|t| t < now) {
            return;
        }
        if let Some(cap) = self.config.max_concurrent_attempts {
            if self.attempts.in_flight() >= cap {
                return;
            }
        }
        let Stage::Running { plan, .. } = &mut self.stage else {
            return;
        };
        let Some(family) = plan.pick(
            self.config.interleave,
            self.config.first_address_family_count,
            self.attempts.as_slice(),
        ) else {
            return;
        };
        let Some(e) = plan.take(family, self.attempts.as_slice()) else {
            return;
        };
        let timeout_at = self.config.attempt_timeout.map(|t| now + t);
        // A service endpoint carries its record's ALPN ids (those the client supports) and
        // ECH configuration (HEv3 §6.2).
        let params = match e.group.service() {
            Some(i) => match self.resolution.service_record(&self.config, i) {
                Some(r) => (
                    Some(usable(r, self.config.alpn.as_deref()).alpn),
                    r.ech.clone(),
                ),
                None => (None, None),
            },
            None => (None, None),
        };
        let id = self
            .attempts
            .start(e.addr, e.protocol, now, timeout_at, params);
        self.state = State::Connecting {
            next_attempt_at: Some(now + e.delay),
        };
        self.actions.push_back(Pending::Attempt(id));
    }

    fn fail_attempt(&mut self, index: usize, now: Instant, failure: AttemptFailure) {
        self.attempts
            .end(index, AttemptState::Failed { at: now, failure });
        if self.attempts.is_latest(index) {
            // The most recent attempt failed: the next one may start at once.
            if let State::Connecting { next_attempt_at } = &mut self.state {
                *next_attempt_at = None;
            }
        }
    }

    fn earliest_timer(&self, internal: bool) -> Option<(Instant, Timer)> {
        if self.is_finished() {
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
        if let Some((index, a)) = self.attempts.first_in_flight() {
            if let Some(t) = a.timeout_at {
                consider(t, Timer::Attempt(index));
            }
        }
        match self.state {
            State::ResolutionDelay { until } => consider(until, Timer::Resolution),
            // The Next Connection Attempt Timer is reported only while there is something to
            // start; internally it still fires, so that an address arriving after the delay
            // has passed starts at once.
            State::Connecting {
                next_attempt_at: Some(t),
            } if internal || !self.plan().is_empty() => consider(t, Timer::NextAttempt),
            _ => {}
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
                    self.fail_attempt(index, now, AttemptFailure::TimedOut);
                    if let Some(a) = self.attempts.as_slice().get(index) {
                        let id = a.id;
                        self.actions
                            .push_back(Pending::Cancel(id, CancelReason::AttemptTimedOut));
                    }
                }
                Timer::Resolution => {
                    // HEv3 §4.2, second set: positive answers (the delay began with the
                    // first) and the delay has passed. An SVCB-reliant client still waits
                    // for the service information (§6.3).
                    let settled = self.resolution.chain(&self.config).settled();
                    self.state = if self.config.svcb_reliant && !settled {
                        State::AwaitingServiceInfo
                    } else {
                        State::Connecting {
                            next_attempt_at: None,
                        }
                    };
                }
                Timer::NextAttempt => {
                    self.state = State::Connecting {
                        next_attempt_at: None,
                    };
                }
            }
            self.progress(now);
        }
    }

    fn finish(&mut self, now: Instant, result: RaceResult, reason: CancelReason) {
        if self.is_finished() {
            return;
        }
        self.resolution.emit_queries(&mut self.actions);
        self.attempts
            .cancel_in_flight(now, reason, &mut self.actions);
        if self.resolution.close_all() {
            self.actions.push_back(Pending::CancelQueries);
        }
        let winner = match result {
            RaceResult::Connected(id) => self.attempts.endpoint(id),
            _ => None,
        };
        let skipped = match &mut self.stage {
            Stage::Running { endpoints, .. } => endpoints.take_skipped(),
            Stage::Finished(_) => Vec::new(),
        };
        // Nothing will start any more: what only served starting (the plan, the builder)
        // is freed, and the outcome takes its place.
        self.state = State::Finished;
        self.stage = Stage::Finished(Outcome {
            at: now,
            result,
            winner,
            attempt_errors: self.attempts.errors(),
            skipped,
            dns_errors: self.resolution.take_dns_errors(),
        });
        self.actions.push_back(Pending::Finished);
    }
}
