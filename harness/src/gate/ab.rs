//! The A/B comparison: the base and the head revision's probes measured in the same job, one
//! row per metric from the paired samples ([`super::paired`]).

use super::GateError;
use super::baseline::{Layer, Metric};
use super::callgrind::{self, INSTRUCTION_LIMIT_PCT, Job, NOISE_MULTIPLIER};
use super::compare::{Row, Verdict};
use super::latency::{self, P99_LIMIT_PCT, RATIO_LIMIT_PCT, Series};
use super::paired::{self, Decision};
use super::probe::{CostOp, DESIGNS, Probe};
use crate::progress::Progress;

/// One metric's paired samples: `base[i]` and `head[i]` were measured together.
#[derive(Clone, Debug, PartialEq)]
pub struct PairedSeries {
    /// The metric (`instructions/status`, `p99_ns/scripts_status`, …).
    pub metric: String,
    /// The design.
    pub design: String,
    /// Its layer.
    pub layer: Layer,
    /// Unit of the values.
    pub unit: String,
    /// The base revision's samples.
    pub base: Vec<f64>,
    /// The head's samples, paired by index.
    pub head: Vec<f64>,
    /// The smallest worsening worth failing on, percent.
    pub limit_pct: f64,
}

impl PairedSeries {
    /// The row: medians, the change and its interval, the verdict.
    pub fn row(&self) -> Row {
        let ratios = paired::ratios(&self.base, &self.head);
        let (base, now) = (paired::median(&self.base), paired::median(&self.head));
        if ratios.is_empty() {
            return Row {
                metric: self.metric.clone(),
                design: self.design.clone(),
                layer: self.layer,
                baseline: base,
                now: None,
                unit: self.unit.clone(),
                change_pct: None,
                interval_pct: None,
                limit_pct: self.limit_pct,
                verdict: Verdict::Missing,
            };
        }
        let interval = paired::bootstrap_median(&ratios);
        let verdict = match paired::decide(&interval, self.limit_pct) {
            Decision::Regressed => Verdict::Regressed,
            Decision::Improved => Verdict::Improved,
            Decision::Unchanged => Verdict::Ok,
        };
        Row {
            metric: self.metric.clone(),
            design: self.design.clone(),
            layer: self.layer,
            baseline: base,
            now: Some(now),
            unit: self.unit.clone(),
            change_pct: Some((interval.point - 1.0) * 100.0),
            interval_pct: Some(interval.as_pct()),
            limit_pct: self.limit_pct,
            verdict,
        }
    }

    /// Appends a confirmation's samples. An instruction limit is recomputed from all of them:
    /// three repetitions can look steady by chance (a count that moves with the hash order,
    /// say), and the pooled spread is the better estimate of the noise.
    pub fn extend(&mut self, more: &PairedSeries) {
        self.base.extend(&more.base);
        self.head.extend(&more.head);
        self.limit_pct = match self.layer {
            Layer::Instructions => instruction_limit(&self.base, &self.head),
            Layer::Latency => self.limit_pct.max(more.limit_pct),
        };
    }

    /// The head's median as a metric (for `--save-current`, BMF and `--update-baseline`).
    pub fn head_metric(&self) -> Metric {
        self.side_metric(&self.head)
    }

    /// The base's median as a metric.
    pub fn base_metric(&self) -> Metric {
        self.side_metric(&self.base)
    }

    fn side_metric(&self, values: &[f64]) -> Metric {
        Metric {
            name: self.metric.clone(),
            design: self.design.clone(),
            layer: self.layer,
            value: paired::median(values),
            unit: self.unit.clone(),
            limit_pct: self.limit_pct,
            noise_pct: Some(paired::spread(values) * 100.0),
        }
    }
}

/// The instruction limit for samples with this much spread: `max(3 %, 3 x spread)`.
pub fn instruction_limit(base: &[f64], head: &[f64]) -> f64 {
    let noise = paired::spread(base).max(paired::spread(head)) * 100.0;
    INSTRUCTION_LIMIT_PCT.max(NOISE_MULTIPLIER * noise)
}

/// Which `(metric, design)` pairs to measure: all, or only these (a confirmation).
pub type Only<'a> = Option<&'a [(String, String)]>;

fn wanted(only: Only<'_>, metric: &str, design: &str) -> bool {
    only.is_none_or(|o| o.iter().any(|(m, d)| m == metric && d == design))
}

/// Per metric: its name, its design and one sample list per probe.
pub type Counted = Vec<(String, &'static str, Vec<Vec<f64>>)>;

/// Counts every wanted op of every design on each probe (`probes[0]` the base, if two),
/// `reps` times each, on as many valgrind processes as there are cores. Returns, per metric,
/// one sample list per probe.
pub fn count_instructions(
    probes: &[&Probe],
    reps: usize,
    only: Only<'_>,
    progress: &Progress,
) -> Result<Counted, GateError> {
    let mut metrics = Vec::new();
    let mut jobs = Vec::new();
    for design in DESIGNS {
        for op in CostOp::ALL {
            let name = format!("instructions/{}", op.name());
            if !wanted(only, &name, design) {
                continue;
            }
            metrics.push((name, design));
            // Interleaved: rep 0 of every probe, then rep 1, … so a failure shows early.
            for _ in 0..reps {
                for probe in probes {
                    jobs.push(Job { probe, design, op });
                }
            }
        }
    }
    let total = jobs.len();
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let done = |n: usize| progress.message(format!("callgrind: {n}/{total} counts"));
    let counts = callgrind::count_all(&jobs, workers, &done)?;
    let per_metric = reps * probes.len();
    Ok(metrics
        .into_iter()
        .enumerate()
        .map(|(m, (name, design))| {
            let chunk = &counts[m * per_metric..(m + 1) * per_metric];
            let sides = (0..probes.len())
                .map(|p| {
                    chunk
                        .iter()
                        .skip(p)
                        .step_by(probes.len())
                        .copied()
                        .collect()
                })
                .collect();
            (name, design, sides)
        })
        .collect())
}

/// The instruction layer, A/B.
pub fn instructions(
    base: &Probe,
    head: &Probe,
    reps: usize,
    only: Only<'_>,
    progress: &Progress,
) -> Result<Vec<PairedSeries>, GateError> {
    Ok(count_instructions(&[base, head], reps, only, progress)?
        .into_iter()
        .map(|(metric, design, mut sides)| {
            let head = sides.pop().unwrap_or_default();
            let base = sides.pop().unwrap_or_default();
            PairedSeries {
                limit_pct: instruction_limit(&base, &head),
                metric,
                design: design.into(),
                layer: Layer::Instructions,
                unit: "instructions/op".into(),
                base,
                head,
            }
        })
        .collect())
}

/// The latency layer's series from alternating rounds.
pub fn latency_series(base: &Series, head: &Series) -> Vec<PairedSeries> {
    base.metrics()
        .into_iter()
        .zip(head.metrics())
        .map(|((metric, design, unit, b), (_, _, _, h))| PairedSeries {
            metric: metric.into(),
            design: design.into(),
            layer: Layer::Latency,
            unit: unit.into(),
            limit_pct: if unit == "ratio" {
                RATIO_LIMIT_PCT
            } else {
                P99_LIMIT_PCT
            },
            base: b,
            head: h,
        })
        .collect()
}

/// The latency layer, A/B.
pub fn latency(
    base: &Probe,
    head: &Probe,
    plan: &latency::Plan,
    progress: &Progress,
) -> Result<(Series, Series), GateError> {
    latency::paired_rounds(base, head, plan, progress)
}
