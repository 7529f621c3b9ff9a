//! `--history FILE`: the connection history kept between runs of `eyeballs connect`.
//!
//! The file is the driver's versioned JSON ([`SharedHistory::to_json`]), read and written
//! by the driver's file API ([`SharedHistory::load_file`], [`SharedHistory::save_file`]).
//! A missing (or empty) file is an empty history; a file that cannot be read or parsed, or
//! a path that is not a regular file (a directory, a FIFO, a device), is refused before
//! the race with an error naming it, and nothing is written over it. After the race the
//! history, with what the race taught it, is written back: under a lock, merged with what
//! other runs saved meanwhile (runs at once lose nothing), through a temporary file renamed
//! over the old one (a run that is interrupted never leaves half a file). A link stays a
//! link; the file's mode is kept, and a new file is `0600`.
//!
//! The file keeps ages ("marked broken 3 s before the file was written") and when it was
//! written; loading it adds the time since to every age, so entries expire between runs as
//! they would in one process (10 minutes, RFC 6555 §4.2; a broken mark after 5, the
//! engine's own choice: see `eyeballs::history::BROKEN_LIFETIME`).
//!
//! History is partitioned by network (RFC 8305 §4 and HEv3 §5.3: it must not be used across
//! provisioning domains). A run is on the network the machine is on ([`network()`]: on Linux
//! its default routes and IPv6 prefixes, `eyeballs_driver::network`; elsewhere one network
//! for every run), unless the user names one (`--network home`): a laptop that moves from a
//! network where IPv6 is broken to one where it works does not carry the first one's
//! history over.
//!
//! ```
//! use eyeballs_cli::history;
//!
//! let dir = std::env::temp_dir().join(format!("eyeballs-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("history.json");
//! let network = history::network_id("default");
//! let h = history::load(&path, network).unwrap(); // missing: empty
//! assert!(h.is_empty());
//! history::save(&path, &h).unwrap();
//! assert!(history::load(&path, network).unwrap().is_empty());
//! std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::fmt;
use std::path::Path;
use std::time::Duration;

use eyeballs_chart::{ms, readable};
use eyeballs_driver::{HistoryConfig, HistoryPathError, NetworkId, SharedHistory, network};

/// The network id for a network name: a stable hash (64-bit FNV-1a,
/// `eyeballs_driver::network::named`), the same in every run and build, so that a file
/// written under a name is read back under it.
///
/// ```
/// use eyeballs_cli::history::network_id;
/// assert_eq!(network_id("home"), network_id("home"));
/// assert_ne!(network_id("home"), network_id("cafe"));
/// ```
pub fn network_id(name: &str) -> NetworkId {
    network::named(name)
}

/// The network a run is on, and how the command shows it: the one named (`--network
/// NAME`, [`network_id`]), or else the one the machine is on (`network::current`, shown as
/// `detected` and its id; where the network is not detected, `undetected`: one network for
/// every run). When the machine's network cannot be read, an error saying to name it.
///
/// ```
/// use eyeballs_cli::history::{network, network_id};
///
/// assert_eq!(network(Some("home")).unwrap(), (network_id("home"), "home".to_string()));
/// let (here, shown) = network(None).unwrap();
/// assert_eq!(here, eyeballs_driver::network::current().unwrap());
/// assert!(shown.starts_with("detected ") || shown == "undetected", "{shown}");
/// ```
pub fn network(name: Option<&str>) -> Result<(NetworkId, String), String> {
    if let Some(name) = name {
        return Ok((network_id(name), name.to_string()));
    }
    if !network::DETECTS {
        return Ok((network::UNDETECTED, "undetected".to_string()));
    }
    match network::current() {
        Ok(id) => Ok((id, format!("detected {:016x}", id.0))),
        Err(e) => Err(format!(
            "cannot tell which network this machine is on, for --history ({e}): name it with \
             --network NAME"
        )),
    }
}

/// A history file the command cannot use: the driver's error
/// ([`HistoryPathError`]), said in the command's words, with what to do about it.
///
/// ```
/// use eyeballs_cli::history::{self, HistoryError};
/// use eyeballs_driver::HistoryPathError;
///
/// let e: HistoryError = history::load(&std::env::temp_dir(), history::network_id("x")).unwrap_err();
/// assert!(matches!(e.0, HistoryPathError::NotAFile { .. }));
/// assert!(e.to_string().contains("is a directory, not a regular file"));
/// assert!(e.to_string().contains("another --history path"));
/// ```
#[derive(Debug)]
pub struct HistoryError(pub HistoryPathError);

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.0.path().display();
        match &self.0 {
            HistoryPathError::NotAFile { kind, .. } => write!(
                f,
                "cannot read the history file {path}: it is {kind}, not a regular file (give \
                 another --history path)"
            ),
            HistoryPathError::Read { error, .. } => write!(
                f,
                "cannot read the history file {path}: {error} (give another --history path)"
            ),
            HistoryPathError::Corrupt { error, .. } => write!(
                f,
                "{path}: {error} (it was not changed; delete it to start a new history, or give \
                 another --history path)"
            ),
            HistoryPathError::Write { error, .. } => write!(
                f,
                "cannot save the history to {path}: {error} (check that its directory exists \
                 and is writable, or give another --history path)"
            ),
            other => write!(f, "{other} (give another --history path)"),
        }
    }
}

impl std::error::Error for HistoryError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// The history in `path` for races on `network` ([`SharedHistory::load_file`]): empty
/// when the file does not exist or is empty. The driver ages every entry by the time since
/// the file was written; entries that expired meanwhile are dropped. A path that is not a
/// regular file (or a link to one) is refused without blocking (a FIFO) and left as it is.
pub fn load(path: &Path, network: NetworkId) -> Result<SharedHistory, HistoryError> {
    let history = SharedHistory::new(HistoryConfig::default(), network);
    history.load_file(path).map_err(HistoryError)?;
    Ok(history)
}

/// Writes `history` to `path` with [`SharedHistory::save_file`]: under a lock, merged
/// with what other runs saved since it was loaded, through an unpredictable temporary
/// file renamed over the file; a link stays a link, the file's mode is kept (a new file
/// is `0600`).
pub fn save(path: &Path, history: &SharedHistory) -> Result<(), HistoryError> {
    history.save_file(path).map_err(HistoryError)
}

/// How long ago, for people: `850ms`, `3.2s`, `4.5min`.
fn ago(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 1.0 {
        ms(readable(d))
    } else if secs < 120.0 {
        format!("{secs:.1}s")
    } else {
        format!("{:.1}min", secs / 60.0)
    }
}

/// One line per destination the history knows on its current network: whether its path is
/// marked broken (so it is raced after the others), its failures, its last success and its
/// smoothed RTT.
pub fn describe(history: &SharedHistory) -> Vec<String> {
    let network = history.network();
    history
        .export()
        .into_iter()
        .filter(|r| r.network == network)
        .map(|r| {
            let now = history.path_info(r.addr);
            let mut facts = Vec::new();
            if let (true, Some(age)) = (now.broken, r.broken_age) {
                facts.push(format!(
                    "path marked broken {} ago: raced after the others",
                    ago(age)
                ));
            }
            if r.failures > 0 {
                facts.push(format!("{} failure(s) since its last success", r.failures));
            }
            if let Some(age) = r.success_age {
                facts.push(format!("connected {} ago", ago(age)));
            }
            if let Some(rtt) = now.rtt {
                facts.push(format!("smoothed RTT {}", ms(readable(rtt.srtt))));
            }
            if facts.is_empty() {
                facts.push(format!("seen {} ago", ago(r.age)));
            }
            format!("{}: {}", r.addr, facts.join(", "))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use eyeballs_driver::HistoryRecord;
    use std::path::PathBuf;
    use std::time::SystemTime;

    /// A scratch directory, removed when dropped.
    struct Dir(PathBuf);

    impl Dir {
        fn new(name: &str) -> Dir {
            let dir = std::env::temp_dir().join(format!(
                "eyeballs-cli-history-{}-{name}",
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Dir(dir)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn broken_v6(network: NetworkId) -> HistoryRecord {
        HistoryRecord {
            network,
            addr: "::1".parse().unwrap(),
            rtt: None,
            success_age: None,
            failures: 0,
            broken_age: Some(Duration::from_secs(3)),
            age: Duration::from_secs(3),
        }
    }

    #[test]
    fn saved_history_loads_back_on_its_network_only() {
        let dir = Dir::new("roundtrip");
        let path = dir.0.join("h.json");
        let home = network_id("home");
        let h = load(&path, home).unwrap();
        h.import(vec![broken_v6(home)]);
        save(&path, &h).unwrap();
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(&dir.0).unwrap().count(), 1);

        let again = load(&path, home).unwrap();
        let lines = describe(&again);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].starts_with("::1: path marked broken 3."),
            "{lines:?}"
        );
        assert!(lines[0].contains("raced after the others"), "{lines:?}");
        // Another network sees nothing of it.
        let elsewhere = load(&path, network_id("cafe")).unwrap();
        assert!(describe(&elsewhere).is_empty());
        assert!(!elsewhere.path_info("::1".parse().unwrap()).broken);
    }

    #[test]
    fn missing_or_empty_files_are_empty_histories_and_bad_ones_are_named() {
        let dir = Dir::new("bad");
        let net = network_id("default");
        assert!(load(&dir.0.join("missing.json"), net).unwrap().is_empty());
        let empty = dir.0.join("empty.json");
        std::fs::write(&empty, "\n").unwrap();
        assert!(load(&empty, net).unwrap().is_empty());

        let corrupt = dir.0.join("corrupt.json");
        std::fs::write(&corrupt, "{\"version\": 1, \"entries\": [").unwrap();
        let e = load(&corrupt, net).unwrap_err().to_string();
        assert!(e.starts_with(&corrupt.display().to_string()), "{e}");
        assert!(e.contains("not JSON") && e.contains("delete it"), "{e}");

        let future = dir.0.join("future.json");
        std::fs::write(&future, r#"{"version": 9, "entries": []}"#).unwrap();
        let e = load(&future, net).unwrap_err().to_string();
        assert!(e.contains("version 9"), "{e}");

        // A directory is not a history file (it was a `HistoryError::Read` before paths
        // that are not regular files got a variant of their own).
        let e = load(&dir.0, net).unwrap_err();
        assert!(
            matches!(
                e.0,
                HistoryPathError::NotAFile {
                    kind: eyeballs_driver::FileKind::Directory,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("--history"), "{e}");

        // Saving into a missing directory fails and leaves nothing behind.
        let nowhere = dir.0.join("no/such/dir/h.json");
        assert!(save(&nowhere, &SharedHistory::default()).is_err());
    }

    #[test]
    fn entries_age_by_the_time_since_the_file_was_written() {
        let dir = Dir::new("aging");
        let path = dir.0.join("h.json");
        let net = network_id("default");
        let h = load(&path, net).unwrap();
        h.import(vec![broken_v6(net)]);
        save(&path, &h).unwrap();
        let set_written = |ago: Duration| {
            let mut doc: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let written = SystemTime::now() - ago;
            let ms = written
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_millis() as u64;
            doc["written_unix_ms"] = ms.into();
            std::fs::write(&path, doc.to_string()).unwrap();
        };
        // Written a minute ago: the mark is a minute older, still within its 5 minutes.
        set_written(Duration::from_secs(60));
        let r = load(&path, net).unwrap().export();
        assert_eq!(r.len(), 1);
        let age = r[0].broken_age.unwrap();
        assert!(
            age >= Duration::from_secs(63) && age < Duration::from_secs(70),
            "{age:?}"
        );
        assert!(describe(&load(&path, net).unwrap())[0].contains("broken 63."));
        // Written six minutes ago: the entry is kept (10 minutes) but no longer demotes.
        set_written(Duration::from_secs(360));
        let h = load(&path, net).unwrap();
        assert_eq!(h.len(), 1);
        assert!(!h.path_info("::1".parse().unwrap()).broken);
        // Written an hour ago: expired.
        set_written(Duration::from_secs(3600));
        assert!(load(&path, net).unwrap().is_empty());
    }

    /// A history with one entry for `addr` on the network `default`.
    fn one_entry(addr: &str) -> SharedHistory {
        let net = network_id("default");
        let h = SharedHistory::new(HistoryConfig::default(), net);
        h.import(vec![HistoryRecord {
            addr: addr.parse().unwrap(),
            ..broken_v6(net)
        }]);
        h
    }

    /// The addresses a history file knows, sorted.
    fn addrs_in(path: &Path) -> Vec<String> {
        let mut addrs: Vec<String> = load(path, network_id("default"))
            .unwrap()
            .export()
            .iter()
            .map(|r| r.addr.to_string())
            .collect();
        addrs.sort();
        addrs
    }

    /// The old temporary file was `FILE.tmp-<pid>`: a symlink planted there made the save
    /// write through it into any file the user can write.
    #[cfg(unix)]
    #[test]
    fn a_link_planted_at_the_old_temporary_name_is_not_followed() {
        let dir = Dir::new("planted");
        let path = dir.0.join("h.json");
        let victim = dir.0.join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let planted = dir.0.join(format!("h.json.tmp-{}", std::process::id()));
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        save(&path, &one_entry("::1")).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert!(
            std::fs::symlink_metadata(&planted)
                .unwrap()
                .file_type()
                .is_symlink(),
            "the planted link was left alone"
        );
        assert!(
            std::fs::symlink_metadata(&path).unwrap().is_file(),
            "the history is a file of its own"
        );
        assert_eq!(addrs_in(&path), ["::1"]);
    }

    /// A history path that is a symlink stays one: the file it points to is updated.
    #[cfg(unix)]
    #[test]
    fn a_symlinked_history_keeps_its_link_and_updates_its_target() {
        let dir = Dir::new("symlinked");
        let elsewhere = dir.0.join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        let real = elsewhere.join("real.json");
        save(&real, &one_entry("::1")).unwrap();
        let link = dir.0.join("h.json");
        // A relative link, resolved from the link's own directory.
        std::os::unix::fs::symlink("elsewhere/real.json", &link).unwrap();
        let h = load(&link, network_id("default")).unwrap();
        h.import(one_entry("192.0.2.1").export());
        save(&link, &h).unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink(),
            "the link was replaced by a file"
        );
        assert_eq!(addrs_in(&real), ["192.0.2.1", "::1"]);
        // Nothing was left next to the link or next to the target: no temporary file, no
        // lock file.
        let names = |d: &Path| {
            let mut n: Vec<String> = std::fs::read_dir(d)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            n.sort();
            n
        };
        assert_eq!(names(&dir.0), ["elsewhere", "h.json"]);
        assert_eq!(names(&elsewhere), ["real.json"]);
    }

    /// The list of destinations is private: a new file is 0600, and a file's mode is kept.
    #[cfg(unix)]
    #[test]
    fn new_files_are_private_and_modes_are_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = Dir::new("modes");
        let path = dir.0.join("h.json");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        save(&path, &one_entry("::1")).unwrap();
        assert_eq!(mode(&path), 0o600, "a new history file");
        save(&path, &one_entry("::2")).unwrap();
        assert_eq!(mode(&path), 0o600, "0600 stays 0600");
        for kept in [0o640, 0o644, 0o400] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(kept)).unwrap();
            save(&path, &one_entry("::3")).unwrap();
            assert_eq!(mode(&path), kept, "{kept:o}");
        }
    }

    #[test]
    fn ages_read_well() {
        assert_eq!(ago(Duration::from_millis(850)), "850ms");
        assert_eq!(ago(Duration::from_millis(3_240)), "3.2s");
        assert_eq!(ago(Duration::from_secs(270)), "4.5min");
    }
}
