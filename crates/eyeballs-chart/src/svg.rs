//! The SVG chart: the same picture as the [text chart](crate::text), for a browser.
//!
//! A self-contained SVG 1.1 document (no scripts, no external fonts or stylesheets: generic
//! `sans-serif` and `monospace` families only): a title and the race's outcome, a time axis
//! with millisecond ticks and grid lines, a lane of DNS marks (queries as hollow circles,
//! answers as diamonds labelled with their record type, errors in red), and one bar per
//! attempt coloured by how it ended, with an end marker, its label on the left and a note on
//! the right. The winner's row is highlighted and its bar outlined. An attempt whose
//! transport handshake finished before a secure one ([`AttemptRow::transport`]) has the rest
//! of its bar, the secure handshake, in a lighter shade of its colour (a `secure` rectangle
//! over the bar), explained in the legend. Hovering over a bar or a
//! DNS mark shows its details (SVG `<title>`). Every piece of text is escaped for XML.
//!
//! ```
//! use std::time::Duration;
//! use eyeballs::{AttemptId, Protocol};
//! use eyeballs_chart::{svg, timeline::{RaceEnd, Timeline}};
//!
//! let mut t = Timeline::new("<one> & only");
//! t.attempt(Duration::ZERO, AttemptId(0), "192.0.2.1:443".parse().unwrap(), Protocol::Tcp);
//! t.connected(Duration::from_millis(20), AttemptId(0));
//! t.finish(Duration::from_millis(20), RaceEnd::Connected(AttemptId(0)));
//!
//! let picture = svg::render(&t);
//! assert!(picture.starts_with("<?xml"));
//! assert!(picture.contains("&lt;one&gt; &amp; only"));
//! assert!(picture.contains(r#"class="bar connected winner""#));
//! ```

use std::fmt::Write as _;

use crate::text::{shorten_end, shorten_middle};
#[cfg(doc)]
use crate::timeline::AttemptRow;
use crate::timeline::{DnsKind, Ending, RaceEnd, Timeline};
use crate::{Axis, ms};

/// The narrowest picture, in pixels.
const MIN_WIDTH: f64 = 960.0;
/// The narrowest time axis, in pixels.
const MIN_CHART: f64 = 420.0;
/// Outer margin.
const PAD: f64 = 16.0;
/// Gap between the label column, the chart and the note column.
const GAP: f64 = 14.0;
/// The advance of one character of 12 px monospace text (0.6 em, as common monospace fonts).
const CHAR: f64 = 7.2;
/// A generous average advance of a character of the 16 px bold title and of the 13 px
/// summary (full texts are in the document's `<title>` and `<desc>`).
const TITLE_CHAR: f64 = 10.0;
const SUMMARY_CHAR: f64 = 7.5;
/// Height of one attempt row.
const ROW: f64 = 26.0;
/// Height of a bar.
const BAR: f64 = 14.0;
/// Height of one level of DNS labels.
const DNS_LEVEL: f64 = 13.0;
/// The longest label and note, in characters (longer ones are shortened).
const MAX_LABEL: usize = 48;
const MAX_NOTE: usize = 44;

const CONNECTED: &str = "#2e7d32";
const FAILED: &str = "#c62828";
const CANCELLED: &str = "#9e9e9e";
const RUNNING: &str = "#1565c0";
const WINNER: &str = "#f9a825";
const WINNER_ROW: &str = "#fff8e1";
const DNS_ANSWER: &str = "#6a1b9a";
const GRID: &str = "#e0e0e0";
const INK: &str = "#212121";
const MUTED: &str = "#616161";
/// How much white lightens a bar during its secure handshake (the opacity of a white layer).
const SECURE_LIGHTEN: f64 = 0.55;

/// Text escaped for XML character data and attribute values. Characters XML 1.0 does not
/// allow at all (most control characters) become U+FFFD.
///
/// ```
/// assert_eq!(eyeballs_chart::svg::escape("a<b>&\"c'\u{1}"), "a&lt;b&gt;&amp;&quot;c&apos;\u{fffd}");
/// ```
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// How many characters of text `char_w` pixels wide fit across the picture.
fn fitting(width: f64, char_w: f64) -> usize {
    ((width - 2.0 * PAD) / char_w) as usize
}

/// How an ending is drawn: its CSS class and colour.
fn style(ending: &Ending) -> (&'static str, &'static str) {
    match ending {
        Ending::Running => ("running", RUNNING),
        Ending::Connected => ("connected", CONNECTED),
        Ending::Failed(_) => ("failed", FAILED),
        Ending::Cancelled(_) => ("cancelled", CANCELLED),
    }
}

/// Renders `timeline` as a standalone SVG document.
pub fn render(timeline: &Timeline) -> String {
    render_stack(None, &[timeline])
}

/// Renders several races as one standalone SVG document: the charts one above the other on
/// the same time axis (the longest race's) with aligned columns, under `heading` (which is
/// also the document's title; without it, the first race's title is), and one legend.
///
/// ```
/// use std::time::Duration;
/// use eyeballs::{AttemptId, Protocol};
/// use eyeballs_chart::{svg, timeline::{RaceEnd, Timeline}};
///
/// let race = |title: &str, ms: u64| {
///     let mut t = Timeline::new(title);
///     t.attempt(Duration::ZERO, AttemptId(0), "127.0.0.1:80".parse().unwrap(), Protocol::Tcp);
///     t.connected(Duration::from_millis(ms), AttemptId(0));
///     t.finish(Duration::from_millis(ms), RaceEnd::Connected(AttemptId(0)));
///     t
/// };
/// let picture = svg::render_stack(Some("two races"), &[&race("fast", 100), &race("slow", 1000)]);
/// assert!(picture.contains("<title>two races</title>"));
/// assert_eq!(picture.matches(r#"class="bar connected winner""#).count(), 2);
/// ```
pub fn render_stack(heading: Option<&str>, timelines: &[&Timeline]) -> String {
    let panels: Vec<Panel> = timelines.iter().map(|t| Panel::new(t)).collect();
    let longest = |f: fn(&Panel) -> &[String], min: usize| {
        panels
            .iter()
            .flat_map(|p| f(p).iter().map(|s| s.chars().count()))
            .max()
            .unwrap_or(0)
            .max(min) as f64
    };
    let label_w = longest(|p| &p.labels, 4) * CHAR;
    let note_w = longest(|p| &p.notes, 12) * CHAR;
    let chart_x = PAD + label_w + GAP;
    let width = MIN_WIDTH.max(chart_x + MIN_CHART + GAP + note_w + PAD);
    let chart_w = width - chart_x - GAP - note_w - PAD;
    let note_x = chart_x + chart_w + GAP;

    let total = timelines
        .iter()
        .map(|t| t.total())
        .max()
        .unwrap_or_default();
    let axis = Axis::new(total, ((chart_w / 80.0) as u32).clamp(2, 10));
    let x = |t| chart_x + axis.position(t, chart_w);
    let geometry = Geometry {
        width,
        chart_x,
        chart_w,
        note_x,
        axis,
    };

    // Vertical layout: the heading, then each panel, then the legend.
    let mut top = if heading.is_some() { 30.0 } else { 0.0 };
    let mut tops = Vec::new();
    for (p, t) in panels.iter().zip(timelines) {
        tops.push(top);
        top += p.height(t, &x) + PANEL_GAP;
    }
    let legend_y = top - PANEL_GAP + 28.0;
    let height = legend_y + 44.0;

    let mut s = String::new();
    let title = match (heading, timelines.first()) {
        (Some(h), _) => h.to_string(),
        (None, Some(t)) => chart_title(t),
        (None, None) => chart_title(&Timeline::new("")),
    };
    let desc: Vec<String> = timelines.iter().map(|t| t.summary()).collect();
    let _ = writeln!(s, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif" font-size="12" role="img">"#
    );
    let _ = writeln!(s, "<title>{}</title>", escape(&title));
    let _ = writeln!(s, "<desc>{}</desc>", escape(&desc.join("\n")));
    let _ = writeln!(
        s,
        r#"<rect x="0" y="0" width="{width:.0}" height="{height:.0}" fill="white"/>"#
    );
    if let Some(heading) = heading {
        let _ = writeln!(
            s,
            r#"<text class="heading" x="{PAD}" y="26" font-size="18" font-weight="bold" fill="{INK}">{}</text>"#,
            escape(&shorten_end(heading, fitting(width, HEADING_CHAR)))
        );
    }
    for ((p, t), top) in panels.iter().zip(timelines).zip(&tops) {
        panel(&mut s, t, p, &geometry, *top);
    }
    legend(
        &mut s,
        legend_y,
        timelines.iter().any(|t| !t.dns.is_empty()),
        timelines.iter().any(|t| t.has_secure_phase()),
    );
    let _ = writeln!(s, "</svg>");
    s
}

/// The gap between two stacked charts.
const PANEL_GAP: f64 = 12.0;
/// A generous average advance of a character of the 18 px bold heading.
const HEADING_CHAR: f64 = 11.0;

/// A chart's title, or a generic one.
fn chart_title(timeline: &Timeline) -> String {
    if timeline.title.is_empty() {
        "Happy Eyeballs race".to_string()
    } else {
        timeline.title.clone()
    }
}

/// The horizontal layout and the time axis the stacked charts share.
struct Geometry {
    width: f64,
    chart_x: f64,
    chart_w: f64,
    note_x: f64,
    axis: Axis,
}

impl Geometry {
    fn x(&self, t: std::time::Duration) -> f64 {
        self.chart_x + self.axis.position(t, self.chart_w)
    }
}

/// The texts of one chart's rows.
struct Panel {
    labels: Vec<String>,
    notes: Vec<String>,
}

impl Panel {
    fn new(timeline: &Timeline) -> Panel {
        let winner = timeline.winner().map(|w| w.id);
        Panel {
            labels: timeline
                .attempts
                .iter()
                .map(|r| shorten_middle(&r.label(), MAX_LABEL))
                .collect(),
            notes: timeline
                .attempts
                .iter()
                .map(|r| {
                    let mut note = r.note();
                    if Some(r.id) == winner {
                        note.push_str(" \u{2605} winner");
                    }
                    shorten_end(&note, MAX_NOTE)
                })
                .collect(),
        }
    }

    /// The height of the DNS lane (0 without DNS) and how many label levels it has.
    fn dns_lane(timeline: &Timeline, x: &impl Fn(std::time::Duration) -> f64) -> (f64, usize) {
        let levels = dns_label_levels(timeline, x);
        let count = levels.iter().copied().max().map_or(0, |l| l + 1);
        if timeline.dns.is_empty() {
            (0.0, 0)
        } else {
            (ROW + count as f64 * DNS_LEVEL, count)
        }
    }

    /// From the panel's top to the bottom of its last row.
    fn height(&self, timeline: &Timeline, x: &impl Fn(std::time::Duration) -> f64) -> f64 {
        let (dns_h, _) = Panel::dns_lane(timeline, x);
        AXIS_Y + 8.0 + dns_h + ROW * timeline.attempts.len().max(1) as f64
    }
}

/// Where the axis line sits below a panel's top.
const AXIS_Y: f64 = 88.0;

/// Draws one chart whose top is at `top`: title, summary, axis, DNS lane, rows.
fn panel(s: &mut String, timeline: &Timeline, p: &Panel, g: &Geometry, top: f64) {
    let Geometry {
        width,
        chart_x,
        chart_w,
        note_x,
        axis,
    } = *g;
    let x = |t| g.x(t);
    let winner = timeline.winner().map(|w| w.id);
    // An attempt still running is drawn to the end of its own race.
    let total = timeline.total();
    let axis_y = top + AXIS_Y;
    let dns_levels = dns_label_levels(timeline, &x);
    let (dns_h, level_count) = Panel::dns_lane(timeline, &x);
    let rows_y = axis_y + 8.0 + dns_h;
    let rows_h = ROW * timeline.attempts.len().max(1) as f64;

    let title = chart_title(timeline);
    let summary = timeline.summary();
    let _ = writeln!(s, r#"<g class="race">"#);
    let _ = writeln!(
        s,
        r#"<text x="{PAD}" y="{:.1}" font-size="16" font-weight="bold" fill="{INK}">{}</text>"#,
        top + 28.0,
        escape(&shorten_end(&title, fitting(width, TITLE_CHAR)))
    );
    let summary_colour = match (&timeline.end, winner) {
        (_, Some(_)) => CONNECTED,
        (None | Some((_, RaceEnd::Pending)), None) => MUTED,
        (Some(_), None) => FAILED,
    };
    let _ = writeln!(
        s,
        r#"<text x="{PAD}" y="{:.1}" font-size="13" fill="{summary_colour}">{}</text>"#,
        top + 50.0,
        escape(&shorten_end(&summary, fitting(width, SUMMARY_CHAR)))
    );

    // Axis: grid lines through every lane, ticks and labels.
    let grid_bottom = rows_y + rows_h;
    let _ = writeln!(s, r#"<g class="axis">"#);
    for t in axis.ticks() {
        let tx = x(t);
        let _ = writeln!(
            s,
            r#"<line x1="{tx:.1}" y1="{axis_y}" x2="{tx:.1}" y2="{grid_bottom:.1}" stroke="{GRID}"/>"#
        );
        let _ = writeln!(
            s,
            r#"<line x1="{tx:.1}" y1="{:.1}" x2="{tx:.1}" y2="{axis_y}" stroke="{MUTED}"/>"#,
            axis_y - 5.0
        );
        let _ = writeln!(
            s,
            r#"<text x="{tx:.1}" y="{:.1}" text-anchor="middle" fill="{MUTED}">{}</text>"#,
            axis_y - 9.0,
            escape(&ms(t))
        );
    }
    let _ = writeln!(
        s,
        r#"<line x1="{chart_x:.1}" y1="{axis_y}" x2="{:.1}" y2="{axis_y}" stroke="{MUTED}"/>"#,
        chart_x + chart_w
    );
    let _ = writeln!(s, "</g>");

    // DNS lane.
    if !timeline.dns.is_empty() {
        let lane_y = axis_y + 8.0;
        let mark_y = lane_y + level_count as f64 * DNS_LEVEL + ROW / 2.0;
        let _ = writeln!(s, r#"<g class="dns">"#);
        let _ = writeln!(
            s,
            r#"<text x="{PAD}" y="{:.1}" font-weight="bold" fill="{INK}">DNS</text>"#,
            mark_y + 4.0
        );
        for (m, level) in timeline.dns.iter().zip(&dns_levels) {
            let mx = x(m.at);
            let (class, what) = match &m.kind {
                DnsKind::Query => ("query", format!("query {} {} sent", m.record, m.name)),
                DnsKind::Answer(n) => (
                    "answer",
                    format!("answer {} {}: {n} record(s)", m.record, m.name),
                ),
                DnsKind::Error(e) => ("error", format!("answer {} {}: {e}", m.record, m.name)),
            };
            let tip = escape(&format!("{} at {}", what, ms(m.at)));
            let _ = write!(s, r#"<g class="dns-{class}"><title>{tip}</title>"#);
            match &m.kind {
                DnsKind::Query => {
                    let _ = write!(
                        s,
                        r#"<circle cx="{mx:.1}" cy="{mark_y:.1}" r="4" fill="white" stroke="{MUTED}" stroke-width="1.5"/>"#
                    );
                }
                DnsKind::Answer(_) | DnsKind::Error(_) => {
                    let colour = if class == "error" { FAILED } else { DNS_ANSWER };
                    let _ = write!(
                        s,
                        r#"<path d="M{mx:.1} {:.1} l6 6 l-6 6 l-6 -6 z" fill="{colour}"/>"#,
                        mark_y - 6.0
                    );
                    let text = match &m.kind {
                        DnsKind::Error(e) => format!("{} {e}", m.record),
                        _ => m.record.to_string(),
                    };
                    let _ = write!(
                        s,
                        r#"<text x="{mx:.1}" y="{:.1}" text-anchor="middle" font-size="10" fill="{colour}">{}</text>"#,
                        mark_y - 10.0 - *level as f64 * DNS_LEVEL,
                        escape(&text)
                    );
                }
            }
            let _ = writeln!(s, "</g>");
        }
        let _ = writeln!(s, "</g>");
    }

    // One row per attempt.
    for (i, ((r, label), note)) in timeline
        .attempts
        .iter()
        .zip(&p.labels)
        .zip(&p.notes)
        .enumerate()
    {
        let row_y = rows_y + i as f64 * ROW;
        let is_winner = Some(r.id) == winner;
        let (class, colour) = style(&r.ending);
        let x0 = x(r.start);
        let x1 = x(r.end.unwrap_or(total)).max(x0);
        let bar_y = row_y + (ROW - BAR) / 2.0;
        let mid_y = row_y + ROW / 2.0;
        let text_y = mid_y + 4.0;
        let transport = r
            .transport
            .map(|t| format!(", transport connected at {}", ms(t)))
            .unwrap_or_default();
        let tip = escape(&format!(
            "{}: started at {}{transport}, {}",
            r.label(),
            ms(r.start),
            r.note()
        ));
        let winner_class = if is_winner { " winner" } else { "" };
        let _ = writeln!(
            s,
            r#"<g class="attempt{winner_class}" data-id="{}"><title>{tip}</title>"#,
            r.id.0
        );
        if is_winner {
            let _ = writeln!(
                s,
                r#"<rect x="{:.1}" y="{row_y:.1}" width="{:.1}" height="{ROW}" fill="{WINNER_ROW}"/>"#,
                PAD / 2.0,
                width - PAD
            );
        }
        let weight = if is_winner { "bold" } else { "normal" };
        let _ = writeln!(
            s,
            r#"<text x="{PAD}" y="{text_y:.1}" font-family="monospace" font-weight="{weight}" fill="{INK}">{}</text>"#,
            escape(label)
        );
        let outline = if is_winner {
            format!(r#" stroke="{WINNER}" stroke-width="3""#)
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            r#"<rect class="bar {class}{winner_class}" x="{x0:.1}" y="{bar_y:.1}" width="{:.1}" height="{BAR}" rx="2" fill="{colour}"{outline}/>"#,
            (x1 - x0).max(2.0)
        );
        if let Some(t) = r.transport {
            // The secure handshake: the rest of the bar, lighter (inside the winner's outline).
            let inset = if is_winner { 1.5 } else { 0.0 };
            let xt = x(t).clamp(x0, x1);
            let _ = writeln!(
                s,
                r#"<rect class="secure" x="{xt:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="white" fill-opacity="{SECURE_LIGHTEN}"/>"#,
                bar_y + inset,
                (x1 - inset - xt).max(0.0),
                BAR - 2.0 * inset
            );
        }
        let _ = writeln!(s, "{}", end_marker(&r.ending, x1, mid_y));
        let _ = writeln!(
            s,
            r#"<text x="{note_x:.1}" y="{text_y:.1}" font-weight="{weight}" fill="{colour}">{}</text>"#,
            escape(note)
        );
        let _ = writeln!(s, "</g>");
    }
    if timeline.attempts.is_empty() {
        let _ = writeln!(
            s,
            r#"<text x="{chart_x:.1}" y="{:.1}" fill="{MUTED}">(no connection attempts)</text>"#,
            rows_y + ROW / 2.0 + 4.0
        );
    }
    let _ = writeln!(s, "</g>");
}

/// The marker at the end of a bar.
fn end_marker(ending: &Ending, x: f64, y: f64) -> String {
    match ending {
        Ending::Connected => format!(
            r#"<circle class="end" cx="{x:.1}" cy="{y:.1}" r="5.5" fill="{CONNECTED}" stroke="white" stroke-width="1.5"/>"#
        ),
        Ending::Failed(_) => format!(
            r#"<path class="end" d="M{:.1} {:.1} l10 10 m0 -10 l-10 10" stroke="{INK}" stroke-width="2.5"/>"#,
            x - 5.0,
            y - 5.0
        ),
        Ending::Cancelled(_) => format!(
            r#"<path class="end" d="M{x:.1} {:.1} v16" stroke="{INK}" stroke-width="2.5"/>"#,
            y - 8.0
        ),
        Ending::Running => format!(
            r#"<path class="end" d="M{x:.1} {:.1} l8 6 l-8 6 z" fill="{RUNNING}"/>"#,
            y - 6.0
        ),
    }
}

/// The legend: bar colours (with `secure`, the secure handshake's shade), then (with `dns`)
/// the DNS marks, then a hint.
fn legend(s: &mut String, y: f64, dns: bool, secure: bool) {
    let _ = writeln!(s, r#"<g class="legend" font-size="11" fill="{INK}">"#);
    let mut x = PAD;
    let entries: [(&str, &str, &str); 5] = [
        ("connected", CONNECTED, ""),
        ("failed", FAILED, ""),
        ("cancelled", CANCELLED, ""),
        ("still running", RUNNING, ""),
        ("winner", CONNECTED, WINNER),
    ];
    for (name, fill, stroke) in entries {
        let outline = if stroke.is_empty() {
            String::new()
        } else {
            format!(r#" stroke="{stroke}" stroke-width="3""#)
        };
        let _ = writeln!(
            s,
            r#"<rect x="{x:.1}" y="{:.1}" width="22" height="10" rx="2" fill="{fill}"{outline}/><text x="{:.1}" y="{y:.1}">{name}</text>"#,
            y - 9.0,
            x + 28.0
        );
        x += 28.0 + name.len() as f64 * 6.5 + 18.0;
    }
    if secure {
        let _ = writeln!(
            s,
            r#"<g class="legend-secure"><rect x="{x:.1}" y="{:.1}" width="22" height="10" rx="2" fill="{CONNECTED}"/><rect x="{:.1}" y="{:.1}" width="11" height="10" fill="white" fill-opacity="{SECURE_LIGHTEN}"/><text x="{:.1}" y="{y:.1}">transport connected, secure handshake under way</text></g>"#,
            y - 9.0,
            x + 11.0,
            y - 9.0,
            x + 28.0
        );
    }
    let y2 = y + 20.0;
    if !dns {
        let _ = writeln!(
            s,
            r#"<text x="{PAD}" y="{y2:.1}" fill="{MUTED}">times from the start of the race; hover for details</text>"#
        );
        let _ = writeln!(s, "</g>");
        return;
    }
    let _ = writeln!(
        s,
        r#"<circle cx="{:.1}" cy="{:.1}" r="4" fill="white" stroke="{MUTED}" stroke-width="1.5"/><text x="{:.1}" y="{y2:.1}">DNS query sent</text>"#,
        PAD + 6.0,
        y2 - 4.0,
        PAD + 18.0
    );
    let x2 = PAD + 130.0;
    let _ = writeln!(
        s,
        r#"<path d="M{:.1} {:.1} l6 6 l-6 6 l-6 -6 z" fill="{DNS_ANSWER}"/><text x="{:.1}" y="{y2:.1}">DNS answer</text>"#,
        x2 + 6.0,
        y2 - 10.0,
        x2 + 18.0
    );
    let x3 = x2 + 110.0;
    let _ = writeln!(
        s,
        r#"<path d="M{:.1} {:.1} l6 6 l-6 6 l-6 -6 z" fill="{FAILED}"/><text x="{:.1}" y="{y2:.1}">DNS error</text>"#,
        x3 + 6.0,
        y2 - 10.0,
        x3 + 18.0
    );
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{y2:.1}" fill="{MUTED}">times from the start of the race; hover for details</text>"#,
        x3 + 110.0
    );
    let _ = writeln!(s, "</g>");
}

/// For each DNS mark, the level its label goes on (0 nearest the mark), chosen so that
/// labels on one level do not overlap. Queries have no label and get level 0.
fn dns_label_levels(timeline: &Timeline, x: &impl Fn(std::time::Duration) -> f64) -> Vec<usize> {
    let mut level_ends: Vec<f64> = Vec::new();
    timeline
        .dns
        .iter()
        .map(|m| {
            let len = match &m.kind {
                DnsKind::Query => return 0,
                DnsKind::Answer(_) => m.record.as_str().len(),
                DnsKind::Error(e) => m.record.as_str().len() + 1 + e.chars().count(),
            };
            let half = len as f64 * 3.2;
            let (start, end) = (x(m.at) - half, x(m.at) + half);
            match level_ends.iter().position(|e| *e + 4.0 <= start) {
                Some(level) => {
                    level_ends[level] = end;
                    level
                }
                None => {
                    level_ends.push(end);
                    level_ends.len() - 1
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use eyeballs::{AttemptId, Protocol};

    use super::*;

    use crate::timeline::simulated as sim;

    const SPEC_A_BEFORE_AAAA: &str = r#"{"name": "A first", "host": "example.com", "port": 443,
        "dns": [{"type": "AAAA", "after_ms": 12, "answer": ["2001:db8::1"]},
                {"type": "A", "after_ms": 10, "answer": ["192.0.2.1", "192.0.2.2"]}],
        "network": [{"addr": "2001:db8::1", "result": "hang"},
                    {"addr": "192.0.2.1", "result": "refused", "after_ms": 1},
                    {"addr": "192.0.2.2", "result": "connected", "after_ms": 20}]}"#;

    #[test]
    fn the_picture_is_well_formed_xml_with_one_bar_per_attempt() {
        let t = sim(SPEC_A_BEFORE_AAAA);
        let picture = render(&t);
        let doc = roxmltree::Document::parse(&picture).unwrap();
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(
            root.tag_name().namespace(),
            Some("http://www.w3.org/2000/svg")
        );
        let class = |n: &roxmltree::Node| n.attribute("class").unwrap_or("").to_string();
        let bars: Vec<String> = doc
            .descendants()
            .filter(|n| class(n).starts_with("bar "))
            .map(|n| class(&n))
            .collect();
        assert_eq!(
            bars,
            ["bar cancelled", "bar failed", "bar connected winner"],
            "{picture}"
        );
        // Three answers' worth of DNS marks: two queries and two answers.
        let count = |c: &str| doc.descendants().filter(|n| class(n) == c).count();
        assert_eq!(count("dns-query"), 2);
        assert_eq!(count("dns-answer"), 2);
        // Title, labels, notes and tick labels are text a reader sees.
        let texts: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text())
            .collect();
        for want in [
            "A first",
            "connected to 192.0.2.2:443 over tcp (attempt #2) after 283ms",
            "#0 tcp [2001:db8::1]:443",
            "failed at 263ms: refused",
            "connected at 283ms \u{2605} winner",
            "0ms",
            "DNS",
        ] {
            assert!(texts.contains(&want), "{want:?} missing from {texts:?}");
        }
        // Bars lie inside the picture and in time order.
        let width: f64 = root.attribute("width").unwrap().parse().unwrap();
        let xs: Vec<f64> = doc
            .descendants()
            .filter(|n| class(n).starts_with("bar "))
            .map(|n| n.attribute("x").unwrap().parse().unwrap())
            .collect();
        assert!(xs.windows(2).all(|w| w[0] <= w[1]), "{xs:?}");
        assert!(xs.iter().all(|x| *x > 0.0 && *x < width));
    }

    /// A secure attempt's bar is lighter from its transport handshake on: one `secure`
    /// layer per attempt with a transport handshake, starting where the transport handshake
    /// finished and ending with the bar; the legend explains it, and the tooltip says when.
    #[test]
    fn the_secure_handshake_is_a_lighter_layer_from_the_transport_handshake_on() {
        let file = eyeballs_sim::scenarios::secure_dir().join("certificate-rejected-ipv6.json");
        let scenario = eyeballs_sim::json::read_scenario(&file).unwrap();
        let t = Timeline::from(&eyeballs_sim::run(&scenario).unwrap());
        let picture = render(&t);
        let doc = roxmltree::Document::parse(&picture).unwrap();
        let class = |n: &roxmltree::Node| n.attribute("class").unwrap_or("").to_string();
        let num =
            |n: &roxmltree::Node, a: &str| -> f64 { n.attribute(a).unwrap().parse().unwrap() };
        let attempts: Vec<roxmltree::Node> = doc
            .descendants()
            .filter(|n| class(n).starts_with("attempt"))
            .collect();
        assert_eq!(attempts.len(), 2);
        // #0: start 10 ms, TCP at 15 ms, certificate rejected at 35 ms; #1 (the winner): start
        // 35 ms, TCP at 40 ms, TLS done at 60 ms. Both split a fifth of the way along.
        for (attempt, inset) in attempts.iter().zip([0.0, 1.5]) {
            let bar = attempt
                .descendants()
                .find(|n| class(n).starts_with("bar "))
                .unwrap();
            let secure: Vec<roxmltree::Node> = attempt
                .descendants()
                .filter(|n| class(n) == "secure")
                .collect();
            assert_eq!(secure.len(), 1, "{picture}");
            let (bx, bw) = (num(&bar, "x"), num(&bar, "width"));
            let (sx, sw) = (num(&secure[0], "x"), num(&secure[0], "width"));
            let split = (sx - bx) / bw;
            assert!((split - 0.2).abs() < 0.01, "split at {split}\n{picture}");
            assert!((sx + sw + inset - (bx + bw)).abs() < 0.2, "{picture}");
            assert_eq!(secure[0].attribute("fill"), Some("white"));
        }
        let tip = attempts[0]
            .descendants()
            .find(|n| n.has_tag_name("title"))
            .and_then(|n| n.text())
            .unwrap();
        assert_eq!(
            tip,
            "#0 tcp [2001:db8::1]:443: started at 10ms, transport connected at 15ms, \
             failed at 35ms: handshake"
        );
        let legend = |picture: &str| picture.contains(r#"class="legend-secure""#);
        assert!(legend(&picture));
        // A race without a secure handshake has neither the layer nor its legend.
        let plain = render(&sim(SPEC_A_BEFORE_AAAA));
        assert!(!plain.contains(r#"class="secure""#) && !legend(&plain));
    }

    #[test]
    fn hostile_text_is_escaped() {
        let mut t = Timeline::new("<script>alert('x')</script> & \"more\" \u{7}");
        t.attempt(
            Duration::ZERO,
            AttemptId(0),
            "127.0.0.1:1".parse().unwrap(),
            Protocol::Tcp,
        );
        t.failed(Duration::from_millis(1), AttemptId(0), "<refused> & </g>");
        t.answer(
            Duration::ZERO,
            "a<b>.example",
            eyeballs::RecordType::A,
            0,
            Some("</text>"),
        );
        t.finish(Duration::from_millis(1), RaceEnd::Failed("<&>".into()));
        let picture = render(&t);
        assert!(!picture.contains("<script>"));
        let doc = roxmltree::Document::parse(&picture).unwrap();
        let title = doc
            .descendants()
            .find(|n| n.has_tag_name("title"))
            .and_then(|n| n.text())
            .unwrap();
        assert_eq!(title, "<script>alert('x')</script> & \"more\" \u{fffd}");
        assert!(
            doc.descendants()
                .any(|n| n.text() == Some("failed at 1ms: <refused> & </g>"))
        );
        assert!(doc.descendants().any(|n| n.text() == Some("A </text>")));
    }

    #[test]
    fn simultaneous_dns_labels_stack_instead_of_overlapping() {
        let t = sim(r#"{"host": "example.com", "port": 443,
                "dns": [{"type": "AAAA", "after_ms": 10, "answer": ["2001:db8::1"]},
                        {"type": "A", "after_ms": 10, "answer": ["192.0.2.1"]}],
                "network": [{"addr": "*", "result": "connected", "after_ms": 5}]}"#);
        let chart_x = 100.0;
        let levels = dns_label_levels(&t, &|d: Duration| chart_x + d.as_secs_f64() * 1000.0);
        // Two queries (no label), then two answers at the same instant on two levels.
        assert_eq!(levels, [0, 0, 0, 1]);
    }

    #[test]
    fn the_dns_legend_only_comes_with_dns() {
        let texts = |picture: &str| {
            let doc = roxmltree::Document::parse(picture).unwrap();
            doc.descendants()
                .filter_map(|n| n.text().map(str::to_string))
                .collect::<Vec<_>>()
        };
        let with = texts(&render(&sim(SPEC_A_BEFORE_AAAA)));
        assert!(with.iter().any(|t| t == "DNS answer"));
        let without = texts(&render(&sim(
            r#"{"port": 80, "addresses": ["192.0.2.1"], "network": [{"addr": "*", "result": "refused"}]}"#,
        )));
        assert!(!without.iter().any(|t| t.starts_with("DNS")), "{without:?}");
        assert!(without.iter().any(|t| t == "failed"));
    }

    #[test]
    fn a_race_without_attempts_is_still_a_picture() {
        let t = sim(r#"{"host": "example.com", "port": 443,
                "dns": [{"type": "AAAA", "error": "nxdomain"}, {"type": "A", "error": "servfail"}]}"#);
        let picture = render(&t);
        let doc = roxmltree::Document::parse(&picture).unwrap();
        assert!(
            doc.descendants()
                .any(|n| n.text() == Some("(no connection attempts)"))
        );
        assert_eq!(
            doc.descendants()
                .filter(|n| n.attribute("class") == Some("dns-error"))
                .count(),
            2
        );
    }

    #[test]
    fn stacked_races_share_the_axis_and_the_columns() {
        let fast = sim(r#"{"name": "fast", "port": 80, "addresses": ["192.0.2.1"],
                "network": [{"addr": "*", "result": "connected", "after_ms": 100}]}"#);
        let slow = sim(
            r#"{"name": "slow", "port": 80, "addresses": ["2001:db8::1", "192.0.2.1"],
                "config": {"attempt_timeout_ms": 2000},
                "network": [{"addr": "192.0.2.1", "result": "connected", "after_ms": 1000}]}"#,
        );
        let picture = render_stack(Some("fast & slow"), &[&fast, &slow]);
        let doc = roxmltree::Document::parse(&picture).unwrap();
        let title = doc.descendants().find(|n| n.has_tag_name("title"));
        assert_eq!(title.and_then(|n| n.text()), Some("fast & slow"));
        let races: Vec<roxmltree::Node> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("race"))
            .collect();
        assert_eq!(races.len(), 2);
        // The same tick labels in both charts, ending at the slow race's length.
        let ticks = |race: &roxmltree::Node| -> Vec<String> {
            race.descendants()
                .filter(|n| n.attribute("class") == Some("axis"))
                .flat_map(|axis| axis.descendants().filter(|n| n.has_tag_name("text")))
                .filter_map(|n| n.text().map(str::to_string))
                .collect()
        };
        assert_eq!(ticks(&races[0]), ticks(&races[1]));
        assert!(ticks(&races[0]).last().unwrap().ends_with("ms"));
        // On the shared axis the slow winner starts later and its bar is much longer.
        let bar = |race: &roxmltree::Node| -> (f64, f64) {
            let n = race
                .descendants()
                .find(|n| {
                    n.attribute("class")
                        .is_some_and(|c| c.starts_with("bar ") && c.ends_with(" winner"))
                })
                .unwrap();
            let x: f64 = n.attribute("x").unwrap().parse().unwrap();
            (x, n.attribute("width").unwrap().parse().unwrap())
        };
        let (fast_x, fast_w) = bar(&races[0]);
        let (slow_x, slow_w) = bar(&races[1]);
        assert!(
            fast_x < slow_x,
            "the slow winner starts after the IPv6 attempt's delay"
        );
        assert!(fast_w * 5.0 < slow_w, "{fast_w} vs {slow_w}");
        // The second chart sits below the first.
        let y_of = |race: &roxmltree::Node| -> f64 {
            race.descendants()
                .find(|n| n.has_tag_name("text"))
                .and_then(|n| n.attribute("y"))
                .unwrap()
                .parse()
                .unwrap()
        };
        assert!(y_of(&races[1]) > y_of(&races[0]) + 100.0);
    }
}
