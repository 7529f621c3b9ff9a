//! # eyeballs-json: the JSON vocabulary of a race, said once
//!
//! How a race's events, times, endpoints and outcomes are written as JSON, in the scenario
//! format's words (`docs/scenario-format.md` in the repository): `{"t_ms": 12, "event":
//! "attempt", "id": 0, "addr": "::1", "port": 443, "protocol": "tcp"}`. Two crates write
//! races this way and share this one renderer:
//!
//! - the simulator (`eyeballs-sim`), whose traces carry exactly the fields the format
//!   lists ([`Fields::Spec`]);
//! - the driver (`eyeballs-driver`, feature `serde`), whose race reports add what only a real
//!   race knows ([`Fields::Live`]: the addresses of an answer, the OS error of a failure, the
//!   reason of every cancel), and whose history file writes its ages with [`ms_value`].
//!
//! It depends on the engine (for its types) and `serde_json` only, so that a production crate
//! can serialise its reports without compiling the simulator.
//!
//! ```
//! use std::time::Duration;
//! use eyeballs::trace::{Event, TimedEvent};
//! use eyeballs::{AttemptId, Protocol};
//! use eyeballs_json::{Fields, event_json};
//!
//! let connected = TimedEvent {
//!     at: Duration::from_millis(270),
//!     event: Event::Connected {
//!         id: AttemptId(1),
//!         addr: "192.0.2.1:443".parse().unwrap(),
//!         protocol: Protocol::Tcp,
//!     },
//! };
//! assert_eq!(
//!     event_json(&connected, Fields::Spec).to_string(),
//!     r#"{"t_ms":270,"event":"connected","id":1}"#
//! );
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use eyeballs::trace::{Event, TimedEvent};
use eyeballs::{AttemptError, AttemptId, CancelReason, DnsAnswer, Protocol, RaceResult};
use serde_json::{Map, Value, json};

/// Milliseconds as a JSON number: an integer when whole, as the examples write them, else
/// with the fraction (nanosecond precision). Every time in the project's JSON is written
/// with it: the trace's and the race report's `t_ms`, the history file's ages.
///
/// ```
/// use std::time::Duration;
/// use eyeballs_json::ms_value;
///
/// assert_eq!(ms_value(Duration::from_millis(250)).to_string(), "250");
/// assert_eq!(ms_value(Duration::from_micros(12_500)).to_string(), "12.5");
/// ```
pub fn ms_value(d: Duration) -> Value {
    let whole = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    if d.subsec_nanos() % 1_000_000 == 0 {
        return Value::from(whole);
    }
    serde_json::Number::from_f64(d.as_nanos() as f64 / 1e6)
        .map_or(Value::from(whole), Value::Number)
}

/// Which fields an event object has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fields {
    /// The scenario format's output: exactly the fields its specification lists (a `cancel`
    /// has a `reason` only for an attempt timeout).
    Spec,
    /// The format's fields plus what a real race knows (the driver's race report): `addrs`
    /// (the addresses) on an address answer, `detail` (the OS error) on a failure, and
    /// `reason` on every cancel (`lost_race`, `timeout`, `race_timeout`, `cancelled`,
    /// `service_resolution_failed`).
    Live,
}

/// `"addr"` (the IP, with its zone when it has one: `fe80::1%3`) and `"port"` of an endpoint.
///
/// ```
/// use serde_json::{Map, Value};
/// use eyeballs_json::put_endpoint;
///
/// let mut m = Map::new();
/// put_endpoint(&mut m, "[fe80::1%3]:443".parse().unwrap());
/// assert_eq!(Value::Object(m).to_string(), r#"{"addr":"fe80::1%3","port":443}"#);
/// ```
pub fn put_endpoint(m: &mut Map<String, Value>, addr: SocketAddr) {
    let ip = match addr {
        SocketAddr::V6(v6) if v6.scope_id() != 0 => format!("{}%{}", v6.ip(), v6.scope_id()),
        _ => addr.ip().to_string(),
    };
    put(m, "addr", json!(ip));
    put(m, "port", json!(addr.port()));
}

/// One attempt that did not connect ([`Outcome::attempt_errors`](eyeballs::Outcome)), as an
/// outcome's `errors` lists it: `id`, `addr`, `port`, `error` (the failure's name), and
/// `detail` (the OS error) when there is one.
///
/// ```
/// use eyeballs::{AttemptError, AttemptFailure, AttemptId, Protocol};
/// use eyeballs_json::attempt_error_json;
///
/// let e = AttemptError {
///     id: AttemptId(0),
///     addr: "192.0.2.1:80".parse().unwrap(),
///     protocol: Protocol::Tcp,
///     failure: AttemptFailure::Refused,
/// };
/// let v = attempt_error_json(&e, None);
/// assert_eq!(v.to_string(), r#"{"id":0,"addr":"192.0.2.1","port":80,"error":"refused"}"#);
/// ```
pub fn attempt_error_json(e: &AttemptError, detail: Option<&str>) -> Value {
    let mut m = Map::new();
    put(&mut m, "id", json!(e.id.0));
    put_endpoint(&mut m, e.addr);
    put(&mut m, "error", json!(e.failure.as_str()));
    if let Some(detail) = detail {
        put(&mut m, "detail", json!(detail));
    }
    Value::Object(m)
}

/// The `"result"` of an outcome: `connected`, `failed`, `timed_out`, `cancelled`, or
/// `pending` for a race that has not ended.
///
/// ```
/// use eyeballs::RaceResult;
/// use eyeballs_json::result_name;
///
/// assert_eq!(result_name(Some(RaceResult::TimedOut)), "timed_out");
/// assert_eq!(result_name(None), "pending");
/// ```
pub fn result_name(result: Option<RaceResult>) -> &'static str {
    match result {
        None => "pending",
        Some(RaceResult::Connected(_)) => "connected",
        Some(RaceResult::Failed(_)) => "failed",
        Some(RaceResult::TimedOut) => "timed_out",
        Some(RaceResult::Cancelled) => "cancelled",
    }
}

/// The outcome fields of a race won by attempt `id`: `id`, and the winner's `addr`, `port`
/// and `protocol` when known.
///
/// ```
/// use eyeballs::{AttemptId, Protocol};
/// use serde_json::{Map, Value};
/// use eyeballs_json::put_winner;
///
/// let mut m = Map::new();
/// put_winner(&mut m, AttemptId(1), Some(("192.0.2.1:443".parse().unwrap(), Protocol::Tcp)));
/// assert_eq!(
///     Value::Object(m).to_string(),
///     r#"{"id":1,"addr":"192.0.2.1","port":443,"protocol":"tcp"}"#
/// );
/// ```
pub fn put_winner(
    m: &mut Map<String, Value>,
    id: AttemptId,
    winner: Option<(SocketAddr, Protocol)>,
) {
    put(m, "id", json!(id.0));
    if let Some((addr, protocol)) = winner {
        put_endpoint(m, addr);
        put(m, "protocol", json!(protocol.as_str()));
    }
}

/// An event and its time since the start of the race as a JSON object: `t_ms`, `event` (its
/// kind, [`Event::name`]: `query`, `answer`, `attempt`, `transport`, `failed`, `connected`,
/// `cancel`, `cancel_queries`), then its fields as the scenario format writes them, plus the
/// live ones with [`Fields::Live`]. An attempt's endpoint is written on its `attempt` event
/// only; its transport handshake, result and cancel name it by `id`.
///
/// `transport` ([`Event::TransportConnected`]) marks an attempt whose transport handshake
/// finished (TCP connected) while its secure handshake (TLS) goes on; its `connected` comes
/// when the secure handshake has finished too, its `failed` when that failed:
/// `{"t_ms":1,"event":"transport","id":0}`.
///
/// ```
/// use std::time::Duration;
/// use eyeballs::{AttemptFailure, AttemptId, Protocol};
/// use eyeballs::trace::{Event, TimedEvent};
/// use eyeballs_json::{Fields, event_json};
///
/// let failed = TimedEvent {
///     at: Duration::from_millis(3),
///     event: Event::Failed {
///         id: AttemptId(0),
///         addr: "[::1]:443".parse().unwrap(),
///         protocol: Protocol::Tcp,
///         failure: AttemptFailure::Refused,
///         detail: Some("Connection refused (os error 111)".into()),
///     },
/// };
/// assert_eq!(
///     event_json(&failed, Fields::Spec).to_string(),
///     r#"{"t_ms":3,"event":"failed","id":0,"error":"refused"}"#
/// );
/// assert_eq!(
///     event_json(&failed, Fields::Live).to_string(),
///     r#"{"t_ms":3,"event":"failed","id":0,"error":"refused","detail":"Connection refused (os error 111)"}"#
/// );
///
/// let transport = TimedEvent {
///     at: Duration::from_millis(1),
///     event: Event::TransportConnected {
///         id: AttemptId(0),
///         addr: "[::1]:443".parse().unwrap(),
///         protocol: Protocol::Tcp,
///     },
/// };
/// for fields in [Fields::Spec, Fields::Live] {
///     assert_eq!(
///         event_json(&transport, fields).to_string(),
///         r#"{"t_ms":1,"event":"transport","id":0}"#
///     );
/// }
/// ```
pub fn event_json(timed: &TimedEvent, fields: Fields) -> Value {
    let live = fields == Fields::Live;
    let mut m = Map::new();
    m.insert("t_ms".into(), ms_value(timed.at));
    put(&mut m, "event", json!(timed.event.name()));
    match &timed.event {
        Event::Query { name, record, .. } => {
            put(&mut m, "name", json!(name));
            put(&mut m, "type", json!(record.as_str()));
        }
        Event::Answer {
            name,
            record,
            answer,
            ..
        } => {
            put(&mut m, "name", json!(name));
            put(&mut m, "type", json!(record.as_str()));
            put(&mut m, "count", json!(answer.record_count()));
            if let Some(e) = answer.error() {
                put(&mut m, "error", json!(e.as_str()));
            }
            if let (true, DnsAnswer::Addresses(list)) = (live, answer) {
                let addrs: Vec<String> = list.iter().map(IpAddr::to_string).collect();
                put(&mut m, "addrs", json!(addrs));
            }
        }
        Event::Attempt(a) => {
            put(&mut m, "id", json!(a.id.0));
            put_endpoint(&mut m, a.addr);
            put(&mut m, "protocol", json!(a.protocol.as_str()));
            if let Some(alpn) = &a.alpn {
                put(&mut m, "alpn", json!(&alpn[..]));
            }
            if a.ech.is_some() {
                put(&mut m, "ech", json!(true));
            }
        }
        Event::Failed {
            id,
            failure,
            detail,
            ..
        } => {
            put(&mut m, "id", json!(id.0));
            put(&mut m, "error", json!(failure.as_str()));
            if let (true, Some(detail)) = (live, detail) {
                put(&mut m, "detail", json!(detail));
            }
        }
        Event::TransportConnected { id, .. } | Event::Connected { id, .. } => {
            put(&mut m, "id", json!(id.0));
        }
        Event::Cancel { id, reason, .. } => {
            put(&mut m, "id", json!(id.0));
            // The format marks only attempt timeouts; a live report says why every time.
            if live || *reason == CancelReason::AttemptTimedOut {
                put(&mut m, "reason", json!(reason.as_str()));
            }
        }
        Event::CancelQueries => {}
    }
    Value::Object(m)
}

fn put(m: &mut Map<String, Value>, key: &str, value: Value) {
    m.insert(key.into(), value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractional_times_stay_fractional() {
        assert_eq!(ms_value(Duration::from_millis(12)), json!(12));
        assert_eq!(ms_value(Duration::from_micros(12_500)), json!(12.5));
        assert_eq!(ms_value(Duration::from_nanos(83_512)), json!(0.083512));
        // Beyond u64 milliseconds: still a number, not a saturated or null one.
        assert!(
            ms_value(Duration::MAX)
                .as_f64()
                .is_some_and(|ms| ms > 1.8e22)
        );
    }
}
