//! What a lab test needs from the machine, and what happens when it is missing.
//!
//! A test that could not run must not report success. Every fixture that can be missing
//! says so with an [`Unavailable`] naming what is [`Missing`]; a test hands that to
//! [`require`], which either gives the test its fixture or ends it:
//!
//! - by default, a missing precondition **fails** the test, with a message that says what
//!   is missing and how to opt out;
//! - a missing IPv6 loopback can be let through explicitly: with
//!   [`NO_IPV6_VAR`]` = 1` (`EYEBALLS_TEST_NO_IPV6=1`) the tests listed in [`NEEDS_IPV6`]
//!   print `NOT RUN ...` (past the test harness's output capture, so it is always seen)
//!   and return without checking anything. The variable changes nothing on a machine that
//!   has an IPv6 loopback: the tests run;
//! - so can a missing network namespace (the tests that build one need root and the `ip`
//!   command on Linux): [`NO_NETNS_VAR`]` = 1` (`EYEBALLS_TEST_NO_NETNS=1`) lets the tests
//!   listed in [`NEEDS_NETNS`] through in the same way;
//! - so can a missing `openssl` command (the interoperability test's TLS server):
//!   [`NO_OPENSSL_VAR`]` = 1` (`EYEBALLS_TEST_NO_OPENSSL=1`) lets the tests listed in
//!   [`NEEDS_OPENSSL`] through; `scripts/test` installs it when it is missing;
//! - so can a missing aioquic (the QUIC interoperability test's server, Python's
//!   `aioquic`): [`NO_AIOQUIC_VAR`]` = 1` (`EYEBALLS_TEST_NO_AIOQUIC=1`) lets the tests
//!   listed in [`NEEDS_AIOQUIC`] through; `scripts/test` installs it when it is missing;
//! - the other preconditions ([`Missing::HangingListener`], [`Missing::FdCount`]) have no
//!   variable: the lab cannot test anything meaningful without them, and the message says
//!   how to leave the test out by name (`cargo test -- --skip NAME`), which the harness
//!   then reports as filtered out, not as passed.
//!
//! ```
//! use eyeballs_lab::precondition::{Missing, NO_IPV6_VAR, Unavailable, verdict};
//!
//! let no_ipv6 = || Err::<(), _>(Unavailable::new(Missing::Ipv6Loopback, "::1 cannot be bound"));
//! // Not opted out: the test fails, and the message says how to opt out.
//! let failure = verdict("broken_ipv6_falls_back_to_ipv4", no_ipv6(), None).unwrap_err();
//! assert!(failure.contains(NO_IPV6_VAR));
//! // Opted out: the test does not run (and says so).
//! assert_eq!(verdict("broken_ipv6_falls_back_to_ipv4", no_ipv6(), Some("1")), Ok(None));
//! // Present: the test runs, whatever the variable says.
//! assert_eq!(verdict("broken_ipv6_falls_back_to_ipv4", Ok(7), Some("1")), Ok(Some(7)));
//! ```

use std::fmt;
use std::io::Write;

/// The environment variable that lets the tests needing an IPv6 loopback pass without
/// running on a machine that has none: set it to `1`. Any other value except `0` is a
/// mistake and fails those tests.
pub const NO_IPV6_VAR: &str = "EYEBALLS_TEST_NO_IPV6";

/// Every test that [`NO_IPV6_VAR`] lets through when the machine has no IPv6 loopback, by
/// its test name (the suite's tests exist once per adapter, under the same name). A test
/// that asks [`require`] to let it through must be listed here (and in the README's
/// "When a test cannot run"), or it fails saying so.
pub const NEEDS_IPV6: &[&str] = &[
    // eyeballs-lab's own tests.
    "broken_ipv6_hangs_and_ipv4_works",
    "same_port_gives_one_port_on_both_families",
    // The suite every adapter runs (eyeballs-lab's `suite`).
    "broken_ipv6_falls_back_to_ipv4",
    "history_starts_the_next_race_with_ipv4",
    "preferred_family_wins_when_both_work",
    // The tokio adapter's secure racing on the TLS-dead-IPv6 lab (`tests/tls.rs`).
    "tls_dead_ipv6_is_left_behind_and_ipv4_wins_after_the_attempt_delay",
    "a_wrong_certificate_over_ipv6_fails_at_once_and_ipv4_wins",
    // The tokio adapter's QUIC racing with IPv6 UDP dropped (`tests/quic.rs`).
    "quic_over_ipv4_wins_when_ipv6_udp_is_dropped",
    // The tokio adapter's reqwest resolver, under a reqwest client (`tests/reqwest.rs`).
    "a_reqwest_client_with_the_resolver_fetches_by_name",
    "a_reqwest_client_with_ipv6_marked_broken_fetches_over_ipv4",
    // The `eyeballs` command's tests.
    "connect_races_an_address_list_on_the_broken_ipv6_lab",
    "connect_history_twice_starts_with_ipv4_the_second_time",
    "demo_races_both_methods_on_the_lab_and_ends",
    "the_demo_connects_three_times_and_leaves_nothing_behind",
    "connect_tls_leaves_a_tls_dead_ipv6_path_and_ipv4_wins",
    "demo_tls_races_secure_against_tcp_only_and_ends",
    "the_tls_demo_wins_over_ipv4_with_secure_racing_and_leaves_nothing_behind",
    "connect_quic_leaves_a_udp_dropping_ipv6_path_and_ipv4_quic_wins",
    "connect_quic_reaches_aioquic_over_ipv4_while_ipv6_udp_is_dropped",
    // The end-to-end tests (`eyeballs-e2e`).
    "races_dropped_anywhere_close_everything",
    "ten_thousand_races_in_flight_then_every_socket_is_closed",
];

/// The environment variable that lets the tests needing a network namespace of their own
/// pass without running on a machine that cannot give them one (not Linux, not root, no
/// `ip` command): set it to `1`. Any other value except `0` is a mistake and fails those
/// tests.
pub const NO_NETNS_VAR: &str = "EYEBALLS_TEST_NO_NETNS";

/// Every test that [`NO_NETNS_VAR`] lets through when the machine cannot give it a network
/// namespace, by its test name. Listed here and in the README's "When a test cannot run",
/// as for [`NEEDS_IPV6`].
pub const NEEDS_NETNS: &[&str] = &[
    // The driver's `tests/network.rs`.
    "the_network_id_follows_the_default_route_in_a_namespace",
    "a_history_following_the_network_rekeys_itself_in_a_namespace",
];

/// The environment variable that lets the tests needing the `openssl` command (a TLS server
/// that is not rustls, `openssl s_server`) pass without running on a machine that has none:
/// set it to `1`. Any other value except `0` is a mistake and fails those tests.
/// `scripts/test` installs `openssl` when it is missing, so CI never needs it.
pub const NO_OPENSSL_VAR: &str = "EYEBALLS_TEST_NO_OPENSSL";

/// Every test that [`NO_OPENSSL_VAR`] lets through when the machine has no `openssl`
/// command, by its test name. Listed here and in the README's "When a test cannot run", as
/// for [`NEEDS_IPV6`].
pub const NEEDS_OPENSSL: &[&str] = &[
    // The tokio adapter's secure racing against `openssl s_server` (`tests/tls.rs`).
    "a_secure_race_interoperates_with_openssl_s_server",
];

/// The environment variable that lets the tests needing aioquic (a QUIC server that is not
/// quinn, Python's `aioquic` package) pass without running on a machine that has none: set
/// it to `1`. Any other value except `0` is a mistake and fails those tests. `scripts/test`
/// installs aioquic when it is missing (a virtual environment in `target/py`), so CI never
/// needs it. Where the tests look for it: `eyeballs_lab::quic::aioquic_python` (feature
/// `quic`).
pub const NO_AIOQUIC_VAR: &str = "EYEBALLS_TEST_NO_AIOQUIC";

/// Every test that [`NO_AIOQUIC_VAR`] lets through when the machine has no aioquic, by its
/// test name. Listed here and in the README's "When a test cannot run", as for
/// [`NEEDS_IPV6`].
pub const NEEDS_AIOQUIC: &[&str] = &[
    // The tokio adapter's QUIC racing against aioquic's server (`tests/quic.rs`).
    "a_quic_race_interoperates_with_aioquic",
    // The `eyeballs` command's `--quic` against aioquic (`tests/cli/quic.rs`).
    "connect_quic_reaches_aioquic_over_ipv4_while_ipv6_udp_is_dropped",
];

/// What the machine lacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    /// `::1` cannot be bound (IPv6 is disabled, or the loopback has no IPv6 address).
    Ipv6Loopback,
    /// A listener whose accept queue is full does not make connects to it hang (the system
    /// answers or refuses instead of dropping the SYN), so the lab cannot blackhole a path.
    HangingListener,
    /// This process's open file descriptors cannot be counted (`/proc/self/fd`).
    FdCount,
    /// The test cannot make a network namespace of its own and run in it (`ip netns add`,
    /// `ip netns exec`: Linux, root, iproute2's `ip`).
    NetworkNamespace,
    /// The `openssl` command (OpenSSL's `s_server`, a TLS server that is not rustls) cannot
    /// be run.
    OpensslCommand,
    /// No Python that can import `aioquic` (a QUIC server that is not quinn) is found.
    AioquicServer,
}

/// How a missing thing can be let through: its variable, the tests it lets through (and
/// the list's name), what would provide it, and what it is, said short.
struct OptOut {
    var: &'static str,
    tests: &'static [&'static str],
    list: &'static str,
    fix: &'static str,
    short: &'static str,
}

impl Missing {
    /// Its opt-out, for the missing things that have one.
    fn opt_out(self) -> Option<OptOut> {
        match self {
            Missing::Ipv6Loopback => Some(OptOut {
                var: NO_IPV6_VAR,
                tests: NEEDS_IPV6,
                list: "NEEDS_IPV6",
                fix: "Enable IPv6 on the loopback (Linux: sysctl -w \
                      net.ipv6.conf.lo.disable_ipv6=0; a container: start it with IPv6 enabled)",
                short: "an IPv6 loopback",
            }),
            Missing::NetworkNamespace => Some(OptOut {
                var: NO_NETNS_VAR,
                tests: NEEDS_NETNS,
                list: "NEEDS_NETNS",
                fix: "Run the tests as root on Linux with iproute2's `ip` installed (a \
                      container: give it CAP_SYS_ADMIN and CAP_NET_ADMIN, e.g. docker run \
                      --privileged)",
                short: "a network namespace",
            }),
            Missing::OpensslCommand => Some(OptOut {
                var: NO_OPENSSL_VAR,
                tests: NEEDS_OPENSSL,
                list: "NEEDS_OPENSSL",
                fix: "Install OpenSSL's command (Debian: apt-get install openssl; \
                      scripts/test does so by itself)",
                short: "the openssl command",
            }),
            Missing::AioquicServer => Some(OptOut {
                var: NO_AIOQUIC_VAR,
                tests: NEEDS_AIOQUIC,
                list: "NEEDS_AIOQUIC",
                fix: "Install aioquic for Python 3 where the tests look for it (python3 -m \
                      venv target/py && target/py/bin/pip install aioquic, in the workspace; \
                      scripts/test does so by itself), or name a Python that has it with \
                      EYEBALLS_TEST_AIOQUIC_PYTHON=/path/to/python",
                short: "aioquic",
            }),
            Missing::HangingListener | Missing::FdCount => None,
        }
    }
}

impl Missing {
    /// What it is, for messages.
    pub fn what(self) -> &'static str {
        match self {
            Missing::Ipv6Loopback => "an IPv6 loopback (::1)",
            Missing::HangingListener => {
                "a listener whose connects hang (the system must drop SYNs to a listener whose \
                 accept queue is full, as Linux and the BSDs do)"
            }
            Missing::FdCount => "a count of this process's open file descriptors (/proc/self/fd)",
            Missing::NetworkNamespace => {
                "a network namespace of its own (Linux, root, and iproute2's `ip`: ip netns \
                 add, ip netns exec)"
            }
            Missing::OpensslCommand => {
                "the openssl command (OpenSSL's s_server: a TLS server that is not rustls)"
            }
            Missing::AioquicServer => {
                "a Python with aioquic (its QUIC server: a QUIC server that is not quinn)"
            }
        }
    }
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.what())
    }
}

/// Why a lab fixture cannot be built on this machine: what is [`Missing`], and the details.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unavailable {
    missing: Missing,
    detail: String,
}

impl Unavailable {
    /// `missing`, with what was seen (an OS error, what was tried).
    pub fn new(missing: Missing, detail: impl Into<String>) -> Unavailable {
        Unavailable {
            missing,
            detail: detail.into(),
        }
    }

    /// What is missing.
    pub fn missing(&self) -> Missing {
        self.missing
    }

    /// What was seen.
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.missing {
            Missing::Ipv6Loopback => write!(f, "this machine has no IPv6 loopback"),
            Missing::HangingListener => write!(f, "the lab cannot build a hanging listener"),
            Missing::FdCount => write!(f, "this process's file descriptors cannot be counted"),
            Missing::NetworkNamespace => {
                write!(f, "this machine cannot give the test a network namespace")
            }
            Missing::OpensslCommand => write!(f, "the openssl command cannot be run"),
            Missing::AioquicServer => write!(f, "no Python that can import aioquic is found"),
        }?;
        if !self.detail.is_empty() {
            write!(f, " ({})", self.detail)?;
        }
        Ok(())
    }
}

impl std::error::Error for Unavailable {}

/// Decides whether `test` runs, given what its fixture came to (`found`) and the value of
/// the missing thing's variable ([`NO_IPV6_VAR`] for an IPv6 loopback, [`NO_NETNS_VAR`]
/// for a network namespace, [`NO_OPENSSL_VAR`] for the `openssl` command,
/// [`NO_AIOQUIC_VAR`] for aioquic; `opt_out`,
/// `None` when unset): `Ok(Some(fixture))` runs it,
/// `Ok(None)` lets it through without running (opted out), `Err(message)` fails it with
/// `message`. [`require`] is this with the real environment.
pub fn verdict<T>(
    test: &str,
    found: Result<T, Unavailable>,
    opt_out: Option<&str>,
) -> Result<Option<T>, String> {
    let why = match found {
        Ok(fixture) => return Ok(Some(fixture)),
        Err(why) => why,
    };
    let missing = why.missing();
    let cannot = format!("{test} cannot run: it needs {missing}, and {why}");
    let Some(OptOut {
        var,
        tests,
        list,
        fix,
        short,
    }) = missing.opt_out()
    else {
        return Err(format!(
            "{cannot}.\nThere is no variable to let it through: to run the other tests \
             without it, leave it out by name: cargo test -- --skip {test}"
        ));
    };
    if !tests.contains(&test) {
        return Err(format!(
            "{cannot}.\n{test} is not in eyeballs_lab::precondition::{list}, so {var} does \
             not let it through: add it there and to the README's \"When a test cannot run\""
        ));
    }
    match opt_out.map(str::trim) {
        Some("1") => Ok(None),
        None | Some("0") => Err(format!(
            "{cannot}.\n{fix}, or set {var}=1 to let the tests that need it pass without \
             running (each prints NOT RUN): {}",
            tests.join(", ")
        )),
        Some(other) => Err(format!(
            "{cannot}.\n{var}={other:?} is neither 1 (let the tests that need {short} \
             through) nor 0"
        )),
    }
}

/// The fixture `test` needs, or the end of the test: `found` is what building it gave.
///
/// - `Ok(fixture)`: `Some(fixture)`, the test runs.
/// - A missing IPv6 loopback with [`NO_IPV6_VAR`]` = 1` (and `test` listed in
///   [`NEEDS_IPV6`]), or a missing network namespace with [`NO_NETNS_VAR`]` = 1` (and
///   `test` listed in [`NEEDS_NETNS`]): prints `NOT RUN: ...` to the process's standard
///   error, past the test harness's capture, and returns `None`: return from the test at
///   once.
/// - Otherwise panics (fails the test) with a message that says what is missing and how to
///   opt out. See [`verdict`] for the decision itself.
///
/// ```no_run
/// use eyeballs_lab::BrokenIpv6;
/// use eyeballs_lab::precondition::require;
///
/// // In a test named `broken_ipv6_falls_back_to_ipv4`:
/// let Some(lab) = require("broken_ipv6_falls_back_to_ipv4", BrokenIpv6::new()) else {
///     return;
/// };
/// # drop(lab);
/// ```
#[track_caller]
pub fn require<T>(test: &str, found: Result<T, Unavailable>) -> Option<T> {
    // The missing thing's variable, if it has one.
    let var = found
        .as_ref()
        .err()
        .and_then(|why| why.missing().opt_out())
        .map(|o| o.var);
    let opt_out = var
        .and_then(std::env::var_os)
        .map(|v| v.to_string_lossy().into_owned());
    let reason = found.as_ref().err().map(ToString::to_string);
    match verdict(test, found, opt_out.as_deref()) {
        Ok(Some(fixture)) => Some(fixture),
        Ok(None) => {
            // Straight to the process's stderr: the harness shows a passing test's captured
            // output to nobody, and this must be seen.
            let _ = writeln!(
                std::io::stderr(),
                "NOT RUN: {test}: {} ({}=1 lets it through; it checked nothing)",
                reason.unwrap_or_default(),
                var.unwrap_or_default()
            );
            None
        }
        Err(message) => panic!("{message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTED: &str = "broken_ipv6_falls_back_to_ipv4";

    fn no_ipv6() -> Result<u8, Unavailable> {
        Err(Unavailable::new(Missing::Ipv6Loopback, "::1: not bound"))
    }

    #[test]
    fn a_present_fixture_runs_the_test_whatever_the_variable_says() {
        for opt_out in [None, Some("1"), Some("0"), Some("junk")] {
            assert_eq!(
                verdict("anything", Ok(3), opt_out),
                Ok(Some(3)),
                "{opt_out:?}"
            );
        }
    }

    #[test]
    fn a_missing_ipv6_loopback_fails_unless_opted_out_with_1() {
        for opt_out in [None, Some("0"), Some(" 0\n")] {
            let message = verdict(LISTED, no_ipv6(), opt_out).unwrap_err();
            assert!(
                message.starts_with(&format!("{LISTED} cannot run")),
                "{message}"
            );
            assert!(message.contains("an IPv6 loopback (::1)"), "{message}");
            assert!(message.contains("::1: not bound"), "{message}");
            assert!(message.contains("EYEBALLS_TEST_NO_IPV6=1"), "{message}");
            // It names every test the variable lets through.
            for name in NEEDS_IPV6 {
                assert!(message.contains(name), "{name} missing from: {message}");
            }
        }
        assert_eq!(verdict(LISTED, no_ipv6(), Some("1")), Ok(None));
        assert_eq!(verdict(LISTED, no_ipv6(), Some(" 1\n")), Ok(None));
    }

    #[test]
    fn a_mistyped_variable_fails_naming_its_value() {
        for value in ["yes", "true", "", "2"] {
            let message = verdict(LISTED, no_ipv6(), Some(value)).unwrap_err();
            assert!(
                message.contains(&format!("EYEBALLS_TEST_NO_IPV6={value:?} is neither 1")),
                "{message}"
            );
        }
    }

    #[test]
    fn the_variable_lets_through_only_listed_tests() {
        let message = verdict("some_new_test", no_ipv6(), Some("1")).unwrap_err();
        assert!(
            message.contains("not in eyeballs_lab::precondition::NEEDS_IPV6"),
            "{message}"
        );
    }

    #[test]
    fn other_missing_things_fail_even_with_the_variable_and_say_how_to_skip() {
        for missing in [Missing::HangingListener, Missing::FdCount] {
            let found: Result<u8, _> = Err(Unavailable::new(missing, "seen"));
            let message = verdict(LISTED, found, Some("1")).unwrap_err();
            assert!(message.contains(missing.what()), "{message}");
            assert!(message.contains("There is no variable"), "{message}");
            assert!(message.contains(&format!("--skip {LISTED}")), "{message}");
        }
    }

    #[test]
    fn a_missing_network_namespace_has_its_own_variable() {
        let listed = NEEDS_NETNS[0];
        let no_netns = || -> Result<u8, Unavailable> {
            Err(Unavailable::new(
                Missing::NetworkNamespace,
                "ip netns add: Operation not permitted",
            ))
        };
        for opt_out in [None, Some("0")] {
            let message = verdict(listed, no_netns(), opt_out).unwrap_err();
            assert!(
                message.contains("a network namespace of its own"),
                "{message}"
            );
            assert!(message.contains("Operation not permitted"), "{message}");
            assert!(message.contains("EYEBALLS_TEST_NO_NETNS=1"), "{message}");
            assert!(!message.contains(NO_IPV6_VAR), "{message}");
            for name in NEEDS_NETNS {
                assert!(message.contains(name), "{name} missing from: {message}");
            }
        }
        assert_eq!(verdict(listed, no_netns(), Some("1")), Ok(None));
        let message = verdict(listed, no_netns(), Some("yes")).unwrap_err();
        assert!(
            message.contains("EYEBALLS_TEST_NO_NETNS=\"yes\" is neither 1"),
            "{message}"
        );
        // Each variable lets through its own tests only.
        let message = verdict(LISTED, no_netns(), Some("1")).unwrap_err();
        assert!(
            message.contains("not in eyeballs_lab::precondition::NEEDS_NETNS"),
            "{message}"
        );
        let message = verdict(listed, no_ipv6(), Some("1")).unwrap_err();
        assert!(
            message.contains("not in eyeballs_lab::precondition::NEEDS_IPV6"),
            "{message}"
        );
    }

    #[test]
    fn a_missing_openssl_command_has_its_own_variable() {
        let listed = NEEDS_OPENSSL[0];
        let none = || -> Result<u8, Unavailable> {
            Err(Unavailable::new(
                Missing::OpensslCommand,
                "openssl: not found",
            ))
        };
        let message = verdict(listed, none(), None).unwrap_err();
        assert!(message.contains("the openssl command"), "{message}");
        assert!(message.contains("apt-get install openssl"), "{message}");
        assert!(message.contains("EYEBALLS_TEST_NO_OPENSSL=1"), "{message}");
        assert_eq!(verdict(listed, none(), Some("1")), Ok(None));
        let message = verdict(LISTED, none(), Some("1")).unwrap_err();
        assert!(
            message.contains("not in eyeballs_lab::precondition::NEEDS_OPENSSL"),
            "{message}"
        );
    }

    #[test]
    fn a_missing_aioquic_has_its_own_variable() {
        let listed = NEEDS_AIOQUIC[0];
        let none = || -> Result<u8, Unavailable> {
            Err(Unavailable::new(
                Missing::AioquicServer,
                "python3: ModuleNotFoundError: No module named 'aioquic'",
            ))
        };
        let message = verdict(listed, none(), None).unwrap_err();
        assert!(message.contains("a Python with aioquic"), "{message}");
        assert!(message.contains("No module named 'aioquic'"), "{message}");
        assert!(message.contains("pip install aioquic"), "{message}");
        assert!(
            message.contains("EYEBALLS_TEST_AIOQUIC_PYTHON"),
            "{message}"
        );
        assert!(message.contains("EYEBALLS_TEST_NO_AIOQUIC=1"), "{message}");
        assert_eq!(verdict(listed, none(), Some("1")), Ok(None));
        let message = verdict(LISTED, none(), Some("1")).unwrap_err();
        assert!(
            message.contains("not in eyeballs_lab::precondition::NEEDS_AIOQUIC"),
            "{message}"
        );
    }

    #[test]
    fn require_runs_a_present_fixture() {
        assert_eq!(require("anything", Ok::<_, Unavailable>(5)), Some(5));
    }

    #[test]
    fn unavailable_says_what_and_why() {
        let why = Unavailable::new(Missing::FdCount, "/proc/self/fd: No such file");
        assert_eq!(why.missing(), Missing::FdCount);
        assert_eq!(
            why.to_string(),
            "this process's file descriptors cannot be counted (/proc/self/fd: No such file)"
        );
        assert_eq!(
            Unavailable::new(Missing::Ipv6Loopback, "").to_string(),
            "this machine has no IPv6 loopback"
        );
    }

    /// The README's section names every test the variables let through.
    #[test]
    fn the_readme_lists_every_test_the_variable_lets_through() {
        let readme = include_str!("../../../README.md");
        let section = readme
            .split("### When a test cannot run")
            .nth(1)
            .expect("the README has a \"When a test cannot run\" section");
        let section = section.split("\n## ").next().unwrap_or(section);
        assert!(section.contains(NO_IPV6_VAR));
        assert!(section.contains(NO_NETNS_VAR));
        assert!(section.contains(NO_OPENSSL_VAR));
        assert!(section.contains(NO_AIOQUIC_VAR));
        for name in NEEDS_IPV6
            .iter()
            .chain(NEEDS_NETNS)
            .chain(NEEDS_OPENSSL)
            .chain(NEEDS_AIOQUIC)
        {
            assert!(
                section.contains(name),
                "{name} is not in the README's section"
            );
        }
    }
}
