//! A horizontal bar chart in hand-written SVG (no plotting tool needed): one row per
//! contender, the bar at the median, a whisker from the 10th to the 90th percentile.

use std::fmt::Write as _;
use std::time::Duration;

use eyeballs_chart::Axis;
use eyeballs_chart::svg::escape;

use crate::stats::{Human, Summary};

/// What a row shows.
#[derive(Clone, Debug, PartialEq)]
pub enum Bar {
    /// Timings: a bar at the median, a whisker over p10..p90.
    Measured(Summary),
    /// No connection within this bound: a hatched bar to the bound.
    TimedOut(Duration),
    /// Nothing measured (not installed, failed): this text instead of a bar.
    Missing(String),
}

/// One row of the chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The contender's name.
    pub label: String,
    /// What to draw.
    pub bar: Bar,
}

/// A labelled vertical reference line (e.g. the Connection Attempt Delay).
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    /// Where.
    pub at: Duration,
    /// Its label.
    pub label: String,
}

/// The plot's width; the label column is as wide as the longest label.
const PLOT_W: f64 = 460.0;
/// Room right of the plot for value labels.
const RIGHT_PAD: f64 = 200.0;
/// An upper bound of a character's width at font size 13.
const CHAR_W: f64 = 7.4;
const ROW_H: f64 = 30.0;
const TOP: f64 = 56.0;
const BOTTOM: f64 = 44.0;

/// A tick's label: milliseconds, without needless decimals (`0`, `2.5`, `250`, `2250`).
fn tick_label(ms: f64) -> String {
    let text = format!("{ms:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The time axis: the largest value drawn, with room, on round steps (the axis of the
/// command's race charts, [`eyeballs_chart::Axis`]).
fn axis(rows: &[Row], markers: &[Marker]) -> Axis {
    let bars = rows.iter().map(|r| match &r.bar {
        Bar::Measured(s) => s.p90.max(s.median),
        Bar::TimedOut(bound) => *bound,
        Bar::Missing(_) => Duration::ZERO,
    });
    let max = bars
        .chain(markers.iter().map(|m| m.at))
        .max()
        .unwrap_or_default()
        .max(Duration::from_millis(1));
    Axis::new(max.mul_f64(1.05), 10)
}

/// The chart as an SVG document.
///
/// ```
/// use std::time::Duration;
/// use eyeballs_benches::chart::{svg, Bar, Marker, Row};
/// use eyeballs_benches::stats::Summary;
///
/// let ms = Duration::from_millis;
/// let rows = [
///     Row { label: "eyeballs".into(), bar: Bar::Measured(Summary::of(&[ms(251), ms(252)]).unwrap()) },
///     Row { label: "naive".into(), bar: Bar::TimedOut(ms(2000)) },
///     Row { label: "curl".into(), bar: Bar::Missing("not installed".into()) },
/// ];
/// let marker = Marker { at: ms(250), label: "250 ms".into() };
/// let doc = svg("Time to connect", &rows, &[marker]);
/// assert!(doc.starts_with("<svg") && doc.trim_end().ends_with("</svg>"));
/// assert!(doc.contains("not installed"));
/// ```
pub fn svg(title: &str, rows: &[Row], markers: &[Marker]) -> String {
    let longest = rows
        .iter()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(0);
    let label_w = (longest as f64 * CHAR_W + 24.0).max(120.0);
    let plot_w = PLOT_W;
    let width = label_w + PLOT_W + RIGHT_PAD;
    let height = TOP + ROW_H * rows.len() as f64 + BOTTOM;
    let axis = axis(rows, markers);
    let x = |d: Duration| label_w + axis.position(d, plot_w);
    let bottom = TOP + ROW_H * rows.len() as f64;
    let mut s = String::new();
    // `write!` into a String cannot fail.
    let _ = writeln!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height}" viewBox="0 0 {width:.0} {height}" font-family="sans-serif" font-size="13">"##
    );
    let _ = writeln!(
        s,
        r##"<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f6d5d5"/><line x1="0" y1="0" x2="0" y2="6" stroke="#c0392b" stroke-width="2"/></pattern></defs>"##
    );
    let _ = writeln!(
        s,
        r##"<rect width="{width:.0}" height="{height}" fill="white"/><text x="12" y="24" font-size="16" font-weight="bold">{}</text>"##,
        escape(title)
    );
    // Grid and axis.
    for tick in axis.ticks() {
        let tx = x(tick);
        let _ = writeln!(
            s,
            r##"<line x1="{tx:.1}" y1="{TOP}" x2="{tx:.1}" y2="{bottom}" stroke="#e4e4e4"/><text x="{tx:.1}" y="{:.1}" text-anchor="middle" fill="#555">{}</text>"##,
            bottom + 18.0,
            tick_label(tick.as_secs_f64() * 1e3)
        );
    }
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#555">time to connect, ms (bar: median; whisker: 10th to 90th percentile)</text>"##,
        label_w + plot_w / 2.0,
        bottom + 36.0
    );
    for (i, row) in rows.iter().enumerate() {
        let y = TOP + ROW_H * i as f64;
        let mid = y + ROW_H / 2.0;
        if i % 2 == 1 {
            let _ = writeln!(
                s,
                r##"<rect x="0" y="{y:.1}" width="{width:.0}" height="{ROW_H}" fill="#f7f7f7" fill-opacity="0.6"/>"##
            );
        }
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            label_w - 10.0,
            mid + 4.5,
            escape(&row.label)
        );
        match &row.bar {
            Bar::Measured(sum) => {
                let (x0, xm) = (x(Duration::ZERO), x(sum.median));
                let (lo, hi) = (x(sum.p10), x(sum.p90));
                let _ = writeln!(
                    s,
                    r##"<rect x="{x0:.1}" y="{:.1}" width="{:.1}" height="14" fill="#2e86c1"/>"##,
                    mid - 7.0,
                    (xm - x0).max(1.0)
                );
                let _ = writeln!(
                    s,
                    r##"<path d="M{lo:.1} {mid:.1}H{hi:.1}M{lo:.1} {:.1}V{:.1}M{hi:.1} {:.1}V{:.1}" stroke="#1b2631" stroke-width="1.5" fill="none"/>"##,
                    mid - 5.0,
                    mid + 5.0,
                    mid - 5.0,
                    mid + 5.0
                );
                let _ = writeln!(
                    s,
                    r##"<text x="{:.1}" y="{:.1}">{}</text>"##,
                    hi.max(xm) + 8.0,
                    mid + 4.5,
                    Human(sum.median)
                );
            }
            Bar::TimedOut(bound) => {
                let (x0, xb) = (x(Duration::ZERO), x(*bound));
                let _ = writeln!(
                    s,
                    r##"<rect x="{x0:.1}" y="{:.1}" width="{:.1}" height="14" fill="url(#hatch)" stroke="#c0392b"/><text x="{:.1}" y="{:.1}" fill="#c0392b">no connection within {}</text>"##,
                    mid - 7.0,
                    xb - x0,
                    xb + 8.0,
                    mid + 4.5,
                    Human(*bound)
                );
            }
            Bar::Missing(why) => {
                let _ = writeln!(
                    s,
                    r##"<text x="{:.1}" y="{:.1}" fill="#888" font-style="italic">{}</text>"##,
                    label_w + 4.0,
                    mid + 4.5,
                    escape(why)
                );
            }
        }
    }
    for m in markers {
        let mx = x(m.at);
        let _ = writeln!(
            s,
            r##"<line x1="{mx:.1}" y1="{:.1}" x2="{mx:.1}" y2="{bottom}" stroke="#e67e22" stroke-dasharray="4 3"/><text x="{mx:.1}" y="{:.1}" text-anchor="middle" fill="#e67e22">{}</text>"##,
            TOP - 12.0,
            TOP - 16.0,
            escape(&m.label)
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn labels_are_escaped() {
        let rows = [Row {
            label: "a<b> & \"c\"".into(),
            bar: Bar::Missing("x & y".into()),
        }];
        let doc = svg("t<", &rows, &[]);
        assert!(doc.contains("a&lt;b&gt; &amp; &quot;c&quot;"));
        assert!(doc.contains("x &amp; y"));
        assert!(doc.contains("t&lt;"));
        assert!(!doc.contains("a<b>"));
    }

    #[test]
    fn axis_covers_every_value_with_round_ticks() {
        let rows = [
            Row {
                label: "a".into(),
                bar: Bar::Measured(Summary::of(&[ms(200), ms(310)]).unwrap()),
            },
            Row {
                label: "b".into(),
                bar: Bar::TimedOut(ms(2000)),
            },
        ];
        let a = axis(&rows, &[]);
        assert!(a.span >= ms(2000), "{a:?}");
        assert!(a.ticks().count() <= 11, "{a:?}");
        let a = axis(&rows[..1], &[]);
        assert!(a.span >= ms(310) && a.span <= ms(400), "{a:?}");
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(tick_label(0.0), "0");
        assert_eq!(tick_label(250.0), "250");
        assert_eq!(tick_label(2.5), "2.5");
        assert_eq!(tick_label(0.05), "0.05");
    }

    #[test]
    fn bars_are_proportional() {
        // One row at 500 ms on an axis of 1000 ms ends in the middle of the plot.
        let rows = [Row {
            label: "a".into(),
            bar: Bar::Measured(Summary::of(&[ms(500)]).unwrap()),
        }];
        let doc = svg(
            "t",
            &rows,
            &[Marker {
                at: ms(950),
                label: "m".into(),
            }],
        );
        let plot_w = PLOT_W;
        let a = axis(
            &rows,
            &[Marker {
                at: ms(950),
                label: "m".into(),
            }],
        );
        let want = format!("width=\"{:.1}\" height=\"14\"", a.position(ms(500), plot_w));
        assert!(doc.contains(&want), "{want} in {doc}");
    }
}
