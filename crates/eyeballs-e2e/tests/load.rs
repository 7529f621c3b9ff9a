//! Issue 5, load and cleanup on real sockets (loopback): 10,000 races in flight at once
//! through the tokio adapter, a third dropped mid-race, a third against a broken IPv6, a
//! third plain; afterwards every winner has echoed a byte, every hanging socket is closed
//! and the process's file-descriptor count is back where it started.
//!
//! How:
//!
//! - The accepting side runs in a child process (`eyeballs-echo`, see
//!   `eyeballs_e2e::echo`): this process holds up to about 17,000 client sockets at the
//!   peak, and the accepted ends would push one process past common limits (20,000 here).
//!   The soft open-files limit is raised to the hard one. The echo listeners have a backlog
//!   of 4096, so that 3,300 near-simultaneous SYNs to one of them are not dropped (a dropped
//!   SYN costs a 1 s retransmit).
//! - "In flight at once", on a multi-thread runtime (the usual `#[tokio::main]` one, where
//!   a race's connect can complete on one worker while it is dropped on another): every
//!   race is polled once, which issues its first connect (socket open, SYN sent), then
//!   waits for the test's go. A connect on loopback completes within microseconds, and
//!   another worker may see it before the first poll ends, so the races run on tokio's
//!   runtime seam with one change ([`HeldUntilGo`]): a connect's result is taken only
//!   after the go. Once all 10,000 have started (and none can have finished), the test
//!   counts this process's descriptors (exactly one socket per race), then gives the go.
//! - Plain races: `[::1]:P, 127.0.0.1:P`, both echoing. IPv6 wins if the go comes within
//!   the 250 ms Connection Attempt Delay; starting 10,000 races takes longer, so most plain
//!   races issue their IPv4 connect at the go too, and the one tokio reports first wins.
//! - Broken races: `[::1]:Q` hangs (the lab's `Blackhole`), `127.0.0.1:Q` echoes: IPv4 must
//!   win after the Connection Attempt Delay, the IPv6 attempt cancelled as the loser.
//! - Dropped races: `[::1]:Q, 127.0.0.1:R`, both hanging, so that they are mid-race whenever
//!   they are dropped: half are aborted (`JoinHandle::abort`) as soon as all races are in
//!   flight, half drop their future after a random time below 400 ms (some with one
//!   attempt, some with both).
//! - Every winner writes a byte, reads it back and reads end of file (the echo side closes
//!   first, keeping TIME_WAIT off the client's ephemeral ports).
//!
//! The random parts (drop times, order) come from a seed printed by the test; set
//! `EYEBALLS_TEST_SEED` to repeat a run.

#![cfg(target_os = "linux")]

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use eyeballs::{AttemptId, CONNECTION_ATTEMPT_DELAY, CancelReason};
use eyeballs_driver::{AttemptResult, BoxFuture, Runtime};
use eyeballs_e2e::echo::{EchoAddrs, EchoServer, echo_byte};
use eyeballs_e2e::{TcpState, poll_once, raise_fd_limit, seed, tcp_sockets, tcp_states};
use eyeballs_lab::precondition::require;
use eyeballs_lab::{count_fds, ipv6_loopback, open_fds, wait_for_fds};
use eyeballs_tokio::{RaceReport, TokioRuntime};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

/// The tokio adapter's runtime seam ([`TokioRuntime`]), except that a connect's result is
/// taken only after the test's go: the driver has already opened the socket and issued the
/// connect (SYN sent; on loopback the handshake completes in the kernel), so the race is in
/// flight, but it cannot finish before the test lets it. Everything else is
/// `TokioRuntime`'s; dropping a held connect closes its socket, as `TokioRuntime`'s does.
#[derive(Clone)]
struct HeldUntilGo {
    go: watch::Receiver<bool>,
}

impl Runtime for HeldUntilGo {
    type Stream = TcpStream;

    fn now(&self) -> Instant {
        TokioRuntime.now()
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<()> {
        TokioRuntime.sleep_until(deadline)
    }

    fn spawn_blocking<T, F>(&self, job: F) -> BoxFuture<Option<T>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        TokioRuntime.spawn_blocking(job)
    }

    fn connect(
        &self,
        socket: eyeballs_driver::socket2::Socket,
    ) -> BoxFuture<io::Result<TcpStream>> {
        let mut go = self.go.clone();
        Box::pin(async move {
            if go.wait_for(|go| *go).await.is_err() {
                return Err(io::Error::other("the test ended before its go"));
            }
            TokioRuntime.connect(socket).await
        })
    }
}

/// The tokio connector over [`HeldUntilGo`] and the system network.
type Connector = eyeballs_driver::Connector<HeldUntilGo>;

/// Races in flight at once (the number).
const RACES: usize = 10_000;

/// Open files this process needs: one socket per race at the go; then a second one per
/// race once its Connection Attempt Delay has passed, but plain and broken races finish as
/// soon as they run after the go (their connects completed long before) and close theirs,
/// while a dropped race holds two until it is dropped. So about one and two thirds per
/// race (the peak seen is well below), plus the runtime, the harness and the pipes to the
/// child. Should the limit be hit anyway, an attempt fails with "Too many open files" and
/// the test's message shows that race's report.
const FDS_NEEDED: u64 = (RACES + RACES * 2 / 3 + 512) as u64;

/// Dropped races that are not aborted drop their future after a random time below this.
const DROP_WITHIN: Duration = Duration::from_millis(400);

/// A hang fails the test instead of blocking CI (a run takes a few seconds).
const ALL_DONE_WITHIN: Duration = Duration::from_secs(50);

/// Closing is immediate; this only bounds waiting for stragglers.
const SETTLE_WITHIN: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// To the echo pair.
    Plain,
    /// To the broken-IPv6 pair.
    Broken,
    /// To two hanging addresses; aborted by the test once every race is in flight.
    Aborted,
    /// To two hanging addresses; drops its future after this long.
    DroppedAfter(Duration),
}

impl Kind {
    fn is_dropped(self) -> bool {
        matches!(self, Kind::Aborted | Kind::DroppedAfter(_))
    }
}

/// The 10,000 races in a seeded random order: a third each plain, broken and dropped (half
/// of those aborted).
fn plan(seed: u64) -> Vec<Kind> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut plan: Vec<Kind> = (0..RACES)
        .map(|i| match i % 3 {
            0 => Kind::Plain,
            1 => Kind::Broken,
            _ if i % 2 == 0 => Kind::Aborted,
            _ => Kind::DroppedAfter(Duration::from_micros(
                rng.u64(0..DROP_WITHIN.as_micros() as u64),
            )),
        })
        .collect();
    rng.shuffle(&mut plan);
    plan
}

#[derive(Debug)]
enum Outcome {
    /// Connected to `peer` and echoed a byte.
    Won { peer: SocketAddr },
    /// Dropped mid-race, as planned.
    Dropped,
    /// Anything else: what went wrong.
    Problem(String),
}

/// What a won race's report must say: the winner is the attempt to `peer`, every other
/// attempt was cancelled as a loser (its socket closed), and a broken race connected over
/// IPv4 after the Connection Attempt Delay, its hanging IPv6 attempt first.
fn check_report(
    kind: Kind,
    addrs: &EchoAddrs,
    peer: SocketAddr,
    report: &RaceReport,
) -> Result<(), String> {
    let right_peer = match kind {
        Kind::Plain => peer == addrs.plain_v6 || peer == addrs.plain_v4,
        Kind::Broken => peer == addrs.broken_v4,
        Kind::Aborted | Kind::DroppedAfter(_) => false,
    };
    if !right_peer {
        return Err(format!("connected to {peer}"));
    }
    let winner = report.winner.ok_or("no winner in the report")?;
    let lost = AttemptResult::Cancelled {
        reason: CancelReason::LostRace,
    };
    for a in &report.attempts {
        if a.id == winner && a.addr != peer {
            return Err(format!("the report's winner is {}, not {peer}", a.addr));
        }
        if a.id != winner && a.result != lost {
            return Err(format!(
                "the attempt to {} lost but ended {:?}",
                a.addr, a.result
            ));
        }
    }
    if kind == Kind::Broken {
        let [v6, v4] = report.attempts.as_slice() else {
            return Err("expected exactly two attempts".into());
        };
        if v6.addr != addrs.broken_v6 || winner != AttemptId(1) {
            return Err("expected the IPv6 attempt first, the IPv4 one winning".into());
        }
        // The engine's schedule (a lower bound; exact timing is tested in virtual time).
        if v4.started < CONNECTION_ATTEMPT_DELAY {
            return Err("IPv4 started before the Connection Attempt Delay".into());
        }
    }
    Ok(())
}

async fn one_race(
    i: usize,
    kind: Kind,
    connector: Connector,
    addrs: EchoAddrs,
    started: Arc<Semaphore>,
    mut go: watch::Receiver<bool>,
) -> Outcome {
    let target = match kind {
        Kind::Plain => vec![addrs.plain_v6, addrs.plain_v4],
        Kind::Broken => vec![addrs.broken_v6, addrs.broken_v4],
        Kind::Aborted | Kind::DroppedAfter(_) => vec![addrs.broken_v6, addrs.hole_v4],
    };
    let mut race = connector.connect_with_report(target);
    // Start it: the first attempt's connect is issued in this poll (and held, see
    // `HeldUntilGo`, so a race that finishes here is a bug).
    let first = poll_once(&mut race).await;
    started.add_permits(1);
    if go.wait_for(|go| *go).await.is_err() {
        return Outcome::Problem(format!("race {i}: the test ended before its go"));
    }
    if let Poll::Ready((result, report)) = first {
        return Outcome::Problem(format!(
            "race {i} ({kind:?}) finished before every race was in flight: {result:?}\n{report}"
        ));
    }
    match kind {
        Kind::Aborted => {
            let (result, report) = race.await;
            Outcome::Problem(format!(
                "race {i} was to be aborted mid-race but finished: {result:?}\n{report}"
            ))
        }
        Kind::DroppedAfter(after) => match tokio::time::timeout(after, &mut race).await {
            Err(_elapsed) => {
                drop(race);
                Outcome::Dropped
            }
            Ok((result, report)) => Outcome::Problem(format!(
                "race {i} was to be dropped after {after:?} but finished: {result:?}\n{report}"
            )),
        },
        Kind::Plain | Kind::Broken => {
            let (result, report) = race.await;
            let mut stream = match result {
                Ok(stream) => stream,
                Err(e) => {
                    return Outcome::Problem(format!("race {i} ({kind:?}) failed: {e}\n{report}"));
                }
            };
            let peer = match stream.peer_addr() {
                Ok(peer) => peer,
                Err(e) => return Outcome::Problem(format!("race {i}: no peer address: {e}")),
            };
            if let Err(why) = check_report(kind, &addrs, peer, &report) {
                return Outcome::Problem(format!("race {i} ({kind:?}): {why}\n{report}"));
            }
            if let Err(e) = echo_byte(&mut stream, i as u8).await {
                return Outcome::Problem(format!("race {i} ({kind:?}) to {peer}: echo: {e}"));
            }
            Outcome::Won { peer }
        }
    }
}

/// What [`run_all`] saw.
struct Run {
    /// This process's open descriptors while every race was in flight.
    fds_in_flight: Option<usize>,
    /// How long starting every race took (until the go).
    start_took: Duration,
    /// How long the races took from then on.
    finish_took: Duration,
    /// Each race's kind and outcome.
    outcomes: Vec<(Kind, Outcome)>,
}

async fn run_all(plan: &[Kind], addrs: EchoAddrs) -> Run {
    let t0 = Instant::now();
    let (go, held) = watch::channel(false);
    let connector =
        Connector::with_network(HeldUntilGo { go: held }, eyeballs_driver::SystemNetwork);
    let started = Arc::new(Semaphore::new(0));
    let handles: Vec<(Kind, JoinHandle<Outcome>)> = plan
        .iter()
        .enumerate()
        .map(|(i, &kind)| {
            let (started, go) = (started.clone(), go.subscribe());
            let race = one_race(i, kind, connector.clone(), addrs, started, go);
            (kind, tokio::spawn(race))
        })
        .collect();
    let all = u32::try_from(plan.len()).expect("fewer than 2^32 races");
    let all_started = started.acquire_many(all).await;
    all_started.expect("the semaphore is never closed").forget();
    // Every race has issued its first connect and waits for the go; none can have
    // finished (its connect's result is held).
    let fds_in_flight = open_fds();
    let start_took = t0.elapsed();
    go.send_replace(true);
    for (kind, handle) in &handles {
        if *kind == Kind::Aborted {
            handle.abort();
        }
    }
    let mut outcomes = Vec::with_capacity(handles.len());
    for (kind, handle) in handles {
        let outcome = match handle.await {
            Ok(outcome) => outcome,
            Err(e) if e.is_cancelled() && kind == Kind::Aborted => Outcome::Dropped,
            Err(e) => Outcome::Problem(format!("a {kind:?} race's task ended with {e}")),
        };
        outcomes.push((kind, outcome));
    }
    Run {
        fds_in_flight,
        start_took,
        finish_took: t0.elapsed() - start_took,
        outcomes,
    }
}

/// Samples this process's open file descriptors on a thread until dropped; keeps the peak.
struct PeakFds {
    peak: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PeakFds {
    fn start() -> PeakFds {
        let peak = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (peak.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Acquire) {
                p.fetch_max(open_fds().unwrap_or(0), Ordering::AcqRel);
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        PeakFds {
            peak,
            stop,
            thread: Some(thread),
        }
    }

    fn peak(&self) -> usize {
        self.peak.load(Ordering::Acquire)
    }
}

impl Drop for PeakFds {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn ten_thousand_races_in_flight_then_every_socket_is_closed() {
    const TEST: &str = "ten_thousand_races_in_flight_then_every_socket_is_closed";
    let Some(()) = require(TEST, ipv6_loopback()) else {
        return;
    };
    let Some(_) = require(TEST, count_fds()) else {
        return;
    };
    let limit = raise_fd_limit().expect("read and raise the open-files limit");
    assert!(
        limit >= FDS_NEEDED,
        "{TEST} cannot run: it needs {FDS_NEEDED} open files and the hard limit is \
         {limit}: raise it (ulimit -Hn, LimitNOFILE=), or leave the test out by name: \
         cargo test -- --skip {TEST}"
    );
    let seed = seed().expect("the seed");
    eprintln!("seed {seed} (set {} to repeat)", eyeballs_e2e::SEED_VAR);
    let plan = plan(seed);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let baseline = count_fds().expect("counted a moment ago");
    let server = EchoServer::spawn(Path::new(env!("CARGO_BIN_EXE_eyeballs-echo")))
        .expect("start the echo child");
    let addrs = server.addrs();

    let peak = PeakFds::start();
    let run = runtime
        .block_on(async { tokio::time::timeout(ALL_DONE_WITHIN, run_all(&plan, addrs)).await })
        .unwrap_or_else(|_| panic!("the races did not all end within {ALL_DONE_WITHIN:?}"));
    let outcomes = &run.outcomes;
    let peak_fds = peak.peak().max(run.fds_in_flight.unwrap_or(0));
    drop(peak);

    let planned = |f: fn(Kind) -> bool| plan.iter().filter(|k| f(**k)).count();
    let (plain, broken, dropped) = (
        planned(|k| k == Kind::Plain),
        planned(|k| k == Kind::Broken),
        planned(Kind::is_dropped),
    );
    assert_eq!(plain + broken + dropped, RACES);
    let fds_in_flight = run.fds_in_flight.expect("/proc/self/fd can be read");
    // Exactly one socket per race (its first attempt), give or take the pipes to the child
    // and the sampler's directory handle: no race has gone on before the go.
    let above = fds_in_flight.saturating_sub(baseline);
    assert!(
        (RACES..RACES + 16).contains(&above),
        "{above} descriptors above the baseline with {RACES} races in flight, each holding \
         its first attempt's socket"
    );

    let problems: Vec<&String> = outcomes
        .iter()
        .filter_map(|(_, o)| match o {
            Outcome::Problem(why) => Some(why),
            _ => None,
        })
        .collect();
    assert!(
        problems.is_empty(),
        "{} of {RACES} races went wrong; the first:\n{}",
        problems.len(),
        problems
            .iter()
            .take(3)
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join("\n---\n")
    );
    let won = |kind: Kind| {
        outcomes
            .iter()
            .filter(|(k, o)| *k == kind && matches!(o, Outcome::Won { .. }))
            .count()
    };
    let plain_over_v4 = outcomes
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Won { peer } if *peer == addrs.plain_v4))
        .count();
    let dropped_seen = outcomes
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Dropped))
        .count();
    assert_eq!(won(Kind::Plain), plain);
    assert_eq!(won(Kind::Broken), broken);
    assert_eq!(dropped_seen, dropped);

    // The hanging connects of the broken and dropped races are all closed.
    for hole in [addrs.broken_v6, addrs.hole_v4] {
        assert_eq!(
            tcp_sockets(hole, TcpState::SynSent),
            Some(0),
            "connects to {hole} still hanging; sockets to it by state: {:?}",
            tcp_states(hole)
        );
    }

    let stats = server
        .finish(SETTLE_WITHIN)
        .expect("the echo child reports and exits");
    assert_eq!(stats.accept_errors, 0, "{stats:?}");
    // Each winner's byte was echoed by the listener it connected to.
    assert_eq!(stats.plain_v6.echoed, plain - plain_over_v4, "{stats:?}");
    assert_eq!(stats.plain_v4.echoed, plain_over_v4, "{stats:?}");
    assert_eq!(stats.broken_v4.echoed, broken, "{stats:?}");

    let after = wait_for_fds(baseline, SETTLE_WITHIN).expect("/proc/self/fd can be read");
    assert!(
        after <= baseline,
        "{} file descriptors still open after {RACES} races (baseline {baseline})",
        after - baseline
    );
    eprintln!(
        "{RACES} races ({plain} plain, {plain_over_v4} of them won over IPv4; {broken} broken \
         IPv6; {dropped} dropped): started in {:?}, ended {:?} later; descriptors: {baseline} \
         before, {fds_in_flight} with every race in flight, {peak_fds} at the peak (sampled), \
         {after} after",
        run.start_took, run.finish_took
    );
    drop(runtime);
}
