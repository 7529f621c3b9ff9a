//! The race report: every DNS query and answer with its time, every attempt with its start,
//! end and result (the OS error of a failure), and the winner.
//!
//! The event vocabulary is the simulator's (`query`, `answer`, `attempt`, `failed`,
//! `connected`, `cancel`, `cancel_queries`), so a live race and a simulated one print and
//! serialise alike. With the `serde` feature, a [`ReportEvent`] serialises as the simulator's
//! JSON event (`{"t_ms": 12, "event": "attempt", "id": 0, "addr": "::1", "port": 443,
//! "protocol": "tcp"}`), plus the details only a real race has (the addresses of an answer,
//! the OS error of a failure).

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use eyeballs::{
    AttemptFailure, AttemptId, CancelReason, DnsAnswer, Protocol, QueryId, RaceResult, RecordType,
};

/// An I/O error as the report keeps it (an `io::Error` cannot be cloned).
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

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A DNS query was sent.
    Query {
        /// The query.
        id: QueryId,
        /// The name.
        name: String,
        /// The record type.
        record: RecordType,
    },
    /// A DNS answer arrived and was given to the engine.
    Answer {
        /// The query.
        id: QueryId,
        /// The name.
        name: String,
        /// The record type.
        record: RecordType,
        /// The answer.
        answer: DnsAnswer,
    },
    /// An attempt started.
    Attempt {
        /// The attempt.
        id: AttemptId,
        /// Where to.
        addr: SocketAddr,
        /// Over which transport.
        protocol: Protocol,
        /// The ALPN ids of its service record, for an endpoint from one.
        alpn: Option<Vec<String>>,
        /// Whether an ECH config goes with it.
        ech: bool,
    },
    /// An attempt failed.
    Failed {
        /// The attempt.
        id: AttemptId,
        /// How the engine counts it.
        failure: AttemptFailure,
        /// The error the OS (or the network) gave.
        error: ErrorInfo,
    },
    /// An attempt connected.
    Connected {
        /// The attempt.
        id: AttemptId,
    },
    /// An attempt was cancelled (its socket closed).
    Cancel {
        /// The attempt.
        id: AttemptId,
        /// Why.
        reason: CancelReason,
    },
    /// The queries still outstanding were abandoned.
    CancelQueries,
}

/// An event and when it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportEvent {
    /// Time since the race started.
    pub at: Duration,
    /// What happened.
    pub kind: EventKind,
}

/// Number of addresses or records in an answer (0 for an error).
pub(crate) fn answer_count(answer: &DnsAnswer) -> usize {
    match answer {
        DnsAnswer::Addresses(a) => a.len(),
        DnsAnswer::Services(s) => s.len(),
        DnsAnswer::Error(_) => 0,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl fmt::Display for ReportEvent {
    /// One timeline line, like the simulator's: `   12.000ms  attempt    #0 [::1]:443 over tcp`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>10.3}ms  ", ms(self.at))?;
        match &self.kind {
            EventKind::Query { name, record, .. } => write!(f, "query      {record} {name}"),
            EventKind::Answer {
                name,
                record,
                answer,
                ..
            } => match answer {
                DnsAnswer::Addresses(list) => {
                    write!(f, "answer     {record} {name}:")?;
                    for ip in list {
                        write!(f, " {ip}")?;
                    }
                    Ok(())
                }
                DnsAnswer::Services(_) => {
                    write!(
                        f,
                        "answer     {record} {name}: {} record(s)",
                        answer_count(answer)
                    )
                }
                DnsAnswer::Error(e) => write!(f, "answer     {record} {name}: {e}"),
            },
            EventKind::Attempt {
                id,
                addr,
                protocol,
                alpn,
                ech,
            } => {
                write!(f, "attempt    #{} {addr} over {protocol}", id.0)?;
                if let Some(alpn) = alpn {
                    write!(f, " alpn={}", alpn.join(","))?;
                }
                if *ech {
                    f.write_str(" +ech")?;
                }
                Ok(())
            }
            EventKind::Failed { id, error, .. } => write!(f, "failed     #{}: {error}", id.0),
            EventKind::Connected { id } => write!(f, "connected  #{}", id.0),
            EventKind::Cancel { id, reason } => write!(f, "cancel     #{} ({reason:?})", id.0),
            EventKind::CancelQueries => f.write_str("cancel outstanding queries"),
        }
    }
}

/// One DNS query of a race.
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

/// How an attempt ended.
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

/// One attempt of a race.
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
    /// When it ended, if it did.
    pub ended: Option<Duration>,
    /// How it ended.
    pub result: AttemptResult,
    /// It connected after it had been cancelled, and that connection was closed at once.
    pub late_connection_closed: bool,
}

/// Everything that happened in one race.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RaceReport {
    /// The target, as people write it.
    pub target: String,
    /// Every event, in order.
    pub events: Vec<ReportEvent>,
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
    use eyeballs::DnsError;
    use serde::ser::{Serialize, SerializeMap, Serializer};
    use std::net::IpAddr;

    fn answer_error(answer: &DnsAnswer) -> Option<DnsError> {
        match answer {
            DnsAnswer::Error(e) => Some(*e),
            _ => None,
        }
    }

    fn cancel_reason(r: CancelReason) -> &'static str {
        match r {
            CancelReason::LostRace => "lost_race",
            CancelReason::AttemptTimedOut => "timeout",
            CancelReason::RaceTimedOut => "race_timeout",
            CancelReason::Cancelled => "cancelled",
            CancelReason::ServiceResolutionFailed => "service_resolution_failed",
        }
    }

    /// Milliseconds, an integer when whole (as the simulator writes them).
    struct Ms(Duration);

    impl Serialize for Ms {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let nanos = self.0.as_nanos();
            if nanos % 1_000_000 == 0 {
                s.serialize_u64(u64::try_from(nanos / 1_000_000).unwrap_or(u64::MAX))
            } else {
                s.serialize_f64(ms(self.0))
            }
        }
    }

    struct Ips<'a>(&'a [IpAddr]);

    impl Serialize for Ips<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(self.0.iter().map(|ip| ip.to_string()))
        }
    }

    impl Serialize for ReportEvent {
        /// The simulator's event object, with `addrs` on address answers and `detail` (the
        /// OS error) on failures.
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut m = s.serialize_map(None)?;
            m.serialize_entry("t_ms", &Ms(self.at))?;
            match &self.kind {
                EventKind::Query { name, record, .. } => {
                    m.serialize_entry("event", "query")?;
                    m.serialize_entry("name", name)?;
                    m.serialize_entry("type", record.as_str())?;
                }
                EventKind::Answer {
                    name,
                    record,
                    answer,
                    ..
                } => {
                    m.serialize_entry("event", "answer")?;
                    m.serialize_entry("name", name)?;
                    m.serialize_entry("type", record.as_str())?;
                    m.serialize_entry("count", &answer_count(answer))?;
                    if let Some(e) = answer_error(answer) {
                        m.serialize_entry("error", e.as_str())?;
                    }
                    if let DnsAnswer::Addresses(list) = answer {
                        m.serialize_entry("addrs", &Ips(list))?;
                    }
                }
                EventKind::Attempt {
                    id,
                    addr,
                    protocol,
                    alpn,
                    ech,
                } => {
                    m.serialize_entry("event", "attempt")?;
                    m.serialize_entry("id", &id.0)?;
                    m.serialize_entry("addr", &addr.ip().to_string())?;
                    m.serialize_entry("port", &addr.port())?;
                    m.serialize_entry("protocol", protocol.as_str())?;
                    if let Some(alpn) = alpn {
                        m.serialize_entry("alpn", alpn)?;
                    }
                    if *ech {
                        m.serialize_entry("ech", &true)?;
                    }
                }
                EventKind::Failed { id, failure, error } => {
                    m.serialize_entry("event", "failed")?;
                    m.serialize_entry("id", &id.0)?;
                    m.serialize_entry("error", failure.as_str())?;
                    m.serialize_entry("detail", &error.message)?;
                }
                EventKind::Connected { id } => {
                    m.serialize_entry("event", "connected")?;
                    m.serialize_entry("id", &id.0)?;
                }
                EventKind::Cancel { id, reason } => {
                    m.serialize_entry("event", "cancel")?;
                    m.serialize_entry("id", &id.0)?;
                    // The simulator marks only attempt timeouts; a live report says why.
                    m.serialize_entry("reason", cancel_reason(*reason))?;
                }
                EventKind::CancelQueries => m.serialize_entry("event", "cancel_queries")?,
            }
            m.end()
        }
    }

    impl Serialize for RaceReport {
        /// `{"target": .., "events": [..], "outcome": {..}}`; the outcome is the
        /// simulator's (`result`, `id`, `addr`, `port`, `protocol`, `t_ms`), with `errors`
        /// listing each failed attempt's OS error.
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut m = s.serialize_map(None)?;
            m.serialize_entry("target", &self.target)?;
            m.serialize_entry("events", &self.events)?;
            m.serialize_entry("outcome", &Outcome(self))?;
            m.end()
        }
    }

    struct Outcome<'a>(&'a RaceReport);

    struct AttemptErrors<'a>(&'a [AttemptReport]);

    impl Serialize for AttemptErrors<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(self.0.iter().filter_map(|a| match &a.result {
                AttemptResult::Failed { failure, error } => Some(AttemptErrorJson {
                    a,
                    error: failure.as_str(),
                    detail: &error.message,
                }),
                _ => None,
            }))
        }
    }

    struct AttemptErrorJson<'a> {
        a: &'a AttemptReport,
        error: &'a str,
        detail: &'a str,
    }

    impl Serialize for AttemptErrorJson<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut m = s.serialize_map(Some(5))?;
            m.serialize_entry("id", &self.a.id.0)?;
            m.serialize_entry("addr", &self.a.addr.ip().to_string())?;
            m.serialize_entry("port", &self.a.addr.port())?;
            m.serialize_entry("error", self.error)?;
            m.serialize_entry("detail", self.detail)?;
            m.end()
        }
    }

    impl Serialize for Outcome<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let r = self.0;
            let mut m = s.serialize_map(None)?;
            match r.result {
                None => m.serialize_entry("result", "pending")?,
                Some(RaceResult::Connected(id)) => {
                    m.serialize_entry("result", "connected")?;
                    m.serialize_entry("id", &id.0)?;
                    if let Some(a) = r.attempt(id) {
                        m.serialize_entry("addr", &a.addr.ip().to_string())?;
                        m.serialize_entry("port", &a.addr.port())?;
                        m.serialize_entry("protocol", a.protocol.as_str())?;
                    }
                }
                Some(RaceResult::Failed(reason)) => {
                    m.serialize_entry("result", "failed")?;
                    m.serialize_entry("reason", &reason.to_string())?;
                    m.serialize_entry("errors", &AttemptErrors(&r.attempts))?;
                }
                Some(RaceResult::TimedOut) => {
                    m.serialize_entry("result", "timed_out")?;
                    m.serialize_entry("errors", &AttemptErrors(&r.attempts))?;
                }
                Some(RaceResult::Cancelled) => m.serialize_entry("result", "cancelled")?,
            }
            if let Some(at) = r.ended {
                m.serialize_entry("t_ms", &Ms(at))?;
            }
            m.end()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_lines() {
        let e = ReportEvent {
            at: Duration::from_millis(12),
            kind: EventKind::Attempt {
                id: AttemptId(0),
                addr: "[::1]:443".parse().unwrap(),
                protocol: Protocol::Tcp,
                alpn: None,
                ech: false,
            },
        };
        assert_eq!(
            e.to_string(),
            "    12.000ms  attempt    #0 [::1]:443 over tcp"
        );
    }

    #[cfg(feature = "serde")]
    #[test]
    fn serialises_as_the_simulator_does() {
        let e = ReportEvent {
            at: Duration::from_millis(12),
            kind: EventKind::Answer {
                id: QueryId(1),
                name: "example.com".into(),
                record: RecordType::A,
                answer: DnsAnswer::Addresses(vec!["192.0.2.1".parse().unwrap()]),
            },
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"t_ms":12,"event":"answer","name":"example.com","type":"A","count":1,"addrs":["192.0.2.1"]}"#
        );
        let e = ReportEvent {
            at: Duration::from_micros(1500),
            kind: EventKind::Cancel {
                id: AttemptId(0),
                reason: CancelReason::LostRace,
            },
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"t_ms":1.5,"event":"cancel","id":0,"reason":"lost_race"}"#
        );
    }
}
