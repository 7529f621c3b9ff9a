//! # eyeballs-async-std: Happy Eyeballs connect for async-std
//!
//! **async-std has been discontinued upstream; new code should use smol (and
//! `eyeballs-smol`).** This adapter is kept working for existing async-std code.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let stream: async_std::net::TcpStream = eyeballs_async_std::connect("example.com:443").await?;
//! # drop(stream); Ok(()) }
//! ```
//!
//! The same driver as every eyeballs adapter (`eyeballs-driver`); what is async-std's here
//! is only the runtime seam: its blocking pool for the two `getaddrinfo` lookups, and the
//! `async-io` timer and reactor it runs on. A [`Connector`] is built once and reused; its
//! builder methods are its own (nothing to import but the connector), and its races are
//! owned futures (`Send + 'static`): spawn them.
//!
//! ```no_run
//! use eyeballs_async_std::Connector;
//!
//! # async fn demo() -> Result<(), eyeballs_async_std::ConnectError> {
//! let connector = Connector::new().tcp_nodelay(true);
//! let stream = async_std::task::spawn(connector.connect("example.com:443")).await?;
//! # drop(stream); Ok(()) }
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

/// async-std as the driver's runtime seam: its blocking pool, and the `async-io` timer and
/// reactor it is built on.
///
/// A network of one's own (another resolver, a scripted one in tests) implements
/// `eyeballs_driver::Network<AsyncStdRuntime>`:
///
/// ```
/// use eyeballs_async_std::{Connector, SystemNetwork, AsyncStdRuntime};
///
/// fn uses<N: eyeballs_driver::Network<AsyncStdRuntime>>(network: N) -> Connector<N> {
///     Connector::with_network(network)
/// }
/// let connector = uses(SystemNetwork);
/// # let _ = connector;
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct AsyncStdRuntime;

impl Runtime for AsyncStdRuntime {
    type Stream = async_std::net::TcpStream;

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<()> {
        eyeballs_driver::async_io::sleep_until(deadline)
    }

    fn spawn_blocking<T, F>(&self, job: F) -> BoxFuture<Option<T>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let task = async_std::task::spawn_blocking(job);
        Box::pin(async move { Some(task.await) })
    }

    fn connect(
        &self,
        socket: eyeballs_driver::socket2::Socket,
    ) -> BoxFuture<io::Result<async_std::net::TcpStream>> {
        let connecting = eyeballs_driver::async_io::connect(socket);
        Box::pin(async move {
            // async-std registers the stream with the same `async-io` reactor again.
            let stream = connecting.await?.into_inner()?;
            Ok(async_std::net::TcpStream::from(stream))
        })
    }
}

eyeballs_driver::async_connector!(AsyncStdRuntime, "eyeballs_async_std", "async-std");

/// Connects to `target` (`"host:port"`, `(host, port)`, a `SocketAddr` or a list of them)
/// with Happy Eyeballs and the default settings.
///
/// On failure the `io::Error` has a kind that fits (all refused: `ConnectionRefused`, no
/// address: `NotFound`, ...) and carries the [`ConnectError`] listing every attempt.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// let stream = eyeballs_async_std::connect("example.com:443").await?;
/// println!("connected to {}", stream.peer_addr()?);
/// # Ok(()) }
/// ```
pub async fn connect<T: IntoTarget>(target: T) -> io::Result<async_std::net::TcpStream> {
    let connector: Connector = Connector::new();
    connector.connect(target).await.map_err(io::Error::from)
}
