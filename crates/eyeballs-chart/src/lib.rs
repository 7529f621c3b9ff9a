//! # eyeballs-chart: draw Happy Eyeballs races
//!
//! A race of connection attempts, drawn as a chart: one row per attempt on a common time
//! axis, from its start to its end (connected, failed, cancelled), the winner marked, the
//! DNS queries and answers on a line of their own. The `eyeballs` command draws every race
//! it runs with it; the benchmarks draw their charts on its [`Axis`].
//!
//! - [`timeline`]: the model, a [`Timeline`](timeline::Timeline) of DNS marks and one row
//!   per attempt (address, transport, start, end, how it ended, and for an attempt with a
//!   secure handshake after its transport handshake the instant the transport connected),
//!   the winner and the total time. It is recorded from the engine's events ([`eyeballs::trace::Event`], the one
//!   vocabulary of simulated and real races) with
//!   [`Timeline::event`](timeline::Timeline::event), or built by hand.
//! - [`text`]: the chart in a terminal, a text Gantt chart that fits the width it is given;
//!   several races stack on one time axis. An attempt's secure handshake (TLS after TCP) is
//!   drawn in its own fill, here and in the SVG.
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
//!   (`eyeballs_driver::RaceReport`), at times rounded with [`readable`].
//!
//! Without either, the crate depends on the engine alone; `Timeline::record` takes a real
//! race's events (the engine's `TimedEvent`s) one by one as they happen, from an observer.
//!
//! ```
//! use std::time::Duration;
//! use eyeballs::trace::Event;
//! use eyeballs::{Attempt, AttemptId, CancelReason, Protocol};
//! use eyeballs_chart::timeline::{RaceEnd, Timeline};
//! use eyeballs_chart::{svg, text};
//!
//! // IPv6 hangs; IPv4 starts a Connection Attempt Delay later and connects.
//! let v6 = "[2001:db8::1]:443".parse().unwrap();
//! let v4 = "192.0.2.1:443".parse().unwrap();
//! let protocol = Protocol::Tcp;
//! let attempt = |id, addr| {
//!     Event::Attempt(Attempt { id: AttemptId(id), addr, protocol, alpn: None, ech: None })
//! };
//! let ms = Duration::from_millis;
//! let mut race = Timeline::new("IPv6 blackholed");
//! race.event(ms(0), &attempt(0, v6));
//! race.event(ms(250), &attempt(1, v4));
//! race.event(ms(270), &Event::Connected { id: AttemptId(1), addr: v4, protocol });
//! let reason = CancelReason::LostRace;
//! race.event(ms(270), &Event::Cancel { id: AttemptId(0), addr: v6, protocol, reason });
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
