//! Resolution with hickory-resolver: AAAA, A and HTTPS (SVCB) over DNS, so that the engine
//! gets service records (ALPN, port, address hints, ECH) and follows HEv3 for them.
//!
//! ```no_run
//! use eyeballs_tokio::Connector;
//! use eyeballs_tokio::hickory::HickoryNetwork;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let connector = Connector::with_network(HickoryNetwork::from_system_conf()?).query_https(true);
//! let stream = connector.connect("example.com:443").await?;
//! # drop(stream); Ok(()) }
//! ```
//!
//! The resolver is this crate's `hickory_resolver`, re-exported (so that its version is
//! the one [`HickoryNetwork::new`] takes):
//!
//! ```
//! use eyeballs_tokio::hickory::HickoryNetwork;
//! use eyeballs_tokio::hickory_resolver::TokioResolver;
//! use eyeballs_tokio::hickory_resolver::config::{NameServerConfigGroup, ResolverConfig};
//! use eyeballs_tokio::hickory_resolver::name_server::TokioConnectionProvider;
//!
//! let servers = NameServerConfigGroup::from_ips_clear(&["127.0.0.1".parse().unwrap()], 53, true);
//! let config = ResolverConfig::from_parts(None, vec![], servers);
//! let resolver = TokioResolver::builder_with_config(config, TokioConnectionProvider::default()).build();
//! let network = HickoryNetwork::new(resolver);
//! # let _ = network;
//! ```

use std::io;
use std::net::IpAddr;

use eyeballs::Attempt;
use eyeballs::{DnsAnswer, DnsError, RecordType, ServiceRecord};
use eyeballs_driver::{BoxFuture, Network, RaceContext, connect_tcp};
use hickory_resolver::proto::ProtoErrorKind;
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::rdata::svcb::{SVCB, SvcParamKey, SvcParamValue};
use hickory_resolver::proto::rr::{RData, RecordType as HickoryRecordType};
use hickory_resolver::{ResolveError, TokioResolver};
use tokio::net::TcpStream;

use crate::TokioRuntime;

/// A network that resolves with hickory-resolver and connects over TCP like the default
/// network ([`Connector::with_network`](crate::Connector::with_network); see the
/// [module](self) for examples).
#[derive(Clone)]
pub struct HickoryNetwork {
    resolver: TokioResolver,
}

impl std::fmt::Debug for HickoryNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HickoryNetwork").finish_non_exhaustive()
    }
}

impl HickoryNetwork {
    /// Resolves with `resolver`.
    pub fn new(resolver: TokioResolver) -> HickoryNetwork {
        HickoryNetwork { resolver }
    }

    /// Resolves with the system's DNS configuration (`/etc/resolv.conf` on Unix).
    pub fn from_system_conf() -> io::Result<HickoryNetwork> {
        let builder = TokioResolver::builder_tokio().map_err(io::Error::other)?;
        Ok(HickoryNetwork::new(builder.build()))
    }

    /// The resolver.
    pub fn resolver(&self) -> &TokioResolver {
        &self.resolver
    }
}

impl Network<TokioRuntime> for HickoryNetwork {
    type Stream = TcpStream;

    fn resolve(
        &self,
        _runtime: &TokioRuntime,
        name: &str,
        record: RecordType,
    ) -> BoxFuture<DnsAnswer> {
        let resolver = self.resolver.clone();
        let name = name.to_string();
        Box::pin(async move {
            let answer = match record {
                RecordType::Aaaa => resolver
                    .ipv6_lookup(name.as_str())
                    .await
                    .map(|l| DnsAnswer::Addresses(l.iter().map(|a| IpAddr::V6(a.0)).collect())),
                RecordType::A => resolver
                    .ipv4_lookup(name.as_str())
                    .await
                    .map(|l| DnsAnswer::Addresses(l.iter().map(|a| IpAddr::V4(a.0)).collect())),
                RecordType::Https => resolver
                    .lookup(name.as_str(), HickoryRecordType::HTTPS)
                    .await
                    .map(|l| {
                        DnsAnswer::Services(
                            l.record_iter()
                                .filter_map(|r| match r.data() {
                                    RData::HTTPS(https) => service_record(&https.0),
                                    _ => None,
                                })
                                .collect(),
                        )
                    }),
            };
            answer.unwrap_or_else(|e| DnsAnswer::Error(dns_error(&e)))
        })
    }

    fn connect(
        &self,
        runtime: &TokioRuntime,
        attempt: &Attempt,
        race: &RaceContext<'_>,
    ) -> BoxFuture<io::Result<TcpStream>> {
        connect_tcp(runtime, attempt, race.sockets)
    }
}

/// A hickory resolution error as a DNS outcome.
pub fn dns_error(e: &ResolveError) -> DnsError {
    let Some(proto) = e.proto() else {
        return DnsError::Other;
    };
    match proto.kind() {
        ProtoErrorKind::NoRecordsFound { response_code, .. } => match *response_code {
            ResponseCode::NXDomain => DnsError::NxDomain,
            ResponseCode::ServFail => DnsError::ServFail,
            ResponseCode::Refused => DnsError::Refused,
            _ => DnsError::NoData,
        },
        ProtoErrorKind::Timeout => DnsError::Timeout,
        _ => DnsError::Other,
    }
}

/// An SVCB/HTTPS record as the engine's [`ServiceRecord`]. `None` for a record the client
/// must ignore: one whose `mandatory` list names a key this conversion does not understand
/// (RFC 9460 §8).
pub fn service_record(svcb: &SVCB) -> Option<ServiceRecord> {
    let target = svcb.target_name().to_ascii();
    let target = if target == "." {
        ".".to_string()
    } else {
        target.trim_end_matches('.').to_string()
    };
    let mut record = if svcb.svc_priority() == 0 {
        ServiceRecord::alias(&target)
    } else {
        ServiceRecord::service(svcb.svc_priority(), &target)
    };
    for (_, value) in svcb.svc_params() {
        match value {
            SvcParamValue::Mandatory(m) => {
                let understood = |k: &SvcParamKey| {
                    matches!(
                        k,
                        SvcParamKey::Alpn
                            | SvcParamKey::NoDefaultAlpn
                            | SvcParamKey::Port
                            | SvcParamKey::Ipv4Hint
                            | SvcParamKey::Ipv6Hint
                            | SvcParamKey::EchConfigList
                    )
                };
                if !m.0.iter().all(understood) {
                    return None;
                }
            }
            SvcParamValue::Alpn(alpn) => record.alpn = alpn.0.clone(),
            SvcParamValue::NoDefaultAlpn => record.no_default_alpn = true,
            SvcParamValue::Port(port) => record.port = Some(*port),
            SvcParamValue::Ipv4Hint(hints) => {
                record.ipv4hint = hints.0.iter().map(|a| a.0).collect()
            }
            SvcParamValue::Ipv6Hint(hints) => {
                record.ipv6hint = hints.0.iter().map(|a| a.0).collect()
            }
            SvcParamValue::EchConfigList(ech) => record.ech = Some(ech.0.clone().into()),
            // Keys this client does not know are ignored unless mandatory (above).
            SvcParamValue::Unknown(_) => {}
        }
    }
    Some(record)
}
