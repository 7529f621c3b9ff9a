//! # eyeballs-smol: Happy Eyeballs connect for smol
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let stream: async_net::TcpStream = eyeballs_smol::connect("example.com:443").await?;
//! # drop(stream); Ok(()) }
//! ```
//!
//! The same driver as every eyeballs adapter (`eyeballs-driver`); what is smol's here is
//! only the runtime seam: `async-io`'s timer and reactor, and the `blocking` pool for the
//! two `getaddrinfo` lookups (AAAA and A, separately, so the Resolution Delay applies).
//! Losers are closed the moment the winner connects; dropping the future closes
//! everything.
//!
//! A [`Connector`] is built once and reused; its builder methods are its own (nothing to
//! import but the connector), and its races are owned futures (`Send + 'static`): spawn
//! them.
//!
//! ```no_run
//! use std::time::Duration;
//! use eyeballs_smol::Connector;
//!
//! # async fn demo() -> Result<(), eyeballs_smol::ConnectError> {
//! let connector = Connector::new()
//!     .attempt_timeout(Duration::from_secs(3))
//!     .tcp_nodelay(true);
//! let (result, report) = connector.connect_with_report("example.com:443").await;
//! println!("{report}");
//! let stream = result?;
//! let other = smol::spawn(connector.connect("example.net:443")).await?;
//! # drop((stream, other)); Ok(()) }
//! ```
//!
//! Give connectors a [`SharedHistory`] ([`Connector::history`]) and the next race to a host
//! whose IPv6 path hung starts with IPv4. Every name a user meets (the settings, the
//! report, the error's details, the engine's types, [`socket2`]) is re-exported here.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::io;
use std::time::Instant;

use eyeballs_driver::{BoxFuture, Runtime};

pub use eyeballs_driver::exports::*;

#[cfg(feature = "rustls")]
#[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
pub mod tls;

/// smol as the driver's runtime seam: `async-io`'s timer and reactor, the `blocking` pool.
///
/// A network of one's own (another resolver, a scripted one in tests) implements
/// `eyeballs_driver::Network<SmolRuntime>`:
///
/// ```
/// use eyeballs_smol::{Connector, SystemNetwork, SmolRuntime};
///
/// fn uses<N: eyeballs_driver::Network<SmolRuntime>>(network: N) -> Connector<N> {
///     Connector::with_network(network)
/// }
/// let connector = uses(SystemNetwork);
/// # let _ = connector;
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct SmolRuntime;

impl Runtime for SmolRuntime {
    type Stream = async_net::TcpStream;

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<()> {
        eyeballs_driver::async_io::sleep_until(deadline)
    }

    fn spawn_blocking<T, F>(&self, job: F) -> BoxFuture<Option<T>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let task = blocking::unblock(job);
        Box::pin(async move { Some(task.await) })
    }

    fn connect(
        &self,
        socket: eyeballs_driver::socket2::Socket,
    ) -> BoxFuture<io::Result<async_net::TcpStream>> {
        let connecting = eyeballs_driver::async_io::connect(socket);
        Box::pin(async move { connecting.await.map(async_net::TcpStream::from) })
    }
}

eyeballs_driver::async_connector!(SmolRuntime, "eyeballs_smol", "smol");

/// Connects to `target` (`"host:port"`, `(host, port)`, a `SocketAddr` or a list of them)
/// with Happy Eyeballs and the default settings.
///
/// On failure the `io::Error` has a kind that fits (all refused: `ConnectionRefused`, no
/// address: `NotFound`, ...) and carries the [`ConnectError`] listing every attempt.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// let stream = eyeballs_smol::connect("example.com:443").await?;
/// println!("connected to {}", stream.peer_addr()?);
/// # Ok(()) }
/// ```
pub async fn connect<T: IntoTarget>(target: T) -> io::Result<async_net::TcpStream> {
    let connector: Connector = Connector::new();
    connector.connect(target).await.map_err(io::Error::from)
}
