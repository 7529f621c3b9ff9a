//! RFC 6724 destination address selection, as far as it can be done without OS state, plus the
//! rules that use caller-supplied path information (source address, RTT history, past use).
//!
//! RFC 8305 §4: "the client MUST sort the addresses received up to this point using Destination
//! Address Selection (\[RFC6724\], Section 6)". HEv3 §5.3 applies the same MUST within each group.
//!
//! Rules implemented (RFC 6724 §6 numbering):
//!
//! | Rule | Needs | Implemented as |
//! |---|---|---|
//! | 1 avoid unusable destinations | source, history | [`Source::Unreachable`] and [`PathInfo::broken`] sort last; families without connectivity are not attempted at all |
//! | 2 prefer matching scope | source | when both sources are known |
//! | 3 avoid deprecated addresses | source | when both sources are known |
//! | 4 prefer home addresses | source | when both sources are known |
//! | 5 prefer matching label | source | when both sources are known |
//! | 6 prefer higher precedence | nothing | default policy table (§2.1) |
//! | 7 prefer native transport | source | when both sources are known |
//! | 8 prefer smaller scope | nothing | §3.1/§3.2 scopes |
//! | (RFC 8305 §4) lower historical RTT | history | [`PathInfo::rtt`] |
//! | (RFC 8305 §4) previously used address | history | [`PathInfo::used_before`] |
//! | 9 longest matching prefix | source | IPv6 only (see below) |
//! | 10 leave the order unchanged | nothing | stable sort |
//!
//! Rule 9 is applied to IPv6 pairs only, as Go's `net` package does (`addrselect.go`): applied
//! to IPv4 it prefers addresses that merely share leading bits with a private source address,
//! which says nothing about the path.

use core::cmp::Ordering;
use core::net::{IpAddr, Ipv6Addr};
use core::time::Duration;

/// An RFC 6724 §3.1 address scope (the multicast scope values, reused for unicast).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Interface-local (0x1).
    InterfaceLocal = 0x1,
    /// Link-local (0x2): `fe80::/10`, `::1`, `127.0.0.0/8`, `169.254.0.0/16`.
    LinkLocal = 0x2,
    /// Admin-local (0x4).
    AdminLocal = 0x4,
    /// Site-local (0x5): the deprecated `fec0::/10`.
    SiteLocal = 0x5,
    /// Organization-local (0x8).
    OrganizationLocal = 0x8,
    /// Global (0xe): everything else, including RFC 1918 and ULA addresses.
    Global = 0xe,
}

/// One row of the RFC 6724 §2.1 policy table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Precedence: higher is preferred (rule 6).
    pub precedence: u8,
    /// Label: used to match source and destination (rule 5).
    pub label: u8,
}

/// RFC 6724 §2.1: "the default policy table ... SHOULD be used" when no other is configured.
/// Rows are `(prefix, prefix length, precedence, label)`; IPv4 addresses are looked up as
/// IPv4-mapped IPv6 addresses (`::ffff:0:0/96`), as §2.1 requires.
const DEFAULT_POLICY_TABLE: [(u128, u8, u8, u8); 9] = [
    (0x0000_0000_0000_0000_0000_0000_0000_0001, 128, 50, 0), // ::1/128
    (0x0000_0000_0000_0000_0000_0000_0000_0000, 0, 40, 1),   // ::/0
    (0x0000_0000_0000_0000_0000_ffff_0000_0000, 96, 35, 4),  // ::ffff:0:0/96
    (0x2002_0000_0000_0000_0000_0000_0000_0000, 16, 30, 2),  // 2002::/16
    (0x2001_0000_0000_0000_0000_0000_0000_0000, 32, 5, 5),   // 2001::/32
    (0xfc00_0000_0000_0000_0000_0000_0000_0000, 7, 3, 13),   // fc00::/7
    (0x0000_0000_0000_0000_0000_0000_0000_0000, 96, 1, 3),   // ::/96
    (0xfec0_0000_0000_0000_0000_0000_0000_0000, 10, 1, 11),  // fec0::/10
    (0x3ffe_0000_0000_0000_0000_0000_0000_0000, 16, 1, 12),  // 3ffe::/16
];

/// RFC 6724 §10.3 ("Prefer IPv4 over IPv6"): raising the precedence of `::ffff:0:0/96` to 100
/// puts IPv4 destinations above every IPv6 one. Used when the caller prefers IPv4.
const PREFER_IPV4_PRECEDENCE: u8 = 100;

fn as_v6_bits(ip: &IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(*v6),
    }
}

/// The RFC 6724 §2.1 default policy for `ip`: the longest matching prefix of the table.
///
/// ```
/// use eyeballs::rfc6724::policy;
///
/// assert_eq!(policy(&"192.0.2.1".parse().unwrap()).precedence, 35);
/// assert_eq!(policy(&"2001:db8::1".parse().unwrap()).precedence, 40);
/// assert_eq!(policy(&"2001:0:4136:e378::1".parse().unwrap()).label, 5);
/// ```
pub fn policy(ip: &IpAddr) -> Policy {
    let bits = as_v6_bits(ip);
    let mut best: Option<(u8, Policy)> = None;
    for &(prefix, len, precedence, label) in DEFAULT_POLICY_TABLE.iter() {
        let mask = if len == 0 {
            0
        } else {
            u128::MAX << (128 - u32::from(len))
        };
        if bits & mask == prefix && best.is_none_or(|(best_len, _)| len > best_len) {
            best = Some((len, Policy { precedence, label }));
        }
    }
    // `::/0` always matches, so the table always yields a row.
    best.map(|(_, p)| p).unwrap_or(Policy {
        precedence: 40,
        label: 1,
    })
}

/// The RFC 6724 §3.1/§3.2 scope of a unicast (or multicast) address.
///
/// ```
/// use eyeballs::rfc6724::{scope, Scope};
///
/// assert_eq!(scope(&"127.0.0.1".parse().unwrap()), Scope::LinkLocal);
/// assert_eq!(scope(&"10.1.1.1".parse().unwrap()), Scope::Global);
/// assert_eq!(scope(&"fe80::1".parse().unwrap()), Scope::LinkLocal);
/// ```
pub fn scope(ip: &IpAddr) -> Scope {
    match ip {
        // §3.2: "IPv4 autoconfiguration addresses [RFC3927] and IPv4 loopback addresses
        // [RFC1122] have link-local scope"; all other IPv4 addresses have global scope.
        IpAddr::V4(v4) => {
            if v4.is_loopback() || v4.is_link_local() {
                Scope::LinkLocal
            } else {
                Scope::Global
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return scope(&IpAddr::V4(v4));
            }
            if v6.is_multicast() {
                return match v6.segments()[0] & 0x000f {
                    0x1 => Scope::InterfaceLocal,
                    0x2 => Scope::LinkLocal,
                    0x4 => Scope::AdminLocal,
                    0x5 => Scope::SiteLocal,
                    0x8 => Scope::OrganizationLocal,
                    _ => Scope::Global,
                };
            }
            let first = v6.segments()[0];
            // §3.1: "the loopback address ... is treated as having link-local scope".
            if v6.is_loopback() || first & 0xffc0 == 0xfe80 {
                Scope::LinkLocal
            } else if first & 0xffc0 == 0xfec0 {
                Scope::SiteLocal
            } else {
                Scope::Global
            }
        }
    }
}

/// What the caller knows about the source address the OS would use for a destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Source {
    /// Nothing is known: the source-dependent rules (1-5, 7, 9) are skipped for this address.
    #[default]
    Unknown,
    /// There is no source address or no route for this destination (rule 1: sorted last).
    Unreachable,
    /// The source address the OS would use.
    Known(SourceAddr),
}

/// A source address and its properties, as far as rules 2-5, 7 and 9 need them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceAddr {
    /// The source address.
    pub addr: IpAddr,
    /// Its prefix length on the interface (rule 9 caps the common prefix at it; 64 is usual).
    pub prefix_len: u8,
    /// The address is deprecated (rule 3).
    pub deprecated: bool,
    /// The address is a Mobile IPv6 home address (rule 4).
    pub home: bool,
    /// The path is native, not through an encapsulating transition mechanism (rule 7).
    pub native: bool,
}

impl SourceAddr {
    /// A plain source address: not deprecated, not a home address, native, prefix length 64
    /// for IPv6 and 32 for IPv4.
    pub fn new(addr: IpAddr) -> SourceAddr {
        SourceAddr {
            addr,
            prefix_len: match addr {
                IpAddr::V4(_) => 32,
                IpAddr::V6(_) => 64,
            },
            deprecated: false,
            home: false,
            native: true,
        }
    }
}

/// A smoothed RTT estimate for a destination, as RFC 6298 keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RttEstimate {
    /// Smoothed round-trip time (SRTT).
    pub srtt: Duration,
    /// Round-trip time variation (RTTVAR).
    pub rttvar: Duration,
}

impl RttEstimate {
    /// RFC 6298 §2: RTO = SRTT + max(G, K*RTTVAR) with K = 4. This approximates when the
    /// first SYN would be retransmitted, which RFC 8305 §5 and HEv3 §6 say the Connection
    /// Attempt Delay should follow. `G`, the clock granularity, is taken as 1 ms.
    pub fn retransmission_timeout(&self) -> Duration {
        const G: Duration = Duration::from_millis(1);
        let k_rttvar = self.rttvar.saturating_mul(4);
        self.srtt
            .saturating_add(if k_rttvar > G { k_rttvar } else { G })
    }
}

/// Per-destination information the caller may supply (see
/// [`Config::path_info`](crate::Config::path_info)): the source address for rules 1-5, 7 and 9,
/// and history for the RTT and previously-used rules that RFC 8305 §4 / HEv3 §5.3 put between
/// rules 8 and 9.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PathInfo {
    /// The source address the OS would use for this destination.
    pub source: Source,
    /// Historical RTT to this destination; also sets the Connection Attempt Delay of an
    /// attempt to it (RFC 8305 §5, HEv3 §6).
    pub rtt: Option<RttEstimate>,
    /// This destination was used successfully before.
    pub used_before: bool,
    /// History says the path to this destination is broken (it failed, or lost a race while
    /// still pending, recently). RFC 6724 rule 1 ("avoid unusable destinations": "if DB is
    /// known to be unreachable ... prefer DA") sorts it after every destination not so marked,
    /// so it is still raced, just not first.
    pub broken: bool,
}

/// Everything the comparator needs about one destination, computed once.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SortKey {
    pub(crate) ip: IpAddr,
    pub(crate) policy: Policy,
    pub(crate) scope: Scope,
    pub(crate) path: PathInfo,
}

impl SortKey {
    pub(crate) fn new(ip: IpAddr, prefer_ipv4: bool, path: PathInfo) -> SortKey {
        let mut policy = policy(&ip);
        if prefer_ipv4 && policy.label == 4 {
            policy.precedence = PREFER_IPV4_PRECEDENCE;
        }
        SortKey {
            ip,
            policy,
            scope: scope(&ip),
            path,
        }
    }
}

/// Bits in common at the start of two IPv6 addresses.
fn common_prefix_len(a: &Ipv6Addr, b: &Ipv6Addr) -> u32 {
    (u128::from(*a) ^ u128::from(*b)).leading_zeros()
}

/// Prefers `a` (Less) when `pred(a) && !pred(b)`, `b` (Greater) in the mirrored case.
fn prefer(a: bool, b: bool) -> Ordering {
    match (a, b) {
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        _ => Ordering::Equal,
    }
}

/// The RFC 6724 §6 comparison: `Less` means `a` is preferred. Rule 10 (keep the order) is the
/// stable sort that uses this.
pub(crate) fn compare(a: &SortKey, b: &SortKey) -> Ordering {
    // Rule 1: avoid unusable destinations (no source address, or known broken).
    let unreachable = |k: &SortKey| k.path.broken || matches!(k.path.source, Source::Unreachable);
    let r = prefer(!unreachable(a), !unreachable(b));
    if r != Ordering::Equal {
        return r;
    }
    if let (Source::Known(sa), Source::Known(sb)) = (a.path.source, b.path.source) {
        // Rule 2: prefer matching scope.
        let r = prefer(scope(&sa.addr) == a.scope, scope(&sb.addr) == b.scope);
        if r != Ordering::Equal {
            return r;
        }
        // Rule 3: avoid deprecated addresses.
        let r = prefer(!sa.deprecated, !sb.deprecated);
        if r != Ordering::Equal {
            return r;
        }
        // Rule 4: prefer home addresses.
        let r = prefer(sa.home, sb.home);
        if r != Ordering::Equal {
            return r;
        }
        // Rule 5: prefer matching label.
        let r = prefer(
            policy(&sa.addr).label == a.policy.label,
            policy(&sb.addr).label == b.policy.label,
        );
        if r != Ordering::Equal {
            return r;
        }
    }
    // Rule 6: prefer higher precedence.
    let r = b.policy.precedence.cmp(&a.policy.precedence);
    if r != Ordering::Equal {
        return r;
    }
    if let (Source::Known(sa), Source::Known(sb)) = (a.path.source, b.path.source) {
        // Rule 7: prefer native transport.
        let r = prefer(sa.native, sb.native);
        if r != Ordering::Equal {
            return r;
        }
    }
    // Rule 8: prefer smaller scope.
    let r = a.scope.cmp(&b.scope);
    if r != Ordering::Equal {
        return r;
    }
    // RFC 8305 §4 / HEv3 §5.3: "a Destination Address Selection rule between rules 8 and 9
    // that prefers addresses with lower RTTs". An address with history sorts before one
    // without.
    let r = match (a.path.rtt, b.path.rtt) {
        (Some(ra), Some(rb)) => ra.srtt.cmp(&rb.srtt),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    };
    if r != Ordering::Equal {
        return r;
    }
    // "another Destination Address Selection rule between the RTT rule and rule 9, which
    // prefers used addresses over unused ones".
    let r = prefer(a.path.used_before, b.path.used_before);
    if r != Ordering::Equal {
        return r;
    }
    // Rule 9: longest matching prefix, IPv6 only (see the module docs).
    if let (Source::Known(sa), Source::Known(sb), IpAddr::V6(da), IpAddr::V6(db)) =
        (a.path.source, b.path.source, a.ip, b.ip)
    {
        if let (IpAddr::V6(src_a), IpAddr::V6(src_b)) = (sa.addr, sb.addr) {
            let la = common_prefix_len(&src_a, &da).min(u32::from(sa.prefix_len));
            let lb = common_prefix_len(&src_b, &db).min(u32::from(sb.prefix_len));
            let r = lb.cmp(&la);
            if r != Ordering::Equal {
                return r;
            }
        }
    }
    // Rule 10: otherwise, leave the order unchanged.
    Ordering::Equal
}

/// Sorts `ips` in place by RFC 6724 §6 with no path information (rules 6, 8 and 10).
///
/// ```
/// use core::net::IpAddr;
/// use eyeballs::rfc6724::sort_destinations;
///
/// let mut ips: Vec<IpAddr> = ["fd00::1", "192.0.2.1", "2001:db8::1"]
///     .iter().map(|s| s.parse().unwrap()).collect();
/// sort_destinations(&mut ips);
/// assert_eq!(ips[0], "2001:db8::1".parse::<IpAddr>().unwrap());
/// assert_eq!(ips[2], "fd00::1".parse::<IpAddr>().unwrap());
/// ```
pub fn sort_destinations(ips: &mut [IpAddr]) {
    ips.sort_by(|a, b| {
        compare(
            &SortKey::new(*a, false, PathInfo::default()),
            &SortKey::new(*b, false, PathInfo::default()),
        )
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// Checklist B3: lookups return (precedence, label, scope).
    #[test]
    fn b3_policy_table_and_scopes() {
        let cases = [
            ("192.0.2.1", 35, 4, Scope::Global),
            ("10.1.1.1", 35, 4, Scope::Global),
            ("127.0.0.1", 35, 4, Scope::LinkLocal),
            ("2001:db8::1", 40, 1, Scope::Global),
            ("2002:c000:201::1", 30, 2, Scope::Global),
            ("2001:0:4136:e378::1", 5, 5, Scope::Global),
            ("fd00::1", 3, 13, Scope::Global),
            ("fe80::1", 40, 1, Scope::LinkLocal),
            ("::1", 50, 0, Scope::LinkLocal),
            ("fec0::1", 1, 11, Scope::SiteLocal),
            ("3ffe::1", 1, 12, Scope::Global),
            ("::1.2.3.4", 1, 3, Scope::Global),
            ("169.254.3.4", 35, 4, Scope::LinkLocal),
        ];
        for (addr, precedence, label, sc) in cases {
            let a = ip(addr);
            assert_eq!(policy(&a), Policy { precedence, label }, "{addr}");
            assert_eq!(scope(&a), sc, "{addr}");
        }
    }

    fn sorted(input: &[&str]) -> Vec<IpAddr> {
        let mut v: Vec<IpAddr> = input.iter().map(|s| ip(s)).collect();
        sort_destinations(&mut v);
        v
    }

    fn ips(input: &[&str]) -> Vec<IpAddr> {
        input.iter().map(|s| ip(s)).collect()
    }

    /// Checklist B4: rule 6 alone.
    #[test]
    fn b4_rule6_precedence() {
        assert_eq!(
            sorted(&[
                "fd00::1",
                "2001:0:4136:e378::1",
                "2002:c000:201::1",
                "192.0.2.1",
                "2001:db8::1"
            ]),
            ips(&[
                "2001:db8::1",
                "192.0.2.1",
                "2002:c000:201::1",
                "2001:0:4136:e378::1",
                "fd00::1"
            ])
        );
    }

    /// Checklist B5: rule 8.
    #[test]
    fn b5_rule8_smaller_scope() {
        assert_eq!(
            sorted(&["2001:db8::1", "fe80::1"]),
            ips(&["fe80::1", "2001:db8::1"])
        );
        assert_eq!(
            sorted(&["8.8.8.8", "127.0.0.1"]),
            ips(&["127.0.0.1", "8.8.8.8"])
        );
    }

    /// Checklist B6: rule 10, a stable sort, checked many times.
    #[test]
    fn b6_rule10_stable() {
        for _ in 0..1000 {
            assert_eq!(
                sorted(&["2001:db8::b", "2001:db8::a", "192.0.2.2", "192.0.2.1"]),
                ips(&["2001:db8::b", "2001:db8::a", "192.0.2.2", "192.0.2.1"])
            );
        }
    }

    fn sort_with(input: &[(&str, PathInfo)]) -> Vec<IpAddr> {
        let mut keys: Vec<SortKey> = input
            .iter()
            .map(|(a, p)| SortKey::new(ip(a), false, *p))
            .collect();
        keys.sort_by(compare);
        keys.iter().map(|k| k.ip).collect()
    }

    fn known(src: &str) -> PathInfo {
        PathInfo {
            source: Source::Known(SourceAddr::new(ip(src))),
            ..PathInfo::default()
        }
    }

    /// Checklist B8: rule 9 with known sources, IPv6 only.
    #[test]
    fn b8_rule9_longest_prefix_ipv6_only() {
        let src = known("2001:db8:1::5");
        assert_eq!(
            sort_with(&[("2001:db8:2::1", src), ("2001:db8:1::9", src)]),
            ips(&["2001:db8:1::9", "2001:db8:2::1"])
        );
        // IPv4: rule 9 is skipped, so the input order stays.
        let src4 = known("10.0.0.5");
        assert_eq!(
            sort_with(&[("192.0.2.1", src4), ("10.0.0.9", src4)]),
            ips(&["192.0.2.1", "10.0.0.9"])
        );
    }

    /// Rule 1: a destination without a source sorts after one with.
    #[test]
    fn rule1_unreachable_last() {
        let unreachable = PathInfo {
            source: Source::Unreachable,
            ..PathInfo::default()
        };
        assert_eq!(
            sort_with(&[
                ("2001:db8::1", unreachable),
                ("192.0.2.1", known("10.0.0.1"))
            ]),
            ips(&["192.0.2.1", "2001:db8::1"])
        );
    }

    /// Rule 2: matching scope beats precedence.
    #[test]
    fn rule2_matching_scope() {
        // Destination fe80::1 (link-local) with a global source; 192.0.2.1 (global) with a
        // global source. Rule 2 prefers the IPv4 one even though rule 8 would not.
        assert_eq!(
            sort_with(&[
                ("fe80::1", known("2001:db8::5")),
                ("192.0.2.1", known("198.51.100.5"))
            ]),
            ips(&["192.0.2.1", "fe80::1"])
        );
    }

    /// Rule 3, 4, 5 and 7 each decide when everything before them is equal.
    #[test]
    fn rules_3_4_5_7() {
        let deprecated = PathInfo {
            source: Source::Known(SourceAddr {
                deprecated: true,
                ..SourceAddr::new(ip("2001:db8::5"))
            }),
            ..PathInfo::default()
        };
        assert_eq!(
            sort_with(&[
                ("2001:db8::1", deprecated),
                ("2001:db8::2", known("2001:db8::6"))
            ]),
            ips(&["2001:db8::2", "2001:db8::1"])
        );
        let home = PathInfo {
            source: Source::Known(SourceAddr {
                home: true,
                ..SourceAddr::new(ip("2001:db8::5"))
            }),
            ..PathInfo::default()
        };
        assert_eq!(
            sort_with(&[("2001:db8::1", known("2001:db8::6")), ("2001:db8::2", home)]),
            ips(&["2001:db8::2", "2001:db8::1"])
        );
        // Rule 5: the 6to4 destination has a 6to4 source (label 2 = 2); the native one has a
        // 6to4 source too (label 1 != 2): the matching label wins over precedence.
        assert_eq!(
            sort_with(&[
                ("2001:db8::1", known("2002:c000:201::5")),
                ("2002:c000:202::1", known("2002:c000:201::5"))
            ]),
            ips(&["2002:c000:202::1", "2001:db8::1"])
        );
        let tunnelled = PathInfo {
            source: Source::Known(SourceAddr {
                native: false,
                ..SourceAddr::new(ip("2001:db8::5"))
            }),
            ..PathInfo::default()
        };
        assert_eq!(
            sort_with(&[
                ("2001:db8::1", tunnelled),
                ("2001:db8::2", known("2001:db8::6"))
            ]),
            ips(&["2001:db8::2", "2001:db8::1"])
        );
    }

    /// Checklist B9: the RTT rule sits between rules 8 and 9, so it never beats rule 6.
    #[test]
    fn b9_rtt_rule_cannot_override_rule6() {
        let rtt = |ms| PathInfo {
            rtt: Some(RttEstimate {
                srtt: Duration::from_millis(ms),
                rttvar: Duration::ZERO,
            }),
            ..PathInfo::default()
        };
        assert_eq!(
            sort_with(&[
                ("2001:db8::a", rtt(80)),
                ("2001:db8::b", rtt(20)),
                ("192.0.2.1", rtt(5))
            ]),
            ips(&["2001:db8::b", "2001:db8::a", "192.0.2.1"])
        );
    }

    /// Checklist B10: previously used addresses first, after the RTT rule.
    #[test]
    fn b10_previously_used_rule() {
        let used = PathInfo {
            used_before: true,
            ..PathInfo::default()
        };
        assert_eq!(
            sort_with(&[("2001:db8::a", PathInfo::default()), ("2001:db8::b", used)]),
            ips(&["2001:db8::b", "2001:db8::a"])
        );
    }

    /// RFC 6724 §10.3: preferring IPv4 lifts it above native IPv6.
    #[test]
    fn prefer_ipv4_policy() {
        let mut keys = [
            SortKey::new(ip("2001:db8::1"), true, PathInfo::default()),
            SortKey::new(ip("192.0.2.1"), true, PathInfo::default()),
        ];
        keys.sort_by(compare);
        assert_eq!(keys[0].ip, ip("192.0.2.1"));
    }

    /// Checklist C5: RTO from SRTT and RTTVAR.
    #[test]
    fn c5_rto_estimate() {
        let e = RttEstimate {
            srtt: Duration::from_millis(40),
            rttvar: Duration::from_millis(10),
        };
        assert_eq!(e.retransmission_timeout(), Duration::from_millis(80));
        let e = RttEstimate {
            srtt: Duration::from_millis(600),
            rttvar: Duration::from_millis(200),
        };
        assert_eq!(e.retransmission_timeout(), Duration::from_millis(1400));
    }
}
