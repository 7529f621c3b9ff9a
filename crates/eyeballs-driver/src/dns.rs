//! The system resolver, one address family at a time.
//!
//! `std::net::ToSocketAddrs` asks for both families in one call and returns them together, so
//! the engine could never see AAAA and A arrive separately and the Resolution Delay (RFC 8305
//! §3) could not apply. [`lookup`] calls `getaddrinfo` with `ai_family` set to one family; the
//! adapters run the AAAA and A lookups as two concurrent jobs on their runtime's blocking pool.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use dns_lookup::{AddrInfoHints, LookupErrorKind};
use eyeballs::{DnsAnswer, DnsError, RecordType};

/// Whether `name` is `localhost` or a name under it (`foo.localhost`), with or without the
/// trailing dot, in any case.
pub fn is_localhost(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name).as_bytes();
    const LOCALHOST: &[u8] = b"localhost";
    name.len() >= LOCALHOST.len()
        && name[name.len() - LOCALHOST.len()..].eq_ignore_ascii_case(LOCALHOST)
        && (name.len() == LOCALHOST.len() || name[name.len() - LOCALHOST.len() - 1] == b'.')
}

/// RFC 6761 §6.3: "Name resolution APIs and libraries SHOULD recognize localhost names as
/// special and SHOULD always return the IP loopback address for address queries and negative
/// responses for all other query types." So `localhost` resolves to both `::1` and
/// `127.0.0.1`, offline, whatever the hosts file says (many list only `127.0.0.1`, and a
/// resolver that then asks a DNS server for `localhost`'s AAAA sends it off the host).
fn localhost_answer(record: RecordType) -> DnsAnswer {
    match record {
        RecordType::Aaaa => DnsAnswer::Addresses(vec![IpAddr::V6(Ipv6Addr::LOCALHOST)]),
        RecordType::A => DnsAnswer::Addresses(vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]),
        RecordType::Https => DnsAnswer::Error(DnsError::NoData),
    }
}

/// Resolves `name` for one record type with the system resolver (`getaddrinfo`, so
/// `/etc/hosts` and the system's DNS configuration apply); `localhost` names are answered
/// with the loopback addresses without asking anyone (RFC 6761 §6.3). Blocking: run it on a
/// blocking pool.
///
/// `HTTPS` cannot be asked of `getaddrinfo`: it answers [`DnsError::Other`] ("could not find
/// out"); use a DNS resolver (the tokio adapter's `hickory` feature) for service records.
///
/// ```
/// use eyeballs::{DnsAnswer, RecordType};
///
/// // An IPv4 literal is an answer of its own family and a negative answer of the other.
/// let a = eyeballs_driver::dns::lookup("127.0.0.1", RecordType::A);
/// assert_eq!(a, DnsAnswer::Addresses(vec!["127.0.0.1".parse().unwrap()]));
/// ```
pub fn lookup(name: &str, record: RecordType) -> DnsAnswer {
    if is_localhost(name) {
        return localhost_answer(record);
    }
    let family = match record {
        RecordType::Aaaa => libc::AF_INET6,
        RecordType::A => libc::AF_INET,
        RecordType::Https => return DnsAnswer::Error(DnsError::Other),
    };
    let hints = AddrInfoHints {
        flags: 0,
        address: family,
        socktype: libc::SOCK_STREAM,
        protocol: 0,
    };
    let iter = match dns_lookup::getaddrinfo(Some(name), None, Some(hints)) {
        Ok(iter) => iter,
        Err(e) => return DnsAnswer::Error(dns_error(e.kind())),
    };
    let mut out: Vec<IpAddr> = Vec::new();
    for info in iter.flatten() {
        let ip = info.sockaddr.ip();
        // getaddrinfo with ai_family set answers that family only; guard anyway, since the
        // engine refuses an answer of the wrong family.
        let right_family = match record {
            RecordType::Aaaa => ip.is_ipv6(),
            _ => ip.is_ipv4(),
        };
        if right_family && !out.contains(&ip) {
            out.push(ip);
        }
    }
    if out.is_empty() {
        DnsAnswer::Error(DnsError::NoData)
    } else {
        DnsAnswer::Addresses(out)
    }
}

/// `getaddrinfo` errors as DNS outcomes.
fn dns_error(kind: LookupErrorKind) -> DnsError {
    match kind {
        // EAI_NONAME: glibc also returns it for a name that exists without records of the
        // family; both are definitive negatives to the engine.
        LookupErrorKind::NoName => DnsError::NxDomain,
        LookupErrorKind::NoData | LookupErrorKind::Family => DnsError::NoData,
        LookupErrorKind::Again => DnsError::Timeout,
        LookupErrorKind::Fail => DnsError::ServFail,
        _ => DnsError::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_are_asked_separately() {
        assert_eq!(
            lookup("::1", RecordType::Aaaa),
            DnsAnswer::Addresses(vec!["::1".parse().unwrap()])
        );
        assert!(matches!(lookup("::1", RecordType::A), DnsAnswer::Error(_)));
        assert!(matches!(
            lookup("127.0.0.1", RecordType::Aaaa),
            DnsAnswer::Error(_)
        ));
        assert_eq!(
            lookup("example.invalid", RecordType::Https),
            DnsAnswer::Error(DnsError::Other)
        );
    }

    /// RFC 6761 §6.3: localhost names are the loopback addresses, both families, offline.
    #[test]
    fn localhost_is_loopback_in_both_families() {
        for name in ["localhost", "LocalHost.", "api.localhost"] {
            assert_eq!(
                lookup(name, RecordType::Aaaa),
                DnsAnswer::Addresses(vec!["::1".parse().unwrap()]),
                "{name}"
            );
            assert_eq!(
                lookup(name, RecordType::A),
                DnsAnswer::Addresses(vec!["127.0.0.1".parse().unwrap()]),
                "{name}"
            );
            assert_eq!(
                lookup(name, RecordType::Https),
                DnsAnswer::Error(DnsError::NoData)
            );
        }
        assert!(!is_localhost("notlocalhost"));
        assert!(!is_localhost("localhost.example"));
        assert!(!is_localhost("host"));
    }

    #[test]
    fn error_mapping() {
        assert_eq!(dns_error(LookupErrorKind::NoName), DnsError::NxDomain);
        assert_eq!(dns_error(LookupErrorKind::NoData), DnsError::NoData);
        assert_eq!(dns_error(LookupErrorKind::Again), DnsError::Timeout);
        assert_eq!(dns_error(LookupErrorKind::Fail), DnsError::ServFail);
        assert_eq!(dns_error(LookupErrorKind::Memory), DnsError::Other);
    }
}
