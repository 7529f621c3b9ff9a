//! What a connector is configured with: the engine's [`Config`], local addresses, the
//! socket-options hook, the report observer and the connection history.

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use eyeballs::trace::TimedEvent;
use eyeballs::{Config, Connectivity, Family};

use crate::error::ConnectError;
use crate::history::SharedHistory;

/// Runs on every attempt's socket after it is created and bound, before `connect` (Go's
/// `Dialer.Control`): set `TCP_NODELAY`, keepalive, `SO_MARK`, bind to a device, ... An
/// error fails that attempt with the error.
pub type SocketHook = Arc<dyn Fn(&socket2::Socket, SocketAddr) -> io::Result<()> + Send + Sync>;

/// Receives every report event as it happens (for live timelines and logging).
pub type Observer = Arc<dyn Fn(&TimedEvent) + Send + Sync>;

/// How attempt sockets are prepared.
#[derive(Clone, Default)]
pub struct SocketConfig {
    /// The local address IPv6 attempts bind to (Go's `LocalAddr`; port 0 lets the OS pick).
    pub local_v6: Option<SocketAddr>,
    /// The local address IPv4 attempts bind to.
    pub local_v4: Option<SocketAddr>,
    /// Runs on every attempt's socket before `connect`.
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
        f.debug_struct("SocketConfig")
            .field("local_v6", &self.local_v6)
            .field("local_v4", &self.local_v4)
            .field("hook", &self.hook.as_ref().map(|_| ".."))
            .finish()
    }
}

/// Everything a connector is configured with. Cheap to clone.
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
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("config", &self.config)
            .field("socket", &self.socket)
            .field("observer", &self.observer.as_ref().map(|_| ".."))
            .field("history", &self.history)
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

/// The builder methods of every connector (the async [`Connector`](crate::Connector), the mio
/// connector, ...), written once: implement [`settings_mut`](Configure::settings_mut) and get
/// the rest.
///
/// ```
/// use std::time::Duration;
/// use eyeballs_driver::{Configure, Settings};
///
/// let settings = Settings::default()
///     .connection_attempt_delay(Duration::from_millis(150))
///     .prefer_family(eyeballs::Family::V4)
///     .local_address("127.0.0.1".parse().unwrap());
/// assert_eq!(settings.config.connection_attempt_delay, Duration::from_millis(150));
/// assert!(settings.socket.local_v4.is_some());
/// ```
pub trait Configure: Sized {
    /// Everything, to change.
    fn settings_mut(&mut self) -> &mut Settings;

    /// Replaces the engine configuration (validated when a race starts: an invalid one
    /// makes every connect fail with an error naming the field).
    fn config(mut self, config: Config) -> Self {
        self.settings_mut().config = config;
        self
    }

    /// The engine configuration, to change (e.g. to plug a history in through
    /// `path_info`).
    fn config_mut(&mut self) -> &mut Config {
        &mut self.settings_mut().config
    }

    /// Replaces every setting.
    fn with_settings(mut self, settings: Settings) -> Self {
        *self.settings_mut() = settings;
        self
    }

    /// The Connection Attempt Delay (RFC 8305 §5; default 250 ms).
    fn connection_attempt_delay(mut self, delay: Duration) -> Self {
        self.settings_mut().config.connection_attempt_delay = delay;
        self
    }

    /// The Resolution Delay (RFC 8305 §3; default 50 ms).
    fn resolution_delay(mut self, delay: Duration) -> Self {
        self.settings_mut().config.resolution_delay = delay;
        self
    }

    /// The preferred address family (default IPv6; [`Config::prefer_family`]).
    fn prefer_family(mut self, family: Family) -> Self {
        self.settings_mut().config.prefer_family = family;
        self
    }

    /// The First Address Family Count (RFC 8305 §4; default 1).
    fn first_address_family_count(mut self, count: u8) -> Self {
        self.settings_mut().config.first_address_family_count = count;
        self
    }

    /// Gives up on a single attempt after this long.
    fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.settings_mut().config.attempt_timeout = Some(timeout);
        self
    }

    /// Gives up on the whole race after this long.
    fn total_timeout(mut self, timeout: Duration) -> Self {
        self.settings_mut().config.total_timeout = Some(timeout);
        self
    }

    /// At most this many attempts in flight at once.
    fn max_concurrent_attempts(mut self, cap: u32) -> Self {
        self.settings_mut().config.max_concurrent_attempts = Some(cap);
        self
    }

    /// Connects only to globally reachable destinations: the guard for names that come from
    /// untrusted input (SSRF, DNS rebinding). Every address the IANA IPv4 and IPv6
    /// Special-Purpose Address Registries mark as not globally reachable (loopback, private,
    /// link-local, unique-local, documentation, ...) is refused, in every spelling: an
    /// IPv4-mapped or NAT64 address is judged by the IPv4 address it carries. Refused
    /// destinations are never attempted; when nothing else is left, the race fails with
    /// [`io::ErrorKind::PermissionDenied`]. This replaces any destination filter set
    /// before. See [`eyeballs::GlobalOnly`].
    ///
    /// ```
    /// use eyeballs_driver::{Configure, Settings};
    ///
    /// let settings = Settings::default().global_only();
    /// assert!(settings.config.destination_filter.is_some());
    /// ```
    fn global_only(mut self) -> Self {
        self.settings_mut().config.destination_filter = Some(Arc::new(eyeballs::GlobalOnly));
        self
    }

    /// Binds attempts of `ip`'s family to `ip` (Go's `LocalAddr`). With a local address for
    /// one family only, destinations of the other family are skipped (and the error says
    /// so when nothing is left).
    fn local_address(mut self, ip: IpAddr) -> Self {
        self.settings_mut().set_local_address(ip);
        self
    }

    /// Binds attempts of `addr`'s family to `addr`, port included.
    fn local_socket_address(mut self, addr: SocketAddr) -> Self {
        self.settings_mut().set_local_socket_address(addr);
        self
    }

    /// Runs `hook` on every attempt's socket before it connects (Go's `Control`):
    /// `TCP_NODELAY`, keepalive, `SO_MARK`, binding to a device, ... An error fails that
    /// attempt.
    fn socket_hook<F>(mut self, hook: F) -> Self
    where
        F: Fn(&socket2::Socket, SocketAddr) -> io::Result<()> + Send + Sync + 'static,
    {
        self.settings_mut().socket.hook = Some(Arc::new(hook));
        self
    }

    /// Calls `observer` with each report event as it happens (a live timeline).
    fn observer<F>(mut self, observer: F) -> Self
    where
        F: Fn(&TimedEvent) + Send + Sync + 'static,
    {
        self.settings_mut().observer = Some(Arc::new(observer));
        self
    }

    /// Reads and feeds `history` in every race: the next race to a host whose IPv6 path
    /// hung starts with IPv4. Clones of the history share it (between connectors too); see
    /// [`SharedHistory`]. The connectors' getter is `shared_history()`.
    fn history(mut self, history: SharedHistory) -> Self {
        self.settings_mut().history = Some(history);
        self
    }
}

impl Configure for Settings {
    fn settings_mut(&mut self) -> &mut Settings {
        self
    }
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
