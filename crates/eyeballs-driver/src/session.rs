//! The runtime-free core: one race of the engine, its clock, its sockets and its report.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io;
use std::time::{Duration, Instant as StdInstant};

use eyeballs::trace::Event;
use eyeballs::{
    Action, Attempt, AttemptId, CancelReason, DnsAnswer, Family, Instant, QueryId, Race,
    RaceResult, RecordType, Target,
};

use crate::clock;
use crate::error::{ConnectError, FailedAttempt, Reason};
use crate::history::{SharedHistory, Ticket};
use crate::report::{
    AttemptReport, AttemptResult, ErrorInfo, QueryReport, RaceReport, ReportEvent,
};
use crate::settings::{Observer, Settings};
use crate::socket::failure_of;
use crate::target::ShowTarget;

/// I/O the session asks its driver to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Resolve `name` for `record`; hand the answer to [`Session::dns_answer`].
    Resolve {
        /// The query.
        id: QueryId,
        /// The name.
        name: String,
        /// The record type.
        record: RecordType,
    },
    /// Start this attempt (for TCP: [`start_connect`](crate::socket::start_connect) and
    /// wait for writability); hand the result to [`Session::connected`] or
    /// [`Session::failed`].
    Connect(Attempt),
}

/// One race: the engine, the clock mapping, the handles of queries and attempts in flight,
/// the winner, the report, and the history it reads and feeds.
///
/// A driver loops: take [`requests`](Session::next_request) and start the I/O, storing each
/// handle with [`add_query`](Session::add_query) / [`add_attempt`](Session::add_attempt);
/// feed results in ([`dns_answer`](Session::dns_answer), [`connected`](Session::connected),
/// [`failed`](Session::failed)); sleep until [`deadline`](Session::deadline) and call
/// [`timeout`](Session::timeout); until [`is_finished`](Session::is_finished), then
/// [`finish`](Session::finish).
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
/// let Some(Request::Connect(attempt)) = session.next_request() else { panic!() };
/// session.add_attempt(attempt.id, ());
/// session.connected(Instant::now(), attempt.id, ());
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
    requests: VecDeque<Request>,
    attempts: BTreeMap<AttemptId, A>,
    queries: BTreeMap<QueryId, Q>,
    open_queries: BTreeSet<QueryId>,
    io_errors: BTreeMap<AttemptId, io::Error>,
    winner: Option<S>,
    report: RaceReport,
    observer: Option<Observer>,
    only_family: Option<Family>,
    done: bool,
    history: Option<SharedHistory>,
    /// Taken when the history has learned from this race.
    ticket: Option<Ticket>,
}

impl<A, Q, S> Session<A, Q, S> {
    /// Starts a race at `now` (time zero of its report).
    pub fn start(
        settings: &Settings,
        target: Target,
        now: StdInstant,
    ) -> Result<Session<A, Q, S>, ConnectError> {
        let shown = ShowTarget(&target).to_string();
        let mut config = settings
            .race_config()
            .map_err(|e| e.with_target(shown.clone()))?;
        let start = clock::to_engine(now);
        let ticket = match &settings.history {
            Some(history) => {
                let (provider, ticket) = history.begin(start, config.path_info.take());
                config.path_info = provider;
                Some(ticket)
            }
            None => None,
        };
        let race = Race::new(config, target, start)
            .map_err(|e| ConnectError::new(shown.clone(), Reason::Start(e)))?;
        let mut session = Session {
            race,
            base: now,
            start,
            last: start,
            requests: VecDeque::new(),
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
            done: false,
            history: settings.history.clone(),
            ticket,
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

    fn record(&mut self, kind: Event) {
        let event = ReportEvent {
            at: self.since_start(),
            kind,
        };
        #[cfg(feature = "tracing")]
        trace_event(&self.report.target, &event);
        if let Some(observer) = &self.observer {
            observer(&event);
        }
        self.report.events.push(event);
    }

    fn attempt_report(&mut self, id: AttemptId) -> Option<&mut AttemptReport> {
        self.report.attempts.get_mut(id.0 as usize)
    }

    fn in_flight(&self, id: AttemptId) -> bool {
        !self.done
            && self
                .report
                .attempts
                .get(id.0 as usize)
                .is_some_and(|a| a.result == AttemptResult::InFlight)
    }

    /// Takes every action the engine has: records it, turns starts and queries into
    /// requests, closes what is cancelled.
    fn drain(&mut self) {
        while let Some(action) = self.race.poll_action() {
            let at = self.since_start();
            match action {
                Action::Resolve { id, name, record } => {
                    self.open_queries.insert(id);
                    self.report.queries.push(QueryReport {
                        id,
                        name: name.clone(),
                        record,
                        sent: at,
                        answered: None,
                        answer: None,
                    });
                    self.record(Event::Query {
                        id,
                        name: name.clone(),
                        record,
                    });
                    self.requests
                        .push_back(Request::Resolve { id, name, record });
                }
                Action::Start(attempt) => {
                    self.report.attempts.push(AttemptReport {
                        id: attempt.id,
                        addr: attempt.addr,
                        protocol: attempt.protocol,
                        started: at,
                        ended: None,
                        result: AttemptResult::InFlight,
                        late_connection_closed: false,
                    });
                    self.record(Event::Attempt(attempt.clone()));
                    self.requests.push_back(Request::Connect(attempt));
                }
                Action::Cancel { id, reason } => {
                    // Closing the socket: drop its handle (or the request not yet taken).
                    self.attempts.remove(&id);
                    self.requests
                        .retain(|r| !matches!(r, Request::Connect(a) if a.id == id));
                    if let Some(a) = self.attempt_report(id) {
                        a.ended = Some(at);
                        a.result = AttemptResult::Cancelled { reason };
                    }
                    self.record(Event::Cancel { id, reason });
                }
                Action::CancelQueries => {
                    self.queries.clear();
                    self.open_queries.clear();
                    self.requests
                        .retain(|r| !matches!(r, Request::Resolve { .. }));
                    self.record(Event::CancelQueries);
                }
                Action::Finished(result) => {
                    self.done = true;
                    self.report.result = Some(result);
                    self.report.ended = Some(at);
                    if let RaceResult::Connected(id) = result {
                        self.report.winner = Some(id);
                    }
                    // Nothing is pending once the race is over.
                    self.requests.clear();
                    self.attempts.clear();
                    self.queries.clear();
                    self.open_queries.clear();
                    self.learn();
                }
            }
        }
    }

    /// The next piece of I/O to start.
    pub fn next_request(&mut self) -> Option<Request> {
        self.requests.pop_front()
    }

    /// Stores the handle of a query started for a [`Request::Resolve`]. A handle for a query
    /// that is no longer wanted is dropped at once.
    pub fn add_query(&mut self, id: QueryId, handle: Q) {
        if self.open_queries.contains(&id) {
            self.queries.insert(id, handle);
        }
    }

    /// Stores the handle of an attempt started for a [`Request::Connect`]. A handle for an
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
    /// stream). Report the result right after with [`connected`](Session::connected) or
    /// [`failed`](Session::failed).
    pub fn take_attempt(&mut self, id: AttemptId) -> Option<A> {
        self.attempts.remove(&id)
    }

    /// Whether a query is still wanted (asked, not answered, not abandoned).
    pub fn query_open(&self, id: QueryId) -> bool {
        self.open_queries.contains(&id)
    }

    /// The answer to query `id`. Answers to queries no longer wanted are ignored;
    /// addresses of the wrong family are dropped.
    pub fn dns_answer(&mut self, now: StdInstant, id: QueryId, answer: DnsAnswer) {
        if !self.open_queries.remove(&id) || self.done {
            return;
        }
        self.queries.remove(&id);
        let t = self.engine_time(now);
        let Some(index) = self.report.queries.iter().position(|q| q.id == id) else {
            return;
        };
        let record = self.report.queries[index].record;
        let answer = match (answer, record) {
            (DnsAnswer::Addresses(list), RecordType::Aaaa | RecordType::A) => {
                let v6 = record == RecordType::Aaaa;
                DnsAnswer::Addresses(list.into_iter().filter(|ip| ip.is_ipv6() == v6).collect())
            }
            (DnsAnswer::Services(s), RecordType::Https) => DnsAnswer::Services(s),
            (DnsAnswer::Error(e), _) => DnsAnswer::Error(e),
            // An answer of the wrong kind (a bug in the network): "could not find out".
            _ => DnsAnswer::Error(eyeballs::DnsError::Other),
        };
        if self.race.handle_dns(t, id, answer.clone()).is_err() {
            // Refused because a timer due before `now` ends the race first: fire it.
            return self.timeout(now);
        }
        let at = self.since_start();
        let q = &mut self.report.queries[index];
        q.answered = Some(at);
        q.answer = Some(answer.clone());
        let name = q.name.clone();
        self.record(Event::Answer {
            id,
            name,
            record,
            answer,
        });
        self.drain();
    }

    /// Attempt `id` connected with `stream`. If it is in flight it wins (the others are
    /// cancelled and closed at once); if it was cancelled already (a late connection, Go's
    /// `TestDialSerialAsyncSpuriousConnection`), `stream` is closed here.
    pub fn connected(&mut self, now: StdInstant, id: AttemptId, stream: S) {
        self.attempts.remove(&id);
        let t = self.engine_time(now);
        if !self.in_flight(id) || self.race.handle_connected(t, id).is_err() {
            drop(stream);
            self.late_connection(id);
            // A refusal means a timer due before `now` ended the attempt (or the race)
            // first: fire it, so that the report and the observer see why.
            return self.timeout(now);
        }
        let at = self.since_start();
        if let Some(a) = self.attempt_report(id) {
            a.ended = Some(at);
            a.result = AttemptResult::Connected;
        }
        self.winner = Some(stream);
        self.record(Event::Connected { id });
        self.drain();
    }

    fn late_connection(&mut self, id: AttemptId) {
        if let Some(a) = self.attempt_report(id) {
            a.late_connection_closed = true;
        }
        #[cfg(feature = "tracing")]
        tracing::debug!(target: "eyeballs", race = %self.report.target, attempt = id.0, "closed a late connection of a cancelled attempt");
    }

    /// Attempt `id` failed with `error`. Ignored for an attempt no longer in flight.
    pub fn failed(&mut self, now: StdInstant, id: AttemptId, error: io::Error) {
        self.attempts.remove(&id);
        if !self.in_flight(id) {
            return;
        }
        let t = self.engine_time(now);
        let failure = failure_of(&error);
        if self.race.handle_failed(t, id, failure).is_err() {
            return self.timeout(now);
        }
        let at = self.since_start();
        let info = ErrorInfo::of(&error);
        let detail = Some(info.message.clone());
        if let Some(a) = self.attempt_report(id) {
            a.ended = Some(at);
            a.result = AttemptResult::Failed {
                failure,
                error: info,
            };
        }
        self.io_errors.insert(id, error);
        self.record(Event::Failed {
            id,
            failure,
            detail,
        });
        self.drain();
    }

    /// When [`timeout`](Session::timeout) must be called next.
    pub fn deadline(&self) -> Option<StdInstant> {
        if self.done {
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

    /// Time passed: fires the engine's timers due at or before `now`.
    pub fn timeout(&mut self, now: StdInstant) {
        if self.done {
            return;
        }
        let t = self.engine_time(now);
        if self.race.handle_timeout(t).is_ok() {
            self.drain();
        }
    }

    /// Gives up: every attempt in flight is cancelled (closed) and the race ends as
    /// cancelled. Drivers call this when their connect future or driver is dropped mid-race,
    /// so that an observer sees the cancels.
    pub fn cancel(&mut self, now: StdInstant) {
        if self.done {
            return;
        }
        let t = self.engine_time(now);
        if self.race.cancel(t).is_ok() {
            self.drain();
        } else {
            // A timer due before `now` ends the race first (the total timeout, say).
            self.timeout(now);
        }
    }

    /// Whether the race is over.
    pub fn is_finished(&self) -> bool {
        self.done
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

    /// The winner, or the error listing every attempt; and the report.
    pub fn finish(mut self) -> (Result<S, ConnectError>, RaceReport) {
        let report = std::mem::take(&mut self.report);
        if let Some(stream) = self.winner.take() {
            return (Ok(stream), report);
        }
        let outcome = self.race.outcome();
        let reason = match outcome.map(|o| o.result) {
            Some(RaceResult::Failed(eyeballs::FailReason::NoAddresses)) => Reason::NoAddresses,
            Some(RaceResult::Failed(eyeballs::FailReason::AllAttemptsFailed)) => {
                Reason::AllAttemptsFailed
            }
            Some(RaceResult::Failed(eyeballs::FailReason::ServiceResolutionFailed)) => {
                Reason::ServiceResolutionFailed
            }
            Some(RaceResult::TimedOut) => Reason::TimedOut,
            Some(RaceResult::Cancelled) | None => Reason::Cancelled,
            // A winner whose stream is gone cannot happen; report it as cancelled.
            Some(RaceResult::Connected(_)) => Reason::Cancelled,
        };
        let mut attempts = Vec::new();
        for a in &report.attempts {
            let error = match &a.result {
                AttemptResult::Failed { error, .. } => match self.io_errors.remove(&a.id) {
                    Some(e) => e,
                    None => io::Error::new(error.kind, error.message.clone()),
                },
                AttemptResult::Cancelled {
                    reason: CancelReason::AttemptTimedOut,
                } => io::Error::new(
                    io::ErrorKind::TimedOut,
                    "no connection within the attempt timeout",
                ),
                AttemptResult::Cancelled {
                    reason: CancelReason::RaceTimedOut,
                }
                | AttemptResult::InFlight => io::Error::new(
                    io::ErrorKind::TimedOut,
                    "still connecting when the race ended",
                ),
                _ => continue,
            };
            attempts.push(FailedAttempt {
                id: a.id,
                addr: a.addr,
                protocol: a.protocol,
                error,
            });
        }
        let (skipped, dns) = match outcome {
            Some(o) => (o.skipped.clone(), o.dns_errors.clone()),
            None => (self.race.skipped().to_vec(), Vec::new()),
        };
        let error = ConnectError::new(report.target.clone(), reason).with_details(
            attempts,
            skipped,
            dns,
            self.only_family,
        );
        (Err(error), report)
    }
}

impl<A, Q, S> Drop for Session<A, Q, S> {
    /// A race dropped before it finished still teaches its history what it saw (failures;
    /// attempts still pending teach nothing).
    fn drop(&mut self) {
        self.learn();
    }
}

#[cfg(feature = "tracing")]
fn trace_event(target: &str, e: &ReportEvent) {
    let at_ms = e.at.as_secs_f64() * 1000.0;
    match &e.kind {
        Event::Query { id, name, record } => {
            tracing::debug!(target: "eyeballs", race = %target, at_ms, query = id.0, %name, record = record.as_str(), "query")
        }
        Event::Answer {
            id,
            name,
            record,
            answer,
        } => {
            tracing::debug!(target: "eyeballs", race = %target, at_ms, query = id.0, %name, record = record.as_str(), ?answer, "answer")
        }
        Event::Attempt(a) => {
            tracing::debug!(target: "eyeballs", race = %target, at_ms, attempt = a.id.0, addr = %a.addr, protocol = a.protocol.as_str(), "attempt")
        }
        Event::Failed {
            id,
            failure,
            detail,
        } => {
            let error = detail.as_deref().unwrap_or(failure.as_str());
            tracing::debug!(target: "eyeballs", race = %target, at_ms, attempt = id.0, failure = failure.as_str(), error = %error, "failed")
        }
        Event::Connected { id } => {
            tracing::debug!(target: "eyeballs", race = %target, at_ms, attempt = id.0, "connected")
        }
        Event::Cancel { id, reason } => {
            tracing::debug!(target: "eyeballs", race = %target, at_ms, attempt = id.0, ?reason, "cancel")
        }
        Event::CancelQueries => {
            tracing::debug!(target: "eyeballs", race = %target, at_ms, "cancel queries")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;
    use std::rc::Rc;

    type Probe = Rc<()>;

    fn addrs() -> (SocketAddr, SocketAddr) {
        ("[::1]:1".parse().unwrap(), "127.0.0.1:1".parse().unwrap())
    }

    fn connect_request(s: &mut Session<Probe, (), Probe>) -> Attempt {
        match s.next_request() {
            Some(Request::Connect(a)) => a,
            other => panic!("expected a connect request, got {other:?}"),
        }
    }

    #[test]
    fn losers_and_late_connections_are_closed() {
        let (v6, v4) = addrs();
        let t0 = StdInstant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut s: Session<Probe, (), Probe> =
            Session::start(&Settings::default(), Target::addresses([v6, v4]), t0).unwrap();
        let first = connect_request(&mut s);
        let socket0 = Rc::new(());
        s.add_attempt(first.id, socket0.clone());
        assert_eq!(s.deadline(), Some(ms(250)));
        s.timeout(ms(250));
        let second = connect_request(&mut s);
        let socket1 = Rc::new(());
        s.add_attempt(second.id, socket1.clone());
        assert_eq!(Rc::strong_count(&socket0), 2);
        // #1 connects: #0's socket is closed at that moment.
        let stream1 = Rc::new(());
        s.connected(ms(260), second.id, stream1.clone());
        assert_eq!(
            Rc::strong_count(&socket0),
            1,
            "the loser's socket was not closed"
        );
        assert!(s.is_finished());
        // #0 completes late: its connection is closed, the winner is unchanged.
        let late = Rc::new(());
        s.connected(ms(261), first.id, late.clone());
        assert_eq!(Rc::strong_count(&late), 1, "the late connection was kept");
        let (result, report) = s.finish();
        assert!(Rc::ptr_eq(&result.unwrap(), &stream1));
        assert!(report.attempts[0].late_connection_closed);
        assert_eq!(
            report.attempts[0].result,
            AttemptResult::Cancelled {
                reason: CancelReason::LostRace
            }
        );
        assert_eq!(report.winning_attempt().unwrap().addr, v4);
        assert_eq!(report.attempts[1].started, Duration::from_millis(250));
        assert_eq!(report.ended, Some(Duration::from_millis(260)));
    }

    #[test]
    fn all_failed_lists_every_attempt_with_its_os_error() {
        let (v6, v4) = addrs();
        let t0 = StdInstant::now();
        let mut s: Session<Probe, (), Probe> =
            Session::start(&Settings::default(), Target::addresses([v6, v4]), t0).unwrap();
        let a = connect_request(&mut s);
        s.failed(t0, a.id, io::Error::from_raw_os_error(libc::ECONNREFUSED));
        let b = connect_request(&mut s);
        s.failed(
            t0 + Duration::from_millis(1),
            b.id,
            io::Error::from_raw_os_error(libc::ECONNREFUSED),
        );
        assert!(s.is_finished());
        let (result, report) = s.finish();
        let e = result.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
        assert_eq!(e.attempts().len(), 2);
        assert_eq!(e.attempts()[0].addr, v6);
        assert_eq!(e.attempts()[1].addr, v4);
        assert_eq!(
            e.attempts()[0].error.raw_os_error(),
            Some(libc::ECONNREFUSED)
        );
        let text = e.to_string();
        assert!(
            text.contains("[::1]:1: ") && text.contains("127.0.0.1:1: "),
            "{text}"
        );
        assert_eq!(
            report.result,
            Some(RaceResult::Failed(eyeballs::FailReason::AllAttemptsFailed))
        );
    }

    #[test]
    fn queries_answers_and_stale_answers() {
        let t0 = StdInstant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        let settings = Settings {
            observer: Some(std::sync::Arc::new(move |e: &ReportEvent| {
                seen2.lock().unwrap().push(e.clone());
            })),
            ..Settings::default()
        };
        let mut s: Session<Probe, Probe, Probe> =
            Session::start(&settings, Target::host("example.com", 80), t0).unwrap();
        let mut queries = Vec::new();
        while let Some(r) = s.next_request() {
            let Request::Resolve { id, record, .. } = r else {
                panic!("{r:?}")
            };
            s.add_query(id, Rc::new(()));
            queries.push((id, record));
        }
        assert_eq!(
            queries.iter().map(|q| q.1).collect::<Vec<_>>(),
            [RecordType::Aaaa, RecordType::A]
        );
        // A first, with an address of the wrong family mixed in (dropped).
        s.dns_answer(
            ms(10),
            queries[1].0,
            DnsAnswer::Addresses(vec!["192.0.2.1".parse().unwrap(), "::1".parse().unwrap()]),
        );
        assert!(
            s.next_request().is_none(),
            "the Resolution Delay must hold IPv4 back"
        );
        assert_eq!(s.deadline(), Some(ms(60)));
        s.timeout(ms(60));
        let a = match s.next_request() {
            Some(Request::Connect(a)) => a,
            r => panic!("{r:?}"),
        };
        assert_eq!(a.addr, "192.0.2.1:80".parse().unwrap());
        s.add_attempt(a.id, Rc::new(()));
        s.connected(ms(70), a.id, Rc::new(()));
        // AAAA was still outstanding: abandoned; a late answer is ignored.
        s.dns_answer(
            ms(80),
            queries[0].0,
            DnsAnswer::Addresses(vec!["::1".parse().unwrap()]),
        );
        let (result, report) = s.finish();
        assert!(result.is_ok());
        assert_eq!(report.queries[1].answered, Some(Duration::from_millis(10)));
        assert_eq!(
            report.queries[1].answer,
            Some(DnsAnswer::Addresses(vec!["192.0.2.1".parse().unwrap()]))
        );
        assert_eq!(report.queries[0].answered, None);
        assert!(matches!(
            report.events.last().unwrap().kind,
            Event::CancelQueries
        ));
        assert_eq!(
            *seen.lock().unwrap(),
            report.events,
            "the observer saw every event"
        );
    }

    #[test]
    fn cancel_closes_everything() {
        let (v6, v4) = addrs();
        let t0 = StdInstant::now();
        let mut s: Session<Probe, (), Probe> =
            Session::start(&Settings::default(), Target::addresses([v6, v4]), t0).unwrap();
        let a = connect_request(&mut s);
        let socket = Rc::new(());
        s.add_attempt(a.id, socket.clone());
        s.cancel(t0 + Duration::from_millis(5));
        assert_eq!(Rc::strong_count(&socket), 1);
        let (result, _) = s.finish();
        assert_eq!(result.unwrap_err().kind(), io::ErrorKind::Interrupted);
    }

    #[test]
    fn an_input_overtaken_by_a_due_timer_fires_the_timer() {
        // The total timeout (100 ms) is due before the connection is reported (150 ms): the
        // engine refuses the input, and the session fires the timer, so the race ends as
        // timed out at once and the late stream is closed, whoever calls next.
        let (v6, v4) = addrs();
        let t0 = StdInstant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut settings = Settings::default();
        settings.config.total_timeout = Some(Duration::from_millis(100));
        let mut s: Session<Probe, (), Probe> =
            Session::start(&settings, Target::addresses([v6, v4]), t0).unwrap();
        let a = connect_request(&mut s);
        let socket = Rc::new(());
        s.add_attempt(a.id, socket.clone());
        let stream = Rc::new(());
        s.connected(ms(150), a.id, stream.clone());
        assert!(
            s.is_finished(),
            "the due total timeout did not end the race"
        );
        assert_eq!(
            Rc::strong_count(&stream),
            1,
            "the overtaken stream was kept"
        );
        assert_eq!(
            Rc::strong_count(&socket),
            1,
            "the attempt's socket was kept"
        );
        let (result, report) = s.finish();
        assert_eq!(result.unwrap_err().kind(), io::ErrorKind::TimedOut);
        assert!(report.attempts[0].late_connection_closed);

        // The same for a cancel that comes after the deadline.
        let mut s: Session<Probe, (), Probe> =
            Session::start(&settings, Target::addresses([v6, v4]), t0).unwrap();
        let a = connect_request(&mut s);
        s.add_attempt(a.id, Rc::new(()));
        s.cancel(ms(150));
        assert!(s.is_finished());
        assert_eq!(s.finish().0.unwrap_err().kind(), io::ErrorKind::TimedOut);
    }

    #[test]
    fn start_errors_name_the_problem() {
        let t0 = StdInstant::now();
        let e =
            Session::<(), (), ()>::start(&Settings::default(), Target::host("bad name", 80), t0)
                .err()
                .unwrap();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("bad name"), "{e}");
        let mut settings = Settings::default();
        settings.config.connection_attempt_delay = Duration::from_millis(1);
        let e = Session::<(), (), ()>::start(&settings, Target::host("example.com", 80), t0)
            .err()
            .unwrap();
        assert!(e.to_string().contains("connection_attempt_delay"), "{e}");
    }

    #[test]
    fn races_share_one_engine_epoch_and_reports_start_at_zero() {
        let (v6, v4) = addrs();
        let t0 = StdInstant::now();
        let later = t0 + Duration::from_secs(7);
        let a: Session<Probe, (), Probe> =
            Session::start(&Settings::default(), Target::addresses([v6, v4]), t0).unwrap();
        let mut b: Session<Probe, (), Probe> =
            Session::start(&Settings::default(), Target::addresses([v6, v4]), later).unwrap();
        assert_eq!(
            b.race()
                .started_at()
                .saturating_duration_since(a.race().started_at()),
            Duration::from_secs(7),
            "engine instants of different races are comparable"
        );
        assert_eq!(b.race().started_at(), crate::clock::to_engine(later));
        let first = connect_request(&mut b);
        assert_eq!(b.report().attempts[0].started, Duration::ZERO);
        assert_eq!(b.deadline(), Some(later + Duration::from_millis(250)));
        b.connected(later + Duration::from_millis(30), first.id, Rc::new(()));
        assert_eq!(b.report().ended, Some(Duration::from_millis(30)));
    }

    #[test]
    fn history_learns_when_the_race_ends_or_is_dropped_but_not_across_a_flush() {
        use eyeballs::history::{HistoryConfig, NetworkId};
        let (v6, v4) = addrs();
        let history = SharedHistory::new(HistoryConfig::default(), NetworkId(1));
        let settings = Settings {
            history: Some(history.clone()),
            ..Settings::default()
        };
        let t0 = StdInstant::now();
        let ms = |n| t0 + Duration::from_millis(n);

        // Dropped after IPv6 failed: the failure is learned.
        let mut s: Session<Probe, (), Probe> =
            Session::start(&settings, Target::addresses([v6, v4]), t0).unwrap();
        assert!(s.shared_history().is_some());
        let a = connect_request(&mut s);
        assert_eq!(a.addr, v6);
        s.failed(ms(5), a.id, io::Error::from_raw_os_error(libc::ENETUNREACH));
        assert!(
            !history.path_info(v6.ip()).broken,
            "not before the race ends"
        );
        drop(s);
        let info = history.path_info(v6.ip());
        assert!(info.broken, "{info:?}");
        assert_eq!(history.export()[0].failures, 1);

        // The next race starts with IPv4, which wins: its RTT is learned at once.
        let mut s: Session<Probe, (), Probe> =
            Session::start(&settings, Target::addresses([v6, v4]), ms(100)).unwrap();
        let b = connect_request(&mut s);
        assert_eq!(b.addr, v4);
        s.connected(ms(120), b.id, Rc::new(()));
        let rtt = history.path_info(v4.ip()).rtt.unwrap();
        assert_eq!(rtt.srtt, Duration::from_millis(20));
        let _ = s.finish();
        assert_eq!(history.export()[1].failures, 1, "learned once");

        // A race in flight when the history is flushed teaches nothing.
        let mut s: Session<Probe, (), Probe> =
            Session::start(&settings, Target::addresses([v4]), ms(200)).unwrap();
        let c = connect_request(&mut s);
        history.clear();
        s.failed(
            ms(201),
            c.id,
            io::Error::from_raw_os_error(libc::ECONNREFUSED),
        );
        assert!(s.is_finished());
        assert!(history.is_empty());
    }

    #[test]
    fn one_bound_family_skips_the_other_with_a_clear_error() {
        let (v6, _) = addrs();
        let mut settings = Settings::default();
        settings.set_local_address("127.0.0.1".parse().unwrap());
        let e = Session::<(), (), ()>::start(&settings, Target::addresses([v6]), StdInstant::now())
            .map(|s| s.finish().0.err().unwrap())
            .unwrap_or_else(|e| e);
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        let text = e.to_string();
        assert!(text.contains("[::1]:1 not attempted"), "{text}");
        assert!(text.contains("configured for IPv4 only"), "{text}");
    }

    /// Every address refused by the destination filter: nothing was attempted because the
    /// caller's policy forbids it, which is `PermissionDenied`, not `NotFound`.
    #[test]
    fn every_address_filtered_is_permission_denied() {
        let (v6, v4) = addrs();
        let mut settings = Settings::default();
        settings.config.filter = Some(std::sync::Arc::new(|_: std::net::IpAddr| {
            Err("not on my watch")
        }));
        let (result, _) =
            Session::<(), (), ()>::start(&settings, Target::addresses([v6, v4]), StdInstant::now())
                .unwrap()
                .finish();
        let e = result.unwrap_err();
        assert_eq!(e.reason(), &Reason::NoAddresses);
        assert_eq!(e.skipped().len(), 2);
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
        let text = e.to_string();
        assert!(
            text.contains("refused by the destination filter: not on my watch"),
            "{text}"
        );
        let io: io::Error = e.into();
        assert_eq!(io.kind(), io::ErrorKind::PermissionDenied);
    }

    #[test]
    fn global_only_refuses_loopback_in_every_spelling() {
        use crate::settings::Configure;
        let settings = Settings::default().global_only();
        let target = Target::addresses(
            [
                "[::1]:80",
                "127.0.0.1:80",
                "[::ffff:127.0.0.2]:80",
                "[64:ff9b::a00:1]:80",
            ]
            .map(|a| a.parse::<std::net::SocketAddr>().unwrap()),
        );
        let mut s = Session::<(), (), ()>::start(&settings, target, StdInstant::now()).unwrap();
        assert!(
            s.next_request().is_none(),
            "a refused destination was attempted"
        );
        let e = s.finish().0.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
        // The mapped address is reported in its IPv4 form, and mapped + plain are one.
        let refused: Vec<_> = e.skipped().iter().map(|s| s.addr.to_string()).collect();
        assert_eq!(
            refused,
            [
                "[::1]:80",
                "127.0.0.1:80",
                "127.0.0.2:80",
                "[64:ff9b::a00:1]:80"
            ],
            "{e}"
        );
    }
}

#[cfg(all(test, feature = "tracing"))]
mod tracing_events {
    use super::*;
    use std::fmt::Debug;
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};

    /// A subscriber that keeps the message of every `eyeballs` event.
    struct Messages(Arc<Mutex<Vec<String>>>);

    struct Message(String);

    impl Visit for Message {
        fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
            if field.name() == "message" {
                self.0 = format!("{value:?}");
            }
        }
    }

    impl tracing::Subscriber for Messages {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &tracing::Event<'_>) {
            if event.metadata().target() == "eyeballs" {
                let mut m = Message(String::new());
                event.record(&mut m);
                self.0.lock().unwrap().push(m.0);
            }
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    /// Every attempt, result and cancel of a race is a `tracing` event.
    #[test]
    fn every_step_is_traced() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        tracing::subscriber::with_default(Messages(seen.clone()), || {
            let v6 = "[::1]:9".parse().unwrap();
            let v4 = "127.0.0.1:9".parse().unwrap();
            let t0 = StdInstant::now();
            let mut s: Session<(), (), ()> =
                Session::start(&Settings::default(), Target::addresses([v6, v4]), t0).unwrap();
            let Some(Request::Connect(first)) = s.next_request() else {
                panic!("an attempt")
            };
            s.add_attempt(first.id, ());
            s.failed(
                t0,
                first.id,
                io::Error::from(io::ErrorKind::ConnectionRefused),
            );
            let Some(Request::Connect(second)) = s.next_request() else {
                panic!("a second attempt")
            };
            s.add_attempt(second.id, ());
            s.connected(t0, second.id, ());
            let _ = s.finish();
        });
        assert_eq!(
            *seen.lock().unwrap(),
            ["attempt", "failed", "attempt", "connected"]
        );
    }
}
