//! The shared real-network suite (eyeballs-lab), on async-std.

use std::io;
use std::time::Duration;

use eyeballs::Target;
use eyeballs_async_std::{ConnectError, Connector, RaceReport, Settings};
use eyeballs_lab::suite::{Adapter, Conn};

struct AsyncStd;

impl Adapter for AsyncStd {
    fn name(&self) -> &'static str {
        "async-std"
    }

    fn race(
        &self,
        settings: &Settings,
        target: Target,
    ) -> (Result<Conn, ConnectError>, RaceReport) {
        let connector = Connector::new().with_settings(settings.clone());
        let (result, report) = async_std::task::block_on(connector.connect_with_report(target));
        (result.map(|s| Conn::of(&s)), report)
    }

    fn race_dropped_after(&self, settings: &Settings, target: Target, after: Duration) {
        let connector = Connector::new().with_settings(settings.clone());
        let finished =
            async_std::task::block_on(async_std::future::timeout(after, connector.connect(target)));
        assert!(finished.is_err(), "the race finished before it was dropped");
    }

    fn one_liner(&self, target: &str) -> io::Result<Conn> {
        async_std::task::block_on(async {
            eyeballs_async_std::connect(target)
                .await
                .map(|s| Conn::of(&s))
        })
    }
}

eyeballs_lab::adapter_suite!(AsyncStd);
