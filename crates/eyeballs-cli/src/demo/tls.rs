//! `eyeballs demo --tls`: secure racing against TCP-only racing, on a host whose IPv6 path
//! accepts TCP and never speaks TLS, built on loopback so that it runs on any machine
//! without a network.
//!
//! The lab ([`eyeballs_lab::tls::TlsDeadIpv6`]): `[::1]:P` accepts TCP connections and never
//! says a word (a TCP-terminating proxy whose upstream is gone, a middlebox that eats the
//! ClientHello); `127.0.0.1:P` serves TLS for `localhost`, with a certificate from a
//! certificate authority made for this run. Both races get the two addresses
//! pre-resolved, IPv6 first (as a name would resolve, with no DNS offline), and
//! authenticate the name `localhost`.
//!
//! Two races, drawn on one time axis:
//! 1. secure racing (`eyeballs connect --tls`, HEv3 §6.1): each attempt is TCP, then TLS,
//!    and the first TLS handshake done wins. IPv6's TCP connects at once and its TLS never
//!    answers; IPv4 starts when the Connection Attempt Delay (250 ms) runs out, and its TLS
//!    handshake wins; IPv6 is cancelled.
//! 2. TCP-only racing, then TLS: the race ends at the first TCP connection (what
//!    hyper-util + hyper-rustls, curl and Python asyncio with `happy_eyeballs_delay` do),
//!    IPv6's, and TLS then runs on it and never gets an answer. Those clients wait for
//!    their own timeouts (or forever); the demo gives the TLS handshake [`TLS_TIMEOUT`], so
//!    that it ends.
//!
//! ```no_run
//! use eyeballs_cli::demo::tls;
//!
//! tls::check().expect("an IPv6 loopback");
//! let lab = tls::Lab::new().unwrap();
//! let demo = tls::run(&lab, tls::TLS_TIMEOUT).unwrap();
//! print!("{}", tls::report(&demo));
//! ```

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use eyeballs::trace::Event;
use eyeballs::{Family, Target};
use eyeballs_chart::timeline::{RaceEnd, Timeline};
use eyeballs_chart::{ms, readable, svg, text};
use eyeballs_driver::{RaceReport, Settings};
use eyeballs_lab::Unavailable;
use eyeballs_lab::tls::{TestCa, TlsDeadIpv6};
use eyeballs_tokio::Connector;
use eyeballs_tokio::tls::rustls::pki_types::ServerName;
use eyeballs_tokio::tls::{TlsConfig, TlsHandshake, TokioTls};

use super::{EYEBALLS_TIMEOUT, family, verdict, verdict_with};
use crate::connect::{self, Connected};

/// How long the TCP-only race's TLS handshake may take: long enough to show what a
/// TLS-dead path costs a client that races TCP only, short enough for the demo to end (the
/// clients it stands for wait for their own timeouts: curl's connect timeout, asyncio's
/// `ssl_handshake_timeout` of 60 s, hyper-util's none).
pub const TLS_TIMEOUT: Duration = Duration::from_secs(3);

/// The name both races authenticate, and the lab's certificate has.
pub const SERVER_NAME: &str = "localhost";

/// The ALPN protocols the lab's server offers and both races offer.
const ALPN: [&str; 2] = ["h2", "http/1.1"];

/// The title of the picture.
pub const HEADING: &str = "eyeballs demo --tls: secure vs. TCP-only racing, IPv6 path TLS-dead";

/// The TLS-dead-IPv6 lab, with the certificate authority its server's certificate is from.
pub struct Lab {
    ca: TestCa,
    pair: TlsDeadIpv6,
}

impl Lab {
    /// A new certificate authority, a certificate for [`SERVER_NAME`], and the lab's two
    /// listeners on one port. Check for an IPv6 loopback first ([`check`]).
    pub fn new() -> io::Result<Lab> {
        let ca = TestCa::new("eyeballs demo CA (made for this run)")?;
        let pair = TlsDeadIpv6::new(&ca.issue(&[SERVER_NAME])?, &ALPN)?;
        Ok(Lab { ca, pair })
    }

    /// The silent `[::1]:P`.
    pub fn v6_addr(&self) -> SocketAddr {
        self.pair.v6_addr()
    }

    /// The TLS server's `127.0.0.1:P`.
    pub fn v4_addr(&self) -> SocketAddr {
        self.pair.v4_addr()
    }

    /// The two listeners (their connections and handshakes).
    pub fn pair(&self) -> &TlsDeadIpv6 {
        &self.pair
    }

    /// A TLS configuration trusting the lab's CA, offering the lab's ALPN protocols and
    /// authenticating [`SERVER_NAME`].
    fn tls_config(&self) -> io::Result<TlsConfig> {
        let name = ServerName::try_from(SERVER_NAME).map_err(io::Error::other)?;
        Ok(TlsConfig::with_roots(self.ca.roots())
            .map_err(io::Error::other)?
            .alpn(ALPN)
            .server_name(name))
    }
}

/// Whether the lab can be built here: it needs an IPv6 loopback.
pub fn check() -> Result<(), Unavailable> {
    eyeballs_lab::ipv6_loopback()
}

/// What to tell the user when the lab cannot be built.
pub fn no_lab_help(why: &Unavailable) -> String {
    format!(
        "the TLS demo cannot build its lab: {why}.\n\
         The demo races a TLS-dead IPv6 listener on [::1] against a TLS server on 127.0.0.1, \
         so it needs an IPv6 loopback. Enable IPv6 on the loopback interface (Linux: sysctl \
         -w net.ipv6.conf.lo.disable_ipv6=0; in a container, start it with IPv6 enabled), or \
         watch the same race in virtual time:\n  \
         eyeballs simulate crates/eyeballs-sim/scenarios/secure/tls-dead-ipv6.json"
    )
}

/// The two races of the demo, on the lab's two addresses.
#[derive(Clone, Debug)]
pub struct TlsDemo {
    /// The silent `[::1]:P`.
    pub v6: SocketAddr,
    /// The TLS server's `127.0.0.1:P`.
    pub v4: SocketAddr,
    /// Secure racing.
    pub secure: Timeline,
    /// What secure racing connected, if it did (the TLS version, the ALPN chosen).
    pub connected: Option<Connected>,
    /// TCP-only racing, then TLS on the connection it chose.
    pub tcp_only: Timeline,
    /// How long the TCP-only race's TLS handshake was given.
    pub tls_timeout: Duration,
}

/// The lab, as the demo first describes it.
pub fn intro(lab: &Lab, tls_timeout: Duration) -> String {
    let (v6, v4) = (lab.v6_addr().to_string(), lab.v4_addr().to_string());
    let w = v6.len().max(v4.len());
    format!(
        "eyeballs demo --tls: secure racing against TCP-only racing, on a host whose IPv6 path \
         accepts TCP and never speaks TLS\n\n\
         The lab, on loopback (gone when the demo ends):\n  \
         {v6:w$}  accepts TCP, never says a word (a TCP-terminating proxy whose upstream is \
         gone)\n  \
         {v4:w$}  serves TLS for {SERVER_NAME} (a certificate from a CA made for this run)\n\
         Both races get the two addresses pre-resolved, IPv6 first, and authenticate \
         {SERVER_NAME}.\n\n\
         racing (TCP-only racing then waits up to {} for TLS)...\n",
        ms(tls_timeout)
    )
}

/// Runs the two races on `lab`; the TCP-only race's TLS handshake is given `tls_timeout`.
/// The outer error is a runtime that cannot start (or a TLS configuration that cannot be
/// built).
pub fn run(lab: &Lab, tls_timeout: Duration) -> io::Result<TlsDemo> {
    let addrs = [lab.v6_addr(), lab.v4_addr()];
    let mut settings = Settings::default();
    settings.config.total_timeout = Some(EYEBALLS_TIMEOUT);
    let delay = ms(settings.config.connection_attempt_delay);

    let (result, report) = connect::race_secure(
        Target::addresses(addrs),
        settings.clone(),
        lab.tls_config()?,
    )?;
    let mut secure = Timeline::from(&report);
    secure.title =
        format!("eyeballs --tls: secure racing (HEv3 §6.1), {delay} Connection Attempt Delay");

    let title = format!(
        "TCP-only racing, then TLS, as hyper-util, curl and asyncio do ({} TLS timeout)",
        ms(tls_timeout)
    );
    let tcp_only = tcp_only_then_tls(&addrs, settings, lab.tls_config()?, tls_timeout, title)?;
    Ok(TlsDemo {
        v6: lab.v6_addr(),
        v4: lab.v4_addr(),
        secure,
        connected: result.ok(),
        tcp_only,
        tls_timeout,
    })
}

/// A race that ends at the first TCP connection (eyeballs without TLS: what a client that
/// races TCP and then does TLS gets), then the TLS handshake on that connection, given
/// `tls_timeout`; the connection is closed at once. Returns the timeline: the TCP race as
/// it went, its winner drawn with its TLS handshake after its TCP one.
fn tcp_only_then_tls(
    addrs: &[SocketAddr],
    settings: Settings,
    tls: TlsConfig,
    tls_timeout: Duration,
    title: String,
) -> io::Result<Timeline> {
    let name = ServerName::try_from(SERVER_NAME).map_err(io::Error::other)?;
    connect::on_runtime(async move {
        let started = Instant::now();
        let connector: Connector = Connector::new().with_settings(settings);
        let (result, report) = connector
            .connect_with_report(Target::addresses(addrs.iter().copied()))
            .await;
        let (tcp, winner) = match (result, report.winner) {
            (Ok(tcp), Some(winner)) => (tcp, winner),
            _ => {
                // No TCP connection: the TCP race as it went.
                let mut t = Timeline::from(&report);
                t.title = title;
                return t;
            }
        };
        let mut t = tcp_race(&report, title);
        let handshake = TokioTls.handshake(tls.client_config().clone(), name, tcp);
        let outcome = tokio::time::timeout(tls_timeout, handshake).await;
        let at = readable(started.elapsed());
        match outcome {
            Ok(Ok(stream)) => {
                drop(stream);
                t.connected(at, winner);
                t.finish(at, RaceEnd::Connected(winner));
            }
            Ok(Err(e)) => {
                let why = format!("TLS handshake failed: {e}");
                t.failed(at, winner, &why);
                t.finish(at, RaceEnd::Failed(why));
            }
            Err(_) => {
                t.failed(at, winner, "TLS never answered");
                t.finish(
                    at,
                    RaceEnd::Failed(format!("no TLS answer within {}", ms(tls_timeout))),
                );
            }
        }
        t
    })
}

/// The timeline of a TCP race whose winner then does TLS: every event as it happened,
/// except that the winner's TCP connection is its transport handshake, and the race has
/// not ended (its TLS result ends it).
fn tcp_race(report: &RaceReport, title: String) -> Timeline {
    let mut t = Timeline::new(title);
    for event in &report.events {
        match &event.event {
            Event::Connected { id, .. } if Some(*id) == report.winner => {
                t.transport(readable(event.at), *id);
            }
            _ => t.record(event),
        }
    }
    t
}

/// The demo's text: the two races on one time axis, then a line per race and what it
/// shows.
pub fn report(demo: &TlsDemo) -> String {
    let races = [&demo.secure, &demo.tcp_only];
    let mut out = text::render_stack(&races, text::DEFAULT_WIDTH);
    out.push('\n');
    let names = ["secure racing:", "TCP-only, then TLS:"];
    let w = names.iter().map(|n| n.len()).max().unwrap_or(0);
    let how = demo
        .connected
        .as_ref()
        .and_then(|c| c.secure.as_ref())
        .map_or(String::new(), |secure| {
            let tls = secure.version.as_deref().unwrap_or("TLS");
            let alpn = secure.alpn.as_deref().unwrap_or("none");
            format!(", {tls}, ALPN {alpn}")
        });
    let secure_line = verdict_with(&demo.secure, &how);
    out.push_str(&format!("{:w$} {secure_line}\n", names[0]));
    out.push_str(&format!("{:w$} {}\n", names[1], verdict(&demo.tcp_only)));
    let won_over = |t: &Timeline| t.winner().map(|w| family(&w.addr));
    if won_over(&demo.secure) == Some(Family::V4) && demo.tcp_only.winner().is_none() {
        out.push_str(&format!(
            "\nSecure racing connected over IPv4 in {}: the IPv6 attempt's TCP connected and \
             its TLS never\nanswered, so IPv4 started when the Connection Attempt Delay ran \
             out, and its TLS handshake won.\nTCP-only racing took the IPv6 connection and \
             waited for TLS on it: hyper-util, curl and\nasyncio wait there until their own \
             timeouts (this demo gave up after {}).\n",
            ms(demo.secure.total()),
            ms(demo.tls_timeout),
        ));
    }
    out
}

/// The demo's picture: the two races on one time axis.
pub fn picture(demo: &TlsDemo) -> String {
    svg::render_stack(Some(HEADING), &[&demo.secure, &demo.tcp_only])
}

#[cfg(test)]
mod tests {
    use super::*;
    use eyeballs::trace::TimedEvent;
    use eyeballs::{Attempt, AttemptId, CancelReason, Protocol};
    use eyeballs_chart::timeline::Ending;

    /// The TCP race's winner is drawn with its transport handshake, not connected; the
    /// race has not ended; the losers end as they did.
    #[test]
    fn the_tcp_winner_is_a_transport_handshake_until_its_tls_ends() {
        let (v6, v4): (SocketAddr, SocketAddr) = (
            "[::1]:443".parse().unwrap(),
            "127.0.0.1:443".parse().unwrap(),
        );
        let at = |micros, event| TimedEvent {
            at: Duration::from_micros(micros),
            event,
        };
        let attempt = |id, addr| {
            Event::Attempt(Attempt {
                id: AttemptId(id),
                addr,
                protocol: Protocol::Tcp,
                alpn: None,
                ech: None,
            })
        };
        let report = RaceReport {
            events: vec![
                at(0, attempt(0, v6)),
                at(250_000, attempt(1, v4)),
                at(
                    250_200,
                    Event::Connected {
                        id: AttemptId(0),
                        addr: v6,
                        protocol: Protocol::Tcp,
                    },
                ),
                at(
                    250_200,
                    Event::Cancel {
                        id: AttemptId(1),
                        addr: v4,
                        protocol: Protocol::Tcp,
                        reason: CancelReason::LostRace,
                    },
                ),
            ],
            winner: Some(AttemptId(0)),
            ..RaceReport::default()
        };
        let t = tcp_race(&report, "tcp".into());
        assert_eq!(t.attempts.len(), 2);
        // At the TCP connection's time, rounded for a reader as every real race's is.
        assert_eq!(
            t.attempts[0].transport,
            Some(readable(Duration::from_micros(250_200)))
        );
        assert_eq!(t.attempts[0].ending, Ending::Running);
        assert_eq!(
            t.attempts[1].ending,
            Ending::Cancelled("lost the race".into())
        );
        assert!(t.end.is_none());
    }
}
