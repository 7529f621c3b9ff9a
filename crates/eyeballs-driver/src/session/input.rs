//! Inputs: DNS answers, attempt results, time passing and the caller giving up, fed to the
//! engine; an input the engine refuses because a due timer overtook it fires that timer.

use std::io;
use std::time::Instant as StdInstant;

use eyeballs::trace::Event;
use eyeballs::{AttemptId, DnsAnswer, QueryId, RecordType};

use super::Session;
use crate::report::{AttemptResult, ErrorInfo};
use crate::socket::failure_of;

impl<A, Q, S> Session<A, Q, S> {
    /// The answer to query `id`. Answers to queries no longer wanted are ignored;
    /// addresses of the wrong family are dropped.
    pub fn handle_dns(&mut self, now: StdInstant, id: QueryId, answer: DnsAnswer) {
        if !self.open_queries.remove(&id) || self.race.is_finished() {
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
            return self.handle_timeout(now);
        }
        let (at, seen) = (self.since_start(), self.events_seen());
        let q = &mut self.report.queries[index];
        q.answered = Some(at);
        // The event's copies of the name and the answer only when anyone sees it.
        let event = seen.then(|| Event::Answer {
            id,
            name: q.name.clone(),
            record,
            answer: answer.clone(),
        });
        q.answer = Some(answer);
        if let Some(event) = event {
            self.record(|| event);
        }
        self.drain();
    }

    /// Attempt `id` connected with `stream`. If it is in flight it wins (the others are
    /// cancelled and closed at once); if it was cancelled already (a late connection, Go's
    /// `TestDialSerialAsyncSpuriousConnection`), `stream` is closed here.
    pub fn handle_connected(&mut self, now: StdInstant, id: AttemptId, stream: S) {
        self.attempts.remove(&id);
        let t = self.engine_time(now);
        if !self.in_flight(id) || self.race.handle_connected(t, id).is_err() {
            drop(stream);
            self.late_connection(id);
            // A refusal means a timer due before `now` ended the attempt (or the race)
            // first: fire it, so that the report and the observer see why.
            return self.handle_timeout(now);
        }
        self.winner = Some(stream);
        self.end_attempt(id, AttemptResult::Connected, |addr, protocol| {
            Event::Connected { id, addr, protocol }
        });
        self.drain();
    }

    /// Attempt `id`'s transport handshake is done (TCP connected) and its secure handshake
    /// (TLS) goes on: the engine's [`Race::handle_progress`](eyeballs::Race::handle_progress),
    /// which extends the Next Connection Attempt Timer (HEv3 §6.1), recorded as the report's
    /// [`Event::TransportConnected`] and in the attempt's
    /// [`transport_connected`](crate::AttemptReport::transport_connected). Its result follows
    /// with [`handle_connected`](Session::handle_connected) (the secure handshake finished:
    /// it wins) or [`handle_failed`](Session::handle_failed). Ignored for an attempt no
    /// longer in flight, or one that reported it already.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use eyeballs::Target;
    /// use eyeballs_driver::{Request, Session, Settings};
    ///
    /// let t0 = Instant::now();
    /// let addrs = ["[::1]:443".parse().unwrap(), "127.0.0.1:443".parse().unwrap()];
    /// let mut race: Session<(), (), ()> =
    ///     Session::start(&Settings::default(), Target::addresses(addrs), t0).unwrap();
    /// let Some(Request::Attempt(first)) = race.poll_request() else { panic!() };
    /// // TCP connected after 150 ms: TLS gets two more handshake times before IPv4 starts.
    /// race.handle_progress(t0 + Duration::from_millis(150), first.id);
    /// assert_eq!(race.poll_timeout(), Some(t0 + Duration::from_millis(450)));
    /// assert_eq!(race.report().attempts[0].transport_connected, Some(Duration::from_millis(150)));
    /// ```
    pub fn handle_progress(&mut self, now: StdInstant, id: AttemptId) {
        if !self.in_flight(id)
            || self
                .attempt_report(id)
                .is_none_or(|a| a.transport_connected.is_some())
        {
            return;
        }
        let t = self.engine_time(now);
        if self.race.handle_progress(t, id).is_err() {
            // Refused because a timer due before `now` ended the attempt or the race.
            return self.handle_timeout(now);
        }
        let at = self.since_start();
        if let Some(a) = self.attempt_report(id) {
            a.transport_connected = Some(at);
            let (addr, protocol) = (a.addr, a.protocol);
            self.record(|| Event::TransportConnected { id, addr, protocol });
        }
        self.drain();
    }

    /// Attempt `id` failed with `error`. Ignored for an attempt no longer in flight.
    pub fn handle_failed(&mut self, now: StdInstant, id: AttemptId, error: io::Error) {
        self.attempts.remove(&id);
        if !self.in_flight(id) {
            return;
        }
        let t = self.engine_time(now);
        let failure = failure_of(&error);
        if self.race.handle_failed(t, id, failure).is_err() {
            return self.handle_timeout(now);
        }
        let info = ErrorInfo::of(&error);
        let detail = Some(info.message.clone());
        self.io_errors.insert(id, error);
        let result = AttemptResult::Failed {
            failure,
            error: info,
        };
        self.end_attempt(id, result, |addr, protocol| Event::Failed {
            id,
            addr,
            protocol,
            failure,
            detail,
        });
        self.drain();
    }

    /// Time passed: fires the engine's timers due at or before `now`.
    pub fn handle_timeout(&mut self, now: StdInstant) {
        if self.race.is_finished() {
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
        if self.race.is_finished() {
            return;
        }
        let t = self.engine_time(now);
        if self.race.cancel(t).is_ok() {
            self.drain();
        } else {
            // A timer due before `now` ends the race first (the total timeout, say).
            self.handle_timeout(now);
        }
    }
}
