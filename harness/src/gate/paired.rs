//! The A/B decision rule: paired samples of the base and the head revision, measured in the
//! same job, judged by a bootstrap confidence interval of the median head/base ratio.
//!
//! Each pair is one round in which both revisions ran back to back (ABAB…, the order
//! alternating), so whatever the machine was doing at that moment hits both sides of the pair
//! alike — the paired idea behind tango-bench. The statistic is the median of the per-pair
//! ratios (robust to the odd round where another process took a core), and its uncertainty is
//! a percentile bootstrap: resample the pairs with replacement, take the median each time, keep
//! the central 95 %. A row regresses only when the whole interval lies above `1 + limit`: a shift
//! inside the noise widens the interval across the limit and passes.
//!
//! The resampling uses a fixed seed, so the same samples always give the same verdict.

use serde::{Deserialize, Serialize};

/// Bootstrap resamples per interval.
pub const RESAMPLES: usize = 4_000;
/// The interval's confidence.
pub const CONFIDENCE: f64 = 0.95;

/// The median of `values` (not empty).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// `(max - min) / median` of `values`, as a fraction (0 for fewer than two values).
pub fn spread(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let m = median(values);
    let max = values.iter().copied().fold(f64::MIN, f64::max);
    let min = values.iter().copied().fold(f64::MAX, f64::min);
    if m > 0.0 { (max - min) / m } else { 0.0 }
}

/// A ratio head/base with its confidence interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// The median of the per-pair ratios.
    pub point: f64,
    /// The interval's lower end.
    pub low: f64,
    /// The interval's upper end.
    pub high: f64,
}

impl Interval {
    /// The interval as percent changes, `(low - 1, high - 1) x 100`.
    pub fn as_pct(&self) -> [f64; 2] {
        [(self.low - 1.0) * 100.0, (self.high - 1.0) * 100.0]
    }
}

/// The per-pair ratios `head[i] / base[i]` (pairs with a non-positive base are skipped).
pub fn ratios(base: &[f64], head: &[f64]) -> Vec<f64> {
    base.iter()
        .zip(head)
        .filter(|(b, _)| **b > 0.0)
        .map(|(b, h)| h / b)
        .collect()
}

/// The percentile-bootstrap interval of the median of `ratios` (not empty).
pub fn bootstrap_median(ratios: &[f64]) -> Interval {
    let point = median(ratios);
    let n = ratios.len();
    if n < 2 {
        return Interval {
            point,
            low: point,
            high: point,
        };
    }
    // splitmix64: a fixed, dependency-free sequence, so a verdict is reproducible.
    let mut state = 0x5EED_0F6A_7E00_u64;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut medians = Vec::with_capacity(RESAMPLES);
    let mut sample = vec![0.0; n];
    for _ in 0..RESAMPLES {
        for s in sample.iter_mut() {
            *s = ratios[(next() % n as u64) as usize];
        }
        medians.push(median(&sample));
    }
    medians.sort_by(f64::total_cmp);
    let tail = (1.0 - CONFIDENCE) / 2.0;
    let at = |q: f64| medians[((q * (RESAMPLES - 1) as f64).round() as usize).min(RESAMPLES - 1)];
    Interval {
        point,
        low: at(tail),
        high: at(1.0 - tail),
    }
}

/// What the interval says against a limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The whole interval lies above `1 + limit`: a confirmed regression.
    Regressed,
    /// The whole interval lies below `1 / (1 + limit)`: a confirmed improvement.
    Improved,
    /// Anything else: no change the measurement can stand behind.
    Unchanged,
}

/// Judges `interval` against `limit_pct` (the smallest worsening, in percent, worth failing on).
pub fn decide(interval: &Interval, limit_pct: f64) -> Decision {
    let limit = 1.0 + limit_pct / 100.0;
    if interval.low > limit {
        Decision::Regressed
    } else if interval.high < 1.0 / limit {
        Decision::Improved
    } else {
        Decision::Unchanged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_spread() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!((spread(&[90.0, 100.0, 110.0]) - 0.2).abs() < 1e-12);
        assert_eq!(spread(&[5.0]), 0.0);
    }

    #[test]
    fn identical_pairs_give_a_point_interval() {
        let i = bootstrap_median(&ratios(&[100.0; 5], &[105.0; 5]));
        assert_eq!((i.point, i.low, i.high), (1.05, 1.05, 1.05));
        assert_eq!(decide(&i, 3.0), Decision::Regressed);
        assert_eq!(decide(&i, 10.0), Decision::Unchanged);
    }

    #[test]
    fn the_interval_brackets_the_median_and_is_reproducible() {
        let r: Vec<f64> = (0..31).map(|i| 0.8 + 0.4 * f64::from(i) / 30.0).collect();
        let a = bootstrap_median(&r);
        let b = bootstrap_median(&r);
        assert_eq!(a, b);
        assert!(a.low < a.point && a.point < a.high, "{a:?}");
        assert!((a.point - 1.0).abs() < 1e-12);
    }
}
