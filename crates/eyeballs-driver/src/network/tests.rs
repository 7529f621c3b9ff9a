//! The network's description and id from `/proc/net` texts: what is in, what is left out,
//! what is refused.

use super::*;

const HEADER: &str =
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT";

/// A `/proc/net/route` line, addresses in this machine's byte order as the kernel writes
/// them.
fn v4(iface: &str, dest: &str, gateway: &str, flags: u32, metric: u32, mask: &str) -> String {
    let hex = |a: &str| {
        let a: Ipv4Addr = a.parse().unwrap();
        format!("{:08X}", u32::from_ne_bytes(a.octets()))
    };
    format!(
        "{iface}\t{}\t{}\t{flags:04X}\t0\t0\t{metric}\t{}\t0\t0\t0",
        hex(dest),
        hex(gateway),
        hex(mask)
    )
}

/// A `/proc/net/ipv6_route` line.
fn v6(dest: &str, len: u8, next_hop: &str, metric: u32, flags: u32, iface: &str) -> String {
    let hex = |a: &str| format!("{:032x}", u128::from(a.parse::<Ipv6Addr>().unwrap()));
    format!(
        "{} {len:02x} {} 00 {} {metric:08x} 00000001 00000000 {flags:08x} {iface:>8}",
        hex(dest),
        hex("::"),
        hex(next_hop)
    )
}

/// A `/proc/net/if_inet6` line.
fn addr(a: &str, index: u8, len: u8, scope: u8, flags: u8, iface: &str) -> String {
    let a = u128::from(a.parse::<Ipv6Addr>().unwrap());
    format!("{a:032x} {index:02x} {len:02x} {scope:02x} {flags:02x} {iface:>8}")
}

/// The network the namespace test builds first (what `/proc/net` said in it): a default
/// route on `a0` for each family, `b0` connected but without a default route, the loopback
/// with its `reject` default route.
struct Fixture {
    route: Vec<String>,
    ipv6_route: Vec<String>,
    if_inet6: Vec<String>,
}

impl Fixture {
    fn a() -> Fixture {
        Fixture {
            route: vec![
                HEADER.to_string(),
                v4("a0", "0.0.0.0", "192.0.2.1", 0x3, 0, "0.0.0.0"),
                v4("a0", "192.0.2.0", "0.0.0.0", 0x1, 0, "255.255.255.0"),
                v4("b0", "198.51.100.0", "0.0.0.0", 0x1, 0, "255.255.255.0"),
            ],
            ipv6_route: vec![
                v6("2001:db8:a::", 64, "::", 256, 0x1, "a0"),
                v6("2001:db8:b::", 64, "::", 256, 0x1, "b0"),
                v6("fe80::", 64, "::", 256, 0x1, "a0"),
                v6("::", 0, "2001:db8:a::1", 1024, 0x3, "a0"),
                v6("::1", 128, "::", 0, 0x80200001, "lo"),
                v6("::", 0, "::", 0xffff_ffff, 0x00200200, "lo"),
            ],
            if_inet6: vec![
                addr("::1", 1, 128, 0x10, 0x80, "lo"),
                addr("2001:db8:b::2", 5, 64, 0x00, 0x82, "b0"),
                addr("fe80::a06b:3dff:fe47:fe79", 5, 64, 0x20, 0xc0, "b0"),
                addr("fe80::e092:93ff:fe83:6bcf", 3, 64, 0x20, 0xc0, "a0"),
                addr("2001:db8:a::2", 3, 64, 0x00, 0x82, "a0"),
            ],
        }
    }

    fn text(lines: &[String]) -> String {
        lines.iter().map(|l| format!("{l}\n")).collect()
    }

    fn describe(&self) -> Result<String, ProcError> {
        let (route, ipv6_route, if_inet6) = (
            Fixture::text(&self.route),
            Fixture::text(&self.ipv6_route),
            Fixture::text(&self.if_inet6),
        );
        ProcNet {
            route: &route,
            ipv6_route: &ipv6_route,
            if_inet6: &if_inet6,
        }
        .describe()
    }

    fn id(&self) -> NetworkId {
        named(&self.describe().unwrap())
    }
}

/// A change to the fixture, and what it is.
type Change = (&'static str, fn(&mut Fixture));

/// A change that makes the fixture unreadable: what it is, the file and line named, and
/// part of the problem said.
type Breakage = (
    &'static str,
    fn(&mut Fixture),
    &'static str,
    usize,
    &'static str,
);

#[test]
fn describes_the_default_routes_and_the_prefixes_of_their_interfaces() {
    assert_eq!(
        Fixture::a().describe().unwrap(),
        "eyeballs network 1\n\
         ipv4 default a0 via 192.0.2.1\n\
         ipv6 default a0 via 2001:db8:a::1\n\
         ipv6 prefix a0 2001:db8:a::/64"
    );
}

#[test]
fn the_hash_is_fixed_fnv1a() {
    // The FNV-1a 64 test vectors: the same function in every process and build.
    assert_eq!(named(""), NetworkId(0xcbf2_9ce4_8422_2325));
    assert_eq!(named("a"), NetworkId(0xaf63_dc4c_8601_ec8c));
    assert_eq!(named("foobar"), NetworkId(0x8594_4171_f739_67e8));
    // A saved history is keyed by these: they must never change without the version line.
    assert_eq!(
        ProcNet::default().id().unwrap(),
        named("eyeballs network 1"),
        "offline"
    );
    assert_eq!(
        named("eyeballs network 1\nipv4 default a0 via 192.0.2.1"),
        NetworkId(0x80e6_4f0e_c735_125f)
    );
}

#[test]
fn what_changes_without_the_network_changing_keeps_the_id() {
    let a = Fixture::a().id();
    let changes: Vec<Change> = vec![
        ("route metrics and counters", |f| {
            f.route[1] = v4("a0", "0.0.0.0", "192.0.2.1", 0x3, 600, "0.0.0.0");
            f.ipv6_route[3] = v6("::", 0, "2001:db8:a::1", 20100, 0x3, "a0")
                .replace("00000001 00000000", "00000007 0000002a");
        }),
        ("the order of lines", |f| {
            f.route[1..].reverse();
            f.ipv6_route.reverse();
            f.if_inet6.reverse();
        }),
        ("a temporary address", |f| {
            f.if_inet6
                .push(addr("2001:db8:c::1234", 3, 64, 0x00, 0x01, "a0"));
        }),
        ("another address in the prefix", |f| {
            f.if_inet6
                .push(addr("2001:db8:a::99", 3, 64, 0x00, 0x80, "a0"));
        }),
        ("a DHCPv6 /128 in the prefix", |f| {
            f.if_inet6
                .push(addr("2001:db8:a::5:6", 3, 128, 0x00, 0x80, "a0"));
        }),
        ("link-local addresses", |f| {
            f.if_inet6[3] = addr("fe80::1:2:3:4", 3, 64, 0x20, 0x80, "a0");
        }),
        ("an interface without a default route", |f| {
            f.if_inet6
                .push(addr("2001:db8:d::1", 5, 64, 0x00, 0x80, "b0"));
            f.route.push(v4(
                "b0",
                "203.0.113.0",
                "198.51.100.1",
                0x3,
                0,
                "255.255.255.0",
            ));
            f.ipv6_route
                .push(v6("2001:db8:e::", 48, "2001:db8:b::1", 1024, 0x3, "b0"));
        }),
        ("a duplicate default route", |f| {
            let again = f.route[1].clone();
            f.route.push(again);
        }),
        ("blank lines and trailing blanks", |f| {
            f.route.push(String::new());
            f.route[1].push_str("   ");
            f.if_inet6.insert(0, "   ".to_string());
        }),
    ];
    for (what, change) in changes {
        let mut f = Fixture::a();
        change(&mut f);
        assert_eq!(f.id(), a, "{what}: {}", f.describe().unwrap());
    }
}

#[test]
fn another_gateway_interface_or_prefix_is_another_network() {
    let a = Fixture::a();
    let mut seen = vec![("a", a.id())];
    let changes: Vec<Change> = vec![
        ("another IPv4 gateway", |f| {
            f.route[1] = v4("a0", "0.0.0.0", "192.0.2.3", 0x3, 0, "0.0.0.0");
        }),
        ("another interface", |f| {
            f.route[1] = v4("b0", "0.0.0.0", "198.51.100.1", 0x3, 0, "0.0.0.0");
            f.ipv6_route.remove(3);
        }),
        ("another IPv6 next hop", |f| {
            f.ipv6_route[3] = v6("::", 0, "fe80::1", 1024, 0x3, "a0");
        }),
        ("another IPv6 prefix", |f| {
            f.if_inet6[4] = addr("2001:db8:f::2", 3, 64, 0x00, 0x80, "a0");
        }),
        ("no IPv6 default route", |f| {
            f.ipv6_route.remove(3);
        }),
        ("a second IPv4 default route", |f| {
            f.route
                .push(v4("b0", "0.0.0.0", "198.51.100.1", 0x3, 100, "0.0.0.0"));
        }),
        ("a point-to-point default route", |f| {
            f.route[1] = v4("a0", "0.0.0.0", "0.0.0.0", 0x1, 0, "0.0.0.0");
        }),
        ("no default route", |f| {
            f.route.truncate(1);
            f.ipv6_route.remove(3);
        }),
    ];
    for (what, change) in changes {
        let mut f = Fixture::a();
        change(&mut f);
        let id = f.id();
        for (other, seen) in &seen {
            assert_ne!(
                id,
                *seen,
                "{what} has the id of {other}: {}",
                f.describe().unwrap()
            );
        }
        seen.push((what, id));
    }
}

#[test]
fn routes_that_are_down_or_reject_are_not_default_routes() {
    let mut f = Fixture::a();
    f.route
        .push(v4("b0", "0.0.0.0", "198.51.100.1", 0x2, 0, "0.0.0.0"));
    f.route
        .push(v4("b0", "0.0.0.0", "198.51.100.1", 0x203, 0, "0.0.0.0"));
    f.ipv6_route
        .push(v6("::", 0, "2001:db8:b::1", 0, 0x2, "b0"));
    // A default-looking route with a mask is not a default route.
    f.route
        .push(v4("b0", "0.0.0.0", "198.51.100.1", 0x3, 0, "128.0.0.0"));
    assert_eq!(f.id(), Fixture::a().id(), "{}", f.describe().unwrap());
    let text = f.describe().unwrap();
    assert!(!text.contains("b0") && !text.contains(" lo"), "{text}");
}

#[test]
fn prefixes_are_cut_to_their_network_part() {
    let mut f = Fixture::a();
    f.if_inet6 = vec![
        addr("2001:db8:a:1:2:3:4:5", 3, 128, 0x00, 0x80, "a0"),
        addr("2001:db8:ab:cd:1::1", 3, 56, 0x00, 0x80, "a0"),
        addr("fd12:3456:789a::1", 3, 64, 0x00, 0x80, "a0"),
        addr("2001:db8::1", 3, 0, 0x00, 0x80, "a0"),
        // Temporary: skipped even when its prefix is not otherwise there.
        addr("2001:db8:77::1", 3, 64, 0x00, 0x01, "a0"),
    ];
    assert_eq!(
        f.describe().unwrap(),
        "eyeballs network 1\n\
         ipv4 default a0 via 192.0.2.1\n\
         ipv6 default a0 via 2001:db8:a::1\n\
         ipv6 prefix a0 2001:db8:a:1::/64\n\
         ipv6 prefix a0 2001:db8:ab::/56\n\
         ipv6 prefix a0 ::/0\n\
         ipv6 prefix a0 fd12:3456:789a::/64"
    );
}

#[test]
fn lines_that_do_not_read_as_proc_net_are_named() {
    let cases: Vec<Breakage> = vec![
        (
            "a short route line",
            |f| f.route[2] = "a0 00000000 00000000".to_string(),
            ROUTE,
            3,
            "expected at least 8 fields, found 3",
        ),
        (
            "a gateway that is not hex",
            |f| f.route[1] = "a0\t00000000\tzz\t0003\t0\t0\t0\t00000000\t0\t0\t0".to_string(),
            ROUTE,
            2,
            "the gateway \"zz\" is not 8 hexadecimal digits",
        ),
        (
            "an IPv6 route without its interface",
            |f| {
                let l = f.ipv6_route[0]
                    .trim_end_matches(" a0")
                    .trim_end()
                    .to_string();
                f.ipv6_route[0] = l;
            },
            IPV6_ROUTE,
            1,
            "expected 10 fields, found 9",
        ),
        (
            "a short IPv6 next hop",
            |f| f.ipv6_route[3] = f.ipv6_route[3].replace("20010db8000a00000000000000000001", "1"),
            IPV6_ROUTE,
            4,
            "the next hop \"1\" is not 32 hexadecimal digits",
        ),
        (
            "a prefix length over 128",
            |f| f.if_inet6[4] = f.if_inet6[4].replace(" 40 00 82", " 81 00 82"),
            IF_INET6,
            5,
            "the prefix length 129 is over 128",
        ),
        (
            "an address line with a field too many",
            |f| f.if_inet6[0].push_str(" extra"),
            IF_INET6,
            1,
            "expected 6 fields, found 7",
        ),
    ];
    for (what, change, file, line, problem) in cases {
        let mut f = Fixture::a();
        change(&mut f);
        let e = f.describe().expect_err(what);
        assert_eq!((e.file(), e.line()), (file, line), "{what}: {e}");
        assert!(e.problem().contains(problem), "{what}: {e}");
        assert_eq!(
            e.to_string(),
            format!("{file} line {line}: {}", e.problem())
        );
        let io: io::Error = e.into();
        assert_eq!(io.kind(), io::ErrorKind::InvalidData);
    }
}

/// This machine's network, read twice: the same id, the id of the description.
#[cfg(target_os = "linux")]
#[test]
fn current_reads_this_machines_network() {
    let text = describe_current().unwrap();
    assert!(text.starts_with(DESCRIPTION_VERSION), "{text}");
    let id = current().unwrap();
    assert_eq!(id, named(&text), "{text}");
    assert_eq!(current().unwrap(), id);
}

#[cfg(not(target_os = "linux"))]
#[test]
fn elsewhere_the_network_is_undetected() {
    assert!(!DETECTS);
    assert_eq!(current().unwrap(), UNDETECTED);
    assert_eq!(
        describe_current().unwrap_err().kind(),
        io::ErrorKind::Unsupported
    );
}
