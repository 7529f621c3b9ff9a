//! Exhaustive exploration: for small races (up to 4 addresses, literal or resolved), every order
//! in which attempt results, timer expiries, DNS answers and a cancel can arrive, each step
//! checked by the invariant monitor (`eyeballs_sim::monitor`).
//!
//! Virtual time: from each state, an input arrives at the current instant, strictly between
//! the current instant and the next deadline (`poll_timeout`), or exactly at that deadline
//! (before the timer fires, as the tie rule says); or the deadline's timer fires. With no
//! deadline pending, an input arrives now or 100 ms later. The race has no `Clone`, so a state
//! is reached again by replaying its inputs on a fresh race; states already explored (equal
//! monitor `Debug` text: the race's complete state and the monitor's model) are not explored
//! twice.
//!
//! At every state the refusals are probed as well (a result for an attempt that has ended,
//! time going backwards, an unknown query; each also just after the next deadline; results
//! for attempts whose attempt timeout has passed, a cancel after the total timeout): the
//! monitor checks each gets the error the contract names and changes nothing.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use eyeballs::{
    AttemptFailure, AttemptId, AttemptState, Config, DnsAnswer, DnsError, Instant, QueryId,
    RecordType, ServiceRecord, Target,
};
use eyeballs_sim::monitor::{Input, Monitor};

const T0: Instant = Instant::ZERO;
/// How far an input moves time on when no deadline is pending.
const IDLE_STEP: Duration = Duration::from_millis(100);

/// One configuration to explore.
struct Setup {
    name: &'static str,
    config: Config,
    target: Target,
    /// The answer each query type gets (host targets).
    answers: Vec<(RecordType, DnsAnswer)>,
    /// Also explore `handle_progress` (once per attempt).
    progress: bool,
}

#[derive(Default, Debug, Clone, Copy)]
struct Stats {
    /// Distinct states explored.
    states: u64,
    /// Steps given to a race (including replays).
    steps: u64,
    /// States reached again by another order and not explored twice.
    merged: u64,
    /// Refused inputs probed.
    probes: u64,
    /// Paths that ended with the race finished.
    finished: u64,
    /// States with no deadline pending: the race waits for the network only (a path may end
    /// there, with attempts that hang forever).
    idle: u64,
}

impl std::ops::AddAssign for Stats {
    fn add_assign(&mut self, o: Stats) {
        self.states += o.states;
        self.steps += o.steps;
        self.merged += o.merged;
        self.probes += o.probes;
        self.finished += o.finished;
        self.idle += o.idle;
    }
}

struct Explorer<'a> {
    setup: &'a Setup,
    seen: HashSet<(u64, u64)>,
    stats: Stats,
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn sock(s: &str) -> SocketAddr {
    SocketAddr::new(ip(s), 443)
}

fn fail(m: &Monitor, path: &[(Instant, Input)], what: &str) -> ! {
    let inputs: Vec<String> = path.iter().map(|(t, i)| format!("{t}: {i}")).collect();
    panic!(
        "{what}\ninputs: {inputs:#?}\nlog:\n{}violation: {:?}",
        m.history(),
        m.violation()
    );
}

impl Explorer<'_> {
    fn fresh(&mut self) -> Monitor {
        let s = self.setup;
        Monitor::start(s.config.clone(), s.target.clone(), T0).unwrap()
    }

    fn apply(&mut self, m: &mut Monitor, at: Instant, input: Input) {
        self.stats.steps += 1;
        let result = m.apply(at, input);
        while m.poll_action().is_some() {}
        if let Err(e) = result {
            fail(m, &[], &format!("a valid input was refused: {e}"));
        }
    }

    fn replay(&mut self, path: &[(Instant, Input)]) -> Monitor {
        let mut m = self.fresh();
        while m.poll_action().is_some() {}
        for (at, input) in path {
            self.apply(&mut m, *at, input.clone());
        }
        m
    }

    /// The inputs that may come next, with their times.
    fn choices(&self, m: &Monitor, path: &[(Instant, Input)]) -> Vec<(Instant, Input)> {
        let now = m.log().last().map_or(T0, |s| s.at);
        let next = m.poll_timeout();
        let times: Vec<Instant> = match next {
            Some(t) if t > now => {
                let mid = Instant::from_nanos(now.as_nanos() + (t.as_nanos() - now.as_nanos()) / 2);
                let mut v = vec![now, mid, t];
                v.dedup();
                v
            }
            Some(_) => vec![now],
            None => vec![now, now + IDLE_STEP],
        };
        let mut inputs = Vec::new();
        for a in m.race().attempts() {
            if a.state != AttemptState::InFlight {
                continue;
            }
            inputs.push(Input::Connected(a.id));
            inputs.push(Input::Failed(a.id, AttemptFailure::Refused));
            let progressed = path.iter().any(|(_, i)| *i == Input::Progress(a.id));
            if self.setup.progress && !progressed {
                inputs.push(Input::Progress(a.id));
            }
        }
        for (id, record, _) in m.open_queries() {
            if let Some((_, answer)) = self.setup.answers.iter().find(|(r, _)| *r == record) {
                inputs.push(Input::Dns {
                    id,
                    answer: answer.clone(),
                });
            }
        }
        inputs.push(Input::Cancel);
        let mut out = Vec::new();
        for t in &times {
            for i in &inputs {
                out.push((*t, i.clone()));
            }
        }
        if let Some(t) = next {
            out.push((t, Input::Timeout));
        }
        out
    }

    /// Refused inputs at this state: each must get its error and change nothing (the monitor
    /// checks both).
    fn probe(&mut self, m: &mut Monitor, path: &[(Instant, Input)]) {
        let now = m.log().last().map_or(T0, |s| s.at);
        let mut probes = vec![
            Input::Connected(AttemptId(99)),
            Input::Dns {
                id: QueryId(99),
                answer: DnsAnswer::Error(DnsError::ServFail),
            },
        ];
        if let Some(ended) = m
            .race()
            .attempts()
            .iter()
            .find(|a| a.state != AttemptState::InFlight)
        {
            probes.push(Input::Failed(ended.id, AttemptFailure::Other));
            probes.push(Input::Progress(ended.id));
        }
        if let Some((id, record)) = m.open_queries().next().map(|(id, r, _)| (id, r)) {
            // An answer of the wrong kind for an open query.
            let wrong = match record {
                RecordType::Aaaa => DnsAnswer::Addresses(vec![ip("192.0.2.99")]),
                RecordType::A => DnsAnswer::Addresses(vec![ip("2001:db8::99")]),
                RecordType::Https => DnsAnswer::Addresses(vec![]),
            };
            probes.push(Input::Dns { id, answer: wrong });
        }
        let mut timed: Vec<(Instant, Input)> = probes.into_iter().map(|p| (now, p)).collect();
        // Issue 10, item 7: the same refusals just after the next deadline, where a timer is
        // due before the input; and inputs a due timer overtakes (a result for an attempt
        // whose attempt timeout has passed, a cancel after the total timeout). Each must be
        // refused with nothing fired and nothing moved (the monitor checks both, and that
        // the error is the one the due timers explain).
        if let Some(t) = m.poll_timeout() {
            let late = Instant::from_nanos(t.as_nanos() + 1);
            let again: Vec<Input> = timed.iter().map(|(_, p)| p.clone()).collect();
            timed.extend(again.into_iter().map(|p| (late, p)));
        }
        for a in m.race().attempts() {
            if let (AttemptState::InFlight, Some(t)) = (a.state, a.timeout_at) {
                let late = Instant::from_nanos(t.as_nanos() + 1);
                timed.push((late, Input::Connected(a.id)));
                timed.push((late, Input::Progress(a.id)));
            }
        }
        if let Some(total) = m.race().config().total_timeout {
            let late = Instant::from_nanos((m.race().started_at() + total).as_nanos() + 1);
            timed.push((late, Input::Cancel));
        }
        for (at, p) in timed {
            self.stats.probes += 1;
            if m.apply(at, p.clone()).is_ok() {
                fail(m, path, &format!("{p} at {at} was accepted"));
            }
        }
        if now > T0 {
            self.stats.probes += 1;
            let before = Instant::from_nanos(now.as_nanos() - 1);
            if m.apply(before, Input::Timeout).is_ok() {
                fail(m, path, "time went backwards and was accepted");
            }
        }
        while m.poll_action().is_some() {}
        if m.check().is_err() {
            fail(m, path, "a probe broke a rule");
        }
    }

    fn explore(&mut self, mut m: Monitor, path: &mut Vec<(Instant, Input)>) {
        if m.check().is_err() {
            fail(&m, path, "rule broken");
        }
        let key = {
            let text = format!("{m:?}");
            let mut a = DefaultHasher::new();
            text.hash(&mut a);
            let mut b = DefaultHasher::new();
            0xe7e_u16.hash(&mut b);
            text.hash(&mut b);
            (a.finish(), b.finish())
        };
        if !self.seen.insert(key) {
            self.stats.merged += 1;
            return;
        }
        self.stats.states += 1;
        if m.is_finished() {
            self.stats.finished += 1;
            // After Finished every input is refused.
            let now = m.log().last().map_or(T0, |s| s.at);
            self.stats.probes += 1;
            if m.apply(now + IDLE_STEP, Input::Cancel).is_ok() || m.check().is_err() {
                fail(&m, path, "input after Finished");
            }
            return;
        }
        let choices = self.choices(&m, path);
        self.probe(&mut m, path);
        if m.poll_timeout().is_none() {
            self.stats.idle += 1;
        }
        let n = choices.len();
        let mut last = Some(m);
        for (i, (at, input)) in choices.into_iter().enumerate() {
            let mut child = match (i + 1 == n, last.take()) {
                (true, Some(m)) => m,
                (_, keep) => {
                    last = keep;
                    self.replay(path)
                }
            };
            self.apply(&mut child, at, input.clone());
            path.push((at, input));
            self.explore(child, path);
            path.pop();
        }
    }
}

fn run(setup: &Setup) -> Stats {
    let mut ex = Explorer {
        setup,
        seen: HashSet::new(),
        stats: Stats::default(),
    };
    let mut m = ex.fresh();
    while m.poll_action().is_some() {}
    ex.explore(m, &mut Vec::new());
    eprintln!(
        "exhaustive {:<28} {:>7} states, {:>7} merged, {:>8} steps, {:>7} probes, {:>6} finished, {:>4} idle",
        setup.name,
        ex.stats.states,
        ex.stats.merged,
        ex.stats.steps,
        ex.stats.probes,
        ex.stats.finished,
        ex.stats.idle
    );
    ex.stats
}

fn literals(addrs: &[&str]) -> Target {
    Target::addresses(addrs.iter().map(|a| sock(a)))
}

fn host() -> Target {
    Target::host("example.com", 443)
}

fn addrs(list: &[&str]) -> DnsAnswer {
    DnsAnswer::Addresses(list.iter().map(|a| ip(a)).collect())
}

const V6A: &str = "2001:db8::a";
const V6B: &str = "2001:db8::b";
const V4A: &str = "192.0.2.1";
const V4B: &str = "192.0.2.2";

fn config(f: impl FnOnce(&mut Config)) -> Config {
    let mut c = Config::default();
    f(&mut c);
    c
}

fn setups() -> Vec<Setup> {
    let plain = |name, target, answers| Setup {
        name,
        config: Config::default(),
        target,
        answers,
        progress: false,
    };
    vec![
        plain("literal 1", literals(&[V6A]), vec![]),
        plain("literal 2", literals(&[V6A, V4A]), vec![]),
        plain("literal 3", literals(&[V6A, V6B, V4A]), vec![]),
        plain("literal 4", literals(&[V6A, V6B, V4A, V4B]), vec![]),
        Setup {
            name: "literal 4, cap 2",
            config: config(|c| c.max_concurrent_attempts = Some(2)),
            ..plain("", literals(&[V6A, V6B, V4A, V4B]), vec![])
        },
        Setup {
            name: "literal 4, family count 2",
            config: config(|c| c.first_address_family_count = 2),
            ..plain("", literals(&[V6A, V6B, V4A, V4B]), vec![])
        },
        Setup {
            // The attempt timeout falls between one and two Connection Attempt Delays; the
            // total timeout ends long races.
            name: "literal 3, timeouts",
            config: config(|c| {
                c.attempt_timeout = Some(Duration::from_millis(400));
                c.total_timeout = Some(Duration::from_millis(900));
            }),
            ..plain("", literals(&[V6A, V6B, V4A]), vec![])
        },
        Setup {
            name: "literal 3, cap 1, timeout",
            config: config(|c| {
                c.max_concurrent_attempts = Some(1);
                c.attempt_timeout = Some(Duration::from_millis(300));
            }),
            ..plain("", literals(&[V6A, V6B, V4A]), vec![])
        },
        Setup {
            name: "literal 3, progress",
            progress: true,
            ..plain("", literals(&[V6A, V6B, V4A]), vec![])
        },
        Setup {
            // Secure racing (HEv3 §6.1): a transport handshake extends the timer while
            // attempt timeouts, the total timeout and the cap end or hold attempts around it.
            name: "literal 3, progress, limits",
            progress: true,
            config: config(|c| {
                c.attempt_timeout = Some(Duration::from_millis(400));
                c.total_timeout = Some(Duration::from_millis(900));
                c.max_concurrent_attempts = Some(2);
            }),
            ..plain("", literals(&[V6A, V6B, V4A]), vec![])
        },
        Setup {
            // Progress while DNS answers are still arriving (a late answer after the timer
            // was extended).
            name: "host 1+1, progress",
            progress: true,
            ..plain(
                "",
                host(),
                vec![
                    (RecordType::Aaaa, addrs(&[V6A])),
                    (RecordType::A, addrs(&[V4A])),
                ],
            )
        },
        plain(
            "host, 1+1",
            host(),
            vec![
                (RecordType::Aaaa, addrs(&[V6A])),
                (RecordType::A, addrs(&[V4A])),
            ],
        ),
        plain(
            "host, 2+2",
            host(),
            vec![
                (RecordType::Aaaa, addrs(&[V6A, V6B])),
                (RecordType::A, addrs(&[V4A, V4B])),
            ],
        ),
        plain(
            "host, AAAA nodata, A 2",
            host(),
            vec![
                (RecordType::Aaaa, addrs(&[])),
                (RecordType::A, addrs(&[V4A, V4B])),
            ],
        ),
        plain(
            "host, AAAA servfail, A 1",
            host(),
            vec![
                (RecordType::Aaaa, DnsAnswer::Error(DnsError::ServFail)),
                (RecordType::A, addrs(&[V4A])),
            ],
        ),
        plain(
            "host, AAAA 2, A nxdomain",
            host(),
            vec![
                (RecordType::Aaaa, addrs(&[V6A, V6B])),
                (RecordType::A, DnsAnswer::Error(DnsError::NxDomain)),
            ],
        ),
        Setup {
            name: "host 2+1, timeouts, cap 2",
            config: config(|c| {
                c.attempt_timeout = Some(Duration::from_millis(400));
                c.total_timeout = Some(Duration::from_millis(1000));
                c.max_concurrent_attempts = Some(2);
            }),
            ..plain(
                "",
                host(),
                vec![
                    (RecordType::Aaaa, addrs(&[V6A, V6B])),
                    (RecordType::A, addrs(&[V4A])),
                ],
            )
        },
        Setup {
            name: "host, prefer IPv4, RD 0",
            config: config(|c| {
                c.prefer_family = eyeballs::Family::V4;
                c.resolution_delay = Duration::ZERO;
            }),
            ..plain(
                "",
                host(),
                vec![
                    (RecordType::Aaaa, addrs(&[V6A])),
                    (RecordType::A, addrs(&[V4A, V4B])),
                ],
            )
        },
        Setup {
            name: "host, HTTPS hints",
            config: config(|c| c.query_https = true),
            ..plain(
                "",
                host(),
                vec![
                    (
                        RecordType::Https,
                        DnsAnswer::Services(vec![
                            ServiceRecord::service(1, ".")
                                .with_alpn(["h2"])
                                .with_ipv6hint([V6B.parse().unwrap()]),
                        ]),
                    ),
                    (RecordType::Aaaa, addrs(&[V6A])),
                    (RecordType::A, addrs(&[V4A])),
                ],
            )
        },
    ]
}

#[test]
fn every_interleaving_keeps_the_rules() {
    // EXHAUSTIVE_ONLY=text explores only the setups whose name contains it.
    let only = std::env::var("EXHAUSTIVE_ONLY").ok();
    let setups: Vec<Setup> = setups()
        .into_iter()
        .filter(|s| only.as_deref().is_none_or(|o| s.name.contains(o)))
        .collect();
    let started = std::time::Instant::now();
    // Two workers (CI has two cores), each taking the next setup.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<(usize, Stats)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(setup) = setups.get(i) else { break };
                        out.push((i, run(setup)));
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let mut total = Stats::default();
    for (i, stats) in &results {
        total += *stats;
        // Every setup reaches finished states and explores more than a handful of orders.
        assert!(
            stats.finished > 0 && stats.states >= 7,
            "{}",
            setups[*i].name
        );
    }
    eprintln!(
        "exhaustive total: {} states explored ({} merged), {} steps, {} probes, {} finished, in {:?}",
        total.states,
        total.merged,
        total.steps,
        total.probes,
        total.finished,
        started.elapsed()
    );
    assert_eq!(results.len(), setups.len());
    if only.is_none() {
        assert!(
            total.states > 100_000,
            "explored only {} states",
            total.states
        );
    }
}
