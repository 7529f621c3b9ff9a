//! Checklist section (b): address sorting and interleaving (RFC 8305 §4, RFC 6724 §6,
//! HEv3 §5), seen through the order in which the engine starts attempts. The pure policy-table
//! and comparator checks (B2, B3, B5, B8) are unit tests in `src/rfc6724.rs`.

mod common;
use common::*;

use std::sync::Arc;

use eyeballs::RecordType::{A, Aaaa};
use eyeballs::{
    Config, Connectivity, PathInfo, Protocols, RttEstimate, SkipReason, Source, SourceAddr,
};

fn all_hang_order(config: Config, names: &[&str]) -> Vec<String> {
    let mut h = H::addrs(config, names);
    h.run_until(100_000);
    h.starts()
        .iter()
        .map(|l| {
            l.split(' ')
                .nth(2)
                .unwrap()
                .trim_end_matches("/tcp")
                .to_string()
        })
        .collect()
}

/// B1 + B4: the engine sorts by rule 6 before attempting (no interleaving here, so the
/// sorted order is visible as is).
#[test]
fn b4_rule6_precedence_orders_attempts() {
    let mut c = config();
    c.interleave = false;
    assert_eq!(
        all_hang_order(
            c,
            &[
                "fd00::1",
                "2001:0:4136:e378::1",
                "2002:c000:201::1",
                "4a",
                "2001:db8::1"
            ]
        ),
        lines(&[
            "2001:db8::1",
            "4a",
            "2002:c000:201::1",
            "2001:0:4136:e378::1",
            "fd00::1"
        ])
    );
}

/// B5: rule 8, smaller scope first.
#[test]
fn b5_rule8_scope_orders_attempts() {
    let mut c = config();
    c.interleave = false;
    assert_eq!(
        all_hang_order(c, &["2001:db8::1", "fe80::1"]),
        lines(&["fe80::1", "2001:db8::1"])
    );
}

/// B6: rule 10, a stable sort: the order within a family is kept, many times over.
#[test]
fn b6_rule10_stable_within_family() {
    for _ in 0..1000 {
        assert_eq!(
            all_hang_order(config(), &["6b", "6a", "4b", "4a"]),
            lines(&["6b", "4b", "6a", "4a"])
        );
    }
}

/// B7: rule 1 with family connectivity: without IPv6, IPv6 addresses are never attempted and
/// are reported as skipped.
#[test]
fn b7_no_ipv6_connectivity_skips_ipv6() {
    let mut c = config();
    c.connectivity = Connectivity {
        ipv6: false,
        ipv4: true,
    };
    let mut h = H::addrs(c, &["6a", "4a"]);
    h.run_until(10_000);
    assert_eq!(h.starts(), lines(&["@0 start 4a/tcp"]));
    h.fail(20_000, "4a", eyeballs::AttemptFailure::Refused);
    let outcome = h.race.outcome().unwrap();
    assert_eq!(outcome.skipped.len(), 1);
    assert_eq!(outcome.skipped[0].addr.ip(), ip("6a"));
    assert_eq!(outcome.skipped[0].reason, SkipReason::NoConnectivity);
}

fn with_path_info(f: impl Fn(std::net::IpAddr) -> PathInfo + Send + Sync + 'static) -> Config {
    let mut c = config();
    c.path_info = Some(Arc::new(f));
    c
}

/// B8: rule 9 with a known source address (IPv6 only).
#[test]
fn b8_rule9_with_source_address() {
    let c = with_path_info(|_| PathInfo {
        source: Source::Known(SourceAddr::new("2001:db8:1::5".parse().unwrap())),
        ..PathInfo::default()
    });
    assert_eq!(
        all_hang_order(c, &["2001:db8:2::1", "2001:db8:1::9"]),
        lines(&["2001:db8:1::9", "2001:db8:2::1"])
    );
}

/// B9: the RTT rule orders within rule 6, never above it. The RTTs also set the delays: each
/// RFC 6298 RTO here is under 100 ms, so every delay is the 100 ms minimum.
#[test]
fn b9_historical_rtt_rule() {
    let c = with_path_info(|addr| {
        let rtt = match name_of(&addr).as_str() {
            "6a" => 80,
            "6b" => 20,
            _ => 5,
        };
        PathInfo {
            rtt: Some(RttEstimate {
                srtt: dur(rtt),
                rttvar: dur(0),
            }),
            ..PathInfo::default()
        }
    });
    let mut h = H::addrs(c, &["6a", "6b", "4a"]);
    h.run_until(10_000);
    assert_eq!(
        h.starts(),
        lines(&["@0 start 6b/tcp", "@100 start 4a/tcp", "@200 start 6a/tcp"])
    );
}

/// B10: the previously-used rule, after the RTT rule.
#[test]
fn b10_previously_used_rule() {
    let c = with_path_info(|addr| PathInfo {
        used_before: name_of(&addr) == "6b",
        ..PathInfo::default()
    });
    assert_eq!(all_hang_order(c, &["6a", "6b"]), lines(&["6b", "6a"]));
}

/// B12: family interleaving with count 1, count 2 ("first N, then alternate", ambiguity 2),
/// and a list that starts with IPv4.
#[test]
fn b12_interleaving() {
    assert_eq!(
        all_hang_order(config(), &["6a", "6b", "6c", "4a", "4b"]),
        lines(&["6a", "4a", "6b", "4b", "6c"])
    );
    let mut c = config();
    c.first_address_family_count = 2;
    assert_eq!(
        all_hang_order(c, &["6a", "6b", "6c", "4a", "4b"]),
        lines(&["6a", "6b", "4a", "6c", "4b"])
    );
    assert_eq!(
        all_hang_order(config(), &["4a", "4b", "2001:0:4136:e378::1"]),
        lines(&["4a", "2001:0:4136:e378::1", "4b"])
    );
}

/// Ambiguity 2 pinned: with count 2 the first run is 2 and every later run is 1 (not blocks
/// of 2).
#[test]
fn b12_ambiguity2_family_count_is_first_run_only() {
    let mut c = config();
    c.first_address_family_count = 2;
    assert_eq!(
        all_hang_order(c, &["6a", "6b", "6c", "6d", "4a", "4b", "4c"]),
        lines(&["6a", "6b", "4a", "6c", "4b", "6d", "4c"])
    );
}

/// B13: every endpoint of both families is raced, each 250 ms after the previous one.
#[test]
fn b13_every_endpoint_is_attempted() {
    let mut h = H::host(config());
    h.take();
    h.dns(0, Aaaa, &["6a", "6b", "6c"]);
    h.dns(0, A, &["4a", "4b", "4c"]);
    h.run_until(10_000);
    assert_eq!(
        h.starts(),
        lines(&[
            "@0 start 6a/tcp",
            "@250 start 4a/tcp",
            "@500 start 6b/tcp",
            "@750 start 4b/tcp",
            "@1000 start 6c/tcp",
            "@1250 start 4c/tcp"
        ])
    );
}

/// The caller can keep its own order (sort none); interleaving still applies.
#[test]
fn sort_given_keeps_order_within_family() {
    let mut c = config();
    c.sort = eyeballs::SortMode::Given;
    assert_eq!(
        all_hang_order(c.clone(), &["4b", "fd00::1", "4a", "6a"]),
        lines(&["4b", "fd00::1", "4a", "6a"])
    );
    c.interleave = false;
    assert_eq!(
        all_hang_order(c, &["4b", "4a", "fd00::1", "6a"]),
        lines(&["4b", "4a", "fd00::1", "6a"])
    );
}

/// Identical endpoints are attempted once.
#[test]
fn identical_endpoints_attempted_once() {
    assert_eq!(
        all_hang_order(config(), &["6a", "6a", "4a", "4a", "6a"]),
        lines(&["6a", "4a"])
    );
}

/// Preferring IPv4 puts IPv4 first (RFC 6724 §10.3 precedence change) and makes A the
/// answer the Resolution Delay waits for.
#[test]
fn prefer_ipv4() {
    let mut c = config();
    c.prefer_family = eyeballs::Family::V4;
    assert_eq!(
        all_hang_order(c.clone(), &["6a", "6b", "4a", "4b"]),
        lines(&["4a", "6a", "4b", "6b"])
    );
    let mut h = H::host(c);
    h.take();
    h.dns(30, Aaaa, &["6a"]);
    assert_eq!(h.timeout_ms(), Some(80));
    h.dns(40, A, &["4a"]);
    assert_eq!(h.take(), lines(&["@40 start 4a/tcp"]));
}

/// B15: two services with different ALPN sets. Grouping by protocol (an HTTP/3-preferring
/// client) puts the QUIC-capable endpoint first in a group of its own; without it, one race
/// follows the service order.
#[test]
fn b15_grouping_by_alpn() {
    let records = vec![
        hints(1, "svc1.", &["2001:db8::2"], &[]).with_alpn(["h3", "h2"]),
        hints(1, "svc2.", &["2001:db8::4"], &[]).with_alpn(["h2"]),
    ];
    let run = |group: bool, seed: u64| {
        let mut c = config();
        c.protocols = Protocols {
            tcp: true,
            quic: true,
        };
        c.group_by_protocol = group;
        c.shuffle_seed = seed;
        let mut h = H::with_https(c);
        h.dns(10, Aaaa, &[]);
        h.dns(10, A, &[]);
        h.https(10, records.clone());
        h.run_until(10_000);
        h.starts()
    };
    // Grouped: the QUIC group {::2} first, then the TCP group {::2, ::4} in service order.
    let grouped = run(true, 0);
    assert_eq!(grouped[0], "@10 start 2001:db8::2/quic alpn=h3,h2");
    assert_eq!(grouped.len(), 3);
    assert!(grouped[1..].iter().all(|l| l.contains("/tcp")));
    // Not grouped: each service's endpoints together, services in shuffled order.
    let flat: Vec<Vec<String>> = (0..20).map(|seed| run(false, seed)).collect();
    let svc1_first = lines(&[
        "@10 start 2001:db8::2/quic alpn=h3,h2",
        "@260 start 2001:db8::2/tcp alpn=h3,h2",
        "@510 start 2001:db8::4/tcp alpn=h2",
    ]);
    let svc2_first = lines(&[
        "@10 start 2001:db8::4/tcp alpn=h2",
        "@260 start 2001:db8::2/quic alpn=h3,h2",
        "@510 start 2001:db8::2/tcp alpn=h3,h2",
    ]);
    assert!(flat.iter().all(|o| *o == svc1_first || *o == svc2_first));
    assert!(flat.contains(&svc1_first) && flat.contains(&svc2_first));
}

/// B16: groups sorted by service priority; unassociated owner addresses go last.
#[test]
fn b16_priority_groups_and_unassociated_last() {
    let mut h = H::with_https(config());
    h.take();
    h.dns(10, Aaaa, &[]);
    h.dns(10, A, &["4z"]);
    assert_eq!(h.take(), lines(&[]));
    h.https(
        20,
        vec![
            hints(2, "a.example.", &["6a"], &[]),
            hints(1, "b.example.", &["6b"], &["4b"]),
        ],
    );
    h.run_until(10_000);
    assert_eq!(
        h.starts(),
        lines(&[
            "@20 start 6b/tcp alpn=",
            "@270 start 4b/tcp alpn=",
            "@520 start 6a/tcp alpn=",
            "@770 start 4z/tcp"
        ])
    );
}

/// B16 shuffle: two services of equal priority come in either order, about half the time
/// each over 1000 seeds.
#[test]
fn b16_equal_priority_is_shuffled() {
    let mut first_a = 0;
    for seed in 0..1000u64 {
        let mut c = config();
        c.shuffle_seed = seed;
        let mut h = H::with_https(c);
        h.dns(10, Aaaa, &[]);
        h.dns(10, A, &[]);
        h.https(
            20,
            vec![
                hints(1, "a.example.", &["6a"], &[]),
                hints(1, "b.example.", &["6b"], &[]),
            ],
        );
        if h.starts()[0].contains("6a/") {
            first_a += 1;
        }
    }
    assert!((400..=600).contains(&first_a), "{first_a} of 1000");
}
