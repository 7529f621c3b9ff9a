//! The shared real-network suite (eyeballs-lab), on tokio; and its host-name tests again with
//! the order of the DNS answers forced both ways, which the system resolver only sometimes
//! gives (so that a test depending on one order fails here every time, not now and then).

use std::io;
use std::time::Duration;

use eyeballs::{RecordType, Target};
use eyeballs_lab::SlowDns;
use eyeballs_lab::suite::{self, Adapter, Conn};
use eyeballs_tokio::{ConnectError, Connector, RaceReport, Settings};

struct Tokio;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn connector(settings: &Settings) -> Connector {
    Connector::new().with_settings(settings.clone())
}

impl Adapter for Tokio {
    fn name(&self) -> &'static str {
        "tokio"
    }

    fn race(
        &self,
        settings: &Settings,
        target: Target,
    ) -> (Result<Conn, ConnectError>, RaceReport) {
        let connector = connector(settings);
        let (result, report) = runtime().block_on(connector.connect_with_report(target));
        (result.map(|s| Conn::of(&s)), report)
    }

    fn race_dropped_after(&self, settings: &Settings, target: Target, after: Duration) {
        let connector = connector(settings);
        let finished = runtime()
            .block_on(async { tokio::time::timeout(after, connector.connect(target)).await });
        assert!(finished.is_err(), "the race finished before it was dropped");
    }

    fn one_liner(&self, target: &str) -> io::Result<Conn> {
        runtime().block_on(async { eyeballs_tokio::connect(target).await.map(|s| Conn::of(&s)) })
    }
}

eyeballs_lab::adapter_suite!(Tokio);

/// How late [`Late`] holds one family's answers: past the 50 ms Resolution Delay, so that
/// with default settings the other family's attempt starts first.
const HOLD: Duration = Duration::from_millis(300);

/// Tokio with a resolver whose answers of one record type arrive [`HOLD`] late.
struct Late(RecordType);

impl Adapter for Late {
    fn name(&self) -> &'static str {
        match self.0 {
            RecordType::A => "tokio, A answers late",
            _ => "tokio, AAAA answers late",
        }
    }

    fn race(
        &self,
        settings: &Settings,
        target: Target,
    ) -> (Result<Conn, ConnectError>, RaceReport) {
        let connector =
            Connector::with_network(SlowDns::record(self.0, HOLD)).with_settings(settings.clone());
        let (result, report) = runtime().block_on(connector.connect_with_report(target));
        // The fixture did what it says: the late type's answer, if any, came HOLD late.
        for q in report.queries.iter().filter(|q| q.record == self.0) {
            if let Some(answered) = q.answered {
                assert!(answered - q.sent >= HOLD, "{}: {report}", self.name());
            }
        }
        (result.map(|s| Conn::of(&s)), report)
    }

    fn race_dropped_after(&self, settings: &Settings, target: Target, after: Duration) {
        Tokio.race_dropped_after(settings, target, after)
    }

    fn one_liner(&self, target: &str) -> io::Result<Conn> {
        Tokio.one_liner(target)
    }
}

#[test]
fn host_name_and_both_families_when_a_answers_last() {
    suite::host_name_and_both_families(&Late(RecordType::A));
}

#[test]
fn host_name_and_both_families_when_aaaa_answers_last() {
    suite::host_name_and_both_families(&Late(RecordType::Aaaa));
}

#[test]
fn preferred_family_wins_when_both_work_and_a_answers_last() {
    suite::preferred_family_wins_when_both_work(&Late(RecordType::A));
}

#[test]
fn preferred_family_wins_when_both_work_and_aaaa_answers_last() {
    suite::preferred_family_wins_when_both_work(&Late(RecordType::Aaaa));
}
