//! Shared code of the fuzz targets: structure-aware inputs (decoded from the fuzzer's bytes
//! with `arbitrary`, or from a readable text form for hand-made seeds, see [`text`]) and the
//! drivers that feed them to a race under the invariant monitor
//! ([`eyeballs_sim::monitor::Monitor`]). Any broken rule, refused start that the configuration
//! does not explain, or panic is a crash the fuzzer reports, with the monitor's log.

#![forbid(unsafe_code)]

pub mod text;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use eyeballs::{
    AttemptFailure, AttemptId, Config, Connectivity, DnsAnswer, DnsError, Family, GlobalOnly,
    Instant, Nat64Prefix, PathInfo, Protocol, Protocols, QueryId, RecordType, RttEstimate,
    ServiceRecord, SortMode, StartError, Target,
};
use eyeballs_sim::monitor::{Input, Monitor};

/// At most this many operations are applied per case (longer inputs are cut), so that one
/// run stays fast.
pub const MAX_OPS: usize = 256;

/// After the operations, timers are fired until none is left, at most this many times.
const MAX_SETTLE: usize = 64;

/// Addresses the fuzzer picks by index, so that the same ones recur (duplicates, answers
/// that overlap literals and hints) and the special kinds are reached: loopback, link-local,
/// unspecified, multicast, broadcast, IPv4-mapped, NAT64-synthesised, private.
const POOL: [&str; 20] = [
    "2001:db8::1",
    "2001:db8::2",
    "2001:db8::3",
    "2001:db8::4",
    "192.0.2.1",
    "192.0.2.2",
    "192.0.2.3",
    "192.0.2.4",
    "::1",
    "127.0.0.1",
    "fe80::1",
    "169.254.1.1",
    "::",
    "0.0.0.0",
    "ff02::1",
    "224.0.0.1",
    "255.255.255.255",
    "::ffff:192.0.2.9",
    "64:ff9b::c000:205",
    "10.0.0.1",
];

/// An IP address: from the pool, or any.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Addr {
    /// `POOL[i % len]`.
    Pool(u8),
    /// Any IPv4 address.
    V4([u8; 4]),
    /// Any IPv6 address.
    V6([u8; 16]),
}

impl Addr {
    /// The address.
    pub fn ip(self) -> IpAddr {
        match self {
            Addr::Pool(i) => POOL[usize::from(i) % POOL.len()]
                .parse()
                .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            Addr::V4(o) => IpAddr::V4(Ipv4Addr::from(o)),
            Addr::V6(o) => IpAddr::V6(Ipv6Addr::from(o)),
        }
    }

    /// The address given as text.
    pub fn of(ip: IpAddr) -> Addr {
        match ip {
            IpAddr::V4(v4) => Addr::V4(v4.octets()),
            IpAddr::V6(v6) => Addr::V6(v6.octets()),
        }
    }
}

/// A DNS name: a small set that alias chains can loop through, or anything.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub enum Name {
    /// `example.com`, the host of the race.
    Host,
    /// `sN.example.com` for N in 0..4.
    Sub(u8),
    /// `.`: the owner name, as a TargetName.
    Dot,
    /// `EXAMPLE.com.`: the host, differently spelled.
    Shouted,
    /// Anything (often not a valid host name).
    Raw(String),
}

impl Name {
    /// The name as text.
    pub fn text(&self) -> String {
        match self {
            Name::Host => "example.com".into(),
            Name::Sub(n) => format!("s{}.example.com", n % 4),
            Name::Dot => ".".into(),
            Name::Shouted => "EXAMPLE.com.".into(),
            Name::Raw(s) => s.clone(),
        }
    }

    fn same(&self, other: &str) -> bool {
        let a = self.text();
        a.trim_end_matches('.')
            .eq_ignore_ascii_case(other.trim_end_matches('.'))
    }
}

/// An ALPN id.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alpn {
    /// `h3` (QUIC).
    H3,
    /// `h2` (TCP).
    H2,
    /// `http/1.1` (TCP, the HTTPS default).
    Http11,
    /// `h3-29` (QUIC draft).
    H3Draft,
    /// `doq` (QUIC).
    Doq,
    /// Something no client supports.
    Odd,
}

impl Alpn {
    /// The id.
    pub fn id(self) -> &'static str {
        match self {
            Alpn::H3 => "h3",
            Alpn::H2 => "h2",
            Alpn::Http11 => "http/1.1",
            Alpn::H3Draft => "h3-29",
            Alpn::Doq => "doq",
            Alpn::Odd => "x-odd",
        }
    }

    /// The variant for an id (anything unknown is [`Alpn::Odd`]).
    pub fn of(id: &str) -> Alpn {
        match id {
            "h3" => Alpn::H3,
            "h2" => Alpn::H2,
            "http/1.1" => Alpn::Http11,
            "h3-29" => Alpn::H3Draft,
            "doq" => Alpn::Doq,
            _ => Alpn::Odd,
        }
    }
}

/// An SVCB/HTTPS record.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// SvcPriority, small (0 is AliasMode), unless `wide_priority` is set.
    pub priority: u8,
    /// Any SvcPriority.
    pub wide_priority: Option<u16>,
    /// TargetName.
    pub target: Name,
    /// The `port` SvcParam.
    pub port: Option<u16>,
    /// The `alpn` SvcParam.
    pub alpn: Vec<Alpn>,
    /// `no-default-alpn`.
    pub no_default_alpn: bool,
    /// `ipv4hint` and `ipv6hint` (each address goes to the hint of its family).
    pub hints: Vec<Addr>,
    /// The `ech` SvcParam.
    pub ech: Option<Vec<u8>>,
}

impl Record {
    /// The engine's record.
    pub fn build(&self) -> ServiceRecord {
        let priority = self.wide_priority.unwrap_or(u16::from(self.priority % 4));
        let mut r = ServiceRecord::service(priority, &self.target.text())
            .with_alpn(self.alpn.iter().map(|a| a.id()));
        if self.no_default_alpn {
            r = r.with_no_default_alpn();
        }
        if let Some(p) = self.port {
            r = r.with_port(p);
        }
        r.ipv4hint = self
            .hints
            .iter()
            .filter_map(|a| match a.ip() {
                IpAddr::V4(v4) => Some(v4),
                IpAddr::V6(_) => None,
            })
            .collect();
        r.ipv6hint = self
            .hints
            .iter()
            .filter_map(|a| match a.ip() {
                IpAddr::V6(v6) => Some(v6),
                IpAddr::V4(_) => None,
            })
            .collect();
        if let Some(ech) = &self.ech {
            r = r.with_ech(ech.clone());
        }
        r
    }
}

/// A DNS answer as the fuzzer writes it (it may not fit the query: the race must refuse it).
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Addresses (of any family).
    Addrs(Vec<Addr>),
    /// Service records.
    Services(Vec<Record>),
    /// An error.
    Error(u8),
}

fn dns_error(code: u8) -> DnsError {
    match code % 6 {
        0 => DnsError::NoData,
        1 => DnsError::NxDomain,
        2 => DnsError::ServFail,
        3 => DnsError::Timeout,
        4 => DnsError::Refused,
        _ => DnsError::Other,
    }
}

fn attempt_failure(code: u8) -> AttemptFailure {
    match code % 6 {
        0 => AttemptFailure::Refused,
        1 => AttemptFailure::Unreachable,
        2 => AttemptFailure::TimedOut,
        3 => AttemptFailure::Reset,
        4 => AttemptFailure::Handshake,
        _ => AttemptFailure::Other,
    }
}

impl Answer {
    /// The engine's answer.
    pub fn build(&self) -> DnsAnswer {
        match self {
            Answer::Addrs(list) => DnsAnswer::Addresses(list.iter().map(|a| a.ip()).collect()),
            Answer::Services(list) => DnsAnswer::Services(list.iter().map(Record::build).collect()),
            Answer::Error(code) => DnsAnswer::Error(dns_error(*code)),
        }
    }
}

/// When an input arrives, relative to the latest time given and the race's next deadline.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// At the latest time given.
    Now,
    /// This many milliseconds later.
    Ms(u16),
    /// This many nanoseconds later.
    Ns(u32),
    /// Exactly at the next deadline (`poll_timeout`), or now without one.
    AtTimer,
    /// One nanosecond before the next deadline.
    BeforeTimer,
    /// This many milliseconds before the latest time given (time going backwards).
    Back(u16),
    /// This many seconds later.
    Far(u32),
}

impl When {
    fn at(self, now: Instant, timer: Option<Instant>) -> Instant {
        match self {
            When::Now => now,
            When::Ms(ms) => now + Duration::from_millis(u64::from(ms)),
            When::Ns(ns) => now + Duration::from_nanos(u64::from(ns)),
            When::AtTimer => timer.unwrap_or(now),
            When::BeforeTimer => {
                timer.map_or(now, |t| Instant::from_nanos(t.as_nanos().saturating_sub(1)))
            }
            When::Back(ms) => now.saturating_sub(Duration::from_millis(u64::from(ms))),
            When::Far(s) => now + Duration::from_secs(u64::from(s)),
        }
    }
}

/// Which attempt or query an input names.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ref {
    /// The n-th (modulo their number) attempt in flight or query open; the first id there
    /// is when none is.
    Live(u8),
    /// The n-th (modulo their number) attempt or query ever made, live or not.
    Any(u8),
    /// This id, whatever it is.
    Raw(u32),
}

/// One input.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// A DNS answer.
    Answer {
        /// The query.
        query: Ref,
        /// The answer.
        answer: Answer,
        /// When.
        when: When,
    },
    /// An attempt connected.
    Connected {
        /// The attempt.
        attempt: Ref,
        /// When.
        when: When,
    },
    /// An attempt failed.
    Failed {
        /// The attempt.
        attempt: Ref,
        /// How (modulo the kinds).
        failure: u8,
        /// When.
        when: When,
    },
    /// An attempt made progress.
    Progress {
        /// The attempt.
        attempt: Ref,
        /// When.
        when: When,
    },
    /// `handle_timeout`.
    Timeout {
        /// When.
        when: When,
    },
    /// The caller gives up.
    Cancel {
        /// When.
        when: When,
    },
}

/// The configuration, as the fuzzer sets it (out-of-range values included: the race must
/// refuse them with the error [`Config::validate`] gives).
#[derive(Arbitrary, Clone, Debug, Default, PartialEq, Eq)]
pub struct Knobs {
    /// `connection_attempt_delay` in ms.
    pub cad_ms: Option<u16>,
    /// `min_connection_attempt_delay` in ms.
    pub min_ms: Option<u16>,
    /// `max_connection_attempt_delay` in ms.
    pub max_ms: Option<u16>,
    /// `resolution_delay` in ms.
    pub rd_ms: Option<u16>,
    /// `first_address_family_count`.
    pub family_count: Option<u8>,
    /// Prefer IPv4.
    pub prefer_v4: bool,
    /// `SortMode::Given`.
    pub sort_given: bool,
    /// No interleaving.
    pub no_interleave: bool,
    /// No IPv6 connectivity.
    pub no_v6: bool,
    /// No IPv4 connectivity.
    pub no_v4: bool,
    /// `attempt_timeout` in ms.
    pub attempt_timeout_ms: Option<u16>,
    /// `total_timeout` in ms.
    pub total_timeout_ms: Option<u16>,
    /// `max_concurrent_attempts`.
    pub cap: Option<u8>,
    /// `query_https`.
    pub https: bool,
    /// Allow QUIC.
    pub quic: bool,
    /// Disallow TCP.
    pub no_tcp: bool,
    /// Prefer TCP over QUIC.
    pub prefer_tcp: bool,
    /// `group_by_protocol`.
    pub group_by_protocol: bool,
    /// The client's ALPN ids.
    pub alpn: Option<Vec<Alpn>>,
    /// A NAT64 prefix: the well-known one (`None` inside), or one of another length.
    pub nat64: Option<Option<u8>>,
    /// `svcb_reliant`.
    pub reliant: bool,
    /// `shuffle_seed`.
    pub seed: u64,
    /// A path-info provider with RTT history and sources for some addresses.
    pub path_info: bool,
    /// A destination filter: none when bit 0 is clear; with bit 0 set, one that refuses
    /// loopback and private addresses (bit 1 clear) or the engine's `GlobalOnly` (bit 1 set).
    /// One byte, as the `bool` it replaces, so that committed binary seeds decode alike.
    pub filter: u8,
}

fn ms(v: u16) -> Duration {
    Duration::from_millis(u64::from(v))
}

impl Knobs {
    /// The engine's configuration.
    pub fn config(&self) -> Config {
        let mut c = Config::default();
        if let Some(v) = self.cad_ms {
            c.connection_attempt_delay = ms(v);
        }
        if let Some(v) = self.min_ms {
            c.min_connection_attempt_delay = ms(v);
        }
        if let Some(v) = self.max_ms {
            c.max_connection_attempt_delay = ms(v);
        }
        if let Some(v) = self.rd_ms {
            c.resolution_delay = ms(v);
        }
        if let Some(v) = self.family_count {
            c.first_address_family_count = v;
        }
        if self.prefer_v4 {
            c.prefer = Family::V4;
        }
        if self.sort_given {
            c.sort = SortMode::Given;
        }
        c.interleave = !self.no_interleave;
        c.connectivity = Connectivity {
            ipv6: !self.no_v6,
            ipv4: !self.no_v4,
        };
        c.attempt_timeout = self.attempt_timeout_ms.map(ms);
        c.total_timeout = self.total_timeout_ms.map(ms);
        c.max_concurrent_attempts = self.cap.map(u32::from);
        c.query_https = self.https;
        c.protocols = Protocols {
            tcp: !self.no_tcp,
            quic: self.quic,
        };
        if self.prefer_tcp {
            c.prefer_protocol = Protocol::Tcp;
        }
        c.group_by_protocol = self.group_by_protocol;
        c.alpn = self
            .alpn
            .as_ref()
            .map(|l| l.iter().map(|a| a.id().to_string()).collect());
        c.nat64_prefix = match self.nat64 {
            None => None,
            Some(None) => Some(eyeballs::nat64::WELL_KNOWN_PREFIX),
            Some(Some(len)) => {
                let len = [32, 40, 48, 56, 64, 96][usize::from(len) % 6];
                Nat64Prefix::new(
                    "2001:db8:64::".parse().unwrap_or(Ipv6Addr::UNSPECIFIED),
                    len,
                )
                .ok()
            }
        };
        c.svcb_reliant = self.reliant;
        c.shuffle_seed = self.seed;
        if self.path_info {
            c.path_info = Some(Arc::new(path_info));
        }
        match self.filter & 3 {
            1 => c.filter = Some(Arc::new(filter)),
            3 => c.filter = Some(Arc::new(GlobalOnly)),
            _ => {}
        }
        c
    }
}

/// A deterministic provider: RTT history for some addresses (so delays vary between the
/// clamps), a source for others, "used before" and "broken" marks.
fn path_info(ip: IpAddr) -> PathInfo {
    let h = match ip {
        IpAddr::V4(v4) => u32::from(v4),
        IpAddr::V6(v6) => (u128::from(v6) % u128::from(u32::MAX)) as u32,
    };
    let mut p = PathInfo::default();
    if h % 3 == 0 {
        p.rtt = Some(RttEstimate {
            srtt: Duration::from_millis(u64::from(h % 700)),
            rttvar: Duration::from_millis(u64::from(h % 97)),
        });
    }
    if h % 5 == 0 {
        p.source = eyeballs::Source::Unreachable;
    }
    p.used_before = h % 7 == 0;
    p.broken = h % 11 == 0;
    p
}

fn filter(ip: IpAddr) -> Result<(), &'static str> {
    let private = match ip {
        IpAddr::V4(v4) => v4.is_private() || v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00,
    };
    if private {
        Err("private or loopback")
    } else {
        Ok(())
    }
}

/// What the race connects to.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub enum TargetSpec {
    /// A host name (maybe invalid, maybe an IP literal) and port.
    Host(Name, u16),
    /// Literal addresses (maybe none, maybe unconnectable).
    Literals(Vec<(Addr, u16)>),
}

impl TargetSpec {
    /// The engine's target.
    pub fn build(&self) -> Target {
        match self {
            TargetSpec::Host(name, port) => Target::host(&name.text(), *port),
            TargetSpec::Literals(list) => {
                Target::addresses(list.iter().map(|(a, p)| SocketAddr::new(a.ip(), *p)))
            }
        }
    }
}

/// The input of `engine_inputs`.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub struct EngineCase {
    /// The configuration.
    pub knobs: Knobs,
    /// The target.
    pub target: TargetSpec,
    /// The inputs, in order.
    pub ops: Vec<Op>,
}

impl EngineCase {
    /// The case in `data`: the text form when it starts with [`text::MAGIC`], otherwise
    /// `arbitrary`'s decoding.
    pub fn decode(data: &[u8]) -> Option<EngineCase> {
        match text::strip_magic(data) {
            Some(t) => Some(text::engine_case(&t)),
            None => EngineCase::arbitrary_take_rest(Unstructured::new(data)).ok(),
        }
    }
}

/// A record set in the zone `svcb` serves.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub enum ZoneData {
    /// HTTPS records.
    Https(Vec<Record>),
    /// AAAA records (addresses of the other family are dropped).
    Aaaa(Vec<Addr>),
    /// A records (addresses of the other family are dropped).
    A(Vec<Addr>),
    /// An error for every type at this name.
    Error(u8),
}

/// One input of `svcb`.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub enum SvcbOp {
    /// Answer the n-th (modulo their number) open query from the zone: the first entry for
    /// its name and type, an entry's error, or NODATA.
    Serve {
        /// Which open query.
        pick: u8,
        /// When.
        when: When,
    },
    /// Any other input.
    Other(Op),
}

/// The input of `svcb`.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub struct SvcbCase {
    /// The configuration (`query_https` is forced on).
    pub knobs: Knobs,
    /// The port of `example.com`.
    pub port: u16,
    /// The zone.
    pub zone: Vec<(Name, ZoneData)>,
    /// The inputs.
    pub ops: Vec<SvcbOp>,
}

impl SvcbCase {
    /// The case in `data` (text form or `arbitrary`, as [`EngineCase::decode`]).
    pub fn decode(data: &[u8]) -> Option<SvcbCase> {
        match text::strip_magic(data) {
            Some(t) => Some(text::svcb_case(&t)),
            None => SvcbCase::arbitrary_take_rest(Unstructured::new(data)).ok(),
        }
    }

    /// The zone's answer to a query for `name` and `record`.
    fn serve(&self, name: &str, record: RecordType) -> DnsAnswer {
        for (n, data) in &self.zone {
            if !n.same(name) {
                continue;
            }
            // What each record type can hold: AAAA any IPv6 address (IPv4-mapped ones
            // included), A only IPv4.
            let family = |list: &Vec<Addr>, want: Family| {
                DnsAnswer::Addresses(
                    list.iter()
                        .map(|a| a.ip())
                        .filter(|ip| ip.is_ipv6() == (want == Family::V6))
                        .collect(),
                )
            };
            match (data, record) {
                (ZoneData::Error(code), _) => return DnsAnswer::Error(dns_error(*code)),
                (ZoneData::Https(list), RecordType::Https) => {
                    return DnsAnswer::Services(list.iter().map(Record::build).collect());
                }
                (ZoneData::Aaaa(list), RecordType::Aaaa) => return family(list, Family::V6),
                (ZoneData::A(list), RecordType::A) => return family(list, Family::V4),
                _ => {}
            }
        }
        DnsAnswer::Error(DnsError::NoData)
    }
}

/// A monitored race and the latest time given to it.
pub struct Driver {
    monitor: Monitor,
    now: Instant,
}

impl Driver {
    /// Starts a race; `None` when it is refused. A refusal must be what the configuration
    /// and target explain.
    pub fn start(config: Config, target: Target) -> Option<Driver> {
        let valid = config.validate();
        match Monitor::start(config, target, Instant::ZERO) {
            Ok(monitor) => {
                assert_eq!(
                    valid,
                    Ok(()),
                    "a race started with an invalid configuration"
                );
                let mut d = Driver {
                    monitor,
                    now: Instant::ZERO,
                };
                d.check();
                Some(d)
            }
            Err(StartError::Config(e)) => {
                assert_eq!(
                    valid,
                    Err(e),
                    "the race's configuration error is not validate()'s"
                );
                None
            }
            Err(_) => {
                assert_eq!(
                    valid,
                    Ok(()),
                    "an invalid configuration reported as something else"
                );
                None
            }
        }
    }

    /// The monitor.
    pub fn monitor(&self) -> &Monitor {
        &self.monitor
    }

    fn check(&mut self) {
        while self.monitor.poll_action().is_some() {}
        if let Err(v) = self.monitor.check() {
            panic!("{v}\n{}", self.monitor.history());
        }
    }

    /// Gives `input` at `when`, then checks the monitor. A refused input must leave the
    /// race's whole state (as `Debug` shows it) exactly as it was, and does not move time.
    pub fn give(&mut self, when: When, input: Input) {
        let at = when.at(self.now, self.monitor.poll_timeout());
        let before = format!("{:?}", self.monitor.race());
        match self.monitor.apply(at, input.clone()) {
            Ok(()) => self.now = self.now.max(at),
            Err(e) => {
                let after = format!("{:?}", self.monitor.race());
                if after != before {
                    panic!(
                        "{input} at {at} was refused ({e}) but changed the race\nbefore: \
                         {before}\nafter: {after}\n{}",
                        self.monitor.history()
                    );
                }
            }
        }
        self.check();
    }

    fn attempt(&self, r: Ref) -> AttemptId {
        let attempts = self.monitor.race().attempts();
        let pick = |list: Vec<AttemptId>, n: u8| {
            if list.is_empty() {
                AttemptId(0)
            } else {
                list[usize::from(n) % list.len()]
            }
        };
        match r {
            Ref::Raw(id) => AttemptId(id),
            Ref::Any(n) => pick(attempts.iter().map(|a| a.id).collect(), n),
            Ref::Live(n) => pick(
                attempts
                    .iter()
                    .filter(|a| a.state == eyeballs::AttemptState::InFlight)
                    .map(|a| a.id)
                    .collect(),
                n,
            ),
        }
    }

    fn query(&self, r: Ref) -> QueryId {
        let open: Vec<QueryId> = self.monitor.open_queries().map(|q| q.0).collect();
        let asked = self
            .monitor
            .log()
            .iter()
            .flat_map(|s| &s.actions)
            .filter(|a| matches!(a, eyeballs::Action::Resolve { .. }));
        match r {
            Ref::Raw(id) => QueryId(id),
            Ref::Live(n) if !open.is_empty() => open[usize::from(n) % open.len()],
            Ref::Live(_) => QueryId(0),
            Ref::Any(n) => {
                let count = asked.count().max(1);
                QueryId(u32::try_from(usize::from(n) % count).unwrap_or(0))
            }
        }
    }

    /// Applies one operation.
    pub fn op(&mut self, op: &Op) {
        match op {
            Op::Answer {
                query,
                answer,
                when,
            } => {
                let id = self.query(*query);
                self.give(
                    *when,
                    Input::Dns {
                        id,
                        answer: answer.build(),
                    },
                );
            }
            Op::Connected { attempt, when } => {
                let id = self.attempt(*attempt);
                self.give(*when, Input::Connected(id));
            }
            Op::Failed {
                attempt,
                failure,
                when,
            } => {
                let id = self.attempt(*attempt);
                self.give(*when, Input::Failed(id, attempt_failure(*failure)));
            }
            Op::Progress { attempt, when } => {
                let id = self.attempt(*attempt);
                self.give(*when, Input::Progress(id));
            }
            Op::Timeout { when } => self.give(*when, Input::Timeout),
            Op::Cancel { when } => self.give(*when, Input::Cancel),
        }
    }

    /// Fires the timers until none is left (bounded), as a driver that gets no more input.
    pub fn settle(&mut self) {
        for _ in 0..MAX_SETTLE {
            match self.monitor.poll_timeout() {
                Some(_) => self.give(When::AtTimer, Input::Timeout),
                None => break,
            }
        }
    }
}

/// Runs an `engine_inputs` case; the driver at the end, unless the race refused to start.
pub fn run_engine(case: &EngineCase) -> Option<Driver> {
    let mut d = Driver::start(case.knobs.config(), case.target.build())?;
    for op in case.ops.iter().take(MAX_OPS) {
        d.op(op);
    }
    d.settle();
    Some(d)
}

/// Runs an `svcb` case; the driver at the end, unless the race refused to start.
pub fn run_svcb(case: &SvcbCase) -> Option<Driver> {
    let mut config = case.knobs.config();
    config.query_https = true;
    let mut d = Driver::start(config, Target::host("example.com", case.port))?;
    for op in case.ops.iter().take(MAX_OPS) {
        match op {
            SvcbOp::Serve { pick, when } => {
                let open: Vec<(QueryId, RecordType, String)> = d
                    .monitor()
                    .open_queries()
                    .map(|(id, r, name)| (id, r, name.to_string()))
                    .collect();
                if open.is_empty() {
                    continue;
                }
                let (id, record, name) = &open[usize::from(*pick) % open.len()];
                let answer = case.serve(name, *record);
                d.give(*when, Input::Dns { id: *id, answer });
            }
            SvcbOp::Other(op) => d.op(op),
        }
    }
    d.settle();
    Some(d)
}

/// The most entries (addresses, DNS entries, network rules) a scenario may have to be run:
/// larger ones are only parsed, so that one run stays fast.
const MAX_SCENARIO_ENTRIES: usize = 64;

/// Parses a scenario file; if it parses and is small, runs it twice (the runs must agree and
/// never feed the engine an input it refuses) and renders the trace.
pub fn run_scenario_text(text: &str) {
    let Ok(scenario) = eyeballs_sim::json::parse_scenario(text) else {
        return;
    };
    let entries = scenario.network.len()
        + match &scenario.target {
            eyeballs_sim::ScenarioTarget::Host { dns, .. } => dns.len(),
            eyeballs_sim::ScenarioTarget::Addresses(a) => a.len(),
        };
    if entries > MAX_SCENARIO_ENTRIES {
        return;
    }
    let first = eyeballs_sim::run(&scenario);
    match &first {
        Ok(trace) => {
            let json = eyeballs_sim::json::trace_to_json(trace);
            let rendered = json.to_string();
            let back: serde_json::Value =
                serde_json::from_str(&rendered).expect("rendered trace is not JSON");
            assert_eq!(back, json);
            let _ = trace.to_string();
        }
        Err(eyeballs_sim::SimError::Start(_)) => {}
        Err(e) => panic!("the simulator failed: {e}"),
    }
    assert_eq!(first, eyeballs_sim::run(&scenario), "two runs disagree");
}

#[cfg(test)]
mod tests {
    //! The hand-made seeds do what their comments say.

    use super::*;
    use eyeballs::{FailReason, RaceResult};

    fn seed(dir: &str, name: &str) -> Vec<u8> {
        let path = format!("{}/corpus/{dir}/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn engine(name: &str) -> Option<Driver> {
        let case = EngineCase::decode(&seed("engine_inputs", name)).unwrap();
        assert!(text::strip_magic(&seed("engine_inputs", name)).is_some());
        run_engine(&case)
    }

    fn svcb(name: &str) -> Driver {
        let case = SvcbCase::decode(&seed("svcb", name)).unwrap();
        run_svcb(&case).unwrap()
    }

    fn result(d: &Driver) -> Option<RaceResult> {
        d.monitor().race().outcome().map(|o| o.result)
    }

    fn attempts(d: &Driver) -> usize {
        d.monitor().race().attempts().len()
    }

    #[test]
    fn engine_seeds() {
        let d = engine("v6-blackholed-host").unwrap();
        assert_eq!(result(&d), Some(RaceResult::Connected(AttemptId(2))));
        let d = engine("all-refused-literals").unwrap();
        assert_eq!(
            result(&d),
            Some(RaceResult::Failed(FailReason::AllAttemptsFailed))
        );
        assert_eq!(attempts(&d), 4);
        let d = engine("late-aaaa").unwrap();
        assert_eq!(result(&d), Some(RaceResult::Connected(AttemptId(2))));
        let d = engine("timeouts-cap-progress").unwrap();
        assert_eq!(result(&d), Some(RaceResult::TimedOut));
        let d = engine("bad-inputs").unwrap();
        assert_eq!(result(&d), Some(RaceResult::Cancelled));
        let refused = d
            .monitor()
            .log()
            .iter()
            .filter(|s| s.result.is_err())
            .count();
        assert!(refused >= 8, "{}", d.monitor().history());
        let d = engine("https-nat64-quic").unwrap();
        assert!(matches!(result(&d), Some(RaceResult::Connected(_))));
        assert!(
            d.monitor()
                .race()
                .attempts()
                .iter()
                .any(|a| a.protocol == Protocol::Quic)
        );
        assert!(engine("invalid-start").is_none());
        assert!(engine("bad-host").is_none());
        let d = engine("dns-errors-filter").unwrap();
        let o = d.monitor().race().outcome();
        assert!(o.is_some_and(|o| !o.skipped.is_empty() && !o.dns_errors.is_empty()));

        // Issue 10.
        let started = |d: &Driver| -> Vec<String> {
            let race = d.monitor().race();
            race.attempts()
                .iter()
                .map(|a| a.addr.ip().to_string())
                .collect()
        };
        let d = engine("global-only").unwrap();
        assert_eq!(started(&d), ["2606:4700::1111", "1.1.1.1"]);
        assert_eq!(d.monitor().race().skipped().len(), 6);
        let d = engine("global-only-nat64").unwrap();
        assert_eq!(started(&d), ["2606:4700::1111", "2001:db8:64:808:8:800::"]);
        let d = engine("mapped-literal-filter").unwrap();
        assert_eq!(started(&d), ["2001:db8::1", "192.0.2.1"]);
        let d = engine("mapped-a-answer").unwrap();
        assert_eq!(started(&d), ["2001:db8::1", "192.0.2.7"]);
        let d = engine("dns64-filter").unwrap();
        assert_eq!(started(&d), ["2001:db8::1", "64:ff9b::c000:201"]);
        let d = engine("late-refused-inputs").unwrap();
        let log = d.monitor().log();
        assert_eq!(log.iter().filter(|s| s.result.is_err()).count(), 5);
        assert!(
            matches!(result(&d), Some(RaceResult::Connected(_))),
            "{}",
            d.monitor().history()
        );
    }

    #[test]
    fn svcb_seeds() {
        let d = svcb("alias-chain");
        assert!(matches!(result(&d), Some(RaceResult::Connected(_))));
        let names: Vec<String> = d
            .monitor()
            .log()
            .iter()
            .flat_map(|s| &s.actions)
            .filter_map(|a| match a {
                eyeballs::Action::Resolve { name, .. } => Some(name.clone()),
                _ => None,
            })
            .collect();
        assert!(names.iter().any(|n| n == "s3.example.com"), "{names:?}");
        let d = svcb("alias-loop");
        assert_eq!(attempts(&d), 1);
        let d = svcb("reliant-servfail");
        assert_eq!(
            result(&d),
            Some(RaceResult::Failed(FailReason::ServiceResolutionFailed))
        );
        let d = svcb("priorities-alpn-quic");
        assert_eq!(result(&d), Some(RaceResult::Cancelled));
        let first = &d.monitor().race().attempts()[0];
        assert_eq!(first.addr.port(), 9443, "{}", d.monitor().history());

        // Issue 10.
        let d = svcb("mapped-ipv6hint-filter");
        let addrs: Vec<String> = d
            .monitor()
            .race()
            .attempts()
            .iter()
            .map(|a| a.addr.ip().to_string())
            .collect();
        assert_eq!(addrs, ["2001:db8::9"]);
        let d = svcb("invalid-target-names");
        let o = d.monitor().race().outcome();
        assert!(
            o.is_some_and(|o| o
                .dns_errors
                .iter()
                .any(|e| e.error == eyeballs::DnsError::InvalidName)),
            "{}",
            d.monitor().history()
        );
    }

    #[test]
    fn scenario_seeds_run() {
        let dir = format!("{}/corpus/scenario_parser", env!("CARGO_MANIFEST_DIR"));
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            assert!(eyeballs_sim::json::parse_scenario(&text).is_ok());
            run_scenario_text(&text);
            n += 1;
        }
        assert!(n >= 8);
    }

    /// Every committed seed, hand-made or found by the fuzzer, runs under the monitor without
    /// breaking a rule (the monitor panics with its log when one is broken).
    #[test]
    fn every_seed_keeps_the_rules() {
        let mut n = 0;
        for dir in ["engine_inputs", "svcb"] {
            let path = format!("{}/corpus/{dir}", env!("CARGO_MANIFEST_DIR"));
            let mut files: Vec<_> = std::fs::read_dir(&path)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            files.sort();
            for file in files {
                let data = std::fs::read(&file).unwrap();
                eprintln!("seed {}", file.display());
                match dir {
                    "engine_inputs" => {
                        if let Some(c) = EngineCase::decode(&data) {
                            run_engine(&c);
                        }
                    }
                    _ => {
                        if let Some(c) = SvcbCase::decode(&data) {
                            run_svcb(&c);
                        }
                    }
                }
                n += 1;
            }
        }
        assert!(n >= 18, "only {n} seeds");
    }

    #[test]
    fn garbage_and_arbitrary_bytes_are_harmless() {
        for data in [
            &b""[..],
            b"#!eyeballs",
            b"#!eyeballs\nanswer \xff live9 https 0",
            &[0xff; 64],
        ] {
            if let Some(c) = EngineCase::decode(data) {
                run_engine(&c);
            }
            if let Some(c) = SvcbCase::decode(data) {
                run_svcb(&c);
            }
        }
    }
}
