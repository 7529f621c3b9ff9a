//! The history file's format (feature `serde`): [`SharedHistory::to_json`] and
//! [`SharedHistory::load_json`], a versioned JSON document.

use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use eyeballs::RttEstimate;
use eyeballs::history::{HistoryRecord, NetworkId};
use eyeballs_json::ms_value;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Map, Value};

use super::SharedHistory;

/// The version of the file format this build writes and reads.
const VERSION: u64 = 1;

/// A history file that cannot be loaded, and why. Nothing is loaded from a bad file.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HistoryFileError {
    /// The text is not JSON.
    NotJson {
        /// Where the parser stopped (1-based).
        line: usize,
        /// Where the parser stopped (1-based).
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// The file has no `"version"`, or one this build does not read.
    UnsupportedVersion {
        /// The version found (as JSON text), or `None` when there is none.
        found: Option<String>,
    },
    /// An entry's `"addr"` is not an IP address.
    BadAddress {
        /// The entry's index in `"entries"`.
        entry: usize,
        /// The value found (as JSON text).
        value: String,
    },
    /// A field is missing, unknown, or of the wrong type or range.
    BadField {
        /// Where, as a path: `entries[2].age_ms`.
        path: String,
        /// What is wrong.
        problem: String,
    },
}

impl fmt::Display for HistoryFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HistoryFileError::NotJson {
                line,
                column,
                message,
            } => write!(
                f,
                "not a history file: not JSON (line {line}, column {column}): {message}"
            ),
            HistoryFileError::UnsupportedVersion { found: None } => write!(
                f,
                "not a history file: no \"version\" field (this build reads version {VERSION})"
            ),
            HistoryFileError::UnsupportedVersion { found: Some(v) } => write!(
                f,
                "history file version {v} is not supported (this build reads version {VERSION})"
            ),
            HistoryFileError::BadAddress { entry, value } => write!(
                f,
                "history file: entries[{entry}].addr: {value} is not an IP address"
            ),
            HistoryFileError::BadField { path, problem } => {
                write!(f, "history file: {path}: {problem}")
            }
        }
    }
}

impl std::error::Error for HistoryFileError {}

fn bad(path: impl Into<String>, problem: impl Into<String>) -> HistoryFileError {
    HistoryFileError::BadField {
        path: path.into(),
        problem: problem.into(),
    }
}

fn read_ms(v: &Value, path: &str) -> Result<Duration, HistoryFileError> {
    if let Some(n) = v.as_u64() {
        return Ok(Duration::from_millis(n));
    }
    match v.as_f64() {
        Some(f) if f.is_finite() && f >= 0.0 && f * 1e6 < u64::MAX as f64 => {
            Ok(Duration::from_nanos((f * 1e6).round() as u64))
        }
        _ => Err(bad(
            path,
            format!("{v} is not a non-negative number of milliseconds"),
        )),
    }
}

/// A field that must be there.
fn required<'a>(
    field: &'a Option<Value>,
    path: &str,
    key: &str,
) -> Result<&'a Value, HistoryFileError> {
    field
        .as_ref()
        .ok_or_else(|| bad(format!("{path}.{key}"), "missing"))
}

// The file's shape as serde reads it, the scenario parser's approach
// (`eyeballs_sim::json`): typed structs with `deny_unknown_fields`, read through
// `serde_path_to_error`, so that an unknown or duplicate key is refused with its path
// (an untyped `serde_json::Value` keeps the last of two equal keys without a word).
// The values stay untyped: they are checked below, with errors that name them.

/// The document.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    /// Checked first, from the untyped document (a later version may have other
    /// fields).
    #[allow(dead_code)]
    version: Option<IgnoredAny>,
    written_unix_ms: Option<Value>,
    entries: Option<Vec<RawEntry>>,
}

/// One entry; `null` is as absent.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    network: Option<Value>,
    addr: Option<Value>,
    age_ms: Option<Value>,
    rtt: Option<RawRtt>,
    success_age_ms: Option<Value>,
    failures: Option<Value>,
    broken_age_ms: Option<Value>,
}

/// An entry's RTT estimate.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRtt {
    srtt_ms: Option<Value>,
    rttvar_ms: Option<Value>,
}

fn to_json(r: &HistoryRecord) -> Value {
    let mut e = Map::new();
    e.insert("network".into(), Value::from(r.network.0));
    e.insert("addr".into(), Value::from(r.addr.to_string()));
    e.insert("age_ms".into(), ms_value(r.age));
    if let Some(rtt) = r.rtt {
        let mut o = Map::new();
        o.insert("srtt_ms".into(), ms_value(rtt.srtt));
        o.insert("rttvar_ms".into(), ms_value(rtt.rttvar));
        e.insert("rtt".into(), Value::Object(o));
    }
    if let Some(age) = r.success_age {
        e.insert("success_age_ms".into(), ms_value(age));
    }
    e.insert("failures".into(), Value::from(r.failures));
    if let Some(age) = r.broken_age {
        e.insert("broken_age_ms".into(), ms_value(age));
    }
    Value::Object(e)
}

fn from_json(index: usize, e: &RawEntry) -> Result<HistoryRecord, HistoryFileError> {
    let path = format!("entries[{index}]");
    let network = required(&e.network, &path, "network")?;
    let network = network.as_u64().ok_or_else(|| {
        bad(
            format!("{path}.network"),
            format!("{network} is not an unsigned 64-bit integer"),
        )
    })?;
    let addr = required(&e.addr, &path, "addr")?;
    let addr: IpAddr =
        addr.as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| HistoryFileError::BadAddress {
                entry: index,
                value: addr.to_string(),
            })?;
    let age = read_ms(
        required(&e.age_ms, &path, "age_ms")?,
        &format!("{path}.age_ms"),
    )?;
    let rtt = match &e.rtt {
        None => None,
        Some(rtt) => {
            let p = format!("{path}.rtt");
            Some(RttEstimate {
                srtt: read_ms(
                    required(&rtt.srtt_ms, &p, "srtt_ms")?,
                    &format!("{p}.srtt_ms"),
                )?,
                rttvar: read_ms(
                    required(&rtt.rttvar_ms, &p, "rttvar_ms")?,
                    &format!("{p}.rttvar_ms"),
                )?,
            })
        }
    };
    let optional_ms = |key: &str, v: &Option<Value>| match v {
        None => Ok(None),
        Some(v) => read_ms(v, &format!("{path}.{key}")).map(Some),
    };
    let success_age = optional_ms("success_age_ms", &e.success_age_ms)?;
    let broken_age = optional_ms("broken_age_ms", &e.broken_age_ms)?;
    let failures = match &e.failures {
        None => 0,
        Some(v) => v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| {
                bad(
                    format!("{path}.failures"),
                    format!("{v} is not an unsigned 32-bit integer"),
                )
            })?,
    };
    Ok(HistoryRecord {
        network: NetworkId(network),
        addr,
        rtt,
        success_age,
        failures,
        broken_age,
        age,
    })
}

/// Milliseconds since the Unix epoch, by the system clock.
pub(crate) fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `record` as it is `elapsed` later.
fn aged(record: HistoryRecord, elapsed: Duration) -> HistoryRecord {
    let later = |d: Duration| d.saturating_add(elapsed);
    HistoryRecord {
        age: later(record.age),
        success_age: record.success_age.map(later),
        broken_age: record.broken_age.map(later),
        ..record
    }
}

/// Parses a whole file (nothing is loaded unless all of it is good); the ages are as
/// of `now`: the time since `"written_unix_ms"` is added to them.
pub(crate) fn parse(json: &str, now: SystemTime) -> Result<Vec<HistoryRecord>, HistoryFileError> {
    let root: Value = serde_json::from_str(json).map_err(|e| HistoryFileError::NotJson {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let Some(map) = root.as_object() else {
        return Err(bad(
            "(top level)",
            format!("expected an object with \"version\" and \"entries\", found {root}"),
        ));
    };
    match map.get("version") {
        Some(v) if v.as_u64() == Some(VERSION) => {}
        found => {
            return Err(HistoryFileError::UnsupportedVersion {
                found: found.map(Value::to_string),
            });
        }
    }
    let de = &mut serde_json::Deserializer::from_str(json);
    let raw: RawFile = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = match e.path().to_string() {
            root if root == "." => "(top level)".to_string(),
            path => path,
        };
        bad(path, e.inner().to_string())
    })?;
    // A clock set back (a file from the future) counts as written now.
    let elapsed = match &raw.written_unix_ms {
        None => Duration::ZERO,
        Some(v) => {
            let written = v.as_u64().ok_or_else(|| {
                bad(
                    "written_unix_ms",
                    format!("expected milliseconds since 1970, found {v}"),
                )
            })?;
            Duration::from_millis(unix_ms(now).saturating_sub(written))
        }
    };
    let entries = raw
        .entries
        .ok_or_else(|| bad("(top level).entries", "missing"))?;
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| from_json(i, e).map(|r| aged(r, elapsed)))
        .collect()
}

impl SharedHistory {
    /// The history as a JSON document (every network's live entries), for
    /// [`load_json`](SharedHistory::load_json) in a later run.
    ///
    /// The format, version 1: an object with `"version": 1`, `"written_unix_ms"` (when
    /// it was written, by the system clock: loading adds the time since to every age, so
    /// entries keep expiring between runs) and `"entries"`, an array of objects with
    /// - `"network"`: the [`NetworkId`], an unsigned 64-bit integer;
    /// - `"addr"`: the destination IP address, a string (`"2001:db8::1"`,
    ///   `"192.0.2.1"`);
    /// - `"age_ms"`: how long ago the entry was last updated, when written;
    /// - `"rtt"` (optional): `{"srtt_ms": .., "rttvar_ms": ..}`, the smoothed connect
    ///   RTT and its variation (RFC 6298);
    /// - `"success_age_ms"` (optional): how long ago the last success was;
    /// - `"failures"`: failures since the last success (0 when absent);
    /// - `"broken_age_ms"` (optional): how long ago the path was marked broken.
    ///
    /// Durations are milliseconds: integers when whole, else with a fraction (to the
    /// nanosecond). Times are ages, so a file is meaningful in another process with
    /// another clock. Unknown fields are refused when loading (a typo must not pass
    /// silently); a new field means a new version.
    ///
    /// ```
    /// use eyeballs::history::{HistoryConfig, NetworkId};
    /// use eyeballs_driver::SharedHistory;
    ///
    /// let history = SharedHistory::new(HistoryConfig::default(), NetworkId(7));
    /// let json = history.to_json();
    /// assert!(json.contains("\"version\": 1"));
    /// SharedHistory::default().load_json(&json).unwrap();
    /// ```
    pub fn to_json(&self) -> String {
        let mut root = Map::new();
        root.insert("version".into(), Value::from(VERSION));
        root.insert(
            "written_unix_ms".into(),
            Value::from(unix_ms(SystemTime::now())),
        );
        root.insert(
            "entries".into(),
            Value::Array(self.export().iter().map(to_json).collect()),
        );
        // `{:#}`: pretty-printed; writing to a String cannot fail.
        format!("{:#}", Value::Object(root))
    }

    /// Merges a file written by [`to_json`](SharedHistory::to_json) into this history,
    /// aged by the time since it was written (see [`import`](SharedHistory::import):
    /// expired records are skipped, fresher knowledge is kept). A bad file is refused as a whole with an error naming the
    /// problem, and nothing is loaded.
    ///
    /// ```
    /// use eyeballs_driver::{HistoryFileError, SharedHistory};
    ///
    /// let history = SharedHistory::default();
    /// let e = history.load_json(r#"{"version": 2, "entries": []}"#).unwrap_err();
    /// assert_eq!(e, HistoryFileError::UnsupportedVersion { found: Some("2".into()) });
    /// ```
    pub fn load_json(&self, json: &str) -> Result<(), HistoryFileError> {
        let records = parse(json, SystemTime::now())?;
        self.import(records);
        Ok(())
    }
}
