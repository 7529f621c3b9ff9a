//! What the monitor records of each step: the input given, the race's answer and its actions.

use std::fmt;

use eyeballs::{Action, AttemptFailure, AttemptId, DnsAnswer, InputError, Instant, QueryId};

/// One input given to a race.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// [`Race::handle_dns`](eyeballs::Race::handle_dns).
    Dns {
        /// The query answered.
        id: QueryId,
        /// The answer.
        answer: DnsAnswer,
    },
    /// [`Race::handle_connected`](eyeballs::Race::handle_connected).
    Connected(AttemptId),
    /// [`Race::handle_failed`](eyeballs::Race::handle_failed).
    Failed(AttemptId, AttemptFailure),
    /// [`Race::handle_progress`](eyeballs::Race::handle_progress).
    Progress(AttemptId),
    /// [`Race::handle_timeout`](eyeballs::Race::handle_timeout).
    Timeout,
    /// [`Race::cancel`](eyeballs::Race::cancel).
    Cancel,
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::Dns { id, answer } => match answer {
                DnsAnswer::Addresses(list) => write!(f, "answer {id}: {list:?}"),
                DnsAnswer::Services(records) => {
                    write!(f, "answer {id}: {} service record(s)", records.len())
                }
                DnsAnswer::Error(e) => write!(f, "answer {id}: {e}"),
            },
            Input::Connected(id) => write!(f, "connected #{}", id.0),
            Input::Failed(id, failure) => write!(f, "failed #{} ({failure})", id.0),
            Input::Progress(id) => write!(f, "progress #{}", id.0),
            Input::Timeout => f.write_str("timeout"),
            Input::Cancel => f.write_str("cancel"),
        }
    }
}

/// One step of a monitored race: an input (or the race's creation), its time, the race's
/// answer and every action the race emitted in response, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The `now` given with the input (the race's start for its creation).
    pub at: Instant,
    /// The input; `None` for the race's creation.
    pub input: Option<Input>,
    /// What the race returned.
    pub result: Result<(), InputError>,
    /// The actions it emitted.
    pub actions: Vec<Action>,
}

impl fmt::Display for Step {
    /// One line: time, input, result, actions.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>12}  ", self.at.to_string())?;
        match &self.input {
            Some(input) => write!(f, "{input}")?,
            None => f.write_str("created")?,
        }
        if let Err(e) = &self.result {
            write!(f, " -> refused: {e}")?;
        }
        for a in &self.actions {
            match a {
                Action::Resolve { id, name, record } => {
                    write!(f, "; resolve {id} {record} {name}")?
                }
                Action::Attempt(a) => write!(f, "; start #{} {} {}", a.id.0, a.addr, a.protocol)?,
                Action::Cancel { id, reason } => write!(f, "; cancel #{} ({reason:?})", id.0)?,
                Action::CancelQueries => f.write_str("; cancel queries")?,
                Action::Finished(r) => write!(f, "; finished {r:?}")?,
            }
        }
        Ok(())
    }
}
