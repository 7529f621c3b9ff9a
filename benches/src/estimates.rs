//! Reading criterion's results: every `<target>/criterion/**/new/benchmark.json` with its
//! `estimates.json`, so that the benchmark script can put numbers and ratios in a table.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// A point estimate with its 95 % confidence interval, in nanoseconds per iteration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    /// The estimate.
    pub point: f64,
    /// The lower bound of the 95 % confidence interval.
    pub low: f64,
    /// The upper bound of the 95 % confidence interval.
    pub high: f64,
}

/// One benchmark's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    /// Its full id, `group/function/value` as given to criterion (e.g. `race/win_last/2`).
    pub id: String,
    /// The median time per iteration.
    pub median: Interval,
    /// The mean time per iteration.
    pub mean: Interval,
    /// The elements per iteration, when the benchmark declared an element throughput.
    pub elements: Option<u64>,
}

/// What went wrong reading criterion's output.
#[derive(Debug)]
pub struct EstimatesError {
    /// The file (or directory) concerned.
    pub path: PathBuf,
    /// What is wrong with it.
    pub what: String,
}

impl fmt::Display for EstimatesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.what)
    }
}

impl std::error::Error for EstimatesError {}

fn interval(estimates: &Value, key: &str) -> Result<Interval, String> {
    let e = estimates
        .get(key)
        .ok_or_else(|| format!("no \"{key}\" estimate"))?;
    let num = |v: Option<&Value>, what: &str| {
        v.and_then(Value::as_f64)
            .ok_or_else(|| format!("\"{key}\" has no numeric {what}"))
    };
    let ci = e.get("confidence_interval");
    Ok(Interval {
        point: num(e.get("point_estimate"), "point_estimate")?,
        low: num(ci.and_then(|c| c.get("lower_bound")), "lower_bound")?,
        high: num(ci.and_then(|c| c.get("upper_bound")), "upper_bound")?,
    })
}

/// One benchmark from the text of its `benchmark.json` and `estimates.json`.
///
/// ```
/// let bench = r#"{"full_id":"g/f/2","throughput":{"Elements":2}}"#;
/// let ci = r#"{"confidence_interval":{"lower_bound":9.0,"upper_bound":11.0},"point_estimate":10.0}"#;
/// let est = format!(r#"{{"mean":{ci},"median":{ci}}}"#);
/// let e = eyeballs_benches::estimates::parse(bench, &est).unwrap();
/// assert_eq!((e.id.as_str(), e.median.point, e.elements), ("g/f/2", 10.0, Some(2)));
/// ```
pub fn parse(benchmark_json: &str, estimates_json: &str) -> Result<Estimate, String> {
    let bench: Value =
        serde_json::from_str(benchmark_json).map_err(|e| format!("benchmark.json: {e}"))?;
    let est: Value =
        serde_json::from_str(estimates_json).map_err(|e| format!("estimates.json: {e}"))?;
    let id = bench
        .get("full_id")
        .and_then(Value::as_str)
        .ok_or("benchmark.json has no \"full_id\"")?
        .to_string();
    let elements = bench
        .get("throughput")
        .and_then(|t| t.get("Elements"))
        .and_then(Value::as_u64);
    Ok(Estimate {
        id,
        median: interval(&est, "median").map_err(|e| format!("estimates.json: {e}"))?,
        mean: interval(&est, "mean").map_err(|e| format!("estimates.json: {e}"))?,
        elements,
    })
}

/// Every benchmark under `criterion_dir` (usually `target/criterion`), sorted by id.
pub fn read_all(criterion_dir: &Path) -> Result<Vec<Estimate>, EstimatesError> {
    let mut found = Vec::new();
    let mut stack = vec![criterion_dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| EstimatesError {
            path: dir.clone(),
            what: e.to_string(),
        })?;
        for entry in entries {
            let path = entry
                .map_err(|e| EstimatesError {
                    path: dir.clone(),
                    what: e.to_string(),
                })?
                .path();
            if !path.is_dir() {
                continue;
            }
            if path.file_name().is_some_and(|n| n == "new") {
                let read = |name: &str| {
                    let file = path.join(name);
                    std::fs::read_to_string(&file).map_err(|e| EstimatesError {
                        path: file,
                        what: e.to_string(),
                    })
                };
                let (bench, est) = (read("benchmark.json")?, read("estimates.json")?);
                found.push(parse(&bench, &est).map_err(|what| EstimatesError {
                    path: path.clone(),
                    what,
                })?);
            } else {
                stack.push(path);
            }
        }
    }
    found.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(found)
}

/// `a / b` with its range: the point ratio, and the lowest and highest ratio the two 95 %
/// confidence intervals allow.
///
/// ```
/// use eyeballs_benches::estimates::{Interval, ratio};
/// let a = Interval { point: 110.0, low: 100.0, high: 120.0 };
/// let b = Interval { point: 100.0, low: 80.0, high: 125.0 };
/// let r = ratio(a, b);
/// assert_eq!((r.point, r.low, r.high), (1.1, 0.8, 1.5));
/// ```
pub fn ratio(a: Interval, b: Interval) -> Interval {
    Interval {
        point: a.point / b.point,
        low: a.low / b.high,
        high: a.high / b.low,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ESTIMATES: &str = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1466.3,"upper_bound":1620.0},"point_estimate":1544.7,"standard_error":39.1},"median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1697.9,"upper_bound":1785.8},"point_estimate":1749.2,"standard_error":25.2},"slope":null}"#;

    #[test]
    fn reads_what_criterion_writes() {
        let bench = r#"{"group_id":"race/win_last","function_id":null,"value_str":"2","throughput":{"Elements":2},"full_id":"race/win_last/2","directory_name":"race_win_last/2","title":"race/win_last/2"}"#;
        let e = parse(bench, ESTIMATES).unwrap();
        assert_eq!(e.id, "race/win_last/2");
        assert_eq!(e.elements, Some(2));
        assert_eq!(
            e.median,
            Interval {
                point: 1749.2,
                low: 1697.9,
                high: 1785.8
            }
        );
        assert_eq!(e.mean.point, 1544.7);
    }

    #[test]
    fn no_throughput_is_none() {
        let bench = r#"{"full_id":"connect/x","throughput":null}"#;
        assert_eq!(parse(bench, ESTIMATES).unwrap().elements, None);
    }

    #[test]
    fn bad_files_name_the_problem() {
        let e = parse("{}", ESTIMATES).unwrap_err();
        assert!(e.contains("full_id"), "{e}");
        let e = parse(r#"{"full_id":"x"}"#, r#"{"mean":{}}"#).unwrap_err();
        assert!(e.contains("median"), "{e}");
        let e = parse("not json", ESTIMATES).unwrap_err();
        assert!(e.starts_with("benchmark.json"), "{e}");
    }

    #[test]
    fn walks_a_directory() {
        let dir = std::env::temp_dir().join(format!("eyeballs-estimates-{}", std::process::id()));
        let new = dir.join("grp_a").join("1").join("new");
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(new.join("benchmark.json"), r#"{"full_id":"grp/a/1"}"#).unwrap();
        std::fs::write(new.join("estimates.json"), ESTIMATES).unwrap();
        // criterion's other directories are ignored.
        std::fs::create_dir_all(dir.join("grp_a").join("1").join("base")).unwrap();
        let all = read_all(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
        let all = all.unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].id, "grp/a/1");
        let missing = read_all(&dir).unwrap_err();
        assert_eq!(missing.path, dir);
    }
}
