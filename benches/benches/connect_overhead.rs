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

use criterion::{Criterion, criterion_group, criterion_main};
use eyeballs_lab::Listener;
use socket2::{Domain, SockRef, Socket, Type};

fn listener() -> Listener {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    socket.bind(&addr.into()).expect("bind 127.0.0.1:0");
    socket.listen(4096).expect("listen");
    Listener::from_std(socket.into()).expect("listener thread")
}

/// Times `connect` alone, `iters` times; each stream is then closed with a reset
/// (`SO_LINGER` 0) outside the timing, so that no TIME_WAIT piles up on the client's ports
/// (a growing TIME_WAIT list slows every later connect's port search, which would bias the
/// pair against whichever runs second).
fn time_connects<S: AsFd>(iters: u64, mut connect: impl FnMut() -> S) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let start = Instant::now();
        let stream = connect();
        total += start.elapsed();
        let _ = SockRef::from(&stream).set_linger(Some(Duration::ZERO));
        drop(stream);
    }
    total
}

fn overhead(c: &mut Criterion) {
    let server = listener();
    let addr = server.addr();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");

    let mut group = c.benchmark_group("connect_tokio");
    group.bench_function("tokio", |b| {
        b.iter_custom(|iters| {
            time_connects(iters, || {
                rt.block_on(tokio::net::TcpStream::connect(addr))
                    .expect("connect")
            })
        })
    });
    group.bench_function("eyeballs_tokio", |b| {
        b.iter_custom(|iters| {
            time_connects(iters, || {
                rt.block_on(eyeballs_tokio::connect(addr)).expect("connect")
            })
        })
    });
    group.finish();

    let mut group = c.benchmark_group("connect_blocking");
    group.bench_function("std", |b| {
        b.iter_custom(|iters| {
            time_connects(iters, || {
                std::net::TcpStream::connect(addr).expect("connect")
            })
        })
    });
    group.bench_function("eyeballs_mio", |b| {
        b.iter_custom(|iters| {
            time_connects(iters, || eyeballs_mio::connect(addr).expect("connect"))
        })
    });
    group.finish();
    drop(server);
}

criterion_group!(benches, overhead);
criterion_main!(benches);
