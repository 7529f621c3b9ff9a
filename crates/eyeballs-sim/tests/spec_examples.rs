//! The scenario format's examples (`tests/scenarios/spec/`, copied verbatim from the shared
//! specification that `docs/scenario-format.md` copies) must produce their `.expected.json`
//! exactly; so must the project's own scenarios in `tests/scenarios/`.

use std::path::{Path, PathBuf};

use eyeballs_sim::json::{read_scenario, trace_to_json};

fn scenario_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios")
}

fn check_dir(dir: &Path) -> usize {
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".json") || name.ends_with(".expected.json") {
            continue;
        }
        let expected_path = path.with_file_name(name.replace(".json", ".expected.json"));
        let expected: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&expected_path).unwrap()).unwrap();
        let scenario = read_scenario(&path).unwrap();
        let trace = eyeballs_sim::run(&scenario).unwrap();
        let got = trace_to_json(&trace);
        assert_eq!(
            got,
            expected,
            "{}\n--- got ---\n{}",
            path.display(),
            serde_json::to_string_pretty(&got).unwrap()
        );
        checked += 1;
    }
    checked
}

#[test]
fn spec_examples_match_exactly() {
    assert_eq!(check_dir(&scenario_dir().join("spec")), 3);
}

#[test]
fn project_scenarios_match_their_expected_output() {
    assert!(check_dir(&scenario_dir()) >= 1);
}
