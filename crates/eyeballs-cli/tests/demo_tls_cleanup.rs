//! `eyeballs demo --tls` in-process, with a short TLS timeout: secure racing leaves the
//! TLS-dead IPv6 path after the Connection Attempt Delay and wins over IPv4; TCP-only racing
//! takes the IPv6 connection and its TLS handshake gets no answer; once the lab is dropped
//! no socket, file descriptor or thread is left behind. (Its own test binary, so that no
//! other test opens files or threads meanwhile.)

use std::time::Duration;

use eyeballs::Family;
use eyeballs_chart::timeline::{Ending, RaceEnd};
use eyeballs_cli::demo::tls;
use eyeballs_lab::precondition::require;
use eyeballs_lab::{thread_count, wait_until};

#[test]
fn the_tls_demo_wins_over_ipv4_with_secure_racing_and_leaves_nothing_behind() {
    const TEST: &str = "the_tls_demo_wins_over_ipv4_with_secure_racing_and_leaves_nothing_behind";
    let Some(fds_before) = require(TEST, eyeballs_lab::count_fds()) else {
        return;
    };
    let threads_before = thread_count().expect("/proc/self/task lists this process's threads");
    if let Err(why) = tls::check() {
        assert!(tls::no_lab_help(&why).contains("IPv6 loopback"));
    }
    let Some(()) = require(TEST, tls::check()) else {
        return;
    };
    let lab = tls::Lab::new().unwrap();
    let timeout = Duration::from_millis(300);
    let d = tls::run(&lab, timeout).unwrap();

    // Secure racing: IPv6 first, its TCP connected, its TLS never done: cancelled when
    // IPv4, started one Connection Attempt Delay later, won with TLS 1.3 and h2.
    let s = &d.secure;
    assert_eq!(s.winner().map(|w| w.addr), Some(d.v4), "{s:?}");
    assert_eq!(s.attempts[0].addr, d.v6);
    assert!(s.attempts[0].transport.is_some(), "{s:?}");
    assert_eq!(
        s.attempts[0].ending,
        Ending::Cancelled("lost the race".into())
    );
    assert!(
        s.attempts[1].start - s.attempts[0].start >= Duration::from_millis(250),
        "{s:?}"
    );
    assert!(s.attempts[1].transport.is_some(), "{s:?}");
    let secure = d
        .connected
        .as_ref()
        .and_then(|c| c.secure.as_ref())
        .unwrap();
    assert_eq!(secure.alpn.as_deref(), Some("h2"));
    assert_eq!(secure.server_name, tls::SERVER_NAME);
    assert_eq!(secure.version.as_deref(), Some("TLS 1.3"));

    // TCP-only racing: IPv6's TCP won at once, and TLS on it never answered; no winner.
    let t = &d.tcp_only;
    assert_eq!(t.attempts.len(), 1, "{t:?}");
    assert_eq!(t.attempts[0].addr, d.v6);
    assert!(t.attempts[0].transport.is_some(), "{t:?}");
    assert_eq!(
        t.attempts[0].ending,
        Ending::Failed("TLS never answered".into())
    );
    assert!(t.attempts[0].end.unwrap() >= timeout, "{t:?}");
    assert!(
        matches!(&t.end, Some((_, RaceEnd::Failed(why))) if why == "no TLS answer within 300ms"),
        "{t:?}"
    );
    assert!(t.winner().is_none());

    let report = tls::report(&d);
    assert!(
        report.contains("Secure racing connected over IPv4 in "),
        "{report}"
    );
    let family =
        |t: &eyeballs_chart::timeline::Timeline| t.winner().map(|w| Family::of(&w.addr.ip()));
    assert_eq!(family(&d.secure), Some(Family::V4));
    // Two IPv6 connections (one per race), both closed; one IPv4 connection.
    let v6 = lab.pair().v6();
    assert_eq!(
        v6.wait_until_accepted(2, Duration::from_secs(10)).unwrap(),
        2
    );
    assert!(
        v6.wait_until_open(0, Duration::from_secs(10)),
        "an IPv6 socket was left open"
    );
    assert!(
        wait_until(Duration::from_secs(5), || lab.pair().v4().accepted() == 1),
        "accepted {}",
        lab.pair().v4().accepted()
    );

    drop(lab);
    let fds_after = eyeballs_lab::wait_for_fds(fds_before, Duration::from_secs(2));
    assert_eq!(fds_after, Some(fds_before), "file descriptors left open");
    assert!(
        wait_until(Duration::from_secs(5), || thread_count()
            == Some(threads_before)),
        "threads: {threads_before} before, {:?} after",
        thread_count()
    );
}
