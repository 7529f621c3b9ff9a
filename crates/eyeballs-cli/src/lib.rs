//! # eyeballs-cli: the `eyeballs` command's library
//!
//! The `eyeballs` binary (see its `--help`) races connections for real (`connect`), shows
//! Happy Eyeballs against a plain sequential connect on a broken-IPv6 lab (`demo`), runs
//! scenarios in virtual time (`simulate`), and draws every race it runs. This library holds
//! what the commands share:
//!
//! - [`timeline`]: the neutral model, a [`Timeline`](timeline::Timeline) of DNS marks and one
//!   row per connection attempt (address, transport, start, end, how it ended), the winner
//!   and the total time. Built from a simulator trace (`eyeballs simulate`) with
//!   `Timeline::from(&trace)`, or from a real race's report events (`connect`, `demo`).
//! - [`text`]: the text Gantt chart printed in the terminal (fits 100 columns); several
//!   races stack on one time axis.
//! - [`svg`]: the same chart as a self-contained SVG picture (`--svg OUT.svg`).
//! - [`connect`]: the engine flags, the target syntax, the live log and the real race.
//! - [`history`]: the connection history file of `connect --history FILE`.
//! - [`demo`]: the broken-IPv6 lab, eyeballs against a sequential connect on it.
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

pub mod connect;
pub mod demo;
pub mod history;
pub mod svg;
pub mod text;
pub mod timeline;
