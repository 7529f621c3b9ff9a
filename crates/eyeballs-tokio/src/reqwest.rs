//! A DNS resolver for reqwest that hands it the addresses in Happy Eyeballs order.
//!
//! reqwest (0.12) cannot be given another connector: `ClientBuilder::connector_layer` wraps
//! its own connector (a layer must serve reqwest's private connection type), and that
//! connector is hyper-util's `HttpConnector`. The seam reqwest offers is its resolver,
//! `ClientBuilder::dns_resolver`, and [`Resolver`] fills it:
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! use eyeballs_tokio::reqwest::Resolver;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let client = reqwest::Client::builder()
//!     .dns_resolver(Arc::new(Resolver::new()))
//!     // A hanging address holds up the next one of its family until this (divided by
//!     // the number of addresses of that family) passes: set it.
//!     .connect_timeout(Duration::from_secs(5))
//!     .build()?;
//! let body = client.get("http://example.com/").send().await?.text().await?;
//! # drop(body); Ok(()) }
//! ```
//!
//! ## What the resolver does
//!
//! Everything the engine does before its first connection attempt, as the adapters' races do
//! it:
//!
//! - AAAA and A are asked concurrently (with the system resolver: two `getaddrinfo` calls on
//!   tokio's blocking pool, one family each; `localhost` names are answered with `::1` and
//!   `127.0.0.1` without asking anyone, RFC 6761 §6.3), or through any other
//!   [`Network`] ([`Resolver::with_network`]: hickory, a scripted network in tests).
//! - The Resolution Delay (RFC 8305 §3): when A answers first, AAAA is waited for up to the
//!   delay (50 ms by default).
//! - The addresses are sorted by RFC 6724 and interleaved by family (RFC 8305 §4; the First
//!   Address Family Count, the preferred family and every other setting of the engine's
//!   [`Config`] apply, the destination filter too: with [`eyeballs::GlobalOnly`] private
//!   addresses are left out, and reqwest gets an error when nothing is left).
//! - A connection history ([`Resolver::history`]) sorts a destination whose path it marks
//!   broken after the others (RFC 6724 rule 1): a known-broken family goes last, and its
//!   smoothed RTTs order the destinations of a family.
//!
//! The order is the engine's own: the resolver runs a race without connecting anything and
//! takes the order in which the race starts its attempts (each is ended at once as failed, so
//! the next starts at once; the race is discarded, nothing is learned from it).
//!
//! **When it returns.** As soon as every AAAA and A query has answered, or once the
//! Resolution Delay has passed since the first address arrived and the engine has an attempt
//! to start, whichever is first. Unlike the engine, which starts with IPv6 at once when AAAA
//! answers first and sorts a late A answer in when it comes, the resolver returns only once,
//! so it waits for the other family too, for at most the Resolution Delay: an answer later
//! than that is left out (its addresses are not handed to reqwest). The default is 50 ms; a
//! longer delay ([`Resolver::resolution_delay`], up to 2 s) waits longer for the late family.
//!
//! The addresses are handed over with port 0, which reqwest replaces with the URL's port (or
//! the scheme's default). A name with no usable address is a [`ResolveError`] (its
//! `io::ErrorKind` is `NotFound` for a name DNS does not know), which reqwest reports as a
//! connect error whose source chain includes it.
//!
//! ## What a reqwest user then gets
//!
//! reqwest hands the list to hyper-util's `HttpConnector`, with its default Happy Eyeballs
//! timeout of 300 ms (reqwest does not change it). hyper-util splits the list by the family
//! of the **first** address: that family's addresses are tried one after another in the
//! list's order, each until it connects or fails (or until reqwest's `connect_timeout`
//! divided by the number of that family's addresses; without a `connect_timeout`, the
//! system's own connect timeout, minutes); the other family's addresses start the same way
//! 300 ms after the first attempt, or at once when every address of the first family has
//! failed; the first connection wins. So with this resolver:
//!
//! - the family tried first is the engine's choice (RFC 6724, the preferred family, the
//!   history), and each family's addresses come in the engine's order;
//! - the interleaving beyond the first address, the Connection Attempt Delay (250 ms, or
//!   the one the history's RTT gives) and the attempt timeout are hyper-util's to apply, and
//!   it does not: its fixed 300 ms and serial attempts within a family apply instead;
//! - nothing is learned: reqwest does not tell its resolver which address connected or
//!   failed, so a history given to the resolver is read, never fed. Feed it from races of an
//!   eyeballs [`Connector`](crate::Connector) that share it, or load it from a file
//!   (`SharedHistory::load_file`, feature `serde`);
//! - no race report, and no observer;
//! - URLs whose host is an IP address, and names given to `ClientBuilder::resolve`, never
//!   reach the resolver;
//! - reqwest's `local_address` keeps hyper-util to that address's family.
//!
//! What hyper-util's `Client` with this crate's `HttpConnector` (feature `hyper`) gets
//! instead: the whole race. Every address is raced with the Connection Attempt Delay and
//! family interleaving, attempts of one family overlap (a hanging address delays the next
//! by 250 ms, not by a connect timeout), late DNS answers join the race, the losers are
//! closed the moment one connects, the history is read and fed by every race, and the
//! connector's observer sees each race. Prefer it where the choice of HTTP client is yours.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant as StdInstant};

use eyeballs::{
    AttemptState, Config, DnsAnswer, DnsFailure, FailReason, PathInfo, PathInfoProvider, QueryId,
    RaceResult, Skipped, Target,
};
use eyeballs_driver::{
    BoxFuture, ConnectError, Network, Reason, Request, Runtime, Session, Settings, SharedHistory,
    SystemNetwork,
};

use crate::TokioRuntime;

/// The port the engine's race is given: the engine needs one, reqwest does not give one to
/// its resolver, and the addresses are handed over with port 0 (reqwest puts the URL's).
const RACE_PORT: u16 = 443;

/// A `reqwest::dns::Resolve` that resolves a name as the engine does before its first
/// connection attempt and hands reqwest the addresses in the engine's order (see the
/// [module documentation](self) for what reqwest then does with them).
///
/// Cheap to clone; the network and the history are shared by clones.
///
/// ```no_run
/// use std::sync::Arc;
/// use eyeballs_tokio::reqwest::Resolver;
/// use eyeballs_tokio::{HistoryConfig, NetworkId, SharedHistory};
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let history = SharedHistory::new(HistoryConfig::default(), NetworkId(1));
/// let resolver = Resolver::new().history(history.clone());
/// let client = reqwest::Client::builder().dns_resolver(Arc::new(resolver)).build()?;
/// let response = client.get("http://example.com/").send().await?;
/// println!("{} from {:?}", response.status(), response.remote_addr());
/// # Ok(()) }
/// ```
pub struct Resolver<N = SystemNetwork> {
    network: Arc<N>,
    config: Config,
    history: Option<SharedHistory>,
}

impl<N> Clone for Resolver<N> {
    fn clone(&self) -> Self {
        Resolver {
            network: self.network.clone(),
            config: self.config.clone(),
            history: self.history.clone(),
        }
    }
}

impl<N> fmt::Debug for Resolver<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field("config", &self.config)
            .field("history", &self.history)
            .finish_non_exhaustive()
    }
}

impl Resolver<SystemNetwork> {
    /// A resolver with RFC 8305's defaults and the system resolver.
    ///
    /// ```
    /// let resolver = eyeballs_tokio::reqwest::Resolver::new();
    /// # drop(resolver);
    /// ```
    pub fn new() -> Self {
        Resolver::with_network(SystemNetwork)
    }
}

impl Default for Resolver<SystemNetwork> {
    fn default() -> Self {
        Resolver::new()
    }
}

impl<N> Resolver<N> {
    /// A resolver asking `network` for AAAA and A (`hickory::HickoryNetwork` with the
    /// `hickory` feature; a scripted network in tests). Only the network's
    /// [`resolve`](Network::resolve) is used.
    ///
    /// ```
    /// use eyeballs_tokio::SystemNetwork;
    /// use eyeballs_tokio::reqwest::Resolver;
    ///
    /// let resolver = Resolver::with_network(SystemNetwork);
    /// # drop(resolver);
    /// ```
    pub fn with_network(network: N) -> Self {
        Resolver {
            network: Arc::new(network),
            config: Config::default(),
            history: None,
        }
    }

    /// Replaces the engine configuration. Checked when a name is resolved: an invalid
    /// configuration, or one asking for what reqwest cannot use (`query_https`,
    /// `svcb_reliant`, no TCP in `protocols`), makes every resolution fail with a
    /// [`ResolveError`] naming the setting.
    ///
    /// ```
    /// use eyeballs_tokio::reqwest::Resolver;
    ///
    /// let mut config = eyeballs::Config::default();
    /// config.prefer_family = eyeballs::Family::V4;
    /// let resolver = Resolver::new().config(config);
    /// # drop(resolver);
    /// ```
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// The engine configuration, to change.
    ///
    /// ```
    /// use eyeballs_tokio::reqwest::Resolver;
    ///
    /// let mut resolver = Resolver::new();
    /// resolver.config_mut().destination_filter = Some(std::sync::Arc::new(eyeballs::GlobalOnly));
    /// ```
    pub fn config_mut(&mut self) -> &mut Config {
        &mut self.config
    }

    /// The Resolution Delay (RFC 8305 §3; default 50 ms, at most
    /// [`MAX_RESOLUTION_DELAY`](eyeballs::MAX_RESOLUTION_DELAY)): how long the resolver
    /// waits for AAAA after A has answered, and here also for A after AAAA has answered,
    /// before handing reqwest what it has.
    ///
    /// ```
    /// use std::time::Duration;
    /// use eyeballs_tokio::reqwest::Resolver;
    ///
    /// let resolver = Resolver::new().resolution_delay(Duration::from_millis(100));
    /// # drop(resolver);
    /// ```
    pub fn resolution_delay(mut self, delay: Duration) -> Self {
        self.config.resolution_delay = delay;
        self
    }

    /// Sorts the addresses with what `history` knows about them on its current network (a
    /// destination marked broken goes after the others). The history is read, never fed:
    /// reqwest does not say which address connected. It takes the place of
    /// [`Config::path_info`]: a resolver given both fails every resolution with a
    /// [`ResolveError`] saying so.
    ///
    /// ```
    /// use eyeballs_tokio::reqwest::Resolver;
    /// use eyeballs_tokio::{HistoryConfig, NetworkId, SharedHistory};
    ///
    /// let history = SharedHistory::new(HistoryConfig::default(), NetworkId(1));
    /// let resolver = Resolver::new().history(history);
    /// assert!(resolver.shared_history().is_some());
    /// ```
    pub fn history(mut self, history: SharedHistory) -> Self {
        self.history = Some(history);
        self
    }

    /// The history the resolver reads, if any.
    ///
    /// ```
    /// assert!(eyeballs_tokio::reqwest::Resolver::new().shared_history().is_none());
    /// ```
    pub fn shared_history(&self) -> Option<&SharedHistory> {
        self.history.as_ref()
    }

    /// The network.
    ///
    /// ```
    /// let resolver = eyeballs_tokio::reqwest::Resolver::new();
    /// let _: &eyeballs_tokio::SystemNetwork = resolver.network();
    /// ```
    pub fn network(&self) -> &N {
        &self.network
    }

    /// The configuration a race runs with: the resolver's, checked for what reqwest can use,
    /// with the history as the `path_info` provider.
    fn race_config(&self) -> Result<Config, ResolveFailure> {
        let unsupported = |setting, why| Err(ResolveFailure::Unsupported { setting, why });
        let config = &self.config;
        if config.query_https {
            return unsupported(
                "query_https",
                "reqwest cannot use what an HTTPS record offers (ALPN, ECH, another port)",
            );
        }
        if config.svcb_reliant {
            return unsupported(
                "svcb_reliant",
                "reqwest cannot use what an HTTPS record offers (ALPN, ECH, another port)",
            );
        }
        if !config.protocols.tcp {
            return unsupported("protocols", "reqwest connects over TCP");
        }
        let mut config = config.clone();
        if let Some(history) = &self.history {
            if config.path_info.is_some() {
                return unsupported(
                    "path_info",
                    "a Resolver takes a history or a path_info provider, not both",
                );
            }
            config.path_info = Some(Arc::new(HistoryPaths(history.clone())));
        }
        Ok(config)
    }
}

impl<N: Network<TokioRuntime>> Resolver<N> {
    /// Resolves `name` as the engine does before its first attempt: the addresses in the
    /// order the engine would attempt them (see the [module documentation](self) for when
    /// it returns and what it leaves out). The future owns what it needs; it must run on a
    /// tokio runtime (with the time driver enabled).
    ///
    /// ```
    /// use std::net::IpAddr;
    /// use std::time::Duration;
    /// use eyeballs_tokio::reqwest::Resolver;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), eyeballs_tokio::reqwest::ResolveError> {
    /// // `localhost` resolves without DNS (RFC 6761 §6.3): IPv6 first, then IPv4. (Both
    /// // answers are waited for up to the Resolution Delay after the first one; a longer
    /// // one here, for a machine busy enough to run the second lookup late.)
    /// let resolver = Resolver::new().resolution_delay(Duration::from_secs(2));
    /// let addrs = resolver.lookup("localhost").await?;
    /// let expected: [IpAddr; 2] = ["::1".parse().unwrap(), "127.0.0.1".parse().unwrap()];
    /// assert_eq!(addrs, expected);
    /// # Ok(()) }
    /// ```
    pub fn lookup(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Vec<IpAddr>, ResolveError>> + Send + 'static {
        let name = name.to_string();
        let refused = |failure| {
            (
                failure,
                (io::ErrorKind::InvalidInput, Vec::new(), Vec::new()),
            )
        };
        let start = self.race_config().map_err(refused).and_then(|config| {
            let settings = Settings {
                config,
                ..Settings::default()
            };
            let target = Target::host(&name, RACE_PORT);
            let runtime = TokioRuntime;
            Session::start(&settings, target, runtime.now())
                .map(|session| Lookup {
                    runtime,
                    network: self.network.clone(),
                    resolution_delay: settings.config.resolution_delay,
                    session,
                    address_queries: Vec::new(),
                    first_address: None,
                    sleep: None,
                })
                .map_err(|e| ResolveFailure::Race(e.reason().clone()).with(&e))
        });
        async move {
            let mut lookup = start
                .map_err(|(failure, details)| ResolveError::new(name.clone(), failure, details))?;
            std::future::poll_fn(|cx| lookup.poll(cx)).await;
            lookup.finish(name)
        }
    }
}

impl<N: Network<TokioRuntime>> ::reqwest::dns::Resolve for Resolver<N> {
    /// [`lookup`](Resolver::lookup), the addresses with port 0 (reqwest puts the URL's).
    fn resolve(&self, name: ::reqwest::dns::Name) -> ::reqwest::dns::Resolving {
        let lookup = self.lookup(name.as_str());
        Box::pin(async move {
            let addrs = lookup.await?;
            let addrs: ::reqwest::dns::Addrs =
                Box::new(addrs.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// A history as the engine's `path_info` provider: what it says now about each destination
/// on its current network.
struct HistoryPaths(SharedHistory);

impl PathInfoProvider for HistoryPaths {
    fn path_info(&self, destination: IpAddr) -> PathInfo {
        self.0.path_info(destination)
    }
}

/// One resolution: a race whose attempts are never made, driven until the resolver returns.
struct Lookup<N> {
    runtime: TokioRuntime,
    network: Arc<N>,
    resolution_delay: Duration,
    session: Session<(), BoxFuture<DnsAnswer>, ()>,
    /// The AAAA and A queries asked so far.
    address_queries: Vec<QueryId>,
    /// When the first answer with addresses arrived.
    first_address: Option<StdInstant>,
    sleep: Option<(StdInstant, BoxFuture<()>)>,
}

impl<N: Network<TokioRuntime>> Lookup<N> {
    /// Starts the queries the race asks for; takes note of the attempts it starts (nothing
    /// is connected: an attempt only says where the engine would connect, and when).
    fn start_requests(&mut self) {
        while let Some(request) = self.session.poll_request() {
            match request {
                Request::Resolve { id, name, record } => {
                    self.address_queries.push(id);
                    let query = self.network.resolve(&self.runtime, &name, record);
                    self.session.add_query(id, query);
                }
                Request::Attempt(attempt) => self.session.add_attempt(attempt.id, ()),
            }
        }
    }

    /// Once the race has an attempt to start while an address query is still open: until
    /// when that query is waited for (the Resolution Delay after the first address).
    fn wait_until(&self) -> Option<StdInstant> {
        let started = !self.session.race().attempts().is_empty();
        let open = self
            .address_queries
            .iter()
            .any(|id| self.session.query_open(*id));
        match (started, open) {
            (true, true) => self
                .first_address
                .map(|at| at.checked_add(self.resolution_delay).unwrap_or(at)),
            _ => None,
        }
    }

    /// Whether the resolver returns now: the race ended, or it has an attempt to start and
    /// nothing is left to wait for.
    fn settled(&self, now: StdInstant) -> bool {
        if self.session.is_finished() {
            return true;
        }
        if self.session.race().attempts().is_empty() {
            return false;
        }
        self.wait_until().is_none_or(|until| until <= now)
    }

    /// Advances the race until it is settled. Of several things ready at once, answers go
    /// first (in query order), then the end of the wait, then the engine's timers: an
    /// answer that arrives as the wait ends is taken, as the driver's loop takes an answer
    /// before a timer due at the same time.
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            self.start_requests();
            if self.session.is_finished() {
                return Poll::Ready(());
            }
            let now = self.runtime.now();
            let answer =
                self.session
                    .queries_mut()
                    .find_map(|(id, query)| match query.as_mut().poll(cx) {
                        Poll::Ready(answer) => Some((id, answer)),
                        Poll::Pending => None,
                    });
            if let Some((id, answer)) = answer {
                if matches!(&answer, DnsAnswer::Addresses(a) if !a.is_empty()) {
                    self.first_address.get_or_insert(now);
                }
                self.session.handle_dns(now, id, answer);
                continue;
            }
            if self.settled(now) {
                return Poll::Ready(());
            }
            let deadline = match (self.session.poll_timeout(), self.wait_until()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            match deadline {
                None => {
                    self.sleep = None;
                    return Poll::Pending;
                }
                Some(deadline) if deadline <= now => {
                    self.sleep = None;
                    self.session.handle_timeout(now);
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
                    self.sleep = None;
                }
            }
        }
    }

    /// The addresses in the engine's order, or why there are none. Every attempt in flight
    /// is ended as failed, in start order: the failure of the most recent one starts the
    /// next at once, until every address known has had its turn.
    fn finish(mut self, name: String) -> Result<Vec<IpAddr>, ResolveError> {
        if self.session.race().attempts().is_empty() {
            let (result, _) = self.session.finish();
            let (failure, details) = match result {
                Err(e) => ResolveFailure::Race(e.reason().clone()).with(&e),
                // A race without attempts has no winner; were it otherwise, it would still
                // have no address to give.
                Ok(()) => (
                    ResolveFailure::Race(Reason::Race(RaceResult::Failed(FailReason::NoAddresses))),
                    (io::ErrorKind::NotFound, Vec::new(), Vec::new()),
                ),
            };
            return Err(ResolveError::new(name, failure, details));
        }
        let now = self.runtime.now();
        let mut next = 0;
        while let Some(attempt) = self.session.race().attempts().get(next) {
            if matches!(attempt.state, AttemptState::InFlight) {
                let id = attempt.id;
                let error = io::Error::other("not connected: the resolver only orders addresses");
                self.session.handle_failed(now, id, error);
                self.start_requests();
            }
            next += 1;
        }
        let mut ips: Vec<IpAddr> = Vec::new();
        for attempt in self.session.race().attempts() {
            let ip = attempt.addr.ip();
            if !ips.contains(&ip) {
                ips.push(ip);
            }
        }
        Ok(ips)
    }
}

/// Why a name gave reqwest no address.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResolveFailure {
    /// The configuration asks for something reqwest cannot use.
    Unsupported {
        /// The [`Config`] field (or `path_info` with a history).
        setting: &'static str,
        /// Why.
        why: &'static str,
    },
    /// The engine refused to start (a bad name or configuration) or its race ended without
    /// an address to attempt (DNS had none, every address was left out, the total timeout
    /// passed), as the driver says it.
    Race(Reason),
}

/// What a [`ConnectError`] says beyond its reason: its kind, the DNS failures and the
/// endpoints left out.
type Details = (io::ErrorKind, Vec<DnsFailure>, Vec<Skipped>);

impl ResolveFailure {
    fn with(self, e: &ConnectError) -> (ResolveFailure, Details) {
        let skipped = e
            .skipped()
            .iter()
            .map(|s| {
                let mut s = *s;
                s.addr.set_port(0);
                s
            })
            .collect();
        (self, (e.kind(), e.dns_errors().to_vec(), skipped))
    }
}

impl fmt::Display for ResolveFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveFailure::Unsupported { setting, why } => {
                write!(f, "the resolver cannot use `{setting}`: {why}")
            }
            ResolveFailure::Race(reason) => reason.fmt(f),
        }
    }
}

/// A name that gave reqwest no address: the name, why, the DNS failures and the addresses
/// left out. reqwest reports it as a connect error whose source chain includes it; it
/// converts into an `io::Error` of the same [`kind`](ResolveError::kind).
///
/// ```
/// use eyeballs_tokio::reqwest::{ResolveError, ResolveFailure, Resolver};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut resolver = Resolver::new();
/// resolver.config_mut().query_https = true;
/// let e: ResolveError = resolver.lookup("localhost").await.unwrap_err();
/// assert!(matches!(e.failure(), ResolveFailure::Unsupported { setting: "query_https", .. }));
/// assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
/// assert!(e.to_string().starts_with("resolving localhost failed: the resolver cannot use `query_https`"));
/// # }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ResolveError {
    inner: Box<Inner>,
}

#[derive(Clone, PartialEq, Eq)]
struct Inner {
    name: String,
    failure: ResolveFailure,
    kind: io::ErrorKind,
    dns: Vec<DnsFailure>,
    skipped: Vec<Skipped>,
}

impl ResolveError {
    fn new(name: String, failure: ResolveFailure, details: Details) -> ResolveError {
        let (kind, dns, skipped) = details;
        ResolveError {
            inner: Box::new(Inner {
                name,
                failure,
                kind,
                dns,
                skipped,
            }),
        }
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Why it gave no address.
    pub fn failure(&self) -> &ResolveFailure {
        &self.inner.failure
    }

    /// The `io::ErrorKind` it converts to: `NotFound` when DNS had no address (`TimedOut`
    /// when a query timed out), `PermissionDenied` when the destination filter refused
    /// every address, `InvalidInput` for a bad name or configuration, as
    /// [`ConnectError::kind`] says.
    pub fn kind(&self) -> io::ErrorKind {
        self.inner.kind
    }

    /// Every DNS query that produced no records.
    pub fn dns_errors(&self) -> &[DnsFailure] {
        &self.inner.dns
    }

    /// Every address left out, and why (with port 0).
    pub fn skipped(&self) -> &[Skipped] {
        &self.inner.skipped
    }
}

impl fmt::Display for ResolveError {
    /// `resolving example.invalid failed: no address could be attempted: AAAA
    /// example.invalid: no such name (NXDOMAIN); A example.invalid: ...`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        write!(f, "resolving {} failed: {}", inner.name, inner.failure)?;
        let mut sep = ": ";
        for s in &inner.skipped {
            write!(f, "{sep}{} left out: {}", s.addr.ip(), s.reason)?;
            sep = "; ";
        }
        for d in &inner.dns {
            write!(f, "{sep}{d}")?;
            sep = "; ";
        }
        Ok(())
    }
}

impl fmt::Debug for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("ResolveError")
            .field("name", &inner.name)
            .field("failure", &inner.failure)
            .field("kind", &inner.kind)
            .field("dns_errors", &inner.dns)
            .field("skipped", &inner.skipped)
            .finish()
    }
}

impl std::error::Error for ResolveError {}

impl From<ResolveError> for io::Error {
    fn from(e: ResolveError) -> io::Error {
        io::Error::new(e.kind(), e)
    }
}
