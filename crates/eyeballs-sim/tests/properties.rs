//! Property tests over random scenarios: whatever the DNS and the network do, the race keeps
//! its promises.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use eyeballs::{
    AttemptFailure, AttemptId, CancelReason, Config, DnsAnswer, DnsError, Instant, QueryId,
    RaceResult, RecordType,
};
use eyeballs_sim::monitor::{Input, Monitor};
use eyeballs_sim::{
    DnsEntry, Event, NetResult, NetRule, Scenario, ScenarioTarget, TimedEvent, Trace, run,
    run_monitored,
};
use proptest::prelude::*;

fn pool_ip(i: u8) -> IpAddr {
    if i % 2 == 0 {
        format!("2001:db8::{}", i + 1).parse().unwrap()
    } else {
        format!("192.0.2.{}", i + 1).parse().unwrap()
    }
}

fn net_result() -> impl Strategy<Value = NetResult> {
    prop_oneof![
        Just(NetResult::Connected),
        Just(NetResult::Refused),
        Just(NetResult::Unreachable),
        Just(NetResult::Fail),
        Just(NetResult::Handshake),
        Just(NetResult::Hang),
    ]
}

/// How long after its start an attempt's transport handshake finishes, relative to its
/// result `after` it: none (plain TCP, half the time), or some fraction of the way there
/// (from 0, TCP connecting at once, to all of it, at the result's instant). A hanging secure
/// handshake gets a transport time of its own.
fn transport(after: Duration, result: NetResult) -> impl Strategy<Value = Option<Duration>> {
    let span = match result {
        NetResult::Hang => Duration::from_millis(800),
        _ => after,
    };
    prop_oneof![
        Just(None),
        (0u32..=4).prop_map(move |quarters| Some(span * quarters / 4)),
    ]
}

fn ms(range: std::ops::Range<u64>) -> impl Strategy<Value = Duration> {
    range.prop_map(Duration::from_millis)
}

fn config() -> impl Strategy<Value = Config> {
    (
        ms(10..600),
        ms(0..120),
        1u8..4,
        proptest::option::of(1u32..4),
        proptest::option::of(ms(50..1500)),
        proptest::option::of(ms(100..3000)),
        any::<bool>(),
    )
        .prop_map(|(cad, rd, count, cap, attempt, total, interleave)| {
            let mut c = Config::default();
            c.connection_attempt_delay = cad;
            c.resolution_delay = rd;
            c.first_address_family_count = count;
            c.max_concurrent_attempts = cap;
            c.attempt_timeout = attempt;
            c.total_timeout = total;
            c.interleave = interleave;
            c
        })
}

fn dns_entry(record: RecordType) -> impl Strategy<Value = DnsEntry> {
    let family_ips: Vec<u8> = (0..8)
        .filter(|i| (i % 2 == 0) == (record == RecordType::Aaaa))
        .collect();
    (
        ms(0..400),
        prop_oneof![
            3 => proptest::sample::subsequence(family_ips.clone(), 0..=4)
                .prop_map(|v| DnsAnswer::Addresses(v.into_iter().map(pool_ip).collect())),
            1 => Just(DnsAnswer::Error(DnsError::NxDomain)),
            1 => Just(DnsAnswer::Error(DnsError::ServFail)),
        ],
    )
        .prop_map(move |(after, answer)| DnsEntry {
            name: None,
            record,
            after,
            answer,
        })
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let target = prop_oneof![
        proptest::sample::subsequence((0u8..8).collect::<Vec<_>>(), 1..=6).prop_map(|v| {
            ScenarioTarget::Addresses(
                v.into_iter()
                    .map(|i| SocketAddr::new(pool_ip(i), 443))
                    .collect(),
            )
        }),
        (
            proptest::option::of(dns_entry(RecordType::Aaaa)),
            proptest::option::of(dns_entry(RecordType::A)),
        )
            .prop_map(|(aaaa, a)| ScenarioTarget::Host {
                name: "example.com".into(),
                port: 443,
                dns: aaaa.into_iter().chain(a).collect(),
            }),
    ];
    let rule = || {
        (net_result(), ms(0..800)).prop_flat_map(|(result, after)| {
            transport(after, result).prop_map(move |transport| (result, after, transport))
        })
    };
    let rules = proptest::collection::vec((0u8..8, rule()), 0..8);
    (
        target,
        config(),
        rules,
        rule(),
        proptest::option::of(ms(0..3000)),
    )
        .prop_map(|(target, config, rules, default, cancel)| {
            let with = |mut rule: NetRule, transport: Option<Duration>| {
                rule.transport_after = transport;
                rule
            };
            let mut network: Vec<NetRule> = rules
                .into_iter()
                .map(|(i, (r, after, transport))| {
                    with(NetRule::addr(pool_ip(i), r, after), transport)
                })
                .collect();
            let (result, after, transport) = default;
            network.push(with(NetRule::any(result, after), transport));
            Scenario {
                name: "random".into(),
                target,
                config,
                network,
                cancel_at: cancel,
            }
        })
}

/// How each attempt ended, from the trace.
fn endings(trace: &Trace) -> BTreeMap<AttemptId, Vec<&'static str>> {
    let mut ends: BTreeMap<AttemptId, Vec<&'static str>> = BTreeMap::new();
    for e in &trace.events {
        match &e.event {
            Event::Attempt(a) => {
                ends.entry(a.id).or_default();
            }
            // Not an ending: the attempt goes on with its secure handshake.
            Event::TransportConnected { .. } => {}
            Event::Connected { id, .. } => ends.entry(*id).or_default().push("connected"),
            Event::Failed { id, .. } => ends.entry(*id).or_default().push("failed"),
            Event::Cancel { id, .. } => ends.entry(*id).or_default().push("cancelled"),
            _ => {}
        }
    }
    ends
}

fn check(scenario: &Scenario, trace: &Trace) -> Result<(), TestCaseError> {
    // At most one winner.
    let connected: Vec<AttemptId> = trace
        .events
        .iter()
        .filter_map(|e| match e.event {
            Event::Connected { id, .. } => Some(id),
            _ => None,
        })
        .collect();
    prop_assert!(connected.len() <= 1, "two winners: {connected:?}");

    // Every started attempt ends in exactly one way (or is still running when nothing is
    // left to happen and the race has no outcome).
    for (id, ends) in endings(trace) {
        if trace.outcome.is_some() {
            prop_assert_eq!(ends.len(), 1, "{:?} ended as {:?}", id, ends);
        } else {
            prop_assert!(ends.len() <= 1, "{id:?} ended as {ends:?}");
        }
    }

    // Nothing starts after the outcome; the outcome time is the winner's connect time.
    if let Some(o) = &trace.outcome {
        // The trace's times are since the race's start, which is virtual time zero.
        let end = o.at.since_epoch();
        for e in &trace.events {
            if let Event::Attempt(_) = e.event {
                prop_assert!(e.at <= end);
            }
        }
        if let RaceResult::Connected(id) = o.result {
            let won = |e: &TimedEvent| matches!(e.event, Event::Connected { id: c, .. } if c == id);
            let at = trace.events.iter().find(|e| won(e)).map(|e| e.at);
            prop_assert_eq!(at, Some(end));
            let last_attempt = trace
                .events
                .iter()
                .rposition(|e| matches!(e.event, Event::Attempt(_)));
            let win = trace.events.iter().position(won);
            prop_assert!(last_attempt < win);
        }
        if let RaceResult::Failed(_) = o.result {
            prop_assert_eq!(o.attempt_errors.len(), endings(trace).len());
        }
    }

    // Pacing: consecutive starts are at least the attempt delay apart unless the earlier one
    // had already failed when the later one started; and when the earlier one's transport
    // handshake finished while the next was still due (HEv3 §6.1), at least its extension
    // apart: `transport + clamp(2 × (transport − start), 10 ms, max delay)`.
    let mut failed_at: BTreeMap<AttemptId, Duration> = BTreeMap::new();
    let mut transport_at: BTreeMap<AttemptId, Duration> = BTreeMap::new();
    let mut last: Option<(AttemptId, Duration)> = None;
    let c = &scenario.config;
    for e in &trace.events {
        match &e.event {
            Event::TransportConnected { id, .. } => {
                // One transport handshake per attempt, while it runs.
                prop_assert!(transport_at.insert(*id, e.at).is_none(), "{id:?} twice");
                prop_assert!(endings(trace).contains_key(id));
                prop_assert!(!failed_at.contains_key(id));
            }
            Event::Failed { id, .. }
            | Event::Cancel {
                id,
                reason: CancelReason::AttemptTimedOut,
                ..
            } => {
                failed_at.insert(*id, e.at);
            }
            Event::Attempt(a) => {
                let id = a.id;
                if let Some((prev, prev_at)) = last {
                    let gap = e.at.saturating_sub(prev_at);
                    let prev_failed = failed_at.get(&prev).is_some_and(|f| *f <= e.at);
                    prop_assert!(
                        prev_failed || gap >= scenario.config.connection_attempt_delay,
                        "{:?} started {:?} after {:?} which had not failed",
                        id,
                        gap,
                        prev
                    );
                    let pending = |t: Duration| t <= prev_at + c.connection_attempt_delay;
                    if let (false, Some(t)) = (prev_failed, transport_at.get(&prev).copied()) {
                        if pending(t) && t <= e.at {
                            let extension = (t - prev_at)
                                .saturating_mul(2)
                                .max(eyeballs::CONNECTION_ATTEMPT_DELAY_FLOOR)
                                .min(c.max_connection_attempt_delay);
                            prop_assert!(
                                e.at >= t + extension,
                                "{id:?} started at {:?}, before the extension after {prev:?}'s \
                                 transport handshake at {t:?} ran out",
                                e.at
                            );
                        }
                    }
                }
                last = Some((id, e.at));
            }
            _ => {}
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn races_keep_their_promises(scenario in scenario()) {
        let trace = run(&scenario).unwrap();
        check(&scenario, &trace)?;
        // The same scenario always gives the same trace.
        prop_assert_eq!(run(&scenario).unwrap(), trace.clone());
        // And under the invariant monitor, every step keeps its rules (transport handshakes,
        // `handle_progress`, among them): the same trace.
        let (monitored, monitor) = run_monitored(&scenario).unwrap();
        if let Err(v) = monitor.check() {
            return Err(TestCaseError::fail(format!("{v}\n{}", monitor.history())));
        }
        prop_assert_eq!(monitored, trace);
    }
}

/// One input of [`refused_inputs_change_nothing`]: which (an index into the attempts or
/// queries, often out of range), and how far after the race's latest time (often past a
/// deadline).
#[derive(Clone, Debug)]
enum Op {
    Connected(u8),
    Failed(u8),
    Progress(u8),
    Answer(u8, Vec<u8>),
    Timeout,
    Cancel,
}

fn op() -> impl Strategy<Value = (Op, u64)> {
    let which = 0u8..6;
    (
        prop_oneof![
            3 => which.clone().prop_map(Op::Connected),
            3 => which.clone().prop_map(Op::Failed),
            1 => which.clone().prop_map(Op::Progress),
            3 => (which, proptest::collection::vec(0u8..8, 0..3))
                .prop_map(|(q, ips)| Op::Answer(q, ips)),
            2 => Just(Op::Timeout),
            1 => Just(Op::Cancel),
        ],
        prop_oneof![Just(0u64), 0u64..400, 400u64..3000],
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Issue 10, item 7: whatever the input and whenever it comes, a refused one leaves the
    /// race exactly as it was (its whole state, as `Debug` shows it), and the monitor's rules
    /// hold throughout (among them: a refusal of an input that is valid in itself is explained
    /// by a timer due before it, and nothing is emitted).
    #[test]
    fn refused_inputs_change_nothing(
        scenario in scenario(),
        ops in proptest::collection::vec(op(), 1..40),
    ) {
        let mut m = Monitor::start(scenario.config.clone(), scenario.engine_target(), Instant::ZERO)
            .unwrap();
        let mut now = Instant::ZERO;
        for (op, later) in ops {
            while m.poll_action().is_some() {}
            let at = now + Duration::from_millis(later);
            let input = match op {
                Op::Connected(i) => Input::Connected(AttemptId(u32::from(i))),
                Op::Failed(i) => Input::Failed(AttemptId(u32::from(i)), AttemptFailure::Refused),
                Op::Progress(i) => Input::Progress(AttemptId(u32::from(i))),
                Op::Answer(q, ips) => Input::Dns {
                    id: QueryId(u32::from(q)),
                    answer: DnsAnswer::Addresses(ips.into_iter().map(pool_ip).collect()),
                },
                Op::Timeout => Input::Timeout,
                Op::Cancel => Input::Cancel,
            };
            let before = format!("{:?}", m.race());
            let result = m.apply(at, input.clone());
            if let Err(e) = &result {
                prop_assert_eq!(
                    &before,
                    &format!("{:?}", m.race()),
                    "{} at {} was refused ({}) but changed the race",
                    input,
                    at,
                    e
                );
            } else {
                now = at;
            }
            if let Err(v) = m.check() {
                return Err(TestCaseError::fail(format!("{v}\n{}", m.history())));
            }
        }
    }
}
