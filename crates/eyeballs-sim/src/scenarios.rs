//! The scenario files that come with the simulator, and the one way to find them.
//!
//! `scenarios/` in this crate holds the project's own scenarios, each `NAME.json` next to the
//! `NAME.expected.json` trace it must produce exactly; `scenarios/spec/` holds the scenario
//! format's own examples, copied verbatim from its specification; `scenarios/secure/` holds
//! the secure-racing scenarios, whose attempts finish a transport handshake before a secure
//! one (`transport_after_ms`). The simulator's tests, the command's tests and the driver's
//! scripted tests (tokio's paused clock) all read them through [`dir`], [`spec_dir`],
//! [`secure_dir`], [`files`] and [`expected_path`], never through a relative path of their
//! own.
//!
//! The driver's scripted tests run [`dir`] and [`spec_dir`]; [`secure_dir`] waits for the
//! driver to report a transport handshake (`handle_progress`) as it drives secure handshakes:
//! until then it would record neither the `transport` events nor their timer extensions.
//!
//! ```
//! use eyeballs_sim::scenarios;
//!
//! let examples = scenarios::files(&scenarios::spec_dir()).unwrap();
//! assert_eq!(examples.len(), 3);
//! for file in examples {
//!     let scenario = eyeballs_sim::json::read_scenario(&file).unwrap();
//!     let trace = eyeballs_sim::run(&scenario).unwrap();
//!     let expected = std::fs::read_to_string(scenarios::expected_path(&file)).unwrap();
//!     let expected: serde_json::Value = serde_json::from_str(&expected).unwrap();
//!     assert_eq!(eyeballs_sim::json::trace_to_json(&trace), expected);
//! }
//! ```

use std::io;
use std::path::{Path, PathBuf};

/// The suffix of a scenario's expected output.
const EXPECTED: &str = ".expected.json";

/// The project's own scenarios (`scenarios/` in this crate's source tree).
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// The scenario format's examples (`scenarios/spec/`), verbatim from the specification.
pub fn spec_dir() -> PathBuf {
    dir().join("spec")
}

/// The secure-racing scenarios (`scenarios/secure/`): attempts whose transport handshake
/// finishes before their secure handshake (`transport_after_ms`), as HEv3 §6.1 races them.
///
/// ```
/// let secure = eyeballs_sim::scenarios::files(&eyeballs_sim::scenarios::secure_dir()).unwrap();
/// assert!(secure.iter().any(|f| f.ends_with("tls-dead-ipv6.json")));
/// ```
pub fn secure_dir() -> PathBuf {
    dir().join("secure")
}

/// The scenario files in `dir` (not their expected outputs, not subdirectories), sorted by
/// name. The error names the directory.
///
/// ```
/// let files = eyeballs_sim::scenarios::files(&eyeballs_sim::scenarios::dir()).unwrap();
/// assert!(files.iter().all(|f| !f.to_string_lossy().ends_with(".expected.json")));
/// let missing = eyeballs_sim::scenarios::files("no/such/dir".as_ref()).unwrap_err();
/// assert!(missing.to_string().contains("no/such/dir"));
/// ```
pub fn files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let named = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", dir.display()));
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(named)? {
        let path = entry.map_err(named)?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.ends_with(".json") && !name.ends_with(EXPECTED) && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The expected output of the scenario in `file`: `NAME.expected.json` beside `NAME.json`.
///
/// ```
/// use std::path::Path;
///
/// let expected = eyeballs_sim::scenarios::expected_path(Path::new("spec/all-refused.json"));
/// assert_eq!(expected, Path::new("spec/all-refused.expected.json"));
/// ```
pub fn expected_path(file: &Path) -> PathBuf {
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let stem = name.strip_suffix(".json").unwrap_or(name);
    file.with_file_name(format!("{stem}{EXPECTED}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_has_its_expected_output() {
        for dir in [dir(), spec_dir(), secure_dir()] {
            let list = files(&dir).unwrap();
            assert!(!list.is_empty(), "no scenarios in {}", dir.display());
            for file in list {
                let expected = expected_path(&file);
                assert!(
                    expected.is_file(),
                    "{} has no {}",
                    file.display(),
                    expected.display()
                );
            }
        }
    }
}
