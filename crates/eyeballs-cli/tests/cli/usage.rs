//! Bad usage (exit code 2, a message naming the problem) and the help of every command.

use crate::support::*;

#[test]
fn unknown_flag_is_bad_usage() {
    let file = scenarios().join("spec/all-refused.json");
    let err = fails_with_usage(&["simulate", file.to_str().unwrap(), "--frobnicate"]);
    assert!(err.contains("--frobnicate"), "{err}");
}

#[test]
fn missing_arguments_are_bad_usage() {
    // No command at all: the usage, with the commands, on stderr.
    let out = eyeballs(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("Usage: eyeballs <COMMAND>"));
    assert!(stderr(&out).contains("simulate"));
    let err = fails_with_usage(&["simulate"]);
    assert!(err.contains("FILE"), "{err}");
    let err = fails_with_usage(&["simulate", "x.json", "--svg"]);
    assert!(err.contains("--svg"), "{err}");
    let err = fails_with_usage(&["frobnicate"]);
    assert!(err.contains("frobnicate"), "{err}");
}

#[test]
fn help_explains_the_commands() {
    let out = eyeballs(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    for command in ["simulate", "connect", "demo"] {
        assert!(stdout(&out).contains(command), "{}", stdout(&out));
    }
    let out = eyeballs(&["connect", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = stdout(&out);
    for want in [
        "TARGET",
        "[::1]:8080,127.0.0.1:8080",
        "--delay",
        "--resolution-delay",
        "--family-count",
        "--prefer",
        "-4",
        "-6",
        "--timeout",
        "--attempt-timeout",
        "--max-attempts",
        "--local-addr",
        "--json",
        "--svg",
        "--history",
        "--network",
        "RFC 8305 §5",
        "Exit status",
        "--tls",
        "--ca-file",
        "--alpn",
        "--server-name",
        "--handshake-timeout",
        "HEv3 §6.1",
    ] {
        assert!(help.contains(want), "{want} missing from\n{help}");
    }
    let out = eyeballs(&["demo", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = stdout(&out);
    for want in [
        "[::1]",
        "127.0.0.1",
        "sequential",
        "--svg",
        "Exit status",
        "--tls",
        "TCP-only racing",
    ] {
        assert!(help.contains(want), "{want} missing from\n{help}");
    }
    let out = eyeballs(&["simulate", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = stdout(&out);
    for want in [
        "--svg",
        "--json",
        "FILE",
        "Gantt",
        "crates/eyeballs-sim/scenarios",
    ] {
        assert!(help.contains(want), "{want} missing from\n{help}");
    }
}
