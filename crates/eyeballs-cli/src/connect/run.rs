//! The race of `eyeballs connect`, for real on a tokio runtime of its own, and what its
//! failure tells the user.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use eyeballs::{RaceResult, Target};
use eyeballs_driver::{ConnectError, RaceReport, Reason, Settings};
use eyeballs_tokio::Connector;

/// A connection the race made (and closed at once: this is a diagnostic tool).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Connected {
    /// The address connected to, as the race recorded it (`None` only if neither the race
    /// nor the socket could say).
    pub peer: Option<SocketAddr>,
    /// The local address the connection used (`None` if the OS could not say).
    pub local: Option<SocketAddr>,
}

impl fmt::Display for Connected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connected")?;
        if let Some(peer) = self.peer {
            write!(f, " to {peer}")?;
        }
        match self.local {
            Some(local) => write!(f, " from {local}"),
            None => Ok(()),
        }
    }
}

/// Races `target` for real with `settings` on a tokio runtime of its own (the settings'
/// observer sees every event as it happens). The winning connection is closed as soon as
/// its local address is read. The outer error is the runtime's own failure to start.
///
/// A DNS lookup still running in the system resolver when the race ends is left to finish
/// on its own thread (a `getaddrinfo` call cannot be stopped); the runtime does not wait
/// for it.
pub fn race(
    target: Target,
    settings: Settings,
) -> io::Result<(Result<Connected, ConnectError>, RaceReport)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let connector: Connector = Connector::new().with_settings(settings);
    let (result, report) = runtime.block_on(async {
        let (result, report) = connector.connect_with_report(target).await;
        let result = result.map(|stream| {
            let addrs = (stream.peer_addr().ok(), stream.local_addr().ok());
            drop(stream);
            addrs
        });
        (result, report)
    });
    runtime.shutdown_timeout(Duration::from_millis(50));
    let result = result.map(|(peer, local)| Connected {
        // The address the winning attempt connected to, as the race recorded it (the
        // socket's own view, should the report lack it).
        peer: report.winning_attempt().map(|a| a.addr).or(peer),
        local,
    });
    Ok((result, report))
}

/// What to try after a failed race, by the kind of its error (`None` when there is
/// nothing useful to say).
pub fn hint(e: &ConnectError) -> Option<&'static str> {
    use io::ErrorKind as K;
    match (e.reason(), e.kind()) {
        (Reason::Race(RaceResult::TimedOut), _) => Some(
            "nothing answered before --timeout: the host may be down or its packets dropped \
             by a firewall; try a longer --timeout",
        ),
        (_, K::ConnectionRefused) => Some(
            "nothing listens on that port (or a firewall rejects it): check the port and that \
             the server is running",
        ),
        (_, K::TimedOut) => Some(
            "no answer in time: the host may be down or its packets dropped by a firewall; \
             try a longer --attempt-timeout, or check the network",
        ),
        (_, K::NotFound) => Some(
            "no address could be tried: check the name, and that -4/-6 or --local-addr do \
             not exclude the only family it has",
        ),
        (_, K::HostUnreachable | K::NetworkUnreachable | K::NetworkDown) => {
            Some("there is no route to the host: check the network connection")
        }
        (_, K::AddrNotAvailable) => Some("the local address cannot be used: check --local-addr"),
        _ => None,
    }
}

/// Whether a failed race failed because of its input (a target or settings the engine
/// refuses: bad usage, exit code 2) rather than the network (exit code 1).
pub fn is_usage(e: &ConnectError) -> bool {
    matches!(
        e.reason(),
        Reason::InvalidTarget(_)
            | Reason::UnknownInterface(_)
            | Reason::Start(_)
            | Reason::NoUsableFamily(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_says_what_it_knows() {
        let peer = Some("127.0.0.1:80".parse().unwrap());
        let local = Some("127.0.0.1:5000".parse().unwrap());
        let c = Connected { peer, local };
        assert_eq!(
            c.to_string(),
            "connected to 127.0.0.1:80 from 127.0.0.1:5000"
        );
        let c = Connected { peer, local: None };
        assert_eq!(c.to_string(), "connected to 127.0.0.1:80");
        let c = Connected {
            peer: None,
            local: None,
        };
        assert_eq!(c.to_string(), "connected");
    }
}
