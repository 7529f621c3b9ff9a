//! The `engine_inputs` target: an arbitrary configuration and target, then an arbitrary
//! sequence of inputs, valid or not.

use arbitrary::{Arbitrary, Unstructured};

use crate::{FuzzRace, Knobs, MAX_OPS, Op, TargetSpec, text};

/// The input of `engine_inputs`.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub struct EngineCase {
    /// The configuration.
    pub knobs: Knobs,
    /// The target.
    pub target: TargetSpec,
    /// The inputs, in order.
    pub ops: Vec<Op>,
}

impl EngineCase {
    /// The case in `data`: the text form when it starts with [`text::MAGIC`], otherwise
    /// `arbitrary`'s decoding.
    pub fn decode(data: &[u8]) -> Option<EngineCase> {
        match text::strip_magic(data) {
            Some(t) => Some(text::engine_case(&t)),
            None => EngineCase::arbitrary_take_rest(Unstructured::new(data)).ok(),
        }
    }
}

/// Runs an `engine_inputs` case; the race at the end, unless it refused to start.
pub fn run_engine(case: &EngineCase) -> Option<FuzzRace> {
    let mut race = FuzzRace::start(case.knobs.config(), case.target.build())?;
    for op in case.ops.iter().take(MAX_OPS) {
        race.op(op);
    }
    race.settle();
    Some(race)
}
