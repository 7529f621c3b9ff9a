//! Arbitrary bytes into the simulator's scenario parser; a scenario that parses (and is small)
//! is run, twice (the runs must agree), and its trace rendered as JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        eyeballs_fuzz::run_scenario_text(text);
    }
});
