//! Checklist sections (d) NAT64 literal and A-answer synthesis (RFC 8305 §7, HEv3 §8),
//! (e) the SVCB/HTTPS parts of HEv3 racing, and (f) success, failure and timeouts.

mod common;
use common::*;

use eyeballs::AttemptFailure::Refused;
use eyeballs::RecordType::{A, Aaaa, Https};
use eyeballs::{
    Connectivity, DnsError, FailReason, Nat64Prefix, Protocol, Protocols, RaceResult,
    ServiceRecord, SkipReason, Target,
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

/// E1: the transport preference flag decides which goes first.
#[test]
fn e1_protocol_preference() {
    let mut c = config();
    c.protocols = Protocols {
        tcp: true,
        quic: true,
    };
    let h = H::addrs(c.clone(), &["6a"]);
    assert_eq!(h.starts(), lines(&["@0 start 6a/quic"]));
    c.prefer_protocol = Protocol::Tcp;
    let h = H::addrs(c, &["6a"]);
    assert_eq!(h.starts(), lines(&["@0 start 6a/tcp"]));
}

/// E2: the HTTPS query goes first (see also a2).
#[test]
fn e2_https_query_first() {
    let h = H::with_https(config());
    assert_eq!(h.queries[0].2, Https);
}

/// E5: an endpoint whose SVCB ALPN set has nothing the client supports is not attempted,
/// nor is its TargetName resolved; the race fails with the endpoint reported.
#[test]
fn e5_unsupported_alpn_is_skipped() {
    let mut c = config();
    c.alpn = Some(vec!["h2".into(), "http/1.1".into()]);
    let mut h = H::with_https(c);
    h.take();
    h.dns(10, Aaaa, &[]);
    h.dns(10, A, &[]);
    h.https(
        20,
        vec![
            ServiceRecord::service(1, "svc1.")
                .with_alpn(["h3"])
                .with_no_default_alpn()
                .with_ipv6hint(["2001:db8::2".parse().unwrap()]),
        ],
    );
    assert_eq!(h.take(), lines(&["@20 finished Failed(NoAddresses)"]));
    let o = h.race.outcome().unwrap();
    assert_eq!(o.skipped.len(), 1);
    assert_eq!(o.skipped[0].reason, SkipReason::NoSupportedProtocol);
}

/// E5: the attempt carries the record's ALPN ids that the client supports, and its ECH
/// config.
#[test]
fn e5_attempt_carries_alpn_and_ech() {
    let mut c = config();
    c.alpn = Some(vec!["h2".into()]);
    let mut h = H::with_https(c);
    h.take();
    h.https(
        10,
        vec![
            ServiceRecord::service(1, ".")
                .with_alpn(["h3", "h2"])
                .with_ech(vec![1u8, 2, 3])
                .with_port(8443),
        ],
    );
    h.dns(10, Aaaa, &["6a"]);
    assert_eq!(h.take(), lines(&["@10 start 6a/tcp:8443 alpn=h2 ech"]));
}

/// E7 / E8: SVCB-reliant mode holds every attempt until the HTTPS answer, even past the
/// Resolution Delay; the attempt then carries the ECH config.
#[test]
fn e7_svcb_reliant_waits_for_https() {
    let mut c = config();
    c.svcb_reliant = true;
    let mut h = H::with_https(c);
    h.take();
    h.dns(30, Aaaa, &["6a"]);
    h.dns(30, A, &["4a"]);
    h.run_until(100);
    assert_eq!(h.take(), lines(&[]));
    assert!(!h.race.service_info_settled());
    h.https(
        120,
        vec![ServiceRecord::service(1, ".").with_ech(vec![9u8])],
    );
    assert_eq!(h.take(), lines(&["@120 start 6a/tcp alpn= ech"]));
}

/// E9: in SVCB-reliant mode a failed HTTPS resolution ends the race: nothing is attempted.
#[test]
fn e9_svcb_failure_abandons_the_race() {
    let mut c = config();
    c.svcb_reliant = true;
    let mut h = H::with_https(c);
    h.take();
    h.dns(30, Aaaa, &["6a"]);
    h.answer(
        30,
        HOST,
        Https,
        eyeballs::DnsAnswer::Error(DnsError::ServFail),
    );
    assert_eq!(
        h.take(),
        lines(&[
            "@30 cancel-queries",
            "@30 finished Failed(ServiceResolutionFailed)"
        ])
    );
    // Without SVCB-reliance the same failure is just "no service information".
    let mut h = H::with_https(config());
    h.take();
    h.dns(30, Aaaa, &["6a"]);
    h.answer(
        30,
        HOST,
        Https,
        eyeballs::DnsAnswer::Error(DnsError::ServFail),
    );
    assert_eq!(h.take(), lines(&["@30 start 6a/tcp"]));
}

/// F3: an overall deadline cancels everything and reports a timeout; starts continue until
/// then.
#[test]
fn f3_total_timeout() {
    let mut c = config();
    c.total_timeout = Some(dur(600));
    let mut h = H::addrs(c, &["6a", "4a", "6b", "4b"]);
    h.run_until(10_000);
    assert_eq!(
        h.take(),
        lines(&[
            "@0 start 6a/tcp",
            "@250 start 4a/tcp",
            "@500 start 6b/tcp",
            "@600 cancel 6a",
            "@600 cancel 4a",
            "@600 cancel 6b",
            "@600 finished TimedOut"
        ])
    );
}

/// F3: a caller that wakes late, past the total deadline, gets the timeout and no attempt
/// that would only be cancelled in the same call.
#[test]
fn f3_late_wake_past_the_deadline_starts_nothing() {
    let mut c = config();
    c.connection_attempt_delay = dur(100);
    c.total_timeout = Some(dur(150));
    let mut h = H::addrs(c, &["6a", "4a"]);
    h.race.handle_timeout(ms(300)).unwrap();
    let mut actions = vec![];
    while let Some(a) = h.race.poll_action() {
        actions.push(a);
    }
    assert!(
        !actions
            .iter()
            .any(|a| matches!(a, eyeballs::Action::Start(_))),
        "{actions:?}"
    );
    assert_eq!(h.race.outcome().unwrap().result, RaceResult::TimedOut);
    assert_eq!(h.race.attempts().len(), 1);
}

/// F4: every DNS answer negative: the race fails at the last answer; with HTTPS still
/// pending it waits.
#[test]
fn f4_every_answer_negative() {
    let mut h = H::with_https(config());
    h.take();
    h.dns_err(30, Aaaa, DnsError::NoData);
    h.dns_err(31, A, DnsError::NxDomain);
    assert_eq!(h.take(), lines(&[]));
    assert!(!h.race.is_finished());
    assert_eq!(h.timeout_ms(), None);
    h.answer(32, HOST, Https, eyeballs::DnsAnswer::Services(vec![]));
    assert_eq!(h.take(), lines(&["@32 finished Failed(NoAddresses)"]));
    assert_eq!(h.race.outcome().unwrap().dns_errors.len(), 3);
}

/// F5: the race fails when the last attempt fails and nothing is left, not before; with A
/// still pending it waits.
#[test]
fn f5_fail_at_last_failure() {
    let mut h = H::addrs(config(), &["6a", "4a"]);
    h.fail(10, "6a", Refused);
    h.fail(30, "4a", Refused);
    assert_eq!(
        h.take(),
        lines(&[
            "@0 start 6a/tcp",
            "@10 start 4a/tcp",
            "@30 finished Failed(AllAttemptsFailed)"
        ])
    );
    let o = h.race.outcome().unwrap();
    assert_eq!(o.errors.len(), 2);
    assert_eq!(o.at, ms(30));

    let mut h = H::host(config());
    h.take();
    h.dns(0, Aaaa, &["6a"]);
    h.fail(10, "6a", Refused);
    assert!(!h.race.is_finished());
    h.dns(50, A, &["4a"]);
    assert_eq!(h.take(), lines(&["@0 start 6a/tcp", "@50 start 4a/tcp"]));
}

/// The caller gives up: in-flight attempts and queries are cancelled.
#[test]
fn cancel_ends_the_race() {
    let mut h = H::host(config());
    h.take();
    h.dns(0, Aaaa, &["6a"]);
    h.cancel(100);
    assert_eq!(
        h.take(),
        lines(&[
            "@0 start 6a/tcp",
            "@100 cancel 6a",
            "@100 cancel-queries",
            "@100 finished Cancelled"
        ])
    );
}

/// The destination filter refuses addresses, which are reported, never silently dropped.
#[test]
fn destination_filter_reports_refused_addresses() {
    let mut c = config();
    c.filter = Some(std::sync::Arc::new(|ip: std::net::IpAddr| {
        if ip.is_loopback() {
            Err("loopback")
        } else {
            Ok(())
        }
    }));
    let mut h = H::host(c);
    h.take();
    h.dns(0, Aaaa, &["::1"]);
    h.dns(0, A, &["4a"]);
    h.fail(10, "4a", Refused);
    let o = h.race.outcome().unwrap();
    assert_eq!(o.result, RaceResult::Failed(FailReason::AllAttemptsFailed));
    assert_eq!(o.skipped.len(), 1);
    assert_eq!(o.skipped[0].reason, SkipReason::Filtered("loopback"));
    assert!(
        o.to_string()
            .contains("refused by the destination filter: loopback")
    );
}
