//! [`LatencyHistogram`]: per-op latencies in nanoseconds, in an HDR histogram with fixed bounds
//! so that recording never allocates, mergeable across clients, and exportable as a list of
//! buckets that a reader can rebuild without an HDR library.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Lowest value tracked exactly: 1 ns.
pub const LOWEST_NS: u64 = 1;
/// Highest value tracked: one hour. Longer values are recorded as one hour and counted in
/// [`LatencyHistogram::saturated`].
pub const HIGHEST_NS: u64 = 3_600_000_000_000;
/// Significant decimal digits kept: values are exact to within 0.1 %.
pub const SIGFIG: u8 = 3;

/// Latencies of one op (or one client's send lag), in nanoseconds.
#[derive(Clone, Debug)]
pub struct LatencyHistogram {
    /// The counts.
    hist: Histogram<u64>,
    /// Values above [`HIGHEST_NS`], recorded as [`HIGHEST_NS`].
    saturated: u64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

/// The figures reported for one histogram, all in nanoseconds except `count`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Values recorded.
    pub count: u64,
    /// Smallest value.
    pub min_ns: u64,
    /// Arithmetic mean.
    pub mean_ns: f64,
    /// Median.
    pub p50_ns: u64,
    /// 90th percentile.
    pub p90_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// 99.9th percentile.
    pub p999_ns: u64,
    /// Largest value (exact to within 0.1 %).
    pub max_ns: u64,
}

/// A histogram as stored in result files: `[value_ns, count]` pairs, one per non-empty bucket,
/// `value_ns` being the highest value the bucket holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistogramBuckets {
    /// Always `"ns"`.
    pub unit: String,
    /// Significant digits of the recording histogram.
    pub sigfig: u8,
    /// Non-empty buckets, ascending.
    pub buckets: Vec<(u64, u64)>,
}

impl LatencyHistogram {
    /// An empty histogram covering 1 ns to one hour at 3 significant digits (about 250 KiB,
    /// allocated here so that [`LatencyHistogram::record`] never allocates).
    pub fn new() -> Self {
        LatencyHistogram {
            hist: Histogram::new_with_bounds(LOWEST_NS, HIGHEST_NS, SIGFIG)
                .expect("the fixed bounds are valid"),
            saturated: 0,
        }
    }

    /// Records one value; values of 0 count as 1 ns.
    #[inline(always)]
    pub fn record(&mut self, ns: u64) {
        if ns > HIGHEST_NS {
            self.saturated += 1;
        }
        self.hist.saturating_record(ns.clamp(LOWEST_NS, HIGHEST_NS));
    }

    /// Adds every value of `other` (the histograms of several clients make one).
    pub fn merge(&mut self, other: &LatencyHistogram) {
        self.hist
            .add(&other.hist)
            .expect("histograms with the same fixed bounds always add");
        self.saturated += other.saturated;
    }

    /// Values recorded.
    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    /// Values above one hour (recorded as one hour).
    pub fn saturated(&self) -> u64 {
        self.saturated
    }

    /// Values strictly above `ns` (to within the histogram's precision).
    pub fn count_above(&self, ns: u64) -> u64 {
        if self.hist.is_empty() {
            return 0;
        }
        self.hist.count_between(ns.saturating_add(1), HIGHEST_NS)
    }

    /// The reported figures; all zero for an empty histogram.
    pub fn summary(&self) -> LatencySummary {
        if self.hist.is_empty() {
            return LatencySummary::default();
        }
        let q = |p: f64| self.hist.value_at_quantile(p);
        LatencySummary {
            count: self.hist.len(),
            min_ns: self.hist.min(),
            mean_ns: self.hist.mean(),
            p50_ns: q(0.50),
            p90_ns: q(0.90),
            p99_ns: q(0.99),
            p999_ns: q(0.999),
            max_ns: self.hist.max(),
        }
    }

    /// The non-empty buckets, for result files.
    pub fn to_buckets(&self) -> HistogramBuckets {
        HistogramBuckets {
            unit: "ns".into(),
            sigfig: SIGFIG,
            buckets: self
                .hist
                .iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value()))
                .collect(),
        }
    }

    /// Rebuilds a histogram from result-file buckets (quantiles come back equal to within the
    /// histogram's precision).
    pub fn from_buckets(b: &HistogramBuckets) -> LatencyHistogram {
        let mut h = LatencyHistogram::new();
        for &(value, count) in &b.buckets {
            h.hist
                .saturating_record_n(value.clamp(LOWEST_NS, HIGHEST_NS), count);
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(values: impl IntoIterator<Item = u64>) -> LatencyHistogram {
        let mut h = LatencyHistogram::new();
        for v in values {
            h.record(v);
        }
        h
    }

    /// Whether `a` and `b` agree to within the histogram's 0.1 % precision.
    fn close(a: u64, b: u64) -> bool {
        a.abs_diff(b) <= a.max(b) / 500 + 1
    }

    #[test]
    fn summary_of_a_known_distribution() {
        let h = filled(1..=10_000);
        let s = h.summary();
        assert_eq!(s.count, 10_000);
        assert_eq!(s.min_ns, 1);
        assert!(close(s.p50_ns, 5_000), "{s:?}");
        assert!(close(s.p90_ns, 9_000), "{s:?}");
        assert!(close(s.p99_ns, 9_900), "{s:?}");
        assert!(close(s.p999_ns, 9_990), "{s:?}");
        assert!(close(s.max_ns, 10_000), "{s:?}");
        assert!((s.mean_ns - 5_000.5).abs() < 10.0, "{s:?}");
    }

    #[test]
    fn merge_equals_recording_everything_in_one() {
        let a = filled((0..5_000).map(|i| 100 + i));
        let b = filled((0..3_000).map(|i| 1_000_000 + 7 * i));
        let mut c = filled([42, 43, 44]);
        c.merge(&a);
        c.merge(&b);
        let all = filled(
            (0..5_000)
                .map(|i| 100 + i)
                .chain((0..3_000).map(|i| 1_000_000 + 7 * i))
                .chain([42, 43, 44]),
        );
        assert_eq!(c.summary(), all.summary());
        assert_eq!(c.count(), 8_003);
        assert_eq!(c.to_buckets(), all.to_buckets());
        // Merging an empty histogram changes nothing.
        c.merge(&LatencyHistogram::new());
        assert_eq!(c.summary(), all.summary());
    }

    #[test]
    fn merged_tail_comes_from_the_slow_client() {
        let fast = filled(std::iter::repeat_n(1_000, 9_990));
        let slow = filled(std::iter::repeat_n(50_000_000, 10));
        let mut m = fast.clone();
        m.merge(&slow);
        let s = m.summary();
        assert!(close(s.p99_ns, 1_000));
        assert!(close(s.max_ns, 50_000_000));
        assert_eq!(m.count_above(10_000_000), 10);
        assert_eq!(fast.count_above(10_000_000), 0);
    }

    #[test]
    fn empty_and_extreme_values() {
        let mut h = LatencyHistogram::new();
        assert_eq!(h.summary(), LatencySummary::default());
        assert_eq!(h.count_above(0), 0);
        h.record(0);
        h.record(HIGHEST_NS * 2);
        assert_eq!(h.count(), 2);
        assert_eq!(h.saturated(), 1);
        assert_eq!(h.summary().min_ns, 1);
    }

    #[test]
    fn buckets_round_trip() {
        let h = filled((1..2_000).map(|i| i * i * 13));
        let back = LatencyHistogram::from_buckets(&h.to_buckets());
        assert_eq!(back.count(), h.count());
        let (a, b) = (h.summary(), back.summary());
        for (x, y) in [
            (a.p50_ns, b.p50_ns),
            (a.p99_ns, b.p99_ns),
            (a.max_ns, b.max_ns),
        ] {
            assert!(close(x, y), "{x} vs {y}");
        }
    }
}
