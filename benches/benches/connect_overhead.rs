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

mod common;

use std::net::{Ipv4Addr, SocketAddr};

use common::{pair, timed};
use criterion::{Criterion, criterion_group, criterion_main};
use eyeballs_lab::Listener;
use socket2::{Domain, Socket, Type};

fn listener() -> Listener {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    socket.bind(&addr.into()).expect("bind 127.0.0.1:0");
    socket.listen(4096).expect("listen");
    Listener::from_std(socket.into()).expect("listener thread")
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
