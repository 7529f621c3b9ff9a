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

use eyeballs::{Attempt, DnsAnswer, DnsError, RecordType, Target};

use crate::attempt::{self, BoxAttempt};
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

/// What an attempt is told about its race, beyond its endpoint: the race's target (the
/// name a secure attempt authenticates: SNI and the certificate check) and how to prepare
/// its socket.
///
/// ```
/// use eyeballs::Target;
/// use eyeballs_driver::{RaceContext, SocketConfig};
///
/// let target = Target::host("example.com", 443);
/// let sockets = SocketConfig::default();
/// let race = RaceContext::new(&target, &sockets);
/// assert_eq!(race.host_name(), Some("example.com"));
/// ```
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct RaceContext<'a> {
    /// What the race connects to, as the caller gave it.
    pub target: &'a Target,
    /// How attempt sockets are prepared.
    pub sockets: &'a SocketConfig,
}

impl<'a> RaceContext<'a> {
    /// The context of a race to `target`, its sockets prepared with `sockets`.
    pub fn new(target: &'a Target, sockets: &'a SocketConfig) -> RaceContext<'a> {
        RaceContext { target, sockets }
    }

    /// The host name the race was asked for, when it was asked for one that is not an IP
    /// address literal: the name a secure attempt authenticates (for an endpoint of an
    /// HTTPS record too, whose TargetName is only where the origin is served).
    pub fn host_name(&self) -> Option<&'a str> {
        host_name(self.target)
    }
}

/// The host name `target` asks for, unless it is an IP address literal (or a list of
/// addresses): [`RaceContext::host_name`].
pub(crate) fn host_name(target: &Target) -> Option<&str> {
    match target {
        Target::Host { name, .. } if !is_ip_literal(name) => Some(&**name),
        _ => None,
    }
}

/// Whether `name` is an IP address as a target's host name may spell it (`192.0.2.1`,
/// `2001:db8::1`, `[2001:db8::1]`, `fe80::1%eth0`).
fn is_ip_literal(name: &str) -> bool {
    let bare = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name);
    let bare = bare.split_once('%').map_or(bare, |(ip, _)| ip);
    bare.parse::<std::net::IpAddr>().is_ok()
}

/// DNS and connection attempts, as the driver sees them.
///
/// A network answers lookups ([`resolve`](Network::resolve)) and makes attempts
/// ([`connect`](Network::connect)). The driver asks for each attempt through
/// [`attempt`](Network::attempt), which by default is `connect`'s future as an attempt of
/// one step; a network whose attempts have a transport handshake before a secure one (TLS
/// over TCP: `tls::Tls` with the `rustls` feature) reports the transport
/// step there, so that the race's report records it and the engine extends its timer (HEv3
/// §6.1). See [`attempt`](crate::attempt) for the seam a QUIC attempt plugs into.
pub trait Network<R: Runtime>: Send + Sync + 'static {
    /// The connected stream type.
    type Stream: Send + 'static;

    /// Resolves `name` for `record`. Dropping the future abandons the query.
    fn resolve(&self, runtime: &R, name: &str, record: RecordType) -> BoxFuture<DnsAnswer>;

    /// Makes `attempt`, a connection to its endpoint ready for the application (for a secure
    /// network, its secure handshake done too), preparing its socket with `race.sockets`.
    /// Dropping the future closes the socket.
    fn connect(
        &self,
        runtime: &R,
        attempt: &Attempt,
        race: &RaceContext<'_>,
    ) -> BoxFuture<io::Result<Self::Stream>>;

    /// Makes `attempt` as [`connect`](Network::connect) does, telling the driver when its
    /// transport handshake is done and a secure one goes on
    /// ([`AttemptStep::TransportConnected`](crate::attempt::AttemptStep::TransportConnected)).
    /// The default is `connect`'s future, which reports no such step: override it in a
    /// network with a secure handshake after the transport's. Dropping it closes what it
    /// holds.
    fn attempt(
        &self,
        runtime: &R,
        attempt: &Attempt,
        race: &RaceContext<'_>,
    ) -> BoxAttempt<Self::Stream> {
        attempt::single(self.connect(runtime, attempt, race))
    }

    /// Checks, before a race to `target` starts, that this network can make its attempts:
    /// `Err` says why not (a secure network asked for an IP address literal with no name
    /// to authenticate), and the race fails at once with that reason (an
    /// `InvalidInput` [`ConnectError`](crate::ConnectError)), before any query or socket.
    /// The default accepts every target.
    fn check(&self, target: &Target) -> Result<(), String> {
        let _ = target;
        Ok(())
    }
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
        race: &RaceContext<'_>,
    ) -> BoxFuture<io::Result<R::Stream>> {
        connect_tcp(runtime, attempt, race.sockets)
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
