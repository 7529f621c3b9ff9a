//! A scripted network built from an [`eyeballs_sim::Scenario`]: the real driver (the same
//! [`Connector`](eyeballs_driver::Connector) loop the adapters use) against the scenario's DNS
//! answers and attempt results, in the runtime's time. Under a paused test clock (tokio's
//! `start_paused`) the driver then follows exactly the schedule `eyeballs_sim::run` computes
//! for the scenario, which [`sim_events`] lets a test compare event by event.
//!
//! Times are exact when the scenario's times are whole milliseconds (tokio's timer has
//! millisecond resolution).
//!
//! It lives here, with the other test tools, rather than in the driver: the driver is
//! production code and never depends on the simulator.
//!
//! ```
//! use std::time::Duration;
//! use eyeballs_driver::Connector;
//! use eyeballs_lab::scripted::{ScriptedNetwork, scenario_target};
//! use eyeballs_sim::{NetResult, NetRule, Scenario};
//!
//! # #[derive(Clone, Default)] struct MyRuntime;
//! # impl eyeballs_driver::Runtime for MyRuntime {
//! #     type Stream = std::net::TcpStream;
//! #     fn sleep_until(&self, _: std::time::Instant) -> eyeballs_driver::BoxFuture<()> { unimplemented!() }
//! #     fn spawn_blocking<T, F>(&self, _: F) -> eyeballs_driver::BoxFuture<Option<T>>
//! #     where T: Send + 'static, F: FnOnce() -> T + Send + 'static { unimplemented!() }
//! #     fn connect(&self, _: socket2::Socket) -> eyeballs_driver::BoxFuture<std::io::Result<Self::Stream>> { unimplemented!() }
//! # }
//! let scenario = Scenario::addresses("refused", ["192.0.2.1:443".parse().unwrap()])
//!     .rule(NetRule::any(NetResult::Refused, Duration::from_millis(5)));
//! // The real driver's loop, on any runtime, against the scenario's network.
//! let connector = Connector::with_network(MyRuntime, ScriptedNetwork::from_scenario(&scenario));
//! let race = connector.connect_with_report(scenario_target(&scenario));
//! # drop(race);
//! ```

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Instant as StdInstant;

use eyeballs::trace::Event;
use eyeballs::{Attempt, DnsAnswer, Protocol, RecordType, Target};
use eyeballs_sim::{DnsEntry, NetResult, NetRule, Scenario, ScenarioTarget};

use eyeballs_driver::attempt::{AttemptFuture, AttemptStep, BoxAttempt, HandshakeError};
use eyeballs_driver::{BoxFuture, Network, RaceContext, Runtime, TimedEvent};

/// The stream a scripted attempt "connects": where it went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScriptedStream {
    /// The attempt's address.
    pub addr: SocketAddr,
    /// Its transport.
    pub protocol: Protocol,
}

/// A [`Network`] that answers as a scenario says: each DNS entry answers the first query for
/// its name and type, `after` the query is sent; each attempt ends as the first matching
/// network rule says, `after` it starts; everything else never completes.
///
/// A rule with a transport handshake (`transport_after_ms`, [`NetRule::transport_after`])
/// makes a secure attempt: [`Network::attempt`] reports
/// [`AttemptStep::TransportConnected`] `transport_after` the attempt started, then its
/// result as the rule says (a `handshake` result is a [`HandshakeError`], as a real TLS
/// failure is), so that the driver records the `transport` event and the engine extends
/// its timer, as the simulator does.
#[derive(Debug)]
pub struct ScriptedNetwork {
    host: String,
    dns: Mutex<Vec<(DnsEntry, bool)>>,
    rules: Vec<NetRule>,
}

impl ScriptedNetwork {
    /// The network of `scenario`.
    pub fn from_scenario(scenario: &Scenario) -> ScriptedNetwork {
        let (host, dns) = match &scenario.target {
            ScenarioTarget::Host { name, dns, .. } => (
                name.clone(),
                dns.iter().map(|e| (e.clone(), false)).collect(),
            ),
            ScenarioTarget::Addresses(_) => (String::new(), Vec::new()),
        };
        ScriptedNetwork {
            host,
            dns: Mutex::new(dns),
            rules: scenario.network.clone(),
        }
    }

    fn take_entry(&self, name: &str, record: RecordType) -> Option<DnsEntry> {
        let mut dns = self.dns.lock().unwrap_or_else(|e| e.into_inner());
        let (entry, used) = dns
            .iter_mut()
            .find(|(e, used)| !*used && e.answers(&self.host, name, record))?;
        *used = true;
        Some(entry.clone())
    }
}

/// The target the engine is given for `scenario`.
pub fn scenario_target(scenario: &Scenario) -> Target {
    scenario.engine_target()
}

/// Completes with `value` at `deadline` (at once when it is now).
fn at<R: Runtime, T: Send + 'static>(runtime: &R, deadline: StdInstant, value: T) -> BoxFuture<T> {
    if deadline <= runtime.now() {
        return Box::pin(std::future::ready(value));
    }
    let sleep = runtime.sleep_until(deadline);
    Box::pin(async move {
        sleep.await;
        value
    })
}

impl<R: Runtime> Network<R> for ScriptedNetwork {
    type Stream = ScriptedStream;

    fn resolve(&self, runtime: &R, name: &str, record: RecordType) -> BoxFuture<DnsAnswer> {
        let Some(entry) = self.take_entry(name, record) else {
            return Box::pin(std::future::pending());
        };
        at(runtime, runtime.now() + entry.after, entry.answer)
    }

    fn connect(
        &self,
        runtime: &R,
        attempt: &Attempt,
        _race: &RaceContext<'_>,
    ) -> BoxFuture<io::Result<ScriptedStream>> {
        match self.rule(attempt) {
            Some(rule) => result_at(runtime, runtime.now(), rule, attempt),
            None => Box::pin(std::future::pending()),
        }
    }

    fn attempt(
        &self,
        runtime: &R,
        attempt: &Attempt,
        _race: &RaceContext<'_>,
    ) -> BoxAttempt<ScriptedStream> {
        let Some(rule) = self.rule(attempt) else {
            return Box::pin(std::future::pending::<io::Result<ScriptedStream>>());
        };
        let start = runtime.now();
        Box::pin(Scripted {
            transport: rule
                .transport_after
                .map(|after| at(runtime, start + after, ())),
            result: result_at(runtime, start, rule, attempt),
        })
    }
}

impl ScriptedNetwork {
    /// The first rule matching `attempt`.
    fn rule(&self, attempt: &Attempt) -> Option<&NetRule> {
        self.rules
            .iter()
            .find(|r| r.matches(&attempt.addr, attempt.protocol))
    }
}

/// The result `rule` scripts for `attempt` (started at `start`), when it is due; never, for
/// `hang`.
fn result_at<R: Runtime>(
    runtime: &R,
    start: StdInstant,
    rule: &NetRule,
    attempt: &Attempt,
) -> BoxFuture<io::Result<ScriptedStream>> {
    let result = match rule.result {
        NetResult::Hang => return Box::pin(std::future::pending()),
        NetResult::Connected => Ok(ScriptedStream {
            addr: attempt.addr,
            protocol: attempt.protocol,
        }),
        NetResult::Refused => Err(io::Error::from(io::ErrorKind::ConnectionRefused)),
        NetResult::Unreachable => Err(io::Error::from(io::ErrorKind::HostUnreachable)),
        NetResult::Fail => Err(io::Error::other("scripted failure")),
        NetResult::Handshake => Err(HandshakeError::new(
            "TLS",
            io::Error::new(io::ErrorKind::InvalidData, "scripted handshake failure"),
        )
        .into()),
    };
    at(runtime, start + rule.after, result)
}

/// A scripted attempt: its transport handshake when the rule says (if it says), then its
/// result.
struct Scripted {
    transport: Option<BoxFuture<()>>,
    result: BoxFuture<io::Result<ScriptedStream>>,
}

impl AttemptFuture<ScriptedStream> for Scripted {
    fn poll_step(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<AttemptStep<ScriptedStream>> {
        if let Some(transport) = self.transport.as_mut() {
            if transport.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            // At one instant the transport handshake comes before the result, as the
            // simulator orders them.
            self.transport = None;
            return Poll::Ready(AttemptStep::TransportConnected);
        }
        self.result.as_mut().poll(cx).map(AttemptStep::Done)
    }
}

/// A report's events as the simulator records them, to compare with
/// [`eyeballs_sim::Trace::events`]: the same events at the same times, without the failures'
/// `detail` (the simulator has no OS error to tell).
pub fn sim_events(events: &[TimedEvent]) -> Vec<TimedEvent> {
    events
        .iter()
        .cloned()
        .map(|mut e| {
            if let Event::Failed { detail, .. } = &mut e.event {
                *detail = None;
            }
            e
        })
        .collect()
}
