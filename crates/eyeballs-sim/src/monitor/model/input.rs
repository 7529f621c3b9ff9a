//! The input contract (what each input must get, and a refused input changing nothing) and
//! what an accepted input does to the model.

use std::net::IpAddr;

use eyeballs::{
    Action, AttemptFailure, AttemptId, AttemptState, CONNECTION_ATTEMPT_DELAY_FLOOR, DnsAnswer,
    DnsError, DnsFailure, Family, InputError, Instant, QueryId, Race, RaceResult,
};

use super::{Ahead, Cx, Input, Model, Observed, Rule, Violation, ip_family, record_family};

impl Model {
    /// For a refused `input` at `now` that is valid in itself: a copy of the race with the
    /// timers due strictly before `now` fired (`handle_timeout` 1 ns earlier). `None` when no
    /// timer can be due (time has not moved) or the race has finished.
    pub(in crate::monitor) fn look_ahead(
        &self,
        race: &Race,
        now: Instant,
        input: &Input,
    ) -> Option<Ahead> {
        if self.finished || now <= self.now || self.expected_result(input).is_err() {
            return None;
        }
        let mut copy = race.clone();
        copy.handle_timeout(Instant::from_nanos(now.as_nanos() - 1))
            .ok()?;
        let attempt = match input {
            Input::Connected(id) | Input::Failed(id, _) | Input::Progress(id) => {
                copy.attempts().get(id.0 as usize).map(|a| a.state)
            }
            _ => None,
        };
        Some(Ahead {
            finished: copy.is_finished(),
            attempt,
        })
    }

    /// A refused input: it got the error the contract names (what is wrong with the input
    /// itself, or else what a timer due before its `now` does to it), emitted nothing, and
    /// changed nothing any getter shows.
    pub(super) fn check_refused(
        &mut self,
        obs: &Observed<'_>,
        cx: &Cx<'_>,
        actions: &[Action],
        input: &Input,
        error: &InputError,
    ) -> Result<(), Violation> {
        let v = |detail: String| Err(cx.violation(Rule::Input, None, detail));
        if let Some(a) = actions.first() {
            return v(format!("a refused input ({input}: {error}) emitted {a:?}"));
        }
        match self.expected_result(input) {
            Err(expected) if expected == *error => {}
            Err(expected) => {
                return v(format!(
                    "{input} returned {error:?}; the contract says {expected:?}"
                ));
            }
            Ok(()) => {
                // Valid in itself: only a timer due before `now` may refuse it, with the
                // error the timer makes it.
                let now = cx.now;
                let explained = match (obs.ahead, error) {
                    (Some(a), InputError::Finished) => a.finished,
                    (
                        Some(a),
                        InputError::AttemptAlreadyEnded {
                            state:
                                AttemptState::Failed {
                                    at,
                                    failure: AttemptFailure::TimedOut,
                                },
                            ..
                        },
                    ) => {
                        !a.finished
                            && *at == now
                            && matches!(
                                a.attempt,
                                Some(AttemptState::Failed {
                                    failure: AttemptFailure::TimedOut,
                                    ..
                                })
                            )
                    }
                    _ => false,
                };
                if !explained {
                    return v(format!(
                        "{input} at {now} is valid, yet it was refused with {error:?}, which the \
                         timers due before {now} do not explain (they give {:?})",
                        obs.ahead
                    ));
                }
            }
        }
        self.check_unchanged(obs, cx, input, error)
    }

    /// After a refused input: every getter says what it said before the input.
    pub(super) fn check_unchanged(
        &self,
        obs: &Observed<'_>,
        cx: &Cx<'_>,
        input: &Input,
        error: &InputError,
    ) -> Result<(), Violation> {
        let v = |detail: String| Err(cx.violation(Rule::Input, None, detail));
        let unchanged = obs.phase == self.phase
            && obs.pending == self.pending
            && obs.poll_timeout == self.poll_timeout
            && obs.outcome.is_some() == self.finished
            && obs.skipped == self.skipped.as_slice()
            && obs.settled == self.settled;
        if !unchanged {
            return v(format!(
                "a refused input ({input}: {error}) changed the race: phase {:?} -> {:?}, \
                 pending {} -> {}, poll_timeout {:?} -> {:?}, outcome {:?}, skipped {} -> {}, \
                 service info settled {} -> {}",
                self.phase,
                obs.phase,
                self.pending,
                obs.pending,
                self.poll_timeout,
                obs.poll_timeout,
                obs.outcome.map(|o| o.result),
                self.skipped.len(),
                obs.skipped.len(),
                self.settled,
                obs.settled
            ));
        }
        self.check_getters(obs, cx)
    }

    /// What the contract says the race must return for `input` now.
    pub(super) fn expected_result(&self, input: &Input) -> Result<(), InputError> {
        match input {
            // handle_timeout only refuses a finished race or time going backwards, both
            // checked before its timers fire.
            Input::Timeout => Ok(()),
            _ if self.finished => Err(InputError::Finished),
            Input::Cancel => Ok(()),
            Input::Connected(id) | Input::Failed(id, _) | Input::Progress(id) => {
                match self.attempts.get(id.0 as usize) {
                    None => Err(InputError::UnknownAttempt(*id)),
                    Some(a) if a.state != AttemptState::InFlight => {
                        Err(InputError::AttemptAlreadyEnded {
                            id: *id,
                            state: a.state,
                        })
                    }
                    Some(_) => Ok(()),
                }
            }
            Input::Dns { id, answer } => {
                let Some(q) = self.queries.get(id.0 as usize) else {
                    return Err(InputError::UnknownQuery(*id));
                };
                let mismatch = |addr| {
                    Err(InputError::AnswerMismatch {
                        id: *id,
                        asked: q.record,
                        addr,
                    })
                };
                match (answer, record_family(q.record)) {
                    (DnsAnswer::Addresses(list), Some(family)) => {
                        // An AAAA answer may hold any IPv6 address (an IPv4-mapped one is then
                        // IPv4); an A answer only IPv4 addresses, plain or mapped.
                        let fits = |ip: &IpAddr| match family {
                            Family::V6 => ip.is_ipv6(),
                            Family::V4 => ip_family(*ip) == Family::V4,
                        };
                        match list.iter().find(|ip| !fits(ip)) {
                            Some(bad) => mismatch(Some(*bad)),
                            None => Ok(()),
                        }
                    }
                    (DnsAnswer::Services(_), None) | (DnsAnswer::Error(_), _) => Ok(()),
                    _ => mismatch(None),
                }
            }
        }
    }

    /// Applies the step's input to the model, after checking the race's result for it.
    pub(super) fn apply_input(&mut self, cx: &mut Cx<'_>) -> Result<(), Violation> {
        cx.input_applied = true;
        let Some(input) = cx.input else {
            return Ok(());
        };
        let expected = self.expected_result(input);
        if *cx.result != expected {
            return Err(cx.violation(
                Rule::Input,
                None,
                format!(
                    "{input} returned {:?}; the contract says {expected:?}",
                    cx.result
                ),
            ));
        }
        if expected.is_err() {
            return Ok(());
        }
        let now = cx.now;
        match input {
            Input::Timeout => {}
            Input::Cancel => cx.must_finish = Some(RaceResult::Cancelled),
            Input::Connected(id) => {
                if let Some(a) = self.attempts.get_mut(id.0 as usize) {
                    a.state = AttemptState::Connected { at: now };
                }
                cx.must_finish = Some(RaceResult::Connected(*id));
            }
            Input::Failed(id, failure) => self.fail(*id, now, *failure),
            Input::Progress(id) => self.progress(*id, now),
            Input::Dns { id, answer } => self.answer(*id, answer),
        }
        Ok(())
    }

    /// HEv3 §6.1: progress of the most recent attempt extends the wait for the next one to at
    /// least two handshake times (the time so far), never shorter than the floor of RFC 8305
    /// §5 nor longer than the maximum delay.
    fn progress(&mut self, id: AttemptId, now: Instant) {
        let most_recent = id.0 as usize + 1 == self.attempts.len();
        if let (true, Some(at), Some(a)) =
            (most_recent, self.gate_at, self.attempts.get(id.0 as usize))
        {
            let extension = now
                .saturating_duration_since(a.started)
                .saturating_mul(2)
                .max(CONNECTION_ATTEMPT_DELAY_FLOOR)
                .min(self.config.max_connection_attempt_delay);
            self.gate_at = Some(at.max(now + extension));
        }
    }

    /// An accepted DNS answer: the query is answered, its addresses kept (a definitive
    /// negative clears them, a transient error keeps them), a positive answer noted, a failure
    /// listed once.
    fn answer(&mut self, id: QueryId, answer: &DnsAnswer) {
        let Some(q) = self.queries.get_mut(id.0 as usize) else {
            return;
        };
        q.open = false;
        q.answered = true;
        match answer {
            DnsAnswer::Addresses(list) => q.addrs = list.clone(),
            DnsAnswer::Error(e) if e.is_definitive() => q.addrs.clear(),
            _ => {}
        }
        let error = match answer {
            DnsAnswer::Addresses(list) if list.is_empty() => Some(DnsError::NoData),
            DnsAnswer::Addresses(_) => {
                self.positive = true;
                self.maybe_positive = true;
                None
            }
            DnsAnswer::Services(records) if records.is_empty() => Some(DnsError::NoData),
            DnsAnswer::Services(records) => {
                if records
                    .iter()
                    .any(|r| !r.ipv4hint.is_empty() || !r.ipv6hint.is_empty())
                {
                    self.maybe_positive = true;
                }
                None
            }
            DnsAnswer::Error(e) => Some(*e),
        };
        if let Some(error) = error {
            let failure = DnsFailure {
                name: q.name.clone(),
                record: q.record,
                error,
            };
            if !self.dns_errors.contains(&failure) {
                self.dns_errors.push(failure);
            }
        }
    }

    /// An attempt failed (by the input or its timeout): rule 2 opens the gate when it is the
    /// most recent one.
    pub(super) fn fail(&mut self, id: AttemptId, now: Instant, failure: AttemptFailure) {
        let most_recent = id.0 as usize + 1 == self.attempts.len();
        if let Some(a) = self.attempts.get_mut(id.0 as usize) {
            a.state = AttemptState::Failed { at: now, failure };
        }
        if most_recent {
            self.gate_open = true;
            self.gate_at = None;
        }
    }
}
