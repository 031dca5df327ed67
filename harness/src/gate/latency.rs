//! Layer 2 of the gate: latency under load, on a shared and noisy machine.
//!
//! Absolute latency drifts between runs here, so this layer (1) repeats short `status_storm`
//! runs, interleaving the designs within each repetition, and keeps the median over
//! repetitions; (2) gates mainly on same-run ratios (a design's p99 over the mutex design's p99
//! *in the same repetition*), which cancel most of the machine's drift; and (3) sets each
//! limit from the spread it measured: `limit = max(floor, 3 x spread)`, where spread is
//! `(max - min) / median` over the repetitions that made the baseline.

use std::path::Path;
use std::time::Duration;

use super::baseline::{Layer, Metric};
use crate::contender::Design;
use crate::mix::Op;
use crate::progress::Progress;
use crate::results::{Driver, ScenarioResult};
use crate::run::{RunOptions, run_scenario};
use crate::scenario::Scenario;

/// The smallest limit on an absolute p99, percent: p99 of a 300 ms run on a shared 2-core
/// machine moves by tens of percent between runs with no code change.
pub const P99_LIMIT_FLOOR_PCT: f64 = 150.0;
/// The smallest limit on a same-run ratio, percent.
pub const RATIO_LIMIT_FLOOR_PCT: f64 = 60.0;
/// Limits are this many times the spread measured across repetitions.
pub const NOISE_MULTIPLIER: f64 = 3.0;

/// The designs layer 2 measures; ratios are against the first.
pub const DESIGNS: [Design; 3] = [Design::Mutex, Design::Actor, Design::Atomic];

/// Repetitions and run length for quick and full mode.
pub fn plan(quick: bool) -> (usize, Duration) {
    if quick {
        (3, Duration::from_millis(300))
    } else {
        (5, Duration::from_secs(1))
    }
}

fn p99_of(result: &ScenarioResult, design: Design, op: Op) -> Option<f64> {
    let run = result
        .runs
        .iter()
        .find(|r| r.design == design && r.complete)?;
    run.groups
        .iter()
        .flat_map(|g| g.ops.iter())
        .find(|o| o.op == op)
        .map(|o| o.stats.latency.p99_ns as f64)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn spread_pct(values: &[f64], median: f64) -> f64 {
    let max = values.iter().copied().fold(f64::MIN, f64::max);
    let min = values.iter().copied().fold(f64::MAX, f64::min);
    if median > 0.0 {
        (max - min) / median * 100.0
    } else {
        0.0
    }
}

/// Median and spread of a series of repetitions, as a latency metric with a noise-derived limit.
pub fn summarise(name: &str, design: Design, unit: &str, values: Vec<f64>, floor: f64) -> Metric {
    summarise_in(Layer::Latency, name, design, unit, values, floor)
}

/// Median and spread of a series of repetitions, as a metric of `layer` whose limit is
/// `max(floor, 3 x spread)`.
pub fn summarise_in(
    layer: Layer,
    name: &str,
    design: Design,
    unit: &str,
    mut values: Vec<f64>,
    floor: f64,
) -> Metric {
    let m = median(&mut values);
    let noise = spread_pct(&values, m);
    Metric {
        name: name.into(),
        design: design.name().into(),
        layer,
        value: m,
        unit: unit.into(),
        limit_pct: floor.max(NOISE_MULTIPLIER * noise),
        noise_pct: Some(noise),
    }
}

/// Runs the repetitions and returns the latency metrics.
pub fn measure(root: &Path, quick: bool, progress: &Progress) -> Result<Vec<Metric>, String> {
    let path = root.join("scenarios/status_storm.toml");
    let scenario = Scenario::load(&path).map_err(|e| e.to_string())?;
    let (reps, duration) = plan(quick);
    let clients = std::thread::available_parallelism().map_or(2, |n| n.get());
    let options = RunOptions {
        designs: DESIGNS.to_vec(),
        driver: Driver::Threads,
        clients: Some(vec![clients]),
        duration: Some(duration),
        warmup: Some(Duration::from_millis(100)),
        ..RunOptions::default()
    };
    let op = Op::ScriptsStatus;
    let mut p99: Vec<Vec<f64>> = vec![Vec::new(); DESIGNS.len()];
    let mut ratio: Vec<Vec<f64>> = vec![Vec::new(); DESIGNS.len()];
    for rep in 0..reps {
        progress.message(format!("latency repetition {}/{reps}", rep + 1));
        let result =
            run_scenario(&scenario, &options, &Progress::hidden()).map_err(|e| e.to_string())?;
        let values: Vec<f64> = DESIGNS
            .iter()
            .map(|&d| {
                p99_of(&result, d, op)
                    .ok_or_else(|| format!("status_storm: no complete {d} run with a {op:?} p99"))
            })
            .collect::<Result<_, _>>()?;
        for (i, v) in values.iter().enumerate() {
            p99[i].push(*v);
            ratio[i].push(v / values[0].max(1.0));
        }
    }
    let mut metrics = Vec::new();
    for (i, &design) in DESIGNS.iter().enumerate() {
        metrics.push(summarise(
            "p99_ns/scripts_status",
            design,
            "ns",
            p99[i].clone(),
            P99_LIMIT_FLOOR_PCT,
        ));
        if i > 0 {
            metrics.push(summarise(
                "p99_ratio_vs_mutex/scripts_status",
                design,
                "ratio",
                ratio[i].clone(),
                RATIO_LIMIT_FLOOR_PCT,
            ));
        }
    }
    Ok(metrics)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_grows_with_measured_noise() {
        let quiet = summarise("m", Design::Atomic, "ns", vec![100.0, 101.0, 99.0], 60.0);
        assert_eq!(quiet.value, 100.0);
        assert_eq!(quiet.limit_pct, 60.0);
        let noisy = summarise("m", Design::Atomic, "ns", vec![100.0, 150.0, 60.0], 60.0);
        assert_eq!(noisy.value, 100.0);
        assert!((noisy.noise_pct.unwrap() - 90.0).abs() < 1e-9);
        assert!((noisy.limit_pct - 270.0).abs() < 1e-9);
    }
}
