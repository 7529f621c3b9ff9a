//! `eyeballs connect --history FILE`: learned between runs, per network; a corrupt file or a
//! path that is not a regular file refused before anything is connected; concurrent runs
//! lose nothing.

use std::path::Path;
use std::process::{Command, Output};

use eyeballs_lab::precondition::require;
use eyeballs_lab::{BrokenIpv6, Listener};

use crate::support::*;

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
    // A missing file is an empty history, on the network the machine is on (no --network).
    let (text, first) = run();
    assert!(text.contains("): nothing known yet\n"), "{text}");
    let (_, shown) = eyeballs_cli::history::network(None).unwrap();
    assert!(
        text.contains(&format!(" (network {shown}): ")),
        "{shown}: {text}"
    );
    if eyeballs_driver::network::DETECTS {
        assert!(shown.starts_with("detected "), "{shown}");
    }
    assert!(first.ends_with(&format!("#0 {v6} over tcp")), "{text}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file.0).unwrap()).unwrap();
    assert_eq!(saved["version"], 1);

    let (text, first) = run();
    assert!(
        text.contains(&format!("  {}: path marked broken ", v6.ip())),
        "{text}"
    );
    assert!(first.ends_with(&format!("#0 {v4} over tcp")), "{text}");
    assert!(
        text.contains(&format!("\nconnected to {v4} from ")),
        "{text}"
    );
    // IPv4 won at once: the hanging IPv6 address was not even tried.
    assert!(
        !text.contains(&format!("attempt    #1 {v6} over tcp")),
        "{text}"
    );

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
    assert!(first.ends_with(&format!("#0 {v6} over tcp")), "{text}");
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
    eyeballs_within(
        args,
        std::time::Duration::from_secs(20),
        "blocked on the history path?",
    )
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
