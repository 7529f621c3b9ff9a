//! The echo side of the load test, in a child process.
//!
//! 10,000 races in flight hold up to about 17,000 client sockets in the test process; the
//! accepted ends would double that, past common open-files limits. So the accepting side
//! runs in a child process: the `eyeballs-echo` binary of this package runs [`serve`], and
//! the test starts it with [`EchoServer::spawn`].
//!
//! The child serves, on loopback:
//!
//! - an echo pair: `[::1]:P` and `127.0.0.1:P` (the plain races);
//! - a broken-IPv6 pair: a [`Blackhole`] on `[::1]:Q` (the lab's hanging listener: its
//!   accept queue is full, so SYNs are dropped and connects hang) and an echo listener on
//!   `127.0.0.1:Q` (the lab's `BrokenIpv6` closes what it accepts, so it cannot echo);
//! - a second blackhole on `127.0.0.1:R`, so that a race can hang on both families.
//!
//! Each echo connection reads one byte, writes it back and closes: the server closes
//! first, so the TIME_WAIT state stays on the server side (the listener's port) and the
//! clients' ephemeral ports are free again at once, run after run.
//!
//! The protocol with the parent: the child writes one line `ready name=addr ...`, serves
//! until its stdin reaches end of file, then writes `done name=accepted/echoed ...
//! accept_errors=N` and exits.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use eyeballs_lab::{Blackhole, V4_LOOPBACK, same_port};
use socket2::{Domain, Socket, Type};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The listen backlog of the echo listeners. Up to about 3,300 connects arrive at one
/// listener at once; a SYN that finds the accept queue full is dropped and retransmitted
/// only after a second. The kernel caps the backlog at `net.core.somaxconn` (4096 by
/// default since Linux 5.4).
pub const BACKLOG: i32 = 4096;

/// Where the child serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EchoAddrs {
    /// Echoes: `[::1]:P`.
    pub plain_v6: SocketAddr,
    /// Echoes: `127.0.0.1:P`.
    pub plain_v4: SocketAddr,
    /// Hangs: `[::1]:Q`.
    pub broken_v6: SocketAddr,
    /// Echoes: `127.0.0.1:Q`.
    pub broken_v4: SocketAddr,
    /// Hangs: `127.0.0.1:R`.
    pub hole_v4: SocketAddr,
}

/// What one echo listener did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListenerStats {
    /// Connections accepted.
    pub accepted: usize,
    /// Connections whose byte was echoed.
    pub echoed: usize,
}

impl fmt::Display for ListenerStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.accepted, self.echoed)
    }
}

impl FromStr for ListenerStats {
    type Err = io::Error;

    fn from_str(s: &str) -> io::Result<ListenerStats> {
        let bad = || bad_data(format!("{s:?} is not accepted/echoed"));
        let (accepted, echoed) = s.split_once('/').ok_or_else(bad)?;
        Ok(ListenerStats {
            accepted: accepted.parse().map_err(|_| bad())?,
            echoed: echoed.parse().map_err(|_| bad())?,
        })
    }
}

/// What the child did, reported when it stops.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EchoStats {
    /// The `[::1]:P` listener.
    pub plain_v6: ListenerStats,
    /// The `127.0.0.1:P` listener.
    pub plain_v4: ListenerStats,
    /// The `127.0.0.1:Q` listener.
    pub broken_v4: ListenerStats,
    /// Failed `accept` calls (e.g. the child ran out of file descriptors).
    pub accept_errors: usize,
}

fn bad_data(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// The `name=value` fields of a line that starts with `tag`.
fn fields<'a>(line: &'a str, tag: &str) -> io::Result<HashMap<&'a str, &'a str>> {
    let mut words = line.split_whitespace();
    if words.next() != Some(tag) {
        return Err(bad_data(format!(
            "expected a line starting with {tag:?} from the echo child, got {line:?}"
        )));
    }
    words
        .map(|w| {
            w.split_once('=')
                .ok_or_else(|| bad_data(format!("{w:?} in {line:?} is not name=value")))
        })
        .collect()
}

fn field<T>(fields: &HashMap<&str, &str>, name: &str) -> io::Result<T>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    let text = fields
        .get(name)
        .ok_or_else(|| bad_data(format!("the echo child did not report {name}")))?;
    text.parse()
        .map_err(|e| bad_data(format!("the echo child reported {name}={text:?}: {e}")))
}

impl EchoAddrs {
    fn to_line(self) -> String {
        format!(
            "ready plain_v6={} plain_v4={} broken_v6={} broken_v4={} hole_v4={}",
            self.plain_v6, self.plain_v4, self.broken_v6, self.broken_v4, self.hole_v4
        )
    }

    fn from_line(line: &str) -> io::Result<EchoAddrs> {
        let f = fields(line, "ready")?;
        Ok(EchoAddrs {
            plain_v6: field(&f, "plain_v6")?,
            plain_v4: field(&f, "plain_v4")?,
            broken_v6: field(&f, "broken_v6")?,
            broken_v4: field(&f, "broken_v4")?,
            hole_v4: field(&f, "hole_v4")?,
        })
    }
}

impl EchoStats {
    fn to_line(self) -> String {
        format!(
            "done plain_v6={} plain_v4={} broken_v4={} accept_errors={}",
            self.plain_v6, self.plain_v4, self.broken_v4, self.accept_errors
        )
    }

    fn from_line(line: &str) -> io::Result<EchoStats> {
        let f = fields(line, "done")?;
        Ok(EchoStats {
            plain_v6: field(&f, "plain_v6")?,
            plain_v4: field(&f, "plain_v4")?,
            broken_v4: field(&f, "broken_v4")?,
            accept_errors: field(&f, "accept_errors")?,
        })
    }
}

/// A child process that is killed (and reaped) if it is still running when this is
/// dropped: no echo child outlives a failed test.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// Reads the child's next line, the one starting with `tag`.
fn read_line(stdout: &mut BufReader<ChildStdout>, tag: &str) -> io::Result<String> {
    let mut line = String::new();
    if stdout.read_line(&mut line)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("the echo child exited before its {tag:?} line (see its stderr)"),
        ));
    }
    Ok(line)
}

/// The running echo child. Dropping it without [`finish`](EchoServer::finish) kills it.
pub struct EchoServer {
    child: Reaped,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    addrs: EchoAddrs,
}

impl EchoServer {
    /// Starts `program` (the `eyeballs-echo` binary: `env!("CARGO_BIN_EXE_eyeballs-echo")`
    /// in this package's tests) and waits until it serves.
    pub fn spawn(program: &Path) -> io::Result<EchoServer> {
        let child = Command::new(program)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", program.display())))?;
        // From here on, an early return kills the child.
        let mut child = Reaped(child);
        let (Some(stdin), Some(stdout)) = (child.0.stdin.take(), child.0.stdout.take()) else {
            return Err(io::Error::other(
                "the echo child has no stdin or stdout pipe",
            ));
        };
        let mut stdout = BufReader::new(stdout);
        let addrs = EchoAddrs::from_line(&read_line(&mut stdout, "ready")?)?;
        Ok(EchoServer {
            child,
            stdin,
            stdout,
            addrs,
        })
    }

    /// Where the child serves.
    pub fn addrs(&self) -> EchoAddrs {
        self.addrs
    }

    /// Tells the child to stop (closes its stdin), waits up to `limit` for it to report
    /// and exit, and returns what it did. The pipes to it are closed when this returns.
    pub fn finish(self, limit: Duration) -> io::Result<EchoStats> {
        let EchoServer {
            mut child,
            stdin,
            mut stdout,
            ..
        } = self;
        drop(stdin);
        let stats = EchoStats::from_line(&read_line(&mut stdout, "done")?)?;
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = child.0.try_wait()? {
                if !status.success() {
                    return Err(io::Error::other(format!(
                        "the echo child ended with {status}"
                    )));
                }
                return Ok(stats);
            }
            if Instant::now() >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("the echo child did not exit within {limit:?}"),
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Writes `byte`, reads it back, then expects end of file (the echo side closes after
/// echoing).
pub async fn echo_byte(stream: &mut TcpStream, byte: u8) -> io::Result<()> {
    stream.write_all(&[byte]).await?;
    let mut back = [0u8; 1];
    stream.read_exact(&mut back).await?;
    if back[0] != byte {
        return Err(bad_data(format!(
            "sent byte {byte}, the echo came back as {}",
            back[0]
        )));
    }
    match stream.read(&mut back).await? {
        0 => Ok(()),
        _ => Err(bad_data(
            "the echo side sent more than the byte it was sent".into(),
        )),
    }
}

/// A listening socket on `addr` with [`BACKLOG`], non-blocking (IPv6: IPv6 only, so that
/// `[::1]:P` and `127.0.0.1:P` are separate sockets).
fn listen(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

fn port_of(listener: &std::net::TcpListener) -> io::Result<u16> {
    Ok(listener.local_addr()?.port())
}

#[derive(Default)]
struct Counts {
    accepted: AtomicUsize,
    echoed: AtomicUsize,
}

impl Counts {
    fn stats(&self) -> ListenerStats {
        ListenerStats {
            accepted: self.accepted.load(Ordering::Acquire),
            echoed: self.echoed.load(Ordering::Acquire),
        }
    }
}

async fn echo_once(mut stream: TcpStream, counts: Arc<Counts>) {
    let mut byte = [0u8; 1];
    // A loser of a race is closed by its client without a byte: end of file, no echo.
    if let Ok(1) = stream.read(&mut byte).await {
        if stream.write_all(&byte).await.is_ok() {
            counts.echoed.fetch_add(1, Ordering::AcqRel);
        }
    }
    // Dropping the stream closes it: the server closes first (see the module docs).
}

async fn accept_loop(listener: TcpListener, counts: Arc<Counts>, errors: Arc<AtomicUsize>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                counts.accepted.fetch_add(1, Ordering::AcqRel);
                tokio::spawn(echo_once(stream, counts.clone()));
            }
            Err(e) => {
                errors.fetch_add(1, Ordering::AcqRel);
                eprintln!("eyeballs-echo: accept: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// The child's work (the `eyeballs-echo` binary): builds the listeners, writes the `ready`
/// line, echoes until stdin reaches end of file, writes the `done` line.
pub fn serve() -> io::Result<()> {
    #[cfg(unix)]
    crate::raise_fd_limit()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (plain_v4, plain_v6) = same_port("the echo pair", listen, |v6, v4| {
        listen(SocketAddr::new(v6.ip(), port_of(v4)?))
    })?;
    let (broken_v4, broken_v6) = same_port("the broken-IPv6 pair", listen, |v6, v4| {
        Blackhole::at(SocketAddr::new(v6.ip(), port_of(v4)?))
    })?;
    let hole_v4 = Blackhole::at(SocketAddr::new(V4_LOOPBACK, 0))?;
    let addrs = EchoAddrs {
        plain_v6: plain_v6.local_addr()?,
        plain_v4: plain_v4.local_addr()?,
        broken_v6: broken_v6.addr(),
        broken_v4: broken_v4.local_addr()?,
        hole_v4: hole_v4.addr(),
    };
    let counts: [Arc<Counts>; 3] = Default::default();
    let errors = Arc::new(AtomicUsize::new(0));
    {
        let _in_runtime = runtime.enter();
        for (listener, counts) in [plain_v6, plain_v4, broken_v4].into_iter().zip(&counts) {
            let listener = TcpListener::from_std(listener)?;
            runtime.spawn(accept_loop(listener, counts.clone(), errors.clone()));
        }
    }
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{}", addrs.to_line())?;
    stdout.flush()?;

    // Serve until the parent closes our stdin (or exits).
    io::copy(&mut io::stdin().lock(), &mut io::sink())?;

    let stats = EchoStats {
        plain_v6: counts[0].stats(),
        plain_v4: counts[1].stats(),
        broken_v4: counts[2].stats(),
        accept_errors: errors.load(Ordering::Acquire),
    };
    runtime.shutdown_background();
    drop((broken_v6, hole_v4));
    writeln!(stdout, "{}", stats.to_line())?;
    stdout.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_and_bad_lines_are_named() {
        let addrs = EchoAddrs {
            plain_v6: "[::1]:1".parse().unwrap(),
            plain_v4: "127.0.0.1:1".parse().unwrap(),
            broken_v6: "[::1]:2".parse().unwrap(),
            broken_v4: "127.0.0.1:2".parse().unwrap(),
            hole_v4: "127.0.0.1:3".parse().unwrap(),
        };
        assert_eq!(EchoAddrs::from_line(&addrs.to_line()).unwrap(), addrs);
        let stats = EchoStats {
            plain_v6: ListenerStats {
                accepted: 5,
                echoed: 4,
            },
            accept_errors: 1,
            ..EchoStats::default()
        };
        assert_eq!(EchoStats::from_line(&stats.to_line()).unwrap(), stats);

        let e = EchoAddrs::from_line("done x=1").unwrap_err();
        assert!(e.to_string().contains("\"ready\""), "{e}");
        let e = EchoStats::from_line("done plain_v6=1 plain_v4=1/1").unwrap_err();
        assert!(
            e.to_string().contains("\"1\" is not accepted/echoed"),
            "{e}"
        );
        let e = EchoAddrs::from_line("ready plain_v6=[::1]:1").unwrap_err();
        assert!(e.to_string().contains("did not report plain_v4"), "{e}");
    }
}
