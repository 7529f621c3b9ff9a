//! The race report: every DNS query and answer with its time, every attempt with its start,
//! end and result (the OS error of a failure), and the winner.
//!
//! The events are the engine's [`TimedEvent`]s, the simulator's vocabulary (`query`,
//! `answer`, `attempt`, `failed`, `connected`, `cancel`, `cancel_queries`) with the time
//! since the race started, so a live race and a simulated one print and serialise alike.
//! With the `serde` feature, a [`RaceReport`] serialises each event with the renderer the
//! simulator's traces use too (`eyeballs_json::event_json`: `{"t_ms": 12, "event":
//! "attempt", "id": 0, "addr": "::1", "port": 443, "protocol": "tcp"}`), plus the details
//! only a real race has (the addresses of an answer, the OS error of a failure, the reason
//! of every cancel).

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use eyeballs::trace::TimedEvent;
use eyeballs::{
    AttemptFailure, AttemptId, CancelReason, DnsAnswer, Protocol, QueryId, RaceResult, RecordType,
};

/// An I/O error as the report keeps it (an `io::Error` cannot be cloned).
///
/// ```
/// use eyeballs_driver::ErrorInfo;
///
/// let info = ErrorInfo::of(&std::io::Error::from_raw_os_error(111));
/// assert_eq!(info.os_code, Some(111));
/// assert_eq!(info.to_string(), info.message);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorInfo {
    /// The error's kind.
    pub kind: io::ErrorKind,
    /// The OS error code, when there is one.
    pub os_code: Option<i32>,
    /// The error's text.
    pub message: String,
}

impl ErrorInfo {
    /// The report's copy of `e`.
    pub fn of(e: &io::Error) -> ErrorInfo {
        ErrorInfo {
            kind: e.kind(),
            os_code: e.raw_os_error(),
            message: e.to_string(),
        }
    }
}

impl fmt::Display for ErrorInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One DNS query of a race ([`RaceReport::queries`]).
///
/// ```
/// use eyeballs_driver::{QueryReport, RaceReport};
///
/// fn slowest(report: &RaceReport) -> Option<&QueryReport> {
///     report.queries.iter().max_by_key(|q| q.answered.map(|at| at - q.sent))
/// }
/// assert!(slowest(&RaceReport::default()).is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryReport {
    /// The query.
    pub id: QueryId,
    /// The name.
    pub name: String,
    /// The record type.
    pub record: RecordType,
    /// When it was sent (since the race started).
    pub sent: Duration,
    /// When it was answered, if it was.
    pub answered: Option<Duration>,
    /// The answer, if there was one.
    pub answer: Option<DnsAnswer>,
}

/// How an attempt ended ([`AttemptReport::result`]).
///
/// ```
/// use std::time::Instant;
/// use eyeballs::Target;
/// use eyeballs_driver::{Request, Session, Settings};
///
/// // A race of two addresses: the first refused, the second connects.
/// let addrs = ["127.0.0.1:1".parse().unwrap(), "127.0.0.1:2".parse().unwrap()];
/// let mut race: Session<(), (), ()> =
///     Session::start(&Settings::default(), Target::addresses(addrs), Instant::now()).unwrap();
/// let Some(Request::Attempt(first)) = race.poll_request() else { panic!() };
/// race.handle_failed(Instant::now(), first.id, std::io::ErrorKind::ConnectionRefused.into());
/// let Some(Request::Attempt(second)) = race.poll_request() else { panic!() };
/// race.handle_connected(Instant::now(), second.id, ());
/// let (_, report) = race.finish();
/// use eyeballs_driver::AttemptResult;
/// match &report.attempts[0].result {
///     AttemptResult::Failed { error, .. } => assert_eq!(error.kind, std::io::ErrorKind::ConnectionRefused),
///     other => panic!("{other:?}"),
/// }
/// assert_eq!(report.attempts[1].result, AttemptResult::Connected);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttemptResult {
    /// Still in flight (the race ended some other way while it ran, or has not ended).
    InFlight,
    /// It connected and won.
    Connected,
    /// It failed.
    Failed {
        /// How the engine counts it.
        failure: AttemptFailure,
        /// The error.
        error: ErrorInfo,
    },
    /// The engine cancelled it and its socket was closed.
    Cancelled {
        /// Why.
        reason: CancelReason,
    },
}

/// One attempt of a race ([`RaceReport::attempts`], in start order).
///
/// ```
/// use std::time::Instant;
/// use eyeballs::Target;
/// use eyeballs_driver::{Request, Session, Settings};
///
/// // A race of two addresses: the first refused, the second connects.
/// let addrs = ["127.0.0.1:1".parse().unwrap(), "127.0.0.1:2".parse().unwrap()];
/// let mut race: Session<(), (), ()> =
///     Session::start(&Settings::default(), Target::addresses(addrs), Instant::now()).unwrap();
/// let Some(Request::Attempt(first)) = race.poll_request() else { panic!() };
/// race.handle_failed(Instant::now(), first.id, std::io::ErrorKind::ConnectionRefused.into());
/// let Some(Request::Attempt(second)) = race.poll_request() else { panic!() };
/// race.handle_connected(Instant::now(), second.id, ());
/// let (_, report) = race.finish();
/// let winner = report.winning_attempt().unwrap();
/// assert_eq!(winner.addr, "127.0.0.1:2".parse().unwrap());
/// assert!(winner.ended.is_some() && !winner.late_connection_closed);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptReport {
    /// The attempt.
    pub id: AttemptId,
    /// Where to.
    pub addr: SocketAddr,
    /// Over which transport.
    pub protocol: Protocol,
    /// When it started (since the race started).
    pub started: Duration,
    /// When its transport handshake finished while a secure handshake went on (TCP
    /// connected, TLS under way: [`Event::TransportConnected`](eyeballs::trace::Event)),
    /// since the race started. `None` for an attempt whose transport never connected, or
    /// that has no secure handshake (plain TCP).
    pub transport_connected: Option<Duration>,
    /// When it ended, if it did.
    pub ended: Option<Duration>,
    /// How it ended.
    pub result: AttemptResult,
    /// It connected after it had been cancelled, and that connection was closed at once.
    pub late_connection_closed: bool,
}

/// Everything that happened in one race: what `connect_with_report` returns beside the
/// result. It prints as a timeline, one line per event.
///
/// ```
/// use std::time::Instant;
/// use eyeballs::Target;
/// use eyeballs_driver::{Request, Session, Settings};
///
/// // A race of two addresses: the first refused, the second connects.
/// let addrs = ["127.0.0.1:1".parse().unwrap(), "127.0.0.1:2".parse().unwrap()];
/// let mut race: Session<(), (), ()> =
///     Session::start(&Settings::default(), Target::addresses(addrs), Instant::now()).unwrap();
/// let Some(Request::Attempt(first)) = race.poll_request() else { panic!() };
/// race.handle_failed(Instant::now(), first.id, std::io::ErrorKind::ConnectionRefused.into());
/// let Some(Request::Attempt(second)) = race.poll_request() else { panic!() };
/// race.handle_connected(Instant::now(), second.id, ());
/// let (_, report) = race.finish();
/// assert_eq!(report.winner, Some(second.id));
/// assert_eq!(report.attempts.len(), 2);
/// assert!(report.queries.is_empty()); // addresses given: no DNS
/// let text = report.to_string();
/// assert!(text.starts_with("race to "), "{text}");
/// assert!(text.contains("connected to 127.0.0.1:2"), "{text}");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RaceReport {
    /// The target, as people write it.
    pub target: String,
    /// Every event, in order, with its time since the race started (a failure's `detail`
    /// is the OS error's text).
    pub events: Vec<TimedEvent>,
    /// Every DNS query, in the order sent.
    pub queries: Vec<QueryReport>,
    /// Every attempt, in start order.
    pub attempts: Vec<AttemptReport>,
    /// The attempt that won.
    pub winner: Option<AttemptId>,
    /// How the race ended (`None` if it never started or was abandoned mid-way).
    pub result: Option<RaceResult>,
    /// When it ended (since it started).
    pub ended: Option<Duration>,
}

impl RaceReport {
    /// The winning attempt's record.
    pub fn winning_attempt(&self) -> Option<&AttemptReport> {
        let id = self.winner?;
        self.attempts.iter().find(|a| a.id == id)
    }

    /// The record of attempt `id`.
    pub fn attempt(&self, id: AttemptId) -> Option<&AttemptReport> {
        self.attempts.iter().find(|a| a.id == id)
    }
}

impl fmt::Display for RaceReport {
    /// The timeline, one line per event, then how it ended.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "race to {}", self.target)?;
        for e in &self.events {
            writeln!(f, "{e}")?;
        }
        match (self.result, self.ended) {
            (Some(RaceResult::Connected(id)), Some(at)) => {
                let to = self
                    .attempt(id)
                    .map(|a| a.addr.to_string())
                    .unwrap_or_default();
                writeln!(f, "connected to {to} (#{}) after {:.3}ms", id.0, ms(at))
            }
            (Some(result), Some(at)) => writeln!(f, "ended after {:.3}ms: {result:?}", ms(at)),
            _ => writeln!(f, "did not finish"),
        }
    }
}

#[cfg(feature = "serde")]
mod ser {
    use super::*;
    use eyeballs::AttemptError;
    use eyeballs_json::{
        Fields, attempt_error_json, event_json, ms_value, put_winner, result_name,
    };
    use serde::ser::{Serialize, Serializer};
    use serde_json::{Map, Value, json};

    impl Serialize for RaceReport {
        /// `{"target": .., "events": [..], "outcome": {..}}`. Each event is the simulator's
        /// event object ([`eyeballs_json::event_json`]) with the fields only a real race
        /// has: `addrs` on address answers, `detail` (the OS error) on failures, `reason`
        /// on every cancel. The outcome is the simulator's (`result`, `id`, `addr`, `port`,
        /// `protocol`, `t_ms`), with `errors` listing each failed attempt's OS error.
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let events: Vec<Value> = self
                .events
                .iter()
                .map(|e| event_json(e, Fields::Live))
                .collect();
            json!({
                "target": self.target,
                "events": events,
                "outcome": outcome_json(self),
            })
            .serialize(s)
        }
    }

    /// Every failed attempt, with its OS error.
    fn attempt_errors(attempts: &[AttemptReport]) -> Value {
        attempts
            .iter()
            .filter_map(|a| match &a.result {
                AttemptResult::Failed { failure, error } => {
                    let e = AttemptError {
                        id: a.id,
                        addr: a.addr,
                        protocol: a.protocol,
                        failure: *failure,
                    };
                    Some(attempt_error_json(&e, Some(&error.message)))
                }
                _ => None,
            })
            .collect()
    }

    fn outcome_json(r: &RaceReport) -> Value {
        let mut m = Map::new();
        m.insert("result".into(), json!(result_name(r.result)));
        match r.result {
            Some(RaceResult::Connected(id)) => {
                let winner = r.attempt(id).map(|a| (a.addr, a.protocol));
                put_winner(&mut m, id, winner);
            }
            Some(RaceResult::Failed(reason)) => {
                m.insert("reason".into(), json!(reason.to_string()));
                m.insert("errors".into(), attempt_errors(&r.attempts));
            }
            Some(RaceResult::TimedOut) => {
                m.insert("errors".into(), attempt_errors(&r.attempts));
            }
            Some(RaceResult::Cancelled) | None => {}
        }
        if let Some(at) = r.ended {
            m.insert("t_ms".into(), ms_value(at));
        }
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eyeballs::trace::Event;
    use eyeballs::{Attempt, DnsError};

    fn at(micros: u64, event: Event) -> TimedEvent {
        TimedEvent {
            at: Duration::from_micros(micros),
            event,
        }
    }

    fn attempt(id: u32, addr: &str) -> Event {
        Event::Attempt(Attempt {
            id: AttemptId(id),
            addr: addr.parse().unwrap(),
            protocol: Protocol::Tcp,
            alpn: None,
            ech: None,
        })
    }

    fn refused(id: u32, addr: &str) -> Event {
        Event::Failed {
            id: AttemptId(id),
            addr: addr.parse().unwrap(),
            protocol: Protocol::Tcp,
            failure: AttemptFailure::Refused,
            detail: Some("Connection refused (os error 111)".into()),
        }
    }

    fn answer(answer: DnsAnswer) -> Event {
        Event::Answer {
            id: QueryId(1),
            name: "example.com".into(),
            record: RecordType::A,
            answer,
        }
    }

    #[test]
    fn display_lines() {
        let line = |micros, kind| at(micros, kind).to_string();
        assert_eq!(
            line(12_000, attempt(0, "[::1]:443")),
            "    12.000ms  attempt    #0 [::1]:443 over tcp"
        );
        // A live report lists the addresses of an answer and gives the OS error.
        let two = vec!["192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap()];
        assert_eq!(
            line(1_500, answer(DnsAnswer::Addresses(two))),
            "     1.500ms  answer     A example.com: 192.0.2.1 192.0.2.2"
        );
        assert_eq!(
            line(2_000, answer(DnsAnswer::Error(DnsError::NxDomain))),
            "     2.000ms  answer     A example.com: no such name (NXDOMAIN)"
        );
        assert_eq!(
            line(2_500, refused(0, "[::1]:443")),
            "     2.500ms  failed     #0 [::1]:443 over tcp: Connection refused (os error 111)"
        );
    }

    #[cfg(feature = "serde")]
    #[test]
    fn serialises_as_the_simulator_does() {
        use eyeballs_json::{Fields, event_json};
        let json = |e: &TimedEvent| event_json(e, Fields::Live).to_string();
        let e = at(
            12_000,
            answer(DnsAnswer::Addresses(vec!["192.0.2.1".parse().unwrap()])),
        );
        assert_eq!(
            json(&e),
            r#"{"t_ms":12,"event":"answer","name":"example.com","type":"A","count":1,"addrs":["192.0.2.1"]}"#
        );
        let e = at(
            1500,
            Event::Cancel {
                id: AttemptId(0),
                addr: "[::1]:443".parse().unwrap(),
                protocol: Protocol::Tcp,
                reason: CancelReason::LostRace,
            },
        );
        assert_eq!(
            json(&e),
            r#"{"t_ms":1.5,"event":"cancel","id":0,"reason":"lost_race"}"#
        );
        assert_eq!(
            json(&at(83_512, refused(0, "[::1]:443"))),
            r#"{"t_ms":83.512,"event":"failed","id":0,"error":"refused","detail":"Connection refused (os error 111)"}"#
        );
    }

    #[cfg(feature = "serde")]
    #[test]
    fn a_report_serialises_with_each_attempts_os_error() {
        let v6: SocketAddr = "[::1]:1".parse().unwrap();
        let failed = |id: u32, addr, ended| AttemptReport {
            id: AttemptId(id),
            addr,
            protocol: Protocol::Tcp,
            started: Duration::ZERO,
            transport_connected: None,
            ended: Some(ended),
            result: AttemptResult::Failed {
                failure: AttemptFailure::Refused,
                error: ErrorInfo::of(&io::Error::from_raw_os_error(111)),
            },
            late_connection_closed: false,
        };
        let report = RaceReport {
            target: "[::1]:1".into(),
            events: vec![at(0, attempt(0, "[::1]:1")), at(250, refused(0, "[::1]:1"))],
            attempts: vec![failed(0, v6, Duration::from_micros(250))],
            result: Some(RaceResult::Failed(eyeballs::FailReason::AllAttemptsFailed)),
            ended: Some(Duration::from_micros(250)),
            ..RaceReport::default()
        };
        let detail = io::Error::from_raw_os_error(111).to_string();
        assert_eq!(
            serde_json::to_string(&report).unwrap(),
            format!(
                concat!(
                    r#"{{"target":"[::1]:1","events":["#,
                    r#"{{"t_ms":0,"event":"attempt","id":0,"addr":"::1","port":1,"protocol":"tcp"}},"#,
                    r#"{{"t_ms":0.25,"event":"failed","id":0,"error":"refused","detail":"Connection refused (os error 111)"}}],"#,
                    r#""outcome":{{"result":"failed","reason":"every connection attempt failed","#,
                    r#""errors":[{{"id":0,"addr":"::1","port":1,"error":"refused","detail":"{}"}}],"t_ms":0.25}}}}"#
                ),
                detail
            )
        );
        // A race won, and one that never started.
        let won = RaceReport {
            attempts: vec![AttemptReport {
                result: AttemptResult::Connected,
                ..failed(0, v6, Duration::from_millis(3))
            }],
            result: Some(RaceResult::Connected(AttemptId(0))),
            winner: Some(AttemptId(0)),
            ended: Some(Duration::from_millis(3)),
            ..RaceReport::default()
        };
        let outcome = serde_json::to_value(&won).unwrap()["outcome"].to_string();
        assert_eq!(
            outcome,
            r#"{"result":"connected","id":0,"addr":"::1","port":1,"protocol":"tcp","t_ms":3}"#
        );
        let none = serde_json::to_value(RaceReport::default()).unwrap();
        assert_eq!(
            none.to_string(),
            r#"{"target":"","events":[],"outcome":{"result":"pending"}}"#
        );
    }
}
