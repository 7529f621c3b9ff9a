//! What a connector connects to: `"host:port"` strings, host and port pairs, and pre-resolved
//! socket addresses.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use eyeballs::Target;

use crate::error::ConnectError;

/// Anything a connector can connect to.
///
/// | value | meaning |
/// |---|---|
/// | `"example.com:443"`, `String` | a host name and port, resolved through the network's resolver |
/// | `"[2001:db8::1]:443"`, `"192.0.2.1:443"` | an address literal: no DNS |
/// | `("example.com", 443)` | a host name (or IP literal) and port |
/// | `SocketAddr`, `(IpAddr, u16)` | one pre-resolved address |
/// | `Vec<SocketAddr>`, `&[SocketAddr]`, `[SocketAddr; N]` | pre-resolved addresses, raced in the engine's order |
/// | [`eyeballs::Target`] | as is |
///
/// ```
/// use eyeballs_driver::IntoTarget;
/// use eyeballs::Target;
///
/// assert_eq!("example.com:443".into_target().unwrap(), Target::host("example.com", 443));
/// let addr: std::net::SocketAddr = "[::1]:80".parse().unwrap();
/// assert_eq!("[::1]:80".into_target().unwrap(), Target::addresses([addr]));
/// assert!("example.com".into_target().is_err()); // no port
/// ```
pub trait IntoTarget {
    /// The engine target, or an error naming what is wrong with the input.
    fn into_target(self) -> Result<Target, ConnectError>;
}

/// Parses `host:port`, `[v6]:port` or `v4:port`.
fn parse_host_port(s: &str) -> Result<Target, ConnectError> {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(Target::addresses([addr]));
    }
    let bad = |why: &str| ConnectError::invalid_target(s, why);
    let Some((host, port)) = s.rsplit_once(':') else {
        return Err(bad("expected host:port, e.g. example.com:443"));
    };
    if host.contains(':') {
        return Err(bad(
            "an IPv6 address must be written in brackets, e.g. [2001:db8::1]:443",
        ));
    }
    let port: u16 = port
        .parse()
        .map_err(|_| bad("the port is not a number from 0 to 65535"))?;
    if host.is_empty() {
        return Err(bad("the host is empty"));
    }
    Ok(Target::host(host, port))
}

impl IntoTarget for &str {
    fn into_target(self) -> Result<Target, ConnectError> {
        parse_host_port(self)
    }
}

impl IntoTarget for String {
    fn into_target(self) -> Result<Target, ConnectError> {
        parse_host_port(&self)
    }
}

impl IntoTarget for &String {
    fn into_target(self) -> Result<Target, ConnectError> {
        parse_host_port(self)
    }
}

impl IntoTarget for (&str, u16) {
    fn into_target(self) -> Result<Target, ConnectError> {
        Ok(Target::host(self.0, self.1))
    }
}

impl IntoTarget for (String, u16) {
    fn into_target(self) -> Result<Target, ConnectError> {
        Ok(Target::Host {
            name: self.0,
            port: self.1,
        })
    }
}

impl IntoTarget for (IpAddr, u16) {
    fn into_target(self) -> Result<Target, ConnectError> {
        Ok(Target::addresses([SocketAddr::new(self.0, self.1)]))
    }
}

impl IntoTarget for SocketAddr {
    fn into_target(self) -> Result<Target, ConnectError> {
        Ok(Target::addresses([self]))
    }
}

impl IntoTarget for Vec<SocketAddr> {
    fn into_target(self) -> Result<Target, ConnectError> {
        Ok(Target::Addresses(self))
    }
}

impl IntoTarget for &[SocketAddr] {
    fn into_target(self) -> Result<Target, ConnectError> {
        Ok(Target::Addresses(self.to_vec()))
    }
}

impl<const N: usize> IntoTarget for [SocketAddr; N] {
    fn into_target(self) -> Result<Target, ConnectError> {
        Ok(Target::Addresses(self.to_vec()))
    }
}

impl IntoTarget for Target {
    fn into_target(self) -> Result<Target, ConnectError> {
        Ok(self)
    }
}

/// A target as people write it: `example.com:443`, `[::1]:80`, or a list of addresses.
pub(crate) struct ShowTarget<'a>(pub &'a Target);

impl fmt::Display for ShowTarget<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Target::Host { name, port } => {
                if name.contains(':') {
                    write!(f, "[{name}]:{port}")
                } else {
                    write!(f, "{name}:{port}")
                }
            }
            Target::Addresses(list) => {
                for (i, a) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!(
            "localhost:8080".into_target().unwrap(),
            Target::host("localhost", 8080)
        );
        assert_eq!(
            "127.0.0.1:1".into_target().unwrap(),
            Target::addresses(["127.0.0.1:1".parse().unwrap()])
        );
        for bad in ["localhost", "::1:80", ":80", "host:http", "host:70000"] {
            let e = bad.into_target().unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{bad}");
            assert!(e.to_string().contains(bad), "{e}");
        }
        let t = Target::host("example.com", 443);
        assert_eq!(ShowTarget(&t).to_string(), "example.com:443");
    }
}
