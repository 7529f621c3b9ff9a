//! What a connector connects to: `"host:port"` strings, host and port pairs, and pre-resolved
//! socket addresses.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr, SocketAddrV6};

use eyeballs::Target;

use crate::error::{ConnectError, Reason};

/// Anything a connector can connect to.
///
/// | value | meaning |
/// |---|---|
/// | `"example.com:443"`, `String` | a host name and port, resolved through the network's resolver |
/// | `"[2001:db8::1]:443"`, `"192.0.2.1:443"` | an address literal: no DNS |
/// | `"[fe80::1%eth0]:443"`, `"[fe80::1%3]:443"` | an IPv6 literal with its zone, the interface by name or number ([`parse_socket_addr`]) |
/// | `("example.com", 443)`, `("fe80::1%eth0", 443)` | a host name (or IP literal, with a zone or not) and port |
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

/// Parses `host:port`, `[v6]:port`, `[v6%zone]:port` or `v4:port`.
fn parse_host_port(s: &str) -> Result<Target, ConnectError> {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(Target::addresses([addr]));
    }
    if let Some(addr) = zoned_socket_addr(s) {
        return addr.map(|a| Target::addresses([a]));
    }
    let bad = |why: &str| ConnectError::invalid_target(s, why);
    let Some((host, port)) = s.rsplit_once(':') else {
        return Err(bad("expected host:port, e.g. example.com:443"));
    };
    if host.contains(':') {
        return Err(bad(
            "an IPv6 address must be written in brackets, e.g. [2001:db8::1]:443 (with a \
             zone: [fe80::1%eth0]:443)",
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

/// `[v6%zone]:port`, or `None` when `s` is not written so (no brackets, or no `%` in
/// them).
fn zoned_socket_addr(s: &str) -> Option<Result<SocketAddr, ConnectError>> {
    let (inside, after) = s.strip_prefix('[')?.split_once(']')?;
    let (ip, zone) = inside.split_once('%')?;
    let bad = |why: &str| ConnectError::invalid_target(s, why);
    Some((|| {
        let ip: Ipv6Addr = ip.parse().map_err(|_| {
            bad(&format!(
                "'{ip}' is not an IPv6 address (only an IPv6 address has a zone), e.g. \
                 [fe80::1%eth0]:443"
            ))
        })?;
        let port = after.strip_prefix(':').ok_or_else(|| {
            bad("expected [address%zone]:port, e.g. [fe80::1%eth0]:443: the port is missing")
        })?;
        let port: u16 = port
            .parse()
            .map_err(|_| bad("the port is not a number from 0 to 65535"))?;
        let scope = interface_index(zone).map_err(|e| e.with_target(s.to_string()))?;
        Ok(SocketAddr::V6(SocketAddrV6::new(ip, port, 0, scope)))
    })())
}

/// A socket address as people write it: `192.0.2.1:443`, `[2001:db8::1]:443`, or an IPv6
/// address with its zone (RFC 4007 §11), the interface a link-local address is reached
/// through, by name or number: `[fe80::1%eth0]:443`, `[fe80::1%3]:443`. A name becomes
/// its interface's index ([`interface_index`]), the scope id the socket is given.
///
/// ```
/// use eyeballs_driver::parse_socket_addr;
///
/// let a = parse_socket_addr("[fe80::1%3]:443").unwrap();
/// assert!(matches!(a, std::net::SocketAddr::V6(v6) if v6.scope_id() == 3));
/// assert_eq!(parse_socket_addr("192.0.2.1:80").unwrap().port(), 80);
/// assert!(parse_socket_addr("example.com:80").is_err()); // a name: not an address
/// # #[cfg(target_os = "linux")]
/// assert!(parse_socket_addr("[fe80::1%lo]:80").is_ok());
/// ```
pub fn parse_socket_addr(s: &str) -> Result<SocketAddr, ConnectError> {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    zoned_socket_addr(s).unwrap_or_else(|| {
        Err(ConnectError::invalid_target(
            s,
            "not an address with a port: write [v6]:port, [v6%zone]:port or v4:port, e.g. \
             [2001:db8::1]:443, [fe80::1%eth0]:443, 192.0.2.1:443",
        ))
    })
}

/// The index of the network interface an IPv6 zone names (RFC 4007 §11.2): a number as
/// it is (`3`); a name (`eth0`, `lo`) looked up in `/sys/class/net/NAME/ifindex` on Linux
/// and Android. Elsewhere a name is refused with an error asking for the interface's
/// number (which `ifconfig` or `netstat -i` shows). A name no interface has is
/// [`Reason::UnknownInterface`](crate::Reason::UnknownInterface); every error's kind is
/// `InvalidInput`.
///
/// ```
/// use eyeballs_driver::{interface_index, Reason};
///
/// assert_eq!(interface_index("3").unwrap(), 3);
/// # #[cfg(target_os = "linux")] {
/// assert_eq!(interface_index("lo").unwrap(), 1); // the loopback interface comes first
/// let e = interface_index("nosuchif0").unwrap_err();
/// assert_eq!(e.reason(), &Reason::UnknownInterface("nosuchif0".into()));
/// # }
/// ```
pub fn interface_index(zone: &str) -> Result<u32, ConnectError> {
    let bad = |why: String| ConnectError::new(String::new(), Reason::InvalidTarget(why));
    if zone.is_empty() {
        return Err(bad(
            "the zone after % is empty: name the interface, e.g. [fe80::1%eth0]:443".into(),
        ));
    }
    if zone.bytes().all(|b| b.is_ascii_digit()) {
        return zone.parse().map_err(|_| {
            bad(format!(
                "zone '{zone}' is not an interface number (at most {})",
                u32::MAX
            ))
        });
    }
    // Linux's rule for interface names (`dev_valid_name`): shorter than IFNAMSIZ (16), not
    // `.` or `..`, no `/`, `:` or white space. It also keeps the lookup below inside
    // /sys/class/net.
    let valid = zone.len() < 16
        && zone != "."
        && zone != ".."
        && !zone
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_whitespace() || c.is_control());
    if !valid {
        return Err(bad(format!(
            "zone '{zone}' is not an interface name (at most 15 characters, no '/', ':' or \
             spaces) nor an interface number"
        )));
    }
    lookup_interface(zone).map_err(|e| match e {
        Some(e) => bad(format!("cannot look up the interface '{zone}': {e}")),
        None => ConnectError::new(String::new(), Reason::UnknownInterface(zone.to_string())),
    })
}

/// The index of the interface named `name` (a valid name); `Err(None)` when there is none.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn lookup_interface(name: &str) -> Result<u32, Option<String>> {
    let path = format!("/sys/class/net/{name}/ifindex");
    match std::fs::read_to_string(&path) {
        Ok(text) => text
            .trim()
            .parse()
            .map_err(|_| Some(format!("{path} holds {text:?}, not an index"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(None),
        Err(e) => Err(Some(format!("cannot read {path}: {e}"))),
    }
}

/// Elsewhere names are not looked up (that needs `if_nametoindex`, a C call this crate
/// makes no `unsafe` to reach): the interface's number is asked for.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn lookup_interface(_name: &str) -> Result<u32, Option<String>> {
    Err(Some(
        "interface names are looked up on Linux and Android only; write the interface's \
         number instead (ifconfig or netstat -i shows it), e.g. [fe80::1%3]:443"
            .to_string(),
    ))
}

/// A host and port: an IPv6 address with a zone (`fe80::1%eth0`, bracketed or not) is
/// that address; anything else is a host (a name or a literal) for the engine.
fn host_and_port(host: &str, port: u16) -> Option<Result<Target, ConnectError>> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let (ip, zone) = bare.split_once('%')?;
    let ip: Ipv6Addr = ip.parse().ok()?;
    Some(
        interface_index(zone)
            .map(|scope| Target::addresses([SocketAddr::V6(SocketAddrV6::new(ip, port, 0, scope))]))
            .map_err(|e| e.with_target(format!("[{bare}]:{port}"))),
    )
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
        host_and_port(self.0, self.1).unwrap_or_else(|| Ok(Target::host(self.0, self.1)))
    }
}

impl IntoTarget for (String, u16) {
    fn into_target(self) -> Result<Target, ConnectError> {
        match host_and_port(&self.0, self.1) {
            Some(target) => target,
            None => Ok(Target::Host {
                name: self.0.into(),
                port: self.1,
            }),
        }
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

impl ShowTarget<'_> {
    /// The text, as `Display` writes it, in a string allocated once. Every race writes its
    /// target (its report's and its error's): `to_string` grew the string twice for one
    /// address, and the formatting machinery took 70 ns for `127.0.0.1:443`, so IPv4
    /// addresses are written digit by digit.
    pub(crate) fn text(&self) -> String {
        use fmt::Write;
        let mut text;
        match self.0 {
            Target::Host { name, .. } => {
                // Brackets, a colon, five digits.
                text = String::with_capacity(name.len() + 8);
                let _ = write!(text, "{self}");
            }
            Target::Addresses(list) => {
                // `[`, 45 characters of IPv6, a zone, `]:65535`; `, ` between.
                text = String::with_capacity(list.len().saturating_mul(64));
                for (i, a) in list.iter().enumerate() {
                    if i > 0 {
                        text.push_str(", ");
                    }
                    match a {
                        SocketAddr::V4(v4) => {
                            for (j, octet) in v4.ip().octets().into_iter().enumerate() {
                                if j > 0 {
                                    text.push('.');
                                }
                                push_decimal(&mut text, octet.into());
                            }
                            text.push(':');
                            push_decimal(&mut text, v4.port());
                        }
                        SocketAddr::V6(_) => {
                            let _ = write!(text, "{a}");
                        }
                    }
                }
            }
        }
        text
    }
}

/// `n` in decimal, as `Display` writes it.
fn push_decimal(text: &mut String, n: u16) {
    let mut digits = [b'0'; 5];
    let mut first = digits.len();
    let mut rest = n;
    loop {
        first -= 1;
        // A digit: `rest % 10` is below 10.
        digits[first] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    for &d in &digits[first..] {
        text.push(char::from(d));
    }
}

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
        assert_eq!(ShowTarget(&t).text(), "example.com:443");
        assert_eq!(ShowTarget(&Target::host("::1", 80)).text(), "[::1]:80");
        let list = Target::addresses(["[::1]:1".parse().unwrap(), "127.0.0.1:2".parse().unwrap()]);
        assert_eq!(ShowTarget(&list).text(), "[::1]:1, 127.0.0.1:2");
    }

    /// The target's text, IPv4 written digit by digit, is what `Display` writes.
    #[test]
    fn the_text_is_what_display_writes() {
        let mut addrs: Vec<SocketAddr> = Vec::new();
        for octet in [0u8, 1, 9, 10, 99, 100, 127, 199, 200, 254, 255] {
            for port in [0u16, 1, 9, 10, 80, 443, 999, 1000, 8080, 9999, 10000, 65535] {
                addrs.push(SocketAddr::from(([octet, 255 - octet, octet / 3, 7], port)));
            }
        }
        addrs.push("[2001:db8::1]:443".parse().unwrap());
        addrs.push("[fe80::1%3]:80".parse().unwrap());
        for a in &addrs {
            let one = Target::addresses([*a]);
            assert_eq!(ShowTarget(&one).text(), a.to_string());
        }
        let all = Target::Addresses(addrs.clone());
        assert_eq!(ShowTarget(&all).text(), ShowTarget(&all).to_string());
    }

    /// The loopback interface's index: Linux registers `lo` first in every network
    /// namespace, so it is 1.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const LO: u32 = 1;

    fn scoped(s: &str) -> SocketAddrV6 {
        match s.into_target() {
            Ok(Target::Addresses(list)) => match list[..] {
                [SocketAddr::V6(a)] => a,
                _ => panic!("{s}: {list:?}"),
            },
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn zones_by_number_and_by_name() {
        let a = scoped("[fe80::1%3]:80");
        assert_eq!(
            (a.ip().to_string(), a.port(), a.scope_id()),
            ("fe80::1".into(), 80, 3)
        );
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            let a = scoped("[fe80::1%lo]:443");
            assert_eq!((a.port(), a.scope_id()), (443, LO));
            assert_eq!(scoped("[::1%lo]:8080").scope_id(), LO);
            assert_eq!(interface_index("lo").unwrap(), LO);
            // A host and port pair takes the zone too, bracketed or not.
            for host in ["fe80::1%lo", "[fe80::1%lo]"] {
                let t = (host, 80).into_target().unwrap();
                let want = SocketAddrV6::new("fe80::1".parse().unwrap(), 80, 0, LO);
                assert_eq!(t, Target::addresses([SocketAddr::V6(want)]), "{host}");
                let t = (host.to_string(), 80).into_target().unwrap();
                assert_eq!(t, Target::addresses([SocketAddr::V6(want)]), "{host}");
            }
            // The zone is kept as a number: what the socket is given and shown.
            assert_eq!(
                parse_socket_addr("[fe80::1%lo]:80").unwrap().to_string(),
                format!("[fe80::1%{LO}]:80")
            );
        }
        assert_eq!(interface_index("7").unwrap(), 7);
    }

    #[test]
    fn bad_zones_are_named() {
        let e = "[fe80::1%nosuchif0]:80".into_target().unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
        #[cfg(any(target_os = "linux", target_os = "android"))]
        assert_eq!(e.reason(), &Reason::UnknownInterface("nosuchif0".into()));
        assert!(e.to_string().contains("nosuchif0"), "{e}");
        for (bad, says) in [
            ("[fe80::1%]:80", "empty"),
            ("[fe80::1%../../x]:80", "not an interface name"),
            ("[fe80::1%a b]:80", "not an interface name"),
            (
                "[fe80::1%averyveryverylongname]:80",
                "not an interface name",
            ),
            ("[fe80::1%99999999999]:80", "not an interface"),
            ("[192.0.2.1%lo]:80", "IPv6"),
            ("[fe80::1%lo]", "port"),
            ("[fe80::1%lo]:http", "port"),
            ("fe80::1%lo:80", "brackets"),
        ] {
            let e = bad.into_target().unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{bad}");
            let text = e.to_string();
            assert!(text.contains(bad) && text.contains(says), "{bad}: {text}");
        }
        assert!(parse_socket_addr("example.com:80").is_err());
    }
}
