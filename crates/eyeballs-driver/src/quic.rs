//! QUIC in the race (feature `quic`, quinn 0.11): QUIC attempts race alongside TCP+TLS ones,
//! and the race is won by the first attempt whose handshake is done, a QUIC handshake or a
//! TLS one (HEv3 §6.1, §6.2).
//!
//! [`Quic`] is a network over a [`Tls`] network: it makes the attempts whose
//! [`protocol`](Attempt::protocol) is `Quic` itself, with quinn, and hands the TCP ones to
//! the TLS network. Its races return one type for both, a [`Secured`]
//! [`SecureConnection`]: the TLS stream or the `quinn::Connection`, with the endpoint, the
//! protocol and the ALPN negotiated ([`SecureInfo`]). The engine decides which endpoints
//! are QUIC ones (below); an adapter supplies quinn's runtime (`eyeballs_tokio`:
//! `Connector::tls(..).quic()`).
//!
//! ```no_run
//! use std::sync::Arc;
//! use eyeballs_driver::quic::{Quic, SecureConnection};
//! use eyeballs_driver::tls::{Tls, TlsConfig};
//!
//! # fn demo<H, R: quinn::Runtime>(handshake: H, runtime: R) -> Result<(), Box<dyn std::error::Error>> {
//! let tls = TlsConfig::webpki_roots()?.alpn(["h3", "h2", "http/1.1"]);
//! let network = Quic::new(Tls::new(eyeballs_driver::SystemNetwork, handshake, tls), Arc::new(runtime));
//! // With a connector: `Connector::tls(config, handshake).quic(runtime)`, which also
//! // turns QUIC on in the engine (`Config::protocols.quic`).
//! # let _ = network; Ok(()) }
//! ```
//!
//! ## Which endpoints are QUIC ones
//!
//! With QUIC on in the engine ([`Config::protocols`](eyeballs::Config::protocols)`.quic`),
//! every address is an endpoint over QUIC and over TCP, and an endpoint from an HTTPS record
//! is one over each transport its `alpn` offers (`h3`: QUIC). The engine orders them (its
//! reading 4): each address over the preferred transport
//! ([`Config::prefer_protocol`](eyeballs::Config::prefer_protocol), QUIC by default), then
//! over the other, the Connection Attempt Delay apart, before the next address; with
//! [`Config::group_by_protocol`](eyeballs::Config::group_by_protocol) every QUIC endpoint
//! comes before every TCP one.
//!
//! ## A QUIC attempt
//!
//! One handshake: QUIC's is transport and TLS at once, so the attempt reports no transport
//! step (no `transport` event; the engine's timer is not extended: a QUIC attempt's first
//! answer already comes with the server's certificate). It uses the TLS configuration's
//! server name ([`TlsConfig::server_name_for`]: the origin's host name, for every
//! endpoint), its roots and its ALPN list filtered for QUIC ([`TlsConfig::offered_alpn`]:
//! `h3`, and what the endpoint's record offers over QUIC; a client with no ALPN list makes
//! no QUIC attempt, as QUIC needs ALPN: RFC 9001 §8.1). It wins when the QUIC handshake
//! is done, with the protocol the server chose ([`SecureInfo::alpn`], `h3`). A failure (the
//! certificate rejected, no ALPN in common, the server closing, the
//! [handshake timeout](TlsConfig::handshake_timeout) counted from the attempt's start) is a
//! [`HandshakeError`] (`QUIC handshake failed: ...`), counted as
//! `AttemptFailure::Handshake`, and the next attempt starts at once. A path that drops UDP
//! silently makes no error: the attempt runs until the Connection Attempt Delay starts the
//! next one, and until the handshake timeout or the end of the race.
//!
//! Losers are closed the moment the winner is ready: a QUIC attempt still in its handshake
//! is dropped (quinn closes it with the application close code 0 and forgets it once the
//! QUIC draining period, three probe timeouts, has passed: RFC 9000 §10.2); one done too
//! late is dropped the same way. Dropping the race does the same for every attempt.
//!
//! ## Endpoints
//!
//! A [`Quic`] network owns one quinn `Endpoint` per family ([`QuicEndpoints`]): made the
//! first time an attempt of that family needs it, bound to the family's unspecified address
//! (`0.0.0.0:0`, `[::]:0`, IPv6-only) or to the local address the connector's settings give
//! the family ([`SocketConfig::local_for`]; on Linux, also to its
//! [`bind_device`](SocketConfig::bind_device)), and reused by every race of the connector
//! (and its clones). Every attempt of a family shares that UDP socket, as QUIC allows:
//! connections are told apart by their connection IDs. The TCP socket options and hook of
//! [`SocketConfig`] are TCP's: they do not apply to it. The endpoints run on the runtime of
//! the race that made them (quinn spawns its driver there): keep a connector on one runtime.
//!
//! ## Limits
//!
//! - **ECH**: QUIC attempts do not offer TLS Encrypted Client Hello (quinn does not report
//!   whether a server accepted it). So that the name never goes out in the clear where a
//!   TCP+TLS attempt would have hidden it, a QUIC attempt to an endpoint whose record
//!   carries an `ech` configuration fails at once when ECH is on ([`Ech`](crate::tls::Ech)
//!   `Opportunistic` or `Reliant`), saying so, and the next attempt (that endpoint over TCP,
//!   with ECH) starts.
//! - No 0-RTT, no connection migration, no QUIC version but 1 (quinn's defaults).
//! - The TLS configuration must allow TLS 1.3 with `TLS13_AES_128_GCM_SHA256` (QUIC's
//!   Initial packets, RFC 9001 §5.2): every configuration [`TlsConfig`] builds does.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use eyeballs::{Attempt, DnsAnswer, Protocol, RecordType, Target};
use quinn::crypto::rustls::{HandshakeData, QuicClientConfig};
use rustls::client::EchStatus;

use crate::attempt::{self, BoxAttempt, HandshakeError};
use crate::runtime::{BoxFuture, Network, RaceContext, Runtime};
use crate::settings::SocketConfig;
use crate::tls::{SecureInfo, Secured, Tls, TlsConfig, TlsHandshake, within};

/// The quinn this module is built with (its `Connection` is in [`SecureConnection`]).
pub use quinn;

/// The connection a secure race returns: TLS over TCP (`S`: the adapter's TLS stream) or
/// QUIC. Inside a [`Secured`], which says which endpoint it is and what was negotiated.
///
/// ```
/// use eyeballs_driver::quic::SecureConnection;
///
/// fn describe<S>(c: &SecureConnection<S>) -> String {
///     match c {
///         SecureConnection::Tls(_) => "TLS over TCP".into(),
///         SecureConnection::Quic(conn) => format!("QUIC with {}", conn.remote_address()),
///     }
/// }
/// let tls: SecureConnection<()> = SecureConnection::Tls(());
/// assert_eq!(describe(&tls), "TLS over TCP");
/// assert!(tls.quic().is_none() && tls.tls().is_some());
/// ```
#[derive(Debug)]
pub enum SecureConnection<S> {
    /// TLS over TCP: the TLS stream.
    Tls(S),
    /// QUIC: the connection, its handshake done (open streams on it, or hand it to an
    /// HTTP/3 client).
    Quic(quinn::Connection),
}

impl<S> SecureConnection<S> {
    /// The transport: `Tcp` or `Quic`.
    pub fn protocol(&self) -> Protocol {
        match self {
            SecureConnection::Tls(_) => Protocol::Tcp,
            SecureConnection::Quic(_) => Protocol::Quic,
        }
    }

    /// The TLS stream, if it is one.
    pub fn tls(&self) -> Option<&S> {
        match self {
            SecureConnection::Tls(s) => Some(s),
            SecureConnection::Quic(_) => None,
        }
    }

    /// The TLS stream, to read and write, if it is one.
    pub fn tls_mut(&mut self) -> Option<&mut S> {
        match self {
            SecureConnection::Tls(s) => Some(s),
            SecureConnection::Quic(_) => None,
        }
    }

    /// The QUIC connection, if it is one.
    pub fn quic(&self) -> Option<&quinn::Connection> {
        match self {
            SecureConnection::Tls(_) => None,
            SecureConnection::Quic(c) => Some(c),
        }
    }

    /// The TLS stream, or this back (a QUIC connection).
    pub fn into_tls(self) -> Result<S, SecureConnection<S>> {
        match self {
            SecureConnection::Tls(s) => Ok(s),
            other => Err(other),
        }
    }

    /// The QUIC connection, or this back (a TLS stream).
    pub fn into_quic(self) -> Result<quinn::Connection, SecureConnection<S>> {
        match self {
            SecureConnection::Quic(c) => Ok(c),
            other => Err(other),
        }
    }
}

/// Where an endpoint's UDP socket is bound: the address, and on Linux the device.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Bind {
    addr: SocketAddr,
    device: Option<String>,
}

impl Bind {
    /// Where attempts to `peer` are made from: the family's local address from `sockets`
    /// (as given, port too), else the family's unspecified address, port 0.
    fn for_peer(peer: SocketAddr, sockets: &SocketConfig) -> Bind {
        let addr = sockets.local_for(&peer).unwrap_or(match peer {
            SocketAddr::V6(_) => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
            SocketAddr::V4(_) => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        });
        #[cfg(any(target_os = "android", target_os = "fuchsia", target_os = "linux"))]
        let device = sockets.bind_device.clone();
        #[cfg(not(any(target_os = "android", target_os = "fuchsia", target_os = "linux")))]
        let device = None;
        Bind { addr, device }
    }

    /// A UDP socket bound here (IPv6-only for an IPv6 address, so that each family has
    /// its own).
    fn socket(&self) -> io::Result<std::net::UdpSocket> {
        use socket2::{Domain, Socket, Type};
        let socket = Socket::new(
            Domain::for_address(self.addr),
            Type::DGRAM,
            Some(socket2::Protocol::UDP),
        )?;
        if self.addr.is_ipv6() {
            socket.set_only_v6(true)?;
        }
        #[cfg(any(target_os = "android", target_os = "fuchsia", target_os = "linux"))]
        if let Some(device) = &self.device {
            socket.bind_device(Some(device.as_bytes()))?;
        }
        socket.bind(&self.addr.into())?;
        Ok(socket.into())
    }
}

/// The quinn endpoints of a [`Quic`] network: one per family (per local address and
/// device), made the first time an attempt needs it, then reused by every race. See the
/// [module](self).
pub struct QuicEndpoints {
    runtime: Arc<dyn quinn::Runtime>,
    made: Mutex<Vec<(Bind, quinn::Endpoint)>>,
}

impl fmt::Debug for QuicEndpoints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bound: Vec<SocketAddr> = self
            .lock()
            .iter()
            .filter_map(|(_, e)| e.local_addr().ok())
            .collect();
        f.debug_struct("QuicEndpoints")
            .field("bound", &bound)
            .finish_non_exhaustive()
    }
}

impl QuicEndpoints {
    /// No endpoint yet; they will run on `runtime` (quinn's runtime seam:
    /// `quinn::TokioRuntime` for tokio).
    pub fn new(runtime: Arc<dyn quinn::Runtime>) -> QuicEndpoints {
        QuicEndpoints {
            runtime,
            made: Mutex::new(Vec::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(Bind, quinn::Endpoint)>> {
        self.made.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The endpoint attempts to `peer` are made from, with `sockets`' local address for its
    /// family: made (its UDP socket bound) the first time. The error says which address
    /// could not be bound.
    pub fn endpoint_for(
        &self,
        peer: SocketAddr,
        sockets: &SocketConfig,
    ) -> io::Result<quinn::Endpoint> {
        let bind = Bind::for_peer(peer, sockets);
        let mut made = self.lock();
        if let Some((_, endpoint)) = made.iter().find(|(b, _)| *b == bind) {
            return Ok(endpoint.clone());
        }
        let cannot = |e: io::Error| {
            io::Error::new(
                e.kind(),
                format!("QUIC: no UDP socket on {} for its endpoint: {e}", bind.addr),
            )
        };
        let socket = bind.socket().map_err(cannot)?;
        let endpoint = quinn::Endpoint::new(
            quinn::EndpointConfig::default(),
            None,
            socket,
            self.runtime.clone(),
        )
        .map_err(cannot)?;
        made.push((bind, endpoint.clone()));
        Ok(endpoint)
    }

    /// Every endpoint made so far.
    pub fn endpoints(&self) -> Vec<quinn::Endpoint> {
        self.lock().iter().map(|(_, e)| e.clone()).collect()
    }

    /// The QUIC connections open on them, in all: the winners the application holds, and
    /// losers until quinn has forgotten them (after the draining period).
    pub fn open_connections(&self) -> usize {
        self.lock().iter().map(|(_, e)| e.open_connections()).sum()
    }
}

/// A network whose QUIC attempts are made with quinn and whose TCP attempts are TCP+TLS (a
/// [`Tls`] network): a race over it ends when a QUIC or a TLS handshake is done. `resolve`
/// and [`check`](Network::check) are the TLS network's. See the [module](self).
pub struct Quic<N, H> {
    inner: Arc<QuicInner<N, H>>,
}

struct QuicInner<N, H> {
    tls: Tls<N, H>,
    endpoints: QuicEndpoints,
}

impl<N, H> Clone for Quic<N, H> {
    fn clone(&self) -> Self {
        Quic {
            inner: self.inner.clone(),
        }
    }
}

impl<N, H> fmt::Debug for Quic<N, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Quic")
            .field("tls", &self.inner.tls)
            .field("endpoints", &self.inner.endpoints)
            .finish()
    }
}

impl<N, H> Quic<N, H> {
    /// QUIC attempts with quinn (its endpoints on `runtime`), TCP ones made by `tls`; both
    /// configured by `tls`'s [`TlsConfig`].
    pub fn new(tls: Tls<N, H>, runtime: Arc<dyn quinn::Runtime>) -> Quic<N, H> {
        Quic {
            inner: Arc::new(QuicInner {
                tls,
                endpoints: QuicEndpoints::new(runtime),
            }),
        }
    }

    /// The TCP+TLS network.
    pub fn tls(&self) -> &Tls<N, H> {
        &self.inner.tls
    }

    /// The TLS configuration both transports use.
    pub fn config(&self) -> &TlsConfig {
        self.inner.tls.config()
    }

    /// The quinn endpoints (one per family, once used).
    pub fn endpoints(&self) -> &QuicEndpoints {
        &self.inner.endpoints
    }
}

impl<R, N, H> Network<R> for Quic<N, H>
where
    R: Runtime,
    N: Network<R>,
    H: TlsHandshake<N::Stream>,
{
    type Stream = Secured<SecureConnection<H::Stream>>;

    fn resolve(&self, runtime: &R, name: &str, record: RecordType) -> BoxFuture<DnsAnswer> {
        Network::<R>::resolve(&self.inner.tls, runtime, name, record)
    }

    fn connect(
        &self,
        runtime: &R,
        attempt: &Attempt,
        race: &RaceContext<'_>,
    ) -> BoxFuture<io::Result<Self::Stream>> {
        attempt::finish(self.attempt(runtime, attempt, race))
    }

    fn attempt(
        &self,
        runtime: &R,
        attempt: &Attempt,
        race: &RaceContext<'_>,
    ) -> BoxAttempt<Self::Stream> {
        match attempt.protocol {
            Protocol::Tcp => attempt::map(
                Network::<R>::attempt(&self.inner.tls, runtime, attempt, race),
                |secured| secured.map(SecureConnection::Tls),
            ),
            Protocol::Quic => quic_attempt(runtime, &self.inner, attempt, race),
        }
    }

    fn check(&self, target: &Target) -> Result<(), String> {
        Network::<R>::check(&self.inner.tls, target)
    }
}

/// The quinn client configuration of QUIC attempt `attempt`: the TLS configuration's, its
/// ALPN list filtered for QUIC, no ECH (see the [module](self)'s limits). A configuration
/// with no ALPN id is refused: QUIC needs one (RFC 9001 §8.1).
pub fn client_config(tls: &TlsConfig, attempt: &Attempt) -> io::Result<quinn::ClientConfig> {
    if tls.ech_for(attempt).is_some() {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "QUIC: the endpoint's HTTPS record carries an ECH configuration and ECH is on, \
             and QUIC attempts do not offer ECH here: this endpoint is left to TCP+TLS, \
             where ECH hides the name",
        ));
    }
    let config = tls.attempt_config(attempt)?;
    if config.alpn_protocols.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "QUIC: this client offers no ALPN id, and QUIC needs one (RFC 9001 §8.1): add \
             h3 to TlsConfig::alpn",
        ));
    }
    let crypto = QuicClientConfig::try_from(config).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "QUIC: the TLS configuration cannot be used for QUIC ({e}): it must allow \
                 TLS 1.3 with TLS13_AES_128_GCM_SHA256 (RFC 9001 §5.2)"
            ),
        )
    })?;
    Ok(quinn::ClientConfig::new(Arc::new(crypto)))
}

/// A QUIC attempt: quinn's handshake to the attempt's endpoint, within the handshake
/// timeout; its failure is a `QUIC handshake failed: ...` [`HandshakeError`].
fn quic_attempt<R: Runtime, N, H, S: Send + 'static>(
    runtime: &R,
    inner: &QuicInner<N, H>,
    attempt: &Attempt,
    race: &RaceContext<'_>,
) -> BoxAttempt<Secured<SecureConnection<S>>> {
    let config = inner.tls.config();
    let started = (|| -> io::Result<(quinn::Connecting, String)> {
        let client = client_config(config, attempt)?;
        let name = config.server_name_for(race, attempt)?;
        let name = name.to_str().into_owned();
        let endpoint = inner.endpoints.endpoint_for(attempt.addr, race.sockets)?;
        let connecting = endpoint
            .connect_with(client, attempt.addr, &name)
            .map_err(|e| {
                let kind = match e {
                    quinn::ConnectError::EndpointStopping => io::ErrorKind::BrokenPipe,
                    _ => io::ErrorKind::InvalidInput,
                };
                io::Error::new(kind, format!("QUIC: cannot start the connection: {e}"))
            })?;
        Ok((connecting, name))
    })();
    let (connecting, name) = match started {
        Ok(started) => started,
        Err(e) => return attempt::single(Box::pin(std::future::ready(Err(e)))),
    };
    let handshake: BoxFuture<io::Result<quinn::Connection>> =
        Box::pin(async move { connecting.await.map_err(handshake_error) });
    let handshake = within(
        runtime,
        config.handshake_timeout_setting(),
        handshake,
        "QUIC",
        "of the attempt's start",
    );
    let endpoint = attempt.clone();
    attempt::single(Box::pin(async move {
        let connection = handshake
            .await
            .map_err(|e| HandshakeError::wrap("QUIC", e))?;
        let alpn = connection
            .handshake_data()
            .and_then(|data| data.downcast::<HandshakeData>().ok())
            .and_then(|data| data.protocol);
        let info = SecureInfo::new(&endpoint, &name, alpn, EchStatus::NotOffered);
        Ok(Secured::new(SecureConnection::Quic(connection), info))
    }))
}

/// A QUIC handshake failure as an `io::Error` of a kind that fits: a TLS failure
/// (certificate, ALPN: a `CRYPTO_ERROR`, RFC 9001 §4.8) or a malformed peer is
/// `InvalidData`, as rustls's TLS errors are; the peer closing is `ConnectionAborted`, a
/// stateless reset `ConnectionReset`, quinn's idle timeout `TimedOut`.
pub fn handshake_error(e: quinn::ConnectionError) -> io::Error {
    use quinn::ConnectionError as E;
    let kind = match &e {
        E::TimedOut => io::ErrorKind::TimedOut,
        E::Reset => io::ErrorKind::ConnectionReset,
        E::TransportError(_) | E::VersionMismatch => io::ErrorKind::InvalidData,
        E::ConnectionClosed(close) if is_crypto_error(close.error_code) => {
            io::ErrorKind::InvalidData
        }
        E::ConnectionClosed(_) | E::ApplicationClosed(_) | E::LocallyClosed => {
            io::ErrorKind::ConnectionAborted
        }
        E::CidsExhausted => io::ErrorKind::Other,
    };
    io::Error::new(kind, e)
}

/// Whether a QUIC transport error code is a TLS alert (`CRYPTO_ERROR`, 0x0100 to 0x01ff:
/// RFC 9000 §20.1).
fn is_crypto_error(code: quinn::TransportErrorCode) -> bool {
    (0x100..=0x1ff).contains(&u64::from(code))
}

#[cfg(test)]
mod tests;
