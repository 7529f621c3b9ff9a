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
//! [`native_roots`](TlsConfig::native_roots)), or one given an
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

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use eyeballs::{Attempt, AttemptId, Config, DnsAnswer, Protocol, RecordType, Target};
use rustls::client::{EchConfig, EchMode, EchStatus};
use rustls::pki_types::{EchConfigListBytes, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore};

use crate::attempt::{self, BoxAttempt};
use crate::runtime::{BoxFuture, Network, RaceContext, Runtime};

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

/// Whether and how TLS Encrypted Client Hello is used (see the [module](self)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Ech {
    /// Never: ECH configurations from HTTPS records are ignored (the default).
    #[default]
    Off,
    /// When the endpoint's HTTPS record carries one; attempts start as usual (with
    /// unprotected DNS, SVCB information is opportunistic: HEv3 §6.3).
    Opportunistic,
    /// SVCB-reliant (HEv3 §6.1, §6.3; RFC 9460 §3): no attempt starts before the HTTPS
    /// answer, and an endpoint's ECH configuration is used when it has one. Use it with
    /// cryptographically protected DNS.
    Reliant,
}

/// Builds a client configuration with ECH ([`TlsConfig::ech_builder`]).
type EchBuilder = Arc<dyn Fn(EchMode) -> Result<ClientConfig, rustls::Error> + Send + Sync>;

/// The TLS side of a secure race: the rustls client configuration (roots, ALPN list,
/// client certificate, ...), the name to authenticate when the target has none, ECH, and
/// the handshake timeout. Cheap to clone.
///
/// ```
/// use std::time::Duration;
/// use eyeballs_driver::tls::{Ech, TlsConfig};
///
/// let config = TlsConfig::webpki_roots()?
///     .alpn(["h2", "http/1.1"])
///     .ech(Ech::Opportunistic)
///     .handshake_timeout(Some(Duration::from_secs(10)));
/// assert_eq!(config.client_config().alpn_protocols, [b"h2".to_vec(), b"http/1.1".to_vec()]);
/// # Ok::<(), eyeballs_driver::tls::rustls::Error>(())
/// ```
#[derive(Clone)]
pub struct TlsConfig {
    client: Arc<ClientConfig>,
    ech_builder: Option<EchBuilder>,
    ech: Ech,
    server_name: Option<ServerName<'static>>,
    ip_address_names: bool,
    handshake_timeout: Option<Duration>,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("client", &self.client)
            .field("ech", &self.ech)
            .field("can_build_ech", &self.ech_builder.is_some())
            .field("server_name", &self.server_name)
            .field("ip_address_names", &self.ip_address_names)
            .field("handshake_timeout", &self.handshake_timeout)
            .finish()
    }
}

impl TlsConfig {
    /// Your rustls client configuration, as it is (its `alpn_protocols` are the client's
    /// ALPN list). ECH cannot be added to it: for ECH, use [`with_roots`](TlsConfig::with_roots)
    /// or give an [`ech_builder`](TlsConfig::ech_builder).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use eyeballs_driver::tls::{TlsConfig, provider, rustls};
    ///
    /// let mut roots = rustls::RootCertStore::empty();
    /// roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    /// let client = rustls::ClientConfig::builder_with_provider(provider())
    ///     .with_safe_default_protocol_versions()?
    ///     .with_root_certificates(roots)
    ///     .with_no_client_auth();
    /// let config = TlsConfig::new(Arc::new(client));
    /// # let _ = config; Ok::<(), rustls::Error>(())
    /// ```
    pub fn new(client: impl Into<Arc<ClientConfig>>) -> TlsConfig {
        TlsConfig {
            client: client.into(),
            ech_builder: None,
            ech: Ech::Off,
            server_name: None,
            ip_address_names: false,
            handshake_timeout: Some(DEFAULT_HANDSHAKE_TIMEOUT),
        }
    }

    /// A configuration that trusts `roots`: the aws-lc-rs [`provider`], TLS 1.2 and 1.3
    /// (1.3 only with ECH), no client certificate. It can be rebuilt with ECH. The error is
    /// rustls's, should the provider support none of the protocol versions (aws-lc-rs
    /// supports both).
    ///
    /// ```
    /// use eyeballs_driver::tls::{TlsConfig, rustls};
    ///
    /// let roots = rustls::RootCertStore::empty(); // add your CA
    /// let config = TlsConfig::with_roots(roots)?;
    /// # let _ = config; Ok::<(), rustls::Error>(())
    /// ```
    pub fn with_roots(roots: impl Into<Arc<RootCertStore>>) -> Result<TlsConfig, rustls::Error> {
        let roots: Arc<RootCertStore> = roots.into();
        let build = move |ech: Option<EchMode>| -> Result<ClientConfig, rustls::Error> {
            let builder = ClientConfig::builder_with_provider(provider());
            let builder = match ech {
                Some(mode) => builder.with_ech(mode)?,
                None => builder.with_safe_default_protocol_versions()?,
            };
            Ok(builder
                .with_root_certificates(roots.clone())
                .with_no_client_auth())
        };
        let client = build(None)?;
        Ok(TlsConfig {
            ech_builder: Some(Arc::new(move |mode| build(Some(mode)))),
            ..TlsConfig::new(client)
        })
    }

    /// A configuration that trusts the CA certificates of a PEM file (`-----BEGIN
    /// CERTIFICATE-----` blocks; anything else in it is ignored): [`with_roots`](TlsConfig::with_roots)
    /// with them. The error names the file and the problem: it cannot be read, a block is
    /// not valid PEM, no certificate is in it, or none of them is a usable CA certificate.
    ///
    /// ```
    /// use eyeballs_driver::tls::TlsConfig;
    ///
    /// let e = TlsConfig::with_ca_file("/nonexistent/ca.pem").unwrap_err();
    /// assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
    /// assert!(e.to_string().starts_with("/nonexistent/ca.pem: "), "{e}");
    /// ```
    pub fn with_ca_file(path: impl AsRef<std::path::Path>) -> io::Result<TlsConfig> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let path = path.as_ref();
        let shown = path.display();
        let text =
            std::fs::read(path).map_err(|e| io::Error::new(e.kind(), format!("{shown}: {e}")))?;
        let bad =
            |why: String| io::Error::new(io::ErrorKind::InvalidData, format!("{shown}: {why}"));
        let certs = CertificateDer::pem_slice_iter(&text)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(format!("not a valid PEM file: {e}")))?;
        if certs.is_empty() {
            return Err(bad("no CERTIFICATE block in it".to_string()));
        }
        let mut roots = RootCertStore::empty();
        let (added, ignored) = roots.add_parsable_certificates(certs);
        if added == 0 {
            return Err(bad(format!(
                "none of its {ignored} certificate(s) can be used as a root (not X.509 DER \
                 a trust anchor can be made of)"
            )));
        }
        TlsConfig::with_roots(roots).map_err(io::Error::other)
    }

    /// The Mozilla root certificates, compiled in (the `webpki-roots` crate): the default
    /// roots, the same on every machine. [`with_roots`](TlsConfig::with_roots) with them.
    ///
    /// ```
    /// let config = eyeballs_driver::tls::TlsConfig::webpki_roots()?;
    /// # let _ = config; Ok::<(), eyeballs_driver::tls::rustls::Error>(())
    /// ```
    #[cfg(feature = "webpki-roots")]
    #[cfg_attr(docsrs, doc(cfg(feature = "webpki-roots")))]
    pub fn webpki_roots() -> Result<TlsConfig, rustls::Error> {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        TlsConfig::with_roots(roots)
    }

    /// The operating system's root certificates (the `rustls-native-certs` crate: on Linux
    /// the distribution's bundle). Fails when none can be loaded; certificates that do not
    /// parse are left out.
    #[cfg(feature = "native-roots")]
    #[cfg_attr(docsrs, doc(cfg(feature = "native-roots")))]
    pub fn native_roots() -> io::Result<TlsConfig> {
        let found = rustls_native_certs::load_native_certs();
        let mut roots = RootCertStore::empty();
        let (added, _ignored) = roots.add_parsable_certificates(found.certs);
        if added == 0 {
            let why = found
                .errors
                .first()
                .map(|e| e.to_string())
                .unwrap_or_else(|| "no certificate found".to_string());
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no root certificate of the system could be loaded: {why}"),
            ));
        }
        TlsConfig::with_roots(roots).map_err(io::Error::other)
    }

    /// The client's ALPN list, most preferred first (`["h2", "http/1.1"]`): the client
    /// configuration's `alpn_protocols`. Each attempt offers it filtered by its endpoint's
    /// HTTPS record ([`offered_alpn`](TlsConfig::offered_alpn)).
    pub fn alpn<I, P>(mut self, protocols: I) -> TlsConfig
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        Arc::make_mut(&mut self.client).alpn_protocols =
            protocols.into_iter().map(|p| p.as_ref().to_vec()).collect();
        self
    }

    /// Authenticate `name` instead of the race's host name, for every attempt: for a race
    /// to IP addresses, or to a host known by another name.
    ///
    /// ```
    /// use eyeballs_driver::tls::{TlsConfig, rustls::pki_types::ServerName};
    ///
    /// let config = TlsConfig::webpki_roots()?.server_name(ServerName::try_from("example.com")?);
    /// # let _ = config; Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn server_name(mut self, name: ServerName<'static>) -> TlsConfig {
        self.server_name = Some(name);
        self
    }

    /// Whether a race to an IP address literal (with no [`server_name`](TlsConfig::server_name))
    /// checks each attempt's certificate for that address (an IP address in its
    /// subjectAltName, RFC 5280 §4.2.1.6), instead of being refused (default `false`: an
    /// address is rarely what a certificate names, and a name given by mistake as an
    /// address would otherwise fail every handshake).
    pub fn ip_address_names(mut self, allow: bool) -> TlsConfig {
        self.ip_address_names = allow;
        self
    }

    /// ECH: off (the default), opportunistic or SVCB-reliant. See the [module](self).
    pub fn ech(mut self, ech: Ech) -> TlsConfig {
        self.ech = ech;
        self
    }

    /// How to build this client configuration again with ECH (rustls takes ECH when a
    /// configuration is built, not afterwards): `build(mode)` must return the same
    /// configuration as [`new`](TlsConfig::new) was given, built with `with_ech(mode)`.
    /// Configurations from [`with_roots`](TlsConfig::with_roots) have one already.
    ///
    /// ```
    /// use eyeballs_driver::tls::{Ech, TlsConfig, provider, rustls};
    ///
    /// let roots = std::sync::Arc::new(rustls::RootCertStore::empty());
    /// let build = {
    ///     let roots = roots.clone();
    ///     move |ech: Option<rustls::client::EchMode>| -> Result<rustls::ClientConfig, rustls::Error> {
    ///         let b = rustls::ClientConfig::builder_with_provider(provider());
    ///         let b = match ech {
    ///             Some(mode) => b.with_ech(mode)?,
    ///             None => b.with_safe_default_protocol_versions()?,
    ///         };
    ///         Ok(b.with_root_certificates(roots.clone()).with_no_client_auth())
    ///     }
    /// };
    /// let config = TlsConfig::new(build(None)?)
    ///     .ech_builder(move |mode| build(Some(mode)))
    ///     .ech(Ech::Opportunistic);
    /// # let _ = config; Ok::<(), rustls::Error>(())
    /// ```
    pub fn ech_builder<F>(mut self, build: F) -> TlsConfig
    where
        F: Fn(EchMode) -> Result<ClientConfig, rustls::Error> + Send + Sync + 'static,
    {
        self.ech_builder = Some(Arc::new(build));
        self
    }

    /// How long the TLS handshake may take once TCP has connected (default
    /// [`DEFAULT_HANDSHAKE_TIMEOUT`], 30 s; `None`: no limit but the race's own timeouts).
    /// When it passes the attempt fails as a handshake failure (`TimedOut`), and the next
    /// attempt starts.
    pub fn handshake_timeout(mut self, timeout: Option<Duration>) -> TlsConfig {
        self.handshake_timeout = timeout;
        self
    }

    /// The client configuration (its `alpn_protocols` are the client's ALPN list).
    pub fn client_config(&self) -> &Arc<ClientConfig> {
        &self.client
    }

    /// The ECH setting.
    pub fn ech_setting(&self) -> Ech {
        self.ech
    }

    /// The handshake timeout.
    pub fn handshake_timeout_setting(&self) -> Option<Duration> {
        self.handshake_timeout
    }

    /// Gives the engine what this TLS configuration implies: the client's ALPN list as
    /// `alpn` (unless the engine has one already), so that an endpoint whose HTTPS record
    /// shares no protocol with it is not attempted (HEv3 §6.2); with [`Ech::Reliant`],
    /// `query_https` and `svcb_reliant` (HEv3 §6.1, §6.3). The adapters' `Connector::tls`
    /// calls it.
    ///
    /// ```
    /// use eyeballs_driver::tls::{Ech, TlsConfig};
    ///
    /// let mut config = eyeballs::Config::default();
    /// TlsConfig::webpki_roots()?.alpn(["h2"]).ech(Ech::Reliant).configure(&mut config);
    /// assert_eq!(config.alpn, Some(vec!["h2".to_string()]));
    /// assert!(config.svcb_reliant && config.query_https);
    /// # Ok::<(), eyeballs_driver::tls::rustls::Error>(())
    /// ```
    pub fn configure(&self, config: &mut Config) {
        if config.alpn.is_none() && !self.client.alpn_protocols.is_empty() {
            let ids: Vec<String> = self
                .client
                .alpn_protocols
                .iter()
                .filter_map(|p| String::from_utf8(p.clone()).ok())
                .collect();
            if !ids.is_empty() {
                config.alpn = Some(ids);
            }
        }
        if self.ech == Ech::Reliant {
            config.query_https = true;
            config.svcb_reliant = true;
        }
    }

    /// Whether a race to `target` can make TLS attempts: `Err` says why not (an IP address
    /// literal with no name to authenticate; a host name rustls cannot send as SNI; ECH
    /// asked of a configuration that cannot be rebuilt with it).
    ///
    /// ```
    /// use eyeballs::Target;
    /// use eyeballs_driver::tls::TlsConfig;
    ///
    /// let config = TlsConfig::webpki_roots()?;
    /// assert!(config.check(&Target::host("example.com", 443)).is_ok());
    /// let literal = Target::addresses(["192.0.2.1:443".parse().unwrap()]);
    /// assert!(config.check(&literal).unwrap_err().contains("server_name"));
    /// assert!(config.ip_address_names(true).check(&literal).is_ok());
    /// # Ok::<(), eyeballs_driver::tls::rustls::Error>(())
    /// ```
    pub fn check(&self, target: &Target) -> Result<(), String> {
        if self.ech != Ech::Off && self.ech_builder.is_none() {
            return Err(
                "ECH is enabled, but the TLS configuration was given as a finished \
                        rustls ClientConfig, to which rustls cannot add ECH: build it with \
                        TlsConfig::with_roots (or webpki_roots, native_roots), or give \
                        TlsConfig::ech_builder"
                    .to_string(),
            );
        }
        if self.server_name.is_some() {
            return Ok(());
        }
        match crate::runtime::host_name(target) {
            Some(name) => dns_name(name).map(drop),
            None if self.ip_address_names => Ok(()),
            None => Err(
                "TLS needs a name to authenticate, and the target is an IP address: \
                         connect by name, give the name the server's certificate has with \
                         TlsConfig::server_name, or check the address itself (a certificate \
                         for the IP address) with TlsConfig::ip_address_names(true)"
                    .to_string(),
            ),
        }
    }

    /// The name attempt `attempt` of a race authenticates (SNI and the certificate check):
    /// the [`server_name`](TlsConfig::server_name) given, else the race's host name (for
    /// every endpoint, from an HTTPS record too), else (with
    /// [`ip_address_names`](TlsConfig::ip_address_names)) the attempt's IP address.
    ///
    /// ```
    /// use eyeballs::{Attempt, AttemptId, Protocol, Target};
    /// use eyeballs_driver::{RaceContext, SocketConfig};
    /// use eyeballs_driver::tls::TlsConfig;
    ///
    /// let target = Target::host("example.com.", 443);
    /// let sockets = SocketConfig::default();
    /// let attempt = Attempt { id: AttemptId(0), addr: "192.0.2.1:443".parse().unwrap(),
    ///     protocol: Protocol::Tcp, alpn: None, ech: None };
    /// let name = TlsConfig::webpki_roots()?
    ///     .server_name_for(&RaceContext::new(&target, &sockets), &attempt)
    ///     .unwrap();
    /// assert_eq!(name.to_str(), "example.com");
    /// # Ok::<(), eyeballs_driver::tls::rustls::Error>(())
    /// ```
    pub fn server_name_for(
        &self,
        race: &RaceContext<'_>,
        attempt: &Attempt,
    ) -> Result<ServerName<'static>, io::Error> {
        if let Some(name) = &self.server_name {
            return Ok(name.clone());
        }
        let invalid = |why: String| io::Error::new(io::ErrorKind::InvalidInput, why);
        match race.host_name() {
            Some(name) => dns_name(name).map_err(invalid),
            None if self.ip_address_names => Ok(ServerName::IpAddress(attempt.addr.ip().into())),
            None => Err(invalid(
                "TLS needs a name to authenticate, and the target is an IP address".into(),
            )),
        }
    }

    /// The ALPN ids `attempt` offers: the client's ids that run over the attempt's transport
    /// (`h3` over QUIC, RFC 9114 §3.1; `h2`, `http/1.1` and every other id over TCP:
    /// [`eyeballs::svcb::alpn_transport`]), filtered (for an endpoint from an HTTPS record) to
    /// the ids the record offers, in the client's order (RFC 9460 §7.1.2). An error when the
    /// client has a list and nothing in it is left: no id for the transport (a QUIC attempt
    /// with `["h2", "http/1.1"]`), or nothing in common with the record (the engine skips
    /// such endpoints when its `alpn` is the client's list: [`configure`](TlsConfig::configure)).
    /// No client list: nothing offered.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use eyeballs::{Attempt, AttemptId, Protocol};
    /// use eyeballs_driver::tls::TlsConfig;
    ///
    /// let config = TlsConfig::webpki_roots()?.alpn(["h3", "h2", "http/1.1"]);
    /// let mut attempt = Attempt { id: AttemptId(0), addr: "192.0.2.1:443".parse().unwrap(),
    ///     protocol: Protocol::Tcp, alpn: None, ech: None };
    /// assert_eq!(config.offered_alpn(&attempt).unwrap(), [b"h2".to_vec(), b"http/1.1".to_vec()]);
    /// // The record offers h3 (QUIC) and http/1.1: over TCP, http/1.1 only.
    /// attempt.alpn = Some(Arc::from(vec!["h3".to_string(), "http/1.1".to_string()]));
    /// assert_eq!(config.offered_alpn(&attempt).unwrap(), [b"http/1.1".to_vec()]);
    /// // Over QUIC, h3.
    /// attempt.protocol = Protocol::Quic;
    /// assert_eq!(config.offered_alpn(&attempt).unwrap(), [b"h3".to_vec()]);
    /// # Ok::<(), eyeballs_driver::tls::rustls::Error>(())
    /// ```
    pub fn offered_alpn(&self, attempt: &Attempt) -> Result<Vec<Vec<u8>>, io::Error> {
        let client = &self.client.alpn_protocols;
        if client.is_empty() {
            return Ok(Vec::new());
        }
        let show_client = || {
            client
                .iter()
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let over_transport = client.iter().filter(|p| {
            std::str::from_utf8(p).map_or(Protocol::Tcp, eyeballs::svcb::alpn_transport)
                == attempt.protocol
        });
        let Some(_) = attempt.alpn else {
            let offered: Vec<Vec<u8>> = over_transport.cloned().collect();
            if offered.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "this client offers [{}], none of which runs over {} (add one to \
                         TlsConfig::alpn: h3 for QUIC, h2 or http/1.1 for TCP)",
                        show_client(),
                        transport_name(attempt.protocol)
                    ),
                ));
            }
            return Ok(offered);
        };
        let endpoint: Vec<&str> = attempt.alpn_for_transport().collect();
        let offered: Vec<Vec<u8>> = over_transport
            .filter(|p| endpoint.iter().any(|id| id.as_bytes() == p.as_slice()))
            .cloned()
            .collect();
        if offered.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "the endpoint's HTTPS record offers ALPN [{}] over {}, and this client \
                     offers [{}]: nothing in common (RFC 9460 §7.1.2)",
                    endpoint.join(", "),
                    transport_name(attempt.protocol),
                    show_client(),
                ),
            ));
        }
        Ok(offered)
    }

    /// The client configuration attempt `attempt` uses: this one, with the ALPN list it
    /// offers ([`offered_alpn`](TlsConfig::offered_alpn)) and, when ECH is enabled and its
    /// endpoint's record carries an ECH configuration rustls supports, ECH.
    pub fn attempt_config(&self, attempt: &Attempt) -> Result<Arc<ClientConfig>, io::Error> {
        let alpn = self.offered_alpn(attempt)?;
        if let Some(ech) = self.ech_for(attempt) {
            let build = self.ech_builder.as_ref().ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "ECH is enabled, and this TLS configuration cannot be rebuilt with it",
                )
            })?;
            let mut config = build(EchMode::Enable(ech))
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            config.alpn_protocols = alpn;
            return Ok(Arc::new(config));
        }
        if alpn == self.client.alpn_protocols {
            return Ok(self.client.clone());
        }
        let mut config = ClientConfig::clone(&self.client);
        config.alpn_protocols = alpn;
        Ok(Arc::new(config))
    }

    /// The ECH configuration `attempt` offers, if ECH is enabled and its endpoint's record
    /// has one rustls supports.
    pub(crate) fn ech_for(&self, attempt: &Attempt) -> Option<EchConfig> {
        if self.ech == Ech::Off {
            return None;
        }
        let list = attempt.ech.as_ref()?;
        EchConfig::new(
            EchConfigListBytes::from(list.to_vec()),
            rustls::crypto::aws_lc_rs::hpke::ALL_SUPPORTED_SUITES,
        )
        .ok()
    }
}

/// A transport as messages name it: `TCP`, `QUIC`.
pub(crate) fn transport_name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Tcp => "TCP",
        Protocol::Quic => "QUIC",
    }
}

/// `name` (without a trailing dot, in lower case: DNS names compare without case, RFC 4343)
/// as a DNS server name, or why rustls cannot use it.
fn dns_name(name: &str) -> Result<ServerName<'static>, String> {
    let bare = name.strip_suffix('.').unwrap_or(name);
    ServerName::try_from(bare.to_ascii_lowercase())
        .map_err(|e| format!("the host name {name:?} cannot be sent as a TLS server name: {e}"))
}

/// How a runtime runs a rustls client handshake on its transport streams: tokio-rustls for
/// tokio (`eyeballs_tokio::TokioTls`), futures-rustls for the `futures-io` runtimes.
pub trait TlsHandshake<T>: Send + Sync + 'static {
    /// The TLS stream over `T`.
    type Stream: Send + 'static;

    /// Runs the client handshake on `transport` with `config`, authenticating `name`.
    /// Dropping the future closes `transport`.
    fn handshake(
        &self,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
        transport: T,
    ) -> BoxFuture<io::Result<Self::Stream>>;

    /// The rustls connection inside a stream (for the negotiated ALPN, the ECH status).
    fn connection(stream: &Self::Stream) -> &ClientConnection;
}

/// The TLS handshake on `futures-io` streams, with futures-rustls (feature
/// `futures-rustls`): the handshake of the smol adapter, and of any runtime whose TCP
/// streams implement `futures_io::{AsyncRead, AsyncWrite}`.
///
/// ```
/// use eyeballs_driver::SystemNetwork;
/// use eyeballs_driver::tls::{FuturesTls, Tls, TlsConfig};
///
/// let network = Tls::new(SystemNetwork, FuturesTls, TlsConfig::webpki_roots()?);
/// # let _ = network; Ok::<(), eyeballs_driver::tls::rustls::Error>(())
/// ```
#[cfg(feature = "futures-rustls")]
#[cfg_attr(docsrs, doc(cfg(feature = "futures-rustls")))]
#[derive(Clone, Copy, Debug, Default)]
pub struct FuturesTls;

#[cfg(feature = "futures-rustls")]
impl<T> TlsHandshake<T> for FuturesTls
where
    T: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin + Send + 'static,
{
    type Stream = futures_rustls::client::TlsStream<T>;

    fn handshake(
        &self,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
        transport: T,
    ) -> BoxFuture<io::Result<Self::Stream>> {
        Box::pin(futures_rustls::TlsConnector::from(config).connect(name, transport))
    }

    fn connection(stream: &Self::Stream) -> &ClientConnection {
        stream.get_ref().1
    }
}

/// A network whose attempts are TCP (made by `N`), then TLS (run by `H`): a race over it
/// ends when a TLS handshake is done. `resolve` is `N`'s. See the [module](self).
///
/// ```
/// use eyeballs_driver::SystemNetwork;
/// use eyeballs_driver::tls::{Tls, TlsConfig};
///
/// # struct MyTls;
/// # impl<T: Send + 'static> eyeballs_driver::tls::TlsHandshake<T> for MyTls {
/// #     type Stream = rustls::ClientConnection;
/// #     fn handshake(&self, _: std::sync::Arc<rustls::ClientConfig>, _: rustls::pki_types::ServerName<'static>, _: T)
/// #         -> eyeballs_driver::BoxFuture<std::io::Result<Self::Stream>> { unimplemented!() }
/// #     fn connection(s: &Self::Stream) -> &rustls::ClientConnection { s }
/// # }
/// // `MyTls` runs the handshake on the runtime's streams (tokio: eyeballs_tokio::TokioTls).
/// let network = Tls::new(SystemNetwork, MyTls, TlsConfig::webpki_roots()?);
/// assert!(network.config().client_config().alpn_protocols.is_empty());
/// # Ok::<(), eyeballs_driver::tls::rustls::Error>(())
/// ```
pub struct Tls<N, H> {
    inner: Arc<TlsInner<N, H>>,
}

struct TlsInner<N, H> {
    network: Arc<N>,
    handshake: H,
    config: TlsConfig,
}

impl<N, H> Clone for Tls<N, H> {
    fn clone(&self) -> Self {
        Tls {
            inner: self.inner.clone(),
        }
    }
}

impl<N, H> fmt::Debug for Tls<N, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl<N, H> Tls<N, H> {
    /// TLS over `network`'s TCP, handshakes run by `handshake`, configured by `config`.
    pub fn new(network: N, handshake: H, config: TlsConfig) -> Tls<N, H> {
        Tls::over(Arc::new(network), handshake, config)
    }

    /// [`new`](Tls::new) over a network already shared (a connector's).
    pub fn over(network: Arc<N>, handshake: H, config: TlsConfig) -> Tls<N, H> {
        Tls {
            inner: Arc::new(TlsInner {
                network,
                handshake,
                config,
            }),
        }
    }

    /// The TLS configuration.
    pub fn config(&self) -> &TlsConfig {
        &self.inner.config
    }

    /// The transport network.
    pub fn network(&self) -> &N {
        &self.inner.network
    }
}

impl<R, N, H> Network<R> for Tls<N, H>
where
    R: Runtime,
    N: Network<R>,
    H: TlsHandshake<N::Stream>,
{
    type Stream = Secured<H::Stream>;

    fn resolve(&self, runtime: &R, name: &str, record: RecordType) -> BoxFuture<DnsAnswer> {
        self.inner.network.resolve(runtime, name, record)
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
        let config = &self.inner.config;
        let prepared = check_protocol(attempt).and_then(|()| {
            Ok((
                config.attempt_config(attempt)?,
                config.server_name_for(race, attempt)?,
            ))
        });
        let (client, name) = match prepared {
            Ok(prepared) => prepared,
            Err(e) => return attempt::single(Box::pin(std::future::ready(Err(e)))),
        };
        let transport = self.inner.network.connect(runtime, attempt, race);
        let inner = self.inner.clone();
        let runtime = runtime.clone();
        let endpoint = attempt.clone();
        attempt::secure("TLS", transport, move |tcp| {
            let shown = name.to_str().into_owned();
            let handshake = inner.handshake.handshake(client, name, tcp);
            let timeout = inner.config.handshake_timeout;
            let handshake = within(&runtime, timeout, handshake, "TLS", "of the TCP connection");
            Box::pin(async move {
                let stream = handshake.await?;
                let connection = H::connection(&stream);
                let info = SecureInfo::new(
                    &endpoint,
                    &shown,
                    connection.alpn_protocol().map(<[u8]>::to_vec),
                    connection.ech_status(),
                );
                Ok(Secured::new(stream, info))
            })
        })
    }

    fn check(&self, target: &Target) -> Result<(), String> {
        self.inner.network.check(target)?;
        self.inner.config.check(target)
    }
}

/// [`Tls`] makes TCP attempts only.
fn check_protocol(attempt: &Attempt) -> Result<(), io::Error> {
    match attempt.protocol {
        Protocol::Tcp => Ok(()),
        Protocol::Quic => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "a QUIC attempt, and this network makes TCP+TLS attempts only",
        )),
    }
}

/// `handshake`, failing with `TimedOut` if it takes longer than `timeout` (from now): `no
/// {layer} handshake within {timeout} {since}`.
pub(crate) fn within<R: Runtime, S: Send + 'static>(
    runtime: &R,
    timeout: Option<Duration>,
    handshake: BoxFuture<io::Result<S>>,
    layer: &'static str,
    since: &'static str,
) -> BoxFuture<io::Result<S>> {
    let Some(timeout) = timeout else {
        return handshake;
    };
    let mut handshake = handshake;
    let mut sleep = runtime.sleep_until(runtime.now() + timeout);
    Box::pin(std::future::poll_fn(move |cx| {
        if let std::task::Poll::Ready(result) = handshake.as_mut().poll(cx) {
            return std::task::Poll::Ready(result);
        }
        sleep.as_mut().poll(cx).map(|()| {
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no {layer} handshake within {timeout:?} {since}"),
            ))
        })
    }))
}

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

#[cfg(test)]
mod tests;
