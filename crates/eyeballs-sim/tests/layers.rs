//! The layers of the workspace: engine <- driver <- adapters, and engine <- simulator <- tools.
//! No production crate (the driver, the adapters) compiles the simulator, under any feature:
//! what they share with it (the JSON vocabulary) is in `eyeballs-json`, and the scripted
//! network that runs the driver against a scenario is a test tool (`eyeballs-lab`).
//!
//! Checked with `cargo tree` itself (the cargo running this test, offline from the lock
//! file), so that a feature or an optional dependency cannot hide an edge.

use std::process::Command;

/// The production crates: they must never depend on `eyeballs-sim`.
const PRODUCTION: [&str; 5] = [
    "eyeballs-driver",
    "eyeballs-tokio",
    "eyeballs-smol",
    "eyeballs-async-std",
    "eyeballs-mio",
];

/// The names of every package `package` depends on with all its features on, through normal
/// dependencies only (dev-dependencies are tests' business).
fn normal_dependencies(package: &str) -> Vec<String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(&cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "tree",
            "--locked",
            "--offline",
            "--all-features",
            "-e",
            "normal",
        ])
        .args(["--prefix", "none", "--format", "{p}", "-p", package])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "this test runs `cargo tree` and could not start {}: {e}",
                cargo.to_string_lossy()
            )
        });
    assert!(
        out.status.success(),
        "cargo tree -p {package} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn no_production_crate_depends_on_the_simulator() {
    for package in PRODUCTION {
        let deps = normal_dependencies(package);
        assert!(
            deps.iter().any(|d| d == "eyeballs"),
            "cargo tree -p {package} does not list the engine: {deps:?}"
        );
        assert!(
            !deps.iter().any(|d| d == "eyeballs-sim"),
            "{package} compiles the simulator (cargo tree -p {package} --all-features -e normal)"
        );
    }
}

#[test]
fn the_json_vocabulary_needs_only_the_engine_and_serde_json() {
    let deps = normal_dependencies("eyeballs-json");
    let ours: Vec<&String> = deps.iter().filter(|d| d.starts_with("eyeballs")).collect();
    assert_eq!(ours, ["eyeballs-json", "eyeballs"], "{deps:?}");
    assert!(deps.iter().any(|d| d == "serde_json"), "{deps:?}");
}
