//! Connect overhead on loopback, one address, side by side in one run:
//! `eyeballs_tokio::connect` against `tokio::net::TcpStream::connect`, and
//! `eyeballs_mio::connect` against `std::net::TcpStream::connect`. `benches/run` turns the
//! estimates into ratios (`summary overhead`).
//!
//! The peer is the lab's accepting `Listener` (a background thread that accepts and closes),
//! on a listener with a deep backlog so that a burst of connects never overflows it (a
//! dropped SYN would cost a 1 s retransmission and wreck the numbers). Only the connect is
//! timed; closing is not.

// criterion's macros generate undocumented public functions.
#![allow(missing_docs)]

use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use eyeballs_lab::Listener;
use socket2::{Domain, SockRef, Socket, Type};

fn listener() -> Listener {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    socket.bind(&addr.into()).expect("bind 127.0.0.1:0");
    socket.listen(4096).expect("listen");
    Listener::from_std(socket.into()).expect("listener thread")
}

/// One timed connect by `connect`: only the connect is timed; the stream is then closed
/// with a reset (`SO_LINGER` 0), so that no TIME_WAIT piles up on the client's ports (a
/// growing TIME_WAIT list slows every later connect's port search, which would bias a pair
/// against whichever runs second).
fn timed<'a, S: AsFd>(mut connect: impl FnMut() -> S + 'a) -> Connect<'a> {
    Box::new(move || {
        let start = Instant::now();
        let stream = connect();
        let took = start.elapsed();
        let _ = SockRef::from(&stream).set_linger(Some(Duration::ZERO));
        drop(stream);
        took
    })
}

/// A pair member's timed connect.
type Connect<'a> = Box<dyn FnMut() -> Duration + 'a>;

/// Benchmarks a pair in `group`, A B B A (ids `name/1` and `name/2`), so that a drift in the
/// machine's speed during the run weighs on both alike; the summary averages the passes.
fn pair<'a>(
    c: &mut Criterion,
    group: &str,
    first: (&str, Connect<'a>),
    second: (&str, Connect<'a>),
) {
    let mut members = [first, second];
    let mut g = c.benchmark_group(group);
    for (pass, order) in [(1u32, [0usize, 1]), (2, [1, 0])] {
        for i in order {
            let (name, connect) = &mut members[i];
            g.bench_function(BenchmarkId::new(*name, pass), |b| {
                b.iter_custom(|iters| (0..iters).map(|_| connect()).sum())
            });
        }
    }
    g.finish();
}

fn overhead(c: &mut Criterion) {
    let server = listener();
    let addr = server.addr();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    pair(
        c,
        "connect_tokio",
        (
            "tokio",
            timed(|| {
                rt.block_on(tokio::net::TcpStream::connect(addr))
                    .expect("connect")
            }),
        ),
        (
            "eyeballs_tokio",
            timed(|| rt.block_on(eyeballs_tokio::connect(addr)).expect("connect")),
        ),
    );
    pair(
        c,
        "connect_blocking",
        (
            "std",
            timed(|| std::net::TcpStream::connect(addr).expect("connect")),
        ),
        (
            "eyeballs_mio",
            timed(|| eyeballs_mio::connect(addr).expect("connect")),
        ),
    );
    drop(server);
}

criterion_group!(benches, overhead);
criterion_main!(benches);
