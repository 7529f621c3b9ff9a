//! The blocking connect to one address with nothing else to wait for (no timeout, no
//! deadline, nothing to stagger) makes one blocking connect, as
//! `std::net::TcpStream::connect` does, and no `mio::Poll`; with a timer to wait for, its
//! poll loop runs. Seen from the socket hook, which runs while the race is under way: the
//! process's epoll descriptors (Linux, `/proc/self/fd`). That the two ways make the same
//! race (report, history, hook, options, filter, errors) is the shared suite's
//! `one_address_without_a_timer_is_the_same_race`.
//!
//! One test in this file: the count is the process's, and no other test may make a poll
//! meanwhile.

#![cfg(target_os = "linux")]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eyeballs_lab::{Listener, V4_LOOPBACK};
use eyeballs_mio::Connector;
use eyeballs_mio::socket2::SockRef;

/// The epoll descriptors this process has open.
fn polls() -> usize {
    let fds = std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd (Linux)");
    fds.filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy() == "anon_inode:[eventpoll]")
        .count()
}

#[test]
fn one_address_without_a_timer_makes_no_poll() {
    let server = Listener::bind(SocketAddr::new(V4_LOOPBACK, 0)).expect("listen on loopback");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let connector = Connector::new().socket_hook(move |_, _| {
        seen2
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(polls());
        Ok(())
    });
    let before = polls();

    let stream = connector.connect(server.addr()).expect("connected");
    assert_eq!(stream.peer_addr().ok(), Some(server.addr()));
    let blocking = |s: &std::net::TcpStream| SockRef::from(s).nonblocking().ok() == Some(false);
    assert!(blocking(&stream), "the stream is in blocking mode");
    drop(stream);

    let timed = connector.total_timeout(Duration::from_secs(3600));
    let stream = timed.connect(server.addr()).expect("connected");
    assert_eq!(stream.peer_addr().ok(), Some(server.addr()));
    assert!(blocking(&stream), "the stream is in blocking mode");

    let seen = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert_eq!(seen.len(), 2, "the hook runs once per race: {seen:?}");
    assert_eq!(
        seen[0], before,
        "one address and no timer: a blocking connect, no poll ({before} epoll descriptors \
         before the race, {} while it ran)",
        seen[0]
    );
    assert!(
        seen[1] > before,
        "a race with a timer waits in a poll loop ({before} epoll descriptors before the race, \
         {} while it ran)",
        seen[1]
    );
    assert_eq!(polls(), before, "the poll loop's poll is closed");
}
