//! Reading criterion's output directory: every `new/benchmark.json` (what was measured: group,
//! function, parameter) beside its `new/estimates.json` (the statistics, in the measurement's
//! unit per iteration). Only the fields this harness uses are parsed, so a criterion release
//! that adds fields still reads.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Deserialize;

use super::SeedsError;

/// One benchmark as criterion left it on disk.
#[derive(Clone, Debug, PartialEq)]
pub struct CriterionBenchmark {
    /// The `new/` directory holding the two files.
    pub dir: PathBuf,
    /// The benchmark group (`concurrent_process_read`).
    pub group: String,
    /// The function within the group (`mutex`), if any.
    pub function: Option<String>,
    /// The parameter (`readers=10`), if any.
    pub parameter: Option<String>,
    /// Median per iteration with its confidence interval, in the measurement's unit.
    pub median: RawEstimate,
    /// Mean per iteration with its confidence interval.
    pub mean: RawEstimate,
    /// Standard deviation per iteration.
    pub std_dev: f64,
    /// Confidence level of the intervals (criterion's default: 0.95).
    pub confidence_level: f64,
    /// When `estimates.json` was written.
    pub written: Option<SystemTime>,
}

/// A point estimate with its confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RawEstimate {
    /// The estimate.
    pub point: f64,
    /// Lower bound of the confidence interval.
    pub lower: f64,
    /// Upper bound of the confidence interval.
    pub upper: f64,
}

#[derive(Deserialize)]
struct BenchmarkJson {
    group_id: String,
    function_id: Option<String>,
    value_str: Option<String>,
}

#[derive(Deserialize)]
struct EstimatesJson {
    mean: EstimateJson,
    median: EstimateJson,
    std_dev: EstimateJson,
}

#[derive(Deserialize)]
struct EstimateJson {
    confidence_interval: IntervalJson,
    point_estimate: f64,
}

#[derive(Deserialize)]
struct IntervalJson {
    confidence_level: f64,
    lower_bound: f64,
    upper_bound: f64,
}

impl From<&EstimateJson> for RawEstimate {
    fn from(e: &EstimateJson) -> Self {
        RawEstimate {
            point: e.point_estimate,
            lower: e.confidence_interval.lower_bound,
            upper: e.confidence_interval.upper_bound,
        }
    }
}

/// Every benchmark under `root` (criterion's output directory, `target/criterion`), sorted by
/// group, function and parameter. Criterion's `base/` and `change/` copies are skipped: only
/// the latest run (`new/`) counts.
pub fn scan(root: &Path) -> Result<Vec<CriterionBenchmark>, SeedsError> {
    if !root.is_dir() {
        return Err(SeedsError::NoCriterionDir(root.to_owned()));
    }
    let mut dirs = Vec::new();
    find_new_dirs(root, &mut dirs, 0)?;
    let mut out = dirs
        .iter()
        .map(|d| read_benchmark(d))
        .collect::<Result<Vec<_>, _>>()?;
    out.sort_by(|a, b| {
        (&a.group, &a.function, &a.parameter).cmp(&(&b.group, &b.function, &b.parameter))
    });
    Ok(out)
}

/// Collects every `new/` directory holding a `benchmark.json`. Criterion nests at most
/// group/function/parameter/new; the depth bound keeps a stray symlink loop finite.
fn find_new_dirs(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) -> Result<(), SeedsError> {
    if depth > 6 {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(|source| SeedsError::Read {
        path: dir.to_owned(),
        source,
    })?;
    let mut children: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    children.sort();
    for child in children {
        let name = child.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name == "new" {
            if child.join("benchmark.json").is_file() {
                out.push(child);
            }
        } else if name != "base" && name != "change" && name != "report" {
            find_new_dirs(&child, out, depth + 1)?;
        }
    }
    Ok(())
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, SeedsError> {
    let text = std::fs::read_to_string(path).map_err(|source| SeedsError::Read {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| SeedsError::Malformed {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// Reads one `new/` directory.
pub fn read_benchmark(dir: &Path) -> Result<CriterionBenchmark, SeedsError> {
    let id: BenchmarkJson = read_json(&dir.join("benchmark.json"))?;
    let estimates_path = dir.join("estimates.json");
    let est: EstimatesJson = read_json(&estimates_path)?;
    let written = std::fs::metadata(&estimates_path)
        .and_then(|m| m.modified())
        .ok();
    Ok(CriterionBenchmark {
        dir: dir.to_owned(),
        group: id.group_id,
        function: id.function_id,
        parameter: id.value_str,
        median: RawEstimate::from(&est.median),
        mean: RawEstimate::from(&est.mean),
        std_dev: est.std_dev.point_estimate,
        confidence_level: est.median.confidence_interval.confidence_level,
        written,
    })
}
