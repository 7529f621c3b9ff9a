//! The shared real-network suite (eyeballs-lab), on tokio.

use std::io;
use std::time::Duration;

use eyeballs::Target;
use eyeballs_lab::suite::{Adapter, Conn};
use eyeballs_tokio::{Configure, ConnectError, Connector, RaceReport, Settings};

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
        (
            result.map(|s| Conn::of(s.local_addr(), s.peer_addr())),
            report,
        )
    }

    fn race_dropped_after(&self, settings: &Settings, target: Target, after: Duration) {
        let connector = connector(settings);
        let finished = runtime()
            .block_on(async { tokio::time::timeout(after, connector.connect(target)).await });
        assert!(finished.is_err(), "the race finished before it was dropped");
    }

    fn one_liner(&self, target: &str) -> io::Result<Conn> {
        runtime().block_on(async {
            eyeballs_tokio::connect(target)
                .await
                .map(|s| Conn::of(s.local_addr(), s.peer_addr()))
        })
    }
}

eyeballs_lab::adapter_suite!(Tokio);
