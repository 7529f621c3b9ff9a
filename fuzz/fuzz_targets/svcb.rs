//! SVCB/HTTPS handling: an arbitrary zone (HTTPS record sets with aliases, chains and loops,
//! hints, ALPN, `no-default-alpn`, ports and ECH configs, plus A/AAAA records and errors per
//! name) served coherently to a race with `query_https`, interleaved with arbitrary attempt
//! results, timeouts and cancels, under the invariant monitor.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(case) = eyeballs_fuzz::SvcbCase::decode(data) {
        eyeballs_fuzz::run_svcb(&case);
    }
});
