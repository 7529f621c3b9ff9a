//! The shared real-network suite (eyeballs-lab), on smol.

use std::io;
use std::time::Duration;

use eyeballs::Target;
use eyeballs_lab::suite::{Adapter, Conn};
use eyeballs_smol::{ConnectError, Connector, RaceReport, Settings};

struct Smol;

impl Adapter for Smol {
    fn name(&self) -> &'static str {
        "smol"
    }

    fn race(
        &self,
        settings: &Settings,
        target: Target,
    ) -> (Result<Conn, ConnectError>, RaceReport) {
        let connector = Connector::new().with_settings(settings.clone());
        let (result, report) = smol::block_on(connector.connect_with_report(target));
        (result.map(|s| Conn::of(&s)), report)
    }

    fn race_dropped_after(&self, settings: &Settings, target: Target, after: Duration) {
        let connector = Connector::new().with_settings(settings.clone());
        let finished = smol::block_on(smol::future::or(
            async { Some(connector.connect(target).await) },
            async {
                smol::Timer::after(after).await;
                None
            },
        ));
        assert!(
            finished.is_none(),
            "the race finished before it was dropped"
        );
    }

    fn one_liner(&self, target: &str) -> io::Result<Conn> {
        smol::block_on(async { eyeballs_smol::connect(target).await.map(|s| Conn::of(&s)) })
    }
}

eyeballs_lab::adapter_suite!(Smol);
