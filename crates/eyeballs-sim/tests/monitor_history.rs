//! The monitor knows the history rule: with every preferred-family address marked broken and
//! the other family still awaited, waiting for it is right, and starting at once is not.

use std::net::IpAddr;
use std::sync::Arc;

use eyeballs::{Action, Config, DnsAnswer, Instant, PathInfo, RecordType, Target};
use eyeballs_sim::monitor::Monitor;

fn broken_v6() -> Config {
    let mut c = Config::default();
    c.path_info = Some(Arc::new(|ip: IpAddr| PathInfo {
        broken: ip.is_ipv6(),
        ..PathInfo::default()
    }));
    c
}

#[test]
fn a_broken_aaaa_answer_waits_for_a_and_the_monitor_agrees() {
    let ms = Instant::from_millis;
    let mut m = Monitor::start(broken_v6(), Target::host("example.com", 443), ms(0)).unwrap();
    let mut queries = vec![];
    while let Some(a) = m.poll_action() {
        if let Action::Resolve { id, record, .. } = a {
            queries.push((id, record));
        }
    }
    let aaaa = queries.iter().find(|q| q.1 == RecordType::Aaaa).unwrap().0;
    let a = queries.iter().find(|q| q.1 == RecordType::A).unwrap().0;
    m.handle_dns(
        ms(1),
        aaaa,
        DnsAnswer::Addresses(vec!["2001:db8::1".parse().unwrap()]),
    )
    .unwrap();
    assert_eq!(m.poll_action(), None, "waits for A");
    m.check().unwrap();
    m.handle_dns(
        ms(2),
        a,
        DnsAnswer::Addresses(vec!["192.0.2.1".parse().unwrap()]),
    )
    .unwrap();
    let Some(Action::Attempt(first)) = m.poll_action() else {
        panic!("IPv4 starts when A arrives")
    };
    assert!(first.addr.is_ipv4());
    m.check().unwrap();
}
