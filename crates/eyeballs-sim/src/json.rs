//! The JSON front end: scenario files in, traces out, exactly as the scenario format
//! (`docs/scenario-format.md` in the repository) fixes them.
//!
//! Fields not in the format are rejected with an error naming the field. IPv4-mapped
//! addresses (`::ffff:a.b.c.d`) anywhere in the input are the IPv4 address they map (an A
//! answer may hold one; a network rule for one matches the IPv4 address). Fields this project
//! adds (the format allows growing `config`), all optional:
//!
//! | field | meaning |
//! |---|---|
//! | `config.min_connection_attempt_delay_ms` | lower clamp for RTT-derived delays (default 100) |
//! | `config.max_connection_attempt_delay_ms` | upper clamp (default 2000) |
//! | `config.prefer_protocol` | `quic` (default, HEv3 §3) or `tcp` |
//! | `config.group_by_protocol` | every endpoint of the preferred transport first (default false) |
//! | `config.connectivity` | `{"ipv6": bool, "ipv4": bool}` (default both) |
//! | `config.svcb_reliant` | wait for HTTPS and fail on its failure (default false) |
//! | `config.shuffle_seed` | seed for shuffling equal-priority services (default 0) |
//! | HTTPS record `no_default_alpn` | the `no-default-alpn` SvcParam |
//! | network entry `result: "handshake"` | the secure handshake failed (TLS alert, certificate): the engine's `handshake` failure |
//! | network entry `transport_after_ms` | when the attempt's transport handshake finishes, before a secure handshake that ends as `result` says at `after_ms` (at most `after_ms`; any time with `hang`) |
//!
//! In the output, a `cancel` event for an attempt the engine gave up on because of
//! `attempt_timeout_ms` carries `"reason": "timeout"`; `cancel_queries` marks the engine
//! cancelling its outstanding queries; an error answer carries `"error"`; a failed outcome
//! lists endpoints never attempted in `skipped` (when there are any); a race still waiting
//! when nothing is left to happen ends with `"result": "pending"`; and
//! `{"event": "transport", "id": N}` marks attempt N's transport handshake finishing at a
//! network entry's `transport_after_ms` (the engine's `handle_progress`), before its
//! `connected` (the secure handshake finished too) or `failed`.
//!
//! ```
//! let scenario = eyeballs_sim::json::parse_scenario(r#"{
//!     "name": "TLS dead over IPv6", "port": 443, "addresses": ["2001:db8::1", "192.0.2.1"],
//!     "network": [
//!         {"addr": "2001:db8::1", "result": "hang", "transport_after_ms": 1},
//!         {"addr": "192.0.2.1", "result": "connected", "transport_after_ms": 10, "after_ms": 30}
//!     ]
//! }"#).unwrap();
//! let trace = eyeballs_sim::json::trace_to_json(&eyeballs_sim::run(&scenario).unwrap());
//! let events: Vec<String> = trace["events"].as_array().unwrap().iter()
//!     .map(|e| format!("{} {} #{}", e["t_ms"], e["event"].as_str().unwrap(), e["id"]))
//!     .collect();
//! assert_eq!(events, [
//!     "0 attempt #0", "1 transport #0", "250 attempt #1", "260 transport #1",
//!     "280 connected #1", "280 cancel #0",
//! ]);
//! ```
//!
//! The event objects, times and outcome pieces are written by the renderer the driver's race
//! reports (`eyeballs-driver`, feature `serde`) use too: [`eyeballs_json`], with the fields
//! the format lists ([`Fields::Spec`]).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use eyeballs::{
    Config, Connectivity, DnsAnswer, DnsError, FailReason, Family, GlobalOnly, Nat64Prefix,
    Protocol, Protocols, RaceResult, RecordType, ServiceRecord, SortMode,
};
use eyeballs_json::{
    Fields, attempt_error_json, event_json, ms_value, put_endpoint, put_winner, result_name,
};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::{DnsEntry, NetResult, NetRule, Scenario, ScenarioTarget, Trace};

/// A scenario file that could not be used: where (file and field) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file, when known.
    pub file: Option<String>,
    /// The field, as a path (`dns[1].type`), or empty for the whole document.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}: ")?;
        }
        if !self.field.is_empty() && self.field != "." {
            write!(f, "field `{}`: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ScenarioError {}

fn err(field: impl Into<String>, message: impl Into<String>) -> ScenarioError {
    ScenarioError {
        file: None,
        field: field.into(),
        message: message.into(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Option<String>,
    host: Option<String>,
    port: Option<u16>,
    config: Option<RawConfig>,
    dns: Option<Vec<RawDns>>,
    addresses: Option<Vec<String>>,
    network: Option<Vec<RawRule>>,
    cancel_at_ms: Option<f64>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum RawFamily {
    Ipv6,
    Ipv4,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum RawSort {
    Rfc6724,
    None,
}

/// An engine value read by the name the engine writes it with (its `as_str`: `tcp`, `AAAA`,
/// `nxdomain`, ...), so that the format's word for each is said once, in the engine, for
/// the input and the output alike.
#[derive(Clone, Copy)]
struct Named<T>(T);

/// An engine enum the scenario format names by its `as_str`.
trait ByName: Copy + 'static {
    /// The values a scenario may name (every value but those only the engine produces).
    const ACCEPTED: &'static [Self];
    /// Its name in the format.
    fn name(self) -> &'static str;
}

impl ByName for Protocol {
    const ACCEPTED: &'static [Protocol] = &[Protocol::Tcp, Protocol::Quic];
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl ByName for RecordType {
    const ACCEPTED: &'static [RecordType] = &[RecordType::Aaaa, RecordType::A, RecordType::Https];
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl ByName for DnsError {
    /// Not `other` or `invalid_name`: the engine's own verdicts, not a scripted DNS's.
    const ACCEPTED: &'static [DnsError] = &[
        DnsError::NoData,
        DnsError::NxDomain,
        DnsError::ServFail,
        DnsError::Timeout,
        DnsError::Refused,
    ];
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl<'de, T: ByName> Deserialize<'de> for Named<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Named<T>, D::Error> {
        let given = String::deserialize(d)?;
        T::ACCEPTED
            .iter()
            .copied()
            .find(|v| v.name() == given)
            .map(Named)
            .ok_or_else(|| {
                // As serde words it for an enum it derives.
                let names: Vec<String> = T::ACCEPTED
                    .iter()
                    .map(|v| format!("`{}`", v.name()))
                    .collect();
                let expected = match names.as_slice() {
                    [one] => format!("expected {one}"),
                    [a, b] => format!("expected {a} or {b}"),
                    _ => format!("expected one of {}", names.join(", ")),
                };
                serde::de::Error::custom(format_args!("unknown variant `{given}`, {expected}"))
            })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConnectivity {
    ipv6: bool,
    ipv4: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    connection_attempt_delay_ms: Option<f64>,
    min_connection_attempt_delay_ms: Option<f64>,
    max_connection_attempt_delay_ms: Option<f64>,
    resolution_delay_ms: Option<f64>,
    first_address_family_count: Option<u8>,
    prefer: Option<RawFamily>,
    sort: Option<RawSort>,
    interleave: Option<bool>,
    attempt_timeout_ms: Option<f64>,
    total_timeout_ms: Option<f64>,
    max_concurrent_attempts: Option<u32>,
    query_https: Option<bool>,
    protocols: Option<Vec<Named<Protocol>>>,
    prefer_protocol: Option<Named<Protocol>>,
    group_by_protocol: Option<bool>,
    alpn: Option<Vec<String>>,
    nat64_prefix: Option<String>,
    connectivity: Option<RawConnectivity>,
    svcb_reliant: Option<bool>,
    shuffle_seed: Option<u64>,
    destinations: Option<RawDestinations>,
}

/// `config.destinations`: `any` (no filter) or `global` (the engine's [`GlobalOnly`]).
#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum RawDestinations {
    Any,
    Global,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDns {
    name: Option<String>,
    #[serde(rename = "type")]
    record: Named<RecordType>,
    after_ms: Option<f64>,
    /// Kept as raw text so that each item is read by a typed deserializer, which refuses a
    /// duplicate key (a `Value` would silently keep the last one).
    answer: Option<Box<RawValue>>,
    error: Option<Named<DnsError>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecord {
    priority: u16,
    target: Option<String>,
    port: Option<u16>,
    alpn: Option<Vec<String>>,
    no_default_alpn: Option<bool>,
    ipv4hint: Option<Vec<String>>,
    ipv6hint: Option<Vec<String>>,
    ech: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    addr: String,
    port: Option<u16>,
    protocol: Option<Named<Protocol>>,
    result: NetResult,
    after_ms: Option<f64>,
    transport_after_ms: Option<f64>,
}

/// The longest time a scenario may name: about 31 years, far beyond any race.
const MAX_MS: f64 = 1e12;

/// A number in an error message: as written when it is of a readable size, otherwise in
/// scientific notation (`1e300`, not three hundred digits).
fn compact(x: f64) -> String {
    if x == 0.0 || (1e-6..1e9).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

fn millis(field: &str, ms: f64) -> Result<Duration, ScenarioError> {
    if !ms.is_finite() || !(0.0..=MAX_MS).contains(&ms) {
        return Err(err(
            field,
            format!(
                "{} is not a time in milliseconds (a number from 0 to {})",
                compact(ms),
                compact(MAX_MS)
            ),
        ));
    }
    Ok(Duration::from_nanos((ms * 1e6).round() as u64))
}

fn opt_millis(field: &str, ms: Option<f64>) -> Result<Option<Duration>, ScenarioError> {
    ms.map(|m| millis(field, m)).transpose()
}

fn parse_ip(field: &str, s: &str) -> Result<IpAddr, ScenarioError> {
    s.trim()
        .parse()
        .map_err(|_| err(field, format!("{s:?} is not an IP address")))
}

fn parse_endpoint(field: &str, s: &str, port: Option<u16>) -> Result<SocketAddr, ScenarioError> {
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Ok(sa);
    }
    let ip: IpAddr = s.parse().map_err(|_| {
        err(
            field,
            format!("{s:?} is not an IP address, [ip]:port or ip:port"),
        )
    })?;
    let port = port.ok_or_else(|| {
        err(
            field,
            format!("{s:?} has no port and the scenario has no top-level `port`"),
        )
    })?;
    Ok(SocketAddr::new(ip, port))
}

fn config(raw: RawConfig) -> Result<Config, ScenarioError> {
    let mut c = Config::default();
    let f = |name: &str| format!("config.{name}");
    if let Some(d) = opt_millis(
        &f("connection_attempt_delay_ms"),
        raw.connection_attempt_delay_ms,
    )? {
        c.connection_attempt_delay = d;
    }
    if let Some(d) = opt_millis(
        &f("min_connection_attempt_delay_ms"),
        raw.min_connection_attempt_delay_ms,
    )? {
        c.min_connection_attempt_delay = d;
    }
    if let Some(d) = opt_millis(
        &f("max_connection_attempt_delay_ms"),
        raw.max_connection_attempt_delay_ms,
    )? {
        c.max_connection_attempt_delay = d;
    }
    if let Some(d) = opt_millis(&f("resolution_delay_ms"), raw.resolution_delay_ms)? {
        c.resolution_delay = d;
    }
    if let Some(n) = raw.first_address_family_count {
        c.first_address_family_count = n;
    }
    if let Some(p) = raw.prefer {
        c.prefer_family = match p {
            RawFamily::Ipv6 => Family::V6,
            RawFamily::Ipv4 => Family::V4,
        };
    }
    if let Some(s) = raw.sort {
        c.sort = match s {
            RawSort::Rfc6724 => SortMode::Rfc6724,
            RawSort::None => SortMode::Given,
        };
    }
    if let Some(i) = raw.interleave {
        c.interleave = i;
    }
    c.attempt_timeout = opt_millis(&f("attempt_timeout_ms"), raw.attempt_timeout_ms)?;
    c.total_timeout = opt_millis(&f("total_timeout_ms"), raw.total_timeout_ms)?;
    c.max_concurrent_attempts = raw.max_concurrent_attempts;
    if let Some(q) = raw.query_https {
        c.query_https = q;
    }
    if let Some(list) = raw.protocols {
        c.protocols = Protocols {
            tcp: list.iter().any(|p| p.0 == Protocol::Tcp),
            quic: list.iter().any(|p| p.0 == Protocol::Quic),
        };
    }
    if let Some(p) = raw.prefer_protocol {
        c.prefer_protocol = p.0;
    }
    if let Some(g) = raw.group_by_protocol {
        c.group_by_protocol = g;
    }
    c.alpn = raw.alpn;
    if let Some(p) = raw.nat64_prefix {
        c.nat64_prefix = Some(
            p.parse::<Nat64Prefix>()
                .map_err(|e| err(f("nat64_prefix"), e.to_string()))?,
        );
    }
    if let Some(conn) = raw.connectivity {
        c.connectivity = Connectivity {
            ipv6: conn.ipv6,
            ipv4: conn.ipv4,
        };
    }
    if let Some(r) = raw.svcb_reliant {
        c.svcb_reliant = r;
    }
    if let Some(s) = raw.shuffle_seed {
        c.shuffle_seed = s;
    }
    if let Some(RawDestinations::Global) = raw.destinations {
        c.destination_filter = Some(Arc::new(GlobalOnly));
    }
    c.validate().map_err(|e| err("config", e.to_string()))?;
    Ok(c)
}

/// Reads `T` from raw JSON text with a typed deserializer (so that duplicate and unknown
/// keys are refused), naming the failing path below `field`.
fn typed<'a, T: Deserialize<'a>>(field: &str, raw: &'a RawValue) -> Result<T, ScenarioError> {
    let de = &mut serde_json::Deserializer::from_str(raw.get());
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let at = if path == "." {
            field.to_string()
        } else {
            format!("{field}.{path}")
        };
        err(at, e.inner().to_string())
    })
}

fn record(field: &str, raw: &RawValue) -> Result<ServiceRecord, ScenarioError> {
    let raw: RawRecord = typed(field, raw)?;
    let mut r = ServiceRecord::service(raw.priority, raw.target.as_deref().unwrap_or("."));
    r.port = raw.port;
    r.alpn = raw.alpn.unwrap_or_default();
    r.no_default_alpn = raw.no_default_alpn.unwrap_or(false);
    for (i, h) in raw.ipv4hint.unwrap_or_default().iter().enumerate() {
        match parse_ip(&format!("{field}.ipv4hint[{i}]"), h)? {
            IpAddr::V4(a) => r.ipv4hint.push(a),
            IpAddr::V6(_) => return Err(err(format!("{field}.ipv4hint[{i}]"), "not IPv4")),
        }
    }
    for (i, h) in raw.ipv6hint.unwrap_or_default().iter().enumerate() {
        match parse_ip(&format!("{field}.ipv6hint[{i}]"), h)? {
            IpAddr::V6(a) => r.ipv6hint.push(a),
            IpAddr::V4(_) => return Err(err(format!("{field}.ipv6hint[{i}]"), "not IPv6")),
        }
    }
    if let Some(ech) = raw.ech {
        let bytes =
            base64_decode(&ech).ok_or_else(|| err(format!("{field}.ech"), "not valid base64"))?;
        r.ech = Some(bytes.into());
    }
    Ok(r)
}

fn dns_entry(i: usize, raw: RawDns) -> Result<DnsEntry, ScenarioError> {
    let field = format!("dns[{i}]");
    let record = raw.record.0;
    let answer = match (raw.answer, raw.error) {
        (Some(_), Some(_)) => {
            return Err(err(&field, "has both `answer` and `error`; give one"));
        }
        (None, None) => return Err(err(&field, "needs `answer` or `error`")),
        (None, Some(e)) => DnsAnswer::Error(e.0),
        (Some(answer), None) => {
            let items: Vec<&RawValue> = serde_json::from_str(answer.get())
                .map_err(|_| err(format!("{field}.answer"), "expected a list"))?;
            let mut addrs = Vec::new();
            let mut records = Vec::new();
            for (j, item) in items.into_iter().enumerate() {
                let f = format!("{field}.answer[{j}]");
                match (record, serde_json::from_str::<String>(item.get())) {
                    (RecordType::Https, _) => records.push(self::record(&f, item)?),
                    (_, Ok(s)) => {
                        let ip = parse_ip(&f, &s)?;
                        // An AAAA record holds any IPv6 address; an A record an IPv4 address,
                        // which may be written in its IPv4-mapped form.
                        let family_ok = match record {
                            RecordType::Aaaa => ip.is_ipv6(),
                            _ => Family::of(&ip) == Family::V4,
                        };
                        if !family_ok {
                            return Err(err(
                                f,
                                format!("{s} does not belong in an {record} answer"),
                            ));
                        }
                        addrs.push(ip);
                    }
                    (_, _) => return Err(err(f, "expected an address string")),
                }
            }
            match record {
                RecordType::Https => DnsAnswer::Services(records),
                _ => DnsAnswer::Addresses(addrs),
            }
        }
    };
    Ok(DnsEntry {
        name: raw.name,
        record,
        after: millis(&format!("{field}.after_ms"), raw.after_ms.unwrap_or(0.0))?,
        answer,
    })
}

fn rule(i: usize, raw: RawRule) -> Result<NetRule, ScenarioError> {
    let field = format!("network[{i}]");
    let addr = if raw.addr == "*" {
        None
    } else {
        Some(parse_ip(&format!("{field}.addr"), &raw.addr)?.to_canonical())
    };
    let after = millis(&format!("{field}.after_ms"), raw.after_ms.unwrap_or(0.0))?;
    let transport_field = format!("{field}.transport_after_ms");
    let transport_after = opt_millis(&transport_field, raw.transport_after_ms)?;
    // The transport handshake comes before the result it leads to; a hanging secure
    // handshake has no result time to compare with.
    if let (Some(transport), true) = (transport_after, raw.result != NetResult::Hang) {
        if transport > after {
            let after_ms = match raw.after_ms {
                Some(ms) => compact(ms),
                None => "0, its default".to_string(),
            };
            return Err(err(
                transport_field,
                format!(
                    "the transport handshake at {} ms comes after the attempt's result \
                     (`after_ms`: {after_ms}); it must finish at or before `after_ms`",
                    compact(raw.transport_after_ms.unwrap_or_default())
                ),
            ));
        }
    }
    Ok(NetRule {
        addr,
        port: raw.port,
        protocol: raw.protocol.map(|p| p.0),
        result: raw.result,
        after,
        transport_after,
    })
}

/// Parses a scenario from JSON text.
///
/// ```
/// let s = eyeballs_sim::json::parse_scenario(r#"{"port": 80, "addresses": ["192.0.2.1"]}"#).unwrap();
/// assert!(matches!(s.target, eyeballs_sim::ScenarioTarget::Addresses(ref a) if a.len() == 1));
/// let e = eyeballs_sim::json::parse_scenario(r#"{"port": 80, "adresses": []}"#).unwrap_err();
/// assert!(e.to_string().contains("adresses"));
/// ```
pub fn parse_scenario(text: &str) -> Result<Scenario, ScenarioError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let raw: RawScenario = serde_path_to_error::deserialize(de)
        .map_err(|e| err(e.path().to_string(), e.inner().to_string()))?;
    let target = match (raw.host, raw.addresses, raw.dns) {
        (Some(_), Some(_), _) => {
            return Err(err(
                "addresses",
                "`host` and `addresses` are exclusive; give one",
            ));
        }
        (None, None, _) => return Err(err("", "needs `host` (with `dns`) or `addresses`")),
        (None, Some(_), Some(_)) => {
            return Err(err(
                "dns",
                "`dns` needs `host`; an address scenario has no DNS",
            ));
        }
        (Some(host), None, dns) => ScenarioTarget::Host {
            name: host,
            port: raw
                .port
                .ok_or_else(|| err("port", "a `host` scenario needs `port`"))?,
            dns: dns
                .unwrap_or_default()
                .into_iter()
                .enumerate()
                .map(|(i, d)| dns_entry(i, d))
                .collect::<Result<_, _>>()?,
        },
        (None, Some(list), None) => ScenarioTarget::Addresses(
            list.iter()
                .enumerate()
                .map(|(i, s)| parse_endpoint(&format!("addresses[{i}]"), s, raw.port))
                .collect::<Result<_, _>>()?,
        ),
    };
    if let ScenarioTarget::Addresses(a) = &target {
        if a.is_empty() {
            return Err(err("addresses", "the list is empty"));
        }
    }
    Ok(Scenario {
        name: raw.name.unwrap_or_default(),
        target,
        config: config(raw.config.unwrap_or_default())?,
        network: raw
            .network
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(i, r)| rule(i, r))
            .collect::<Result<_, _>>()?,
        cancel_at: opt_millis("cancel_at_ms", raw.cancel_at_ms)?,
    })
}

/// Reads and parses a scenario file; errors name the file.
pub fn read_scenario(path: &std::path::Path) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        file: Some(file.clone()),
        field: String::new(),
        message: format!("cannot read the file: {e}"),
    })?;
    parse_scenario(&text).map_err(|mut e| {
        e.file = Some(file);
        e
    })
}

fn outcome_json(trace: &Trace) -> Value {
    let Some(o) = &trace.outcome else {
        return json!({"result": result_name(None), "t_ms": ms_value(trace.end.since_epoch())});
    };
    let mut m = Map::new();
    m.insert("result".into(), json!(result_name(Some(o.result))));
    let t_ms = ms_value(o.at.since_epoch());
    match o.result {
        RaceResult::Connected(id) => {
            put_winner(&mut m, id, o.winner);
            m.insert("t_ms".into(), t_ms);
        }
        RaceResult::Failed(reason) => {
            m.insert("t_ms".into(), t_ms);
            match reason {
                FailReason::AllAttemptsFailed => {
                    let errors: Vec<Value> = o
                        .attempt_errors
                        .iter()
                        .map(|e| attempt_error_json(e, None))
                        .collect();
                    m.insert("errors".into(), json!(errors));
                }
                FailReason::NoAddresses => {
                    m.insert("reason".into(), json!("no addresses"));
                }
                FailReason::ServiceResolutionFailed => {
                    m.insert("reason".into(), json!("service resolution failed"));
                }
            }
            if !o.skipped.is_empty() {
                let skipped: Vec<Value> = o
                    .skipped
                    .iter()
                    .map(|s| {
                        let mut e = Map::new();
                        put_endpoint(&mut e, s.addr);
                        e.insert("reason".into(), json!(s.reason.to_string()));
                        Value::Object(e)
                    })
                    .collect();
                m.insert("skipped".into(), json!(skipped));
            }
        }
        RaceResult::TimedOut | RaceResult::Cancelled => {
            m.insert("t_ms".into(), t_ms);
        }
    }
    Value::Object(m)
}

/// The output JSON of a trace.
pub fn trace_to_json(trace: &Trace) -> Value {
    let events: Vec<Value> = trace
        .events
        .iter()
        .map(|e| event_json(e, Fields::Spec))
        .collect();
    let unused: Vec<Value> = trace
        .unused
        .iter()
        .map(|(name, record)| json!({"name": name, "type": record.as_str()}))
        .collect();
    json!({
        "name": trace.name,
        "events": events,
        "outcome": outcome_json(trace),
        "unused": unused,
    })
}

/// Standard base64 (RFC 4648 §4), padding optional, whitespace ignored.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace()) {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGVsbG8").unwrap(), b"hello");
        assert_eq!(base64_decode("AAEC").unwrap(), [0, 1, 2]);
        assert!(base64_decode("a*b").is_none());
    }

    /// A name the format does not know is refused with the field, the name and every name
    /// it accepts: the engine's names (`as_str`) for its types, the format's own for a
    /// rule's result. The engine's own verdicts (`other`, `invalid_name`) are not a
    /// scripted DNS's to give.
    #[test]
    fn unknown_names_are_refused_with_the_names_accepted() {
        let refused = |text: &str| parse_scenario(text).unwrap_err().to_string();
        let host = |dns: &str| format!(r#"{{"host": "example.com", "port": 443, "dns": [{dns}]}}"#);
        assert_eq!(
            refused(&host(r#"{"type": "MX", "answer": []}"#)),
            "field `dns[0].type`: unknown variant `MX`, expected one of `AAAA`, `A`, `HTTPS` \
             at line 1 column 58"
        );
        for engine_only in ["other", "invalid_name"] {
            let dns = format!(r#"{{"type": "A", "error": "{engine_only}"}}"#);
            assert!(
                refused(&host(&dns)).contains(&format!(
                    "unknown variant `{engine_only}`, expected one of `nodata`, `nxdomain`, \
                     `servfail`, `timeout`, `refused`"
                )),
                "{engine_only}"
            );
        }
        let addresses =
            |rest: &str| format!(r#"{{"port": 443, "addresses": ["192.0.2.1"], {rest}}}"#);
        let e = refused(&addresses(r#""config": {"protocols": ["tcp", "sctp"]}"#));
        assert!(e.starts_with("field `config.protocols[1]`: "), "{e}");
        assert!(
            e.contains("unknown variant `sctp`, expected `tcp` or `quic`"),
            "{e}"
        );
        let e = refused(&addresses(
            r#""network": [{"addr": "*", "result": "maybe"}]"#,
        ));
        assert!(e.starts_with("field `network[0].result`: "), "{e}");
        assert!(
            e.contains(
                "unknown variant `maybe`, expected one of `connected`, `refused`, \
                 `unreachable`, `fail`, `handshake`, `hang`"
            ),
            "{e}"
        );
        // The names it knows, read as the engine's values.
        let s = parse_scenario(&addresses(
            r#""config": {"protocols": ["quic"], "prefer_protocol": "tcp"},
               "network": [{"addr": "*", "protocol": "quic", "result": "hang"}]"#,
        ))
        .unwrap();
        assert!(s.config.protocols.quic && !s.config.protocols.tcp);
        assert_eq!(s.config.prefer_protocol, Protocol::Tcp);
        assert_eq!(s.network[0].protocol, Some(Protocol::Quic));
        assert_eq!(s.network[0].result, NetResult::Hang);
    }
}
