//! What a secure race returns: the connection ([`Secured`]) and what it is ([`SecureInfo`]).

use std::net::SocketAddr;
use std::sync::Arc;

use eyeballs::{Attempt, AttemptId, Protocol};
use rustls::client::EchStatus;

/// Where a secure attempt went.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Endpoint {
    remote_addr: SocketAddr,
    attempt: AttemptId,
    protocol: Protocol,
    endpoint_alpn: Option<Arc<[String]>>,
}

/// What a secure connection is: the endpoint that won, the protocol, the name
/// authenticated, the ALPN negotiated and the ECH status ([`Secured::info`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecureInfo {
    endpoint: Endpoint,
    alpn: Option<Vec<u8>>,
    server_name: String,
    ech: EchStatus,
}

impl SecureInfo {
    /// What a secure connection made by `attempt` is: the name it authenticated
    /// (`server_name`), the ALPN protocol negotiated and the ECH status (for a network of
    /// one's own: a QUIC network's connections).
    ///
    /// ```
    /// use eyeballs::{Attempt, AttemptId, Protocol};
    /// use eyeballs_driver::tls::{SecureInfo, Secured, rustls::client::EchStatus};
    ///
    /// let attempt = Attempt { id: AttemptId(2), addr: "192.0.2.1:443".parse().unwrap(),
    ///     protocol: Protocol::Quic, alpn: None, ech: None };
    /// let info = SecureInfo::new(&attempt, "example.com", Some(b"h3".to_vec()), EchStatus::NotOffered);
    /// let secured = Secured::new("a QUIC connection", info);
    /// assert_eq!(secured.info().protocol(), Protocol::Quic);
    /// assert_eq!(secured.info().alpn(), Some(&b"h3"[..]));
    /// ```
    pub fn new(
        attempt: &Attempt,
        server_name: &str,
        alpn: Option<Vec<u8>>,
        ech: EchStatus,
    ) -> SecureInfo {
        SecureInfo {
            endpoint: Endpoint {
                remote_addr: attempt.addr,
                attempt: attempt.id,
                protocol: attempt.protocol,
                endpoint_alpn: attempt.alpn.clone(),
            },
            alpn,
            server_name: server_name.to_string(),
            ech,
        }
    }

    /// The address the winning attempt connected to.
    pub fn remote_addr(&self) -> SocketAddr {
        self.endpoint.remote_addr
    }

    /// The winning attempt (its number in the race's report).
    pub fn attempt(&self) -> AttemptId {
        self.endpoint.attempt
    }

    /// The transport: `Tcp` for TLS over TCP (`Quic` for a QUIC connection).
    pub fn protocol(&self) -> Protocol {
        self.endpoint.protocol
    }

    /// The ALPN protocol the server chose (`b"h2"`), if any.
    pub fn alpn(&self) -> Option<&[u8]> {
        self.alpn.as_deref()
    }

    /// Whether the server chose HTTP/2 (`h2`).
    pub fn negotiated_h2(&self) -> bool {
        self.alpn() == Some(b"h2")
    }

    /// For an endpoint from an HTTPS record: the ALPN ids the record offered that the
    /// client supports, in the record's order. `None` for a plain A/AAAA endpoint.
    pub fn endpoint_alpn(&self) -> Option<&[String]> {
        self.endpoint.endpoint_alpn.as_deref()
    }

    /// The name the certificate was checked against (and sent as SNI, unless it is an IP
    /// address).
    pub fn server_name(&self) -> &str {
        &self.server_name
    }

    /// Whether ECH was offered, and whether the server accepted it.
    pub fn ech(&self) -> EchStatus {
        self.ech
    }
}

/// What a secure race returns: the connection, ready for the application (for TLS over TCP,
/// the TLS stream; a QUIC network returns the QUIC connection, or an enum of both), and
/// what it is ([`SecureInfo`]).
///
/// ```
/// use eyeballs_driver::tls::Secured;
///
/// fn describe<S>(secured: &Secured<S>) -> String {
///     let info = secured.info();
///     format!("{} over {} (ALPN {:?})", info.remote_addr(), info.protocol(),
///         info.alpn().map(String::from_utf8_lossy))
/// }
/// # let _ = describe::<()>;
/// ```
#[derive(Debug)]
pub struct Secured<S> {
    stream: S,
    info: SecureInfo,
}

impl<S> Secured<S> {
    /// `stream`, ready for the application, and what it is.
    pub fn new(stream: S, info: SecureInfo) -> Secured<S> {
        Secured { stream, info }
    }

    /// The connection.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// The connection, to read and write.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// The connection, to own.
    pub fn into_inner(self) -> S {
        self.stream
    }

    /// The connection and what it is.
    pub fn into_parts(self) -> (S, SecureInfo) {
        (self.stream, self.info)
    }

    /// What it is: the endpoint, the protocol, the ALPN negotiated, ...
    pub fn info(&self) -> &SecureInfo {
        &self.info
    }

    /// The same, holding another connection type (a QUIC network's enum of TLS and QUIC).
    pub fn map<T>(self, f: impl FnOnce(S) -> T) -> Secured<T> {
        Secured {
            stream: f(self.stream),
            info: self.info,
        }
    }
}
