//! [`FuzzRace`]: a race under the invariant monitor, driven by the fuzzer's operations.

use eyeballs::{AttemptId, Config, Instant, QueryId, StartError, Target};
use eyeballs_sim::monitor::{Input, Monitor};

use crate::input::attempt_failure;
use crate::{Op, Ref, When};

/// After the operations, timers are fired until none is left, at most this many times.
const MAX_SETTLE: usize = 64;

/// A race under the invariant monitor, driven by the fuzzer's operations: it resolves the
/// operations' references to attempts and queries, keeps the latest time given, and panics
/// (a crash the fuzzer reports, with the monitor's log) when a rule is broken or a refused
/// input changed the race.
pub struct FuzzRace {
    monitor: Monitor,
    now: Instant,
}

impl FuzzRace {
    /// Starts a race; `None` when it is refused. A refusal must be what the configuration
    /// and target explain.
    pub fn start(config: Config, target: Target) -> Option<FuzzRace> {
        let valid = config.validate();
        match Monitor::start(config, target, Instant::ZERO) {
            Ok(monitor) => {
                assert_eq!(
                    valid,
                    Ok(()),
                    "a race started with an invalid configuration"
                );
                let mut race = FuzzRace {
                    monitor,
                    now: Instant::ZERO,
                };
                race.check();
                Some(race)
            }
            Err(StartError::Config(e)) => {
                assert_eq!(
                    valid,
                    Err(e),
                    "the race's configuration error is not validate()'s"
                );
                None
            }
            Err(_) => {
                assert_eq!(
                    valid,
                    Ok(()),
                    "an invalid configuration reported as something else"
                );
                None
            }
        }
    }

    /// The monitor.
    pub fn monitor(&self) -> &Monitor {
        &self.monitor
    }

    fn check(&mut self) {
        while self.monitor.poll_action().is_some() {}
        if let Err(v) = self.monitor.check() {
            panic!("{v}\n{}", self.monitor.history());
        }
    }

    /// Gives `input` at `when`, then checks the monitor. A refused input must leave the
    /// race's whole state (as `Debug` shows it) exactly as it was, and does not move time.
    pub fn give(&mut self, when: When, input: Input) {
        let at = when.at(self.now, self.monitor.poll_timeout());
        let before = format!("{:?}", self.monitor.race());
        match self.monitor.apply(at, input.clone()) {
            Ok(()) => self.now = self.now.max(at),
            Err(e) => {
                let after = format!("{:?}", self.monitor.race());
                if after != before {
                    panic!(
                        "{input} at {at} was refused ({e}) but changed the race\nbefore: \
                         {before}\nafter: {after}\n{}",
                        self.monitor.history()
                    );
                }
            }
        }
        self.check();
    }

    fn attempt(&self, r: Ref) -> AttemptId {
        let attempts = self.monitor.race().attempts();
        let pick = |list: Vec<AttemptId>, n: u8| {
            if list.is_empty() {
                AttemptId(0)
            } else {
                list[usize::from(n) % list.len()]
            }
        };
        match r {
            Ref::Raw(id) => AttemptId(id),
            Ref::Any(n) => pick(attempts.iter().map(|a| a.id).collect(), n),
            Ref::Live(n) => pick(
                attempts
                    .iter()
                    .filter(|a| a.state == eyeballs::AttemptState::InFlight)
                    .map(|a| a.id)
                    .collect(),
                n,
            ),
        }
    }

    fn query(&self, r: Ref) -> QueryId {
        let open: Vec<QueryId> = self.monitor.open_queries().map(|q| q.0).collect();
        let asked = self
            .monitor
            .log()
            .iter()
            .flat_map(|s| &s.actions)
            .filter(|a| matches!(a, eyeballs::Action::Resolve { .. }));
        match r {
            Ref::Raw(id) => QueryId(id),
            Ref::Live(n) if !open.is_empty() => open[usize::from(n) % open.len()],
            Ref::Live(_) => QueryId(0),
            Ref::Any(n) => {
                let count = asked.count().max(1);
                QueryId(u32::try_from(usize::from(n) % count).unwrap_or(0))
            }
        }
    }

    /// Applies one operation.
    pub fn op(&mut self, op: &Op) {
        match op {
            Op::Answer {
                query,
                answer,
                when,
            } => {
                let id = self.query(*query);
                self.give(
                    *when,
                    Input::Dns {
                        id,
                        answer: answer.build(),
                    },
                );
            }
            Op::Connected { attempt, when } => {
                let id = self.attempt(*attempt);
                self.give(*when, Input::Connected(id));
            }
            Op::Failed {
                attempt,
                failure,
                when,
            } => {
                let id = self.attempt(*attempt);
                self.give(*when, Input::Failed(id, attempt_failure(*failure)));
            }
            Op::Progress { attempt, when } => {
                let id = self.attempt(*attempt);
                self.give(*when, Input::Progress(id));
            }
            Op::Timeout { when } => self.give(*when, Input::Timeout),
            Op::Cancel { when } => self.give(*when, Input::Cancel),
        }
    }

    /// Fires the timers until none is left (bounded), as a caller that gets no more input.
    pub fn settle(&mut self) {
        for _ in 0..MAX_SETTLE {
            match self.monitor.poll_timeout() {
                Some(_) => self.give(When::AtTimer, Input::Timeout),
                None => break,
            }
        }
    }
}
