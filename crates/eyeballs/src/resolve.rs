//! What a race knows of where to connect: the literal addresses it was given, or the host
//! name with its DNS queries and their answers, and the chain of HTTPS records from the host
//! name (RFC 9460 aliases and services, HEv3 §4.1, §4.2.1) with the target names it leads to.
//!
//! [`Resolution`] decides which queries to ask, checks and records their answers, says how far
//! the service information has got ([`Chain`]) and whether the preferred family has answered
//! (HEv3 §4.2), and lists every address known, from answers and from hints, for the endpoints
//! to be built from. Pacing, timers and finishing are the race's (`race.rs`).

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::net::{IpAddr, SocketAddr};

use crate::action::{Actions, Pending};
use crate::addr::{Family, PerFamily};
use crate::config::Config;
use crate::count_u32;
use crate::dns::{DnsAnswer, DnsError, DnsFailure, QueryId, RecordType, check_host_name};
use crate::endpoints::service_usable;
use crate::error::InputError;
use crate::small::{Filler, SmallVec};
use crate::svcb::ServiceRecord;

/// RFC 9460 §2.4.2 asks clients to bound AliasMode chains; we follow at most this many
/// aliases, and treat a longer chain (or a loop) as "no service records".
pub const MAX_ALIAS_CHAIN: usize = 8;

/// Where the answer of one address record type of a name is.
#[derive(Clone, Debug)]
enum AddrAnswer {
    NotAsked,
    Pending,
    Positive(Vec<IpAddr>),
    Negative,
}

/// Where the HTTPS answer of a name is.
#[derive(Clone, Debug)]
enum SvcAnswer {
    NotAsked,
    Pending,
    Records(Vec<ServiceRecord>),
    Negative(DnsError),
}

/// One name the race resolves: the host name, a name an alias points at, or a service's
/// TargetName.
#[derive(Clone, Debug)]
struct NameState {
    /// Shared with every [`Action::Resolve`](crate::Action::Resolve) that asks for it.
    name: Arc<str>,
    addrs: PerFamily<AddrAnswer>,
    https: SvcAnswer,
    /// A host name the engine accepts (`check_host_name`). Queries for a name that is not one
    /// (a service record's TargetName) are never sent: they fail at once with
    /// [`DnsError::InvalidName`].
    valid: bool,
}

impl NameState {
    fn new(name: Arc<str>, valid: bool) -> NameState {
        NameState {
            name,
            addrs: PerFamily::new(AddrAnswer::NotAsked, AddrAnswer::NotAsked),
            https: SvcAnswer::NotAsked,
            valid,
        }
    }

    /// Sets the state of the answer to `record`: `addrs` for an address record type, `https`
    /// for HTTPS.
    fn set(&mut self, record: RecordType, addrs: AddrAnswer, https: SvcAnswer) {
        match record.family() {
            Some(family) => self.addrs[family] = addrs,
            None => self.https = https,
        }
    }
}

/// One query asked ([`Action::Resolve`](crate::Action::Resolve)); its index in
/// [`Resolution::queries`] is its id.
#[derive(Clone, Copy, Debug)]
struct Query {
    /// The index of its name in [`Resolution::names`].
    name: u32,
    record: RecordType,
    /// Not yet answered, nor cancelled.
    open: bool,
}

impl Filler for Query {
    const FILLER: Query = Query {
        name: 0,
        record: RecordType::A,
        open: false,
    };
}

/// What a race resolves: nothing (literal addresses), or the host name first (index 0),
/// then every name the HTTPS records lead to. The host name is kept inline and compared
/// without a key of its own: a race without HTTPS records allocates nothing here.
#[derive(Clone, Debug)]
enum Names {
    /// The addresses of an address target: nothing to resolve.
    Literals(Vec<SocketAddr>),
    Host {
        host: NameState,
        /// Made for the first name after the host name (HTTPS records only).
        more: Option<Box<MoreNames>>,
    },
}

#[derive(Clone, Debug, Default)]
struct MoreNames {
    /// The names after the host name.
    list: Vec<NameState>,
    /// The index of each of `list` (by [`name_key`]).
    index: BTreeMap<String, usize>,
}

impl Names {
    fn parts(&self) -> (Option<&NameState>, &[NameState]) {
        match self {
            Names::Literals(_) => (None, &[]),
            Names::Host { host, more } => (Some(host), more.as_ref().map_or(&[][..], |m| &m.list)),
        }
    }

    fn literals(&self) -> &[SocketAddr] {
        match self {
            Names::Literals(list) => list,
            Names::Host { .. } => &[],
        }
    }

    fn len(&self) -> usize {
        let (host, more) = self.parts();
        usize::from(host.is_some()) + more.len()
    }

    fn is_empty(&self) -> bool {
        self.first().is_none()
    }

    fn first(&self) -> Option<&NameState> {
        self.parts().0
    }

    fn iter(&self) -> impl Iterator<Item = &NameState> {
        let (host, more) = self.parts();
        host.into_iter().chain(more)
    }

    fn get(&self, i: usize) -> Option<&NameState> {
        let (host, more) = self.parts();
        match i.checked_sub(1) {
            None => host,
            Some(j) => more.get(j),
        }
    }

    fn get_mut(&mut self, i: usize) -> Option<&mut NameState> {
        let Names::Host { host, more } = self else {
            return None;
        };
        match i.checked_sub(1) {
            None => Some(host),
            Some(j) => more.as_mut()?.list.get_mut(j),
        }
    }

    /// The index of `name` (compared without case and trailing dot).
    fn find(&self, name: &str) -> Option<usize> {
        let Names::Host { host, more } = self else {
            return None;
        };
        let trim = |n: &str| -> usize { n.strip_suffix('.').unwrap_or(n).len() };
        let (a, b) = (&host.name[..trim(&host.name)], &name[..trim(name)]);
        if a.eq_ignore_ascii_case(b) {
            return Some(0);
        }
        more.as_ref()?.index.get(&name_key(name)).copied()
    }

    /// Adds a name after the host name (nothing without one): its index.
    fn push(&mut self, state: NameState) -> usize {
        let index = self.len();
        if let Names::Host { more, .. } = self {
            let more = more.get_or_insert_default();
            more.index.insert(name_key(&state.name), index);
            more.list.push(state);
        }
        index
    }
}

/// Where the chain of HTTPS answers starting at the host name has got to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Chain {
    /// HTTPS is not queried.
    Off,
    /// The HTTPS answer for this name is awaited (or not yet asked).
    Waiting(usize),
    /// The alias at this name points at a name that has no entry yet.
    NeedName(usize),
    /// No service records (a negative answer, or an alias chain that is too long or loops).
    Negative { failed: bool },
    /// ServiceMode records at this name.
    Found(usize),
}

impl Chain {
    /// Whether the service information is settled: received, known to be absent, or not
    /// asked for.
    pub(crate) fn settled(self) -> bool {
        !matches!(self, Chain::Waiting(_) | Chain::NeedName(_))
    }
}

/// The service record an address was given by, and its place among the host's services.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Service<'a> {
    pub(crate) record: &'a ServiceRecord,
    /// Its position among the ServiceMode records of the answer.
    pub(crate) index: u32,
    /// Its place in the seeded shuffle of equal priorities (HEv3 §5.2).
    pub(crate) rank: u64,
}

/// The destination side of a race: literal addresses, or names, queries and answers.
#[derive(Clone, Debug)]
pub(crate) struct Resolution {
    /// The port of a host target (a service record may name its own).
    port: u16,
    /// The host name first (index 0), then every name the HTTPS records lead to.
    names: Names,
    /// Inline for the host name's HTTPS, AAAA and A queries.
    queries: SmallVec<Query, 3>,
    /// A cache of how many `queries` are open, kept by [`ask`](Resolution::ask) and
    /// [`close_all`](Resolution::close_all) and the answer's close only.
    open_count: u32,
    /// The first query whose `Resolve` action has not been emitted (queries are emitted after
    /// the starts of the input that caused them).
    first_unemitted: u32,
    /// Every query that ended without records, once each.
    /// Made for the first (none in a race whose queries all get addresses).
    #[allow(
        clippy::box_collection,
        reason = "8 bytes in every race rather than an empty Vec's 24: most have none"
    )]
    dns_errors: Option<Box<Vec<DnsFailure>>>,
}

/// splitmix64: a tiny deterministic mixer for the seeded shuffle of equal-priority services.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The key of a name in [`Resolution::name_index`]: without case and trailing dot.
fn name_key(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

impl Resolution {
    /// Literal addresses (checked by the caller): nothing to resolve.
    pub(crate) fn literals(literals: Vec<SocketAddr>) -> Resolution {
        Resolution {
            port: 0,
            names: Names::Literals(literals),
            queries: SmallVec::new(),
            open_count: 0,
            first_unemitted: 0,
            dns_errors: None,
        }
    }

    /// A host name (checked by the caller) and its first queries: HTTPS when
    /// [`Config::query_https`] is set, then AAAA, then A (HEv3 §4.1).
    pub(crate) fn host(name: Arc<str>, port: u16, config: &Config) -> Resolution {
        let mut r = Resolution::literals(Vec::new());
        r.port = port;
        r.names = Names::Host {
            host: NameState::new(name, true),
            more: None,
        };
        if config.query_https {
            r.ask(0, RecordType::Https);
        }
        r.ask_addresses(0, config);
        r
    }

    /// Whether some query is not yet answered (nor cancelled).
    pub(crate) fn has_open_queries(&self) -> bool {
        self.open_count > 0
    }

    /// Every query that ended without records, so far.
    /// Every query that ended without records, for the outcome (the race has finished).
    pub(crate) fn take_dns_errors(&mut self) -> Vec<DnsFailure> {
        self.dns_errors.take().map_or_else(Vec::new, |b| *b)
    }

    /// Checks an answer to query `id` before anything happens: the query exists and the
    /// answer fits its record type.
    pub(crate) fn check_answer(&self, id: QueryId, answer: &DnsAnswer) -> Result<(), InputError> {
        let query = self
            .queries
            .get(id.0 as usize)
            .ok_or(InputError::UnknownQuery(id))?;
        let mismatch = |addr| InputError::AnswerMismatch {
            id,
            asked: query.record,
            addr,
        };
        match (answer, query.record.family()) {
            (DnsAnswer::Addresses(list), Some(family)) => {
                // An AAAA record holds 128 bits, so any IPv6 address fits (an IPv4-mapped one
                // is then the IPv4 address it maps); an A answer holds IPv4 addresses, given
                // plainly or mapped.
                let fits = |ip: &IpAddr| match family {
                    Family::V6 => ip.is_ipv6(),
                    Family::V4 => Family::of(ip) == Family::V4,
                };
                match list.iter().find(|ip| !fits(ip)) {
                    Some(bad) => Err(mismatch(Some(*bad))),
                    None => Ok(()),
                }
            }
            (DnsAnswer::Services(_), None) | (DnsAnswer::Error(_), _) => Ok(()),
            _ => Err(mismatch(None)),
        }
    }

    /// Records the answer to query `id` (checked by [`check_answer`](Resolution::check_answer))
    /// and asks the queries it calls for.
    ///
    /// A new answer replaces the old one; a transient error (SERVFAIL, timeout) after a
    /// positive answer keeps the records (HEv3 §4.4, §7).
    pub(crate) fn record_answer(&mut self, id: QueryId, answer: DnsAnswer, config: &Config) {
        let index = id.0 as usize;
        let Some(query) = self.queries.get_mut(index) else {
            return;
        };
        if query.open {
            query.open = false;
            self.open_count = self.open_count.saturating_sub(1);
        }
        let query = *query;
        let Some(name) = self.names.get_mut(query.name as usize) else {
            return;
        };
        let failure = |error| DnsFailure {
            name: String::from(&*name.name),
            record: query.record,
            error,
        };
        let mut error = None;
        match (answer, query.record.family()) {
            (DnsAnswer::Addresses(list), Some(family)) => {
                name.addrs[family] = if list.is_empty() {
                    error = Some(failure(DnsError::NoData));
                    AddrAnswer::Negative
                } else {
                    AddrAnswer::Positive(list)
                };
            }
            (DnsAnswer::Services(records), None) => {
                name.https = if records.is_empty() {
                    error = Some(failure(DnsError::NoData));
                    SvcAnswer::Negative(DnsError::NoData)
                } else {
                    SvcAnswer::Records(records)
                };
            }
            (DnsAnswer::Error(e), None) => {
                error = Some(failure(e));
                if e.is_definitive() || !matches!(name.https, SvcAnswer::Records(_)) {
                    name.https = SvcAnswer::Negative(e);
                }
            }
            (DnsAnswer::Error(e), Some(family)) => {
                error = Some(failure(e));
                let slot = &mut name.addrs[family];
                if e.is_definitive() || !matches!(slot, AddrAnswer::Positive(_)) {
                    *slot = AddrAnswer::Negative;
                }
            }
            // Refused by `check_answer`.
            (DnsAnswer::Addresses(_), None) | (DnsAnswer::Services(_), Some(_)) => {}
        }
        if let Some(e) = error {
            let errors = self.dns_errors.get_or_insert_default();
            if !errors.contains(&e) {
                errors.push(e);
            }
        }
        self.ensure_queries(config);
    }

    /// Queues an [`Action::Resolve`](crate::Action::Resolve) for every query asked since the
    /// last call.
    pub(crate) fn emit_queries(&mut self, actions: &mut Actions) {
        let asked = count_u32(self.queries.len());
        for i in self.first_unemitted..asked {
            actions.push_back(Pending::Resolve(QueryId(i)));
        }
        self.first_unemitted = asked;
    }

    /// The name and record type of query `id`, for its [`Action::Resolve`](crate::Action::Resolve).
    pub(crate) fn query(&self, id: QueryId) -> Option<(Arc<str>, RecordType)> {
        let q = self.queries.get(id.0 as usize)?;
        let name = self.names.get(q.name as usize)?;
        Some((name.name.clone(), q.record))
    }

    /// The race is over: every open query is closed. Whether there were any (the caller then
    /// emits [`Action::CancelQueries`]).
    pub(crate) fn close_all(&mut self) -> bool {
        if self.open_count == 0 {
            return false;
        }
        for q in self.queries.as_mut_slice() {
            q.open = false;
        }
        self.open_count = 0;
        true
    }

    fn ask(&mut self, name: usize, record: RecordType) {
        let Some(state) = self.names.get_mut(name) else {
            return;
        };
        if !state.valid {
            // Never sent: the name is not a host name. It fails at once, definitively for the
            // addresses (no hints either), as a failure of the service information for HTTPS.
            state.set(
                record,
                AddrAnswer::Negative,
                SvcAnswer::Negative(DnsError::InvalidName),
            );
            // Each record type of a name is asked at most once.
            self.dns_errors.get_or_insert_default().push(DnsFailure {
                name: String::from(&*state.name),
                record,
                error: DnsError::InvalidName,
            });
            return;
        }
        state.set(record, AddrAnswer::Pending, SvcAnswer::Pending);
        self.queries.push(Query {
            name: count_u32(name),
            record,
            open: true,
        });
        self.open_count += 1;
    }

    /// HEv3 §4.1: AAAA with IPv6 connectivity; A with IPv4 connectivity, or with a NAT64
    /// prefix (HEv3 §8.2: "if PREF64 is available, clients SHOULD send an A query in addition
    /// to an AAAA query").
    fn ask_addresses(&mut self, name: usize, config: &Config) {
        let wanted = PerFamily::new(
            config.connectivity.ipv6,
            config.connectivity.ipv4 || config.nat64_prefix.is_some(),
        );
        for family in [Family::V6, Family::V4] {
            let not_asked = self
                .names
                .get(name)
                .is_some_and(|n| matches!(n.addrs[family], AddrAnswer::NotAsked));
            if wanted[family] && not_asked {
                self.ask(name, RecordType::for_family(family));
            }
        }
    }

    /// The entry for `name` (compared without case and trailing dot).
    fn name_index(&self, name: &str) -> Option<usize> {
        self.names.find(name)
    }

    /// The HTTPS answer of name `i` (`NotAsked` for a name that does not exist).
    fn https(&self, i: usize) -> &SvcAnswer {
        self.names.get(i).map_or(&SvcAnswer::NotAsked, |n| &n.https)
    }

    fn add_name(&mut self, name: &str) -> usize {
        if let Some(i) = self.name_index(name) {
            return i;
        }
        let valid = check_host_name(name).is_ok();
        // A name that is not a host name is reported exactly as given (`a..` is not `a.`).
        let name = Arc::from(match valid {
            true => name.strip_suffix('.').unwrap_or(name),
            false => name,
        });
        self.names.push(NameState::new(name, valid))
    }

    /// Follows the HTTPS answers from the host name through AliasMode records.
    pub(crate) fn chain(&self, config: &Config) -> Chain {
        if !config.query_https || self.names.is_empty() {
            return Chain::Off;
        }
        let mut at = 0;
        let mut seen = [0usize; MAX_ALIAS_CHAIN + 1];
        for depth in 0..=MAX_ALIAS_CHAIN {
            seen[depth] = at;
            match self.https(at) {
                SvcAnswer::NotAsked | SvcAnswer::Pending => return Chain::Waiting(at),
                SvcAnswer::Negative(e) => {
                    return Chain::Negative {
                        failed: !e.is_definitive(),
                    };
                }
                SvcAnswer::Records(records) => {
                    // RFC 9460 §2.4.2: when AliasMode records are present, ServiceMode
                    // records in the same set are ignored.
                    let Some(alias) = records.iter().find(|r| r.is_alias()) else {
                        return Chain::Found(at);
                    };
                    if alias.target == "." {
                        return Chain::Negative { failed: false };
                    }
                    match self.name_index(&alias.target) {
                        None => return Chain::NeedName(at),
                        Some(next) if seen[..=depth].contains(&next) => {
                            return Chain::Negative { failed: false };
                        }
                        Some(next) => at = next,
                    }
                }
            }
        }
        Chain::Negative { failed: false }
    }

    /// Registers the queries the HTTPS answers call for: the next name of an alias chain,
    /// and AAAA/A for each service's TargetName (HEv3 §4.2.1).
    fn ensure_queries(&mut self, config: &Config) {
        for _ in 0..=MAX_ALIAS_CHAIN + 1 {
            match self.chain(config) {
                Chain::Waiting(at) => {
                    if matches!(self.https(at), SvcAnswer::NotAsked) {
                        self.ask(at, RecordType::Https);
                    }
                    return;
                }
                Chain::NeedName(at) => {
                    let target = match self.https(at) {
                        SvcAnswer::Records(r) => {
                            r.iter().find(|r| r.is_alias()).map(|a| a.target.clone())
                        }
                        _ => None,
                    };
                    match target {
                        Some(t) => {
                            self.add_name(&t);
                        }
                        None => return,
                    }
                }
                Chain::Found(owner) => {
                    let targets: Vec<String> = match self.https(owner) {
                        // The TargetNames of services the client cannot use are not
                        // resolved (HEv3 §6.2); their hints are reported as skipped.
                        SvcAnswer::Records(r) => r
                            .iter()
                            .filter(|r| !r.is_alias() && service_usable(config, r))
                            .map(|r| r.target.clone())
                            .collect(),
                        _ => Vec::new(),
                    };
                    for t in targets {
                        let index = if t == "." { owner } else { self.add_name(&t) };
                        self.ask_addresses(index, config);
                    }
                    return;
                }
                Chain::Off | Chain::Negative { .. } => return,
            }
        }
    }

    /// The `index`-th ServiceMode record of the service information found (its group's
    /// record: [`for_each_address`](Resolution::for_each_address) numbers them so). A set
    /// found ([`Chain::Found`]) has no AliasMode record: the index is the record's position.
    pub(crate) fn service_record(&self, config: &Config, index: usize) -> Option<&ServiceRecord> {
        let Chain::Found(owner) = self.chain(config) else {
            return None;
        };
        match self.https(owner) {
            SvcAnswer::Records(records) => records.get(index),
            _ => None,
        }
    }

    /// Whether the preferred family has been answered (HEv3 §4.2, first condition set):
    /// its query on the host name has an answer (or was never asked: nothing to wait for),
    /// or a positive address of that family is known from elsewhere (a hint or a service
    /// target).
    pub(crate) fn preferred_answered(&self, config: &Config) -> bool {
        let family = config.resolution_delay_family();
        match self.names.first().map(|host| &host.addrs[family]) {
            None | Some(AddrAnswer::NotAsked | AddrAnswer::Positive(_) | AddrAnswer::Negative) => {
                true
            }
            Some(AddrAnswer::Pending) => self.known_elsewhere(family, config),
        }
    }

    /// Whether the host's answer for `family` is awaited.
    pub(crate) fn awaits(&self, family: Family) -> bool {
        self.names
            .first()
            .is_some_and(|h| matches!(h.addrs[family], AddrAnswer::Pending))
    }

    /// Whether an address of `family` is known from a name other than the host (a service
    /// target or an alias) or from a hint of the host's service records.
    fn known_elsewhere(&self, family: Family, config: &Config) -> bool {
        self.names
            .iter()
            .skip(1)
            .any(|n| matches!(&n.addrs[family], AddrAnswer::Positive(l) if !l.is_empty()))
            || match self.chain(config) {
                Chain::Found(owner) => match self.https(owner) {
                    SvcAnswer::Records(r) => r.iter().any(|r| match family {
                        Family::V6 => !r.ipv6hint.is_empty(),
                        Family::V4 => !r.ipv4hint.is_empty(),
                    }),
                    _ => false,
                },
                _ => false,
            }
    }

    /// At least as many as [`for_each_address`](Resolution::for_each_address) gives (every
    /// literal, answer and hint), to size its output at once.
    pub(crate) fn address_bound(&self) -> usize {
        let mut n = self.names.literals().len();
        for name in self.names.iter() {
            for family in [Family::V6, Family::V4] {
                if let AddrAnswer::Positive(list) = &name.addrs[family] {
                    n += list.len();
                }
            }
            if let SvcAnswer::Records(records) = &name.https {
                n += records
                    .iter()
                    .map(|r| r.ipv6hint.len() + r.ipv4hint.len())
                    .sum::<usize>();
            }
        }
        n
    }

    /// Calls `f` with every address known now and the service record it belongs to, if any,
    /// in the order endpoints are built: the literals; or the services' addresses (their
    /// TargetName's answers, or its hints while those are not available: HEv3 §4.2.1, §7),
    /// then the host's own answers unless a service targets the host.
    pub(crate) fn for_each_address(
        &self,
        config: &Config,
        mut f: impl FnMut(SocketAddr, Option<Service<'_>>),
    ) {
        for a in self.names.literals() {
            f(*a, None);
        }
        let names = &self.names;
        let mut host_has_service = false;
        if let Chain::Found(owner) = self.chain(config) {
            if let SvcAnswer::Records(records) = self.https(owner) {
                for (i, record) in records.iter().filter(|r| !r.is_alias()).enumerate() {
                    // A target without an entry is one that is not resolved (an unusable
                    // service): only its hints exist, to be reported as skipped.
                    let target = if record.target == "." {
                        Some(owner)
                    } else {
                        self.name_index(&record.target)
                    };
                    host_has_service |= target == Some(0);
                    let index = count_u32(i);
                    // HEv3 §5.2: "When there are multiple services ... with the same
                    // priority, the client SHOULD shuffle these groups randomly."
                    let rank = splitmix64(config.shuffle_seed ^ u64::from(index));
                    let port = record.port.unwrap_or(self.port);
                    let service = Service {
                        record,
                        index,
                        rank,
                    };
                    for family in [Family::V6, Family::V4] {
                        // HEv3 §4.2.1: hints count "when A and AAAA records corresponding
                        // to the TargetName are not available yet"; real records replace
                        // them (§7).
                        match target.and_then(|t| names.get(t)).map(|n| &n.addrs[family]) {
                            Some(AddrAnswer::Positive(list)) => {
                                for ip in list {
                                    f(SocketAddr::new(*ip, port), Some(service));
                                }
                            }
                            Some(AddrAnswer::Negative) => {}
                            _ if family == Family::V6 => {
                                for h in &record.ipv6hint {
                                    f(SocketAddr::new((*h).into(), port), Some(service));
                                }
                            }
                            _ => {
                                for h in &record.ipv4hint {
                                    f(SocketAddr::new((*h).into(), port), Some(service));
                                }
                            }
                        }
                    }
                }
            }
        }
        if !host_has_service {
            if let Some(host) = names.first() {
                for family in [Family::V6, Family::V4] {
                    if let AddrAnswer::Positive(list) = &host.addrs[family] {
                        for ip in list {
                            f(SocketAddr::new(*ip, self.port), None);
                        }
                    }
                }
            }
        }
    }
}
