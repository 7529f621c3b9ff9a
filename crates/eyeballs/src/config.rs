//! Race configuration, its defaults and their RFC sections, and validation.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::net::IpAddr;
use core::time::Duration;

use crate::addr::{Family, Protocol};
use crate::nat64::Nat64Prefix;
use crate::rfc6724::PathInfo;

/// RFC 8305 §3 / §8, HEv3 §4.2 / §9: "The RECOMMENDED value for the Resolution Delay is 50
/// milliseconds."
pub const RESOLUTION_DELAY: Duration = Duration::from_millis(50);

/// The longest Resolution Delay a [`Config`] accepts. Neither RFC 8305 nor HEv3 gives one; we
/// cap it at the Maximum Connection Attempt Delay, because waiting longer for AAAA than the
/// longest allowed wait for a whole connection attempt defeats the purpose of the race.
pub const MAX_RESOLUTION_DELAY: Duration = MAX_CONNECTION_ATTEMPT_DELAY;

/// RFC 8305 §5 / §8, HEv3 §6 / §9: "One recommended value for a default delay is 250
/// milliseconds."
pub const CONNECTION_ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// RFC 8305 §5, HEv3 §6: "The recommended minimum value is 100 milliseconds, which is
/// referred to as the 'Minimum Connection Attempt Delay'."
pub const MIN_CONNECTION_ATTEMPT_DELAY: Duration = Duration::from_millis(100);

/// RFC 8305 §5, HEv3 §6: "a subsequent connection MUST NOT be started within 10 milliseconds
/// of the previous attempt." No configured delay may be below this floor.
pub const CONNECTION_ATTEMPT_DELAY_FLOOR: Duration = Duration::from_millis(10);

/// RFC 8305 §5 / §8, HEv3 §6 / §9: "The Connection Attempt Delay SHOULD have an upper bound,
/// referred to as the 'Maximum Connection Attempt Delay'. The current recommended value is 2
/// seconds." No configured delay may be above it.
pub const MAX_CONNECTION_ATTEMPT_DELAY: Duration = Duration::from_secs(2);

/// RFC 8305 §4 / §8, HEv3 §5.3 / §9: the First (Preferred) Address Family Count: "the
/// recommended value ... is 1".
pub const FIRST_ADDRESS_FAMILY_COUNT: u8 = 1;

/// How the engine orders the addresses of one group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SortMode {
    /// RFC 6724 §6 destination address selection (RFC 8305 §4: "MUST sort").
    #[default]
    Rfc6724,
    /// Keep the order the addresses were given in, within each family (for callers that
    /// already sorted them, e.g. with the OS's `getaddrinfo`).
    Given,
}

/// Which address families the host can use (HEv3 §4.1 "connectivity": a usable local address
/// and a non-link-local route of the family).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Connectivity {
    /// The host has IPv6 connectivity.
    pub ipv6: bool,
    /// The host has IPv4 connectivity.
    pub ipv4: bool,
}

impl Connectivity {
    /// Both families.
    pub const DUAL_STACK: Connectivity = Connectivity {
        ipv6: true,
        ipv4: true,
    };

    /// Whether `family` can be used.
    pub const fn has(&self, family: Family) -> bool {
        match family {
            Family::V6 => self.ipv6,
            Family::V4 => self.ipv4,
        }
    }
}

impl Default for Connectivity {
    fn default() -> Connectivity {
        Connectivity::DUAL_STACK
    }
}

/// The transports the client can attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Protocols {
    /// TCP can be attempted.
    pub tcp: bool,
    /// QUIC can be attempted.
    pub quic: bool,
}

impl Protocols {
    /// TCP only (the default).
    pub const TCP: Protocols = Protocols {
        tcp: true,
        quic: false,
    };

    /// Whether `p` can be attempted.
    pub const fn has(&self, p: Protocol) -> bool {
        match p {
            Protocol::Tcp => self.tcp,
            Protocol::Quic => self.quic,
        }
    }
}

impl Default for Protocols {
    fn default() -> Protocols {
        Protocols::TCP
    }
}

/// Supplies [`PathInfo`] (source address, RTT history, past use) for destinations, so that the
/// engine can apply the RFC 6724 rules that need OS state and the RFC 8305 history rules.
///
/// Any `Fn(IpAddr) -> PathInfo` is a provider.
///
/// ```
/// use std::sync::Arc;
/// use eyeballs::{Config, PathInfo};
///
/// let mut config = Config::default();
/// config.path_info = Some(Arc::new(|_ip| PathInfo::default()));
/// ```
pub trait PathInfoProvider: Send + Sync {
    /// What is known about reaching `destination`.
    fn path_info(&self, destination: IpAddr) -> PathInfo;
}

impl<F> PathInfoProvider for F
where
    F: Fn(IpAddr) -> PathInfo + Send + Sync,
{
    fn path_info(&self, destination: IpAddr) -> PathInfo {
        self(destination)
    }
}

/// Decides whether a destination may be connected to at all: the guard against DNS rebinding
/// and SSRF that HTTP clients need (for example, refusing loopback, private and link-local
/// addresses that come from DNS; [`GlobalOnly`](crate::GlobalOnly) is a ready one). A refused
/// destination is never attempted and is reported in the outcome's
/// [`skipped`](crate::Outcome::skipped) list with the reason given here.
///
/// The filter is called once per address and race, with the address as
/// [`judged_address`](crate::judged_address) gives it: the IPv4 address the destination
/// carries, when it carries one. An IPv4-mapped address `::ffff:a.b.c.d` (from a literal, an
/// AAAA answer or an `ipv6hint`) is asked about as `a.b.c.d`; an address inside the NAT64
/// Well-Known Prefix `64:ff9b::/96` or inside [`Config::nat64_prefix`] (a DNS64 answer) as
/// the IPv4 address it embeds, exactly as an A answer or an IPv4 literal that the engine
/// synthesises into the prefix is. Every other address is asked about as it is. So a filter
/// written with `Ipv4Addr::is_private`, `is_loopback` and the like sees every IPv4
/// destination as IPv4.
///
/// Any `Fn(IpAddr) -> Result<(), &'static str>` is a filter.
///
/// ```
/// use std::sync::Arc;
/// use eyeballs::Config;
///
/// let mut config = Config::default();
/// config.destination_filter = Some(Arc::new(|ip: std::net::IpAddr| {
///     if ip.is_loopback() { Err("loopback is not allowed") } else { Ok(()) }
/// }));
/// ```
pub trait DestinationFilter: Send + Sync {
    /// `Ok(())` to allow `destination`, or the reason it is refused.
    fn check(&self, destination: IpAddr) -> Result<(), &'static str>;
}

impl<F> DestinationFilter for F
where
    F: Fn(IpAddr) -> Result<(), &'static str> + Send + Sync,
{
    fn check(&self, destination: IpAddr) -> Result<(), &'static str> {
        self(destination)
    }
}

/// Everything that can be tuned about a race. [`Config::default`] is RFC 8305's
/// recommendation: Resolution Delay 50 ms, Connection Attempt Delay 250 ms, First Address
/// Family Count 1, IPv6 preferred, RFC 6724 sorting, no timeouts, TCP only.
///
/// The fields are public; [`Config::validate`] (also run by [`Race`](crate::Race)'s
/// constructors) rejects values out of range with a [`ConfigError`] that names the field.
///
/// ```
/// use core::time::Duration;
/// use eyeballs::{Config, Family};
///
/// let mut config = Config::default();
/// config.connection_attempt_delay = Duration::from_millis(150);
/// config.prefer_family = Family::V4;
/// assert!(config.validate().is_ok());
///
/// config.connection_attempt_delay = Duration::from_millis(5);
/// assert!(config.validate().is_err()); // below the 10 ms MUST of RFC 8305 §5
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct Config {
    /// Connection Attempt Delay when no RTT history applies (RFC 8305 §5; default 250 ms,
    /// allowed 10 ms ..= 2 s).
    pub connection_attempt_delay: Duration,
    /// Lower bound for delays derived from RTT history (default 100 ms; allowed 10 ms ..= 2 s).
    pub min_connection_attempt_delay: Duration,
    /// Upper bound for delays derived from RTT history (default 2 s; allowed 10 ms ..= 2 s).
    pub max_connection_attempt_delay: Duration,
    /// How long an A answer waits for AAAA (and HTTPS) (RFC 8305 §3; default 50 ms, allowed
    /// 0 ..= [`MAX_RESOLUTION_DELAY`]).
    pub resolution_delay: Duration,
    /// How many addresses of the first family go before the other family (RFC 8305 §4;
    /// default 1, must be at least 1). The reading of values above 1 is "the first N, then
    /// alternate one by one", as CPython's asyncio does.
    pub first_address_family_count: u8,
    /// The preferred address family (default IPv6, RFC 8305 §4 / HEv3 §4.2). Preferring
    /// IPv4 raises IPv4's RFC 6724 precedence above IPv6 (RFC 6724 §10.3) and makes A the
    /// answer the Resolution Delay waits for (when the host can use IPv4:
    /// [`Config::resolution_delay_family`]).
    pub prefer_family: Family,
    /// RFC 6724 sorting, or the order given.
    pub sort: SortMode,
    /// Interleave address families (RFC 8305 §4 SHOULD; default true). When false the sorted
    /// list is attempted as is.
    pub interleave: bool,
    /// The families the host can use (default both). Addresses of a family without
    /// connectivity are never attempted (RFC 6724 rule 1) and are reported as skipped; its
    /// DNS query is not sent (HEv3 §4.1).
    pub connectivity: Connectivity,
    /// A single attempt that has neither connected nor failed after this long counts as failed
    /// (default none: the transport's own timeout decides).
    pub attempt_timeout: Option<Duration>,
    /// The race ends as timed out after this long (default none).
    pub total_timeout: Option<Duration>,
    /// At most this many attempts in flight at once (default no cap).
    pub max_concurrent_attempts: Option<u32>,
    /// Query HTTPS records too and follow HEv3 for them (default false).
    pub query_https: bool,
    /// The transports the client can attempt (default TCP only).
    pub protocols: Protocols,
    /// Which transport goes first for an address that allows both (HEv3 §3 assumes QUIC).
    pub prefer_protocol: Protocol,
    /// Put every QUIC endpoint in a group before every TCP endpoint (HEv3 §5.1 grouping for a
    /// client that needs HTTP/3). Default false: one race in which each address is tried over
    /// QUIC, then TCP (HEv3 §5.1.1 "non-critical" use).
    pub group_by_protocol: bool,
    /// The ALPN ids the client supports (default none: no filtering). Service endpoints whose
    /// SVCB ALPN set shares none of them are not attempted (HEv3 §6.2).
    pub alpn: Option<Vec<String>>,
    /// A NAT64 prefix (PREF64). When set, IPv4 literals, A answers and `ipv4hint`s are
    /// synthesised into it (RFC 8305 §7.1, HEv3 §8), and A is queried even without IPv4
    /// connectivity (HEv3 §8.2). Set it only on IPv6-only or IPv6-mostly networks (HEv3 §8).
    pub nat64_prefix: Option<Nat64Prefix>,
    /// SVCB-reliant mode (HEv3 §6.1, §6.3, RFC 9460 §3): no attempt starts before the HTTPS
    /// answer, and a failed HTTPS resolution ends the race (use with cryptographically
    /// protected DNS and a client that relies on ECH). Default false.
    pub svcb_reliant: bool,
    /// Seed for shuffling service groups of equal priority (HEv3 §5.2 "SHOULD shuffle these
    /// groups randomly"). The engine is deterministic: the same seed gives the same order.
    pub shuffle_seed: u64,
    /// Source address and history per destination (default none).
    pub path_info: Option<Arc<dyn PathInfoProvider>>,
    /// Which destinations may be connected to at all (default none: every connectable
    /// address); a refused one is never attempted and is listed in the outcome's
    /// [`skipped`](crate::Outcome::skipped).
    pub destination_filter: Option<Arc<dyn DestinationFilter>>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            connection_attempt_delay: CONNECTION_ATTEMPT_DELAY,
            min_connection_attempt_delay: MIN_CONNECTION_ATTEMPT_DELAY,
            max_connection_attempt_delay: MAX_CONNECTION_ATTEMPT_DELAY,
            resolution_delay: RESOLUTION_DELAY,
            first_address_family_count: FIRST_ADDRESS_FAMILY_COUNT,
            prefer_family: Family::V6,
            sort: SortMode::Rfc6724,
            interleave: true,
            connectivity: Connectivity::DUAL_STACK,
            attempt_timeout: None,
            total_timeout: None,
            max_concurrent_attempts: None,
            query_https: false,
            protocols: Protocols::TCP,
            prefer_protocol: Protocol::Quic,
            group_by_protocol: false,
            alpn: None,
            nat64_prefix: None,
            svcb_reliant: false,
            shuffle_seed: 0,
            path_info: None,
            destination_filter: None,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("connection_attempt_delay", &self.connection_attempt_delay)
            .field(
                "min_connection_attempt_delay",
                &self.min_connection_attempt_delay,
            )
            .field(
                "max_connection_attempt_delay",
                &self.max_connection_attempt_delay,
            )
            .field("resolution_delay", &self.resolution_delay)
            .field(
                "first_address_family_count",
                &self.first_address_family_count,
            )
            .field("prefer_family", &self.prefer_family)
            .field("sort", &self.sort)
            .field("interleave", &self.interleave)
            .field("connectivity", &self.connectivity)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("total_timeout", &self.total_timeout)
            .field("max_concurrent_attempts", &self.max_concurrent_attempts)
            .field("query_https", &self.query_https)
            .field("protocols", &self.protocols)
            .field("prefer_protocol", &self.prefer_protocol)
            .field("group_by_protocol", &self.group_by_protocol)
            .field("alpn", &self.alpn)
            .field("nat64_prefix", &self.nat64_prefix)
            .field("svcb_reliant", &self.svcb_reliant)
            .field("shuffle_seed", &self.shuffle_seed)
            .field("path_info", &self.path_info.as_ref().map(|_| ".."))
            .field(
                "destination_filter",
                &self.destination_filter.as_ref().map(|_| ".."),
            )
            .finish()
    }
}

/// A configuration value out of range. Each variant names the [`Config`] field.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A delay outside its allowed range.
    DelayOutOfRange {
        /// The `Config` field.
        field: &'static str,
        /// The value given.
        value: Duration,
        /// The smallest value allowed.
        min: Duration,
        /// The largest value allowed.
        max: Duration,
    },
    /// `min_connection_attempt_delay` is above `max_connection_attempt_delay`.
    MinAboveMax {
        /// The minimum given.
        min: Duration,
        /// The maximum given.
        max: Duration,
    },
    /// `first_address_family_count` is 0.
    FamilyCountZero,
    /// `max_concurrent_attempts` is 0.
    ConcurrencyCapZero,
    /// A timeout of zero (`attempt_timeout` or `total_timeout`).
    ZeroTimeout {
        /// The `Config` field.
        field: &'static str,
    },
    /// `protocols` allows neither TCP nor QUIC.
    NoProtocols,
    /// `alpn` is an empty list, so no service endpoint could ever be used.
    EmptyAlpn,
    /// `connectivity` has neither family.
    NoConnectivity,
}

/// A duration in an error message: as `Duration`'s `Debug` (`250ms`, `2.5s`) up to a million
/// seconds, beyond that in seconds with two significant digits (`1.8e19s`), so that an absurd
/// value does not print 20 digits of seconds and 9 of nanoseconds.
struct Compact(Duration);

impl fmt::Display for Compact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.as_secs() < 1_000_000 {
            write!(f, "{:?}", self.0)
        } else {
            write!(f, "{:.1e}s", self.0.as_secs_f64())
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::DelayOutOfRange {
                field,
                value,
                min,
                max,
            } => {
                write!(
                    f,
                    "{field} is {}, outside the allowed {} ..= {} ",
                    Compact(*value),
                    Compact(*min),
                    Compact(*max)
                )?;
                f.write_str(if *field == "resolution_delay" {
                    "(the cap is the Maximum Connection Attempt Delay; RFC 8305 §3 recommends \
                     50 ms)"
                } else {
                    "(RFC 8305 §5: never below 10 ms; the cap is 2 s)"
                })
            }
            ConfigError::MinAboveMax { min, max } => write!(
                f,
                "min_connection_attempt_delay ({}) is above max_connection_attempt_delay ({})",
                Compact(*min),
                Compact(*max)
            ),
            ConfigError::FamilyCountZero => f.write_str(
                "first_address_family_count is 0; it must be at least 1 (RFC 8305 §4)",
            ),
            ConfigError::ConcurrencyCapZero => f.write_str(
                "max_concurrent_attempts is 0, so no attempt could ever start; use at least 1",
            ),
            ConfigError::ZeroTimeout { field } => {
                write!(f, "{field} is zero; use None for no timeout")
            }
            ConfigError::NoProtocols => {
                f.write_str("protocols allows neither TCP nor QUIC; allow at least one")
            }
            ConfigError::EmptyAlpn => f.write_str(
                "alpn is an empty list, so no service endpoint could be used; use None for no filtering",
            ),
            ConfigError::NoConnectivity => {
                f.write_str("connectivity has neither IPv6 nor IPv4; allow at least one family")
            }
        }
    }
}

impl core::error::Error for ConfigError {}

fn check_delay(field: &'static str, value: Duration, min: Duration) -> Result<(), ConfigError> {
    if value < min || value > MAX_CONNECTION_ATTEMPT_DELAY {
        return Err(ConfigError::DelayOutOfRange {
            field,
            value,
            min,
            max: MAX_CONNECTION_ATTEMPT_DELAY,
        });
    }
    Ok(())
}

impl Config {
    /// Checks every field against its allowed range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let floor = CONNECTION_ATTEMPT_DELAY_FLOOR;
        check_delay(
            "connection_attempt_delay",
            self.connection_attempt_delay,
            floor,
        )?;
        check_delay(
            "min_connection_attempt_delay",
            self.min_connection_attempt_delay,
            floor,
        )?;
        check_delay(
            "max_connection_attempt_delay",
            self.max_connection_attempt_delay,
            floor,
        )?;
        if self.min_connection_attempt_delay > self.max_connection_attempt_delay {
            return Err(ConfigError::MinAboveMax {
                min: self.min_connection_attempt_delay,
                max: self.max_connection_attempt_delay,
            });
        }
        if self.resolution_delay > MAX_RESOLUTION_DELAY {
            return Err(ConfigError::DelayOutOfRange {
                field: "resolution_delay",
                value: self.resolution_delay,
                min: Duration::ZERO,
                max: MAX_RESOLUTION_DELAY,
            });
        }
        if self.first_address_family_count == 0 {
            return Err(ConfigError::FamilyCountZero);
        }
        if self.max_concurrent_attempts == Some(0) {
            return Err(ConfigError::ConcurrencyCapZero);
        }
        if self.attempt_timeout == Some(Duration::ZERO) {
            return Err(ConfigError::ZeroTimeout {
                field: "attempt_timeout",
            });
        }
        if self.total_timeout == Some(Duration::ZERO) {
            return Err(ConfigError::ZeroTimeout {
                field: "total_timeout",
            });
        }
        if !self.protocols.tcp && !self.protocols.quic {
            return Err(ConfigError::NoProtocols);
        }
        if self.alpn.as_ref().is_some_and(Vec::is_empty) {
            return Err(ConfigError::EmptyAlpn);
        }
        if !self.connectivity.ipv4 && !self.connectivity.ipv6 {
            return Err(ConfigError::NoConnectivity);
        }
        Ok(())
    }

    /// The family the Resolution Delay waits for (HEv3 §4.2), which is the preferred family
    /// in effect: [`prefer_family`](Config::prefer_family) when the host has connectivity
    /// for it, otherwise the other family (the only one it can use).
    ///
    /// ```
    /// use eyeballs::{Config, Family};
    ///
    /// let mut config = Config::default();
    /// assert_eq!(config.resolution_delay_family(), Family::V6);
    /// config.connectivity.ipv6 = false; // an IPv4-only host
    /// assert_eq!(config.prefer_family, Family::V6);
    /// assert_eq!(config.resolution_delay_family(), Family::V4);
    /// ```
    pub fn resolution_delay_family(&self) -> Family {
        if self.connectivity.has(self.prefer_family) {
            self.prefer_family
        } else {
            self.prefer_family.other()
        }
    }

    /// The Connection Attempt Delay after an attempt to a destination with this history:
    /// RFC 8305 §5 / HEv3 §6 "should correspond to the time when the previous attempt is
    /// retrying its handshake", estimated as the RFC 6298 RTO and clamped to
    /// `min_connection_attempt_delay ..= max_connection_attempt_delay`; the fixed
    /// `connection_attempt_delay` without history.
    pub fn attempt_delay_for(&self, path: &PathInfo) -> Duration {
        match path.rtt {
            // `max` then `min` rather than `clamp`, which panics when min > max.
            Some(rtt) => rtt
                .retransmission_timeout()
                .max(self.min_connection_attempt_delay)
                .min(self.max_connection_attempt_delay),
            None => self.connection_attempt_delay,
        }
    }
}
