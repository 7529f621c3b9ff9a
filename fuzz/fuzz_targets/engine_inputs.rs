//! An arbitrary configuration and target, then an arbitrary sequence of inputs (DNS answers
//! for valid and invalid queries, results and progress for valid and invalid attempts, time
//! moving forwards and backwards, timeouts, cancel), all through the invariant monitor, which
//! checks every rule after every step. Seeds starting with `#!eyeballs` are read as text (see
//! `eyeballs_fuzz::text`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(case) = eyeballs_fuzz::EngineCase::decode(data) {
        eyeballs_fuzz::run_engine(&case);
    }
});
