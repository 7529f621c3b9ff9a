//! Issue 10 ("trust"): defects an independent review found, one test per item (the test name
//! starts with the item number: `i1_` is item 1). Each failed before its fix.
//!
//! - 1: an IPv4-mapped address is the IPv4 address it maps, everywhere;
//! - 2: NAT64 addresses are judged by the filter by the IPv4 address they carry;
//! - 3: the built-in filter for untrusted names, `GlobalOnly`;
//! - 8: a late HTTPS answer does not restart the interleaving;
//! - 9: IPv6 zones and flow labels of literals are kept;
//! - 11: SVCB TargetNames that are not host names are never resolved.

mod common;
use common::*;

use std::net::{IpAddr, SocketAddr, SocketAddrV6};
use std::sync::{Arc, Mutex};

use eyeballs::RecordType::{A, Aaaa, Https};
use eyeballs::{
    Action, Config, Connectivity, DnsAnswer, DnsError, FailReason, GlobalOnly, Instant,
    Nat64Prefix, Race, RaceResult, ServiceRecord, SkipReason, Target,
};

fn sock(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// A filter that refuses loopback and private IPv4 and IPv6 (by `std`'s own predicates, which
/// are false for every IPv6 form of an IPv4 address) and records what it was asked.
fn recording_filter(config: &mut Config) -> Arc<Mutex<Vec<IpAddr>>> {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = asked.clone();
    config.destination_filter = Some(Arc::new(move |ip: IpAddr| {
        log.lock().unwrap().push(ip);
        let private = match ip {
            IpAddr::V4(v4) => v4.is_loopback() || v4.is_private(),
            IpAddr::V6(v6) => v6.is_loopback(),
        };
        if private { Err("private") } else { Ok(()) }
    }));
    asked
}

fn skipped(race: &Race) -> Vec<(SocketAddr, SkipReason)> {
    race.skipped().iter().map(|s| (s.addr, s.reason)).collect()
}

/// Item 1, through a literal list: `[::ffff:127.0.0.1]` is 127.0.0.1, so the filter refuses
/// it, and it is reported in its IPv4 form.
#[test]
fn i1_mapped_literal_is_judged_and_reported_as_ipv4() {
    let mut c = config();
    let asked = recording_filter(&mut c);
    let h = H::new(c, Target::addresses([sock("[::ffff:127.0.0.1]:443")]));
    assert_eq!(h.starts(), lines(&[]));
    assert_eq!(h.result, Some(RaceResult::Failed(FailReason::NoAddresses)));
    assert_eq!(
        skipped(&h.race),
        [(sock("127.0.0.1:443"), SkipReason::Filtered("private"))]
    );
    assert_eq!(*asked.lock().unwrap(), [ip("127.0.0.1")]);
}

/// Item 1: a mapped literal is started, recorded and reported in its IPv4 form, as a host
/// literal too.
#[test]
fn i1_mapped_literal_starts_in_ipv4_form() {
    for target in [
        Target::addresses([sock("[::ffff:192.0.2.1]:443")]),
        Target::host("::ffff:192.0.2.1", 443),
    ] {
        let mut h = H::new(config(), target);
        assert_eq!(h.starts(), lines(&["@0 start 4a/tcp"]));
        h.ok(5, "4a");
        assert_eq!(h.race.attempts()[0].addr, sock("192.0.2.1:443"));
        let winner = h.race.outcome().unwrap().winner.unwrap().0;
        assert_eq!(winner, sock("192.0.2.1:443"));
    }
}

/// Item 1: without IPv4 connectivity (`-6`), a mapped address is not attempted (it would
/// connect over IPv4).
#[test]
fn i1_mapped_literal_without_ipv4_connectivity_is_skipped() {
    let mut c = config();
    c.connectivity = Connectivity {
        ipv6: true,
        ipv4: false,
    };
    let h = H::new(
        c,
        Target::addresses([sock("[::ffff:127.0.0.1]:443"), sock("[2001:db8::a]:443")]),
    );
    assert_eq!(h.starts(), lines(&["@0 start 6a/tcp"]));
    assert_eq!(
        skipped(&h.race),
        [(sock("127.0.0.1:443"), SkipReason::NoConnectivity)]
    );
}

/// Item 1: `192.0.2.1` and `::ffff:192.0.2.1` are one endpoint.
#[test]
fn i1_mapped_and_plain_ipv4_are_one_endpoint() {
    let mut h = H::new(
        config(),
        Target::addresses([
            sock("192.0.2.1:443"),
            sock("[::ffff:192.0.2.1]:443"),
            sock("[2001:db8::a]:443"),
        ]),
    );
    h.run_until(10_000);
    assert_eq!(h.starts(), lines(&["@0 start 6a/tcp", "@250 start 4a/tcp"]));
}

/// Item 1, through DNS (the rebinding case): an AAAA answer with a mapped address is accepted,
/// the address counts as IPv4 for sorting and interleaving, and the filter sees the IPv4
/// address.
#[test]
fn i1_mapped_aaaa_answer_counts_as_ipv4() {
    let mut h = H::host(config());
    h.take();
    h.dns(0, Aaaa, &["6a", "6b", "::ffff:192.0.2.1"]);
    h.dns(0, A, &[]);
    h.run_until(10_000);
    assert_eq!(
        h.starts(),
        lines(&["@0 start 6a/tcp", "@250 start 4a/tcp", "@500 start 6b/tcp"])
    );

    let mut c = config();
    let asked = recording_filter(&mut c);
    let mut h = H::host(c);
    h.dns(0, Aaaa, &["::ffff:127.0.0.1"]);
    h.dns(0, A, &[]);
    assert_eq!(h.result, Some(RaceResult::Failed(FailReason::NoAddresses)));
    assert_eq!(
        skipped(&h.race),
        [(sock("127.0.0.1:443"), SkipReason::Filtered("private"))]
    );
    assert_eq!(*asked.lock().unwrap(), [ip("127.0.0.1")]);
}

/// Item 1: a mapped address in an A answer is the IPv4 address it maps (it fits the query).
#[test]
fn i1_mapped_address_fits_an_a_answer() {
    let mut h = H::host(config());
    h.take();
    h.dns(0, A, &["::ffff:192.0.2.1"]);
    h.dns(10, Aaaa, &[]);
    assert_eq!(h.starts(), lines(&["@10 start 4a/tcp"]));
}

/// Item 1, through an SVCB `ipv6hint`.
#[test]
fn i1_mapped_ipv6hint_is_judged_as_ipv4() {
    let mut c = config();
    let asked = recording_filter(&mut c);
    let mut h = H::with_https(c);
    h.https(
        0,
        vec![ServiceRecord::service(1, ".").with_ipv6hint(["::ffff:127.0.0.1".parse().unwrap()])],
    );
    h.dns(0, Aaaa, &[]);
    h.dns(0, A, &[]);
    assert_eq!(h.result, Some(RaceResult::Failed(FailReason::NoAddresses)));
    assert_eq!(
        skipped(&h.race),
        [(sock("127.0.0.1:443"), SkipReason::Filtered("private"))]
    );
    assert_eq!(*asked.lock().unwrap(), [ip("127.0.0.1")]);
}

fn nat64(c: &mut Config, prefix: &str) {
    c.connectivity = Connectivity {
        ipv6: true,
        ipv4: false,
    };
    c.nat64_prefix = Some(prefix.parse::<Nat64Prefix>().unwrap());
}

/// Item 2: with the prefix `64:ff9b::/96`, the A answer `10.0.0.1` and the DNS64 AAAA answer
/// `64:ff9b::a00:1` for the same host are both judged as `10.0.0.1`, and both refused.
#[test]
fn i2_dns64_and_synthesised_answers_are_judged_alike() {
    let mut c = config();
    nat64(&mut c, "64:ff9b::/96");
    let asked = recording_filter(&mut c);
    let mut h = H::host(c);
    h.take();
    h.dns(0, Aaaa, &["64:ff9b::a00:1"]);
    h.dns(0, A, &["10.0.0.1"]);
    assert_eq!(h.take(), lines(&["@0 finished Failed(NoAddresses)"]));
    assert_eq!(
        skipped(&h.race),
        [(
            sock("[64:ff9b::a00:1]:443"),
            SkipReason::Filtered("private")
        )]
    );
    assert!(
        asked.lock().unwrap().iter().all(|a| *a == ip("10.0.0.1")),
        "{asked:?}"
    );
}

/// Item 2: an address inside the Well-Known Prefix is judged by its IPv4 address even when
/// no prefix is configured (RFC 6052 §3.1), and one inside a configured prefix other than
/// the well-known one too.
#[test]
fn i2_nat64_prefixes_are_judged_by_their_ipv4() {
    let mut c = config();
    let asked = recording_filter(&mut c);
    let mut h = H::host(c);
    h.dns(0, Aaaa, &["64:ff9b::7f00:1", "6a"]);
    assert_eq!(
        skipped(&h.race),
        [(
            sock("[64:ff9b::7f00:1]:443"),
            SkipReason::Filtered("private")
        )]
    );
    assert_eq!(asked.lock().unwrap()[0], ip("127.0.0.1"));

    let mut c = config();
    nat64(&mut c, "2001:db8:64::/96");
    let asked = recording_filter(&mut c);
    let mut h = H::host(c);
    h.take();
    h.dns(0, Aaaa, &["2001:db8:64::c0a8:101", "2001:db8:64::c000:201"]);
    assert_eq!(h.take(), lines(&["@0 start 2001:db8:64::c000:201/tcp"]));
    assert_eq!(*asked.lock().unwrap(), [ip("192.168.1.1"), ip("192.0.2.1")]);
}

/// Item 3: `GlobalOnly` refuses what a rebinding name could point at, in every form (the
/// reasons name the registry entry), and lets global addresses through.
#[test]
fn i3_global_only_refuses_non_global_destinations() {
    let mut c = config();
    c.destination_filter = Some(Arc::new(GlobalOnly));
    let mut h = H::host(c);
    h.take();
    h.dns(
        0,
        Aaaa,
        &[
            "::1",
            "::ffff:10.0.0.1",
            "fd00::1",
            "64:ff9b::a9fe:a9fe",
            "2606:4700::1111",
        ],
    );
    h.dns(0, A, &["127.0.0.1", "169.254.169.254", "1.1.1.1"]);
    h.run_until(1000);
    assert_eq!(
        h.starts(),
        lines(&["@0 start 2606:4700::1111/tcp", "@250 start 1.1.1.1/tcp"])
    );
    let reasons: Vec<(String, &str)> = h
        .race
        .skipped()
        .iter()
        .map(|s| match s.reason {
            SkipReason::Filtered(why) => (s.addr.ip().to_string(), why),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        reasons,
        [
            ("::1".to_string(), "loopback (RFC 4291)"),
            ("10.0.0.1".to_string(), "private-use (RFC 1918)"),
            ("fd00::1".to_string(), "unique-local (RFC 4193)"),
            ("64:ff9b::a9fe:a9fe".to_string(), "link-local (RFC 3927)"),
            ("127.0.0.1".to_string(), "loopback (RFC 1122)"),
            ("169.254.169.254".to_string(), "link-local (RFC 3927)"),
        ]
    );
}

/// Item 8: an HTTPS ServiceMode answer for the owner that arrives after the first attempt does
/// not restart the interleaving (HEv3 §5.2: one record, one group; §7: sort the complete list,
/// endpoints already received included; reading 8). Broken IPv6, two AAAA, one A, HTTPS
/// slower than the Resolution Delay, family count 1: IPv4 goes second, 250 ms after the
/// first attempt.
#[test]
fn i8_late_https_answer_keeps_the_interleaving() {
    let mut h = H::with_https(config());
    h.take();
    h.dns(10, Aaaa, &["6a", "6b"]);
    h.dns(10, A, &["4a"]);
    h.https(100, vec![ServiceRecord::service(1, ".").with_alpn(["h2"])]);
    h.ok(330, "4a");
    assert_eq!(
        h.take(),
        lines(&[
            "@60 start 6a/tcp",
            "@310 start 4a/tcp alpn=h2",
            "@330 cancel 6a",
            "@330 finished Connected(AttemptId(1))",
        ])
    );
}

/// Item 8, the same with the HTTPS answer between two attempts of a longer list: the
/// interleaving continues from the family of the last attempt.
#[test]
fn i8_late_https_answer_mid_race_continues_from_the_last_family() {
    let mut h = H::with_https(config());
    h.take();
    h.dns(0, Aaaa, &["6a", "6b", "6c"]);
    h.dns(0, A, &["4a", "4b"]);
    h.run_until(300);
    h.https(300, vec![ServiceRecord::service(1, ".")]);
    h.run_until(2000);
    assert_eq!(
        h.starts(),
        lines(&[
            "@50 start 6a/tcp",
            "@300 start 4a/tcp",
            "@550 start 6b/tcp alpn=",
            "@800 start 4b/tcp alpn=",
            "@1050 start 6c/tcp alpn=",
        ])
    );
}

fn zoned(ip: &str, flowinfo: u32, scope: u32) -> SocketAddr {
    SocketAddr::V6(SocketAddrV6::new(ip.parse().unwrap(), 443, flowinfo, scope))
}

/// Item 9: a literal's zone (`scope_id`) and flow label survive into the start action, the
/// attempt record and the outcome.
#[test]
fn i9_literal_zone_and_flowinfo_are_kept() {
    let link_local = zoned("fe80::1", 7, 3);
    let mut race = Race::new(config(), Target::addresses([link_local]), Instant::ZERO).unwrap();
    let Some(Action::Attempt(a)) = race.poll_action() else {
        panic!()
    };
    assert_eq!(a.addr, link_local);
    let SocketAddr::V6(v6) = a.addr else { panic!() };
    assert_eq!((v6.scope_id(), v6.flowinfo()), (3, 7));
    race.handle_connected(ms(1), a.id).unwrap();
    assert_eq!(race.attempts()[0].addr, link_local);
    assert_eq!(race.outcome().unwrap().winner.unwrap().0, link_local);
}

/// Item 9: the same address in two zones is two endpoints; twice in one zone is one.
#[test]
fn i9_different_zones_are_different_endpoints() {
    let mut race = Race::new(
        config(),
        Target::addresses([
            zoned("fe80::1", 0, 1),
            zoned("fe80::1", 0, 2),
            zoned("fe80::1", 0, 1),
        ]),
        Instant::ZERO,
    )
    .unwrap();
    let mut starts = vec![];
    let mut t = Instant::ZERO;
    for _ in 0..10 {
        while let Some(a) = race.poll_action() {
            if let Action::Attempt(a) = a {
                starts.push(a.addr);
            }
        }
        let Some(next) = race.poll_timeout() else {
            break;
        };
        t = t.max(next);
        race.handle_timeout(t).unwrap();
    }
    assert_eq!(starts, [zoned("fe80::1", 0, 1), zoned("fe80::1", 0, 2)]);
}

/// Item 11: SVCB TargetNames the engine would refuse as a host name are never sent out as
/// queries: the race reports them, as given, as DNS failures (`DnsError::InvalidName`)
/// instead. An alias to such a name ends the alias chain; a service whose target is such a
/// name has no addresses.
#[test]
fn i11_invalid_target_names_are_never_resolved() {
    let mut h = H::with_https(config());
    h.https(
        0,
        vec![
            ServiceRecord::service(1, "bad name.example."),
            ServiceRecord::service(2, "a.."),
            ServiceRecord::service(3, "good.example."),
        ],
    );
    let names: Vec<&str> = h.queries.iter().map(|q| q.1.as_str()).collect();
    assert_eq!(
        names,
        [
            "example.com",
            "example.com",
            "example.com",
            "good.example",
            "good.example"
        ]
    );
    h.dns(0, Aaaa, &[]);
    h.dns(0, A, &[]);
    h.dns_for(5, "good.example", Aaaa, &["6a"]);
    h.dns_for(5, "good.example", A, &[]);
    assert_eq!(h.starts(), lines(&["@5 start 6a/tcp alpn="]));
    h.fail(6, "6a", eyeballs::AttemptFailure::Refused);
    let failures: Vec<String> = h
        .race
        .outcome()
        .unwrap()
        .dns_errors
        .iter()
        .filter(|d| d.error == DnsError::InvalidName)
        .map(|d| d.to_string())
        .collect();
    assert_eq!(
        failures,
        [
            "AAAA bad name.example.: not a valid host name, so never resolved",
            "A bad name.example.: not a valid host name, so never resolved",
            "AAAA a..: not a valid host name, so never resolved",
            "A a..: not a valid host name, so never resolved",
        ]
    );

    // An alias to an invalid name: no query for it, and no service records.
    let mut h = H::with_https(config());
    h.https(0, vec![ServiceRecord::alias("exa/mple.")]);
    assert_eq!(h.queries.len(), 3, "{:?}", h.log);
    h.dns(0, Aaaa, &["6a"]);
    assert_eq!(h.starts(), lines(&["@0 start 6a/tcp"]));
    h.race.cancel(ms(1)).unwrap();
    let o = h.race.outcome().unwrap();
    assert!(
        o.dns_errors.iter().any(|d| d.name == "exa/mple."
            && d.record == Https
            && d.error == DnsError::InvalidName),
        "{:?}",
        o.dns_errors
    );
    let _ = DnsAnswer::Error(DnsError::InvalidName);
}
