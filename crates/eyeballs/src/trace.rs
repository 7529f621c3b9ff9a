//! The race's events, in the one vocabulary every record of a race uses: the simulator's
//! trace, the real driver's race report, the command line's charts and live log.
//!
//! The engine itself does not produce [`Event`]s; a driver records one for each
//! [`Action`](crate::Action) it carries out (`Resolve`: [`Event::Query`], `Attempt`:
//! [`Event::Attempt`], `Cancel`: [`Event::Cancel`], `CancelQueries`:
//! [`Event::CancelQueries`]) and for each input it gives the engine (a DNS answer:
//! [`Event::Answer`]; an attempt's transport handshake done while its secure handshake goes
//! on, [`Race::handle_progress`](crate::Race::handle_progress):
//! [`Event::TransportConnected`]; an attempt's result: [`Event::Connected`] or
//! [`Event::Failed`]), with the time since the race started: a [`TimedEvent`] (virtual time
//! in the simulator, the clock in a real race).
//!
//! ## Secure racing: two handshakes per attempt
//!
//! When an attempt is ready for the application only after a secure handshake on top of
//! its transport (TLS over TCP; HEv3 §6.1: "clients SHOULD wait for the TLS handshake to
//! successfully complete before cancelling other connection attempts"), a recorder writes
//! two events for it:
//!
//! 1. [`Event::TransportConnected`] when the transport handshake is done (TCP connected)
//!    and the secure one starts: the moment it calls
//!    [`Race::handle_progress`](crate::Race::handle_progress), which extends the Next
//!    Connection Attempt Timer;
//! 2. then the attempt's result, as for any attempt: [`Event::Connected`] when the secure
//!    handshake has finished too (the connection is ready for the application; it wins),
//!    or [`Event::Failed`] when the secure handshake failed (a TLS alert, a rejected
//!    certificate, the peer closing: the `detail` says which), or [`Event::Cancel`] when
//!    another attempt won first.
//!
//! `Connected` always means "ready for the application": for a secure race, the secure
//! handshake finished. An attempt with no `TransportConnected` before its result is one
//! whose transport handshake is all there is (plain TCP), or whose transport never
//! connected (a failure then is a transport failure). QUIC has one handshake that is
//! transport and secure at once (HEv3 §6.1); a recorder may report the moment it knows the
//! path works (the server's first Handshake packet) as `TransportConnected`, or nothing.
//!
//! Every event about an attempt names its endpoint (address and transport), not only its
//! id: the recorder looks the endpoint up once, when it records the event
//! ([`Race::attempt`](crate::Race::attempt)), so that every reader of the event (a line of
//! text, a chart row, an observer that sees one event at a time) has it without a lookup of
//! its own.
//!
//! ```
//! use core::time::Duration;
//! use eyeballs::trace::{Event, TimedEvent};
//! use eyeballs::{AttemptFailure, AttemptId, DnsAnswer, Protocol, QueryId, RecordType};
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
//! // A failure names the endpoint, and shows the OS error when the recorder has it, else
//! // the engine's word for it.
//! let mut failed = Event::Failed {
//!     id: AttemptId(0),
//!     addr: "[::1]:443".parse().unwrap(),
//!     protocol: Protocol::Tcp,
//!     failure: AttemptFailure::Refused,
//!     detail: None,
//! };
//! assert_eq!(failed.to_string(), "failed     #0 [::1]:443 over tcp: connection refused");
//! if let Event::Failed { detail, .. } = &mut failed {
//!     *detail = Some("Connection refused (os error 111)".into());
//! }
//! assert_eq!(
//!     failed.to_string(),
//!     "failed     #0 [::1]:443 over tcp: Connection refused (os error 111)"
//! );
//!
//! // With its time: one line of a trace or a race report.
//! let line = TimedEvent { at: Duration::from_micros(12_500), event: failed };
//! assert_eq!(
//!     line.to_string(),
//!     "    12.500ms  failed     #0 [::1]:443 over tcp: Connection refused (os error 111)"
//! );
//! ```

use alloc::string::String;
use core::fmt;
use core::net::SocketAddr;
use core::time::Duration;

use crate::action::{Attempt, AttemptFailure, AttemptId, CancelReason};
use crate::addr::Protocol;
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
    /// An attempt started (the engine asked for it with `Action::Attempt`).
    Attempt(Attempt),
    /// An attempt failed (a result given to the engine).
    Failed {
        /// The attempt.
        id: AttemptId,
        /// Where it tried to connect.
        addr: SocketAddr,
        /// Over which transport.
        protocol: Protocol,
        /// How the engine counts it.
        failure: AttemptFailure,
        /// The error in words as the network gave it (the OS error of a real race), when
        /// the recorder has one; `None` in the simulator.
        detail: Option<String>,
    },
    /// An attempt's transport handshake finished (TCP connected; for QUIC, see the
    /// [module docs](self#secure-racing-two-handshakes-per-attempt)) while the secure
    /// handshake the attempt must also finish (TLS) goes on: the input
    /// [`Race::handle_progress`](crate::Race::handle_progress), which extends the Next
    /// Connection Attempt Timer (HEv3 §6.1). Its result comes later, as
    /// [`Event::Connected`] (the secure handshake finished too), [`Event::Failed`] (it
    /// failed) or [`Event::Cancel`].
    ///
    /// ```
    /// use eyeballs::trace::Event;
    /// use eyeballs::{AttemptId, Protocol};
    ///
    /// let addr = "[2001:db8::1]:443".parse().unwrap();
    /// let transport = Event::TransportConnected { id: AttemptId(0), addr, protocol: Protocol::Tcp };
    /// assert_eq!(transport.name(), "transport");
    /// assert_eq!(
    ///     transport.to_string(),
    ///     "transport  #0 [2001:db8::1]:443 over tcp (secure handshake under way)"
    /// );
    /// assert_eq!(transport.endpoint(), Some((addr, Protocol::Tcp)));
    /// ```
    TransportConnected {
        /// The attempt.
        id: AttemptId,
        /// Where its transport connected.
        addr: SocketAddr,
        /// Over which transport.
        protocol: Protocol,
    },
    /// An attempt connected: it is ready for the application (a result given to the
    /// engine). For an attempt with a secure handshake (after an
    /// [`Event::TransportConnected`]), the secure handshake finished too.
    Connected {
        /// The attempt.
        id: AttemptId,
        /// Where it connected.
        addr: SocketAddr,
        /// Over which transport.
        protocol: Protocol,
    },
    /// The engine cancelled an attempt (its socket is closed).
    Cancel {
        /// The attempt.
        id: AttemptId,
        /// Where it was connecting.
        addr: SocketAddr,
        /// Over which transport.
        protocol: Protocol,
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
    /// use eyeballs::{AttemptId, Protocol};
    /// use eyeballs::trace::Event;
    ///
    /// let addr = "192.0.2.1:443".parse().unwrap();
    /// let connected = Event::Connected { id: AttemptId(2), addr, protocol: Protocol::Tcp };
    /// assert_eq!(connected.attempt_id(), Some(AttemptId(2)));
    /// assert_eq!(connected.endpoint(), Some((addr, Protocol::Tcp)));
    /// assert_eq!(Event::CancelQueries.attempt_id(), None);
    /// ```
    pub fn attempt_id(&self) -> Option<AttemptId> {
        match self {
            Event::Attempt(a) => Some(a.id),
            Event::TransportConnected { id, .. }
            | Event::Failed { id, .. }
            | Event::Connected { id, .. }
            | Event::Cancel { id, .. } => Some(*id),
            Event::Query { .. } | Event::Answer { .. } | Event::CancelQueries => None,
        }
    }

    /// The event's name, stable for machine-readable output: `query`, `answer`, `attempt`,
    /// `transport`, `failed`, `connected`, `cancel` or `cancel_queries`, the `event` of the
    /// scenario format's JSON.
    ///
    /// ```
    /// use eyeballs::trace::Event;
    ///
    /// assert_eq!(Event::CancelQueries.name(), "cancel_queries");
    /// ```
    pub const fn name(&self) -> &'static str {
        match self {
            Event::Query { .. } => "query",
            Event::Answer { .. } => "answer",
            Event::Attempt(_) => "attempt",
            Event::TransportConnected { .. } => "transport",
            Event::Failed { .. } => "failed",
            Event::Connected { .. } => "connected",
            Event::Cancel { .. } => "cancel",
            Event::CancelQueries => "cancel_queries",
        }
    }

    /// The endpoint (address and transport) of the attempt the event is about.
    pub fn endpoint(&self) -> Option<(SocketAddr, Protocol)> {
        match self {
            Event::Attempt(a) => Some((a.addr, a.protocol)),
            Event::TransportConnected { addr, protocol, .. }
            | Event::Failed { addr, protocol, .. }
            | Event::Connected { addr, protocol, .. }
            | Event::Cancel { addr, protocol, .. } => Some((*addr, *protocol)),
            Event::Query { .. } | Event::Answer { .. } | Event::CancelQueries => None,
        }
    }
}

/// An event and when it happened: the time since the race started. A race's record (the
/// simulator's trace, the driver's race report) is a list of them.
///
/// Its `Display` is the one line every record prints: the time in milliseconds, then the
/// event in its alternate form (an address answer lists its addresses):
/// `    12.000ms  attempt    #0 [::1]:443 over tcp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimedEvent {
    /// Time since the race started.
    pub at: Duration,
    /// What happened.
    pub event: Event,
}

impl fmt::Display for TimedEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.at.as_secs_f64() * 1000.0;
        write!(f, "{ms:>10.3}ms  {:#}", self.event)
    }
}

/// `#3 [2001:db8::1]:443 over quic`: how every line about an attempt names it.
struct Named(AttemptId, SocketAddr, Protocol);

impl fmt::Display for Named {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{} {} over {}", self.0.0, self.1, self.2)
    }
}

impl fmt::Display for Event {
    /// One line, its first word padded to a column, every attempt named by its id and
    /// endpoint: `attempt    #0 [::1]:443 over tcp`, `connected  #0 [::1]:443 over tcp`.
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
                write!(f, "attempt    {}", Named(a.id, a.addr, a.protocol))?;
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
                addr,
                protocol,
                failure,
                detail,
            } => {
                write!(f, "failed     {}: ", Named(*id, *addr, *protocol))?;
                match detail {
                    Some(detail) => f.write_str(detail),
                    None => write!(f, "{failure}"),
                }
            }
            Event::TransportConnected { id, addr, protocol } => write!(
                f,
                "transport  {} (secure handshake under way)",
                Named(*id, *addr, *protocol)
            ),
            Event::Connected { id, addr, protocol } => {
                write!(f, "connected  {}", Named(*id, *addr, *protocol))
            }
            Event::Cancel {
                id,
                addr,
                protocol,
                reason,
            } => write!(f, "cancel     {} ({reason})", Named(*id, *addr, *protocol)),
            Event::CancelQueries => f.write_str("cancel outstanding queries"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AttemptFailure, DnsError, ServiceRecord};
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
        // Every line about an attempt names its endpoint.
        let addr: SocketAddr = "192.0.2.1:443".parse().unwrap();
        let protocol = Protocol::Tcp;
        let cancel = Event::Cancel {
            id: AttemptId(1),
            addr,
            protocol,
            reason: CancelReason::LostRace,
        };
        assert_eq!(
            cancel.to_string(),
            "cancel     #1 192.0.2.1:443 over tcp (lost the race)"
        );
        assert_eq!(cancel.attempt_id(), Some(AttemptId(1)));
        assert_eq!(cancel.endpoint(), Some((addr, protocol)));
        let id = AttemptId(1);
        assert_eq!(
            Event::Connected { id, addr, protocol }.to_string(),
            "connected  #1 192.0.2.1:443 over tcp"
        );
        let transport = Event::TransportConnected { id, addr, protocol };
        assert_eq!(
            transport.to_string(),
            "transport  #1 192.0.2.1:443 over tcp (secure handshake under way)"
        );
        assert_eq!(transport.attempt_id(), Some(id));
        assert_eq!(transport.endpoint(), Some((addr, protocol)));
        assert_eq!(transport.name(), "transport");
        assert_eq!(
            TimedEvent {
                at: Duration::from_millis(1),
                event: transport
            }
            .to_string(),
            "     1.000ms  transport  #1 192.0.2.1:443 over tcp (secure handshake under way)"
        );
        let failed = Event::Failed {
            id,
            addr,
            protocol,
            failure: AttemptFailure::TimedOut,
            detail: None,
        };
        assert_eq!(
            failed.to_string(),
            "failed     #1 192.0.2.1:443 over tcp: timed out"
        );
        // With its time, as every record prints it (the alternate form of the event).
        let timed = |at, event| TimedEvent { at, event }.to_string();
        assert_eq!(
            timed(Duration::from_millis(250), failed),
            "   250.000ms  failed     #1 192.0.2.1:443 over tcp: timed out"
        );
        let two = vec!["192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap()];
        assert_eq!(
            timed(
                Duration::from_micros(1_500),
                answer(RecordType::A, DnsAnswer::Addresses(two))
            ),
            "     1.500ms  answer     A example.com: 192.0.2.1 192.0.2.2"
        );
        assert_eq!(
            Event::CancelQueries.to_string(),
            "cancel outstanding queries"
        );
        assert_eq!(query.attempt_id(), None);
    }
}
