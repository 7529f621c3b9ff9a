//! What a connector is configured with: the engine's [`Config`], local addresses, the
//! socket-options hook and the report observer.

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use eyeballs::{Config, Connectivity, Family};

use crate::error::ConnectError;
use crate::report::ReportEvent;

/// Runs on every attempt's socket after it is created and bound, before `connect` (Go's
/// `Dialer.Control`): set `TCP_NODELAY`, keepalive, `SO_MARK`, bind to a device, ... An
/// error fails that attempt with the error.
pub type SocketHook = Arc<dyn Fn(&socket2::Socket, SocketAddr) -> io::Result<()> + Send + Sync>;

/// Receives every report event as it happens (for live timelines and logging).
pub type Observer = Arc<dyn Fn(&ReportEvent) + Send + Sync>;

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
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("config", &self.config)
            .field("socket", &self.socket)
            .field("observer", &self.observer.as_ref().map(|_| ".."))
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
