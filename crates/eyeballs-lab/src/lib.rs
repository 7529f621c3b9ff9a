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
//! - [`SilentListener`]: a listener that accepts connections and never says a word (a
//!   TCP-terminating proxy whose upstream is gone: TCP connects, TLS never answers),
//!   closing each when its peer does, so a test sees the client's socket closed.
//! - [`SilentUdp`]: a UDP port that drops everything without a word (a path that drops
//!   UDP: a QUIC handshake to it hangs).
//! - `tls` (feature `tls`): a certificate authority made at run time, a TLS server, the
//!   TLS-dead-IPv6 lab, a ClientHello recorder.
//! - `quic` (feature `quic`): a quinn QUIC server, and aioquic's (a QUIC server that is not
//!   quinn, run with Python).
//! - [`ClosedPort`]: a port that refuses (a socket bound there that does not listen, so the
//!   port stays reserved while the lab holds it).
//! - [`same_port`]: something on `127.0.0.1:P` and something on `[::1]:P`, one port.
//! - [`count_fds`] / [`open_fds`] / [`wait_for_fds`]: the process's open file descriptors,
//!   and [`thread_count`] its threads, for leak checks.
//! - [`wait_until`]: waits for a condition another thread makes true (a listener's count,
//!   a closed socket), with a generous limit.
//! - [`SlowDns`]: a network whose answers of one record type (or all) arrive late, to force
//!   an order of DNS answers that the system resolver only sometimes gives.
//! - [`scripted`]: no sockets at all, a network that answers as an `eyeballs_sim::Scenario`
//!   says, to run the real driver in virtual time and compare it with the simulator.
//! - [`suite`]: the real-network suite every adapter runs, instantiated with
//!   [`adapter_suite!`].
//!
//! Everything closes its sockets and stops its threads on drop.
//!
//! ## When the machine lacks something
//!
//! A fixture that cannot be built returns [`Unavailable`], naming what is
//! [`Missing`] (an IPv6 loopback, a listener whose connects hang, a
//! way to count file descriptors). Tests hand it to [`precondition::require`]: a test that
//! could not run **fails**, saying what is missing and how to opt out. The only opt-out
//! variable is `EYEBALLS_TEST_NO_IPV6=1` ([`precondition::NO_IPV6_VAR`]): on a machine
//! without an IPv6 loopback it lets exactly the tests in [`precondition::NEEDS_IPV6`]
//! through; each prints `NOT RUN: <test>: ...` and checks nothing:
//!
//! - `broken_ipv6_hangs_and_ipv4_works` and `same_port_gives_one_port_on_both_families`
//!   (this crate's own tests);
//! - `broken_ipv6_falls_back_to_ipv4`, `history_starts_the_next_race_with_ipv4` and
//!   `preferred_family_wins_when_both_work` (the [`suite`], in every adapter);
//! - `races_dropped_anywhere_close_everything` and
//!   `ten_thousand_races_in_flight_then_every_socket_is_closed` (the end-to-end tests,
//!   `eyeballs-e2e`).
//!
//! Without the variable, or with an IPv6 loopback, they run. Anything else that is missing
//! has no variable: the message says how to leave the test out by name
//! (`cargo test -- --skip NAME`).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod precondition;
#[cfg(feature = "quic")]
pub mod quic;
pub mod scripted;
pub mod suite;
#[cfg(feature = "tls")]
pub mod tls;

pub use precondition::Unavailable;

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use eyeballs::{Attempt, DnsAnswer, RecordType};
use eyeballs_driver::attempt::BoxAttempt;
use eyeballs_driver::socket::{ConnectProgress, finish_connect, start_connect};
use eyeballs_driver::{BoxFuture, Network, RaceContext, Runtime, SocketConfig, SystemNetwork};
use precondition::Missing;
use socket2::{Domain, SockRef, Socket, Type};

/// `127.0.0.1`.
pub const V4_LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// `::1`.
pub const V6_LOOPBACK: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);

/// Whether this machine has an IPv6 loopback (`::1` can be bound); the error says why not.
///
/// ```
/// # fn main() -> Result<(), eyeballs_lab::Unavailable> {
/// use eyeballs_lab::precondition::Missing;
///
/// match eyeballs_lab::ipv6_loopback() {
///     Ok(()) => {}
///     Err(why) => assert_eq!(why.missing(), Missing::Ipv6Loopback),
/// }
/// # Ok(()) }
/// ```
pub fn ipv6_loopback() -> Result<(), Unavailable> {
    TcpListener::bind((Ipv6Addr::LOCALHOST, 0))
        .map(drop)
        .map_err(|e| Unavailable::new(Missing::Ipv6Loopback, format!("binding [::1]:0: {e}")))
}

/// Whether this machine has an IPv6 loopback (`::1` can be bound): [`ipv6_loopback`]
/// without the reason.
pub fn has_ipv6_loopback() -> bool {
    ipv6_loopback().is_ok()
}

/// How many times [`same_port`] tries a new port.
const PORT_TRIES: usize = 16;

/// Builds something on `127.0.0.1:P` and something on `[::1]:P`, one port `P` for both:
/// `v4` is called with `127.0.0.1:0` and picks the port, `v6` with `[::1]:0` and what `v4`
/// built (to read its port). When the port is taken on `::1` (by another process), both are
/// dropped and a new port is tried, up to 16 times; the error then says what `what` was.
///
/// ```
/// use std::net::{SocketAddr, TcpListener};
///
/// # if eyeballs_lab::has_ipv6_loopback() {
/// let (v4, v6) = eyeballs_lab::same_port(
///     "a listener pair",
///     TcpListener::bind,
///     |v6, v4: &TcpListener| TcpListener::bind(SocketAddr::new(v6.ip(), v4.local_addr()?.port())),
/// )
/// .unwrap();
/// assert_eq!(v4.local_addr().unwrap().port(), v6.local_addr().unwrap().port());
/// # }
/// ```
pub fn same_port<A, B>(
    what: &str,
    mut v4: impl FnMut(SocketAddr) -> io::Result<A>,
    mut v6: impl FnMut(SocketAddr, &A) -> io::Result<B>,
) -> io::Result<(A, B)> {
    let mut last = None;
    for _ in 0..PORT_TRIES {
        let a = v4(SocketAddr::new(V4_LOOPBACK, 0))?;
        match v6(SocketAddr::new(V6_LOOPBACK, 0), &a) {
            Ok(b) => return Ok((a, b)),
            Err(e) => last = Some(e),
        }
    }
    let why = last.map(|e| e.to_string()).unwrap_or_default();
    Err(io::Error::other(format!(
        "no port free on both 127.0.0.1 and ::1 for {what} after {PORT_TRIES} tries: {why}"
    )))
}

/// A thread of the lab's fixtures: runs `step` over and over, a millisecond apart, until it
/// is dropped; dropping it stops the thread and waits for it (so a fixture dropped has
/// closed everything its thread held).
pub(crate) struct Worker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts a thread named `name` running `step` until the worker is dropped.
    pub(crate) fn spawn(
        name: String,
        mut step: impl FnMut() + Send + 'static,
    ) -> io::Result<Worker> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::Builder::new().name(name).spawn(move || {
            while !stopped.load(Ordering::Acquire) {
                step();
                std::thread::sleep(Duration::from_millis(1));
            }
        })?;
        Ok(Worker {
            stop,
            thread: Some(thread),
        })
    }

    /// Starts a thread named `name` that accepts every connection `listener` gets (made
    /// non-blocking here) and hands each to `accepted`, until the worker is dropped.
    pub(crate) fn accepting(
        name: String,
        listener: TcpListener,
        mut accepted: impl FnMut(std::net::TcpStream) + Send + 'static,
    ) -> io::Result<Worker> {
        listener.set_nonblocking(true)?;
        Worker::spawn(name, move || {
            while let Ok((conn, _)) = listener.accept() {
                accepted(conn);
            }
        })
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A listener that accepts connections on a thread (and closes them at once), counting
/// them. Stops and closes on drop.
pub struct Listener {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    _worker: Worker,
}

impl Listener {
    /// Listens on `addr` (port 0: any free port).
    pub fn bind(addr: SocketAddr) -> io::Result<Listener> {
        let listener = TcpListener::bind(addr)?;
        Listener::from_std(listener)
    }

    /// Accepts on an already bound listener.
    pub fn from_std(listener: TcpListener) -> io::Result<Listener> {
        let addr = listener.local_addr()?;
        let accepted = Arc::new(AtomicUsize::new(0));
        let a = accepted.clone();
        let worker = Worker::accepting(format!("lab-listener-{addr}"), listener, move |conn| {
            drop(conn);
            a.fetch_add(1, Ordering::AcqRel);
        })?;
        Ok(Listener {
            addr,
            accepted,
            _worker: worker,
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

/// A listener that accepts connections on a thread and never writes to them: what a
/// TCP-terminating proxy whose upstream is dead looks like (TCP connects, a TLS handshake
/// never gets an answer). It reads and discards what the peer sends, and closes a
/// connection when its peer closes it, so [`open`](SilentListener::open) tells how many
/// client sockets are still open. Stops and closes everything on drop.
///
/// ```
/// use std::io::Read;
/// use std::time::Duration;
///
/// let silent = eyeballs_lab::SilentListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
/// let mut conn = std::net::TcpStream::connect(silent.addr()).unwrap();
/// conn.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
/// assert!(conn.read(&mut [0u8; 1]).is_err()); // nothing is ever said
/// drop(conn);
/// assert!(silent.wait_until_open(0, Duration::from_secs(5)));
/// assert_eq!(silent.accepted(), 1);
/// ```
pub struct SilentListener {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    open: Arc<AtomicUsize>,
    _worker: Worker,
}

impl SilentListener {
    /// Listens on `addr` (port 0: any free port; an IPv6 address: IPv6 only).
    pub fn bind(addr: SocketAddr) -> io::Result<SilentListener> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
        if addr.is_ipv6() {
            socket.set_only_v6(true)?;
        }
        socket.set_reuse_address(true)?;
        socket.bind(&addr.into())?;
        socket.listen(128)?;
        let listener: TcpListener = socket.into();
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let accepted = Arc::new(AtomicUsize::new(0));
        let open = Arc::new(AtomicUsize::new(0));
        let (a, o) = (accepted.clone(), open.clone());
        let mut held: Vec<std::net::TcpStream> = Vec::new();
        let mut buf = [0u8; 4096];
        let worker = Worker::spawn(format!("lab-silent-{addr}"), move || {
            while let Ok((conn, _)) = listener.accept() {
                if conn.set_nonblocking(true).is_ok() {
                    held.push(conn);
                    a.fetch_add(1, Ordering::AcqRel);
                }
            }
            // Keep the connections whose peer has not closed (a read of 0 bytes) or reset
            // them; discard what they sent.
            held.retain_mut(|conn| {
                loop {
                    match io::Read::read(conn, &mut buf) {
                        Ok(0) => break false,
                        Ok(_) => continue,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break true,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(_) => break false,
                    }
                }
            });
            o.store(held.len(), Ordering::Release);
        })?;
        Ok(SilentListener {
            addr,
            accepted,
            open,
            _worker: worker,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many connections it has accepted so far. Its thread accepts when it is next
    /// scheduled: a client's connection can be up (the kernel finished the handshake)
    /// before it is counted here. To check a count, wait for it with
    /// [`wait_until_accepted`](SilentListener::wait_until_accepted).
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::Acquire)
    }

    /// How many of them are still open (their peer has not closed them).
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }

    /// Waits (up to `limit`) until it has accepted at least `n` connections, and returns
    /// how many it has accepted then (more than `n` if more came). The error (`TimedOut`)
    /// says where it listens and how many it had accepted when `limit` passed.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let silent = eyeballs_lab::SilentListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// let _conn = std::net::TcpStream::connect(silent.addr()).unwrap();
    /// // Connected, but maybe not yet accepted by the listener's thread: wait for it.
    /// assert_eq!(silent.wait_until_accepted(1, Duration::from_secs(10)).unwrap(), 1);
    /// let e = silent.wait_until_accepted(2, Duration::from_millis(20)).unwrap_err();
    /// assert!(e.to_string().contains("accepted 1 connection within 20ms, 2 expected"), "{e}");
    /// ```
    pub fn wait_until_accepted(&self, n: usize, limit: Duration) -> io::Result<usize> {
        let mut accepted = 0;
        if wait_until(limit, || {
            accepted = self.accepted();
            accepted >= n
        }) {
            return Ok(accepted);
        }
        let what = if accepted == 1 {
            "connection"
        } else {
            "connections"
        };
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "the silent listener on {} accepted {accepted} {what} within {limit:?}, \
                 {n} expected",
                self.addr
            ),
        ))
    }

    /// Waits (up to `limit`) until at most `n` connections are open; whether they are. A
    /// connection not yet accepted is not counted: to check that the connections a client
    /// made were closed, first [wait for them to be accepted](SilentListener::wait_until_accepted).
    pub fn wait_until_open(&self, n: usize, limit: Duration) -> bool {
        wait_until(limit, || self.open() <= n)
    }
}

/// A UDP port that drops everything silently: a socket bound there that never reads, so
/// datagrams sent to it pile up in its receive buffer (and are dropped when it is full),
/// and nothing answers, not even an ICMP "port unreachable" (the port is bound). A path
/// that drops UDP (a firewall, a middlebox that does not know QUIC): a QUIC handshake to it
/// hangs. Closed on drop.
///
/// ```
/// let dropping = eyeballs_lab::SilentUdp::bind("127.0.0.1:0".parse().unwrap()).unwrap();
/// assert!(!dropping.received_any().unwrap());
/// let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
/// client.send_to(b"hello?", dropping.addr()).unwrap();
/// assert!(dropping.wait_for_datagram(std::time::Duration::from_secs(5)));
/// ```
pub struct SilentUdp {
    socket: std::net::UdpSocket,
    addr: SocketAddr,
}

impl SilentUdp {
    /// Binds `addr` (port 0: any free port; an IPv6 address: IPv6 only).
    pub fn bind(addr: SocketAddr) -> io::Result<SilentUdp> {
        let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, None)?;
        if addr.is_ipv6() {
            socket.set_only_v6(true)?;
        }
        socket.bind(&addr.into())?;
        socket.set_nonblocking(true)?;
        let socket: std::net::UdpSocket = socket.into();
        let addr = socket.local_addr()?;
        Ok(SilentUdp { socket, addr })
    }

    /// Where it is bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether a datagram has arrived (looked at, not read: it stays where it is).
    pub fn received_any(&self) -> io::Result<bool> {
        match self.socket.peek_from(&mut [0u8; 1]) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
            // A datagram longer than the buffer (Windows says so with an error).
            Err(e) if e.raw_os_error() == Some(10040) => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// Waits (up to `limit`) until a datagram has arrived; whether one has.
    pub fn wait_for_datagram(&self, limit: Duration) -> bool {
        wait_until(limit, || self.received_any().unwrap_or(false))
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

/// How long a probe connect must stay unanswered to count as hanging, once another connect
/// to the listener has completed.
const HANG_PROBE: Duration = Duration::from_millis(100);

/// How long the first connect to a blackhole-to-be may take. With backlog 0 the accept queue
/// holds one connection, so the first connect completes: if it has not after
/// [`HANG_PROBE`], the machine is slow (loaded), not the queue full. Generous.
const FIRST_CONNECT_WITHIN: Duration = Duration::from_secs(5);

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
    /// A hanging listener at `addr` (port 0: any free port), checked: once one connect has
    /// completed (filling the queue), a probe connect stays unanswered for 100 ms.
    ///
    /// On a system that does not drop SYNs to a full accept queue, the error's kind is
    /// `Unsupported`; [`Blackhole::new`] says so as an [`Unavailable`].
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
            // The queue cannot be full before anything is in it: a first connect that is
            // slow to complete is the machine's load, not a dropped SYN.
            let limit = if fillers.is_empty() {
                FIRST_CONNECT_WITHIN
            } else {
                HANG_PROBE
            };
            if connects_within(&probe, limit)? {
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
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!(
                "{MAX_FILLERS} connections to a listener with backlog 0 all completed: \
                 this system does not drop SYNs when the accept queue is full"
            ),
        ))
    }

    /// [`Blackhole::at`] for tests: any failure is an [`Unavailable`] (a missing
    /// [`HangingListener`](Missing::HangingListener)), for
    /// [`precondition::require`].
    ///
    /// ```
    /// let hole = eyeballs_lab::Blackhole::new("127.0.0.1:0".parse().unwrap()).unwrap();
    /// let hang = std::net::TcpStream::connect_timeout(&hole.addr(), std::time::Duration::from_millis(50));
    /// assert!(hang.is_err());
    /// ```
    pub fn new(addr: SocketAddr) -> Result<Blackhole, Unavailable> {
        Blackhole::at(addr).map_err(|e| {
            Unavailable::new(
                Missing::HangingListener,
                format!("a blackhole at {addr}: {e}"),
            )
        })
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
    /// Builds the pair (checking that a connect to `[::1]:P` really hangs). Without an
    /// IPv6 loopback the error's [`missing`](Unavailable::missing) is
    /// [`Missing::Ipv6Loopback`]; when the hanging listener cannot be built,
    /// [`Missing::HangingListener`].
    pub fn new() -> Result<BrokenIpv6, Unavailable> {
        ipv6_loopback()?;
        // The port must be free on both addresses; another process may hold it on ::1.
        same_port("a broken-IPv6 pair", Listener::bind, |v6, v4: &Listener| {
            Blackhole::at(SocketAddr::new(v6.ip(), v4.addr().port()))
        })
        .map(|(v4, v6)| BrokenIpv6 { v4, v6 })
        .map_err(|e| {
            Unavailable::new(
                Missing::HangingListener,
                format!("could not build a hanging IPv6 listener: {e}"),
            )
        })
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

/// Where this process's open file descriptors are listed.
const FD_DIR: &str = "/proc/self/fd";

/// The number of file descriptors this process has open (`/proc/self/fd`); the error says
/// why it cannot be counted (a [`Missing::FdCount`]).
///
/// ```
/// # if cfg!(target_os = "linux") {
/// // stdin, stdout, stderr and the directory handle at least.
/// assert!(eyeballs_lab::count_fds().unwrap() >= 4);
/// # }
/// ```
pub fn count_fds() -> Result<usize, Unavailable> {
    // The directory handle itself is counted too, the same way every time.
    std::fs::read_dir(FD_DIR)
        .map(|d| d.count())
        .map_err(|e| Unavailable::new(Missing::FdCount, format!("{FD_DIR}: {e}")))
}

/// The number of file descriptors this process has open (`/proc/self/fd`); `None` where
/// that cannot be read: [`count_fds`] without the reason.
pub fn open_fds() -> Option<usize> {
    count_fds().ok()
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

/// Where this process's threads are listed.
const TASK_DIR: &str = "/proc/self/task";

/// The number of threads this process has (`/proc/self/task`); `None` where that cannot be
/// read. With [`wait_until`], a check that a lab, a runtime or a demo stopped every thread
/// it started.
///
/// ```
/// # if cfg!(target_os = "linux") {
/// let before = eyeballs_lab::thread_count().unwrap();
/// std::thread::spawn(|| {}).join().unwrap();
/// let limit = std::time::Duration::from_secs(5);
/// assert!(eyeballs_lab::wait_until(limit, || eyeballs_lab::thread_count() == Some(before)));
/// # }
/// ```
pub fn thread_count() -> Option<usize> {
    std::fs::read_dir(TASK_DIR).ok().map(|d| d.count())
}

/// Waits (up to `limit`) until `done` holds, asking it every millisecond; whether it held.
/// `done` is asked at least once, and once more when `limit` has passed, so a condition
/// that holds at the last moment counts. What it polls is made true by another thread (a
/// listener's thread counting a connection, a runtime closing a socket): a test waits
/// generously for it instead of reading it at once.
///
/// ```
/// use std::time::Duration;
///
/// let l = eyeballs_lab::Listener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
/// let _conn = std::net::TcpStream::connect(l.addr()).unwrap();
/// assert!(eyeballs_lab::wait_until(Duration::from_secs(10), || l.accepted() == 1));
/// assert!(!eyeballs_lab::wait_until(Duration::from_millis(20), || l.accepted() == 2));
/// ```
pub fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A network whose DNS answers arrive late: each lookup of the delayed record type starts at
/// once, and its answer is held until `by` after the lookup started. Attempts are the inner
/// network's (the system's by default).
///
/// The system resolver answers `localhost`'s AAAA and A lookups in whatever order its threads
/// finish; a test that depends on that order is flaky. With this network the order is
/// forced: [`SlowDns::record`] delays one type (the other answers first), [`SlowDns::all`]
/// every type (a slow resolver: a race dropped meanwhile has its lookups in flight).
///
/// ```
/// use std::time::Duration;
/// use eyeballs::RecordType;
/// use eyeballs_lab::SlowDns;
///
/// // A answers arrive 300 ms after AAAA ones (which come from the system resolver at once).
/// let network = SlowDns::record(RecordType::A, Duration::from_millis(300));
/// assert_eq!(network.delayed(), Some(RecordType::A));
/// // With any runtime seam R: eyeballs_driver::Connector::with_network(R::default(), network)
/// ```
#[derive(Clone, Copy, Debug)]
pub struct SlowDns<N = SystemNetwork> {
    inner: N,
    record: Option<RecordType>,
    by: Duration,
}

impl SlowDns {
    /// The system network, with every answer of type `record` held `by`.
    pub fn record(record: RecordType, by: Duration) -> SlowDns {
        SlowDns::over(SystemNetwork, Some(record), by)
    }

    /// The system network, with every answer held `by`.
    pub fn all(by: Duration) -> SlowDns {
        SlowDns::over(SystemNetwork, None, by)
    }
}

impl<N> SlowDns<N> {
    /// `inner`, with the answers of type `record` (every type: `None`) held `by`.
    pub fn over(inner: N, record: Option<RecordType>, by: Duration) -> SlowDns<N> {
        SlowDns { inner, record, by }
    }

    /// The record type it delays (`None`: every type).
    pub fn delayed(&self) -> Option<RecordType> {
        self.record
    }
}

impl<R: Runtime, N: Network<R>> Network<R> for SlowDns<N> {
    type Stream = N::Stream;

    fn resolve(&self, runtime: &R, name: &str, record: RecordType) -> BoxFuture<DnsAnswer> {
        let lookup = self.inner.resolve(runtime, name, record);
        if self.record.is_some_and(|delayed| delayed != record) {
            return lookup;
        }
        let late = runtime.sleep_until(runtime.now() + self.by);
        Box::pin(async move {
            // The lookup is under way and the hold's deadline fixed: the answer comes at the
            // later of the two.
            let answer = lookup.await;
            late.await;
            answer
        })
    }

    fn connect(
        &self,
        runtime: &R,
        attempt: &Attempt,
        race: &RaceContext<'_>,
    ) -> BoxFuture<io::Result<N::Stream>> {
        self.inner.connect(runtime, attempt, race)
    }

    fn attempt(
        &self,
        runtime: &R,
        attempt: &Attempt,
        race: &RaceContext<'_>,
    ) -> BoxAttempt<N::Stream> {
        self.inner.attempt(runtime, attempt, race)
    }

    fn check(&self, target: &eyeballs::Target) -> Result<(), String> {
        self.inner.check(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_ipv6_hangs_and_ipv4_works() {
        let Some(lab) =
            precondition::require("broken_ipv6_hangs_and_ipv4_works", BrokenIpv6::new())
        else {
            return;
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
        wait_until(Duration::from_secs(2), || l.accepted() != 0);
        assert_eq!(l.accepted(), 1);
    }

    #[test]
    fn fds_are_counted() {
        let Some(n) = precondition::require("fds_are_counted", count_fds()) else {
            return;
        };
        // stdin, stdout, stderr and the directory handle at least.
        assert!(n >= 4);
        assert_eq!(open_fds().map(|m| m >= 4), Some(true));
    }

    #[test]
    fn same_port_gives_one_port_on_both_families() {
        let Some(()) =
            precondition::require("same_port_gives_one_port_on_both_families", ipv6_loopback())
        else {
            return;
        };
        let (v4, v6) = same_port("a pair", Listener::bind, |v6, v4: &Listener| {
            ClosedPort::at(SocketAddr::new(v6.ip(), v4.addr().port()))
        })
        .unwrap();
        assert_eq!(v4.addr().port(), v6.addr().port());
        assert_eq!((v4.addr().ip(), v6.addr().ip()), (V4_LOOPBACK, V6_LOOPBACK));
    }

    #[test]
    fn same_port_names_what_it_could_not_build() {
        let e = same_port("the impossible pair", Ok, |_, _: &SocketAddr| {
            Err::<(), _>(io::Error::other("taken"))
        })
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "no port free on both 127.0.0.1 and ::1 for the impossible pair after 16 tries: taken"
        );
    }
}
