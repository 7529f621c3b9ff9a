//! The `eyeballs` command.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Happy Eyeballs (RFC 8305 / HEv3): race IPv6 and IPv4 and keep the first connection.
#[derive(Parser)]
#[command(name = "eyeballs", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the engine against a scripted network (a scenario file) in virtual time.
    Simulate {
        /// The scenario file (JSON, see the scenario format).
        file: PathBuf,
        /// Print the trace as JSON instead of a timeline.
        #[arg(long)]
        json: bool,
    },
}

/// Exit code for bad usage or bad input.
const USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Simulate { file, json } => simulate(&file, json),
    }
}

fn simulate(file: &std::path::Path, json: bool) -> ExitCode {
    let scenario = match eyeballs_sim::json::read_scenario(file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(USAGE);
        }
    };
    let trace = match eyeballs_sim::run(&scenario) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {}: {e}", file.display());
            return ExitCode::from(USAGE);
        }
    };
    if json {
        let value = eyeballs_sim::json::trace_to_json(&trace);
        match serde_json::to_string_pretty(&value) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("error: cannot write JSON: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        print!("{trace}");
    }
    ExitCode::SUCCESS
}
