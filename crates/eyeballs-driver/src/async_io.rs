//! The runtime seam pieces shared by the adapters built on `async-io` (smol, async-std):
//! its timer and its reactor.

use std::io;
use std::net::TcpStream;
use std::time::Instant as StdInstant;

use async_io::{Async, Timer};
use socket2::SockRef;

use crate::runtime::BoxFuture;
use crate::socket::{ConnectProgress, finish_connect};

/// [`Runtime::sleep_until`](crate::Runtime::sleep_until) with `async-io`'s timer.
pub fn sleep_until(deadline: StdInstant) -> BoxFuture<()> {
    Box::pin(async move {
        Timer::at(deadline).await;
    })
}

/// [`Runtime::connect`](crate::Runtime::connect) with `async-io`'s reactor: registers the
/// socket, waits until it is writable, checks the connect's result.
pub fn connect(socket: socket2::Socket) -> BoxFuture<io::Result<Async<TcpStream>>> {
    Box::pin(async move {
        let stream = Async::new_nonblocking(TcpStream::from(socket))?;
        loop {
            stream.writable().await?;
            match finish_connect(SockRef::from(stream.get_ref())) {
                ConnectProgress::Connected => return Ok(stream),
                ConnectProgress::Failed(e) => return Err(e),
                ConnectProgress::InProgress => {}
            }
        }
    })
}
