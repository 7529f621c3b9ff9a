//! `eyeballs-echo`: the echo side of the load test, run as a child process (see
//! `eyeballs_e2e::echo`). Writes `ready name=addr ...`, echoes one byte per connection
//! until its stdin reaches end of file, then writes `done name=accepted/echoed ...`.

use std::process::ExitCode;

fn main() -> ExitCode {
    match eyeballs_e2e::echo::serve() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("eyeballs-echo: {e}");
            ExitCode::FAILURE
        }
    }
}
