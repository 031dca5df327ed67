//! `harness seeds`: the seed-table benchmarks (criterion groups in `harness/benches/seeds.rs`
//! and `floors.rs`) exported from criterion's output directory into one result file,
//! `reports/results/seeds.json`, with the provenance of the machine and build.
//!
//! Every figure keeps criterion's median and its confidence interval, in the measurement's
//! unit per operation: `ns/op` for timed groups, `allocs/op` and `bytes/op` for the
//! allocation-counting groups (`memory_per_op_*`, a custom measurement, so criterion's
//! "time" there is a count). Concurrent groups time every thread running `iters` operations,
//! so criterion's figure is the time per operation *per thread*; `aggregate` divides it by the
//! thread count: wall time over all threads' operations, which is how Go's `b.RunParallel`
//! reports `ns/op` and so the figure to set beside the seeds' parallel benchmarks.
//!
//! The claims those figures answer are in `reports/seed_claims.toml` ([`claims`]).

pub mod census;
pub mod claims;
pub mod criterion;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::contender::Design;
use crate::file_format::{Format, FormatError};
use crate::provenance::{Provenance, iso8601_utc, workspace_root};

/// The version of the seeds file layout; bumped on an incompatible change.
pub const SEEDS_SCHEMA_VERSION: u32 = 1;
/// The `kind` of a seeds file.
pub const SEEDS_KIND: &str = "procman-harness-seeds";

/// Concurrent groups whose benchmark ids do not name their thread count, with the count the
/// benchmark uses: one reader per logical CPU (`reader_counts()[0]` in
/// `harness/benches/common/mod.rs`). The export says when it used this rule.
const CONCURRENT_UNNAMED: &[&str] = &["writer_reader_contention"];

/// Why an export or a read failed; each message names the file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum SeedsError {
    /// The criterion directory is missing.
    #[error(
        "{}: no criterion results there; run `cargo bench -p procman-harness --bench seeds \
         --bench floors` first, or pass --criterion-dir DIR",
        .0.display()
    )]
    NoCriterionDir(PathBuf),
    /// The directory holds no benchmark.
    #[error(
        "{}: no benchmark results (no */new/benchmark.json); run `cargo bench -p \
         procman-harness --bench seeds --bench floors` first",
        .0.display()
    )]
    Empty(PathBuf),
    /// A file could not be read.
    #[error("{}: cannot be read: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file is not what it should be.
    #[error("{}: {message}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },
    /// A file could not be written.
    #[error("cannot write {}: {source}; check that the directory is writable", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// `reports/results/seeds.json`: every criterion figure, with provenance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedsFile {
    /// [`SEEDS_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Always [`SEEDS_KIND`].
    pub kind: String,
    /// Machine, toolchain, source revision; `date_utc` is the export's date.
    pub provenance: Provenance,
    /// The criterion directory read.
    pub criterion_dir: String,
    /// Every benchmark found, sorted by id.
    pub benchmarks: Vec<BenchFigure>,
}

/// One criterion benchmark, per operation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchFigure {
    /// `group/function/parameter` as criterion names it (`concurrent_process_read/mutex/readers=10`).
    pub id: String,
    /// The criterion group.
    pub group: String,
    /// The function id (`mutex`, `mutex_getters`, `rwlock_read`).
    pub function: String,
    /// The parameter (`readers=10`, `sleeping_writer`), if any.
    pub parameter: Option<String>,
    /// The design the function id names, if it names one.
    pub design: Option<String>,
    /// The function id without the design (`""`, `"_getters"`): benchmarks of the same group,
    /// shape and parameter measure the same thing for different designs.
    pub shape: String,
    /// `ns/op`, `allocs/op` or `bytes/op`.
    pub unit: String,
    /// Threads running the operation at once (concurrent groups only).
    pub threads: Option<usize>,
    /// Where `threads` came from: `"id"` (the benchmark id names it) or `"logical_cpus"`
    /// (the group runs one thread per CPU and its id does not say; see `CONCURRENT_UNNAMED`).
    pub threads_from: Option<String>,
    /// Criterion's figure: per operation, per thread.
    pub per_thread: Estimate,
    /// `per_thread / threads`: wall time over all threads' operations (Go's `RunParallel`
    /// accounting). `None` for single-threaded groups, where it equals `per_thread`.
    pub aggregate: Option<Estimate>,
    /// When criterion wrote the estimate (ISO-8601 UTC), to spot stale figures.
    pub measured_utc: Option<String>,
    /// How the figure was made when not by criterion (`None`: criterion's estimate). The
    /// allocation counts criterion cannot report (zero) are counted directly ([`census`]).
    #[serde(default)]
    pub method: Option<String>,
}

impl BenchFigure {
    /// The figure in the seeds' accounting: `aggregate` for concurrent groups, else
    /// `per_thread`.
    pub fn seed_accounting(&self) -> &Estimate {
        self.aggregate.as_ref().unwrap_or(&self.per_thread)
    }
}

/// A median with its confidence interval, and the mean and spread, per operation.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Median of the samples.
    pub median: f64,
    /// Lower bound of the median's confidence interval.
    pub median_lower: f64,
    /// Upper bound of the median's confidence interval.
    pub median_upper: f64,
    /// The intervals' confidence level (0.95).
    pub confidence_level: f64,
    /// Mean of the samples.
    pub mean: f64,
    /// Standard deviation of the samples.
    pub std_dev: f64,
}

impl Estimate {
    /// Every figure divided by `n`.
    pub fn divided_by(&self, n: usize) -> Estimate {
        let n = n.max(1) as f64;
        Estimate {
            median: self.median / n,
            median_lower: self.median_lower / n,
            median_upper: self.median_upper / n,
            confidence_level: self.confidence_level,
            mean: self.mean / n,
            std_dev: self.std_dev / n,
        }
    }
}

impl SeedsFile {
    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("seeds types always serialise")
    }

    /// Parses a seeds file, refusing other kinds and versions with a message saying which.
    pub fn from_json(text: &str) -> Result<SeedsFile, FormatError> {
        crate::file_format::parse(
            text,
            &Format {
                kind: SEEDS_KIND,
                not_a: "",
                version: SEEDS_SCHEMA_VERSION,
                fix: "re-export it with `harness seeds`",
            },
        )
    }

    /// The figure with this group, shape, parameter and design, if measured.
    pub fn find(
        &self,
        group: &str,
        shape: &str,
        parameter: Option<&str>,
        design: &str,
    ) -> Option<&BenchFigure> {
        self.benchmarks.iter().find(|b| {
            b.group == group
                && b.shape == shape
                && b.design.as_deref() == Some(design)
                && (parameter.is_none() || b.parameter.as_deref() == parameter)
        })
    }
}

/// The design a function id names and the rest of the id: `mutex_getters` is
/// (`mutex`, `_getters`), `atomic-sharded` is (`atomic-sharded`, ``), `rwlock_read` names none.
pub fn split_design(function: &str) -> (Option<&'static str>, &str) {
    let mut names: Vec<&'static str> = Design::ALL.iter().map(|d| d.name()).collect();
    names.push("atomic_sharded");
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    for name in names {
        if let Some(rest) = function.strip_prefix(name)
            && (rest.is_empty() || rest.starts_with('_') || rest.starts_with('/'))
        {
            let canonical = if name == "atomic_sharded" {
                "atomic-sharded"
            } else {
                name
            };
            return (Some(canonical), rest);
        }
    }
    (None, function)
}

/// The thread count an id names (`readers=10`, `workers=2`, `threads=4`).
pub fn threads_in(text: &str) -> Option<usize> {
    text.split(['/', ',', ' '])
        .filter_map(|part| part.split_once('='))
        .find(|(k, _)| matches!(*k, "readers" | "workers" | "threads"))
        .and_then(|(_, v)| v.parse().ok())
}

/// The unit of a group's figures.
pub fn unit_of(group: &str) -> &'static str {
    if group.ends_with("_allocs") {
        "allocs/op"
    } else if group.ends_with("_bytes") {
        "bytes/op"
    } else {
        "ns/op"
    }
}

/// Exports every benchmark under `criterion_dir`, stamped with `provenance`. With `since`,
/// estimates written before it are left out (a stale benchmark from an older run). With
/// `count_allocations`, the allocation figures criterion could not record (a count of zero)
/// are counted directly and added ([`census`]).
pub fn export(
    criterion_dir: &Path,
    provenance: Provenance,
    since: Option<SystemTime>,
    count_allocations: bool,
) -> Result<SeedsFile, SeedsError> {
    let raw = criterion::scan(criterion_dir)?;
    let cpus = provenance.logical_cpus;
    let mut benchmarks: Vec<BenchFigure> = raw
        .into_iter()
        .filter(|b| match (since, b.written) {
            (Some(since), Some(w)) => w >= since,
            _ => true,
        })
        .map(|b| figure(b, cpus))
        .collect();
    if benchmarks.is_empty() {
        return Err(SeedsError::Empty(criterion_dir.to_owned()));
    }
    if count_allocations {
        for f in census::figures(&provenance.date_utc) {
            if !benchmarks.iter().any(|b| b.id == f.id) {
                benchmarks.push(f);
            }
        }
    }
    benchmarks.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(SeedsFile {
        schema_version: SEEDS_SCHEMA_VERSION,
        kind: SEEDS_KIND.into(),
        provenance,
        criterion_dir: criterion_dir.display().to_string(),
        benchmarks,
    })
}

fn figure(b: criterion::CriterionBenchmark, logical_cpus: usize) -> BenchFigure {
    let function = b.function.clone().unwrap_or_default();
    let (design, shape) = split_design(&function);
    let shape = shape.to_owned();
    let id = [
        Some(b.group.as_str()),
        b.function.as_deref(),
        b.parameter.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("/");
    let named = b
        .parameter
        .as_deref()
        .and_then(threads_in)
        .or_else(|| threads_in(&function));
    let (threads, threads_from) = match named {
        Some(n) => (Some(n), Some("id".to_owned())),
        None if CONCURRENT_UNNAMED.contains(&b.group.as_str()) => {
            (Some(logical_cpus), Some("logical_cpus".to_owned()))
        }
        None => (None, None),
    };
    let per_thread = Estimate {
        median: b.median.point,
        median_lower: b.median.lower,
        median_upper: b.median.upper,
        confidence_level: b.confidence_level,
        mean: b.mean.point,
        std_dev: b.std_dev,
    };
    BenchFigure {
        unit: unit_of(&b.group).into(),
        aggregate: threads.map(|n| per_thread.divided_by(n)),
        id,
        group: b.group,
        function,
        parameter: b.parameter,
        design: design.map(str::to_owned),
        shape,
        threads,
        threads_from,
        per_thread,
        measured_utc: b.written.map(iso8601_utc),
        method: None,
    }
}

/// `harness seeds`.
#[derive(Debug, clap::Args)]
pub struct SeedsArgs {
    /// Criterion's output directory [default: the workspace's target/criterion].
    #[arg(long)]
    pub criterion_dir: Option<PathBuf>,
    /// The file to write [default: reports/results/seeds.json in the workspace].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Criterion's output directory: `$CARGO_TARGET_DIR/criterion`, else the workspace's
/// `target/criterion`.
pub fn default_criterion_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) => PathBuf::from(t).join("criterion"),
        None => workspace_root().join("target/criterion"),
    }
}

/// Exports and writes `out`; returns what was written.
pub fn write(
    criterion_dir: &Path,
    out: &Path,
    since: Option<SystemTime>,
) -> Result<SeedsFile, SeedsError> {
    let file = export(
        criterion_dir,
        Provenance::collect(&workspace_root()),
        since,
        true,
    )?;
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| SeedsError::Write {
            path: parent.to_owned(),
            source,
        })?;
    }
    std::fs::write(out, file.to_json()).map_err(|source| SeedsError::Write {
        path: out.to_owned(),
        source,
    })?;
    Ok(file)
}

/// Runs `harness seeds`; errors go to stderr.
pub fn command(args: &SeedsArgs) -> ExitCode {
    let dir = args
        .criterion_dir
        .clone()
        .unwrap_or_else(default_criterion_dir);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| workspace_root().join("reports/results/seeds.json"));
    match write(&dir, &out, None) {
        Ok(file) => {
            println!(
                "seeds: {} benchmarks from {} -> {}",
                file.benchmarks.len(),
                dir.display(),
                out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests;
