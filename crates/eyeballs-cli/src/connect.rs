//! `eyeballs connect`: the engine flags, the target syntax, and the race itself (on a tokio
//! runtime, through `eyeballs_tokio`). The command prints each event as it happens with the
//! line every record of a race prints ([`TimedEvent`](eyeballs::trace::TimedEvent)'s
//! `Display`), which names the endpoint on every line about an attempt.
//!
//! One job per file: the flags and the settings they build ([`EngineFlags`],
//! [`parse_duration`]: `connect/flags.rs`), the TLS and QUIC flags and the TLS configuration
//! they build ([`TlsFlags`], [`QuicRace`]: `connect/tls.rs`), the target syntax
//! ([`parse_target`]: `connect/target.rs`), and the race with what its failure tells the
//! user ([`race`], [`race_secure`], [`race_quic`], [`report_json`], [`hint`], [`is_usage`]:
//! `connect/run.rs`).
//!
//! ```no_run
//! use eyeballs_cli::connect::{self, EngineFlags};
//!
//! let target = connect::parse_target("[::1]:8080,127.0.0.1:8080").unwrap();
//! let settings = EngineFlags::default().settings(&target).unwrap();
//! let (result, report) = connect::race(target, settings).unwrap();
//! for event in &report.events {
//!     println!("{event}"); //     0.095ms  connected  #1 127.0.0.1:8080 over tcp
//! }
//! match result {
//!     Ok(connected) => println!("{connected}"), // connected to 127.0.0.1:8080 from ...
//!     Err(e) => println!("{e}"),
//! }
//! ```

use std::fmt;

mod flags;
mod run;
mod target;
mod tls;

pub use flags::{EngineFlags, FamilyArg, parse_duration};
pub(crate) use run::on_runtime;
pub use run::{Connected, Secure, hint, is_usage, race, race_quic, race_secure, report_json};
pub use target::parse_target;
pub use tls::{QuicRace, TlsFlags};

/// Bad usage: a flag or a target that cannot be used, with a message that names it and says
/// what would work. The command exits with code 2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}
