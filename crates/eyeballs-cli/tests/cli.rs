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

fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios")
}

/// The scenario files (not their expected outputs) in `dir`, sorted.
fn scenario_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.ends_with(".json") && !name.ends_with(".expected.json")
        })
        .collect();
    files.sort();
    files
}

fn expected(file: &Path) -> serde_json::Value {
    let name = file.file_name().unwrap().to_string_lossy();
    let path = file.with_file_name(name.replace(".json", ".expected.json"));
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
    assert!(stdout(&out).contains("simulate"));
    let out = eyeballs(&["simulate", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = stdout(&out);
    for want in ["--svg", "--json", "FILE", "Gantt", "tests/scenarios"] {
        assert!(help.contains(want), "{want} missing from\n{help}");
    }
}
