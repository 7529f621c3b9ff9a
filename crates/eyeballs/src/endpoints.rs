//! From addresses to endpoints: every address the race is given (a literal, an answer, a
//! hint) is put in its canonical form, checked (connectable, connectivity, the caller's
//! destination filter), NAT64-synthesised when a prefix is configured (HEv3 §8), and becomes
//! one endpoint per transport the client may use with it (HEv3 §6.2), or a [`Skipped`] entry
//! saying why it is not attempted. The plan (`plan.rs`) then orders the endpoints.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
use core::net::{IpAddr, SocketAddr};

use crate::action::{SkipReason, Skipped};
use crate::addr::{Family, Protocol, Unconnectable, canonical, check_ip};
use crate::config::Config;
use crate::global::judged_address;
use crate::plan::{Endpoint, GroupKey};
use crate::resolve::Service;
use crate::rfc6724::{PathInfo, SortKey};
use crate::small::SmallVec;
use crate::svcb::{ServiceRecord, usable};

/// The per-address verdict, computed once per address and race.
#[derive(Clone, Copy, Debug)]
struct AddrInfo {
    /// The address to connect to (the NAT64 synthesis of an IPv4 address, when configured).
    connect: IpAddr,
    verdict: Result<PathInfo, SkipReason>,
}

/// Builds endpoints, and remembers what it skipped.
#[derive(Clone, Debug, Default)]
pub(crate) struct Builder {
    /// Every endpoint not attempted because it was unusable or filtered, in the order found.
    skipped: Vec<Skipped>,
    /// Made on first use only: a race that skips nothing and calls back nothing keeps 8
    /// bytes here.
    caches: Option<Box<Caches>>,
}

#[derive(Clone, Debug, Default)]
struct Caches {
    /// The verdict of each address, kept when it asks the caller (the destination filter,
    /// the path information); without them the checks are cheaper than a cache.
    addr_info: BTreeMap<IpAddr, AddrInfo>,
    /// The skipped endpoints, to keep `skipped` free of duplicates in O(log n).
    skipped_set: BTreeSet<Skipped>,
}

/// The transports to try for an endpoint, in preference order.
fn transports(config: &Config, allowed_tcp: bool, allowed_quic: bool) -> [Option<Protocol>; 2] {
    let tcp = (config.protocols.tcp && allowed_tcp).then_some(Protocol::Tcp);
    let quic = (config.protocols.quic && allowed_quic).then_some(Protocol::Quic);
    match config.prefer_protocol {
        Protocol::Quic => [quic, tcp],
        Protocol::Tcp => [tcp, quic],
    }
}

/// Whether the client can use the service `record` describes: an ALPN it supports over a
/// transport it may use (HEv3 §6.2).
pub(crate) fn service_usable(config: &Config, record: &ServiceRecord) -> bool {
    let u = usable(record, config.alpn.as_deref());
    transports(config, u.tcp, u.quic)
        .iter()
        .any(Option::is_some)
}

/// The transport group of protocol `p`: with [`Config::group_by_protocol`], every endpoint of
/// the preferred transport comes first (HEv3 §5.1).
fn transport_group(config: &Config, p: Protocol) -> u8 {
    if config.group_by_protocol && p != config.prefer_protocol {
        1
    } else {
        0
    }
}

impl Builder {
    /// Every endpoint that was not attempted because it was unusable or filtered, so far.
    pub(crate) fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// Nothing will be built any more: the skipped endpoints, for the outcome.
    pub(crate) fn take_skipped(&mut self) -> Vec<Skipped> {
        core::mem::take(&mut self.skipped)
    }

    /// The endpoints of the address `given` (from `service`, if any) go to `out`; or it is
    /// skipped. It is taken in its canonical form ([`canonical`]: an IPv4-mapped address is
    /// the IPv4 address it maps); a literal keeps its flow label and zone.
    pub(crate) fn push<const N: usize>(
        &mut self,
        config: &Config,
        out: &mut SmallVec<Endpoint, N>,
        given: SocketAddr,
        service: Option<Service<'_>>,
    ) {
        let given = canonical(given);
        let (ip, port) = (given.ip(), given.port());
        let info = self.addr_info(config, ip);
        let addr = if info.connect == ip {
            given
        } else {
            SocketAddr::new(info.connect, port)
        };
        let path = match info.verdict {
            Ok(p) => p,
            Err(reason) => return self.skip(addr, reason),
        };
        if port == 0 {
            return self.skip(addr, SkipReason::Unconnectable(Unconnectable::PortZero));
        }
        let (protocols, group) = match service {
            Some(Service {
                record,
                index,
                rank,
            }) => {
                let u = usable(record, config.alpn.as_deref());
                let group = GroupKey {
                    transport: 0,
                    priority: u32::from(record.priority),
                    rank,
                    index,
                };
                (transports(config, u.tcp, u.quic), group)
            }
            None => (transports(config, true, true), GroupKey::unassociated(0)),
        };
        if protocols.iter().all(Option::is_none) {
            return self.skip(addr, SkipReason::NoSupportedProtocol);
        }
        let key = SortKey::new(ip, config.prefer_family == Family::V4, path);
        let delay = config.attempt_delay_for(&path);
        for protocol in protocols.into_iter().flatten() {
            out.push(Endpoint {
                addr,
                key,
                protocol,
                group: GroupKey {
                    transport: transport_group(config, protocol),
                    ..group
                },
                delay,
            });
        }
    }

    /// The per-address checks (connectable, connectivity, filter) and the NAT64 mapping,
    /// computed once per (canonical) address.
    fn addr_info(&mut self, config: &Config, ip: IpAddr) -> AddrInfo {
        let callbacks = config.destination_filter.is_some() || config.path_info.is_some();
        if let Some(info) = self.caches.as_ref().and_then(|c| c.addr_info.get(&ip)) {
            return *info;
        }
        let connect = match (ip, config.nat64_prefix) {
            (IpAddr::V4(v4), Some(prefix)) => prefix.synthesize(v4).map_or(ip, IpAddr::V6),
            _ => ip,
        };
        let verdict = check_ip(&connect)
            .map_err(SkipReason::Unconnectable)
            .and_then(|()| {
                if config.connectivity.has(Family::of(&connect)) {
                    Ok(())
                } else {
                    Err(SkipReason::NoConnectivity)
                }
            })
            .and_then(|()| match &config.destination_filter {
                // The filter judges what the address carries (`judged_address`): an A answer
                // synthesised into the NAT64 prefix and the DNS64 AAAA answer for it are the
                // same IPv4 address.
                Some(f) => f
                    .check(judged_address(ip, config.nat64_prefix))
                    .map_err(SkipReason::Filtered),
                None => Ok(()),
            })
            .map(|()| match &config.path_info {
                Some(p) => p.path_info(connect),
                None => PathInfo::default(),
            });
        let info = AddrInfo { connect, verdict };
        // The caller's filter and path information are asked once per address and race;
        // without them the checks are cheaper than a cache.
        if callbacks {
            self.caches
                .get_or_insert_default()
                .addr_info
                .insert(ip, info);
        }
        info
    }

    fn skip(&mut self, addr: SocketAddr, reason: SkipReason) {
        let s = Skipped { addr, reason };
        if self.caches.get_or_insert_default().skipped_set.insert(s) {
            self.skipped.push(s);
        }
    }
}
