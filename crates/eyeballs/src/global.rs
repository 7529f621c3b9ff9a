//! The built-in destination filter for untrusted names ([`GlobalOnly`]), the classification
//! behind it ([`check_global`]), and what a [`DestinationFilter`] is asked about
//! ([`judged_address`]).
//!
//! The tables follow the IANA IPv4 and IPv6 Special-Purpose Address Registries
//! (<https://www.iana.org/assignments/iana-ipv4-special-registry>,
//! <https://www.iana.org/assignments/iana-ipv6-special-registry>, RFC 6890) as of 2025: every
//! entry whose "Globally Reachable" column is `False` (or `N/A` for a deprecated block) is
//! refused, with the entry's name and RFC as the reason; the entries marked `True` inside a
//! refused block are allowed.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::config::DestinationFilter;
use crate::nat64::{Nat64Prefix, WELL_KNOWN_PREFIX};

/// The address a [`DestinationFilter`] is called with for a destination `ip`, on a race whose
/// [`Config::nat64_prefix`](crate::Config::nat64_prefix) is `nat64_prefix`: the IPv4 address
/// the destination carries, when it carries one, otherwise `ip` itself.
///
/// - an IPv4-mapped address `::ffff:a.b.c.d` is `a.b.c.d` (see [`canonical`](crate::canonical));
/// - an address inside the NAT64 Well-Known Prefix `64:ff9b::/96` is the IPv4 address it
///   embeds (RFC 6052 §2.2); RFC 6052 §3.1 forbids that prefix from carrying non-global IPv4,
///   so a filter must see the IPv4 address to enforce it;
/// - an address inside the configured NAT64 prefix is the IPv4 address it embeds, whatever
///   the prefix is.
///
/// So a DNS64 AAAA answer `64:ff9b::a00:1` and an A answer `10.0.0.1` that the engine
/// synthesises into `64:ff9b::a00:1` are both judged as `10.0.0.1`. The address attempted is
/// still the IPv6 one (the NAT64 path); only the filter's question changes.
///
/// ```
/// use eyeballs::{judged_address, Nat64Prefix};
///
/// let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
/// assert_eq!(judged_address(ip("::ffff:127.0.0.1"), None), ip("127.0.0.1"));
/// assert_eq!(judged_address(ip("64:ff9b::a00:1"), None), ip("10.0.0.1"));
/// let prefix: Nat64Prefix = "2001:db8:64::/96".parse().unwrap();
/// assert_eq!(judged_address(ip("2001:db8:64::c0a8:1"), Some(prefix)), ip("192.168.0.1"));
/// assert_eq!(judged_address(ip("2001:db8::1"), Some(prefix)), ip("2001:db8::1"));
/// ```
pub fn judged_address(ip: IpAddr, nat64_prefix: Option<Nat64Prefix>) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => WELL_KNOWN_PREFIX
            .extract(v6)
            .or_else(|| nat64_prefix.and_then(|p| p.extract(v6)))
            .map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// A destination filter for untrusted names: it refuses every address that the IANA IPv4
/// and IPv6 Special-Purpose Address Registries mark as not globally reachable (loopback,
/// private-use, shared, link-local, documentation, benchmarking, unique-local, reserved,
/// multicast, ...), so that a name an attacker controls cannot point a connection at the
/// client's own host or network (SSRF, DNS rebinding). [`check_global`] is the rule, with
/// the list.
///
/// Set it as [`Config::destination_filter`](crate::Config::destination_filter). Refused
/// endpoints are never attempted and are listed in
/// [`Outcome::skipped`](crate::Outcome::skipped) with the registry entry as the reason. The
/// engine asks the filter about [`judged_address`]: an IPv4-mapped address,
/// an address in the NAT64 Well-Known Prefix or in the configured NAT64 prefix is judged by
/// the IPv4 address it carries.
///
/// ```
/// use std::sync::Arc;
/// use eyeballs::{Action, Config, GlobalOnly, Instant, Race, SkipReason, Target};
///
/// let mut config = Config::default();
/// config.destination_filter = Some(Arc::new(GlobalOnly));
/// let local = "[::ffff:127.0.0.1]:80".parse().unwrap();
/// let public = "[2606:4700::1111]:80".parse().unwrap();
/// let mut race = Race::new(config, Target::addresses([local, public]), Instant::ZERO).unwrap();
/// let Some(Action::Attempt(first)) = race.poll_action() else { panic!() };
/// assert_eq!(first.addr, public);
/// assert_eq!(race.skipped()[0].addr, "127.0.0.1:80".parse().unwrap());
/// assert_eq!(race.skipped()[0].reason, SkipReason::Filtered("loopback (RFC 1122)"));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct GlobalOnly;

impl DestinationFilter for GlobalOnly {
    fn check(&self, destination: IpAddr) -> Result<(), &'static str> {
        check_global(destination)
    }
}

/// `Ok(())` when `ip` is globally reachable, otherwise the IANA Special-Purpose Address
/// Registry entry that says it is not (its name and RFC): the rule of [`GlobalOnly`].
///
/// Refused, IPv4 (the IPv4 registry, plus multicast from the multicast registry):
/// `0.0.0.0/8` this network (RFC 791), `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`
/// private-use (RFC 1918), `100.64.0.0/10` shared address space (RFC 6598), `127.0.0.0/8`
/// loopback (RFC 1122), `169.254.0.0/16` link-local (RFC 3927), `192.0.0.0/24` IETF protocol
/// assignments (RFC 6890) except `192.0.0.9` (PCP anycast, RFC 7723) and `192.0.0.10` (TURN
/// anycast, RFC 8155), `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24` documentation (RFC
/// 5737), `192.88.99.0/24` deprecated 6to4 relay anycast (RFC 7526), `198.18.0.0/15`
/// benchmarking (RFC 2544), `224.0.0.0/4` multicast (RFC 5771), `240.0.0.0/4` reserved (RFC
/// 1112) and `255.255.255.255` limited broadcast (RFC 919). `192.31.196.0/24` (AS112, RFC
/// 7535), `192.52.193.0/24` (AMT, RFC 7450) and `192.175.48.0/24` (AS112 direct delegation,
/// RFC 7534) are globally reachable, as is everything else.
///
/// Refused, IPv6: `::/128` unspecified and `::1/128` loopback (RFC 4291), `64:ff9b:1::/48`
/// local-use IPv4/IPv6 translation (RFC 8215), `100::/64` discard-only (RFC 6666),
/// `100:0:0:1::/64` dummy prefix (RFC 9780), `2001::/23` IETF protocol assignments (RFC 2928;
/// `2001::/32` Teredo, RFC 4380; `2001:2::/48` benchmarking, RFC 5180; `2001:10::/28`
/// deprecated ORCHID, RFC 4843) except its globally reachable entries `2001:1::1` (PCP
/// anycast, RFC 7723), `2001:1::2` (TURN anycast, RFC 8155), `2001:1::3` (DNS-SD SRP anycast,
/// RFC 9665), `2001:3::/32` (AMT, RFC 7450), `2001:4:112::/48` (AS112-v6, RFC 7535),
/// `2001:20::/28` (ORCHIDv2, RFC 7343) and `2001:30::/28` (drone remote ID DETs, RFC 9374);
/// `2001:db8::/32` (RFC 3849) and `3fff::/20` (RFC 9637) documentation, `5f00::/16` SRv6
/// SIDs (RFC 9602), `fc00::/7` unique-local (RFC 4193), `fe80::/10` link-local (RFC 4291),
/// `ff00::/8` multicast (RFC 4291); and, beyond the registry, everything outside `2000::/3`,
/// the only block IANA allocates for global unicast (RFC 4291 §2.4; for example the
/// deprecated IPv4-compatible `::a.b.c.d` and site-local `fec0::/10`).
///
/// IPv6 addresses that carry an IPv4 address are judged by that IPv4 address:
/// IPv4-mapped `::ffff:0:0/96` (RFC 4291 §2.5.5.2), the NAT64 Well-Known Prefix
/// `64:ff9b::/96` (RFC 6052 §3.1: it must not carry non-global IPv4) and 6to4 `2002::/16`
/// (RFC 3056 §2: the IPv4 address of the 6to4 site's router, in bits 16-47). A 6to4 address
/// built on a private or loopback IPv4 address is refused; one built on a global IPv4
/// address is allowed (6to4 itself is not deprecated, only its anycast relay, RFC 7526).
///
/// ```
/// use eyeballs::check_global;
///
/// let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
/// assert_eq!(check_global(ip("192.0.2.1")), Err("documentation (RFC 5737)"));
/// assert_eq!(check_global(ip("::ffff:10.1.2.3")), Err("private-use (RFC 1918)"));
/// assert_eq!(check_global(ip("64:ff9b::7f00:1")), Err("loopback (RFC 1122)"));
/// assert_eq!(check_global(ip("fd00::1")), Err("unique-local (RFC 4193)"));
/// assert_eq!(check_global(ip("1.1.1.1")), Ok(()));
/// assert_eq!(check_global(ip("2606:4700::1111")), Ok(()));
/// ```
pub fn check_global(ip: IpAddr) -> Result<(), &'static str> {
    match judged_address(ip, None) {
        IpAddr::V4(v4) => check_v4(v4),
        IpAddr::V6(v6) => check_v6(v6),
    }
}

/// Whether `addr` is inside `prefix/len`.
const fn in_v4(addr: u32, prefix: [u8; 4], len: u32) -> bool {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    addr & mask == u32::from_be_bytes(prefix)
}

const fn in_v6(addr: u128, prefix: u128, len: u32) -> bool {
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - len)
    };
    addr & mask == prefix
}

/// IPv4 entries, most specific first: (prefix, length, `None` = globally reachable or the
/// reason it is not). The first entry that contains the address decides.
const V4_TABLE: &[([u8; 4], u32, Option<&str>)] = &[
    ([192, 0, 0, 9], 32, None),  // PCP anycast, RFC 7723
    ([192, 0, 0, 10], 32, None), // TURN anycast, RFC 8155
    (
        [255, 255, 255, 255],
        32,
        Some("limited broadcast (RFC 919)"),
    ),
    (
        [192, 0, 0, 0],
        24,
        Some("IETF protocol assignments (RFC 6890)"),
    ),
    ([192, 0, 2, 0], 24, Some("documentation (RFC 5737)")),
    ([198, 51, 100, 0], 24, Some("documentation (RFC 5737)")),
    ([203, 0, 113, 0], 24, Some("documentation (RFC 5737)")),
    ([192, 31, 196, 0], 24, None), // AS112-v4, RFC 7535
    ([192, 52, 193, 0], 24, None), // AMT, RFC 7450
    ([192, 175, 48, 0], 24, None), // direct delegation AS112 service, RFC 7534
    (
        [192, 88, 99, 0],
        24,
        Some("deprecated 6to4 relay anycast (RFC 7526)"),
    ),
    ([169, 254, 0, 0], 16, Some("link-local (RFC 3927)")),
    ([192, 168, 0, 0], 16, Some("private-use (RFC 1918)")),
    ([198, 18, 0, 0], 15, Some("benchmarking (RFC 2544)")),
    ([172, 16, 0, 0], 12, Some("private-use (RFC 1918)")),
    ([100, 64, 0, 0], 10, Some("shared address space (RFC 6598)")),
    ([0, 0, 0, 0], 8, Some("this network (RFC 791)")),
    ([10, 0, 0, 0], 8, Some("private-use (RFC 1918)")),
    ([127, 0, 0, 0], 8, Some("loopback (RFC 1122)")),
    ([224, 0, 0, 0], 4, Some("multicast (RFC 5771)")),
    ([240, 0, 0, 0], 4, Some("reserved (RFC 1112)")),
];

fn check_v4(v4: Ipv4Addr) -> Result<(), &'static str> {
    let addr = u32::from(v4);
    for &(prefix, len, verdict) in V4_TABLE {
        if in_v4(addr, prefix, len) {
            return verdict.map_or(Ok(()), Err);
        }
    }
    Ok(())
}

const fn v6(segments: [u16; 8]) -> u128 {
    let mut out = 0u128;
    let mut i = 0;
    while i < 8 {
        out = (out << 16) | segments[i] as u128;
        i += 1;
    }
    out
}

/// IPv6 entries, most specific first, as [`V4_TABLE`].
const V6_TABLE: &[(u128, u32, Option<&str>)] = &[
    (0, 128, Some("unspecified (RFC 4291)")),
    (1, 128, Some("loopback (RFC 4291)")),
    (v6([0x2001, 1, 0, 0, 0, 0, 0, 1]), 128, None), // PCP anycast, RFC 7723
    (v6([0x2001, 1, 0, 0, 0, 0, 0, 2]), 128, None), // TURN anycast, RFC 8155
    (v6([0x2001, 1, 0, 0, 0, 0, 0, 3]), 128, None), // DNS-SD SRP anycast, RFC 9665
    (
        v6([0x100, 0, 0, 0, 0, 0, 0, 0]),
        64,
        Some("discard-only (RFC 6666)"),
    ),
    (
        v6([0x100, 0, 0, 1, 0, 0, 0, 0]),
        64,
        Some("dummy IPv6 prefix (RFC 9780)"),
    ),
    (
        v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0]),
        48,
        Some("local-use IPv4/IPv6 translation (RFC 8215)"),
    ),
    (
        v6([0x2001, 2, 0, 0, 0, 0, 0, 0]),
        48,
        Some("benchmarking (RFC 5180)"),
    ),
    (v6([0x2001, 4, 0x112, 0, 0, 0, 0, 0]), 48, None), // AS112-v6, RFC 7535
    (
        v6([0x2001, 0, 0, 0, 0, 0, 0, 0]),
        32,
        Some("Teredo (RFC 4380)"),
    ),
    (v6([0x2001, 3, 0, 0, 0, 0, 0, 0]), 32, None), // AMT, RFC 7450
    (
        v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0]),
        32,
        Some("documentation (RFC 3849)"),
    ),
    (
        v6([0x2001, 0x10, 0, 0, 0, 0, 0, 0]),
        28,
        Some("deprecated ORCHID (RFC 4843)"),
    ),
    (v6([0x2001, 0x20, 0, 0, 0, 0, 0, 0]), 28, None), // ORCHIDv2, RFC 7343
    (v6([0x2001, 0x30, 0, 0, 0, 0, 0, 0]), 28, None), // drone remote ID DETs, RFC 9374
    (
        v6([0x2001, 0, 0, 0, 0, 0, 0, 0]),
        23,
        Some("IETF protocol assignments (RFC 2928)"),
    ),
    (
        v6([0x3fff, 0, 0, 0, 0, 0, 0, 0]),
        20,
        Some("documentation (RFC 9637)"),
    ),
    (
        v6([0x5f00, 0, 0, 0, 0, 0, 0, 0]),
        16,
        Some("segment routing SIDs (RFC 9602)"),
    ),
    (
        v6([0xfe80, 0, 0, 0, 0, 0, 0, 0]),
        10,
        Some("link-local (RFC 4291)"),
    ),
    (
        v6([0xfc00, 0, 0, 0, 0, 0, 0, 0]),
        7,
        Some("unique-local (RFC 4193)"),
    ),
    (
        v6([0xff00, 0, 0, 0, 0, 0, 0, 0]),
        8,
        Some("multicast (RFC 4291)"),
    ),
    (v6([0x2000, 0, 0, 0, 0, 0, 0, 0]), 3, None), // global unicast, RFC 4291 §2.4
];

/// 6to4 (RFC 3056): `2002::/16`, the site's IPv4 address in bits 16-47.
const SIX_TO_FOUR: u128 = v6([0x2002, 0, 0, 0, 0, 0, 0, 0]);

fn check_v6(v6: Ipv6Addr) -> Result<(), &'static str> {
    let addr = u128::from(v6);
    if in_v6(addr, SIX_TO_FOUR, 16) {
        let o = v6.octets();
        return check_v4(Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    for &(prefix, len, verdict) in V6_TABLE {
        if in_v6(addr, prefix, len) {
            return verdict.map_or(Ok(()), Err);
        }
    }
    Err("not global unicast (RFC 4291 §2.4)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(s: &str) -> Result<(), &'static str> {
        check_global(s.parse().unwrap())
    }

    /// Every registry entry of the docs: one address inside (and, for the exceptions, the
    /// block around them).
    #[test]
    fn i3_every_ipv4_registry_entry() {
        let refused = [
            ("0.1.2.3", "this network (RFC 791)"),
            ("0.0.0.0", "this network (RFC 791)"),
            ("10.255.0.1", "private-use (RFC 1918)"),
            ("100.64.0.1", "shared address space (RFC 6598)"),
            ("100.127.255.254", "shared address space (RFC 6598)"),
            ("127.0.0.1", "loopback (RFC 1122)"),
            ("127.255.255.255", "loopback (RFC 1122)"),
            ("169.254.169.254", "link-local (RFC 3927)"),
            ("172.16.0.1", "private-use (RFC 1918)"),
            ("172.31.255.255", "private-use (RFC 1918)"),
            ("192.0.0.1", "IETF protocol assignments (RFC 6890)"),
            ("192.0.0.8", "IETF protocol assignments (RFC 6890)"),
            ("192.0.0.170", "IETF protocol assignments (RFC 6890)"),
            ("192.0.2.1", "documentation (RFC 5737)"),
            ("192.88.99.1", "deprecated 6to4 relay anycast (RFC 7526)"),
            ("192.168.1.1", "private-use (RFC 1918)"),
            ("198.18.0.1", "benchmarking (RFC 2544)"),
            ("198.19.255.255", "benchmarking (RFC 2544)"),
            ("198.51.100.7", "documentation (RFC 5737)"),
            ("203.0.113.9", "documentation (RFC 5737)"),
            ("224.0.0.1", "multicast (RFC 5771)"),
            ("239.255.255.250", "multicast (RFC 5771)"),
            ("240.0.0.1", "reserved (RFC 1112)"),
            ("255.255.255.254", "reserved (RFC 1112)"),
            ("255.255.255.255", "limited broadcast (RFC 919)"),
        ];
        for (addr, why) in refused {
            assert_eq!(check(addr), Err(why), "{addr}");
        }
        for addr in [
            "192.0.0.9",
            "192.0.0.10",
            "192.31.196.1",
            "192.52.193.1",
            "192.175.48.1",
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "11.0.0.1",
        ] {
            assert_eq!(check(addr), Ok(()), "{addr}");
        }
    }

    #[test]
    fn i3_every_ipv6_registry_entry() {
        let refused = [
            ("::", "unspecified (RFC 4291)"),
            ("::1", "loopback (RFC 4291)"),
            ("64:ff9b:1::1", "local-use IPv4/IPv6 translation (RFC 8215)"),
            ("100::1", "discard-only (RFC 6666)"),
            ("100:0:0:1::1", "dummy IPv6 prefix (RFC 9780)"),
            ("2001::1", "Teredo (RFC 4380)"),
            ("2001:1::4", "IETF protocol assignments (RFC 2928)"),
            ("2001:2::1", "benchmarking (RFC 5180)"),
            ("2001:4::1", "IETF protocol assignments (RFC 2928)"),
            ("2001:10::1", "deprecated ORCHID (RFC 4843)"),
            ("2001:1ff::1", "IETF protocol assignments (RFC 2928)"),
            ("2001:db8::1", "documentation (RFC 3849)"),
            ("3fff::1", "documentation (RFC 9637)"),
            ("3fff:fff::1", "documentation (RFC 9637)"),
            ("5f00::1", "segment routing SIDs (RFC 9602)"),
            ("fc00::1", "unique-local (RFC 4193)"),
            ("fdff::1", "unique-local (RFC 4193)"),
            ("fe80::1", "link-local (RFC 4291)"),
            ("febf::1", "link-local (RFC 4291)"),
            ("ff02::1", "multicast (RFC 4291)"),
            ("ff0e::1", "multicast (RFC 4291)"),
            ("fec0::1", "not global unicast (RFC 4291 §2.4)"),
            ("::7f00:1", "not global unicast (RFC 4291 §2.4)"),
            ("4000::1", "not global unicast (RFC 4291 §2.4)"),
        ];
        for (addr, why) in refused {
            assert_eq!(check(addr), Err(why), "{addr}");
        }
        for addr in [
            "2001:1::1",
            "2001:1::2",
            "2001:1::3",
            "2001:3::1",
            "2001:4:112::1",
            "2001:20::1",
            "2001:2f::1",
            "2001:30::1",
            "2001:200::1",
            "2606:4700::1111",
            "2a00:1450::1",
            "3ffe::1",
            "3fff:1000::1",
        ] {
            assert_eq!(check(addr), Ok(()), "{addr}");
        }
    }

    /// Addresses that carry IPv4 are judged by it: mapped, the NAT64 Well-Known Prefix,
    /// 6to4.
    #[test]
    fn i3_embedded_ipv4_is_judged() {
        assert_eq!(check("::ffff:127.0.0.1"), Err("loopback (RFC 1122)"));
        assert_eq!(check("::ffff:8.8.8.8"), Ok(()));
        assert_eq!(check("64:ff9b::a00:1"), Err("private-use (RFC 1918)"));
        assert_eq!(check("64:ff9b::192.0.0.9"), Ok(()));
        assert_eq!(check("64:ff9b::808:808"), Ok(()));
        assert_eq!(check("2002:7f00:1::1"), Err("loopback (RFC 1122)"));
        assert_eq!(check("2002:c0a8:101::1"), Err("private-use (RFC 1918)"));
        assert_eq!(check("2002:808:808::1"), Ok(()));
    }

    /// What a filter is asked about, with and without a configured NAT64 prefix.
    #[test]
    fn i2_judged_address() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let prefix: Nat64Prefix = "2001:db8:122:344::/64".parse().unwrap();
        // RFC 6052 §2.4: 192.0.2.33 under a /64.
        let synthesised = ip("2001:db8:122:344:c0:2:2100:0");
        assert_eq!(judged_address(synthesised, Some(prefix)), ip("192.0.2.33"));
        assert_eq!(judged_address(synthesised, None), synthesised);
        assert_eq!(
            judged_address(ip("64:ff9b::c000:221"), None),
            ip("192.0.2.33")
        );
        assert_eq!(
            judged_address(ip("192.0.2.33"), Some(prefix)),
            ip("192.0.2.33")
        );
        assert_eq!(judged_address(ip("::1"), Some(prefix)), ip("::1"));
    }
}
