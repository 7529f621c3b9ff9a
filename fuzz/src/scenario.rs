//! The `scenario_parser` target: arbitrary text into the simulator's scenario parser, and a
//! scenario that parses run twice (once under the invariant monitor) and rendered.

/// The most entries (addresses, DNS entries, network rules) a scenario may have to be run:
/// larger ones are only parsed, so that one run stays fast.
const MAX_SCENARIO_ENTRIES: usize = 64;

/// Parses a scenario file; if it parses and is small, runs it twice, the second time under the
/// invariant monitor (the runs must agree, never feed the engine an input it refuses, and keep
/// every rule: the transport handshakes of `transport_after_ms` go to `handle_progress`
/// there), and renders the trace.
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
    match eyeballs_sim::run_monitored(&scenario) {
        Ok((trace, monitor)) => {
            if let Err(v) = monitor.check() {
                panic!("{v}\n{}", monitor.history());
            }
            assert_eq!(first, Ok(trace), "two runs disagree");
        }
        Err(e) => assert_eq!(first, Err(e), "two runs disagree"),
    }
}
