//! Socket preparation, shared by every adapter: a non-blocking TCP socket, bound to the
//! family's local address, the user's hook run on it, and the connect started; then the check
//! that tells a finished connect from a spurious wake-up.

use std::io;
use std::net::SocketAddr;

use eyeballs::{Attempt, AttemptFailure, Protocol};
use socket2::{Domain, SockRef, Socket, TcpKeepalive, Type};

use crate::settings::{Keepalive, SocketConfig};

/// Creates a non-blocking TCP socket for `peer`, binds it to the configured device and local
/// address of its family, sets the configured options ([`set_options`]), runs the socket
/// hook, and starts connecting. The connect is in progress (or, on some systems, already
/// done) when this returns: wait for the socket to become writable, then call
/// [`finish_connect`].
///
/// Every error (socket creation, bind, an option, the hook, an immediate connect failure
/// such as `ECONNREFUSED` or `ENETUNREACH`) is returned (an option's error names the
/// option); the socket is closed.
pub fn start_connect(peer: SocketAddr, config: &SocketConfig) -> io::Result<Socket> {
    let socket = nonblocking_stream(Domain::for_address(peer))?;
    #[cfg(any(target_os = "android", target_os = "fuchsia", target_os = "linux"))]
    if let Some(device) = &config.bind_device {
        socket
            .bind_device(Some(device.as_bytes()))
            .map_err(|e| option_error(e, &format!("binding to the interface {device:?}")))?;
    }
    if let Some(local) = config.local_for(&peer) {
        socket.bind(&local.into())?;
    }
    set_options(&socket, config)?;
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

/// Sets the options of `config` on an attempt's socket: `TCP_NODELAY`, keepalive and its
/// parameters, the buffer sizes (the device and the local address are bound by
/// [`start_connect`] first). The one place they are set. An option the system refuses
/// fails with its error, prefixed with the option's name; keepalive parameters this system
/// does not have fail with `io::ErrorKind::Unsupported`.
///
/// ```
/// use eyeballs_driver::{Settings, socket::set_options};
/// use socket2::{Domain, Socket, Type};
///
/// let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
/// set_options(&socket, &Settings::default().tcp_nodelay(true).socket)?;
/// assert!(socket.tcp_nodelay()?);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn set_options(socket: &Socket, config: &SocketConfig) -> io::Result<()> {
    if let Some(nodelay) = config.tcp_nodelay {
        socket
            .set_tcp_nodelay(nodelay)
            .map_err(|e| option_error(e, "setting TCP_NODELAY"))?;
    }
    if let Some(keepalive) = &config.keepalive {
        socket
            .set_tcp_keepalive(&tcp_keepalive(keepalive)?)
            .map_err(|e| option_error(e, "setting TCP keepalive"))?;
    }
    if let Some(bytes) = config.send_buffer_size {
        socket
            .set_send_buffer_size(bytes)
            .map_err(|e| option_error(e, "setting SO_SNDBUF"))?;
    }
    if let Some(bytes) = config.recv_buffer_size {
        socket
            .set_recv_buffer_size(bytes)
            .map_err(|e| option_error(e, "setting SO_RCVBUF"))?;
    }
    Ok(())
}

/// `e`, its kind kept, its text saying what was being done.
fn option_error(e: io::Error, doing: &str) -> io::Error {
    io::Error::new(e.kind(), format!("{doing}: {e}"))
}

/// socket2's keepalive parameters for `k`; parameters this system lacks are an error.
fn tcp_keepalive(k: &Keepalive) -> io::Result<TcpKeepalive> {
    let mut params = TcpKeepalive::new();
    if let Some(time) = k.time {
        params = params.with_time(time);
    }
    if let Some(interval) = k.interval {
        #[cfg(any(
            target_os = "android",
            target_os = "dragonfly",
            target_os = "freebsd",
            target_os = "fuchsia",
            target_os = "illumos",
            target_os = "ios",
            target_os = "linux",
            target_os = "macos",
            target_os = "netbsd",
            target_os = "tvos",
            target_os = "watchos",
            target_os = "windows",
        ))]
        {
            params = params.with_interval(interval);
        }
        #[cfg(not(any(
            target_os = "android",
            target_os = "dragonfly",
            target_os = "freebsd",
            target_os = "fuchsia",
            target_os = "illumos",
            target_os = "ios",
            target_os = "linux",
            target_os = "macos",
            target_os = "netbsd",
            target_os = "tvos",
            target_os = "watchos",
            target_os = "windows",
        )))]
        {
            let _ = interval;
            return Err(unsupported("a TCP keepalive interval (TCP_KEEPINTVL)"));
        }
    }
    if let Some(retries) = k.retries {
        #[cfg(any(
            target_os = "android",
            target_os = "dragonfly",
            target_os = "freebsd",
            target_os = "fuchsia",
            target_os = "illumos",
            target_os = "ios",
            target_os = "linux",
            target_os = "macos",
            target_os = "netbsd",
            target_os = "tvos",
            target_os = "watchos",
        ))]
        {
            params = params.with_retries(retries);
        }
        #[cfg(not(any(
            target_os = "android",
            target_os = "dragonfly",
            target_os = "freebsd",
            target_os = "fuchsia",
            target_os = "illumos",
            target_os = "ios",
            target_os = "linux",
            target_os = "macos",
            target_os = "netbsd",
            target_os = "tvos",
            target_os = "watchos",
        )))]
        {
            let _ = retries;
            return Err(unsupported("a TCP keepalive probe count (TCP_KEEPCNT)"));
        }
    }
    Ok(params)
}

#[allow(dead_code)] // used on the systems without some keepalive parameter
fn unsupported(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("{what} cannot be set on this system"),
    )
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

/// How the engine should count an attempt that failed with `error`: a
/// [`HandshakeError`](crate::attempt::HandshakeError) (the secure handshake failed after
/// the transport connected) is [`AttemptFailure::Handshake`], whatever its kind; otherwise
/// by the error's kind.
///
/// ```
/// use std::io;
/// use eyeballs::AttemptFailure;
/// use eyeballs_driver::attempt::HandshakeError;
/// use eyeballs_driver::socket::failure_of;
///
/// assert_eq!(failure_of(&io::ErrorKind::ConnectionRefused.into()), AttemptFailure::Refused);
/// let reset_in_tls = HandshakeError::new("TLS", io::ErrorKind::ConnectionReset.into());
/// assert_eq!(failure_of(&reset_in_tls.into()), AttemptFailure::Handshake);
/// ```
pub fn failure_of(error: &io::Error) -> AttemptFailure {
    use io::ErrorKind as K;
    if crate::attempt::HandshakeError::of(error).is_some() {
        return AttemptFailure::Handshake;
    }
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

    /// The options are set before the hook runs, so it sees them; a device that does not
    /// exist fails the attempt with an error naming it.
    #[test]
    fn options_are_set_before_the_hook_and_their_errors_name_them() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let peer = listener.local_addr().unwrap();
        let settings = crate::Settings::default()
            .tcp_nodelay(true)
            .tcp_keepalive(Duration::from_secs(45))
            .socket_hook(|s, _| match s.tcp_nodelay()? && s.keepalive()? {
                true => Ok(()),
                false => Err(io::Error::other("the hook ran before the options")),
            });
        let socket = start_connect(peer, &settings.socket).unwrap();
        assert!(matches!(wait(&socket), ConnectProgress::Connected));
        #[cfg(target_os = "linux")]
        assert_eq!(
            socket.tcp_keepalive_time().unwrap(),
            Duration::from_secs(45)
        );

        #[cfg(target_os = "linux")]
        {
            let settings = crate::Settings::default().bind_device("no-such-if0");
            let e = start_connect(peer, &settings.socket).unwrap_err();
            assert!(
                e.to_string()
                    .starts_with("binding to the interface \"no-such-if0\": "),
                "{e}"
            );
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
            ..SocketConfig::default()
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
