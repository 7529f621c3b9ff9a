//! The race of `eyeballs connect`, for real on a tokio runtime of its own, and what its
//! failure tells the user.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use eyeballs::{AttemptFailure, Protocol, RaceResult, Target};
use eyeballs_driver::attempt::HandshakeError;
use eyeballs_driver::{ConnectError, Network, RaceReport, Reason, Settings};
use eyeballs_tokio::tls::{Secured, TlsConfig, TlsStream, rustls};
use eyeballs_tokio::{Connector, TokioRuntime};

/// A connection the race made (and closed at once: this is a diagnostic tool).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connected {
    /// The address connected to, as the race recorded it (`None` only if neither the race
    /// nor the socket could say).
    pub peer: Option<SocketAddr>,
    /// The local address the connection used (`None` if the OS could not say).
    pub local: Option<SocketAddr>,
    /// For a secure race (`--tls`), what the secure connection is.
    pub secure: Option<Secure>,
}

/// What a secure race's connection is: its transport, the TLS version, the name
/// authenticated and the ALPN protocol the server chose.
///
/// ```
/// use eyeballs::Protocol;
/// use eyeballs_cli::connect::Secure;
///
/// let secure = Secure {
///     protocol: Protocol::Tcp,
///     version: Some("TLS 1.3".into()),
///     server_name: "localhost".into(),
///     alpn: Some("h2".into()),
/// };
/// assert_eq!(secure.to_string(), "over tcp + TLS 1.3 (server name localhost, ALPN h2)");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Secure {
    /// The transport under TLS (`tcp`).
    pub protocol: Protocol,
    /// The TLS version negotiated (`TLS 1.3`), if rustls could say.
    pub version: Option<String>,
    /// The name the certificate was checked against (and sent as SNI, unless an address).
    pub server_name: String,
    /// The ALPN protocol the server chose (`h2`), if any.
    pub alpn: Option<String>,
}

impl Secure {
    /// What a secure race's stream is.
    fn of(secured: &Secured<TlsStream>) -> Secure {
        let info = secured.info();
        let (_, connection) = secured.get_ref().get_ref();
        Secure {
            protocol: info.protocol(),
            version: connection.protocol_version().map(|v| match v {
                rustls::ProtocolVersion::TLSv1_2 => "TLS 1.2".to_string(),
                rustls::ProtocolVersion::TLSv1_3 => "TLS 1.3".to_string(),
                other => format!("{other:?}"),
            }),
            server_name: info.server_name().to_string(),
            alpn: info.alpn().map(|p| String::from_utf8_lossy(p).into_owned()),
        }
    }
}

impl fmt::Display for Secure {
    /// `over tcp + TLS 1.3 (server name localhost, ALPN h2)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "over {} + ", self.protocol)?;
        match &self.version {
            Some(version) => f.write_str(version)?,
            None => f.write_str("TLS")?,
        }
        write!(f, " (server name {}, ", self.server_name)?;
        match &self.alpn {
            Some(alpn) => write!(f, "ALPN {alpn})"),
            None => f.write_str("no ALPN protocol chosen)"),
        }
    }
}

impl fmt::Display for Connected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connected")?;
        if let Some(peer) = self.peer {
            write!(f, " to {peer}")?;
        }
        if let Some(local) = self.local {
            write!(f, " from {local}")?;
        }
        match &self.secure {
            Some(secure) => write!(f, " {secure}"),
            None => Ok(()),
        }
    }
}

/// Runs `future` to its end on a tokio runtime of its own (one thread), then shuts the
/// runtime down without waiting for a DNS lookup still running in the system resolver (a
/// `getaddrinfo` call cannot be stopped: it finishes on its own thread). The error is the
/// runtime's own failure to start.
pub(crate) fn on_runtime<F: Future>(future: F) -> io::Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let out = runtime.block_on(future);
    runtime.shutdown_timeout(Duration::from_millis(50));
    Ok(out)
}

/// One race over `connector`'s network; `describe` reads what the command shows of the
/// winning connection (which is then closed).
fn race_over<N, F>(
    connector: Connector<N>,
    target: Target,
    describe: F,
) -> io::Result<(Result<Connected, ConnectError>, RaceReport)>
where
    N: Network<TokioRuntime>,
    F: FnOnce(N::Stream) -> Connected,
{
    let (result, report) = on_runtime(async {
        let (result, report) = connector.connect_with_report(target).await;
        // Read and closed on the runtime that made it.
        (result.map(describe), report)
    })?;
    let result = result.map(|connected| {
        Connected {
            // The address the winning attempt connected to, as the race recorded it (the
            // socket's own view, should the report lack it).
            peer: report.winning_attempt().map(|a| a.addr).or(connected.peer),
            ..connected
        }
    });
    Ok((result, report))
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
    let connector: Connector = Connector::new().with_settings(settings);
    race_over(connector, target, |stream| Connected {
        peer: stream.peer_addr().ok(),
        local: stream.local_addr().ok(),
        secure: None,
    })
}

/// [`race`] with secure racing (`--tls`): every attempt is TCP, then TLS configured by
/// `tls`, and the first attempt whose TLS handshake is done wins (HEv3 §6.1). The report
/// has each attempt's `transport` event (TCP connected) before its result; the connection
/// says its TLS version, the name authenticated and the ALPN protocol chosen
/// ([`Connected::secure`]). A TLS failure fails its attempt (`TLS handshake failed: ...`,
/// with rustls's reason), and the next one starts.
///
/// ```no_run
/// use eyeballs_cli::connect::{self, EngineFlags, TlsFlags};
///
/// let target = connect::parse_target("localhost:8443").unwrap();
/// let settings = EngineFlags::default().settings(&target).unwrap();
/// let tls = TlsFlags { tls: true, alpn: Some("h2".into()), ..TlsFlags::default() };
/// let config = tls.config(&target).unwrap().unwrap();
/// let (result, report) = connect::race_secure(target, settings, config).unwrap();
/// // connected to 127.0.0.1:8443 from 127.0.0.1:40162 over tcp + TLS 1.3 (server name localhost, ALPN h2)
/// println!("{}", result.unwrap());
/// # drop(report);
/// ```
pub fn race_secure(
    target: Target,
    settings: Settings,
    tls: TlsConfig,
) -> io::Result<(Result<Connected, ConnectError>, RaceReport)> {
    let connector = Connector::new().with_settings(settings).tls(tls);
    race_over(connector, target, |secured| {
        let (tcp, _) = secured.get_ref().get_ref();
        Connected {
            peer: tcp.peer_addr().ok(),
            local: tcp.local_addr().ok(),
            secure: Some(Secure::of(&secured)),
        }
    })
}

/// The race report as `connect --json` prints it: the report's JSON (the simulator's
/// event vocabulary, `transport` events among them) with, for a secure connection, what
/// the secure connection is in its `outcome`: `alpn` (the protocol the server chose, or
/// `null`), `server_name` and `tls_version`, beside the outcome's `protocol` (`tcp`).
///
/// ```
/// use eyeballs_cli::connect::report_json;
///
/// let json = report_json(&eyeballs_driver::RaceReport::default(), None).unwrap();
/// assert!(json["events"].as_array().unwrap().is_empty());
/// ```
pub fn report_json(
    report: &RaceReport,
    connected: Option<&Connected>,
) -> Result<serde_json::Value, serde_json::Error> {
    let mut json = serde_json::to_value(report)?;
    if let (Some(secure), Some(outcome)) = (
        connected.and_then(|c| c.secure.as_ref()),
        json.get_mut("outcome").and_then(|o| o.as_object_mut()),
    ) {
        outcome.insert("alpn".into(), serde_json::json!(secure.alpn));
        outcome.insert("server_name".into(), serde_json::json!(secure.server_name));
        outcome.insert("tls_version".into(), serde_json::json!(secure.version));
    }
    Ok(json)
}

/// Whether the certificate of a failed attempt was rejected (rustls's
/// `InvalidCertificate`, inside the attempt's [`HandshakeError`]).
fn certificate_rejected(e: &ConnectError) -> bool {
    e.attempt_errors().iter().any(|a| {
        HandshakeError::of(&a.error)
            .and_then(|h| h.cause().get_ref())
            .and_then(|cause| cause.downcast_ref::<rustls::Error>())
            .is_some_and(|tls| matches!(tls, rustls::Error::InvalidCertificate(_)))
    })
}

/// What to try after a failed race, by the kind of its error (`None` when there is
/// nothing useful to say).
pub fn hint(e: &ConnectError) -> Option<&'static str> {
    use io::ErrorKind as K;
    if certificate_rejected(e) {
        return Some(
            "a server's certificate was rejected: trust the CA that issued it with --ca-file \
             PEM (without it, the Mozilla roots are trusted), and check that it names the \
             host (or give the name it has with --server-name)",
        );
    }
    if e.attempt_errors()
        .iter()
        .any(|a| a.attempt.failure == AttemptFailure::Handshake)
    {
        return Some(
            "a TLS handshake failed: check that the server speaks TLS on that port (and \
             --handshake-timeout, if it is slow to answer)",
        );
    }
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
        let c = Connected {
            peer,
            local,
            secure: None,
        };
        assert_eq!(
            c.to_string(),
            "connected to 127.0.0.1:80 from 127.0.0.1:5000"
        );
        let c = Connected {
            peer,
            local: None,
            secure: None,
        };
        assert_eq!(c.to_string(), "connected to 127.0.0.1:80");
        let c = Connected {
            peer: None,
            local: None,
            secure: None,
        };
        assert_eq!(c.to_string(), "connected");
        // A secure connection says its transport, TLS version, name and ALPN.
        let mut secure = Secure {
            protocol: Protocol::Tcp,
            version: Some("TLS 1.3".into()),
            server_name: "localhost".into(),
            alpn: Some("h2".into()),
        };
        let c = Connected {
            peer,
            local,
            secure: Some(secure.clone()),
        };
        assert_eq!(
            c.to_string(),
            "connected to 127.0.0.1:80 from 127.0.0.1:5000 over tcp + TLS 1.3 (server name \
             localhost, ALPN h2)"
        );
        secure.alpn = None;
        secure.version = None;
        assert_eq!(
            secure.to_string(),
            "over tcp + TLS (server name localhost, no ALPN protocol chosen)"
        );
    }
}
