//! NAT64 address synthesis (RFC 6052) for IPv4 literals, A answers and `ipv4hint`s on
//! IPv6-only and IPv6-mostly networks (RFC 8305 §7.1, HEv3 §8.1-§8.2).

use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};
use core::str::FromStr;

/// A NAT64 prefix (PREF64): an IPv6 prefix of one of the RFC 6052 §2.2 lengths
/// (32, 40, 48, 56, 64 or 96 bits).
///
/// ```
/// use core::net::{Ipv4Addr, Ipv6Addr};
/// use eyeballs::Nat64Prefix;
///
/// let prefix: Nat64Prefix = "64:ff9b::/96".parse().unwrap();
/// let v6 = prefix.synthesize(Ipv4Addr::new(192, 0, 2, 33)).unwrap();
/// assert_eq!(v6, "64:ff9b::c000:221".parse::<Ipv6Addr>().unwrap());
/// assert_eq!(prefix.extract(v6), Some(Ipv4Addr::new(192, 0, 2, 33)));
/// // HEv3 §8.1: host- and link-scoped IPv4 prefixes are never synthesised.
/// assert_eq!(prefix.synthesize(Ipv4Addr::LOCALHOST), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Nat64Prefix {
    prefix: Ipv6Addr,
    len: u8,
}

/// Why a NAT64 prefix was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Nat64PrefixError {
    /// RFC 6052 §2.2 allows only the lengths 32, 40, 48, 56, 64 and 96.
    BadLength(u8),
    /// Bits after the prefix length are set.
    HostBitsSet,
    /// RFC 6052 §2.2: bits 64 to 71 ("u") must be zero.
    ReservedBitsSet,
    /// The text is not `ipv6-address/length`.
    Syntax,
}

impl fmt::Display for Nat64PrefixError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Nat64PrefixError::BadLength(len) => write!(
                f,
                "NAT64 prefix length /{len} is not one of the RFC 6052 lengths 32, 40, 48, 56, 64, 96"
            ),
            Nat64PrefixError::HostBitsSet => {
                f.write_str("NAT64 prefix has bits set after its prefix length")
            }
            Nat64PrefixError::ReservedBitsSet => {
                f.write_str("NAT64 prefix has bits 64-71 set, which RFC 6052 §2.2 reserves")
            }
            Nat64PrefixError::Syntax => {
                f.write_str("NAT64 prefix must be written as an IPv6 prefix, e.g. 64:ff9b::/96")
            }
        }
    }
}

impl core::error::Error for Nat64PrefixError {}

/// RFC 6052 §2.1: the Well-Known Prefix `64:ff9b::/96`.
pub const WELL_KNOWN_PREFIX: Nat64Prefix = Nat64Prefix {
    prefix: Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0),
    len: 96,
};

/// Byte 8 of the address (bits 64-71) is the reserved "u" octet (RFC 6052 §2.2).
const U_OCTET: usize = 8;

impl Nat64Prefix {
    /// A prefix of `len` bits.
    pub fn new(prefix: Ipv6Addr, len: u8) -> Result<Nat64Prefix, Nat64PrefixError> {
        if !matches!(len, 32 | 40 | 48 | 56 | 64 | 96) {
            return Err(Nat64PrefixError::BadLength(len));
        }
        let bits = u128::from(prefix);
        if bits & (u128::MAX >> len) != 0 {
            return Err(Nat64PrefixError::HostBitsSet);
        }
        if prefix.octets()[U_OCTET] != 0 {
            return Err(Nat64PrefixError::ReservedBitsSet);
        }
        Ok(Nat64Prefix { prefix, len })
    }

    /// The prefix address.
    pub fn prefix(&self) -> Ipv6Addr {
        self.prefix
    }

    /// The prefix length in bits.
    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    /// Byte positions of the four IPv4 octets inside the synthesised address (RFC 6052 §2.2):
    /// right after the prefix, skipping the "u" octet.
    fn v4_positions(&self) -> [usize; 4] {
        let mut out = [0; 4];
        let mut pos = usize::from(self.len / 8);
        for slot in out.iter_mut() {
            if pos == U_OCTET {
                pos += 1;
            }
            *slot = pos;
            pos += 1;
        }
        out
    }

    /// The IPv6 address that reaches `v4` through this NAT64 prefix, or `None` for the
    /// host- and link-scoped ranges that HEv3 §8.1 says need no synthesis: `0.0.0.0/8`,
    /// `127.0.0.0/8`, `169.254.0.0/16` and `255.255.255.255/32`.
    pub fn synthesize(&self, v4: Ipv4Addr) -> Option<Ipv6Addr> {
        if !needs_synthesis(v4) {
            return None;
        }
        let mut bytes = self.prefix.octets();
        for (pos, octet) in self.v4_positions().into_iter().zip(v4.octets()) {
            bytes[pos] = octet;
        }
        Some(Ipv6Addr::from(bytes))
    }

    /// The IPv4 address embedded in `v6` when `v6` is inside this prefix.
    pub fn extract(&self, v6: Ipv6Addr) -> Option<Ipv4Addr> {
        let mask = u128::MAX << (128 - u32::from(self.len));
        if u128::from(v6) & mask != u128::from(self.prefix) {
            return None;
        }
        let bytes = v6.octets();
        let pos = self.v4_positions();
        Some(Ipv4Addr::new(
            bytes[pos[0]],
            bytes[pos[1]],
            bytes[pos[2]],
            bytes[pos[3]],
        ))
    }
}

/// HEv3 §8.1: "some IPv4 prefixes are scoped to a given host or network, such as 0.0.0.0/8,
/// 127.0.0.0/8, 169.254.0.0/16, and 255.255.255.255/32, and therefore do not require NAT64
/// address synthesis."
pub fn needs_synthesis(v4: Ipv4Addr) -> bool {
    let o = v4.octets();
    !(o[0] == 0 || o[0] == 127 || (o[0] == 169 && o[1] == 254) || v4 == Ipv4Addr::BROADCAST)
}

impl FromStr for Nat64Prefix {
    type Err = Nat64PrefixError;

    fn from_str(s: &str) -> Result<Nat64Prefix, Nat64PrefixError> {
        let (addr, len) = s.split_once('/').ok_or(Nat64PrefixError::Syntax)?;
        let addr: Ipv6Addr = addr.trim().parse().map_err(|_| Nat64PrefixError::Syntax)?;
        let len: u8 = len.trim().parse().map_err(|_| Nat64PrefixError::Syntax)?;
        Nat64Prefix::new(addr, len)
    }
}

impl fmt::Display for Nat64Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.prefix, self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    /// RFC 6052 §2.4 examples: 192.0.2.33 under each prefix length of 2001:db8::.
    #[test]
    fn rfc6052_section_2_4_examples() {
        let v4 = Ipv4Addr::new(192, 0, 2, 33);
        let cases = [
            ("2001:db8::/32", "2001:db8:c000:221::"),
            ("2001:db8:100::/40", "2001:db8:1c0:2:21::"),
            ("2001:db8:122::/48", "2001:db8:122:c000:2:2100::"),
            ("2001:db8:122:300::/56", "2001:db8:122:3c0:0:221::"),
            ("2001:db8:122:344::/64", "2001:db8:122:344:c0:2:2100:0"),
            ("2001:db8:122:344::/96", "2001:db8:122:344::192.0.2.33"),
            ("64:ff9b::/96", "64:ff9b::192.0.2.33"),
        ];
        for (prefix, expected) in cases {
            let p: Nat64Prefix = prefix.parse().unwrap();
            assert_eq!(p.synthesize(v4), Some(v6(expected)), "{prefix}");
            assert_eq!(p.extract(v6(expected)), Some(v4), "{prefix}");
        }
    }

    /// Checklist D3: never synthesised prefixes.
    #[test]
    fn d3_special_ranges_not_synthesised() {
        for s in ["0.1.2.3", "127.0.0.1", "169.254.1.1", "255.255.255.255"] {
            assert_eq!(
                WELL_KNOWN_PREFIX.synthesize(s.parse().unwrap()),
                None,
                "{s}"
            );
        }
        assert!(
            WELL_KNOWN_PREFIX
                .synthesize("10.0.0.1".parse().unwrap())
                .is_some()
        );
    }

    #[test]
    fn bad_prefixes_are_typed_errors() {
        assert_eq!(
            "64:ff9b::/95".parse::<Nat64Prefix>(),
            Err(Nat64PrefixError::BadLength(95))
        );
        assert_eq!(
            "64:ff9b::1/96".parse::<Nat64Prefix>(),
            Err(Nat64PrefixError::HostBitsSet)
        );
        assert_eq!(
            "64:ff9b:0:0:ff00::/96".parse::<Nat64Prefix>(),
            Err(Nat64PrefixError::ReservedBitsSet)
        );
        assert_eq!(
            "64:ff9b::".parse::<Nat64Prefix>(),
            Err(Nat64PrefixError::Syntax)
        );
        assert_eq!(WELL_KNOWN_PREFIX.extract(v6("2001:db8::1")), None);
    }
}
