//! `eyeballs demo`: Happy Eyeballs against a plain sequential connect, on a host whose IPv6
//! is broken, built on loopback so that it runs on any machine without a network.
//!
//! The lab ([`eyeballs_lab::BrokenIpv6`]): `[::1]:P` is a listener whose accept queue is
//! full, so SYNs to it are dropped and a connect hangs, as over a blackholed IPv6 route;
//! `127.0.0.1:P` accepts. A name for such a host resolves to both, IPv6 first; with no DNS
//! offline, both methods get the two addresses pre-resolved, in that order.
//!
//! Three races, drawn on one time axis:
//! 1. eyeballs (`eyeballs_tokio`, RFC 8305 defaults): IPv6 first, IPv4 a Connection Attempt
//!    Delay (250 ms) later, which connects; the hanging IPv6 attempt is cancelled.
//! 2. sequential: what `TcpStream::connect` does, each address in turn, each bounded by a
//!    connect timeout ([`SEQUENTIAL_TIMEOUT`], so the demo ends; the OS alone would wait
//!    about two minutes on Linux).
//! 3. eyeballs again, with the connection history of race 1: the IPv6 path is marked
//!    broken, so IPv4 goes first and connects at once.
//!
//! `eyeballs demo --tls` is the secure-racing variant ([`tls`]): a TLS-dead IPv6 path,
//! secure racing against TCP-only racing.
//!
//! ```no_run
//! let lab = eyeballs_cli::demo::build_lab().expect("an IPv6 loopback");
//! let demo = eyeballs_cli::demo::run(&lab, eyeballs_cli::demo::SEQUENTIAL_TIMEOUT).unwrap();
//! print!("{}", eyeballs_cli::demo::report(&demo));
//! ```

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use eyeballs::{AttemptId, Family, Protocol, Target};
use eyeballs_chart::timeline::{Ending, RaceEnd, Timeline};
use eyeballs_chart::{ms, readable, svg, text};
use eyeballs_driver::{HistoryConfig, NetworkId, Settings, SharedHistory};
use eyeballs_lab::{BrokenIpv6, Unavailable};

use crate::connect;

pub mod tls;

/// The connect timeout of each address in the sequential connect: long enough to show what
/// a hanging address costs, short enough for the demo to end in a few seconds.
pub const SEQUENTIAL_TIMEOUT: Duration = Duration::from_secs(3);

/// The eyeballs races give up after this long (they take 250 ms on the lab; this only
/// bounds a machine where something else goes wrong).
pub(crate) const EYEBALLS_TIMEOUT: Duration = Duration::from_secs(5);

/// The title of the demo's picture.
pub const HEADING: &str = "eyeballs demo: Happy Eyeballs vs. a sequential connect, IPv6 broken";

/// The three races of the demo, on the lab's two addresses.
#[derive(Clone, Debug)]
pub struct Demo {
    /// The hanging `[::1]:P`.
    pub v6: SocketAddr,
    /// The accepting `127.0.0.1:P`.
    pub v4: SocketAddr,
    /// The eyeballs race.
    pub eyeballs: Timeline,
    /// The sequential connect.
    pub sequential: Timeline,
    /// The eyeballs race again, with the history of the first one.
    pub again: Timeline,
}

/// Builds the broken-IPv6 lab (checking that a connect to `[::1]:P` really hangs).
///
/// A machine without an IPv6 loopback cannot have it; the error says why, and
/// [`no_lab_help`] what to do.
pub fn build_lab() -> Result<BrokenIpv6, Unavailable> {
    BrokenIpv6::new()
}

/// What to tell the user when the lab cannot be built.
pub fn no_lab_help(why: &Unavailable) -> String {
    format!(
        "the demo cannot build its lab: {why}.\n\
         The demo races a hanging IPv6 listener on [::1] against a working IPv4 one on \
         127.0.0.1, so it needs an IPv6 loopback. Enable IPv6 on the loopback interface \
         (Linux: sysctl -w net.ipv6.conf.lo.disable_ipv6=0; in a container, start it with \
         IPv6 enabled), or watch the same race in virtual time:\n  \
         eyeballs simulate crates/eyeballs-sim/scenarios/spec/v6-blackholed.json"
    )
}

/// The lab, as the demo first describes it.
pub fn intro(lab: &BrokenIpv6, sequential_timeout: Duration) -> String {
    let (v6, v4) = (lab.v6_addr().to_string(), lab.v4_addr().to_string());
    let w = v6.len().max(v4.len());
    format!(
        "eyeballs demo: Happy Eyeballs against a plain sequential connect, on a host whose \
         IPv6 is broken\n\n\
         The lab, on loopback (gone when the demo ends):\n  \
         {v6:w$}  a listener whose accept queue is full: SYNs are dropped, connects hang\n  \
         {v4:w$}  a listener that accepts\n\
         A name for this host would resolve to both, IPv6 first. There is no DNS offline, so \
         both\nmethods get the two addresses pre-resolved, in that order.\n\n\
         racing (the sequential connect waits {} for IPv6)...\n",
        ms(sequential_timeout)
    )
}

/// Runs the three races on `lab`; the sequential connect gives each address
/// `sequential_timeout`. The outer error is a runtime that cannot start.
pub fn run(lab: &BrokenIpv6, sequential_timeout: Duration) -> io::Result<Demo> {
    let addrs = lab.addrs();
    let history = SharedHistory::new(HistoryConfig::default(), NetworkId::default());
    let mut settings = Settings::default();
    settings.config.total_timeout = Some(EYEBALLS_TIMEOUT);
    settings.history = Some(history);
    let eyeballs_race = |title: &str| -> io::Result<Timeline> {
        let (_, report) = connect::race(Target::addresses(addrs), settings.clone())?;
        let mut timeline = Timeline::from(&report);
        timeline.title = title.to_string();
        Ok(timeline)
    };
    let eyeballs = eyeballs_race(&format!(
        "eyeballs: Happy Eyeballs (RFC 8305), {} Connection Attempt Delay",
        ms(settings.config.connection_attempt_delay)
    ))?;
    let again = eyeballs_race("eyeballs again, with the history of its first race")?;
    let sequential = sequential_connect(
        &addrs,
        sequential_timeout,
        &format!(
            "sequential: each address in turn, as TcpStream::connect does ({} connect timeout)",
            ms(sequential_timeout)
        ),
    );
    Ok(Demo {
        v6: lab.v6_addr(),
        v4: lab.v4_addr(),
        eyeballs,
        sequential,
        again,
    })
}

/// Connects to each address in turn, as `std::net::TcpStream::connect` does with the
/// addresses a name resolves to, but with a connect timeout per address; the connection is
/// closed at once. Returns the timeline.
pub fn sequential_connect(addrs: &[SocketAddr], timeout: Duration, title: &str) -> Timeline {
    let mut t = Timeline::new(title);
    let start = Instant::now();
    let now = || readable(start.elapsed());
    for (i, addr) in addrs.iter().enumerate() {
        let id = AttemptId(u32::try_from(i).unwrap_or(u32::MAX));
        t.attempt(now(), id, *addr, Protocol::Tcp);
        match TcpStream::connect_timeout(addr, timeout) {
            Ok(stream) => {
                let at = now();
                drop(stream);
                t.connected(at, id);
                t.finish(at, RaceEnd::Connected(id));
                return t;
            }
            Err(e) => t.failed(now(), id, &e.to_string()),
        }
    }
    let at = now();
    t.finish(at, RaceEnd::Failed("every address failed".to_string()));
    t
}

/// The family of an address, in words.
pub(crate) fn family(addr: &SocketAddr) -> Family {
    Family::of(&addr.ip())
}

/// How a race went, in one line: `connected over IPv4 in 251ms (the IPv6 attempt was
/// cancelled after 251ms: lost the race)`.
pub fn verdict(t: &Timeline) -> String {
    verdict_with(t, "")
}

/// [`verdict`], with `how` (`, TLS 1.3, ALPN h2`) after the time of a race that connected.
pub(crate) fn verdict_with(t: &Timeline, how: &str) -> String {
    let mut line = match (t.winner(), &t.end) {
        (Some(w), _) => format!(
            "connected over {} in {}{how}",
            family(&w.addr),
            ms(t.total())
        ),
        _ => t.summary(),
    };
    let others: Vec<String> = t
        .attempts
        .iter()
        .filter(|r| t.winner().map(|w| w.id) != Some(r.id))
        .map(|r| {
            // A difference of two rounded times is rounded again (3002ms - 0.001ms).
            let since_start = |at: Duration| ms(readable(at.saturating_sub(r.start)));
            let took = since_start(r.end.unwrap_or(t.total()));
            let what = match &r.ending {
                Ending::Failed(why) => format!("failed after {took}: {why}"),
                Ending::Cancelled(why) => format!("was cancelled after {took}: {why}"),
                Ending::Running => "was still running".to_string(),
                Ending::Connected => "connected too".to_string(),
            };
            // An attempt with a secure handshake: when its transport connected, first.
            let transport = r.transport.map_or(String::new(), |at| {
                let layer = r.protocol.to_string().to_uppercase();
                format!("connected {layer} after {} and ", since_start(at))
            });
            format!("the {} attempt {transport}{what}", family(&r.addr))
        })
        .collect();
    if !others.is_empty() {
        line.push_str(&format!(" ({})", others.join("; ")));
    }
    line
}

/// The demo's text: the three races on one time axis, then a line per race and the
/// difference.
pub fn report(demo: &Demo) -> String {
    let races = [&demo.eyeballs, &demo.sequential, &demo.again];
    let mut out = text::render_stack(&races, text::DEFAULT_WIDTH);
    out.push('\n');
    let names = ["eyeballs:", "sequential:", "eyeballs again:"];
    let w = names.iter().map(|n| n.len()).max().unwrap_or(0);
    for (name, race) in names.iter().zip(races) {
        out.push_str(&format!("{name:w$} {}\n", verdict(race)));
    }
    let first = |t: &Timeline| t.attempts.first().map(|a| family(&a.addr));
    if first(&demo.eyeballs) == Some(Family::V6) && first(&demo.again) == Some(Family::V4) {
        out.push_str(&format!(
            "{:w$} the history of the first race marked the IPv6 path broken, so IPv4 went \
             first\n",
            ""
        ));
    }
    if let (Some(_), Some(_)) = (demo.eyeballs.winner(), demo.sequential.winner()) {
        let (fast, slow) = (demo.eyeballs.total(), demo.sequential.total());
        if slow > fast {
            out.push_str(&format!(
                "\nHappy Eyeballs connected {} sooner than the sequential connect.\n",
                ms(slow - fast)
            ));
        }
    }
    out
}

/// The demo's picture: the three races on one time axis.
pub fn picture(demo: &Demo) -> String {
    svg::render_stack(
        Some(HEADING),
        &[&demo.eyeballs, &demo.sequential, &demo.again],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn verdicts_say_how_each_attempt_ended() {
        let ms = Duration::from_millis;
        let mut t = Timeline::new("eyeballs");
        t.attempt(ms(0), AttemptId(0), addr("[::1]:80"), Protocol::Tcp);
        t.attempt(ms(250), AttemptId(1), addr("127.0.0.1:80"), Protocol::Tcp);
        t.connected(ms(251), AttemptId(1));
        t.cancelled(ms(251), AttemptId(0), "lost the race");
        t.finish(ms(251), RaceEnd::Connected(AttemptId(1)));
        assert_eq!(
            verdict(&t),
            "connected over IPv4 in 251ms (the IPv6 attempt was cancelled after 251ms: lost the race)"
        );

        let mut t = Timeline::new("sequential");
        t.attempt(ms(0), AttemptId(0), addr("[::1]:80"), Protocol::Tcp);
        t.attempts[0].start = Duration::from_micros(1);
        t.failed(ms(3000), AttemptId(0), "connection timed out");
        t.attempt(ms(3000), AttemptId(1), addr("127.0.0.1:80"), Protocol::Tcp);
        t.failed(ms(3001), AttemptId(1), "Connection refused");
        t.finish(ms(3001), RaceEnd::Failed("every address failed".into()));
        assert_eq!(
            verdict(&t),
            "failed after 3001ms: every address failed (the IPv6 attempt failed after 3000ms: \
             connection timed out; the IPv4 attempt failed after 1ms: Connection refused)"
        );

        // A secure race: a loser whose transport connected says when, first.
        let mut t = Timeline::new("secure");
        t.attempt(ms(10), AttemptId(0), addr("[::1]:443"), Protocol::Tcp);
        t.transport(ms(11), AttemptId(0));
        t.attempt(ms(260), AttemptId(1), addr("127.0.0.1:443"), Protocol::Tcp);
        t.transport(ms(261), AttemptId(1));
        t.connected(ms(263), AttemptId(1));
        t.cancelled(ms(263), AttemptId(0), "lost the race");
        t.finish(ms(263), RaceEnd::Connected(AttemptId(1)));
        assert_eq!(
            verdict_with(&t, ", TLS 1.3"),
            "connected over IPv4 in 263ms, TLS 1.3 (the IPv6 attempt connected TCP after 1ms \
             and was cancelled after 253ms: lost the race)"
        );
    }

    #[test]
    fn the_sequential_connect_tries_each_address_in_turn() {
        let refusing = eyeballs_lab::ClosedPort::new(eyeballs_lab::V4_LOOPBACK).unwrap();
        let listening =
            eyeballs_lab::Listener::bind(SocketAddr::new(eyeballs_lab::V4_LOOPBACK, 0)).unwrap();
        let t = sequential_connect(
            &[refusing.addr(), listening.addr()],
            Duration::from_secs(5),
            "two",
        );
        assert_eq!(t.attempts.len(), 2);
        assert!(
            matches!(&t.attempts[0].ending, Ending::Failed(why) if why.contains("refused")),
            "{:?}",
            t.attempts[0]
        );
        assert_eq!(t.winner().map(|w| w.addr), Some(listening.addr()));
        // The second attempt starts when the first has failed.
        assert!(t.attempts[1].start >= t.attempts[0].end.unwrap());

        let t = sequential_connect(&[refusing.addr()], Duration::from_secs(5), "one");
        assert!(t.winner().is_none());
        assert!(
            t.summary().contains("every address failed"),
            "{}",
            t.summary()
        );
    }
}
