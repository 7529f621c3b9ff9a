//! Checklist section (e): the SVCB/HTTPS parts of HEv3 protocol racing (HEv3 §4.1, §6):
//! transport preference, ALPN and ECH, SVCB-reliant mode.

mod common;
use common::*;

use eyeballs::RecordType::{A, Aaaa, Https};
use eyeballs::{DnsError, Phase, Protocol, Protocols, ServiceRecord, SkipReason};

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

/// E7: the phases of an SVCB-reliant race whose HTTPS answer comes after the Resolution
/// Delay: the wait past the delay is a phase of its own, `AwaitingServiceInfo`.
#[test]
fn e7_svcb_reliant_phases() {
    let mut c = config();
    c.svcb_reliant = true;
    let mut h = H::with_https(c);
    h.take();
    assert_eq!(h.race.phase(), Phase::Resolving);
    h.dns(30, Aaaa, &["6a"]);
    assert_eq!(h.race.phase(), Phase::ResolutionDelay { until: ms(80) });
    h.dns(30, A, &["4a"]);
    h.run_until(80);
    assert_eq!(h.race.phase(), Phase::AwaitingServiceInfo);
    assert_eq!(h.timeout_ms(), None);
    h.https(120, vec![ServiceRecord::service(1, ".")]);
    assert_eq!(h.race.phase(), Phase::Connecting);
    assert_eq!(h.take(), lines(&["@120 start 6a/tcp alpn="]));
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
