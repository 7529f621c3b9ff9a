//! `eyeballs simulate`: every shared example drawn (text, `--json`, `--svg`), and a bad
//! scenario file or output path named.

use std::path::{Path, PathBuf};

use crate::support::*;

/// The scenario files (not their expected outputs) in `dir`, sorted.
fn scenario_files(dir: &Path) -> Vec<PathBuf> {
    eyeballs_sim::scenarios::files(dir).unwrap()
}

fn expected(file: &Path) -> serde_json::Value {
    let path = eyeballs_sim::scenarios::expected_path(file);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
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
    for dir in [
        scenarios().join("spec"),
        scenarios(),
        eyeballs_sim::scenarios::secure_dir(),
    ] {
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
    for dir in [
        scenarios().join("spec"),
        scenarios(),
        eyeballs_sim::scenarios::secure_dir(),
    ] {
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
