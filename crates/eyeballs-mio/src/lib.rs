//! # eyeballs-mio: Happy Eyeballs for mio, blocking or embedded in your event loop
//!
//! The blocking one-liner:
//!
//! ```no_run
//! let stream: std::net::TcpStream = eyeballs_mio::connect("example.com:443")?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! A reusable [`Connector`] has every setting (its builder methods are its own: nothing to
//! import but the connector) and [`Connector::connect_with_report`]. Every name a user
//! meets (the settings, the report, the error's details, the engine's types, [`socket2`])
//! is re-exported here.
//!
//! ## Embedding in your own event loop
//!
//! An [`EmbeddedRace`] is one race that registers its sockets on *your* `mio::Poll`, with
//! tokens from a range you choose, and is advanced from your loop: hand it your events
//! ([`EmbeddedRace::handle_event`]), sleep no longer than [`EmbeddedRace::timeout`], call
//! [`EmbeddedRace::handle_timeout`] when you wake ([`Connector::embed`] makes one). It is the
//! model of driving `eyeballs` from a custom event loop; the blocking [`Connector::connect`]
//! is such a loop (or, for a race with one attempt and nothing else to wait for, one
//! blocking connect: the same race without a poll).
//!
//! ```
//! use std::net::TcpListener;
//! use mio::{Events, Poll, Token};
//! use eyeballs_mio::Connector;
//!
//! # fn main() -> std::io::Result<()> {
//! let server = TcpListener::bind("127.0.0.1:0")?;
//! let mut poll = Poll::new()?;
//! // Tokens 0..10 are the application's; the race gets 10..20.
//! let mut race = Connector::new().embed(poll.registry(), 10..20, server.local_addr()?)?;
//! let mut events = Events::with_capacity(64);
//! while !race.is_finished() {
//!     poll.poll(&mut events, race.timeout())?;
//!     for event in events.iter() {
//!         if !race.handle_event(event) {
//!             // One of the application's own tokens.
//!             assert!(event.token() < Token(10));
//!         }
//!     }
//!     race.handle_timeout();
//! }
//! let (result, report) = race.finish();
//! let stream = result?;
//! assert_eq!(stream.peer_addr()?, server.local_addr()?);
//! println!("{report}");
//! # Ok(()) }
//! ```
//!
//! [`EmbeddedRace::finish`] hands back a blocking `std::net::TcpStream`;
//! [`EmbeddedRace::finish_mio`] a non-blocking `mio::net::TcpStream`, to register on the
//! same poll and use in the same loop.
//!
//! ## Connection history
//!
//! Give the connector a [`SharedHistory`] ([`Connector::history`]) and both the blocking
//! connect and every [`EmbeddedRace`] it makes read it when a race starts and feed it when the
//! race ends: the next race to a host whose IPv6 path hung starts with IPv4 (see
//! [`Connector`] for an example).
//!
//! DNS lookups (AAAA and A separately, `getaddrinfo`) run on a short-lived thread each (mio
//! has no blocking pool); the first token of the range is a `mio::Waker` they use to wake
//! your poll. Pre-resolved addresses start no thread. On platforms where a poll may have only
//! one waker (kqueue), give each race a poll of its own or use pre-resolved addresses.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::io;
use std::ops::Range;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use eyeballs_driver::socket::{
    ConnectProgress, connect_attempt_blocking, finish_connect, start_attempt,
};
use eyeballs_driver::{Request, Session};
use mio::{Events, Interest, Poll, Registry, Token, Waker};

pub use eyeballs_driver::exports::*;

/// An attempt's socket, registered on the caller's poll; deregistered when dropped (when the
/// engine cancels the attempt, the race ends, or the embedded race is dropped).
struct Registered {
    stream: Option<mio::net::TcpStream>,
    registry: Arc<Registry>,
}

impl Registered {
    fn stream(&self) -> Option<&mio::net::TcpStream> {
        self.stream.as_ref()
    }

    /// Deregisters and hands the connected socket over as a std stream.
    fn into_std(mut self) -> Option<std::net::TcpStream> {
        let mut stream = self.stream.take()?;
        let _ = self.registry.deregister(&mut stream);
        Some(stream.into())
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        if let Some(mut stream) = self.stream.take() {
            let _ = self.registry.deregister(&mut stream);
        }
    }
}

type MioSession = Session<Registered, (), std::net::TcpStream>;

/// A lookup thread's answer to a query.
type Answer = (QueryId, DnsAnswer);

/// The token of attempt `id`: the range's first token is the waker, then one per attempt.
fn attempt_token(tokens: &Range<usize>, id: AttemptId) -> Option<Token> {
    let t = tokens.start.checked_add(1)?.checked_add(id.0 as usize)?;
    (t < tokens.end).then_some(Token(t))
}

/// One race, embedded in the caller's mio event loop (the [crate docs](crate) have a whole
/// loop; [`finish_mio`](EmbeddedRace::finish_mio) another).
///
/// Dropping it closes every socket it opened.
///
/// ```
/// use mio::Poll;
/// use eyeballs_mio::{Connector, EmbeddedRace};
///
/// let poll = Poll::new()?;
/// let race: EmbeddedRace = Connector::new().embed(poll.registry(), 10..20, "127.0.0.1:9")?;
/// assert!(race.owns(mio::Token(10)) && !race.owns(mio::Token(20)));
/// drop(race); // closes its socket
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// With a connection history in its settings ([`Connector::history`] on the connector
/// that makes it, or [`Settings::history`]), it starts the race with what the history knows
/// and feeds it the race when the race ends, or when it is finished or dropped before that.
pub struct EmbeddedRace {
    session: Option<MioSession>,
    registry: Arc<Registry>,
    tokens: Range<usize>,
    sockets: SocketConfig,
    waker: Option<Arc<Waker>>,
    /// The lookup threads' answers: made with the first lookup (a race to addresses has
    /// none).
    answers: Option<(Sender<Answer>, Receiver<Answer>)>,
}

impl EmbeddedRace {
    /// Starts a race to `target` with `settings`, registering its sockets on `registry` with
    /// tokens from `tokens` (at least 2: the first is the lookup waker, each attempt takes
    /// the next one; an attempt beyond the range fails with an error saying so).
    pub fn new<T: IntoTarget>(
        registry: &Registry,
        tokens: Range<usize>,
        settings: &Settings,
        target: T,
    ) -> Result<EmbeddedRace, ConnectError> {
        let target = target.into_target()?;
        if tokens.len() < 2 {
            return Err(ConnectError::invalid_target(
                &format!("token range {tokens:?}"),
                "an embedded race needs at least 2 tokens: one for its lookup waker, one per \
                 attempt",
            ));
        }
        let registry = registry.try_clone().map_err(|e| ConnectError::io("", &e))?;
        let session = Session::start(settings, target, Instant::now())?;
        Ok(EmbeddedRace::with_session(
            Arc::new(registry),
            tokens,
            settings,
            session,
        ))
    }

    /// A race already started, embedded: its pending requests are started at once.
    fn with_session(
        registry: Arc<Registry>,
        tokens: Range<usize>,
        settings: &Settings,
        session: MioSession,
    ) -> EmbeddedRace {
        let mut race = EmbeddedRace {
            session: Some(session),
            registry,
            tokens,
            sockets: settings.socket.clone(),
            waker: None,
            answers: None,
        };
        race.pump();
        race
    }

    fn waker_token(&self) -> Token {
        Token(self.tokens.start)
    }

    /// The connection history this race reads and feeds, if any.
    pub fn shared_history(&self) -> Option<&SharedHistory> {
        self.session.as_ref().and_then(Session::shared_history)
    }

    /// Whether `token` is in this race's range.
    pub fn owns(&self, token: Token) -> bool {
        self.tokens.contains(&token.0)
    }

    /// Starts every piece of I/O the session asks for.
    fn pump(&mut self) {
        let Some(session) = self.session.as_mut() else {
            return;
        };
        while let Some(request) = session.poll_request() {
            match request {
                Request::Resolve { id, name, record } => {
                    let waker = match &self.waker {
                        Some(w) => w.clone(),
                        None => match Waker::new(&self.registry, Token(self.tokens.start)) {
                            Ok(w) => {
                                let w = Arc::new(w);
                                self.waker = Some(w.clone());
                                w
                            }
                            Err(_) => {
                                session.handle_dns(
                                    Instant::now(),
                                    id,
                                    DnsAnswer::Error(DnsError::Other),
                                );
                                continue;
                            }
                        },
                    };
                    let tx = self.answers.get_or_insert_with(channel).0.clone();
                    let spawned = std::thread::Builder::new()
                        .name("eyeballs-lookup".into())
                        .spawn(move || {
                            let answer = eyeballs_driver::dns::lookup(&name, record);
                            // The race may be gone: then nobody listens.
                            if tx.send((id, answer)).is_ok() {
                                let _ = waker.wake();
                            }
                        });
                    match spawned {
                        Ok(_) => session.add_query(id, ()),
                        Err(_) => session.handle_dns(
                            Instant::now(),
                            id,
                            DnsAnswer::Error(DnsError::Other),
                        ),
                    }
                }
                Request::Attempt(attempt) => {
                    let token = match attempt_token(&self.tokens, attempt.id) {
                        Some(token) => token,
                        None => {
                            session.handle_failed(
                                Instant::now(),
                                attempt.id,
                                io::Error::other(format!(
                                    "no token left for {} (the race's token range {:?} is exhausted)",
                                    attempt.id, self.tokens
                                )),
                            );
                            continue;
                        }
                    };
                    let started = start_attempt(&attempt, &self.sockets).and_then(|socket| {
                        let mut stream = mio::net::TcpStream::from_std(socket.into());
                        self.registry
                            .register(&mut stream, token, Interest::WRITABLE)?;
                        Ok(stream)
                    });
                    match started {
                        Ok(stream) => session.add_attempt(
                            attempt.id,
                            Registered {
                                stream: Some(stream),
                                registry: self.registry.clone(),
                            },
                        ),
                        Err(e) => session.handle_failed(Instant::now(), attempt.id, e),
                    }
                }
            }
        }
    }

    /// Handles one event from the caller's poll. Returns whether the event was this race's
    /// (its token is in the race's range).
    pub fn handle_event(&mut self, event: &mio::event::Event) -> bool {
        let token = event.token();
        if !self.owns(token) {
            return false;
        }
        if token == self.waker_token() {
            self.take_answers();
        } else if let Some(session) = self.session.as_mut() {
            let id = AttemptId(u32::try_from(token.0 - self.tokens.start - 1).unwrap_or(u32::MAX));
            let progress = session
                .attempt_mut(id)
                .and_then(|r| r.stream())
                .map(|s| finish_connect(s.into()));
            match progress {
                Some(ConnectProgress::Connected) => {
                    if let Some(stream) = session.take_attempt(id).and_then(Registered::into_std) {
                        session.handle_connected(Instant::now(), id, stream);
                    }
                }
                Some(ConnectProgress::Failed(e)) => session.handle_failed(Instant::now(), id, e),
                // Spurious, or a socket already closed: nothing to do.
                Some(ConnectProgress::InProgress) | None => {}
            }
        }
        self.pump();
        true
    }

    fn take_answers(&mut self) {
        let Some((_, answers)) = &self.answers else {
            return;
        };
        while let Ok((id, answer)) = answers.try_recv() {
            if let Some(session) = self.session.as_mut() {
                session.handle_dns(Instant::now(), id, answer);
            }
        }
    }

    /// Fires the engine's timers if they are due (call it whenever your poll returns).
    pub fn handle_timeout(&mut self) {
        // Answers are also picked up here, in case the caller's loop missed the wake-up.
        self.take_answers();
        if let Some(session) = self.session.as_mut() {
            let now = Instant::now();
            if session.poll_timeout().is_some_and(|d| d <= now) {
                session.handle_timeout(now);
            }
        }
        self.pump();
    }

    /// When [`handle_timeout`](EmbeddedRace::handle_timeout) must be called next.
    pub fn deadline(&self) -> Option<Instant> {
        self.session.as_ref().and_then(Session::poll_timeout)
    }

    /// How long the caller's poll may sleep (`None`: until an event).
    pub fn timeout(&self) -> Option<Duration> {
        self.deadline()
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Whether the race is over ([`finish`](EmbeddedRace::finish) has the result).
    pub fn is_finished(&self) -> bool {
        self.session.as_ref().is_none_or(Session::is_finished)
    }

    /// The report so far.
    pub fn report(&self) -> Option<&RaceReport> {
        self.session.as_ref().map(Session::report)
    }

    /// The connected stream (blocking mode restored), or the error listing every attempt;
    /// and the report. A race not yet finished is cancelled. For a stream to use in the
    /// same event loop, see [`finish_mio`](EmbeddedRace::finish_mio).
    pub fn finish(self) -> (Result<std::net::TcpStream, ConnectError>, RaceReport) {
        let (result, report) = self.finish_std();
        let result = result.and_then(|stream| match stream.set_nonblocking(false) {
            Ok(()) => Ok(stream),
            Err(e) => Err(ConnectError::io(&report.target, &e)),
        });
        (result, report)
    }

    /// The connected stream as mio's: non-blocking, registered nowhere (the race's
    /// registration is gone), ready to register on the same poll with a token of the
    /// caller's and use in the same loop; or the error listing every attempt; and the
    /// report. A race not yet finished is cancelled.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::net::TcpListener;
    /// use mio::{Events, Interest, Poll, Token};
    /// use eyeballs_mio::Connector;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let server = TcpListener::bind("127.0.0.1:0")?;
    /// let mut poll = Poll::new()?;
    /// let mut race = Connector::new().embed(poll.registry(), 10..20, server.local_addr()?)?;
    /// let mut events = Events::with_capacity(64);
    /// while !race.is_finished() {
    ///     poll.poll(&mut events, race.timeout())?;
    ///     for event in events.iter() {
    ///         race.handle_event(event);
    ///     }
    ///     race.handle_timeout();
    /// }
    /// let mut stream: mio::net::TcpStream = race.finish_mio().0?;
    /// poll.registry().register(&mut stream, Token(1), Interest::READABLE)?;
    /// let (mut accepted, _) = server.accept()?;
    /// accepted.write_all(b"hi")?;
    /// poll.poll(&mut events, None)?; // readable, in the same loop
    /// let mut buf = [0; 2];
    /// stream.read_exact(&mut buf)?;
    /// assert_eq!(&buf, b"hi");
    /// # Ok(()) }
    /// ```
    pub fn finish_mio(self) -> (Result<mio::net::TcpStream, ConnectError>, RaceReport) {
        let (result, report) = self.finish_std();
        (result.map(mio::net::TcpStream::from_std), report)
    }

    /// The winner as the session holds it (non-blocking, deregistered), or the error.
    fn finish_std(mut self) -> (Result<std::net::TcpStream, ConnectError>, RaceReport) {
        let Some(mut session) = self.session.take() else {
            return (
                Err(ConnectError::invalid_target(
                    "",
                    "the race was already finished",
                )),
                RaceReport::default(),
            );
        };
        session.cancel(Instant::now());
        session.finish()
    }
}

impl Drop for EmbeddedRace {
    fn drop(&mut self) {
        if let Some(session) = self.session.as_mut() {
            session.cancel(Instant::now());
        }
    }
}

/// A Happy Eyeballs connector for mio: build once, reuse. Blocking
/// [`connect`](Connector::connect), or an [`EmbeddedRace`] for your own loop
/// ([`embed`](Connector::embed)); both read and feed the connection history given with
/// [`history`](Connector::history). Its builder methods are its own: nothing to import
/// but the connector.
///
/// ```
/// use std::net::TcpListener;
/// use std::time::Duration;
/// use eyeballs_mio::{Connector, HistoryConfig, NetworkId, SharedHistory};
///
/// let server = TcpListener::bind("127.0.0.1:0")?;
/// let history = SharedHistory::new(HistoryConfig::default(), NetworkId(1));
/// let connector = Connector::new()
///     .history(history.clone())
///     .tcp_nodelay(true)
///     .total_timeout(Duration::from_secs(5));
/// let stream = connector.connect(server.local_addr()?)?;
/// assert!(stream.nodelay()?);
/// assert!(history.path_info(server.local_addr()?.ip()).used_before);
/// assert!(connector.shared_history().is_some());
/// # drop(stream); Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Connector {
    settings: Settings,
}

/// How many tokens the blocking connect gives its race (its waker and 1023 attempts).
const BLOCKING_TOKENS: Range<usize> = 0..1024;

/// What the blocking connect's poll loop starts from.
enum Start {
    /// A race to start.
    Target(Target),
    /// A race started, with requests not yet taken (boxed: a session is large, and this
    /// is the rare case).
    Session(Box<MioSession>),
}

impl Start {
    /// The blocking connect's result when its poll could not be made: the error (a race
    /// started is cancelled, and its report kept).
    fn failed(self, e: &io::Error) -> (Result<std::net::TcpStream, ConnectError>, RaceReport) {
        match self {
            Start::Target(_) => (Err(ConnectError::io("", e)), RaceReport::default()),
            Start::Session(mut session) => {
                session.cancel(Instant::now());
                let (_, report) = session.finish();
                (Err(ConnectError::io(&report.target, e)), report)
            }
        }
    }
}

impl Connector {
    /// A connector with RFC 8305's defaults.
    pub fn new() -> Connector {
        Connector::default()
    }

    /// Replaces every setting (settings made once, for several connectors).
    pub fn with_settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// Everything this connector is configured with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Everything, to change.
    pub fn settings_mut(&mut self) -> &mut Settings {
        &mut self.settings
    }

    eyeballs_driver::connector_builder!(
        settings_mut,
        "eyeballs_mio",
        "eyeballs_mio::Connector::new()",
        ".settings()"
    );

    /// The connection history its races read and feed, if any (set with
    /// [`history`](Connector::history)).
    pub fn shared_history(&self) -> Option<&SharedHistory> {
        self.settings.history.as_ref()
    }

    /// Connects, blocking the thread: a private poll loop around an [`EmbeddedRace`]; or,
    /// when the race has one attempt to make and nothing else to wait for (one address and
    /// no timeout, deadline or stagger that could end or join the attempt meanwhile:
    /// [`Session::poll_sole_attempt`]), a blocking connect, as `std::net::TcpStream::connect`
    /// makes it, without a poll. The race, its report, its history, its hook, its options
    /// and its errors are the same either way.
    pub fn connect<T: IntoTarget>(&self, target: T) -> Result<std::net::TcpStream, ConnectError> {
        // Nobody reads the report: its events are not kept.
        self.race(target, false).0
    }

    /// Like [`connect`](Connector::connect), with the race's report.
    pub fn connect_with_report<T: IntoTarget>(
        &self,
        target: T,
    ) -> (Result<std::net::TcpStream, ConnectError>, RaceReport) {
        self.race(target, true)
    }

    /// The blocking race, its report keeping its events or not (the poll loop's keeps them).
    fn race<T: IntoTarget>(
        &self,
        target: T,
        keep_events: bool,
    ) -> (Result<std::net::TcpStream, ConnectError>, RaceReport) {
        let target = match target.into_target() {
            Ok(target) => target,
            Err(e) => return (Err(e), RaceReport::default()),
        };
        if !self.may_need_no_poll(&target) {
            return self.connect_polling(Start::Target(target));
        }
        let now = Instant::now();
        let started = match keep_events {
            true => Session::start(&self.settings, target, now),
            false => Session::start_without_events(&self.settings, target, now),
        };
        let mut session: MioSession = match started {
            Ok(session) => session,
            Err(e) => return (Err(e), RaceReport::default()),
        };
        while !session.is_finished() {
            let Some(attempt) = session.poll_sole_attempt() else {
                // Something to wait for besides the attempt after all: the poll loop.
                return self.connect_polling(Start::Session(Box::new(session)));
            };
            match connect_attempt_blocking(&attempt, &self.settings.socket) {
                Ok(socket) => session.handle_connected(Instant::now(), attempt.id, socket.into()),
                Err(e) => session.handle_failed(Instant::now(), attempt.id, e),
            }
        }
        session.finish()
    }

    /// Whether a race to `target` may have nothing to wait for but its attempt: one address,
    /// and no timeout or deadline configured. (A guess before the race starts, so that a race
    /// that needs a poll creates it first, as it always did;
    /// [`Session::poll_sole_attempt`] decides.)
    fn may_need_no_poll(&self, target: &Target) -> bool {
        let config = &self.settings.config;
        matches!(target, Target::Addresses(list) if list.len() == 1)
            && config.attempt_timeout.is_none()
            && config.total_timeout.is_none()
            && self.settings.deadline.is_none()
    }

    /// The blocking connect's poll loop, around a race to start or one started.
    fn connect_polling(
        &self,
        start: Start,
    ) -> (Result<std::net::TcpStream, ConnectError>, RaceReport) {
        let mut poll = match Poll::new() {
            Ok(poll) => poll,
            Err(e) => return start.failed(&e),
        };
        let race = match start {
            Start::Target(target) => self.embed(poll.registry(), BLOCKING_TOKENS, target),
            Start::Session(session) => match poll.registry().try_clone() {
                Ok(registry) => Ok(EmbeddedRace::with_session(
                    Arc::new(registry),
                    BLOCKING_TOKENS,
                    &self.settings,
                    *session,
                )),
                Err(e) => return Start::Session(session).failed(&e),
            },
        };
        let mut race = match race {
            Ok(race) => race,
            Err(e) => return (Err(e), RaceReport::default()),
        };
        let mut events = Events::with_capacity(64);
        while !race.is_finished() {
            if let Err(e) = poll.poll(&mut events, race.timeout()) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                let target = race.report().map(|r| r.target.clone()).unwrap_or_default();
                return (Err(ConnectError::io(&target, &e)), race.finish().1);
            }
            for event in events.iter() {
                race.handle_event(event);
            }
            race.handle_timeout();
        }
        race.finish()
    }

    /// A race to `target` embedded in the caller's event loop: its sockets registered on
    /// `registry` with tokens from `tokens` (see [`EmbeddedRace`]).
    pub fn embed<T: IntoTarget>(
        &self,
        registry: &Registry,
        tokens: Range<usize>,
        target: T,
    ) -> Result<EmbeddedRace, ConnectError> {
        EmbeddedRace::new(registry, tokens, &self.settings, target)
    }
}

/// Connects to `target` (`"host:port"`, `(host, port)`, a `SocketAddr` or a list of them)
/// with Happy Eyeballs and the default settings, blocking the thread.
///
/// On failure the `io::Error` has a kind that fits (all refused: `ConnectionRefused`, no
/// address: `NotFound`, ...) and carries the [`ConnectError`] listing every attempt.
///
/// ```no_run
/// let stream = eyeballs_mio::connect("example.com:443")?;
/// println!("connected to {}", stream.peer_addr()?);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn connect<T: IntoTarget>(target: T) -> io::Result<std::net::TcpStream> {
    Connector::new().connect(target).map_err(io::Error::from)
}
