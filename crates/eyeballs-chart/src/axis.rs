//! Time on a chart: the axis every chart draws its races on, and how a time is written.

use std::time::Duration;

use eyeballs::Instant;

/// A time from the start of the race in milliseconds, as the rest of the project writes it
/// (`270ms`, `2.5ms`).
///
/// ```
/// use std::time::Duration;
/// assert_eq!(eyeballs_chart::ms(Duration::from_micros(2_500)), "2.5ms");
/// ```
pub fn ms(d: Duration) -> String {
    Instant::ZERO.saturating_add(d).to_string()
}

/// A time measured on a real clock, rounded to what a reader can use: whole milliseconds
/// from 100 ms, tenths from 10 ms, hundredths from 1 ms, microseconds below (so at least
/// three significant digits, and `251ms` rather than `251.337412ms`). Real races are
/// recorded with it; simulated times are exact and kept as they are.
///
/// ```
/// use std::time::Duration;
/// use eyeballs_chart::{ms, readable};
///
/// assert_eq!(ms(readable(Duration::from_nanos(251_337_412))), "251ms");
/// assert_eq!(ms(readable(Duration::from_nanos(3_004_600_000))), "3005ms");
/// assert_eq!(ms(readable(Duration::from_nanos(12_345_678))), "12.3ms");
/// assert_eq!(ms(readable(Duration::from_nanos(83_512))), "0.084ms");
/// ```
pub fn readable(d: Duration) -> Duration {
    let nanos = d.as_nanos();
    let unit: u128 = match nanos {
        100_000_000.. => 1_000_000,
        10_000_000.. => 100_000,
        1_000_000.. => 10_000,
        _ => 1_000,
    };
    let rounded = nanos.saturating_add(unit / 2) / unit * unit;
    Duration::from_nanos(u64::try_from(rounded).unwrap_or(u64::MAX))
}

/// The time axis of a chart: from zero to `span`, with a tick every `step`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Axis {
    /// The time at the right end of the axis (a whole number of steps, never zero).
    pub span: Duration,
    /// The distance between ticks: 1, 2 or 5 times a power of ten nanoseconds, at least 1 µs.
    pub step: Duration,
}

impl Axis {
    /// The axis for a race of length `total` with at most `max_ticks` intervals between
    /// ticks (at least 1): the smallest round step that needs no more, and the span rounded
    /// up to a whole number of steps.
    ///
    /// ```
    /// use std::time::Duration;
    /// use eyeballs_chart::Axis;
    ///
    /// let axis = Axis::new(Duration::from_millis(283), 6);
    /// assert_eq!(axis.step, Duration::from_millis(50));
    /// assert_eq!(axis.span, Duration::from_millis(300));
    /// assert_eq!(axis.ticks().count(), 7); // 0, 50, ..., 300
    /// ```
    pub fn new(total: Duration, max_ticks: u32) -> Axis {
        let total = u64::try_from(total.as_nanos()).unwrap_or(u64::MAX).max(1);
        let max_ticks = u64::from(max_ticks.max(1));
        let mut power: u64 = 1_000;
        let step = loop {
            let candidate = [1, 2, 5]
                .into_iter()
                .map(|m| power.saturating_mul(m))
                .find(|s| total.div_ceil(*s) <= max_ticks);
            if let Some(s) = candidate {
                break s;
            }
            if power > u64::MAX / 10 {
                break u64::MAX;
            }
            power *= 10;
        };
        let span = total.div_ceil(step).saturating_mul(step);
        Axis {
            span: Duration::from_nanos(span),
            step: Duration::from_nanos(step),
        }
    }

    /// The tick times, from zero to the span.
    pub fn ticks(&self) -> impl Iterator<Item = Duration> + '_ {
        let step = self.step;
        let count = self.span.as_nanos() / step.as_nanos().max(1);
        (0..=u32::try_from(count).unwrap_or(u32::MAX)).map(move |i| step.saturating_mul(i))
    }

    /// Where `t` falls on an axis `length` long (columns or pixels): 0.0 at zero, `length`
    /// at the span, clamped to that range.
    pub fn position(&self, t: Duration, length: f64) -> f64 {
        let fraction = t.as_secs_f64() / self.span.as_secs_f64().max(f64::MIN_POSITIVE);
        (fraction * length).clamp(0.0, length)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn axis_steps_are_round_and_cover_the_race() {
        assert_eq!(Axis::new(ms(270), 6).step, ms(50));
        assert_eq!(Axis::new(ms(15), 10).step, ms(2));
        assert_eq!(Axis::new(ms(15), 10).span, ms(16));
        assert_eq!(Axis::new(ms(600), 10).step, ms(100));
        assert_eq!(Axis::new(ms(600), 10).span, ms(600));
        // A loopback race lasts microseconds.
        let axis = Axis::new(Duration::from_micros(130), 8);
        assert_eq!(axis.step, Duration::from_micros(20));
        assert_eq!(axis.span, Duration::from_micros(140));
        // A race that ends at once still gets a non-empty axis.
        let axis = Axis::new(Duration::ZERO, 5);
        assert_eq!(axis.span, Duration::from_micros(1));
        assert_eq!(axis.ticks().collect::<Vec<_>>().len(), 2);
        // Huge times saturate instead of overflowing.
        let axis = Axis::new(Duration::MAX, 1);
        assert!(axis.span >= axis.step);
    }

    #[test]
    fn positions_scale_and_clamp() {
        let axis = Axis::new(ms(100), 10);
        assert_eq!(axis.position(ms(50), 40.0), 20.0);
        assert_eq!(axis.position(ms(100), 40.0), 40.0);
        assert_eq!(axis.position(ms(500), 40.0), 40.0);
    }
}
