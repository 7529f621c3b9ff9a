//! A TLS server for timing client handshakes on loopback ([`HandshakeServer`]), and the
//! client configuration the timed connects share ([`full_handshake_client`]).
//!
//! The lab's `eyeballs_lab::tls::TlsServer` is built for tests: it polls a non-blocking
//! accept every millisecond and starts a thread per connection, which adds up to a
//! millisecond of noise to every connect, as much as the handshake being timed. This one
//! waits in a blocking `accept` on a few threads, each serving the connections it accepts
//! in turn: a connect's handshake starts as soon as the kernel has the connection.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use eyeballs_lab::tls::{Issued, TestCa};
use eyeballs_tokio::tls::rustls::client::Resumption;
use eyeballs_tokio::tls::rustls::{ClientConfig, ServerConfig, ServerConnection};
use eyeballs_tokio::tls::{TlsConfig, rustls};

/// How long a server connection waits for its client before giving up: a connection whose
/// client went away mid-handshake must not hold a server thread for long.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

/// A TLS server on threads that each accept a connection, run the server side of the
/// handshake, close it, and accept the next. No session tickets are sent, so every
/// handshake is a full one. Counts finished handshakes; stops and joins its threads on
/// drop.
///
/// ```
/// use std::sync::Arc;
/// use eyeballs_benches::tls::{HandshakeServer, full_handshake_client};
/// use eyeballs_lab::tls::TestCa;
/// use eyeballs_tokio::tls::rustls::{ClientConnection, StreamOwned, pki_types::ServerName};
///
/// let ca = TestCa::new("bench CA")?;
/// let server = HandshakeServer::bind("127.0.0.1:0".parse()?, &ca.issue(&["localhost"])?, 2)?;
/// let client = Arc::new(full_handshake_client(&ca)?);
/// let conn = ClientConnection::new(client, ServerName::try_from("localhost")?)?;
/// let mut tls = StreamOwned::new(conn, std::net::TcpStream::connect(server.addr())?);
/// while tls.conn.is_handshaking() {
///     tls.conn.complete_io(&mut tls.sock)?;
/// }
/// drop(tls);
/// drop(server); // joins its threads: the handshake has been counted
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct HandshakeServer {
    addr: SocketAddr,
    handshakes: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl HandshakeServer {
    /// Serves `cert` on `addr` (port 0: any free port) with `threads` accepting threads (at
    /// least one), and a backlog deep enough that a burst of connects never overflows it
    /// (a dropped SYN costs a one-second retransmission).
    pub fn bind(addr: SocketAddr, cert: &Issued, threads: usize) -> io::Result<HandshakeServer> {
        let base: Arc<ServerConfig> = cert.server_config(&[])?;
        let mut config = ServerConfig::clone(&base);
        config.send_tls13_tickets = 0;
        let config = Arc::new(config);
        let socket = socket2::Socket::new(
            socket2::Domain::for_address(addr),
            socket2::Type::STREAM,
            None,
        )?;
        socket.bind(&addr.into())?;
        socket.listen(4096)?;
        let listener: TcpListener = socket.into();
        let addr = listener.local_addr()?;
        let handshakes = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let mut server = HandshakeServer {
            addr,
            handshakes,
            stop,
            threads: Vec::new(),
        };
        for i in 0..threads.max(1) {
            let listener = listener.try_clone()?;
            let (config, handshakes, stop) = (
                config.clone(),
                server.handshakes.clone(),
                server.stop.clone(),
            );
            // On an error here, `server` is dropped and stops the threads already started.
            let thread = std::thread::Builder::new()
                .name(format!("bench-tls-{i}-{addr}"))
                .spawn(move || {
                    while let Ok((conn, _)) = listener.accept() {
                        if stop.load(Ordering::Acquire) {
                            return;
                        }
                        if handshake(conn, config.clone()).is_ok() {
                            handshakes.fetch_add(1, Ordering::AcqRel);
                        }
                    }
                })?;
            server.threads.push(thread);
        }
        Ok(server)
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many handshakes it has finished so far.
    pub fn handshakes(&self) -> usize {
        self.handshakes.load(Ordering::Acquire)
    }
}

impl Drop for HandshakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // One connection per thread wakes each from its `accept`; a thread busy with a
        // client takes one when it is done.
        for _ in &self.threads {
            let _ = TcpStream::connect_timeout(&self.addr, CLIENT_TIMEOUT);
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// The server side of one handshake on `conn`, which is then closed.
fn handshake(conn: TcpStream, config: Arc<ServerConfig>) -> io::Result<()> {
    conn.set_nodelay(true)?;
    conn.set_read_timeout(Some(CLIENT_TIMEOUT))?;
    conn.set_write_timeout(Some(CLIENT_TIMEOUT))?;
    let mut tls = rustls::StreamOwned::new(
        ServerConnection::new(config).map_err(io::Error::other)?,
        conn,
    );
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(())
}

/// A client configuration trusting `ca` (the one [`TlsConfig::with_roots`] builds: the
/// driver's aws-lc-rs provider, TLS 1.2 and 1.3), with session resumption off: every
/// handshake is a full one, whichever contender made the previous one.
///
/// ```
/// let ca = eyeballs_lab::tls::TestCa::new("bench CA")?;
/// let client = eyeballs_benches::tls::full_handshake_client(&ca)?;
/// assert!(client.alpn_protocols.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn full_handshake_client(ca: &TestCa) -> io::Result<ClientConfig> {
    let base = TlsConfig::with_roots(ca.roots()).map_err(io::Error::other)?;
    let mut client = ClientConfig::clone(base.client_config());
    client.resumption = Resumption::disabled();
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    use eyeballs_tokio::tls::rustls::pki_types::ServerName;
    use eyeballs_tokio::tls::rustls::{ClientConnection, StreamOwned};

    /// A full client handshake with `client` against `server`; whether it was resumed.
    fn client_handshake(client: &Arc<ClientConfig>, server: &HandshakeServer) -> bool {
        let name = ServerName::try_from("localhost").expect("a DNS name");
        let conn = ClientConnection::new(client.clone(), name).expect("a client connection");
        let sock = TcpStream::connect(server.addr()).expect("connect to the server");
        sock.set_read_timeout(Some(CLIENT_TIMEOUT))
            .expect("a read timeout");
        let mut tls = StreamOwned::new(conn, sock);
        while tls.conn.is_handshaking() {
            tls.conn.complete_io(&mut tls.sock).expect("a handshake");
        }
        tls.conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed)
    }

    #[test]
    fn every_handshake_is_a_full_one_and_is_counted() {
        let ca = TestCa::new("bench CA").expect("a CA");
        let cert = ca.issue(&["localhost"]).expect("a certificate");
        let server = HandshakeServer::bind("127.0.0.1:0".parse().unwrap(), &cert, 2)
            .expect("a handshake server");
        let client = Arc::new(full_handshake_client(&ca).expect("a client config"));
        let resumed: Vec<bool> = (0..4).map(|_| client_handshake(&client, &server)).collect();
        assert_eq!(resumed, [false; 4]);
        let handshakes = server.handshakes.clone();
        drop(server);
        // Joined: every handshake's server side has finished, and none of the wake-up
        // connections counts.
        assert_eq!(handshakes.load(Ordering::Acquire), 4);
    }

    #[test]
    fn a_client_that_does_not_trust_the_ca_gets_no_handshake() {
        let ca = TestCa::new("bench CA").expect("a CA");
        let other = TestCa::new("another CA").expect("a CA");
        let server = HandshakeServer::bind(
            "127.0.0.1:0".parse().unwrap(),
            &ca.issue(&["localhost"]).expect("a certificate"),
            1,
        )
        .expect("a handshake server");
        let client = Arc::new(full_handshake_client(&other).expect("a client config"));
        let name = ServerName::try_from("localhost").expect("a DNS name");
        let conn = ClientConnection::new(client, name).expect("a client connection");
        let mut tls = StreamOwned::new(conn, TcpStream::connect(server.addr()).unwrap());
        let err = loop {
            match tls.conn.complete_io(&mut tls.sock) {
                Ok(_) if tls.conn.is_handshaking() => continue,
                Ok(_) => panic!("the handshake finished with an untrusted certificate"),
                Err(e) => break e,
            }
        };
        assert!(err.to_string().contains("UnknownIssuer"), "{err}");
        drop(tls);
        let handshakes = server.handshakes.clone();
        drop(server);
        assert_eq!(handshakes.load(Ordering::Acquire), 0);
    }
}
