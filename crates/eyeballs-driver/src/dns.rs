//! The system resolver, one address family at a time.
//!
//! `std::net::ToSocketAddrs` asks for both families in one call and returns them together, so
//! the engine could never see AAAA and A arrive separately and the Resolution Delay (RFC 8305
//! §3) could not apply. [`lookup`] calls `getaddrinfo` with `ai_family` set to one family; the
//! adapters run the AAAA and A lookups as two concurrent jobs on their runtime's blocking pool.

use std::net::IpAddr;

use dns_lookup::{AddrInfoHints, LookupErrorKind};
use eyeballs::{DnsAnswer, DnsError, RecordType};

/// Resolves `name` for one record type with the system resolver (`getaddrinfo`, so
/// `/etc/hosts`, `localhost` and the system's DNS configuration apply). Blocking: run it on a
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
        // localhost resolves offline (hosts file); at least IPv4 everywhere.
        match lookup("localhost", RecordType::A) {
            DnsAnswer::Addresses(a) => assert!(a.iter().all(|ip| ip.is_loopback() && ip.is_ipv4())),
            other => panic!("localhost A: {other:?}"),
        }
        assert_eq!(
            lookup("localhost", RecordType::Https),
            DnsAnswer::Error(DnsError::Other)
        );
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
