//! # eyeballs-chart: draw Happy Eyeballs races
//!
//! A race of connection attempts, drawn as a chart: one row per attempt on a common time
//! axis, from its start to its end (connected, failed, cancelled), the winner marked, the
//! DNS queries and answers on a line of their own. The `eyeballs` command draws every race
//! it runs with it; the benchmarks draw their charts on its [`Axis`].
//!
//! - [`timeline`]: the model, a [`Timeline`](timeline::Timeline) of DNS marks and one row
//!   per attempt (address, transport, start, end, how it ended), the winner and the total
//!   time. It is recorded from the engine's events ([`eyeballs::trace::Event`], the one
//!   vocabulary of simulated and real races) with
//!   [`Timeline::event`](timeline::Timeline::event), or built by hand.
//! - [`text`]: the chart in a terminal, a text Gantt chart that fits the width it is given;
//!   several races stack on one time axis.
//! - [`svg`]: the same chart as a self-contained SVG picture, and the XML escaping
//!   ([`svg::escape`]) any hand-written SVG needs.
//! - [`Axis`]: a time axis with round ticks, and [`ms`] / [`readable`], how times are
//!   written.
//!
//! ## Features
//!
//! - `sim`: `Timeline::from(&trace)` for a simulator trace (`eyeballs_sim::Trace`), at its
//!   exact virtual times.
//! - `driver`: `Timeline::from(&report)` for a real race's report
//!   (`eyeballs_driver::RaceReport`), and `Timeline::record` for its events one by one as
//!   they happen, at times rounded with [`readable`].
//!
//! Without either, the crate depends on the engine alone.
//!
//! ```
//! use std::time::Duration;
//! use eyeballs::trace::Event;
//! use eyeballs::{Attempt, AttemptId, CancelReason, Protocol};
//! use eyeballs_chart::timeline::{RaceEnd, Timeline};
//! use eyeballs_chart::{svg, text};
//!
//! // IPv6 hangs; IPv4 starts a Connection Attempt Delay later and connects.
//! let attempt = |id, addr: &str| Event::Attempt(Attempt {
//!     id: AttemptId(id), addr: addr.parse().unwrap(),
//!     protocol: Protocol::Tcp, alpn: None, ech: None,
//! });
//! let ms = Duration::from_millis;
//! let mut race = Timeline::new("IPv6 blackholed");
//! race.event(ms(0), &attempt(0, "[2001:db8::1]:443"));
//! race.event(ms(250), &attempt(1, "192.0.2.1:443"));
//! race.event(ms(270), &Event::Connected { id: AttemptId(1) });
//! race.event(ms(270), &Event::Cancel { id: AttemptId(0), reason: CancelReason::LostRace });
//! race.finish(ms(270), RaceEnd::Connected(AttemptId(1)));
//!
//! let chart = text::render(&race, text::DEFAULT_WIDTH);
//! assert!(chart.contains("connected at 270ms  <== WINNER"));
//! assert!(chart.contains("cancelled at 270ms: lost the race"));
//! let picture = svg::render(&race);
//! assert!(picture.contains(r#"class="bar connected winner""#));
//! ```

#![forbid(unsafe_code)]

mod axis;
pub mod svg;
pub mod text;
pub mod timeline;

pub use axis::{Axis, ms, readable};
