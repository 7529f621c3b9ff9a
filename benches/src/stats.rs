//! Median and spread of repeated timings.

use std::fmt;
use std::time::Duration;

/// The median and spread of a set of timings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    /// How many timings.
    pub n: usize,
    /// The fastest.
    pub min: Duration,
    /// The 10th percentile (nearest rank).
    pub p10: Duration,
    /// The median (the mean of the two middle values for an even count).
    pub median: Duration,
    /// The 90th percentile (nearest rank).
    pub p90: Duration,
    /// The slowest.
    pub max: Duration,
}

impl Summary {
    /// The summary of `samples`; `None` for an empty set.
    ///
    /// ```
    /// use std::time::Duration;
    /// let ms = Duration::from_millis;
    /// let s = eyeballs_benches::stats::Summary::of(&[ms(3), ms(1), ms(2)]).unwrap();
    /// assert_eq!((s.min, s.median, s.max), (ms(1), ms(2), ms(3)));
    /// ```
    pub fn of(samples: &[Duration]) -> Option<Summary> {
        if samples.is_empty() {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2
        };
        Some(Summary {
            n,
            min: sorted[0],
            p10: nearest_rank(&sorted, 10),
            median,
            p90: nearest_rank(&sorted, 90),
            max: sorted[n - 1],
        })
    }
}

/// The `p`th percentile of sorted, non-empty `sorted` by the nearest-rank method.
fn nearest_rank(sorted: &[Duration], p: usize) -> Duration {
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

/// A duration as people read it in a table: `412 µs`, `3.07 ms`, `251.4 ms`, `2.00 s`.
///
/// ```
/// use std::time::Duration;
/// use eyeballs_benches::stats::Human;
/// assert_eq!(Human(Duration::from_micros(412)).to_string(), "412 µs");
/// assert_eq!(Human(Duration::from_micros(3_070)).to_string(), "3.07 ms");
/// assert_eq!(Human(Duration::from_micros(251_400)).to_string(), "251.4 ms");
/// assert_eq!(Human(Duration::from_secs(2)).to_string(), "2.00 s");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Human(pub Duration);

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0.as_secs_f64() * 1e6;
        if us < 1_000.0 {
            write!(f, "{us:.0} µs")
        } else if us < 10_000.0 {
            write!(f, "{:.2} ms", us / 1e3)
        } else if us < 1_000_000.0 {
            write!(f, "{:.1} ms", us / 1e3)
        } else {
            write!(f, "{:.2} s", us / 1e6)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn empty_has_no_summary() {
        assert_eq!(Summary::of(&[]), None);
    }

    #[test]
    fn one_sample_is_every_statistic() {
        let s = Summary::of(&[ms(7)]).unwrap();
        assert_eq!(
            (s.n, s.min, s.p10, s.median, s.p90, s.max),
            (1, ms(7), ms(7), ms(7), ms(7), ms(7))
        );
    }

    #[test]
    fn even_count_median_is_the_middle_mean() {
        let s = Summary::of(&[ms(4), ms(1), ms(2), ms(3)]).unwrap();
        assert_eq!(s.median, Duration::from_micros(2_500));
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        // 1..=20 ms: p10 is the 2nd value, p90 the 18th.
        let samples: Vec<_> = (1..=20).rev().map(ms).collect();
        let s = Summary::of(&samples).unwrap();
        assert_eq!((s.min, s.p10, s.p90, s.max), (ms(1), ms(2), ms(18), ms(20)));
        // 15 values: ranks ceil(1.5) = 2 and ceil(13.5) = 14.
        let samples: Vec<_> = (1..=15).map(ms).collect();
        let s = Summary::of(&samples).unwrap();
        assert_eq!((s.p10, s.median, s.p90), (ms(2), ms(8), ms(14)));
    }
}
