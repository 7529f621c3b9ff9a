//! `eyeballs demo`, the README's first command.

use std::process::Command;

use eyeballs_lab::precondition::require;

use crate::support::*;

#[test]
fn demo_races_both_methods_on_the_lab_and_ends() {
    let svg = Scratch::new("demo.svg");
    let mut child = Command::new(env!("CARGO_BIN_EXE_eyeballs"))
        .args(["demo", "--svg", svg.arg()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A generous bound: the demo takes about 4 s; this only stops a hung demo hanging CI.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("eyeballs demo did not finish within 30 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
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
    let count = |class: &str| {
        doc.descendants()
            .filter(|n| n.attribute("class") == Some(class))
            .count()
    };
    assert_eq!(count("race"), 3);
    assert_eq!(count("bar connected winner"), 3);
}
