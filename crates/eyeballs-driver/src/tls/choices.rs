//! What a [`TlsConfig`] decides for a race and for each of its attempts: what the engine is
//! told, whether the race can make TLS attempts at all, the name each attempt authenticates,
//! the ALPN list it offers and the client configuration it uses.

use std::io;
use std::sync::Arc;

use eyeballs::{Attempt, Config, Protocol, Target};
use rustls::ClientConfig;
use rustls::client::EchMode;
use rustls::pki_types::ServerName;

use super::config::TlsConfig;
use super::ech::Ech;
use crate::runtime::RaceContext;

impl TlsConfig {
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
