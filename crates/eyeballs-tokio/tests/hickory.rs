//! hickory-resolver against a tiny DNS server on 127.0.0.1 that the test starts: AAAA, A
//! and HTTPS are asked, the HTTPS record's port and ALPN reach the engine, and the race
//! connects to a loopback listener on the record's port. Offline.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use eyeballs::{DnsError, RecordType};
use eyeballs_driver::Event;
use eyeballs_tokio::Connector;
use eyeballs_tokio::hickory::{HickoryNetwork, service_record};
use hickory_proto::rr::Name;
use hickory_proto::rr::rdata::svcb::{Alpn, IpHint, Mandatory, SVCB, SvcParamKey, SvcParamValue};
use hickory_proto::rr::rdata::{A, AAAA};

#[path = "support/dns_server.rs"]
mod dns_server;
use dns_server::{DnsServer, resolver};

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
    let server = DnsServer::start(port, v6, &["h2"], https_after);

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
