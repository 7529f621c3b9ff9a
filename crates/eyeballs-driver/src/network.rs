//! Which network the machine is on: a [`NetworkId`] derived from its default routes and the
//! IPv6 prefixes of the interfaces they leave through, so that a connection history learned
//! on one network (where IPv6 was broken, say) is not used on the next one
//! ([`SharedHistory::follow_network`](crate::SharedHistory::follow_network); RFC 8305 §4 and
//! HEv3 §5.3: history "MUST NOT be used across different Provisioning Domains").
//!
//! ```
//! use eyeballs_driver::network;
//!
//! // On Linux: this machine's network, from /proc/net. Elsewhere: `network::UNDETECTED`.
//! let here = network::current().unwrap();
//! if network::DETECTS {
//!     // Read again while nothing changed: the same network.
//!     assert_eq!(network::current().unwrap(), here);
//! } else {
//!     assert_eq!(here, network::UNDETECTED);
//! }
//! ```
//!
//! ## What identifies a network
//!
//! On Linux [`current`] reads three files (no netlink socket, no `unsafe`, no dependency):
//!
//! - `/proc/net/route`: the IPv4 **default routes** that are up and not `reject` routes,
//!   each as its interface and gateway (none for a point-to-point link);
//! - `/proc/net/ipv6_route`: the same for IPv6 (the next hop is usually the router's
//!   link-local address, which is why the interface is part of it);
//! - `/proc/net/if_inet6`: the **global IPv6 prefixes** (unique local ones included) of the
//!   interfaces that carry a default route, each cut to at most 64 bits: the network's part
//!   of an address, which the network advertises, not the host's part, which this machine
//!   chooses.
//!
//! It writes them as a [description](ProcNet::describe), one fact a line, sorted and without
//! duplicates, under a version line:
//!
//! ```text
//! eyeballs network 1
//! ipv4 default wlan0 via 192.168.1.1
//! ipv6 default wlan0 via fe80::1
//! ipv6 prefix wlan0 2001:db8:5:7::/64
//! ```
//!
//! and the id is the 64-bit FNV-1a hash of that text ([`named`]): a fixed function, not
//! `std`'s randomly seeded hasher, so the id is the same in every process and every run (a
//! history file saved under it is read back under it), and the same on every machine that
//! sees the same network through the same interface name.
//!
//! Left out, because they change while the network stays the same: route metrics and
//! counters (use, reference counts), the host part of addresses (temporary "privacy"
//! addresses, which change every day, are skipped altogether; a DHCPv6 `/128` counts as its
//! `/64`), link-local addresses, addresses and routes of interfaces without a default route
//! (container bridges, VPNs that only route some prefixes), the order of lines. IPv4
//! addresses are not in `/proc`; the gateway stands for the IPv4 network.
//!
//! The interface name is in: the same router seen through Wi-Fi and through Ethernet counts
//! as two networks. That errs on the safe side: a network wrongly taken as new costs each
//! host one Connection Attempt Delay (250 ms) before the history is learned again; a
//! network wrongly taken as known applies a history that is wrong there.
//!
//! Limits: two networks that look alike in all of this (the same interface, the same
//! gateway address, no IPv6: two home routers both on 192.168.1.1) get one id; name them
//! yourself ([`named`], [`SharedHistory::set_network`](crate::SharedHistory::set_network))
//! if that matters. Only the main routing table is in `/proc`: a VPN routing through a table
//! of its own (WireGuard's `wg-quick`) is not seen. A machine with no default route has one
//! id for "offline", the same on every machine. Reading takes about 50 µs on a machine with
//! a few routes; the files list the whole main table, so on a router holding a full
//! Internet table it takes far longer: check less often there, or bring your own detection.
//!
//! ## Elsewhere
//!
//! On other systems the network is not detected: [`current`] returns [`UNDETECTED`] (the
//! default `NetworkId(0)`) every time, so a history following the network never re-keys
//! itself there; [`DETECTS`] says which case applies. Give such histories your own detection
//! with [`SharedHistory::follow_network_with`](crate::SharedHistory::follow_network_with),
//! or switch networks yourself with `set_network`.

use std::collections::BTreeSet;
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};

use eyeballs::history::NetworkId;

/// Whether [`current`] detects the network on this platform (Linux: yes; elsewhere it
/// returns [`UNDETECTED`]).
///
/// ```
/// assert_eq!(eyeballs_driver::network::DETECTS, cfg!(target_os = "linux"));
/// ```
pub const DETECTS: bool = cfg!(target_os = "linux");

/// What [`current`] returns where the network is not detected ([`DETECTS`] is false): the
/// default `NetworkId(0)`, so that a history following the network stays on it.
///
/// ```
/// use eyeballs_driver::{NetworkId, network};
/// assert_eq!(network::UNDETECTED, NetworkId::default());
/// ```
pub const UNDETECTED: NetworkId = NetworkId(0);

/// The first line of every [description](ProcNet::describe): a change to what is described
/// changes the number, and so every id, rather than giving an old id a new meaning.
pub const DESCRIPTION_VERSION: &str = "eyeballs network 1";

/// The IPv4 routing table [`current`] reads (a [`ProcNet::route`]).
pub const ROUTE: &str = "/proc/net/route";
/// The IPv6 routing table [`current`] reads (a [`ProcNet::ipv6_route`]).
pub const IPV6_ROUTE: &str = "/proc/net/ipv6_route";
/// The IPv6 addresses [`current`] reads (a [`ProcNet::if_inet6`]).
pub const IF_INET6: &str = "/proc/net/if_inet6";

/// The id of the network this machine is on now (see the [module](self) for what
/// identifies it): `/proc/net` on Linux, [`UNDETECTED`] elsewhere.
///
/// Reads three small in-memory files (tens of microseconds). Fails when `/proc/net/route`
/// cannot be read (no `/proc` mounted) or does not read as `/proc/net/route` does
/// ([`io::ErrorKind::InvalidData`], naming the file and line); the two IPv6 files are
/// missing when the kernel has no IPv6, which counts as no IPv6 routes or prefixes.
///
/// ```
/// let id = eyeballs_driver::network::current().unwrap();
/// # let _ = id;
/// ```
pub fn current() -> io::Result<NetworkId> {
    if !DETECTS {
        return Ok(UNDETECTED);
    }
    Ok(named(&describe_current()?))
}

/// The [description](ProcNet::describe) [`current`] hashes, for people (why did the id
/// change?). Where the network is not detected ([`DETECTS`] is false): an error of kind
/// [`io::ErrorKind::Unsupported`].
///
/// ```
/// use eyeballs_driver::network;
///
/// match network::describe_current() {
///     Ok(text) => assert!(text.starts_with(network::DESCRIPTION_VERSION)),
///     Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::Unsupported),
/// }
/// ```
pub fn describe_current() -> io::Result<String> {
    if !DETECTS {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the network is detected on Linux only (from /proc/net)",
        ));
    }
    let route = read(ROUTE, false)?;
    let ipv6_route = read(IPV6_ROUTE, true)?;
    let if_inet6 = read(IF_INET6, true)?;
    let files = ProcNet {
        route: &route,
        ipv6_route: &ipv6_route,
        if_inet6: &if_inet6,
    };
    Ok(files.describe()?)
}

/// The text of `path`; empty when it does not exist and `may_be_missing`.
fn read(path: &str, may_be_missing: bool) -> io::Result<String> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
        Err(e) if may_be_missing && e.kind() == io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(io::Error::new(e.kind(), format!("{path}: {e}"))),
    }
}

/// A network id for a name or a description: the 64-bit FNV-1a hash of its UTF-8 bytes (the
/// standard offset basis `0xcbf29ce484222325` and prime `0x100000001b3`). The same in every
/// process, run and build, and on every platform: for networks you name yourself (the
/// `eyeballs` command's `--network home`), and what [`current`] hashes its description with.
///
/// ```
/// use eyeballs_driver::{NetworkId, network};
///
/// assert_eq!(network::named("home"), network::named("home"));
/// assert_ne!(network::named("home"), network::named("cafe"));
/// // The FNV-1a test vector.
/// assert_eq!(network::named("a"), NetworkId(0xaf63_dc4c_8601_ec8c));
/// ```
pub fn named(name: &str) -> NetworkId {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let hash = name
        .bytes()
        .fold(OFFSET, |h, b| (h ^ u64::from(b)).wrapping_mul(PRIME));
    NetworkId(hash)
}

/// The text of the three `/proc/net` files a network is identified by, as read on Linux:
/// the pure half of [`current`] (which is `named(&files.describe()?)`), for tests and for
/// files read some other way.
///
/// Gateways in `/proc/net/route` are written in the byte order of the machine that wrote
/// them, and are read in this machine's.
///
/// ```
/// use eyeballs_driver::network::{self, ProcNet};
///
/// let files = ProcNet {
///     route: "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
///             eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n",
///     ipv6_route: "",
///     if_inet6: "20010db8000500070000000000000002 02 40 00 80     eth0\n",
/// };
/// let text = files.describe().unwrap();
/// if cfg!(target_endian = "little") {
///     assert_eq!(
///         text,
///         "eyeballs network 1\n\
///          ipv4 default eth0 via 192.0.2.1\n\
///          ipv6 prefix eth0 2001:db8:5:7::/64"
///     );
/// }
/// assert_eq!(files.id().unwrap(), network::named(&text));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcNet<'a> {
    /// `/proc/net/route` (IPv4 routes, with its header line).
    pub route: &'a str,
    /// `/proc/net/ipv6_route` (IPv6 routes; empty when the kernel has no IPv6).
    pub ipv6_route: &'a str,
    /// `/proc/net/if_inet6` (IPv6 addresses; empty when the kernel has no IPv6).
    pub if_inet6: &'a str,
}

/// Route flags (`linux/route.h`): the route is up; it is a `reject` (unreachable,
/// prohibit, blackhole) route.
const RTF_UP: u32 = 0x0001;
const RTF_REJECT: u32 = 0x0200;
/// Address flag (`linux/if_addr.h`): a temporary ("privacy", RFC 8981) address.
const IFA_F_TEMPORARY: u32 = 0x01;
/// Address scope as `/proc/net/if_inet6` writes it: global (unique local addresses too).
const SCOPE_GLOBAL: u32 = 0x00;
/// The longest prefix kept of an address: the network's part of it (RFC 4291 §2.5.1).
const MAX_PREFIX: u8 = 64;

impl ProcNet<'_> {
    /// The network's description: [`DESCRIPTION_VERSION`], then one line per default route
    /// (`ipv4 default IFACE [via GATEWAY]`, `ipv6 default IFACE [via NEXT-HOP]`) and per
    /// global IPv6 prefix of an interface with a default route (`ipv6 prefix IFACE
    /// PREFIX/LEN`), sorted, without duplicates, separated by `\n`. See the
    /// [module](self) for what is included and why.
    ///
    /// A line that does not read as these files' lines do is an error naming the file, the
    /// line and the problem.
    ///
    /// ```
    /// use eyeballs_driver::network::ProcNet;
    ///
    /// let bad = ProcNet { route: "eth0 00000000 nothex 0003 0 0 0 00000000\n", ..ProcNet::default() };
    /// let e = bad.describe().unwrap_err();
    /// assert_eq!(e.to_string(), "/proc/net/route line 1: the gateway \"nothex\" is not 8 hexadecimal digits");
    /// ```
    pub fn describe(&self) -> Result<String, ProcError> {
        let mut facts = BTreeSet::new();
        let mut uplinks = BTreeSet::new();
        for (line, fields) in lines(self.route) {
            let err = |problem: String| ProcError::new(ROUTE, line, problem);
            if fields.first() == Some(&"Iface") {
                continue; // the header
            }
            let [
                iface,
                dest,
                gateway,
                flags,
                _refcnt,
                _use,
                _metric,
                mask,
                ..,
            ] = fields[..]
            else {
                return Err(err(format!(
                    "expected at least 8 fields, found {}",
                    fields.len()
                )));
            };
            let dest = hex32(dest).ok_or_else(|| err(not_hex("destination", dest, 8)))?;
            let gateway = hex32(gateway).ok_or_else(|| err(not_hex("gateway", gateway, 8)))?;
            let flags = hex32(flags).ok_or_else(|| err(not_hex("flags", flags, 4)))?;
            let mask = hex32(mask).ok_or_else(|| err(not_hex("mask", mask, 8)))?;
            if dest != 0 || mask != 0 || !is_up(flags) {
                continue;
            }
            // Written in the writer's byte order (the kernel's `%08X` of a big-endian u32).
            let gateway = Ipv4Addr::from(gateway.to_ne_bytes());
            facts.insert(if gateway.is_unspecified() {
                format!("ipv4 default {iface}")
            } else {
                format!("ipv4 default {iface} via {gateway}")
            });
            uplinks.insert(iface);
        }
        for (line, fields) in lines(self.ipv6_route) {
            let err = |problem: String| ProcError::new(IPV6_ROUTE, line, problem);
            let [
                dest,
                dest_len,
                _src,
                _src_len,
                next_hop,
                _metric,
                _refcnt,
                _use,
                flags,
                iface,
            ] = fields[..]
            else {
                return Err(err(format!("expected 10 fields, found {}", fields.len())));
            };
            let dest = hex128(dest).ok_or_else(|| err(not_hex("destination", dest, 32)))?;
            let dest_len =
                hex8(dest_len).ok_or_else(|| err(not_hex("prefix length", dest_len, 2)))?;
            let next_hop =
                hex128(next_hop).ok_or_else(|| err(not_hex("next hop", next_hop, 32)))?;
            let flags = hex32(flags).ok_or_else(|| err(not_hex("flags", flags, 8)))?;
            if dest != 0 || dest_len != 0 || !is_up(flags) {
                continue;
            }
            let next_hop = Ipv6Addr::from(next_hop);
            facts.insert(if next_hop.is_unspecified() {
                format!("ipv6 default {iface}")
            } else {
                format!("ipv6 default {iface} via {next_hop}")
            });
            uplinks.insert(iface);
        }
        for (line, fields) in lines(self.if_inet6) {
            let err = |problem: String| ProcError::new(IF_INET6, line, problem);
            let [addr, _index, len, scope, flags, iface] = fields[..] else {
                return Err(err(format!("expected 6 fields, found {}", fields.len())));
            };
            let addr = hex128(addr).ok_or_else(|| err(not_hex("address", addr, 32)))?;
            let len = hex8(len).ok_or_else(|| err(not_hex("prefix length", len, 2)))?;
            let scope = hex32(scope).ok_or_else(|| err(not_hex("scope", scope, 2)))?;
            let flags = hex32(flags).ok_or_else(|| err(not_hex("flags", flags, 2)))?;
            if len > 128 {
                return Err(err(format!("the prefix length {len} is over 128")));
            }
            if scope != SCOPE_GLOBAL || flags & IFA_F_TEMPORARY != 0 || !uplinks.contains(iface) {
                continue;
            }
            let len = len.min(MAX_PREFIX);
            let mask = u128::MAX.checked_shl(u32::from(128 - len)).unwrap_or(0);
            let prefix = Ipv6Addr::from(addr & mask);
            facts.insert(format!("ipv6 prefix {iface} {prefix}/{len}"));
        }
        let mut text = String::from(DESCRIPTION_VERSION);
        for fact in facts {
            text.push('\n');
            text.push_str(&fact);
        }
        Ok(text)
    }

    /// The network's id: [`named`] of its [description](ProcNet::describe).
    ///
    /// ```
    /// use eyeballs_driver::network::{self, ProcNet};
    ///
    /// // No default route: "offline", the same id on every machine.
    /// let offline = ProcNet::default().id().unwrap();
    /// assert_eq!(offline, network::named(network::DESCRIPTION_VERSION));
    /// ```
    pub fn id(&self) -> Result<NetworkId, ProcError> {
        Ok(named(&self.describe()?))
    }
}

/// Whether a route with `flags` is up and delivers (not a `reject` route).
fn is_up(flags: u32) -> bool {
    flags & RTF_UP != 0 && flags & RTF_REJECT == 0
}

/// The non-empty lines of `text`, numbered from 1, split at whitespace.
fn lines(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.split_whitespace().collect::<Vec<_>>()))
        .filter(|(_, fields)| !fields.is_empty())
}

fn not_hex(what: &str, text: &str, digits: usize) -> String {
    format!("the {what} {text:?} is not {digits} hexadecimal digits")
}

fn hex_digits(text: &str, max: usize) -> bool {
    !text.is_empty() && text.len() <= max && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn hex8(text: &str) -> Option<u8> {
    hex_digits(text, 2)
        .then(|| u8::from_str_radix(text, 16).ok())
        .flatten()
}

fn hex32(text: &str) -> Option<u32> {
    hex_digits(text, 8)
        .then(|| u32::from_str_radix(text, 16).ok())
        .flatten()
}

fn hex128(text: &str) -> Option<u128> {
    (text.len() == 32 && hex_digits(text, 32))
        .then(|| u128::from_str_radix(text, 16).ok())
        .flatten()
}

/// A `/proc/net` file that does not read as it should: which file, which line (from 1),
/// and what is wrong with it. Becomes an [`io::Error`] of kind
/// [`InvalidData`](io::ErrorKind::InvalidData) in [`current`].
///
/// ```
/// use eyeballs_driver::network::{ProcNet, ProcError};
///
/// let files = ProcNet { if_inet6: "\n::1 01 80 10 80 lo\n", ..ProcNet::default() };
/// let e: ProcError = files.describe().unwrap_err();
/// assert_eq!((e.file(), e.line()), ("/proc/net/if_inet6", 2));
/// assert_eq!(e.problem(), "the address \"::1\" is not 32 hexadecimal digits");
/// let io: std::io::Error = e.into();
/// assert_eq!(io.kind(), std::io::ErrorKind::InvalidData);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcError {
    file: &'static str,
    line: usize,
    problem: String,
}

impl ProcError {
    fn new(file: &'static str, line: usize, problem: String) -> ProcError {
        ProcError {
            file,
            line,
            problem,
        }
    }

    /// The file: [`ROUTE`], [`IPV6_ROUTE`] or [`IF_INET6`].
    pub fn file(&self) -> &'static str {
        self.file
    }

    /// The line, counted from 1.
    pub fn line(&self) -> usize {
        self.line
    }

    /// What is wrong with it.
    pub fn problem(&self) -> &str {
        &self.problem
    }
}

impl fmt::Display for ProcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} line {}: {}", self.file, self.line, self.problem)
    }
}

impl std::error::Error for ProcError {}

impl From<ProcError> for io::Error {
    fn from(e: ProcError) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }
}

#[cfg(test)]
mod tests;
