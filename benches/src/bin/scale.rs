//! Scale: 10,000 concurrent races through `eyeballs_tokio` on loopback: wall time, peak
//! memory, engine bytes per race. Prints a Markdown section on stdout.
//!
//! The accepting side runs in a child process (this binary with `--serve`), so that this
//! process holds one descriptor per race, not two: 10,000 races need about 10,000
//! descriptors here (the limit is checked first). The child listens on `[::1]:P` and
//! `127.0.0.1:P` with a deep backlog and accepts (and closes) on one thread per listener.
//!
//! Every race gets both addresses pre-resolved (`[::1]:P`, `127.0.0.1:P`), so that the
//! system resolver's speed is not what is measured; the engine sorts them and the IPv6
//! attempt connects. All races are spawned at once on a multi-thread tokio runtime; each
//! keeps its stream until every race has finished, so that the connections are all open at
//! the same time.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use clap::Parser;
use eyeballs_benches::stats::{Human, Summary};
use eyeballs_benches::{CountingAlloc, engine_footprint, live_bytes, peak_bytes, reset_peak};
use socket2::{Domain, Socket, Type};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Concurrent races through the tokio adapter.
#[derive(Parser, Debug)]
struct Args {
    /// How many races.
    #[arg(long, default_value_t = 10_000)]
    races: usize,
    /// Run as the accepting side (used by the benchmark itself).
    #[arg(long, hide = true)]
    serve: bool,
}

fn fail(what: impl std::fmt::Display) -> ! {
    eprintln!("scale: {what}");
    std::process::exit(1)
}

/// A listener on `addr` with the deepest backlog the system allows.
fn deep_listener(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())?;
    // Clamped to net.core.somaxconn by the kernel.
    socket.listen(65_535)?;
    Ok(socket.into())
}

/// The child: listen on both loopbacks (one port), print it, accept and close until stdin
/// closes, then print how many connections were accepted.
fn serve() {
    let mut bound = None;
    for _ in 0..16 {
        let Ok(v4) = deep_listener(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))) else {
            continue;
        };
        let Ok(port) = v4.local_addr().map(|a| a.port()) else {
            continue;
        };
        if let Ok(v6) = deep_listener(SocketAddr::from((Ipv6Addr::LOCALHOST, port))) {
            bound = Some((v6, v4, port));
            break;
        }
    }
    let Some((v6, v4, port)) = bound else {
        fail("cannot listen on [::1]:P and 127.0.0.1:P")
    };
    let accepted = Arc::new(AtomicUsize::new(0));
    for listener in [v6, v4] {
        let accepted = accepted.clone();
        // The process exits when the parent is done; the threads end with it.
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if conn.is_ok() {
                    accepted.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    println!("{port}");
    let _ = std::io::stdout().flush();
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    println!("{}", accepted.load(Ordering::Relaxed));
    let _ = std::io::stdout().flush();
}

/// A `/proc/self/status` field in KiB (`VmRSS`, `VmHWM`).
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The soft limit on open files (`/proc/self/limits`).
fn fd_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn main() {
    let args = Args::parse();
    if args.serve {
        serve();
        return;
    }
    let n = args.races;
    // Measured first, while this process has one thread.
    let footprint = engine_footprint(2, true)
        .unwrap_or_else(|| fail("the counting allocator is not installed"));
    let need = n as u64 + 256;
    match fd_limit() {
        Some(limit) if limit < need => fail(format!(
            "{n} races need about {need} open files, the limit is {limit} (raise it with ulimit -n)"
        )),
        _ => {}
    }

    let exe = std::env::current_exe().unwrap_or_else(|e| fail(format!("own path: {e}")));
    let mut child = Command::new(exe)
        .arg("--serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| fail(format!("cannot start the accepting side: {e}")));
    let mut child_out = BufReader::new(child.stdout.take().unwrap_or_else(|| fail("no stdout")));
    let mut line = String::new();
    let _ = child_out.read_line(&mut line);
    let port: u16 = line
        .trim()
        .parse()
        .unwrap_or_else(|_| fail(format!("the accepting side said {line:?}")));
    let addrs = [
        SocketAddr::from((Ipv6Addr::LOCALHOST, port)),
        SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
    ];

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(format!("tokio runtime: {e}")));
    let workers = rt.metrics().num_workers();
    let connector = eyeballs_tokio::Connector::new();
    // Warm the runtime and the listener up with one race.
    if let Err(e) = rt.block_on(connector.connect(addrs)) {
        fail(format!("warm-up race failed: {e}"));
    }
    let rss_before = status_kib("VmRSS").unwrap_or(0);
    let live_before = live_bytes();
    reset_peak();

    let in_flight = Arc::new(AtomicUsize::new(0));
    let max_in_flight = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(tokio::sync::Barrier::new(n + 1));
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
    let start = Instant::now();
    let (wall, latencies, failures, fds_at_peak, handles) = rt.block_on(async {
        let mut handles = Vec::with_capacity(n);
        for _ in 0..n {
            let connector = connector.clone();
            let (in_flight, max_in_flight) = (in_flight.clone(), max_in_flight.clone());
            let (release, done) = (release.clone(), done_tx.clone());
            handles.push(tokio::spawn(async move {
                let now = in_flight.fetch_add(1, Ordering::Relaxed) + 1;
                max_in_flight.fetch_max(now, Ordering::Relaxed);
                let began = Instant::now();
                let result = connector.connect(addrs).await;
                let took = began.elapsed();
                in_flight.fetch_sub(1, Ordering::Relaxed);
                let _ = done.send(result.as_ref().map(|_| took).map_err(|e| e.to_string()));
                // Hold the connection until every race is over.
                release.wait().await;
                drop(result);
            }));
        }
        let mut latencies = Vec::with_capacity(n);
        let mut failures = Vec::new();
        while latencies.len() + failures.len() < n {
            match done_rx.recv().await {
                Some(Ok(took)) => latencies.push(took),
                Some(Err(e)) => failures.push(e),
                None => break,
            }
        }
        let wall = start.elapsed();
        let fds = eyeballs_lab::open_fds();
        release.wait().await;
        (wall, latencies, failures, fds, handles)
    });
    let peak_heap = peak_bytes().saturating_sub(live_before);
    let hwm = status_kib("VmHWM").unwrap_or(0);
    rt.block_on(async {
        for h in handles {
            let _ = h.await;
        }
    });
    drop(rt);

    // The accepting side's count.
    drop(child.stdin.take());
    let mut line = String::new();
    let _ = child_out.read_line(&mut line);
    let accepted: Option<usize> = line.trim().parse().ok();
    let _ = child.wait();

    let lat = Summary::of(&latencies);
    println!("## Scale: {n} concurrent races through eyeballs-tokio\n");
    println!(
        "{n} races spawned at once on a {workers}-worker tokio runtime, each to `[::1]:{port}` and \
         `127.0.0.1:{port}` pre-resolved (the engine sorts, IPv6 connects); the accepting side is a \
         child process (accept and close, backlog = `net.core.somaxconn`), so this process holds \
         one descriptor per connection. Every race keeps its connection until all have finished.\n"
    );
    println!("| measure | value |");
    println!("|---|---:|");
    println!(
        "| wall time, first spawn to last race finished | {} |",
        Human(wall)
    );
    if let Some(l) = lat {
        println!(
            "| one race's time to connect: median / p90 / max | {} / {} / {} |",
            Human(l.median),
            Human(l.p90),
            Human(l.max)
        );
    }
    println!(
        "| races connected / failed | {} / {} |",
        latencies.len(),
        failures.len()
    );
    if let Some(first) = failures.first() {
        println!("| first failure | {} |", first.replace('|', "/"));
    }
    println!(
        "| connections accepted by the other side | {} |",
        accepted
            .map(|a| a.to_string())
            .unwrap_or_else(|| "?".into())
    );
    println!(
        "| races in flight at once (most) | {} |",
        max_in_flight.load(Ordering::Relaxed)
    );
    if let Some(fds) = fds_at_peak {
        println!("| descriptors open with every connection held | {fds} |");
    }
    println!(
        "| peak RSS (VmHWM) / RSS before the races | {} / {} |",
        mib(hwm),
        mib(rss_before)
    );
    println!(
        "| peak RSS growth per race | {:.1} KiB |",
        hwm.saturating_sub(rss_before) as f64 / n as f64
    );
    println!(
        "| peak heap growth per race (everything: task, driver, engine, report, socket) | {:.0} B |",
        peak_heap as f64 / n as f64
    );
    println!(
        "| **engine bytes per race** (`size_of::<Race>()` + its peak heap; target ≤ 1024) | **{}** ({} + {}) |",
        footprint.bytes_per_race(),
        footprint.race_size,
        footprint.peak_heap
    );
    println!(
        "\nEngine bytes per race: one race measured alone with the counting allocator (a host \
         name, AAAA and A answered with one address each, the IPv6 attempt fails and IPv4 \
         connects: every stage of a 2-address race), the engine value itself plus the most \
         heap it held at any moment, the DNS answers it keeps included. The heap and RSS rows \
         above cover everything the process holds per race. Counted by the benchmark's \
         counting allocator (a few atomic adds per allocation), which this binary always uses."
    );
    if accepted.is_some_and(|a| a < latencies.len()) || !failures.is_empty() {
        std::process::exit(2);
    }
}
