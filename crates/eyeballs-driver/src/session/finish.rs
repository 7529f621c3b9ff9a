//! Finishing: the winner, or one [`ConnectError`] listing every attempt with its error, the
//! endpoints skipped and the DNS failures.

use std::io;

use eyeballs::{AttemptError, AttemptFailure, AttemptState, CancelReason, RaceResult};

use super::Session;
use crate::error::{AttemptIoError, ConnectError, Reason};
use crate::report::RaceReport;

impl<A, Q, S> Session<A, Q, S> {
    /// The winner, or the error listing every attempt; and the report.
    pub fn finish(mut self) -> (Result<S, ConnectError>, RaceReport) {
        let report = std::mem::take(&mut self.report);
        if let Some(stream) = self.winner.take() {
            return (Ok(stream), report);
        }
        let outcome = self.race.outcome();
        let result = match outcome.map(|o| o.result) {
            Some(RaceResult::Connected(_)) | None => {
                // A race abandoned before it ended; a winner whose stream is gone cannot
                // happen, and is reported so too.
                RaceResult::Cancelled
            }
            Some(result) => result,
        };
        // Every attempt that did not connect, as the engine records it, with its I/O error;
        // an attempt still connecting when the race ended (its total timeout) counts as
        // timed out.
        let mut attempts = Vec::new();
        for a in self.race.attempts() {
            // Whether its transport connected and a secure handshake was under way.
            let secured = report
                .attempt(a.id)
                .is_some_and(|r| r.transport_connected.is_some());
            let (failure, error) = match a.state {
                AttemptState::Failed { failure, .. } => {
                    let error = self.io_errors.remove(&a.id).unwrap_or_else(|| {
                        // Not the network's: the engine's attempt timeout ended it.
                        io::Error::new(
                            io::ErrorKind::TimedOut,
                            if secured {
                                "the transport connected, but the secure handshake did not \
                                 finish within the attempt timeout"
                            } else {
                                "no connection within the attempt timeout"
                            },
                        )
                    });
                    (failure, error)
                }
                AttemptState::Cancelled {
                    reason: CancelReason::RaceTimedOut,
                    ..
                }
                | AttemptState::InFlight => (
                    AttemptFailure::TimedOut,
                    io::Error::new(
                        io::ErrorKind::TimedOut,
                        if secured {
                            "the transport connected; still in the secure handshake when the \
                             race ended"
                        } else {
                            "still connecting when the race ended"
                        },
                    ),
                ),
                AttemptState::Connected { .. } | AttemptState::Cancelled { .. } => continue,
            };
            let attempt = AttemptError {
                id: a.id,
                addr: a.addr,
                protocol: a.protocol,
                failure,
            };
            attempts.push(AttemptIoError { attempt, error });
        }
        let (skipped, dns) = match outcome {
            Some(o) => (o.skipped.clone(), o.dns_errors.clone()),
            None => (self.race.skipped().to_vec(), Vec::new()),
        };
        let reason = match result {
            RaceResult::TimedOut if self.deadline_binds => Reason::DeadlinePassed,
            result => Reason::Race(result),
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
