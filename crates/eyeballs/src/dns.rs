//! DNS queries the engine asks for and the answers it is given.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::net::IpAddr;

use crate::addr::Family;
use crate::svcb::ServiceRecord;

/// Identifies one DNS query of a race. Ids count up from 0 in the order the queries are asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QueryId(pub u32);

impl fmt::Display for QueryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "query #{}", self.0)
    }
}

/// The DNS record types the engine asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordType {
    /// HTTPS (SVCB for HTTP, RFC 9460 §9).
    Https,
    /// AAAA: IPv6 addresses.
    Aaaa,
    /// A: IPv4 addresses.
    A,
}

impl RecordType {
    /// The record type's mnemonic: `HTTPS`, `AAAA` or `A`.
    pub const fn as_str(self) -> &'static str {
        match self {
            RecordType::Https => "HTTPS",
            RecordType::Aaaa => "AAAA",
            RecordType::A => "A",
        }
    }

    /// The address record type of `family`.
    pub const fn for_family(family: Family) -> RecordType {
        match family {
            Family::V6 => RecordType::Aaaa,
            Family::V4 => RecordType::A,
        }
    }

    /// The family whose addresses the record type holds (`None` for HTTPS): the inverse of
    /// [`for_family`](RecordType::for_family).
    pub(crate) const fn family(self) -> Option<Family> {
        match self {
            RecordType::Aaaa => Some(Family::V6),
            RecordType::A => Some(Family::V4),
            RecordType::Https => None,
        }
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a query produced no records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DnsError {
    /// The name exists but has no records of this type (NOERROR, no data).
    NoData,
    /// The name does not exist (NXDOMAIN).
    NxDomain,
    /// The resolver failed (SERVFAIL).
    ServFail,
    /// No answer in time.
    Timeout,
    /// The server refused the query (REFUSED).
    Refused,
    /// Any other failure (network error, malformed answer, ...).
    Other,
    /// The name is not a valid host name (a SVCB/HTTPS TargetName or alias that
    /// [`Race::new`](crate::Race::new) would refuse as a host name), so the engine never sent
    /// the query. Not definitive: in SVCB-reliant mode an alias to such a name fails the race.
    InvalidName,
}

impl DnsError {
    /// A short lowercase name, stable for machine-readable output (`nodata`, `servfail`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            DnsError::NoData => "nodata",
            DnsError::NxDomain => "nxdomain",
            DnsError::ServFail => "servfail",
            DnsError::Timeout => "timeout",
            DnsError::Refused => "refused",
            DnsError::Other => "other",
            DnsError::InvalidName => "invalid_name",
        }
    }

    /// A definitive "there is nothing" (NODATA, NXDOMAIN), as opposed to a failure to find
    /// out. A definitive answer replaces earlier records of a query; a transient failure
    /// after a positive answer keeps them.
    pub const fn is_definitive(self) -> bool {
        matches!(self, DnsError::NoData | DnsError::NxDomain)
    }
}

impl fmt::Display for DnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DnsError::NoData => "no records of that type (NODATA)",
            DnsError::NxDomain => "no such name (NXDOMAIN)",
            DnsError::ServFail => "server failure (SERVFAIL)",
            DnsError::Timeout => "timed out",
            DnsError::Refused => "query refused (REFUSED)",
            DnsError::Other => "lookup failed",
            DnsError::InvalidName => "not a valid host name, so never resolved",
        })
    }
}

/// The answer to one query.
///
/// An empty list is a negative answer, like [`DnsError::NoData`] (HEv3 §4.2: "Negative answers
/// are ... responses to AAAA or A records that contain no IP addresses (with or without an
/// error like NXDOMAIN)"). A name reached through a CNAME chain is the resolver's business:
/// give the engine the terminal addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DnsAnswer {
    /// Addresses, for an AAAA (IPv6 only) or A (IPv4 only) query.
    Addresses(Vec<IpAddr>),
    /// Service records, for an HTTPS query.
    Services(Vec<ServiceRecord>),
    /// No records.
    Error(DnsError),
}

impl DnsAnswer {
    /// How many addresses or service records the answer has (0 for an error).
    ///
    /// ```
    /// use eyeballs::{DnsAnswer, DnsError};
    ///
    /// assert_eq!(DnsAnswer::Addresses(vec!["::1".parse().unwrap()]).record_count(), 1);
    /// assert_eq!(DnsAnswer::Error(DnsError::NoData).record_count(), 0);
    /// ```
    pub fn record_count(&self) -> usize {
        match self {
            DnsAnswer::Addresses(list) => list.len(),
            DnsAnswer::Services(list) => list.len(),
            DnsAnswer::Error(_) => 0,
        }
    }

    /// The error of an error answer.
    pub fn error(&self) -> Option<DnsError> {
        match self {
            DnsAnswer::Error(e) => Some(*e),
            DnsAnswer::Addresses(_) | DnsAnswer::Services(_) => None,
        }
    }
}

/// A query that ended without records, kept for the outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsFailure {
    /// The name asked for.
    pub name: String,
    /// The record type asked for.
    pub record: RecordType,
    /// What went wrong.
    pub error: DnsError,
}

impl fmt::Display for DnsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.record, self.name, self.error)
    }
}

/// Why a host name was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostNameError {
    /// The name is empty.
    Empty,
    /// The name is longer than 253 characters (RFC 1035 §2.3.4).
    TooLong,
    /// A label is empty (`a..b`) or longer than 63 characters (RFC 1035 §2.3.4).
    BadLabel,
    /// The name contains whitespace, a control character, or a character that is never part
    /// of a host name (`/`, `:`, `@`, `[`, `]`, ...).
    BadCharacter(char),
}

impl fmt::Display for HostNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostNameError::Empty => f.write_str("the host name is empty"),
            HostNameError::TooLong => f.write_str("the host name is longer than 253 characters"),
            HostNameError::BadLabel => {
                f.write_str("the host name has an empty label or a label longer than 63 characters")
            }
            HostNameError::BadCharacter(c) => {
                write!(f, "the host name contains the character {c:?}")
            }
        }
    }
}

impl core::error::Error for HostNameError {}

/// Checks a host name's syntax (RFC 1035 §2.3.4 lengths; underscores and non-ASCII letters
/// are allowed, as resolvers accept them).
pub(crate) fn check_host_name(name: &str) -> Result<(), HostNameError> {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    if trimmed.is_empty() {
        return Err(HostNameError::Empty);
    }
    if trimmed.len() > 253 {
        return Err(HostNameError::TooLong);
    }
    if let Some(c) = trimmed.chars().find(|c| {
        c.is_whitespace()
            || c.is_control()
            || matches!(
                c,
                '/' | ':' | '@' | '[' | ']' | '?' | '#' | '%' | '\\' | '"' | '<' | '>'
            )
    }) {
        return Err(HostNameError::BadCharacter(c));
    }
    if trimmed.split('.').any(|l| l.is_empty() || l.len() > 63) {
        return Err(HostNameError::BadLabel);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_type_family_round_trip() {
        for family in [Family::V6, Family::V4] {
            assert_eq!(RecordType::for_family(family).family(), Some(family));
        }
        assert_eq!(RecordType::Https.family(), None);
    }

    #[test]
    fn host_name_checks() {
        assert_eq!(check_host_name("example.com"), Ok(()));
        assert_eq!(check_host_name("example.com."), Ok(()));
        assert_eq!(check_host_name("_svc.example"), Ok(()));
        assert_eq!(check_host_name(""), Err(HostNameError::Empty));
        assert_eq!(check_host_name("."), Err(HostNameError::Empty));
        assert_eq!(check_host_name("a..b"), Err(HostNameError::BadLabel));
        assert_eq!(
            check_host_name("exa mple.com"),
            Err(HostNameError::BadCharacter(' '))
        );
        assert_eq!(
            check_host_name("example.com:443"),
            Err(HostNameError::BadCharacter(':'))
        );
        let long = "a".repeat(64);
        assert_eq!(check_host_name(&long), Err(HostNameError::BadLabel));
        let too_long = ["abcdefghi"; 26].join(".");
        assert_eq!(check_host_name(&too_long), Err(HostNameError::TooLong));
    }
}
