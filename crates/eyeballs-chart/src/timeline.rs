//! The neutral timeline model both chart renderers draw.
//!
//! A [`Timeline`] is what happened in one race, in the vocabulary every source of races
//! shares ([`eyeballs::trace::Event`]: the simulator's trace, the real driver's race report):
//! DNS queries and answers, attempts started, their transport handshakes (for an attempt
//! with a secure handshake after it), attempts failed, connected and cancelled, and how the
//! race ended, each at a time measured from the start of the race. Every event, from either
//! source, is recorded by [`Timeline::event`]: from a simulator trace with
//! `Timeline::from(&trace)` (feature `sim`; exact virtual times), from a real race's events
//! as they happen with `Timeline::record`, or from a finished race's report with
//! `Timeline::from(&report)` (feature `driver`; times
//! [rounded for a reader](crate::readable)). The recording methods it calls ([`Timeline::query`],
//! [`Timeline::attempt`], ...) build a timeline by hand.
//!
//! ```
//! use std::time::Duration;
//! use eyeballs::{AttemptId, Protocol, RecordType};
//! use eyeballs_chart::timeline::{Ending, RaceEnd, Timeline};
//!
//! let ms = Duration::from_millis;
//! let mut t = Timeline::new("by hand");
//! t.query(ms(0), "example.com", RecordType::A);
//! t.answer(ms(10), "example.com", RecordType::A, 1, None);
//! t.attempt(ms(10), AttemptId(0), "192.0.2.1:443".parse().unwrap(), Protocol::Tcp);
//! t.connected(ms(30), AttemptId(0));
//! t.finish(ms(30), RaceEnd::Connected(AttemptId(0)));
//!
//! assert_eq!(t.attempts[0].ending, Ending::Connected);
//! assert_eq!(t.winner().map(|r| r.id), Some(AttemptId(0)));
//! assert_eq!(t.total(), ms(30));
//! assert_eq!(t.summary(), "connected to 192.0.2.1:443 over tcp (attempt #0) after 30ms");
//! ```

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::SocketAddr;
use std::time::Duration;

use eyeballs::trace::{Event, TimedEvent};
use eyeballs::{
    AttemptFailure, AttemptId, CancelReason, DnsError, Outcome, Protocol, RaceResult, RecordType,
};
#[cfg(feature = "driver")]
use eyeballs_driver::RaceReport;
#[cfg(feature = "sim")]
use eyeballs_sim::Trace;

use crate::{ms, readable};

/// One race, ready to draw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeline {
    /// What the chart is about (the scenario's name, or the host for a real race).
    pub title: String,
    /// DNS queries and answers, in the order they happened.
    pub dns: Vec<DnsMark>,
    /// One row per connection attempt, in start order.
    pub attempts: Vec<AttemptRow>,
    /// How and when the race ended; `None` while it has not been recorded.
    pub end: Option<(Duration, RaceEnd)>,
    /// The latest time any event was recorded at.
    pub last: Duration,
    /// Where each attempt's row is, by id, so that recording an event is O(1) and a race
    /// of N attempts costs O(N), not O(N²).
    rows: RowIndex,
}

/// The index of [`Timeline::attempts`] by attempt id: the first row with each id, kept by
/// [`Timeline::attempt`]. The fields are public: when `attempts` no longer has the rows the
/// index was built from (rows pushed or removed by hand), lookups fall back to a search,
/// and recording rebuilds the index.
#[derive(Clone, Default)]
struct RowIndex {
    first: HashMap<AttemptId, usize>,
    /// How many rows the index was built from.
    rows: usize,
    /// Whether an id has more than one row (not from the engine, whose ids are unique):
    /// then the running row of an id may not be its first.
    duplicates: bool,
}

impl RowIndex {
    fn of(rows: &[AttemptRow]) -> RowIndex {
        let mut index = RowIndex::default();
        for row in rows {
            index.add(row.id);
        }
        index
    }

    fn add(&mut self, id: AttemptId) {
        match self.first.entry(id) {
            Entry::Vacant(v) => {
                v.insert(self.rows);
            }
            Entry::Occupied(_) => self.duplicates = true,
        }
        self.rows += 1;
    }

    fn covers(&self, rows: &[AttemptRow]) -> bool {
        self.rows == rows.len()
    }
}

/// Derived from `attempts`: timelines with the same rows are equal however their index was
/// built.
impl PartialEq for RowIndex {
    fn eq(&self, _: &RowIndex) -> bool {
        true
    }
}

impl Eq for RowIndex {}

impl std::fmt::Debug for RowIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RowIndex({} rows)", self.rows)
    }
}

/// A DNS event on the timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsMark {
    /// When, from the start of the race.
    pub at: Duration,
    /// The name queried.
    pub name: String,
    /// The record type.
    pub record: RecordType,
    /// A query sent or an answer received.
    pub kind: DnsKind,
}

/// What a [`DnsMark`] marks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DnsKind {
    /// The query was sent.
    Query,
    /// An answer with this many addresses or records arrived (0: a negative answer).
    Answer(usize),
    /// The query failed, for this reason (`nxdomain`, `timeout`, an OS error, ...).
    Error(String),
}

/// One connection attempt: a row of the chart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptRow {
    /// The engine's id for it.
    pub id: AttemptId,
    /// Where it connected to.
    pub addr: SocketAddr,
    /// Over which transport.
    pub protocol: Protocol,
    /// When it started, from the start of the race.
    pub start: Duration,
    /// When its transport handshake finished while a secure handshake went on
    /// ([`Event::TransportConnected`]), for an attempt that has one: the chart draws the
    /// time before it and the time after it (the secure handshake) in two shades. `None`:
    /// the attempt had no such phase (plain TCP, or its transport never connected).
    pub transport: Option<Duration>,
    /// When it ended (`None`: still running when the record stops).
    pub end: Option<Duration>,
    /// How it ended.
    pub ending: Ending,
}

/// How a connection attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Still in flight when the record stops.
    Running,
    /// It connected.
    Connected,
    /// It failed, for this reason (`refused`, an OS error message, ...).
    Failed(String),
    /// It was cancelled, for this reason (`lost the race`, ...).
    Cancelled(String),
}

/// How the whole race ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RaceEnd {
    /// This attempt connected and won.
    Connected(AttemptId),
    /// The race failed, for this reason.
    Failed(String),
    /// The total timeout passed.
    TimedOut,
    /// The caller gave up.
    Cancelled,
    /// It was still waiting with nothing left to happen (a simulation without timeouts).
    Pending,
}

impl RaceEnd {
    /// The race end the engine reports in `outcome`.
    pub fn from_outcome(outcome: &Outcome) -> RaceEnd {
        RaceEnd::from_result(outcome.result)
    }

    /// The race end for the engine's result.
    pub fn from_result(result: RaceResult) -> RaceEnd {
        match result {
            RaceResult::Connected(id) => RaceEnd::Connected(id),
            RaceResult::Failed(reason) => RaceEnd::Failed(reason.to_string()),
            RaceResult::TimedOut => RaceEnd::TimedOut,
            RaceResult::Cancelled => RaceEnd::Cancelled,
        }
    }
}

/// An OS error's text without the error number the standard library appends:
/// `Connection refused (os error 111)` becomes `Connection refused`.
///
/// ```
/// use eyeballs_chart::timeline::without_os_code;
/// assert_eq!(without_os_code("Connection refused (os error 111)"), "Connection refused");
/// assert_eq!(without_os_code("connection timed out"), "connection timed out");
/// ```
pub fn without_os_code(message: &str) -> &str {
    match message.rfind(" (os error ") {
        Some(i) if message.ends_with(')') => &message[..i],
        _ => message,
    }
}

impl Timeline {
    /// An empty timeline with this title.
    pub fn new(title: impl Into<String>) -> Timeline {
        Timeline {
            title: title.into(),
            dns: Vec::new(),
            attempts: Vec::new(),
            end: None,
            last: Duration::ZERO,
            rows: RowIndex::default(),
        }
    }

    /// The index of the first row of attempt `id`: through the index when it covers
    /// `attempts`, by a search when `attempts` was changed by hand.
    fn row_of(&self, id: AttemptId) -> Option<usize> {
        if self.rows.covers(&self.attempts) {
            let at = *self.rows.first.get(&id)?;
            (self.attempts.get(at)?.id == id).then_some(at)
        } else {
            self.attempts.iter().position(|r| r.id == id)
        }
    }

    fn seen(&mut self, at: Duration) {
        self.last = self.last.max(at);
    }

    fn dns_mark(&mut self, at: Duration, name: &str, record: RecordType, kind: DnsKind) {
        self.seen(at);
        self.dns.push(DnsMark {
            at,
            name: name.to_string(),
            record,
            kind,
        });
    }

    /// Records a DNS query sent at `at`.
    pub fn query(&mut self, at: Duration, name: &str, record: RecordType) {
        self.dns_mark(at, name, record, DnsKind::Query);
    }

    /// Records a DNS answer with `count` addresses or records, or an error.
    pub fn answer(
        &mut self,
        at: Duration,
        name: &str,
        record: RecordType,
        count: usize,
        error: Option<&str>,
    ) {
        let kind = match error {
            Some(e) => DnsKind::Error(e.to_string()),
            None => DnsKind::Answer(count),
        };
        self.dns_mark(at, name, record, kind);
    }

    /// Records an attempt started at `at`.
    pub fn attempt(&mut self, at: Duration, id: AttemptId, addr: SocketAddr, protocol: Protocol) {
        self.seen(at);
        if !self.rows.covers(&self.attempts) {
            self.rows = RowIndex::of(&self.attempts);
        }
        self.rows.add(id);
        self.attempts.push(AttemptRow {
            id,
            addr,
            protocol,
            start: at,
            transport: None,
            end: None,
            ending: Ending::Running,
        });
    }

    /// The row of attempt `id` while it runs: the first row with the id, or with an id used
    /// twice (not by the engine) the first of them still running.
    fn running_row(&mut self, id: AttemptId) -> Option<usize> {
        if !self.rows.covers(&self.attempts) {
            self.rows = RowIndex::of(&self.attempts);
        }
        let running = |r: &AttemptRow| r.id == id && r.ending == Ending::Running;
        match self.row_of(id) {
            Some(first) if running(&self.attempts[first]) => Some(first),
            // The first row of the id ended; with ids used twice a later one may be running.
            Some(_) if self.rows.duplicates => self.attempts.iter().position(running),
            _ => None,
        }
    }

    /// Records that the transport handshake of the running attempt `id` finished at `at` (TCP
    /// connected) while its secure handshake goes on; an unknown id, an attempt that already
    /// ended, or a second transport handshake is left alone (the first counts).
    ///
    /// ```
    /// use std::time::Duration;
    /// use eyeballs::{AttemptId, Protocol};
    /// use eyeballs_chart::timeline::Timeline;
    ///
    /// let ms = Duration::from_millis;
    /// let mut t = Timeline::new("TLS over TCP");
    /// t.attempt(ms(0), AttemptId(0), "192.0.2.1:443".parse().unwrap(), Protocol::Tcp);
    /// t.transport(ms(20), AttemptId(0));
    /// t.connected(ms(45), AttemptId(0));
    /// assert_eq!(t.attempts[0].transport, Some(ms(20)));
    /// ```
    pub fn transport(&mut self, at: Duration, id: AttemptId) {
        self.seen(at);
        if let Some(row) = self.running_row(id).map(|i| &mut self.attempts[i]) {
            row.transport.get_or_insert(at);
        }
    }

    /// Ends the running attempt `id`; an unknown id or an attempt that already ended is left
    /// alone (the first ending counts).
    fn end_attempt(&mut self, at: Duration, id: AttemptId, ending: Ending) {
        self.seen(at);
        if let Some(row) = self.running_row(id).map(|i| &mut self.attempts[i]) {
            row.end = Some(at);
            row.ending = ending;
        }
    }

    /// Records that attempt `id` failed, for `reason`.
    pub fn failed(&mut self, at: Duration, id: AttemptId, reason: &str) {
        self.end_attempt(at, id, Ending::Failed(reason.to_string()));
    }

    /// Records that attempt `id` connected.
    pub fn connected(&mut self, at: Duration, id: AttemptId) {
        self.end_attempt(at, id, Ending::Connected);
    }

    /// Records that attempt `id` was cancelled, for `reason`.
    pub fn cancelled(&mut self, at: Duration, id: AttemptId, reason: &str) {
        self.end_attempt(at, id, Ending::Cancelled(reason.to_string()));
    }

    /// Records that the engine cancelled attempt `id` for `reason`. An attempt it gives up
    /// on after the attempt timeout counts as failed (`timeout`), as the engine counts it;
    /// any other cancel is a cancel.
    pub fn engine_cancel(&mut self, at: Duration, id: AttemptId, reason: CancelReason) {
        match reason {
            CancelReason::AttemptTimedOut => {
                self.failed(at, id, AttemptFailure::TimedOut.as_str());
            }
            _ => self.cancelled(at, id, &reason.to_string()),
        }
    }

    /// Records `event` at `at`: the one recording path of every source. An answer is drawn
    /// by its count of addresses or records, or its error's short name (`nxdomain`, ... as
    /// the simulator writes it); a failure's reason is its detail (the OS error in words,
    /// without its number: `Connection refused`) or, without one, the engine's name for it
    /// (`refused`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use eyeballs::trace::Event;
    /// use eyeballs::{AttemptFailure, AttemptId, DnsAnswer, DnsError, QueryId, RecordType};
    /// use eyeballs_chart::timeline::{DnsKind, Ending, Timeline};
    ///
    /// let mut t = Timeline::new("by event");
    /// t.event(Duration::from_millis(10), &Event::Answer {
    ///     id: QueryId(0), name: "example.com".into(), record: RecordType::Aaaa,
    ///     answer: DnsAnswer::Error(DnsError::NxDomain),
    /// });
    /// assert_eq!(t.dns[0].kind, DnsKind::Error("nxdomain".into()));
    /// t.attempt(Duration::ZERO, AttemptId(0), "192.0.2.1:80".parse().unwrap(), eyeballs::Protocol::Tcp);
    /// t.event(Duration::from_millis(5), &Event::Failed {
    ///     id: AttemptId(0),
    ///     addr: "192.0.2.1:80".parse().unwrap(),
    ///     protocol: eyeballs::Protocol::Tcp,
    ///     failure: AttemptFailure::Refused,
    ///     detail: Some("Connection refused (os error 111)".into()),
    /// });
    /// assert_eq!(t.attempts[0].ending, Ending::Failed("Connection refused".into()));
    /// ```
    pub fn event(&mut self, at: Duration, event: &Event) {
        match event {
            Event::Query { name, record, .. } => self.query(at, name, *record),
            Event::Answer {
                name,
                record,
                answer,
                ..
            } => self.answer(
                at,
                name,
                *record,
                answer.record_count(),
                answer.error().map(DnsError::as_str),
            ),
            Event::Attempt(a) => self.attempt(at, a.id, a.addr, a.protocol),
            Event::TransportConnected { id, .. } => self.transport(at, *id),
            Event::Failed {
                id,
                failure,
                detail,
                ..
            } => {
                let reason = detail.as_deref().map_or(failure.as_str(), without_os_code);
                self.failed(at, *id, reason);
            }
            Event::Connected { id, .. } => self.connected(at, *id),
            Event::Cancel { id, reason, .. } => self.engine_cancel(at, *id, *reason),
            Event::CancelQueries => {}
        }
    }

    /// Records one timed event of a real race (as the driver reports it, live through a
    /// connector's observer or afterwards from its race report) with [`Timeline::event`],
    /// at its time rounded with [`readable`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use eyeballs::trace::{Event, TimedEvent};
    /// use eyeballs::{Attempt, AttemptId, Protocol};
    /// use eyeballs_chart::timeline::{Ending, Timeline};
    ///
    /// let (addr, protocol) = ("127.0.0.1:80".parse().unwrap(), Protocol::Tcp);
    /// let mut t = Timeline::new("live");
    /// t.record(&TimedEvent {
    ///     at: Duration::from_micros(12),
    ///     event: Event::Attempt(Attempt { id: AttemptId(0), addr, protocol, alpn: None, ech: None }),
    /// });
    /// t.record(&TimedEvent {
    ///     at: Duration::from_micros(90),
    ///     event: Event::Connected { id: AttemptId(0), addr, protocol },
    /// });
    /// assert_eq!(t.attempts[0].ending, Ending::Connected);
    /// assert_eq!(t.attempts[0].end, Some(Duration::from_micros(90)));
    /// ```
    pub fn record(&mut self, event: &TimedEvent) {
        self.event(readable(event.at), &event.event);
    }

    /// The attempt with this id (the first row with it).
    pub fn attempt_row(&self, id: AttemptId) -> Option<&AttemptRow> {
        self.row_of(id).map(|i| &self.attempts[i])
    }

    /// Records how and when the race ended.
    pub fn finish(&mut self, at: Duration, end: RaceEnd) {
        self.seen(at);
        self.end = Some((at, end));
    }

    /// The length of the race: when it ended, or the last event when that is later.
    pub fn total(&self) -> Duration {
        self.end
            .as_ref()
            .map_or(self.last, |(at, _)| self.last.max(*at))
    }

    /// Whether any attempt had a secure handshake after its transport handshake (a
    /// [`transport`](AttemptRow::transport) time): the charts then explain their second
    /// shade in the legend.
    ///
    /// ```
    /// use std::time::Duration;
    /// use eyeballs::{AttemptId, Protocol};
    /// use eyeballs_chart::timeline::Timeline;
    ///
    /// let mut t = Timeline::new("TLS over TCP");
    /// t.attempt(Duration::ZERO, AttemptId(0), "192.0.2.1:443".parse().unwrap(), Protocol::Tcp);
    /// assert!(!t.has_secure_phase());
    /// t.transport(Duration::from_millis(20), AttemptId(0));
    /// assert!(t.has_secure_phase());
    /// ```
    pub fn has_secure_phase(&self) -> bool {
        self.attempts.iter().any(|r| r.transport.is_some())
    }

    /// The attempt that won, if one did.
    pub fn winner(&self) -> Option<&AttemptRow> {
        match &self.end {
            Some((_, RaceEnd::Connected(id))) => self.attempt_row(*id),
            _ => None,
        }
    }

    /// One line saying how the race ended.
    pub fn summary(&self) -> String {
        let Some((at, end)) = &self.end else {
            return format!("still running after {}", ms(self.total()));
        };
        let at = ms(*at);
        match end {
            RaceEnd::Connected(id) => match self.winner() {
                Some(w) => format!(
                    "connected to {} over {} (attempt #{}) after {at}",
                    w.addr, w.protocol, id.0
                ),
                None => format!("connected (attempt #{}) after {at}", id.0),
            },
            RaceEnd::Failed(reason) => format!("failed after {at}: {reason}"),
            RaceEnd::TimedOut => format!("timed out after {at}"),
            RaceEnd::Cancelled => format!("cancelled after {at}"),
            RaceEnd::Pending => {
                format!("still waiting after {at} with nothing left to happen (no timeout set)")
            }
        }
    }
}

impl AttemptRow {
    /// The row's label: `#1 tcp 192.0.2.1:443`.
    pub fn label(&self) -> String {
        format!("#{} {} {}", self.id.0, self.protocol, self.addr)
    }

    /// How the attempt ended, in words, with the time: `refused at 263ms`.
    pub fn note(&self) -> String {
        let at = ms(self.end.unwrap_or(self.start));
        match &self.ending {
            Ending::Running => "still running".to_string(),
            Ending::Connected => format!("connected at {at}"),
            Ending::Failed(reason) => format!("failed at {at}: {reason}"),
            Ending::Cancelled(reason) => format!("cancelled at {at}: {reason}"),
        }
    }
}

/// The simulator's trace as a timeline: one [`Timeline::event`] per trace event, at its
/// exact virtual time, then the outcome. Feature `sim`.
///
/// ```
/// let scenario = eyeballs_sim::json::parse_scenario(r#"{
///     "port": 80, "addresses": ["192.0.2.1"],
///     "network": [{"addr": "*", "result": "refused", "after_ms": 3}]
/// }"#).unwrap();
/// let trace = eyeballs_sim::run(&scenario).unwrap();
/// let t = eyeballs_chart::timeline::Timeline::from(&trace);
/// assert_eq!(t.attempts[0].note(), "failed at 3ms: refused");
/// ```
#[cfg(feature = "sim")]
impl From<&Trace> for Timeline {
    fn from(trace: &Trace) -> Timeline {
        let mut t = Timeline::new(trace.name.clone());
        for e in &trace.events {
            t.event(e.at, &e.event);
        }
        match &trace.outcome {
            Some(o) => t.finish(o.at.since_epoch(), RaceEnd::from_outcome(o)),
            None => t.finish(trace.end.since_epoch(), RaceEnd::Pending),
        }
        t
    }
}

/// A real race's report as a timeline: its target as the title, one [`Timeline::record`]
/// per event, then how it ended (`Pending` for a race that did not finish). Feature
/// `driver`.
///
/// ```
/// use eyeballs_chart::timeline::{RaceEnd, Timeline};
///
/// // The report of a race that never started (a bad target): an empty, pending timeline.
/// let t = Timeline::from(&eyeballs_driver::RaceReport::default());
/// assert_eq!(t.end, Some((std::time::Duration::ZERO, RaceEnd::Pending)));
/// ```
#[cfg(feature = "driver")]
impl From<&RaceReport> for Timeline {
    fn from(report: &RaceReport) -> Timeline {
        let mut t = Timeline::new(report.target.clone());
        for e in &report.events {
            t.record(e);
        }
        match (report.result, report.ended) {
            (Some(result), Some(at)) => t.finish(readable(at), RaceEnd::from_result(result)),
            _ => {
                let last = t.last;
                t.finish(last, RaceEnd::Pending);
            }
        }
        t
    }
}

/// The timeline of a simulated scenario (JSON in the scenario format), for the renderers'
/// tests.
#[cfg(test)]
pub(crate) fn simulated(json: &str) -> Timeline {
    let scenario = eyeballs_sim::json::parse_scenario(json).unwrap();
    Timeline::from(&eyeballs_sim::run(&scenario).unwrap())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn first_ending_counts_and_unknown_ids_are_ignored() {
        let mut t = Timeline::new("x");
        let a: SocketAddr = "192.0.2.1:80".parse().unwrap();
        t.attempt(ms(0), AttemptId(0), a, Protocol::Tcp);
        t.failed(ms(5), AttemptId(0), "refused");
        t.cancelled(ms(9), AttemptId(0), "lost the race");
        t.connected(ms(7), AttemptId(42));
        assert_eq!(t.attempts[0].ending, Ending::Failed("refused".into()));
        assert_eq!(t.attempts[0].end, Some(ms(5)));
        assert_eq!(t.last, ms(9));
        assert_eq!(t.summary(), "still running after 9ms");
        assert!(t.winner().is_none());
    }

    /// Rows are found through an index; what was true of the search it replaced still
    /// holds: the first row of an id is the attempt's, the first running row of an id ends,
    /// and rows changed by hand are still found.
    #[test]
    fn rows_are_found_by_id_however_the_rows_came() {
        let a: SocketAddr = "192.0.2.1:80".parse().unwrap();
        let b: SocketAddr = "192.0.2.2:80".parse().unwrap();
        // An id used twice (not by the engine): its rows end in order.
        let mut t = Timeline::new("twice");
        t.attempt(ms(0), AttemptId(5), a, Protocol::Tcp);
        t.attempt(ms(1), AttemptId(5), b, Protocol::Tcp);
        t.failed(ms(2), AttemptId(5), "refused");
        t.connected(ms(3), AttemptId(5));
        assert_eq!(t.attempts[0].ending, Ending::Failed("refused".into()));
        assert_eq!(t.attempts[1].ending, Ending::Connected);
        assert_eq!(t.attempt_row(AttemptId(5)).unwrap().addr, a);
        // Rows pushed and removed by hand.
        let mut t = Timeline::new("by hand");
        t.attempt(ms(0), AttemptId(0), a, Protocol::Tcp);
        let mut row = t.attempts[0].clone();
        row.id = AttemptId(1);
        row.addr = b;
        t.attempts.push(row);
        assert_eq!(t.attempt_row(AttemptId(1)).unwrap().addr, b);
        t.connected(ms(4), AttemptId(1));
        assert_eq!(t.attempts[1].ending, Ending::Connected);
        t.attempts.remove(0);
        assert!(t.attempt_row(AttemptId(0)).is_none());
        assert_eq!(t.attempt_row(AttemptId(1)).unwrap().addr, b);
        t.attempt(ms(5), AttemptId(2), a, Protocol::Tcp);
        t.failed(ms(6), AttemptId(2), "refused");
        assert_eq!(t.attempts[1].ending, Ending::Failed("refused".into()));
        // Timelines with the same rows are equal, however their index was built.
        let mut u = Timeline::new("by hand");
        u.attempts = t.attempts.clone();
        u.last = t.last;
        assert_eq!(t, u);
    }

    /// The transport handshake is recorded on the running attempt, the first one counts, and
    /// one after the attempt ended (or for an unknown id) is left alone; the event vocabulary
    /// records it the same way.
    #[test]
    fn the_transport_handshake_is_recorded_once_on_a_running_attempt() {
        let a: SocketAddr = "192.0.2.1:443".parse().unwrap();
        let mut t = Timeline::new("x");
        t.attempt(ms(0), AttemptId(0), a, Protocol::Tcp);
        t.attempt(ms(5), AttemptId(1), a, Protocol::Tcp);
        assert!(!t.has_secure_phase());
        t.transport(ms(3), AttemptId(0));
        t.transport(ms(4), AttemptId(0));
        t.transport(ms(4), AttemptId(9));
        t.failed(ms(6), AttemptId(1), "refused");
        t.transport(ms(7), AttemptId(1));
        assert_eq!(t.attempts[0].transport, Some(ms(3)));
        assert_eq!(t.attempts[1].transport, None);
        assert!(t.has_secure_phase());
        assert_eq!(t.last, ms(7));
        let mut u = Timeline::new("y");
        u.event(
            ms(0),
            &Event::Attempt(eyeballs::Attempt {
                id: AttemptId(0),
                addr: a,
                protocol: Protocol::Tcp,
                alpn: None,
                ech: None,
            }),
        );
        u.event(
            ms(2),
            &Event::TransportConnected {
                id: AttemptId(0),
                addr: a,
                protocol: Protocol::Tcp,
            },
        );
        assert_eq!(u.attempts[0].transport, Some(ms(2)));
        assert_eq!(u.attempts[0].ending, Ending::Running);
    }

    #[test]
    fn attempt_timeouts_count_as_failures() {
        let scenario = eyeballs_sim::json::parse_scenario(
            r#"{"port": 80, "addresses": ["192.0.2.1"], "config": {"attempt_timeout_ms": 40}}"#,
        )
        .unwrap();
        let t = Timeline::from(&eyeballs_sim::run(&scenario).unwrap());
        assert_eq!(t.attempts[0].ending, Ending::Failed("timeout".into()));
        assert_eq!(t.attempts[0].note(), "failed at 40ms: timeout");
        assert_eq!(
            t.summary(),
            "failed after 40ms: every connection attempt failed"
        );
    }

    #[test]
    fn a_real_race_report_becomes_a_timeline_with_readable_times() {
        use eyeballs::{Attempt, DnsAnswer, QueryId};
        let at = Duration::from_nanos;
        let v6: SocketAddr = "[::1]:8080".parse().unwrap();
        let v4: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let attempt = |id, addr| {
            Event::Attempt(Attempt {
                id: AttemptId(id),
                addr,
                protocol: Protocol::Tcp,
                alpn: None,
                ech: None,
            })
        };
        let events = vec![
            (
                0,
                Event::Query {
                    id: QueryId(0),
                    name: "localhost".into(),
                    record: RecordType::Aaaa,
                },
            ),
            (
                0,
                Event::Query {
                    id: QueryId(1),
                    name: "localhost".into(),
                    record: RecordType::A,
                },
            ),
            (
                412_345,
                Event::Answer {
                    id: QueryId(1),
                    name: "localhost".into(),
                    record: RecordType::A,
                    answer: DnsAnswer::Addresses(vec![v4.ip()]),
                },
            ),
            (
                1_234_567,
                Event::Answer {
                    id: QueryId(0),
                    name: "localhost".into(),
                    record: RecordType::Aaaa,
                    answer: DnsAnswer::Error(DnsError::NoData),
                },
            ),
            (1_300_000, attempt(0, v6)),
            (
                1_345_678,
                Event::Failed {
                    id: AttemptId(0),
                    addr: v6,
                    protocol: Protocol::Tcp,
                    failure: AttemptFailure::Refused,
                    detail: Some("Connection refused (os error 111)".into()),
                },
            ),
            (1_350_000, attempt(1, v4)),
            (1_450_000, attempt(2, v4)),
            (
                1_460_001,
                Event::Connected {
                    id: AttemptId(1),
                    addr: v4,
                    protocol: Protocol::Tcp,
                },
            ),
            (
                1_460_001,
                Event::Cancel {
                    id: AttemptId(2),
                    addr: v4,
                    protocol: Protocol::Tcp,
                    reason: CancelReason::LostRace,
                },
            ),
            (1_460_001, Event::CancelQueries),
        ];
        let report = RaceReport {
            target: "localhost:8080".into(),
            events: events
                .into_iter()
                .map(|(n, event)| TimedEvent { at: at(n), event })
                .collect(),
            result: Some(RaceResult::Connected(AttemptId(1))),
            ended: Some(at(1_460_001)),
            ..RaceReport::default()
        };
        let t = Timeline::from(&report);
        assert_eq!(t.title, "localhost:8080");
        let kinds: Vec<&DnsKind> = t.dns.iter().map(|m| &m.kind).collect();
        assert_eq!(
            kinds,
            [
                &DnsKind::Query,
                &DnsKind::Query,
                &DnsKind::Answer(1),
                &DnsKind::Error("nodata".into())
            ]
        );
        assert_eq!(t.dns[2].at, Duration::from_micros(412));
        assert_eq!(t.dns[3].at, Duration::from_micros(1230));
        assert_eq!(t.attempts[0].note(), "failed at 1.35ms: Connection refused");
        assert_eq!(t.attempts[1].ending, Ending::Connected);
        assert_eq!(
            t.attempts[2].ending,
            Ending::Cancelled("lost the race".into())
        );
        assert_eq!(
            t.summary(),
            "connected to 127.0.0.1:8080 over tcp (attempt #1) after 1.46ms"
        );

        // A report of a race that never started (a bad target) is an empty, pending timeline.
        let t = Timeline::from(&RaceReport::default());
        assert!(t.attempts.is_empty());
        assert_eq!(t.end, Some((Duration::ZERO, RaceEnd::Pending)));
    }
}
