//! The absolute deadline (`Connector::deadline`, Go's `Dialer.Deadline`) next to the
//! relative total timeout, in virtual time: the real driver under tokio's paused clock,
//! against a scripted network whose attempts hang.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use eyeballs::{Attempt, DnsAnswer, RecordType};
use eyeballs_driver::{BoxFuture, Network, RaceContext};
use eyeballs_lab::scripted::{ScriptedNetwork, scenario_target};
use eyeballs_sim::Scenario;
use eyeballs_tokio::{Connector, RaceResult, Reason, TokioRuntime};
use tokio::time::Instant;

/// One address whose attempt never completes: only a timeout ends the race.
fn hanging() -> Scenario {
    Scenario::addresses("hangs", ["192.0.2.1:443".parse().unwrap()])
}

/// Races `scenario` with `connector`'s settings; returns the error, the report's end and the
/// virtual time the race took.
async fn race_to_timeout(
    connector: Connector,
    scenario: &Scenario,
) -> (eyeballs_tokio::ConnectError, Option<Duration>, Duration) {
    let started = Instant::now();
    let connector = Connector::with_network(ScriptedNetwork::from_scenario(scenario))
        .with_settings(connector.settings().clone());
    let (result, report) = connector
        .connect_with_report(scenario_target(scenario))
        .await;
    let error = result
        .err()
        .unwrap_or_else(|| panic!("connected\n{report}"));
    (error, report.ended, started.elapsed())
}

#[tokio::test(start_paused = true)]
async fn a_deadline_before_the_total_timeout_ends_the_race_at_the_deadline() {
    let connector = Connector::new()
        .total_timeout(Duration::from_secs(10))
        .deadline((Instant::now() + Duration::from_secs(3)).into_std());
    let (e, ended, took) = race_to_timeout(connector, &hanging()).await;
    assert_eq!(e.reason(), &Reason::DeadlinePassed, "{e}");
    assert_eq!(e.kind(), io::ErrorKind::TimedOut);
    assert!(e.to_string().contains("the deadline passed"), "{e}");
    assert_eq!(ended, Some(Duration::from_secs(3)));
    assert_eq!(took, Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn a_total_timeout_before_the_deadline_ends_the_race_at_the_timeout() {
    let connector = Connector::new()
        .total_timeout(Duration::from_secs(2))
        .deadline((Instant::now() + Duration::from_secs(10)).into_std());
    let (e, ended, took) = race_to_timeout(connector, &hanging()).await;
    assert_eq!(e.reason(), &Reason::Race(RaceResult::TimedOut), "{e}");
    assert_eq!(e.kind(), io::ErrorKind::TimedOut);
    assert_eq!(ended, Some(Duration::from_secs(2)));
    assert_eq!(took, Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn a_deadline_alone_is_counted_from_the_connector_not_from_each_race() {
    let deadline = Instant::now() + Duration::from_secs(5);
    let connector = Connector::new().deadline(deadline.into_std());
    tokio::time::advance(Duration::from_secs(4)).await;
    // Started 4 s in: 1 s left.
    let (e, ended, took) = race_to_timeout(connector, &hanging()).await;
    assert_eq!(e.reason(), &Reason::DeadlinePassed, "{e}");
    assert_eq!(ended, Some(Duration::from_secs(1)));
    assert_eq!(took, Duration::from_secs(1));
}

/// A network that counts what it is asked to do, and does nothing.
#[derive(Default)]
struct Counting {
    asked: AtomicUsize,
}

impl Network<TokioRuntime> for Counting {
    type Stream = tokio::net::TcpStream;

    fn resolve(&self, _: &TokioRuntime, _: &str, _: RecordType) -> BoxFuture<DnsAnswer> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        Box::pin(std::future::pending())
    }

    fn connect(
        &self,
        _: &TokioRuntime,
        _: &Attempt,
        _: &RaceContext<'_>,
    ) -> BoxFuture<io::Result<tokio::net::TcpStream>> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        Box::pin(std::future::pending())
    }
}

#[tokio::test(start_paused = true)]
async fn a_deadline_already_past_fails_at_once_without_a_query_or_a_socket() {
    let now = Instant::now();
    tokio::time::advance(Duration::from_secs(1)).await;
    for deadline in [now, Instant::now()] {
        let connector = Connector::with_network(Counting::default())
            .total_timeout(Duration::from_secs(10))
            .deadline(deadline.into_std());
        let started = Instant::now();
        for target in ["example.com:443", "127.0.0.1:443"] {
            let (result, report) = connector.connect_with_report(target).await;
            let e = result.expect_err("a deadline already past");
            assert_eq!(e.reason(), &Reason::DeadlinePassed, "{e}");
            assert_eq!(e.kind(), io::ErrorKind::TimedOut);
            assert_eq!(e.target(), target);
            assert!(
                report.events.is_empty() && report.attempts.is_empty(),
                "{report}"
            );
        }
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert_eq!(connector.network().asked.load(Ordering::SeqCst), 0);
    }
}
