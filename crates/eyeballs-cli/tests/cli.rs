//! The `eyeballs` binary run as a subprocess: `simulate` on every shared example (text,
//! `--json`, `--svg`), and bad usage / bad input (exit code 2 and a message naming the
//! problem).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn eyeballs(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eyeballs"))
        .args(args)
        .output()
        .expect("the eyeballs binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("stderr is UTF-8")
}

/// The scenarios that come with the simulator (`spec/` inside: the format's examples).
fn scenarios() -> PathBuf {
    eyeballs_sim::scenarios::dir()
}

/// The scenario files (not their expected outputs) in `dir`, sorted.
fn scenario_files(dir: &Path) -> Vec<PathBuf> {
    eyeballs_sim::scenarios::files(dir).unwrap()
}

fn expected(file: &Path) -> serde_json::Value {
    let path = eyeballs_sim::scenarios::expected_path(file);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A file in this test target's scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("eyeballs-cli-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        Scratch(path)
    }

    fn arg(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The chart's attempt rows: lines starting with `#<id> `.
fn chart_rows(text: &str) -> Vec<&str> {
    text.lines()
        .take_while(|l| !l.starts_with("events"))
        .filter(|l| l.starts_with('#'))
        .collect()
}

#[test]
fn simulate_draws_each_spec_example() {
    let files = scenario_files(&scenarios().join("spec"));
    assert_eq!(files.len(), 3);
    for file in files {
        let out = eyeballs(&["simulate", file.to_str().unwrap()]);
        let text = stdout(&out);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            file.display(),
            stderr(&out)
        );
        let want = expected(&file);
        // The title, then one chart row per attempt, each with its address.
        assert!(
            text.starts_with(want["name"].as_str().unwrap()),
            "{}\n{text}",
            file.display()
        );
        let attempts: Vec<&serde_json::Value> = want["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["event"] == "attempt")
            .collect();
        let rows = chart_rows(&text);
        assert_eq!(rows.len(), attempts.len(), "{text}");
        for (row, a) in rows.iter().zip(&attempts) {
            let ip = a["addr"].as_str().unwrap();
            assert!(row.starts_with(&format!("#{} tcp ", a["id"])), "{row}");
            assert!(row.contains(ip), "{row} lacks {ip}");
        }
        // The winner is marked on its own row, and only there.
        let outcome = &want["outcome"];
        let winners: Vec<&&str> = rows.iter().filter(|r| r.contains("WINNER")).collect();
        if outcome["result"] == "connected" {
            assert_eq!(winners.len(), 1, "{text}");
            assert!(winners[0].starts_with(&format!("#{} ", outcome["id"])));
        } else {
            assert!(winners.is_empty(), "{text}");
        }
        // An axis in ms, a legend, the chart within 100 columns, and the event list after.
        assert!(text.contains("0ms"), "{text}");
        assert!(text.contains("legend: "), "{text}");
        let chart = text.split("events (virtual time):").next().unwrap();
        assert!(chart.lines().all(|l| l.chars().count() <= 100), "{text}");
        assert!(text.contains("events (virtual time):\n"), "{text}");
        assert!(text.contains("outcome: "), "{text}");
    }
}

#[test]
fn simulate_json_is_the_expected_output() {
    for dir in [scenarios().join("spec"), scenarios()] {
        for file in scenario_files(&dir) {
            let out = eyeballs(&["simulate", file.to_str().unwrap(), "--json"]);
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            let got: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
            assert_eq!(got, expected(&file), "{}", file.display());
        }
    }
}

#[test]
fn simulate_svg_writes_a_picture_an_xml_parser_accepts() {
    for dir in [scenarios().join("spec"), scenarios()] {
        for file in scenario_files(&dir) {
            let svg = Scratch::new("chart.svg");
            let out = eyeballs(&["simulate", file.to_str().unwrap(), "--svg", svg.arg()]);
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            // The text view is still printed.
            assert!(stdout(&out).contains("legend: "));
            let picture = std::fs::read_to_string(&svg.0).unwrap();
            let doc = roxmltree::Document::parse(&picture)
                .unwrap_or_else(|e| panic!("{}: {e}\n{picture}", file.display()));
            assert_eq!(doc.root_element().tag_name().name(), "svg");
            let want = expected(&file);
            let attempts = want["events"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["event"] == "attempt")
                .count();
            let bars = doc
                .descendants()
                .filter(|n| n.attribute("class").is_some_and(|c| c.starts_with("bar ")))
                .count();
            assert_eq!(bars, attempts, "{}", file.display());
            let winners = doc
                .descendants()
                .filter(|n| {
                    n.attribute("class")
                        .is_some_and(|c| c.starts_with("bar ") && c.ends_with(" winner"))
                })
                .count();
            let connected = want["outcome"]["result"] == "connected";
            assert_eq!(winners, usize::from(connected), "{}", file.display());
            let title = doc
                .descendants()
                .find(|n| n.has_tag_name("title"))
                .and_then(|n| n.text());
            assert_eq!(title, want["name"].as_str());
        }
    }
}

#[test]
fn json_and_svg_together() {
    let file = scenarios().join("spec/all-refused.json");
    let svg = Scratch::new("both.svg");
    let out = eyeballs(&[
        "simulate",
        file.to_str().unwrap(),
        "--json",
        "--svg",
        svg.arg(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let got: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(got, expected(&file));
    assert!(roxmltree::Document::parse(&std::fs::read_to_string(&svg.0).unwrap()).is_ok());
}

/// Runs `args`, expects exit code 2 and returns stderr, which must say `error`.
fn fails_with_usage(args: &[&str]) -> String {
    let out = eyeballs(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(out.stdout.is_empty(), "{args:?} printed {}", stdout(&out));
    assert!(err.contains("error"), "{args:?}: {err}");
    err
}

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
fn missing_file_is_named() {
    let err = fails_with_usage(&["simulate", "no/such/scenario.json"]);
    assert!(err.contains("no/such/scenario.json"), "{err}");
    assert!(err.contains("cannot read the file"), "{err}");
}

#[test]
fn unreadable_file_is_named() {
    // A directory cannot be read as a file, even by root.
    let dir = scenarios();
    let err = fails_with_usage(&["simulate", dir.to_str().unwrap()]);
    assert!(err.contains(dir.to_str().unwrap()), "{err}");
    assert!(err.contains("cannot read the file"), "{err}");
    // Neither can bytes that are not UTF-8.
    let bad = Scratch::new("latin1.json");
    std::fs::write(&bad.0, b"{\"name\": \"caf\xe9\"}").unwrap();
    let err = fails_with_usage(&["simulate", bad.arg()]);
    assert!(err.contains(bad.arg()), "{err}");
}

#[test]
fn malformed_file_is_named() {
    let bad = Scratch::new("malformed.json");
    std::fs::write(&bad.0, "{\"port\": 80, \"addresses\": [").unwrap();
    let err = fails_with_usage(&["simulate", bad.arg()]);
    assert!(err.contains(bad.arg()), "{err}");
    assert!(err.contains("EOF") || err.contains("line 1"), "{err}");
}

#[test]
fn unknown_field_is_named() {
    let bad = Scratch::new("unknown-field.json");
    std::fs::write(
        &bad.0,
        r#"{"port": 80, "addresses": ["192.0.2.1"], "config": {"conection_attempt_delay_ms": 5}}"#,
    )
    .unwrap();
    let err = fails_with_usage(&["simulate", bad.arg()]);
    assert!(err.contains(bad.arg()), "{err}");
    assert!(err.contains("conection_attempt_delay_ms"), "{err}");
}

#[test]
fn invalid_config_is_named() {
    let bad = Scratch::new("bad-value.json");
    std::fs::write(
        &bad.0,
        r#"{"port": 80, "addresses": ["192.0.2.1"], "config": {"resolution_delay_ms": -1}}"#,
    )
    .unwrap();
    let err = fails_with_usage(&["simulate", bad.arg()]);
    assert!(err.contains("config.resolution_delay_ms"), "{err}");
}

#[test]
fn unwritable_svg_path_is_named() {
    let file = scenarios().join("spec/all-refused.json");
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-such-dir/chart.svg");
    let target = target.to_str().unwrap();
    let err = fails_with_usage(&["simulate", file.to_str().unwrap(), "--svg", target]);
    assert!(err.contains(target), "{err}");
    assert!(err.contains("--svg"), "{err}");
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
    ] {
        assert!(help.contains(want), "{want} missing from\n{help}");
    }
    let out = eyeballs(&["demo", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = stdout(&out);
    for want in ["[::1]", "127.0.0.1", "sequential", "--svg", "Exit status"] {
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

// `eyeballs connect`, for real, on loopback.

use eyeballs_lab::precondition::require;
use eyeballs_lab::{BrokenIpv6, ClosedPort, Listener, V4_LOOPBACK};

fn loopback_listener() -> Listener {
    Listener::bind(std::net::SocketAddr::new(V4_LOOPBACK, 0)).expect("a loopback listener")
}

#[test]
fn connect_to_a_loopback_listener() {
    let listener = loopback_listener();
    let addr = listener.addr().to_string();
    let out = eyeballs(&["connect", &addr]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    // The header, the live log with the address on each attempt line, the chart, the result.
    assert!(text.starts_with(&format!("racing to {addr}: connection attempt delay 250ms")));
    assert!(
        text.contains(&format!("ms  attempt    #0 tcp {addr}\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!("ms  connected  #0 tcp {addr}\n")),
        "{text}"
    );
    let row = chart_rows(&text)
        .into_iter()
        .find(|r| r.starts_with("#0 tcp "))
        .unwrap();
    assert!(row.contains(&addr) && row.contains("<== WINNER"), "{text}");
    assert!(
        text.contains(&format!("\nconnected to {addr} from 127.0.0.1:")),
        "{text}"
    );
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    // It really connected (and closed: the listener's thread saw it).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while listener.accepted() == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(listener.accepted(), 1);
}

#[test]
fn connect_by_name_shows_the_dns_queries() {
    let listener = loopback_listener();
    let target = format!("localhost:{}", listener.addr().port());
    let out = eyeballs(&["connect", &target, "-4"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    // -4: no AAAA query at all.
    assert!(text.contains("ms  query      A localhost\n"), "{text}");
    assert!(!text.contains("query      AAAA"), "{text}");
    assert!(
        text.contains("ms  answer     A localhost: 127.0.0.1"),
        "{text}"
    );
    assert!(text.contains("\nDNS "), "{text}");
}

#[test]
fn connect_to_a_closed_port_fails_with_the_os_error() {
    let closed = ClosedPort::new(V4_LOOPBACK).unwrap();
    let addr = closed.addr().to_string();
    let out = eyeballs(&["connect", &addr]);
    let (text, err) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{text}\n{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(
        err.contains(&addr) && err.contains("Connection refused"),
        "{err}"
    );
    assert!(err.contains("hint: nothing listens on that port"), "{err}");
    // The live log and the chart still show what happened.
    assert!(
        text.contains(&format!("failed     #0 tcp {addr}: Connection refused")),
        "{text}"
    );
    assert!(text.contains("failed after "), "{text}");
}

#[test]
fn connect_json_is_the_report_in_the_simulators_vocabulary() {
    let listener = loopback_listener();
    let out = eyeballs(&["connect", &listener.addr().to_string(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Only JSON on stdout.
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let events = report["events"].as_array().unwrap();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["attempt", "connected"]);
    assert_eq!(events[0]["addr"], "127.0.0.1");
    assert_eq!(events[0]["port"], listener.addr().port());
    assert_eq!(events[0]["protocol"], "tcp");
    assert!(events.iter().all(|e| e["t_ms"].is_number()));
    assert_eq!(report["outcome"]["result"], "connected");
    assert_eq!(report["outcome"]["id"], 0);

    let closed = ClosedPort::new(V4_LOOPBACK).unwrap();
    let out = eyeballs(&["connect", &closed.addr().to_string(), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["events"][1]["event"], "failed");
    assert_eq!(report["events"][1]["error"], "refused");
    assert_eq!(report["outcome"]["result"], "failed");
    assert_eq!(report["outcome"]["errors"][0]["error"], "refused");
    assert!(stderr(&out).contains("Connection refused"));
}

#[test]
fn connect_svg_draws_the_race() {
    let listener = loopback_listener();
    let svg = Scratch::new("connect.svg");
    let out = eyeballs(&["connect", &listener.addr().to_string(), "--svg", svg.arg()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let picture = std::fs::read_to_string(&svg.0).unwrap();
    let doc = roxmltree::Document::parse(&picture).unwrap();
    let winners = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("bar connected winner"))
        .count();
    assert_eq!(winners, 1);
}

/// The broken-IPv6 lab raced with a pre-resolved address list: IPv6 first, hanging; IPv4
/// one Connection Attempt Delay later, winning; the IPv6 attempt cancelled.
#[test]
fn connect_races_an_address_list_on_the_broken_ipv6_lab() {
    let Some(lab) = require(
        "connect_races_an_address_list_on_the_broken_ipv6_lab",
        BrokenIpv6::new(),
    ) else {
        return;
    };
    let [v6, v4] = lab.addrs();
    let target = format!("{v6},{v4}");
    let out = eyeballs(&["connect", &target, "--delay", "100ms"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    let attempt_lines: Vec<&str> = text.lines().filter(|l| l.contains("  attempt  ")).collect();
    assert_eq!(attempt_lines.len(), 2, "{text}");
    assert!(
        attempt_lines[0].ends_with(&format!("#0 tcp {v6}")),
        "{text}"
    );
    assert!(
        attempt_lines[1].ends_with(&format!("#1 tcp {v4}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("cancelled  #0 tcp {v6}: lost the race")),
        "{text}"
    );
    assert!(
        text.contains(&format!("\nconnected to {v4} from ")),
        "{text}"
    );
}

#[test]
fn connect_bad_input_is_bad_usage() {
    let err = fails_with_usage(&["connect", "localhost"]);
    assert!(
        err.contains("invalid target 'localhost'") && err.contains("host:port"),
        "{err}"
    );
    let err = fails_with_usage(&["connect", "::1:80"]);
    assert!(err.contains("brackets"), "{err}");
    let err = fails_with_usage(&["connect", "[::1]:80,127.0.0.1"]);
    assert!(
        err.contains("'127.0.0.1' is not an address with a port"),
        "{err}"
    );
    let err = fails_with_usage(&["connect", "127.0.0.1:80", "--frobnicate"]);
    assert!(err.contains("--frobnicate"), "{err}");
    let err = fails_with_usage(&["connect", "127.0.0.1:80", "--prefer", "v5"]);
    assert!(
        err.contains("v5") && err.contains("v4") && err.contains("v6"),
        "{err}"
    );
    let err = fails_with_usage(&["connect", "127.0.0.1:80", "--delay", "5ms"]);
    assert!(err.contains("invalid --delay"), "{err}");
    assert!(err.contains("10ms") && err.contains("RFC 8305 §5"), "{err}");
    let err = fails_with_usage(&["connect", "127.0.0.1:80", "--delay", "soon"]);
    assert!(err.contains("'soon' is not a duration"), "{err}");
    let err = fails_with_usage(&["connect", "127.0.0.1:80", "-4", "-6"]);
    assert!(err.contains("cannot be used with"), "{err}");
    let err = fails_with_usage(&["connect", "127.0.0.1:80", "--local-addr", "::1", "-4"]);
    assert!(err.contains("-4/-6"), "{err}");
    let err = fails_with_usage(&["connect", "0.0.0.0:80"]);
    assert!(err.contains("0.0.0.0:80"), "{err}");
    let err = fails_with_usage(&["connect"]);
    assert!(err.contains("TARGET"), "{err}");
}

/// `--history FILE` twice on the broken-IPv6 lab: the first run races IPv6 first and learns
/// that its path hangs; the second starts with IPv4.
#[test]
fn connect_history_twice_starts_with_ipv4_the_second_time() {
    let Some(lab) = require(
        "connect_history_twice_starts_with_ipv4_the_second_time",
        BrokenIpv6::new(),
    ) else {
        return;
    };
    let [v6, v4] = lab.addrs();
    let target = format!("{v6},{v4}");
    let file = Scratch::new("history.json");
    // --min-delay: with history, the delay after the IPv4 attempt follows its RTT, at least
    // this much: plenty of time for a loopback connect on a loaded machine.
    let run = || {
        let out = eyeballs(&[
            "connect",
            &target,
            "--delay",
            "100ms",
            "--min-delay",
            "1s",
            "--history",
            file.arg(),
        ]);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
        let first_attempt = text
            .lines()
            .find(|l| l.contains("  attempt  "))
            .unwrap_or_default()
            .to_string();
        (text, first_attempt)
    };
    // A missing file is an empty history.
    let (text, first) = run();
    assert!(text.contains("): nothing known yet\n"), "{text}");
    assert!(first.ends_with(&format!("#0 tcp {v6}")), "{text}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file.0).unwrap()).unwrap();
    assert_eq!(saved["version"], 1);

    let (text, first) = run();
    assert!(
        text.contains(&format!("  {}: path marked broken ", v6.ip())),
        "{text}"
    );
    assert!(first.ends_with(&format!("#0 tcp {v4}")), "{text}");
    assert!(
        text.contains(&format!("\nconnected to {v4} from ")),
        "{text}"
    );
    // IPv4 won at once: the hanging IPv6 address was not even tried.
    assert!(!text.contains(&format!("attempt    #1 tcp {v6}")), "{text}");

    // Under another network name the history does not apply.
    let out = eyeballs(&[
        "connect",
        &target,
        "--delay",
        "100ms",
        "--history",
        file.arg(),
        "--network",
        "cafe",
    ]);
    let text = stdout(&out);
    assert!(text.contains("(network cafe): nothing known yet"), "{text}");
    let first = text.lines().find(|l| l.contains("  attempt  ")).unwrap();
    assert!(first.ends_with(&format!("#0 tcp {v6}")), "{text}");
}

#[test]
fn connect_refuses_a_corrupt_history_file() {
    let listener = loopback_listener();
    let file = Scratch::new("corrupt-history.json");
    std::fs::write(&file.0, "{\"version\": 1, \"entries\": [{\"addr\": 5}]}").unwrap();
    let err = fails_with_usage(&[
        "connect",
        &listener.addr().to_string(),
        "--history",
        file.arg(),
    ]);
    assert!(err.contains(file.arg()), "{err}");
    assert!(
        err.contains("history file") && err.contains("delete it"),
        "{err}"
    );
    // Nothing was written over it, and nothing was attempted.
    assert!(
        std::fs::read_to_string(&file.0)
            .unwrap()
            .contains("\"addr\": 5")
    );
    assert_eq!(listener.accepted(), 0);
    // A history path that cannot be read as a file.
    let dir = scenarios();
    let err = fails_with_usage(&[
        "connect",
        &listener.addr().to_string(),
        "--history",
        dir.to_str().unwrap(),
    ]);
    assert!(err.contains("cannot read the history file"), "{err}");
    assert_eq!(listener.accepted(), 0);
    let err = fails_with_usage(&["connect", "127.0.0.1:80", "--network", "home"]);
    assert!(err.contains("--history"), "{err}");
}

// `eyeballs demo`, the README's first command.

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

#[test]
fn connect_reports_what_it_cannot_write_after_the_race() {
    let listener = loopback_listener();
    let addr = listener.addr().to_string();
    let nowhere = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-such-dir");
    let svg = nowhere.join("race.svg");
    let out = eyeballs(&["connect", &addr, "--svg", svg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    // The race ran and was printed; the error names the path.
    assert!(stdout(&out).contains("<== WINNER"), "{}", stdout(&out));
    assert!(
        stderr(&out).contains(svg.to_str().unwrap()),
        "{}",
        stderr(&out)
    );

    let history = nowhere.join("history.json");
    let out = eyeballs(&["connect", &addr, "--history", history.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot save the history to"), "{err}");
    assert!(err.contains(history.to_str().unwrap()), "{err}");
    assert!(stdout(&out).contains("<== WINNER"));
}

/// A loopback listener that never accepts: a connect that completed sits in its accept
/// queue, so `nothing_connected` sees it whenever it happened, however late its process ran.
fn silent_listener() -> std::net::TcpListener {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback listener");
    listener.set_nonblocking(true).unwrap();
    listener
}

fn nothing_connected(listener: &std::net::TcpListener) -> bool {
    matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

/// Runs `eyeballs args`, killing it (and failing) if it has not ended within 20 s: a FIFO
/// opened for reading blocks until a writer comes.
fn eyeballs_within_20s(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_eyeballs"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("eyeballs {args:?} did not end within 20 s (blocked on the history path?)");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

/// A history path that is not a regular file (a FIFO, a device, a directory) is refused
/// before anything is connected, naming the path and what it is, and is left as it was.
#[cfg(unix)]
#[test]
fn connect_refuses_a_history_path_that_is_not_a_regular_file() {
    use std::os::unix::fs::FileTypeExt;
    let listener = silent_listener();
    let addr = listener.local_addr().unwrap().to_string();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("eyeballs-cli-{}-not-a-file", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("fifo");
    // std cannot make a FIFO without `unsafe`; mkfifo(1) is in every POSIX system.
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap_or_else(|e| panic!("this test needs mkfifo(1) (coreutils) to make a FIFO: {e}"));
    assert!(made.success(), "mkfifo {} failed", fifo.display());
    let dev_null = Path::new("/dev/null");
    assert!(
        std::fs::metadata(dev_null)
            .unwrap()
            .file_type()
            .is_char_device(),
        "this test needs /dev/null to be a character device"
    );
    for (path, what) in [
        (fifo.as_path(), "a FIFO"),
        (dev_null, "a character device"),
        (dir.as_path(), "a directory"),
    ] {
        let out = eyeballs_within_20s(&["connect", &addr, "--history", path.to_str().unwrap()]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{}: {err}", path.display());
        assert!(err.contains(path.to_str().unwrap()), "{err}");
        assert!(
            err.contains(&format!("is {what}, not a regular file")),
            "{err}"
        );
        assert!(err.contains("--history"), "{err}");
        assert!(stdout(&out).is_empty(), "{}", stdout(&out));
        assert!(
            nothing_connected(&listener),
            "{} was connected",
            path.display()
        );
    }
    // Each is what it was.
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
    assert!(
        std::fs::metadata(dev_null)
            .unwrap()
            .file_type()
            .is_char_device()
    );
    assert!(std::fs::metadata(&dir).unwrap().is_dir());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Eight `connect --history` runs at once, each to its own destination: the file ends up
/// with all eight (each run re-reads the file under a lock and merges before writing).
#[test]
fn concurrent_runs_lose_no_history() {
    const RUNS: u8 = 8;
    let listeners: Vec<Listener> = (1..=RUNS)
        .map(|k| {
            Listener::bind(std::net::SocketAddr::from(([127, 0, 0, k], 0)))
                .expect("a listener on 127.0.0.k (all of 127/8 is loopback)")
        })
        .collect();
    let file = Scratch::new("concurrent-history.json");
    let children: Vec<std::process::Child> = listeners
        .iter()
        .map(|l| {
            Command::new(env!("CARGO_BIN_EXE_eyeballs"))
                .args([
                    "connect",
                    &l.addr().to_string(),
                    "--json",
                    "--history",
                    file.arg(),
                ])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file.0).unwrap()).unwrap();
    let mut addrs: Vec<&str> = saved["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["addr"].as_str().unwrap())
        .collect();
    addrs.sort();
    let want: Vec<String> = (1..=RUNS).map(|k| format!("127.0.0.{k}")).collect();
    assert_eq!(addrs, want, "updates were lost");
}

/// An IPv6 literal with its zone, by name (`%lo`): accepted, and connected.
#[cfg(target_os = "linux")]
#[test]
fn connect_takes_an_ipv6_zone_by_name() {
    if std::env::var_os("EYEBALLS_TEST_NO_IPV6").is_some() {
        // The explicit opt-out for hosts without IPv6 loopback.
        return;
    }
    assert!(
        eyeballs_lab::has_ipv6_loopback(),
        "this test needs IPv6 loopback ([::1]); set EYEBALLS_TEST_NO_IPV6=1 to opt out"
    );
    let listener = Listener::bind("[::1]:0".parse().unwrap()).unwrap();
    let target = format!("[::1%lo]:{}", listener.addr().port());
    let out = eyeballs(&["connect", &target]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    assert!(text.contains("<== WINNER"), "{text}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while listener.accepted() == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(listener.accepted(), 1);
    // An interface that does not exist is bad usage, named.
    let err = fails_with_usage(&["connect", "[fe80::1%nosuchif0]:80"]);
    assert!(
        err.contains("no network interface is named 'nosuchif0'"),
        "{err}"
    );
}

/// `--global-only` refuses loopback in every spelling (IPv4, IPv4-mapped, NAT64 well-known
/// prefix, a name) before anything is attempted: exit 1, the reason named, and the listener
/// sees no connection. Issue 10, items 1-3: the mapped spelling used to connect.
#[test]
fn connect_global_only_refuses_loopback_in_every_spelling() {
    let listener = loopback_listener();
    let port = listener.addr().port();
    for target in [
        format!("127.0.0.1:{port}"),
        format!("[::ffff:127.0.0.1]:{port}"),
        format!("[64:ff9b::7f00:1]:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ] {
        let out = eyeballs(&["connect", &target, "--global-only"]);
        let (text, err) = (stdout(&out), stderr(&out));
        assert_eq!(out.status.code(), Some(1), "{target}: {text}\n{err}");
        assert!(
            err.contains("loopback") || err.contains("not globally reachable"),
            "{target}: {err}"
        );
        assert!(!text.contains("attempt    #0"), "{target}: {text}");
    }
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert_eq!(
        listener.accepted(),
        0,
        "a refused destination was connected"
    );
}

/// An IPv4-mapped address is IPv4: `-6` ("IPv6 only") does not connect to it, and without
/// `-6` it is connected and reported in its IPv4 form. Issue 10, item 1.
#[test]
fn connect_treats_a_mapped_address_as_ipv4() {
    let listener = loopback_listener();
    let port = listener.addr().port();
    let mapped = format!("[::ffff:127.0.0.1]:{port}");
    let out = eyeballs(&["connect", &mapped, "-6"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert_eq!(listener.accepted(), 0, "-6 connected over IPv4");
    let out = eyeballs(&["connect", &mapped]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    assert!(
        text.contains(&format!("connected  #0 tcp 127.0.0.1:{port}\n")),
        "{text}"
    );
}
