//! The real-network suite every adapter runs: one set of tests, instantiated per adapter with
//! [`adapter_suite!`](crate::adapter_suite), against an [`Adapter`] the adapter's tests
//! implement in a few lines (run a race with these settings; drop a race mid-way; call the
//! one-liner).
//!
//! Every test uses loopback only, checks who won and what was closed, and bounds time only
//! generously (a race that should take 250 ms must finish well under 2 s). The tests take a
//! process-wide lock, so that the file-descriptor count of one is not disturbed by another:
//! put the suite in its own test file.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use eyeballs::{
    AttemptFailure, AttemptId, CONNECTION_ATTEMPT_DELAY, CancelReason, FailReason,
    MAX_CONNECTION_ATTEMPT_DELAY, RaceResult, RecordType, Target,
};
use eyeballs_driver::{
    AttemptResult, Configure, ConnectError, Event, HistoryConfig, NetworkId, RaceReport,
    ReportEvent, Settings, SharedHistory,
};

use crate::{
    Blackhole, BrokenIpv6, ClosedPort, Listener, V4_LOOPBACK, V6_LOOPBACK, has_ipv6_loopback,
    open_fds, wait_for_fds,
};

/// A connection the adapter made: its two ends (the stream itself is closed by then).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conn {
    /// The local end.
    pub local: SocketAddr,
    /// The peer.
    pub peer: SocketAddr,
}

impl Conn {
    /// The two ends of a stream, from its `local_addr()` and `peer_addr()` (every runtime's
    /// stream has both). A stream that lost an end fails the test.
    pub fn of(local: std::io::Result<SocketAddr>, peer: std::io::Result<SocketAddr>) -> Conn {
        Conn {
            local: local.expect("the connection's local address"),
            peer: peer.expect("the connection's peer address"),
        }
    }
}

/// What the suite needs from an adapter.
pub trait Adapter {
    /// The adapter's name, for messages.
    fn name(&self) -> &'static str;

    /// Runs one race to `target` with the adapter's connector configured with `settings`
    /// (and its own runtime), closes the stream, and returns its ends and the report.
    fn race(&self, settings: &Settings, target: Target)
    -> (Result<Conn, ConnectError>, RaceReport);

    /// Starts a race like [`race`](Adapter::race) and abandons it after `after` (drops the
    /// connect future, or the driver), before it can finish.
    fn race_dropped_after(&self, settings: &Settings, target: Target, after: Duration);

    /// Calls the adapter's one-liner `connect(target)`.
    fn one_liner(&self, target: &str) -> io::Result<Conn>;
}

static EXCLUSIVE: Mutex<()> = Mutex::new(());

fn exclusive() -> MutexGuard<'static, ()> {
    EXCLUSIVE.lock().unwrap_or_else(|e| e.into_inner())
}

fn skip(test: &str, why: impl std::fmt::Display) {
    eprintln!("skipped {test}: {why}");
}

fn listener(ip: IpAddr) -> Listener {
    Listener::bind(SocketAddr::new(ip, 0)).expect("listen on loopback")
}

fn closed(ip: IpAddr) -> ClosedPort {
    ClosedPort::new(ip).expect("bind on loopback")
}

fn expect_conn<A: Adapter>(
    a: &A,
    (result, report): (Result<Conn, ConnectError>, RaceReport),
) -> (Conn, RaceReport) {
    match result {
        Ok(conn) => (conn, report),
        Err(e) => panic!("{}: expected a connection, got: {e}\n{report}", a.name()),
    }
}

/// A generous bound for races whose schedule takes at most a few hundred milliseconds.
const GENEROUS: Duration = Duration::from_secs(2);

/// `[::1]:P` hangs, `127.0.0.1:P` works: the race connects over IPv4, after the Connection
/// Attempt Delay, and the IPv6 attempt is cancelled (closed).
pub fn broken_ipv6_falls_back_to_ipv4<A: Adapter>(a: &A) {
    let _x = exclusive();
    let lab = match BrokenIpv6::new() {
        Ok(lab) => lab,
        Err(why) => return skip("broken_ipv6_falls_back_to_ipv4", why),
    };
    let start = Instant::now();
    let (conn, report) = expect_conn(
        a,
        a.race(&Settings::default(), Target::addresses(lab.addrs())),
    );
    let elapsed = start.elapsed();
    assert_eq!(conn.peer, lab.v4_addr(), "{}: {report}", a.name());
    assert!(
        elapsed < GENEROUS,
        "{}: took {elapsed:?}\n{report}",
        a.name()
    );
    assert_eq!(report.attempts.len(), 2, "{report}");
    assert_eq!(report.attempts[0].addr, lab.v6_addr());
    assert_eq!(
        report.attempts[0].result,
        AttemptResult::Cancelled {
            reason: CancelReason::LostRace
        },
        "{report}"
    );
    assert_eq!(report.winner, Some(AttemptId(1)));
    // The engine's schedule: IPv4 waited for the Connection Attempt Delay (a lower bound
    // only; exact timing is tested in virtual time).
    assert!(
        report.attempts[1].started >= CONNECTION_ATTEMPT_DELAY,
        "{}: IPv4 started early\n{report}",
        a.name()
    );
}

/// The connection history on real sockets (`[::1]:P` hangs, `127.0.0.1:P` works): the
/// first race pays the Connection Attempt Delay and marks the IPv6 path broken; the second,
/// with the same history, starts with IPv4 and wins before any IPv6 attempt starts.
pub fn history_starts_the_next_race_with_ipv4<A: Adapter>(a: &A) {
    let _x = exclusive();
    let lab = match BrokenIpv6::new() {
        Ok(lab) => lab,
        Err(why) => return skip("history_starts_the_next_race_with_ipv4", why),
    };
    let history = SharedHistory::new(HistoryConfig::default(), NetworkId(1));
    let mut settings = Settings::default().history(history.clone());
    // Generous: after an IPv4 attempt with a known RTT, IPv6 would follow after the RTO
    // clamped to at least this (default 100 ms, which a loaded machine could exceed before
    // its loopback connect completes).
    settings.config.min_connection_attempt_delay = MAX_CONNECTION_ATTEMPT_DELAY;
    let target = || Target::addresses(lab.addrs());

    let (conn, first) = expect_conn(a, a.race(&settings, target()));
    assert_eq!(conn.peer, lab.v4_addr(), "{}: {first}", a.name());
    assert_eq!(first.attempts[0].addr, lab.v6_addr(), "{first}");
    assert!(
        history.path_info(lab.v6_addr().ip()).broken,
        "{}: the first race did not mark IPv6\n{first}",
        a.name()
    );

    let (conn, second) = expect_conn(a, a.race(&settings, target()));
    assert_eq!(conn.peer, lab.v4_addr(), "{}: {second}", a.name());
    assert_eq!(
        second.attempts[0].addr,
        lab.v4_addr(),
        "IPv4 first: {second}"
    );
    assert_eq!(second.winner, Some(AttemptId(0)), "{second}");
    let ipv6_started = second
        .events
        .iter()
        .any(|e| matches!(&e.kind, Event::Attempt(start) if start.addr == lab.v6_addr()));
    assert!(
        !ipv6_started,
        "{}: an IPv6 attempt started before the win\n{second}",
        a.name()
    );
    let v4 = history.path_info(lab.v4_addr().ip());
    assert!(v4.used_before && v4.rtt.is_some(), "{v4:?}");
}

/// The first address refuses: the next one starts at once, not after the Connection
/// Attempt Delay.
pub fn refused_first_address_moves_on_at_once<A: Adapter>(a: &A) {
    let _x = exclusive();
    let refusing = closed(V4_LOOPBACK);
    let working = listener(V4_LOOPBACK);
    let (conn, report) = expect_conn(
        a,
        a.race(
            &Settings::default(),
            Target::addresses([refusing.addr(), working.addr()]),
        ),
    );
    assert_eq!(conn.peer, working.addr());
    match &report.attempts[0].result {
        AttemptResult::Failed { failure, error } => {
            assert_eq!(*failure, AttemptFailure::Refused, "{report}");
            assert_eq!(error.kind, io::ErrorKind::ConnectionRefused);
        }
        other => panic!("{}: first attempt {other:?}\n{report}", a.name()),
    }
    assert!(
        report.attempts[1].started < CONNECTION_ATTEMPT_DELAY,
        "{}: the second attempt waited for the delay instead of starting on the refusal\n{report}",
        a.name()
    );
}

/// Every address refuses: one error lists each address with its error, maps to
/// `ConnectionRefused`, and says so in its text.
pub fn all_refused_is_one_error_naming_each_address<A: Adapter>(a: &A) {
    let _x = exclusive();
    let mut ports = vec![closed(V4_LOOPBACK), closed(V4_LOOPBACK)];
    if has_ipv6_loopback() {
        ports.insert(0, closed(V6_LOOPBACK));
    }
    let addrs: Vec<SocketAddr> = ports.iter().map(ClosedPort::addr).collect();
    let (result, report) = a.race(&Settings::default(), Target::Addresses(addrs.clone()));
    let e = match result {
        Err(e) => e,
        Ok(c) => panic!("{}: connected to {c:?} through refusing ports", a.name()),
    };
    assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}");
    let listed: Vec<SocketAddr> = e.attempts().iter().map(|f| f.addr).collect();
    let mut sorted_listed = listed.clone();
    sorted_listed.sort();
    let mut sorted_addrs = addrs.clone();
    sorted_addrs.sort();
    assert_eq!(
        sorted_listed, sorted_addrs,
        "every address is listed once: {e}"
    );
    let text = e.to_string();
    for addr in &addrs {
        assert!(
            text.contains(&addr.to_string()),
            "{addr} missing from: {text}"
        );
    }
    for f in e.attempts() {
        assert_eq!(f.error.kind(), io::ErrorKind::ConnectionRefused, "{e}");
    }
    assert_eq!(
        report.result,
        Some(RaceResult::Failed(FailReason::AllAttemptsFailed))
    );
    let io_error: io::Error = e.into();
    assert_eq!(io_error.kind(), io::ErrorKind::ConnectionRefused);
    assert!(
        io_error
            .get_ref()
            .is_some_and(|inner| inner.is::<ConnectError>())
    );
}

/// A host name that resolves to both families (`localhost` through the system resolver, and
/// the same as pre-resolved addresses): AAAA and A are asked as two queries and answered
/// separately; with both families listening, the preferred family (IPv6) wins at once.
pub fn host_name_and_both_families<A: Adapter>(a: &A) {
    let _x = exclusive();
    let v4 = listener(V4_LOOPBACK);
    let port = v4.addr().port();
    let v6 = if has_ipv6_loopback() {
        Listener::bind(SocketAddr::new(V6_LOOPBACK, port)).ok()
    } else {
        None
    };
    let (conn, report) = expect_conn(
        a,
        a.race(&Settings::default(), Target::host("localhost", port)),
    );
    assert_eq!(conn.peer.port(), port);
    assert!(conn.peer.ip().is_loopback());
    let asked: Vec<RecordType> = report.queries.iter().map(|q| q.record).collect();
    assert_eq!(asked, [RecordType::Aaaa, RecordType::A], "{report}");
    let a_query = &report.queries[1];
    assert!(
        a_query.answered.is_some(),
        "the A answer is recorded with its time: {report}"
    );
    let queries_first = report
        .events
        .iter()
        .take(2)
        .all(|e| matches!(e.kind, Event::Query { .. }));
    assert!(
        queries_first,
        "both queries go out before any answer: {report}"
    );

    let Some(v6) = v6 else {
        return skip(
            "host_name_and_both_families (IPv6 part)",
            "no IPv6 loopback",
        );
    };
    let (conn, report) = expect_conn(
        a,
        a.race(
            &Settings::default(),
            Target::addresses([v4.addr(), v6.addr()]),
        ),
    );
    assert_eq!(conn.peer, v6.addr(), "IPv6 is preferred: {report}");
    assert_eq!(report.attempts.len(), 1, "{report}");
}

/// No file descriptor survives many races: won, failed, and dropped mid-race (Go's
/// `TestDialerDualStackFDLeak`).
pub fn no_fd_leaks<A: Adapter>(a: &A) {
    let _x = exclusive();
    let working = listener(V4_LOOPBACK);
    let refusing = closed(V4_LOOPBACK);
    let hole = match Blackhole::at(SocketAddr::new(
        "127.0.0.2".parse().unwrap_or(V4_LOOPBACK),
        0,
    )) {
        Ok(h) => h,
        Err(why) => return skip("no_fd_leaks", why),
    };
    let settings = Settings::default();
    // Warm up (lazily created runtime state, thread pools) before counting.
    let _ = a.race(&settings, Target::addresses([working.addr()]));
    let Some(baseline) = open_fds() else {
        return skip("no_fd_leaks", "/proc/self/fd cannot be read");
    };
    for _ in 0..10 {
        let (won, report) = a.race(&settings, Target::addresses([hole.addr(), working.addr()]));
        assert!(won.is_ok(), "{report}");
        let (failed, _) = a.race(&settings, Target::addresses([refusing.addr()]));
        assert!(failed.is_err());
        a.race_dropped_after(
            &settings,
            Target::addresses([hole.addr(), refusing.addr(), hole.addr()]),
            Duration::from_millis(20),
        );
        a.race_dropped_after(&settings, Target::addresses([hole.addr()]), Duration::ZERO);
    }
    let (won, report) = a.race(&settings, Target::host("localhost", working.addr().port()));
    assert!(won.is_ok(), "{report}");
    let after = wait_for_fds(baseline, GENEROUS).unwrap_or(usize::MAX);
    assert!(
        after <= baseline,
        "{}: {} file descriptors leaked over 41 races",
        a.name(),
        after - baseline
    );
}

/// The local address of the attempt's family is bound; with only one family bound, the
/// other family's destinations are skipped with an error that says why.
pub fn local_address_is_honoured<A: Adapter>(a: &A) {
    let _x = exclusive();
    let working = listener(V4_LOOPBACK);
    let local: IpAddr = "127.0.0.2".parse().unwrap_or(V4_LOOPBACK);
    let mut settings = Settings::default();
    settings.set_local_address(local);
    let (conn, _) = expect_conn(a, a.race(&settings, Target::addresses([working.addr()])));
    assert_eq!(conn.local.ip(), local);

    let v6_only_target = SocketAddr::new(V6_LOOPBACK, working.addr().port());
    let (result, report) = a.race(&settings, Target::addresses([v6_only_target]));
    let e = result
        .err()
        .unwrap_or_else(|| panic!("connected without an IPv4 destination"));
    assert_eq!(e.kind(), io::ErrorKind::NotFound, "{e}");
    assert!(report.attempts.is_empty(), "{report}");
    assert!(e.to_string().contains("IPv4 only"), "{e}");
}

/// The socket hook runs on every attempt, in order, before connect; an error from it fails
/// that attempt and the race goes on.
pub fn socket_hook_runs_on_every_attempt<A: Adapter>(a: &A) {
    let _x = exclusive();
    let first = closed(V4_LOOPBACK);
    let second = closed(V4_LOOPBACK);
    let working = listener(V4_LOOPBACK);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let refuse = second.addr();
    let mut settings = Settings::default();
    settings.socket.hook = Some(Arc::new(move |socket: &socket2::Socket, peer| {
        socket.set_tcp_nodelay(true)?;
        seen2.lock().unwrap_or_else(|e| e.into_inner()).push(peer);
        if peer == refuse {
            return Err(io::Error::other("hook refused this peer"));
        }
        Ok(())
    }));
    let targets = [first.addr(), second.addr(), working.addr()];
    let (conn, report) = expect_conn(a, a.race(&settings, Target::addresses(targets)));
    assert_eq!(conn.peer, working.addr());
    assert_eq!(*seen.lock().unwrap_or_else(|e| e.into_inner()), targets);
    match &report.attempts[1].result {
        AttemptResult::Failed { error, .. } => {
            assert_eq!(error.message, "hook refused this peer")
        }
        other => panic!("{other:?}\n{report}"),
    }
}

/// The observer sees every report event, as it happens, in order.
pub fn observer_sees_every_event<A: Adapter>(a: &A) {
    let _x = exclusive();
    let refusing = closed(V4_LOOPBACK);
    let working = listener(V4_LOOPBACK);
    let seen: Arc<Mutex<Vec<ReportEvent>>> = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let settings = Settings {
        observer: Some(Arc::new(move |e: &ReportEvent| {
            seen2
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(e.clone());
        })),
        ..Settings::default()
    };
    let (_, report) = expect_conn(
        a,
        a.race(
            &settings,
            Target::addresses([refusing.addr(), working.addr()]),
        ),
    );
    let seen = seen.lock().unwrap_or_else(|e| e.into_inner());
    assert_eq!(*seen, report.events);
    let kinds: Vec<&str> = seen
        .iter()
        .map(|e| match e.kind {
            Event::Attempt(_) => "attempt",
            Event::Failed { .. } => "failed",
            Event::Connected { .. } => "connected",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["attempt", "failed", "attempt", "connected"]);
}

/// The one-liner connects to `host:port` and address literals, refuses a target without a
/// port, and returns the aggregate error inside its `io::Error`.
pub fn one_liner_connects_and_explains<A: Adapter>(a: &A) {
    let _x = exclusive();
    let working = listener(V4_LOOPBACK);
    let port = working.addr().port();
    let conn = a
        .one_liner(&format!("127.0.0.1:{port}"))
        .unwrap_or_else(|e| panic!("{}: {e}", a.name()));
    assert_eq!(conn.peer, working.addr());
    let conn = a
        .one_liner(&format!("localhost:{port}"))
        .unwrap_or_else(|e| panic!("{}: {e}", a.name()));
    assert_eq!(conn.peer.port(), port);
    let e = a.one_liner("localhost").unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{e}");
    let refusing = closed(V4_LOOPBACK);
    let e = a.one_liner(&refusing.addr().to_string()).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}");
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<ConnectError>());
    assert_eq!(inner.map(|c| c.attempts().len()), Some(1), "{e}");
}

/// Instantiates the shared suite for an adapter: one `#[test]` per suite function, each
/// calling it with `$adapter` (an expression of a type implementing
/// [`Adapter`](crate::suite::Adapter)). Put it in a test file of its own.
///
/// ```text
/// struct Tokio;
/// impl eyeballs_lab::suite::Adapter for Tokio { /* ... */ }
/// eyeballs_lab::adapter_suite!(Tokio);
/// ```
#[macro_export]
macro_rules! adapter_suite {
    ($adapter:expr) => {
        $crate::adapter_suite!(@tests $adapter;
            broken_ipv6_falls_back_to_ipv4,
            history_starts_the_next_race_with_ipv4,
            refused_first_address_moves_on_at_once,
            all_refused_is_one_error_naming_each_address,
            host_name_and_both_families,
            no_fd_leaks,
            local_address_is_honoured,
            socket_hook_runs_on_every_attempt,
            observer_sees_every_event,
            one_liner_connects_and_explains,
        );
    };
    (@tests $adapter:expr; $($name:ident,)*) => {
        $(
            #[test]
            fn $name() {
                $crate::suite::$name(&$adapter);
            }
        )*
    };
}
