//! `precondition::require` with the real environment: a test whose IPv6 loopback is missing
//! fails, saying what is missing and how to opt out; with `EYEBALLS_TEST_NO_IPV6=1` it
//! passes without running and says so where it is always seen; any other value fails.
//!
//! The environment cannot be changed inside a test process safely (other tests read it), so
//! each case runs this test binary again as a child, with the environment the case sets,
//! running only [`child_without_ipv6`].

use std::process::{Command, Output};

use eyeballs_lab::precondition::{Missing, NO_IPV6_VAR, Unavailable, require};

/// The test that needs an IPv6 loopback, on a machine that has none (simulated: the fixture
/// is the error an IPv6-less machine gives). Its name is in `NEEDS_IPV6` through the suite
/// test it stands for.
const STANDS_FOR: &str = "broken_ipv6_falls_back_to_ipv4";

#[test]
#[ignore = "run by the tests below in a child process, with the environment each one sets"]
fn child_without_ipv6() {
    let found: Result<(), _> = Err(Unavailable::new(
        Missing::Ipv6Loopback,
        "simulated: binding [::1]:0: Cannot assign requested address",
    ));
    if require(STANDS_FOR, found).is_none() {
        // Opted out: the test returns here without checking anything.
        println!("child returned");
        return;
    }
    unreachable!("require gave a fixture that was missing");
}

/// Runs [`child_without_ipv6`] in a child process with `NO_IPV6_VAR` set to `value` (unset:
/// `None`); returns its output, stdout and stderr together.
fn child(value: Option<&str>) -> (Output, String) {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut command = Command::new(exe);
    command.args([
        "--exact",
        "child_without_ipv6",
        "--ignored",
        "--test-threads=1",
    ]);
    match value {
        Some(v) => command.env(NO_IPV6_VAR, v),
        None => command.env_remove(NO_IPV6_VAR),
    };
    let out = command.output().expect("run the test binary as a child");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

#[test]
fn without_the_variable_a_missing_ipv6_loopback_fails_the_test() {
    for value in [None, Some("0")] {
        let (out, text) = child(value);
        assert!(!out.status.success(), "{value:?}: the test passed:\n{text}");
        assert!(text.contains("1 failed"), "{text}");
        assert!(
            text.contains(&format!(
                "{STANDS_FOR} cannot run: it needs an IPv6 loopback (::1)"
            )),
            "{text}"
        );
        assert!(text.contains("Cannot assign requested address"), "{text}");
        assert!(text.contains("EYEBALLS_TEST_NO_IPV6=1"), "{text}");
        assert!(!text.contains("NOT RUN: "), "{text}");
        assert!(!text.contains("child returned"), "{text}");
    }
}

#[test]
fn with_the_variable_the_test_passes_saying_it_did_not_run() {
    let (out, text) = child(Some("1"));
    assert!(out.status.success(), "{text}");
    // Printed past the harness's capture (no --nocapture here), so it is seen.
    assert!(
        text.contains(&format!(
            "NOT RUN: {STANDS_FOR}: this machine has no IPv6 loopback (simulated:"
        )),
        "{text}"
    );
    assert!(
        text.contains("EYEBALLS_TEST_NO_IPV6=1 lets it through"),
        "{text}"
    );
    // The test returned at once (its captured output is not shown for a pass).
    assert!(text.contains("1 passed"), "{text}");
}

#[test]
fn a_mistyped_variable_fails_the_test() {
    let (out, text) = child(Some("yes"));
    assert!(!out.status.success(), "the test passed:\n{text}");
    assert!(
        text.contains("EYEBALLS_TEST_NO_IPV6=\"yes\" is neither 1"),
        "{text}"
    );
}
