//! The race's configuration and target as the fuzzer sets them (out-of-range values
//! included).

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use arbitrary::Arbitrary;
use eyeballs::{
    Config, Connectivity, Family, GlobalOnly, Nat64Prefix, PathInfo, Protocol, Protocols,
    RttEstimate, SortMode, Target,
};

use crate::{Addr, Alpn, Name};

/// The configuration, as the fuzzer sets it (out-of-range values included: the race must
/// refuse them with the error [`Config::validate`] gives).
#[derive(Arbitrary, Clone, Debug, Default, PartialEq, Eq)]
pub struct Knobs {
    /// `connection_attempt_delay` in ms.
    pub cad_ms: Option<u16>,
    /// `min_connection_attempt_delay` in ms.
    pub min_ms: Option<u16>,
    /// `max_connection_attempt_delay` in ms.
    pub max_ms: Option<u16>,
    /// `resolution_delay` in ms.
    pub rd_ms: Option<u16>,
    /// `first_address_family_count`.
    pub family_count: Option<u8>,
    /// Prefer IPv4.
    pub prefer_v4: bool,
    /// `SortMode::Given`.
    pub sort_given: bool,
    /// No interleaving.
    pub no_interleave: bool,
    /// No IPv6 connectivity.
    pub no_v6: bool,
    /// No IPv4 connectivity.
    pub no_v4: bool,
    /// `attempt_timeout` in ms.
    pub attempt_timeout_ms: Option<u16>,
    /// `total_timeout` in ms.
    pub total_timeout_ms: Option<u16>,
    /// `max_concurrent_attempts`.
    pub cap: Option<u8>,
    /// `query_https`.
    pub https: bool,
    /// Allow QUIC.
    pub quic: bool,
    /// Disallow TCP.
    pub no_tcp: bool,
    /// Prefer TCP over QUIC.
    pub prefer_tcp: bool,
    /// `group_by_protocol`.
    pub group_by_protocol: bool,
    /// The client's ALPN ids.
    pub alpn: Option<Vec<Alpn>>,
    /// A NAT64 prefix: the well-known one (`None` inside), or one of another length.
    pub nat64: Option<Option<u8>>,
    /// `svcb_reliant`.
    pub reliant: bool,
    /// `shuffle_seed`.
    pub seed: u64,
    /// A path-info provider with RTT history and sources for some addresses.
    pub path_info: bool,
    /// A destination filter: none when bit 0 is clear; with bit 0 set, one that refuses
    /// loopback and private addresses (bit 1 clear) or the engine's `GlobalOnly` (bit 1 set).
    /// One byte, as the `bool` it replaces, so that committed binary seeds decode alike.
    pub filter: u8,
}

fn ms(v: u16) -> Duration {
    Duration::from_millis(u64::from(v))
}

impl Knobs {
    /// The engine's configuration.
    pub fn config(&self) -> Config {
        let mut c = Config::default();
        if let Some(v) = self.cad_ms {
            c.connection_attempt_delay = ms(v);
        }
        if let Some(v) = self.min_ms {
            c.min_connection_attempt_delay = ms(v);
        }
        if let Some(v) = self.max_ms {
            c.max_connection_attempt_delay = ms(v);
        }
        if let Some(v) = self.rd_ms {
            c.resolution_delay = ms(v);
        }
        if let Some(v) = self.family_count {
            c.first_address_family_count = v;
        }
        if self.prefer_v4 {
            c.prefer_family = Family::V4;
        }
        if self.sort_given {
            c.sort = SortMode::Given;
        }
        c.interleave = !self.no_interleave;
        c.connectivity = Connectivity {
            ipv6: !self.no_v6,
            ipv4: !self.no_v4,
        };
        c.attempt_timeout = self.attempt_timeout_ms.map(ms);
        c.total_timeout = self.total_timeout_ms.map(ms);
        c.max_concurrent_attempts = self.cap.map(u32::from);
        c.query_https = self.https;
        c.protocols = Protocols {
            tcp: !self.no_tcp,
            quic: self.quic,
        };
        if self.prefer_tcp {
            c.prefer_protocol = Protocol::Tcp;
        }
        c.group_by_protocol = self.group_by_protocol;
        c.alpn = self
            .alpn
            .as_ref()
            .map(|l| l.iter().map(|a| a.id().to_string()).collect());
        c.nat64_prefix = match self.nat64 {
            None => None,
            Some(None) => Some(eyeballs::nat64::WELL_KNOWN_PREFIX),
            Some(Some(len)) => {
                let len = [32, 40, 48, 56, 64, 96][usize::from(len) % 6];
                Nat64Prefix::new(
                    "2001:db8:64::".parse().unwrap_or(Ipv6Addr::UNSPECIFIED),
                    len,
                )
                .ok()
            }
        };
        c.svcb_reliant = self.reliant;
        c.shuffle_seed = self.seed;
        if self.path_info {
            c.path_info = Some(Arc::new(path_info));
        }
        match self.filter & 3 {
            1 => c.destination_filter = Some(Arc::new(filter)),
            3 => c.destination_filter = Some(Arc::new(GlobalOnly)),
            _ => {}
        }
        c
    }
}

/// A deterministic provider: RTT history for some addresses (so delays vary between the
/// clamps), a source for others, "used before" and "broken" marks.
fn path_info(ip: IpAddr) -> PathInfo {
    let h = match ip {
        IpAddr::V4(v4) => u32::from(v4),
        IpAddr::V6(v6) => (u128::from(v6) % u128::from(u32::MAX)) as u32,
    };
    let mut p = PathInfo::default();
    if h % 3 == 0 {
        p.rtt = Some(RttEstimate {
            srtt: Duration::from_millis(u64::from(h % 700)),
            rttvar: Duration::from_millis(u64::from(h % 97)),
        });
    }
    if h % 5 == 0 {
        p.source = eyeballs::Source::Unreachable;
    }
    p.used_before = h % 7 == 0;
    p.broken = h % 11 == 0;
    p
}

fn filter(ip: IpAddr) -> Result<(), &'static str> {
    let private = match ip {
        IpAddr::V4(v4) => v4.is_private() || v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00,
    };
    if private {
        Err("private or loopback")
    } else {
        Ok(())
    }
}

/// What the race connects to.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub enum TargetSpec {
    /// A host name (maybe invalid, maybe an IP literal) and port.
    Host(Name, u16),
    /// Literal addresses (maybe none, maybe unconnectable).
    Literals(Vec<(Addr, u16)>),
}

impl TargetSpec {
    /// The engine's target.
    pub fn build(&self) -> Target {
        match self {
            TargetSpec::Host(name, port) => Target::host(&name.text(), *port),
            TargetSpec::Literals(list) => {
                Target::addresses(list.iter().map(|(a, p)| SocketAddr::new(a.ip(), *p)))
            }
        }
    }
}
