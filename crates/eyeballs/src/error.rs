//! Typed errors for bad input: every input the engine cannot accept is refused with one of
//! these, and leaves the race exactly as it was.

use core::fmt;
use core::net::{IpAddr, SocketAddr};

use crate::action::{AttemptId, AttemptState};
use crate::addr::Unconnectable;
use crate::config::ConfigError;
use crate::dns::{HostNameError, QueryId, RecordType};
use crate::time::Instant;

/// An input the race refused. The race is unchanged by a refused input.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputError {
    /// `now` is earlier than the instant of a previous call.
    TimeWentBackwards {
        /// The latest instant the race has seen.
        last: Instant,
        /// The instant given.
        now: Instant,
    },
    /// The race has already finished ([`Action::Finished`](crate::Action::Finished) was
    /// emitted); it takes no more input. Also the answer to an input that a timer due strictly
    /// before its `now` overtakes by ending the race (the total timeout, or attempt timeouts
    /// that leave nothing to try): the race is left as it was, and
    /// [`handle_timeout`](crate::Race::handle_timeout) at that `now` fires the timers.
    Finished,
    /// No attempt with this id was ever started (whatever timers are due: an id the caller
    /// has not been given is wrong in itself).
    UnknownAttempt(AttemptId),
    /// The attempt already ended (a second result, or a result for an attempt the engine
    /// cancelled), or its attempt timeout passed before the input's `now` (then `state` is the
    /// timed-out state the due timer gives it, and the race is left as it was until
    /// [`handle_timeout`](crate::Race::handle_timeout)). A connection that completes after its
    /// attempt was cancelled must be closed by the caller.
    AttemptAlreadyEnded {
        /// The attempt.
        id: AttemptId,
        /// How it ended.
        state: AttemptState,
    },
    /// No query with this id was ever asked.
    UnknownQuery(QueryId),
    /// The answer does not fit the query: service records for an address query, addresses for
    /// an HTTPS query, an IPv4 address in an AAAA answer, or an IPv6 address in an A answer
    /// (an IPv4-mapped one fits both: it is the IPv4 address it maps).
    AnswerMismatch {
        /// The query.
        id: QueryId,
        /// The record type it asked for.
        asked: RecordType,
        /// The offending address, when the mismatch is an address of the wrong family.
        addr: Option<IpAddr>,
    },
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::TimeWentBackwards { last, now } => write!(
                f,
                "time went backwards: the race was already at {last} and was given {now}"
            ),
            InputError::Finished => f.write_str("the race has finished and takes no more input"),
            InputError::UnknownAttempt(id) => write!(f, "{id} was never started"),
            InputError::AttemptAlreadyEnded { id, state } => {
                write!(
                    f,
                    "{id} already ended ({state:?}); close any late connection"
                )
            }
            InputError::UnknownQuery(id) => write!(f, "{id} was never asked"),
            InputError::AnswerMismatch { id, asked, addr } => match addr {
                Some(addr) => write!(f, "{id} asked for {asked} records but got address {addr}"),
                None => write!(
                    f,
                    "{id} asked for {asked} records but got another kind of answer"
                ),
            },
        }
    }
}

impl core::error::Error for InputError {}

/// A race could not be created.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StartError {
    /// The configuration is out of range.
    Config(ConfigError),
    /// The host name is not a valid name.
    HostName(HostNameError),
    /// An empty address list.
    NoAddresses,
    /// A host name with port 0, which can never be connected to.
    PortZero,
    /// An address that can never be connected to.
    Unconnectable {
        /// The address.
        addr: SocketAddr,
        /// Why.
        why: Unconnectable,
    },
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Config(e) => write!(f, "invalid configuration: {e}"),
            StartError::HostName(e) => write!(f, "invalid host name: {e}"),
            StartError::NoAddresses => f.write_str("no addresses were given"),
            StartError::PortZero => f.write_str("port 0 cannot be connected to"),
            StartError::Unconnectable { addr, why } => write!(f, "{addr}: {why}"),
        }
    }
}

impl core::error::Error for StartError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            StartError::Config(e) => Some(e),
            StartError::HostName(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ConfigError> for StartError {
    fn from(e: ConfigError) -> StartError {
        StartError::Config(e)
    }
}
