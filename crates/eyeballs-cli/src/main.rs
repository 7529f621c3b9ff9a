//! The `eyeballs` command.
//!
//! Exit codes: 0 success, 1 the race failed (`connect`, `demo`) or the command could not
//! write its output, 2 bad usage or bad input (an unknown flag, a bad target or flag value,
//! an unreadable or malformed scenario or history file, an unwritable `--svg` path).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use eyeballs_chart::timeline::Timeline;
use eyeballs_chart::{ms, svg, text};
use eyeballs_cli::connect::{self, EngineFlags, TlsFlags};
use eyeballs_cli::{demo, history};

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
                      crates/eyeballs-sim/scenarios/ in the eyeballs repository has examples, \
                      each with the output it must produce.",
        after_help = "Examples:\n  \
                      eyeballs simulate crates/eyeballs-sim/scenarios/spec/v6-blackholed.json\n  \
                      eyeballs simulate race.json --svg race.svg   (then open race.svg in a browser)\n  \
                      eyeballs simulate race.json --json > trace.json"
    )]
    Simulate(SimulateArgs),
    /// Race a real connection and print the race as it happens, like `curl -v` for Happy
    /// Eyeballs.
    #[command(
        long_about = "Race a real connection and print the race as it happens, like `curl -v` \
                      for Happy Eyeballs.\n\n\
                      Prints each DNS query and answer and each connection attempt started, \
                      failed (with the OS error), connected or cancelled, in milliseconds from \
                      the start; then a Gantt chart of the race and the result. The connection \
                      is closed as soon as it is made: this is a diagnostic tool.\n\n\
                      TARGET is HOST:PORT (resolved with the system resolver, AAAA and A \
                      separately), [V6]:PORT or V4:PORT (no DNS; an IPv6 address may carry its \
                      zone, the interface by name or number: [fe80::1%eth0]:443), or several \
                      addresses separated by commas ([::1]:8080,127.0.0.1:8080), raced as if a \
                      name had resolved to them.\n\n\
                      With --tls the race is secure racing (HEv3 §6.1): each attempt is TCP, \
                      then TLS, and the first attempt whose TLS handshake is done wins, so a \
                      path where TCP connects and TLS never answers (a TCP-terminating proxy) \
                      is left behind after one Connection Attempt Delay. The log shows each \
                      attempt's `transport` line (TCP connected) before its result, the chart \
                      the TLS handshake in a second shade (~), and the result the TLS \
                      version, the name authenticated and the ALPN protocol chosen. A TLS \
                      failure (a certificate rejected, an alert) fails its attempt with \
                      rustls's reason, and the next attempt starts.\n\n\
                      With --quic (which implies --tls) QUIC attempts race too: each address \
                      over QUIC first, then over TCP+TLS the Connection Attempt Delay later, \
                      and the first handshake done wins, over either (HEv3 §6.1, §6.2). A QUIC \
                      attempt is one handshake (no `transport` line, one shade in the chart); \
                      every line and chart row names its transport (quic or tcp), and the \
                      result and the JSON outcome say which won and the ALPN chosen. QUIC \
                      attempts offer --alpn's QUIC ids (h3 when it names none), TCP attempts \
                      its other ids (h2,http/1.1 without --alpn). --quic-only races QUIC \
                      alone.\n\n\
                      Exit status: 0 connected, 1 the race failed (the error, with every \
                      attempt's OS or TLS error, goes to stderr), 2 bad usage.",
        after_help = "Examples:\n  \
                      eyeballs connect example.com:443\n  \
                      eyeballs connect localhost:8080 --delay 100ms --prefer v4\n  \
                      eyeballs connect '[::1]:8080,127.0.0.1:8080' --svg race.svg\n  \
                      eyeballs connect example.com:443 -4 --timeout 5s --json > race.json\n  \
                      eyeballs connect example.com:443 --tls --alpn h2,http/1.1\n  \
                      eyeballs connect localhost:8443 --tls --ca-file ca.pem\n  \
                      eyeballs connect '[::1]:8443,127.0.0.1:8443' --tls --server-name localhost\n  \
                      eyeballs connect example.com:443 --quic\n  \
                      eyeballs connect localhost:4433 --quic-only --ca-file ca.pem --json"
    )]
    Connect(Box<ConnectArgs>),
    /// Happy Eyeballs against a plain sequential connect, on a broken-IPv6 lab on loopback
    /// (no network needed; about 4 seconds).
    #[command(
        long_about = "Happy Eyeballs against a plain sequential connect, on a broken-IPv6 lab \
                      on loopback (no network needed; about 4 seconds).\n\n\
                      The lab: a listener on [::1]:P whose accept queue is full, so connects to \
                      it hang as over a blackholed IPv6 route, and a working listener on \
                      127.0.0.1:P. Both methods get the two addresses, IPv6 first, as a name \
                      would resolve. eyeballs connects over IPv4 after the 250 ms Connection \
                      Attempt Delay; the sequential connect (what TcpStream::connect does) waits \
                      for the IPv6 attempt to time out (3 s here) first; eyeballs again, with \
                      the history of its first race, starts with IPv4. The three races are drawn \
                      on one time axis. Everything is closed when the demo ends.\n\n\
                      With --tls, the secure-racing demo (about 3.5 seconds): [::1]:P accepts \
                      TCP and never speaks (a TCP-terminating proxy whose upstream is gone), \
                      127.0.0.1:P serves TLS with a certificate from a CA made for the run. \
                      Secure racing (eyeballs connect --tls, HEv3 §6.1) connects over IPv4 \
                      after the Connection Attempt Delay; TCP-only racing (what hyper-util, \
                      curl and asyncio do) takes the IPv6 connection, and TLS then hangs on it \
                      until the demo's 3 s timeout.\n\n\
                      Exit status: 0 the demo ran and eyeballs connected, 1 it could not run \
                      (no IPv6 loopback: the message says what to do) or eyeballs failed, 2 bad \
                      usage.",
        after_help = "Examples:\n  \
                      eyeballs demo\n  \
                      eyeballs demo --svg demo.svg   (then open demo.svg in a browser)\n  \
                      eyeballs demo --tls --svg demo-tls.svg"
    )]
    Demo(DemoArgs),
}

#[derive(Args)]
struct DemoArgs {
    /// The secure-racing demo instead: a TLS-dead IPv6 path, secure racing against
    /// TCP-only racing then TLS.
    #[arg(long)]
    tls: bool,
    #[command(flatten)]
    chart: ChartArgs,
}

#[derive(Args)]
struct ConnectArgs {
    // (`help` rather than a doc comment: rustdoc would read `[V6]` as a link.)
    #[arg(
        value_name = "TARGET",
        help = "Where to connect: HOST:PORT, [V6]:PORT, V4:PORT, or addresses separated by commas"
    )]
    target: String,
    #[command(flatten)]
    engine: EngineFlags,
    #[command(flatten)]
    tls: TlsFlags,
    /// Print the race report as JSON (the simulator's event vocabulary, with OS errors;
    /// with --tls, each attempt's `transport` event, and the TLS version, the name and the
    /// ALPN protocol in the outcome; with --quic, `protocol` `quic` or `tcp` on each
    /// attempt and in the outcome) instead of the live log and the chart.
    #[arg(long)]
    json: bool,
    /// Keep the connection history in this file between runs (JSON; created, private
    /// (0600), if missing; runs at once merge their updates): a destination whose path
    /// looked broken is raced after the others next time, and RTTs learned set the delays
    /// (RFC 8305 §4, §5).
    #[arg(long, value_name = "FILE", help_heading = "History")]
    history: Option<PathBuf>,
    /// The network this run is on, for --history: history learned on one network is never
    /// used on another (RFC 8305 §4). By default the network the machine is on (Linux: from
    /// its default routes and IPv6 prefixes; elsewhere one network for every run); name one
    /// as you like (home, office, ...) to override it.
    #[arg(
        long,
        value_name = "NAME",
        requires = "history",
        help_heading = "History"
    )]
    network: Option<String>,
    #[command(flatten)]
    chart: ChartArgs,
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
/// Exit code when the race failed.
const FAILED: u8 = 1;

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
        Command::Connect(args) => connect(&args),
        Command::Demo(args) => demo(&args),
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
             crates/eyeballs-sim/scenarios/ in the eyeballs repository has examples)"
        ))
    })?;
    let trace = eyeballs_sim::run(&scenario)
        .map_err(|e| Failure::usage(format!("{}: {e}", args.file.display())))?;
    let timeline = Timeline::from(&trace);
    if let Some(path) = &args.chart.svg {
        write_svg(path, &timeline)?;
    }
    let out = if args.json {
        to_json(&eyeballs_sim::json::trace_to_json(&trace))?
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

fn connect(args: &ConnectArgs) -> Result<(), Failure> {
    let target = connect::parse_target(&args.target).map_err(|e| Failure::usage(e.0))?;
    let mut settings = args
        .engine
        .settings(&target)
        .map_err(|e| Failure::usage(e.0))?;
    let tls = args.tls.config(&target).map_err(|e| Failure::usage(e.0))?;
    let (history, shown_network) = match &args.history {
        Some(path) => {
            let (network, shown) =
                history::network(args.network.as_deref()).map_err(Failure::usage)?;
            let loaded = history::load(path, network).map_err(|e| Failure::usage(e.to_string()))?;
            (Some(loaded), shown)
        }
        None => (None, String::new()),
    };
    settings.history = history.clone();
    if !args.json {
        let c = &settings.config;
        // The preferred family in effect: -4 or -6 can rule out the one --prefer names.
        let mut header = format!(
            "racing to {}: connection attempt delay {}, resolution delay {}, {} preferred\n",
            args.target.trim(),
            ms(c.connection_attempt_delay),
            ms(c.resolution_delay),
            c.resolution_delay_family(),
        );
        if let Some(tls) = &tls {
            header.push_str(&args.tls.describe(tls));
        }
        if let (Some(path), Some(history)) = (&args.history, &history) {
            let known = history::describe(history);
            let what = match known.len() {
                0 => "nothing known yet".to_string(),
                1 => "1 destination known".to_string(),
                n => format!("{n} destinations known"),
            };
            header.push_str(&format!(
                "history {} (network {}): {what}\n",
                path.display(),
                shown_network,
            ));
            for line in known {
                header.push_str(&format!("  {line}\n"));
            }
        }
        print_stdout(&header)?;
        // Each event as it happens, as the race report writes it. A reader that went away is
        // not a reason to stop racing.
        settings.observer = Some(Arc::new(|event| {
            let _ = writeln!(std::io::stdout().lock(), "{event}");
        }));
    }
    let raced = match (tls, args.tls.quic_race()) {
        (Some(tls), Some(quic)) => connect::race_quic(target, settings, tls, quic),
        (Some(tls), None) => connect::race_secure(target, settings, tls),
        (None, _) => connect::race(target, settings),
    };
    let (result, report) = raced.map_err(|e| Failure {
        code: FAILED,
        message: format!("cannot start the runtime the race runs on: {e}"),
    })?;
    let timeline = Timeline::from(&report);
    // The history is saved and the picture written whatever the race did (a failure teaches
    // the history too), and the output printed before either is reported.
    let mut problems = Vec::new();
    if let (Some(path), Some(history)) = (&args.history, &history) {
        if let Err(e) = history::save(path, history) {
            problems.push(Failure {
                code: OUTPUT,
                message: e.to_string(),
            });
        }
    }
    if let Some(path) = &args.chart.svg {
        problems.extend(write_svg(path, &timeline).err());
    }
    if args.json {
        let json = connect::report_json(&report, result.as_ref().ok()).map_err(|e| Failure {
            code: OUTPUT,
            message: format!("cannot write JSON: {e}"),
        })?;
        print_stdout(&to_json(&json)?)?;
    } else {
        let mut out = format!("\n{}", text::render(&timeline, text::DEFAULT_WIDTH));
        if let Ok(connected) = &result {
            out.push_str(&format!(
                "\n{connected} after {}; closed (eyeballs connect only tests the connection)\n",
                ms(timeline.total())
            ));
        }
        print_stdout(&out)?;
    }
    let mut failure = match result {
        Ok(_) if problems.is_empty() => return Ok(()),
        Ok(_) => problems.remove(0),
        Err(e) => {
            let mut message = e.to_string();
            if let Some(hint) = connect::hint(&e) {
                message.push_str("\nhint: ");
                message.push_str(hint);
            }
            let code = if connect::is_usage(&e) { USAGE } else { FAILED };
            Failure { code, message }
        }
    };
    for problem in problems {
        failure.message.push_str("\nerror: ");
        failure.message.push_str(&problem.message);
    }
    Err(failure)
}

fn demo(args: &DemoArgs) -> Result<(), Failure> {
    if args.tls {
        return demo_tls(args);
    }
    let lab = demo::build_lab().map_err(|why| Failure {
        code: FAILED,
        message: demo::no_lab_help(&why),
    })?;
    print_stdout(&demo::intro(&lab, demo::SEQUENTIAL_TIMEOUT))?;
    let result = demo::run(&lab, demo::SEQUENTIAL_TIMEOUT);
    // The lab is taken down before anything else is printed or written.
    drop(lab);
    let demo = result.map_err(|e| Failure {
        code: FAILED,
        message: format!("cannot start the runtime the races run on: {e}"),
    })?;
    if let Some(path) = &args.chart.svg {
        write_picture(path, &demo::picture(&demo))?;
    }
    print_stdout(&format!("\n{}", demo::report(&demo)))?;
    if demo.eyeballs.winner().is_none() {
        return Err(Failure {
            code: FAILED,
            message: format!(
                "the eyeballs race did not connect on the lab: {}",
                demo.eyeballs.summary()
            ),
        });
    }
    Ok(())
}

fn demo_tls(args: &DemoArgs) -> Result<(), Failure> {
    use demo::tls;
    let cannot_run = |message: String| Failure {
        code: FAILED,
        message,
    };
    tls::check().map_err(|why| cannot_run(tls::no_lab_help(&why)))?;
    let lab = tls::Lab::new()
        .map_err(|e| cannot_run(format!("the TLS demo cannot build its lab: {e}")))?;
    print_stdout(&tls::intro(&lab, tls::TLS_TIMEOUT))?;
    let result = tls::run(&lab, tls::TLS_TIMEOUT);
    // The lab is taken down before anything else is printed or written.
    drop(lab);
    let demo = result.map_err(|e| cannot_run(format!("cannot run the TLS demo's races: {e}")))?;
    if let Some(path) = &args.chart.svg {
        write_picture(path, &tls::picture(&demo))?;
    }
    print_stdout(&format!("\n{}", tls::report(&demo)))?;
    if demo.secure.winner().is_none() {
        return Err(cannot_run(format!(
            "the secure race did not connect on the lab: {}",
            demo.secure.summary()
        )));
    }
    Ok(())
}

/// `value` as pretty JSON with a final newline.
fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, Failure> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| Failure {
        code: OUTPUT,
        message: format!("cannot write JSON: {e}"),
    })?;
    text.push('\n');
    Ok(text)
}

fn write_svg(path: &Path, timeline: &Timeline) -> Result<(), Failure> {
    write_picture(path, &svg::render(timeline))
}

fn write_picture(path: &Path, picture: &str) -> Result<(), Failure> {
    std::fs::write(path, picture).map_err(|e| {
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
