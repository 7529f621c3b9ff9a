//! Turns what criterion wrote into the Markdown sections of RESULTS.md:
//! `summary --criterion DIR engine` (the engine's race times, per address and per input) and
//! `summary --criterion DIR overhead` (the connect-overhead ratios) and
//! `summary --criterion DIR secure` (the cost of a secure race over a plain TLS connect).

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use eyeballs_benches::estimates::{Estimate, Interval, ratio, read_all};

/// criterion's results as tables.
#[derive(Parser, Debug)]
struct Args {
    /// criterion's output directory (`CRITERION_HOME`, by default `target/criterion`).
    #[arg(long)]
    criterion: PathBuf,
    #[command(subcommand)]
    section: Section,
}

#[derive(Subcommand, Debug)]
enum Section {
    /// The engine benchmarks (`cargo bench --bench engine`).
    Engine,
    /// The connect-overhead ratios (`cargo bench --bench connect_overhead`).
    Overhead,
    /// The cost of a secure race over a plain TLS connect (`cargo bench --bench
    /// secure_overhead`).
    Secure,
}

fn find<'a>(all: &'a [Estimate], id: &str) -> Option<&'a Estimate> {
    all.iter().find(|e| e.id == id)
}

/// Nanoseconds as `812 ns`, `1.25 µs`, `98.1 µs`, `1.20 ms`.
fn ns(v: f64) -> String {
    if v < 1e3 {
        format!("{v:.0} ns")
    } else if v < 1e4 {
        format!("{:.2} µs", v / 1e3)
    } else if v < 1e6 {
        format!("{:.1} µs", v / 1e3)
    } else {
        format!("{:.2} ms", v / 1e6)
    }
}

fn engine(all: &[Estimate]) -> String {
    let mut out = String::from("## Engine: one full race, DNS phase included\n\n");
    out.push_str(
        "`cargo bench --bench engine`: a host name, AAAA and A answered, then every attempt \
         fails except (\"won on the last\") the last one, which connects; nothing but the \
         engine runs (`eyeballs_benches::race`). Median time per race (95 % confidence \
         interval of the median), and per address.\n\n",
    );
    out.push_str("| addresses | won on the last | per address | all failing | per address |\n");
    out.push_str("|---:|---:|---:|---:|---:|\n");
    let sizes = [2u64, 8, 32, 256, 100_000];
    let cell = |e: Option<&Estimate>, n: u64| match e {
        Some(e) => (
            format!(
                "{} ({} – {})",
                ns(e.median.point),
                ns(e.median.low),
                ns(e.median.high)
            ),
            ns(e.median.point / n as f64),
        ),
        None => ("not measured".into(), String::new()),
    };
    for n in sizes {
        let (win, win_per) = cell(find(all, &format!("race/win_last/{n}")), n);
        let (fail, fail_per) = cell(find(all, &format!("race/all_fail/{n}")), n);
        out.push_str(&format!(
            "| {n} | {win} | {win_per} | {fail} | {fail_per} |\n"
        ));
    }
    // Linearity: cost per address at 256 and at 100,000 against at 8 (2 is dominated by
    // fixed costs).
    let per = |n: u64| find(all, &format!("race/win_last/{n}")).map(|e| e.median.point / n as f64);
    if let (Some(p8), Some(p256)) = (per(8), per(256)) {
        out.push_str(&format!(
            "\nLinearity: the cost per address at 256 addresses is {:.2} × the cost per address \
             at 8 (1.00 is perfectly linear).\n",
            p256 / p8
        ));
    }
    if let (Some(p8), Some(big)) = (per(8), per(100_000)) {
        let r = big / p8;
        let verdict = if r <= 1.5 { "met" } else { "**missed**" };
        out.push_str(&format!(
            "\nTarget \"the cost per address at 100,000 addresses at most 1.5 × the cost per \
             address at 8\": {r:.2} × ({} against {}; {verdict}).\n",
            ns(big),
            ns(p8)
        ));
    }
    if let Some(e) = find(all, "race/win_last/2") {
        let verdict = if e.median.point < 1e3 {
            "met"
        } else {
            "**missed**"
        };
        out.push_str(&format!(
            "\nTarget \"a 2-address race under 1 µs\": {} ({verdict}).\n",
            ns(e.median.point)
        ));
    }
    out.push_str("\nPer input event (the same won races, divided by the inputs they take: DNS answers, attempt results, timer expiries):\n\n");
    out.push_str("| addresses | inputs per race | time per input |\n|---:|---:|---:|\n");
    for n in [2u64, 256] {
        match find(all, &format!("race/per_input/{n}")) {
            Some(e) => {
                let inputs = e.elements.unwrap_or(1);
                out.push_str(&format!(
                    "| {n} | {inputs} | {} |\n",
                    ns(e.median.point / inputs as f64)
                ));
            }
            None => out.push_str(&format!("| {n} | | not measured |\n")),
        }
    }
    out
}

/// A signed difference in nanoseconds: `+2.63 µs`, `−697 ns`.
fn signed_ns(v: f64) -> String {
    if v < 0.0 {
        format!("−{}", ns(-v))
    } else {
        format!("+{}", ns(v))
    }
}

/// A pair member's median: the average of its passes (`id/1`, `id/2`: the bench runs the
/// pair A B B A), or a single `id` result.
fn passes(all: &[Estimate], id: &str) -> Option<Interval> {
    let found: Vec<Interval> = [format!("{id}/1"), format!("{id}/2")]
        .iter()
        .filter_map(|p| find(all, p))
        .map(|e| e.median)
        .collect();
    if found.is_empty() {
        return find(all, id).map(|e| e.median);
    }
    let n = found.len() as f64;
    Some(Interval {
        point: found.iter().map(|i| i.point).sum::<f64>() / n,
        low: found.iter().map(|i| i.low).sum::<f64>() / n,
        high: found.iter().map(|i| i.high).sum::<f64>() / n,
    })
}

fn overhead(all: &[Estimate]) -> String {
    let mut out = String::from("## Connect overhead on loopback, one address\n\n");
    out.push_str(
        "`cargo bench --bench connect_overhead`: connects to a loopback listener that accepts on \
         a background thread (the lab's `Listener`), each pair measured in the same run, in \
         the order A B B A (a drift in the machine's speed weighs on both alike). Only the \
         connect is timed; each stream is then closed with a reset, so that no TIME_WAIT \
         piles up. Times are medians, averaged over the two passes; the range of the ratio \
         is the lowest and highest ratio the medians' 95 % confidence intervals allow.\n\n",
    );
    out.push_str("| eyeballs | time | baseline | time | ratio (range) | target |\n");
    out.push_str("|---|---:|---|---:|---:|---|\n");
    let pairs = [
        (
            "connect_tokio/eyeballs_tokio",
            "`eyeballs_tokio::connect(addr)`",
            "connect_tokio/tokio",
            "`tokio::net::TcpStream::connect(addr)`",
            1.05,
            None,
        ),
        (
            "connect_blocking/eyeballs_mio",
            "`eyeballs_mio::connect(addr)`",
            "connect_blocking/std",
            "`std::net::TcpStream::connect(addr)`",
            1.05,
            Some(1.02),
        ),
    ];
    // Issue 14's targets, and the goal it names beyond one of them.
    for (ours, ours_name, base, base_name, target, goal) in pairs {
        let goal_said = |r: f64| match goal {
            Some(g) if r <= g => format!("; goal ≤ {g:.2}: met"),
            Some(g) => format!("; goal ≤ {g:.2}: not reached"),
            None => String::new(),
        };
        match (passes(all, ours), passes(all, base)) {
            (Some(a), Some(b)) => {
                let r: Interval = ratio(a, b);
                let verdict = if r.point <= target {
                    "met"
                } else {
                    "**missed**"
                };
                out.push_str(&format!(
                    "| {ours_name} | {} | {base_name} | {} | **{:.3}** ({:.3} – {:.3}) | ≤ {target:.2}: {verdict} ({}){} |\n",
                    ns(a.point),
                    ns(b.point),
                    r.point,
                    r.low,
                    r.high,
                    signed_ns(a.point - b.point),
                    goal_said(r.point)
                ));
            }
            _ => out.push_str(&format!(
                "| {ours_name} | not measured | {base_name} | | | ≤ {target:.2} |\n"
            )),
        }
    }
    out
}

fn secure(all: &[Estimate]) -> String {
    let mut out = String::from("## The cost of a secure race over a plain TLS connect\n\n");
    out.push_str(
        "`cargo bench --bench secure_overhead`: one address, `127.0.0.1:P`, a TLS server on \
         loopback (rustls, a certificate for `localhost` from a CA made at run time, blocking \
         accepts on two threads: `eyeballs_benches::tls::HandshakeServer`). A secure race \
         (`eyeballs_tokio::Connector::tls`: TCP, then TLS, the race ending when the handshake \
         is done) against a plain TLS connect (`tokio::net::TcpStream::connect`, then a \
         tokio-rustls handshake), both with one rustls `ClientConfig` (aws-lc-rs, session \
         resumption off: every handshake is a full TLS 1.3 one) and the same name to \
         authenticate, on a current-thread tokio runtime, measured A B B A in one run. Only \
         the connect and the handshake are timed; each connection is then reset. Times are \
         medians, averaged over the two passes; the range of the ratio is the lowest and \
         highest ratio the medians' 95 % confidence intervals allow.\n\n",
    );
    out.push_str(
        "| secure race | time | plain TLS connect | time | ratio (range) | difference |\n",
    );
    out.push_str("|---|---:|---|---:|---:|---:|\n");
    let (ours_name, base_name) = (
        "`Connector::tls(config).connect(addr)`",
        "`TcpStream::connect(addr)` + `TlsConnector::connect(name, tcp)`",
    );
    match (
        passes(all, "connect_tls/eyeballs_tokio_tls"),
        passes(all, "connect_tls/tokio_rustls"),
    ) {
        (Some(a), Some(b)) => {
            let r = ratio(a, b);
            out.push_str(&format!(
                "| {ours_name} | {} | {base_name} | {} | **{:.3}** ({:.3} – {:.3}) | {} |\n",
                ns(a.point),
                ns(b.point),
                r.point,
                r.low,
                r.high,
                signed_ns(a.point - b.point)
            ));
        }
        (a, b) => {
            let shown = |i: Option<Interval>| i.map_or("not measured".to_string(), |i| ns(i.point));
            out.push_str(&format!(
                "| {ours_name} | {} | {base_name} | {} | not measured | |\n",
                shown(a),
                shown(b)
            ));
        }
    }
    out
}

fn main() {
    let args = Args::parse();
    let all = match read_all(&args.criterion) {
        Ok(all) => all,
        Err(e) => {
            eprintln!("summary: {e}");
            std::process::exit(1);
        }
    };
    let text = match args.section {
        Section::Engine => engine(&all),
        Section::Overhead => overhead(&all),
        Section::Secure => secure(&all),
    };
    print!("{text}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est(id: &str, median: f64, elements: Option<u64>) -> Estimate {
        let i = Interval {
            point: median,
            low: median * 0.9,
            high: median * 1.1,
        };
        Estimate {
            id: id.into(),
            median: i,
            mean: i,
            elements,
        }
    }

    #[test]
    fn engine_table_has_per_address_costs() {
        let all = [
            est("race/win_last/2", 900.0, Some(2)),
            est("race/win_last/8", 4000.0, Some(8)),
            est("race/win_last/256", 128_000.0, Some(256)),
            est("race/win_last/100000", 60_000_000.0, Some(100_000)),
            est("race/per_input/2", 900.0, Some(3)),
        ];
        let t = engine(&all);
        assert!(
            t.contains("| 2 | 900 ns (810 ns – 990 ns) | 450 ns |"),
            "{t}"
        );
        assert!(t.contains("| 32 | not measured |"), "{t}");
        // 500 ns per address at both 8 and 256.
        assert!(t.contains("is 1.00 ×"), "{t}");
        // 600 ns per address at 100,000: 1.2 times.
        assert!(
            t.contains("8\": 1.20 × (600 ns against 500 ns; met)"),
            "{t}"
        );
        assert!(t.contains("900 ns (met)"), "{t}");
        assert!(t.contains("| 2 | 3 | 300 ns |"), "{t}");
    }

    #[test]
    fn secure_race_cost_is_a_ratio_with_both_times() {
        let all = [
            // Two passes each: 1.02 ms and 1.00 ms on average.
            est("connect_tls/eyeballs_tokio_tls/1", 1_010_000.0, None),
            est("connect_tls/eyeballs_tokio_tls/2", 1_030_000.0, None),
            est("connect_tls/tokio_rustls/1", 1_000_000.0, None),
            est("connect_tls/tokio_rustls/2", 1_000_000.0, None),
            // Another group's numbers are not mistaken for these.
            est("connect_tokio/eyeballs_tokio/1", 20_000.0, None),
        ];
        let t = secure(&all);
        assert!(
            t.starts_with("## The cost of a secure race over a plain TLS connect\n"),
            "{t}"
        );
        assert!(
            t.contains(
                "| `Connector::tls(config).connect(addr)` | 1.02 ms | \
                 `TcpStream::connect(addr)` + `TlsConnector::connect(name, tcp)` | 1.00 ms | \
                 **1.020** (0.835 – 1.247) | +20.0 µs |"
            ),
            "{t}"
        );
    }

    #[test]
    fn a_secure_race_cost_not_measured_says_so() {
        let all = [est("connect_tls/tokio_rustls", 1_000_000.0, None)];
        let t = secure(&all);
        assert!(
            t.contains(
                "| `Connector::tls(config).connect(addr)` | not measured | \
                 `TcpStream::connect(addr)` + `TlsConnector::connect(name, tcp)` | 1.00 ms | \
                 not measured | |"
            ),
            "{t}"
        );
    }

    #[test]
    fn differences_carry_their_sign() {
        assert_eq!(signed_ns(-697.0), "−697 ns");
        assert_eq!(signed_ns(2630.0), "+2.63 µs");
    }

    #[test]
    fn overhead_ratios_and_verdicts() {
        let all = [
            // Two passes average to 21 µs against 20 µs.
            est("connect_tokio/eyeballs_tokio/1", 20_000.0, None),
            est("connect_tokio/eyeballs_tokio/2", 22_000.0, None),
            est("connect_tokio/tokio/1", 20_000.0, None),
            est("connect_tokio/tokio/2", 20_000.0, None),
            est("connect_blocking/std", 15_000.0, None),
        ];
        let t = overhead(&all);
        assert!(t.contains("**1.050**"), "{t}");
        assert!(t.contains("≤ 1.05: met (+1.00 µs)"), "{t}");
        assert!(
            t.contains("`eyeballs_mio::connect(addr)` | not measured"),
            "{t}"
        );
        // mio: the target 1.05, and the goal 1.02 beyond it.
        let mio = |ours: f64| {
            overhead(&[
                est("connect_blocking/eyeballs_mio", ours, None),
                est("connect_blocking/std", 20_000.0, None),
            ])
        };
        assert!(
            mio(20_800.0).contains("≤ 1.05: met (+800 ns); goal ≤ 1.02: not reached"),
            "{}",
            mio(20_800.0)
        );
        assert!(mio(20_200.0).contains("≤ 1.05: met (+200 ns); goal ≤ 1.02: met"));
        assert!(mio(21_400.0).contains("≤ 1.05: **missed** (+1.40 µs); goal ≤ 1.02: not reached"));
    }
}
