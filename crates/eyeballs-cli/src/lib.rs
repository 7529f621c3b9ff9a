//! # eyeballs-cli: the `eyeballs` command's library
//!
//! The `eyeballs` binary (see its `--help`) races connections for real (`connect`), shows
//! Happy Eyeballs against a plain sequential connect on a broken-IPv6 lab (`demo`), runs
//! scenarios in virtual time (`simulate`), and draws every race it runs with
//! [`eyeballs_chart`] (the timeline model, the text Gantt chart, the SVG picture). This
//! library holds what the commands share:
//!
//! - [`connect`]: the engine flags, the target syntax and the real race.
//! - [`history`]: the connection history file of `connect --history FILE`.
//! - [`demo`]: the broken-IPv6 lab, eyeballs against a sequential connect on it.
//!
//! ```
//! use eyeballs_cli::connect::{EngineFlags, parse_target};
//!
//! // `eyeballs connect '[::1]:8080,127.0.0.1:8080' --prefer v4`, up to the race.
//! let target = parse_target("[::1]:8080,127.0.0.1:8080").unwrap();
//! let flags = EngineFlags { prefer: Some(eyeballs_cli::connect::FamilyArg::V4), ..EngineFlags::default() };
//! let settings = flags.settings(&target).unwrap();
//! assert_eq!(settings.config.prefer_family, eyeballs::Family::V4);
//! ```

#![forbid(unsafe_code)]

pub mod connect;
pub mod demo;
pub mod history;
