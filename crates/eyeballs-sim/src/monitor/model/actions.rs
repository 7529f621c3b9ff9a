//! Each action the race emits, checked against the rules: a query may be asked, an attempt may
//! start (pacing, the cap, the destination), an attempt timed out when its deadline came, a
//! cancel belongs to the finishing sequence in start order.

use std::net::SocketAddr;

use eyeballs::{
    Action, Attempt, AttemptFailure, AttemptId, AttemptState, CancelReason, Protocol, QueryId,
    RecordType, check_connectable,
};

use super::{
    Cx, Input, Model, Observed, QueryModel, Rule, Shadow, Violation, count, ip_family, judged,
    not_a_host_name,
};

impl Model {
    /// Checks `action` (the next one of the step) and applies it to the model.
    pub(super) fn action(
        &mut self,
        obs: &Observed<'_>,
        cx: &mut Cx<'_>,
        action: &Action,
    ) -> Result<(), Violation> {
        match action {
            Action::Resolve { id, name, record } => self.resolve(cx, action, *id, name, *record),
            Action::Attempt(attempt) => self.start(cx, attempt),
            Action::Cancel {
                id,
                reason: CancelReason::AttemptTimedOut,
            } => self.attempt_timed_out(cx, *id),
            Action::Cancel { id, reason } => self.cancel(cx, *id, *reason),
            Action::CancelQueries => self.cancel_queries(cx),
            Action::Finished(result) => {
                self.begin_finish(cx);
                self.finish(obs, cx, *result)
            }
        }
    }

    /// A query: only at creation or after an accepted answer, ids counting up, for a host
    /// name, of a record type the configuration asks for.
    fn resolve(
        &mut self,
        cx: &Cx<'_>,
        action: &Action,
        id: QueryId,
        name: &str,
        record: RecordType,
    ) -> Result<(), Violation> {
        let v = |detail: String| Err(cx.violation(Rule::Resolution, None, detail));
        let expected = QueryId(u32::try_from(self.queries.len()).unwrap_or(u32::MAX));
        let may_resolve = match cx.input {
            None => true,
            Some(Input::Dns { .. }) => cx.result.is_ok(),
            Some(_) => false,
        };
        if !may_resolve || cx.finish.is_some() {
            return v(format!("{action:?} in a step that cannot ask for anything"));
        }
        if id != expected {
            return v(format!(
                "query ids must count up: got {id}, expected {expected}"
            ));
        }
        // Every name sent out is one the engine accepts as a host name: a service
        // record's TargetName that is not one is never resolved.
        if let Some(why) = not_a_host_name(name) {
            return v(format!(
                "{record} query for {name:?}, which is not a host name: {why}"
            ));
        }
        let c = &self.config;
        let allowed = match record {
            RecordType::Aaaa => c.connectivity.ipv6,
            RecordType::A => c.connectivity.ipv4 || c.nat64_prefix.is_some(),
            RecordType::Https => c.query_https,
        };
        if !allowed {
            return v(format!(
                "{record} query for {name} that the configuration rules out (HEv3 §4.1)"
            ));
        }
        self.queries.push(QueryModel {
            name: name.to_string(),
            record,
            open: true,
            answered: false,
            addrs: Vec::new(),
        });
        Ok(())
    }

    /// A start: not while finishing, ids counting up from 0, by an input that can start
    /// something (or a timer), with the gate open (rule 2) and the cap allowing it (rule 6),
    /// to a destination that may be used. It closes the gate for its Connection Attempt Delay.
    fn start(&mut self, cx: &mut Cx<'_>, attempt: &Attempt) -> Result<(), Violation> {
        let now = cx.now;
        let id = attempt.id;
        let v = |rule, detail: String| Err(cx.violation(rule, Some(id), detail));
        if cx.finish.is_some() {
            return v(
                Rule::AfterFinish,
                "started while the race was finishing".into(),
            );
        }
        if id != count(self.attempts.len()) {
            return v(
                Rule::Lifecycle,
                format!(
                    "attempt ids must count up from 0: expected #{}",
                    self.attempts.len()
                ),
            );
        }
        let can_start = match cx.input {
            None | Some(Input::Dns { .. }) | Some(Input::Failed(..)) => true,
            Some(_) => cx.timer_phase(),
        };
        if !can_start {
            return v(
                Rule::StartedTooEarly,
                "started by an input that cannot start anything".into(),
            );
        }
        if !self.gate_open {
            let (prev, prev_shadow) = match self.attempts.last() {
                Some(p) => (count(self.attempts.len() - 1), p),
                None => return v(Rule::StartedTooEarly, "gate closed".into()),
            };
            return v(
                Rule::StartedTooEarly,
                format!(
                    "the most recent attempt, #{} (started at {}), has neither failed \
                     nor run for its delay (until {})",
                    prev.0,
                    prev_shadow.started,
                    self.gate_at.map_or_else(|| "?".into(), |t| t.to_string())
                ),
            );
        }
        if !self.cap_allows() {
            return v(
                Rule::ConcurrencyCap,
                format!(
                    "{} attempts already in flight, cap {:?}",
                    self.in_flight_count(),
                    self.config.max_concurrent_attempts
                ),
            );
        }
        self.check_destination(cx, attempt.id, attempt.addr, attempt.protocol)?;
        let path = self
            .config
            .path_info
            .as_ref()
            .map(|p| p.path_info(attempt.addr.ip()))
            .unwrap_or_default();
        let delay = self.config.attempt_delay_for(&path);
        self.attempts.push(Shadow {
            addr: attempt.addr,
            protocol: attempt.protocol,
            started: now,
            deadline: self.config.attempt_timeout.map(|t| now + t),
            state: AttemptState::InFlight,
        });
        self.gate_open = false;
        self.gate_at = Some(now + delay);
        cx.started = true;
        Ok(())
    }

    /// An attempt timeout (rule 3): before the input's effects, of an attempt in flight whose
    /// deadline has come, never while the race is finishing.
    fn attempt_timed_out(&mut self, cx: &mut Cx<'_>, id: AttemptId) -> Result<(), Violation> {
        let now = cx.now;
        let v = |rule, detail: String| Err(cx.violation(rule, Some(id), detail));
        if cx.finish.is_some() {
            return v(
                Rule::Lifecycle,
                "an attempt timed out while the race was finishing".into(),
            );
        }
        if !cx.timer_phase() {
            return v(
                Rule::Timer,
                "attempt timeout after the input's effects (timers due before now \
                 fire before the input)"
                    .into(),
            );
        }
        let Some(a) = self.attempts.get(id.0 as usize) else {
            return v(Rule::Lifecycle, "cancel of an attempt never started".into());
        };
        if a.state != AttemptState::InFlight {
            return v(
                Rule::Lifecycle,
                format!("timed out, but it already ended ({:?})", a.state),
            );
        }
        match a.deadline {
            Some(t) if cx.due(t) => {}
            deadline => {
                return v(
                    Rule::Abandoned,
                    format!("cancelled as timed out at {now}; its deadline is {deadline:?}"),
                );
            }
        }
        self.fail(id, now, AttemptFailure::TimedOut);
        cx.timed_out = true;
        Ok(())
    }

    /// Any other cancel: part of the finishing sequence, of an attempt in flight, in start
    /// order, all for one reason (rule 4).
    fn cancel(
        &mut self,
        cx: &mut Cx<'_>,
        id: AttemptId,
        reason: CancelReason,
    ) -> Result<(), Violation> {
        self.begin_finish(cx);
        let v = |rule, detail: String| Err(cx.violation(rule, Some(id), detail));
        let Some(a) = self.attempts.get(id.0 as usize) else {
            return v(Rule::Lifecycle, "cancel of an attempt never started".into());
        };
        if a.state != AttemptState::InFlight {
            return v(
                Rule::Lifecycle,
                format!(
                    "cancelled ({reason:?}), but it already ended ({:?})",
                    a.state
                ),
            );
        }
        let cancels = cx.finish.as_ref().map_or(&[][..], |f| &f.cancels[..]);
        if cancels.last().is_some_and(|(last, _)| *last >= id) {
            return v(
                Rule::Win,
                "cancels at the end of the race must come in start order".into(),
            );
        }
        if cancels.first().is_some_and(|(_, r)| *r != reason) {
            return v(Rule::Lifecycle, "cancels with different reasons".into());
        }
        if let Some(f) = cx.finish.as_mut() {
            f.cancels.push((id, reason));
        }
        Ok(())
    }

    /// `CancelQueries`: part of the finishing sequence, once.
    fn cancel_queries(&mut self, cx: &mut Cx<'_>) -> Result<(), Violation> {
        self.begin_finish(cx);
        if let Some(f) = cx.finish.as_mut() {
            if f.cancel_queries {
                return Err(cx.violation(Rule::Resolution, None, "CancelQueries twice".into()));
            }
            f.cancel_queries = true;
        }
        Ok(())
    }

    /// The destination rule: an attempt is to a destination that may be used (connectable,
    /// of a family with connectivity, over an allowed transport, not tried before, allowed by
    /// the filter as the IPv4 address it carries, in its canonical form).
    fn check_destination(
        &self,
        cx: &Cx<'_>,
        id: AttemptId,
        addr: SocketAddr,
        protocol: Protocol,
    ) -> Result<(), Violation> {
        let c = &self.config;
        let ip = addr.ip();
        let judged = judged(ip, c);
        let problem = if let Err(why) = check_connectable(&addr) {
            Some(format!("{addr} is unconnectable: {why}"))
        } else if !c.connectivity.has(ip_family(ip)) {
            Some(format!("{addr}: no connectivity for its family"))
        } else if !c.protocols.has(protocol) {
            Some(format!("{protocol} is not an allowed transport"))
        } else if self
            .attempts
            .iter()
            .any(|a| a.addr == addr && a.protocol == protocol)
        {
            Some(format!("{addr} over {protocol} was attempted before"))
        } else if let Some(why) = c
            .destination_filter
            .as_ref()
            .and_then(|f| f.check(judged).err())
        {
            Some(format!(
                "{addr} (judged as {judged}) is refused by the destination filter: {why}"
            ))
        } else if ip.to_canonical() != ip {
            Some(format!(
                "{addr} is IPv4-mapped: it is the IPv4 address it maps and must be started in \
                 that form"
            ))
        } else {
            None
        };
        match problem {
            Some(detail) => Err(cx.violation(Rule::Destination, Some(id), detail)),
            None => Ok(()),
        }
    }
}
