//! How the cost of a simulated race grows with the number of addresses (issue 10, item 10):
//! literal lists of 12,500 to 100,000 addresses (half IPv6, half IPv4) in three shapes, each
//! run through [`eyeballs_sim::run`] and timed. A measurement to read, not a test:
//!
//! ```text
//! cargo run --release -p eyeballs-sim --example scale
//! ```
//!
//! - `refused`: every attempt is refused after 1 ms, so each failure starts the next at once;
//! - `slow`: every attempt connects after 30,000 s, so all of them start (250 ms apart) before
//!   the first connects and the rest are cancelled at once;
//! - `timeouts`: every attempt hangs and a 1 s attempt timeout ends it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use eyeballs_sim::{NetResult, NetRule, Scenario, run};

fn addresses(n: usize) -> Vec<SocketAddr> {
    (0..n)
        .map(|i| {
            let k = u32::try_from(i / 2).unwrap_or(u32::MAX);
            let ip = if i % 2 == 0 {
                IpAddr::V6(Ipv6Addr::from((0x2001_0db8_u128 << 96) | u128::from(k)))
            } else {
                IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + k))
            };
            SocketAddr::new(ip, 443)
        })
        .collect()
}

fn main() {
    println!(
        "{:>8} {:>10} {:>10} {:>10}",
        "addrs", "refused", "slow", "timeouts"
    );
    let mut previous: Option<[f64; 3]> = None;
    for n in [12_500, 25_000, 50_000, 100_000] {
        let mut secs = [0.0; 3];
        for (k, shape) in ["refused", "slow", "timeouts"].iter().enumerate() {
            let mut s = Scenario::addresses(shape, addresses(n));
            s = match *shape {
                "refused" => s.rule(NetRule::any(NetResult::Refused, Duration::from_millis(1))),
                "slow" => s.rule(NetRule::any(
                    NetResult::Connected,
                    Duration::from_secs(30_000),
                )),
                _ => {
                    let mut c = eyeballs::Config::default();
                    c.attempt_timeout = Some(Duration::from_secs(1));
                    s.config(c)
                }
            };
            let started = Instant::now();
            let trace = run(&s).expect("the scenario runs");
            secs[k] = started.elapsed().as_secs_f64();
            assert!(trace.outcome.is_some(), "{shape} did not finish");
            let attempts = trace
                .events
                .iter()
                .filter(|e| matches!(e.event, eyeballs_sim::Event::Attempt(_)))
                .count();
            assert_eq!(attempts, n, "{shape}: every address is attempted");
        }
        print!("{n:>8}");
        for s in secs {
            print!(" {s:>9.3}s");
        }
        if let Some(p) = previous {
            print!(
                "   (x{:.1}, x{:.1}, x{:.1} for x2 addresses)",
                secs[0] / p[0],
                secs[1] / p[1],
                secs[2] / p[2]
            );
        }
        println!();
        previous = Some(secs);
    }
}
