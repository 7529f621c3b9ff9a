//! Recording: the engine's actions turned into I/O requests, closed handles and the race
//! report, and every event shown to the observer (and, with the `tracing` feature, traced).

use std::net::SocketAddr;

use eyeballs::trace::{Event, TimedEvent};
use eyeballs::{Action, AttemptId, Protocol, RaceResult};

use super::{Request, Session};
use crate::report::{AttemptReport, AttemptResult, QueryReport};

impl<A, Q, S> Session<A, Q, S> {
    /// Whether anyone sees the race's events: the report keeping them, the observer, tracing.
    pub(super) fn events_seen(&self) -> bool {
        self.keep_events || self.observer.is_some() || cfg!(feature = "tracing")
    }

    /// Records the event `event` makes, when anyone sees it (the report keeping its events,
    /// the observer, tracing): a race nobody watches makes no event, nor the copies of
    /// names, answers and attempts one holds.
    pub(super) fn record(&mut self, event: impl FnOnce() -> Event) {
        if !self.events_seen() {
            return;
        }
        let event = TimedEvent {
            at: self.since_start(),
            event: event(),
        };
        #[cfg(feature = "tracing")]
        trace_event(&self.report.target, &event);
        if let Some(observer) = &self.observer {
            observer(&event);
        }
        if self.keep_events {
            self.report.events.push(event);
        }
    }

    pub(super) fn attempt_report(&mut self, id: AttemptId) -> Option<&mut AttemptReport> {
        self.report.attempts.get_mut(id.0 as usize)
    }

    /// Ends attempt `id`'s report now, with `result`, and records the event `event` makes
    /// of the attempt's endpoint: the one place an attempt's result or cancel is looked up
    /// and recorded. Every attempt the engine names (a result it accepted, a cancel) was
    /// started, so it has a report.
    pub(super) fn end_attempt(
        &mut self,
        id: AttemptId,
        result: AttemptResult,
        event: impl FnOnce(SocketAddr, Protocol) -> Event,
    ) {
        let at = self.since_start();
        if let Some(a) = self.attempt_report(id) {
            a.ended = Some(at);
            a.result = result;
            let (addr, protocol) = (a.addr, a.protocol);
            self.record(|| event(addr, protocol));
        }
    }

    pub(super) fn in_flight(&self, id: AttemptId) -> bool {
        !self.race.is_finished()
            && self
                .report
                .attempts
                .get(id.0 as usize)
                .is_some_and(|a| a.result == AttemptResult::InFlight)
    }

    /// Takes every action the engine has: records it, turns starts and queries into
    /// requests, closes what is cancelled.
    pub(super) fn drain(&mut self) {
        while let Some(action) = self.race.poll_action() {
            let at = self.since_start();
            match action {
                Action::Resolve { id, name, record } => {
                    let name = String::from(&*name);
                    self.open_queries.insert(id);
                    self.report.queries.push(QueryReport {
                        id,
                        name: name.clone(),
                        record,
                        sent: at,
                        answered: None,
                        answer: None,
                    });
                    self.record(|| Event::Query {
                        id,
                        name: name.clone(),
                        record,
                    });
                    self.requests
                        .push_back(Request::Resolve { id, name, record });
                }
                Action::Attempt(attempt) => {
                    self.report.attempts.push(AttemptReport {
                        id: attempt.id,
                        addr: attempt.addr,
                        protocol: attempt.protocol,
                        started: at,
                        ended: None,
                        transport_connected: None,
                        result: AttemptResult::InFlight,
                        late_connection_closed: false,
                    });
                    self.record(|| Event::Attempt(attempt.clone()));
                    self.requests.push_back(Request::Attempt(attempt));
                }
                Action::Cancel { id, reason } => {
                    // Closing the socket: drop its handle (or the request not yet taken).
                    self.attempts.remove(&id);
                    self.requests
                        .retain(|r| !matches!(r, Request::Attempt(a) if a.id == id));
                    let result = AttemptResult::Cancelled { reason };
                    self.end_attempt(id, result, |addr, protocol| Event::Cancel {
                        id,
                        addr,
                        protocol,
                        reason,
                    });
                }
                Action::CancelQueries => {
                    self.queries.clear();
                    self.open_queries.clear();
                    self.requests
                        .retain(|r| !matches!(r, Request::Resolve { .. }));
                    self.record(|| Event::CancelQueries);
                }
                Action::Finished(result) => {
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

    pub(super) fn late_connection(&mut self, id: AttemptId) {
        if let Some(a) = self.attempt_report(id) {
            a.late_connection_closed = true;
        }
        #[cfg(feature = "tracing")]
        tracing::debug!(target: "eyeballs", race = %self.report.target, attempt = id.0, "closed a late connection of a cancelled attempt");
    }
}

#[cfg(feature = "tracing")]
fn trace_event(target: &str, e: &TimedEvent) {
    let at_ms = e.at.as_secs_f64() * 1000.0;
    match &e.event {
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
            addr,
            failure,
            detail,
            ..
        } => {
            let error = detail.as_deref().unwrap_or(failure.as_str());
            tracing::debug!(target: "eyeballs", race = %target, at_ms, attempt = id.0, %addr, failure = failure.as_str(), error = %error, "failed")
        }
        Event::TransportConnected { id, addr, .. } => {
            tracing::debug!(target: "eyeballs", race = %target, at_ms, attempt = id.0, %addr, "transport")
        }
        Event::Connected { id, addr, .. } => {
            tracing::debug!(target: "eyeballs", race = %target, at_ms, attempt = id.0, %addr, "connected")
        }
        Event::Cancel {
            id, addr, reason, ..
        } => {
            tracing::debug!(target: "eyeballs", race = %target, at_ms, attempt = id.0, %addr, reason = reason.as_str(), "cancel")
        }
        Event::CancelQueries => {
            tracing::debug!(target: "eyeballs", race = %target, at_ms, "cancel queries")
        }
    }
}
