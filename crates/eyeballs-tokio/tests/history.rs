//! The connection history through the real driver (the loop every async adapter uses),
//! against scripted networks under tokio's paused clock: every time is exact.
//!
//! The host is `[2001:db8::1]:443` (6a) and `192.0.2.1:443` (4a). "Broken" is the network
//! where 6a hangs and 4a connects after 20 ms.

use std::net::SocketAddr;
use std::time::Duration;

use eyeballs::CancelReason;
use eyeballs::history::{BROKEN_LIFETIME, HISTORY_LIFETIME};
use eyeballs_driver::{AttemptResult, Event, RaceReport};
use eyeballs_lab::scripted::{ScriptedNetwork, ScriptedStream};
use eyeballs_sim::{NetResult, NetRule, Scenario};
use eyeballs_tokio::{Connector, HistoryConfig, NetworkId, SharedHistory};

const HOME: NetworkId = NetworkId(1);
const CAFE: NetworkId = NetworkId(2);

fn v6() -> SocketAddr {
    "[2001:db8::1]:443".parse().unwrap()
}

fn v4() -> SocketAddr {
    "192.0.2.1:443".parse().unwrap()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// How each address answers: connects after this long, or hangs (`None`).
fn network(v6_after: Option<u64>, v4_after: Option<u64>) -> ScriptedNetwork {
    let rule = |addr: SocketAddr, after: Option<u64>| match after {
        Some(n) => NetRule::addr(addr.ip(), NetResult::Connected, ms(n)),
        None => NetRule::addr(addr.ip(), NetResult::Hang, Duration::ZERO),
    };
    let scenario = Scenario::addresses("history", [v6(), v4()])
        .rule(rule(v6(), v6_after))
        .rule(rule(v4(), v4_after));
    ScriptedNetwork::from_scenario(&scenario)
}

fn connector(network: ScriptedNetwork, history: &SharedHistory) -> Connector<ScriptedNetwork> {
    Connector::with_network(network).history(history.clone())
}

fn broken(history: &SharedHistory) -> Connector<ScriptedNetwork> {
    connector(network(None, Some(20)), history)
}

fn paused() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a tokio runtime")
}

/// The short name of the endpoint an attempt's event names.
fn name(event: &Event) -> &'static str {
    match event.endpoint().map(|(addr, _)| addr) {
        Some(a) if a == v6() => "6a",
        Some(a) if a == v4() => "4a",
        _ => "?",
    }
}

/// The race's attempts, results and cancels, with their times since the race's start.
fn timeline(report: &RaceReport) -> Vec<String> {
    report
        .events
        .iter()
        .filter_map(|e| {
            let who = name(&e.event);
            let what = match &e.event {
                Event::Attempt(_) => format!("start {who}"),
                Event::Connected { .. } => format!("connected {who}"),
                Event::Failed { .. } => format!("failed {who}"),
                Event::Cancel { reason, .. } => format!("cancel {who} {reason:?}"),
                _ => return None,
            };
            Some(format!("@{} {what}", e.at.as_millis()))
        })
        .collect()
}

/// One race to 6a + 4a; its timeline.
async fn race(connector: &Connector<ScriptedNetwork>) -> Vec<String> {
    let (result, report) = connector.connect_with_report([v6(), v4()]).await;
    let lines = timeline(&report);
    match result {
        Ok(ScriptedStream { .. }) => lines,
        Err(e) => panic!("{e}\n{report}"),
    }
}

/// The paused clock's now.
fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

/// Whether `addr`'s path is marked broken now, on the paused clock.
fn marked(history: &SharedHistory, addr: SocketAddr) -> bool {
    history.path_info_at(addr.ip(), now()).broken
}

fn lines(l: &[&str]) -> Vec<String> {
    l.iter().map(|s| s.to_string()).collect()
}

/// The pattern of a race with no history on the broken network.
fn full_delay() -> Vec<String> {
    lines(&[
        "@0 start 6a",
        "@250 start 4a",
        "@270 connected 4a",
        "@270 cancel 6a LostRace",
    ])
}

/// 4a first, connected in one RTT.
fn ipv4_first() -> Vec<String> {
    lines(&["@0 start 4a", "@20 connected 4a"])
}

/// The first two tests: the second race to a host whose IPv6 hung starts IPv4 first
/// at its time 0 and connects 20 ms later; once the broken mark has aged, 6a is first again;
/// a recovered IPv6 path then wins, and its success clears the mark.
#[test]
fn second_race_goes_ipv4_first_until_the_broken_mark_ages() {
    paused().block_on(async {
        let history = SharedHistory::new(HistoryConfig::default(), HOME);
        let broken = broken(&history);
        assert_eq!(race(&broken).await, full_delay());
        assert!(marked(&history, v6()));

        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(race(&broken).await, ipv4_first());
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(race(&broken).await, ipv4_first(), "and again");

        // The mark ages (counted from the first race's cancel at 270 ms).
        tokio::time::advance(BROKEN_LIFETIME).await;
        assert!(!marked(&history, v6()));
        assert_eq!(race(&broken).await, full_delay(), "6a is first again");

        // Still broken: marked again. Once that ages, a recovered IPv6 path wins again.
        tokio::time::advance(BROKEN_LIFETIME + ms(1)).await;
        let recovered = connector(network(Some(10), Some(20)), &history);
        assert_eq!(
            race(&recovered).await,
            lines(&["@0 start 6a", "@10 connected 6a"])
        );
        let info = history.path_info_at(v6().ip(), now());
        assert!(!info.broken && info.used_before, "{info:?}");
        assert_eq!(info.rtt.map(|r| r.srtt), Some(ms(10)));
    });
}

/// The third test: delays derived from RTT history stay inside
/// `min_connection_attempt_delay ..= max_connection_attempt_delay` (100 ms ..= 2 s).
#[test]
fn rtt_derived_delays_stay_inside_the_bounds() {
    paused().block_on(async {
        let history = SharedHistory::new(HistoryConfig::default(), HOME);
        // 6a connects slowly (900 ms) while 4a hangs: 6a's RTO is 900 + 4 * 450 = 2700 ms.
        let slow = connector(network(Some(900), None), &history);
        assert_eq!(
            race(&slow).await,
            lines(&[
                "@0 start 6a",
                "@250 start 4a",
                "@900 connected 6a",
                "@900 cancel 4a LostRace"
            ])
        );
        // Started after the winner: losing that race does not mark 4a.
        assert!(!marked(&history, v4()));

        // 6a hangs now: 4a follows after 6a's RTO clamped to the 2 s maximum.
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(
            race(&broken(&history)).await,
            lines(&[
                "@0 start 6a",
                "@2000 start 4a",
                "@2020 connected 4a",
                "@2020 cancel 6a LostRace"
            ])
        );

        // 6a is marked, 4a's RTT is 20 ms (RTO 60 ms): when 4a hangs, 6a follows after the
        // 100 ms minimum.
        tokio::time::advance(Duration::from_secs(1)).await;
        let v4_hangs = connector(network(Some(10), None), &history);
        assert_eq!(
            race(&v4_hangs).await,
            lines(&[
                "@0 start 4a",
                "@100 start 6a",
                "@110 connected 6a",
                "@110 cancel 4a LostRace"
            ])
        );
    });
}

/// The fourth test, and sharing: connectors given one history see each other's
/// learning; a connector on another network does not; `clear` forgets; a network change
/// without `keep_others` drops the other networks, with it they come back.
#[test]
fn sharing_networks_and_clearing() {
    paused().block_on(async {
        let history = SharedHistory::new(HistoryConfig::default(), HOME);
        let a = broken(&history);
        let b = broken(&history);
        let cafe = broken(&history.with_network(CAFE));
        assert_eq!(a.shared_history().map(SharedHistory::network), Some(HOME));
        assert_eq!(
            cafe.shared_history().map(SharedHistory::network),
            Some(CAFE)
        );

        assert_eq!(race(&a).await, full_delay());
        assert_eq!(race(&b).await, ipv4_first(), "b sees what a learned");
        assert_eq!(race(&a.clone()).await, ipv4_first(), "so does a clone");
        assert_eq!(
            race(&cafe).await,
            full_delay(),
            "another network sees nothing"
        );
        assert_eq!(race(&cafe).await, ipv4_first(), "it learns on its own");

        history.clear();
        assert!(history.is_empty());
        assert_eq!(race(&b).await, full_delay(), "cleared");
        assert_eq!(race(&cafe).await, full_delay(), "cleared for every network");

        // HOME has learned again. Move to network 3, forgetting the others.
        history.set_network(NetworkId(3), false);
        assert!(history.export().iter().all(|r| r.network != HOME));
        assert_eq!(race(&a).await, full_delay());
        // Back to HOME, keeping network 3 (it can be re-identified): HOME knows nothing,
        // network 3 still knows.
        history.set_network(HOME, true);
        assert_eq!(race(&a).await, full_delay());
        history.set_network(NetworkId(3), true);
        assert_eq!(race(&a).await, ipv4_first());
    });
}

/// A race dropped mid-way still teaches what it saw (a refused IPv6); a race that only timed
/// out teaches nothing about the paths.
#[test]
fn dropped_and_timed_out_races() {
    paused().block_on(async {
        let history = SharedHistory::new(HistoryConfig::default(), HOME);
        let scenario = Scenario::addresses("refused", [v6(), v4()])
            .rule(NetRule::addr(v6().ip(), NetResult::Refused, ms(5)))
            .rule(NetRule::addr(v4().ip(), NetResult::Hang, Duration::ZERO));
        let refused = connector(ScriptedNetwork::from_scenario(&scenario), &history);
        let dropped = tokio::time::timeout(ms(50), refused.connect([v6(), v4()])).await;
        assert!(dropped.is_err(), "the race was dropped mid-way");
        let records = history.export_at(now());
        assert_eq!(records.len(), 1, "{records:?}");
        assert_eq!((records[0].addr, records[0].failures), (v6().ip(), 1));

        let hangs = Connector::with_network(network(None, None))
            .history(history.with_network(CAFE))
            .total_timeout(ms(400));
        let (result, report) = hangs.connect_with_report([v6(), v4()]).await;
        assert!(result.is_err());
        assert_eq!(
            report.attempts[0].result,
            AttemptResult::Cancelled {
                reason: CancelReason::RaceTimedOut
            }
        );
        assert!(history.export().iter().all(|r| r.network != CAFE));

        // Entries expire.
        tokio::time::advance(HISTORY_LIFETIME + ms(100)).await;
        assert!(history.export_at(now()).is_empty());
    });
}
