//! # eyeballs-driver: the one place that drives an `eyeballs` race over real I/O
//!
//! The [`eyeballs`] engine decides (which address when, what to cancel); this crate does
//! what it asks, once for every runtime:
//!
//! - [`Session`] is the runtime-free core. It wraps an [`eyeballs::Race`], maps
//!   `std::time::Instant` to the engine's clock ([`clock`]: one epoch for every race, so
//!   that races can be compared; reports show time since each race's start), turns engine
//!   actions into I/O [`Request`]s, keeps the handle (socket, future) of every query and
//!   attempt in flight, closes what the engine cancels (the losers, the moment the winner
//!   connects; a connection that completes after its attempt was cancelled), records the
//!   [`RaceReport`], feeds the connection history, and produces the winner or one
//!   [`ConnectError`] listing every attempt.
//! - [`socket`] prepares attempt sockets (non-blocking, bound to the family's local address,
//!   the user's hook run, connect started) and checks a finished connect; [`dns`] asks the
//!   system resolver one family at a time.
//! - [`Connector`] and its futures are the async loop that the tokio, smol and async-std
//!   adapters share: [`Connect`] resolves to the stream (or the error),
//!   [`ConnectWithReport`] to the stream and the race's report; both own what they need
//!   (`Send + 'static`: they can be spawned). It is generic over a small
//!   [`Runtime`] seam (clock, sleep, blocking pool, wait for a started connect) and a
//!   [`Network`] (lookups and attempts):
//!   [`SystemNetwork`] is the real one; tests can script one (the test lab's
//!   `eyeballs_lab::scripted::ScriptedNetwork`, built from an `eyeballs_sim::Scenario`) and
//!   run the real loop in virtual time.
//! - The mio adapter uses [`Session`] directly from its own poll loop.
//! - [`SharedHistory`] is a connection history shared by connectors: every race reads it at
//!   its start and feeds it when it ends, so the next race to a host whose IPv6 path hung
//!   starts with IPv4 and connects in one round trip (RFC 8305 §4, HEv3 §5.3). It is
//!   partitioned by network ([`NetworkId`]), flushed on a network change (or re-keyed by
//!   itself when the machine's [`network`] changes: [`SharedHistory::follow_network`]), and
//!   can be kept in a file between runs (feature `serde`: `SharedHistory::load_file` and `save_file`,
//!   which locks, re-reads and merges, and replaces the file atomically, so that processes
//!   sharing the file lose nothing).
//!
//! ## Connection history
//!
//! ```
//! use eyeballs_driver::{HistoryConfig, NetworkId, Settings, SharedHistory};
//!
//! let history = SharedHistory::new(HistoryConfig::default(), NetworkId(1));
//! // Every connector (or settings) given a clone shares it.
//! let a = Settings::default().history(history.clone());
//! let b = Settings::default().history(history.clone());
//! // The device moved to another network, which it cannot re-identify later:
//! history.set_network(NetworkId(2), false);
//! # let _ = (a, b);
//! ```
//!
//! Or let the history follow the machine's network: on Linux the [`network`] module derives
//! a [`NetworkId`] from the default routes and IPv6 prefixes in `/proc/net` (stable across
//! processes; elsewhere a documented constant), and a following history checks it at the
//! start of a race at most once per interval (one atomic load per race otherwise) and
//! re-keys itself when it changed. A check that fails keeps the network
//! ([`SharedHistory::last_network_error`] says why) and never fails a connect.
//!
//! ```
//! use std::time::Duration;
//! use eyeballs_driver::{HistoryConfig, NetworkId, SharedHistory};
//!
//! let history = SharedHistory::new(HistoryConfig::default(), NetworkId(0));
//! // Keep each network's entries for when the machine comes back to it.
//! let here = history.follow_network(Duration::from_secs(5), true)?;
//! assert_eq!(history.network(), here);
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! ## The loop
//!
//! ```text
//!   Session::start ──► poll_request() ──► Resolve ──► Network::resolve ──┐ (handle kept
//!        ▲                    │                                          │  by the session)
//!        │                    └─────► Attempt ──► Network::attempt ──────┤
//!        │                                                               ▼
//!        └── handle_dns / handle_progress /  ◄──── first ready: DNS answers (query order),
//!            handle_connected / handle_failed /    attempt steps (start order), then the
//!            handle_timeout (at poll_timeout())    engine's timer
//! ```
//!
//! Of several things ready at once the driver takes DNS answers first, then attempt
//! steps, then the engine's timer: the simulator's order, so that a scripted run under a
//! paused clock reproduces `eyeballs_sim::run` exactly.
//!
//! ## Secure racing
//!
//! An attempt may have two handshakes: the transport's (TCP), then a secure one (TLS). HEv3
//! §6.1: "clients SHOULD wait for the TLS handshake to successfully complete before
//! cancelling other connection attempts", so that a path where TCP connects and TLS never
//! answers (a TCP-terminating proxy) costs one Connection Attempt Delay, not the race. The
//! network's [`attempt`](Network::attempt) reports the transport step
//! ([`attempt::AttemptStep::TransportConnected`]), the session records it
//! ([`Session::handle_progress`]: the report's `transport` event; the engine extends the
//! Next Connection Attempt Timer), and the attempt wins only when its secure handshake is
//! done; a failure of the secure handshake (an alert, a certificate rejected, the peer
//! closing) is an attempt failure ([`attempt::HandshakeError`], counted as
//! `AttemptFailure::Handshake`), and the next attempt starts at once. With the `rustls`
//! feature, `tls::Tls` is such a network over any transport network (see `tls`); the
//! [`attempt`] module is the seam other secure transports (QUIC) plug into.
//!
//! ## Features
//!
//! - `serde`: a [`RaceReport`] serialises with the simulator's event vocabulary (`query`,
//!   `answer`, `attempt`, `failed`, `connected`, `cancel`), written by the renderer the
//!   simulator's traces use too (`eyeballs-json`, which depends on the engine
//!   and `serde_json` only: no feature of this crate compiles the simulator), and
//!   [`SharedHistory`] saves to and loads from a versioned JSON file (`load_file`,
//!   `save_file`; the text itself: `to_json`, `load_json`).
//! - `tracing`: a `tracing` event (target `eyeballs`, level DEBUG) for every query, answer,
//!   attempt, result and cancel.
//! - `async-io`: `async_io::{sleep_until, connect}`, the seam pieces shared by the smol and
//!   async-std adapters.
//! - `rustls`: `tls`, secure racing with rustls (the configuration, the server name, ALPN
//!   and ECH per attempt, the `tls::Tls` network); an adapter adds the handshake on its
//!   runtime's streams (`eyeballs-tokio`'s `rustls` feature: tokio-rustls). The crypto
//!   provider is aws-lc-rs. `webpki-roots` (the Mozilla roots, compiled in) and
//!   `native-roots` (the system's) give root certificates.
//!
//! ## Writing a runtime seam
//!
//! ```
//! use std::time::Instant;
//! use eyeballs_driver::{BoxFuture, Runtime};
//!
//! /// A toy runtime: a thread per sleep and per blocking job, blocking connects.
//! #[derive(Clone, Default)]
//! struct Threads;
//!
//! fn on_thread<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> BoxFuture<Option<T>> {
//!     let (tx, rx) = std::sync::mpsc::channel();
//!     std::thread::spawn(move || tx.send(job()));
//!     Box::pin(async move { rx.recv().ok() }) // blocks the executor: a toy only
//! }
//!
//! impl Runtime for Threads {
//!     type Stream = std::net::TcpStream;
//!     fn sleep_until(&self, deadline: Instant) -> BoxFuture<()> {
//!         Box::pin(async move { std::thread::sleep(deadline.saturating_duration_since(Instant::now())) })
//!     }
//!     fn spawn_blocking<T, F>(&self, job: F) -> BoxFuture<Option<T>>
//!     where T: Send + 'static, F: FnOnce() -> T + Send + 'static {
//!         on_thread(job)
//!     }
//!     fn connect(&self, socket: socket2::Socket) -> BoxFuture<std::io::Result<Self::Stream>> {
//!         use eyeballs_driver::socket::{finish_connect, ConnectProgress};
//!         Box::pin(async move {
//!             loop {
//!                 // A toy: polls the connect every millisecond instead of waiting for a
//!                 // reactor to report the socket writable.
//!                 match finish_connect(socket2::SockRef::from(&socket)) {
//!                     ConnectProgress::Connected => return Ok(socket.into()),
//!                     ConnectProgress::Failed(e) => return Err(e),
//!                     ConnectProgress::InProgress => std::thread::sleep(std::time::Duration::from_millis(1)),
//!                 }
//!             }
//!         })
//!     }
//! }
//!
//! let connector: eyeballs_driver::Connector<Threads> = eyeballs_driver::Connector::new();
//! # let _ = connector;
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "async-io")]
pub mod async_io;
pub mod attempt;
pub mod clock;
pub mod dns;
mod drive;
mod error;
mod history;
pub mod network;
#[cfg(feature = "quic")]
#[cfg_attr(docsrs, doc(cfg(feature = "quic")))]
pub mod quic;
mod report;
mod runtime;
mod session;
mod settings;
pub mod socket;
mod target;
#[cfg(feature = "rustls")]
#[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
pub mod tls;

pub use drive::{Connect, ConnectWithReport, Connector};
pub use error::{AttemptIoError, ConnectError, Reason};
pub use history::SharedHistory;
#[cfg(feature = "serde")]
pub use history::{FileKind, HistoryFileError, HistoryPathError};
pub use report::{AttemptReport, AttemptResult, ErrorInfo, QueryReport, RaceReport};
pub use runtime::{BoxFuture, Network, RaceContext, Runtime, SystemNetwork, connect_tcp};
pub use session::{Request, Session, check_start};
pub use settings::{Keepalive, Observer, Settings, SocketConfig, SocketHook};
pub use target::{IntoTarget, interface_index, parse_socket_addr};

/// The engine's history types a [`SharedHistory`] is made and read with.
pub use eyeballs::history::{HistoryConfig, HistoryRecord, NetworkId};

/// What happened in a race, and when: the engine's event vocabulary, which the simulator's
/// traces use too (a [`RaceReport`]'s events; an [`Observer`] sees each as it happens).
pub use eyeballs::trace::{Event, TimedEvent};

/// The engine, re-exported for its types (`Config`, `Family`, `Target`, ...).
pub use eyeballs;

pub use socket2;

/// What every adapter re-exports from the driver, so that its users name one crate: the
/// settings, the errors and every type their methods return, the report and its events, the
/// history, the engine's types a user meets (`Family`, `Config`, `Target`, ...), the engine
/// itself and `socket2` (the version the socket hook is given). An adapter writes
/// `pub use eyeballs_driver::exports::*;` and adds its own `Connector` (the async adapters:
/// [`async_connector!`](crate::async_connector), which names the futures `Connect` and
/// `ConnectWithReport` too).
///
/// ```
/// use eyeballs_driver::exports::*;
///
/// fn attempts(report: &RaceReport) -> usize {
///     report.events.iter().filter(|e| matches!(e.event, Event::Attempt(_))).count()
/// }
/// assert_eq!(attempts(&RaceReport::default()), 0);
/// let settings = Settings::default()
///     .prefer_family(Family::V4)
///     .history(SharedHistory::new(HistoryConfig::default(), NetworkId(1)));
/// # let _ = settings;
/// ```
pub mod exports {
    /// Which network the machine is on, for a history that follows it
    /// ([`SharedHistory::follow_network`]).
    pub use crate::network;
    pub use crate::{
        AttemptIoError, AttemptReport, AttemptResult, ConnectError, ErrorInfo, Event,
        HistoryConfig, HistoryRecord, IntoTarget, Keepalive, NetworkId, Observer, QueryReport,
        RaceReport, Reason, Settings, SharedHistory, SocketConfig, SocketHook, SystemNetwork,
        TimedEvent,
    };
    #[cfg(feature = "serde")]
    pub use crate::{FileKind, HistoryFileError, HistoryPathError};
    /// The engine, for everything else it has.
    pub use eyeballs;
    /// The engine's types that a connector's settings, its errors and its reports are
    /// made of.
    pub use eyeballs::{
        AttemptError, AttemptFailure, AttemptId, CancelReason, Config, Connectivity, DnsAnswer,
        DnsError, DnsFailure, FailReason, Family, Protocol, QueryId, RaceResult, RecordType,
        ServiceRecord, SkipReason, Skipped, StartError, Target,
    };
    /// The `socket2` the socket hook is given (`Connector::socket_hook`): name its types
    /// through this, so that the versions match.
    pub use socket2;
}
