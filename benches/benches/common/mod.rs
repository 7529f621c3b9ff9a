//! What the connect benchmarks share (`connect_overhead`, `secure_overhead`): a timed connect
//! whose socket is then reset, and a pair of contenders benchmarked A B B A.

use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion};
use socket2::SockRef;

/// What a timed connect gives back: a connection with a TCP socket under it (reset once the
/// timing is done).
pub trait Connected {
    /// The TCP socket under the connection.
    fn socket(&self) -> BorrowedFd<'_>;
}

impl Connected for std::net::TcpStream {
    fn socket(&self) -> BorrowedFd<'_> {
        self.as_fd()
    }
}

impl Connected for tokio::net::TcpStream {
    fn socket(&self) -> BorrowedFd<'_> {
        self.as_fd()
    }
}

impl<T: Connected> Connected for eyeballs_tokio::tls::TlsStream<T> {
    fn socket(&self) -> BorrowedFd<'_> {
        self.get_ref().0.socket()
    }
}

impl<S: Connected> Connected for eyeballs_tokio::tls::Secured<S> {
    fn socket(&self) -> BorrowedFd<'_> {
        self.get_ref().socket()
    }
}

/// A pair member's timed connect.
pub type Connect<'a> = Box<dyn FnMut() -> Duration + 'a>;

/// One timed connect by `connect`: only the connect is timed; the connection is then
/// closed with a reset (`SO_LINGER` 0), so that no TIME_WAIT piles up on the client's
/// ports (a growing TIME_WAIT list slows every later connect's port search, which would
/// bias a pair against whichever runs second).
pub fn timed<'a, S: Connected>(mut connect: impl FnMut() -> S + 'a) -> Connect<'a> {
    Box::new(move || {
        let start = Instant::now();
        let connection = connect();
        let took = start.elapsed();
        let _ = SockRef::from(&connection.socket()).set_linger(Some(Duration::ZERO));
        drop(connection);
        took
    })
}

/// Benchmarks a pair in `group`, A B B A (ids `name/1` and `name/2`), so that a drift in the
/// machine's speed during the run weighs on both alike; the summary averages the passes.
pub fn pair<'a>(
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
