//! The broken-IPv6 comparison and the history runs (consecutive connects through one
//! connector with a `SharedHistory`), as a Markdown section.

use super::*;

/// The chart's title.
const CHART_TITLE: &str = "Time to connect: [::1] blackholed, 127.0.0.1 working (loopback lab)";

/// The broken-IPv6 comparison and the history runs, as a Markdown section in `out`.
pub(super) fn tcp_comparison(args: &Args, rt: &Arc<tokio::runtime::Runtime>, out: &mut String) {
    let _ = writeln!(out, "## Time to connect with a broken IPv6 path\n");
    let lab = match BrokenIpv6::new() {
        Ok(lab) => lab,
        Err(why) => {
            not_measured(out, args.svg.as_deref(), CHART_TITLE, &why.to_string());
            return;
        }
    };
    let lab_env = Lab {
        resolution: resolution(args.name.as_deref(), lab.v4_addr().port()),
        v6: lab.v6_addr(),
        v4: lab.v4_addr(),
        rt: rt.clone(),
    };
    let bound = Duration::from_millis(args.bound_ms);
    let mut contenders = eyeballs_contenders(&lab_env);
    contenders.extend([
        tokio_plain(&lab_env, bound),
        hyper_util(&lab_env),
        curl(&lab_env, &args.curl),
        python(&lab_env, &args.python),
    ]);
    run_rounds("broken IPv6", &mut contenders, args.reps, None);
    eprintln!("peers: history runs");
    let history: Vec<(&str, Vec<Vec<Run>>)> = history_variants(&lab_env)
        .into_iter()
        .map(|(name, target)| {
            let runs = history_run(&lab_env, &target, args.reps, args.history_connects);
            (name, runs)
        })
        .collect();
    let rtt = ipv4_rtt(lab_env.v4, 20);

    // The report.
    match &lab_env.resolution {
        Resolution::Name(n) => {
            let _ = writeln!(
                out,
                "The lab: `[::1]:{p}` with a full accept queue (SYNs dropped: a connect hangs) and \
                 an accepting `127.0.0.1:{p}`. The name `{n}` resolves to both through the system \
                 resolver (`benches/run` gives the process a private mount namespace whose \
                 `/etc/hosts` has the name; the machine's own configuration is untouched); every \
                 contender looks it up itself, so the times include the lookups.\n",
                p = lab_env.port()
            );
        }
        Resolution::Preresolved => {
            let _ = writeln!(
                out,
                "The lab: `[::1]:{p}` with a full accept queue (SYNs dropped: a connect hangs) and \
                 an accepting `127.0.0.1:{p}`. No name resolved to both here (no private mount \
                 namespace), so every contender was handed both addresses, IPv6 first, through \
                 its own \"resolve to\" option (column \"addresses from\").\n",
                p = lab_env.port()
            );
        }
    }
    let _ = writeln!(
        out,
        "{} measured connects per contender after one warm-up, round-robin. Time from the call \
         to a connected socket (curl: its `time_connect`; Python: `time.perf_counter()` \
         around `open_connection`).\n",
        args.reps
    );
    let mut rows = contender_table(out, &contenders, "addresses from", "eyeballs_tokio");

    // History.
    let _ = writeln!(
        out,
        "\n### Consecutive connects with a connection history\n\n\
         One `eyeballs_tokio::Connector` with a `SharedHistory` (default `HistoryConfig`), \
         {} connects in a row to the same target; the sequence repeated {} times, each with a \
         fresh history. Targets: the first within the Connection Attempt Delay + 2 ms, every \
         later one within 2 ms of the IPv4 RTT.\n",
        args.history_connects, args.reps,
    );
    match &rtt {
        Some(r) => {
            let _ = writeln!(
                out,
                "IPv4 RTT (a plain `std::net::TcpStream::connect` to `127.0.0.1:P`, 20 runs): \
                 median {}, p90 {}.\n",
                Human(r.median),
                Human(r.p90)
            );
        }
        None => {
            let _ = writeln!(out, "IPv4 RTT: could not be measured.\n");
        }
    }
    history_report(out, &mut rows, &history, rtt);
    if let Some(path) = &args.svg {
        write_chart(
            out,
            path,
            CHART_TITLE,
            "Time to connect, broken IPv6",
            &rows,
        );
    }
}

/// The median time of `n` plain connects to the working IPv4 listener: the loopback RTT
/// (one SYN / SYN-ACK exchange).
fn ipv4_rtt(v4: SocketAddr, n: usize) -> Option<Summary> {
    let mut times = Vec::new();
    for _ in 0..n + 1 {
        let start = Instant::now();
        if std::net::TcpStream::connect_timeout(&v4, Duration::from_secs(2)).is_ok() {
            times.push(start.elapsed());
        }
    }
    // The first one warms up.
    Summary::of(times.get(1..).unwrap_or(&[]))
}

/// `reps` times: a fresh `SharedHistory`, then `connects` consecutive connects to `target`
/// through one tokio connector that has it. Returns the runs by position.
fn history_run(lab: &Lab, target: &Target, reps: usize, connects: usize) -> Vec<Vec<Run>> {
    let mut by_position: Vec<Vec<Run>> = vec![Vec::new(); connects];
    for _ in 0..reps {
        let history = SharedHistory::new(HistoryConfig::default(), NetworkId(0));
        let connector = eyeballs_tokio::Connector::new().history(history);
        for slot in by_position.iter_mut() {
            let start = Instant::now();
            let r = lab.rt.block_on(connector.connect(target.clone()));
            let r = r
                .map_err(|e| e.to_string())
                .and_then(|s| s.peer_addr().map_err(|e| e.to_string()));
            slot.push(Run::timed(start, r));
        }
    }
    by_position
}

/// The history runs: by name (when there is one) and with both addresses pre-resolved.
fn history_variants(lab: &Lab) -> Vec<(&'static str, Target)> {
    let addrs = ("pre-resolved", Target::addresses([lab.v6, lab.v4]));
    match &lab.resolution {
        Resolution::Name(n) => vec![("by name", Target::host(n, lab.port())), addrs],
        Resolution::Preresolved => vec![addrs],
    }
}

/// The history section: the table (a column pair per variant) and the chart rows.
fn history_report(
    out: &mut String,
    rows: &mut Vec<Row>,
    variants: &[(&str, Vec<Vec<Run>>)],
    rtt: Option<Summary>,
) {
    let first_target = CONNECTION_ATTEMPT_DELAY + HISTORY_SLACK;
    let later_target = rtt.map(|r| r.median + HISTORY_SLACK);
    let _ = write!(out, "| connect | target |");
    for (name, _) in variants {
        let _ = write!(out, " {name}: median (p10 – p90) | met |");
    }
    let _ = write!(out, "\n|---:|---:|");
    for _ in variants {
        let _ = write!(out, "---:|---|");
    }
    out.push('\n');
    let connects = variants.first().map_or(0, |(_, v)| v.len());
    for i in 0..connects {
        let target = if i == 0 {
            Some(first_target)
        } else {
            later_target
        };
        let shown = target
            .map(|t| format!("≤ {}", Human(t)))
            .unwrap_or_default();
        let _ = write!(out, "| {} | {shown} |", i + 1);
        for (_, runs) in variants {
            let runs = &runs[i];
            let ok = times(runs);
            match Summary::of(&ok) {
                Some(s) if ok.len() == runs.len() => {
                    let met = match target {
                        Some(t) if s.median <= t => "yes",
                        Some(_) => "**no**",
                        None => "?",
                    };
                    let _ = write!(
                        out,
                        " {} ({} – {}) | {met} |",
                        Human(s.median),
                        Human(s.p10),
                        Human(s.p90)
                    );
                }
                _ => {
                    let _ = write!(out, " {} | **no** |", outcomes(runs));
                }
            }
        }
        out.push('\n');
    }
    for (name, by_position) in variants {
        if let Some(first) = by_position.first().and_then(|r| Summary::of(&times(r))) {
            rows.push(Row {
                label: format!("eyeballs_tokio + history ({name}), 1st"),
                bar: Bar::Measured(first),
            });
        }
        let later: Vec<Duration> = by_position.iter().skip(1).flat_map(|r| times(r)).collect();
        if let Some(s) = Summary::of(&later) {
            rows.push(Row {
                label: format!(
                    "eyeballs_tokio + history ({name}), 2nd–{}",
                    by_position.len()
                ),
                bar: Bar::Measured(s),
            });
        }
    }
}

/// The slack the history targets allow: the first connect within the Connection Attempt
/// Delay + 2 ms, later ones within the IPv4 RTT + 2 ms (the targets).
const HISTORY_SLACK: Duration = Duration::from_millis(2);
