//! The suite's check that a race to one address, which an adapter may make in one call
//! (mio: one blocking `connect(2)`, no poll), is the same race as the general one: the
//! same report, events, observer calls, hook calls, socket options, history, filter
//! refusals and errors.

use super::*;

/// The items `list` holds, taken out.
fn take<T>(list: &Mutex<Vec<T>>) -> Vec<T> {
    std::mem::take(&mut *list.lock().unwrap_or_else(|e| e.into_inner()))
}

/// What a race to one address showed, its times left out: what the suite compares between
/// the same race made two ways.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    /// The peer and the socket options of the connection, or the error's kind and text.
    result: Result<(SocketAddr, SocketOptions), (io::ErrorKind, String)>,
    /// The report: its target, result and winner; each attempt (id, endpoint, protocol,
    /// result); each event.
    report: (String, Option<RaceResult>, Option<AttemptId>),
    attempts: Vec<(AttemptId, SocketAddr, String, AttemptResult)>,
    events: Vec<String>,
    /// The events as the observer saw them.
    observed: Vec<String>,
    /// The hook's calls: the peer, and whether the options were set before it ran.
    hooked: Vec<(SocketAddr, bool)>,
    /// What the history learned: per address, an RTT, a success, failures, a broken mark.
    learned: Vec<(IpAddr, bool, bool, u32, bool)>,
}

/// One race to `addr` with `settings` plus `TCP_NODELAY`, a hook (that refuses the socket
/// when `hook_refuses`), an observer and a fresh history, as [`Seen`].
fn seen_race<A: Adapter>(a: &A, settings: &Settings, addr: SocketAddr, hook_refuses: bool) -> Seen {
    let hooked = Arc::new(Mutex::new(Vec::new()));
    let observed = Arc::new(Mutex::new(Vec::new()));
    let (hooked2, observed2) = (hooked.clone(), observed.clone());
    let history = SharedHistory::new(HistoryConfig::default(), NetworkId(1));
    let settings = settings
        .clone()
        .tcp_nodelay(true)
        .socket_hook(move |socket, peer| {
            let nodelay = socket.tcp_nodelay()?;
            hooked2
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((peer, nodelay));
            match hook_refuses {
                true => Err(io::Error::other("the hook refused the socket")),
                false => Ok(()),
            }
        })
        .observer(move |e| {
            observed2
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(format!("{:?}", e.event))
        })
        .history(history.clone());
    let (result, report) = a.race(&settings, Target::addresses([addr]));
    Seen {
        result: result
            .map(|c| (c.peer, c.options))
            .map_err(|e| (e.kind(), e.to_string())),
        report: (report.target.clone(), report.result, report.winner),
        attempts: report
            .attempts
            .iter()
            .map(|t| {
                (
                    t.id,
                    t.addr,
                    t.protocol.as_str().to_string(),
                    t.result.clone(),
                )
            })
            .collect(),
        events: report
            .events
            .iter()
            .map(|e| format!("{:?}", e.event))
            .collect(),
        observed: take(&observed),
        hooked: take(&hooked),
        learned: history
            .export()
            .iter()
            .map(|r| {
                let (rtt, success, broken) = (
                    r.rtt.is_some(),
                    r.success_age.is_some(),
                    r.broken_age.is_some(),
                );
                (r.addr, rtt, success, r.failures, broken)
            })
            .collect(),
    }
}

/// A race to one address with no timer to wait for (no timeout, no deadline, nothing to
/// stagger) may be made without a readiness wait (the mio connector makes one blocking
/// connect): it is the same race as one with a timer that never fires (a one-hour total
/// timeout), which waits as every race does: the same report and events, hook calls, socket
/// options, history, destination filter (every spelling of a loopback address refused by
/// `global_only`, a mapped address connecting as the IPv4 address it is) and errors. With
/// a timer that does fire, a race to one hanging address ends when it says.
pub fn one_address_without_a_timer_is_the_same_race<A: Adapter>(a: &A) {
    let _x = exclusive();
    let working = listener(V4_LOOPBACK);
    let refusing = closed(V4_LOOPBACK);
    let port = working.addr().port();
    let mapped = SocketAddr::new("::ffff:127.0.0.1".parse().unwrap_or(V4_LOOPBACK), port);
    let nat64 = SocketAddr::new("64:ff9b::7f00:1".parse().unwrap_or(V4_LOOPBACK), port);
    let global = Settings::default().global_only();
    let cases = [
        ("connects", Settings::default(), working.addr(), false),
        ("refused", Settings::default(), refusing.addr(), false),
        (
            "the hook refuses",
            Settings::default(),
            working.addr(),
            true,
        ),
        ("an IPv4-mapped address", Settings::default(), mapped, false),
        (
            "global only, loopback",
            global.clone(),
            working.addr(),
            false,
        ),
        ("global only, IPv4-mapped", global.clone(), mapped, false),
        ("global only, NAT64", global, nat64, false),
    ];
    for (case, settings, addr, hook_refuses) in cases {
        let direct = seen_race(a, &settings, addr, hook_refuses);
        let timed = settings.clone().total_timeout(Duration::from_secs(3600));
        let waiting = seen_race(a, &timed, addr, hook_refuses);
        assert_eq!(direct, waiting, "{}: {case}", a.name());
        // And what each case is, so that two equal wrong races do not pass.
        let what = format!("{}: {case}: {direct:?}", a.name());
        match case {
            "connects" | "an IPv4-mapped address" => {
                let Ok((peer, options)) = &direct.result else {
                    panic!("{what}")
                };
                assert_eq!(*peer, working.addr(), "{what}");
                assert!(options.nodelay, "{what}");
                assert_eq!(direct.hooked, [(working.addr(), true)], "{what}");
                assert_eq!(direct.attempts[0].1, working.addr(), "{what}");
                assert_eq!(
                    direct.learned,
                    [(V4_LOOPBACK, true, true, 0, false)],
                    "{what}"
                );
                assert_eq!(direct.observed, direct.events, "{what}");
                assert_eq!(
                    direct.events.len(),
                    2,
                    "an attempt and its connection: {what}"
                );
            }
            "refused" | "the hook refuses" => {
                let Err((kind, text)) = &direct.result else {
                    panic!("{what}")
                };
                let expected = match hook_refuses {
                    true => "the hook refused the socket",
                    false => "refused",
                };
                assert!(text.contains(expected), "{what}");
                assert_eq!(direct.hooked.len(), 1, "{what}");
                assert_eq!(direct.learned[0].3, 1, "one failure learned: {what}");
                if !hook_refuses {
                    assert_eq!(*kind, io::ErrorKind::ConnectionRefused, "{what}");
                }
            }
            _ => {
                let Err((kind, _)) = &direct.result else {
                    panic!("{what}")
                };
                assert_eq!(*kind, io::ErrorKind::PermissionDenied, "{what}");
                assert!(
                    direct.attempts.is_empty() && direct.hooked.is_empty(),
                    "{what}"
                );
            }
        }
    }

    // Timers that fire: an attempt timeout, a total timeout, a deadline, on one address
    // whose connect hangs.
    let Some(hole) = require(
        "one_address_without_a_timer_is_the_same_race",
        Blackhole::new(SocketAddr::new(
            "127.0.0.2".parse().unwrap_or(V4_LOOPBACK),
            0,
        )),
    ) else {
        return;
    };
    let short = Duration::from_millis(200);
    for case in ["an attempt timeout", "a total timeout", "a deadline"] {
        // Made just before the race: the deadline counts from now.
        let settings = match case {
            "an attempt timeout" => Settings::default().attempt_timeout(short),
            "a total timeout" => Settings::default().total_timeout(short),
            _ => Settings::default().deadline(Instant::now() + short),
        };
        let start = Instant::now();
        let (result, report) = a.race(&settings, Target::addresses([hole.addr()]));
        let elapsed = start.elapsed();
        let e = result
            .err()
            .unwrap_or_else(|| panic!("{}: {case}: connected to a blackhole", a.name()));
        assert_eq!(
            e.kind(),
            io::ErrorKind::TimedOut,
            "{}: {case}: {e}",
            a.name()
        );
        assert!(elapsed < GENEROUS, "{}: {case}: took {elapsed:?}", a.name());
        assert_eq!(report.attempts.len(), 1, "{report}");
        if case == "a deadline" {
            assert_eq!(e.reason(), &Reason::DeadlinePassed, "{e}");
        }
    }
}
