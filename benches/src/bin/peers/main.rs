//! Time to connect in the broken-IPv6 loopback lab: eyeballs (tokio, smol, async-std, mio)
//! against the connects a user would otherwise pick (tokio's `TcpStream::connect` bounded by
//! a timeout, hyper-util's `HttpConnector`, curl and Python asyncio where installed), side
//! by side in one run, round-robin (round `r` runs every contender once, so machine noise
//! spreads over all of them); then ten consecutive connects through one connector with a
//! `SharedHistory`.
//!
//! The lab (`eyeballs_lab::BrokenIpv6`): `[::1]:P` has a full accept queue (SYNs dropped, a
//! connect hangs), `127.0.0.1:P` accepts. Given `--name` resolving to both (`benches/run`
//! provides one in a private mount namespace with its own `/etc/hosts`), every contender
//! looks the name up itself; otherwise each gets both addresses pre-resolved (its own
//! "resolve to" option) and the table says so.
//!
//! Prints a Markdown section on stdout and writes the SVG chart to `--svg`.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write as _};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use eyeballs::{CONNECTION_ATTEMPT_DELAY, Target};
use eyeballs_benches::chart::{self, Bar, Marker, Row};
use eyeballs_benches::stats::{Human, Summary};
use eyeballs_lab::{BrokenIpv6, V4_LOOPBACK, V6_LOOPBACK};
use eyeballs_tokio::{HistoryConfig, NetworkId, SharedHistory};

/// The broken-IPv6 comparison (see the crate's RESULTS.md).
#[derive(Parser, Debug)]
struct Args {
    /// A host name that resolves to both ::1 and 127.0.0.1. Without it, or when it does not
    /// resolve to both, every contender is given the two addresses pre-resolved.
    #[arg(long)]
    name: Option<String>,
    /// Measured connects per contender (after one warm-up connect each).
    #[arg(long, default_value_t = 15)]
    reps: usize,
    /// The timeout around tokio's plain `TcpStream::connect`, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    bound_ms: u64,
    /// Consecutive connects in the history run.
    #[arg(long, default_value_t = 10)]
    history_connects: usize,
    /// Where to write the SVG chart.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// The curl to run.
    #[arg(long, default_value = "curl")]
    curl: String,
    /// The Python to run.
    #[arg(long, default_value = "python3")]
    python: String,
}

/// The chart's title.
const CHART_TITLE: &str = "Time to connect: [::1] blackholed, 127.0.0.1 working (loopback lab)";

/// The host name used in "pre-resolved" mode (curl and hyper-util need a name to resolve).
const LAB_NAME: &str = "eyeballs-lab.test";

/// How a contender finds the lab's addresses.
#[derive(Clone, Debug)]
enum Resolution {
    /// A name every contender looks up with the system resolver (`getaddrinfo`).
    Name(String),
    /// `[::1]:P` and `127.0.0.1:P`, handed to each contender.
    Preresolved,
}

/// One connect: how long it took and where it connected (or why not).
#[derive(Clone, Debug)]
struct Run {
    elapsed: Duration,
    result: Result<IpAddr, String>,
}

impl Run {
    fn timed<E: std::fmt::Display>(start: Instant, result: Result<SocketAddr, E>) -> Run {
        Run {
            elapsed: start.elapsed(),
            result: result.map(|a| a.ip()).map_err(|e| e.to_string()),
        }
    }
}

type RunFn = Box<dyn FnMut() -> Run>;

/// A contender: its name, how it resolves, and its connect (or why it cannot run).
struct Contender {
    label: String,
    how: String,
    run: Result<RunFn, String>,
    runs: Vec<Run>,
    /// A run that did not connect within this is a timeout (drawn as such).
    bound: Option<Duration>,
}

impl Contender {
    fn new(label: impl Into<String>, how: impl Into<String>, run: Result<RunFn, String>) -> Self {
        Contender {
            label: label.into(),
            how: how.into(),
            run,
            runs: Vec::new(),
            bound: None,
        }
    }
}

/// Everything the contenders share.
struct Lab {
    resolution: Resolution,
    v6: SocketAddr,
    v4: SocketAddr,
    rt: Arc<tokio::runtime::Runtime>,
}

impl Lab {
    fn port(&self) -> u16 {
        self.v4.port()
    }

    fn host(&self) -> &str {
        match &self.resolution {
            Resolution::Name(n) => n,
            Resolution::Preresolved => LAB_NAME,
        }
    }

    /// The eyeballs target: the name, or both addresses.
    fn target(&self) -> Target {
        match &self.resolution {
            Resolution::Name(n) => Target::host(n, self.port()),
            Resolution::Preresolved => Target::addresses([self.v6, self.v4]),
        }
    }

    fn eyeballs_how(&self) -> String {
        match &self.resolution {
            Resolution::Name(_) => "getaddrinfo per family (AAAA, A)".into(),
            Resolution::Preresolved => "pre-resolved [::1]:P, 127.0.0.1:P".into(),
        }
    }
}

/// One eyeballs adapter's connect, run to completion on the adapter's own runtime, giving
/// the address connected to: the only thing in which the eyeballs contenders differ.
type AdapterConnect = Box<dyn Fn(Target) -> std::io::Result<SocketAddr>>;

/// The eyeballs contenders, one per adapter (tokio, smol, async-std, mio), in that order:
/// the same connect to the lab's target, timed the same way.
fn eyeballs_contenders(lab: &Lab) -> Vec<Contender> {
    let rt = lab.rt.clone();
    let adapters: [(&str, AdapterConnect); 4] = [
        (
            "eyeballs_tokio::connect",
            Box::new(move |t| rt.block_on(eyeballs_tokio::connect(t))?.peer_addr()),
        ),
        (
            "eyeballs_smol::connect",
            Box::new(|t| smol::block_on(eyeballs_smol::connect(t))?.peer_addr()),
        ),
        (
            "eyeballs_async_std::connect",
            Box::new(|t| async_std::task::block_on(eyeballs_async_std::connect(t))?.peer_addr()),
        ),
        (
            "eyeballs_mio::connect (blocking)",
            Box::new(|t| eyeballs_mio::connect(t)?.peer_addr()),
        ),
    ];
    adapters
        .into_iter()
        .map(|(label, connect)| {
            let target = lab.target();
            let run = move || {
                let start = Instant::now();
                Run::timed(start, connect(target.clone()))
            };
            Contender::new(label, lab.eyeballs_how(), Ok(Box::new(run)))
        })
        .collect()
}

fn tokio_plain(lab: &Lab, bound: Duration) -> Contender {
    let rt = lab.rt.clone();
    let how = match &lab.resolution {
        Resolution::Name(_) => "getaddrinfo (both families), addresses in turn",
        Resolution::Preresolved => "pre-resolved &[[::1]:P, 127.0.0.1:P], in turn",
    };
    let (name, port, addrs) = (lab.host().to_string(), lab.port(), [lab.v6, lab.v4]);
    let by_name = matches!(lab.resolution, Resolution::Name(_));
    let run = move || {
        let start = Instant::now();
        let r = rt.block_on(async {
            let connect = async {
                if by_name {
                    tokio::net::TcpStream::connect((name.as_str(), port)).await
                } else {
                    tokio::net::TcpStream::connect(&addrs[..]).await
                }
            };
            match tokio::time::timeout(bound, connect).await {
                Ok(r) => r.and_then(|s| s.peer_addr()).map_err(|e| e.to_string()),
                Err(_) => Err(format!("no connection within {}", Human(bound))),
            }
        });
        Run::timed(start, r)
    };
    let mut c = Contender::new(
        format!("tokio::net::TcpStream::connect, {} timeout", Human(bound)),
        how,
        Ok(Box::new(run)),
    );
    c.bound = Some(bound);
    c
}

/// hyper-util's resolver trait, answering the lab's two addresses (pre-resolved mode).
#[derive(Clone)]
struct FixedResolver(Vec<SocketAddr>);

impl tower_service::Service<hyper_util::client::legacy::connect::dns::Name> for FixedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: hyper_util::client::legacy::connect::dns::Name) -> Self::Future {
        std::future::ready(Ok(self.0.clone().into_iter()))
    }
}

/// One `Service<Uri>` call, readiness first.
async fn call_service<S>(mut service: S, uri: http::Uri) -> Result<S::Response, S::Error>
where
    S: tower_service::Service<http::Uri>,
{
    std::future::poll_fn(|cx| service.poll_ready(cx)).await?;
    service.call(uri).await
}

/// One hyper-util connect through `connector` to `uri`, timed: the two ways the lab is
/// resolved differ only in the connector's resolver.
fn hyper_run<C>(rt: Arc<tokio::runtime::Runtime>, connector: C, uri: http::Uri) -> RunFn
where
    C: tower_service::Service<http::Uri, Response = hyper_util::rt::TokioIo<tokio::net::TcpStream>>
        + Clone
        + 'static,
    C::Error: std::fmt::Display,
{
    Box::new(move || {
        let start = Instant::now();
        let r = rt.block_on(call_service(connector.clone(), uri.clone()));
        Run::timed(
            start,
            r.map_err(|e| e.to_string())
                .and_then(|io| io.inner().peer_addr().map_err(|e| e.to_string())),
        )
    })
}

fn hyper_util(lab: &Lab) -> Contender {
    use hyper_util::client::legacy::connect::HttpConnector;
    let rt = lab.rt.clone();
    let uri: Result<http::Uri, String> = format!("http://{}:{}/", lab.host(), lab.port())
        .parse()
        .map_err(|e| format!("bad URI: {e}"));
    let uri = match uri {
        Ok(u) => u,
        Err(e) => return Contender::new("hyper-util HttpConnector", "", Err(e)),
    };
    // hyper-util's default fallback delay (its Happy Eyeballs) is 300 ms.
    let (how, run) = match &lab.resolution {
        Resolution::Name(_) => (
            "GaiResolver (getaddrinfo)",
            hyper_run(rt, HttpConnector::new(), uri),
        ),
        Resolution::Preresolved => (
            "resolver answering [::1], 127.0.0.1",
            hyper_run(
                rt,
                HttpConnector::new_with_resolver(FixedResolver(vec![lab.v6, lab.v4])),
                uri,
            ),
        ),
    };
    Contender::new("hyper-util HttpConnector (300 ms fallback)", how, Ok(run))
}

/// The first line of `curl --version`'s "curl X.Y.Z", if curl runs.
fn curl_version(curl: &str) -> Option<String> {
    let out = Command::new(curl).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().next()?;
    let mut words = first.split_whitespace();
    (words.next() == Some("curl")).then(|| words.next().unwrap_or("?").to_string())
}

fn curl(lab: &Lab, curl: &str) -> Contender {
    let Some(version) = curl_version(curl) else {
        return Contender::new("curl", "", Err("not installed".into()));
    };
    let label = format!("curl {version} (200 ms happy eyeballs default)");
    let url = format!("http://{}:{}/", lab.host(), lab.port());
    let resolve = match &lab.resolution {
        Resolution::Name(_) => None,
        Resolution::Preresolved => Some(format!("{LAB_NAME}:{}:[::1],127.0.0.1", lab.port())),
    };
    let how = match &resolve {
        None => "its threaded getaddrinfo; time_connect",
        Some(_) => "--resolve NAME:P:[::1],127.0.0.1; time_connect",
    };
    let curl = curl.to_string();
    let run = move || {
        let mut cmd = Command::new(&curl);
        cmd.args([
            "-sS",
            "--noproxy",
            "*",
            "-o",
            "/dev/null",
            "--max-time",
            "10",
        ])
        .args(["-w", "%{time_connect} %{remote_ip}"]);
        if let Some(r) = &resolve {
            cmd.args(["--resolve", r]);
        }
        cmd.arg(&url);
        let start = Instant::now();
        // The lab's listener closes every connection at once, so curl exits with "empty
        // reply" (52) or "recv failure" (56): only the connect matters here.
        match cmd.output() {
            Ok(out) => parse_curl(&String::from_utf8_lossy(&out.stdout), &out.stderr),
            Err(e) => Run {
                elapsed: start.elapsed(),
                result: Err(format!("could not run curl: {e}")),
            },
        }
    };
    Contender::new(label, how, Ok(Box::new(run)))
}

/// curl's `-w '%{time_connect} %{remote_ip}'`: a connect time of 0 means no connection.
fn parse_curl(stdout: &str, stderr: &[u8]) -> Run {
    let mut words = stdout.split_whitespace();
    let secs: f64 = words.next().and_then(|w| w.parse().ok()).unwrap_or(0.0);
    let ip = words.next().and_then(|w| w.parse::<IpAddr>().ok());
    let elapsed = Duration::from_secs_f64(secs.max(0.0));
    match ip {
        Some(ip) if secs > 0.0 => Run {
            elapsed,
            result: Ok(ip),
        },
        _ => Run {
            elapsed,
            result: Err(String::from_utf8_lossy(stderr).trim().to_string()),
        },
    }
}

/// A persistent `python3 asyncio_connect.py` that connects once per line it reads.
struct PythonPeer {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl PythonPeer {
    fn start(python: &str, lab: &Lab) -> Result<(PythonPeer, String), String> {
        let mut cmd = Command::new(python);
        cmd.arg("-u")
            .arg("-c")
            .arg(include_str!("../../../scripts/asyncio_connect.py"))
            .arg(lab.host())
            .arg(lab.port().to_string())
            .arg(format!("{}", CONNECTION_ATTEMPT_DELAY.as_secs_f64()));
        if matches!(lab.resolution, Resolution::Preresolved) {
            cmd.arg(lab.v6.ip().to_string())
                .arg(lab.v4.ip().to_string());
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|_| "not installed".to_string())?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err("could not talk to python".into());
        };
        let mut peer = PythonPeer {
            child,
            stdin,
            stdout: BufReader::new(stdout),
        };
        let line = peer.read_line();
        match line.split_once(' ') {
            Some(("ready", version)) => Ok((peer, version.to_string())),
            Some(("unsupported", version)) => {
                Err(format!("Python {version} has no happy_eyeballs_delay"))
            }
            _ => Err(format!("python did not start: {line:?}")),
        }
    }

    fn read_line(&mut self) -> String {
        let mut line = String::new();
        let _ = self.stdout.read_line(&mut line);
        line.trim().to_string()
    }

    fn connect(&mut self) -> Run {
        if let Err(e) = self
            .stdin
            .write_all(b"go\n")
            .and_then(|_| self.stdin.flush())
        {
            return Run {
                elapsed: Duration::ZERO,
                result: Err(format!("python went away: {e}")),
            };
        }
        let line = self.read_line();
        let mut words = line.splitn(3, ' ');
        let (kind, secs, rest) = (words.next(), words.next(), words.next().unwrap_or(""));
        let elapsed = Duration::from_secs_f64(secs.and_then(|s| s.parse().ok()).unwrap_or(0.0));
        let result = match (kind, rest.parse::<IpAddr>()) {
            (Some("ok"), Ok(ip)) => Ok(ip),
            _ => Err(format!("python: {line}")),
        };
        Run { elapsed, result }
    }
}

impl Drop for PythonPeer {
    fn drop(&mut self) {
        // Closing stdin ends its loop; kill in case it is stuck.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python(lab: &Lab, python: &str) -> Contender {
    let label = "Python asyncio (happy_eyeballs_delay=0.25)";
    match PythonPeer::start(python, lab) {
        Ok((mut peer, version)) => {
            let how = match &lab.resolution {
                Resolution::Name(_) => format!("Python {version}; loop.getaddrinfo"),
                Resolution::Preresolved => {
                    format!("Python {version}; getaddrinfo patched to [::1], 127.0.0.1")
                }
            };
            Contender::new(label, how, Ok(Box::new(move || peer.connect())))
        }
        Err(why) => Contender::new(label, "", Err(why)),
    }
}

/// The median time of `n` plain connects to the working IPv4 listener: the loopback RTT
/// (one SYN / SYN-ACK exchange).
fn ipv4_rtt(v4: SocketAddr, n: usize) -> Option<Summary> {
    let mut times = Vec::new();
    for _ in 0..n + 1 {
        let start = Instant::now();
        if std::net::TcpStream::connect_timeout(&v4, Duration::from_secs(2)).is_ok() {
            times.push(start.elapsed());
        }
    }
    // The first one warms up.
    Summary::of(times.get(1..).unwrap_or(&[]))
}

/// `reps` times: a fresh `SharedHistory`, then `connects` consecutive connects to `target`
/// through one tokio connector that has it. Returns the runs by position.
fn history_run(lab: &Lab, target: &Target, reps: usize, connects: usize) -> Vec<Vec<Run>> {
    let mut by_position: Vec<Vec<Run>> = vec![Vec::new(); connects];
    for _ in 0..reps {
        let history = SharedHistory::new(HistoryConfig::default(), NetworkId(0));
        let connector = eyeballs_tokio::Connector::new().history(history);
        for slot in by_position.iter_mut() {
            let start = Instant::now();
            let r = lab.rt.block_on(connector.connect(target.clone()));
            let r = r
                .map_err(|e| e.to_string())
                .and_then(|s| s.peer_addr().map_err(|e| e.to_string()));
            slot.push(Run::timed(start, r));
        }
    }
    by_position
}

/// The history runs: by name (when there is one) and with both addresses pre-resolved.
fn history_variants(lab: &Lab) -> Vec<(&'static str, Target)> {
    let addrs = ("pre-resolved", Target::addresses([lab.v6, lab.v4]));
    match &lab.resolution {
        Resolution::Name(n) => vec![("by name", Target::host(n, lab.port())), addrs],
        Resolution::Preresolved => vec![addrs],
    }
}

/// The history section: the table (a column pair per variant) and the chart rows.
fn history_report(
    out: &mut String,
    rows: &mut Vec<Row>,
    variants: &[(&str, Vec<Vec<Run>>)],
    rtt: Option<Summary>,
) {
    let first_target = CONNECTION_ATTEMPT_DELAY + HISTORY_SLACK;
    let later_target = rtt.map(|r| r.median + HISTORY_SLACK);
    let _ = write!(out, "| connect | target |");
    for (name, _) in variants {
        let _ = write!(out, " {name}: median (p10 – p90) | met |");
    }
    let _ = write!(out, "\n|---:|---:|");
    for _ in variants {
        let _ = write!(out, "---:|---|");
    }
    out.push('\n');
    let connects = variants.first().map_or(0, |(_, v)| v.len());
    for i in 0..connects {
        let target = if i == 0 {
            Some(first_target)
        } else {
            later_target
        };
        let shown = target
            .map(|t| format!("≤ {}", Human(t)))
            .unwrap_or_default();
        let _ = write!(out, "| {} | {shown} |", i + 1);
        for (_, runs) in variants {
            let runs = &runs[i];
            let ok = times(runs);
            match Summary::of(&ok) {
                Some(s) if ok.len() == runs.len() => {
                    let met = match target {
                        Some(t) if s.median <= t => "yes",
                        Some(_) => "**no**",
                        None => "?",
                    };
                    let _ = write!(
                        out,
                        " {} ({} – {}) | {met} |",
                        Human(s.median),
                        Human(s.p10),
                        Human(s.p90)
                    );
                }
                _ => {
                    let _ = write!(out, " {} | **no** |", outcomes(runs));
                }
            }
        }
        out.push('\n');
    }
    for (name, by_position) in variants {
        if let Some(first) = by_position.first().and_then(|r| Summary::of(&times(r))) {
            rows.push(Row {
                label: format!("eyeballs_tokio + history ({name}), 1st"),
                bar: Bar::Measured(first),
            });
        }
        let later: Vec<Duration> = by_position.iter().skip(1).flat_map(|r| times(r)).collect();
        if let Some(s) = Summary::of(&later) {
            rows.push(Row {
                label: format!(
                    "eyeballs_tokio + history ({name}), 2nd–{}",
                    by_position.len()
                ),
                bar: Bar::Measured(s),
            });
        }
    }
}

/// The slack the history targets allow: the first connect within the Connection Attempt
/// Delay + 2 ms, later ones within the IPv4 RTT + 2 ms (the targets).
const HISTORY_SLACK: Duration = Duration::from_millis(2);

/// The times of the runs that connected.
fn times(runs: &[Run]) -> Vec<Duration> {
    runs.iter()
        .filter(|r| r.result.is_ok())
        .map(|r| r.elapsed)
        .collect()
}

/// "127.0.0.1 (15/15)" or "no connection (15/15)": where the runs ended.
fn outcomes(runs: &[Run]) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for r in runs {
        let key = match &r.result {
            Ok(ip) => ip.to_string(),
            Err(e) => format!("failed: {e}"),
        };
        match counts.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => counts.push((key, 1)),
        }
    }
    counts
        .iter()
        .map(|(k, n)| format!("{k} ({n}/{})", runs.len()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn resolves_to_both(name: &str, port: u16) -> bool {
    let Ok(addrs) = (name, port).to_socket_addrs() else {
        return false;
    };
    let ips: Vec<IpAddr> = addrs.map(|a| a.ip()).collect();
    ips.contains(&V6_LOOPBACK) && ips.contains(&V4_LOOPBACK)
}

fn main() {
    let args = Args::parse();
    let mut out = String::new();
    let _ = writeln!(out, "## Time to connect with a broken IPv6 path\n");
    let lab = match BrokenIpv6::new() {
        Ok(lab) => lab,
        Err(why) => {
            let _ = writeln!(out, "Not measured: {why}.");
            print!("{out}");
            if let Some(path) = &args.svg {
                let row = Row {
                    label: "every contender".into(),
                    bar: Bar::Missing(format!("not measured: {why}")),
                };
                if let Err(e) = std::fs::write(path, chart::svg(CHART_TITLE, &[row], &[])) {
                    eprintln!("peers: cannot write {}: {e}", path.display());
                    std::process::exit(1);
                }
            }
            return;
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => Arc::new(rt),
        Err(e) => {
            eprintln!("peers: cannot start a tokio runtime: {e}");
            std::process::exit(1);
        }
    };
    let resolution = match &args.name {
        Some(n) if resolves_to_both(n, lab.v4_addr().port()) => Resolution::Name(n.clone()),
        Some(n) => {
            eprintln!("peers: {n} does not resolve to both ::1 and 127.0.0.1; pre-resolving");
            Resolution::Preresolved
        }
        None => Resolution::Preresolved,
    };
    let lab_env = Lab {
        resolution,
        v6: lab.v6_addr(),
        v4: lab.v4_addr(),
        rt,
    };
    let bound = Duration::from_millis(args.bound_ms);
    let mut contenders = eyeballs_contenders(&lab_env);
    contenders.extend([
        tokio_plain(&lab_env, bound),
        hyper_util(&lab_env),
        curl(&lab_env, &args.curl),
        python(&lab_env, &args.python),
    ]);

    // Round 0 warms every contender up; rounds 1..=reps are measured.
    for round in 0..=args.reps {
        eprint!("\rpeers: round {round}/{}", args.reps);
        for c in contenders.iter_mut() {
            if let Ok(run) = c.run.as_mut() {
                let r = run();
                if round > 0 {
                    c.runs.push(r);
                }
            }
        }
    }
    eprintln!();
    eprintln!("peers: history runs");
    let history: Vec<(&str, Vec<Vec<Run>>)> = history_variants(&lab_env)
        .into_iter()
        .map(|(name, target)| {
            let runs = history_run(&lab_env, &target, args.reps, args.history_connects);
            (name, runs)
        })
        .collect();
    let rtt = ipv4_rtt(lab_env.v4, 20);

    // The report.
    match &lab_env.resolution {
        Resolution::Name(n) => {
            let _ = writeln!(
                out,
                "The lab: `[::1]:{p}` with a full accept queue (SYNs dropped: a connect hangs) and \
                 an accepting `127.0.0.1:{p}`. The name `{n}` resolves to both through the system \
                 resolver (`benches/run` gives the process a private mount namespace whose \
                 `/etc/hosts` has the name; the machine's own configuration is untouched); every \
                 contender looks it up itself, so the times include the lookups.\n",
                p = lab_env.port()
            );
        }
        Resolution::Preresolved => {
            let _ = writeln!(
                out,
                "The lab: `[::1]:{p}` with a full accept queue (SYNs dropped: a connect hangs) and \
                 an accepting `127.0.0.1:{p}`. No name resolved to both here (no private mount \
                 namespace), so every contender was handed both addresses, IPv6 first, through \
                 its own \"resolve to\" option (column \"addresses from\").\n",
                p = lab_env.port()
            );
        }
    }
    let base = contenders
        .first()
        .and_then(|c| Summary::of(&times(&c.runs)))
        .map(|s| s.median);
    let _ = writeln!(
        out,
        "{} measured connects per contender after one warm-up, round-robin. Time from the call \
         to a connected socket (curl: its `time_connect`; Python: `time.perf_counter()` \
         around `open_connection`).\n",
        args.reps
    );
    let _ = writeln!(
        out,
        "| contender | addresses from | median | p10 – p90 | min – max | × eyeballs_tokio | connected to |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---|");
    let mut rows = Vec::new();
    for c in &contenders {
        match &c.run {
            Err(why) => {
                let _ = writeln!(out, "| {} | | {why} | | | | |", c.label);
                rows.push(Row {
                    label: c.label.clone(),
                    bar: Bar::Missing(why.clone()),
                });
            }
            Ok(_) => {
                let ok = times(&c.runs);
                match Summary::of(&ok) {
                    Some(s) if ok.len() == c.runs.len() => {
                        let ratio = base
                            .map(|b| format!("{:.2}", s.median.as_secs_f64() / b.as_secs_f64()))
                            .unwrap_or_default();
                        let _ = writeln!(
                            out,
                            "| {} | {} | {} | {} – {} | {} – {} | {ratio} | {} |",
                            c.label,
                            c.how,
                            Human(s.median),
                            Human(s.p10),
                            Human(s.p90),
                            Human(s.min),
                            Human(s.max),
                            outcomes(&c.runs)
                        );
                        rows.push(Row {
                            label: c.label.clone(),
                            bar: Bar::Measured(s),
                        });
                    }
                    _ => {
                        let _ = writeln!(
                            out,
                            "| {} | {} | no connection | | | | {} |",
                            c.label,
                            c.how,
                            outcomes(&c.runs)
                        );
                        rows.push(Row {
                            label: c.label.clone(),
                            bar: match c.bound {
                                Some(b) if ok.is_empty() => Bar::TimedOut(b),
                                _ => Bar::Missing(outcomes(&c.runs)),
                            },
                        });
                    }
                }
            }
        }
    }

    // History.
    let _ = writeln!(
        out,
        "\n### Consecutive connects with a connection history\n\n\
         One `eyeballs_tokio::Connector` with a `SharedHistory` (default `HistoryConfig`), \
         {} connects in a row to the same target; the sequence repeated {} times, each with a \
         fresh history. Targets: the first within the Connection Attempt Delay + 2 ms, every \
         later one within 2 ms of the IPv4 RTT.\n",
        args.history_connects, args.reps,
    );
    match &rtt {
        Some(r) => {
            let _ = writeln!(
                out,
                "IPv4 RTT (a plain `std::net::TcpStream::connect` to `127.0.0.1:P`, 20 runs): \
                 median {}, p90 {}.\n",
                Human(r.median),
                Human(r.p90)
            );
        }
        None => {
            let _ = writeln!(out, "IPv4 RTT: could not be measured.\n");
        }
    }
    history_report(&mut out, &mut rows, &history, rtt);
    if let Some(path) = &args.svg {
        let doc = chart::svg(
            CHART_TITLE,
            &rows,
            &[Marker {
                at: CONNECTION_ATTEMPT_DELAY,
                label: format!(
                    "Connection Attempt Delay {}",
                    Human(CONNECTION_ATTEMPT_DELAY)
                ),
            }],
        );
        if let Err(e) = std::fs::write(path, doc) {
            eprintln!("peers: cannot write {}: {e}", path.display());
            std::process::exit(1);
        }
    }
    print!("{out}");
}

#[cfg(test)]
mod tests;
