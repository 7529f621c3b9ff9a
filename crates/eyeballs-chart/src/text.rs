//! The text Gantt chart: a race drawn in a terminal.
//!
//! One row per attempt with its label, a bar from its start to its end on a common time
//! axis, an end marker and a note saying how it ended; the winner's bar is drawn with `#`
//! and its note says so. An attempt whose transport handshake finished before a secure one
//! ([`AttemptRow::transport`]) is drawn with `~` from then on: the secure handshake (TLS),
//! after the transport's `=` (or `#`). DNS queries and answers are marks on a line of their
//! own above the attempts, and a legend follows (with a line for `~` when an attempt has
//! it). Every line fits the requested width (in characters).
//!
//! ```text
//! IPv6 silently drops SYNs, IPv4 answers in 20 ms
//! connected to 192.0.2.1:443 over tcp (attempt #1) after 270ms
//!
//!                           0ms     50ms    100ms   150ms   200ms   250ms   300ms
//!                           +-------+-------+-------+-------+-------+-------+
//! #0 tcp [2001:db8::1]:443  |=========================================/      cancelled at 270ms: lost the race
//! ...
//! ```
//!
//! ```
//! use std::time::Duration;
//! use eyeballs::{AttemptId, Protocol};
//! use eyeballs_chart::{text, timeline::{RaceEnd, Timeline}};
//!
//! let mut t = Timeline::new("one attempt");
//! t.attempt(Duration::ZERO, AttemptId(0), "192.0.2.1:443".parse().unwrap(), Protocol::Tcp);
//! t.connected(Duration::from_millis(20), AttemptId(0));
//! t.finish(Duration::from_millis(20), RaceEnd::Connected(AttemptId(0)));
//!
//! let chart = text::render(&t, text::DEFAULT_WIDTH);
//! assert!(chart.contains("#0 tcp 192.0.2.1:443  |####"));
//! assert!(chart.contains("connected at 20ms  <== WINNER"));
//! assert!(chart.lines().all(|l| l.chars().count() <= 100));
//! ```

use std::fmt::Write as _;
use std::time::Duration;

use eyeballs::RecordType;

use crate::Axis;
use crate::timeline::{AttemptRow, DnsKind, Ending, Timeline};

/// The width the `eyeballs` command draws at: 100 columns.
pub const DEFAULT_WIDTH: usize = 100;

/// The narrowest chart drawn; a smaller requested width is raised to this.
pub const MIN_WIDTH: usize = 60;

/// The most tick intervals on the time axis.
const MAX_TICKS: u32 = 10;

/// The narrowest bar area that long notes may shrink it to.
const MIN_BAR: usize = 36;

/// Appended to the winner's note.
const WINNER: &str = "  <== WINNER";

/// The bar of an attempt after its transport handshake finished, during its secure
/// handshake.
const SECURE: char = '~';

/// The legend line of [`SECURE`].
const SECURE_LEGEND: &str = "~ transport connected, secure handshake under way";

/// Renders `timeline` as a text Gantt chart at most `width` characters wide (at least
/// [`MIN_WIDTH`]); every line ends with a newline.
pub fn render(timeline: &Timeline, width: usize) -> String {
    render_stack(&[timeline], width)
}

/// Renders several races one above the other on the same time axis (the longest race's),
/// with their columns aligned, so that their lengths compare at a glance; one legend at the
/// end. Each chart has its own title and summary; a blank line separates them.
///
/// ```
/// use std::time::Duration;
/// use eyeballs::{AttemptId, Protocol};
/// use eyeballs_chart::{text, timeline::{RaceEnd, Timeline}};
///
/// let race = |title: &str, ms: u64| {
///     let mut t = Timeline::new(title);
///     t.attempt(Duration::ZERO, AttemptId(0), "127.0.0.1:80".parse().unwrap(), Protocol::Tcp);
///     t.connected(Duration::from_millis(ms), AttemptId(0));
///     t.finish(Duration::from_millis(ms), RaceEnd::Connected(AttemptId(0)));
///     t
/// };
/// let (fast, slow) = (race("fast", 100), race("slow", 1000));
/// let chart = text::render_stack(&[&fast, &slow], text::DEFAULT_WIDTH);
/// // Both axes run from 0ms to 1000ms.
/// let axes = chart.lines().filter(|l| l.trim_start().starts_with("0ms") && l.ends_with("1000ms"));
/// assert_eq!(axes.count(), 2);
/// assert_eq!(chart.matches("legend: ").count(), 1);
/// ```
pub fn render_stack(timelines: &[&Timeline], width: usize) -> String {
    let frame = Frame::new(timelines, width);
    let mut out = String::new();
    for (i, timeline) in timelines.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        chart(&mut out, timeline, &frame);
    }
    out.push('\n');
    legend(
        &mut out,
        timelines.iter().any(|t| !t.dns.is_empty()),
        timelines.iter().any(|t| t.has_secure_phase()),
        frame.width,
    );
    out
}

/// The attempt rows of a chart: label and note (the winner's mark not included), cleaned.
fn rows(timeline: &Timeline) -> Vec<(String, String)> {
    timeline
        .attempts
        .iter()
        .map(|r| (clean(&r.label()), clean(&r.note())))
        .collect()
}

/// The winner's mark for row `r` of `timeline`, or nothing.
fn suffix(timeline: &Timeline, r: &AttemptRow) -> &'static str {
    if timeline.winner().map(|w| w.id) == Some(r.id) {
        WINNER
    } else {
        ""
    }
}

/// The columns and the time axis shared by the charts drawn together.
struct Frame {
    width: usize,
    label_w: usize,
    note_w: usize,
    bar_w: usize,
    bar_x: usize,
    total: Duration,
    axis: Axis,
    tick_labels: Vec<String>,
}

impl Frame {
    fn new(timelines: &[&Timeline], width: usize) -> Frame {
        let width = width.max(MIN_WIDTH);
        let all: Vec<(&Timeline, Vec<(String, String)>)> =
            timelines.iter().map(|t| (*t, rows(t))).collect();
        // Columns: label, two spaces, bar, two spaces, note. The label takes at most 36% of
        // the line; the note what it needs while the bar keeps MIN_BAR columns, and at
        // least 12.
        let label_w = all
            .iter()
            .flat_map(|(_, rows)| rows.iter().map(|(l, _)| l.chars().count()))
            .max()
            .unwrap_or(0)
            .clamp(3, width * 36 / 100);
        let note_max = (width - label_w - 4).saturating_sub(MIN_BAR).max(12);
        let note_w = all
            .iter()
            .flat_map(|(t, rows)| {
                t.attempts
                    .iter()
                    .zip(rows)
                    .map(|(r, (_, n))| n.chars().count() + suffix(t, r).len())
            })
            .max()
            .unwrap_or(0)
            .clamp(12, note_max);
        let bar_w = width - label_w - note_w - 4;
        let bar_x = label_w + 2;
        let total = timelines
            .iter()
            .map(|t| t.total())
            .max()
            .unwrap_or_default();
        let (axis, tick_labels) = fit_axis(total, bar_w, width - bar_x);
        Frame {
            width,
            label_w,
            note_w,
            bar_w,
            bar_x,
            total,
            axis,
            tick_labels,
        }
    }

    /// The bar column of time `t`.
    fn col(&self, t: Duration) -> usize {
        self.axis.position(t, (self.bar_w - 1) as f64).round() as usize
    }
}

/// One chart: title, summary, axis, DNS line, attempt rows.
fn chart(out: &mut String, timeline: &Timeline, frame: &Frame) {
    let Frame {
        width,
        label_w,
        note_w,
        bar_w,
        bar_x,
        ..
    } = *frame;
    let title = if timeline.title.is_empty() {
        "Happy Eyeballs race"
    } else {
        &timeline.title
    };
    wrap_words(out, &clean(title), width);
    wrap_words(out, &clean(&timeline.summary()), width);
    out.push('\n');

    // The axis: tick labels, then the ruler.
    let mut labels = vec![' '; width];
    let mut ruler = vec!['-'; bar_w];
    for (t, text) in frame.axis.ticks().zip(&frame.tick_labels) {
        let c = frame.col(t);
        ruler[c] = '+';
        for (i, ch) in text.chars().enumerate() {
            labels[bar_x + c + i] = ch;
        }
    }
    line(out, &String::from_iter(labels));
    line(out, &format!("{:bar_x$}{}", "", String::from_iter(ruler)));

    if !timeline.dns.is_empty() {
        let mut marks = vec![' '; bar_w];
        for m in &timeline.dns {
            let c = frame.col(m.at);
            marks[c] = merge_dns_mark(marks[c], dns_char(&m.kind, m.record));
        }
        row(out, label_w, "DNS", &String::from_iter(marks), "");
    }

    let winner = timeline.winner().map(|w| w.id);
    // An attempt still running is drawn to the end of its own race.
    let own_total = timeline.total().min(frame.total);
    for (r, (label, note)) in timeline.attempts.iter().zip(rows(timeline)) {
        let start = frame.col(r.start);
        let end = frame.col(r.end.unwrap_or(own_total)).max(start);
        let is_winner = Some(r.id) == winner;
        // The transport handshake, then (from its column) the secure handshake.
        let secure_from = r.transport.map_or(end, |t| frame.col(t).clamp(start, end));
        let mut bar = vec![' '; bar_w];
        for (i, cell) in bar[start..end].iter_mut().enumerate() {
            *cell = match (start + i >= secure_from, is_winner) {
                (true, _) => SECURE,
                (false, true) => '#',
                (false, false) => '=',
            };
        }
        bar[start] = '|';
        bar[end] = match r.ending {
            Ending::Running => '>',
            Ending::Connected => 'C',
            Ending::Failed(_) => 'X',
            Ending::Cancelled(_) => '/',
        };
        let label = shorten_middle(&label, label_w);
        // The winner's mark is never cut; the note before it is.
        let mark = suffix(timeline, r);
        let note = shorten_end(&note, note_w - mark.len()) + mark;
        row(out, label_w, &label, &String::from_iter(bar), &note);
    }
    if timeline.attempts.is_empty() {
        row(out, label_w, "", "(no connection attempts)", "");
    }
}

/// The legend, with the DNS marks when `dns`, and a line for the secure handshake's bar when
/// `secure`.
fn legend(out: &mut String, dns: bool, secure: bool, width: usize) {
    let mut legend = vec![
        "| start",
        "= in flight",
        "# the winner",
        "C connected",
        "X failed",
        "/ cancelled",
        "> still running",
    ];
    if dns {
        legend.extend([
            "DNS: ? query",
            "6 AAAA answer",
            "4 A answer",
            "H HTTPS answer",
            "! error",
            "+ several",
        ]);
    }
    let prefix = "legend: ";
    wrap(out, prefix, &legend, "  ", width);
    if secure {
        wrap(
            out,
            &" ".repeat(prefix.len()),
            &[SECURE_LEGEND],
            "  ",
            width,
        );
    }
}

/// Chooses the axis with the most ticks (at most [`MAX_TICKS`] intervals) whose labels do
/// not collide on a bar `bar_w` columns wide with `room` columns from the bar's start to the
/// end of the line; returns it with its tick labels.
fn fit_axis(total: Duration, bar_w: usize, room: usize) -> (Axis, Vec<String>) {
    let mut fallback = None;
    for max_ticks in (1..=MAX_TICKS).rev() {
        let axis = Axis::new(total, max_ticks);
        let labels: Vec<String> = axis.ticks().map(crate::ms).collect();
        let mut free_from = 0;
        let mut fits = true;
        for (t, text) in axis.ticks().zip(&labels) {
            let c = axis.position(t, (bar_w - 1) as f64).round() as usize;
            let len = text.chars().count();
            if c < free_from || c + len > room {
                fits = false;
                break;
            }
            free_from = c + len + 1;
        }
        if fits {
            return (axis, labels);
        }
        fallback = Some((axis, labels));
    }
    // Even two ticks do not fit (an absurdly long race on a narrow bar): label only zero.
    let (axis, mut labels) = fallback.unwrap_or_else(|| (Axis::new(total, 1), Vec::new()));
    labels.truncate(1);
    (axis, labels)
}

fn dns_char(kind: &DnsKind, record: RecordType) -> char {
    match kind {
        DnsKind::Query => '?',
        DnsKind::Error(_) => '!',
        DnsKind::Answer(_) => match record {
            RecordType::Aaaa => '6',
            RecordType::A => '4',
            RecordType::Https => 'H',
        },
    }
}

/// Two DNS marks in one column: an error shows over an answer, an answer over a query, and
/// two different answers become `+`.
fn merge_dns_mark(old: char, new: char) -> char {
    let rank = |c| match c {
        ' ' => 0,
        '?' => 1,
        '!' => 3,
        _ => 2,
    };
    match rank(old).cmp(&rank(new)) {
        std::cmp::Ordering::Less => new,
        std::cmp::Ordering::Greater => old,
        std::cmp::Ordering::Equal if old == new => old,
        std::cmp::Ordering::Equal => '+',
    }
}

fn row(out: &mut String, label_w: usize, label: &str, bar: &str, note: &str) {
    line(out, &format!("{label:label_w$}  {bar}  {note}"));
}

/// Appends `text` without trailing spaces, and a newline.
fn line(out: &mut String, text: &str) {
    out.push_str(text.trim_end());
    out.push('\n');
}

/// Appends `items` after `prefix`, `sep` apart, wrapped at `width`; continuation lines are
/// indented as far as the prefix.
fn wrap(out: &mut String, prefix: &str, items: &[&str], sep: &str, width: usize) {
    let indent = prefix.chars().count();
    let mut current = prefix.to_string();
    let mut len = indent;
    let mut empty = true;
    for item in items {
        let item_len = item.chars().count();
        if !empty && len + sep.len() + item_len > width {
            line(out, &current);
            current = " ".repeat(indent);
            len = indent;
            empty = true;
        }
        if !empty {
            current.push_str(sep);
            len += sep.len();
        }
        current.push_str(item);
        len += item_len;
        empty = false;
    }
    let _ = write!(out, "{}", current.trim_end());
    out.push('\n');
}

/// Appends `text` word-wrapped at `width` (a word longer than a line is shortened).
fn wrap_words(out: &mut String, text: &str, width: usize) {
    let words: Vec<String> = text
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| shorten_end(w, width))
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    wrap(out, "", &words, " ", width);
}

/// Control characters (a terminal escape in a scenario name, say) shown as `?`.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// `s` cut to `w` characters, ending in `...` when cut.
pub(crate) fn shorten_end(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        return s.to_string();
    }
    let mut out: String = s.chars().take(w.saturating_sub(3)).collect();
    out.push_str("...");
    out
}

/// `s` cut to `w` characters by replacing its middle with `...` (an address keeps its port).
pub(crate) fn shorten_middle(s: &str, w: usize) -> String {
    let n = s.chars().count();
    if n <= w {
        return s.to_string();
    }
    let keep = w.saturating_sub(3);
    let tail = keep / 2;
    let head = keep - tail;
    let mut out: String = s.chars().take(head).collect();
    out.push_str("...");
    out.extend(s.chars().skip(n - tail));
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use eyeballs::{AttemptId, Protocol};

    use super::*;
    use crate::timeline::RaceEnd;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    use crate::timeline::simulated as sim;

    /// The spec's first example, drawn in full.
    #[test]
    fn the_v6_blackholed_race_renders_exactly() {
        let t = sim(
            r#"{"name": "IPv6 silently drops SYNs, IPv4 answers in 20 ms", "port": 443,
                "addresses": ["2001:db8::1", "192.0.2.1"],
                "network": [{"addr": "2001:db8::1", "result": "hang"},
                            {"addr": "192.0.2.1", "result": "connected", "after_ms": 20}]}"#,
        );
        let expected = "\
IPv6 silently drops SYNs, IPv4 answers in 20 ms
connected to 192.0.2.1:443 over tcp (attempt #1) after 270ms

                          0ms   50ms   100ms 150ms 200ms  250ms 300ms
                          +-----+------+-----+-----+------+-----+
#0 tcp [2001:db8::1]:443  |=================================/      cancelled at 270ms: lost the race
#1 tcp 192.0.2.1:443                                      |#C      connected at 270ms  <== WINNER

legend: | start  = in flight  # the winner  C connected  X failed  / cancelled  > still running
";
        let got = render(&t, DEFAULT_WIDTH);
        assert_eq!(got, expected, "\n{got}");
    }

    /// The secure-racing scenario of a TLS-dead IPv6 path, drawn in full: from the transport
    /// handshake on, each bar is `~` (the secure handshake), and the legend says so.
    #[test]
    fn the_secure_handshake_has_its_own_fill_and_legend_line() {
        let file = eyeballs_sim::scenarios::secure_dir().join("tls-dead-ipv6.json");
        let scenario = eyeballs_sim::json::read_scenario(&file).unwrap();
        let t = Timeline::from(&eyeballs_sim::run(&scenario).unwrap());
        // #0 starts at 10 ms and its TCP connects at 11 ms: `~` from its first column to its
        // cancel at 290 ms. #1 starts at 260 ms, TCP at 270 ms, TLS done at 290 ms.
        let expected = "\
TCP connects over IPv6 in 1 ms, then TLS never answers; TLS over IPv4 works
connected to 192.0.2.1:443 over tcp (attempt #1) after 290ms

                          0ms   50ms   100ms 150ms 200ms  250ms 300ms
                          +-----+------+-----+-----+------+-----+
DNS                       ?+
#0 tcp [2001:db8::1]:443   |~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~/   cancelled at 290ms: lost the race
#1 tcp 192.0.2.1:443                                       |~~~C   connected at 290ms  <== WINNER

legend: | start  = in flight  # the winner  C connected  X failed  / cancelled  > still running
        DNS: ? query  6 AAAA answer  4 A answer  H HTTPS answer  ! error  + several
        ~ transport connected, secure handshake under way
";
        let got = render(&t, DEFAULT_WIDTH);
        assert_eq!(got, expected, "\n{got}");
    }

    /// The two fills split at the transport handshake's column: the transport's `=` (or the
    /// winner's `#`) before it, `~` after it; a race without one has no `~` and no legend
    /// line for it.
    #[test]
    fn the_fills_split_at_the_transport_handshake() {
        let a = |s: &str| s.parse().unwrap();
        let mut t = Timeline::new("secure");
        t.attempt(ms(0), AttemptId(0), a("192.0.2.1:443"), Protocol::Tcp);
        t.transport(ms(50), AttemptId(0));
        t.attempt(ms(100), AttemptId(1), a("192.0.2.2:443"), Protocol::Tcp);
        t.transport(ms(150), AttemptId(1));
        t.failed(ms(100), AttemptId(0), "handshake");
        t.connected(ms(200), AttemptId(1));
        t.finish(ms(200), RaceEnd::Connected(AttemptId(1)));
        let chart = render(&t, DEFAULT_WIDTH);
        let bar = |id: &str| {
            let row = chart.lines().find(|l| l.starts_with(id)).unwrap();
            row.split("  ")
                .find(|part| part.contains('|'))
                .unwrap()
                .trim()
                .to_string()
        };
        // Half the bar before the transport handshake, half after (give or take the rounding
        // of the start, split and end to columns).
        let (v0, v1) = (bar("#0"), bar("#1"));
        assert!(v0.starts_with("|="), "{chart}");
        assert!(v0.ends_with("~X"), "{chart}");
        assert!(
            v0.matches('=').count().abs_diff(v0.matches('~').count()) <= 2,
            "{chart}"
        );
        assert!(v1.starts_with("|#") && v1.ends_with("~C"), "{chart}");
        assert!(
            v1.matches('#').count().abs_diff(v1.matches('~').count()) <= 2,
            "{chart}"
        );
        assert!(
            chart.ends_with(&format!("        {SECURE_LEGEND}\n")),
            "{chart}"
        );

        let mut plain = Timeline::new("plain");
        plain.attempt(ms(0), AttemptId(0), a("192.0.2.1:443"), Protocol::Tcp);
        plain.connected(ms(200), AttemptId(0));
        plain.finish(ms(200), RaceEnd::Connected(AttemptId(0)));
        let chart = render(&plain, DEFAULT_WIDTH);
        assert!(!chart.contains('~'), "{chart}");
        // Stacked with a secure race, the one legend has the line.
        assert!(render_stack(&[&plain, &t], DEFAULT_WIDTH).contains(SECURE_LEGEND));
    }

    #[test]
    fn dns_marks_sit_on_their_own_line() {
        let t = sim(r#"{"host": "example.com", "port": 443,
                "dns": [{"type": "AAAA", "after_ms": 12, "answer": ["2001:db8::1"]},
                        {"type": "A", "after_ms": 10, "answer": ["192.0.2.1"]}],
                "network": [{"addr": "*", "result": "connected", "after_ms": 100}]}"#);
        let chart = render(&t, DEFAULT_WIDTH);
        let dns = chart.lines().find(|l| l.starts_with("DNS")).unwrap();
        // Queries at 0, both answers 2 ms apart: on a 112 ms axis they share a column,
        // and two different answers in one column show as `+`.
        assert!(dns.contains('?'), "{chart}");
        assert!(
            dns.contains('+') || (dns.contains('4') && dns.contains('6')),
            "{chart}"
        );
        assert!(chart.contains("6 AAAA answer"));
        let row = chart.lines().find(|l| l.starts_with("#0")).unwrap();
        assert!(row.contains("<== WINNER"));
    }

    #[test]
    fn every_ending_has_its_marker() {
        let mut t = Timeline::new("endings");
        let a = |s: &str| s.parse().unwrap();
        t.attempt(ms(0), AttemptId(0), a("192.0.2.1:1"), Protocol::Tcp);
        t.attempt(ms(10), AttemptId(1), a("192.0.2.2:1"), Protocol::Tcp);
        t.attempt(ms(20), AttemptId(2), a("192.0.2.3:1"), Protocol::Quic);
        t.attempt(ms(30), AttemptId(3), a("192.0.2.4:1"), Protocol::Tcp);
        t.failed(ms(40), AttemptId(0), "refused");
        t.cancelled(ms(60), AttemptId(1), "caller gave up");
        t.connected(ms(50), AttemptId(2));
        t.finish(ms(100), RaceEnd::Cancelled);
        let chart = render(&t, DEFAULT_WIDTH);
        let row = |id: &str| {
            chart
                .lines()
                .find(|l| l.starts_with(id))
                .unwrap()
                .to_string()
        };
        assert!(row("#0").contains("=X") && row("#0").contains("failed at 40ms: refused"));
        assert!(row("#1").contains("=/") && row("#1").contains("cancelled at 60ms"));
        assert!(row("#2").contains("=C") && !row("#2").contains("WINNER"));
        assert!(row("#3").contains("=>") && row("#3").contains("still running"));
        assert!(chart.contains("cancelled after 100ms"));
        // No winner: no bar is drawn as the winner's.
        assert!(!chart.contains("|#"), "{chart}");
    }

    #[test]
    fn long_labels_notes_and_titles_fit_the_width() {
        let mut t = Timeline::new("a very long scenario name ".repeat(10));
        let a = "[2001:db8:1234:5678:9abc:def0:1234:5678]:65535"
            .parse()
            .unwrap();
        t.attempt(ms(0), AttemptId(1_000_000), a, Protocol::Quic);
        t.failed(
            ms(3),
            AttemptId(1_000_000),
            &"Connection refused ".repeat(8),
        );
        t.finish(ms(3), RaceEnd::Failed("every attempt failed ".repeat(8)));
        for width in [MIN_WIDTH, 80, DEFAULT_WIDTH, 160] {
            let chart = render(&t, width);
            for l in chart.lines() {
                assert!(l.chars().count() <= width, "{width}: {l:?}\n{chart}");
            }
            // The port survives shortening.
            assert!(chart.contains("65535"), "{chart}");
        }
        assert!(
            render(&t, 10)
                .lines()
                .all(|l| l.chars().count() <= MIN_WIDTH)
        );
    }

    #[test]
    fn a_race_with_no_attempts_and_no_time_still_draws() {
        let t = sim(r#"{"host": "example.com", "port": 443,
                "dns": [{"type": "AAAA", "error": "nxdomain"}, {"type": "A", "error": "nxdomain"}]}"#);
        let chart = render(&t, DEFAULT_WIDTH);
        assert!(chart.contains("(no connection attempts)"), "{chart}");
        assert!(chart.contains("failed after 0ms"), "{chart}");
        let dns = chart.lines().find(|l| l.starts_with("DNS")).unwrap();
        assert!(dns.contains('!'), "{chart}");
    }

    #[test]
    fn microsecond_races_get_a_microsecond_axis() {
        let mut t = Timeline::new("loopback");
        let us = Duration::from_micros;
        t.attempt(
            us(0),
            AttemptId(0),
            "127.0.0.1:80".parse().unwrap(),
            Protocol::Tcp,
        );
        t.connected(us(130), AttemptId(0));
        t.finish(us(130), RaceEnd::Connected(AttemptId(0)));
        let chart = render(&t, DEFAULT_WIDTH);
        // 0.13 ms on a 0.15 ms axis with a tick every 0.05 ms.
        assert!(chart.contains("  0.05ms  "), "{chart}");
        assert!(chart.contains("0.15ms\n"), "{chart}");
        assert!(chart.contains("connected at 0.13ms"), "{chart}");
    }

    #[test]
    fn control_characters_are_not_sent_to_the_terminal() {
        let t = Timeline::new("evil\u{1b}[2Jname");
        let chart = render(&t, DEFAULT_WIDTH);
        assert!(!chart.contains('\u{1b}'));
        assert!(chart.starts_with("evil?[2Jname\n"));
    }

    #[test]
    fn dns_marks_merge_by_importance() {
        assert_eq!(merge_dns_mark(' ', '?'), '?');
        assert_eq!(merge_dns_mark('?', '6'), '6');
        assert_eq!(merge_dns_mark('6', '?'), '6');
        assert_eq!(merge_dns_mark('6', '4'), '+');
        assert_eq!(merge_dns_mark('4', '4'), '4');
        assert_eq!(merge_dns_mark('4', '!'), '!');
    }

    #[test]
    fn shortening_keeps_both_ends_or_the_start() {
        assert_eq!(shorten_middle("abcdefghij", 7), "ab...ij");
        assert_eq!(shorten_middle("abc", 7), "abc");
        assert_eq!(shorten_end("abcdefghij", 7), "abcd...");
        assert_eq!(shorten_end("abc", 3), "abc");
    }
}
