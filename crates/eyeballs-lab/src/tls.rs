//! TLS on loopback for the secure-racing tests (feature `tls`): a certificate authority made
//! at run time ([`TestCa`], rcgen), a TLS server on threads ([`TlsServer`], rustls), the
//! "TLS-dead IPv6" lab ([`TlsDeadIpv6`]: `[::1]:P` accepts TCP and never speaks, as a
//! TCP-terminating proxy whose upstream is gone; `127.0.0.1:P` serves TLS) and a listener
//! that records what each ClientHello offers ([`ClientHelloRecorder`]: SNI, ALPN, the
//! extensions, ECH among them).
//!
//! ```
//! use eyeballs_lab::tls::{TestCa, TlsServer};
//!
//! let ca = TestCa::new("eyeballs test CA").unwrap();
//! let server = TlsServer::bind("127.0.0.1:0".parse().unwrap(), &ca.issue(&["localhost"]).unwrap(), &[]).unwrap();
//! // A client trusting `ca.roots()` connects to `localhost` at `server.addr()`.
//! assert_eq!(server.handshakes(), 0);
//! ```

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{RootCertStore, ServerConfig, ServerConnection, StreamOwned};

use crate::precondition::{Missing, Unavailable};
use crate::{SilentListener, Worker, same_port};

/// What the lab's TLS server writes first on every connection, once the handshake is done.
pub const GREETING: &[u8] = b"hello over TLS\n";

/// How long a server connection waits for its peer before giving up (generous: the tests
/// never depend on it).
const PEER_TIMEOUT: Duration = Duration::from_secs(10);

fn tls_error(what: &str, e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("{what}: {e}"))
}

/// A certificate authority made at run time, issuing server certificates.
pub struct TestCa {
    cert: rcgen::Certificate,
    key: KeyPair,
}

/// A server certificate (with its chain) and its private key, from a [`TestCa`].
#[derive(Clone)]
pub struct Issued {
    chain: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
    chain_pem: String,
    key_pem: String,
}

impl TestCa {
    /// A new CA named `name` (its own key, self-signed).
    pub fn new(name: &str) -> io::Result<TestCa> {
        let mut params =
            CertificateParams::new(Vec::<String>::new()).map_err(|e| tls_error("CA", e))?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().map_err(|e| tls_error("CA key", e))?;
        let cert = params
            .self_signed(&key)
            .map_err(|e| tls_error("CA certificate", e))?;
        Ok(TestCa { cert, key })
    }

    /// A server certificate for `names` (DNS names, or IP addresses: `"127.0.0.1"`).
    pub fn issue(&self, names: &[&str]) -> io::Result<Issued> {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).map_err(|e| tls_error("names", e))?;
        params
            .distinguished_name
            .push(DnType::CommonName, "eyeballs test server");
        let key = KeyPair::generate().map_err(|e| tls_error("server key", e))?;
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .map_err(|e| tls_error("server certificate", e))?;
        Ok(Issued {
            chain: vec![cert.der().clone(), self.cert.der().clone()],
            key: key.serialize_der(),
            chain_pem: format!("{}{}", cert.pem(), self.cert.pem()),
            key_pem: key.serialize_pem(),
        })
    }

    /// A root store trusting this CA only.
    pub fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        // A certificate rcgen just made parses.
        let _ = roots.add(self.cert.der().clone());
        roots
    }

    /// The CA's certificate, PEM.
    pub fn pem(&self) -> String {
        self.cert.pem()
    }
}

impl Issued {
    /// The certificate chain (the server's, then the CA's).
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    /// The private key.
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()))
    }

    /// A rustls server configuration with this certificate (the aws-lc-rs provider),
    /// offering `alpn` (most preferred first).
    pub fn server_config(&self, alpn: &[&str]) -> io::Result<Arc<ServerConfig>> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_error("server versions", e))?
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), self.key())
            .map_err(|e| tls_error("server certificate", e))?;
        config.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
        Ok(Arc::new(config))
    }

    /// Writes the chain and the key as PEM files in `dir` (`cert.pem`, `key.pem`), for a
    /// server in another process (`openssl s_server`); returns their paths.
    pub fn write_pem(&self, dir: &Path) -> io::Result<(PathBuf, PathBuf)> {
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        std::fs::write(&cert, &self.chain_pem)?;
        std::fs::write(&key, &self.key_pem)?;
        Ok((cert, key))
    }
}

/// A TLS server on loopback: accepts on a thread, serves each connection on a thread of
/// its own (the handshake, then [`GREETING`], then echoes what it reads until the peer
/// closes). Counts connections and finished handshakes; stops and closes on drop.
pub struct TlsServer {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    handshakes: Arc<AtomicUsize>,
    alpn: Arc<Mutex<Vec<Option<Vec<u8>>>>>,
    _worker: Worker,
}

impl TlsServer {
    /// Serves `cert` on `addr` (port 0: any free port), offering `alpn`.
    pub fn bind(addr: SocketAddr, cert: &Issued, alpn: &[&str]) -> io::Result<TlsServer> {
        TlsServer::from_std(TcpListener::bind(addr)?, cert, alpn)
    }

    /// Serves `cert` on an already bound listener.
    pub fn from_std(listener: TcpListener, cert: &Issued, alpn: &[&str]) -> io::Result<TlsServer> {
        let config = cert.server_config(alpn)?;
        let addr = listener.local_addr()?;
        let accepted = Arc::new(AtomicUsize::new(0));
        let handshakes = Arc::new(AtomicUsize::new(0));
        let negotiated = Arc::new(Mutex::new(Vec::new()));
        let (a, h, n) = (accepted.clone(), handshakes.clone(), negotiated.clone());
        let worker = Worker::accepting(format!("lab-tls-{addr}"), listener, move |conn| {
            a.fetch_add(1, Ordering::AcqRel);
            let (config, h, n) = (config.clone(), h.clone(), n.clone());
            let _ = std::thread::Builder::new()
                .name(format!("lab-tls-conn-{addr}"))
                .spawn(move || serve(conn, config, &h, &n));
        })?;
        Ok(TlsServer {
            addr,
            accepted,
            handshakes,
            alpn: negotiated,
            _worker: worker,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many TCP connections it accepted.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::Acquire)
    }

    /// How many TLS handshakes it finished.
    pub fn handshakes(&self) -> usize {
        self.handshakes.load(Ordering::Acquire)
    }

    /// The ALPN protocol chosen on each finished handshake, in order.
    pub fn negotiated_alpn(&self) -> Vec<Option<Vec<u8>>> {
        self.alpn.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// One server connection: the handshake, the greeting, then echo until the peer closes.
fn serve(
    conn: TcpStream,
    config: Arc<ServerConfig>,
    handshakes: &AtomicUsize,
    alpn: &Mutex<Vec<Option<Vec<u8>>>>,
) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(PEER_TIMEOUT));
    let _ = conn.set_write_timeout(Some(PEER_TIMEOUT));
    let Ok(server) = ServerConnection::new(config) else {
        return;
    };
    let mut tls = StreamOwned::new(server, conn);
    while tls.conn.is_handshaking() {
        if tls.conn.complete_io(&mut tls.sock).is_err() {
            return;
        }
    }
    handshakes.fetch_add(1, Ordering::AcqRel);
    alpn.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(tls.conn.alpn_protocol().map(<[u8]>::to_vec));
    if tls.write_all(GREETING).and_then(|()| tls.flush()).is_err() {
        return;
    }
    let mut buf = [0u8; 4096];
    loop {
        match tls.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if tls.write_all(&buf[..n]).and_then(|()| tls.flush()).is_err() {
                    return;
                }
            }
        }
    }
}

/// "TLS-dead IPv6, TLS over IPv4" on one port: `[::1]:P` accepts TCP and never speaks (a
/// [`SilentListener`]: TCP connects at once, the TLS handshake never finishes), and
/// `127.0.0.1:P` is a [`TlsServer`] for a certificate of `names`. What curl, asyncio and
/// hyper-util + hyper-rustls hang on until their timeouts: they take the first TCP
/// connection that works.
pub struct TlsDeadIpv6 {
    v4: TlsServer,
    v6: SilentListener,
}

impl TlsDeadIpv6 {
    /// Builds the pair (on a machine with an IPv6 loopback: check it first with
    /// [`ipv6_loopback`](crate::ipv6_loopback) and [`require`](crate::precondition::require)).
    pub fn new(cert: &Issued, alpn: &[&str]) -> io::Result<TlsDeadIpv6> {
        same_port(
            "a TLS-dead-IPv6 pair",
            |v4| TlsServer::bind(v4, cert, alpn),
            |v6, v4: &TlsServer| SilentListener::bind(SocketAddr::new(v6.ip(), v4.addr().port())),
        )
        .map(|(v4, v6)| TlsDeadIpv6 { v4, v6 })
    }

    /// The silent `[::1]:P`.
    pub fn v6_addr(&self) -> SocketAddr {
        self.v6.addr()
    }

    /// The TLS server's `127.0.0.1:P`.
    pub fn v4_addr(&self) -> SocketAddr {
        self.v4.addr()
    }

    /// The port both listen on.
    pub fn port(&self) -> u16 {
        self.v4.addr().port()
    }

    /// The silent IPv6 listener (its connections).
    pub fn v6(&self) -> &SilentListener {
        &self.v6
    }

    /// The IPv4 TLS server (its handshakes).
    pub fn v4(&self) -> &TlsServer {
        &self.v4
    }
}

/// What a ClientHello offered: the extensions (by number, in order), the server name
/// (SNI) and the ALPN protocols. [`ClientHello::parse`] reads one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientHello {
    /// The extension types, in the order sent (`0xfe0d`: `encrypted_client_hello`).
    pub extensions: Vec<u16>,
    /// The `server_name` extension's host name, if sent.
    pub server_name: Option<String>,
    /// The `application_layer_protocol_negotiation` extension's protocols, if sent.
    pub alpn: Vec<String>,
}

/// The `encrypted_client_hello` extension type (RFC 9849 §11.1; draft-ietf-tls-esni's
/// code point, `0xfe0d`).
pub const ECH_EXTENSION: u16 = 0xfe0d;

/// Extension types: `server_name` (RFC 6066 §3) and ALPN (RFC 7301 §3.1).
const SERVER_NAME: u16 = 0;
const ALPN: u16 = 16;

/// Reads big-endian integers and length-prefixed vectors from a byte slice.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err(format!("{n} bytes wanted, {} left", self.0.len()));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn uint(&mut self, n: usize) -> Result<usize, String> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b)))
    }

    /// A vector with an `n`-byte length prefix.
    fn vec(&mut self, n: usize) -> Result<Reader<'a>, String> {
        let len = self.uint(n)?;
        self.take(len).map(Reader)
    }
}

impl ClientHello {
    /// Parses a ClientHello from the bytes a client sent first: one TLS record (RFC 8446
    /// §5.1) holding a `client_hello` handshake message (§4.1.2). The error says what is
    /// wrong.
    pub fn parse(bytes: &[u8]) -> Result<ClientHello, String> {
        let mut record = Reader(bytes);
        if record.uint(1)? != 22 {
            return Err("not a handshake record".into());
        }
        record.take(2)?; // legacy_record_version
        let mut handshake = record.vec(2)?;
        if handshake.uint(1)? != 1 {
            return Err("not a client_hello".into());
        }
        let mut hello = handshake.vec(3)?;
        hello.take(2 + 32)?; // legacy_version, random
        hello.vec(1)?; // legacy_session_id
        hello.vec(2)?; // cipher_suites
        hello.vec(1)?; // legacy_compression_methods
        let mut extensions = hello.vec(2)?;
        let mut out = ClientHello::default();
        while !extensions.0.is_empty() {
            let kind = u16::try_from(extensions.uint(2)?).map_err(|e| e.to_string())?;
            let mut data = extensions.vec(2)?;
            out.extensions.push(kind);
            match kind {
                SERVER_NAME => {
                    let mut list = data.vec(2)?;
                    if list.uint(1)? == 0 {
                        let name = list.vec(2)?;
                        out.server_name = Some(String::from_utf8_lossy(name.0).into_owned());
                    }
                }
                ALPN => {
                    let mut list = data.vec(2)?;
                    while !list.0.is_empty() {
                        let id = list.vec(1)?;
                        out.alpn.push(String::from_utf8_lossy(id.0).into_owned());
                    }
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// Whether it carries the `encrypted_client_hello` extension ([`ECH_EXTENSION`]).
    pub fn offers_ech(&self) -> bool {
        self.extensions.contains(&ECH_EXTENSION)
    }
}

/// A listener that reads the first ClientHello of every connection, records what it
/// offered ([`ClientHello`]), and closes the connection (the client's handshake fails).
/// Stops on drop.
pub struct ClientHelloRecorder {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Result<ClientHello, String>>>>,
    _worker: Worker,
}

impl ClientHelloRecorder {
    /// Listens on `addr` (port 0: any free port).
    pub fn bind(addr: SocketAddr) -> io::Result<ClientHelloRecorder> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let worker = Worker::accepting(format!("lab-hello-{addr}"), listener, move |conn| {
            let hello = read_client_hello(conn);
            record.lock().unwrap_or_else(|e| e.into_inner()).push(hello);
        })?;
        Ok(ClientHelloRecorder {
            addr,
            seen,
            _worker: worker,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every ClientHello read so far (or why one could not be read), in order.
    pub fn seen(&self) -> Vec<Result<ClientHello, String>> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Reads one TLS record (the ClientHello) from `conn` and parses it.
fn read_client_hello(mut conn: TcpStream) -> Result<ClientHello, String> {
    conn.set_nonblocking(false).map_err(|e| e.to_string())?;
    conn.set_read_timeout(Some(PEER_TIMEOUT))
        .map_err(|e| e.to_string())?;
    let mut header = [0u8; 5];
    conn.read_exact(&mut header).map_err(|e| e.to_string())?;
    let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
    let mut record = header.to_vec();
    record.resize(5 + len, 0);
    conn.read_exact(&mut record[5..])
        .map_err(|e| e.to_string())?;
    ClientHello::parse(&record)
}

/// Whether the `openssl` command runs here (`openssl version`); the error says why not (a
/// [`Missing::OpensslCommand`]).
pub fn openssl_command() -> Result<(), Unavailable> {
    match std::process::Command::new("openssl")
        .arg("version")
        .output()
    {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(Unavailable::new(
            Missing::OpensslCommand,
            format!("openssl version: {}", out.status),
        )),
        Err(e) => Err(Unavailable::new(
            Missing::OpensslCommand,
            format!("running openssl: {e}"),
        )),
    }
}

/// OpenSSL's TLS server (`openssl s_server -www`), a TLS implementation that is not rustls,
/// serving `cert` on `127.0.0.1` (a port it picks), offering `alpn`; it answers an HTTP
/// `GET` with a status page. Killed on drop. Check [`openssl_command`] first.
pub struct OpensslServer {
    child: std::process::Child,
    addr: SocketAddr,
    _dir: TempDir,
}

impl OpensslServer {
    /// Starts it, and waits until it says where it listens (`ACCEPT 127.0.0.1:P`).
    pub fn start(cert: &Issued, alpn: &[&str]) -> io::Result<OpensslServer> {
        use std::io::BufRead;
        use std::process::{Command, Stdio};
        let dir = TempDir::new("openssl")?;
        let (cert_file, key_file) = cert.write_pem(dir.path())?;
        let mut command = Command::new("openssl");
        command
            .arg("s_server")
            .args(["-accept", "127.0.0.1:0", "-www"])
            .arg("-cert")
            .arg(&cert_file)
            .arg("-key")
            .arg(&key_file)
            // Kept open and never written: s_server reads commands from it.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if !alpn.is_empty() {
            command.args(["-alpn", &alpn.join(",")]);
        }
        let mut child = command.spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("openssl s_server has no stdout"))?;
        // A thread reads what it prints (to the end: a full pipe would stop it), and
        // hands over where it listens.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("lab-openssl-stdout".into())
            .spawn(move || {
                let mut tx = Some(tx);
                for line in io::BufReader::new(stdout).lines() {
                    let Ok(line) = line else { return };
                    if let Some(addr) = line.strip_prefix("ACCEPT ") {
                        if let Some(tx) = tx.take() {
                            let _ = tx.send(addr.trim().to_string());
                        }
                    }
                }
            })?;
        let said = match rx.recv_timeout(PEER_TIMEOUT) {
            Ok(said) => said,
            Err(_) => {
                let _ = child.kill();
                let status = child.wait()?;
                return Err(io::Error::other(format!(
                    "openssl s_server did not say where it listens within {PEER_TIMEOUT:?} \
                     ({status})"
                )));
            }
        };
        let addr = match said.parse::<SocketAddr>() {
            Ok(addr) => addr,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(io::Error::other(format!(
                    "openssl s_server's ACCEPT {said:?}: {e}"
                )));
            }
        };
        Ok(OpensslServer {
            child,
            addr,
            _dir: dir,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for OpensslServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory of its own under the system's temporary directory, removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(what: &str) -> io::Result<TempDir> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::AcqRel);
        let dir =
            std::env::temp_dir().join(format!("eyeballs-lab-{what}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_trusting_the_ca_completes_a_handshake_and_reads_the_greeting() {
        let ca = TestCa::new("test CA").unwrap();
        let server = TlsServer::bind(
            "127.0.0.1:0".parse().unwrap(),
            &ca.issue(&["localhost"]).unwrap(),
            &["h2", "http/1.1"],
        )
        .unwrap();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(ca.roots())
            .with_no_client_auth();
        client.alpn_protocols = vec![b"http/1.1".to_vec()];
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let conn = rustls::ClientConnection::new(Arc::new(client), name).unwrap();
        let tcp = TcpStream::connect(server.addr()).unwrap();
        tcp.set_read_timeout(Some(PEER_TIMEOUT)).unwrap();
        let mut tls = StreamOwned::new(conn, tcp);
        let mut greeting = vec![0u8; GREETING.len()];
        tls.read_exact(&mut greeting).unwrap();
        assert_eq!(greeting, GREETING);
        tls.write_all(b"ping").unwrap();
        let mut echo = [0u8; 4];
        tls.read_exact(&mut echo).unwrap();
        assert_eq!(&echo, b"ping");
        assert_eq!(server.handshakes(), 1);
        assert_eq!(server.negotiated_alpn(), [Some(b"http/1.1".to_vec())]);
    }

    #[test]
    fn a_client_hello_is_parsed() {
        let recorder = ClientHelloRecorder::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(RootCertStore::empty())
            .with_no_client_auth();
        client.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let name = rustls::pki_types::ServerName::try_from("example.com").unwrap();
        let conn = rustls::ClientConnection::new(Arc::new(client), name).unwrap();
        let tcp = TcpStream::connect(recorder.addr()).unwrap();
        tcp.set_read_timeout(Some(PEER_TIMEOUT)).unwrap();
        let mut tls = StreamOwned::new(conn, tcp);
        // Sends the ClientHello; the recorder closes after it, so the handshake fails.
        let _ = tls.read(&mut [0u8; 1]);
        crate::wait_until(PEER_TIMEOUT, || !recorder.seen().is_empty());
        let hello = recorder.seen().remove(0).unwrap();
        assert_eq!(hello.server_name.as_deref(), Some("example.com"));
        assert_eq!(hello.alpn, ["h2", "http/1.1"]);
        assert!(hello.extensions.contains(&SERVER_NAME));
        assert!(!hello.offers_ech());
    }

    #[test]
    fn a_truncated_client_hello_says_what_is_missing() {
        assert_eq!(
            ClientHello::parse(&[22, 3, 1]).unwrap_err(),
            "2 bytes wanted, 0 left"
        );
        assert_eq!(
            ClientHello::parse(&[23, 3, 3, 0, 0]).unwrap_err(),
            "not a handshake record"
        );
    }
}
