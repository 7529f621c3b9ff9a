//! # eyeballs-lab: a small network lab on loopback
//!
//! Real-socket tests for the eyeballs adapters, the CLI demo and the benchmarks, on
//! loopback only (`127.0.0.0/8`, `::1`):
//!
//! - [`BrokenIpv6`]: a listener on `[::1]:P` whose accept queue the lab fills with
//!   connections it never accepts, so that further SYNs are dropped and a connect to it hangs
//!   (checked when the lab is built), and a working listener on `127.0.0.1:P`, the same port:
//!   the classic "IPv6 blackholed, IPv4 fine" host.
//! - [`Listener`]: a listener that accepts (and closes) connections on a thread, counting them.
//! - [`ClosedPort`]: a port that refuses (a socket bound there that does not listen, so the
//!   port stays reserved while the lab holds it).
//! - [`open_fds`] / [`wait_for_fds`]: the process's open file descriptors, for leak checks.
//! - [`suite`]: the real-network suite every adapter runs, instantiated with
//!   [`adapter_suite!`].
//!
//! Everything closes its sockets and stops its threads on drop. A machine without an IPv6
//! loopback gets [`Unavailable`] from [`BrokenIpv6::new`]; the suite then prints a skip
//! message for the tests that need it.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod suite;

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use eyeballs_driver::SocketConfig;
use eyeballs_driver::socket::{ConnectProgress, finish_connect, start_connect};
use socket2::{Domain, SockRef, Socket, Type};

/// `127.0.0.1`.
pub const V4_LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// `::1`.
pub const V6_LOOPBACK: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);

/// Why a lab fixture cannot be built on this machine.
#[derive(Debug)]
pub struct Unavailable(pub String);

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unavailable {}

/// Whether this machine has an IPv6 loopback (`::1` can be bound).
pub fn has_ipv6_loopback() -> bool {
    TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).is_ok()
}

/// A listener that accepts connections on a thread (and closes them at once), counting
/// them. Stops and closes on drop.
pub struct Listener {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Listener {
    /// Listens on `addr` (port 0: any free port).
    pub fn bind(addr: SocketAddr) -> io::Result<Listener> {
        let listener = TcpListener::bind(addr)?;
        Listener::from_std(listener)
    }

    /// Accepts on an already bound listener.
    pub fn from_std(listener: TcpListener) -> io::Result<Listener> {
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (a, s) = (accepted.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name(format!("lab-listener-{addr}"))
            .spawn(move || {
                while !s.load(Ordering::Acquire) {
                    match listener.accept() {
                        Ok((conn, _)) => {
                            drop(conn);
                            a.fetch_add(1, Ordering::AcqRel);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(1)),
                    }
                }
            })?;
        Ok(Listener {
            addr,
            accepted,
            stop,
            thread: Some(thread),
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many connections it has accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::Acquire)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A port that refuses connections: a TCP socket bound to it that does not listen (so the
/// kernel answers SYNs with RST), kept open so that nobody else takes the port.
pub struct ClosedPort {
    socket: Socket,
    addr: SocketAddr,
}

impl ClosedPort {
    /// A refusing port on `ip`.
    pub fn new(ip: IpAddr) -> io::Result<ClosedPort> {
        ClosedPort::at(SocketAddr::new(ip, 0))
    }

    /// A refusing port at `addr` (port 0: any free port).
    pub fn at(addr: SocketAddr) -> io::Result<ClosedPort> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
        if addr.is_ipv6() {
            socket.set_only_v6(true)?;
        }
        socket.bind(&addr.into())?;
        let addr = socket
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::other("bound socket has no IP address"))?;
        Ok(ClosedPort { socket, addr })
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl fmt::Debug for ClosedPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClosedPort")
            .field("addr", &self.addr)
            .field("socket", &self.socket)
            .finish()
    }
}

/// How long a probe connect must stay unanswered to count as hanging.
const HANG_PROBE: Duration = Duration::from_millis(100);

/// At most this many connections are made to fill the accept queue.
const MAX_FILLERS: usize = 16;

/// A listener whose connects hang: its accept queue is full (filled by connections the lab
/// makes and never accepts), so the kernel drops further SYNs. What a blackholed route
/// looks like to a client, on loopback.
pub struct Blackhole {
    addr: SocketAddr,
    _listener: Socket,
    _fillers: Vec<Socket>,
}

impl Blackhole {
    /// A hanging listener at `addr` (port 0: any free port), checked: a probe connect stays
    /// unanswered for 100 ms.
    pub fn at(addr: SocketAddr) -> io::Result<Blackhole> {
        let listener = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
        if addr.is_ipv6() {
            listener.set_only_v6(true)?;
        }
        listener.bind(&addr.into())?;
        // Backlog 0: the accept queue holds one connection (Linux counts it full when it
        // holds more than the backlog), so the second filler's SYN is already dropped.
        listener.listen(0)?;
        let addr = listener
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::other("bound socket has no IP address"))?;
        let mut fillers = Vec::new();
        for _ in 0..MAX_FILLERS {
            let probe = start_connect(addr, &SocketConfig::default())?;
            if connects_within(&probe, HANG_PROBE)? {
                fillers.push(probe);
            } else {
                // This one hangs: the queue is full. The probe is closed here (it would
                // keep retransmitting its SYN); the fillers stay.
                return Ok(Blackhole {
                    addr,
                    _listener: listener,
                    _fillers: fillers,
                });
            }
        }
        Err(io::Error::other(format!(
            "{MAX_FILLERS} connections to a listener with backlog 0 all completed: \
             this system does not drop SYNs when the accept queue is full"
        )))
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// "IPv6 broken, IPv4 fine" on one port: `[::1]:P` is a [`Blackhole`], `127.0.0.1:P`
/// accepts.
pub struct BrokenIpv6 {
    v4: Listener,
    v6: Blackhole,
}

impl BrokenIpv6 {
    /// Builds the pair (checking that a connect to `[::1]:P` really hangs).
    pub fn new() -> Result<BrokenIpv6, Unavailable> {
        if !has_ipv6_loopback() {
            return Err(Unavailable(
                "this machine has no IPv6 loopback (::1 cannot be bound)".into(),
            ));
        }
        let mut last = String::new();
        // The port must be free on both addresses; another process may hold it on ::1.
        for _ in 0..16 {
            let attempt = Listener::bind(SocketAddr::new(V4_LOOPBACK, 0)).and_then(|v4| {
                let v6 = Blackhole::at(SocketAddr::new(V6_LOOPBACK, v4.addr().port()))?;
                Ok(BrokenIpv6 { v4, v6 })
            });
            match attempt {
                Ok(lab) => return Ok(lab),
                Err(e) => last = e.to_string(),
            }
        }
        Err(Unavailable(format!(
            "could not build a hanging IPv6 listener: {last}"
        )))
    }

    /// The hanging `[::1]:P`.
    pub fn v6_addr(&self) -> SocketAddr {
        self.v6.addr()
    }

    /// The working `127.0.0.1:P`.
    pub fn v4_addr(&self) -> SocketAddr {
        self.v4.addr()
    }

    /// Both, IPv6 first.
    pub fn addrs(&self) -> [SocketAddr; 2] {
        [self.v6_addr(), self.v4_addr()]
    }

    /// The IPv4 listener (to count accepted connections).
    pub fn v4_listener(&self) -> &Listener {
        &self.v4
    }
}

/// Whether a started non-blocking connect completes within `limit`.
fn connects_within(socket: &Socket, limit: Duration) -> io::Result<bool> {
    let deadline = Instant::now() + limit;
    loop {
        match finish_connect(SockRef::from(socket)) {
            ConnectProgress::Connected => return Ok(true),
            ConnectProgress::Failed(e) => return Err(e),
            ConnectProgress::InProgress if Instant::now() >= deadline => return Ok(false),
            ConnectProgress::InProgress => std::thread::sleep(Duration::from_millis(1)),
        }
    }
}

/// The number of file descriptors this process has open (`/proc/self/fd`); `None` where
/// that cannot be read.
pub fn open_fds() -> Option<usize> {
    // The directory handle itself is counted too, the same way every time.
    std::fs::read_dir("/proc/self/fd").ok().map(|d| d.count())
}

/// Waits (up to `limit`) until at most `baseline` file descriptors are open, and returns the
/// last count. Closing is immediate, but threads that finish a lookup or a runtime that
/// shuts down may take a moment.
pub fn wait_for_fds(baseline: usize, limit: Duration) -> Option<usize> {
    let deadline = Instant::now() + limit;
    loop {
        let now = open_fds()?;
        if now <= baseline || Instant::now() >= deadline {
            return Some(now);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_ipv6_hangs_and_ipv4_works() {
        let lab = match BrokenIpv6::new() {
            Ok(lab) => lab,
            Err(why) => return eprintln!("skipped: {why}"),
        };
        assert_eq!(lab.v6_addr().port(), lab.v4_addr().port());
        // IPv4 connects.
        let ok = std::net::TcpStream::connect_timeout(&lab.v4_addr(), Duration::from_secs(2));
        assert!(ok.is_ok(), "{ok:?}");
        // IPv6 hangs.
        let hang = std::net::TcpStream::connect_timeout(&lab.v6_addr(), Duration::from_millis(300));
        assert_eq!(hang.unwrap_err().kind(), io::ErrorKind::TimedOut);
    }

    #[test]
    fn blackhole_on_ipv4_hangs() {
        let hole = Blackhole::at("127.0.0.1:0".parse().unwrap()).unwrap();
        let hang = std::net::TcpStream::connect_timeout(&hole.addr(), Duration::from_millis(200));
        assert_eq!(hang.unwrap_err().kind(), io::ErrorKind::TimedOut);
    }

    #[test]
    fn closed_port_refuses() {
        let closed = ClosedPort::new(V4_LOOPBACK).unwrap();
        let e = std::net::TcpStream::connect(closed.addr()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
    }

    #[test]
    fn listener_accepts_and_counts() {
        let l = Listener::bind(SocketAddr::new(V4_LOOPBACK, 0)).unwrap();
        let _c = std::net::TcpStream::connect(l.addr()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(2);
        while l.accepted() == 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(l.accepted(), 1);
    }

    #[test]
    fn fds_are_counted() {
        // stdin, stdout, stderr and the directory handle at least.
        assert!(open_fds().unwrap() >= 4);
    }
}
