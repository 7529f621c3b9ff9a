//! # eyeballs-cli: the `eyeballs` command's pictures of a race
//!
//! The `eyeballs` binary (see its `--help`) draws every race it runs. This library holds the
//! drawing, so that each of the command's sources of races shares it:
//!
//! - [`timeline`]: the neutral model, a [`Timeline`](timeline::Timeline) of DNS marks and one
//!   row per connection attempt (address, transport, start, end, how it ended), the winner
//!   and the total time. Built from a simulator trace (`eyeballs simulate`) with
//!   `Timeline::from(&trace)`, or event by event from a real race.
//! - [`text`]: the text Gantt chart printed in the terminal (fits 100 columns).
//! - [`svg`]: the same chart as a self-contained SVG picture (`--svg OUT.svg`).
//!
//! ```
//! let scenario = eyeballs_sim::json::parse_scenario(r#"{
//!     "name": "IPv6 blackholed", "port": 443,
//!     "addresses": ["2001:db8::1", "192.0.2.1"],
//!     "network": [{"addr": "2001:db8::1", "result": "hang"},
//!                 {"addr": "*", "result": "connected", "after_ms": 20}]
//! }"#).unwrap();
//! let trace = eyeballs_sim::run(&scenario).unwrap();
//! let timeline = eyeballs_cli::timeline::Timeline::from(&trace);
//!
//! let chart = eyeballs_cli::text::render(&timeline, eyeballs_cli::text::DEFAULT_WIDTH);
//! assert!(chart.contains("connected at 270ms  <== WINNER"));
//! let picture = eyeballs_cli::svg::render(&timeline);
//! assert!(picture.contains("<svg"));
//! ```

#![forbid(unsafe_code)]

pub mod svg;
pub mod text;
pub mod timeline;
