//! The state at the end of a step: what must have happened by then (timers fired, due
//! starts made, the race failed when nothing is left), the wake-up time, the phase and the
//! getters.

use eyeballs::{FailReason, Family, Instant, Phase, RaceResult, RecordType};

use super::{Cx, Model, Observed, Rule, Violation, count};

impl Model {
    /// Checks the state at the end of a step: leftover due timers, starts that were due, rule
    /// 5, the wake-up time, the phase and the getters.
    pub(super) fn end_of_step(&mut self, obs: &Observed<'_>, cx: &Cx<'_>) -> Result<(), Violation> {
        let v = |rule, attempt, detail: String| Err(cx.violation(rule, attempt, detail));
        let phase = obs.phase;
        let pending = obs.pending;
        if let Some(f) = &cx.finish {
            return v(
                Rule::Lifecycle,
                f.in_flight.first().copied(),
                "the race began to finish (cancels or CancelQueries) but never emitted Finished"
                    .into(),
            );
        }
        if let Some(m) = cx.must_finish {
            return v(
                Rule::Win,
                None,
                format!(
                    "{} was accepted but the race did not finish as {m:?}",
                    cx.input.map_or_else(String::new, |i| i.to_string())
                ),
            );
        }
        if self.finished {
            return self.end_of_finished_step(obs, cx);
        }
        if obs.outcome.is_some() || phase == Phase::Finished {
            return v(
                Rule::Report,
                None,
                "outcome()/phase() say finished, but no Finished action came".into(),
            );
        }
        self.check_timers_fired(cx)?;
        // Phase (rule 1).
        self.check_phase(cx, phase)?;
        if matches!(self.phase, Phase::ResolutionDelay { until } if cx.due(until)) {
            self.rd_expired = true;
        }
        // Rules 1, 2, 6: a start that is due happens in this step.
        if phase == Phase::Connecting && pending > 0 && self.gate_open && self.cap_allows() {
            return v(
                Rule::NotStarted,
                None,
                format!(
                    "{pending} endpoint(s) left, the most recent attempt has failed or run for \
                     its delay, {} in flight: an attempt must start now",
                    self.in_flight_count()
                ),
            );
        }
        // Rule 5.
        if self.in_flight_count() == 0 && pending == 0 && !self.open_queries() {
            return v(
                Rule::AllFailed,
                None,
                "nothing in flight, nothing left to try, no answer awaited: the race must have \
                 failed"
                    .into(),
            );
        }
        self.check_wakeup(obs, cx)?;
        self.observe(obs);
        self.check_getters(obs, cx)
    }

    /// The end of the step in which the race finished (or of a step after that): the getters
    /// say finished, nothing is to wake up for, and a failure left nothing untried (but for a
    /// failed service resolution).
    fn end_of_finished_step(&mut self, obs: &Observed<'_>, cx: &Cx<'_>) -> Result<(), Violation> {
        let v = |rule, detail: String| Err(cx.violation(rule, None, detail));
        let phase = obs.phase;
        let pending = obs.pending;
        if phase != Phase::Finished {
            return v(Rule::Report, format!("finished but phase() is {phase:?}"));
        }
        if let Some(t) = obs.poll_timeout {
            return v(Rule::Wakeup, format!("finished but poll_timeout() is {t}"));
        }
        if let (Some(RaceResult::Failed(r)), true) = (self.result, pending > 0) {
            if r != FailReason::ServiceResolutionFailed {
                return v(
                    Rule::AllFailed,
                    format!("failed ({r:?}) with {pending} endpoint(s) never tried"),
                );
            }
        }
        self.observe(obs);
        self.check_getters(obs, cx)
    }

    /// Timers whose deadline was reached in this step have fired: the total timeout, every
    /// attempt timeout.
    fn check_timers_fired(&self, cx: &Cx<'_>) -> Result<(), Violation> {
        if let Some(t) = self.total_deadline().filter(|t| cx.due(*t)) {
            return Err(cx.violation(
                Rule::Timer,
                None,
                format!("the total timeout ({t}) passed and the race goes on"),
            ));
        }
        if let Some((id, a)) = self
            .in_flight()
            .find(|(_, a)| a.deadline.is_some_and(|t| cx.due(t)))
        {
            return Err(cx.violation(
                Rule::Timer,
                Some(id),
                format!(
                    "its attempt timeout ({:?}) passed and it is still in flight",
                    a.deadline
                ),
            ));
        }
        Ok(())
    }

    /// The wake-up: `poll_timeout()` is exactly the earliest pending deadline (the total
    /// timeout, the attempt timeouts, the Resolution Delay, the next attempt while an endpoint
    /// waits), never in the past.
    fn check_wakeup(&self, obs: &Observed<'_>, cx: &Cx<'_>) -> Result<(), Violation> {
        let now = cx.now;
        let phase = obs.phase;
        let pending = obs.pending;
        let v = |detail: String| Err(cx.violation(Rule::Wakeup, None, detail));
        let mut expected: Option<Instant> = None;
        let mut consider = |t: Instant| {
            if expected.is_none_or(|e| t < e) {
                expected = Some(t);
            }
        };
        if let Some(t) = self.total_deadline() {
            consider(t);
        }
        for (_, a) in self.in_flight() {
            if let Some(t) = a.deadline {
                consider(t);
            }
        }
        if let Phase::ResolutionDelay { until } = phase {
            consider(until);
        }
        if let (Some(t), true) = (self.gate_at, pending > 0) {
            consider(t);
        }
        let got = obs.poll_timeout;
        if got.is_some_and(|t| t < now) {
            return v(format!("poll_timeout() is {got:?}, before now ({now})"));
        }
        if got != expected {
            return v(format!(
                "poll_timeout() is {got:?}; the pending deadlines say {expected:?} (gate {:?}, \
                 {pending} pending)",
                self.gate_at
            ));
        }
        Ok(())
    }

    /// The phase may only move as the rules say (rule 1): never back to resolving once
    /// connecting, the Resolution Delay entered for exactly its length and left when it runs
    /// out, connecting only once an address may be used.
    fn check_phase(&self, cx: &Cx<'_>, phase: Phase) -> Result<(), Violation> {
        let v = |rule, detail: String| Err(cx.violation(rule, None, detail));
        let c = &self.config;
        let reliant = c.query_https && c.svcb_reliant;
        let creation = cx.input.is_none();
        let ok = match (self.phase, phase) {
            (_, Phase::Finished) => false,
            (Phase::Finished, _) => false,
            (Phase::Connecting, p) => p == Phase::Connecting,
            (Phase::Resolving, _) => true,
            (Phase::ResolutionDelay { until }, Phase::ResolutionDelay { until: u2 }) => {
                creation || until == u2
            }
            (Phase::ResolutionDelay { .. }, Phase::Connecting) => true,
            (Phase::ResolutionDelay { until }, Phase::AwaitingServiceInfo) => {
                reliant && cx.due(until)
            }
            (Phase::ResolutionDelay { .. }, Phase::Resolving) => false,
            (Phase::AwaitingServiceInfo, p) => {
                matches!(p, Phase::AwaitingServiceInfo | Phase::Connecting)
            }
        };
        if !ok {
            return v(
                Rule::Resolution,
                format!("phase went from {:?} to {phase:?}", self.phase),
            );
        }
        if let Phase::ResolutionDelay { until } = phase {
            if !matches!(self.phase, Phase::ResolutionDelay { .. }) || creation {
                let expected = cx.now + c.resolution_delay;
                if until != expected {
                    return v(
                        Rule::Timer,
                        format!(
                            "the Resolution Delay entered at {} must last until {expected}, not \
                             {until}",
                            cx.now
                        ),
                    );
                }
            }
            if cx.due(until) {
                return v(
                    Rule::Timer,
                    format!("the Resolution Delay (until {until}) passed and it is still on"),
                );
            }
        }
        if phase == Phase::Connecting && !self.maybe_positive {
            return v(
                Rule::FirstAttempt,
                "connecting before any address is known".into(),
            );
        }
        if cx.started && phase != Phase::Connecting {
            return v(
                Rule::FirstAttempt,
                format!("an attempt started but the phase is {phase:?}"),
            );
        }
        if !c.query_https && !self.literal {
            self.check_connecting_when_allowed(cx, phase)?;
        }
        Ok(())
    }

    /// HEv3 §4.2 without service records, first condition set: a positive answer and the
    /// preferred family answered (or never asked) -> connecting at once. Second set: the
    /// Resolution Delay ran out -> connecting. And not before.
    fn check_connecting_when_allowed(&self, cx: &Cx<'_>, phase: Phase) -> Result<(), Violation> {
        let v = |detail: String| Err(cx.violation(Rule::FirstAttempt, None, detail));
        let c = &self.config;
        let preferred = match c.resolution_delay_family() {
            Family::V6 => RecordType::Aaaa,
            Family::V4 => RecordType::A,
        };
        let preferred_answered = self
            .queries
            .iter()
            .find(|q| q.record == preferred)
            .is_none_or(|q| q.answered);
        let rd_over = self.rd_expired
            || matches!(self.phase, Phase::ResolutionDelay { until } if cx.due(until));
        let may_connect = self.positive
            && ((preferred_answered && !self.preferred_known_broken(c, preferred)) || rd_over);
        // Checked when the phase is entered: once connecting, a race stays connecting
        // whatever later answers say.
        if phase == Phase::Connecting && self.phase != Phase::Connecting && !may_connect {
            return v(
                "connecting before the preferred family answered and before the Resolution \
                 Delay ran out"
                    .into(),
            );
        }
        if may_connect && phase != Phase::Connecting {
            return v(format!(
                "a positive answer is in and the preferred family has answered (or the \
                 Resolution Delay ran out), yet the phase is {phase:?}"
            ));
        }
        if !self.positive && phase != Phase::Resolving {
            return v(format!(
                "no positive answer yet, but the phase is {phase:?}"
            ));
        }
        Ok(())
    }

    /// `attempts()` agrees with the model.
    pub(super) fn check_getters(&self, obs: &Observed<'_>, cx: &Cx<'_>) -> Result<(), Violation> {
        let records = obs.attempts;
        if records.len() != self.attempts.len() {
            return Err(cx.violation(
                Rule::Report,
                None,
                format!(
                    "attempts() lists {} attempts; {} were started",
                    records.len(),
                    self.attempts.len()
                ),
            ));
        }
        for (i, (r, m)) in records.iter().zip(&self.attempts).enumerate() {
            if r.id != count(i)
                || r.addr != m.addr
                || r.protocol != m.protocol
                || r.started != m.started
                || r.timeout_at != m.deadline
                || r.state != m.state
            {
                return Err(cx.violation(
                    Rule::Report,
                    Some(count(i)),
                    format!(
                        "attempts() says {r:?}; the actions say started {} at {}, {:?}",
                        m.addr, m.started, m.state
                    ),
                ));
            }
        }
        Ok(())
    }
}
