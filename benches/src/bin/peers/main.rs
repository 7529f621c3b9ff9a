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
//! Then the TLS-dead-IPv6 comparison (`tls`): time to a usable TLS connection when `[::1]:P`
//! accepts TCP and never speaks and `127.0.0.1:P` serves TLS, for eyeballs' secure racing
//! against hyper-util + hyper-rustls, curl and Python asyncio, which race TCP and then run
//! TLS over the winner.
//!
//! Prints the Markdown sections on stdout and writes the SVG charts to `--svg` and
//! `--tls-svg`.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write as _};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
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
    /// The bound on every connect that may hang, in milliseconds: tokio's plain
    /// `TcpStream::connect`, and every contender of the TLS-dead-IPv6 comparison.
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
    /// Where to write the TLS-dead-IPv6 comparison's SVG chart.
    #[arg(long)]
    tls_svg: Option<PathBuf>,
    /// Run only this comparison (by default both, the broken-IPv6 one first).
    #[arg(long, value_enum)]
    only: Option<Comparison>,
}

/// The comparisons this binary runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Comparison {
    /// Time to connect with a broken IPv6 path, and the history runs.
    Tcp,
    /// Time to a TLS connection with a TLS-dead IPv6 path.
    Tls,
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
    /// Of the measured runs, how many made a TCP connection to the lab's silent listener
    /// (the TLS-dead-IPv6 comparison; `None` elsewhere).
    to_silent: Option<usize>,
}

impl Contender {
    fn new(label: impl Into<String>, how: impl Into<String>, run: Result<RunFn, String>) -> Self {
        Contender {
            label: label.into(),
            how: how.into(),
            run,
            runs: Vec::new(),
            bound: None,
            to_silent: None,
        }
    }

    /// This contender, its runs bounded by `bound`.
    fn bounded(mut self, bound: Duration) -> Self {
        self.bound = Some(bound);
        self
    }
}

/// What a run that got nothing within `bound` reports (`what`: "connection", "TLS
/// connection").
fn none_within(what: &str, bound: Duration) -> String {
    format!("no {what} within {}", Human(bound))
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
                Err(_) => Err(none_within("connection", bound)),
            }
        });
        Run::timed(start, r)
    };
    Contender::new(
        format!("tokio::net::TcpStream::connect, {} timeout", Human(bound)),
        how,
        Ok(Box::new(run)),
    )
    .bounded(bound)
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

/// The lab's two addresses as curl's `--resolve NAME:P:ADDRESSES` takes them (pre-resolved
/// mode), or `None` when the name resolves by itself.
fn curl_resolve(lab: &Lab) -> Option<String> {
    let shown = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => format!("[{v6}]"),
        IpAddr::V4(v4) => v4.to_string(),
    };
    match &lab.resolution {
        Resolution::Name(_) => None,
        Resolution::Preresolved => Some(format!(
            "{LAB_NAME}:{}:{},{}",
            lab.port(),
            shown(lab.v6.ip()),
            shown(lab.v4.ip())
        )),
    }
}

/// curl's arguments for one connect to the lab within `max_time`: `http://` timed by
/// `time_connect`, or with `ca_file` `https://` trusting that CA, timed by
/// `time_appconnect` (the TLS handshake done).
fn curl_args(lab: &Lab, ca_file: Option<&Path>, max_time: Duration) -> Vec<String> {
    let (scheme, timing) = match ca_file {
        None => ("http", "%{time_connect} %{remote_ip}"),
        Some(_) => ("https", "%{time_appconnect} %{remote_ip}"),
    };
    let mut args: Vec<String> = ["-sS", "--noproxy", "*", "-o", "/dev/null", "--max-time"]
        .iter()
        .map(|a| a.to_string())
        .collect();
    args.push(max_time.as_secs_f64().to_string());
    args.extend(["-w".to_string(), timing.to_string()]);
    if let Some(ca) = ca_file {
        args.extend(["--cacert".to_string(), ca.display().to_string()]);
    }
    if let Some(r) = curl_resolve(lab) {
        args.extend(["--resolve".to_string(), r]);
    }
    args.push(format!("{scheme}://{}:{}/", lab.host(), lab.port()));
    args
}

/// curl's exit status when its `--max-time` ran out (`CURLE_OPERATION_TIMEDOUT`).
const CURL_TIMED_OUT: i32 = 28;

/// A curl contender: `label_end` after "curl X.Y.Z", `how` for the table, `args` for every
/// run, `what` it connects ("connection", "TLS connection") within `max_time`.
fn curl_contender(
    curl: &str,
    label_end: &str,
    how: &str,
    args: Vec<String>,
    what: &'static str,
    max_time: Duration,
) -> Contender {
    let Some(version) = curl_version(curl) else {
        return Contender::new("curl", "", Err("not installed".into()));
    };
    let curl = curl.to_string();
    let run = move || {
        let start = Instant::now();
        match Command::new(&curl).args(&args).output() {
            Ok(out) => parse_curl(
                &String::from_utf8_lossy(&out.stdout),
                &out.stderr,
                out.status.code(),
                what,
                max_time,
            ),
            Err(e) => Run {
                elapsed: start.elapsed(),
                result: Err(format!("could not run curl: {e}")),
            },
        }
    };
    Contender::new(
        format!("curl {version} {label_end}"),
        how,
        Ok(Box::new(run)),
    )
}

fn curl(lab: &Lab, curl: &str) -> Contender {
    let how = match curl_resolve(lab) {
        None => "its threaded getaddrinfo; time_connect",
        Some(_) => "--resolve NAME:P:[::1],127.0.0.1; time_connect",
    };
    // The lab's listener closes every connection at once, so curl exits with "empty
    // reply" (52) or "recv failure" (56): only the connect matters here.
    let max_time = Duration::from_secs(10);
    curl_contender(
        curl,
        "(200 ms happy eyeballs default)",
        how,
        curl_args(lab, None, max_time),
        "connection",
        max_time,
    )
}

/// curl's `-w '%{time_connect} %{remote_ip}'` (or `time_appconnect`): a time of 0 means no
/// connection; exit status 28 means none within `max_time`.
fn parse_curl(
    stdout: &str,
    stderr: &[u8],
    code: Option<i32>,
    what: &str,
    max_time: Duration,
) -> Run {
    let mut words = stdout.split_whitespace();
    let secs: f64 = words.next().and_then(|w| w.parse().ok()).unwrap_or(0.0);
    let ip = words.next().and_then(|w| w.parse::<IpAddr>().ok());
    let elapsed = Duration::from_secs_f64(secs.max(0.0));
    let result = match ip {
        Some(ip) if secs > 0.0 => Ok(ip),
        _ if code == Some(CURL_TIMED_OUT) => Err(none_within(what, max_time)),
        _ => Err(String::from_utf8_lossy(stderr).trim().to_string()),
    };
    Run { elapsed, result }
}

/// A persistent `python3 asyncio_connect.py` that connects once per line it reads.
struct PythonPeer {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// What it connects ("connection", "TLS connection") and its bound, for a timeout.
    what: &'static str,
    bound: Duration,
}

/// How long the Python contender of the broken-IPv6 comparison waits for a connection.
const PYTHON_TCP_BOUND: Duration = Duration::from_secs(10);

impl PythonPeer {
    /// Starts the script against `lab`: plain TCP, or with `ca_file` TLS trusting that CA;
    /// each connect bounded by `bound`.
    fn start(
        python: &str,
        lab: &Lab,
        ca_file: Option<&Path>,
        bound: Duration,
    ) -> Result<(PythonPeer, String), String> {
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
        cmd.arg("--timeout").arg(bound.as_secs_f64().to_string());
        if let Some(ca) = ca_file {
            cmd.arg("--cafile").arg(ca);
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
            what: if ca_file.is_some() {
                "TLS connection"
            } else {
                "connection"
            },
            bound,
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
        parse_python(&self.read_line(), self.what, self.bound)
    }
}

impl Drop for PythonPeer {
    fn drop(&mut self) {
        // Closing stdin ends its loop; kill in case it is stuck.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One line of the script: `ok SECS PEER`, `timeout SECS` (no `what` within `bound`) or
/// `err SECS ERROR`.
fn parse_python(line: &str, what: &str, bound: Duration) -> Run {
    let mut words = line.splitn(3, ' ');
    let (kind, secs, rest) = (words.next(), words.next(), words.next().unwrap_or(""));
    let elapsed = Duration::from_secs_f64(secs.and_then(|s| s.parse().ok()).unwrap_or(0.0));
    let result = match (kind, rest.parse::<IpAddr>()) {
        (Some("ok"), Ok(ip)) => Ok(ip),
        (Some("timeout"), _) => Err(none_within(what, bound)),
        (Some("err"), _) => Err(format!("python: {rest}")),
        _ => Err(format!("python: {line:?}")),
    };
    Run { elapsed, result }
}

fn python(lab: &Lab, python: &str) -> Contender {
    let label = "Python asyncio (happy_eyeballs_delay=0.25)";
    match PythonPeer::start(python, lab, None, PYTHON_TCP_BOUND) {
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

/// Runs every contender once per round, round-robin: round 0 warms them up, rounds
/// 1..=`reps` are measured. With `silent` (the lab's silent listener's accept count), each
/// measured run also records whether it made a TCP connection to that listener.
fn run_rounds(
    name: &str,
    contenders: &mut [Contender],
    reps: usize,
    silent: Option<&dyn Fn() -> usize>,
) {
    for round in 0..=reps {
        eprint!("\rpeers: {name}: round {round}/{reps}");
        for c in contenders.iter_mut() {
            let Ok(run) = c.run.as_mut() else {
                continue;
            };
            let before = silent.map(|accepted| accepted());
            let r = run();
            if round == 0 {
                continue;
            }
            if let (Some(accepted), Some(before)) = (silent, before) {
                // The listener accepts on a thread that polls every millisecond: a
                // connection made by this run is accepted within a few.
                std::thread::sleep(SILENT_ACCEPT_SLACK);
                *c.to_silent.get_or_insert(0) += usize::from(accepted() > before);
            }
            c.runs.push(r);
        }
    }
    eprintln!();
}

/// How long after a run its connection to the silent listener is surely accepted.
const SILENT_ACCEPT_SLACK: Duration = Duration::from_millis(20);

/// The table of the contenders' measured runs and the chart's rows for them: one row per
/// contender, the median's ratio to the first contender's (`base`, the column's name),
/// `how_header` the column of each one's `how`. A contender that could not run says why
/// ("not installed"); one that never connected within its bound says so, with the bound.
/// A column of runs that made a TCP connection to the silent listener is added when the
/// contenders count them.
fn contender_table(
    out: &mut String,
    contenders: &[Contender],
    how_header: &str,
    base: &str,
) -> Vec<Row> {
    let silent = contenders.iter().any(|c| c.to_silent.is_some());
    let base_median = contenders
        .first()
        .and_then(|c| Summary::of(&times(&c.runs)))
        .map(|s| s.median);
    let _ = write!(
        out,
        "| contender | {how_header} | median | p10 – p90 | min – max | × {base} | connected to |"
    );
    out.push_str(if silent {
        " TCP to the silent [::1] |\n|---|---|---:|---:|---:|---:|---|---:|\n"
    } else {
        "\n|---|---|---:|---:|---:|---:|---|\n"
    });
    let mut rows = Vec::new();
    for c in contenders {
        let (cells, bar) = match &c.run {
            Err(why) => (
                format!("| {} | | {why} | | | | |", c.label),
                Bar::Missing(why.clone()),
            ),
            Ok(_) => {
                let ok = times(&c.runs);
                match Summary::of(&ok) {
                    Some(s) if ok.len() == c.runs.len() => {
                        let ratio = base_median
                            .map(|b| format!("{:.2}", s.median.as_secs_f64() / b.as_secs_f64()))
                            .unwrap_or_default();
                        (
                            format!(
                                "| {} | {} | {} | {} – {} | {} – {} | {ratio} | {} |",
                                c.label,
                                c.how,
                                Human(s.median),
                                Human(s.p10),
                                Human(s.p90),
                                Human(s.min),
                                Human(s.max),
                                outcomes(&c.runs)
                            ),
                            Bar::Measured(s),
                        )
                    }
                    _ => {
                        let (said, bar) = match c.bound {
                            Some(b) if ok.is_empty() => (
                                format!("did not connect within {}", Human(b)),
                                Bar::TimedOut(b),
                            ),
                            _ => (
                                format!("{}/{} connected", ok.len(), c.runs.len()),
                                Bar::Missing(outcomes(&c.runs)),
                            ),
                        };
                        (
                            format!(
                                "| {} | {} | {said} | | | | {} |",
                                c.label,
                                c.how,
                                outcomes(&c.runs)
                            ),
                            bar,
                        )
                    }
                }
            }
        };
        out.push_str(&cells);
        if silent {
            match (&c.run, c.to_silent) {
                (Ok(_), Some(n)) => {
                    let _ = write!(out, " {n}/{} |", c.runs.len());
                }
                _ => out.push_str(" |"),
            }
        }
        out.push('\n');
        rows.push(Row {
            label: c.label.clone(),
            bar,
        });
    }
    rows
}

/// Writes the chart of `rows` to `path` (the Connection Attempt Delay marked) and, in the
/// Markdown, a reference to it with `alt` for its text (by file name: the chart sits next
/// to RESULTS.md).
fn write_chart(out: &mut String, path: &Path, title: &str, alt: &str, rows: &[Row]) {
    let doc = chart::svg(
        title,
        rows,
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
    let file = path.file_name().map_or_else(
        || path.display().to_string(),
        |f| f.to_string_lossy().into_owned(),
    );
    let _ = writeln!(out, "\n![{alt}]({file})");
}

/// A comparison that could not run: says why, and draws a chart that says so.
fn not_measured(out: &mut String, svg: Option<&Path>, title: &str, why: &str) {
    let _ = writeln!(out, "Not measured: {why}.");
    if let Some(path) = svg {
        let row = Row {
            label: "every contender".into(),
            bar: Bar::Missing(format!("not measured: {why}")),
        };
        let doc = chart::svg(title, &[row], &[]);
        if let Err(e) = std::fs::write(path, doc) {
            eprintln!("peers: cannot write {}: {e}", path.display());
            std::process::exit(1);
        }
    }
}

/// How the contenders find the lab at `port`: by `name` if it resolves to both loopback
/// addresses, otherwise pre-resolved.
fn resolution(name: Option<&str>, port: u16) -> Resolution {
    match name {
        Some(n) if resolves_to_both(n, port) => Resolution::Name(n.to_string()),
        Some(n) => {
            eprintln!("peers: {n} does not resolve to both ::1 and 127.0.0.1; pre-resolving");
            Resolution::Preresolved
        }
        None => Resolution::Preresolved,
    }
}

/// The broken-IPv6 comparison and the history runs, as a Markdown section in `out`.
fn tcp_comparison(args: &Args, rt: &Arc<tokio::runtime::Runtime>, out: &mut String) {
    let _ = writeln!(out, "## Time to connect with a broken IPv6 path\n");
    let lab = match BrokenIpv6::new() {
        Ok(lab) => lab,
        Err(why) => {
            not_measured(out, args.svg.as_deref(), CHART_TITLE, &why.to_string());
            return;
        }
    };
    let lab_env = Lab {
        resolution: resolution(args.name.as_deref(), lab.v4_addr().port()),
        v6: lab.v6_addr(),
        v4: lab.v4_addr(),
        rt: rt.clone(),
    };
    let bound = Duration::from_millis(args.bound_ms);
    let mut contenders = eyeballs_contenders(&lab_env);
    contenders.extend([
        tokio_plain(&lab_env, bound),
        hyper_util(&lab_env),
        curl(&lab_env, &args.curl),
        python(&lab_env, &args.python),
    ]);
    run_rounds("broken IPv6", &mut contenders, args.reps, None);
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
    let _ = writeln!(
        out,
        "{} measured connects per contender after one warm-up, round-robin. Time from the call \
         to a connected socket (curl: its `time_connect`; Python: `time.perf_counter()` \
         around `open_connection`).\n",
        args.reps
    );
    let mut rows = contender_table(out, &contenders, "addresses from", "eyeballs_tokio");

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
    history_report(out, &mut rows, &history, rtt);
    if let Some(path) = &args.svg {
        write_chart(
            out,
            path,
            CHART_TITLE,
            "Time to connect, broken IPv6",
            &rows,
        );
    }
}

fn main() {
    let args = Args::parse();
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
    let mut out = String::new();
    if args.only != Some(Comparison::Tls) {
        tcp_comparison(&args, &rt, &mut out);
    }
    if args.only != Some(Comparison::Tcp) {
        if !out.is_empty() {
            out.push('\n');
        }
        tls::comparison(&args, &rt, &mut out);
    }
    print!("{out}");
}

mod tls;

#[cfg(test)]
mod tests;
