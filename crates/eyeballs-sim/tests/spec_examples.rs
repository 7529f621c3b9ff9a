//! The scenario format's examples (`scenarios/spec/` in this crate, copied verbatim from the
//! shared specification that `docs/scenario-format.md` copies) must produce their
//! `.expected.json` exactly; so must the project's own scenarios in `scenarios/` and the
//! secure-racing ones in `scenarios/secure/`.

use std::path::Path;

use eyeballs_sim::json::{read_scenario, trace_to_json};
use eyeballs_sim::scenarios;

fn check_dir(dir: &Path) -> usize {
    let mut checked = 0;
    for path in scenarios::files(dir).unwrap() {
        let expected_path = scenarios::expected_path(&path);
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
    assert_eq!(check_dir(&scenarios::spec_dir()), 3);
}

#[test]
fn project_scenarios_match_their_expected_output() {
    assert!(check_dir(&scenarios::dir()) >= 1);
}

#[test]
fn secure_scenarios_match_their_expected_output() {
    assert_eq!(check_dir(&scenarios::secure_dir()), 3);
}
