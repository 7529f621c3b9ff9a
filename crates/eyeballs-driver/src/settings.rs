//! What a connector is configured with: the engine's [`Config`], local addresses, socket
//! options, the socket-options hook, the report observer, the connection history and the
//! deadline; and the builder methods every connector has, written once
//! ([`connector_builder!`](crate::connector_builder)).

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant as StdInstant};

use eyeballs::trace::TimedEvent;
use eyeballs::{Config, Connectivity, Family};

use crate::error::ConnectError;
use crate::history::SharedHistory;

/// Runs on every attempt's socket after it is created, bound and given the configured
/// options, before `connect` (Go's `Dialer.Control`): for what the builder methods do not
/// set (`SO_MARK`, `IP_TOS`, ...). An error fails that attempt with the error.
///
/// ```
/// use std::sync::Arc;
/// use eyeballs_driver::{Settings, SocketHook};
///
/// let hook: SocketHook = Arc::new(|socket, _peer| socket.set_reuse_address(true));
/// let settings = Settings { socket: eyeballs_driver::SocketConfig { hook: Some(hook), ..Default::default() }, ..Settings::default() };
/// # let _ = settings;
/// ```
pub type SocketHook = Arc<dyn Fn(&socket2::Socket, SocketAddr) -> io::Result<()> + Send + Sync>;

/// Receives every report event as it happens (for live timelines and logging).
///
/// ```
/// use std::sync::Arc;
/// use eyeballs_driver::{Observer, Settings};
///
/// let observer: Observer = Arc::new(|event| println!("{event}"));
/// let settings = Settings { observer: Some(observer), ..Settings::default() };
/// # let _ = settings;
/// ```
pub type Observer = Arc<dyn Fn(&TimedEvent) + Send + Sync>;

/// TCP keepalive for attempt sockets (`SO_KEEPALIVE` and its parameters; socket2's
/// `TcpKeepalive`). A field left `None` keeps the system's default; with any of them set,
/// keepalive is turned on.
///
/// `interval` and `retries` exist on Linux, Android, the BSDs, Apple's systems, illumos,
/// Fuchsia and (`interval` only) Windows; elsewhere an attempt whose settings ask for them
/// fails with `io::ErrorKind::Unsupported`, naming the option.
///
/// ```
/// use std::time::Duration;
/// use eyeballs_driver::{Keepalive, Settings};
///
/// let settings = Settings::default()
///     .tcp_keepalive(Duration::from_secs(60))
///     .tcp_keepalive_interval(Duration::from_secs(10));
/// assert_eq!(
///     settings.socket.keepalive,
///     Some(Keepalive { time: Some(Duration::from_secs(60)), interval: Some(Duration::from_secs(10)), retries: None })
/// );
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Keepalive {
    /// Idle time before the first probe (`TCP_KEEPIDLE`; `TCP_KEEPALIVE` on Apple's systems).
    pub time: Option<Duration>,
    /// Time between probes (`TCP_KEEPINTVL`).
    pub interval: Option<Duration>,
    /// Unanswered probes before the connection is dropped (`TCP_KEEPCNT`).
    pub retries: Option<u32>,
}

/// How attempt sockets are prepared: the local address per family, the options set on
/// every attempt's socket before it connects (in this order: device, local address,
/// options, then the hook), and the hook.
///
/// The builder methods of a connector (or of [`Settings`]) set these; the fields are
/// public for code that builds settings by hand.
///
/// ```
/// use eyeballs_driver::{Settings, SocketConfig};
///
/// let settings = Settings::default().tcp_nodelay(true).send_buffer_size(1 << 16);
/// let socket: &SocketConfig = &settings.socket;
/// assert_eq!(socket.tcp_nodelay, Some(true));
/// assert_eq!(socket.send_buffer_size, Some(65536));
/// assert_eq!(socket.local_for(&"127.0.0.1:80".parse().unwrap()), None);
/// ```
#[derive(Clone, Default)]
pub struct SocketConfig {
    /// The local address IPv6 attempts bind to (Go's `LocalAddr`; port 0 lets the OS pick).
    pub local_v6: Option<SocketAddr>,
    /// The local address IPv4 attempts bind to.
    pub local_v4: Option<SocketAddr>,
    /// `TCP_NODELAY` (default: the system's, off).
    pub tcp_nodelay: Option<bool>,
    /// TCP keepalive (default: the system's, off).
    pub keepalive: Option<Keepalive>,
    /// `SO_SNDBUF`, in bytes (Linux doubles the value it is given, for its bookkeeping).
    pub send_buffer_size: Option<usize>,
    /// `SO_RCVBUF`, in bytes (Linux doubles it too).
    pub recv_buffer_size: Option<usize>,
    /// The network interface every attempt is bound to (`SO_BINDTODEVICE`, by name:
    /// `"eth0"`): its packets leave through that interface only.
    #[cfg(any(target_os = "android", target_os = "fuchsia", target_os = "linux"))]
    pub bind_device: Option<String>,
    /// Runs on every attempt's socket before `connect`, after everything above.
    pub hook: Option<SocketHook>,
}

impl SocketConfig {
    /// The local address to bind an attempt to `peer` to, if any.
    pub fn local_for(&self, peer: &SocketAddr) -> Option<SocketAddr> {
        match peer {
            SocketAddr::V6(_) => self.local_v6,
            SocketAddr::V4(_) => self.local_v4,
        }
    }

    /// The families a local address is configured for, when only one is: attempts of the
    /// other family cannot be made.
    pub fn only_family(&self) -> Option<Family> {
        match (self.local_v6, self.local_v4) {
            (Some(_), None) => Some(Family::V6),
            (None, Some(_)) => Some(Family::V4),
            _ => None,
        }
    }
}

impl fmt::Debug for SocketConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("SocketConfig");
        d.field("local_v6", &self.local_v6)
            .field("local_v4", &self.local_v4)
            .field("tcp_nodelay", &self.tcp_nodelay)
            .field("keepalive", &self.keepalive)
            .field("send_buffer_size", &self.send_buffer_size)
            .field("recv_buffer_size", &self.recv_buffer_size);
        #[cfg(any(target_os = "android", target_os = "fuchsia", target_os = "linux"))]
        d.field("bind_device", &self.bind_device);
        d.field("hook", &self.hook.as_ref().map(|_| "..")).finish()
    }
}

/// Everything a connector is configured with. Cheap to clone.
///
/// A connector's builder methods set these; `Settings` has the same builder methods, for
/// settings made once and given to several connectors (`with_settings`) or to the lower
/// layers ([`Session::start`](crate::Session::start), the mio adapter's embedded race).
///
/// ```
/// use std::time::Duration;
/// use eyeballs_driver::Settings;
///
/// let settings = Settings::default()
///     .connection_attempt_delay(Duration::from_millis(150))
///     .prefer_family(eyeballs::Family::V4)
///     .local_address("127.0.0.1".parse().unwrap())
///     .tcp_nodelay(true);
/// assert_eq!(settings.config.connection_attempt_delay, Duration::from_millis(150));
/// assert!(settings.socket.local_v4.is_some());
/// ```
#[derive(Clone, Default)]
pub struct Settings {
    /// The engine configuration: delays, family preference and count, timeouts, concurrency
    /// cap, `path_info` (history), destination filter, ... See [`eyeballs::Config`].
    pub config: Config,
    /// How attempt sockets are prepared.
    pub socket: SocketConfig,
    /// Receives every report event as it happens.
    pub observer: Option<Observer>,
    /// The connection history every race reads at its start and feeds when it ends
    /// (default none). See [`SharedHistory`].
    pub history: Option<SharedHistory>,
    /// An absolute deadline for the whole race (Go's `Dialer.Deadline`), on the runtime's
    /// clock. With a [`total_timeout`](Config::total_timeout) too, the earlier of the two
    /// ends the race; a deadline already past when a race starts fails it at once with
    /// `io::ErrorKind::TimedOut`, before any query or socket.
    pub deadline: Option<StdInstant>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("config", &self.config)
            .field("socket", &self.socket)
            .field("observer", &self.observer.as_ref().map(|_| ".."))
            .field("history", &self.history)
            .field("deadline", &self.deadline)
            .finish()
    }
}

impl Settings {
    /// Sets the local address for its family's attempts (port 0).
    pub fn set_local_address(&mut self, ip: IpAddr) {
        self.set_local_socket_address(SocketAddr::new(ip, 0));
    }

    /// Sets the local address and port for its family's attempts.
    pub fn set_local_socket_address(&mut self, addr: SocketAddr) {
        match addr {
            SocketAddr::V6(_) => self.socket.local_v6 = Some(addr),
            SocketAddr::V4(_) => self.socket.local_v4 = Some(addr),
        }
    }

    /// The engine configuration a race runs with: [`Settings::config`], with the family
    /// that has no local address removed from `connectivity` when only one family has one
    /// (so that its DNS query is not sent and its addresses are reported as skipped).
    pub fn race_config(&self) -> Result<Config, ConnectError> {
        let mut config = self.config.clone();
        if let Some(only) = self.socket.only_family() {
            let c = config.connectivity;
            config.connectivity = Connectivity {
                ipv6: c.ipv6 && only == Family::V6,
                ipv4: c.ipv4 && only == Family::V4,
            };
            if !config.connectivity.ipv6 && !config.connectivity.ipv4 {
                return Err(ConnectError::no_usable_family(only));
            }
        }
        Ok(config)
    }
}

/// Writes the builder methods every connector has (and [`Settings`] too), once: an adapter
/// invokes it inside `impl Connector { .. }`, so that its users get inherent, documented
/// methods without importing a trait.
///
/// `settings_mut` names the host's method that gives `&mut Settings`; the rest is for the
/// examples in the methods' docs: the crate that re-exports the driver's names
/// (`"eyeballs_tokio"`), an expression that makes the host and what reads its settings
/// back (`".settings()"`, or `""` for [`Settings`] itself).
///
/// ```
/// use eyeballs_driver::Settings;
///
/// /// A connector of one's own, with every builder method.
/// #[derive(Default)]
/// pub struct MyConnector { settings: Settings }
///
/// impl MyConnector {
///     /// Everything, to change.
///     pub fn settings_mut(&mut self) -> &mut Settings { &mut self.settings }
///     /// Everything.
///     pub fn settings(&self) -> &Settings { &self.settings }
///     eyeballs_driver::connector_builder!(settings_mut, "my_crate", "my_crate::MyConnector::default()", ".settings()");
/// }
///
/// let connector = MyConnector::default().tcp_nodelay(true).query_https(true);
/// assert_eq!(connector.settings().socket.tcp_nodelay, Some(true));
/// assert!(connector.settings().config.query_https);
/// ```
#[macro_export]
macro_rules! connector_builder {
    ($settings_mut:ident, $krate:expr, $new:expr, $get:expr) => {
        /// Replaces the engine configuration (validated when a race starts: an invalid one
        /// makes every connect fail with an error naming the field).
        pub fn config(mut self, config: $crate::eyeballs::Config) -> Self {
            self.$settings_mut().config = config;
            self
        }

        /// The engine configuration, to change a setting that has no builder method of its
        /// own (`alpn`, `nat64_prefix`, `svcb_reliant`, ...).
        ///
        /// ```
        #[doc = concat!("let mut it = ", $new, ";")]
        /// it.config_mut().svcb_reliant = true;
        #[doc = concat!("assert!(it", $get, ".config.svcb_reliant);")]
        /// ```
        pub fn config_mut(&mut self) -> &mut $crate::eyeballs::Config {
            &mut self.$settings_mut().config
        }

        /// The Connection Attempt Delay (RFC 8305 §5; default 250 ms).
        ///
        /// ```
        /// use std::time::Duration;
        #[doc = concat!("let it = ", $new, ".connection_attempt_delay(Duration::from_millis(150));")]
        #[doc = concat!("assert_eq!(it", $get, ".config.connection_attempt_delay, Duration::from_millis(150));")]
        /// ```
        pub fn connection_attempt_delay(mut self, delay: ::std::time::Duration) -> Self {
            self.$settings_mut().config.connection_attempt_delay = delay;
            self
        }

        /// The Resolution Delay (RFC 8305 §3; default 50 ms).
        pub fn resolution_delay(mut self, delay: ::std::time::Duration) -> Self {
            self.$settings_mut().config.resolution_delay = delay;
            self
        }

        /// The preferred address family (default IPv6; RFC 8305 §4).
        pub fn prefer_family(mut self, family: $crate::eyeballs::Family) -> Self {
            self.$settings_mut().config.prefer_family = family;
            self
        }

        /// The First Address Family Count (RFC 8305 §4; default 1).
        pub fn first_address_family_count(mut self, count: u8) -> Self {
            self.$settings_mut().config.first_address_family_count = count;
            self
        }

        /// Gives up on a single attempt after this long (default: the system's connect
        /// timeout).
        pub fn attempt_timeout(mut self, timeout: ::std::time::Duration) -> Self {
            self.$settings_mut().config.attempt_timeout = Some(timeout);
            self
        }

        /// Gives up on the whole race after this long, counted from its start (with a
        /// [`deadline`](Self::deadline) too, the earlier one ends the race).
        pub fn total_timeout(mut self, timeout: ::std::time::Duration) -> Self {
            self.$settings_mut().config.total_timeout = Some(timeout);
            self
        }

        /// Gives up on every race at this instant (Go's `Dialer.Deadline`), on the
        /// runtime's clock. With a [`total_timeout`](Self::total_timeout) too, the earlier
        /// one ends the race; a race started at or after the deadline fails at once with
        /// `io::ErrorKind::TimedOut`, before any query or socket.
        ///
        /// ```
        /// use std::time::{Duration, Instant};
        #[doc = concat!("let it = ", $new, ".deadline(Instant::now() + Duration::from_secs(5));")]
        #[doc = concat!("assert!(it", $get, ".deadline.is_some());")]
        /// ```
        pub fn deadline(mut self, deadline: ::std::time::Instant) -> Self {
            self.$settings_mut().deadline = Some(deadline);
            self
        }

        /// At most this many attempts in flight at once (default no cap).
        pub fn max_concurrent_attempts(mut self, cap: u32) -> Self {
            self.$settings_mut().config.max_concurrent_attempts = Some(cap);
            self
        }

        /// Asks for the name's HTTPS (SVCB) records too and follows HEv3 for them (default
        /// off). The system resolver answers addresses only; a network that can resolve
        /// HTTPS records (the tokio adapter's `hickory` feature) feeds their ALPN, port,
        /// address hints and ECH to the race.
        ///
        /// ```
        #[doc = concat!("let it = ", $new, ".query_https(true);")]
        #[doc = concat!("assert!(it", $get, ".config.query_https);")]
        /// ```
        pub fn query_https(mut self, query: bool) -> Self {
            self.$settings_mut().config.query_https = query;
            self
        }

        /// Connects only to globally reachable destinations: the guard for names that come
        /// from untrusted input (SSRF, DNS rebinding). Every address the IANA IPv4 and IPv6
        /// Special-Purpose Address Registries mark as not globally reachable (loopback,
        /// private, link-local, unique-local, documentation, ...) is refused, in every
        /// spelling: an IPv4-mapped or NAT64 address is judged by the IPv4 address it
        /// carries. Refused destinations are never attempted; when nothing else is left,
        /// the race fails with `io::ErrorKind::PermissionDenied`. This replaces any
        /// destination filter set before. See [`eyeballs::GlobalOnly`].
        ///
        /// ```
        #[doc = concat!("let it = ", $new, ".global_only();")]
        #[doc = concat!("assert!(it", $get, ".config.destination_filter.is_some());")]
        /// ```
        pub fn global_only(mut self) -> Self {
            self.$settings_mut().config.destination_filter =
                Some(::std::sync::Arc::new($crate::eyeballs::GlobalOnly));
            self
        }

        /// Binds attempts of `ip`'s family to `ip` (Go's `LocalAddr`). With a local address
        /// for one family only, destinations of the other family are skipped (and the error
        /// says so when nothing is left).
        pub fn local_address(mut self, ip: ::std::net::IpAddr) -> Self {
            self.$settings_mut().set_local_address(ip);
            self
        }

        /// Binds attempts of `addr`'s family to `addr`, port included.
        pub fn local_socket_address(mut self, addr: ::std::net::SocketAddr) -> Self {
            self.$settings_mut().set_local_socket_address(addr);
            self
        }

        /// Sets `TCP_NODELAY` on every attempt's socket (so on the connection it gives):
        /// `true` sends small writes at once instead of coalescing them (Nagle's algorithm
        /// off).
        ///
        /// ```
        #[doc = concat!("let it = ", $new, ".tcp_nodelay(true);")]
        #[doc = concat!("assert_eq!(it", $get, ".socket.tcp_nodelay, Some(true));")]
        /// ```
        pub fn tcp_nodelay(mut self, nodelay: bool) -> Self {
            self.$settings_mut().socket.tcp_nodelay = Some(nodelay);
            self
        }

        /// Turns TCP keepalive on, with this idle time before the first probe
        /// (`SO_KEEPALIVE`, `TCP_KEEPIDLE`). See [`Keepalive`](crate::Keepalive).
        ///
        /// ```
        /// use std::time::Duration;
        #[doc = concat!("let it = ", $new)]
        ///     .tcp_keepalive(Duration::from_secs(60))
        ///     .tcp_keepalive_interval(Duration::from_secs(10))
        ///     .tcp_keepalive_retries(3);
        #[doc = concat!("let keepalive = it", $get, ".socket.keepalive.unwrap();")]
        /// assert_eq!(keepalive.time, Some(Duration::from_secs(60)));
        /// assert_eq!(keepalive.retries, Some(3));
        /// ```
        pub fn tcp_keepalive(mut self, time: ::std::time::Duration) -> Self {
            self.$settings_mut()
                .socket
                .keepalive
                .get_or_insert_with(Default::default)
                .time = Some(time);
            self
        }

        /// Turns TCP keepalive on, with this time between probes (`TCP_KEEPINTVL`; not on
        /// every system: see [`Keepalive`](crate::Keepalive)).
        pub fn tcp_keepalive_interval(mut self, interval: ::std::time::Duration) -> Self {
            self.$settings_mut()
                .socket
                .keepalive
                .get_or_insert_with(Default::default)
                .interval = Some(interval);
            self
        }

        /// Turns TCP keepalive on, dropping the connection after this many unanswered
        /// probes (`TCP_KEEPCNT`; not on every system: see [`Keepalive`](crate::Keepalive)).
        pub fn tcp_keepalive_retries(mut self, retries: u32) -> Self {
            self.$settings_mut()
                .socket
                .keepalive
                .get_or_insert_with(Default::default)
                .retries = Some(retries);
            self
        }

        /// The send buffer size of every attempt's socket, in bytes (`SO_SNDBUF`; Linux
        /// doubles the value it is given, for its bookkeeping).
        pub fn send_buffer_size(mut self, bytes: usize) -> Self {
            self.$settings_mut().socket.send_buffer_size = Some(bytes);
            self
        }

        /// The receive buffer size of every attempt's socket, in bytes (`SO_RCVBUF`; Linux
        /// doubles it too).
        ///
        /// ```
        #[doc = concat!("let it = ", $new, ".send_buffer_size(1 << 16).recv_buffer_size(1 << 17);")]
        #[doc = concat!("assert_eq!(it", $get, ".socket.recv_buffer_size, Some(1 << 17));")]
        /// ```
        pub fn recv_buffer_size(mut self, bytes: usize) -> Self {
            self.$settings_mut().socket.recv_buffer_size = Some(bytes);
            self
        }

        /// Binds every attempt to the network interface named `interface` (`SO_BINDTODEVICE`;
        /// Linux, Android, Fuchsia): its packets leave through that interface only,
        /// whatever the routing table says. An interface that does not exist fails each
        /// attempt with an error naming it.
        ///
        /// ```
        #[doc = concat!("let it = ", $new, ".bind_device(\"eth0\");")]
        #[doc = concat!("assert_eq!(it", $get, ".socket.bind_device.as_deref(), Some(\"eth0\"));")]
        /// ```
        #[cfg(any(target_os = "android", target_os = "fuchsia", target_os = "linux"))]
        pub fn bind_device(mut self, interface: impl Into<String>) -> Self {
            self.$settings_mut().socket.bind_device = Some(interface.into());
            self
        }

        /// Runs `hook` on every attempt's socket before it connects, after the options the
        /// other methods set (Go's `Control`): for the options they do not cover
        /// (`SO_MARK`, `IP_TOS`, ...). An error fails that attempt. The socket is this
        /// crate's `socket2` (re-exported, so that the versions match).
        ///
        /// ```
        #[doc = concat!("let it = ", $new, ".socket_hook(|socket, _peer| socket.set_reuse_address(true));")]
        #[doc = concat!("assert!(it", $get, ".socket.hook.is_some());")]
        /// ```
        pub fn socket_hook<F>(mut self, hook: F) -> Self
        where
            F: Fn(&$crate::socket2::Socket, ::std::net::SocketAddr) -> ::std::io::Result<()>
                + Send
                + Sync
                + 'static,
        {
            self.$settings_mut().socket.hook = Some(::std::sync::Arc::new(hook));
            self
        }

        /// Calls `observer` with each report event as it happens (a live timeline).
        ///
        /// ```
        #[doc = concat!("let it = ", $new, ".observer(|event| println!(\"{event}\"));")]
        #[doc = concat!("assert!(it", $get, ".observer.is_some());")]
        /// ```
        pub fn observer<F>(mut self, observer: F) -> Self
        where
            F: Fn(&$crate::TimedEvent) + Send + Sync + 'static,
        {
            self.$settings_mut().observer = Some(::std::sync::Arc::new(observer));
            self
        }

        /// Reads and feeds `history` in every race: the next race to a host whose IPv6
        /// path hung starts with IPv4. Clones of the history share it (between connectors
        /// too); see [`SharedHistory`](crate::SharedHistory).
        ///
        /// ```
        #[doc = concat!("use ", $krate, "::{HistoryConfig, NetworkId, SharedHistory};")]
        ///
        /// let history = SharedHistory::new(HistoryConfig::default(), NetworkId(1));
        #[doc = concat!("let it = ", $new, ".history(history.clone());")]
        #[doc = concat!("assert!(it", $get, ".history.is_some());")]
        /// ```
        pub fn history(mut self, history: $crate::SharedHistory) -> Self {
            self.$settings_mut().history = Some(history);
            self
        }
    };
}

impl Settings {
    fn this_mut(&mut self) -> &mut Settings {
        self
    }

    crate::connector_builder!(
        this_mut,
        "eyeballs_driver",
        "eyeballs_driver::Settings::default()",
        ""
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_bound_family_removes_the_other() {
        let mut s = Settings::default();
        assert_eq!(
            s.race_config().unwrap().connectivity,
            Connectivity::DUAL_STACK
        );
        s.set_local_address("127.0.0.1".parse().unwrap());
        let c = s.race_config().unwrap().connectivity;
        assert!(c.ipv4 && !c.ipv6);
        s.set_local_address("::1".parse().unwrap());
        assert_eq!(
            s.race_config().unwrap().connectivity,
            Connectivity::DUAL_STACK
        );

        let mut s = Settings::default();
        s.config.connectivity.ipv4 = false;
        s.set_local_address("127.0.0.1".parse().unwrap());
        let e = s.race_config().unwrap_err();
        assert!(e.to_string().contains("IPv4"), "{e}");
    }
}
