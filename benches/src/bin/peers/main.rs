//! Time to connect in the broken-IPv6 loopback lab: eyeballs (tokio, smol, async-std, mio)
//! against the connects a user would otherwise pick (tokio's `TcpStream::connect` bounded by
//! a timeout, hyper-util's `HttpConnector`, curl and Python asyncio where installed), side
//! by side in one run, round-robin (round `r` runs every contender once, so machine noise
//! spreads over all of them); then ten consecutive connects through one connector with a
//! `SharedHistory`.
//!
//! The lab (`eyeballs_lab::BrokenIpv6`): `[::1]:P` has a full accept queue (SYNs dropped, a
//! connect hangs), `127.0.0.1:P` accepts. Given `--name` resolving to both (`benches/run`
//! provides one in a private mount namespace with its own `/etc/hosts`), every contender
//! looks the name up itself; otherwise each gets both addresses pre-resolved (its own
//! "resolve to" option) and the table says so.
//!
//! Then the TLS-dead-IPv6 comparison (`tls`): time to a usable TLS connection when `[::1]:P`
//! accepts TCP and never speaks and `127.0.0.1:P` serves TLS, for eyeballs' secure racing
//! against hyper-util + hyper-rustls, curl and Python asyncio, which race TCP and then run
//! TLS over the winner.
//!
//! Prints the Markdown sections on stdout and writes the SVG charts to `--svg` and
//! `--tls-svg`.

// What every module of this binary uses: each takes these, and the others' items (the
// `use module::*` below), with `use super::*`.
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write as _};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use eyeballs::{CONNECTION_ATTEMPT_DELAY, Target};
use eyeballs_benches::chart::{self, Bar, Marker, Row};
use eyeballs_benches::stats::{Human, Summary};
use eyeballs_lab::{BrokenIpv6, V4_LOOPBACK, V6_LOOPBACK};
use eyeballs_tokio::{HistoryConfig, NetworkId, SharedHistory};

/// The broken-IPv6 comparison (see the crate's RESULTS.md).
#[derive(Parser, Debug)]
struct Args {
    /// A host name that resolves to both ::1 and 127.0.0.1. Without it, or when it does not
    /// resolve to both, every contender is given the two addresses pre-resolved.
    #[arg(long)]
    name: Option<String>,
    /// Measured connects per contender (after one warm-up connect each).
    #[arg(long, default_value_t = 15)]
    reps: usize,
    /// The bound on every connect that may hang, in milliseconds: tokio's plain
    /// `TcpStream::connect`, and every contender of the TLS-dead-IPv6 comparison.
    #[arg(long, default_value_t = 2000)]
    bound_ms: u64,
    /// Consecutive connects in the history run.
    #[arg(long, default_value_t = 10)]
    history_connects: usize,
    /// Where to write the SVG chart.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// The curl to run.
    #[arg(long, default_value = "curl")]
    curl: String,
    /// The Python to run.
    #[arg(long, default_value = "python3")]
    python: String,
    /// Where to write the TLS-dead-IPv6 comparison's SVG chart.
    #[arg(long)]
    tls_svg: Option<PathBuf>,
    /// Run only this comparison (by default both, the broken-IPv6 one first).
    #[arg(long, value_enum)]
    only: Option<Comparison>,
}

/// The comparisons this binary runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Comparison {
    /// Time to connect with a broken IPv6 path, and the history runs.
    Tcp,
    /// Time to a TLS connection with a TLS-dead IPv6 path.
    Tls,
}

fn main() {
    let args = Args::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => Arc::new(rt),
        Err(e) => {
            eprintln!("peers: cannot start a tokio runtime: {e}");
            std::process::exit(1);
        }
    };
    let mut out = String::new();
    if args.only != Some(Comparison::Tls) {
        tcp_comparison(&args, &rt, &mut out);
    }
    if args.only != Some(Comparison::Tcp) {
        if !out.is_empty() {
            out.push('\n');
        }
        tls::comparison(&args, &rt, &mut out);
    }
    print!("{out}");
}

mod contender;
mod external;
mod in_process;
mod lab;
mod report;
mod tcp;
mod tls;

// Every module's items, for main and for each other (through `use super::*`).
use contender::*;
use external::*;
use in_process::*;
use lab::*;
use report::*;
use tcp::*;

#[cfg(test)]
mod tests;
