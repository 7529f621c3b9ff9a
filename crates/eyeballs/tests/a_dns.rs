//! Checklist section (a): the DNS query phase (RFC 8305 §3, HEv3 §4). Every test asserts the
//! exact virtual-time schedule.

mod common;
use common::*;

use eyeballs::RecordType::{A, Aaaa, Https};
use eyeballs::{Connectivity, DnsAnswer, DnsError, InputError, Nat64Prefix, Phase, ServiceRecord};

/// A1: an IPv6-only host asks only AAAA; with a NAT64 prefix, A as well.
#[test]
fn a1_record_types_follow_connectivity() {
    let mut c = config();
    c.connectivity = Connectivity {
        ipv6: true,
        ipv4: false,
    };
    let h = H::host(c.clone());
    assert_eq!(h.log, lines(&["@0 query AAAA example.com"]));

    c.nat64_prefix = Some("64:ff9b::/96".parse::<Nat64Prefix>().unwrap());
    let h = H::host(c);
    assert_eq!(
        h.log,
        lines(&["@0 query AAAA example.com", "@0 query A example.com"])
    );

    let mut c = config();
    c.connectivity = Connectivity {
        ipv6: false,
        ipv4: true,
    };
    let h = H::host(c);
    assert_eq!(h.log, lines(&["@0 query A example.com"]));
}

/// A2: HTTPS, then AAAA, then A, all at once; without HTTPS, AAAA then A.
#[test]
fn a2_query_order() {
    let h = H::with_https(config());
    assert_eq!(
        h.log,
        lines(&[
            "@0 query HTTPS example.com",
            "@0 query AAAA example.com",
            "@0 query A example.com"
        ])
    );
    let h = H::host(config());
    assert_eq!(
        h.log,
        lines(&["@0 query AAAA example.com", "@0 query A example.com"])
    );
}

/// A3: AAAA alone is enough to start; A is not waited for.
#[test]
fn a3_do_not_wait_for_every_answer() {
    let mut h = H::host(config());
    h.take();
    h.dns(30, Aaaa, &["6a"]);
    assert_eq!(h.take(), lines(&["@30 start 6a/tcp"]));
}

/// A4: a positive AAAA first starts IPv6 at once; a later A interleaves.
#[test]
fn a4_positive_aaaa_starts_at_once() {
    let mut h = H::host(config());
    h.take();
    h.dns(30, Aaaa, &["6a", "6b"]);
    h.dns(32, A, &["4a"]);
    h.run_until(1000);
    assert_eq!(
        h.take(),
        lines(&["@30 start 6a/tcp", "@280 start 4a/tcp", "@530 start 6b/tcp"])
    );
}

/// A5: an A answer first arms the Resolution Delay; AAAA inside it starts IPv6 at once.
#[test]
fn a5_a_first_waits_for_aaaa() {
    let mut h = H::host(config());
    h.take();
    h.dns(30, A, &["4a", "4b"]);
    assert_eq!(h.take(), lines(&[]));
    assert_eq!(h.race.phase(), Phase::ResolutionDelay { until: ms(80) });
    assert_eq!(h.timeout_ms(), Some(80));
    h.dns(40, Aaaa, &["6a"]);
    assert_eq!(h.take(), lines(&["@40 start 6a/tcp"]));
    assert_eq!(h.timeout_ms(), Some(290));
    h.run_until(290);
    assert_eq!(h.take(), lines(&["@290 start 4a/tcp"]));
}

/// A6: when the Resolution Delay expires, go with what there is.
#[test]
fn a6_resolution_delay_expiry_proceeds() {
    let mut h = H::host(config());
    h.take();
    h.dns(30, A, &["4a"]);
    h.run_until(79);
    assert_eq!(h.take(), lines(&[]));
    h.run_until(80);
    assert_eq!(h.take(), lines(&["@80 start 4a/tcp"]));
}

/// A7: a negative AAAA (NODATA, NXDOMAIN, or any error: HEv3 §4.2) ends the wait early.
#[test]
fn a7_negative_aaaa_ends_the_wait() {
    for e in [
        DnsError::NoData,
        DnsError::NxDomain,
        DnsError::ServFail,
        DnsError::Timeout,
    ] {
        let mut h = H::host(config());
        h.take();
        h.dns(30, A, &["4a"]);
        h.dns_err(35, Aaaa, e);
        assert_eq!(h.take(), lines(&["@35 start 4a/tcp"]), "{e:?}");
    }
    // An empty address list is a negative answer too.
    let mut h = H::host(config());
    h.take();
    h.dns(30, A, &["4a"]);
    h.dns(35, Aaaa, &[]);
    assert_eq!(h.take(), lines(&["@35 start 4a/tcp"]));
}

/// A8 (and ambiguity 8): late AAAA answers are sorted into the not-yet-attempted list and
/// interleaving continues from the family of the last attempt (the RFC 8305 reading). The
/// running IPv4 attempt is never cancelled.
#[test]
fn a8_ambiguity8_late_answers_merge_rfc8305_reading() {
    let mut h = H::host(config());
    h.take();
    h.dns(30, A, &["4a", "4b"]);
    h.run_until(80);
    assert_eq!(h.take(), lines(&["@80 start 4a/tcp"]));
    h.dns(180, Aaaa, &["6a", "6b"]);
    assert_eq!(h.take(), lines(&[]));
    h.run_until(2000);
    assert_eq!(
        h.take(),
        lines(&[
            "@330 start 6a/tcp",
            "@580 start 4b/tcp",
            "@830 start 6b/tcp"
        ])
    );
}

fn dot() -> ServiceRecord {
    ServiceRecord::service(1, ".")
}

/// A9, example E1: HTTPS and AAAA at 30 start IPv6; A at 32 joins the list.
#[test]
fn a9_e1_https_and_aaaa_first() {
    let mut h = H::with_https(config());
    h.take();
    h.https(30, vec![dot()]);
    h.dns(30, Aaaa, &["6a", "6b"]);
    h.dns(32, A, &["4a", "4b"]);
    h.run_until(300);
    assert_eq!(
        h.take(),
        lines(&["@30 start 6a/tcp alpn=", "@280 start 4a/tcp alpn="])
    );
}

/// A9, example E2: A before AAAA arms the delay, AAAA at 40 starts.
#[test]
fn a9_e2_a_then_aaaa_inside_delay() {
    let mut h = H::with_https(config());
    h.take();
    h.https(30, vec![dot()]);
    h.dns(30, A, &["4a", "4b"]);
    assert_eq!(h.timeout_ms(), Some(80));
    h.dns(40, Aaaa, &["6a", "6b"]);
    assert_eq!(h.take(), lines(&["@40 start 6a/tcp alpn="]));
}

/// A9, example E3: AAAA long after A: IPv4 at 80, IPv6 merged at 180 and started at 330.
#[test]
fn a9_e3_aaaa_long_after_a() {
    let mut h = H::with_https(config());
    h.take();
    h.https(30, vec![dot()]);
    h.dns(30, A, &["4a", "4b"]);
    h.run_until(80);
    h.dns(180, Aaaa, &["6a", "6b"]);
    h.run_until(330);
    assert_eq!(
        h.take(),
        lines(&["@80 start 4a/tcp alpn=", "@330 start 6a/tcp alpn="])
    );
}

/// A9, example E4: both address answers, HTTPS 10 ms later: wait for it.
#[test]
fn a9_e4_ambiguity1_delay_armed_at_first_positive_answer() {
    let mut h = H::with_https(config());
    h.take();
    h.dns(30, Aaaa, &["6a", "6b"]);
    h.dns(30, A, &["4a", "4b"]);
    assert_eq!(h.take(), lines(&[]));
    assert_eq!(h.timeout_ms(), Some(80));
    h.https(40, vec![dot()]);
    assert_eq!(h.take(), lines(&["@40 start 6a/tcp alpn="]));
}

/// A9, example E5: HTTPS never answers: start when the Resolution Delay ends.
#[test]
fn a9_e5_https_never() {
    let mut h = H::with_https(config());
    h.take();
    h.dns(30, Aaaa, &["6a", "6b"]);
    h.dns(30, A, &["4a", "4b"]);
    h.run_until(80);
    assert_eq!(h.take(), lines(&["@80 start 6a/tcp"]));
}

/// A9, example E6: hints alone are positive answers for both families.
#[test]
fn a9_e6_hints_are_positive_answers() {
    let mut h = H::with_https(config());
    h.take();
    h.https(
        30,
        vec![dot().with_ipv6hint([v6("6h")]).with_ipv4hint([v4("4h")])],
    );
    assert_eq!(h.take(), lines(&["@30 start 6h/tcp alpn="]));
}

/// A9, example E7: IPv4-only host: no AAAA query; A waits for HTTPS.
#[test]
fn a9_e7_ipv4_only_waits_for_https() {
    let mut c = config();
    c.connectivity = Connectivity {
        ipv6: false,
        ipv4: true,
    };
    let mut h = H::with_https(c);
    assert_eq!(
        h.take(),
        lines(&["@0 query HTTPS example.com", "@0 query A example.com"])
    );
    h.dns(30, A, &["4a", "4b"]);
    assert_eq!(h.timeout_ms(), Some(80));
    h.https(40, vec![dot()]);
    assert_eq!(h.take(), lines(&["@40 start 4a/tcp alpn="]));
}

/// A9, example E8: a negative AAAA counts as the preferred family's answer.
#[test]
fn a9_e8_negative_preferred_family_satisfies_s1() {
    let mut h = H::with_https(config());
    h.take();
    h.https(30, vec![dot()]);
    h.dns(30, Aaaa, &[]);
    h.dns(30, A, &["4a"]);
    assert_eq!(h.take(), lines(&["@30 start 4a/tcp alpn="]));
}

/// A10: hints start at once and the TargetName is still resolved; the real AAAA answer
/// replaces the hints (a hint not yet attempted disappears; a running one keeps running).
#[test]
fn a10_hints_then_real_records() {
    let mut h = H::with_https(config());
    h.take();
    h.https(
        30,
        vec![ServiceRecord::service(1, "svc.example.").with_ipv6hint([v6("6h"), v6("6i")])],
    );
    assert_eq!(
        h.take(),
        lines(&[
            "@30 start 6h/tcp alpn=",
            "@30 query AAAA svc.example",
            "@30 query A svc.example"
        ])
    );
    h.dns_for(60, "svc.example", Aaaa, &["6x"]);
    h.run_until(600);
    // 6i was only a hint and is gone; 6x takes its place; 6h is never cancelled.
    assert_eq!(h.take(), lines(&["@280 start 6x/tcp alpn="]));
}

/// A11: AliasMode asks HTTPS for the alias and waits for its ServiceMode answer.
#[test]
fn a11_alias_mode_follow_up() {
    let setup = || {
        let mut h = H::with_https(config());
        h.take();
        h.https(30, vec![ServiceRecord::alias("alias.example.")]);
        h.dns(30, Aaaa, &["6a"]);
        h.dns(30, A, &["4a"]);
        assert_eq!(h.take(), lines(&["@30 query HTTPS alias.example"]));
        assert_eq!(h.timeout_ms(), Some(80));
        h
    };
    let mut h = setup();
    h.https_for(45, "alias.example", vec![dot()]);
    assert_eq!(
        h.take(),
        lines(&[
            "@45 start 6a/tcp",
            "@45 query AAAA alias.example",
            "@45 query A alias.example"
        ])
    );
    let mut h = setup();
    h.run_until(80);
    assert_eq!(h.take(), lines(&["@80 start 6a/tcp"]));
}

/// A11: an alias chain that loops ends as "no service records" rather than looping.
#[test]
fn a11_alias_loop_is_negative() {
    let mut h = H::with_https(config());
    h.take();
    h.https(10, vec![ServiceRecord::alias("b.example.")]);
    h.https_for(20, "b.example", vec![ServiceRecord::alias("example.com.")]);
    assert!(h.race.service_info_settled());
    h.dns(30, Aaaa, &["6a"]);
    assert_eq!(
        h.take(),
        lines(&["@10 query HTTPS b.example", "@30 start 6a/tcp"])
    );
}

/// A12: attempts to "." endpoints start while another TargetName is still being resolved;
/// its addresses join their own priority group later.
#[test]
fn a12_several_service_names() {
    let mut h = H::with_https(config());
    h.take();
    h.https(30, vec![dot(), ServiceRecord::service(2, "alt.example.")]);
    h.dns(30, Aaaa, &["6a"]);
    h.dns(30, A, &["4a"]);
    assert_eq!(
        h.take(),
        lines(&[
            "@30 query AAAA alt.example",
            "@30 query A alt.example",
            "@30 start 6a/tcp alpn="
        ])
    );
    h.dns_for(60, "alt.example", Aaaa, &["6z"]);
    h.run_until(1000);
    assert_eq!(
        h.take(),
        lines(&["@280 start 4a/tcp alpn=", "@530 start 6z/tcp alpn="])
    );
}

/// A13: CNAME chains are the resolver's business: whatever terminal addresses it returns are
/// a positive answer; a chain with no terminal data is an empty (negative) answer.
#[test]
fn a13_ambiguity6_cname_answers() {
    let mut h = H::host(config());
    h.take();
    h.dns(30, Aaaa, &["6a"]);
    assert_eq!(h.take(), lines(&["@30 start 6a/tcp"]));
    let mut h = H::host(config());
    h.take();
    h.dns(30, A, &["4a"]);
    h.dns(30, Aaaa, &[]);
    assert_eq!(h.take(), lines(&["@30 start 4a/tcp"]));
}

/// A15 / C14: an answer that changes (re-query after TTL expiry) never cancels a running
/// attempt; an endpoint that disappeared before it started is dropped; a new one is added.
#[test]
fn a15_changed_answer_keeps_running_attempts() {
    let mut c = config();
    c.connection_attempt_delay = dur(2000);
    let mut h = H::host(c);
    h.take();
    h.dns(0, Aaaa, &["6a", "6b"]);
    assert_eq!(h.take(), lines(&["@0 start 6a/tcp"]));
    h.dns(1000, Aaaa, &["6c"]);
    h.run_until(5000);
    assert_eq!(h.take(), lines(&["@2000 start 6c/tcp"]));
    assert!(
        h.race
            .attempts()
            .iter()
            .all(|a| a.state == eyeballs::AttemptState::InFlight)
    );
}

/// A15: a transient error after a positive answer keeps the addresses.
#[test]
fn a15_transient_error_keeps_addresses() {
    let mut h = H::host(config());
    h.take();
    h.dns(0, Aaaa, &["6a", "6b"]);
    h.dns_err(100, Aaaa, DnsError::ServFail);
    h.run_until(300);
    assert_eq!(h.take(), lines(&["@0 start 6a/tcp", "@250 start 6b/tcp"]));
}

/// A16: after the race is won, outstanding queries are cancelled and later answers are
/// refused; nothing starts after the outcome.
#[test]
fn a16_answers_after_success_are_refused() {
    let mut h = H::host(config());
    h.take();
    h.dns(30, Aaaa, &["6a"]);
    h.ok(100, "6a");
    assert_eq!(
        h.take(),
        lines(&[
            "@30 start 6a/tcp",
            "@100 cancel-queries",
            "@100 finished Connected(AttemptId(0))"
        ])
    );
    let id = h.query_id(HOST, A);
    assert_eq!(
        h.race
            .handle_dns(ms(600), id, DnsAnswer::Addresses(vec![ip("4a")])),
        Err(InputError::Finished)
    );
    assert_eq!(h.race.poll_action(), None);
}

/// HEv3 §4.2: a query for HTTPS is asked only when the race asks for service records.
#[test]
fn https_not_queried_by_default() {
    let h = H::host(config());
    assert!(!h.queries.iter().any(|q| q.2 == Https));
}
