//! IPv6 zones end to end with real sockets: a target written with a zone
//! (`[fe80::1%lo]:P`) reaches the socket's connect with its scope id. Without it a
//! link-local connect fails with `EINVAL` on Linux.

#![cfg(target_os = "linux")]

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use eyeballs_driver::socket::start_attempt;
use eyeballs_driver::{IntoTarget, Request, Session, Settings};

/// The loopback interface's index: Linux registers `lo` first in every network namespace.
const LO: u32 = 1;

/// Starts the race's first attempt on a real socket with a hook that records the peer it
/// is given; returns that peer and how the connect started.
fn first_attempt_peer(target: &str) -> (SocketAddr, io::Result<()>) {
    let seen = Arc::new(Mutex::new(None));
    let mut settings = Settings::default();
    let record = seen.clone();
    settings.socket.hook = Some(Arc::new(move |_: &socket2::Socket, peer| {
        *record.lock().unwrap() = Some(peer);
        Ok(())
    }));
    let mut race: Session<(), (), ()> =
        Session::start(&settings, target.into_target().unwrap(), Instant::now()).unwrap();
    let Some(Request::Attempt(attempt)) = race.poll_request() else {
        panic!("no connect request for {target}")
    };
    let started = start_attempt(&attempt, &settings.socket).map(drop);
    let peer = seen.lock().unwrap().expect("the socket hook ran");
    (peer, started)
}

#[test]
fn the_zone_reaches_the_socket() {
    // A link-local address on lo: the connect is started with scope id 1. Whether it then
    // fails (lo has no link-local address) does not matter; without the scope it fails
    // at once with EINVAL.
    let (peer, started) = first_attempt_peer("[fe80::1%lo]:9");
    assert!(
        matches!(peer, SocketAddr::V6(a) if a.scope_id() == LO),
        "{peer}"
    );
    if let Err(e) = started {
        assert_ne!(e.raw_os_error(), Some(libc::EINVAL), "{e}");
    }
    let (peer, _) = first_attempt_peer("[fe80::1%3]:9");
    assert!(
        matches!(peer, SocketAddr::V6(a) if a.scope_id() == 3),
        "{peer}"
    );
}
