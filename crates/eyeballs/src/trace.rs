//! The race's events, in the one vocabulary every record of a race uses: the simulator's
//! trace, the real driver's race report, the command line's charts.
//!
//! The engine itself does not produce [`Event`]s; a driver records one for each
//! [`Action`](crate::Action) it carries out (`Resolve`: [`Event::Query`], `Start`:
//! [`Event::Attempt`], `Cancel`: [`Event::Cancel`], `CancelQueries`:
//! [`Event::CancelQueries`]) and for each input it gives the engine (a DNS answer:
//! [`Event::Answer`]; an attempt's result: [`Event::Connected`] or [`Event::Failed`]). The
//! time of an event is the recorder's business (virtual time in the simulator, time since
//! the race started in a real race).
//!
//! ```
//! use eyeballs::trace::Event;
//! use eyeballs::{AttemptFailure, AttemptId, DnsAnswer, QueryId, RecordType};
//!
//! let answer = Event::Answer {
//!     id: QueryId(1),
//!     name: "example.com".into(),
//!     record: RecordType::A,
//!     answer: DnsAnswer::Addresses(vec!["192.0.2.1".parse().unwrap()]),
//! };
//! assert_eq!(answer.to_string(), "answer     A example.com: 1 record(s)");
//! // The alternate form lists an address answer's addresses.
//! assert_eq!(format!("{answer:#}"), "answer     A example.com: 192.0.2.1");
//!
//! // A failure shows the OS error when the recorder has it, else the engine's word for it.
//! let mut failed = Event::Failed { id: AttemptId(0), failure: AttemptFailure::Refused, detail: None };
//! assert_eq!(failed.to_string(), "failed     #0: connection refused");
//! if let Event::Failed { detail, .. } = &mut failed {
//!     *detail = Some("Connection refused (os error 111)".into());
//! }
//! assert_eq!(failed.to_string(), "failed     #0: Connection refused (os error 111)");
//! ```

use alloc::string::String;
use core::fmt;

use crate::action::{Attempt, AttemptFailure, AttemptId, CancelReason};
use crate::dns::{DnsAnswer, QueryId, RecordType};

/// One thing that happened in a race.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A DNS query was sent (the engine asked for it with `Action::Resolve`).
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
        /// The query it answers.
        id: QueryId,
        /// The name.
        name: String,
        /// The record type.
        record: RecordType,
        /// The answer, as the engine got it.
        answer: DnsAnswer,
    },
    /// An attempt started (the engine asked for it with `Action::Start`).
    Attempt(Attempt),
    /// An attempt failed (a result given to the engine).
    Failed {
        /// The attempt.
        id: AttemptId,
        /// How the engine counts it.
        failure: AttemptFailure,
        /// The error in words as the network gave it (the OS error of a real race), when
        /// the recorder has one; `None` in the simulator.
        detail: Option<String>,
    },
    /// An attempt connected (a result given to the engine).
    Connected {
        /// The attempt.
        id: AttemptId,
    },
    /// The engine cancelled an attempt (its socket is closed).
    Cancel {
        /// The attempt.
        id: AttemptId,
        /// Why.
        reason: CancelReason,
    },
    /// The engine abandoned the queries still outstanding.
    CancelQueries,
}

impl Event {
    /// The attempt the event is about, for an attempt's start, result or cancel.
    ///
    /// ```
    /// use eyeballs::AttemptId;
    /// use eyeballs::trace::Event;
    ///
    /// assert_eq!(Event::Connected { id: AttemptId(2) }.attempt_id(), Some(AttemptId(2)));
    /// assert_eq!(Event::CancelQueries.attempt_id(), None);
    /// ```
    pub fn attempt_id(&self) -> Option<AttemptId> {
        match self {
            Event::Attempt(a) => Some(a.id),
            Event::Failed { id, .. } | Event::Connected { id } | Event::Cancel { id, .. } => {
                Some(*id)
            }
            Event::Query { .. } | Event::Answer { .. } | Event::CancelQueries => None,
        }
    }
}

impl fmt::Display for Event {
    /// One line, its first word padded to a column: `attempt    #0 [::1]:443 over tcp`.
    ///
    /// An answer shows how many addresses or records it had, or its error; the alternate
    /// form (`{:#}`) lists an address answer's addresses instead. A failure shows its
    /// [`detail`](Event::Failed::detail) when there is one, else the engine's word for it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Query { name, record, .. } => write!(f, "query      {record} {name}"),
            Event::Answer {
                name,
                record,
                answer,
                ..
            } => {
                write!(f, "answer     {record} {name}:")?;
                match answer {
                    DnsAnswer::Error(e) => write!(f, " {e}"),
                    DnsAnswer::Addresses(list) if f.alternate() => {
                        list.iter().try_for_each(|ip| write!(f, " {ip}"))
                    }
                    _ => write!(f, " {} record(s)", answer.record_count()),
                }
            }
            Event::Attempt(a) => {
                write!(f, "attempt    #{} {} over {}", a.id.0, a.addr, a.protocol)?;
                if let Some(alpn) = &a.alpn {
                    f.write_str(" alpn=")?;
                    for (i, id) in alpn.iter().enumerate() {
                        if i > 0 {
                            f.write_str(",")?;
                        }
                        f.write_str(id)?;
                    }
                }
                if a.ech.is_some() {
                    f.write_str(" +ech")?;
                }
                Ok(())
            }
            Event::Failed {
                id,
                failure,
                detail,
            } => match detail {
                Some(detail) => write!(f, "failed     #{}: {detail}", id.0),
                None => write!(f, "failed     #{}: {failure}", id.0),
            },
            Event::Connected { id } => write!(f, "connected  #{}", id.0),
            Event::Cancel { id, reason } => write!(f, "cancel     #{} ({reason})", id.0),
            Event::CancelQueries => f.write_str("cancel outstanding queries"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DnsError, Protocol, ServiceRecord};
    use alloc::format;
    use alloc::string::ToString;
    use alloc::sync::Arc;
    use alloc::vec;

    #[test]
    fn one_line_each() {
        let attempt = |alpn: Option<Arc<[String]>>, ech: Option<Arc<[u8]>>| {
            Event::Attempt(Attempt {
                id: AttemptId(3),
                addr: "[2001:db8::1]:443".parse().unwrap(),
                protocol: Protocol::Quic,
                alpn,
                ech,
            })
        };
        assert_eq!(
            attempt(None, None).to_string(),
            "attempt    #3 [2001:db8::1]:443 over quic"
        );
        let alpn: Arc<[String]> = vec![String::from("h3"), String::from("h2")].into();
        let ech: Arc<[u8]> = vec![1u8, 2].into();
        assert_eq!(
            attempt(Some(alpn), Some(ech)).to_string(),
            "attempt    #3 [2001:db8::1]:443 over quic alpn=h3,h2 +ech"
        );
        let query = Event::Query {
            id: QueryId(0),
            name: "example.com".into(),
            record: RecordType::Aaaa,
        };
        assert_eq!(query.to_string(), "query      AAAA example.com");
        let answer = |record, answer| Event::Answer {
            id: QueryId(0),
            name: "example.com".into(),
            record,
            answer,
        };
        let services = answer(
            RecordType::Https,
            DnsAnswer::Services(vec![ServiceRecord::service(1, ".")]),
        );
        assert_eq!(
            services.to_string(),
            "answer     HTTPS example.com: 1 record(s)"
        );
        assert_eq!(format!("{services:#}"), services.to_string());
        let nx = answer(RecordType::Https, DnsAnswer::Error(DnsError::NxDomain));
        assert_eq!(
            format!("{nx:#}"),
            "answer     HTTPS example.com: no such name (NXDOMAIN)"
        );
        let empty = answer(RecordType::Aaaa, DnsAnswer::Addresses(vec![]));
        assert_eq!(
            empty.to_string(),
            "answer     AAAA example.com: 0 record(s)"
        );
        assert_eq!(format!("{empty:#}"), "answer     AAAA example.com:");
        let cancel = Event::Cancel {
            id: AttemptId(1),
            reason: CancelReason::LostRace,
        };
        assert_eq!(cancel.to_string(), "cancel     #1 (lost the race)");
        assert_eq!(cancel.attempt_id(), Some(AttemptId(1)));
        assert_eq!(
            Event::Connected { id: AttemptId(1) }.to_string(),
            "connected  #1"
        );
        assert_eq!(
            Event::CancelQueries.to_string(),
            "cancel outstanding queries"
        );
        assert_eq!(query.attempt_id(), None);
    }
}
