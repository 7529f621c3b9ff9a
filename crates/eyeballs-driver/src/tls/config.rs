//! The configuration of a secure race ([`TlsConfig`]): the rustls client configuration and
//! the roots it trusts (given, a CA file, the compiled-in Mozilla roots, the system's), and
//! the settings around it (ALPN list, server name, ECH, handshake timeout).

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::EchMode;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, RootCertStore};

use super::ech::{Ech, EchBuilder};
use super::{DEFAULT_HANDSHAKE_TIMEOUT, provider};

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
    pub(super) client: Arc<ClientConfig>,
    pub(super) ech_builder: Option<EchBuilder>,
    pub(super) ech: Ech,
    pub(super) server_name: Option<ServerName<'static>>,
    pub(super) ip_address_names: bool,
    pub(super) handshake_timeout: Option<Duration>,
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

    /// ECH: off (the default), opportunistic or SVCB-reliant. See the [module](crate::tls).
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
}
