//! The contenders that run as other programs: curl (its arguments, its `-w` output) and
//! Python asyncio (a persistent script that connects once per line it reads).

use super::*;

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
pub(super) fn curl_args(lab: &Lab, ca_file: Option<&Path>, max_time: Duration) -> Vec<String> {
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
pub(super) fn curl_contender(
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

pub(super) fn curl(lab: &Lab, curl: &str) -> Contender {
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
pub(super) fn parse_curl(
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
pub(super) struct PythonPeer {
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
    pub(super) fn start(
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

    pub(super) fn connect(&mut self) -> Run {
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
pub(super) fn parse_python(line: &str, what: &str, bound: Duration) -> Run {
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

pub(super) fn python(lab: &Lab, python: &str) -> Contender {
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
