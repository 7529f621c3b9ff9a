//! What the engine asks its driver to do, and how a race ends.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::net::SocketAddr;

use crate::addr::{Protocol, Unconnectable};
use crate::dns::{DnsFailure, QueryId, RecordType};
use crate::small::{Filler, SmallQueue};
use crate::svcb::alpn_transport;
use crate::time::Instant;

/// Identifies one connection attempt of a race. Ids count up from 0 in start order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AttemptId(pub u32);

impl fmt::Display for AttemptId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "attempt #{}", self.0)
    }
}

/// An output of the engine, returned by [`Race::poll_action`](crate::Race::poll_action).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send a DNS query and hand the answer to
    /// [`Race::handle_dns`](crate::Race::handle_dns) with this `id`.
    Resolve {
        /// The query's id.
        id: QueryId,
        /// The name to resolve (as given, or as a service record named it). Shared with the
        /// race and its other queries for the name: `&*name` is the `&str`,
        /// `String::from(&*name)` a copy of one's own.
        name: Arc<str>,
        /// The record type.
        record: RecordType,
    },
    /// Start a connection attempt and report how it ends with
    /// [`Race::handle_connected`](crate::Race::handle_connected) or
    /// [`Race::handle_failed`](crate::Race::handle_failed).
    Attempt(Attempt),
    /// Abandon this attempt: close its socket. A connection that completes anyway must be
    /// closed too; the engine will not take it.
    Cancel {
        /// The attempt.
        id: AttemptId,
        /// Why.
        reason: CancelReason,
    },
    /// Stop every query still outstanding: their answers are no longer needed. Emitted once,
    /// when the race ends with queries outstanding. A caching resolver may still let them
    /// finish to fill its cache (RFC 8305 §5: "SHOULD still process DNS replies from the
    /// network for a short period of time").
    CancelQueries,
    /// The race is over; [`Race::outcome`](crate::Race::outcome) has the details. No action
    /// follows this one.
    Finished(RaceResult),
}

/// An action queued and not yet polled, in the few bytes that say which: [`Race::poll_action`]
/// builds the [`Action`] from the race's state (the query's name, the attempt's endpoint,
/// the outcome's result), all of which stay as they were when it was queued.
///
/// [`Race::poll_action`]: crate::Race::poll_action
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pending {
    Resolve(QueryId),
    Attempt(AttemptId),
    Cancel(AttemptId, CancelReason),
    CancelQueries,
    Finished,
}

impl Filler for Pending {
    const FILLER: Pending = Pending::CancelQueries;
}

/// The queue of actions not yet polled: inline up to four, as many as a small race queues
/// between two polls (two or three queries at the start; at the end, a cancel or two and
/// `Finished`).
pub(crate) type Actions = SmallQueue<Pending, 4>;

/// One connection attempt the driver should start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// The attempt's id.
    pub id: AttemptId,
    /// Where to connect (for a NAT64-synthesised address, the IPv6 address to use).
    pub addr: SocketAddr,
    /// Over which transport.
    pub protocol: Protocol,
    /// For an endpoint that came from a service record: the record's `alpn` ids that the
    /// client supports, in the record's order. `None` for plain A/AAAA endpoints.
    pub alpn: Option<Arc<[String]>>,
    /// For an endpoint that came from a service record with an `ech` parameter: the
    /// ECHConfigList to use in the TLS ClientHello.
    pub ech: Option<Arc<[u8]>>,
}

impl Attempt {
    /// The ALPN ids that run over this attempt's transport (`h3` for QUIC, `h2` and
    /// `http/1.1` for TCP, ...), from [`alpn`](Attempt::alpn).
    pub fn alpn_for_transport(&self) -> impl Iterator<Item = &str> {
        self.alpn
            .iter()
            .flat_map(|list| list.iter())
            .map(String::as_str)
            .filter(move |id| alpn_transport(id) == self.protocol)
    }
}

/// Why an attempt was cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CancelReason {
    /// Another attempt connected first.
    LostRace,
    /// The attempt ran longer than [`Config::attempt_timeout`](crate::Config::attempt_timeout)
    /// (it counts as failed).
    AttemptTimedOut,
    /// The race ran longer than [`Config::total_timeout`](crate::Config::total_timeout).
    RaceTimedOut,
    /// The caller gave up ([`Race::cancel`](crate::Race::cancel)).
    Cancelled,
    /// SVCB resolution failed in SVCB-reliant mode (HEv3 §6.3).
    ServiceResolutionFailed,
}

impl CancelReason {
    /// A short lowercase name, stable for machine-readable output: the `reason` of a cancel
    /// event in the JSON the simulator and the driver write (`lost_race`, `timeout`,
    /// `race_timeout`, `cancelled`, `service_resolution_failed`). An attempt timeout is
    /// `timeout`, as [`AttemptFailure::TimedOut`] is.
    ///
    /// ```
    /// use eyeballs::{AttemptFailure, CancelReason};
    ///
    /// assert_eq!(CancelReason::LostRace.as_str(), "lost_race");
    /// assert_eq!(CancelReason::AttemptTimedOut.as_str(), AttemptFailure::TimedOut.as_str());
    /// // For people, `Display` says it in words.
    /// assert_eq!(CancelReason::LostRace.to_string(), "lost the race");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            CancelReason::LostRace => "lost_race",
            CancelReason::AttemptTimedOut => "timeout",
            CancelReason::RaceTimedOut => "race_timeout",
            CancelReason::Cancelled => "cancelled",
            CancelReason::ServiceResolutionFailed => "service_resolution_failed",
        }
    }
}

impl fmt::Display for CancelReason {
    /// In a few words (`lost the race`, `attempt timed out`, `race timed out`, `caller gave
    /// up`, `service resolution failed`); [`as_str`](CancelReason::as_str) is the
    /// machine-readable name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CancelReason::LostRace => "lost the race",
            CancelReason::AttemptTimedOut => "attempt timed out",
            CancelReason::RaceTimedOut => "race timed out",
            CancelReason::Cancelled => "caller gave up",
            CancelReason::ServiceResolutionFailed => "service resolution failed",
        })
    }
}

/// How an attempt failed, as the driver reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AttemptFailure {
    /// The peer refused (TCP RST, `ECONNREFUSED`).
    Refused,
    /// No route (ICMP unreachable, `ENETUNREACH`, `EHOSTUNREACH`).
    Unreachable,
    /// The transport gave up, or the attempt ran past the configured attempt timeout.
    TimedOut,
    /// The connection was reset during the handshake.
    Reset,
    /// A failure above the transport (TLS alert, certificate, QUIC handshake error).
    Handshake,
    /// Anything else.
    Other,
}

impl AttemptFailure {
    /// A short lowercase name, stable for machine-readable output (`refused`, `timeout`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            AttemptFailure::Refused => "refused",
            AttemptFailure::Unreachable => "unreachable",
            AttemptFailure::TimedOut => "timeout",
            AttemptFailure::Reset => "reset",
            AttemptFailure::Handshake => "handshake",
            AttemptFailure::Other => "fail",
        }
    }
}

impl fmt::Display for AttemptFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AttemptFailure::Refused => "connection refused",
            AttemptFailure::Unreachable => "unreachable",
            AttemptFailure::TimedOut => "timed out",
            AttemptFailure::Reset => "connection reset",
            AttemptFailure::Handshake => "handshake failed",
            AttemptFailure::Other => "failed",
        })
    }
}

/// Where an attempt is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AttemptState {
    /// Started, no result yet.
    InFlight,
    /// Connected (only the winner).
    Connected {
        /// When.
        at: Instant,
    },
    /// Failed.
    Failed {
        /// When.
        at: Instant,
        /// How.
        failure: AttemptFailure,
    },
    /// Cancelled by the engine.
    Cancelled {
        /// When.
        at: Instant,
        /// Why.
        reason: CancelReason,
    },
}

/// An attempt as the engine remembers it: [`Race::attempts`](crate::Race::attempts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttemptRecord {
    /// The attempt's id.
    pub id: AttemptId,
    /// Where it connects to.
    pub addr: SocketAddr,
    /// Over which transport.
    pub protocol: Protocol,
    /// When it started.
    pub started: Instant,
    /// When [`Config::attempt_timeout`](crate::Config::attempt_timeout) ends it, if set.
    pub timeout_at: Option<Instant>,
    /// Where it is now.
    pub state: AttemptState,
}

/// An attempt that did not connect, as listed in a failed [`Outcome`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttemptError {
    /// The attempt.
    pub id: AttemptId,
    /// Where it tried to connect.
    pub addr: SocketAddr,
    /// Over which transport.
    pub protocol: Protocol,
    /// What happened: a failure, or `TimedOut` for an attempt the engine gave up on.
    pub failure: AttemptFailure,
}

impl fmt::Display for AttemptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.addr, self.protocol, self.failure)
    }
}

/// Why an address was never attempted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// It cannot be connected to at all.
    Unconnectable(Unconnectable),
    /// The host has no connectivity for its family (RFC 6724 rule 1;
    /// [`Config::connectivity`](crate::Config::connectivity)).
    NoConnectivity,
    /// The caller's [`DestinationFilter`](crate::DestinationFilter) refused it.
    Filtered(&'static str),
    /// Its service record offers no ALPN the client supports, or no transport the client
    /// can use (HEv3 §6.2).
    NoSupportedProtocol,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::Unconnectable(u) => u.fmt(f),
            SkipReason::NoConnectivity => {
                f.write_str("the host has no connectivity for this address family")
            }
            SkipReason::Filtered(why) => write!(f, "refused by the destination filter: {why}"),
            SkipReason::NoSupportedProtocol => f.write_str(
                "its service record offers no protocol (ALPN or transport) the client supports",
            ),
        }
    }
}

/// An endpoint the engine did not attempt, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Skipped {
    /// The endpoint.
    pub addr: SocketAddr,
    /// Why it was not attempted.
    pub reason: SkipReason,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} not attempted: {}", self.addr, self.reason)
    }
}

/// Why a race failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailReason {
    /// Every attempt failed and nothing is left to try.
    AllAttemptsFailed,
    /// DNS gave no usable address, so nothing was attempted.
    NoAddresses,
    /// HTTPS resolution failed in SVCB-reliant mode (HEv3 §6.3 "SHOULD abandon connection
    /// attempts altogether").
    ServiceResolutionFailed,
}

impl fmt::Display for FailReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FailReason::AllAttemptsFailed => "every connection attempt failed",
            FailReason::NoAddresses => "no addresses",
            FailReason::ServiceResolutionFailed => "HTTPS (SVCB) resolution failed",
        })
    }
}

/// How a race ended, in short (carried by [`Action::Finished`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RaceResult {
    /// This attempt connected and won.
    Connected(AttemptId),
    /// The race failed.
    Failed(FailReason),
    /// The total timeout passed.
    TimedOut,
    /// The caller gave up.
    Cancelled,
}

/// How a race ended, in full: [`Race::outcome`](crate::Race::outcome).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// When it ended.
    pub at: Instant,
    /// How it ended.
    pub result: RaceResult,
    /// The winner's address and transport, when there is one.
    pub winner: Option<(SocketAddr, Protocol)>,
    /// Every attempt that did not connect, in start order, with its failure (attempts
    /// cancelled because the race ended are not listed).
    pub attempt_errors: Vec<AttemptError>,
    /// Every endpoint that was not attempted because it was unusable or filtered.
    pub skipped: Vec<Skipped>,
    /// Every DNS query that ended without records.
    pub dns_errors: Vec<DnsFailure>,
}

impl fmt::Display for Outcome {
    /// A one-paragraph summary a person can act on.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.result {
            RaceResult::Connected(id) => {
                write!(f, "connected ({id}")?;
                if let Some((addr, protocol)) = self.winner {
                    write!(f, " to {addr} over {protocol}")?;
                }
                return write!(f, ") at {}", self.at);
            }
            RaceResult::Failed(reason) => write!(f, "failed: {reason}")?,
            RaceResult::TimedOut => write!(f, "timed out at {}", self.at)?,
            RaceResult::Cancelled => return write!(f, "cancelled at {}", self.at),
        }
        for e in &self.attempt_errors {
            write!(f, "; {e}")?;
        }
        for s in &self.skipped {
            write!(f, "; {s}")?;
        }
        for d in &self.dns_errors {
            write!(f, "; {d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    /// The machine names are the `reason` values of the simulator's and the driver's JSON
    /// cancel events (`docs/scenario-format.md`); the words are the command's.
    #[test]
    fn cancel_reason_names() {
        let all = [
            (CancelReason::LostRace, "lost_race", "lost the race"),
            (
                CancelReason::AttemptTimedOut,
                "timeout",
                "attempt timed out",
            ),
            (CancelReason::RaceTimedOut, "race_timeout", "race timed out"),
            (CancelReason::Cancelled, "cancelled", "caller gave up"),
            (
                CancelReason::ServiceResolutionFailed,
                "service_resolution_failed",
                "service resolution failed",
            ),
        ];
        for (reason, name, words) in all {
            assert_eq!(reason.as_str(), name);
            assert_eq!(reason.to_string(), words);
        }
    }
}
