//! One engine clock for every race in the process.
//!
//! The engine's [`Instant`] counts nanoseconds from an epoch the caller chooses. The driver
//! chooses one epoch for the whole process, so that instants of different races are
//! comparable: a [`SharedHistory`](crate::SharedHistory) learns from a race at the race's
//! instants and answers the next race at that race's instants, and ages come out right.
//! Reports still show time since each race's start.
//!
//! The epoch is the first time the clock is used, placed at 2^62 ns (about 146 years) on
//! the engine's scale: `std::time::Instant`s up to that long before the epoch (taken before
//! the clock was first used, or from a test runtime's paused clock) and about 438 years
//! after it map exactly and in order. Beyond that they saturate.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use eyeballs_driver::clock;
//!
//! let now = Instant::now();
//! let later = now + Duration::from_millis(250);
//! let (a, b) = (clock::to_engine(now), clock::to_engine(later));
//! assert_eq!(b.saturating_duration_since(a), Duration::from_millis(250));
//! assert_eq!(clock::to_std(b), Some(later));
//! ```

use std::sync::OnceLock;
use std::time::{Duration, Instant as StdInstant};

use eyeballs::Instant;

static EPOCH: OnceLock<StdInstant> = OnceLock::new();

/// Where the epoch sits on the engine's scale: room for instants before it.
const EPOCH_NANOS: u64 = 1 << 62;

/// The process's epoch (set on first use).
pub fn epoch() -> StdInstant {
    *EPOCH.get_or_init(StdInstant::now)
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The engine instant of `t`.
pub fn to_engine(t: StdInstant) -> Instant {
    let epoch = epoch();
    let n = match t.checked_duration_since(epoch) {
        Some(after) => EPOCH_NANOS.saturating_add(nanos(after)),
        None => EPOCH_NANOS.saturating_sub(nanos(epoch.saturating_duration_since(t))),
    };
    Instant::from_nanos(n)
}

/// The `std::time::Instant` of an engine instant, when the platform can represent it.
pub fn to_std(t: Instant) -> Option<StdInstant> {
    let epoch = epoch();
    let n = t.as_nanos();
    if n >= EPOCH_NANOS {
        epoch.checked_add(Duration::from_nanos(n - EPOCH_NANOS))
    } else {
        epoch.checked_sub(Duration::from_nanos(EPOCH_NANOS - n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_before_and_after_the_epoch_map_exactly_and_in_order() {
        let e = epoch();
        let before = e.checked_sub(Duration::from_secs(3600)).unwrap_or(e);
        let after = e + Duration::from_nanos(1_234_567);
        let (b, z, a) = (to_engine(before), to_engine(e), to_engine(after));
        assert!(b <= z && z < a);
        assert_eq!(z, Instant::from_nanos(EPOCH_NANOS));
        assert_eq!(
            a.saturating_duration_since(z),
            Duration::from_nanos(1_234_567)
        );
        assert_eq!(
            z.saturating_duration_since(b),
            e.duration_since(before),
            "an instant before the epoch keeps its distance"
        );
        for t in [before, e, after] {
            assert_eq!(to_std(to_engine(t)), Some(t));
        }
    }
}
