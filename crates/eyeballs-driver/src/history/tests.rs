//! The shared history's tests: sharing, networks, imports, and how the user's provider and
//! the history combine; the file format's are in `tests/json.rs`.

use std::time::Duration;

use eyeballs::{PathInfoProvider, RttEstimate};

use super::*;

const HOME: NetworkId = NetworkId(1);
const CAFE: NetworkId = NetworkId(2);

fn v6() -> IpAddr {
    "2001:db8::1".parse().unwrap()
}

fn record(network: NetworkId, age_ms: u64) -> HistoryRecord {
    HistoryRecord {
        network,
        addr: v6(),
        rtt: None,
        success_age: None,
        failures: 1,
        broken_age: Some(Duration::from_millis(age_ms)),
        age: Duration::from_millis(age_ms),
    }
}

#[test]
fn shareable_across_threads() {
    fn send_sync<T: Send + Sync + Clone + 'static>() {}
    send_sync::<SharedHistory>();
    let history = SharedHistory::new(HistoryConfig::default(), HOME);
    let other = history.clone();
    std::thread::spawn(move || other.import(vec![record(HOME, 10)]))
        .join()
        .unwrap();
    assert!(history.path_info(v6()).broken, "clones share one store");
}

#[test]
fn networks_are_partitions_and_changes_flush() {
    let history = SharedHistory::new(HistoryConfig::default(), HOME);
    history.import(vec![record(HOME, 10), record(CAFE, 10)]);
    assert!(history.path_info(v6()).broken);
    let cafe = history.with_network(CAFE);
    assert!(cafe.path_info(v6()).broken);
    assert_eq!(history.len(), 2);
    // Moving to CAFE, keeping HOME (re-identifiable).
    history.set_network(CAFE, true);
    assert_eq!(history.len(), 2);
    assert_eq!(cafe.network(), CAFE);
    // Moving to a new network, forgetting the others.
    history.set_network(NetworkId(3), false);
    assert!(history.is_empty());
    assert_eq!(history.path_info(v6()), PathInfo::default());
}

#[test]
fn import_keeps_the_fresher_knowledge() {
    let history = SharedHistory::new(HistoryConfig::default(), HOME);
    history.import(vec![record(HOME, 10)]);
    let mut old = record(HOME, 5_000);
    old.failures = 9;
    history.import(vec![old]);
    assert_eq!(
        history.export()[0].failures,
        1,
        "the older record was skipped"
    );
    let mut expired = record(CAFE, 0);
    expired.age = HistoryConfig::default().lifetime + Duration::from_secs(1);
    history.import(vec![expired]);
    assert_eq!(history.len(), 1, "the expired record was skipped");
}

#[test]
fn the_users_provider_and_the_history_combine() {
    let history = SharedHistory::new(HistoryConfig::default(), HOME);
    history.import(vec![HistoryRecord {
        rtt: Some(RttEstimate {
            srtt: Duration::from_millis(20),
            rttvar: Duration::from_millis(10),
        }),
        success_age: Some(Duration::from_millis(10)),
        ..record(HOME, 10)
    }]);
    let user_rtt = RttEstimate {
        srtt: Duration::from_millis(5),
        rttvar: Duration::from_millis(1),
    };
    let user: Arc<dyn PathInfoProvider> = Arc::new(move |ip: IpAddr| PathInfo {
        source: eyeballs::Source::Unreachable,
        rtt: (ip == "192.0.2.1".parse::<IpAddr>().unwrap()).then_some(user_rtt),
        ..PathInfo::default()
    });
    let now = clock::to_engine(StdInstant::now());
    let (provider, _) = history.begin(now, Some(user.clone()));
    let p = provider.unwrap().path_info(v6());
    assert_eq!(p.source, eyeballs::Source::Unreachable, "the user's source");
    assert_eq!(
        p.rtt.unwrap().srtt,
        Duration::from_millis(20),
        "learned RTT"
    );
    assert!(p.broken && p.used_before);
    // The user's RTT wins where it has one.
    let (provider, _) = history.begin(now, Some(user));
    let p = provider.unwrap().path_info("192.0.2.1".parse().unwrap());
    assert_eq!(p.rtt, Some(user_rtt));
    assert!(!p.broken);
    // Nothing known: the user's provider is used as it is, or none.
    let empty = SharedHistory::default();
    assert!(empty.begin(now, None).0.is_none());
}

mod follow;
#[cfg(feature = "serde")]
mod json;
