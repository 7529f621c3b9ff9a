//! The demo in-process, with a short sequential timeout: every race really connects on the
//! lab, and once the lab is dropped no socket, file descriptor or thread is left behind.
//! (Its own test binary, so that no other test opens files or threads meanwhile.)

use std::time::Duration;

use eyeballs::Family;
use eyeballs_chart::timeline::Ending;
use eyeballs_cli::demo;
use eyeballs_lab::precondition::require;
use eyeballs_lab::{thread_count, wait_until};

#[test]
fn the_demo_connects_three_times_and_leaves_nothing_behind() {
    const TEST: &str = "the_demo_connects_three_times_and_leaves_nothing_behind";
    let Some(fds_before) = require(TEST, eyeballs_lab::count_fds()) else {
        return;
    };
    let threads_before = thread_count().expect("/proc/self/task lists this process's threads");
    let lab = demo::build_lab();
    if let Err(why) = &lab {
        assert!(demo::no_lab_help(why).contains("IPv6 loopback"));
    }
    let Some(lab) = require(TEST, lab) else {
        return;
    };
    let d = demo::run(&lab, Duration::from_millis(300)).unwrap();

    let family =
        |t: &eyeballs_chart::timeline::Timeline| t.winner().map(|w| Family::of(&w.addr.ip()));
    // eyeballs: IPv6 first, cancelled when IPv4 won.
    assert_eq!(family(&d.eyeballs), Some(Family::V4));
    assert_eq!(d.eyeballs.attempts[0].addr, d.v6);
    assert_eq!(
        d.eyeballs.attempts[0].ending,
        Ending::Cancelled("lost the race".into())
    );
    // sequential: IPv6 timed out, then IPv4 connected.
    assert_eq!(family(&d.sequential), Some(Family::V4));
    assert_eq!(d.sequential.attempts[0].addr, d.v6);
    assert!(
        matches!(&d.sequential.attempts[0].ending, Ending::Failed(why) if why.contains("timed out")),
        "{:?}",
        d.sequential.attempts[0]
    );
    assert!(d.sequential.attempts[0].end.unwrap() >= Duration::from_millis(300));
    // eyeballs again: IPv4 first, thanks to the history.
    assert_eq!(d.again.attempts[0].addr, d.v4);
    assert_eq!(family(&d.again), Some(Family::V4));
    // Each of the three connections reached the IPv4 listener.
    assert!(
        wait_until(Duration::from_secs(5), || lab.v4_listener().accepted() == 3),
        "accepted {}",
        lab.v4_listener().accepted()
    );
    let report = demo::report(&d);
    assert!(report.contains("so IPv4 went first"), "{report}");

    drop(lab);
    let fds_after = eyeballs_lab::wait_for_fds(fds_before, Duration::from_secs(2));
    assert_eq!(fds_after, Some(fds_before), "file descriptors left open");
    assert!(
        wait_until(Duration::from_secs(2), || thread_count()
            == Some(threads_before)),
        "threads: {threads_before} before, {:?} after",
        thread_count()
    );
}
