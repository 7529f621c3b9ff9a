//! `eyeballs demo`, the README's first command.

use std::time::Duration;

use eyeballs_lab::precondition::require;

use crate::support::*;

/// How long a demo may take before the test kills it: generous, it only stops a hung demo
/// hanging CI.
const DEMO_LIMIT: Duration = Duration::from_secs(30);

#[test]
fn demo_races_both_methods_on_the_lab_and_ends() {
    let svg = Scratch::new("demo.svg");
    // The demo takes about 4 s.
    let out = eyeballs_within(&["demo", "--svg", svg.arg()], DEMO_LIMIT, "a hung demo");
    let (text, err) = (stdout(&out), stderr(&out));
    if !eyeballs_lab::has_ipv6_loopback() {
        // It says why it cannot run, and what to do.
        assert_eq!(out.status.code(), Some(1), "{text}\n{err}");
        assert!(
            err.contains("IPv6 loopback") && err.contains("simulate"),
            "{err}"
        );
        // The error path is checked; the demo itself could not run: that is a failure
        // unless explicitly opted out.
        require(
            "demo_races_both_methods_on_the_lab_and_ends",
            eyeballs_lab::ipv6_loopback(),
        );
        return;
    }
    assert_eq!(out.status.code(), Some(0), "{text}\n{err}");
    // The lab, both methods with their charts, and a verdict for each.
    assert!(
        text.contains("a listener whose accept queue is full"),
        "{text}"
    );
    assert!(
        text.contains("\neyeballs: Happy Eyeballs (RFC 8305)"),
        "{text}"
    );
    assert!(
        text.contains("\nsequential: each address in turn"),
        "{text}"
    );
    assert!(
        text.contains("\neyeballs again, with the history"),
        "{text}"
    );
    assert_eq!(text.matches("<== WINNER").count(), 3, "{text}");
    // The verdicts come last (the charts' titles start alike).
    let verdict = |name: &str| {
        text.lines()
            .rev()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} line in\n{text}"))
            .to_string()
    };
    assert!(
        verdict("eyeballs: ").contains(" connected over IPv4 in "),
        "{text}"
    );
    let sequential = verdict("sequential: ");
    assert!(sequential.contains(" connected over IPv4 in "), "{text}");
    assert!(
        sequential.contains("the IPv6 attempt failed after "),
        "{text}"
    );
    assert!(
        verdict("eyeballs again: ").contains(" connected over IPv4 in "),
        "{text}"
    );
    assert!(text.contains("so IPv4 went first"), "{text}");
    assert!(err.is_empty(), "{err}");
    // The picture has the three races, each with its winner.
    let picture = std::fs::read_to_string(&svg.0).unwrap();
    let doc = roxmltree::Document::parse(&picture).unwrap();
    let count = |class: &str| class_count(&doc, class);
    assert_eq!(count("race"), 3);
    assert_eq!(count("bar connected winner"), 3);
}

/// `eyeballs demo --tls` on the TLS-dead-IPv6 lab: secure racing connects over IPv4 (TLS,
/// the ALPN chosen); TCP-only racing takes the IPv6 connection and TLS hangs on it until
/// the demo's timeout; both drawn, as text and as a picture; it ends.
#[test]
fn demo_tls_races_secure_against_tcp_only_and_ends() {
    let svg = Scratch::new("demo-tls.svg");
    // The demo takes about 3.5 s.
    let args = ["demo", "--tls", "--svg", svg.arg()];
    let out = eyeballs_within(&args, DEMO_LIMIT, "a hung demo");
    let (text, err) = (stdout(&out), stderr(&out));
    if !eyeballs_lab::has_ipv6_loopback() {
        assert_eq!(out.status.code(), Some(1), "{text}\n{err}");
        assert!(
            err.contains("IPv6 loopback") && err.contains("secure/tls-dead-ipv6.json"),
            "{err}"
        );
        require(
            "demo_tls_races_secure_against_tcp_only_and_ends",
            eyeballs_lab::ipv6_loopback(),
        );
        return;
    }
    assert_eq!(out.status.code(), Some(0), "{text}\n{err}");
    assert!(err.is_empty(), "{err}");
    assert!(
        text.contains("accepts TCP, never says a word")
            && text.contains("serves TLS for localhost"),
        "{text}"
    );
    assert!(
        text.contains("\neyeballs --tls: secure racing (HEv3 §6.1)"),
        "{text}"
    );
    assert!(text.contains("\nTCP-only racing, then TLS"), "{text}");
    assert!(
        text.contains("~ transport connected, secure handshake under way"),
        "{text}"
    );
    // One winner: secure racing's. TCP-only racing has none.
    assert_eq!(text.matches("<== WINNER").count(), 1, "{text}");
    let verdict = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} line in\n{text}"))
            .to_string()
    };
    let secure = verdict("secure racing: ");
    assert!(
        secure.contains(" connected over IPv4 in ") && secure.contains(", TLS 1.3, ALPN h2 ("),
        "{text}"
    );
    assert!(
        secure.contains("the IPv6 attempt connected TCP after ")
            && secure.contains("was cancelled after "),
        "{text}"
    );
    let tcp_only = verdict("TCP-only, then TLS: ");
    assert!(
        tcp_only.contains(" failed after ") && tcp_only.contains("no TLS answer within 3000ms"),
        "{text}"
    );
    assert!(
        text.contains("\nSecure racing connected over IPv4 in "),
        "{text}"
    );
    // The picture: the two races, one winner, the TLS handshakes in their own layer.
    let picture = std::fs::read_to_string(&svg.0).unwrap();
    let doc = roxmltree::Document::parse(&picture).unwrap();
    let count = |class: &str| class_count(&doc, class);
    assert_eq!(count("race"), 2);
    assert_eq!(count("bar connected winner"), 1);
    // The heading and both titles whole: none cut to fit the picture's width.
    let texts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .collect();
    assert!(
        texts.contains(&eyeballs_cli::demo::tls::HEADING),
        "{texts:?}"
    );
    for title in ["eyeballs --tls: secure racing", "TCP-only racing, then TLS"] {
        let found = texts.iter().find(|t| t.starts_with(title));
        assert!(
            found.is_some_and(|t| !t.ends_with("...")),
            "{title}: {found:?}"
        );
    }
    // A layer for each attempt whose TCP connected: IPv6 and IPv4 in secure racing, IPv6
    // in TCP-only racing.
    assert_eq!(count("secure"), 3, "{picture}");
    assert_eq!(count("legend-secure"), 1, "{picture}");
}
