//! # eyeballs-tokio: Happy Eyeballs connect for tokio
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let stream: tokio::net::TcpStream = eyeballs_tokio::connect("example.com:443").await?;
//! # drop(stream); Ok(()) }
//! ```
//!
//! AAAA and A are looked up as two `getaddrinfo` calls on tokio's blocking pool, so they
//! arrive separately and the Resolution Delay applies; the [`eyeballs`] engine races the
//! addresses (RFC 8305, HEv3); every loser is closed the moment the winner connects, and
//! dropping the future closes everything it opened. Pre-resolved addresses never touch the
//! blocking pool, and no thread is spawned per race.
//!
//! A [`Connector`] is built once and reused; it has every engine setting, a local address
//! per family, a socket-options hook, an observer for live reports (the builder methods of
//! [`Configure`]), and
//! [`connect_with_report`](eyeballs_driver::Connector::connect_with_report):
//!
//! ```no_run
//! use std::time::Duration;
//! use eyeballs_tokio::{Configure, Connector};
//!
//! # async fn demo() -> Result<(), eyeballs_tokio::ConnectError> {
//! let connector = Connector::new()
//!     .connection_attempt_delay(Duration::from_millis(150))
//!     .total_timeout(Duration::from_secs(10))
//!     .socket_hook(|socket, _peer| socket.set_tcp_nodelay(true));
//! let (result, report) = connector.connect_with_report("example.com:443").await;
//! println!("{report}");
//! let stream = result?;
//! # drop(stream); Ok(()) }
//! ```
//!
//! ## Connection history
//!
//! Give connectors a [`SharedHistory`] and every race reads it when it starts and feeds it
//! when it ends: the next connection to a host whose IPv6 path hung starts with IPv4 and
//! connects in one round trip instead of waiting for the Connection Attempt Delay. Clones
//! share it, across connectors too; it is partitioned by network ([`NetworkId`]).
//!
//! ```no_run
//! use eyeballs_tokio::{Configure, Connector, HistoryConfig, NetworkId, SharedHistory};
//!
//! # async fn demo() -> Result<(), eyeballs_tokio::ConnectError> {
//! let history = SharedHistory::new(HistoryConfig::default(), NetworkId(1));
//! let connector = Connector::new().history(history.clone());
//! let first = connector.connect("example.com:443").await?; // IPv6 hangs: 250 ms
//! let second = connector.connect("example.com:443").await?; // IPv4 first: one RTT
//! // The device moved to another network it cannot re-identify later:
//! history.set_network(NetworkId(2), false);
//! # drop((first, second)); Ok(()) }
//! ```
//!
//! ## Features
//!
//! - `hyper`: `HttpConnector`, a `tower_service::Service<http::Uri>` for hyper-util's
//!   legacy client.
//! - `hickory`: `hickory::HickoryNetwork` resolves AAAA, A and HTTPS with hickory-resolver
//!   and feeds the HTTPS records to the engine.
//! - `serde`, `tracing`: serialisable reports and the history file
//!   (`SharedHistory::load_file` / `save_file`: locked, merged and replaced atomically;
//!   the text itself: `to_json` / `load_json`), `tracing` events (see `eyeballs-driver`).
//!
//! ## Testing with a scripted network
//!
//! [`TokioRuntime`] reads tokio's clock, so under `#[tokio::test(start_paused = true)]` a
//! connector over a scripted network (`eyeballs_lab::scripted::ScriptedNetwork`, from the
//! test lab) runs the real driver in virtual time and follows exactly the schedule
//! `eyeballs_sim::run` computes.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::io;
use std::time::Instant as StdInstant;

use eyeballs_driver::socket::{ConnectProgress, finish_connect};
use eyeballs_driver::{BoxFuture, Runtime};
use tokio::net::TcpStream;

pub use eyeballs_driver::exports::*;
pub use eyeballs_driver::{Connect, ConnectWithReport, SystemNetwork};

#[cfg(feature = "hickory")]
pub mod hickory;
#[cfg(feature = "hyper")]
mod http_connector;
#[cfg(feature = "reqwest")]
pub mod reqwest;
#[cfg(feature = "hyper")]
pub use http_connector::HttpConnector;

/// tokio as the driver's runtime seam: tokio's clock and timer, its blocking pool for
/// lookups, its reactor for connects.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioRuntime;

impl Runtime for TokioRuntime {
    type Stream = TcpStream;

    fn now(&self) -> StdInstant {
        tokio::time::Instant::now().into_std()
    }

    fn sleep_until(&self, deadline: StdInstant) -> BoxFuture<()> {
        Box::pin(tokio::time::sleep_until(tokio::time::Instant::from_std(
            deadline,
        )))
    }

    fn spawn_blocking<T, F>(&self, job: F) -> BoxFuture<Option<T>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let handle = tokio::task::spawn_blocking(job);
        Box::pin(async move { handle.await.ok() })
    }

    fn connect(
        &self,
        socket: eyeballs_driver::socket2::Socket,
    ) -> BoxFuture<io::Result<TcpStream>> {
        Box::pin(async move {
            let stream = TcpStream::from_std(std::net::TcpStream::from(socket))?;
            loop {
                stream.writable().await?;
                match finish_connect((&stream).into()) {
                    ConnectProgress::Connected => return Ok(stream),
                    ConnectProgress::Failed(e) => return Err(e),
                    ConnectProgress::InProgress => {}
                }
            }
        })
    }
}

/// The tokio connector: build once, reuse (see [`eyeballs_driver::Connector`] for every
/// setting). `N` is the network: the system resolver and TCP by default,
/// `hickory::HickoryNetwork` with the `hickory` feature.
///
/// ```no_run
/// use std::time::Duration;
/// use eyeballs_tokio::Configure; // the builder methods
///
/// # async fn demo() -> std::io::Result<()> {
/// let connector = eyeballs_tokio::Connector::new()
///     .local_address("192.0.2.10".parse().unwrap())
///     .attempt_timeout(Duration::from_secs(3));
/// let a = connector.connect("example.com:443").await?;
/// let b = connector.connect(("example.net", 443)).await?;
/// let c = connector.connect(["192.0.2.1:443".parse().unwrap()]).await?;
/// # drop((a, b, c)); Ok(()) }
/// ```
pub type Connector<N = SystemNetwork> = eyeballs_driver::Connector<TokioRuntime, N>;

/// Connects to `target` (`"host:port"`, `(host, port)`, a `SocketAddr` or a list of them)
/// with Happy Eyeballs and the default settings.
///
/// On failure the `io::Error` has a kind that fits (all refused: `ConnectionRefused`, no
/// address: `NotFound`, ...) and carries the [`ConnectError`] listing every attempt
/// (`err.get_ref()` and `downcast_ref`).
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// let stream = eyeballs_tokio::connect("example.com:443").await?;
/// println!("connected to {}", stream.peer_addr()?);
/// # Ok(()) }
/// ```
pub async fn connect<T: IntoTarget>(target: T) -> io::Result<TcpStream> {
    let connector: Connector = Connector::new();
    connector.connect(target).await.map_err(io::Error::from)
}
