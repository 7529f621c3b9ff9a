//! Secure racing on real sockets (loopback): the race ends when a TLS handshake is done
//! (HEv3 §6.1). A path whose TCP connects and whose TLS never answers is left behind after
//! the Connection Attempt Delay; a TLS failure starts the next attempt at once; every
//! failure is named in the error; a race dropped mid-handshake closes everything; a
//! TLS server that is not rustls (OpenSSL's) serves the race; the ClientHello carries the
//! name, the ALPN list and ECH as each attempt's endpoint says.
//!
//! Time bounds are generous and no result depends on scheduling: who won, what the report
//! recorded in order, what was closed.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use eyeballs::trace::Event;
use eyeballs::{
    Attempt, AttemptFailure, CancelReason, DnsAnswer, DnsError, RecordType, ServiceRecord, Target,
};
use eyeballs_driver::{BoxFuture, Network, RaceContext, connect_tcp};
use eyeballs_lab::precondition::require;
use eyeballs_lab::tls::{
    ClientHelloRecorder, GREETING, OpensslServer, TestCa, TlsDeadIpv6, TlsServer, openssl_command,
};
use eyeballs_lab::{ClosedPort, SilentListener, V4_LOOPBACK, V6_LOOPBACK, count_fds, same_port};
use eyeballs_tokio::tls::{Ech, Secured, TlsConfig, TlsStream, rustls};
use eyeballs_tokio::{AttemptResult, Connector, RaceReport, TokioRuntime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const LONG: Duration = Duration::from_secs(20);

fn ca() -> TestCa {
    TestCa::new("eyeballs test CA").unwrap()
}

fn trusting(ca: &TestCa) -> TlsConfig {
    TlsConfig::with_roots(ca.roots()).unwrap()
}

/// The engine's configuration with the addresses tried in the order given.
fn given_order() -> eyeballs::Config {
    let mut config = eyeballs::Config::default();
    config.sort = eyeballs::SortMode::Given;
    config
}

fn localhost() -> rustls::pki_types::ServerName<'static> {
    rustls::pki_types::ServerName::try_from("localhost").unwrap()
}

/// Reads the lab server's greeting through the secure stream.
async fn greeting(secured: &mut Secured<TlsStream>) -> Vec<u8> {
    let mut buf = vec![0u8; GREETING.len()];
    tokio::time::timeout(LONG, secured.get_mut().read_exact(&mut buf))
        .await
        .expect("the greeting within the time bound")
        .unwrap();
    buf
}

/// The attempt's `transport` event time, if it had one.
fn transport_of(report: &RaceReport, addr: SocketAddr) -> Option<Duration> {
    report.events.iter().find_map(|e| match e.event {
        Event::TransportConnected { addr: a, .. } if a == addr => Some(e.at),
        _ => None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_dead_ipv6_is_left_behind_and_ipv4_wins_after_the_attempt_delay() {
    let name = "tls_dead_ipv6_is_left_behind_and_ipv4_wins_after_the_attempt_delay";
    let Some(()) = require(name, eyeballs_lab::ipv6_loopback()) else {
        return;
    };
    let ca = ca();
    let lab = TlsDeadIpv6::new(&ca.issue(&["localhost"]).unwrap(), &[]).unwrap();
    let connector = Connector::new().tls(trusting(&ca));
    let started = Instant::now();
    let (result, report) = connector
        .connect_with_report(("localhost", lab.port()))
        .await;
    let elapsed = started.elapsed();
    let mut secured = result.unwrap_or_else(|e| panic!("{e}\n{report}"));
    assert_eq!(secured.info().remote_addr(), lab.v4_addr(), "{report}");
    assert_eq!(greeting(&mut secured).await, GREETING);
    // IPv6 went first; its TCP connected (the silent listener accepted it) and its TLS
    // never finished: it was cancelled as lost when IPv4's TLS handshake was done.
    let v6 = &report.attempts[0];
    assert_eq!(v6.addr, lab.v6_addr(), "{report}");
    assert!(transport_of(&report, lab.v6_addr()).is_some(), "{report}");
    assert_eq!(
        v6.result,
        AttemptResult::Cancelled {
            reason: CancelReason::LostRace
        },
        "{report}"
    );
    // IPv4 started when the Connection Attempt Delay ran out (the IPv6 transport handshake,
    // done at once, extends the timer by at most 2 x its time, floored at 10 ms: less than
    // the 250 ms already set), and its TLS handshake was done after its TCP one.
    let v4 = &report.attempts[1];
    assert_eq!(v4.addr, lab.v4_addr());
    assert!(v4.started >= Duration::from_millis(250), "{report}");
    let v4_transport = transport_of(&report, lab.v4_addr()).expect("IPv4's transport event");
    assert!(v4_transport >= v4.started && Some(v4_transport) <= v4.ended);
    assert_eq!(
        report.winning_attempt().map(|a| a.addr),
        Some(lab.v4_addr())
    );
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}\n{report}");
    // The loser's socket is closed: the silent listener, once it has accepted it, sees its
    // peer go.
    assert_eq!(lab.v6().wait_until_accepted(1, LONG).unwrap(), 1);
    assert!(
        lab.v6().wait_until_open(0, LONG),
        "the IPv6 socket was left open"
    );
    assert_eq!(lab.v4().handshakes(), 1);
}

/// `[::1]:P` serves a certificate of another CA, `127.0.0.1:P` a good one: IPv6's TLS
/// fails, the next attempt starts at that moment (not after the attempt delay), IPv4
/// wins. With IPv4 refusing instead, the error names the certificate and the refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_certificate_over_ipv6_fails_at_once_and_ipv4_wins() {
    let name = "a_wrong_certificate_over_ipv6_fails_at_once_and_ipv4_wins";
    let Some(()) = require(name, eyeballs_lab::ipv6_loopback()) else {
        return;
    };
    let (good, other) = (ca(), TestCa::new("another CA").unwrap());
    let good_cert = good.issue(&["localhost"]).unwrap();
    let bad_cert = other.issue(&["localhost"]).unwrap();
    let (v4, v6) = same_port(
        "a good and a bad TLS server",
        |a| TlsServer::bind(a, &good_cert, &[]),
        |a, v4: &TlsServer| {
            TlsServer::bind(SocketAddr::new(a.ip(), v4.addr().port()), &bad_cert, &[])
        },
    )
    .unwrap();
    // The longest Connection Attempt Delay (2 s): "at once" cannot be mistaken for the
    // timer, however slow a loaded machine makes the handshake.
    let connector = Connector::new()
        .connection_attempt_delay(Duration::from_secs(2))
        .tls(trusting(&good));
    let (result, report) = connector
        .connect_with_report(("localhost", v4.addr().port()))
        .await;
    let secured = result.unwrap_or_else(|e| panic!("{e}\n{report}"));
    assert_eq!(secured.info().remote_addr(), v4.addr(), "{report}");
    let first = &report.attempts[0];
    assert_eq!(first.addr, v6.addr());
    assert!(first.transport_connected.is_some(), "{report}");
    match &first.result {
        AttemptResult::Failed { failure, error } => {
            assert_eq!(*failure, AttemptFailure::Handshake, "{report}");
            assert!(
                error
                    .message
                    .starts_with("TLS handshake failed: invalid peer certificate"),
                "{}",
                error.message
            );
            assert!(error.message.contains("UnknownIssuer"), "{}", error.message);
        }
        other => panic!("{other:?}\n{report}"),
    }
    // The next attempt started the moment the handshake failed.
    assert_eq!(Some(report.attempts[1].started), first.ended, "{report}");
    assert_eq!(v6.handshakes(), 0);
    drop(secured);

    // IPv4 refuses too: the error names both, the TLS one and the TCP one, once each.
    let refusing = ClosedPort::at(SocketAddr::new(V4_LOOPBACK, 0)).unwrap();
    let bad_v6 = TlsServer::bind(
        SocketAddr::new(V6_LOOPBACK, refusing.addr().port()),
        &bad_cert,
        &[],
    );
    let Ok(bad_v6) = bad_v6 else {
        return; // the port was taken on ::1 by someone else: the first part checked it all
    };
    let e = connector
        .connect(("localhost", refusing.addr().port()))
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains(&format!(
            "{}: TLS handshake failed: invalid peer certificate: UnknownIssuer",
            bad_v6.addr()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("{}: Connection refused", refusing.addr())),
        "{text}"
    );
    assert_eq!(text.matches("UnknownIssuer").count(), 1, "{text}");
    let failures: Vec<_> = e
        .attempt_errors()
        .iter()
        .map(|a| a.attempt.failure)
        .collect();
    assert_eq!(
        failures,
        [AttemptFailure::Handshake, AttemptFailure::Refused]
    );
}

/// Every attempt fails in TLS (a certificate of another CA; a certificate for another
/// name): the error lists each with rustls's reason, and the engine counts each as a
/// handshake failure. No IPv6 needed: two addresses on 127.0.0.1, the name given.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_attempt_failing_in_tls_gives_an_error_naming_each() {
    let (good, other) = (ca(), TestCa::new("another CA").unwrap());
    let untrusted = TlsServer::bind(
        "127.0.0.1:0".parse().unwrap(),
        &other.issue(&["localhost"]).unwrap(),
        &[],
    )
    .unwrap();
    let wrong_name = TlsServer::bind(
        "127.0.0.1:0".parse().unwrap(),
        &good.issue(&["not-localhost.example"]).unwrap(),
        &[],
    )
    .unwrap();
    let connector = Connector::new()
        .config(given_order())
        .tls(trusting(&good).server_name(localhost()));
    let (result, report) = connector
        .connect_with_report([untrusted.addr(), wrong_name.addr()])
        .await;
    let e = result.unwrap_err();
    let text = e.to_string();
    assert!(text.starts_with("connecting to "), "{text}");
    assert!(text.contains("every connection attempt failed"), "{text}");
    assert!(
        text.contains(&format!(
            "{}: TLS handshake failed: invalid peer certificate: UnknownIssuer",
            untrusted.addr()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{}: TLS handshake failed: invalid peer certificate: certificate not valid for name",
            wrong_name.addr()
        )),
        "{text}"
    );
    assert_eq!(e.attempt_errors().len(), 2);
    for a in e.attempt_errors() {
        assert_eq!(a.attempt.failure, AttemptFailure::Handshake);
        assert_eq!(a.error.kind(), io::ErrorKind::InvalidData);
    }
    assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    // Both transports connected before their TLS failed.
    assert!(
        report
            .attempts
            .iter()
            .all(|a| a.transport_connected.is_some()),
        "{report}"
    );
    // Said once in a chain of errors: the io::Error's source is ours, whose source is None.
    let io: io::Error = e.into();
    let inner = io.get_ref().unwrap();
    assert!(std::error::Error::source(inner).is_none());
}

/// A target that is an IP address has no name to authenticate: refused before anything is
/// sent, saying how to go on.
#[tokio::test]
async fn an_address_literal_without_a_name_is_refused_before_any_socket() {
    let silent = SilentListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let connector = Connector::new().tls(TlsConfig::with_roots(ca().roots()).unwrap());
    let e = connector.connect(silent.addr()).await.unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    let text = e.to_string();
    assert!(text.contains("the target is an IP address"), "{text}");
    assert!(text.contains("TlsConfig::server_name"), "{text}");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(silent.accepted(), 0, "a socket was opened");
}

/// A race dropped while both attempts are in their TLS handshakes (TCP accepted by silent
/// listeners) closes every socket it opened: the listeners see their peers go, and the
/// process's descriptor count is back to where it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_secure_race_mid_handshake_leaks_no_fd() {
    let Some(_) = require(
        "dropping_a_secure_race_mid_handshake_leaks_no_fd",
        count_fds(),
    ) else {
        return;
    };
    let a = SilentListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let b = SilentListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let transports = Arc::new(AtomicUsize::new(0));
    let seen = transports.clone();
    let connector = Connector::new()
        .connection_attempt_delay(Duration::from_millis(10))
        .observer(move |e| {
            if matches!(e.event, Event::TransportConnected { .. }) {
                seen.fetch_add(1, Ordering::SeqCst);
            }
        })
        .tls(trusting(&ca()).server_name(localhost()));
    // Warm up what a first race sets up once (the runtime's threads), then count.
    let baseline = eyeballs_lab::open_fds().unwrap();
    let race = tokio::spawn(connector.connect([a.addr(), b.addr()]));
    let deadline = Instant::now() + LONG;
    while transports.load(Ordering::SeqCst) < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(transports.load(Ordering::SeqCst), 2, "both TCP connections");
    // Up for the client, and accepted by the listeners' threads when they next run.
    let accepted = |l: &SilentListener| l.wait_until_accepted(1, LONG).unwrap();
    assert_eq!((accepted(&a), accepted(&b)), (1, 1));
    race.abort();
    assert!(race.await.unwrap_err().is_cancelled());
    assert!(a.wait_until_open(0, LONG) && b.wait_until_open(0, LONG));
    let after = eyeballs_lab::wait_for_fds(baseline, LONG).unwrap();
    assert!(
        after <= baseline,
        "{after} descriptors open, {baseline} before"
    );
}

/// OpenSSL's TLS server, not rustls, serves the race: `127.0.0.1:P` is TLS-dead (TCP
/// accepted, no answer), `127.0.0.1:Q` is `openssl s_server`: it wins after the attempt
/// delay, ALPN negotiated, and answers an HTTP request over the secure stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secure_race_interoperates_with_openssl_s_server() {
    let name = "a_secure_race_interoperates_with_openssl_s_server";
    let Some(()) = require(name, openssl_command()) else {
        return;
    };
    let ca = ca();
    let openssl = OpensslServer::start(&ca.issue(&["localhost"]).unwrap(), &["http/1.1"]).unwrap();
    let dead = SilentListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let connector = Connector::new().config(given_order()).tls(
        trusting(&ca)
            .server_name(localhost())
            .alpn(["h2", "http/1.1"]),
    );
    let (result, report) = connector
        .connect_with_report([dead.addr(), openssl.addr()])
        .await;
    let mut secured = result.unwrap_or_else(|e| panic!("{e}\n{report}"));
    assert_eq!(secured.info().remote_addr(), openssl.addr(), "{report}");
    assert_eq!(secured.info().alpn(), Some(&b"http/1.1"[..]));
    assert!(
        report.attempts[1].started >= Duration::from_millis(250),
        "{report}"
    );
    let tls = secured.get_mut();
    tls.write_all(b"GET / HTTP/1.0\r\n\r\n").await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(LONG, tls.read_to_end(&mut response))
        .await
        .expect("the response within the time bound")
        .unwrap_or_default();
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.0 200 ok"), "{response}");
    assert_eq!(dead.wait_until_accepted(1, LONG).unwrap(), 1);
    assert!(
        dead.wait_until_open(0, LONG),
        "the TLS-dead socket was left open"
    );
}

/// A network answering `example.com` with one HTTPS record pointing at `127.0.0.1:port`
/// (TargetName `svc.example.net.`, the ALPN ids given, an ECH configuration when given) and
/// nothing else; attempts are TCP.
struct HttpsRecordNetwork {
    port: u16,
    alpn: Vec<&'static str>,
    ech: Option<Vec<u8>>,
}

impl Network<TokioRuntime> for HttpsRecordNetwork {
    type Stream = tokio::net::TcpStream;

    fn resolve(&self, _: &TokioRuntime, name: &str, record: RecordType) -> BoxFuture<DnsAnswer> {
        let answer = match (name.trim_end_matches('.'), record) {
            ("example.com", RecordType::Https) => {
                let mut r = ServiceRecord::service(1, "svc.example.net.")
                    .with_alpn(self.alpn.iter().copied())
                    .with_port(self.port)
                    .with_ipv4hint(["127.0.0.1".parse().unwrap()]);
                if let Some(ech) = &self.ech {
                    r = r.with_ech(ech.clone());
                }
                DnsAnswer::Services(vec![r])
            }
            (_, RecordType::A) => DnsAnswer::Addresses(vec![V4_LOOPBACK]),
            _ => DnsAnswer::Error(DnsError::NoData),
        };
        Box::pin(std::future::ready(answer))
    }

    fn connect(
        &self,
        runtime: &TokioRuntime,
        attempt: &Attempt,
        race: &RaceContext<'_>,
    ) -> BoxFuture<io::Result<tokio::net::TcpStream>> {
        connect_tcp(runtime, attempt, race.sockets)
    }
}

/// An ECHConfigList (draft-ietf-tls-esni / RFC 9849 §4) with one configuration rustls can
/// use: version 0xfe0d, KEM X25519 (0x0020), KDF HKDF-SHA256 (1), AEAD AES-128-GCM (1), a
/// public name. The public key is any 32 bytes (an X25519 key is any 32 bytes).
fn ech_config_list(public_name: &str) -> Vec<u8> {
    let mut contents = Vec::new();
    contents.push(7u8); // config_id
    contents.extend(0x0020u16.to_be_bytes()); // kem_id
    contents.extend(32u16.to_be_bytes());
    contents.extend([0x42u8; 32]); // public_key
    contents.extend(4u16.to_be_bytes()); // cipher_suites
    contents.extend(1u16.to_be_bytes());
    contents.extend(1u16.to_be_bytes());
    contents.push(0); // maximum_name_length
    contents.push(u8::try_from(public_name.len()).unwrap());
    contents.extend(public_name.as_bytes());
    contents.extend(0u16.to_be_bytes()); // extensions
    let mut config = Vec::new();
    config.extend(0xfe0du16.to_be_bytes());
    config.extend(u16::try_from(contents.len()).unwrap().to_be_bytes());
    config.extend(contents);
    let mut list = u16::try_from(config.len()).unwrap().to_be_bytes().to_vec();
    list.extend(config);
    list
}

/// Races `example.com` (an HTTPS record to the recorder) with `tls`; returns what the
/// ClientHello offered, and the race's report.
async fn client_hello_for(
    tls: TlsConfig,
    alpn: Vec<&'static str>,
    ech: Option<Vec<u8>>,
) -> (eyeballs_lab::tls::ClientHello, RaceReport) {
    let recorder = ClientHelloRecorder::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let network = HttpsRecordNetwork {
        port: recorder.addr().port(),
        alpn,
        ech,
    };
    let mut config = eyeballs::Config::default();
    config.query_https = true;
    config.connectivity = eyeballs::Connectivity {
        ipv6: false,
        ipv4: true,
    };
    let connector = Connector::with_network(network).config(config).tls(tls);
    let (result, report) = connector
        .connect_with_report(Target::host("example.com", 443))
        .await;
    assert!(
        result.is_err(),
        "the recorder closes the connection: {report}"
    );
    let deadline = Instant::now() + LONG;
    while recorder.seen().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let hello = recorder.seen().remove(0).unwrap();
    (hello, report)
}

/// The name sent is the origin's (not the record's TargetName), and the ALPN list offered is
/// the client's, filtered by the record's `alpn`, in the client's order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_hello_names_the_origin_and_offers_the_alpn_the_record_allows() {
    let tls = trusting(&ca()).alpn(["h2", "http/1.1"]);
    let (hello, report) = client_hello_for(tls, vec!["http/1.1", "h3"], None).await;
    assert_eq!(
        hello.server_name.as_deref(),
        Some("example.com"),
        "{report}"
    );
    assert_eq!(hello.alpn, ["http/1.1"]);
    assert!(!hello.offers_ech());
    let tls = trusting(&ca()).alpn(["h2", "http/1.1"]);
    let (hello, _) = client_hello_for(tls, vec!["http/1.1", "h2"], None).await;
    assert_eq!(hello.alpn, ["h2", "http/1.1"], "the client's order");
}

/// ECH: with an `ech` configuration in the record and ECH enabled, the ClientHello carries
/// the `encrypted_client_hello` extension (0xfe0d), and its outer name is the
/// configuration's public name (the origin's is encrypted inside). Off, or with no `ech` in
/// the record: no extension, the origin's name in the clear.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ech_from_the_https_record_goes_into_the_client_hello() {
    let list = ech_config_list("public.example");
    let tls = trusting(&ca()).ech(Ech::Opportunistic);
    let (hello, report) = client_hello_for(tls, vec!["http/1.1"], Some(list.clone())).await;
    assert!(hello.offers_ech(), "{hello:?}\n{report}");
    assert_eq!(hello.server_name.as_deref(), Some("public.example"));
    let (hello, _) = client_hello_for(trusting(&ca()), vec!["http/1.1"], Some(list)).await;
    assert!(!hello.offers_ech(), "ECH off: {hello:?}");
    assert_eq!(hello.server_name.as_deref(), Some("example.com"));
    let tls = trusting(&ca()).ech(Ech::Opportunistic);
    let (hello, _) = client_hello_for(tls, vec!["http/1.1"], None).await;
    assert!(!hello.offers_ech(), "no ech in the record: {hello:?}");
}

/// SVCB-reliant ECH waits for the HTTPS answer: here it never comes, so no attempt starts
/// (HEv3 §6.1, §6.3) until the race's total timeout.
#[tokio::test(start_paused = true)]
async fn reliant_ech_starts_no_attempt_before_the_https_answer() {
    struct NoHttps;
    impl Network<TokioRuntime> for NoHttps {
        type Stream = tokio::net::TcpStream;
        fn resolve(&self, _: &TokioRuntime, _: &str, record: RecordType) -> BoxFuture<DnsAnswer> {
            match record {
                RecordType::A => {
                    Box::pin(std::future::ready(DnsAnswer::Addresses(vec![V4_LOOPBACK])))
                }
                RecordType::Aaaa => {
                    Box::pin(std::future::ready(DnsAnswer::Error(DnsError::NoData)))
                }
                RecordType::Https => Box::pin(std::future::pending()),
            }
        }
        fn connect(
            &self,
            _: &TokioRuntime,
            _: &Attempt,
            _: &RaceContext<'_>,
        ) -> BoxFuture<io::Result<tokio::net::TcpStream>> {
            panic!("no attempt may start before the HTTPS answer")
        }
    }
    let connector = Connector::with_network(NoHttps)
        .total_timeout(Duration::from_secs(3))
        .tls(trusting(&ca()).ech(Ech::Reliant));
    let (result, report) = connector
        .connect_with_report(Target::host("example.com", 443))
        .await;
    assert_eq!(result.unwrap_err().kind(), io::ErrorKind::TimedOut);
    assert!(report.attempts.is_empty(), "{report}");
    assert!(
        report.queries.iter().any(|q| q.record == RecordType::Https),
        "{report}"
    );
}

/// A network whose every attempt "connects" at once to a peer that reads the ClientHello
/// and never answers (an in-memory pipe whose far end is kept, silent).
struct SilentPipes(std::sync::Mutex<Vec<tokio::io::DuplexStream>>);

impl Network<TokioRuntime> for SilentPipes {
    type Stream = tokio::io::DuplexStream;

    fn resolve(&self, _: &TokioRuntime, _: &str, _: RecordType) -> BoxFuture<DnsAnswer> {
        Box::pin(std::future::pending())
    }

    fn connect(
        &self,
        _: &TokioRuntime,
        _: &Attempt,
        _: &RaceContext<'_>,
    ) -> BoxFuture<io::Result<tokio::io::DuplexStream>> {
        let (near, far) = tokio::io::duplex(64 * 1024);
        self.0.lock().unwrap().push(far);
        Box::pin(std::future::ready(Ok(near)))
    }
}

/// The handshake timeout, in virtual time: TCP connects at once, TLS never answers; after
/// the timeout (counted from the TCP connection) the attempt fails as a handshake failure
/// of kind `TimedOut`, and the next attempt starts at that moment.
#[tokio::test(start_paused = true)]
async fn a_handshake_that_never_ends_times_out_as_a_handshake_failure() {
    let connector = Connector::with_network(SilentPipes(Default::default()))
        .config(given_order())
        .connection_attempt_delay(Duration::from_secs(2))
        .tls(
            trusting(&ca())
                .server_name(localhost())
                .handshake_timeout(Some(Duration::from_millis(700))),
        );
    let addrs: [SocketAddr; 2] = [
        "192.0.2.1:443".parse().unwrap(),
        "192.0.2.2:443".parse().unwrap(),
    ];
    let (result, report) = connector.connect_with_report(addrs).await;
    let e = result.unwrap_err();
    let ms = Duration::from_millis;
    // #0: TCP at 0, TLS given up at 700 ms; #1 starts then, gives up at 1400 ms.
    assert_eq!(report.attempts[0].ended, Some(ms(700)), "{report}");
    assert_eq!(report.attempts[1].started, ms(700), "{report}");
    assert_eq!(report.attempts[1].ended, Some(ms(1400)), "{report}");
    for a in e.attempt_errors() {
        assert_eq!(a.attempt.failure, AttemptFailure::Handshake);
        assert_eq!(a.error.kind(), io::ErrorKind::TimedOut);
    }
    assert!(
        e.to_string()
            .contains("TLS handshake failed: no TLS handshake within 700ms of the TCP connection"),
        "{e}"
    );
}

/// A CA from a PEM file (what a command's `--ca-file` gives): trusted; a file that is
/// missing, has no certificate or a broken block is refused, naming the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_from_a_pem_file_is_trusted_and_a_bad_file_is_named() {
    let ca = ca();
    let server = TlsServer::bind(
        "127.0.0.1:0".parse().unwrap(),
        &ca.issue(&["localhost"]).unwrap(),
        &[],
    )
    .unwrap();
    let dir = std::env::temp_dir().join(format!("eyeballs-tls-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("ca.pem");
    std::fs::write(&file, ca.pem()).unwrap();
    let tls = TlsConfig::with_ca_file(&file)
        .unwrap()
        .server_name(localhost());
    let mut secured = Connector::new()
        .tls(tls)
        .connect(server.addr())
        .await
        .unwrap();
    assert_eq!(greeting(&mut secured).await, GREETING);

    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "no certificate here\n").unwrap();
    let e = TlsConfig::with_ca_file(&empty).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    assert_eq!(
        e.to_string(),
        format!("{}: no CERTIFICATE block in it", empty.display())
    );
    let broken = dir.join("broken.pem");
    std::fs::write(
        &broken,
        "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let e = TlsConfig::with_ca_file(&broken).unwrap_err();
    assert!(
        e.to_string()
            .starts_with(&format!("{}: ", broken.display())),
        "{e}"
    );
    let missing = dir.join("missing.pem");
    let e = TlsConfig::with_ca_file(&missing).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::NotFound);
    std::fs::remove_dir_all(&dir).unwrap();
}
