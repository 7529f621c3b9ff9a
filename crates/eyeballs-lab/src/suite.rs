//! The real-network suite every adapter runs: one set of tests, instantiated per adapter with
//! [`adapter_suite!`](crate::adapter_suite), against an [`Adapter`] the adapter's tests
//! implement in a few lines (run a race with these settings; drop a race mid-way; call the
//! one-liner).
//!
//! Every test uses loopback only, checks who won and what was closed, and bounds time only
//! generously (a race that should take 250 ms must finish well under 2 s). The tests take a
//! process-wide lock, so that the file-descriptor count of one is not disturbed by another:
//! put the suite in its own test file.
//!
//! No test depends on scheduling: a loaded machine runs the runtime's threads late and
//! reports a DNS answer, a connect or a timer in any order. So a test asserts only what the
//! engine guarantees whatever that order is, or forces the order it checks (a refusing or
//! hanging address makes the other family's answer necessary for the win; a 2 s Connection
//! Attempt Delay or Resolution Delay makes a timer lose to a loopback event). The tests
//! that need an IPv6 loopback fail without one, unless `EYEBALLS_TEST_NO_IPV6=1` (see
//! [`precondition`](crate::precondition)).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use eyeballs::{
    AttemptFailure, AttemptId, CONNECTION_ATTEMPT_DELAY, CancelReason, DnsAnswer, FailReason,
    MAX_CONNECTION_ATTEMPT_DELAY, MAX_RESOLUTION_DELAY, RaceResult, RecordType, Target,
};
use eyeballs_driver::{
    AttemptResult, ConnectError, Event, HistoryConfig, NetworkId, RaceReport, Reason, Settings,
    SharedHistory, TimedEvent,
};

use crate::precondition::require;
use crate::{
    Blackhole, BrokenIpv6, ClosedPort, Listener, V4_LOOPBACK, V6_LOOPBACK, count_fds,
    has_ipv6_loopback, ipv6_loopback, same_port, wait_for_fds,
};

/// A connection the adapter made: its two ends and its socket options, read from the
/// stream before it was closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conn {
    /// The local end.
    pub local: SocketAddr,
    /// The peer.
    pub peer: SocketAddr,
    /// Its socket options.
    pub options: SocketOptions,
}

/// The options of a connected socket, as the system reports them (socket2's getters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocketOptions {
    /// `TCP_NODELAY`.
    pub nodelay: bool,
    /// `SO_KEEPALIVE`.
    pub keepalive: bool,
    /// `TCP_KEEPIDLE` (`None` where the system has no getter).
    pub keepalive_time: Option<Duration>,
    /// `TCP_KEEPINTVL` (Linux only, here).
    pub keepalive_interval: Option<Duration>,
    /// `TCP_KEEPCNT` (Linux only, here).
    pub keepalive_retries: Option<u32>,
    /// `SO_SNDBUF`.
    pub send_buffer_size: usize,
    /// `SO_RCVBUF`.
    pub recv_buffer_size: usize,
    /// `SO_BINDTODEVICE` (Linux only, here).
    pub device: Option<Vec<u8>>,
}

impl SocketOptions {
    /// Reads the options of `socket`. A getter that fails fails the test.
    pub fn of(socket: socket2::SockRef<'_>) -> SocketOptions {
        fn get<T>(what: &str, value: io::Result<T>) -> T {
            value.unwrap_or_else(|e| panic!("reading {what}: {e}"))
        }
        #[cfg(target_os = "linux")]
        let (keepalive_time, keepalive_interval, keepalive_retries, device) = (
            Some(get("TCP_KEEPIDLE", socket.tcp_keepalive_time())),
            Some(get("TCP_KEEPINTVL", socket.tcp_keepalive_interval())),
            Some(get("TCP_KEEPCNT", socket.tcp_keepalive_retries())),
            get("SO_BINDTODEVICE", socket.device()),
        );
        #[cfg(not(target_os = "linux"))]
        let (keepalive_time, keepalive_interval, keepalive_retries, device) =
            (None, None, None, None);
        SocketOptions {
            nodelay: get("TCP_NODELAY", socket.tcp_nodelay()),
            keepalive: get("SO_KEEPALIVE", socket.keepalive()),
            keepalive_time,
            keepalive_interval,
            keepalive_retries,
            send_buffer_size: get("SO_SNDBUF", socket.send_buffer_size()),
            recv_buffer_size: get("SO_RCVBUF", socket.recv_buffer_size()),
            device,
        }
    }
}

impl Conn {
    /// The two ends and the options of a stream (any runtime's stream: anything socket2
    /// can borrow as a socket). A stream that lost an end fails the test.
    pub fn of<S>(stream: &S) -> Conn
    where
        for<'a> socket2::SockRef<'a>: From<&'a S>,
    {
        let socket = socket2::SockRef::from(stream);
        let addr = |a: io::Result<socket2::SockAddr>, which: &str| {
            a.ok()
                .and_then(|a| a.as_socket())
                .unwrap_or_else(|| panic!("the connection's {which} address"))
        };
        Conn {
            local: addr(socket.local_addr(), "local"),
            peer: addr(socket.peer_addr(), "peer"),
            options: SocketOptions::of(socket),
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

/// How long file descriptors may take to be closed after the races (closing is immediate;
/// this bounds a loaded machine's stragglers: a lookup thread, a runtime shutting down).
const SETTLE: Duration = Duration::from_secs(10);

/// Settings whose timers cannot overtake a loopback event on a loaded machine: the
/// Connection Attempt Delay and the Resolution Delay at their 2 s maximum. A test that checks
/// that something happened *because of* a refusal, a connect or an answer (and not because
/// a 250 ms or 50 ms timer ran out first while the machine was busy) uses these.
fn patient() -> Settings {
    let mut settings = Settings::default();
    settings.config.connection_attempt_delay = MAX_CONNECTION_ATTEMPT_DELAY;
    settings.config.resolution_delay = MAX_RESOLUTION_DELAY;
    settings
}

/// `[::1]:P` hangs, `127.0.0.1:P` works: the race connects over IPv4, after the Connection
/// Attempt Delay, and the IPv6 attempt is cancelled (closed).
pub fn broken_ipv6_falls_back_to_ipv4<A: Adapter>(a: &A) {
    let _x = exclusive();
    let Some(lab) = require("broken_ipv6_falls_back_to_ipv4", BrokenIpv6::new()) else {
        return;
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
    let Some(lab) = require("history_starts_the_next_race_with_ipv4", BrokenIpv6::new()) else {
        return;
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
        .any(|e| matches!(&e.event, Event::Attempt(start) if start.addr == lab.v6_addr()));
    assert!(
        !ipv6_started,
        "{}: an IPv6 attempt started before the win\n{second}",
        a.name()
    );
    let v4 = history.path_info(lab.v4_addr().ip());
    assert!(v4.used_before && v4.rtt.is_some(), "{v4:?}");
}

/// The first address refuses: the next one starts at once, not after the Connection
/// Attempt Delay (2 s here, so that a busy machine's late report of the refusal cannot be
/// mistaken for waiting).
pub fn refused_first_address_moves_on_at_once<A: Adapter>(a: &A) {
    let _x = exclusive();
    let refusing = closed(V4_LOOPBACK);
    let working = listener(V4_LOOPBACK);
    let settings = patient();
    let (conn, report) = expect_conn(
        a,
        a.race(
            &settings,
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
        report.attempts[1].started < settings.config.connection_attempt_delay,
        "{}: the second attempt waited for the delay instead of starting on the refusal\n{report}",
        a.name()
    );
    // Started by the refusal: the failure is recorded before the second attempt.
    let kinds: Vec<&str> = report.events.iter().map(|e| e.event.name()).collect();
    assert_eq!(
        kinds,
        ["attempt", "failed", "attempt", "connected"],
        "{report}"
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
    let listed: Vec<SocketAddr> = e.attempt_errors().iter().map(|f| f.attempt.addr).collect();
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
    for f in e.attempt_errors() {
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

/// A host name that resolves to both families (`localhost` through the system resolver):
/// AAAA and A are asked as two queries, both before anything else happens, and answered
/// separately, each with its own family's loopback address.
///
/// `[::1]:P` refuses and `127.0.0.1:P` accepts, so whichever answer the resolver gives first
/// the race can only be won over IPv4, after the A answer: the test holds in every order
/// (AAAA first: `::1` refused, then IPv4 once A answers; A first: IPv4 after the Resolution
/// Delay, or `::1` first if AAAA comes within it). Whether AAAA was answered before the win
/// is the resolver's timing, so it is checked only when it was.
pub fn host_name_and_both_families<A: Adapter>(a: &A) {
    let _x = exclusive();
    // Without an IPv6 loopback a connect to `::1` fails at once: the same race.
    let (v4, _v6_refusing) = if has_ipv6_loopback() {
        let (v4, v6) = same_port(
            "a listener and a refusing port",
            Listener::bind,
            |v6, v4: &Listener| ClosedPort::at(SocketAddr::new(v6.ip(), v4.addr().port())),
        )
        .expect("a port free on both loopbacks");
        (v4, Some(v6))
    } else {
        (listener(V4_LOOPBACK), None)
    };
    let port = v4.addr().port();
    let (conn, report) = expect_conn(
        a,
        a.race(&Settings::default(), Target::host("localhost", port)),
    );
    assert_eq!(conn.peer, v4.addr(), "{}: {report}", a.name());

    let asked: Vec<RecordType> = report.queries.iter().map(|q| q.record).collect();
    assert_eq!(asked, [RecordType::Aaaa, RecordType::A], "{report}");
    let queries_first = report.events.len() > 2
        && report.events[..2]
            .iter()
            .all(|e| matches!(e.event, Event::Query { .. }));
    assert!(
        queries_first,
        "both queries go out before any answer: {report}"
    );
    let (aaaa, a_query) = (&report.queries[0], &report.queries[1]);
    // The win needed the A answer: it is recorded, IPv4 only, before the winner started.
    assert_eq!(
        a_query.answer,
        Some(DnsAnswer::Addresses(vec![V4_LOOPBACK])),
        "{report}"
    );
    let winner = report.winning_attempt().expect("a winner");
    assert_eq!(winner.addr, v4.addr(), "{report}");
    assert!(
        a_query.answered.is_some_and(|t| t <= winner.started),
        "the A answer is recorded with its time, before the winner started: {report}"
    );
    // AAAA, if answered by then: IPv6 only, and every attempt to `::1` failed.
    if aaaa.answered.is_some() {
        assert_eq!(
            aaaa.answer,
            Some(DnsAnswer::Addresses(vec![V6_LOOPBACK])),
            "{report}"
        );
    }
    for attempt in report.attempts.iter().filter(|t| t.addr.is_ipv6()) {
        assert!(
            matches!(attempt.result, AttemptResult::Failed { .. }),
            "{}: {report}",
            a.name()
        );
    }
}

/// Both families work (`[::1]:P` and `127.0.0.1:P` accept) and `localhost` resolves to both:
/// the preferred family, IPv6, is attempted first and wins, alone.
///
/// The delays are at their 2 s maximum, so that on a busy machine neither an A answer that
/// comes first (the Resolution Delay waits for AAAA) nor a slow report of the IPv6 connect
/// (the Connection Attempt Delay) lets IPv4 start.
pub fn preferred_family_wins_when_both_work<A: Adapter>(a: &A) {
    let _x = exclusive();
    let Some(()) = require("preferred_family_wins_when_both_work", ipv6_loopback()) else {
        return;
    };
    let (v4, v6) = same_port("a listener pair", Listener::bind, |v6, v4: &Listener| {
        Listener::bind(SocketAddr::new(v6.ip(), v4.addr().port()))
    })
    .expect("a port free on both loopbacks");
    let (conn, report) = expect_conn(
        a,
        a.race(&patient(), Target::host("localhost", v4.addr().port())),
    );
    assert_eq!(
        conn.peer,
        v6.addr(),
        "{}: IPv6 is preferred: {report}",
        a.name()
    );
    assert_eq!(report.attempts.len(), 1, "{report}");
    assert_eq!(report.winner, Some(AttemptId(0)), "{report}");
    let aaaa = &report.queries[0];
    assert_eq!(aaaa.record, RecordType::Aaaa, "{report}");
    assert_eq!(
        aaaa.answer,
        Some(DnsAnswer::Addresses(vec![V6_LOOPBACK])),
        "{report}"
    );
}

/// No file descriptor survives many races: won, failed, and dropped mid-race (Go's
/// `TestDialerDualStackFDLeak`).
pub fn no_fd_leaks<A: Adapter>(a: &A) {
    let _x = exclusive();
    let Some(_) = require("no_fd_leaks", count_fds()) else {
        return;
    };
    let working = listener(V4_LOOPBACK);
    let refusing = closed(V4_LOOPBACK);
    let Some(hole) = require(
        "no_fd_leaks",
        Blackhole::new(SocketAddr::new(
            "127.0.0.2".parse().unwrap_or(V4_LOOPBACK),
            0,
        )),
    ) else {
        return;
    };
    let settings = Settings::default();
    // Warm up (lazily created runtime state, thread pools) before counting.
    let _ = a.race(&settings, Target::addresses([working.addr()]));
    let baseline = count_fds().expect("counted a moment ago");
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
    let after = wait_for_fds(baseline, SETTLE).unwrap_or(usize::MAX);
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

/// The socket options a connector sets (`TCP_NODELAY`, keepalive and its parameters, the
/// buffer sizes, on Linux the device) are on every attempt's socket before it connects
/// (the hook, which runs after them, sees them), and so on the winning stream; without
/// them the stream has the system's defaults.
pub fn socket_options_are_set_on_every_attempt<A: Adapter>(a: &A) {
    let _x = exclusive();
    let refusing = closed(V4_LOOPBACK);
    let working = listener(V4_LOOPBACK);
    let targets = [refusing.addr(), working.addr()];
    let (plain, _) = expect_conn(
        a,
        a.race(&Settings::default(), Target::addresses([working.addr()])),
    );
    assert!(
        !plain.options.nodelay && !plain.options.keepalive,
        "{plain:?}"
    );
    assert_eq!(plain.options.device, None);

    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let settings = Settings::default()
        .tcp_nodelay(true)
        .tcp_keepalive(Duration::from_secs(61))
        .tcp_keepalive_interval(Duration::from_secs(7))
        .tcp_keepalive_retries(4)
        .send_buffer_size(96 * 1024)
        .recv_buffer_size(160 * 1024)
        .socket_hook(move |socket, peer| {
            let nodelay = socket.tcp_nodelay()?;
            seen2
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((peer, nodelay));
            Ok(())
        });
    #[cfg(target_os = "linux")]
    let settings = settings.bind_device("lo");
    let (conn, report) = expect_conn(a, a.race(&settings, Target::addresses(targets)));
    assert_eq!(conn.peer, working.addr(), "{report}");
    assert_eq!(report.attempts.len(), 2, "{report}");
    assert_eq!(
        *seen.lock().unwrap_or_else(|e| e.into_inner()),
        [(targets[0], true), (targets[1], true)],
        "{}: the hook sees the options on every attempt",
        a.name()
    );
    let o = &conn.options;
    assert!(o.nodelay && o.keepalive, "{}: {o:?}", a.name());
    // The system may round a buffer size up (Linux doubles it), never down.
    assert!(o.send_buffer_size >= 96 * 1024, "{o:?}");
    assert!(o.recv_buffer_size >= 160 * 1024, "{o:?}");
    #[cfg(target_os = "linux")]
    {
        assert_eq!(o.keepalive_time, Some(Duration::from_secs(61)), "{o:?}");
        assert_eq!(o.keepalive_interval, Some(Duration::from_secs(7)), "{o:?}");
        assert_eq!(o.keepalive_retries, Some(4), "{o:?}");
        assert_eq!(o.device.as_deref(), Some(&b"lo"[..]), "{o:?}");
    }
}

/// The observer sees every report event, as it happens, in order.
pub fn observer_sees_every_event<A: Adapter>(a: &A) {
    let _x = exclusive();
    let refusing = closed(V4_LOOPBACK);
    let working = listener(V4_LOOPBACK);
    let seen: Arc<Mutex<Vec<TimedEvent>>> = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    // A 2 s delay: the second attempt is started by the refusal, whenever it is reported.
    let settings = Settings {
        observer: Some(Arc::new(move |e: &TimedEvent| {
            seen2
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(e.clone());
        })),
        ..patient()
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
    let kinds: Vec<&str> = seen.iter().map(|e| e.event.name()).collect();
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
    assert_eq!(inner.map(|c| c.attempt_errors().len()), Some(1), "{e}");
}

mod one_address;
pub use one_address::one_address_without_a_timer_is_the_same_race;

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
            preferred_family_wins_when_both_work,
            no_fd_leaks,
            local_address_is_honoured,
            socket_hook_runs_on_every_attempt,
            socket_options_are_set_on_every_attempt,
            observer_sees_every_event,
            one_liner_connects_and_explains,
            one_address_without_a_timer_is_the_same_race,
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
