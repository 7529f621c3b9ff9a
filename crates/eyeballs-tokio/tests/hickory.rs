//! hickory-resolver against a tiny DNS server on 127.0.0.1 that the test starts: AAAA, A
//! and HTTPS are asked, the HTTPS record's port and ALPN reach the engine, and the race
//! connects to a loopback listener on the record's port. Offline.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use eyeballs::{DnsError, RecordType};
use eyeballs_driver::Event;
use eyeballs_tokio::Connector;
use eyeballs_tokio::hickory::{HickoryNetwork, service_record};
use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::svcb::{Alpn, IpHint, Mandatory, SVCB, SvcParamKey, SvcParamValue};
use hickory_proto::rr::rdata::{A, AAAA, HTTPS};
use hickory_proto::rr::{Name, RData, Record, RecordType as HRecordType};
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfigGroup, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;

/// Answers `svc.test.`: AAAA ::1 (when `v6`), A 127.0.0.1, HTTPS `1 . alpn=h2 port=<port>`
/// (`https_after` late: a slow HTTPS answer); NXDOMAIN for anything else.
struct DnsServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl DnsServer {
    fn start(port: u16, v6: bool, https_after: Duration) -> DnsServer {
        let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
        socket
            .set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let addr = socket.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 1500];
            while !s.load(Ordering::Acquire) {
                let Ok((n, from)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                let Ok(request) = Message::from_vec(&buf[..n]) else {
                    continue;
                };
                let reply = answer(&request, port, v6);
                let Ok(bytes) = reply.to_vec() else {
                    continue;
                };
                let is_https = request
                    .queries()
                    .first()
                    .is_some_and(|q| q.query_type() == HRecordType::HTTPS);
                if is_https && !https_after.is_zero() {
                    let socket = socket.clone();
                    std::thread::spawn(move || {
                        std::thread::sleep(https_after);
                        let _ = socket.send_to(&bytes, from);
                    });
                } else {
                    let _ = socket.send_to(&bytes, from);
                }
            }
        });
        DnsServer {
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn answer(request: &Message, port: u16, v6: bool) -> Message {
    let mut reply = Message::new();
    reply
        .set_id(request.id())
        .set_message_type(MessageType::Response)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(request.recursion_desired())
        .set_recursion_available(true)
        .set_authoritative(true);
    let Some(query) = request.queries().first() else {
        return reply;
    };
    reply.add_query(query.clone());
    let name = query.name().clone();
    if name.to_ascii() != "svc.test." {
        reply.set_response_code(ResponseCode::NXDomain);
        return reply;
    }
    let rdata = match query.query_type() {
        HRecordType::AAAA if v6 => Some(RData::AAAA(AAAA(Ipv6Addr::LOCALHOST))),
        HRecordType::A => Some(RData::A(A(Ipv4Addr::LOCALHOST))),
        HRecordType::HTTPS => Some(RData::HTTPS(HTTPS(SVCB::new(
            1,
            Name::root(),
            vec![
                (
                    SvcParamKey::Alpn,
                    SvcParamValue::Alpn(Alpn(vec!["h2".into()])),
                ),
                (SvcParamKey::Port, SvcParamValue::Port(port)),
            ],
        )))),
        _ => None,
    };
    if let Some(rdata) = rdata {
        reply.add_answer(Record::from_rdata(name, 60, rdata));
    }
    reply
}

fn resolver(server: SocketAddr) -> TokioResolver {
    let config = ResolverConfig::from_parts(
        None,
        Vec::new(),
        NameServerConfigGroup::from_ips_clear(&[server.ip()], server.port(), true),
    );
    let mut options = ResolverOpts::default();
    options.timeout = Duration::from_secs(1);
    options.attempts = 1;
    options.use_hosts_file = ResolveHosts::Never;
    TokioResolver::builder_with_config(config, TokioConnectionProvider::default())
        .with_options(options)
        .build()
}

#[tokio::test]
async fn https_records_reach_the_engine_and_the_race_connects() {
    https_record_reaches_the_first_attempt(Duration::ZERO).await;
}

/// The HTTPS answer comes 300 ms after the address answers (past the default 50 ms
/// Resolution Delay): the order a loaded machine may produce now and then, forced.
#[tokio::test]
async fn a_late_https_answer_still_reaches_the_first_attempt() {
    https_record_reaches_the_first_attempt(Duration::from_millis(300)).await;
}

async fn https_record_reaches_the_first_attempt(https_after: Duration) {
    use eyeballs_lab::Listener;
    // Without an IPv6 loopback the server answers no AAAA: the race is IPv4's alone.
    let v6 = eyeballs_lab::has_ipv6_loopback();
    let (working, _v6_working) = if v6 {
        let (v4, v6) =
            eyeballs_lab::same_port("a listener pair", Listener::bind, |v6, v4: &Listener| {
                Listener::bind(SocketAddr::new(v6.ip(), v4.addr().port()))
            })
            .expect("a port free on both loopbacks");
        (v4, Some(v6))
    } else {
        (
            Listener::bind("127.0.0.1:0".parse().unwrap()).unwrap(),
            None,
        )
    };
    let port = working.addr().port();
    let server = DnsServer::start(port, v6, https_after);

    // The first attempt waits for the HTTPS answer only for the Resolution Delay (HEv3
    // §4.2): at its 2 s maximum, a loaded machine's late HTTPS answer still comes first.
    let connector = Connector::with_network(HickoryNetwork::new(resolver(server.addr)))
        .query_https(true)
        .resolution_delay(eyeballs::MAX_RESOLUTION_DELAY);
    // Port 1 in the target: only the HTTPS record's port leads to the listener.
    let (result, report) = connector.connect_with_report(("svc.test.", 1)).await;
    let stream = result.unwrap_or_else(|e| panic!("{e}\n{report}"));
    assert_eq!(stream.peer_addr().unwrap().port(), port, "{report}");

    let asked: Vec<RecordType> = report.queries.iter().map(|q| q.record).collect();
    assert_eq!(
        asked,
        [RecordType::Https, RecordType::Aaaa, RecordType::A],
        "{report}"
    );
    let https = report
        .queries
        .iter()
        .find(|q| q.record == RecordType::Https)
        .and_then(|q| q.answer.clone());
    match https {
        Some(eyeballs::DnsAnswer::Services(records)) => {
            assert_eq!(records.len(), 1);
            assert_eq!(records[0].port, Some(port));
            assert_eq!(records[0].alpn, ["h2"]);
        }
        other => panic!("HTTPS answer {other:?}\n{report}"),
    }
    let first_attempt = report.events.iter().find_map(|e| match &e.event {
        Event::Attempt(a) => Some(a.alpn.as_deref().map(<[String]>::to_vec)),
        _ => None,
    });
    assert_eq!(
        first_attempt,
        Some(Some(vec!["h2".to_string()])),
        "{report}"
    );

    // NXDOMAIN reaches the engine as such.
    let e = connector.connect(("nx.test.", 80)).await.unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::NotFound, "{e}");
    assert!(
        e.dns_errors().iter().any(|d| d.error == DnsError::NxDomain),
        "{e}"
    );
}

#[test]
fn service_record_conversion() {
    let svcb = SVCB::new(
        2,
        Name::from_ascii("cdn.example.net.").unwrap(),
        vec![
            (
                SvcParamKey::Alpn,
                SvcParamValue::Alpn(Alpn(vec!["h3".into(), "h2".into()])),
            ),
            (SvcParamKey::NoDefaultAlpn, SvcParamValue::NoDefaultAlpn),
            (SvcParamKey::Port, SvcParamValue::Port(8443)),
            (
                SvcParamKey::Ipv4Hint,
                SvcParamValue::Ipv4Hint(IpHint(vec![A(Ipv4Addr::new(192, 0, 2, 1))])),
            ),
            (
                SvcParamKey::Ipv6Hint,
                SvcParamValue::Ipv6Hint(IpHint(vec![AAAA("2001:db8::1".parse().unwrap())])),
            ),
            (
                SvcParamKey::EchConfigList,
                SvcParamValue::EchConfigList(hickory_proto::rr::rdata::svcb::EchConfigList(vec![
                    1, 2, 3,
                ])),
            ),
        ],
    );
    let r = service_record(&svcb).unwrap();
    assert_eq!(r.priority, 2);
    assert_eq!(r.target, "cdn.example.net");
    assert_eq!(r.alpn, ["h3", "h2"]);
    assert!(r.no_default_alpn);
    assert_eq!(r.port, Some(8443));
    assert_eq!(r.ipv4hint, [Ipv4Addr::new(192, 0, 2, 1)]);
    assert_eq!(
        r.ipv6hint
            .iter()
            .map(|a| IpAddr::V6(*a))
            .collect::<Vec<_>>(),
        ["2001:db8::1".parse::<IpAddr>().unwrap()]
    );
    assert_eq!(r.ech.as_deref(), Some(&[1u8, 2, 3][..]));

    let alias = service_record(&SVCB::new(
        0,
        Name::from_ascii("pool.example.").unwrap(),
        vec![],
    ))
    .unwrap();
    assert!(alias.is_alias());
    assert_eq!(alias.target, "pool.example");
    let owner = service_record(&SVCB::new(1, Name::root(), vec![])).unwrap();
    assert_eq!(owner.target, ".");

    // RFC 9460 §8: a mandatory key the client does not understand makes it ignore the record.
    let unknown = SVCB::new(
        1,
        Name::root(),
        vec![(
            SvcParamKey::Mandatory,
            SvcParamValue::Mandatory(Mandatory(vec![SvcParamKey::Key(65300)])),
        )],
    );
    assert!(service_record(&unknown).is_none());
    let known = SVCB::new(
        1,
        Name::root(),
        vec![(
            SvcParamKey::Mandatory,
            SvcParamValue::Mandatory(Mandatory(vec![SvcParamKey::Port])),
        )],
    );
    assert!(service_record(&known).is_some());
}
