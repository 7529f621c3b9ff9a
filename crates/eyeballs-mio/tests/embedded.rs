//! Two races embedded in one application event loop that also serves its own listener:
//! each race handles only its tokens, and both end as they should.
//!
//! The hanging path is a blackhole on `127.0.0.2` (the lab's `Blackhole`), so these tests
//! need no IPv6 loopback and run everywhere; the broken-IPv6 pair itself is the shared
//! suite's business (`broken_ipv6_falls_back_to_ipv4` and the history test run on mio too).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use eyeballs::{AttemptId, CancelReason};
use eyeballs_driver::AttemptResult;
use eyeballs_lab::precondition::require;
use eyeballs_lab::{Blackhole, ClosedPort, Listener, V4_LOOPBACK};
use eyeballs_mio::Connector;
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};

const APP: Token = Token(0);

/// A second loopback address, so that a blackhole's path and a working one are told apart
/// (the history is kept per IP address).
const OTHER_LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// A connect to it hangs: `127.0.0.2:H`.
fn hole(test: &str) -> Option<Blackhole> {
    require(test, Blackhole::new(SocketAddr::new(OTHER_LOOPBACK, 0)))
}

#[test]
fn two_races_and_the_application_share_one_poll() {
    let Some(hole) = hole("two_races_and_the_application_share_one_poll") else {
        return;
    };
    let refusing = ClosedPort::new(V4_LOOPBACK).unwrap();
    let mut poll = Poll::new().unwrap();
    let mut app = TcpListener::bind(SocketAddr::new(V4_LOOPBACK, 0)).unwrap();
    poll.registry()
        .register(&mut app, APP, Interest::READABLE)
        .unwrap();
    let app_addr = app.local_addr().unwrap();

    let connector = Connector::new();
    // Race 1: a hanging address, then the application's listener (after the Connection
    // Attempt Delay).
    let mut race1 = connector
        .embed(poll.registry(), 10..20, [hole.addr(), app_addr])
        .unwrap();
    // Race 2: a refusing port, then the application's listener.
    let mut race2 = connector
        .embed(poll.registry(), 20..30, [refusing.addr(), app_addr])
        .unwrap();

    let mut events = Events::with_capacity(64);
    let mut app_accepted = 0;
    let give_up = Instant::now() + Duration::from_secs(5);
    while !(race1.is_finished() && race2.is_finished()) && Instant::now() < give_up {
        let timeout = [race1.timeout(), race2.timeout()]
            .into_iter()
            .flatten()
            .min();
        poll.poll(&mut events, timeout).unwrap();
        for event in events.iter() {
            if race1.handle_event(event) || race2.handle_event(event) {
                continue;
            }
            assert_eq!(event.token(), APP);
            while let Ok((conn, _)) = app.accept() {
                drop(conn);
                app_accepted += 1;
            }
        }
        race1.handle_timeout();
        race2.handle_timeout();
    }
    let (r1, report1) = race1.finish();
    let (r2, report2) = race2.finish();
    let s1 = r1.unwrap_or_else(|e| panic!("{e}\n{report1}"));
    let s2 = r2.unwrap_or_else(|e| panic!("{e}\n{report2}"));
    assert_eq!(s1.peer_addr().unwrap(), app_addr, "{report1}");
    assert_eq!(report1.attempts[0].addr, hole.addr(), "{report1}");
    assert_eq!(
        report1.attempts[0].result,
        AttemptResult::Cancelled {
            reason: CancelReason::LostRace
        },
        "{report1}"
    );
    assert_eq!(report1.winner, Some(AttemptId(1)), "{report1}");
    assert_eq!(s2.peer_addr().unwrap(), app_addr);
    assert_eq!(report2.winner, Some(AttemptId(1)), "{report2}");
    // Blocking mode is restored on the handed-over stream.
    s2.set_read_timeout(Some(Duration::from_millis(1))).unwrap();
    // The application saw its own events on the same poll: both races' connections.
    let deadline = Instant::now() + Duration::from_secs(5);
    while app_accepted < 2 && Instant::now() < deadline {
        poll.poll(&mut events, Some(Duration::from_millis(10)))
            .unwrap();
        while let Ok((conn, _)) = app.accept() {
            drop(conn);
            app_accepted += 1;
        }
    }
    assert!(app_accepted >= 2, "the application accepted {app_accepted}");
}

#[test]
fn a_token_range_too_small_is_refused_and_an_exhausted_one_fails_attempts() {
    let poll = Poll::new().unwrap();
    let e = Connector::new()
        .embed(poll.registry(), 5..6, "127.0.0.1:1")
        .err()
        .unwrap();
    assert!(e.to_string().contains("at least 2 tokens"), "{e}");

    // Two tokens: the waker and one attempt; the second address has no token.
    let a = ClosedPort::new(V4_LOOPBACK).unwrap();
    let b = ClosedPort::new(V4_LOOPBACK).unwrap();
    let mut poll = Poll::new().unwrap();
    let mut race = Connector::new()
        .embed(poll.registry(), 40..42, [a.addr(), b.addr()])
        .unwrap();
    let mut events = Events::with_capacity(8);
    let give_up = Instant::now() + Duration::from_secs(5);
    while !race.is_finished() && Instant::now() < give_up {
        poll.poll(&mut events, race.timeout()).unwrap();
        for event in events.iter() {
            race.handle_event(event);
        }
        race.handle_timeout();
    }
    let e = race.finish().0.unwrap_err();
    assert_eq!(e.attempt_errors().len(), 2, "{e}");
    assert!(e.to_string().contains("token range"), "{e}");
}

/// Runs one embedded race to completion on its own poll.
fn run(race: &mut eyeballs_mio::EmbeddedRace, poll: &mut Poll) {
    let mut events = Events::with_capacity(16);
    let give_up = Instant::now() + Duration::from_secs(5);
    while !race.is_finished() && Instant::now() < give_up {
        poll.poll(&mut events, race.timeout()).unwrap();
        for event in events.iter() {
            race.handle_event(event);
        }
        race.handle_timeout();
    }
}

/// The embedded race reads and feeds the connector's history: after a race in which one
/// address hung (`127.0.0.2:H`) and the other won (`127.0.0.1:P`), the next race starts
/// with the one that worked and wins without attempting the other; a race dropped
/// mid-race still teaches the failure it saw.
#[test]
fn embedded_races_share_the_connectors_history() {
    use eyeballs_mio::{HistoryConfig, NetworkId, SharedHistory};

    let history = SharedHistory::new(HistoryConfig::default(), NetworkId(1));
    let mut connector = Connector::new().history(history.clone());
    // Generous: IPv6 would follow IPv4 only after this (see the lab suite's test).
    connector.config_mut().min_connection_attempt_delay = eyeballs::MAX_CONNECTION_ATTEMPT_DELAY;
    let mut poll = Poll::new().unwrap();

    let Some(hole) = hole("embedded_races_share_the_connectors_history") else {
        return;
    };
    // Dropped mid-race after a refusal: the refused address is learned as broken.
    let refusing = ClosedPort::new(V4_LOOPBACK).unwrap();
    let mut race = connector
        .embed(poll.registry(), 10..20, [refusing.addr(), hole.addr()])
        .unwrap();
    assert!(race.shared_history().is_some());
    let mut events = Events::with_capacity(16);
    let give_up = Instant::now() + Duration::from_secs(5);
    while race.report().is_some_and(|r| r.attempts.len() < 2) && Instant::now() < give_up {
        poll.poll(&mut events, race.timeout()).unwrap();
        for event in events.iter() {
            race.handle_event(event);
        }
        race.handle_timeout();
    }
    assert!(!race.is_finished());
    drop(race);
    let refused = history.path_info(refusing.addr().ip());
    assert!(refused.broken, "{refused:?}");
    history.clear();

    let working = Listener::bind(SocketAddr::new(V4_LOOPBACK, 0)).unwrap();
    let addrs = [hole.addr(), working.addr()];
    let mut first = connector.embed(poll.registry(), 20..30, addrs).unwrap();
    run(&mut first, &mut poll);
    let (result, report) = first.finish();
    let stream = result.unwrap_or_else(|e| panic!("{e}\n{report}"));
    assert_eq!(stream.peer_addr().unwrap(), working.addr(), "{report}");
    assert_eq!(report.attempts[0].addr, hole.addr(), "{report}");
    assert!(history.path_info(hole.addr().ip()).broken, "{report}");

    let mut second = connector.embed(poll.registry(), 30..40, addrs).unwrap();
    run(&mut second, &mut poll);
    let (result, report) = second.finish();
    let stream = result.unwrap_or_else(|e| panic!("{e}\n{report}"));
    assert_eq!(stream.peer_addr().unwrap(), working.addr(), "{report}");
    assert_eq!(report.attempts.len(), 1, "{report}");
    assert_eq!(report.attempts[0].addr, working.addr(), "{report}");
}
