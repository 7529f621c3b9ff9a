//! The async loop shared by the tokio, smol and async-std adapters, and the [`Connector`].

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant as StdInstant;

use eyeballs::{DnsAnswer, RaceResult};

use crate::error::{ConnectError, Reason};
use crate::history::SharedHistory;
use crate::report::RaceReport;
use crate::runtime::{BoxFuture, Network, Runtime, SystemNetwork};
use crate::session::{Request, Session};
use crate::settings::{Configure, Settings, SocketConfig};
use crate::target::IntoTarget;

type AsyncSession<S> = Session<BoxFuture<io::Result<S>>, BoxFuture<DnsAnswer>, S>;

/// The future of [`Connector::connect_with_report`]: one race, resolving to its result (the
/// stream, or the error listing every attempt) and its [`RaceReport`]. Dropping it mid-race
/// closes every socket it opened (the observer sees the attempts cancelled).
#[must_use = "a race does nothing unless awaited"]
pub struct ConnectWithReport<'a, R: Runtime, N: Network<R>> {
    runtime: &'a R,
    network: &'a N,
    sockets: &'a SocketConfig,
    session: Option<AsyncSession<N::Stream>>,
    early: Option<ConnectError>,
    sleep: Option<(StdInstant, BoxFuture<()>)>,
}

impl<R: Runtime, N: Network<R>> ConnectWithReport<'_, R, N> {
    /// Starts the I/O the session asks for.
    fn start_requests(&mut self) {
        let Some(session) = self.session.as_mut() else {
            return;
        };
        while let Some(request) = session.poll_request() {
            match request {
                Request::Resolve { id, name, record } => {
                    let query = self.network.resolve(self.runtime, &name, record);
                    session.add_query(id, query);
                }
                Request::Attempt(attempt) => {
                    let connect = self.network.connect(self.runtime, &attempt, self.sockets);
                    session.add_attempt(attempt.id, connect);
                }
            }
        }
    }

    /// Advances the race as far as it goes without waiting. Of several things ready at
    /// the same time, DNS answers go first (in query order), then attempt results (in start
    /// order), then the engine's timers: the simulator's order.
    fn advance(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            self.start_requests();
            let Some(session) = self.session.as_mut() else {
                return Poll::Ready(());
            };
            if session.is_finished() {
                return Poll::Ready(());
            }
            let now = self.runtime.now();
            let answer =
                session
                    .queries_mut()
                    .find_map(|(id, query)| match query.as_mut().poll(cx) {
                        Poll::Ready(answer) => Some((id, answer)),
                        Poll::Pending => None,
                    });
            if let Some((id, answer)) = answer {
                session.handle_dns(now, id, answer);
                continue;
            }
            let result =
                session
                    .attempts_mut()
                    .find_map(|(id, connect)| match connect.as_mut().poll(cx) {
                        Poll::Ready(result) => Some((id, result)),
                        Poll::Pending => None,
                    });
            if let Some((id, result)) = result {
                match result {
                    Ok(stream) => session.handle_connected(now, id, stream),
                    Err(e) => session.handle_failed(now, id, e),
                }
                continue;
            }
            match session.poll_timeout() {
                None => {
                    self.sleep = None;
                    return Poll::Pending;
                }
                Some(deadline) if deadline <= now => {
                    self.sleep = None;
                    session.handle_timeout(now);
                }
                Some(deadline) => {
                    let sleep = match &mut self.sleep {
                        Some((at, sleep)) if *at == deadline => sleep,
                        slot => {
                            &mut slot
                                .insert((deadline, self.runtime.sleep_until(deadline)))
                                .1
                        }
                    };
                    if sleep.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    // Woken: read the clock again.
                    self.sleep = None;
                }
            }
        }
    }
}

// Nothing in `ConnectWithReport` is pinned in place: every future it polls is boxed.
impl<R: Runtime, N: Network<R>> Unpin for ConnectWithReport<'_, R, N> {}

impl<R: Runtime, N: Network<R>> Future for ConnectWithReport<'_, R, N> {
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

impl<R: Runtime, N: Network<R>> Drop for ConnectWithReport<'_, R, N> {
    fn drop(&mut self) {
        if let Some(session) = self.session.as_mut() {
            session.cancel(self.runtime.now());
        }
    }
}

/// The future of [`Connector::connect`]: one race, resolving to the stream (or the error
/// listing every attempt); [`ConnectWithReport`] without the report.
#[must_use = "a race does nothing unless awaited"]
pub struct Connect<'a, R: Runtime, N: Network<R>>(ConnectWithReport<'a, R, N>);

impl<R: Runtime, N: Network<R>> Future for Connect<'_, R, N> {
    type Output = Result<N::Stream, ConnectError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map(|(result, _)| result)
    }
}

/// A Happy Eyeballs connector: built once, reused for any number of races (concurrently
/// too). Cheap to clone.
///
/// `R` is the runtime seam (each adapter provides one and names this type
/// `eyeballs_<runtime>::Connector`), `N` the network (the system resolver and TCP by default).
///
/// Every engine setting is here (the builder methods of [`Configure`], or
/// [`Configure::config_mut`] for the whole [`eyeballs::Config`]), plus local addresses per
/// family, a socket-options hook, an observer that receives each report event as it
/// happens, and a connection history ([`Configure::history`]) shared by every race of this
/// connector, its clones, and any other connector given the same [`SharedHistory`].
pub struct Connector<R, N = SystemNetwork> {
    runtime: R,
    network: Arc<N>,
    settings: Settings,
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

impl<R, N> Configure for Connector<R, N> {
    fn settings_mut(&mut self) -> &mut Settings {
        &mut self.settings
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

impl<R: Runtime, N: Network<R>> Connector<R, N> {
    /// A connector over `network` (a scripted network in tests, another resolver, ...).
    pub fn with_network(runtime: R, network: N) -> Self {
        Connector {
            runtime,
            network: Arc::new(network),
            settings: Settings::default(),
        }
    }

    /// Everything this connector is configured with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The connection history its races read and feed, if any (set with
    /// [`Configure::history`]).
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

    /// Races the target's addresses and returns the first connection; every other socket is
    /// closed.
    pub fn connect<T: IntoTarget>(&self, target: T) -> Connect<'_, R, N> {
        Connect(self.connect_with_report(target))
    }

    /// Like [`connect`](Connector::connect), with the race's report.
    pub fn connect_with_report<T: IntoTarget>(&self, target: T) -> ConnectWithReport<'_, R, N> {
        let (session, early) = match target
            .into_target()
            .and_then(|t| Session::start(&self.settings, t, self.runtime.now()))
        {
            Ok(session) => (Some(session), None),
            Err(e) => (None, Some(e)),
        };
        ConnectWithReport {
            runtime: &self.runtime,
            network: &self.network,
            sockets: &self.settings.socket,
            session,
            early,
            sleep: None,
        }
    }
}
