//! Go's `TestDialSerialAsyncSpuriousConnection` case with real sockets: a connection that
//! completes after its attempt was cancelled is closed (the peer sees end of file), and the
//! winner is kept.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use eyeballs::Target;
use eyeballs_driver::{Request, Session, Settings};

#[test]
fn a_late_connection_of_a_cancelled_attempt_is_closed() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = listener.local_addr().unwrap();
    let t0 = Instant::now();
    // Two engine attempts; their sockets are stood in for by real streams below.
    let mut session: Session<(), (), TcpStream> = Session::start(
        &Settings::default(),
        Target::addresses([
            "127.0.0.1:1".parse().unwrap(),
            "127.0.0.1:2".parse().unwrap(),
        ]),
        t0,
    )
    .unwrap();
    let Some(Request::Attempt(first)) = session.poll_request() else {
        panic!()
    };
    session.add_attempt(first.id, ());
    session.handle_timeout(t0 + Duration::from_millis(250));
    let Some(Request::Attempt(second)) = session.poll_request() else {
        panic!()
    };
    session.add_attempt(second.id, ());

    let winner = TcpStream::connect(server).unwrap();
    let (_winner_peer, _) = listener.accept().unwrap();
    session.handle_connected(t0 + Duration::from_millis(260), second.id, winner);
    assert!(session.is_finished());

    // The first attempt's connect completes now, after it lost: the session closes it.
    let late = TcpStream::connect(server).unwrap();
    let (mut late_peer, _) = listener.accept().unwrap();
    session.handle_connected(t0 + Duration::from_millis(270), first.id, late);
    late_peer
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 1];
    assert_eq!(
        late_peer.read(&mut buf).unwrap(),
        0,
        "the late connection was not closed"
    );

    let (result, report) = session.finish();
    let stream = result.unwrap();
    assert_eq!(stream.peer_addr().unwrap(), server);
    assert!(report.attempts[0].late_connection_closed);
    assert!(!report.attempts[1].late_connection_closed);
}

#[cfg(feature = "serde")]
#[test]
fn a_report_serialises_with_the_simulator_vocabulary() {
    let t0 = Instant::now();
    let mut session: Session<(), (), ()> = Session::start(
        &Settings::default(),
        Target::addresses(["[::1]:1".parse().unwrap(), "127.0.0.1:1".parse().unwrap()]),
        t0,
    )
    .unwrap();
    let Some(Request::Attempt(first)) = session.poll_request() else {
        panic!()
    };
    session.handle_failed(
        t0 + Duration::from_millis(3),
        first.id,
        std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
    );
    let Some(Request::Attempt(second)) = session.poll_request() else {
        panic!()
    };
    session.handle_connected(t0 + Duration::from_millis(5), second.id, ());
    let (_, report) = session.finish();
    let json = serde_json::to_value(&report).unwrap();
    let events: Vec<&str> = json["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["attempt", "failed", "attempt", "connected"]);
    assert_eq!(json["events"][1]["t_ms"], 3);
    assert_eq!(json["events"][1]["error"], "refused");
    assert_eq!(json["events"][2]["addr"], "127.0.0.1");
    assert_eq!(json["outcome"]["result"], "connected");
    assert_eq!(json["outcome"]["id"], 1);
    assert_eq!(json["outcome"]["t_ms"], 5);
}
