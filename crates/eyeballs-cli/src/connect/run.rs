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
use eyeballs_tokio::quic::{QuicOrTls, SecureConnection, quinn};
use eyeballs_tokio::tls::{SecureInfo, Secured, TlsConfig, TlsStream, rustls};
use eyeballs_tokio::{Connector, TokioRuntime};

use super::QuicRace;

/// The TLS version of every QUIC connection: QUIC version 1 runs TLS 1.3 only (RFC 9001
/// §4.2: "Clients MUST NOT offer TLS versions older than 1.3").
const QUIC_TLS_VERSION: &str = "TLS 1.3";

/// How long a QUIC race's end waits for the winner's close to go out (quinn sends it from
/// the endpoint's task, which runs only while the race's runtime does): at most this, less
/// when every connection has drained.
const QUIC_CLOSE_WAIT: Duration = Duration::from_millis(50);

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

/// What a secure race's connection is: its transport (TLS over `tcp`, or `quic`), the TLS
/// version, the name authenticated and the ALPN protocol the server chose.
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
/// let quic = Secure { protocol: Protocol::Quic, alpn: Some("h3".into()), ..secure };
/// assert_eq!(quic.to_string(), "over quic + TLS 1.3 (server name localhost, ALPN h3)");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Secure {
    /// The transport: `tcp` (TLS over TCP) or `quic` (QUIC, whose handshake is TLS's).
    pub protocol: Protocol,
    /// The TLS version negotiated (`TLS 1.3`), if rustls could say.
    pub version: Option<String>,
    /// The name the certificate was checked against (and sent as SNI, unless an address).
    pub server_name: String,
    /// The ALPN protocol the server chose (`h2`), if any.
    pub alpn: Option<String>,
}

impl Secure {
    /// What a secure connection is, from what the race says of it and its TLS version.
    fn new(info: &SecureInfo, version: Option<String>) -> Secure {
        Secure {
            protocol: info.protocol(),
            version,
            server_name: info.server_name().to_string(),
            alpn: info.alpn().map(|p| String::from_utf8_lossy(p).into_owned()),
        }
    }

    /// What a secure race's TLS stream is.
    fn of(secured: &Secured<TlsStream>) -> Secure {
        let (_, connection) = secured.get_ref().get_ref();
        let version = connection.protocol_version().map(|v| match v {
            rustls::ProtocolVersion::TLSv1_2 => "TLS 1.2".to_string(),
            rustls::ProtocolVersion::TLSv1_3 => "TLS 1.3".to_string(),
            other => format!("{other:?}"),
        });
        Secure::new(secured.info(), version)
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
/// winning connection and closes it.
fn race_over<N, F, D>(
    connector: Connector<N>,
    target: Target,
    describe: F,
) -> io::Result<(Result<Connected, ConnectError>, RaceReport)>
where
    N: Network<TokioRuntime>,
    F: FnOnce(N::Stream) -> D,
    D: Future<Output = Connected>,
{
    let (result, report) = on_runtime(async {
        let (result, report) = connector.connect_with_report(target).await;
        // Read and closed on the runtime that made it.
        let result = match result {
            Ok(stream) => Ok(describe(stream).await),
            Err(e) => Err(e),
        };
        (result, report)
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
    race_over(connector, target, |stream| {
        std::future::ready(Connected {
            peer: stream.peer_addr().ok(),
            local: stream.local_addr().ok(),
            secure: None,
        })
    })
}

/// What the command shows of a secure race's TLS stream.
fn tls_connected(secured: &Secured<TlsStream>) -> Connected {
    let (tcp, _) = secured.get_ref().get_ref();
    Connected {
        peer: tcp.peer_addr().ok(),
        local: tcp.local_addr().ok(),
        secure: Some(Secure::of(secured)),
    }
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
        std::future::ready(tls_connected(&secured))
    })
}

/// [`race_secure`] with QUIC in the race (`--quic`, `--quic-only`): QUIC attempts (quinn)
/// race alongside TCP+TLS ones ([`QuicRace::WithTcp`]: each address over QUIC first, then
/// over TCP the Connection Attempt Delay later, the engine's order) or alone
/// ([`QuicRace::Only`]), all configured by `tls` (QUIC attempts offer its ALPN ids that run
/// over QUIC, `h3`; TCP ones the others). The first handshake done wins, over either; the
/// connection says which ([`Secure::protocol`]: `quic` or `tcp`). A QUIC attempt has no
/// `transport` event (its handshake is transport and TLS at once); its failure is named
/// (`QUIC handshake failed: ...`). A winning QUIC connection is closed (code 0) before
/// this returns, waiting at most 50 ms for the close to go out.
///
/// ```no_run
/// use eyeballs_cli::connect::{self, EngineFlags, TlsFlags};
///
/// let target = connect::parse_target("localhost:8443").unwrap();
/// let settings = EngineFlags::default().settings(&target).unwrap();
/// let flags = TlsFlags { quic: true, ..TlsFlags::default() };
/// let config = flags.config(&target).unwrap().unwrap(); // ALPN h3 over QUIC, h2,http/1.1 over TCP
/// let quic = flags.quic_race().unwrap();
/// let (result, report) = connect::race_quic(target, settings, config, quic).unwrap();
/// // connected to 127.0.0.1:8443 from 127.0.0.1:51234 over quic + TLS 1.3 (server name localhost, ALPN h3)
/// println!("{}", result.unwrap());
/// # drop(report);
/// ```
pub fn race_quic(
    target: Target,
    mut settings: Settings,
    tls: TlsConfig,
    quic: QuicRace,
) -> io::Result<(Result<Connected, ConnectError>, RaceReport)> {
    if quic == QuicRace::Only {
        settings.config.protocols.tcp = false;
    }
    let connector = Connector::new().with_settings(settings).tls(tls).quic();
    // The connector's endpoints (shared with its clones): where the QUIC winner's local
    // port is, and what sends its close.
    let network = connector.network().clone();
    race_over(
        connector,
        target,
        move |secured: Secured<QuicOrTls>| async move {
            let (connection, info) = secured.into_parts();
            let connection = match connection {
                SecureConnection::Tls(stream) => return tls_connected(&Secured::new(stream, info)),
                SecureConnection::Quic(connection) => connection,
            };
            let peer = connection.remote_address();
            let endpoint = network
                .endpoints()
                .endpoints()
                .into_iter()
                .find(|e| e.local_addr().is_ok_and(|a| a.is_ipv6() == peer.is_ipv6()));
            let local = endpoint
                .as_ref()
                .and_then(|e| e.local_addr().ok())
                .map(|bound| SocketAddr::new(source_ip(bound.ip(), peer), bound.port()));
            let secure = Secure::new(&info, Some(QUIC_TLS_VERSION.to_string()));
            connection.close(0u32.into(), b"eyeballs connect only tests the connection");
            if let Some(endpoint) = endpoint {
                let _ = tokio::time::timeout(QUIC_CLOSE_WAIT, endpoint.wait_idle()).await;
            }
            Connected {
                peer: Some(peer),
                local,
                secure: Some(secure),
            }
        },
    )
}

/// The local address a UDP socket bound to `bound` sends to `peer` from: `bound` itself,
/// or when it is the unspecified address (a QUIC endpoint's usual binding), the source
/// address the system's routes choose for `peer` (read from a UDP socket connected there,
/// which sends nothing; quinn does not record it for a client). `bound` when that fails.
fn source_ip(bound: std::net::IpAddr, peer: SocketAddr) -> std::net::IpAddr {
    if !bound.is_unspecified() {
        return bound;
    }
    std::net::UdpSocket::bind(SocketAddr::new(bound, 0))
        .and_then(|socket| {
            socket.connect(peer)?;
            socket.local_addr()
        })
        .map_or(bound, |local| local.ip())
}

/// The race report as `connect --json` prints it: the report's JSON (the simulator's
/// event vocabulary, `transport` events among them, each `attempt` event with its
/// `protocol`, `tcp` or `quic`) with, for a secure connection, what the secure connection
/// is in its `outcome`: `alpn` (the protocol the server chose, or `null`), `server_name`
/// and `tls_version`, beside the outcome's `protocol` (`tcp` or `quic`); each of a failed
/// race's `errors` has its attempt's `protocol` too (one address can fail over both).
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
    // Each failed attempt's transport: one address can fail over QUIC and over TCP.
    let errors = json
        .pointer_mut("/outcome/errors")
        .and_then(|e| e.as_array_mut());
    for error in errors.into_iter().flatten() {
        let protocol = error["id"]
            .as_u64()
            .and_then(|id| report.attempts.iter().find(|a| u64::from(a.id.0) == id))
            .map(|a| a.protocol.as_str());
        if let (Some(protocol), Some(error)) = (protocol, error.as_object_mut()) {
            error.insert("protocol".into(), serde_json::json!(protocol));
        }
    }
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

/// Whether the certificate of a failed attempt was rejected: rustls's `InvalidCertificate`
/// inside a TLS attempt's [`HandshakeError`], or a QUIC attempt closed by this side with a
/// TLS certificate alert ([`quic_certificate_alert`]).
fn certificate_rejected(e: &ConnectError) -> bool {
    e.attempt_errors().iter().any(|a| {
        let cause = HandshakeError::of(&a.error).and_then(|h| h.cause().get_ref());
        let Some(cause) = cause else {
            return false;
        };
        cause
            .downcast_ref::<rustls::Error>()
            .is_some_and(|tls| matches!(tls, rustls::Error::InvalidCertificate(_)))
            || cause
                .downcast_ref::<quinn::ConnectionError>()
                .is_some_and(quic_certificate_alert)
    })
}

/// Whether a QUIC handshake was ended by this side with a TLS alert about the peer's
/// certificate. quinn keeps only the code and rustls's text: a TLS alert travels as QUIC
/// error `0x0100 + alert` (`CRYPTO_ERROR`, RFC 9001 §4.8), and the alerts rustls sends for a
/// certificate it rejects are the certificate ones of RFC 8446 §6.2: bad_certificate (42),
/// unsupported_certificate (43), certificate_revoked (44), certificate_expired (45),
/// certificate_unknown (46), unknown_ca (48).
fn quic_certificate_alert(e: &quinn::ConnectionError) -> bool {
    const CRYPTO_ERROR: u64 = 0x100;
    let quinn::ConnectionError::TransportError(error) = e else {
        return false;
    };
    u64::from(error.code)
        .checked_sub(CRYPTO_ERROR)
        .is_some_and(|alert| matches!(alert, 42..=46 | 48))
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
    let handshake_failed = |layer: &str| {
        e.attempt_errors().iter().any(|a| {
            a.attempt.failure == AttemptFailure::Handshake
                && HandshakeError::of(&a.error).is_some_and(|h| h.layer() == layer)
        })
    };
    if handshake_failed("TLS") {
        return Some(
            "a TLS handshake failed: check that the server speaks TLS on that port (and \
             --handshake-timeout, if it is slow to answer)",
        );
    }
    if handshake_failed("QUIC") {
        return Some(
            "a QUIC handshake failed: check that the server speaks QUIC (HTTP/3: ALPN h3) on \
             that UDP port, and that UDP gets through (and --handshake-timeout, if it is slow \
             to answer)",
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
