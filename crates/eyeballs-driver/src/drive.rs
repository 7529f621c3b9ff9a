//! The async loop shared by the tokio, smol and async-std adapters, and the [`Connector`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant as StdInstant;

use eyeballs::{DnsAnswer, RaceResult, Target};

use crate::attempt::{AttemptStep, BoxAttempt};
use crate::error::{ConnectError, Reason};
use crate::history::SharedHistory;
use crate::report::RaceReport;
use crate::runtime::{BoxFuture, Network, RaceContext, Runtime, SystemNetwork};
use crate::session::{Request, Session};
use crate::settings::Settings;
use crate::target::{IntoTarget, ShowTarget};

type AsyncSession<S> = Session<BoxAttempt<S>, BoxFuture<DnsAnswer>, S>;

/// The future of [`Connector::connect_with_report`]: one race, resolving to its result (the
/// stream, or the error listing every attempt) and its [`RaceReport`]. Dropping it mid-race
/// closes every socket it opened (the observer sees the attempts cancelled).
///
/// It owns what it needs (the connector's settings and network are shared, not borrowed):
/// it is `Send + 'static`, so it can be spawned (`tokio::spawn(connector.connect(..))`),
/// and the connector can be dropped while it runs.
///
/// ```
/// use eyeballs_driver::{ConnectWithReport, SystemNetwork};
///
/// fn spawnable<T: Send + 'static>() {}
/// # #[derive(Clone, Default)] struct MyRuntime;
/// # impl eyeballs_driver::Runtime for MyRuntime {
/// #     type Stream = std::net::TcpStream;
/// #     fn sleep_until(&self, _: std::time::Instant) -> eyeballs_driver::BoxFuture<()> { unimplemented!() }
/// #     fn spawn_blocking<T, F>(&self, _: F) -> eyeballs_driver::BoxFuture<Option<T>>
/// #     where T: Send + 'static, F: FnOnce() -> T + Send + 'static { unimplemented!() }
/// #     fn connect(&self, _: socket2::Socket) -> eyeballs_driver::BoxFuture<std::io::Result<Self::Stream>> { unimplemented!() }
/// # }
/// spawnable::<ConnectWithReport<MyRuntime, SystemNetwork>>();
/// ```
#[must_use = "a race does nothing unless awaited"]
pub struct ConnectWithReport<R: Runtime, N: Network<R>> {
    runtime: R,
    network: Arc<N>,
    settings: Arc<Settings>,
    session: Option<AsyncSession<N::Stream>>,
    /// The race's target, for its attempts ([`RaceContext`]).
    target: Option<Target>,
    early: Option<ConnectError>,
    sleep: Option<(StdInstant, BoxFuture<()>)>,
}

impl<R: Runtime, N: Network<R>> ConnectWithReport<R, N> {
    /// Starts the I/O the session asks for.
    fn start_requests(&mut self) {
        let (Some(session), Some(target)) = (self.session.as_mut(), self.target.as_ref()) else {
            return;
        };
        while let Some(request) = session.poll_request() {
            match request {
                Request::Resolve { id, name, record } => {
                    let query = self.network.resolve(&self.runtime, &name, record);
                    session.add_query(id, query);
                }
                Request::Attempt(attempt) => {
                    let race = RaceContext::new(target, &self.settings.socket);
                    let connect = self.network.attempt(&self.runtime, &attempt, &race);
                    session.add_attempt(attempt.id, connect);
                }
            }
        }
    }

    /// Advances the race as far as it goes without waiting. Of several things ready at
    /// the same time, DNS answers go first (in query order), then attempt steps (transport
    /// handshakes and results, in start order), then the engine's timers: the simulator's
    /// order.
    fn advance(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            self.start_requests();
            let Some(session) = self.session.as_mut() else {
                return Poll::Ready(());
            };
            if session.is_finished() {
                return Poll::Ready(());
            }
            // The clock is read when something is to be handled (a poll that finds nothing
            // ready and no timer reads it not at all).
            let runtime = &self.runtime;
            let answer =
                session
                    .queries_mut()
                    .find_map(|(id, query)| match query.as_mut().poll(cx) {
                        Poll::Ready(answer) => Some((id, answer)),
                        Poll::Pending => None,
                    });
            if let Some((id, answer)) = answer {
                session.handle_dns(runtime.now(), id, answer);
                continue;
            }
            let step = session.attempts_mut().find_map(|(id, attempt)| {
                match attempt.as_mut().poll_step(cx) {
                    Poll::Ready(step) => Some((id, step)),
                    Poll::Pending => None,
                }
            });
            if let Some((id, step)) = step {
                let now = runtime.now();
                match step {
                    AttemptStep::TransportConnected => session.handle_progress(now, id),
                    AttemptStep::Done(Ok(stream)) => session.handle_connected(now, id, stream),
                    AttemptStep::Done(Err(e)) => session.handle_failed(now, id, e),
                }
                continue;
            }
            let Some(deadline) = session.poll_timeout() else {
                self.sleep = None;
                return Poll::Pending;
            };
            let now = runtime.now();
            if deadline <= now {
                self.sleep = None;
                session.handle_timeout(now);
                continue;
            }
            let sleep = match &mut self.sleep {
                Some((at, sleep)) if *at == deadline => sleep,
                slot => &mut slot.insert((deadline, runtime.sleep_until(deadline))).1,
            };
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            // Woken: read the clock again.
            self.sleep = None;
        }
    }
}

// Nothing in `ConnectWithReport` is pinned in place: every future it polls is boxed.
impl<R: Runtime, N: Network<R>> Unpin for ConnectWithReport<R, N> {}

impl<R: Runtime, N: Network<R>> Future for ConnectWithReport<R, N> {
    type Output = (Result<N::Stream, ConnectError>, RaceReport);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(e) = this.early.take() {
            let report = RaceReport {
                target: e.target().to_string(),
                ..RaceReport::default()
            };
            return Poll::Ready((Err(e), report));
        }
        if this.advance(cx).is_pending() {
            return Poll::Pending;
        }
        match this.session.take() {
            Some(session) => Poll::Ready(session.finish()),
            None => Poll::Ready((
                Err(ConnectError::new(
                    String::new(),
                    Reason::Race(RaceResult::Cancelled),
                )),
                RaceReport::default(),
            )),
        }
    }
}

impl<R: Runtime, N: Network<R>> Drop for ConnectWithReport<R, N> {
    fn drop(&mut self) {
        if let Some(session) = self.session.as_mut() {
            session.cancel(self.runtime.now());
        }
    }
}

/// The future of [`Connector::connect`]: one race, resolving to the stream (or the error
/// listing every attempt); [`ConnectWithReport`] without the report. `Send + 'static`
/// like it: it can be spawned.
///
/// ```
/// use eyeballs_driver::{Connect, SystemNetwork};
///
/// fn spawnable<T: Send + 'static>() {}
/// # #[derive(Clone, Default)] struct MyRuntime;
/// # impl eyeballs_driver::Runtime for MyRuntime {
/// #     type Stream = std::net::TcpStream;
/// #     fn sleep_until(&self, _: std::time::Instant) -> eyeballs_driver::BoxFuture<()> { unimplemented!() }
/// #     fn spawn_blocking<T, F>(&self, _: F) -> eyeballs_driver::BoxFuture<Option<T>>
/// #     where T: Send + 'static, F: FnOnce() -> T + Send + 'static { unimplemented!() }
/// #     fn connect(&self, _: socket2::Socket) -> eyeballs_driver::BoxFuture<std::io::Result<Self::Stream>> { unimplemented!() }
/// # }
/// spawnable::<Connect<MyRuntime, SystemNetwork>>();
/// ```
#[must_use = "a race does nothing unless awaited"]
pub struct Connect<R: Runtime, N: Network<R>>(ConnectWithReport<R, N>);

impl<R: Runtime, N: Network<R>> Future for Connect<R, N> {
    type Output = Result<N::Stream, ConnectError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map(|(result, _)| result)
    }
}

/// A Happy Eyeballs connector over any runtime seam: built once, reused for any number of
/// races (concurrently too). Cheap to clone: the settings and the network are shared.
///
/// `R` is the runtime seam, `N` the network (the system resolver and TCP by default). The
/// adapters wrap it in a `Connector` of their own, with every builder method
/// ([`async_connector!`](crate::async_connector)); for a runtime seam of one's own, give it
/// [`Settings`] (which have the same builder methods) with
/// [`with_settings`](Connector::with_settings).
///
/// Its races are owned futures ([`Connect`], [`ConnectWithReport`]): `Send + 'static`,
/// spawnable, independent of the connector once made.
///
/// ```
/// use std::time::Duration;
/// use eyeballs_driver::{Connector, Settings};
/// # #[derive(Clone, Default)] struct MyRuntime;
/// # impl eyeballs_driver::Runtime for MyRuntime {
/// #     type Stream = std::net::TcpStream;
/// #     fn sleep_until(&self, _: std::time::Instant) -> eyeballs_driver::BoxFuture<()> { unimplemented!() }
/// #     fn spawn_blocking<T, F>(&self, _: F) -> eyeballs_driver::BoxFuture<Option<T>>
/// #     where T: Send + 'static, F: FnOnce() -> T + Send + 'static { unimplemented!() }
/// #     fn connect(&self, _: socket2::Socket) -> eyeballs_driver::BoxFuture<std::io::Result<Self::Stream>> { unimplemented!() }
/// # }
///
/// let connector: Connector<MyRuntime> = Connector::new()
///     .with_settings(Settings::default().total_timeout(Duration::from_secs(10)));
/// let race = connector.connect("example.com:443"); // owns what it needs
/// drop(connector);
/// # drop(race);
/// ```
pub struct Connector<R, N = SystemNetwork> {
    runtime: R,
    network: Arc<N>,
    settings: Arc<Settings>,
}

impl<R: Clone, N> Clone for Connector<R, N> {
    fn clone(&self) -> Self {
        Connector {
            runtime: self.runtime.clone(),
            network: self.network.clone(),
            settings: self.settings.clone(),
        }
    }
}

impl<R, N> fmt::Debug for Connector<R, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connector")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime + Default> Connector<R, SystemNetwork> {
    /// A connector with RFC 8305's defaults, the system resolver and TCP.
    pub fn new() -> Self {
        Connector::with_network(R::default(), SystemNetwork)
    }
}

impl<R: Runtime + Default> Default for Connector<R, SystemNetwork> {
    fn default() -> Self {
        Connector::new()
    }
}

impl<R, N> Connector<R, N> {
    /// A connector over `network` (a scripted network in tests, another resolver, ...).
    pub fn with_network(runtime: R, network: N) -> Self {
        Connector {
            runtime,
            network: Arc::new(network),
            settings: Arc::default(),
        }
    }

    /// Replaces every setting.
    pub fn with_settings(mut self, settings: Settings) -> Self {
        self.settings = Arc::new(settings);
        self
    }

    /// Everything this connector is configured with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Everything, to change (races already started keep the settings they started with).
    pub fn settings_mut(&mut self) -> &mut Settings {
        Arc::make_mut(&mut self.settings)
    }

    /// The connection history its races read and feed, if any.
    pub fn shared_history(&self) -> Option<&SharedHistory> {
        self.settings.history.as_ref()
    }

    /// The runtime seam.
    pub fn runtime(&self) -> &R {
        &self.runtime
    }

    /// The network.
    pub fn network(&self) -> &N {
        &self.network
    }
}

#[cfg(feature = "rustls")]
impl<R, N> Connector<R, N> {
    /// This connector with secure racing: every attempt is TCP (this connector's network),
    /// then TLS (`handshake`, configured by `config`), and a race ends when a TLS handshake
    /// is done (HEv3 §6.1). The engine is told what the TLS configuration implies
    /// ([`TlsConfig::configure`](crate::tls::TlsConfig::configure): the client's ALPN list,
    /// SVCB reliance for ECH). The adapters' `Connector::tls` is this with their handshake.
    #[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
    pub fn tls<H>(
        self,
        config: crate::tls::TlsConfig,
        handshake: H,
    ) -> Connector<R, crate::tls::Tls<N, H>> {
        let mut settings = Arc::unwrap_or_clone(self.settings);
        config.configure(&mut settings.config);
        Connector {
            runtime: self.runtime,
            network: Arc::new(crate::tls::Tls::over(self.network, handshake, config)),
            settings: Arc::new(settings),
        }
    }
}

#[cfg(feature = "quic")]
impl<R, N, H> Connector<R, crate::tls::Tls<N, H>> {
    /// This secure connector with QUIC in the race too: QUIC turned on in the engine
    /// (`Config::protocols.quic`: every address is tried over QUIC and over TCP, QUIC first,
    /// and HTTPS records' `h3` endpoints are used), QUIC attempts made with quinn (its
    /// endpoints on `runtime`) and TCP ones with this connector's TCP+TLS network, all
    /// configured by its [`TlsConfig`](crate::tls::TlsConfig). Its races return a
    /// [`Secured`](crate::tls::Secured) [`SecureConnection`](crate::quic::SecureConnection).
    /// The adapters' `Connector::quic` is this with their runtime. See [`quic`](crate::quic).
    #[cfg_attr(docsrs, doc(cfg(feature = "quic")))]
    pub fn quic(self, runtime: Arc<dyn quinn::Runtime>) -> Connector<R, crate::quic::Quic<N, H>> {
        let mut settings = Arc::unwrap_or_clone(self.settings);
        settings.config.protocols.quic = true;
        let tls = Arc::unwrap_or_clone(self.network);
        Connector {
            runtime: self.runtime,
            network: Arc::new(crate::quic::Quic::new(tls, runtime)),
            settings: Arc::new(settings),
        }
    }
}

impl<R: Runtime, N: Network<R>> Connector<R, N> {
    /// Races the target's addresses and returns the first connection; every other socket is
    /// closed. The future owns what it needs: it can be spawned. A target the network
    /// cannot make attempts for ([`Network::check`]) fails at once.
    pub fn connect<T: IntoTarget>(&self, target: T) -> Connect<R, N> {
        // Nobody reads the report: its events are not kept.
        Connect(self.race(target, false))
    }

    /// Like [`connect`](Connector::connect), with the race's report.
    pub fn connect_with_report<T: IntoTarget>(&self, target: T) -> ConnectWithReport<R, N> {
        self.race(target, true)
    }

    /// A race to `target`, its report keeping its events or not.
    fn race<T: IntoTarget>(&self, target: T, keep_events: bool) -> ConnectWithReport<R, N> {
        let started = target.into_target().and_then(|t| {
            self.network.check(&t).map_err(|why| {
                ConnectError::new(ShowTarget(&t).text(), Reason::InvalidTarget(why))
            })?;
            let (now, target) = (self.runtime.now(), t.clone());
            let session = match keep_events {
                true => Session::start(&self.settings, target, now)?,
                false => Session::start_without_events(&self.settings, target, now)?,
            };
            Ok((session, t))
        });
        let (session, target, early) = match started {
            Ok((session, target)) => (Some(session), Some(target), None),
            Err(e) => (None, None, Some(e)),
        };
        ConnectWithReport {
            runtime: self.runtime.clone(),
            network: self.network.clone(),
            settings: self.settings.clone(),
            session,
            target,
            early,
            sleep: None,
        }
    }
}

/// Writes an async adapter's `Connector` (a type of the adapter's own, wrapping the
/// driver's [`Connector`] over its runtime seam, with every builder method of
/// [`connector_builder!`](crate::connector_builder), inherent and documented) and the
/// adapter's names of the race futures (`Connect`, `ConnectWithReport`). The tokio, smol
/// and async-std adapters are each one invocation:
///
/// ```text
/// eyeballs_driver::async_connector!(TokioRuntime, "eyeballs_tokio", "tokio");
/// ```
///
/// The invoking crate must have `SystemNetwork` and the driver's exports
/// (`eyeballs_driver::exports::*`) in scope at its root, as the adapters do.
#[macro_export]
macro_rules! async_connector {
    ($runtime:ty, $krate:literal, $name:literal) => {
        #[doc = concat!("The ", $name, " connector: built once, reused for any number of races (concurrently too). Cheap to clone.")]
        ///
        /// Every engine setting has a builder method, and so do the local address per
        /// family, the socket options (`TCP_NODELAY`, keepalive, buffer sizes, the device
        /// to bind to), a hook for any other option, an observer that sees each report event
        /// as it happens, the connection history, and an absolute deadline.
        /// [`connect`](Self::connect) and [`connect_with_report`](Self::connect_with_report)
        /// return owned futures: `Send + 'static`, so they can be spawned.
        ///
        /// `N` is the network: the system resolver and TCP by default
        /// ([`with_network`](Self::with_network) for another one).
        ///
        /// ```no_run
        /// use std::time::Duration;
        #[doc = concat!("use ", $krate, "::Connector;")]
        ///
        #[doc = concat!("# async fn demo() -> Result<(), ", $krate, "::ConnectError> {")]
        /// let connector = Connector::new()
        ///     .connection_attempt_delay(Duration::from_millis(150))
        ///     .total_timeout(Duration::from_secs(10))
        ///     .tcp_nodelay(true);
        /// let a = connector.connect("example.com:443").await?;
        /// let b = connector.connect(("example.net", 443)).await?;
        /// let (c, report) = connector.connect_with_report(["192.0.2.1:443".parse().unwrap()]).await;
        /// println!("{report}");
        /// # drop((a, b, c)); Ok(()) }
        /// ```
        pub struct Connector<N = SystemNetwork> {
            inner: $crate::Connector<$runtime, N>,
        }

        impl<N> ::std::clone::Clone for Connector<N> {
            fn clone(&self) -> Self {
                Connector {
                    inner: self.inner.clone(),
                }
            }
        }

        impl<N> ::std::fmt::Debug for Connector<N> {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Debug::fmt(&self.inner, f)
            }
        }

        impl Connector {
            /// A connector with RFC 8305's defaults, the system resolver and TCP.
            pub fn new() -> Self {
                Connector::with_network(SystemNetwork)
            }
        }

        impl ::std::default::Default for Connector {
            fn default() -> Self {
                Connector::new()
            }
        }

        impl<N> Connector<N> {
            /// A connector over `network`: another resolver (the tokio adapter's
            /// `hickory::HickoryNetwork`), or a scripted network in tests.
            pub fn with_network(network: N) -> Self {
                Connector {
                    inner: $crate::Connector::with_network(<$runtime>::default(), network),
                }
            }

            /// Replaces every setting (settings made once, for several connectors).
            pub fn with_settings(mut self, settings: $crate::Settings) -> Self {
                self.inner = self.inner.with_settings(settings);
                self
            }

            /// Everything this connector is configured with.
            pub fn settings(&self) -> &$crate::Settings {
                self.inner.settings()
            }

            /// Everything, to change (races already started keep the settings they started
            /// with).
            pub fn settings_mut(&mut self) -> &mut $crate::Settings {
                self.inner.settings_mut()
            }

            /// The connection history its races read and feed, if any (set with
            /// [`history`](Self::history)).
            pub fn shared_history(&self) -> ::std::option::Option<&$crate::SharedHistory> {
                self.inner.shared_history()
            }

            /// The network.
            pub fn network(&self) -> &N {
                self.inner.network()
            }

            /// The driver's connector inside (for code generic over runtimes).
            pub fn as_driver(&self) -> &$crate::Connector<$runtime, N> {
                &self.inner
            }

            /// The driver's connector inside, to own (to wrap its network: `tls`).
            pub fn into_driver(self) -> $crate::Connector<$runtime, N> {
                self.inner
            }

            $crate::connector_builder!(settings_mut, $krate, concat!($krate, "::Connector::new()"), ".settings()");
        }

        impl<N: $crate::Network<$runtime>> Connector<N> {
            /// Races the target's addresses (`"host:port"`, `(host, port)`, a `SocketAddr`
            /// or a list of them) and returns the first connection; every other socket is
            /// closed. The future owns what it needs: spawn it, or drop the connector
            /// while it runs. Dropping the future closes every socket it opened.
            pub fn connect<T: $crate::IntoTarget>(&self, target: T) -> Connect<N> {
                self.inner.connect(target)
            }

            /// Like [`connect`](Self::connect), with the race's report (every query,
            /// answer, attempt and result, with its time).
            pub fn connect_with_report<T: $crate::IntoTarget>(
                &self,
                target: T,
            ) -> ConnectWithReport<N> {
                self.inner.connect_with_report(target)
            }
        }

        impl<N> ::std::convert::From<$crate::Connector<$runtime, N>> for Connector<N> {
            fn from(inner: $crate::Connector<$runtime, N>) -> Self {
                Connector { inner }
            }
        }

        #[doc = concat!("The future of [`Connector::connect`]: one race, resolving to the stream or the [`ConnectError`] listing every attempt. `Send + 'static`: it can be spawned. Dropping it closes every socket it opened.")]
        ///
        /// ```no_run
        #[doc = concat!("# async fn demo() -> Result<(), ", $krate, "::ConnectError> {")]
        #[doc = concat!("let race: ", $krate, "::Connect = ", $krate, "::Connector::new().connect(\"example.com:443\");")]
        /// let stream = race.await?;
        /// # drop(stream); Ok(()) }
        /// ```
        pub type Connect<N = SystemNetwork> = $crate::Connect<$runtime, N>;

        #[doc = concat!("The future of [`Connector::connect_with_report`]: one race, resolving to its result and its [`RaceReport`]. `Send + 'static`: it can be spawned. Dropping it closes every socket it opened.")]
        ///
        /// ```no_run
        #[doc = concat!("# async fn demo() -> Result<(), ", $krate, "::ConnectError> {")]
        #[doc = concat!("let race: ", $krate, "::ConnectWithReport = ", $krate, "::Connector::new().connect_with_report(\"example.com:443\");")]
        /// let (result, report) = race.await;
        /// println!("{report}");
        /// let stream = result?;
        /// # drop(stream); Ok(()) }
        /// ```
        pub type ConnectWithReport<N = SystemNetwork> = $crate::ConnectWithReport<$runtime, N>;
    };
}
