//! The real driver (the loop every async adapter uses) against scripted networks under
//! tokio's paused clock: for every scenario that comes with the simulator
//! (`eyeballs_sim::scenarios`, the format's examples and the secure-racing ones among
//! them: a transport handshake before the TLS one, reported as the `transport` event), the
//! events and their virtual times equal `eyeballs_sim::run` exactly. Tokio's timer counts whole milliseconds,
//! so a scenario with fractional times is run with each of them rounded up to the next
//! millisecond, by the simulator and the driver alike: none is left out.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eyeballs_driver::TimedEvent;
use eyeballs_lab::scripted::{ScriptedNetwork, scenario_target, sim_events};
use eyeballs_sim::{Scenario, ScenarioTarget, Trace, scenarios};
use eyeballs_tokio::Connector;

fn scenario_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in [
        scenarios::dir(),
        scenarios::spec_dir(),
        scenarios::secure_dir(),
    ] {
        files.extend(scenarios::files(&dir).unwrap_or_else(|e| panic!("the scenarios: {e}")));
    }
    files.sort();
    files
}

/// Runs `scenario` through the real driver under a paused clock; returns every report event.
fn drive(scenario: &Scenario, trace: &Trace) -> Vec<TimedEvent> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a tokio runtime");
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    runtime.block_on(async {
        let connector = Connector::with_network(ScriptedNetwork::from_scenario(scenario))
            .config(scenario.config.clone())
            .observer(move |e| seen.lock().unwrap().push(e.clone()));
        let race = connector.connect_with_report(scenario_target(scenario));
        // The caller's cancel, or (for a race the simulator leaves waiting) an hour past the
        // simulator's end: dropping the race cancels it, like `cancel_at_ms`.
        let give_up = match (scenario.cancel_at, &trace.outcome) {
            (Some(at), _) => Some(at),
            (None, None) => Some(trace.end.since_epoch() + Duration::from_secs(3600)),
            (None, Some(_)) => None,
        };
        match give_up {
            Some(at) => {
                let _ = tokio::time::timeout(at, race).await;
            }
            None => {
                let _ = race.await;
            }
        }
    });
    let events = events.lock().unwrap().clone();
    match (scenario.cancel_at, &trace.outcome) {
        // Left waiting: the simulator stops at its end; the drop an hour later is ours.
        (None, None) => events
            .into_iter()
            .filter(|e| e.at <= trace.end.since_epoch())
            .collect(),
        _ => events,
    }
}

fn whole_milliseconds(trace: &Trace) -> bool {
    trace
        .events
        .iter()
        .all(|e| e.at.as_nanos() % 1_000_000 == 0)
}

/// `d` rounded up to a whole millisecond.
fn ceil_ms(d: Duration) -> Duration {
    Duration::from_millis(u64::try_from(d.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX))
}

/// The scenario with every scripted time (DNS answers, attempt results, the cancel) rounded
/// up to a whole millisecond, as tokio's timer would fire it, and whether any changed.
fn in_whole_milliseconds(scenario: &Scenario) -> (Scenario, bool) {
    let mut rounded = scenario.clone();
    let mut changed = false;
    let mut round = |d: &mut Duration| {
        let whole = ceil_ms(*d);
        changed |= whole != *d;
        *d = whole;
    };
    if let ScenarioTarget::Host { dns, .. } = &mut rounded.target {
        for entry in dns {
            round(&mut entry.after);
        }
    }
    for rule in &mut rounded.network {
        round(&mut rule.after);
        if let Some(transport) = &mut rule.transport_after {
            round(transport);
        }
    }
    if let Some(at) = &mut rounded.cancel_at {
        round(at);
    }
    (rounded, changed)
}

#[test]
fn every_scenario_runs_exactly_as_simulated() {
    let files = scenario_files();
    assert!(files.len() >= 5, "scenarios not found: {files:?}");
    let secure = files
        .iter()
        .filter(|f| f.starts_with(scenarios::secure_dir()))
        .count();
    assert!(
        secure >= 3,
        "the secure scenarios were not found: {files:?}"
    );
    let mut rounded = Vec::new();
    for path in &files {
        let file = eyeballs_sim::json::read_scenario(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let (scenario, changed) = in_whole_milliseconds(&file);
        if changed {
            rounded.push(path.display().to_string());
        }
        let trace =
            eyeballs_sim::run(&scenario).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            whole_milliseconds(&trace),
            "{}: fractional times remain after rounding the scripted ones (a configuration \
             delay?); tokio's timer has 1 ms resolution\n{trace}",
            path.display()
        );
        let events = drive(&scenario, &trace);
        let driven = sim_events(&events);
        assert_eq!(
            driven,
            trace.events,
            "{}: the driver's schedule differs from the simulator's\ndriver:\n{}\nsimulator:\n{trace}",
            path.display(),
            events.iter().map(|e| format!("{e}\n")).collect::<String>()
        );
    }
    eprintln!(
        "{} scenarios compared; run with times rounded up to whole milliseconds: {rounded:?}",
        files.len()
    );
}

/// A hand-written scenario exercising what the files may not: the Resolution Delay, a
/// refusal that starts the next attempt at once, the attempt delay, an attempt timeout, and
/// losers cancelled at the winner's instant.
#[test]
fn a_mixed_scenario_runs_exactly_as_simulated() {
    use eyeballs::DnsAnswer;
    use eyeballs_sim::{DnsEntry, NetResult, NetRule};
    let ms = Duration::from_millis;
    let mut config = eyeballs::Config::default();
    config.attempt_timeout = Some(ms(400));
    let scenario = Scenario::host("mixed", "example.com", 443)
        .config(config)
        .dns(DnsEntry {
            name: None,
            record: eyeballs::RecordType::A,
            after: ms(5),
            answer: DnsAnswer::Addresses(vec![
                "192.0.2.1".parse().unwrap(),
                "192.0.2.2".parse().unwrap(),
            ]),
        })
        .dns(DnsEntry {
            name: None,
            record: eyeballs::RecordType::Aaaa,
            after: ms(30),
            answer: DnsAnswer::Addresses(vec![
                "2001:db8::1".parse().unwrap(),
                "2001:db8::2".parse().unwrap(),
            ]),
        })
        .rule(NetRule::addr(
            "2001:db8::1".parse().unwrap(),
            NetResult::Hang,
            Duration::ZERO,
        ))
        .rule(NetRule::addr(
            "192.0.2.1".parse().unwrap(),
            NetResult::Refused,
            ms(3),
        ))
        .rule(NetRule::addr(
            "2001:db8::2".parse().unwrap(),
            NetResult::Hang,
            Duration::ZERO,
        ))
        .rule(NetRule::any(NetResult::Connected, ms(500)));
    let trace = eyeballs_sim::run(&scenario).unwrap();
    assert!(trace.outcome.is_some());
    let events = drive(&scenario, &trace);
    assert_eq!(sim_events(&events), trace.events, "simulator:\n{trace}");
}

#[test]
fn scripted_times_round_up_to_the_next_millisecond() {
    let ms = Duration::from_millis;
    assert_eq!(ceil_ms(Duration::from_micros(2500)), ms(3));
    assert_eq!(ceil_ms(ms(3)), ms(3));
    assert_eq!(ceil_ms(Duration::from_nanos(1)), ms(1));
    assert_eq!(ceil_ms(Duration::ZERO), Duration::ZERO);
    let scenario = Scenario::addresses("fractional", ["192.0.2.1:80".parse().unwrap()]).rule(
        eyeballs_sim::NetRule::any(
            eyeballs_sim::NetResult::Refused,
            Duration::from_micros(2500),
        ),
    );
    let (rounded, changed) = in_whole_milliseconds(&scenario);
    assert!(changed);
    assert_eq!(rounded.network[0].after, ms(3));
    assert!(!in_whole_milliseconds(&rounded).1);
}
