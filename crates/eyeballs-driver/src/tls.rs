//! Secure racing with rustls (feature `rustls`): each attempt is TCP, then TLS, and the race
//! is won by the first attempt whose TLS handshake is done (HEv3 §6.1).
//!
//! The runtime-independent half lives here: the configuration ([`TlsConfig`]), what each
//! attempt offers (its server name, its ALPN list, its ECH configuration), the network that
//! makes secure attempts over any transport network ([`Tls`]) and what a secure race returns
//! ([`Secured`]). An adapter supplies the handshake on its runtime's streams
//! ([`TlsHandshake`]: tokio-rustls in `eyeballs-tokio`).
//!
//! ## An attempt
//!
//! 1. The transport network connects TCP ([`Network::connect`]).
//! 2. The attempt reports [`TransportConnected`](crate::attempt::AttemptStep::TransportConnected):
//!    the race's report gets its `transport` event, and the engine extends the Next
//!    Connection Attempt Timer (to at least twice the time TCP took).
//! 3. The TLS handshake runs, with the attempt's own client configuration
//!    ([`TlsConfig::attempt_config`]) and server name ([`TlsConfig::server_name_for`]).
//! 4. Done: the attempt wins with a [`Secured`] stream (the TLS stream, the endpoint, the
//!    negotiated ALPN). Failed (an alert, a certificate rejected, the peer closing, the
//!    [handshake timeout](TlsConfig::handshake_timeout)): the attempt fails with a
//!    [`HandshakeError`](crate::attempt::HandshakeError) (`TLS handshake failed: invalid peer certificate: UnknownIssuer`),
//!    counted as `AttemptFailure::Handshake`, and the next attempt starts at once.
//!
//! Dropping the race closes every attempt's socket, mid-handshake too.
//!
//! ## Which name is authenticated
//!
//! The server name (SNI, and the name the certificate must have) is the host name the race
//! was asked for, for every attempt: for an endpoint that came from an HTTPS record too. A
//! service record's TargetName only says where the origin is served (RFC 9460: the
//! alternative endpoint serves the origin, as with Alt-Svc, RFC 7838 §2.1, and must present
//! a certificate for it), so `example.com`'s record pointing at `cdn.example.net` still
//! authenticates `example.com`. A trailing dot is dropped and the name is lower-cased
//! (`Example.COM.` is checked as `example.com`).
//!
//! A race to an IP address literal (`"192.0.2.1:443"`, a `SocketAddr`, a list of them) has
//! no name: it is refused before anything is sent ([`Network::check`]), with an error that
//! says how to go on: give the name to check with [`TlsConfig::server_name`], or ask for the
//! address itself to be checked (a certificate with an IP address in its subjectAltName)
//! with [`TlsConfig::ip_address_names`].
//!
//! ## ALPN
//!
//! The client's ALPN list is the client configuration's `alpn_protocols`
//! ([`TlsConfig::alpn`]). An attempt to an endpoint from an HTTPS record offers the client's
//! list filtered to what the record's `alpn` offers over TCP ([`Attempt::alpn`], in the
//! client's order: RFC 9460 §7.1.2); an attempt to a plain A/AAAA address offers the whole
//! list. The protocol the server chose comes with the stream ([`SecureInfo::alpn`]).
//! [`TlsConfig::configure`] gives the engine the same list (`Config::alpn`), so that an
//! endpoint with nothing in common is not attempted at all (HEv3 §6.2).
//!
//! ## ECH
//!
//! With [`Ech::Opportunistic`] or [`Ech::Reliant`], an attempt to an endpoint whose HTTPS
//! record carries an `ech` parameter offers TLS Encrypted Client Hello with that
//! ECHConfigList (rustls `EchMode::Enable`, the HPKE suites of the aws-lc-rs provider: the
//! ClientHello carries the `encrypted_client_hello` extension, 0xfe0d, and only TLS 1.3 is
//! offered). [`Ech::Reliant`] makes the race SVCB-reliant ([`TlsConfig::configure`] sets
//! `Config::svcb_reliant` and `query_https`): no attempt starts before the HTTPS answer
//! (HEv3 §6.1, §6.3), so no ClientHello goes out before it is known whether ECH applies.
//! Limits: ECH needs the HTTPS records (a network that resolves them, such as the tokio
//! adapter's `hickory` feature); an ECHConfigList with no configuration rustls supports is
//! not used (plain TLS); a server that rejects ECH fails the attempt (no retry with its
//! `retry_configs`); no GREASE ECH is sent when the record has no `ech`; and the
//! configuration must be one this module can rebuild with ECH: one from
//! [`TlsConfig::with_roots`] (or [`webpki_roots`](TlsConfig::webpki_roots),
//! `TlsConfig::native_roots` with the `native-roots` feature), or one given an
//! [`ech_builder`](TlsConfig::ech_builder) (rustls cannot add ECH to a finished
//! `ClientConfig`).
//!
//! ## QUIC
//!
//! QUIC plugs into the same seam: a network whose [`Network::attempt`] makes QUIC attempts
//! (the attempts whose [`Attempt::protocol`] is `Quic`) with the same server name
//! ([`TlsConfig::server_name_for`]) and ALPN filtering (`h3` from the record), ending with a
//! [`Secured`] whose stream is the QUIC connection (or an enum of the two) and whose
//! [`SecureInfo::protocol`] is `Quic`. [`Tls`] refuses QUIC attempts: it makes TCP+TLS.

use std::sync::Arc;
use std::time::Duration;

#[cfg(doc)]
use eyeballs::Attempt;

#[cfg(doc)]
use crate::runtime::Network;

mod choices;
mod config;
mod ech;
mod handshake;
mod network;
mod secured;

pub use config::TlsConfig;
pub use ech::Ech;
#[cfg(feature = "futures-rustls")]
pub use handshake::FuturesTls;
pub use handshake::TlsHandshake;
pub use network::Tls;
/// The handshake timeout, for the QUIC network's handshakes too.
#[cfg(feature = "quic")]
pub(crate) use network::within;
pub use secured::{SecureInfo, Secured};

/// The rustls this module is built with (its types are in [`TlsConfig`]'s methods).
pub use rustls;

/// How long a TLS handshake may take once TCP has connected, by default: a handshake is a
/// few round trips, so 30 s is far beyond any working path, and a TLS-dead one (TCP
/// accepted, nothing said) does not hold its socket forever. This project's choice: no RFC
/// gives one.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// The crypto provider every configuration this module builds uses: aws-lc-rs (the one
/// whose HPKE suites ECH needs). Named explicitly, so that a process where other crates
/// enable rustls's `ring` provider too still builds configurations without a process-wide
/// default.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}
#[cfg(test)]
mod tests;
