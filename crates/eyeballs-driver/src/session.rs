//! The runtime-free core: one race of the engine, its clock, its sockets and its report.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io;
use std::time::{Duration, Instant as StdInstant};

use eyeballs::{
    Attempt, AttemptId, Config, Family, Instant, QueryId, Race, RecordType, StartError, Target,
};

use crate::clock;
use crate::error::{ConnectError, Reason};
use crate::history::{SharedHistory, Ticket};
use crate::report::{AttemptResult, RaceReport};
use crate::settings::{Observer, Settings};
use crate::target::ShowTarget;

mod finish;
mod input;
mod record;
#[cfg(test)]
mod tests;

/// I/O the session asks its driver to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Resolve `name` for `record`; hand the answer to [`Session::handle_dns`].
    Resolve {
        /// The query.
        id: QueryId,
        /// The name.
        name: String,
        /// The record type.
        record: RecordType,
    },
    /// Start this attempt (for TCP: [`start_connect`](crate::socket::start_connect) and
    /// wait for writability); hand the result to [`Session::handle_connected`] or
    /// [`Session::handle_failed`].
    Attempt(Attempt),
}

/// The requests not yet taken, in order; the first one kept inline: a race asks for one
/// piece of I/O at a time but for its queries, so most never allocate a queue.
#[derive(Debug, Default)]
struct Requests {
    /// The first request; `None` only when there is none.
    first: Option<Request>,
    /// The ones after it.
    rest: VecDeque<Request>,
}

impl Requests {
    fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }

    fn front(&self) -> Option<&Request> {
        self.first.as_ref()
    }

    fn push_back(&mut self, request: Request) {
        match self.first {
            None => self.first = Some(request),
            Some(_) => self.rest.push_back(request),
        }
    }

    fn push_front(&mut self, request: Request) {
        if let Some(first) = self.first.replace(request) {
            self.rest.push_front(first);
        }
    }

    fn pop_front(&mut self) -> Option<Request> {
        let first = self.first.take();
        self.first = self.rest.pop_front();
        first
    }

    fn retain(&mut self, keep: impl Fn(&Request) -> bool) {
        self.rest.retain(&keep);
        if self.first.as_ref().is_some_and(|r| !keep(r)) {
            self.first = self.rest.pop_front();
        }
    }

    fn clear(&mut self) {
        self.first = None;
        self.rest.clear();
    }
}

/// One race: the engine, the clock mapping, the handles of queries and attempts in flight,
/// the winner, the report, and the history it reads and feeds.
///
/// Its methods follow the engine's (and quinn-proto's) shape: inputs are `handle_*`, outputs
/// `poll_*`. A driver loops: take each [`poll_request`](Session::poll_request) and start
/// the I/O, storing each handle with [`add_query`](Session::add_query) /
/// [`add_attempt`](Session::add_attempt); feed results in
/// ([`handle_dns`](Session::handle_dns), [`handle_connected`](Session::handle_connected),
/// [`handle_failed`](Session::handle_failed)); sleep until
/// [`poll_timeout`](Session::poll_timeout) and call
/// [`handle_timeout`](Session::handle_timeout); until [`is_finished`](Session::is_finished),
/// then [`finish`](Session::finish). [`cancel`](Session::cancel) gives up.
///
/// The session closes what must be closed by dropping the handle: an attempt the engine
/// cancels (the losers, the moment the winner connects; attempts that time out), the queries
/// when the race ends, and a connection that completes after its attempt was cancelled.
/// Dropping the session drops every handle.
///
/// Time: the engine gets instants on the driver's [`clock`](crate::clock), one epoch for
/// every race in the process (so that a [`SharedHistory`] can compare races); the report
/// shows time since the race's start.
///
/// History: with [`Settings::history`], the race starts with the history's snapshot of its
/// network in `Config::path_info` (see [`SharedHistory`] for how it combines with the
/// user's provider), and the history learns from the race the moment it finishes, or when
/// the session is dropped before that.
///
/// `A` is the driver's handle for an attempt in flight (a socket, or a future owning one),
/// `Q` its handle for a query in flight, `S` the connected stream.
///
/// ```
/// use std::time::Instant;
/// use eyeballs::Target;
/// use eyeballs_driver::{Request, Session, Settings};
///
/// let addr = "127.0.0.1:9".parse().unwrap();
/// let mut session: Session<(), (), ()> =
///     Session::start(&Settings::default(), Target::addresses([addr]), Instant::now()).unwrap();
/// let Some(Request::Attempt(attempt)) = session.poll_request() else { panic!() };
/// session.add_attempt(attempt.id, ());
/// session.handle_connected(Instant::now(), attempt.id, ());
/// let (result, report) = session.finish();
/// assert!(result.is_ok());
/// assert_eq!(report.winner, Some(attempt.id));
/// ```
pub struct Session<A, Q, S> {
    race: Race,
    /// The race's start, on the caller's clock and on the engine's.
    base: StdInstant,
    start: Instant,
    last: Instant,
    requests: Requests,
    attempts: BTreeMap<AttemptId, A>,
    queries: BTreeMap<QueryId, Q>,
    open_queries: BTreeSet<QueryId>,
    io_errors: BTreeMap<AttemptId, io::Error>,
    winner: Option<S>,
    report: RaceReport,
    observer: Option<Observer>,
    only_family: Option<Family>,
    history: Option<SharedHistory>,
    /// Taken when the history has learned from this race.
    ticket: Option<Ticket>,
    /// The deadline, not the total timeout, is what times the race out.
    deadline_binds: bool,
    /// The report keeps its events ([`Session::start_without_events`]: it does not).
    keep_events: bool,
}

/// Checks that a race to `target` with `settings` can start, as [`Session::start`] checks
/// it, without starting one (nothing is resolved, connected, observed or learned): the
/// configuration the settings give ([`Settings::race_config`]), then the engine's own
/// validation of it and of the target. The error is the one `start` would return. For a
/// command line or a configuration file, to refuse bad input before anything is sent.
///
/// ```
/// use eyeballs::{StartError, Target};
/// use eyeballs_driver::{Reason, Settings, check_start};
///
/// assert!(check_start(&Settings::default(), &Target::host("example.com", 443)).is_ok());
/// let e = check_start(&Settings::default(), &Target::host("example.com", 0)).unwrap_err();
/// assert_eq!(e.reason(), &Reason::Start(StartError::PortZero));
/// assert!(e.to_string().starts_with("connecting to example.com:0 failed: "));
/// ```
pub fn check_start(settings: &Settings, target: &Target) -> Result<(), ConnectError> {
    let (shown, config) = prepare(settings, target)?;
    match Race::new(config, target.clone(), Instant::ZERO) {
        Ok(_) => Ok(()),
        Err(e) => Err(refused(&shown, e)),
    }
}

/// A race's target as its report and errors show it, and the configuration it runs with.
fn prepare(settings: &Settings, target: &Target) -> Result<(String, Config), ConnectError> {
    let shown = ShowTarget(target).text();
    let config = settings
        .race_config()
        .map_err(|e| e.with_target(shown.clone()))?;
    Ok((shown, config))
}

/// Makes `deadline` (if any) the race's total timeout when it comes first: the time left
/// from `now`. Returns whether it does; `Err` when it has passed (nothing left).
fn apply_deadline(
    config: &mut Config,
    deadline: Option<StdInstant>,
    now: StdInstant,
) -> Result<bool, ()> {
    let Some(deadline) = deadline else {
        return Ok(false);
    };
    let left = deadline.saturating_duration_since(now);
    if left.is_zero() {
        return Err(());
    }
    match config.total_timeout {
        Some(total) if total <= left => Ok(false),
        _ => {
            config.total_timeout = Some(left);
            Ok(true)
        }
    }
}

/// The error of a race to `shown` that the engine refused to start.
fn refused(shown: &str, e: StartError) -> ConnectError {
    ConnectError::new(shown.to_string(), Reason::Start(e))
}

impl<A, Q, S> Session<A, Q, S> {
    /// Starts a race at `now` (time zero of its report). [`check_start`] checks the same
    /// without starting it.
    pub fn start(
        settings: &Settings,
        target: Target,
        now: StdInstant,
    ) -> Result<Session<A, Q, S>, ConnectError> {
        Session::begin(settings, target, now, true)
    }

    /// Starts a race as [`start`](Session::start) does, for a caller who wants the stream or
    /// the error and not the report: the report keeps no events (the observer still sees
    /// each as it happens; the report's queries, attempts, result and winner are kept, since
    /// the race and its error are made of them). One allocation and a copy of every event
    /// less per race.
    ///
    /// ```
    /// use std::time::Instant;
    /// use eyeballs::Target;
    /// use eyeballs_driver::{Session, Settings};
    ///
    /// let target = Target::addresses(["127.0.0.1:9".parse().unwrap()]);
    /// let mut session: Session<(), (), ()> =
    ///     Session::start_without_events(&Settings::default(), target, Instant::now()).unwrap();
    /// let attempt = session.poll_sole_attempt().unwrap();
    /// session.handle_connected(Instant::now(), attempt.id, ());
    /// let (result, report) = session.finish();
    /// assert!(result.is_ok());
    /// assert!(report.events.is_empty());
    /// assert_eq!(report.winner, Some(attempt.id));
    /// ```
    pub fn start_without_events(
        settings: &Settings,
        target: Target,
        now: StdInstant,
    ) -> Result<Session<A, Q, S>, ConnectError> {
        Session::begin(settings, target, now, false)
    }

    fn begin(
        settings: &Settings,
        target: Target,
        now: StdInstant,
        keep_events: bool,
    ) -> Result<Session<A, Q, S>, ConnectError> {
        let (shown, mut config) = prepare(settings, &target)?;
        let deadline_binds = apply_deadline(&mut config, settings.deadline, now)
            .map_err(|()| ConnectError::new(shown.clone(), Reason::DeadlinePassed))?;
        let start = clock::to_engine(now);
        let ticket = match &settings.history {
            Some(history) => {
                let (provider, ticket) = history.begin(start, config.path_info.take());
                config.path_info = provider;
                Some(ticket)
            }
            None => None,
        };
        let race = Race::new(config, target, start).map_err(|e| refused(&shown, e))?;
        let mut session = Session {
            race,
            base: now,
            start,
            last: start,
            requests: Requests::default(),
            attempts: BTreeMap::new(),
            queries: BTreeMap::new(),
            open_queries: BTreeSet::new(),
            io_errors: BTreeMap::new(),
            winner: None,
            report: RaceReport {
                target: shown,
                ..RaceReport::default()
            },
            observer: settings.observer.clone(),
            only_family: settings.socket.only_family(),
            history: settings.history.clone(),
            ticket,
            deadline_binds,
            keep_events,
        };
        session.drain();
        Ok(session)
    }

    /// The engine instant of `now` (never earlier than the last one given).
    fn engine_time(&mut self, now: StdInstant) -> Instant {
        self.last = self.last.max(clock::to_engine(now));
        self.last
    }

    fn since_start(&self) -> Duration {
        self.last.saturating_duration_since(self.start)
    }

    /// Feeds the race to the history (once).
    fn learn(&mut self) {
        if let (Some(history), Some(ticket)) = (&self.history, self.ticket.take()) {
            history.learn(ticket, &self.race, self.last);
        }
    }

    /// The next piece of I/O to start.
    pub fn poll_request(&mut self) -> Option<Request> {
        self.requests.pop_front()
    }

    /// The next request when it is the race's only piece of I/O: an attempt to start, and
    /// nothing else, now or until that attempt ends (no other request, no other attempt or
    /// query in flight, no timer: [`poll_timeout`](Session::poll_timeout) is `None`). A
    /// driver may then make the attempt synchronously, blocking the thread until it has
    /// connected or failed ([`socket::connect_attempt_blocking`](crate::socket::connect_attempt_blocking)),
    /// and report its result with [`handle_connected`](Session::handle_connected) or
    /// [`handle_failed`](Session::handle_failed): nothing could have happened in the race
    /// meanwhile. `None` otherwise, and nothing is taken: take the requests with
    /// [`poll_request`](Session::poll_request).
    ///
    /// A race to one address with no timeout (nothing to stagger, nothing to time out) asks
    /// for such an attempt; a race to two asks for its first attempt with the Connection
    /// Attempt Delay running.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use eyeballs::Target;
    /// use eyeballs_driver::{Request, Session, Settings};
    ///
    /// let (a, b) = ("127.0.0.1:9".parse().unwrap(), "127.0.0.2:9".parse().unwrap());
    /// let now = Instant::now();
    /// let mut one: Session<(), (), ()> =
    ///     Session::start(&Settings::default(), Target::addresses([a]), now).unwrap();
    /// let attempt = one.poll_sole_attempt().expect("nothing else to wait for");
    /// assert_eq!(attempt.addr, a);
    ///
    /// let mut two: Session<(), (), ()> =
    ///     Session::start(&Settings::default(), Target::addresses([a, b]), now).unwrap();
    /// assert!(two.poll_sole_attempt().is_none(), "the next attempt is due in 250 ms");
    /// let timed = Settings::default().total_timeout(Duration::from_secs(5));
    /// let mut timed: Session<(), (), ()> = Session::start(&timed, Target::addresses([a]), now).unwrap();
    /// assert!(timed.poll_sole_attempt().is_none(), "the race may time out meanwhile");
    /// assert!(matches!(timed.poll_request(), Some(Request::Attempt(_))));
    /// ```
    pub fn poll_sole_attempt(&mut self) -> Option<Attempt> {
        let sole = self.requests.len() == 1
            && matches!(self.requests.front(), Some(Request::Attempt(_)))
            && self.attempts.is_empty()
            && self.open_queries.is_empty()
            && self.poll_timeout().is_none()
            // In flight: the requested attempt only (a driver may make attempts without
            // storing their handles here).
            && self
                .report
                .attempts
                .iter()
                .filter(|a| a.result == AttemptResult::InFlight)
                .count()
                == 1;
        if !sole {
            return None;
        }
        match self.requests.pop_front() {
            Some(Request::Attempt(attempt)) => Some(attempt),
            // Not reached (the front was checked): put it back.
            other => {
                if let Some(request) = other {
                    self.requests.push_front(request);
                }
                None
            }
        }
    }

    /// Stores the handle of a query started for a [`Request::Resolve`]. A handle for a query
    /// that is no longer wanted is dropped at once.
    pub fn add_query(&mut self, id: QueryId, handle: Q) {
        if self.open_queries.contains(&id) {
            self.queries.insert(id, handle);
        }
    }

    /// Stores the handle of an attempt started for a [`Request::Attempt`]. A handle for an
    /// attempt that is no longer in flight is dropped (closed) at once.
    pub fn add_attempt(&mut self, id: AttemptId, handle: A) {
        if self.in_flight(id) {
            self.attempts.insert(id, handle);
        }
    }

    /// The handles of queries in flight, in query order.
    pub fn queries_mut(&mut self) -> impl Iterator<Item = (QueryId, &mut Q)> {
        self.queries.iter_mut().map(|(id, q)| (*id, q))
    }

    /// The handles of attempts in flight, in start order.
    pub fn attempts_mut(&mut self) -> impl Iterator<Item = (AttemptId, &mut A)> {
        self.attempts.iter_mut().map(|(id, a)| (*id, a))
    }

    /// The handle of attempt `id`, while it is in flight.
    pub fn attempt_mut(&mut self, id: AttemptId) -> Option<&mut A> {
        self.attempts.get_mut(&id)
    }

    /// Removes and returns the handle of attempt `id` (for a driver whose handle becomes the
    /// stream). Report the result right after with
    /// [`handle_connected`](Session::handle_connected) or
    /// [`handle_failed`](Session::handle_failed).
    pub fn take_attempt(&mut self, id: AttemptId) -> Option<A> {
        self.attempts.remove(&id)
    }

    /// Whether a query is still wanted (asked, not answered, not abandoned).
    pub fn query_open(&self, id: QueryId) -> bool {
        self.open_queries.contains(&id)
    }

    /// When [`handle_timeout`](Session::handle_timeout) must be called next.
    pub fn poll_timeout(&self) -> Option<StdInstant> {
        if self.race.is_finished() {
            return None;
        }
        // On the caller's clock, relative to the race's start: exact, whatever the clock.
        self.race.poll_timeout().map(|t| {
            let after = t.saturating_duration_since(self.start);
            self.base
                .checked_add(after)
                // Unrepresentable (centuries away): a year from the start, i.e. never.
                .or_else(|| self.base.checked_add(Duration::from_secs(365 * 24 * 3600)))
                .unwrap_or(self.base)
        })
    }

    /// Whether the race is over (the engine's [`Race::is_finished`]).
    pub fn is_finished(&self) -> bool {
        self.race.is_finished()
    }

    /// The report so far.
    pub fn report(&self) -> &RaceReport {
        &self.report
    }

    /// The engine race (read-only: phase, attempts, outcome). Its instants are on the
    /// driver's [`clock`](crate::clock), shared by every race; the report's times are
    /// relative to this race's start.
    pub fn race(&self) -> &Race {
        &self.race
    }

    /// The instant the race started (time zero of its report).
    pub fn started_at(&self) -> StdInstant {
        self.base
    }

    /// The history this race reads and feeds, if any.
    pub fn shared_history(&self) -> Option<&SharedHistory> {
        self.history.as_ref()
    }
}

impl<A, Q, S> Drop for Session<A, Q, S> {
    /// A race dropped before it finished still teaches its history what it saw (failures;
    /// attempts still pending teach nothing).
    fn drop(&mut self) {
        self.learn();
    }
}
