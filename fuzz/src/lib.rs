//! Shared code of the fuzz targets: structure-aware inputs (decoded from the fuzzer's bytes
//! with `arbitrary`, or from a readable text form for hand-made seeds, see [`text`]) and the
//! harness that feeds them to a race under the invariant monitor
//! ([`eyeballs_sim::monitor::Monitor`]). Any broken rule, refused start that the configuration
//! does not explain, or panic is a crash the fuzzer reports, with the monitor's log.
//!
//! One file per job:
//!
//! - `input`: what both engine targets decode (addresses, names, service records, answers,
//!   times, references, operations); `config`: the configuration and target;
//! - `race`: [`FuzzRace`], the monitored race the operations drive;
//! - `engine`, `svcb`, `scenario`: each target's case and run ([`run_engine`], [`run_svcb`],
//!   [`run_scenario_text`]);
//! - [`text`]: the readable seed form; `seeds` (tests): the committed seeds.

#![forbid(unsafe_code)]

mod config;
mod engine;
mod input;
mod race;
mod scenario;
#[cfg(test)]
mod seeds;
mod svcb;
pub mod text;

pub use config::{Knobs, TargetSpec};
pub use engine::{EngineCase, run_engine};
pub use input::{Addr, Alpn, Answer, Name, Op, Record, Ref, When};
pub use race::FuzzRace;
pub use scenario::run_scenario_text;
pub use svcb::{SvcbCase, SvcbOp, ZoneData, run_svcb};

/// At most this many operations are applied per case (longer inputs are cut), so that one
/// run stays fast.
pub const MAX_OPS: usize = 256;
