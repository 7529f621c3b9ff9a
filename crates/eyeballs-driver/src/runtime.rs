//! The seams between the driver and the world: a [`Runtime`] (clock, timer, blocking pool,
//! waiting for a started connect) and a [`Network`] (DNS lookups and connection attempts).
//!
//! An adapter implements [`Runtime`] for its runtime (a few lines each); [`SystemNetwork`]
//! turns any runtime into the real network (the system resolver, one family per lookup, and
//! TCP sockets prepared by [`start_attempt`](crate::socket::start_attempt)). Tests implement [`Network`] with a scripted
//! network instead (see `eyeballs_lab::scripted::ScriptedNetwork`, in the test lab).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::time::Instant as StdInstant;

use eyeballs::{Attempt, DnsAnswer, DnsError, RecordType};

use crate::settings::SocketConfig;
use crate::socket::start_attempt;

/// A boxed, `Send` future: what the seams return.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// What an async runtime provides to the driver.
pub trait Runtime: Clone + Send + Sync + 'static {
    /// The connected stream type (`tokio::net::TcpStream`, `async_net::TcpStream`, ...).
    type Stream: Send + 'static;

    /// The runtime's clock: the system's by default; a runtime with a clock of its own (a
    /// test clock that can be paused, like tokio's) returns that.
    fn now(&self) -> StdInstant {
        StdInstant::now()
    }

    /// A future that completes at `deadline`.
    fn sleep_until(&self, deadline: StdInstant) -> BoxFuture<()>;

    /// Runs a blocking job (a `getaddrinfo` call) on the runtime's blocking pool. `None` if
    /// the job could not run to completion (the pool shut down, the job panicked).
    fn spawn_blocking<T, F>(&self, job: F) -> BoxFuture<Option<T>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static;

    /// Registers `socket`, whose non-blocking connect has been started by
    /// [`start_connect`](crate::socket::start_connect), with the runtime's reactor, waits until it is writable and checks
    /// the result with [`finish_connect`](crate::socket::finish_connect) (again on a
    /// spurious wake-up). Dropping the future closes the socket.
    fn connect(&self, socket: socket2::Socket) -> BoxFuture<io::Result<Self::Stream>>;
}

/// DNS and connection attempts, as the driver sees them.
pub trait Network<R: Runtime>: Send + Sync + 'static {
    /// The connected stream type.
    type Stream: Send + 'static;

    /// Resolves `name` for `record`. Dropping the future abandons the query.
    fn resolve(&self, runtime: &R, name: &str, record: RecordType) -> BoxFuture<DnsAnswer>;

    /// Makes `attempt`, preparing its socket with `sockets`. Dropping the future closes
    /// the socket.
    fn connect(
        &self,
        runtime: &R,
        attempt: &Attempt,
        sockets: &SocketConfig,
    ) -> BoxFuture<io::Result<Self::Stream>>;
}

/// The real network: the system resolver (`getaddrinfo`, one family per lookup, on the
/// runtime's blocking pool) and TCP sockets.
///
/// QUIC attempts (possible only when the engine config allows QUIC) fail with
/// `io::ErrorKind::Unsupported`: this driver connects TCP.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemNetwork;

impl<R: Runtime> Network<R> for SystemNetwork {
    type Stream = R::Stream;

    fn resolve(&self, runtime: &R, name: &str, record: RecordType) -> BoxFuture<DnsAnswer> {
        let name = name.to_string();
        let job = runtime.spawn_blocking(move || crate::dns::lookup(&name, record));
        Box::pin(async move { job.await.unwrap_or(DnsAnswer::Error(DnsError::Other)) })
    }

    fn connect(
        &self,
        runtime: &R,
        attempt: &Attempt,
        sockets: &SocketConfig,
    ) -> BoxFuture<io::Result<R::Stream>> {
        connect_tcp(runtime, attempt, sockets)
    }
}

/// A TCP attempt: [`start_attempt`], then the runtime's [`Runtime::connect`]. For networks
/// that resolve differently but connect like [`SystemNetwork`] (the hickory resolver).
pub fn connect_tcp<R: Runtime>(
    runtime: &R,
    attempt: &Attempt,
    sockets: &SocketConfig,
) -> BoxFuture<io::Result<R::Stream>> {
    match start_attempt(attempt, sockets) {
        Ok(socket) => runtime.connect(socket),
        Err(e) => Box::pin(std::future::ready(Err(e))),
    }
}
