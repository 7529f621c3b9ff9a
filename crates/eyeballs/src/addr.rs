//! Address families, transport protocols and the "can this be connected to at all" check.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};

/// An IP address family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// IPv6 (AAAA records).
    V6,
    /// IPv4 (A records).
    V4,
}

impl Family {
    /// The family of `ip`. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is the IPv4
    /// address it maps, so it counts as IPv4: the engine connects it in its IPv4 form (see
    /// [`canonical`]).
    ///
    /// ```
    /// use eyeballs::Family;
    ///
    /// assert_eq!(Family::of(&"2001:db8::1".parse().unwrap()), Family::V6);
    /// assert_eq!(Family::of(&"::ffff:192.0.2.1".parse().unwrap()), Family::V4);
    /// ```
    pub const fn of(ip: &IpAddr) -> Family {
        match ip.to_canonical() {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    /// The other family.
    pub const fn other(self) -> Family {
        match self {
            Family::V4 => Family::V6,
            Family::V6 => Family::V4,
        }
    }

    /// `0` for IPv6, `1` for IPv4: the index in a [`PerFamily`].
    const fn index(self) -> usize {
        match self {
            Family::V6 => 0,
            Family::V4 => 1,
        }
    }
}

/// One value per address family, indexed by [`Family`] (`values[Family::V6]`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PerFamily<T>([T; 2]);

impl<T> PerFamily<T> {
    /// The IPv6 value and the IPv4 value.
    pub(crate) const fn new(v6: T, v4: T) -> PerFamily<T> {
        PerFamily([v6, v4])
    }

    /// Both values, IPv6 first.
    pub(crate) fn iter(&self) -> core::slice::Iter<'_, T> {
        self.0.iter()
    }
}

impl<T> core::ops::Index<Family> for PerFamily<T> {
    type Output = T;
    fn index(&self, family: Family) -> &T {
        &self.0[family.index()]
    }
}

impl<T> core::ops::IndexMut<Family> for PerFamily<T> {
    fn index_mut(&mut self, family: Family) -> &mut T {
        &mut self.0[family.index()]
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::V6 => "IPv6",
            Family::V4 => "IPv4",
        })
    }
}

/// The transport an attempt uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// TCP (with or without TLS on top).
    Tcp,
    /// QUIC (RFC 9000).
    Quic,
}

impl Protocol {
    /// A short lowercase name, stable for machine-readable output: `tcp` or `quic`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Quic => "quic",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The canonical form of a destination: an IPv4-mapped IPv6 address (`[::ffff:a.b.c.d]:p`) is
/// the IPv4 address it maps (`a.b.c.d:p`); every other address is returned unchanged, an IPv6
/// one with its flow label and zone (`scope_id`).
///
/// The engine applies it to every address it is given (literal lists, host literals, AAAA and
/// A answers, SVCB hints) before anything else looks at the address: families, RFC 6724
/// sorting, interleaving, connectivity, duplicates, the destination filter, and the
/// addresses in [`Action::Attempt`](crate::Action::Attempt),
/// [`Race::attempts`](crate::Race::attempts) and the [`Outcome`](crate::Outcome) are all of
/// the canonical form. On Linux an `AF_INET6`
/// socket connected to `::ffff:127.0.0.1` reaches IPv4 loopback, so treating the mapped form
/// as IPv6 would let it past a family restriction or an address filter.
///
/// ```
/// use eyeballs::canonical;
///
/// let mapped = "[::ffff:192.0.2.1]:443".parse().unwrap();
/// assert_eq!(canonical(mapped), "192.0.2.1:443".parse().unwrap());
/// let zoned = std::net::SocketAddr::V6(std::net::SocketAddrV6::new(
///     "fe80::1".parse().unwrap(), 443, 0, 3,
/// ));
/// assert_eq!(canonical(zoned), zoned); // the zone is kept
/// ```
pub fn canonical(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::V4(SocketAddrV4::new(v4, v6.port())),
            None => addr,
        },
        SocketAddr::V4(_) => addr,
    }
}

/// Why a destination can never be connected to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unconnectable {
    /// `0.0.0.0` or `::`.
    Unspecified,
    /// A multicast address (`224.0.0.0/4`, `ff00::/8`).
    Multicast,
    /// The IPv4 limited broadcast address `255.255.255.255`.
    Broadcast,
    /// Port 0.
    PortZero,
}

impl fmt::Display for Unconnectable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unconnectable::Unspecified => "the unspecified address cannot be connected to",
            Unconnectable::Multicast => "a multicast address cannot be connected to",
            Unconnectable::Broadcast => "the broadcast address cannot be connected to",
            Unconnectable::PortZero => "port 0 cannot be connected to",
        })
    }
}

/// Checks that `addr` is something a unicast connection can be made to.
///
/// ```
/// use eyeballs::{check_connectable, Unconnectable};
///
/// assert_eq!(check_connectable(&"192.0.2.1:443".parse().unwrap()), Ok(()));
/// assert_eq!(check_connectable(&"[::]:443".parse().unwrap()), Err(Unconnectable::Unspecified));
/// assert_eq!(check_connectable(&"192.0.2.1:0".parse().unwrap()), Err(Unconnectable::PortZero));
/// ```
pub fn check_connectable(addr: &SocketAddr) -> Result<(), Unconnectable> {
    check_ip(&addr.ip())?;
    if addr.port() == 0 {
        return Err(Unconnectable::PortZero);
    }
    Ok(())
}

/// The IP part of [`check_connectable`].
pub(crate) fn check_ip(ip: &IpAddr) -> Result<(), Unconnectable> {
    match ip {
        IpAddr::V4(v4) => {
            if v4.is_unspecified() {
                Err(Unconnectable::Unspecified)
            } else if v4.is_multicast() {
                Err(Unconnectable::Multicast)
            } else if *v4 == Ipv4Addr::BROADCAST {
                Err(Unconnectable::Broadcast)
            } else {
                Ok(())
            }
        }
        IpAddr::V6(v6) => {
            if v6.is_unspecified() {
                Err(Unconnectable::Unspecified)
            } else if v6.is_multicast() {
                Err(Unconnectable::Multicast)
            } else if let Some(v4) = v6.to_ipv4_mapped() {
                check_ip(&IpAddr::V4(v4))
            } else {
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(s: &str) -> Result<(), Unconnectable> {
        check_connectable(&s.parse().unwrap())
    }

    #[test]
    fn per_family_is_indexed_by_family() {
        let mut v = PerFamily::new("six", "four");
        assert_eq!((v[Family::V6], v[Family::V4]), ("six", "four"));
        v[Family::V4] = "4";
        assert_eq!(
            v.iter().copied().collect::<alloc::vec::Vec<_>>(),
            ["six", "4"]
        );
    }

    #[test]
    fn rejects_each_unconnectable_kind() {
        assert_eq!(check("0.0.0.0:1"), Err(Unconnectable::Unspecified));
        assert_eq!(check("[::]:1"), Err(Unconnectable::Unspecified));
        assert_eq!(check("224.0.0.1:1"), Err(Unconnectable::Multicast));
        assert_eq!(check("[ff02::1]:1"), Err(Unconnectable::Multicast));
        assert_eq!(check("255.255.255.255:1"), Err(Unconnectable::Broadcast));
        assert_eq!(
            check("[::ffff:255.255.255.255]:1"),
            Err(Unconnectable::Broadcast)
        );
        assert_eq!(check("192.0.2.1:0"), Err(Unconnectable::PortZero));
        assert_eq!(check("127.0.0.1:1"), Ok(()));
        assert_eq!(check("[fe80::1]:1"), Ok(()));
    }
}
