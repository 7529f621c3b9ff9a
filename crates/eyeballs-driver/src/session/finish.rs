//! Finishing: the winner, or one [`ConnectError`] listing every attempt with its error, the
//! endpoints skipped and the DNS failures.

use std::io;

use eyeballs::{CancelReason, RaceResult};

use super::Session;
use crate::error::{ConnectError, FailedAttempt, Reason};
use crate::report::{AttemptResult, RaceReport};

impl<A, Q, S> Session<A, Q, S> {
    /// The winner, or the error listing every attempt; and the report.
    pub fn finish(mut self) -> (Result<S, ConnectError>, RaceReport) {
        let report = std::mem::take(&mut self.report);
        if let Some(stream) = self.winner.take() {
            return (Ok(stream), report);
        }
        let outcome = self.race.outcome();
        let reason = match outcome.map(|o| o.result) {
            Some(RaceResult::Failed(eyeballs::FailReason::NoAddresses)) => Reason::NoAddresses,
            Some(RaceResult::Failed(eyeballs::FailReason::AllAttemptsFailed)) => {
                Reason::AllAttemptsFailed
            }
            Some(RaceResult::Failed(eyeballs::FailReason::ServiceResolutionFailed)) => {
                Reason::ServiceResolutionFailed
            }
            Some(RaceResult::TimedOut) => Reason::TimedOut,
            Some(RaceResult::Cancelled) | None => Reason::Cancelled,
            // A winner whose stream is gone cannot happen; report it as cancelled.
            Some(RaceResult::Connected(_)) => Reason::Cancelled,
        };
        let mut attempts = Vec::new();
        for a in &report.attempts {
            let error = match &a.result {
                AttemptResult::Failed { error, .. } => match self.io_errors.remove(&a.id) {
                    Some(e) => e,
                    None => io::Error::new(error.kind, error.message.clone()),
                },
                AttemptResult::Cancelled {
                    reason: CancelReason::AttemptTimedOut,
                } => io::Error::new(
                    io::ErrorKind::TimedOut,
                    "no connection within the attempt timeout",
                ),
                AttemptResult::Cancelled {
                    reason: CancelReason::RaceTimedOut,
                }
                | AttemptResult::InFlight => io::Error::new(
                    io::ErrorKind::TimedOut,
                    "still connecting when the race ended",
                ),
                _ => continue,
            };
            attempts.push(FailedAttempt {
                id: a.id,
                addr: a.addr,
                protocol: a.protocol,
                error,
            });
        }
        let (skipped, dns) = match outcome {
            Some(o) => (o.skipped.clone(), o.dns_errors.clone()),
            None => (self.race.skipped().to_vec(), Vec::new()),
        };
        let error = ConnectError::new(report.target.clone(), reason).with_details(
            attempts,
            skipped,
            dns,
            self.only_family,
        );
        (Err(error), report)
    }
}
