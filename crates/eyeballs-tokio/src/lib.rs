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
//! A [`Connector`] is built once and reused. Its builder methods (inherent: nothing to
//! import but the connector) set every engine setting, a local address per family, the
//! common socket options (`TCP_NODELAY`, keepalive, buffer sizes, on Linux the device to
//! bind to), a hook for any other option, an observer for live reports, a connection
//! history and a deadline. Its races are owned futures (`Send + 'static`): spawn them.
//!
//! ```no_run
//! use std::time::Duration;
//! use eyeballs_tokio::Connector;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let connector = Connector::new()
//!     .connection_attempt_delay(Duration::from_millis(150))
//!     .total_timeout(Duration::from_secs(10))
//!     .tcp_nodelay(true)
//!     .tcp_keepalive(Duration::from_secs(60));
//! let (result, report) = connector.connect_with_report("example.com:443").await;
//! println!("{report}");
//! let stream = result?;
//! // The futures own what they need: spawn as many races as you like.
//! let task = tokio::spawn(connector.connect("example.net:443"));
//! let other = task.await??;
//! # drop((stream, other)); Ok(()) }
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
//! use eyeballs_tokio::{Connector, HistoryConfig, NetworkId, SharedHistory};
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
//! ## One crate to name
//!
//! Everything a user of this crate meets is re-exported here: the settings, the report,
//! the error and every type its methods return, the engine's types (`Family`, `Config`,
//! `Target`, ... and the engine itself as [`eyeballs`](mod@eyeballs)), the futures,
//! [`socket2`] (the version the socket hook is given; a `socket2` of another version in
//! your `Cargo.toml` has types that do not match) and, with the `hickory` feature,
//! `hickory_resolver`.
//!
//! ```
//! use eyeballs_tokio::{
//!     AttemptError, AttemptFailure, AttemptId, AttemptIoError, AttemptReport, AttemptResult,
//!     CancelReason, Config, ConnectError, Connect, ConnectWithReport, Connector, DnsError,
//!     DnsFailure, ErrorInfo, Event, FailReason, Family, Keepalive, QueryReport, RaceReport,
//!     RaceResult, Reason, RecordType, Settings, SkipReason, Skipped, StartError, Target,
//!     TimedEvent, socket2,
//! };
//!
//! fn first_error(e: &ConnectError) -> Option<(&AttemptError, &std::io::Error)> {
//!     let a: &AttemptIoError = e.attempt_errors().first()?;
//!     Some((&a.attempt, &a.error))
//! }
//! fn why(e: &ConnectError) -> String {
//!     let skipped: &[Skipped] = e.skipped();
//!     let dns: &[DnsFailure] = e.dns_errors();
//!     let filtered = skipped.iter().filter(|s| matches!(s.reason, SkipReason::Filtered(_))).count();
//!     let timeouts = dns.iter().filter(|d| d.error == DnsError::Timeout && d.record == RecordType::A).count();
//!     match e.reason() {
//!         Reason::Race(RaceResult::Failed(FailReason::AllAttemptsFailed)) => "every attempt failed".into(),
//!         Reason::Start(StartError::PortZero) => "port 0".into(),
//!         other => format!("{other} ({filtered} filtered, {timeouts} A timeouts)"),
//!     }
//! }
//! fn winner(report: &RaceReport) -> Option<(AttemptId, &AttemptReport)> {
//!     let a = report.winning_attempt()?;
//!     Some((a.id, a))
//! }
//! fn failures(report: &RaceReport) -> Vec<(AttemptFailure, &ErrorInfo)> {
//!     report.attempts.iter().filter_map(|a| match &a.result {
//!         AttemptResult::Failed { failure, error } => Some((*failure, error)),
//!         AttemptResult::Cancelled { reason: CancelReason::LostRace } => None,
//!         _ => None,
//!     }).collect()
//! }
//! fn queries(report: &RaceReport) -> Vec<&QueryReport> {
//!     report.queries.iter().collect()
//! }
//! fn attempts(events: &[TimedEvent]) -> usize {
//!     events.iter().filter(|e| matches!(e.event, Event::Attempt(_))).count()
//! }
//! fn hook(socket: &socket2::Socket) -> std::io::Result<()> {
//!     socket.set_tcp_nodelay(true)
//! }
//! fn spawnable<T: Send + 'static>(_: &T) {}
//!
//! let mut config = Config::default();
//! config.prefer_family = Family::V4;
//! let settings = Settings::default().config(config);
//! let keepalive: Option<Keepalive> = settings.socket.keepalive;
//! let connector: Connector = Connector::new().with_settings(settings);
//! # let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
//! # let _guard = rt.enter();
//! let race: Connect = connector.connect(Target::addresses(["127.0.0.1:9".parse().unwrap()]));
//! let with_report: ConnectWithReport = connector.connect_with_report("localhost:9");
//! spawnable(&race);
//! spawnable(&with_report);
//! # let _ = (first_error, why, winner, failures, queries, attempts, hook, keepalive);
//! ```
//!
//! ## Features
//!
//! - `hyper`: `HttpConnector`, a `tower_service::Service<http::Uri>` for hyper-util's
//!   legacy client (and any TLS connector that wraps one: hyper-rustls, tonic's); it
//!   refuses URIs that are not `http://` unless told that a TLS layer wraps it
//!   (`enforce_http(false)`), and tells the response which endpoint won
//!   (`ConnectionInfo`).
//! - `rustls`: secure racing (HEv3 §6.1): `Connector::tls` races TCP then TLS
//!   (tokio-rustls), and the first attempt whose TLS handshake is done wins; see the `tls`
//!   module (the name authenticated, ALPN, ECH, the errors). With `hyper` too,
//!   `HttpsConnector` for hyper-util's client. `native-roots`: the system's root
//!   certificates besides the default Mozilla ones.
//! - `quic`: QUIC in the race too (quinn 0.11): `Connector::tls(config).quic()` races QUIC
//!   attempts alongside TCP+TLS ones and returns the first handshake done, a QUIC
//!   connection or a TLS stream, with the endpoint and the ALPN negotiated; see the `quic`
//!   module.
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

#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::io;
use std::sync::OnceLock;
use std::time::Instant as StdInstant;

use eyeballs_driver::socket::{ConnectProgress, finish_connect};
use eyeballs_driver::{BoxFuture, Runtime};
use tokio::net::TcpStream;

pub use eyeballs_driver::exports::*;
#[cfg(feature = "hickory")]
#[doc(no_inline)]
pub use hickory_resolver;

#[cfg(feature = "hickory")]
pub mod hickory;
#[cfg(feature = "hyper")]
mod http_connector;
#[cfg(feature = "quic")]
#[cfg_attr(docsrs, doc(cfg(feature = "quic")))]
pub mod quic;
#[cfg(feature = "reqwest")]
pub mod reqwest;
#[cfg(feature = "rustls")]
#[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
pub mod tls;
#[cfg(feature = "hyper")]
pub use http_connector::{ConnectionInfo, HttpConnector, HttpStream};
#[cfg(all(feature = "hyper", feature = "rustls"))]
mod https_connector;
#[cfg(all(feature = "hyper", feature = "rustls"))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "hyper", feature = "rustls"))))]
pub use https_connector::{HttpsConnector, HttpsStream};

/// tokio as the driver's runtime seam: tokio's clock and timer, its blocking pool for
/// lookups, its reactor for connects.
///
/// A network of one's own (another resolver, a scripted one in tests) implements
/// `eyeballs_driver::Network<TokioRuntime>`:
///
/// ```
/// use eyeballs_tokio::{Connector, SystemNetwork, TokioRuntime};
///
/// fn uses<N: eyeballs_driver::Network<TokioRuntime>>(network: N) -> Connector<N> {
///     Connector::with_network(network)
/// }
/// let connector = uses(SystemNetwork);
/// # let _ = connector;
/// ```
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

eyeballs_driver::async_connector!(TokioRuntime, "eyeballs_tokio", "tokio");

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
    // One default connector for every call: making one allocates its shared settings.
    static DEFAULT: OnceLock<Connector> = OnceLock::new();
    let connector = DEFAULT.get_or_init(Connector::new);
    connector.connect(target).await.map_err(io::Error::from)
}
