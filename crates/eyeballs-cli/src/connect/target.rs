//! The target syntax of `eyeballs connect`: a name with a port, an address (an IPv6 one with
//! its zone), or a list of addresses.

use eyeballs::Target;
use eyeballs_driver::{IntoTarget, Reason};

use super::UsageError;

/// Parses the target of `eyeballs connect`:
///
/// - `HOST:PORT` (`example.com:443`, `localhost:8080`): resolved through the system
///   resolver, AAAA and A separately;
/// - `[V6]:PORT` or `V4:PORT`: one address, no DNS; an IPv6 address may carry its zone,
///   the interface by name or number (`[fe80::1%eth0]:443`, `[fe80::1%3]:443`; names are
///   looked up on Linux, see [`eyeballs_driver::interface_index`]);
/// - several addresses separated by commas (`[::1]:8080,127.0.0.1:8080`): pre-resolved, as a
///   name would resolve to them, raced in the engine's order (RFC 6724 sorting, families
///   interleaved).
///
/// ```
/// use eyeballs::Target;
/// use eyeballs_cli::connect::parse_target;
///
/// assert_eq!(parse_target("example.com:443"), Ok(Target::host("example.com", 443)));
/// let both = parse_target("[::1]:80, 127.0.0.1:80").unwrap();
/// assert_eq!(both, Target::addresses(["[::1]:80".parse().unwrap(), "127.0.0.1:80".parse().unwrap()]));
/// assert!(parse_target("example.com").unwrap_err().to_string().contains("host:port"));
/// ```
pub fn parse_target(s: &str) -> Result<Target, UsageError> {
    if !s.contains(',') {
        return s.into_target().map_err(|e| match e.reason() {
            Reason::InvalidTarget(why) => UsageError(format!("invalid target '{s}': {why}")),
            other => UsageError(format!("invalid target '{s}': {other}")),
        });
    }
    let mut addrs = Vec::new();
    for part in s.split(',').map(str::trim) {
        let addr = eyeballs_driver::parse_socket_addr(part).map_err(|e| {
            if part.contains('%') {
                // A zone: what is wrong with it.
                UsageError(format!("invalid target '{s}': '{part}': {}", e.reason()))
            } else {
                UsageError(format!(
                    "invalid target '{s}': '{part}' is not an address with a port; in a list, \
                     write each address as [v6]:port or v4:port, e.g. [::1]:8080,127.0.0.1:8080"
                ))
            }
        })?;
        addrs.push(addr);
    }
    Ok(Target::Addresses(addrs))
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;
    use crate::connect::EngineFlags;

    #[test]
    fn targets() {
        assert_eq!(
            parse_target("[::1]:8080"),
            Ok(Target::addresses(["[::1]:8080".parse().unwrap()]))
        );
        for (bad, says) in [
            ("example.com", "host:port"),
            ("::1:80", "brackets"),
            ("example.com:http", "port"),
            (
                "[::1]:80,127.0.0.1",
                "'127.0.0.1' is not an address with a port",
            ),
            ("[::1]:80,,127.0.0.1:80", "'' is not"),
        ] {
            let e = parse_target(bad).unwrap_err().0;
            assert!(e.contains(bad) && e.contains(says), "{bad}: {e}");
        }
        // IPv6 zones, by number and (on Linux, where `lo` is interface 1) by name, alone
        // and in a list.
        let v6 = |s: &str| match s.parse::<SocketAddr>().unwrap() {
            SocketAddr::V6(a) => a,
            SocketAddr::V4(_) => unreachable!(),
        };
        let scoped = |s: &str, scope| {
            let mut a = v6(s);
            a.set_scope_id(scope);
            SocketAddr::V6(a)
        };
        assert_eq!(
            parse_target("[fe80::1%3]:80"),
            Ok(Target::addresses([scoped("[fe80::1]:80", 3)]))
        );
        #[cfg(target_os = "linux")]
        {
            assert_eq!(
                parse_target("[fe80::1%lo]:80"),
                Ok(Target::addresses([scoped("[fe80::1]:80", 1)]))
            );
            assert_eq!(
                parse_target("[::1%lo]:80, 127.0.0.1:80"),
                Ok(Target::Addresses(vec![
                    scoped("[::1]:80", 1),
                    "127.0.0.1:80".parse().unwrap()
                ]))
            );
            for bad in ["[fe80::1%nosuchif0]:80", "[::1]:80,[fe80::1%nosuchif0]:80"] {
                let e = parse_target(bad).unwrap_err().0;
                assert!(
                    e.contains(bad) && e.contains("no network interface is named 'nosuchif0'"),
                    "{bad}: {e}"
                );
            }
        }
        // Targets the engine refuses are caught with the flags, before any I/O.
        let e = EngineFlags::default()
            .settings(&parse_target("0.0.0.0:80").unwrap())
            .unwrap_err()
            .0;
        assert!(e.contains("0.0.0.0:80"), "{e}");
        let e = EngineFlags::default()
            .settings(&parse_target("example.com:0").unwrap())
            .unwrap_err()
            .0;
        assert!(e.contains("port 0"), "{e}");
    }
}
