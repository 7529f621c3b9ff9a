//! The `eyeballs` command.
//!
//! Exit codes: 0 success, 1 the command could not write its output, 2 bad usage or bad
//! input (an unknown flag, an unreadable or malformed scenario, an unwritable `--svg` path).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use eyeballs_cli::{svg, text, timeline::Timeline};

/// Happy Eyeballs (RFC 8305 / HEv3): race IPv6 and IPv4 and keep the first connection.
#[derive(Parser)]
#[command(name = "eyeballs", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the engine against a scripted network (a scenario file) in virtual time, and draw
    /// the race.
    #[command(
        long_about = "Run the engine against a scripted network (a scenario file) in virtual \
                      time, and draw the race.\n\n\
                      Prints a text Gantt chart of the race (one row per connection attempt on \
                      a millisecond axis, the winner marked, DNS answers on a line of their \
                      own), then every event with its virtual time and the outcome. The \
                      scenario file is JSON: the host and scripted DNS answers (or literal \
                      addresses), the engine configuration, and how each connection attempt \
                      ends. The fields are listed in the rustdoc of `eyeballs_sim::json`; \
                      tests/scenarios/ in the eyeballs repository has examples, each with the \
                      output it must produce.",
        after_help = "Examples:\n  \
                      eyeballs simulate tests/scenarios/spec/v6-blackholed.json\n  \
                      eyeballs simulate race.json --svg race.svg   (then open race.svg in a browser)\n  \
                      eyeballs simulate race.json --json > trace.json"
    )]
    Simulate(SimulateArgs),
    // `connect HOST:PORT` and `demo` join here; they take `ChartArgs` too.
}

#[derive(Args)]
struct SimulateArgs {
    /// The scenario file (JSON).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Print the trace as JSON (the scenario format's output) instead of the chart and
    /// timeline.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    chart: ChartArgs,
}

/// Options for the pictures, shared by every command that runs a race.
#[derive(Args)]
struct ChartArgs {
    /// Also write the chart as an SVG picture to this file (open it in a browser). The
    /// file is overwritten.
    #[arg(long, value_name = "OUT.svg")]
    svg: Option<PathBuf>,
}

/// Exit code for bad usage or bad input (the code clap uses for usage errors too).
const USAGE: u8 = 2;
/// Exit code when the output cannot be written.
const OUTPUT: u8 = 1;

/// Why the command stopped: the message for stderr and the exit code.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn usage(message: String) -> Failure {
        Failure {
            code: USAGE,
            message,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Simulate(args) => simulate(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

fn simulate(args: &SimulateArgs) -> Result<(), Failure> {
    let scenario = eyeballs_sim::json::read_scenario(&args.file).map_err(|e| {
        Failure::usage(format!(
            "{e}\n(the scenario fields are listed in the rustdoc of `eyeballs_sim::json`; \
             tests/scenarios/ in the eyeballs repository has examples)"
        ))
    })?;
    let trace = eyeballs_sim::run(&scenario)
        .map_err(|e| Failure::usage(format!("{}: {e}", args.file.display())))?;
    let timeline = Timeline::from(&trace);
    if let Some(path) = &args.chart.svg {
        write_svg(path, &timeline)?;
    }
    let out = if args.json {
        let value = eyeballs_sim::json::trace_to_json(&trace);
        let mut text = serde_json::to_string_pretty(&value).map_err(|e| Failure {
            code: OUTPUT,
            message: format!("cannot write JSON: {e}"),
        })?;
        text.push('\n');
        text
    } else {
        // The chart carries the scenario's name; the event list below it does not repeat it.
        let events = eyeballs_sim::Trace {
            name: String::new(),
            ..trace
        };
        format!(
            "{}\nevents (virtual time):\n{events}",
            text::render(&timeline, text::DEFAULT_WIDTH)
        )
    };
    print_stdout(&out)
}

fn write_svg(path: &Path, timeline: &Timeline) -> Result<(), Failure> {
    std::fs::write(path, svg::render(timeline)).map_err(|e| {
        Failure::usage(format!(
            "cannot write the SVG picture to {}: {e} (check that its directory exists and \
             is writable, or give another path to --svg)",
            path.display()
        ))
    })
}

/// Writes to stdout; a reader that went away (`eyeballs ... | head`) is not an error.
fn print_stdout(text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure {
            code: OUTPUT,
            message: format!("cannot write to standard output: {e}"),
        }),
    }
}
