//! The end of the race: the finishing sequence (cancels, `CancelQueries`, `Finished`) and the
//! outcome it leaves.

use eyeballs::{
    AttemptError, AttemptId, AttemptState, DnsError, DnsFailure, FailReason, Outcome, RaceResult,
};

use super::{
    Cx, FinishSeq, Input, Model, Observed, Rule, Violation, cancel_reason_for, count, is_host_name,
};

impl Model {
    /// The first action of a finishing sequence: decides whether it is a timer's or the
    /// input's, and takes note of what is in flight and open.
    pub(super) fn begin_finish(&mut self, cx: &mut Cx<'_>) {
        if cx.finish.is_some() {
            return;
        }
        cx.finish = Some(FinishSeq {
            in_flight: self.in_flight().map(|(id, _)| id).collect(),
            open_queries: self.open_queries(),
            cancels: Vec::new(),
            cancel_queries: false,
            by_timer: !cx.input_applied,
        });
    }

    /// `Finished`: the result is one the step allows, every attempt in flight was cancelled
    /// for the reason the result gives, queries were cancelled exactly when some were open,
    /// and a failure or a win is what the attempts say. Then the model finishes too.
    pub(super) fn finish(
        &mut self,
        obs: &Observed<'_>,
        cx: &mut Cx<'_>,
        result: RaceResult,
    ) -> Result<(), Violation> {
        let Some(f) = cx.finish.take() else {
            return Ok(());
        };
        self.check_finish_allowed(cx, &f, result)?;
        Self::check_finishing_sequence(cx, &f, result)?;
        self.check_finish_result(cx, &f, result)?;
        for (id, reason) in &f.cancels {
            if let Some(a) = self.attempts.get_mut(id.0 as usize) {
                a.state = AttemptState::Cancelled {
                    at: cx.now,
                    reason: *reason,
                };
            }
        }
        for q in &mut self.queries {
            q.open = false;
        }
        if cx.must_finish.is_some_and(|m| m != result) {
            return Err(cx.violation(
                Rule::Win,
                None,
                format!("finished as {result:?}, expected {:?}", cx.must_finish),
            ));
        }
        cx.must_finish = None;
        self.finished = true;
        self.result = Some(result);
        self.gate_at = None;
        self.check_outcome(obs, cx, result)
    }

    /// Whether what set the finishing sequence off (a timer, or the step's input) may end the
    /// race with `result`.
    fn check_finish_allowed(
        &self,
        cx: &Cx<'_>,
        f: &FinishSeq,
        result: RaceResult,
    ) -> Result<(), Violation> {
        let svcb_fail = self.config.query_https && self.config.svcb_reliant;
        let allowed = if f.by_timer || cx.inclusive {
            let total_due = self.total_deadline().is_some_and(|t| cx.due(t));
            match result {
                RaceResult::TimedOut => total_due,
                RaceResult::Failed(FailReason::AllAttemptsFailed) => cx.timed_out,
                _ => false,
            }
        } else {
            match (cx.input, result) {
                (None, RaceResult::Failed(FailReason::NoAddresses)) => true,
                (Some(Input::Connected(id)), RaceResult::Connected(won)) => *id == won,
                (Some(Input::Cancel), RaceResult::Cancelled) => true,
                (Some(Input::Failed(..)), RaceResult::Failed(FailReason::AllAttemptsFailed)) => {
                    true
                }
                (Some(Input::Dns { .. }), RaceResult::Failed(reason)) => {
                    reason != FailReason::ServiceResolutionFailed || svcb_fail
                }
                _ => false,
            }
        };
        if allowed {
            return Ok(());
        }
        let rule = match result {
            RaceResult::Connected(_) => Rule::Win,
            RaceResult::Failed(_) => Rule::AllFailed,
            RaceResult::TimedOut => Rule::Timer,
            RaceResult::Cancelled => Rule::Input,
        };
        Err(cx.violation(
            rule,
            None,
            format!(
                "finished as {result:?} after {}",
                cx.input
                    .map_or_else(|| "creation".to_string(), |i| i.to_string())
            ),
        ))
    }

    /// Every attempt in flight is cancelled, in start order, for the reason the result gives:
    /// none is lost (rule 4, and rule 3 for the reason); `CancelQueries` comes exactly when
    /// queries are open.
    fn check_finishing_sequence(
        cx: &Cx<'_>,
        f: &FinishSeq,
        result: RaceResult,
    ) -> Result<(), Violation> {
        let v = |rule, attempt, detail: String| Err(cx.violation(rule, attempt, detail));
        let reason = cancel_reason_for(result);
        let cancelled: Vec<AttemptId> = f.cancels.iter().map(|c| c.0).collect();
        if cancelled != f.in_flight {
            let lost = f
                .in_flight
                .iter()
                .find(|id| !cancelled.contains(id))
                .copied();
            return v(
                if matches!(result, RaceResult::Connected(_)) {
                    Rule::Win
                } else {
                    Rule::Lifecycle
                },
                lost,
                format!(
                    "finished as {result:?} with {:?} in flight but cancelled {cancelled:?}",
                    f.in_flight
                ),
            );
        }
        if let Some((id, r)) = f.cancels.iter().find(|(_, r)| Some(*r) != reason) {
            return v(
                Rule::Abandoned,
                Some(*id),
                format!("cancelled as {r:?} when the race finished as {result:?}"),
            );
        }
        if f.cancel_queries != f.open_queries {
            return v(
                Rule::Resolution,
                None,
                format!(
                    "CancelQueries must come exactly when queries are open at the end \
                     (open: {}, emitted: {})",
                    f.open_queries, f.cancel_queries
                ),
            );
        }
        Ok(())
    }

    /// A failure (rule 5) comes with nothing in flight or open, and says `NoAddresses` exactly
    /// when nothing was attempted; a win has exactly one winner.
    fn check_finish_result(
        &self,
        cx: &Cx<'_>,
        f: &FinishSeq,
        result: RaceResult,
    ) -> Result<(), Violation> {
        let v = |rule, attempt, detail: String| Err(cx.violation(rule, attempt, detail));
        match result {
            RaceResult::Failed(FailReason::AllAttemptsFailed | FailReason::NoAddresses) => {
                let no_attempts = self.attempts.is_empty();
                let expected_reason = if no_attempts {
                    FailReason::NoAddresses
                } else {
                    FailReason::AllAttemptsFailed
                };
                if !f.in_flight.is_empty() || f.open_queries {
                    return v(
                        Rule::AllFailed,
                        None,
                        format!(
                            "failed with {:?} in flight and queries open: {}",
                            f.in_flight, f.open_queries
                        ),
                    );
                }
                if result != RaceResult::Failed(expected_reason) {
                    return v(
                        Rule::AllFailed,
                        None,
                        format!(
                            "finished as {result:?} with {} attempt(s) made",
                            self.attempts.len()
                        ),
                    );
                }
            }
            RaceResult::Connected(id) => {
                let winners = self
                    .attempts
                    .iter()
                    .filter(|a| matches!(a.state, AttemptState::Connected { .. }))
                    .count();
                if winners != 1 {
                    return v(Rule::Win, Some(id), format!("{winners} winners"));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// `outcome()` says what the actions say: the time, the result, the winner, every failed
    /// attempt, the DNS failures (those of names never resolved because they are not host
    /// names, and the answers').
    fn check_outcome(
        &self,
        obs: &Observed<'_>,
        cx: &Cx<'_>,
        result: RaceResult,
    ) -> Result<(), Violation> {
        let v = |detail: String| Err(cx.violation(Rule::Report, None, detail));
        let Some(o) = obs.outcome else {
            return v("Finished emitted but outcome() is None".into());
        };
        let winner = match result {
            RaceResult::Connected(id) => self
                .attempts
                .get(id.0 as usize)
                .map(|a| (a.addr, a.protocol)),
            _ => None,
        };
        let errors: Vec<AttemptError> = self
            .attempts
            .iter()
            .enumerate()
            .filter_map(|(i, a)| match a.state {
                AttemptState::Failed { failure, .. } => Some(AttemptError {
                    id: count(i),
                    addr: a.addr,
                    protocol: a.protocol,
                    failure,
                }),
                _ => None,
            })
            .collect();
        // Queries never sent because the name is not a host name (a service record's
        // TargetName) are reported as `InvalidName` failures: each must name a non-host name;
        // the other failures are the answers'.
        let (invalid, answered): (Vec<DnsFailure>, Vec<DnsFailure>) = o
            .dns_errors
            .iter()
            .cloned()
            .partition(|d| d.error == DnsError::InvalidName);
        if let Some(d) = invalid.iter().find(|d| is_host_name(&d.name)) {
            return v(format!("{d} is reported, but {:?} is a host name", d.name));
        }
        let expected = Outcome {
            at: cx.now,
            result,
            winner,
            attempt_errors: errors,
            skipped: o.skipped.clone(),
            dns_errors: self.dns_errors.clone(),
        };
        let got = Outcome {
            dns_errors: answered,
            ..o.clone()
        };
        if got != expected {
            return v(format!("outcome() is {o:?}; the actions say {expected:?}"));
        }
        Ok(())
    }
}
