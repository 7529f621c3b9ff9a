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
    let socket = prepare(peer, config, false)?;
    match socket.connect(&peer.into()) {
        Ok(()) => {}
        Err(e) if connect_in_progress(&e) => {}
        Err(e) => return Err(e),
    }
    Ok(socket)
}

/// Connects to `peer`, blocking the thread until the connection is established or has
/// failed, as `std::net::TcpStream::connect` does: the socket prepared exactly as
/// [`start_connect`] prepares it (the device and local address bound, the options set, the
/// hook run on a non-blocking socket, as every attempt's), then one blocking `connect(2)`
/// (again when a signal interrupts it). The socket returned is connected and in blocking
/// mode. A race whose only attempt in flight is this one and that has no timer to wait for
/// ([`Session::poll_sole_attempt`](crate::Session::poll_sole_attempt)) can make it this
/// way: a blocking connect with nothing else to wait for is one system call, not a
/// readiness wait.
///
/// The errors are [`start_connect`]'s and the connect's own (`ECONNREFUSED`, the system's
/// `ETIMEDOUT`, ...), as [`finish_connect`] reports them after a non-blocking connect.
///
/// ```
/// use std::net::TcpListener;
/// use eyeballs_driver::{Settings, socket::connect_blocking};
///
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let settings = Settings::default().tcp_nodelay(true);
/// let socket = connect_blocking(listener.local_addr()?, &settings.socket)?;
/// assert_eq!(socket.peer_addr()?.as_socket(), Some(listener.local_addr()?));
/// assert!(socket.tcp_nodelay()?);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn connect_blocking(peer: SocketAddr, config: &SocketConfig) -> io::Result<Socket> {
    let socket = prepare(peer, config, true)?;
    // A send timeout (`SO_SNDTIMEO`) the hook set bounds a blocking connect (Linux gives up
    // with `EINPROGRESS` when it passes), never a non-blocking one: it is lifted for the
    // connect and put back for the stream.
    let send_timeout = match &config.hook {
        Some(_) => socket.write_timeout()?,
        None => None,
    };
    if send_timeout.is_some() {
        socket.set_write_timeout(None)?;
    }
    connect_now(&socket, peer)?;
    if send_timeout.is_some() {
        socket.set_write_timeout(send_timeout)?;
    }
    Ok(socket)
}

/// A blocking `connect(2)` of `socket` to `peer`, asked again when a signal interrupts it.
fn connect_now(socket: &Socket, peer: SocketAddr) -> io::Result<()> {
    let addr = peer.into();
    let mut interrupted = false;
    loop {
        match socket.connect(&addr) {
            Ok(()) => return Ok(()),
            // The connect goes on in the system: ask again (std's `TcpStream::connect` does
            // the same), and a connection made meanwhile is one.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => interrupted = true,
            #[cfg(unix)]
            Err(e) if interrupted && e.raw_os_error() == Some(libc::EISCONN) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

/// An attempt's socket for `peer`, every step of [`start_connect`] before the connect:
/// created (non-blocking unless `blocking`; the hook always sees it non-blocking), bound to
/// the device and the local address, its options set, the hook run. With `blocking`, it is
/// in blocking mode when returned.
fn prepare(peer: SocketAddr, config: &SocketConfig, blocking: bool) -> io::Result<Socket> {
    let domain = Domain::for_address(peer);
    // Created blocking when nothing can see it before the connect: one system call less.
    let socket = if blocking && config.hook.is_none() {
        Socket::new(domain, Type::STREAM, Some(socket2::Protocol::TCP))?
    } else {
        nonblocking_stream(domain)?
    };
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
        if blocking {
            socket.set_nonblocking(false)?;
        }
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
    start_connect(tcp_peer(attempt)?, config)
}

/// Makes an engine attempt blocking the thread: [`connect_blocking`] for TCP; QUIC attempts
/// fail as [`start_attempt`] fails them.
///
/// ```
/// use std::net::TcpListener;
/// use eyeballs::{Action, Race, Target};
/// use eyeballs_driver::{SocketConfig, socket::connect_attempt_blocking};
///
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let target = Target::addresses([listener.local_addr()?]);
/// let mut race = Race::new(Default::default(), target, eyeballs::Instant::ZERO).unwrap();
/// let Some(Action::Attempt(attempt)) = race.poll_action() else { panic!() };
/// let socket = connect_attempt_blocking(&attempt, &SocketConfig::default())?;
/// assert_eq!(socket.peer_addr()?.as_socket(), Some(listener.local_addr()?));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn connect_attempt_blocking(attempt: &Attempt, config: &SocketConfig) -> io::Result<Socket> {
    connect_blocking(tcp_peer(attempt)?, config)
}

/// The peer of a TCP attempt; a QUIC attempt is refused.
fn tcp_peer(attempt: &Attempt) -> io::Result<SocketAddr> {
    if attempt.protocol != Protocol::Tcp {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this driver connects over TCP only; QUIC attempts need a QUIC-capable network",
        ));
    }
    Ok(attempt.addr)
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
/// reported writable: whether it has a peer (connected: one system call, the common case);
/// if not, `SO_ERROR` says why (failed), or nothing does (in progress).
///
/// An error the system reports for a connection after it was established (an RST, an ICMP
/// error with `IP_RECVERR`) is the connection's: its first read or write returns it, as it
/// would had it arrived a moment later.
pub fn finish_connect(socket: SockRef<'_>) -> ConnectProgress {
    let not_connected = match socket.peer_addr() {
        Ok(_) => return ConnectProgress::Connected,
        Err(e) => e,
    };
    match socket.take_error() {
        Ok(Some(e)) | Err(e) => return ConnectProgress::Failed(e),
        Ok(None) => {}
    }
    if not_connected.kind() == io::ErrorKind::NotConnected {
        return ConnectProgress::InProgress;
    }
    #[cfg(unix)]
    if not_connected.raw_os_error() == Some(libc::EINPROGRESS) {
        return ConnectProgress::InProgress;
    }
    ConnectProgress::Failed(not_connected)
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

    /// The blocking connect prepares the socket as every attempt's (the hook sees it
    /// non-blocking, with the options set) and returns it connected and blocking; its errors
    /// are the non-blocking connect's. (Unix: socket2 reads the blocking mode there.)
    #[cfg(unix)]
    #[test]
    fn a_blocking_connect_is_an_attempt_made_in_one_call() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let peer = listener.local_addr().unwrap();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        let settings = crate::Settings::default()
            .tcp_nodelay(true)
            .local_address("127.0.0.3".parse().unwrap())
            .socket_hook(move |s, p| {
                seen2
                    .lock()
                    .unwrap()
                    .push((p, s.tcp_nodelay()?, s.nonblocking()?));
                Ok(())
            });
        let socket = connect_blocking(peer, &settings.socket).unwrap();
        assert_eq!(*seen.lock().unwrap(), [(peer, true, true)]);
        assert!(!socket.nonblocking().unwrap(), "returned in blocking mode");
        assert!(socket.tcp_nodelay().unwrap());
        assert_eq!(socket.peer_addr().unwrap().as_socket(), Some(peer));
        let local = socket.local_addr().unwrap().as_socket().unwrap();
        assert_eq!(local.ip().to_string(), "127.0.0.3");

        // A send timeout the hook sets is the stream's, not the connect's.
        let timed = crate::Settings::default()
            .socket_hook(|s, _| s.set_write_timeout(Some(std::time::Duration::from_millis(70))));
        let socket = connect_blocking(peer, &timed.socket).unwrap();
        // As the system keeps it (rounded to its clock's ticks).
        let kept = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        kept.set_write_timeout(Some(std::time::Duration::from_millis(70)))
            .unwrap();
        assert_eq!(
            socket.write_timeout().unwrap(),
            kept.write_timeout().unwrap()
        );
        assert!(socket.write_timeout().unwrap().is_some());

        // Without a hook, nothing sees the socket before it connects.
        let socket = connect_blocking(peer, &SocketConfig::default()).unwrap();
        assert!(!socket.nonblocking().unwrap());

        let closed = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        closed
            .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
            .unwrap();
        let refusing = closed.local_addr().unwrap().as_socket().unwrap();
        let e = connect_blocking(refusing, &SocketConfig::default()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
        assert_eq!(failure_of(&e), AttemptFailure::Refused);
        let hook_says_no = SocketConfig {
            hook: Some(std::sync::Arc::new(|_: &Socket, _| {
                Err(io::Error::other("hook says no"))
            })),
            ..SocketConfig::default()
        };
        let e = connect_blocking(peer, &hook_says_no).unwrap_err();
        assert_eq!(e.to_string(), "hook says no");
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
