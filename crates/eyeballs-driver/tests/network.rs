//! The network id and a history following it, on a real kernel: each test makes a network
//! namespace of its own with two uplinks (veth pairs `a0`/`a1` and `b0`/`b1`, an IPv4
//! subnet and an IPv6 /64 each), sets default routes, changes them under the reader, and
//! deletes the namespace when it ends, pass or fail. Nothing outside the namespace is
//! touched.
//!
//! The reading happens inside the namespace: each test runs its own test binary there
//! (`ip netns exec NS <this binary> --exact <the test>`), with [`CHILD`] saying which part
//! to play. Needs Linux, root and iproute2's `ip`; without them the tests fail saying so,
//! unless `EYEBALLS_TEST_NO_NETNS=1` (`eyeballs_lab::precondition`).

#![cfg(target_os = "linux")]

use std::net::SocketAddr;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use eyeballs::Target;
use eyeballs_driver::network::{self, DESCRIPTION_VERSION};
use eyeballs_driver::{HistoryConfig, NetworkId, Request, Session, Settings, SharedHistory};
use eyeballs_lab::precondition::{Missing, Unavailable, require};

/// Set in the environment of the test binary run inside the namespace: the part it plays.
const CHILD: &str = "EYEBALLS_TEST_NETNS_CHILD";

/// What a child prints before what it reports, so that the parent finds it among the test
/// harness's lines.
const REPORT: &str = "eyeballs-netns-report: ";

/// A network namespace of the test's own, deleted when dropped.
struct Namespace {
    name: String,
}

fn run(program: &str, args: &[&str]) -> std::io::Result<Output> {
    Command::new(program).args(args).output()
}

fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

impl Namespace {
    /// A new namespace with the two uplinks, IPv4 and IPv6 default routes through `a0`;
    /// what the machine lacks to make one, if it does.
    fn new() -> Result<Namespace, Unavailable> {
        static MADE: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "eyeballs-test-{}-{}",
            std::process::id(),
            MADE.fetch_add(1, Ordering::Relaxed)
        );
        let missing = |detail: String| Unavailable::new(Missing::NetworkNamespace, detail);
        let out = run("ip", &["netns", "add", &name]).map_err(|e| {
            missing(format!(
                "cannot run `ip` (iproute2; is it installed and on PATH?): {e}"
            ))
        })?;
        if !out.status.success() {
            return Err(missing(format!(
                "`ip netns add {name}` failed (not root?): {}",
                said(&out).trim()
            )));
        }
        // From here on the namespace exists: the guard deletes it, whatever happens.
        let ns = Namespace { name };
        for (a, b) in [("a0", "a1"), ("b0", "b1")] {
            let out = ns.try_ip(&["link", "add", a, "type", "veth", "peer", "name", b]);
            if !out.status.success() {
                return Err(missing(format!(
                    "a veth pair cannot be made in it (no veth in this kernel?): {}",
                    said(&out).trim()
                )));
            }
        }
        let out = run("ip", &["netns", "exec", &ns.name, "true"])
            .map_err(|e| missing(format!("cannot run `ip netns exec`: {e}")))?;
        if !out.status.success() {
            return Err(missing(format!(
                "`ip netns exec {} true` failed: {}",
                ns.name,
                said(&out).trim()
            )));
        }
        for link in ["lo", "a0", "a1", "b0", "b1"] {
            ns.ip(&["link", "set", link, "up"]);
        }
        ns.ip(&["addr", "add", "192.0.2.2/24", "dev", "a0"]);
        ns.ip(&["addr", "add", "198.51.100.2/24", "dev", "b0"]);
        // nodad: usable at once, not tentative for a second.
        ns.ip(&["addr", "add", "2001:db8:a::2/64", "dev", "a0", "nodad"]);
        ns.ip(&["addr", "add", "2001:db8:b::2/64", "dev", "b0", "nodad"]);
        ns.ip(&["route", "add", "default", "via", "192.0.2.1"]);
        ns.ip(&["-6", "route", "add", "default", "via", "2001:db8:a::1"]);
        Ok(ns)
    }

    fn try_ip(&self, args: &[&str]) -> Output {
        let mut all = vec!["-n", &self.name];
        all.extend_from_slice(args);
        run("ip", &all).unwrap_or_else(|e| panic!("ip {}: {e}", all.join(" ")))
    }

    /// `ip -n NS ARGS`, which must work.
    fn ip(&self, args: &[&str]) {
        let out = self.try_ip(args);
        assert!(
            out.status.success(),
            "ip -n {} {}: {}",
            self.name,
            args.join(" "),
            said(&out)
        );
    }

    /// Runs `test` in the namespace as `role`; what it reported (its lines that start with
    /// [`REPORT`]). The child must pass.
    fn child(&self, test: &str, role: &str) -> Vec<String> {
        let exe = std::env::current_exe().unwrap();
        let out = Command::new("ip")
            .args(["netns", "exec", &self.name])
            .arg(&exe)
            .args(["--exact", test, "--nocapture", "--test-threads", "1"])
            .env(CHILD, role)
            .output()
            .unwrap();
        let text = said(&out);
        assert!(
            out.status.success(),
            "the child ({role}) in {} failed:\n{text}",
            self.name
        );
        // A filter that matched nothing would pass too: make sure the test ran.
        assert!(
            text.contains("1 passed"),
            "the child did not run {test}:\n{text}"
        );
        // With --nocapture a report can follow the harness's "test NAME ... " on its line.
        text.lines()
            .filter_map(|l| l.find(REPORT).map(|i| l[i + REPORT.len()..].to_string()))
            .collect()
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        match run("ip", &["netns", "del", &self.name]) {
            Ok(out) if out.status.success() => {}
            Ok(out) => eprintln!("ip netns del {}: {}", self.name, said(&out)),
            Err(e) => eprintln!("ip netns del {}: {e}", self.name),
        }
    }
}

/// The child's part in [`the_network_id_follows_the_default_route_in_a_namespace`]: reads
/// the network twice, and reports its id and description.
fn report_the_network() {
    let id = network::current().unwrap();
    let text = network::describe_current().unwrap();
    assert_eq!(network::current().unwrap(), id, "read twice: {text}");
    assert_eq!(network::named(&text), id);
    println!("{REPORT}{}", id.0);
    for line in text.lines() {
        println!("{REPORT}{line}");
    }
}

/// The id a child process reads in `ns`, and the description it reported.
fn id_in(ns: &Namespace) -> (NetworkId, Vec<String>) {
    let mut report = ns.child(
        "the_network_id_follows_the_default_route_in_a_namespace",
        "id",
    );
    assert!(!report.is_empty(), "the child reported nothing");
    let id = report.remove(0).parse().unwrap();
    assert_eq!(report[0], DESCRIPTION_VERSION, "{report:?}");
    (NetworkId(id), report)
}

#[test]
fn the_network_id_follows_the_default_route_in_a_namespace() {
    if let Ok(role) = std::env::var(CHILD) {
        assert_eq!(role, "id");
        return report_the_network();
    }
    let Some(ns) = require(
        "the_network_id_follows_the_default_route_in_a_namespace",
        Namespace::new(),
    ) else {
        return;
    };
    let (a, text) = id_in(&ns);
    assert_eq!(
        text[1..],
        [
            "ipv4 default a0 via 192.0.2.1",
            "ipv6 default a0 via 2001:db8:a::1",
            "ipv6 prefix a0 2001:db8:a::/64",
        ],
        "b0 has no default route: its addresses are not in"
    );
    assert_eq!(id_in(&ns).0, a, "another process, nothing changed");

    // What changes without the network changing.
    ns.ip(&["addr", "add", "2001:db8:a::99/64", "dev", "a0", "nodad"]);
    ns.ip(&["addr", "add", "2001:db8:c::2/64", "dev", "b0", "nodad"]);
    ns.ip(&["route", "add", "203.0.113.0/24", "via", "198.51.100.1"]);
    ns.ip(&["link", "set", "b1", "down"]);
    assert_eq!(
        id_in(&ns).0,
        a,
        "addresses in the prefix, another interface"
    );

    // Another gateway on the same interface.
    ns.ip(&["route", "replace", "default", "via", "192.0.2.3"]);
    let b = id_in(&ns).0;
    assert_ne!(b, a, "another IPv4 gateway");
    // Another interface (IPv4 first, then IPv6 too).
    ns.ip(&["link", "set", "b1", "up"]);
    ns.ip(&[
        "route",
        "replace",
        "default",
        "via",
        "198.51.100.1",
        "dev",
        "b0",
    ]);
    let c = id_in(&ns).0;
    ns.ip(&[
        "-6",
        "route",
        "replace",
        "default",
        "via",
        "2001:db8:b::1",
        "dev",
        "b0",
    ]);
    let (d, text) = id_in(&ns);
    assert_eq!(
        text[1..],
        [
            "ipv4 default b0 via 198.51.100.1",
            "ipv6 default b0 via 2001:db8:b::1",
            "ipv6 prefix b0 2001:db8:b::/64",
            "ipv6 prefix b0 2001:db8:c::/64",
        ]
    );
    let all = [a, b, c, d];
    for (i, x) in all.iter().enumerate() {
        for y in &all[i + 1..] {
            assert_ne!(x, y, "{all:?}");
        }
    }
    // No default route at all: offline.
    ns.ip(&["route", "del", "default"]);
    ns.ip(&["-6", "route", "del", "default"]);
    assert_eq!(id_in(&ns).0, network::named(DESCRIPTION_VERSION));

    // Back to the first network: its id again.
    ns.ip(&["route", "add", "default", "via", "192.0.2.1", "dev", "a0"]);
    ns.ip(&[
        "-6",
        "route",
        "add",
        "default",
        "via",
        "2001:db8:a::1",
        "dev",
        "a0",
    ]);
    assert_eq!(id_in(&ns).0, a);
}

/// `ip ARGS` in the namespace this process is in (a child's).
fn ip_here(args: &[&str]) {
    let out = run("ip", args).unwrap();
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        said(&out)
    );
}

/// Network A: default routes through `a0`; network B: through `b0`.
fn move_to(uplink: &str) {
    let (v4, v6) = match uplink {
        "a0" => ("192.0.2.1", "2001:db8:a::1"),
        _ => ("198.51.100.1", "2001:db8:b::1"),
    };
    ip_here(&["route", "replace", "default", "via", v4, "dev", uplink]);
    ip_here(&[
        "-6", "route", "replace", "default", "via", v6, "dev", uplink,
    ]);
}

fn v6() -> SocketAddr {
    "[2001:db8::1]:443".parse().unwrap()
}

fn v4() -> SocketAddr {
    "192.0.2.80:443".parse().unwrap()
}

fn settings(history: &SharedHistory) -> Settings {
    Settings {
        history: Some(history.clone()),
        ..Settings::default()
    }
}

/// A race at `t0` where IPv6 hangs and IPv4, started 250 ms later, connects: the history
/// learns that IPv6's path is broken (on the network the race started on).
fn learn_that_ipv6_hangs(history: &SharedHistory, t0: Instant) {
    let ms = |n| t0 + Duration::from_millis(n);
    let mut race: Session<(), (), ()> =
        Session::start(&settings(history), Target::addresses([v6(), v4()]), t0).unwrap();
    race.handle_timeout(ms(250));
    while let Some(Request::Attempt(a)) = race.poll_request() {
        if a.addr == v4() {
            race.handle_connected(ms(270), a.id, ());
        }
    }
    assert!(race.is_finished());
}

/// The address a race started at `at` tries first (it is dropped at once: it teaches
/// nothing).
fn first_attempt(history: &SharedHistory, at: Instant) -> SocketAddr {
    let mut race: Session<(), (), ()> =
        Session::start(&settings(history), Target::addresses([v6(), v4()]), at).unwrap();
    match race.poll_request() {
        Some(Request::Attempt(a)) => a.addr,
        other => panic!("the race asked for {other:?}"),
    }
}

/// The child's part in [`a_history_following_the_network_rekeys_itself_in_a_namespace`]:
/// moves between the uplinks itself and races (by hand, at instants it chooses) on
/// histories that follow the network.
fn follow_the_network() {
    move_to("a0");
    let every = Duration::from_secs(30);
    let history = SharedHistory::new(HistoryConfig::default(), NetworkId(0));
    let on_a = history.follow_network(every, true).unwrap();
    assert_eq!(on_a, network::current().unwrap());
    assert_eq!(history.network(), on_a);
    let t0 = Instant::now();
    let at = |s| t0 + Duration::from_secs(s);
    learn_that_ipv6_hangs(&history, t0);
    assert_eq!(first_attempt(&history, at(1)), v4(), "learned on A");
    let learned = history.len();

    move_to("b0");
    let on_b = network::current().unwrap();
    assert_ne!(on_b, on_a);
    assert_eq!(first_attempt(&history, at(2)), v4(), "not checked yet");
    assert_eq!(history.network(), on_a);
    assert_eq!(
        first_attempt(&history, at(31)),
        v6(),
        "on B: A's history is not used"
    );
    assert_eq!(history.network(), on_b);
    assert_eq!(history.len(), learned, "A's entries are kept");

    move_to("a0");
    assert_eq!(
        first_attempt(&history, at(62)),
        v4(),
        "back on A: its history again"
    );
    assert_eq!(history.network(), on_a);
    assert!(history.last_network_error().is_none());

    // Without keep_others, moving drops the other networks.
    let forgetful = SharedHistory::default();
    assert_eq!(
        forgetful.follow_network(Duration::ZERO, false).unwrap(),
        on_a
    );
    learn_that_ipv6_hangs(&forgetful, t0);
    assert_eq!(first_attempt(&forgetful, at(1)), v4());
    move_to("b0");
    assert_eq!(first_attempt(&forgetful, at(2)), v6());
    assert!(forgetful.is_empty());
    move_to("a0");
    assert_eq!(first_attempt(&forgetful, at(3)), v6(), "A was forgotten");
    assert_eq!(forgetful.network(), on_a);
    println!("{REPORT}followed A {} -> B {} -> A", on_a.0, on_b.0);
}

#[test]
fn a_history_following_the_network_rekeys_itself_in_a_namespace() {
    const TEST: &str = "a_history_following_the_network_rekeys_itself_in_a_namespace";
    if let Ok(role) = std::env::var(CHILD) {
        assert_eq!(role, "follow");
        return follow_the_network();
    }
    let Some(ns) = require(TEST, Namespace::new()) else {
        return;
    };
    let report = ns.child(TEST, "follow");
    assert_eq!(report.len(), 1, "{report:?}");
    assert!(report[0].starts_with("followed A "), "{report:?}");
}
