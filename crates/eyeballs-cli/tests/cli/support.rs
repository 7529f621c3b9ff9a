//! What every test of the binary uses: running it, its output, scratch files, loopback
//! listeners.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use eyeballs_lab::{Listener, V4_LOOPBACK};

/// Runs the `eyeballs` binary with `args` and waits for it.
pub(crate) fn eyeballs(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eyeballs"))
        .args(args)
        .output()
        .expect("the eyeballs binary runs")
}

/// What it printed on standard output.
pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

/// What it printed on standard error.
pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("stderr is UTF-8")
}

/// The scenarios that come with the simulator (`spec/` inside: the format's examples).
pub(crate) fn scenarios() -> PathBuf {
    eyeballs_sim::scenarios::dir()
}

/// A file in this test target's scratch directory, removed when dropped.
pub(crate) struct Scratch(pub(crate) PathBuf);

impl Scratch {
    pub(crate) fn new(name: &str) -> Scratch {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("eyeballs-cli-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        Scratch(path)
    }

    pub(crate) fn arg(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The chart's attempt rows: lines starting with `#<id> `.
pub(crate) fn chart_rows(text: &str) -> Vec<&str> {
    text.lines()
        .take_while(|l| !l.starts_with("events"))
        .filter(|l| l.starts_with('#'))
        .collect()
}

/// Runs `args`, expects exit code 2 and returns stderr, which must say `error`.
pub(crate) fn fails_with_usage(args: &[&str]) -> String {
    let out = eyeballs(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(out.stdout.is_empty(), "{args:?} printed {}", stdout(&out));
    assert!(err.contains("error"), "{args:?}: {err}");
    err
}

/// An accepting listener on `127.0.0.1`, on a port of its own.
pub(crate) fn loopback_listener() -> Listener {
    Listener::bind(std::net::SocketAddr::new(V4_LOOPBACK, 0)).expect("a loopback listener")
}

/// Whether `silent` accepted `n` connections and all of them were closed, waiting up to
/// 10 s for each (its thread accepts and notices closes when it is next scheduled: a check
/// of `open()` alone would pass before a connection still in the accept queue was counted).
pub(crate) fn accepted_then_closed(silent: &eyeballs_lab::SilentListener, n: usize) -> bool {
    let limit = std::time::Duration::from_secs(10);
    silent
        .wait_until_accepted(n, limit)
        .is_ok_and(|accepted| accepted == n)
        && silent.wait_until_open(0, limit)
}

/// A CA certificate in a scratch PEM file, for `--ca-file`.
pub(crate) fn ca_file(ca: &eyeballs_lab::tls::TestCa, name: &str) -> Scratch {
    let file = Scratch::new(name);
    std::fs::write(&file.0, ca.pem()).unwrap();
    file
}

/// The time in milliseconds at the start of a live log line (`    12.345ms  attempt ...`).
pub(crate) fn at_ms(line: &str) -> f64 {
    line.trim_start()
        .split("ms ")
        .next()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no time in {line:?}"))
}

/// The live log line of `what` (`attempt`, `transport`, ...) about `addr` over `protocol`
/// (`tcp`, `quic`).
pub(crate) fn log_line<'a>(text: &'a str, what: &str, addr: &str, protocol: &str) -> &'a str {
    find_log_line(text, what, addr, protocol)
        .unwrap_or_else(|| panic!("no {what} line for {addr} over {protocol} in\n{text}"))
}

/// The live log line of `what` about `addr` over `protocol`, if there is one.
pub(crate) fn find_log_line<'a>(
    text: &'a str,
    what: &str,
    addr: &str,
    protocol: &str,
) -> Option<&'a str> {
    text.lines().find(|l| {
        l.split_whitespace().nth(1) == Some(what) && l.contains(&format!(" {addr} over {protocol}"))
    })
}

/// Runs `eyeballs args`, killing it (and failing, saying `hang`: what may have hung) if it
/// has not ended within `limit`, a generous bound that only stops a hung command hanging
/// CI.
pub(crate) fn eyeballs_within(args: &[&str], limit: Duration, hang: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_eyeballs"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("eyeballs {args:?} did not end within {limit:?} ({hang})");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

/// Runs `eyeballs args --json`, expects exit code `code`, and returns the report it printed
/// (only JSON on standard output).
pub(crate) fn eyeballs_json(args: &[&str], code: i32) -> serde_json::Value {
    let mut args = args.to_vec();
    args.push("--json");
    let out = eyeballs(&args);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
    let text = stdout(&out);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {text}"))
}

/// The kind (`attempt`, `transport`, `connected`, ...) of every event of a `--json`
/// report, in order.
pub(crate) fn event_kinds(report: &serde_json::Value) -> Vec<&str> {
    report["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect()
}

/// The chart row of the attempt to `addr` over `protocol` (`#0 quic 127.0.0.1:P ...`).
pub(crate) fn chart_row<'a>(text: &'a str, protocol: &str, addr: &str) -> &'a str {
    chart_rows(text)
        .into_iter()
        .find(|r| r.contains(&format!(" {protocol} {addr} ")))
        .unwrap_or_else(|| panic!("no chart row for {protocol} {addr} in\n{text}"))
}

/// The result line of a race won by `addr` from a local address on `from`
/// (`connected to 127.0.0.1:P from 127.0.0.1:Q over ...`).
pub(crate) fn result_line<'a>(text: &'a str, addr: &str, from: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(&format!("connected to {addr} from {from}:")))
        .unwrap_or_else(|| panic!("no result line in\n{text}"))
}

/// How many elements of an SVG picture have the class `class` (the whole attribute).
pub(crate) fn class_count(doc: &roxmltree::Document, class: &str) -> usize {
    doc.descendants()
        .filter(|n| n.attribute("class") == Some(class))
        .count()
}
