//! `harness gate`: regression gating on cost and latency, for this project's CI and its users'.
//!
//! **A/B (the default).** The gate builds the probe (`probe/`, a small binary holding nothing
//! but procman-core and the three designs) from a base revision — `--base REV`, by default the
//! merge-base with the default branch, or `HEAD~1` on that branch — in a git worktree under
//! `target/gate/`, and from the working tree, then measures both in the same job:
//!
//! 1. **Instructions** ([`callgrind`]): instructions per op of each design's hot ops (status by
//!    name, list, start+stop, log append, log tail), counted by callgrind for both revisions.
//! 2. **Latency under load** ([`latency`]): `scripts_status` p99 under a storm, base and head in
//!    alternating rounds, and each design's p99 over the mutex design's in the same storm.
//!
//! Every metric is a set of pairs, and a row regresses only when the whole 95 % bootstrap
//! interval of the median head/base ratio lies above its limit ([`paired`]). A regression must
//! also show in a second measurement pooled with the first.
//!
//! **Baseline mode** (`--baseline FILE`, or when there is no base revision to build): the head
//! against a committed file. Only the instruction layer can fail it; latency rows are printed as
//! information, because a latency measured on another machine or day cannot be compared.
//!
//! Exit codes: 0 within limits, 1 a confirmed regression, 2 could not measure (no valgrind, a
//! probe that does not build, no or a malformed baseline in baseline mode, a metric missing).

pub mod ab;
pub mod baseline;
pub mod callgrind;
pub mod compare;
pub mod latency;
pub mod paired;
pub mod probe;
pub mod revision;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use self::ab::PairedSeries;
use self::baseline::{
    BASELINE_KIND, GATE_SCHEMA_VERSION, GateFile, Layer, MEASUREMENTS_KIND, Metric,
};
use self::compare::{Row, Verdict};
use self::probe::Probe;
use crate::progress::Progress;
use crate::provenance::{Provenance, workspace_root};

/// The committed baseline, relative to the workspace root.
pub const DEFAULT_BASELINE: &str = "reports/baseline.json";

/// `harness gate`.
#[derive(Debug, Args)]
pub struct GateArgs {
    /// The base revision to compare the working tree with [default: the merge-base with the
    /// default branch; HEAD~1 when that is HEAD itself].
    #[arg(long, conflicts_with_all = ["baseline", "current"])]
    pub base: Option<String>,
    /// Compare with this committed baseline instead of a base revision (only the instruction
    /// layer can then fail); with --update-baseline, the file to write [default: reports/baseline.json].
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// Fewer repetitions and shorter latency rounds (what `scripts/test.sh` runs).
    #[arg(long)]
    pub quick: bool,
    /// Measure the working tree and write the baseline file instead of comparing.
    #[arg(long, conflicts_with_all = ["base", "current"])]
    pub update_baseline: bool,
    /// Compare this measurements file (from --save-current) with the baseline instead of measuring.
    #[arg(long)]
    pub current: Option<PathBuf>,
    /// Also save the head's figures to this file (a measurements file).
    #[arg(long)]
    pub save_current: Option<PathBuf>,
    /// Print the rows as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Write the head's figures in Bencher Metric Format (BMF) JSON to this file.
    #[arg(long)]
    pub bmf: Option<PathBuf>,
    /// Skip the instruction layer (for machines without valgrind).
    #[arg(long)]
    pub skip_instructions: bool,
    /// Skip the latency layer.
    #[arg(long)]
    pub skip_latency: bool,
    /// Judge the first measurement alone: do not measure a regressed metric again to confirm it.
    #[arg(long)]
    pub no_confirm: bool,
    /// Cargo features for the head's probe only (the self-test's injected regressions, e.g.
    /// `inject-atomic-status-instructions`).
    #[arg(long, hide = true)]
    pub head_features: Option<String>,
}

/// Why the gate could not measure (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// valgrind is not installed.
    #[error(
        "valgrind was not found ({0}); install it (Debian/Ubuntu: `apt-get install -y valgrind`) \
         or run the gate with --skip-instructions"
    )]
    NoValgrind(String),
    /// A probe did not build.
    #[error("the {label} probe did not build: {detail}")]
    Build {
        /// Which revision.
        label: String,
        /// Why.
        detail: String,
    },
    /// A probe speaks another protocol than this harness.
    #[error(
        "the {label} probe speaks protocol {said:?}, this harness {want}; rebuild the harness from the same revision"
    )]
    ProbeProtocol {
        /// Which revision.
        label: String,
        /// What it printed.
        said: String,
        /// What this harness speaks.
        want: u32,
    },
    /// A probe run failed.
    #[error("the {label} probe failed ({what}): {detail}")]
    ProbeFailed {
        /// Which revision.
        label: String,
        /// Which run.
        what: String,
        /// Its last words.
        detail: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A gate file is missing or malformed (its message names the file and the fix).
    #[error(transparent)]
    File(#[from] baseline::GateFileError),
}

impl GateError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        GateError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// Runs `harness gate`.
pub fn run(args: &GateArgs) -> ExitCode {
    match run_checked(args) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("harness gate: {e}");
            ExitCode::from(2)
        }
    }
}

fn run_checked(args: &GateArgs) -> Result<u8, GateError> {
    let root = workspace_root();
    let baseline_path = args
        .baseline
        .clone()
        .unwrap_or_else(|| root.join(DEFAULT_BASELINE));
    if !args.skip_instructions && args.current.is_none() {
        callgrind::valgrind_version()?;
    }
    if args.update_baseline {
        let head = build_head(&root, args)?;
        let file = measure_one(&root, &head, args, BASELINE_KIND, None)?;
        file.write(&baseline_path)?;
        print!("{}", compare::render_table(&compare::compare(&file, &file)));
        eprintln!(
            "harness gate: wrote {} ({} metrics); commit it to make it the reference",
            baseline_path.display(),
            file.metrics.len()
        );
        return Ok(0);
    }
    if args.baseline.is_some() || args.current.is_some() {
        return baseline_mode(&root, &baseline_path, args);
    }
    let base = match revision::resolve_base(&root, args.base.as_deref()) {
        Ok(b) => b,
        Err(why) => return fall_back(&root, &baseline_path, args, &why.to_string()),
    };
    let (sha, how) = base;
    let label = format!("base-{}", revision::short(&sha));
    eprintln!(
        "harness gate: A/B — base {} ({how}) against the working tree, measured in this job",
        revision::short(&sha)
    );
    // The head first, so that a base target built for the first time can start from copies of
    // its compiled dependencies.
    let head_probe = build_head(&root, args)?;
    match revision::seed_base_target(&root) {
        Ok(0) => {}
        Ok(n) => {
            eprintln!("harness gate: the base build starts from the head's {n} dependency files")
        }
        Err(e) => eprintln!(
            "harness gate: could not copy the head's dependencies for the base build ({e}); \
             it builds them itself"
        ),
    }
    let base_probe = match revision::checkout_base(&root, &sha) {
        Ok(worktree) => match revision::build_probe(
            &root,
            &worktree,
            &revision::base_target_dir(&root),
            &label,
            None,
        ) {
            Ok(p) => p,
            Err(e) => {
                let why = revision::NoBase::BuildFailed {
                    sha: revision::short(&sha).into(),
                    detail: e.to_string(),
                };
                return fall_back(&root, &baseline_path, args, &why.to_string());
            }
        },
        Err(why) => return fall_back(&root, &baseline_path, args, &why.to_string()),
    };
    ab_mode(&root, &base_probe, &head_probe, args)
}

fn build_head(root: &Path, args: &GateArgs) -> Result<Probe, GateError> {
    let target = revision::target_dir(root);
    revision::build_probe(root, root, &target, "head", args.head_features.as_deref())
}

fn fall_back(root: &Path, baseline: &Path, args: &GateArgs, why: &str) -> Result<u8, GateError> {
    eprintln!(
        "harness gate: no base revision to compare with: {why}.\n\
         harness gate: running the baseline mode against {} instead: only the instruction layer \
         can fail it; latency rows are information.",
        baseline.display()
    );
    baseline_mode(root, baseline, args)
}

/// The A/B comparison.
fn ab_mode(root: &Path, base: &Probe, head: &Probe, args: &GateArgs) -> Result<u8, GateError> {
    let progress = Progress::stderr("gate", Duration::ZERO);
    let reps = callgrind::repetitions(args.quick);
    let plan = latency::plan(args.quick);
    let mut instr = Vec::new();
    if !args.skip_instructions {
        instr = ab::instructions(base, head, reps, None, &progress)?;
    }
    let (mut lat_base, mut lat_head) = Default::default();
    if !args.skip_latency {
        (lat_base, lat_head) = ab::latency(base, head, &plan, &progress)?;
    }
    let mut series: Vec<PairedSeries> = instr.clone();
    series.extend(ab::latency_series(&lat_base, &lat_head));
    let first = regressed(&series);
    if !first.is_empty() && !args.no_confirm {
        progress.note(&format!(
            "harness gate: {} row(s) over their limit; measuring again to confirm",
            first.len()
        ));
        let instr_again: Vec<(String, String)> = first
            .iter()
            .filter(|(m, _)| m.starts_with("instructions/"))
            .cloned()
            .collect();
        if !instr_again.is_empty() {
            let more = ab::instructions(base, head, reps, Some(&instr_again), &progress)?;
            for s in &mut instr {
                if let Some(m) = more
                    .iter()
                    .find(|m| m.metric == s.metric && m.design == s.design)
                {
                    s.extend(m);
                }
            }
        }
        if first.iter().any(|(m, _)| !m.starts_with("instructions/")) {
            let (b, h) = ab::latency(base, head, &plan, &progress)?;
            lat_base.extend(b);
            lat_head.extend(h);
        }
        series = instr.clone();
        series.extend(ab::latency_series(&lat_base, &lat_head));
    }
    progress.finish();
    let mut rows: Vec<Row> = series.iter().map(PairedSeries::row).collect();
    // A regression must show in the first measurement and again with the second pooled in.
    for r in &mut rows {
        if r.verdict == Verdict::Regressed && !first.contains(&(r.metric.clone(), r.design.clone()))
        {
            r.verdict = Verdict::Ok;
        }
    }
    let head_file = file_of(
        root,
        MEASUREMENTS_KIND,
        args.quick,
        series.iter().map(PairedSeries::head_metric),
    );
    let base_file = file_of(
        root,
        BASELINE_KIND,
        args.quick,
        series.iter().map(PairedSeries::base_metric),
    );
    report(&rows, &head_file, Some(&base_file), args)
}

fn regressed(series: &[PairedSeries]) -> Vec<(String, String)> {
    series
        .iter()
        .map(PairedSeries::row)
        .filter(|r| r.verdict == Verdict::Regressed)
        .map(|r| (r.metric, r.design))
        .collect()
}

fn file_of(
    root: &Path,
    kind: &str,
    quick: bool,
    metrics: impl Iterator<Item = Metric>,
) -> GateFile {
    GateFile {
        kind: kind.into(),
        schema_version: GATE_SCHEMA_VERSION,
        provenance: Provenance::collect(root),
        valgrind: callgrind::valgrind_version().ok(),
        quick,
        metrics: metrics.collect(),
    }
}

/// The head measured alone (baseline mode and --update-baseline).
fn measure_one(
    root: &Path,
    head: &Probe,
    args: &GateArgs,
    kind: &str,
    only: ab::Only<'_>,
) -> Result<GateFile, GateError> {
    let progress = Progress::stderr("gate", Duration::ZERO);
    let mut metrics = Vec::new();
    if !args.skip_instructions {
        let reps = callgrind::repetitions(args.quick);
        for (name, design, mut sides) in ab::count_instructions(&[head], reps, only, &progress)? {
            let values = sides.pop().unwrap_or_default();
            metrics.push(Metric {
                name,
                design: design.into(),
                layer: Layer::Instructions,
                value: paired::median(&values),
                unit: "instructions/op".into(),
                limit_pct: ab::instruction_limit(&values, &values),
                noise_pct: Some(paired::spread(&values) * 100.0),
            });
        }
    }
    if !args.skip_latency && only.is_none() {
        let plan = latency::Plan {
            rounds: if args.quick { 3 } else { 5 },
            ..latency::plan(args.quick)
        };
        for (name, design, unit, values) in latency::rounds(head, &plan, &progress)?.metrics() {
            metrics.push(Metric {
                name: name.into(),
                design: design.into(),
                layer: Layer::Latency,
                value: paired::median(&values),
                unit: unit.into(),
                limit_pct: if unit == "ratio" {
                    latency::RATIO_LIMIT_PCT
                } else {
                    latency::P99_LIMIT_PCT
                },
                noise_pct: Some(paired::spread(&values) * 100.0),
            });
        }
    }
    progress.finish();
    Ok(file_of(root, kind, args.quick, metrics.into_iter()))
}

/// The head against a committed baseline file.
fn baseline_mode(root: &Path, baseline_path: &Path, args: &GateArgs) -> Result<u8, GateError> {
    let mut baseline = GateFile::read(baseline_path)?;
    let mut current = match &args.current {
        Some(path) => GateFile::read(path)?,
        None => {
            let head = build_head(root, args)?;
            let mut current = measure_one(root, &head, args, MEASUREMENTS_KIND, None)?;
            // A regression must show twice: a regressed instruction count is measured again and
            // keeps the better of its two figures.
            let again: Vec<(String, String)> = compare::compare(&baseline, &current)
                .into_iter()
                .filter(|r| r.verdict == Verdict::Regressed)
                .map(|r| (r.metric, r.design))
                .collect();
            if !again.is_empty() && !args.no_confirm {
                eprintln!(
                    "harness gate: {} metric(s) over their limit; measuring them again to confirm",
                    again.len()
                );
                let second = measure_one(root, &head, args, MEASUREMENTS_KIND, Some(&again))?;
                for m in &mut current.metrics {
                    if let Some(s) = second.find(&m.name, &m.design) {
                        m.value = m.value.min(s.value);
                    }
                }
            }
            current
        }
    };
    // Only the layers measured now are compared.
    baseline.metrics.retain(|m| {
        !(args.skip_instructions && m.layer == Layer::Instructions
            || args.skip_latency && m.layer == Layer::Latency)
    });
    current.metrics.retain(|m| {
        !(args.skip_instructions && m.layer == Layer::Instructions
            || args.skip_latency && m.layer == Layer::Latency)
    });
    eprintln!(
        "harness gate: baseline mode against {}: only the instruction layer can fail; latency rows \
         are information (a latency measured on another machine or day cannot be compared)",
        baseline_path.display()
    );
    let rows = compare::compare(&baseline, &current);
    report(&rows, &current, Some(&baseline), args)
}

/// Prints the rows (table or JSON), writes --save-current and --bmf, returns the exit code.
fn report(
    rows: &[Row],
    current: &GateFile,
    reference: Option<&GateFile>,
    args: &GateArgs,
) -> Result<u8, GateError> {
    if let Some(path) = &args.save_current {
        current.write(path)?;
    }
    if let Some(path) = &args.bmf {
        let bmf = compare::to_bmf(current, reference);
        let text = serde_json::to_string_pretty(&bmf).expect("BMF serialises");
        std::fs::write(path, text).map_err(|e| GateError::io(path, e))?;
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(rows).expect("rows serialise")
        );
    } else {
        print!("{}", compare::render_table(rows));
    }
    let code = compare::exit_code(rows);
    match code {
        0 => eprintln!("harness gate: within limits"),
        1 => eprintln!("harness gate: REGRESSION (rows marked REGRESSED)"),
        _ => eprintln!(
            "harness gate: metrics missing from the current measurement (rows marked MISSING)"
        ),
    }
    Ok(code)
}
