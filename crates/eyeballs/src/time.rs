//! The engine's clock type.
//!
//! The engine never reads a clock. Every call takes the current [`Instant`], which the caller
//! derives from whatever clock it has: `std::time::Instant` in an async runtime, a hardware
//! timer on a microcontroller, or a virtual clock in a simulation.

use core::fmt;
use core::time::Duration;

/// A point in time, in nanoseconds since an epoch the caller chooses.
///
/// Only differences between instants matter to the engine, so any monotonic clock works.
/// All arithmetic saturates: no input can make it overflow or panic.
///
/// ```
/// use core::time::Duration;
/// use eyeballs::Instant;
///
/// let start = Instant::ZERO;
/// let later = start + Duration::from_millis(250);
/// assert_eq!(later.as_nanos(), 250_000_000);
/// assert_eq!(later.saturating_duration_since(start), Duration::from_millis(250));
/// assert_eq!(start.saturating_duration_since(later), Duration::ZERO);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(u64);

impl Instant {
    /// The epoch: time zero.
    pub const ZERO: Instant = Instant(0);

    /// The latest representable instant (about 584 years after the epoch).
    pub const MAX: Instant = Instant(u64::MAX);

    /// An instant `nanos` nanoseconds after the epoch.
    pub const fn from_nanos(nanos: u64) -> Instant {
        Instant(nanos)
    }

    /// An instant `micros` microseconds after the epoch (saturating).
    pub const fn from_micros(micros: u64) -> Instant {
        Instant(micros.saturating_mul(1_000))
    }

    /// An instant `millis` milliseconds after the epoch (saturating).
    pub const fn from_millis(millis: u64) -> Instant {
        Instant(millis.saturating_mul(1_000_000))
    }

    /// Nanoseconds since the epoch.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// The time since the epoch as a [`Duration`].
    pub const fn since_epoch(self) -> Duration {
        Duration::from_nanos(self.0)
    }

    /// `self - earlier`, or zero when `earlier` is later than `self`.
    pub const fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    /// `self - d`, saturating at [`Instant::ZERO`].
    pub fn saturating_sub(self, d: Duration) -> Instant {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Instant(self.0.saturating_sub(nanos))
    }

    /// `self + d`, saturating at [`Instant::MAX`].
    pub fn saturating_add(self, d: Duration) -> Instant {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Instant(self.0.saturating_add(nanos))
    }
}

impl core::ops::Add<Duration> for Instant {
    type Output = Instant;

    /// Saturating addition (never panics).
    fn add(self, d: Duration) -> Instant {
        self.saturating_add(d)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Instant {
    /// Milliseconds since the epoch, with the fraction shown only when there is one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0 / 1_000_000;
        let frac = self.0 % 1_000_000;
        if frac == 0 {
            write!(f, "{ms}ms")
        } else {
            let mut frac_str = [0u8; 6];
            let mut rest = frac;
            for digit in frac_str.iter_mut().rev() {
                *digit = b'0' + (rest % 10) as u8;
                rest /= 10;
            }
            let mut len = 6;
            while len > 0 && frac_str[len - 1] == b'0' {
                len -= 1;
            }
            let text = core::str::from_utf8(&frac_str[..len]).unwrap_or("");
            write!(f, "{ms}.{text}ms")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn display_shows_fraction_only_when_present() {
        assert_eq!(format!("{}", Instant::from_millis(250)), "250ms");
        assert_eq!(format!("{}", Instant::from_micros(1_500)), "1.5ms");
        assert_eq!(format!("{}", Instant::from_nanos(1)), "0.000001ms");
    }

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(Instant::MAX + Duration::from_secs(1), Instant::MAX);
        assert_eq!(Instant::from_millis(u64::MAX), Instant::MAX);
        assert_eq!(
            Instant::ZERO.saturating_duration_since(Instant::MAX),
            Duration::ZERO
        );
    }
}
