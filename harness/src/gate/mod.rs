//! `harness gate`: regression gating on cost and latency, for this project's CI and its users'.
//!
//! Two layers, as the best-run projects gate on shared machines:
//!
//! 1. **Instructions** ([`callgrind`]): instructions per op of each design's hot ops (status by
//!    name, list, start+stop, log append, log tail) counted by callgrind. Deterministic for a
//!    given binary, so the limit is hard: +3 %.
//! 2. **Latency under load** ([`latency`]): short, repeated, interleaved `status_storm` runs;
//!    medians over repetitions and same-run ratios against the mutex design, each with a limit
//!    set from the noise measured when the baseline was made.
//!
//! Exit codes: 0 within limits, 1 a regression, 2 unusable input (no or malformed baseline,
//! valgrind missing, a metric that could not be measured).

pub mod baseline;
pub mod callgrind;
pub mod compare;
pub mod latency;
pub mod probe;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use self::baseline::{BASELINE_KIND, GATE_SCHEMA_VERSION, GateFile, Layer, MEASUREMENTS_KIND};
use self::probe::CostOp;
use crate::progress::Progress;
use crate::provenance::{Provenance, workspace_root};

/// The hard limit on instructions per op, percent.
pub const INSTRUCTION_LIMIT_PCT: f64 = 3.0;

/// `harness gate`.
#[derive(Debug, Args)]
pub struct GateArgs {
    /// The baseline to compare with (or to write, with --update-baseline).
    #[arg(long, default_value = "reports/baseline.json")]
    pub baseline: PathBuf,
    /// Fewer repetitions and shorter latency runs (what `scripts/test.sh` runs).
    #[arg(long)]
    pub quick: bool,
    /// Measure and write the baseline instead of comparing.
    #[arg(long)]
    pub update_baseline: bool,
    /// Compare this measurements file instead of measuring now.
    #[arg(long)]
    pub current: Option<PathBuf>,
    /// Also save what was measured now to this file (a measurements file).
    #[arg(long)]
    pub save_current: Option<PathBuf>,
    /// Print the rows as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Write the current figures in Bencher Metric Format (BMF) JSON to this file.
    #[arg(long)]
    pub bmf: Option<PathBuf>,
    /// Skip layer 1 (instructions) — for machines without valgrind.
    #[arg(long)]
    pub skip_instructions: bool,
    /// Skip layer 2 (latency).
    #[arg(long)]
    pub skip_latency: bool,
    /// Fail on the first measurement: do not measure a regressed metric again to confirm it.
    #[arg(long)]
    pub no_confirm: bool,
}

/// Which metrics to measure: all, or only these `(metric, design)` pairs (a confirmation).
type Only<'a> = Option<&'a [(String, String)]>;

fn wanted(only: Only<'_>, name: &str, design: &str) -> bool {
    only.is_none_or(|o| o.iter().any(|(m, d)| m == name && d == design))
}

fn measure(args: &GateArgs, kind: &str, only: Only<'_>) -> Result<GateFile, String> {
    let root = workspace_root();
    let mut metrics = Vec::new();
    let mut valgrind = None;
    let progress = Progress::stderr("gate", std::time::Duration::ZERO);
    if !args.skip_instructions {
        valgrind = Some(callgrind::valgrind_version().map_err(|e| e.to_string())?);
        let exe =
            std::env::current_exe().map_err(|e| format!("cannot find the harness binary: {e}"))?;
        for design in latency::DESIGNS {
            for op in CostOp::ALL {
                let name = format!("instructions/{}", op.name());
                if !wanted(only, &name, design.name()) {
                    continue;
                }
                progress.message(format!("callgrind: {design} {}", op.name()));
                let samples = (0..callgrind::repetitions(args.quick))
                    .map(|_| callgrind::per_op(&exe, design, op, args.quick))
                    .collect::<Result<Vec<f64>, _>>()
                    .map_err(|e| e.to_string())?;
                metrics.push(latency::summarise_in(
                    Layer::Instructions,
                    &name,
                    design,
                    "instructions/op",
                    samples,
                    INSTRUCTION_LIMIT_PCT,
                ));
            }
        }
    }
    let latency_wanted = only.is_none_or(|o| {
        o.iter()
            .any(|(m, _)| m.starts_with("p99_ns/") || m.starts_with("p99_ratio"))
    });
    if !args.skip_latency && latency_wanted {
        let measured = latency::measure(&root, args.quick, &progress)?;
        metrics.extend(
            measured
                .into_iter()
                .filter(|m| wanted(only, &m.name, &m.design)),
        );
    }
    progress.finish();
    Ok(GateFile {
        kind: kind.into(),
        schema_version: GATE_SCHEMA_VERSION,
        provenance: Provenance::collect(&root),
        valgrind,
        quick: args.quick,
        metrics,
    })
}

/// Runs `harness gate`.
pub fn run(args: &GateArgs) -> ExitCode {
    let unusable = |msg: String| {
        eprintln!("harness gate: {msg}");
        ExitCode::from(2)
    };
    if args.update_baseline {
        let file = match measure(args, BASELINE_KIND, None) {
            Ok(f) => f,
            Err(e) => return unusable(e),
        };
        if let Err(e) = file.write(&args.baseline) {
            return unusable(e);
        }
        let rows = compare::compare(&file, &file);
        print!("{}", compare::render_table(&rows));
        eprintln!(
            "harness gate: wrote {} ({} metrics); commit it to make it the reference",
            args.baseline.display(),
            file.metrics.len()
        );
        return ExitCode::SUCCESS;
    }
    let mut baseline = match GateFile::read(&args.baseline) {
        Ok(b) => b,
        Err(e) => return unusable(e),
    };
    let current = match &args.current {
        Some(path) => GateFile::read(path),
        None => measure(args, MEASUREMENTS_KIND, None),
    };
    let mut current = match current {
        Ok(c) => c,
        Err(e) => return unusable(e),
    };
    // A regression must show twice. Each regressed metric is measured once more and keeps the
    // better of its two figures, so one unlucky measurement (a preempted client, an unusual
    // interleaving under valgrind) cannot fail the gate, and a real regression still does.
    if args.current.is_none() && !args.no_confirm {
        let regressed: Vec<(String, String)> = compare::compare(&baseline, &current)
            .into_iter()
            .filter(|r| r.verdict == compare::Verdict::Regressed)
            .map(|r| (r.metric, r.design))
            .collect();
        if !regressed.is_empty() {
            eprintln!(
                "harness gate: {} metric(s) over their limit; measuring them again to confirm",
                regressed.len()
            );
            let again = match measure(args, MEASUREMENTS_KIND, Some(&regressed)) {
                Ok(f) => f,
                Err(e) => return unusable(e),
            };
            for m in &mut current.metrics {
                if let Some(second) = again.find(&m.name, &m.design) {
                    eprintln!(
                        "harness gate: {} {}: {:.3} then {:.3}",
                        m.name, m.design, m.value, second.value
                    );
                    m.value = m.value.min(second.value);
                }
            }
        }
    }
    // Only the layers measured now are compared.
    baseline.metrics.retain(|m| {
        !(args.skip_instructions && m.layer == Layer::Instructions
            || args.skip_latency && m.layer == Layer::Latency)
    });
    if let Some(path) = &args.save_current
        && let Err(e) = current.write(path)
    {
        return unusable(e);
    }
    if let Some(path) = &args.bmf {
        let bmf = compare::to_bmf(&current, Some(&baseline));
        let text = serde_json::to_string_pretty(&bmf).expect("BMF serialises");
        if let Err(e) = std::fs::write(path, text) {
            return unusable(format!("{}: cannot be written: {e}", path.display()));
        }
    }
    let rows = compare::compare(&baseline, &current);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).expect("rows serialise")
        );
    } else {
        print!("{}", compare::render_table(&rows));
    }
    let code = compare::exit_code(&rows);
    match code {
        0 => eprintln!("harness gate: within limits"),
        1 => eprintln!("harness gate: REGRESSION (rows marked REGRESSED)"),
        _ => eprintln!(
            "harness gate: metrics missing from the current measurement (rows marked MISSING)"
        ),
    }
    ExitCode::from(code)
}
