//! How the command's timeline and charts scale with the number of attempts: a synthetic
//! race of N attempts (each started, then failed, the last one connected: 2N events, as
//! `eyeballs simulate` of N literal addresses records them) is recorded, drawn as text and
//! as SVG, and each step timed. The cost per attempt should stay flat as N grows.
//!
//! ```text
//! cargo run --release -p eyeballs-chart --example timeline_scale [N...]
//! cargo run --release -p eyeballs-chart --example timeline_scale SCENARIO.json
//! ```
//!
//! Given a scenario file instead, it times each step of `eyeballs simulate FILE`: parsing,
//! the simulation (the engine), the timeline, the text chart and the event list.
//!
//! This measures; it asserts nothing (no test asserts wall-clock speed).

use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};
use std::time::{Duration, Instant};

use eyeballs::trace::Event;
use eyeballs::{Attempt, AttemptFailure, AttemptId, Protocol};
use eyeballs_chart::timeline::{RaceEnd, Timeline};
use eyeballs_chart::{svg, text};

/// The address of attempt `i`.
fn addr(i: u32) -> SocketAddr {
    SocketAddr::V6(SocketAddrV6::new(
        Ipv6Addr::from(0x2001_0db8_u128 << 96 | u128::from(i)),
        443,
        0,
        0,
    ))
}

/// The events of a race of `n` attempts, 10 µs apart, each failing after 1 ms but the
/// last, which connects.
fn events(n: u32) -> Vec<(Duration, Event)> {
    let mut out = Vec::with_capacity(2 * n as usize);
    for i in 0..n {
        let at = Duration::from_micros(10 * u64::from(i));
        out.push((
            at,
            Event::Attempt(Attempt {
                id: AttemptId(i),
                addr: addr(i),
                protocol: Protocol::Tcp,
                alpn: None,
                ech: None,
            }),
        ));
    }
    for i in 0..n {
        let at = Duration::from_micros(10 * u64::from(i) + 1000);
        out.push((
            at,
            if i + 1 == n {
                Event::Connected {
                    id: AttemptId(i),
                    addr: addr(i),
                    protocol: Protocol::Tcp,
                }
            } else {
                Event::Failed {
                    id: AttemptId(i),
                    addr: addr(i),
                    protocol: Protocol::Tcp,
                    failure: AttemptFailure::Refused,
                    detail: None,
                }
            },
        ));
    }
    out
}

/// Times each step of `eyeballs simulate path`.
fn simulate(path: &str) {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let start = Instant::now();
    let scenario = eyeballs_sim::json::read_scenario(path.as_ref()).expect("a scenario");
    let parsed = start.elapsed();
    let start = Instant::now();
    let trace = eyeballs_sim::run(&scenario).expect("it runs");
    let simulated = start.elapsed();
    let start = Instant::now();
    let timeline = Timeline::from(&trace);
    let recorded = start.elapsed();
    let start = Instant::now();
    let chart = text::render(&timeline, text::DEFAULT_WIDTH);
    let drawn = start.elapsed();
    let start = Instant::now();
    let listed = trace.to_string();
    let listing = start.elapsed();
    println!(
        "{path}: {} attempts; parse {:.1}ms, simulate {:.1}ms, timeline {:.1}ms, text chart \
         {:.1}ms, event list {:.1}ms ({} bytes of output)",
        timeline.attempts.len(),
        ms(parsed),
        ms(simulated),
        ms(recorded),
        ms(drawn),
        ms(listing),
        chart.len() + listed.len(),
    );
}

fn main() {
    if let Some(path) = std::env::args().nth(1).filter(|a| a.ends_with(".json")) {
        return simulate(&path);
    }
    let sizes: Vec<u32> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("sizes are numbers of attempts"))
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1_000, 10_000, 100_000]
    } else {
        sizes
    };
    println!("attempts  record      text        svg         total       per attempt");
    for n in sizes {
        let events = events(n);
        let start = Instant::now();
        let mut t = Timeline::new("scale");
        for (at, e) in &events {
            t.event(*at, e);
        }
        t.finish(
            events.last().map_or(Duration::ZERO, |e| e.0),
            RaceEnd::Connected(AttemptId(n - 1)),
        );
        let recorded = start.elapsed();
        let start = Instant::now();
        let chart = text::render(&t, text::DEFAULT_WIDTH);
        let drawn = start.elapsed();
        let start = Instant::now();
        let picture = svg::render(&t);
        let pictured = start.elapsed();
        let total = recorded + drawn + pictured;
        assert!(chart.contains("<== WINNER") && picture.contains("winner"));
        println!(
            "{n:>8}  {:>8.1}ms  {:>8.1}ms  {:>8.1}ms  {:>8.1}ms  {:>8.2}µs",
            recorded.as_secs_f64() * 1e3,
            drawn.as_secs_f64() * 1e3,
            pictured.as_secs_f64() * 1e3,
            total.as_secs_f64() * 1e3,
            total.as_secs_f64() * 1e6 / f64::from(n),
        );
    }
}
