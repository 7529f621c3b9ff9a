//! What a broken rule is reported as: which [`Rule`], and the [`Violation`] with its step.

use std::fmt;

use eyeballs::{AttemptId, Instant};

/// Which rule a [`Violation`] breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// Rule 1: the race did not move to connecting when an address could be used (HEv3 §4.2),
    /// or moved before.
    FirstAttempt,
    /// Rule 2: an attempt started before the most recent one failed or ran for its
    /// Connection Attempt Delay.
    StartedTooEarly,
    /// Rules 1, 2, 6: an attempt was due (something left to try, the pacing and the cap
    /// allowing it) and did not start.
    NotStarted,
    /// Rule 3: an attempt was cancelled while the race went on, other than by its timeout.
    Abandoned,
    /// Rule 4: the win was not handled as the rules say (wrong result, attempts not
    /// cancelled in start order at that moment).
    Win,
    /// Rule 4: an action after `Finished`.
    AfterFinish,
    /// Rule 5: every attempt failed with nothing left and nothing awaited, and the race did
    /// not fail; or it failed while something was still in flight, left or awaited.
    AllFailed,
    /// Rule 6: more attempts in flight than
    /// [`Config::max_concurrent_attempts`](eyeballs::Config::max_concurrent_attempts).
    ConcurrencyCap,
    /// An attempt ended twice, or the race finished without ending it, or an action named an
    /// attempt that does not exist, or attempt ids did not count up from 0.
    Lifecycle,
    /// An attempt timeout, the total timeout or the Resolution Delay fired early or late.
    Timer,
    /// [`Race::poll_timeout`](eyeballs::Race::poll_timeout) is not the earliest pending
    /// deadline (or is in the past).
    Wakeup,
    /// An input got another result than the contract says, or a refused input changed the
    /// race.
    Input,
    /// A query that should not have been sent, or a phase change the rules do not allow.
    Resolution,
    /// An attempt to an address that may not be used (unconnectable, no connectivity for its
    /// family, refused by the filter, a transport not allowed, or tried before).
    Destination,
    /// [`Race::attempts`](eyeballs::Race::attempts), [`Race::phase`](eyeballs::Race::phase)
    /// or [`Race::outcome`](eyeballs::Race::outcome) disagree with the actions.
    Report,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rule::FirstAttempt => "rule 1 (first attempt as soon as an address may be used)",
            Rule::StartedTooEarly => "rule 2 (pacing: started too early)",
            Rule::NotStarted => "rules 1/2/6 (an attempt was due and did not start)",
            Rule::Abandoned => "rule 3 (attempt abandoned)",
            Rule::Win => "rule 4 (the first to connect wins, the rest are cancelled)",
            Rule::AfterFinish => "rule 4 (nothing after Finished)",
            Rule::AllFailed => "rule 5 (the race fails when everything has failed)",
            Rule::ConcurrencyCap => "rule 6 (concurrency cap)",
            Rule::Lifecycle => "attempt lifecycle",
            Rule::Timer => "timer",
            Rule::Wakeup => "poll_timeout",
            Rule::Input => "input contract",
            Rule::Resolution => "resolution",
            Rule::Destination => "destination",
            Rule::Report => "reporting getters",
        })
    }
}

/// A broken rule: which one, which attempt (when one is concerned), in which step of the
/// [`log`](super::Monitor::log), at what time, and what exactly happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The rule.
    pub rule: Rule,
    /// The attempt concerned, if any.
    pub attempt: Option<AttemptId>,
    /// The index of the step in [`Monitor::log`](super::Monitor::log).
    pub step: usize,
    /// The time of that step.
    pub at: Instant,
    /// What happened, in words.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "step {} at {}: {}", self.step, self.at, self.rule)?;
        if let Some(id) = self.attempt {
            write!(f, ", {id}")?;
        }
        write!(f, ": {}", self.detail)
    }
}

impl std::error::Error for Violation {}
