//! SVCB/HTTPS service records (RFC 9460) as the engine uses them (HEv3 §4.2.1, §5.1, §5.2,
//! §6.2).

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr};

use crate::addr::Protocol;

/// One SVCB or HTTPS record, already parsed by the caller's resolver.
///
/// ```
/// use eyeballs::ServiceRecord;
///
/// // example.com. HTTPS 1 . alpn="h3,h2" ipv6hint=2001:db8::1
/// let record = ServiceRecord::service(1, ".")
///     .with_alpn(["h3", "h2"])
///     .with_ipv6hint(["2001:db8::1".parse().unwrap()]);
/// assert!(!record.is_alias());
/// // example.com. HTTPS 0 cdn.example.net.
/// assert!(ServiceRecord::alias("cdn.example.net.").is_alias());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ServiceRecord {
    /// SvcPriority: 0 is AliasMode, anything else ServiceMode (lower is preferred).
    pub priority: u16,
    /// TargetName. `"."` means the owner name (RFC 9460 §2.5).
    pub target: String,
    /// The `port` SvcParam; the race's port when absent.
    pub port: Option<u16>,
    /// The `alpn` SvcParam, in the record's order.
    pub alpn: Vec<String>,
    /// The `no-default-alpn` SvcParam.
    pub no_default_alpn: bool,
    /// The `ipv4hint` SvcParam.
    pub ipv4hint: Vec<Ipv4Addr>,
    /// The `ipv6hint` SvcParam.
    pub ipv6hint: Vec<Ipv6Addr>,
    /// The `ech` SvcParam: an ECHConfigList, carried to the attempts (RFC 9849 / SVCB-ECH).
    pub ech: Option<Arc<[u8]>>,
}

impl ServiceRecord {
    /// An AliasMode record (priority 0) pointing at `target`.
    pub fn alias(target: &str) -> ServiceRecord {
        ServiceRecord {
            priority: 0,
            target: String::from(target),
            ..ServiceRecord::default()
        }
    }

    /// A ServiceMode record with `priority` (should be > 0) and `target` (`"."` for the owner).
    pub fn service(priority: u16, target: &str) -> ServiceRecord {
        ServiceRecord {
            priority,
            target: String::from(target),
            ..ServiceRecord::default()
        }
    }

    /// Sets the `alpn` SvcParam.
    pub fn with_alpn<I, S>(mut self, alpn: I) -> ServiceRecord
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.alpn = alpn.into_iter().map(Into::into).collect();
        self
    }

    /// Sets `no-default-alpn`.
    pub fn with_no_default_alpn(mut self) -> ServiceRecord {
        self.no_default_alpn = true;
        self
    }

    /// Sets the `port` SvcParam.
    pub fn with_port(mut self, port: u16) -> ServiceRecord {
        self.port = Some(port);
        self
    }

    /// Sets the `ipv4hint` SvcParam.
    pub fn with_ipv4hint(mut self, hints: impl IntoIterator<Item = Ipv4Addr>) -> ServiceRecord {
        self.ipv4hint = hints.into_iter().collect();
        self
    }

    /// Sets the `ipv6hint` SvcParam.
    pub fn with_ipv6hint(mut self, hints: impl IntoIterator<Item = Ipv6Addr>) -> ServiceRecord {
        self.ipv6hint = hints.into_iter().collect();
        self
    }

    /// Sets the `ech` SvcParam (an ECHConfigList).
    pub fn with_ech(mut self, ech: impl Into<Arc<[u8]>>) -> ServiceRecord {
        self.ech = Some(ech.into());
        self
    }

    /// AliasMode (priority 0).
    pub fn is_alias(&self) -> bool {
        self.priority == 0
    }

    /// The SVCB ALPN set (RFC 9460 §7.1.1): the `alpn` ids, plus the HTTPS default
    /// `http/1.1` unless `no-default-alpn` is set.
    pub fn alpn_set(&self) -> impl Iterator<Item = &str> {
        let default = (!self.no_default_alpn && !self.alpn.iter().any(|a| a == DEFAULT_HTTPS_ALPN))
            .then_some(DEFAULT_HTTPS_ALPN);
        self.alpn.iter().map(String::as_str).chain(default)
    }
}

/// RFC 9460 §9.1: the default ALPN of the HTTPS RR is "http/1.1".
pub const DEFAULT_HTTPS_ALPN: &str = "http/1.1";

/// The transport an ALPN id runs over: `h3` (and its drafts `h3-NN`), `doq` (RFC 9250) and
/// `hq-*` are QUIC; everything else (`h2`, `http/1.1`, `dot`, ...) is TCP.
///
/// ```
/// use eyeballs::{svcb::alpn_transport, Protocol};
///
/// assert_eq!(alpn_transport("h3"), Protocol::Quic);
/// assert_eq!(alpn_transport("h2"), Protocol::Tcp);
/// ```
pub fn alpn_transport(alpn: &str) -> Protocol {
    if alpn == "h3" || alpn.starts_with("h3-") || alpn.starts_with("doq") || alpn.starts_with("hq-")
    {
        Protocol::Quic
    } else {
        Protocol::Tcp
    }
}

/// What one service record allows, after the client's ALPN support is applied (HEv3 §6.2:
/// "The client SHOULD NOT attempt to make a connection to a service endpoint whose SVCB ALPN
/// set does not contain any protocols that the client supports").
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Usable {
    /// The record's `alpn` list filtered by the client's support (what attempts carry).
    pub(crate) alpn: Arc<[String]>,
    /// Whether TCP / QUIC can be used at all.
    pub(crate) tcp: bool,
    pub(crate) quic: bool,
}

pub(crate) fn usable(record: &ServiceRecord, supported: Option<&[String]>) -> Usable {
    let ok = |id: &str| supported.is_none_or(|s| s.iter().any(|x| x == id));
    let mut tcp = false;
    let mut quic = false;
    for id in record.alpn_set().filter(|id| ok(id)) {
        match alpn_transport(id) {
            Protocol::Tcp => tcp = true,
            Protocol::Quic => quic = true,
        }
    }
    let alpn: Vec<String> = record.alpn.iter().filter(|id| ok(id)).cloned().collect();
    Usable {
        alpn: alpn.into(),
        tcp,
        quic,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| String::from(*s)).collect()
    }

    #[test]
    fn alpn_set_adds_the_default_unless_told_not_to() {
        let r = ServiceRecord::service(1, ".").with_alpn(["h3", "h2"]);
        assert_eq!(
            r.alpn_set().collect::<Vec<_>>(),
            vec!["h3", "h2", "http/1.1"]
        );
        let r = r.with_no_default_alpn();
        assert_eq!(r.alpn_set().collect::<Vec<_>>(), vec!["h3", "h2"]);
    }

    /// Checklist E5: an h3-only record is unusable for an h2/http1.1 client.
    #[test]
    fn e5_alpn_filtering() {
        let supported = strings(&["h2", "http/1.1"]);
        let r = ServiceRecord::service(1, "svc1.")
            .with_alpn(["h3"])
            .with_no_default_alpn();
        let u = usable(&r, Some(&supported));
        assert!(!u.tcp && !u.quic);
        let r = ServiceRecord::service(1, "svc1.").with_alpn(["h3", "h2"]);
        let u = usable(&r, Some(&supported));
        assert!(u.tcp && !u.quic);
        assert_eq!(&*u.alpn, &strings(&["h2"])[..]);
        let u = usable(&r, None);
        assert!(u.tcp && u.quic);
    }
}
