//! Races dropped at chosen points close everything they opened (tokio adapter, loopback):
//! before the first poll, with DNS in flight, with one attempt connecting (between
//! attempts), right at a connect, and at random times; 300 races at once, then the
//! file-descriptor count is back where it started and no connect is left hanging.
//!
//! Each race has an observer that logs its events, so the test knows where a race was when
//! it was dropped and checks that the drop cancelled every attempt still in flight. The
//! drop points that the schedule makes certain are asserted:
//!
//! - dropped in the very poll that issued a connect (the IPv4 one of a broken-IPv6 race,
//!   the third of hang/refuse/hang): on a current-thread runtime the reactor runs only
//!   between polls, so the connect cannot have been reported yet;
//! - dropped after the first poll with the lookup in flight: a lookup from `/etc/hosts`
//!   often ends before the first poll does, so one destination uses the lab's `SlowDns`
//!   (the system lookup, its answer held 20 ms);
//! - dropped after the first poll of a broken-IPv6 race: the IPv6 attempt alone, hanging.
//!
//! Random times are drawn from a seed printed by the test (`EYEBALLS_TEST_SEED` repeats a
//! run); the table of where the races were when dropped is printed too.

#![cfg(target_os = "linux")]

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;
use std::time::Duration;

use eyeballs::{AttemptId, Target};
use eyeballs_driver::{Event, Network};
use eyeballs_e2e::{TcpState, poll_once, seed, tcp_sockets, tcp_states};
use eyeballs_lab::precondition::require;
use eyeballs_lab::{
    Blackhole, BrokenIpv6, ClosedPort, SlowDns, V4_LOOPBACK, count_fds, wait_for_fds,
};
use eyeballs_tokio::{Connector, TokioRuntime};

/// Each drop point below is used this many times (300 races).
const ROUNDS: usize = 30;

/// Random drop times are below this (past the 250 ms Connection Attempt Delay, so that some
/// land after the second attempt started, some after a race finished).
const RANDOM_WITHIN: Duration = Duration::from_millis(400);

/// A random drop time from 1 µs to [`RANDOM_WITHIN`], log-uniform (as likely from 10 to
/// 100 µs, where a lookup from `/etc/hosts` or a loopback connect ends, as from 100 to
/// 1000 ms... up to the maximum).
fn random_time(rng: &mut fastrand::Rng) -> Duration {
    let max = RANDOM_WITHIN.as_secs_f64() * 1e6;
    Duration::from_micros(max.powf(rng.f64()) as u64)
}

/// A hang fails the test instead of blocking CI (a run takes about half a second).
const ALL_DONE_WITHIN: Duration = Duration::from_secs(30);

/// Closing is immediate; this only bounds waiting for stragglers (a lookup finishing on
/// the blocking pool, the lab's listener closing what it accepted).
const SETTLE_WITHIN: Duration = Duration::from_secs(10);

/// Where a race connects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Dest {
    /// `localhost:P` through the system resolver (`getaddrinfo` on the blocking pool);
    /// `127.0.0.1:P` accepts. IPv4 only, so only an A query: `/etc/hosts` answers it on
    /// every machine, while a machine without a `::1 localhost` line (this project's CI)
    /// sends the AAAA query to its DNS server, and the test would depend on that server
    /// (a lookup in flight holds its socket for up to its timeout, seconds).
    Localhost,
    /// The same through the lab's `SlowDns`: the answer comes [`SLOW_DNS`] late, so a race
    /// dropped right after its first poll is dropped with its lookup in flight.
    SlowLocalhost,
    /// `[::1]:P` hangs, `127.0.0.1:P` accepts (the lab's `BrokenIpv6`).
    BrokenIpv6,
    /// `[::1]:P` hangs, then an IPv4 port that refuses, then one that hangs.
    HangRefuseHang,
}

/// When the race's future is dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Point {
    /// Never polled.
    BeforeFirstPoll,
    /// Right after the first poll.
    AfterFirstPoll,
    /// In the poll that started this many attempts (the last one's connect just issued).
    AtAttempt(usize),
    /// After a random time below [`RANDOM_WITHIN`].
    Random,
}

/// The drop points, per destination.
const PLAN: [(Dest, Point); 10] = [
    (Dest::Localhost, Point::BeforeFirstPoll),
    (Dest::Localhost, Point::AfterFirstPoll),
    (Dest::Localhost, Point::Random),
    (Dest::SlowLocalhost, Point::AfterFirstPoll),
    (Dest::BrokenIpv6, Point::BeforeFirstPoll),
    (Dest::BrokenIpv6, Point::AfterFirstPoll),
    (Dest::BrokenIpv6, Point::AtAttempt(2)),
    (Dest::BrokenIpv6, Point::Random),
    (Dest::HangRefuseHang, Point::AtAttempt(3)),
    (Dest::HangRefuseHang, Point::Random),
];

/// The loopback fixtures.
struct Lab {
    broken: BrokenIpv6,
    refusing: ClosedPort,
    hole_v4: Blackhole,
}

impl Lab {
    fn target(&self, dest: Dest) -> Target {
        match dest {
            Dest::Localhost | Dest::SlowLocalhost => {
                Target::host("localhost", self.broken.v4_addr().port())
            }
            Dest::BrokenIpv6 => Target::addresses(self.broken.addrs()),
            Dest::HangRefuseHang => Target::addresses([
                self.broken.v6_addr(),
                self.refusing.addr(),
                self.hole_v4.addr(),
            ]),
        }
    }
}

/// How late the slow resolver (the lab's `SlowDns`: the system lookup, started at once,
/// its answer held until then) answers.
const SLOW_DNS: Duration = Duration::from_millis(20);

type Log = Arc<Mutex<Vec<Event>>>;

fn lock(log: &Log) -> MutexGuard<'_, Vec<Event>> {
    log.lock().unwrap_or_else(|e| e.into_inner())
}

fn attempts_started(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::Attempt(_)))
        .count()
}

/// Attempts started and not yet ended (connected, failed or cancelled).
fn attempts_in_flight(events: &[Event]) -> Vec<(AttemptId, SocketAddr)> {
    let mut open = BTreeMap::new();
    for e in events {
        match (e, e.attempt_id()) {
            (Event::Attempt(a), _) => {
                open.insert(a.id, a.addr);
            }
            // Connected, failed or cancelled.
            (_, Some(id)) => {
                open.remove(&id);
            }
            (_, None) => {}
        }
    }
    open.into_iter().collect()
}

/// One race, dropped at its point.
struct Dropped {
    dest: Dest,
    point: Point,
    /// It finished (and its stream, if any, was dropped) before its drop point.
    finished: bool,
    /// Its events when it was dropped.
    at_drop: Vec<Event>,
    /// Its events after (the cancels the drop caused).
    after: Vec<Event>,
}

impl Dropped {
    /// Where the race was when it was dropped.
    fn phase(&self) -> String {
        let answered = self
            .at_drop
            .iter()
            .any(|e| matches!(e, Event::Answer { .. }));
        let asked = self
            .at_drop
            .iter()
            .any(|e| matches!(e, Event::Query { .. }));
        match (self.point, attempts_in_flight(&self.at_drop).len()) {
            (Point::BeforeFirstPoll, _) => "before the first poll".into(),
            _ if self.finished => "after it finished".into(),
            (Point::AtAttempt(n), _) => format!("right at the connect of attempt {n}"),
            _ if asked && !answered => "with DNS in flight".into(),
            (_, 0) => "between DNS and the first attempt".into(),
            (_, 1) => "with one attempt connecting".into(),
            (_, n) => format!("with {n} attempts connecting"),
        }
    }

    /// What must hold, given the schedule.
    fn check(&self, lab: &Lab) -> Result<(), String> {
        if self.finished {
            return match self.point {
                Point::Random if self.dest != Dest::HangRefuseHang => Ok(()),
                _ => Err("finished before its drop point".into()),
            };
        }
        let open = attempts_in_flight(&self.after);
        if !open.is_empty() {
            return Err(format!("attempts {open:?} not cancelled by the drop"));
        }
        if self
            .after
            .iter()
            .any(|e| matches!(e, Event::Connected { .. }))
        {
            return Err("an attempt connected".into());
        }
        let in_flight = attempts_in_flight(&self.at_drop);
        let happened = |f: fn(&Event) -> bool| self.at_drop.iter().any(f);
        let (holds, expected) = match (self.dest, self.point) {
            (_, Point::BeforeFirstPoll) => (
                !happened(|e| !matches!(e, Event::Query { .. } | Event::Attempt(_))),
                "nothing but the starts before the first poll",
            ),
            (Dest::SlowLocalhost, Point::AfterFirstPoll) => (
                !happened(|e| matches!(e, Event::Answer { .. } | Event::Attempt(_))),
                "the lookup in flight",
            ),
            (Dest::BrokenIpv6, Point::AfterFirstPoll) => (
                attempts_started(&self.at_drop) == 1
                    && in_flight.iter().map(|(_, a)| *a).eq([lab.broken.v6_addr()]),
                "the IPv6 attempt alone, hanging",
            ),
            (Dest::BrokenIpv6, Point::AtAttempt(2)) => (
                in_flight.last().map(|(_, a)| *a) == Some(lab.broken.v4_addr()),
                "the IPv4 connect just issued",
            ),
            (Dest::HangRefuseHang, Point::AtAttempt(3)) => {
                (in_flight.len() >= 2, "both hanging attempts in flight")
            }
            _ => (true, ""),
        };
        if !holds {
            return Err(format!("expected {expected} at the drop"));
        }
        Ok(())
    }
}

/// Runs one race with `connector` and drops it at `point` (`after`: the random time).
/// Returns whether it finished first, its events at the drop, and its events after.
async fn race_and_drop<N: Network<TokioRuntime>>(
    connector: Connector<N>,
    target: Target,
    point: Point,
    after: Duration,
) -> (bool, Vec<Event>, Vec<Event>) {
    let log: Log = Arc::default();
    let writer = log.clone();
    let connector = connector.observer(move |event| lock(&writer).push(event.event.clone()));
    let mut race = connector.connect_with_report(target);
    let finished = match point {
        Point::BeforeFirstPoll => false,
        Point::AfterFirstPoll => poll_once(&mut race).await.is_ready(),
        Point::AtAttempt(n) => {
            std::future::poll_fn(|cx| match Pin::new(&mut race).poll(cx) {
                Poll::Ready(_) => Poll::Ready(true),
                Poll::Pending if attempts_started(&lock(&log)) >= n => Poll::Ready(false),
                Poll::Pending => Poll::Pending,
            })
            .await
        }
        Point::Random => tokio::time::timeout(after, &mut race).await.is_ok(),
    };
    let at_drop = lock(&log).clone();
    drop(race);
    let after = lock(&log).clone();
    (finished, at_drop, after)
}

#[test]
fn races_dropped_anywhere_close_everything() {
    const TEST: &str = "races_dropped_anywhere_close_everything";
    let Some(broken) = require(TEST, BrokenIpv6::new()) else {
        return;
    };
    let Some(_) = require(TEST, count_fds()) else {
        return;
    };
    let lab = Lab {
        broken,
        refusing: ClosedPort::new(V4_LOOPBACK).expect("bind on loopback"),
        hole_v4: Blackhole::at(SocketAddr::new(V4_LOOPBACK, 0)).expect("a hanging IPv4 listener"),
    };
    let seed = seed().expect("the seed");
    eprintln!("seed {seed} (set {} to repeat)", eyeballs_e2e::SEED_VAR);
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut plan: Vec<(Dest, Point, Duration)> = (0..ROUNDS)
        .flat_map(|_| PLAN)
        .map(|(dest, point)| (dest, point, random_time(&mut rng)))
        .collect();
    rng.shuffle(&mut plan);

    // A current-thread runtime: the reactor runs only between polls, so a connect issued in
    // a poll cannot be reported in that poll and "right at the connect" is exact. (The load
    // test runs on a multi-thread runtime.)
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(8)
        .build()
        .expect("a tokio runtime");
    // Host names are looked up for IPv4 only (see `Dest::Localhost`).
    let mut v4_only: Connector = Connector::new();
    v4_only.config_mut().connectivity.ipv6 = false;
    let slow =
        Connector::with_network(SlowDns::all(SLOW_DNS)).with_settings(v4_only.settings().clone());
    let connector: Connector = Connector::new();
    // Warm up (the resolver's first use, the blocking pool) before counting.
    let warm = runtime.block_on(v4_only.connect(lab.target(Dest::Localhost)));
    drop(warm.expect("localhost resolves and 127.0.0.1 accepts"));
    let baseline = count_fds().expect("counted a moment ago");

    let all = async {
        let tasks: Vec<_> = plan
            .iter()
            .map(|&(dest, point, after)| {
                let target = lab.target(dest);
                match dest {
                    Dest::Localhost => {
                        tokio::spawn(race_and_drop(v4_only.clone(), target, point, after))
                    }
                    Dest::SlowLocalhost => {
                        tokio::spawn(race_and_drop(slow.clone(), target, point, after))
                    }
                    Dest::BrokenIpv6 | Dest::HangRefuseHang => {
                        tokio::spawn(race_and_drop(connector.clone(), target, point, after))
                    }
                }
            })
            .collect();
        let mut results = Vec::with_capacity(tasks.len());
        for (task, &(dest, point, _)) in tasks.into_iter().zip(&plan) {
            let (finished, at_drop, after) = task.await.expect("a race task panicked");
            results.push(Dropped {
                dest,
                point,
                finished,
                at_drop,
                after,
            });
        }
        results
    };
    let results = runtime
        .block_on(async { tokio::time::timeout(ALL_DONE_WITHIN, all).await })
        .unwrap_or_else(|_| panic!("the races did not all end within {ALL_DONE_WITHIN:?}"));

    let mut by_plan: BTreeMap<(Dest, Point, String), usize> = BTreeMap::new();
    let mut problems = Vec::new();
    for r in &results {
        *by_plan.entry((r.dest, r.point, r.phase())).or_default() += 1;
        if let Err(why) = r.check(&lab) {
            problems.push(format!(
                "{:?} dropped {:?}: {why}\nat the drop: {:?}\nafter: {:?}",
                r.dest, r.point, r.at_drop, r.after
            ));
        }
    }
    let table: Vec<String> = by_plan
        .iter()
        .map(|((dest, point, phase), n)| format!("{n:4}  {dest:?} {point:?}: {phase}"))
        .collect();
    eprintln!("{} races dropped:\n{}", results.len(), table.join("\n"));
    assert!(
        problems.is_empty(),
        "{} of {} races went wrong; the first:\n{}",
        problems.len(),
        results.len(),
        problems
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n---\n")
    );

    for hole in [lab.broken.v6_addr(), lab.hole_v4.addr()] {
        assert_eq!(
            tcp_sockets(hole, TcpState::SynSent),
            Some(0),
            "connects to {hole} still hanging; sockets to it by state: {:?}",
            tcp_states(hole)
        );
    }
    let after = wait_for_fds(baseline, SETTLE_WITHIN).expect("/proc/self/fd can be read");
    assert!(
        after <= baseline,
        "{} file descriptors still open after {} dropped races (baseline {baseline})",
        after - baseline,
        results.len()
    );
    drop(runtime);
}
