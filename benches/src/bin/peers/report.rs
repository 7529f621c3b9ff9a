//! The Markdown report: the contenders' table, where their runs ended, the SVG charts.

use super::*;

/// The times of the runs that connected.
pub(super) fn times(runs: &[Run]) -> Vec<Duration> {
    runs.iter()
        .filter(|r| r.result.is_ok())
        .map(|r| r.elapsed)
        .collect()
}

/// "127.0.0.1 (15/15)" or "no connection (15/15)": where the runs ended.
pub(super) fn outcomes(runs: &[Run]) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for r in runs {
        let key = match &r.result {
            Ok(ip) => ip.to_string(),
            Err(e) => format!("failed: {e}"),
        };
        match counts.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => counts.push((key, 1)),
        }
    }
    counts
        .iter()
        .map(|(k, n)| format!("{k} ({n}/{})", runs.len()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The table of the contenders' measured runs and the chart's rows for them: one row per
/// contender, the median's ratio to the first contender's (`base`, the column's name),
/// `how_header` the column of each one's `how`. A contender that could not run says why
/// ("not installed"); one that never connected within its bound says so, with the bound.
/// A column of runs that made a TCP connection to the silent listener is added when the
/// contenders count them.
pub(super) fn contender_table(
    out: &mut String,
    contenders: &[Contender],
    how_header: &str,
    base: &str,
) -> Vec<Row> {
    let silent = contenders.iter().any(|c| c.to_silent.is_some());
    let base_median = contenders
        .first()
        .and_then(|c| Summary::of(&times(&c.runs)))
        .map(|s| s.median);
    let _ = write!(
        out,
        "| contender | {how_header} | median | p10 – p90 | min – max | × {base} | connected to |"
    );
    out.push_str(if silent {
        " TCP to the silent [::1] |\n|---|---|---:|---:|---:|---:|---|---:|\n"
    } else {
        "\n|---|---|---:|---:|---:|---:|---|\n"
    });
    let mut rows = Vec::new();
    for c in contenders {
        let (cells, bar) = match &c.run {
            Err(why) => (
                format!("| {} | | {why} | | | | |", c.label),
                Bar::Missing(why.clone()),
            ),
            Ok(_) => {
                let ok = times(&c.runs);
                match Summary::of(&ok) {
                    Some(s) if ok.len() == c.runs.len() => {
                        let ratio = base_median
                            .map(|b| format!("{:.2}", s.median.as_secs_f64() / b.as_secs_f64()))
                            .unwrap_or_default();
                        (
                            format!(
                                "| {} | {} | {} | {} – {} | {} – {} | {ratio} | {} |",
                                c.label,
                                c.how,
                                Human(s.median),
                                Human(s.p10),
                                Human(s.p90),
                                Human(s.min),
                                Human(s.max),
                                outcomes(&c.runs)
                            ),
                            Bar::Measured(s),
                        )
                    }
                    _ => {
                        let (said, bar) = match c.bound {
                            Some(b) if ok.is_empty() => (
                                format!("did not connect within {}", Human(b)),
                                Bar::TimedOut(b),
                            ),
                            _ => (
                                format!("{}/{} connected", ok.len(), c.runs.len()),
                                Bar::Missing(outcomes(&c.runs)),
                            ),
                        };
                        (
                            format!(
                                "| {} | {} | {said} | | | | {} |",
                                c.label,
                                c.how,
                                outcomes(&c.runs)
                            ),
                            bar,
                        )
                    }
                }
            }
        };
        out.push_str(&cells);
        if silent {
            match (&c.run, c.to_silent) {
                (Ok(_), Some(n)) => {
                    let _ = write!(out, " {n}/{} |", c.runs.len());
                }
                _ => out.push_str(" |"),
            }
        }
        out.push('\n');
        rows.push(Row {
            label: c.label.clone(),
            bar,
        });
    }
    rows
}

/// Writes the chart of `rows` to `path` (the Connection Attempt Delay marked) and, in the
/// Markdown, a reference to it with `alt` for its text (by file name: the chart sits next
/// to RESULTS.md).
pub(super) fn write_chart(out: &mut String, path: &Path, title: &str, alt: &str, rows: &[Row]) {
    let doc = chart::svg(
        title,
        rows,
        &[Marker {
            at: CONNECTION_ATTEMPT_DELAY,
            label: format!(
                "Connection Attempt Delay {}",
                Human(CONNECTION_ATTEMPT_DELAY)
            ),
        }],
    );
    if let Err(e) = std::fs::write(path, doc) {
        eprintln!("peers: cannot write {}: {e}", path.display());
        std::process::exit(1);
    }
    let file = path.file_name().map_or_else(
        || path.display().to_string(),
        |f| f.to_string_lossy().into_owned(),
    );
    let _ = writeln!(out, "\n![{alt}]({file})");
}

/// A comparison that could not run: says why, and draws a chart that says so.
pub(super) fn not_measured(out: &mut String, svg: Option<&Path>, title: &str, why: &str) {
    let _ = writeln!(out, "Not measured: {why}.");
    if let Some(path) = svg {
        let row = Row {
            label: "every contender".into(),
            bar: Bar::Missing(format!("not measured: {why}")),
        };
        let doc = chart::svg(title, &[row], &[]);
        if let Err(e) = std::fs::write(path, doc) {
            eprintln!("peers: cannot write {}: {e}", path.display());
            std::process::exit(1);
        }
    }
}
