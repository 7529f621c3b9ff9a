//! The monitor's teeth: a real race runs, and one step's actions or getters are tampered
//! with before the model sees them, as a broken engine would emit them. Each check must
//! name its rule. (The same was done by mutating the engine itself; see the report of
//! the issue.)

use std::time::Duration;

use eyeballs::{Attempt, AttemptFailure, DnsAnswer, DnsError, Target};

use super::*;

const V6: &str = "[2001:db8::1]:443";
const V6B: &str = "[2001:db8::2]:443";
const V4: &str = "192.0.2.1:443";

fn ms(n: u64) -> Instant {
    Instant::from_millis(n)
}

fn literals(addrs: &[&str]) -> Target {
    Target::addresses(addrs.iter().map(|a| a.parse().unwrap()))
}

struct Tamper {
    actions: Vec<Action>,
    result: Result<(), InputError>,
    phase: Phase,
    pending: usize,
    poll_timeout: Option<Instant>,
    no_outcome: bool,
}

/// Runs `inputs` (step 0 is the creation) through a race and the model; before the model
/// sees step `at`, `tamper` may change what the race said. Returns the first violation.
fn run(
    config: Config,
    target: Target,
    inputs: &[(Instant, Input)],
    at: usize,
    tamper: impl Fn(&mut Tamper),
) -> Option<Violation> {
    let mut race = Race::new(config, target, Instant::ZERO).unwrap();
    let mut model = Model::new(race.config().clone(), race.started_at());
    let steps =
        std::iter::once((Instant::ZERO, None)).chain(inputs.iter().map(|(t, i)| (*t, Some(i))));
    for (i, (now, input)) in steps.enumerate() {
        let result = match input {
            None => Ok(()),
            Some(Input::Dns { id, answer }) => race.handle_dns(now, *id, answer.clone()),
            Some(Input::Connected(id)) => race.handle_connected(now, *id),
            Some(Input::Failed(id, f)) => race.handle_failed(now, *id, *f),
            Some(Input::Progress(id)) => race.handle_progress(now, *id),
            Some(Input::Timeout) => race.handle_timeout(now),
            Some(Input::Cancel) => race.cancel(now),
        };
        let mut actions = Vec::new();
        while let Some(a) = race.poll_action() {
            actions.push(a);
        }
        let mut obs = Observed::of(&race);
        let mut t = Tamper {
            actions,
            result,
            phase: obs.phase,
            pending: obs.pending,
            poll_timeout: obs.poll_timeout,
            no_outcome: false,
        };
        if i == at {
            tamper(&mut t);
        }
        obs.phase = t.phase;
        obs.pending = t.pending;
        obs.poll_timeout = t.poll_timeout;
        if t.no_outcome {
            obs.outcome = None;
        }
        let mut cx = Cx::new(i, now, input, &t.result);
        if let Err(v) = model.check_step(&obs, &mut cx, &t.actions) {
            return Some(v);
        }
    }
    None
}

fn rule(v: Option<Violation>) -> Option<Rule> {
    v.map(|v| v.rule)
}

fn start(id: u32, addr: &str) -> Action {
    Action::Attempt(Attempt {
        id: AttemptId(id),
        addr: addr.parse().unwrap(),
        protocol: Protocol::Tcp,
        alpn: None,
        ech: None,
    })
}

/// Three literals; #0 at 0, #1 at 250 (timer), #2 at 500 (timer), #1 connects at 600.
fn three() -> (Config, Target, Vec<(Instant, Input)>) {
    let inputs = vec![
        (ms(250), Input::Timeout),
        (ms(500), Input::Timeout),
        (ms(600), Input::Connected(AttemptId(1))),
    ];
    (Config::default(), literals(&[V6, V4, V6B]), inputs)
}

#[test]
fn an_honest_race_passes() {
    let (c, t, i) = three();
    assert_eq!(run(c, t, &i, usize::MAX, |_| {}), None);
}

#[test]
fn rule2_a_start_before_the_delay() {
    let (c, t, i) = three();
    let v = run(c, t, &i, 0, |t| t.actions.push(start(1, V4)));
    assert_eq!(rule(v), Some(Rule::StartedTooEarly));
}

#[test]
fn rules126_a_due_start_that_does_not_happen() {
    let (c, t, i) = three();
    let v = run(c, t, &i, 1, |t| t.actions.clear());
    assert_eq!(rule(v), Some(Rule::NotStarted));
}

#[test]
fn rule4_a_loser_not_cancelled_or_cancelled_out_of_order() {
    let (c, t, i) = three();
    let v = run(c.clone(), t.clone(), &i, 3, |t| {
        t.actions.retain(|a| {
            !matches!(
                a,
                Action::Cancel {
                    id: AttemptId(2),
                    ..
                }
            )
        });
    });
    assert_eq!(rule(v.clone()), Some(Rule::Win));
    assert_eq!(v.and_then(|v| v.attempt), Some(AttemptId(2)));
    let v = run(c, t, &i, 3, |t| t.actions.swap(0, 1));
    assert_eq!(rule(v), Some(Rule::Win));
}

#[test]
fn rule3_a_cancel_for_the_wrong_reason() {
    let (c, t, i) = three();
    let v = run(c, t, &i, 3, |t| {
        for a in &mut t.actions {
            if let Action::Cancel { reason, .. } = a {
                *reason = CancelReason::Cancelled;
            }
        }
    });
    assert_eq!(rule(v), Some(Rule::Abandoned));
    let (c, t, i) = three();
    let v = run(c, t, &i, 2, |t| {
        t.actions.push(Action::Cancel {
            id: AttemptId(0),
            reason: CancelReason::AttemptTimedOut,
        })
    });
    assert_eq!(rule(v), Some(Rule::Abandoned));
}

#[test]
fn rule4_nothing_after_finished() {
    let (c, t, i) = three();
    let v = run(c, t, &i, 3, |t| t.actions.push(start(3, "192.0.2.9:443")));
    assert_eq!(rule(v), Some(Rule::AfterFinish));
}

#[test]
fn rule5_everything_failed_and_the_race_goes_on() {
    let inputs = [(ms(10), Input::Failed(AttemptId(0), AttemptFailure::Refused))];
    let v = run(Config::default(), literals(&[V6]), &inputs, 1, |t| {
        t.actions.clear();
        t.phase = Phase::Connecting;
        t.poll_timeout = None;
        t.no_outcome = true;
    });
    assert_eq!(rule(v), Some(Rule::AllFailed));
}

#[test]
fn rule6_the_cap() {
    let mut c = Config::default();
    c.max_concurrent_attempts = Some(1);
    let inputs = [(ms(250), Input::Timeout)];
    let v = run(c, literals(&[V6, V4]), &inputs, 1, |t| {
        t.actions.push(start(1, V4))
    });
    assert_eq!(rule(v), Some(Rule::ConcurrencyCap));
}

#[test]
fn the_input_contract() {
    let (c, t, i) = three();
    let v = run(c, t, &i, 3, |t| {
        t.result = Err(InputError::UnknownAttempt(AttemptId(1)))
    });
    assert_eq!(rule(v), Some(Rule::Input));
    let mut inputs = three().2;
    inputs.push((ms(700), Input::Cancel));
    let (c, t, _) = three();
    let v = run(c, t, &inputs, 4, |t| t.result = Ok(()));
    assert_eq!(rule(v), Some(Rule::Input));
}

#[test]
fn the_wakeup_and_the_phase() {
    let (c, t, i) = three();
    let v = run(c, t, &i, 1, |t| {
        t.poll_timeout = t.poll_timeout.map(|x| x + Duration::from_millis(1))
    });
    assert_eq!(rule(v), Some(Rule::Wakeup));
    let v = run(
        Config::default(),
        Target::host("example.com", 443),
        &[],
        0,
        |t| {
            t.phase = Phase::Connecting;
        },
    );
    assert_eq!(rule(v), Some(Rule::FirstAttempt));
}

/// HEv3 §6.1 as the engine reads it (`Race::handle_progress`): progress of the most recent
/// attempt moves the next start to at least `now + clamp(2 × elapsed, 10 ms, max delay)`,
/// never earlier; an older attempt's progress moves nothing. The model knows the instant
/// exactly: a wake-up a nanosecond off either way, or a start at the old deadline, is caught.
#[test]
fn progress_moves_the_next_start_exactly() {
    let ns =
        |t: Instant, delta: i64| Instant::from_nanos(t.as_nanos().saturating_add_signed(delta));
    let wakeup_off =
        |c: &Config, target: Target, inputs: &[(Instant, Input)], step, want: Instant| {
            assert_eq!(
                run(c.clone(), target.clone(), inputs, usize::MAX, |_| {}),
                None
            );
            for delta in [-1, 1] {
                let v = run(c.clone(), target.clone(), inputs, step, |t| {
                    assert_eq!(t.poll_timeout, Some(want));
                    t.poll_timeout = Some(ns(want, delta));
                });
                assert_eq!(rule(v), Some(Rule::Wakeup), "{want} {delta:+} ns");
            }
        };
    // The floor: a 10 ms delay, progress 2 ms in: 2 + max(2 × 2, 10) = 12 ms.
    let mut floor = Config::default();
    floor.connection_attempt_delay = Duration::from_millis(10);
    let progress = (ms(2), Input::Progress(AttemptId(0)));
    wakeup_off(
        &floor,
        literals(&[V6, V4]),
        std::slice::from_ref(&progress),
        1,
        ms(12),
    );
    // Nothing starts at the old deadline.
    let inputs = [progress, (ms(10), Input::Timeout)];
    let v = run(floor, literals(&[V6, V4]), &inputs, 2, |t| {
        t.actions.push(start(1, V4))
    });
    assert_eq!(rule(v), Some(Rule::StartedTooEarly));
    // The doubling, up to the maximum: at 200 ms, 200 + min(2 × 200, 2000) = 600, and with a
    // 300 ms maximum 200 + 300 = 500.
    let progress = [(ms(200), Input::Progress(AttemptId(0)))];
    wakeup_off(
        &Config::default(),
        literals(&[V6, V4]),
        &progress,
        1,
        ms(600),
    );
    let mut capped = Config::default();
    capped.max_connection_attempt_delay = Duration::from_millis(300);
    wakeup_off(&capped, literals(&[V6, V4]), &progress, 1, ms(500));
    // An older attempt's progress: #1 started at 250, so #0's at 300 leaves 500.
    let older = [
        (ms(250), Input::Timeout),
        (ms(300), Input::Progress(AttemptId(0))),
    ];
    wakeup_off(
        &Config::default(),
        literals(&[V6, V4, V6B]),
        &older,
        2,
        ms(500),
    );
}

/// Issue 10, items 1 and 2: the destination check judges what an address carries.
#[test]
fn destinations_are_judged_by_the_ipv4_they_carry() {
    let mut c = Config::default();
    c.destination_filter = Some(std::sync::Arc::new(|ip: IpAddr| match ip {
        IpAddr::V4(v4) if v4.is_loopback() => Err("loopback"),
        _ => Ok(()),
    }));
    for bad in [
        "[::ffff:127.0.0.1]:443",
        "[64:ff9b::7f00:1]:443",
        "[::ffff:192.0.2.1]:443",
    ] {
        let v = run(c.clone(), literals(&[V6]), &[], 0, |t| {
            if let Some(Action::Attempt(a)) = t.actions.first_mut() {
                a.addr = bad.parse().unwrap();
            }
        });
        assert_eq!(rule(v), Some(Rule::Destination), "{bad}");
    }
}

/// Issue 10, item 7: a refused input that emits an action, or changes what a getter
/// says, or is refused with an error no due timer explains, breaks the input contract.
#[test]
fn refused_inputs_change_nothing() {
    let unknown = [(ms(1), Input::Connected(AttemptId(9)))];
    let (c, t, _) = three();
    assert_eq!(
        run(c.clone(), t.clone(), &unknown, usize::MAX, |_| {}),
        None
    );
    let v = run(c.clone(), t.clone(), &unknown, 1, |t| {
        t.poll_timeout = t.poll_timeout.map(|x| x + Duration::from_millis(1))
    });
    assert_eq!(rule(v), Some(Rule::Input));
    let v = run(c.clone(), t.clone(), &unknown, 1, |t| t.pending += 1);
    assert_eq!(rule(v), Some(Rule::Input));
    let v = run(c.clone(), t.clone(), &unknown, 1, |t| {
        t.actions.push(start(1, V4))
    });
    assert_eq!(rule(v), Some(Rule::Input));
    // A valid input at 100 ms refused as Finished: no timer explains it.
    let early = [(ms(100), Input::Connected(AttemptId(0)))];
    let v = run(c, t, &early, 1, |t| {
        t.actions.clear();
        t.result = Err(InputError::Finished);
        t.phase = Phase::Connecting;
        t.pending = 2;
        t.poll_timeout = Some(ms(250));
        t.no_outcome = true;
    });
    assert_eq!(rule(v), Some(Rule::Input));
}

#[test]
fn destinations_and_queries() {
    let (c, t, i) = three();
    let v = run(c, t, &i, 1, |t| {
        if let Some(Action::Attempt(a)) = t.actions.first_mut() {
            a.addr.set_port(0);
        }
    });
    assert_eq!(rule(v), Some(Rule::Destination));
    let v = run(
        Config::default(),
        Target::host("example.com", 443),
        &[],
        0,
        |t| {
            t.actions.push(Action::Resolve {
                id: QueryId(2),
                name: "example.com".into(),
                record: RecordType::Https,
            })
        },
    );
    assert_eq!(rule(v), Some(Rule::Resolution));
}

/// Found by the fuzz smoke (`engine_inputs`): a service record whose TargetName is an IPv6
/// literal (`8::1`) is not a host name, so the engine never resolves it and reports it as
/// `InvalidName`. The monitor judged that name with `Race::new`, which takes an IP literal as
/// an address without judging it as a name, and called the report a lie.
#[test]
fn an_ipv6_literal_target_name_is_not_a_host_name() {
    use eyeballs::ServiceRecord;

    let mut c = Config::default();
    c.query_https = true;
    let mut m = crate::monitor::Monitor::start(c, Target::host("example.com", 443), ms(0)).unwrap();
    let mut queries = Vec::new();
    while let Some(a) = m.poll_action() {
        if let Action::Resolve { id, record, .. } = a {
            queries.push((id, record));
        }
    }
    let query = |r: RecordType| queries.iter().find(|q| q.1 == r).unwrap().0;
    let records = vec![
        ServiceRecord::service(1, "."),
        ServiceRecord::service(2, "8::1"),
    ];
    m.handle_dns(
        ms(0),
        query(RecordType::Https),
        DnsAnswer::Services(records),
    )
    .unwrap();
    let v6 = DnsAnswer::Addresses(vec!["2001:db8::5".parse().unwrap()]);
    m.handle_dns(ms(1), query(RecordType::Aaaa), v6).unwrap();
    m.handle_dns(ms(2), query(RecordType::A), DnsAnswer::Addresses(vec![]))
        .unwrap();
    let started = std::iter::from_fn(|| m.poll_action())
        .find_map(|a| match a {
            Action::Attempt(a) => Some(a.id),
            _ => None,
        })
        .unwrap_or_else(|| panic!("nothing started\n{}", m.history()));
    m.handle_connected(ms(20), started).unwrap();
    let outcome = m.race().outcome().unwrap();
    assert!(
        outcome
            .dns_errors
            .iter()
            .any(|e| e.name == "8::1" && e.error == DnsError::InvalidName),
        "{outcome:?}"
    );
    assert_eq!(m.check(), Ok(()), "{}", m.history());
}

/// The names the monitor takes for host names: what the engine resolves.
#[test]
fn host_names_as_the_engine_judges_them() {
    for name in ["example.com", "example.com.", "_svc.example", "192.0.2.1"] {
        assert!(is_host_name(name), "{name}");
    }
    for name in [
        "8::1",
        "::ffff:192.0.2.1",
        "",
        ".",
        "a..b",
        "example.com:443",
    ] {
        assert!(!is_host_name(name), "{name}");
    }
}
