//! The shared real-network suite (eyeballs-lab), on mio: the blocking connector and the
//! embedded race.

use std::io;
use std::time::{Duration, Instant};

use eyeballs::Target;
use eyeballs_lab::suite::{Adapter, Conn};
use eyeballs_mio::{ConnectError, Connector, RaceReport, Settings};
use mio::{Events, Poll};

struct Mio;

impl Adapter for Mio {
    fn name(&self) -> &'static str {
        "mio"
    }

    fn race(
        &self,
        settings: &Settings,
        target: Target,
    ) -> (Result<Conn, ConnectError>, RaceReport) {
        let connector = Connector::new().with_settings(settings.clone());
        let (result, report) = connector.connect_with_report(target);
        (result.map(|s| Conn::of(&s)), report)
    }

    fn race_dropped_after(&self, settings: &Settings, target: Target, after: Duration) {
        let mut poll = Poll::new().expect("a poll");
        let connector = Connector::new().with_settings(settings.clone());
        let mut race = connector
            .embed(poll.registry(), 100..200, target)
            .expect("a race");
        let mut events = Events::with_capacity(16);
        let end = Instant::now() + after;
        while Instant::now() < end {
            let wait = end.saturating_duration_since(Instant::now());
            let wait = race.timeout().map_or(wait, |t| t.min(wait));
            poll.poll(&mut events, Some(wait)).expect("poll");
            for event in events.iter() {
                assert!(
                    race.handle_event(event),
                    "an event for a token the race does not own"
                );
            }
            race.handle_timeout();
        }
        assert!(
            !race.is_finished(),
            "the race finished before it was dropped"
        );
        drop(race);
    }

    fn one_liner(&self, target: &str) -> io::Result<Conn> {
        eyeballs_mio::connect(target).map(|s| Conn::of(&s))
    }
}

eyeballs_lab::adapter_suite!(Mio);
