//! QUIC on loopback for the secure-racing tests (feature `quic`): a quinn server
//! ([`QuicServer`], on a tokio runtime of its own, with a certificate from the
//! [`TestCa`](crate::tls::TestCa)) and aioquic's, a QUIC server that is not quinn
//! ([`AioquicServer`]: Python, the `aioquic` package). A path that drops UDP is
//! [`SilentUdp`]; [`quic_with_ipv6_udp_dropped`] puts one on `[::1]:P` beside a QUIC
//! server on `127.0.0.1:P`.
//!
//! ```
//! use eyeballs_lab::quic::QuicServer;
//! use eyeballs_lab::tls::TestCa;
//!
//! let ca = TestCa::new("eyeballs test CA").unwrap();
//! let server = QuicServer::bind("127.0.0.1:0".parse().unwrap(), &ca.issue(&["localhost"]).unwrap(), &["h3"]).unwrap();
//! // A QUIC client trusting `ca.roots()` connects to `localhost` at `server.addr()`.
//! assert_eq!(server.handshakes(), 0);
//! ```

use std::io::{self, BufRead};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::precondition::{Missing, Unavailable};
use crate::tls::{Issued, TempDir, TlsServer};
use crate::{SilentUdp, wait_until};

/// How long the lab waits for a server it started to say where it listens (generous: the
/// tests never depend on it).
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A quinn QUIC server on loopback, on a tokio runtime of its own: completes handshakes
/// (with the certificate and the ALPN ids it is given), counts them, records the ALPN
/// negotiated, and keeps each connection open until the client closes it. It can be told
/// to answer new connections late ([`answer_after`](QuicServer::answer_after)): a working
/// but slow QUIC path. Stops on drop.
pub struct QuicServer {
    addr: SocketAddr,
    endpoint: quinn::Endpoint,
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
}

#[derive(Default)]
struct Shared {
    handshakes: AtomicUsize,
    incoming: AtomicUsize,
    alpn: Mutex<Vec<Option<Vec<u8>>>>,
    answer_after: Mutex<Option<Duration>>,
}

impl QuicServer {
    /// Serves `cert` on `addr` (port 0: any free port; an IPv6 address: IPv6 only),
    /// offering `alpn`.
    pub fn bind(addr: SocketAddr, cert: &Issued, alpn: &[&str]) -> io::Result<QuicServer> {
        let tls = cert.server_config(alpn)?;
        let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(tls)
            .map_err(|e| io::Error::other(format!("QUIC server configuration: {e}")))?;
        let config = quinn::ServerConfig::with_crypto(Arc::new(crypto));
        let socket = {
            use socket2::{Domain, Socket, Type};
            let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, None)?;
            if addr.is_ipv6() {
                socket.set_only_v6(true)?;
            }
            socket.bind(&addr.into())?;
            std::net::UdpSocket::from(socket)
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("lab-quic")
            .enable_all()
            .build()?;
        let endpoint = {
            let _guard = runtime.enter();
            quinn::Endpoint::new(
                quinn::EndpointConfig::default(),
                Some(config),
                socket,
                Arc::new(quinn::TokioRuntime),
            )?
        };
        let addr = endpoint.local_addr()?;
        let shared = Arc::new(Shared::default());
        runtime.spawn(serve(endpoint.clone(), shared.clone()));
        Ok(QuicServer {
            addr,
            endpoint,
            shared,
            runtime: Some(runtime),
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Answer each new connection attempt `delay` after it arrives (`None`: at once, the
    /// default).
    pub fn answer_after(&self, delay: Option<Duration>) {
        *self
            .shared
            .answer_after
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = delay;
    }

    /// How many connection attempts have arrived.
    pub fn incoming(&self) -> usize {
        self.shared.incoming.load(Ordering::Acquire)
    }

    /// How many QUIC handshakes it finished.
    pub fn handshakes(&self) -> usize {
        self.shared.handshakes.load(Ordering::Acquire)
    }

    /// Waits (up to `limit`) until it has finished `n` handshakes; whether it has. (It
    /// finishes one when the client's last flight arrives, which may be after the client
    /// has its connection.)
    pub fn wait_for_handshakes(&self, n: usize, limit: Duration) -> bool {
        wait_until(limit, || self.handshakes() >= n)
    }

    /// Waits (up to `limit`) until `n` connection attempts have arrived; whether they have.
    pub fn wait_for_incoming(&self, n: usize, limit: Duration) -> bool {
        wait_until(limit, || self.incoming() >= n)
    }

    /// The ALPN protocol chosen on each finished handshake, in order.
    pub fn negotiated_alpn(&self) -> Vec<Option<Vec<u8>>> {
        self.shared
            .alpn
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// How many of its connections are open (not yet closed by the client, or closed and
    /// still draining).
    pub fn open_connections(&self) -> usize {
        self.endpoint.open_connections()
    }
}

impl Drop for QuicServer {
    fn drop(&mut self) {
        self.endpoint.close(0u32.into(), b"lab server stopped");
        if let Some(runtime) = self.runtime.take() {
            // On a thread of its own: a runtime cannot be shut down from within another
            // (a test's), where blocking is not allowed.
            let stopping = std::thread::spawn(move || {
                runtime.shutdown_timeout(Duration::from_secs(1));
            });
            let _ = stopping.join();
        }
    }
}

/// The server's accept loop: each connection on a task of its own.
async fn serve(endpoint: quinn::Endpoint, shared: Arc<Shared>) {
    while let Some(incoming) = endpoint.accept().await {
        shared.incoming.fetch_add(1, Ordering::AcqRel);
        let delay = *shared
            .answer_after
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let shared = shared.clone();
        tokio::spawn(async move {
            if let Some(delay) = delay {
                tokio::time::sleep(delay).await;
            }
            let Ok(connection) = incoming.await else {
                return;
            };
            let alpn = connection
                .handshake_data()
                .and_then(|d| d.downcast::<quinn::crypto::rustls::HandshakeData>().ok())
                .and_then(|d| d.protocol);
            shared
                .alpn
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(alpn);
            shared.handshakes.fetch_add(1, Ordering::AcqRel);
            connection.closed().await;
        });
    }
}

/// "QUIC over IPv4, UDP dropped over IPv6" on one port: a quinn [`QuicServer`] on
/// `127.0.0.1:P` serving `cert` with `alpn`, and a [`SilentUdp`] on `[::1]:P` (a path that
/// drops UDP: a QUIC handshake to it hangs). Built with [`same_port`](crate::same_port): a
/// port taken on `::1` is replaced by another. Needs an IPv6 loopback: check it first with
/// [`ipv6_loopback`](crate::ipv6_loopback) and [`require`](crate::precondition::require).
///
/// ```
/// use eyeballs_lab::quic::quic_with_ipv6_udp_dropped;
/// use eyeballs_lab::tls::TestCa;
///
/// # if eyeballs_lab::has_ipv6_loopback() {
/// let ca = TestCa::new("eyeballs test CA").unwrap();
/// let (server, dropped) = quic_with_ipv6_udp_dropped(&ca.issue(&["localhost"]).unwrap(), &["h3"]).unwrap();
/// assert_eq!(server.addr().port(), dropped.addr().port());
/// assert!(dropped.addr().is_ipv6() && server.addr().is_ipv4());
/// # }
/// ```
pub fn quic_with_ipv6_udp_dropped(
    cert: &Issued,
    alpn: &[&str],
) -> io::Result<(QuicServer, SilentUdp)> {
    crate::same_port(
        "a QUIC server and a silent UDP socket",
        |v4| QuicServer::bind(v4, cert, alpn),
        |v6, server: &QuicServer| SilentUdp::bind(SocketAddr::new(v6.ip(), server.addr().port())),
    )
}

/// How many ports [`tls_and_quic_on_one_port`] tries before it gives up.
const PORT_TRIES: usize = 20;

/// A TLS server (TCP, [`TlsServer`]) and a quinn QUIC server (UDP, [`QuicServer`]) on one
/// port of `127.0.0.1`, one certificate, each with its ALPN ids: one address that answers
/// over both transports. When the UDP port is taken another is tried (up to 20 times); the
/// error then says so.
///
/// ```
/// use eyeballs_lab::quic::tls_and_quic_on_one_port;
/// use eyeballs_lab::tls::TestCa;
///
/// let ca = TestCa::new("eyeballs test CA").unwrap();
/// let (tls, quic) = tls_and_quic_on_one_port(&ca.issue(&["localhost"]).unwrap(), &["h2"], &["h3"]).unwrap();
/// assert_eq!(tls.addr(), quic.addr());
/// ```
pub fn tls_and_quic_on_one_port(
    cert: &Issued,
    tls_alpn: &[&str],
    quic_alpn: &[&str],
) -> io::Result<(TlsServer, QuicServer)> {
    let mut last = None;
    for _ in 0..PORT_TRIES {
        let tcp = std::net::TcpListener::bind((crate::V4_LOOPBACK, 0))?;
        match QuicServer::bind(tcp.local_addr()?, cert, quic_alpn) {
            Ok(quic) => return Ok((TlsServer::from_std(tcp, cert, tls_alpn)?, quic)),
            Err(e) => last = Some(e),
        }
    }
    let why = last.map(|e| e.to_string()).unwrap_or_default();
    Err(io::Error::other(format!(
        "no port free for both TCP and UDP on 127.0.0.1 after {PORT_TRIES} tries: {why}"
    )))
}

/// The environment variable naming a Python interpreter that can import `aioquic`, for
/// [`AioquicServer`]. Unset: `target/py/bin/python3` in the workspace (where
/// `scripts/test` installs it), then `python3`.
pub const AIOQUIC_PYTHON_VAR: &str = "EYEBALLS_TEST_AIOQUIC_PYTHON";

/// The interpreter `scripts/test` installs aioquic into: a virtual environment under the
/// workspace's `target/`.
pub fn workspace_python() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/py/bin/python3")
}

/// A Python that can import `aioquic`: [`AIOQUIC_PYTHON_VAR`] when it is set (and only it),
/// else [`workspace_python`], else `python3`. The error (a [`Missing::AioquicServer`]) says
/// what was tried and why each failed.
pub fn aioquic_python() -> Result<PathBuf, Unavailable> {
    let candidates: Vec<PathBuf> = match std::env::var_os(AIOQUIC_PYTHON_VAR) {
        Some(given) => vec![PathBuf::from(given)],
        None => vec![workspace_python(), PathBuf::from("python3")],
    };
    let mut tried = Vec::new();
    for python in candidates {
        let outcome = Command::new(&python)
            .args(["-c", "import aioquic"])
            .stdin(Stdio::null())
            .output();
        match outcome {
            Ok(out) if out.status.success() => return Ok(python),
            Ok(out) => {
                let said = String::from_utf8_lossy(&out.stderr);
                let last = said.lines().last().unwrap_or_default().to_string();
                tried.push(format!("{}: {last}", python.display()));
            }
            Err(e) => tried.push(format!("{}: {e}", python.display())),
        }
    }
    Err(Unavailable::new(Missing::AioquicServer, tried.join("; ")))
}

/// The server script: aioquic's `serve` with the certificate and ALPN ids given; it says
/// where it listens and every handshake it completes on its standard output.
const AIOQUIC_SERVER_PY: &str = include_str!("aioquic_server.py");

/// aioquic's QUIC server (Python; a QUIC and TLS 1.3 implementation that shares no code
/// with quinn or rustls), run by [`aioquic_python`] with the lab's script: on `127.0.0.1`
/// (a port it picks), completes handshakes with `cert`, offering `alpn`, and records the
/// ALPN of each. Killed on drop. Check [`aioquic_python`] first.
pub struct AioquicServer {
    child: Child,
    addr: SocketAddr,
    alpn: Arc<Mutex<Vec<String>>>,
    _dir: TempDir,
}

impl AioquicServer {
    /// Starts it with `python`, and waits until it says where it listens.
    pub fn start(python: &Path, cert: &Issued, alpn: &[&str]) -> io::Result<AioquicServer> {
        let dir = TempDir::new("aioquic")?;
        let (cert_file, key_file) = cert.write_pem(dir.path())?;
        let script = dir.path().join("aioquic_server.py");
        std::fs::write(&script, AIOQUIC_SERVER_PY)?;
        let mut child = Command::new(python)
            .arg(&script)
            .args(["--host", "127.0.0.1", "--port", "0"])
            .arg("--cert")
            .arg(&cert_file)
            .arg("--key")
            .arg(&key_file)
            .args(["--alpn", &alpn.join(",")])
            // Kept open and never written: the server ends when it closes.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::other("the aioquic server has no stdout"));
        };
        let errors = Arc::new(Mutex::new(String::new()));
        let said = errors.clone();
        std::thread::Builder::new()
            .name("lab-aioquic-stderr".into())
            .spawn(move || {
                for line in io::BufReader::new(stderr).lines() {
                    let Ok(line) = line else { return };
                    let mut said = said.lock().unwrap_or_else(|e| e.into_inner());
                    said.push_str(&line);
                    said.push('\n');
                }
            })?;
        let negotiated = Arc::new(Mutex::new(Vec::new()));
        let record = negotiated.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        // A thread reads what it prints (to the end: a full pipe would stop it), hands over
        // where it listens and records each handshake.
        std::thread::Builder::new()
            .name("lab-aioquic-stdout".into())
            .spawn(move || {
                let mut tx = Some(tx);
                for line in io::BufReader::new(stdout).lines() {
                    let Ok(line) = line else { return };
                    if let Some(addr) = line.strip_prefix("LISTENING ") {
                        if let Some(tx) = tx.take() {
                            let _ = tx.send(addr.trim().to_string());
                        }
                    } else if let Some(alpn) = line.strip_prefix("HANDSHAKE") {
                        record
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(alpn.trim().to_string());
                    }
                }
            })?;
        let fail = |mut child: Child, why: String| -> io::Error {
            let _ = child.kill();
            let status = child.wait();
            // Let the stderr thread read what is left.
            std::thread::sleep(Duration::from_millis(50));
            let said = errors.lock().unwrap_or_else(|e| e.into_inner()).clone();
            io::Error::other(format!(
                "the aioquic server ({}) {why} ({status:?}); it said: {}",
                python.display(),
                said.trim()
            ))
        };
        let said = match rx.recv_timeout(START_TIMEOUT) {
            Ok(said) => said,
            Err(_) => {
                return Err(fail(
                    child,
                    format!("did not say where it listens within {START_TIMEOUT:?}"),
                ));
            }
        };
        let addr = match said.parse::<SocketAddr>() {
            Ok(addr) => addr,
            Err(e) => return Err(fail(child, format!("said LISTENING {said:?}: {e}"))),
        };
        Ok(AioquicServer {
            child,
            addr,
            alpn: negotiated,
            _dir: dir,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The ALPN protocol of each handshake it completed, in order (`""`: none).
    pub fn negotiated_alpn(&self) -> Vec<String> {
        self.alpn.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits (up to `limit`) until it has completed `n` handshakes; whether it has.
    pub fn wait_for_handshakes(&self, n: usize, limit: Duration) -> bool {
        wait_until(limit, || self.negotiated_alpn().len() >= n)
    }
}

impl Drop for AioquicServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::TestCa;

    fn client(ca: &TestCa, alpn: &[&[u8]]) -> quinn::ClientConfig {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_root_certificates(ca.roots())
            .with_no_client_auth();
        tls.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        let crypto = quinn::crypto::rustls::QuicClientConfig::try_from(tls).unwrap();
        quinn::ClientConfig::new(Arc::new(crypto))
    }

    const LONG: Duration = Duration::from_secs(20);

    /// A quinn client trusting the CA completes a handshake with ALPN h3; told to answer
    /// late, the server answers no handshake before the delay.
    #[test]
    fn a_client_trusting_the_ca_completes_a_quic_handshake() {
        let ca = TestCa::new("test CA").unwrap();
        let server = QuicServer::bind(
            "127.0.0.1:0".parse().unwrap(),
            &ca.issue(&["localhost"]).unwrap(),
            &["h3"],
        )
        .unwrap();
        // The client's tasks on a worker of their own: the test blocks its thread waiting.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let endpoint = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
            let connection = endpoint
                .connect_with(client(&ca, &[b"h3"]), server.addr(), "localhost")
                .unwrap()
                .await
                .unwrap();
            assert!(server.wait_for_handshakes(1, LONG));
            assert_eq!(server.negotiated_alpn(), [Some(b"h3".to_vec())]);
            assert_eq!(server.handshakes(), 1);
            connection.close(0u32.into(), b"done");
            server.answer_after(Some(Duration::from_secs(60)));
            let late = endpoint
                .connect_with(client(&ca, &[b"h3"]), server.addr(), "localhost")
                .unwrap();
            let late = tokio::spawn(late);
            assert!(
                server.wait_for_incoming(2, LONG),
                "the second attempt arrived"
            );
            // Well after it arrived, still no answer: the server holds it for 60 s.
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert!(!late.is_finished(), "answered before the delay");
            assert_eq!(server.handshakes(), 1);
            late.abort();
        });
    }
}
