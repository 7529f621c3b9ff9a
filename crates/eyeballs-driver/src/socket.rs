//! Socket preparation, shared by every adapter: a non-blocking TCP socket, bound to the
//! family's local address, the user's hook run on it, and the connect started; then the check
//! that tells a finished connect from a spurious wake-up.

use std::io;
use std::net::SocketAddr;

use eyeballs::{Attempt, AttemptFailure, Protocol};
use socket2::{Domain, SockRef, Socket, Type};

use crate::settings::SocketConfig;

/// Creates a non-blocking TCP socket for `peer`, binds it to the configured local address of
/// its family, runs the socket hook, and starts connecting. The connect is in progress (or, on
/// some systems, already done) when this returns: wait for the socket to become writable,
/// then call [`finish_connect`].
///
/// Every error (socket creation, bind, hook, an immediate connect failure such as
/// `ECONNREFUSED` or `ENETUNREACH`) is returned as is; the socket is closed.
pub fn start_connect(peer: SocketAddr, config: &SocketConfig) -> io::Result<Socket> {
    let socket = nonblocking_stream(Domain::for_address(peer))?;
    if let Some(local) = config.local_for(&peer) {
        socket.bind(&local.into())?;
    }
    if let Some(hook) = &config.hook {
        hook(&socket, peer)?;
    }
    match socket.connect(&peer.into()) {
        Ok(()) => {}
        Err(e) if connect_in_progress(&e) => {}
        Err(e) => return Err(e),
    }
    Ok(socket)
}

/// A non-blocking TCP socket for `domain`: created so (`SOCK_NONBLOCK`) on Linux and
/// Android, which saves two `fcntl` calls per attempt; made so after creation elsewhere.
fn nonblocking_stream(domain: Domain) -> io::Result<Socket> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        Socket::new(
            domain,
            Type::STREAM.nonblocking(),
            Some(socket2::Protocol::TCP),
        )
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let socket = Socket::new(domain, Type::STREAM, Some(socket2::Protocol::TCP))?;
        socket.set_nonblocking(true)?;
        Ok(socket)
    }
}

/// Starts an engine attempt: [`start_connect`] for TCP; QUIC attempts (possible only when
/// the engine config allows QUIC) fail with `io::ErrorKind::Unsupported`, since this driver
/// connects TCP.
pub fn start_attempt(attempt: &Attempt, config: &SocketConfig) -> io::Result<Socket> {
    if attempt.protocol != Protocol::Tcp {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this driver connects over TCP only; QUIC attempts need a QUIC-capable network",
        ));
    }
    start_connect(attempt.addr, config)
}

fn connect_in_progress(e: &io::Error) -> bool {
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::EINPROGRESS) {
        return true;
    }
    e.kind() == io::ErrorKind::WouldBlock
}

/// Where a started connect is, once its socket was reported writable.
#[derive(Debug)]
pub enum ConnectProgress {
    /// The connection is established.
    Connected,
    /// The connect failed with this error (`SO_ERROR`).
    Failed(io::Error),
    /// Not yet: the wake-up was spurious; wait for writability again.
    InProgress,
}

/// Checks a socket whose non-blocking connect was started by [`start_connect`] after it was
/// reported writable: `SO_ERROR` first, then whether it has a peer.
pub fn finish_connect(socket: SockRef<'_>) -> ConnectProgress {
    match socket.take_error() {
        Ok(Some(e)) => return ConnectProgress::Failed(e),
        Ok(None) => {}
        Err(e) => return ConnectProgress::Failed(e),
    }
    match socket.peer_addr() {
        Ok(_) => ConnectProgress::Connected,
        Err(e) if e.kind() == io::ErrorKind::NotConnected => ConnectProgress::InProgress,
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => ConnectProgress::InProgress,
        Err(e) => ConnectProgress::Failed(e),
    }
}

/// How the engine should count an attempt that failed with `error`.
pub fn failure_of(error: &io::Error) -> AttemptFailure {
    use io::ErrorKind as K;
    match error.kind() {
        K::ConnectionRefused => AttemptFailure::Refused,
        K::HostUnreachable | K::NetworkUnreachable | K::AddrNotAvailable | K::NetworkDown => {
            AttemptFailure::Unreachable
        }
        K::TimedOut => AttemptFailure::TimedOut,
        K::ConnectionReset | K::ConnectionAborted => AttemptFailure::Reset,
        _ => AttemptFailure::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::time::{Duration, Instant};

    fn wait(socket: &Socket) -> ConnectProgress {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match finish_connect(SockRef::from(socket)) {
                ConnectProgress::InProgress if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(1));
                }
                other => return other,
            }
        }
    }

    #[test]
    fn connects_binds_and_runs_the_hook() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let peer = listener.local_addr().unwrap();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        let config = SocketConfig {
            local_v4: Some("127.0.0.3:0".parse().unwrap()),
            local_v6: None,
            hook: Some(std::sync::Arc::new(move |s: &Socket, p| {
                s.set_tcp_nodelay(true)?;
                seen2.lock().unwrap().push(p);
                Ok(())
            })),
        };
        let socket = start_connect(peer, &config).unwrap();
        assert!(matches!(wait(&socket), ConnectProgress::Connected));
        assert!(socket.tcp_nodelay().unwrap());
        let local = socket.local_addr().unwrap().as_socket().unwrap();
        assert_eq!(local.ip().to_string(), "127.0.0.3");
        assert_eq!(*seen.lock().unwrap(), [peer]);
    }

    #[test]
    fn refused_and_hook_errors_are_reported() {
        // A bound socket that does not listen: SYNs get a RST.
        let closed = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        closed
            .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
            .unwrap();
        let peer = closed.local_addr().unwrap().as_socket().unwrap();
        let result = start_connect(peer, &SocketConfig::default()).map(|s| wait(&s));
        let error = match result {
            Err(e) | Ok(ConnectProgress::Failed(e)) => e,
            Ok(other) => panic!("expected refused, got {other:?}"),
        };
        assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
        assert_eq!(failure_of(&error), AttemptFailure::Refused);

        let config = SocketConfig {
            hook: Some(std::sync::Arc::new(|_: &Socket, _| {
                Err(io::Error::other("hook says no"))
            })),
            ..SocketConfig::default()
        };
        let e = start_connect(peer, &config).unwrap_err();
        assert_eq!(e.to_string(), "hook says no");
    }
}
