//! The session's tests: what is closed when, what the report and the error say, and what
//! the history learns, on the real session with handles that count their owners.

use std::net::SocketAddr;
use std::rc::Rc;

use eyeballs::trace::{Event, TimedEvent};
use eyeballs::{CancelReason, DnsAnswer, FailReason, RaceResult};

use super::*;
use crate::report::AttemptResult;

type Probe = Rc<()>;

fn addrs() -> (SocketAddr, SocketAddr) {
    ("[::1]:1".parse().unwrap(), "127.0.0.1:1".parse().unwrap())
}

fn connect_request(s: &mut Session<Probe, (), Probe>) -> Attempt {
    match s.poll_request() {
        Some(Request::Attempt(a)) => a,
        other => panic!("expected a connect request, got {other:?}"),
    }
}

#[test]
fn losers_and_late_connections_are_closed() {
    let (v6, v4) = addrs();
    let t0 = StdInstant::now();
    let ms = |n| t0 + Duration::from_millis(n);
    let mut s: Session<Probe, (), Probe> =
        Session::start(&Settings::default(), Target::addresses([v6, v4]), t0).unwrap();
    let first = connect_request(&mut s);
    let socket0 = Rc::new(());
    s.add_attempt(first.id, socket0.clone());
    assert_eq!(s.poll_timeout(), Some(ms(250)));
    s.handle_timeout(ms(250));
    let second = connect_request(&mut s);
    let socket1 = Rc::new(());
    s.add_attempt(second.id, socket1.clone());
    assert_eq!(Rc::strong_count(&socket0), 2);
    // #1 connects: #0's socket is closed at that moment.
    let stream1 = Rc::new(());
    s.handle_connected(ms(260), second.id, stream1.clone());
    assert_eq!(
        Rc::strong_count(&socket0),
        1,
        "the loser's socket was not closed"
    );
    assert!(s.is_finished());
    // #0 completes late: its connection is closed, the winner is unchanged.
    let late = Rc::new(());
    s.handle_connected(ms(261), first.id, late.clone());
    assert_eq!(Rc::strong_count(&late), 1, "the late connection was kept");
    let (result, report) = s.finish();
    assert!(Rc::ptr_eq(&result.unwrap(), &stream1));
    assert!(report.attempts[0].late_connection_closed);
    assert_eq!(
        report.attempts[0].result,
        AttemptResult::Cancelled {
            reason: CancelReason::LostRace
        }
    );
    assert_eq!(report.winning_attempt().unwrap().addr, v4);
    assert_eq!(report.attempts[1].started, Duration::from_millis(250));
    assert_eq!(report.ended, Some(Duration::from_millis(260)));
}

#[test]
fn all_failed_lists_every_attempt_with_its_os_error() {
    let (v6, v4) = addrs();
    let t0 = StdInstant::now();
    let mut s: Session<Probe, (), Probe> =
        Session::start(&Settings::default(), Target::addresses([v6, v4]), t0).unwrap();
    let a = connect_request(&mut s);
    s.handle_failed(t0, a.id, io::Error::from_raw_os_error(libc::ECONNREFUSED));
    let b = connect_request(&mut s);
    s.handle_failed(
        t0 + Duration::from_millis(1),
        b.id,
        io::Error::from_raw_os_error(libc::ECONNREFUSED),
    );
    assert!(s.is_finished());
    let (result, report) = s.finish();
    let e = result.unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
    assert_eq!(e.attempt_errors().len(), 2);
    assert_eq!(e.attempt_errors()[0].attempt.addr, v6);
    assert_eq!(e.attempt_errors()[1].attempt.addr, v4);
    assert_eq!(
        e.attempt_errors()[0].error.raw_os_error(),
        Some(libc::ECONNREFUSED)
    );
    let text = e.to_string();
    assert!(
        text.contains("[::1]:1: ") && text.contains("127.0.0.1:1: "),
        "{text}"
    );
    assert_eq!(
        report.result,
        Some(RaceResult::Failed(eyeballs::FailReason::AllAttemptsFailed))
    );
}

#[test]
fn queries_answers_and_stale_answers() {
    let t0 = StdInstant::now();
    let ms = |n| t0 + Duration::from_millis(n);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let settings = Settings {
        observer: Some(std::sync::Arc::new(move |e: &TimedEvent| {
            seen2.lock().unwrap().push(e.clone());
        })),
        ..Settings::default()
    };
    let mut s: Session<Probe, Probe, Probe> =
        Session::start(&settings, Target::host("example.com", 80), t0).unwrap();
    let mut queries = Vec::new();
    while let Some(r) = s.poll_request() {
        let Request::Resolve { id, record, .. } = r else {
            panic!("{r:?}")
        };
        s.add_query(id, Rc::new(()));
        queries.push((id, record));
    }
    assert_eq!(
        queries.iter().map(|q| q.1).collect::<Vec<_>>(),
        [RecordType::Aaaa, RecordType::A]
    );
    // A first, with an address of the wrong family mixed in (dropped).
    s.handle_dns(
        ms(10),
        queries[1].0,
        DnsAnswer::Addresses(vec!["192.0.2.1".parse().unwrap(), "::1".parse().unwrap()]),
    );
    assert!(
        s.poll_request().is_none(),
        "the Resolution Delay must hold IPv4 back"
    );
    assert_eq!(s.poll_timeout(), Some(ms(60)));
    s.handle_timeout(ms(60));
    let a = match s.poll_request() {
        Some(Request::Attempt(a)) => a,
        r => panic!("{r:?}"),
    };
    assert_eq!(a.addr, "192.0.2.1:80".parse().unwrap());
    s.add_attempt(a.id, Rc::new(()));
    s.handle_connected(ms(70), a.id, Rc::new(()));
    // AAAA was still outstanding: abandoned; a late answer is ignored.
    s.handle_dns(
        ms(80),
        queries[0].0,
        DnsAnswer::Addresses(vec!["::1".parse().unwrap()]),
    );
    let (result, report) = s.finish();
    assert!(result.is_ok());
    assert_eq!(report.queries[1].answered, Some(Duration::from_millis(10)));
    assert_eq!(
        report.queries[1].answer,
        Some(DnsAnswer::Addresses(vec!["192.0.2.1".parse().unwrap()]))
    );
    assert_eq!(report.queries[0].answered, None);
    assert!(matches!(
        report.events.last().unwrap().event,
        Event::CancelQueries
    ));
    assert_eq!(
        *seen.lock().unwrap(),
        report.events,
        "the observer saw every event"
    );
}

#[test]
fn cancel_closes_everything() {
    let (v6, v4) = addrs();
    let t0 = StdInstant::now();
    let mut s: Session<Probe, (), Probe> =
        Session::start(&Settings::default(), Target::addresses([v6, v4]), t0).unwrap();
    let a = connect_request(&mut s);
    let socket = Rc::new(());
    s.add_attempt(a.id, socket.clone());
    s.cancel(t0 + Duration::from_millis(5));
    assert_eq!(Rc::strong_count(&socket), 1);
    let (result, _) = s.finish();
    assert_eq!(result.unwrap_err().kind(), io::ErrorKind::Interrupted);
}

#[test]
fn an_input_overtaken_by_a_due_timer_fires_the_timer() {
    // The total timeout (100 ms) is due before the connection is reported (150 ms): the
    // engine refuses the input, and the session fires the timer, so the race ends as
    // timed out at once and the late stream is closed, whoever calls next.
    let (v6, v4) = addrs();
    let t0 = StdInstant::now();
    let ms = |n| t0 + Duration::from_millis(n);
    let mut settings = Settings::default();
    settings.config.total_timeout = Some(Duration::from_millis(100));
    let mut s: Session<Probe, (), Probe> =
        Session::start(&settings, Target::addresses([v6, v4]), t0).unwrap();
    let a = connect_request(&mut s);
    let socket = Rc::new(());
    s.add_attempt(a.id, socket.clone());
    let stream = Rc::new(());
    s.handle_connected(ms(150), a.id, stream.clone());
    assert!(
        s.is_finished(),
        "the due total timeout did not end the race"
    );
    assert_eq!(
        Rc::strong_count(&stream),
        1,
        "the overtaken stream was kept"
    );
    assert_eq!(
        Rc::strong_count(&socket),
        1,
        "the attempt's socket was kept"
    );
    let (result, report) = s.finish();
    assert_eq!(result.unwrap_err().kind(), io::ErrorKind::TimedOut);
    assert!(report.attempts[0].late_connection_closed);

    // The same for a cancel that comes after the deadline.
    let mut s: Session<Probe, (), Probe> =
        Session::start(&settings, Target::addresses([v6, v4]), t0).unwrap();
    let a = connect_request(&mut s);
    s.add_attempt(a.id, Rc::new(()));
    s.cancel(ms(150));
    assert!(s.is_finished());
    assert_eq!(s.finish().0.unwrap_err().kind(), io::ErrorKind::TimedOut);
}

#[test]
fn start_errors_name_the_problem() {
    let t0 = StdInstant::now();
    let e = Session::<(), (), ()>::start(&Settings::default(), Target::host("bad name", 80), t0)
        .err()
        .unwrap();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    assert!(e.to_string().contains("bad name"), "{e}");
    let mut settings = Settings::default();
    settings.config.connection_attempt_delay = Duration::from_millis(1);
    let e = Session::<(), (), ()>::start(&settings, Target::host("example.com", 80), t0)
        .err()
        .unwrap();
    assert!(e.to_string().contains("connection_attempt_delay"), "{e}");
}

/// `check_start` refuses what `start` refuses, with the same error (the target as people
/// write it, the reason), accepts what it accepts, and starts nothing: no event is
/// observed, and the history neither begins nor learns a race.
#[test]
fn check_start_refuses_what_start_refuses_and_starts_nothing() {
    let (v6, v4) = addrs();
    let events = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = events.clone();
    let history = SharedHistory::default();
    let watched = Settings {
        observer: Some(std::sync::Arc::new(move |_: &TimedEvent| {
            seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        })),
        history: Some(history.clone()),
        ..Settings::default()
    };
    let mut bad_delay = Settings::default();
    bad_delay.config.connection_attempt_delay = Duration::from_millis(1);
    let mut no_family = Settings::default();
    no_family.set_local_address(v4.ip());
    no_family.config.connectivity.ipv4 = false;
    let cases = [
        (&watched, Target::addresses([v6, v4]), true),
        (&watched, Target::host("example.com", 443), true),
        (&watched, Target::host("bad name", 80), false),
        (&watched, Target::host("example.com", 0), false),
        (
            &watched,
            Target::addresses(["0.0.0.0:80".parse().unwrap()]),
            false,
        ),
        (&bad_delay, Target::host("example.com", 443), false),
        (&no_family, Target::addresses([v6, v4]), false),
    ];
    let observed = || events.load(std::sync::atomic::Ordering::Relaxed);
    for (settings, target, ok) in cases {
        let before = (observed(), history.len());
        let checked = check_start(settings, &target).map_err(|e| e.to_string());
        assert_eq!(checked.is_ok(), ok, "{target:?}: {checked:?}");
        assert_eq!((observed(), history.len()), before, "{target:?}");
        let started = Session::<(), (), ()>::start(settings, target.clone(), StdInstant::now())
            .map(drop)
            .map_err(|e| e.to_string());
        assert_eq!(checked, started, "{target:?}");
    }
    // The checks that failed name the problem as `start` does.
    let e = check_start(&bad_delay, &Target::host("example.com", 443)).unwrap_err();
    assert!(e.to_string().contains("connection_attempt_delay"), "{e}");
    assert!(matches!(e.reason(), Reason::Start(_)), "{e:?}");
    let e = check_start(&no_family, &Target::addresses([v6, v4])).unwrap_err();
    assert_eq!(e.reason(), &Reason::NoUsableFamily(Family::V4));
    assert!(e.to_string().contains("[::1]:1, 127.0.0.1:1"), "{e}");
}

#[test]
fn races_share_one_engine_epoch_and_reports_start_at_zero() {
    let (v6, v4) = addrs();
    let t0 = StdInstant::now();
    let later = t0 + Duration::from_secs(7);
    let a: Session<Probe, (), Probe> =
        Session::start(&Settings::default(), Target::addresses([v6, v4]), t0).unwrap();
    let mut b: Session<Probe, (), Probe> =
        Session::start(&Settings::default(), Target::addresses([v6, v4]), later).unwrap();
    assert_eq!(
        b.race()
            .started_at()
            .saturating_duration_since(a.race().started_at()),
        Duration::from_secs(7),
        "engine instants of different races are comparable"
    );
    assert_eq!(b.race().started_at(), crate::clock::to_engine(later));
    let first = connect_request(&mut b);
    assert_eq!(b.report().attempts[0].started, Duration::ZERO);
    assert_eq!(b.poll_timeout(), Some(later + Duration::from_millis(250)));
    b.handle_connected(later + Duration::from_millis(30), first.id, Rc::new(()));
    assert_eq!(b.report().ended, Some(Duration::from_millis(30)));
}

#[test]
fn history_learns_when_the_race_ends_or_is_dropped_but_not_across_a_flush() {
    use eyeballs::history::{HistoryConfig, NetworkId};
    let (v6, v4) = addrs();
    let history = SharedHistory::new(HistoryConfig::default(), NetworkId(1));
    let settings = Settings {
        history: Some(history.clone()),
        ..Settings::default()
    };
    let t0 = StdInstant::now();
    let ms = |n| t0 + Duration::from_millis(n);

    // Dropped after IPv6 failed: the failure is learned.
    let mut s: Session<Probe, (), Probe> =
        Session::start(&settings, Target::addresses([v6, v4]), t0).unwrap();
    assert!(s.shared_history().is_some());
    let a = connect_request(&mut s);
    assert_eq!(a.addr, v6);
    s.handle_failed(ms(5), a.id, io::Error::from_raw_os_error(libc::ENETUNREACH));
    assert!(
        !history.path_info(v6.ip()).broken,
        "not before the race ends"
    );
    drop(s);
    let info = history.path_info(v6.ip());
    assert!(info.broken, "{info:?}");
    assert_eq!(history.export()[0].failures, 1);

    // The next race starts with IPv4, which wins: its RTT is learned at once.
    let mut s: Session<Probe, (), Probe> =
        Session::start(&settings, Target::addresses([v6, v4]), ms(100)).unwrap();
    let b = connect_request(&mut s);
    assert_eq!(b.addr, v4);
    s.handle_connected(ms(120), b.id, Rc::new(()));
    let rtt = history.path_info(v4.ip()).rtt.unwrap();
    assert_eq!(rtt.srtt, Duration::from_millis(20));
    let _ = s.finish();
    assert_eq!(history.export()[1].failures, 1, "learned once");

    // A race in flight when the history is flushed teaches nothing.
    let mut s: Session<Probe, (), Probe> =
        Session::start(&settings, Target::addresses([v4]), ms(200)).unwrap();
    let c = connect_request(&mut s);
    history.clear();
    s.handle_failed(
        ms(201),
        c.id,
        io::Error::from_raw_os_error(libc::ECONNREFUSED),
    );
    assert!(s.is_finished());
    assert!(history.is_empty());
}

#[test]
fn one_bound_family_skips_the_other_with_a_clear_error() {
    let (v6, _) = addrs();
    let mut settings = Settings::default();
    settings.set_local_address("127.0.0.1".parse().unwrap());
    let e = Session::<(), (), ()>::start(&settings, Target::addresses([v6]), StdInstant::now())
        .map(|s| s.finish().0.err().unwrap())
        .unwrap_or_else(|e| e);
    assert_eq!(e.kind(), io::ErrorKind::NotFound);
    let text = e.to_string();
    assert!(text.contains("[::1]:1 not attempted"), "{text}");
    assert!(text.contains("configured for IPv4 only"), "{text}");
}

/// Every address refused by the destination filter: nothing was attempted because the
/// caller's policy forbids it, which is `PermissionDenied`, not `NotFound`.
#[test]
fn every_address_filtered_is_permission_denied() {
    let (v6, v4) = addrs();
    let mut settings = Settings::default();
    settings.config.destination_filter = Some(std::sync::Arc::new(|_: std::net::IpAddr| {
        Err("not on my watch")
    }));
    let (result, _) =
        Session::<(), (), ()>::start(&settings, Target::addresses([v6, v4]), StdInstant::now())
            .unwrap()
            .finish();
    let e = result.unwrap_err();
    assert_eq!(
        e.reason(),
        &Reason::Race(RaceResult::Failed(FailReason::NoAddresses))
    );
    assert_eq!(e.skipped().len(), 2);
    assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
    let text = e.to_string();
    assert!(
        text.contains("refused by the destination filter: not on my watch"),
        "{text}"
    );
    let io: io::Error = e.into();
    assert_eq!(io.kind(), io::ErrorKind::PermissionDenied);
}

#[test]
fn global_only_refuses_loopback_in_every_spelling() {
    let settings = Settings::default().global_only();
    let target = Target::addresses(
        [
            "[::1]:80",
            "127.0.0.1:80",
            "[::ffff:127.0.0.2]:80",
            "[64:ff9b::a00:1]:80",
        ]
        .map(|a| a.parse::<std::net::SocketAddr>().unwrap()),
    );
    let mut s = Session::<(), (), ()>::start(&settings, target, StdInstant::now()).unwrap();
    assert!(
        s.poll_request().is_none(),
        "a refused destination was attempted"
    );
    let e = s.finish().0.unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
    // The mapped address is reported in its IPv4 form, and mapped + plain are one.
    let refused: Vec<_> = e.skipped().iter().map(|s| s.addr.to_string()).collect();
    assert_eq!(
        refused,
        [
            "[::1]:80",
            "127.0.0.1:80",
            "127.0.0.2:80",
            "[64:ff9b::a00:1]:80"
        ],
        "{e}"
    );
}

#[cfg(feature = "tracing")]
mod tracing_events {
    use super::*;
    use std::fmt::Debug;
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};

    /// A subscriber that keeps the message of every `eyeballs` event.
    struct Messages(Arc<Mutex<Vec<String>>>);

    struct Message(String);

    impl Visit for Message {
        fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
            if field.name() == "message" {
                self.0 = format!("{value:?}");
            }
        }
    }

    impl tracing::Subscriber for Messages {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &tracing::Event<'_>) {
            if event.metadata().target() == "eyeballs" {
                let mut m = Message(String::new());
                event.record(&mut m);
                self.0.lock().unwrap().push(m.0);
            }
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    /// Every attempt, result and cancel of a race is a `tracing` event.
    #[test]
    fn every_step_is_traced() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        tracing::subscriber::with_default(Messages(seen.clone()), || {
            let v6 = "[::1]:9".parse().unwrap();
            let v4 = "127.0.0.1:9".parse().unwrap();
            let t0 = StdInstant::now();
            let mut s: Session<(), (), ()> =
                Session::start(&Settings::default(), Target::addresses([v6, v4]), t0).unwrap();
            let Some(Request::Attempt(first)) = s.poll_request() else {
                panic!("an attempt")
            };
            s.add_attempt(first.id, ());
            s.handle_failed(
                t0,
                first.id,
                io::Error::from(io::ErrorKind::ConnectionRefused),
            );
            let Some(Request::Attempt(second)) = s.poll_request() else {
                panic!("a second attempt")
            };
            s.add_attempt(second.id, ());
            s.handle_connected(t0, second.id, ());
            let _ = s.finish();
        });
        assert_eq!(
            *seen.lock().unwrap(),
            ["attempt", "failed", "attempt", "connected"]
        );
    }
}

/// Secure racing in the session: a transport handshake is recorded once (the report's event
/// and the attempt's `transport_connected`) and extends the engine's timer; a failure of
/// the secure handshake after it counts as a handshake failure and says so in the error;
/// an attempt still in its secure handshake when the race times out says that too.
#[test]
fn a_transport_handshake_is_recorded_and_a_tls_failure_is_a_handshake_failure() {
    use crate::attempt::HandshakeError;
    let (v6, v4) = addrs();
    let t0 = StdInstant::now();
    let ms = |n| t0 + Duration::from_millis(n);
    let mut settings = Settings::default();
    settings.config.total_timeout = Some(Duration::from_millis(1000));
    let mut s: Session<Probe, (), Probe> =
        Session::start(&settings, Target::addresses([v6, v4]), t0).unwrap();
    let first = connect_request(&mut s);
    s.add_attempt(first.id, Rc::new(()));
    // TCP after 100 ms: the next attempt waits until 100 + 2 x 100 = 300 ms, not 250.
    s.handle_progress(ms(100), first.id);
    assert_eq!(s.poll_timeout(), Some(ms(300)));
    // Said twice: recorded once.
    s.handle_progress(ms(110), first.id);
    let transports = |s: &Session<Probe, (), Probe>| {
        s.report()
            .events
            .iter()
            .filter(|e| matches!(e.event, Event::TransportConnected { .. }))
            .count()
    };
    assert_eq!(transports(&s), 1);
    // The certificate is rejected at 120 ms: the next attempt starts at once.
    let tls = HandshakeError::new(
        "TLS",
        io::Error::new(
            io::ErrorKind::InvalidData,
            "invalid peer certificate: UnknownIssuer",
        ),
    );
    s.handle_failed(ms(120), first.id, tls.into());
    let second = connect_request(&mut s);
    s.add_attempt(second.id, Rc::new(()));
    s.handle_progress(ms(130), second.id);
    // Its TLS never finishes: the race times out at 1000 ms.
    s.handle_timeout(ms(1000));
    assert!(s.is_finished());
    let (result, report) = s.finish();
    assert_eq!(
        report.attempts[0].transport_connected,
        Some(Duration::from_millis(100))
    );
    assert_eq!(
        report.attempts[1].transport_connected,
        Some(Duration::from_millis(130))
    );
    assert!(matches!(
        report.attempts[0].result,
        AttemptResult::Failed {
            failure: eyeballs::AttemptFailure::Handshake,
            ..
        }
    ));
    let e = result.unwrap_err();
    assert_eq!(
        e.attempt_errors()[0].attempt.failure,
        eyeballs::AttemptFailure::Handshake
    );
    let text = e.to_string();
    assert!(
        text.contains("[::1]:1: TLS handshake failed: invalid peer certificate: UnknownIssuer"),
        "{text}"
    );
    assert!(
        text.contains(
            "127.0.0.1:1: the transport connected; still in the secure handshake when the race \
             ended"
        ),
        "{text}"
    );
}

/// Progress for an attempt that is not in flight (never started, or ended) is ignored.
#[test]
fn progress_of_an_attempt_not_in_flight_is_ignored() {
    let (v6, v4) = addrs();
    let t0 = StdInstant::now();
    let mut s: Session<Probe, (), Probe> =
        Session::start(&Settings::default(), Target::addresses([v6, v4]), t0).unwrap();
    let first = connect_request(&mut s);
    s.handle_progress(t0, eyeballs::AttemptId(7));
    s.handle_failed(t0, first.id, io::ErrorKind::ConnectionRefused.into());
    s.handle_progress(t0, first.id);
    assert!(s.report().attempts[0].transport_connected.is_none());
    assert!(
        !s.report()
            .events
            .iter()
            .any(|e| matches!(e.event, Event::TransportConnected { .. }))
    );
}

/// An attempt is the race's sole I/O only when nothing else can happen until it ends: no
/// other request, no other attempt in flight (its handle stored or not), no query open, no
/// timer. Otherwise nothing is taken.
#[test]
fn a_sole_attempt_is_one_with_nothing_else_to_wait_for() {
    let (v6, v4) = addrs();
    let t0 = StdInstant::now();
    let ms = |n| t0 + Duration::from_millis(n);
    let settings = Settings::default();

    // One address, no timeout: sole.
    let mut one: Session<Probe, (), Probe> =
        Session::start(&settings, Target::addresses([v4]), t0).unwrap();
    let a = one.poll_sole_attempt().expect("one address, no timer");
    assert_eq!(a.addr, v4);
    assert!(one.poll_request().is_none(), "taken");
    one.handle_failed(
        ms(1),
        a.id,
        io::Error::from_raw_os_error(libc::ECONNREFUSED),
    );
    assert!(one.is_finished());

    // A timeout could end it meanwhile: not sole, and still there to take.
    let timed = Settings::default().attempt_timeout(Duration::from_secs(5));
    let mut s: Session<Probe, (), Probe> =
        Session::start(&timed, Target::addresses([v4]), t0).unwrap();
    assert!(s.poll_sole_attempt().is_none());
    assert_eq!(connect_request(&mut s).addr, v4);

    // Two addresses: the first runs with the next attempt's timer; once it has failed, the
    // second has nothing left to wait for.
    let mut two: Session<Probe, (), Probe> =
        Session::start(&settings, Target::addresses([v6, v4]), t0).unwrap();
    assert!(two.poll_sole_attempt().is_none(), "the next attempt is due");
    let first = connect_request(&mut two);
    two.add_attempt(first.id, Rc::new(()));
    two.handle_failed(
        ms(1),
        first.id,
        io::Error::from_raw_os_error(libc::ECONNREFUSED),
    );
    assert_eq!(two.poll_sole_attempt().map(|a| a.addr), Some(v4));

    // The second attempt starts while the first is in flight: not sole, its handle stored
    // or not.
    for store in [true, false] {
        let mut s: Session<Probe, (), Probe> =
            Session::start(&settings, Target::addresses([v6, v4]), t0).unwrap();
        let first = connect_request(&mut s);
        if store {
            s.add_attempt(first.id, Rc::new(()));
        }
        s.handle_timeout(ms(250));
        assert_eq!(s.poll_timeout(), None, "nothing left to stagger");
        assert!(s.poll_sole_attempt().is_none(), "stored: {store}");
        assert_eq!(connect_request(&mut s).addr, v4);
    }

    // A query open: its answer could join the race.
    let mut s: Session<Probe, Probe, Probe> =
        Session::start(&settings, Target::host("example.com", 80), t0).unwrap();
    assert!(s.poll_sole_attempt().is_none(), "resolve first");
    let mut queries = Vec::new();
    while let Some(Request::Resolve { id, record, .. }) = s.poll_request() {
        s.add_query(id, Rc::new(()));
        queries.push((id, record));
    }
    let (aaaa, _) = queries[0];
    s.handle_dns(
        ms(5),
        aaaa,
        DnsAnswer::Addresses(vec!["::1".parse().unwrap()]),
    );
    assert!(s.poll_sole_attempt().is_none(), "the A query is open");
    assert!(matches!(s.poll_request(), Some(Request::Attempt(_))));
}

/// The request queue keeps its first request inline and the order of all of them.
#[test]
fn requests_keep_their_order() {
    let resolve = |n: u32| Request::Resolve {
        id: QueryId(n),
        name: String::new(),
        record: RecordType::A,
    };
    let ids = |q: &mut Requests| {
        let mut out = Vec::new();
        while let Some(Request::Resolve { id, .. }) = q.pop_front() {
            out.push(id.0);
        }
        out
    };
    let mut q = Requests::default();
    assert_eq!((q.len(), q.front()), (0, None));
    for n in 0..4 {
        q.push_back(resolve(n));
    }
    assert_eq!(q.len(), 4);
    assert!(q.rest.capacity() > 0);
    assert_eq!(q.pop_front(), Some(resolve(0)));
    q.push_front(resolve(9));
    assert_eq!(q.front(), Some(&resolve(9)));
    // Drop the first and one behind it.
    q.retain(|r| !matches!(r, Request::Resolve { id, .. } if id.0 == 9 || id.0 == 2));
    q.push_back(resolve(5));
    assert_eq!(ids(&mut q), [1, 3, 5]);
    q.push_back(resolve(6));
    assert_eq!(q.rest.len(), 0, "one request is kept inline");
    q.clear();
    assert_eq!(q.len(), 0);
}

/// A session started without events is the same race: the same error, the same report
/// but for its events, which the observer still sees.
#[test]
fn a_race_without_events_is_the_same_race() {
    let (v6, v4) = addrs();
    let t0 = StdInstant::now();
    let run = |keep: bool| {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        let settings = Settings::default().observer(move |e| seen2.lock().unwrap().push(e.clone()));
        let target = Target::addresses([v6, v4]);
        let mut s: Session<Probe, (), Probe> = match keep {
            true => Session::start(&settings, target, t0).unwrap(),
            false => Session::start_without_events(&settings, target, t0).unwrap(),
        };
        let a = connect_request(&mut s);
        s.handle_failed(t0, a.id, io::Error::from_raw_os_error(libc::ECONNREFUSED));
        let b = connect_request(&mut s);
        s.handle_failed(t0, b.id, io::Error::from_raw_os_error(libc::ECONNREFUSED));
        let (result, report) = s.finish();
        let seen = seen.lock().unwrap().clone();
        (result.unwrap_err().to_string(), report, seen)
    };
    let (kept_error, kept, kept_seen) = run(true);
    let (error, mut without, seen) = run(false);
    assert_eq!(error, kept_error);
    assert!(without.events.is_empty());
    assert_eq!(seen, kept_seen, "the observer sees every event either way");
    assert_eq!(kept.events, kept_seen);
    without.events = kept.events.clone();
    assert_eq!(without, kept);
}

/// A race nobody watches (no events kept, no observer: the session makes no events at all)
/// is the same race: its queries with their answers, its attempts with their results and
/// times, its error listing every attempt, as a race that keeps its events.
#[test]
fn a_race_nobody_watches_is_the_same_race() {
    let t0 = StdInstant::now();
    let ms = |n| t0 + Duration::from_millis(n);
    let run = |keep: bool| {
        let settings = Settings::default();
        let target = Target::host("example.com", 80);
        let mut s: Session<Probe, Probe, Probe> = match keep {
            true => Session::start(&settings, target, t0).unwrap(),
            false => Session::start_without_events(&settings, target, t0).unwrap(),
        };
        let mut queries = Vec::new();
        while let Some(r) = s.poll_request() {
            let Request::Resolve { id, record, .. } = r else {
                panic!("{r:?}")
            };
            s.add_query(id, Rc::new(()));
            queries.push((id, record));
        }
        assert_eq!(queries.len(), 2, "AAAA and A");
        s.handle_dns(
            ms(5),
            queries[0].0,
            DnsAnswer::Addresses(vec!["::1".parse().unwrap()]),
        );
        s.handle_dns(
            ms(6),
            queries[1].0,
            DnsAnswer::Addresses(vec!["127.0.0.1".parse().unwrap()]),
        );
        let mut attempts = Vec::new();
        while !s.is_finished() {
            match s.poll_request() {
                Some(Request::Attempt(a)) => {
                    s.add_attempt(a.id, Rc::new(()));
                    s.handle_progress(ms(8), a.id);
                    s.handle_failed(
                        ms(9),
                        a.id,
                        io::Error::from_raw_os_error(libc::ECONNREFUSED),
                    );
                    attempts.push(a.addr);
                }
                Some(r) => panic!("{r:?}"),
                None => {
                    let at = s
                        .poll_timeout()
                        .expect("a timer while nothing is requested");
                    s.handle_timeout(at);
                }
            }
        }
        let (result, report) = s.finish();
        (result.unwrap_err().to_string(), report, attempts)
    };
    let (kept_error, kept, kept_attempts) = run(true);
    let (error, mut without, attempts) = run(false);
    assert_eq!(kept_attempts.len(), 2, "{kept_attempts:?}");
    assert_eq!(attempts, kept_attempts);
    assert_eq!(error, kept_error);
    assert!(
        error.contains("[::1]:80") && error.contains("127.0.0.1:80"),
        "{error}"
    );
    assert!(!kept.events.is_empty());
    assert!(without.events.is_empty());
    assert!(
        without.queries.iter().all(|q| q.answer.is_some()),
        "{:?}",
        without.queries
    );
    without.events = kept.events.clone();
    assert_eq!(without, kept);
}
