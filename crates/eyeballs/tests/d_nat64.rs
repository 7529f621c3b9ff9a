//! Checklist section (d): NAT64, literal and A-answer synthesis (RFC 8305 §7, HEv3 §8).

mod common;
use common::*;

use eyeballs::RecordType::{A, Aaaa};
use eyeballs::{
    Connectivity, FailReason, Nat64Prefix, RaceResult, ServiceRecord, SkipReason, Target,
};

fn ipv6_only_nat64() -> eyeballs::Config {
    let mut c = config();
    c.connectivity = Connectivity {
        ipv6: true,
        ipv4: false,
    };
    c.nat64_prefix = Some("64:ff9b::/96".parse::<Nat64Prefix>().unwrap());
    c
}

/// D1: on a dual-stack host without a prefix, an IPv4 literal is used as is.
#[test]
fn d1_no_synthesis_without_prefix() {
    let h = H::new(config(), Target::host("192.0.2.33", 443));
    assert_eq!(h.starts(), lines(&["@0 start 192.0.2.33/tcp"]));
}

/// D2: with a NAT64 prefix, an IPv4 literal is synthesised (RFC 6052).
#[test]
fn d2_ipv4_literal_synthesised() {
    let h = H::new(ipv6_only_nat64(), Target::host("192.0.2.33", 443));
    assert_eq!(h.starts(), lines(&["@0 start 64:ff9b::c000:221/tcp"]));
}

/// D3: host- and link-scoped IPv4 is never synthesised; on an IPv6-only host it cannot be
/// attempted and is reported as skipped.
#[test]
fn d3_special_ranges_never_synthesised() {
    for lit in ["127.0.0.1", "169.254.1.1"] {
        let h = H::new(ipv6_only_nat64(), Target::host(lit, 443));
        assert_eq!(h.starts(), lines(&[]));
        assert_eq!(h.result, Some(RaceResult::Failed(FailReason::NoAddresses)));
        let o = h.race.outcome().unwrap();
        assert_eq!(o.skipped[0].addr.ip().to_string(), lit);
        assert_eq!(o.skipped[0].reason, SkipReason::NoConnectivity);
    }
}

/// D4: with a prefix, A is queried too; A answers and ipv4hints are synthesised.
#[test]
fn d4_a_answers_and_hints_synthesised() {
    let mut h = H::host(ipv6_only_nat64());
    assert_eq!(
        h.take(),
        lines(&["@0 query AAAA example.com", "@0 query A example.com"])
    );
    h.dns(30, A, &["198.51.100.42"]);
    h.dns(30, Aaaa, &[]);
    assert_eq!(h.take(), lines(&["@30 start 64:ff9b::c633:642a/tcp"]));

    let mut c = ipv6_only_nat64();
    c.query_https = true;
    let mut h = H::host(c);
    h.take();
    h.https(
        30,
        vec![ServiceRecord::service(1, ".").with_ipv4hint(["203.0.113.5".parse().unwrap()])],
    );
    assert_eq!(h.take(), lines(&[]));
    h.dns(30, Aaaa, &[]);
    assert_eq!(h.take(), lines(&["@30 start 64:ff9b::cb00:7105/tcp alpn="]));
}

/// D8 (ambiguity 5): a synthesised address sorts and interleaves as the IPv4 address it
/// carries, so IPv6-only networks still interleave.
#[test]
fn d8_ambiguity5_synthesised_addresses_interleave_as_ipv4() {
    let mut h = H::host(ipv6_only_nat64());
    h.take();
    h.dns(0, Aaaa, &["6a", "6b"]);
    h.dns(0, A, &["4a"]);
    h.run_until(10_000);
    assert_eq!(
        h.starts(),
        lines(&[
            "@0 start 6a/tcp",
            "@250 start 64:ff9b::c000:201/tcp",
            "@500 start 6b/tcp"
        ])
    );
}
