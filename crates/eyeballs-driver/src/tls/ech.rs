//! TLS Encrypted Client Hello: the setting ([`Ech`]) and the ECH configuration an attempt
//! offers (see the [module](crate::tls)).

use std::sync::Arc;

use eyeballs::Attempt;
use rustls::ClientConfig;
use rustls::client::{EchConfig, EchMode};
use rustls::pki_types::EchConfigListBytes;

use super::config::TlsConfig;

/// Whether and how TLS Encrypted Client Hello is used (see the [module](crate::tls)).
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
pub(super) type EchBuilder =
    Arc<dyn Fn(EchMode) -> Result<ClientConfig, rustls::Error> + Send + Sync>;
impl TlsConfig {
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
