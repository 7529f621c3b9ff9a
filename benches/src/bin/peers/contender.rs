//! What a contender is (its label, its connect, its runs) and how the contenders are run:
//! round-robin, warm-up first.

use super::*;

/// One connect: how long it took and where it connected (or why not).
#[derive(Clone, Debug)]
pub(super) struct Run {
    pub(super) elapsed: Duration,
    pub(super) result: Result<IpAddr, String>,
}

impl Run {
    pub(super) fn timed<E: std::fmt::Display>(
        start: Instant,
        result: Result<SocketAddr, E>,
    ) -> Run {
        Run {
            elapsed: start.elapsed(),
            result: result.map(|a| a.ip()).map_err(|e| e.to_string()),
        }
    }
}

pub(super) type RunFn = Box<dyn FnMut() -> Run>;

/// A contender: its name, how it resolves, and its connect (or why it cannot run).
pub(super) struct Contender {
    pub(super) label: String,
    pub(super) how: String,
    pub(super) run: Result<RunFn, String>,
    pub(super) runs: Vec<Run>,
    /// A run that did not connect within this is a timeout (drawn as such).
    pub(super) bound: Option<Duration>,
    /// Of the measured runs, how many made a TCP connection to the lab's silent listener
    /// (the TLS-dead-IPv6 comparison; `None` elsewhere).
    pub(super) to_silent: Option<usize>,
}

impl Contender {
    pub(super) fn new(
        label: impl Into<String>,
        how: impl Into<String>,
        run: Result<RunFn, String>,
    ) -> Self {
        Contender {
            label: label.into(),
            how: how.into(),
            run,
            runs: Vec::new(),
            bound: None,
            to_silent: None,
        }
    }

    /// This contender, its runs bounded by `bound`.
    pub(super) fn bounded(mut self, bound: Duration) -> Self {
        self.bound = Some(bound);
        self
    }
}

/// What a run that got nothing within `bound` reports (`what`: "connection", "TLS
/// connection").
pub(super) fn none_within(what: &str, bound: Duration) -> String {
    format!("no {what} within {}", Human(bound))
}

/// Runs every contender once per round, round-robin: round 0 warms them up, rounds
/// 1..=`reps` are measured. With `silent` (the lab's silent listener), each measured run also records whether it made a
/// TCP connection to that listener.
pub(super) fn run_rounds(
    name: &str,
    contenders: &mut [Contender],
    reps: usize,
    silent: Option<&eyeballs_lab::SilentListener>,
) {
    for round in 0..=reps {
        eprint!("\rpeers: {name}: round {round}/{reps}");
        for c in contenders.iter_mut() {
            let Ok(run) = c.run.as_mut() else {
                continue;
            };
            let before = silent.map(|s| s.accepted());
            let r = run();
            if round == 0 {
                continue;
            }
            if let (Some(s), Some(before)) = (silent, before) {
                // The listener accepts on a thread of its own, which a loaded machine runs
                // late: wait for the count rather than read it once.
                let reached = s
                    .wait_until_accepted(before + 1, SILENT_ACCEPT_LIMIT)
                    .is_ok();
                *c.to_silent.get_or_insert(0) += usize::from(reached);
            }
            c.runs.push(r);
        }
    }
    eprintln!();
}

/// How long after a run the silent listener may take to count a connection the run made
/// (the contenders of the TLS comparison all make one, so this is paid only by a run that did
/// not).
const SILENT_ACCEPT_LIMIT: Duration = Duration::from_secs(1);
