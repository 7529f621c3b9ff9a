//! # eyeballs-e2e: end-to-end tests on real sockets
//!
//! The whole stack (the engine, the driver, the tokio adapter) against real sockets on
//! loopback (`127.0.0.0/8`, `::1`): load and cleanup tests, the helpers they share, and the
//! README's examples as doc tests.
//!
//! - `load` (`tests/load.rs`): 10,000 races in flight at once, a third dropped mid-race,
//!   a third against a broken IPv6 (a hanging `[::1]:P`, an echoing `127.0.0.1:P`), a third
//!   plain; afterwards every winner has echoed a byte and the process's file-descriptor
//!   count is back where it started.
//! - `drop_points` (`tests/drop_points.rs`): races dropped at chosen points (before the
//!   first poll, with DNS in flight, between attempts, right at a connect, at random times)
//!   close everything.
//! - [`echo`]: the echo side of the load test, run in a child process (the
//!   `eyeballs-echo` binary of this package) so that the accepted sockets do not count
//!   against the test process's open-files limit.
//! - [`raise_fd_limit`], [`poll_once`], [`tcp_sockets`] (sockets in a TCP state to a peer,
//!   from `/proc/net/tcp*`), [`seed`].
//! - The README's Rust examples (engine and adapters), run as doc tests of this crate.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod echo;

/// The README's Rust examples (engine and adapters), compiled and run as doc tests of this
/// crate, which depends on every piece, so that they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::Poll;

/// The environment variable that fixes the random seed of the tests (printed by each run).
pub const SEED_VAR: &str = "EYEBALLS_TEST_SEED";

/// Raises this process's soft limit on open files to its hard limit and returns the soft
/// limit now in force (the load test needs about 17,000; a common default is 1,024).
#[cfg(unix)]
pub fn raise_fd_limit() -> io::Result<u64> {
    rlimit::increase_nofile_limit(u64::MAX)
}

/// Polls `future` exactly once: `Ready` with its output, or `Pending` (it is left as it is,
/// to be polled again).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let mut ready = std::future::ready(7);
/// assert_eq!(eyeballs_e2e::poll_once(&mut ready).await, std::task::Poll::Ready(7));
/// let mut never = std::future::pending::<()>();
/// assert!(eyeballs_e2e::poll_once(&mut never).await.is_pending());
/// # });
/// ```
pub async fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *future).poll(cx))).await
}

/// A TCP state as `/proc/net/tcp` and `/proc/net/tcp6` write it (the kernel's `TCP_*`
/// numbering).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpState {
    /// Connected.
    Established,
    /// A connect that has sent its SYN and has no answer yet (what a connect to a
    /// blackholed address looks like).
    SynSent,
}

impl TcpState {
    fn code(self) -> &'static str {
        match self {
            TcpState::Established => "01",
            TcpState::SynSent => "02",
        }
    }
}

/// How `/proc/net/tcp*` writes an address: each 32-bit word of the IP in host byte order
/// as 8 hex digits, then the port as 4.
fn proc_net_address(addr: SocketAddr) -> String {
    let words: Vec<[u8; 4]> = match addr {
        SocketAddr::V4(a) => vec![a.ip().octets()],
        SocketAddr::V6(a) => a
            .ip()
            .octets()
            .chunks_exact(4)
            .map(|c| [c[0], c[1], c[2], c[3]])
            .collect(),
    };
    let mut out: String = words
        .into_iter()
        .map(|w| format!("{:08X}", u32::from_ne_bytes(w)))
        .collect();
    out.push_str(&format!(":{:04X}", addr.port()));
    out
}

/// How many TCP sockets of this network namespace (any process) are in `state` with
/// remote address `peer`, from `/proc/net/tcp` or `/proc/net/tcp6`; `None` where that
/// cannot be read. Counts kernel sockets, not file descriptors: a connect that hangs shows
/// as [`TcpState::SynSent`] until its socket is closed. See [`tcp_states`] for when the
/// count is exact.
///
/// ```
/// # if cfg!(target_os = "linux") {
/// use eyeballs_e2e::{TcpState, tcp_sockets};
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let peer = listener.local_addr().unwrap();
/// let client = std::net::TcpStream::connect(peer).unwrap();
/// drop(client);
/// // Closed: no longer established (it may linger in FIN_WAIT or TIME_WAIT).
/// assert_eq!(tcp_sockets(peer, TcpState::Established), Some(0));
/// # }
/// ```
pub fn tcp_sockets(peer: SocketAddr, state: TcpState) -> Option<usize> {
    tcp_states(peer).map(|states| states.get(state.code()).copied().unwrap_or(0))
}

/// The TCP sockets with remote address `peer`, counted by state (the kernel's two hex
/// digits: `01` established, `02` SYN sent, `06` TIME_WAIT, ...).
///
/// Not a snapshot: the kernel writes the table in pieces, so while sockets come and go
/// (in any process of the namespace) a read can miss or repeat some. Exact only when the
/// sockets to `peer` do not change meanwhile, e.g. "none left" after a test.
pub fn tcp_states(peer: SocketAddr) -> Option<BTreeMap<String, usize>> {
    let table = if peer.is_ipv6() {
        "/proc/net/tcp6"
    } else {
        "/proc/net/tcp"
    };
    let text = std::fs::read_to_string(table).ok()?;
    let remote = proc_net_address(peer);
    let mut states = BTreeMap::new();
    // "  sl  local_address rem_address   st ...": the remote address is the third field,
    // the state the fourth.
    for line in text.lines().skip(1) {
        let mut fields = line.split_whitespace().skip(2);
        if fields.next() == Some(remote.as_str()) {
            if let Some(state) = fields.next() {
                *states.entry(state.to_string()).or_default() += 1;
            }
        }
    }
    Some(states)
}

/// The random seed of a test run: [`SEED_VAR`] if set, otherwise one taken from the clock.
/// Print it, so that a failing run can be repeated.
pub fn seed() -> io::Result<u64> {
    match std::env::var(SEED_VAR) {
        Ok(text) => text.trim().parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{SEED_VAR}={text:?} is not an unsigned 64-bit number"),
            )
        }),
        Err(std::env::VarError::NotPresent) => Ok(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)),
        Err(std::env::VarError::NotUnicode(_)) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{SEED_VAR} is not valid Unicode"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_endian = "little")]
    fn addresses_are_written_like_the_kernel() {
        let v4: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(proc_net_address(v4), "0100007F:1F90");
        let v6: SocketAddr = "[::1]:443".parse().unwrap();
        assert_eq!(
            proc_net_address(v6),
            "00000000000000000000000001000000:01BB"
        );
    }
}
