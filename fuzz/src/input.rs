//! The structure-aware inputs both engine targets decode: addresses, names, ALPN ids, service
//! records, DNS answers, the times inputs arrive at, references to attempts and queries, and
//! the operations themselves.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use arbitrary::Arbitrary;
use eyeballs::{AttemptFailure, DnsAnswer, DnsError, Instant, ServiceRecord};

/// Addresses the fuzzer picks by index, so that the same ones recur (duplicates, answers
/// that overlap literals and hints) and the special kinds are reached: loopback, link-local,
/// unspecified, multicast, broadcast, IPv4-mapped, NAT64-synthesised, private.
const POOL: [&str; 20] = [
    "2001:db8::1",
    "2001:db8::2",
    "2001:db8::3",
    "2001:db8::4",
    "192.0.2.1",
    "192.0.2.2",
    "192.0.2.3",
    "192.0.2.4",
    "::1",
    "127.0.0.1",
    "fe80::1",
    "169.254.1.1",
    "::",
    "0.0.0.0",
    "ff02::1",
    "224.0.0.1",
    "255.255.255.255",
    "::ffff:192.0.2.9",
    "64:ff9b::c000:205",
    "10.0.0.1",
];

/// An IP address: from the pool, or any.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Addr {
    /// `POOL[i % len]`.
    Pool(u8),
    /// Any IPv4 address.
    V4([u8; 4]),
    /// Any IPv6 address.
    V6([u8; 16]),
}

impl Addr {
    /// The address.
    pub fn ip(self) -> IpAddr {
        match self {
            Addr::Pool(i) => POOL[usize::from(i) % POOL.len()]
                .parse()
                .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            Addr::V4(o) => IpAddr::V4(Ipv4Addr::from(o)),
            Addr::V6(o) => IpAddr::V6(Ipv6Addr::from(o)),
        }
    }

    /// The address given as text.
    pub fn of(ip: IpAddr) -> Addr {
        match ip {
            IpAddr::V4(v4) => Addr::V4(v4.octets()),
            IpAddr::V6(v6) => Addr::V6(v6.octets()),
        }
    }
}

/// A DNS name: a small set that alias chains can loop through, or anything.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub enum Name {
    /// `example.com`, the host of the race.
    Host,
    /// `sN.example.com` for N in 0..4.
    Sub(u8),
    /// `.`: the owner name, as a TargetName.
    Dot,
    /// `EXAMPLE.com.`: the host, differently spelled.
    Shouted,
    /// Anything (often not a valid host name).
    Raw(String),
}

impl Name {
    /// The name as text.
    pub fn text(&self) -> String {
        match self {
            Name::Host => "example.com".into(),
            Name::Sub(n) => format!("s{}.example.com", n % 4),
            Name::Dot => ".".into(),
            Name::Shouted => "EXAMPLE.com.".into(),
            Name::Raw(s) => s.clone(),
        }
    }

    pub(crate) fn same(&self, other: &str) -> bool {
        let a = self.text();
        a.trim_end_matches('.')
            .eq_ignore_ascii_case(other.trim_end_matches('.'))
    }
}

/// An ALPN id.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alpn {
    /// `h3` (QUIC).
    H3,
    /// `h2` (TCP).
    H2,
    /// `http/1.1` (TCP, the HTTPS default).
    Http11,
    /// `h3-29` (QUIC draft).
    H3Draft,
    /// `doq` (QUIC).
    Doq,
    /// Something no client supports.
    Odd,
}

impl Alpn {
    /// The id.
    pub fn id(self) -> &'static str {
        match self {
            Alpn::H3 => "h3",
            Alpn::H2 => "h2",
            Alpn::Http11 => "http/1.1",
            Alpn::H3Draft => "h3-29",
            Alpn::Doq => "doq",
            Alpn::Odd => "x-odd",
        }
    }

    /// The variant for an id (anything unknown is [`Alpn::Odd`]).
    pub fn of(id: &str) -> Alpn {
        match id {
            "h3" => Alpn::H3,
            "h2" => Alpn::H2,
            "http/1.1" => Alpn::Http11,
            "h3-29" => Alpn::H3Draft,
            "doq" => Alpn::Doq,
            _ => Alpn::Odd,
        }
    }
}

/// An SVCB/HTTPS record.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// SvcPriority, small (0 is AliasMode), unless `wide_priority` is set.
    pub priority: u8,
    /// Any SvcPriority.
    pub wide_priority: Option<u16>,
    /// TargetName.
    pub target: Name,
    /// The `port` SvcParam.
    pub port: Option<u16>,
    /// The `alpn` SvcParam.
    pub alpn: Vec<Alpn>,
    /// `no-default-alpn`.
    pub no_default_alpn: bool,
    /// `ipv4hint` and `ipv6hint` (each address goes to the hint of its family).
    pub hints: Vec<Addr>,
    /// The `ech` SvcParam.
    pub ech: Option<Vec<u8>>,
}

impl Record {
    /// The engine's record.
    pub fn build(&self) -> ServiceRecord {
        let priority = self.wide_priority.unwrap_or(u16::from(self.priority % 4));
        let mut r = ServiceRecord::service(priority, &self.target.text())
            .with_alpn(self.alpn.iter().map(|a| a.id()));
        if self.no_default_alpn {
            r = r.with_no_default_alpn();
        }
        if let Some(p) = self.port {
            r = r.with_port(p);
        }
        r.ipv4hint = self
            .hints
            .iter()
            .filter_map(|a| match a.ip() {
                IpAddr::V4(v4) => Some(v4),
                IpAddr::V6(_) => None,
            })
            .collect();
        r.ipv6hint = self
            .hints
            .iter()
            .filter_map(|a| match a.ip() {
                IpAddr::V6(v6) => Some(v6),
                IpAddr::V4(_) => None,
            })
            .collect();
        if let Some(ech) = &self.ech {
            r = r.with_ech(ech.clone());
        }
        r
    }
}

/// A DNS answer as the fuzzer writes it (it may not fit the query: the race must refuse it).
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Addresses (of any family).
    Addrs(Vec<Addr>),
    /// Service records.
    Services(Vec<Record>),
    /// An error.
    Error(u8),
}

pub(crate) fn dns_error(code: u8) -> DnsError {
    match code % 6 {
        0 => DnsError::NoData,
        1 => DnsError::NxDomain,
        2 => DnsError::ServFail,
        3 => DnsError::Timeout,
        4 => DnsError::Refused,
        _ => DnsError::Other,
    }
}

pub(crate) fn attempt_failure(code: u8) -> AttemptFailure {
    match code % 6 {
        0 => AttemptFailure::Refused,
        1 => AttemptFailure::Unreachable,
        2 => AttemptFailure::TimedOut,
        3 => AttemptFailure::Reset,
        4 => AttemptFailure::Handshake,
        _ => AttemptFailure::Other,
    }
}

impl Answer {
    /// The engine's answer.
    pub fn build(&self) -> DnsAnswer {
        match self {
            Answer::Addrs(list) => DnsAnswer::Addresses(list.iter().map(|a| a.ip()).collect()),
            Answer::Services(list) => DnsAnswer::Services(list.iter().map(Record::build).collect()),
            Answer::Error(code) => DnsAnswer::Error(dns_error(*code)),
        }
    }
}

/// When an input arrives, relative to the latest time given and the race's next deadline.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// At the latest time given.
    Now,
    /// This many milliseconds later.
    Ms(u16),
    /// This many nanoseconds later.
    Ns(u32),
    /// Exactly at the next deadline (`poll_timeout`), or now without one.
    AtTimer,
    /// One nanosecond before the next deadline.
    BeforeTimer,
    /// This many milliseconds before the latest time given (time going backwards).
    Back(u16),
    /// This many seconds later.
    Far(u32),
}

impl When {
    pub(crate) fn at(self, now: Instant, timer: Option<Instant>) -> Instant {
        match self {
            When::Now => now,
            When::Ms(ms) => now + Duration::from_millis(u64::from(ms)),
            When::Ns(ns) => now + Duration::from_nanos(u64::from(ns)),
            When::AtTimer => timer.unwrap_or(now),
            When::BeforeTimer => {
                timer.map_or(now, |t| Instant::from_nanos(t.as_nanos().saturating_sub(1)))
            }
            When::Back(ms) => now.saturating_sub(Duration::from_millis(u64::from(ms))),
            When::Far(s) => now + Duration::from_secs(u64::from(s)),
        }
    }
}

/// Which attempt or query an input names.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ref {
    /// The n-th (modulo their number) attempt in flight or query open; the first id there
    /// is when none is.
    Live(u8),
    /// The n-th (modulo their number) attempt or query ever made, live or not.
    Any(u8),
    /// This id, whatever it is.
    Raw(u32),
}

/// One input.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// A DNS answer.
    Answer {
        /// The query.
        query: Ref,
        /// The answer.
        answer: Answer,
        /// When.
        when: When,
    },
    /// An attempt connected.
    Connected {
        /// The attempt.
        attempt: Ref,
        /// When.
        when: When,
    },
    /// An attempt failed.
    Failed {
        /// The attempt.
        attempt: Ref,
        /// How (modulo the kinds).
        failure: u8,
        /// When.
        when: When,
    },
    /// An attempt made progress.
    Progress {
        /// The attempt.
        attempt: Ref,
        /// When.
        when: When,
    },
    /// `handle_timeout`.
    Timeout {
        /// When.
        when: When,
    },
    /// The caller gives up.
    Cancel {
        /// When.
        when: When,
    },
}
