//! `harness reproduce`: the evidence end to end, in one command. In order:
//!
//! 1. builds what the scenarios need besides the harness (the `procman` binary, in the
//!    harness's own profile, for a scenario that drives it over MCP: `mcp_e2e`);
//! 2. runs the seed-table criterion benches (`cargo bench -p procman-harness --bench seeds
//!    --bench floors`) into a criterion directory of its own, and exports them with
//!    provenance to `RESULTS/seeds.json` ([`crate::seeds`]);
//! 3. runs the Go peer (`peers/go`: a Go model of each design and the seeds' own benchmark
//!    shapes) with `go test -bench`, when `go` 1.19 or later is on PATH, into
//!    `RESULTS/go-peer.json` ([`crate::gopeer`]); without Go it says "Go peer skipped: go not
//!    found", writes the file with that reason (so the report can say why its Go column is
//!    empty) and goes on;
//! 4. runs every scenario in `scenarios/` against every design (thread driver; `status_storm`
//!    also under the tokio driver, the way an MCP server serves requests), one result file per
//!    scenario and driver, `RESULTS/NAME-DRIVER.json`;
//! 5. renders `REPORT.md`, `index.html` and `charts/` from those files ([`crate::report`]).
//!
//! Everything goes under `target/reports/` (RESULTS is its `results/`) unless `--out DIR` says
//! otherwise; `--out reports` publishes the committed evidence. Only the claims are read from
//! `reports/seed_claims.toml`.
//!
//! The default plan shortens each scenario's runs to fit this 2-core machine in under ten
//! minutes ([`DEFAULT_DURATION`], [`DEFAULT_WARMUP`]); `--quick` cuts runs to a fraction of a
//! second, sweeps only the lowest and highest client counts and gives criterion a very short
//! warm-up and measurement: a check that everything works, not evidence.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::contender::Design;
use crate::error::HarnessError;
use crate::progress::Progress;
use crate::provenance::{Provenance, workspace_root};
use crate::results::{Driver, ResultsFile};
use crate::run::{RunOptions, planned_time, run_scenario};
use crate::scenario::files::{LoadAllError, load_all, resolve_scenario, scenarios_dir};
use crate::scenario::{Scenario, ScenarioError};

/// Longest timed region per run in the default plan (a scenario asking for less keeps its own).
pub const DEFAULT_DURATION: Duration = Duration::from_secs(2);
/// Longest warm-up per run in the default plan.
pub const DEFAULT_WARMUP: Duration = Duration::from_millis(300);
/// Timed region per run with `--quick`.
pub const QUICK_DURATION: Duration = Duration::from_millis(150);
/// Warm-up per run with `--quick`.
pub const QUICK_WARMUP: Duration = Duration::from_millis(50);
/// Criterion's options with `--quick`: each benchmark warms up and measures for a few tens of
/// milliseconds, with criterion's smallest sample.
pub const QUICK_CRITERION: &[&str] = &[
    "--warm-up-time",
    "0.05",
    "--measurement-time",
    "0.1",
    "--sample-size",
    "10",
];
/// Scenarios also run under the tokio driver (how the MCP server calls the manager).
pub const TOKIO_SCENARIOS: &[&str] = &["status_storm"];
/// The launcher of scenarios that drive the `procman` binary over MCP (it is built first).
pub const MCP_LAUNCHER: &str = "mcp";

/// `harness reproduce`.
#[derive(Debug, clap::Args)]
pub struct ReproduceArgs {
    /// A fast check that everything works (well under two minutes once built): very short
    /// criterion runs, 150 ms per scenario run, lowest and highest client counts only.
    #[arg(long)]
    pub quick: bool,
    /// Directory for results/, charts/, REPORT.md and index.html [default: target/reports in
    /// the workspace, or $CARGO_TARGET_DIR/reports]. `--out reports` publishes the committed
    /// evidence (do that only from a full run).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Only these scenarios (names or files; repeatable) [default: every file in scenarios/].
    #[arg(long, short)]
    pub scenario: Vec<String>,
    /// Directory of scenario files [default: ./scenarios, else the workspace's].
    #[arg(long)]
    pub scenarios_dir: Option<PathBuf>,
    /// Skip the criterion benches and reuse RESULTS/seeds.json as it is.
    #[arg(long)]
    pub skip_benches: bool,
    /// Skip the Go peer and reuse RESULTS/go-peer.json as it is (if there is one).
    #[arg(long)]
    pub skip_go: bool,
}

/// One scenario run of the plan.
#[derive(Clone, Debug)]
pub struct PlannedRun {
    /// The scenario as loaded.
    pub scenario: Scenario,
    /// How it is run.
    pub options: RunOptions,
}

impl PlannedRun {
    /// The result file's name: `NAME-DRIVER.json`, stable, so a re-run replaces it.
    pub fn file_name(&self) -> String {
        format!("{}-{}.json", self.scenario.name, self.options.driver.name())
    }

    /// Warm-up plus timed region of every run.
    pub fn planned(&self) -> Duration {
        match self.options.apply(&self.scenario) {
            Ok(s) => planned_time(&s, self.options.designs.len()),
            Err(_) => Duration::ZERO,
        }
    }
}

/// What `reproduce` will do.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Quick mode.
    pub quick: bool,
    /// Arguments after `--` for criterion.
    pub criterion_args: Vec<String>,
    /// Scenario runs, in order.
    pub runs: Vec<PlannedRun>,
    /// Whether the `procman` binary must be built first.
    pub needs_procman: bool,
}

/// The plan for `scenarios` (every design this build has, thread driver, plus tokio for
/// [`TOKIO_SCENARIOS`]).
pub fn plan(scenarios: Vec<Scenario>, quick: bool) -> Plan {
    let designs: Vec<Design> = Design::ALL
        .into_iter()
        .filter(|d| d.is_available())
        .collect();
    let needs_procman = scenarios.iter().any(|s| s.launcher.kind() == MCP_LAUNCHER);
    let mut runs = Vec::new();
    for s in scenarios {
        let (duration, warmup) = if quick {
            (QUICK_DURATION, QUICK_WARMUP)
        } else {
            (
                s.duration.min(DEFAULT_DURATION),
                s.warmup.min(DEFAULT_WARMUP),
            )
        };
        let clients = (quick && s.sweep.len() > 2).then(|| {
            let lo = *s.sweep.iter().min().expect("non-empty sweep");
            let hi = *s.sweep.iter().max().expect("non-empty sweep");
            vec![lo, hi]
        });
        let base = RunOptions {
            designs: designs.clone(),
            driver: Driver::Threads,
            clients,
            duration: Some(duration),
            warmup: Some(warmup),
            ..RunOptions::default()
        };
        let tokio = TOKIO_SCENARIOS
            .contains(&s.name.as_str())
            .then(|| RunOptions {
                driver: Driver::Tokio,
                ..base.clone()
            });
        runs.push(PlannedRun {
            scenario: s.clone(),
            options: base,
        });
        if let Some(options) = tokio {
            runs.push(PlannedRun {
                scenario: s,
                options,
            });
        }
    }
    Plan {
        quick,
        criterion_args: if quick {
            QUICK_CRITERION.iter().map(|s| s.to_string()).collect()
        } else {
            Vec::new()
        },
        runs,
        needs_procman,
    }
}

impl Plan {
    /// The planned time of the scenario runs (warm-up plus timed region, no set-up).
    pub fn scenario_time(&self) -> Duration {
        self.runs.iter().map(PlannedRun::planned).sum()
    }
}

/// Why `harness reproduce` stopped; each names the file or command and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ReproduceError {
    /// A directory could not be created.
    #[error("cannot create {}: {source}; check that the parent is writable or pass --out DIR", path.display())]
    Create {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A result file could not be written.
    #[error("cannot write {}: {source}; check that the directory is writable", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The scenarios directory or a file in it is unusable.
    #[error(transparent)]
    Scenarios(#[from] LoadAllError),
    /// A scenario named with `--scenario` is unusable.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A scenario run could not be set up or carried out.
    #[error(transparent)]
    Run(#[from] HarnessError),
    /// The criterion figures could not be exported.
    #[error(transparent)]
    Seeds(#[from] crate::seeds::SeedsError),
    /// The report could not be rendered.
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
    /// cargo could not be started.
    #[error("cannot run cargo: {source}; is it on PATH?")]
    CargoMissing {
        /// The OS error.
        source: std::io::Error,
    },
    /// A cargo command failed.
    #[error("`cargo {command}` failed ({status}){tail}")]
    CargoFailed {
        /// The arguments, joined.
        command: String,
        /// How it ended.
        status: std::process::ExitStatus,
        /// Its last lines of output, when kept (with a leading "; last lines:").
        tail: String,
    },
}

/// Runs `harness reproduce`; errors go to stderr.
pub fn command(args: &ReproduceArgs) -> ExitCode {
    match reproduce(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints a step's header with the time since the start.
fn step(started: Instant, n: usize, total: usize, text: &str) {
    eprintln!(
        "reproduce [{n}/{total}] {:>4.0} s  {text}",
        started.elapsed().as_secs_f64()
    );
}

fn reproduce(args: &ReproduceArgs) -> Result<ExitCode, ReproduceError> {
    let started = Instant::now();
    let root = workspace_root();
    // Untracked by default, so a newcomer's first (quick) run leaves the committed evidence
    // under reports/ as it is; publishing is explicit.
    let out = args.out.clone().unwrap_or_else(|| default_out(&root));
    let results = out.join("results");
    std::fs::create_dir_all(&results).map_err(|source| ReproduceError::Create {
        path: results.clone(),
        source,
    })?;
    let dir = scenarios_dir(args.scenarios_dir.as_deref());
    let scenarios = if args.scenario.is_empty() {
        load_all(&dir)?
    } else {
        args.scenario
            .iter()
            .map(|s| Scenario::load(&resolve_scenario(s, &dir)))
            .collect::<Result<Vec<_>, _>>()?
    };
    let plan = plan(scenarios, args.quick);
    let total = usize::from(plan.needs_procman)
        + usize::from(!args.skip_benches) * 2
        + usize::from(!args.skip_go)
        + plan.runs.len()
        + 1;
    eprintln!(
        "reproduce: {} mode, {} scenario runs (~{} s of runs), benches {}, Go peer {}; writing {}",
        if plan.quick { "quick" } else { "default" },
        plan.runs.len(),
        plan.scenario_time().as_secs(),
        if args.skip_benches {
            "skipped"
        } else {
            "included"
        },
        if args.skip_go { "skipped" } else { "included" },
        out.display()
    );
    let mut n = 0;
    if plan.needs_procman {
        n += 1;
        // The MCP driver runs the `procman` beside this executable: build it in this profile.
        let mut build = vec!["build", "-p", "procman"];
        if env!("PROCMAN_HARNESS_PROFILE") == "release" {
            build.push("--release");
        }
        step(
            started,
            n,
            total,
            &format!("cargo {} (an MCP scenario drives it)", build.join(" ")),
        );
        cargo(&root, &build)?;
    }
    if !args.skip_benches {
        n += 1;
        let crit = reproduce_target(&root).join("criterion");
        step(
            started,
            n,
            total,
            &format!(
                "criterion benches seeds + floors{} -> {}",
                if plan.quick { " (quick)" } else { "" },
                crit.display()
            ),
        );
        let since = SystemTime::now();
        run_benches(&root, &crit, &plan.criterion_args)?;
        n += 1;
        let seeds_out = results.join("seeds.json");
        step(
            started,
            n,
            total,
            &format!("harness seeds -> {}", seeds_out.display()),
        );
        let file = crate::seeds::write(&crit, &seeds_out, Some(since))?;
        eprintln!("  {} benchmark figures exported", file.benchmarks.len());
    }
    if !args.skip_go {
        n += 1;
        let go_out = results.join(crate::gopeer::GO_PEER_FILE);
        step(
            started,
            n,
            total,
            &format!(
                "Go peer: go test -bench in peers/go{} -> {}",
                if plan.quick { " (quick)" } else { "" },
                go_out.display()
            ),
        );
        run_go_peer(&root, plan.quick, &go_out)?;
    }
    let mut incomplete = 0;
    for run in &plan.runs {
        n += 1;
        let effective = run.options.apply(&run.scenario)?;
        step(
            started,
            n,
            total,
            &format!(
                "scenario {} ({} driver): {} designs x {} client counts, ~{} s",
                run.scenario.name,
                run.options.driver.name(),
                run.options.designs.len(),
                effective.sweep_points().len(),
                run.planned().as_secs_f64().ceil()
            ),
        );
        let progress = Progress::stderr(&effective.name, run.planned());
        let provenance = Provenance::collect(&root);
        let result = run_scenario(&run.scenario, &run.options, &progress);
        progress.finish();
        let result = result?;
        let bad = result.runs.iter().filter(|r| !r.complete).count();
        if bad > 0 {
            eprintln!("  {bad} runs did not complete (the report lists them)");
            incomplete += bad;
        }
        let argv: Vec<String> = std::env::args().collect();
        let file = ResultsFile::new(provenance, argv, vec![result]);
        let path = results.join(run.file_name());
        // Compact JSON: the histograms pretty-printed make each file several times larger
        // (`jq . FILE` pretty-prints it); readers parse both.
        let json = serde_json::to_string(&file).expect("result types always serialise");
        std::fs::write(&path, json).map_err(|source| ReproduceError::Write {
            path: path.clone(),
            source,
        })?;
        eprintln!("  -> {}", path.display());
    }
    n += 1;
    step(
        started,
        n,
        total,
        &format!("harness report -> {}", out.display()),
    );
    let claims = root.join("reports/seed_claims.toml");
    let rendered = crate::report::render(&results, &claims, &out)?;
    println!("{}", crate::report::summary_line(&rendered));
    println!(
        "reproduce: done in {:.0} s{}",
        started.elapsed().as_secs_f64(),
        if incomplete > 0 {
            format!("; {incomplete} runs did not complete")
        } else {
            String::new()
        }
    );
    Ok(if incomplete > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Runs the Go peer and writes its file; a missing or too old Go, or a failed run, is said and
/// written into the file as the reason the report's Go column is empty, and reproduce goes on.
fn run_go_peer(root: &Path, quick: bool, out: &Path) -> Result<(), ReproduceError> {
    let log = crate::gopeer::log_path(&reproduce_target(root));
    let mut done = 0usize;
    let result = crate::gopeer::run(root, quick, &log, |line| {
        done += 1;
        if done.is_multiple_of(50) {
            let name = line.split_whitespace().next().unwrap_or(line);
            eprintln!("  [{done}] {name}");
        }
    });
    let file = match result {
        Ok(file) => {
            eprintln!(
                "  {} Go benchmark figures ({}); go test's output: {}",
                file.benchmarks.len(),
                file.go.as_ref().map_or("", |g| g.version.as_str()),
                log.display()
            );
            file
        }
        Err(e) => {
            let why = e.to_string();
            eprintln!("Go peer skipped: {why}");
            crate::gopeer::GoPeerFile::skipped(Provenance::collect(root), why)
        }
    };
    std::fs::write(out, file.to_json()).map_err(|source| ReproduceError::Write {
        path: out.to_owned(),
        source,
    })
}

/// Where reproduce writes when no `--out` is given: `$CARGO_TARGET_DIR/reports`, else the
/// workspace's `target/reports` (both outside what git tracks).
pub fn default_out(root: &Path) -> PathBuf {
    target_dir(root).join("reports")
}

/// `$CARGO_TARGET_DIR`, else the workspace's `target`.
fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

/// Where reproduce keeps its criterion data: `$CARGO_TARGET_DIR/harness-reproduce`, else the
/// workspace's `target/harness-reproduce`.
fn reproduce_target(root: &Path) -> PathBuf {
    target_dir(root).join("harness-reproduce")
}

fn cargo_program() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// Runs cargo with `args` in `root`, its output passed through.
fn cargo(root: &Path, args: &[&str]) -> Result<(), ReproduceError> {
    let mut cmd = Command::new(cargo_program());
    cmd.args(args).current_dir(root);
    let status = cmd
        .status()
        .map_err(|source| ReproduceError::CargoMissing { source })?;
    if status.success() {
        Ok(())
    } else {
        Err(ReproduceError::CargoFailed {
            command: args.join(" "),
            status,
            tail: String::new(),
        })
    }
}

/// Runs the two bench targets with criterion writing under `crit`, showing one line of
/// progress per finished benchmark; criterion's full output goes to `crit/../bench.log`.
fn run_benches(root: &Path, crit: &Path, criterion_args: &[String]) -> Result<(), ReproduceError> {
    std::fs::create_dir_all(crit).map_err(|source| ReproduceError::Create {
        path: crit.to_owned(),
        source,
    })?;
    let log_path = crit.with_file_name("bench.log");
    let mut args: Vec<String> = [
        "bench",
        "-p",
        "procman-harness",
        "--bench",
        "seeds",
        "--bench",
        "floors",
        "--",
    ]
    .map(String::from)
    .to_vec();
    args.extend(criterion_args.iter().cloned());
    eprintln!("  cargo {}", args.join(" "));
    let mut child = Command::new(cargo_program())
        .args(&args)
        .current_dir(root)
        .env("CRITERION_HOME", crit)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| ReproduceError::CargoMissing { source })?;
    let target = ProgressDrawTarget::stderr_with_hz(4);
    let bar = (!target.is_hidden()).then(|| {
        let bar = ProgressBar::with_draw_target(None, target);
        bar.set_style(
            ProgressStyle::with_template("  {spinner} {elapsed_precise} {pos} benchmarks {msg}")
                .expect("the template is valid"),
        );
        bar.enable_steady_tick(Duration::from_millis(250));
        bar
    });
    // stderr carries cargo's build lines and criterion's "Benchmarking X" lines; keep it in
    // the log and show the benchmark under way.
    let stderr = child.stderr.take().expect("piped");
    let err_bar = bar.clone();
    let err_thread = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            for part in line.split('\r') {
                if let Some(rest) = part.trim().strip_prefix("Benchmarking ")
                    && let Some(b) = &err_bar
                {
                    let name = rest.split(": ").next().unwrap_or(rest);
                    b.set_message(name.to_owned());
                }
            }
            lines.push(line);
        }
        lines
    });
    let mut log = String::new();
    let mut done = 0usize;
    let stdout = child.stdout.take().expect("piped");
    let mut current = String::new();
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        log.push_str(&line);
        log.push('\n');
        let t = line.trim();
        // Criterion prints the id on its own line (or before `time:`) and then `time: [...]`.
        if !t.is_empty() && !line.starts_with(' ') && !t.starts_with("Found") {
            current = t.split_whitespace().next().unwrap_or(t).to_owned();
        }
        if t.contains("time:") {
            done += 1;
            match &bar {
                Some(b) => b.set_position(done as u64),
                None => eprintln!("  [{done}] {current}"),
            }
        }
    }
    let status = child
        .wait()
        .map_err(|source| ReproduceError::CargoMissing { source })?;
    let err_lines = err_thread.join().unwrap_or_default();
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    log.push_str("\n--- stderr ---\n");
    log.push_str(&err_lines.join("\n"));
    let _ = std::fs::write(&log_path, &log);
    eprintln!(
        "  {done} benchmarks finished; criterion's output: {}",
        log_path.display()
    );
    if status.success() {
        Ok(())
    } else {
        let tail: Vec<&String> = err_lines.iter().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().map(String::as_str).collect();
        Err(ReproduceError::CargoFailed {
            command: args.join(" "),
            status,
            tail: format!("; last lines:\n{}", tail.join("\n")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenarios() -> Vec<Scenario> {
        load_all(&workspace_root().join("scenarios")).expect("the shipped scenarios load")
    }

    #[test]
    fn the_default_plan_runs_every_scenario_and_fits_ten_minutes() {
        let all = scenarios();
        let p = plan(all.clone(), false);
        for s in &all {
            assert!(
                p.runs.iter().any(|r| r.scenario.name == s.name),
                "{} is not in the plan",
                s.name
            );
        }
        assert!(p.runs.iter().any(|r| r.options.driver == Driver::Tokio));
        assert!(p.criterion_args.is_empty());
        // Planned run time, set-up and benches aside, leaves room under ten minutes.
        assert!(
            p.scenario_time() < Duration::from_secs(7 * 60),
            "{:?}",
            p.scenario_time()
        );
    }

    #[test]
    fn quick_plan_sweeps_the_extremes_with_short_runs() {
        let p = plan(scenarios(), true);
        assert!(p.criterion_args.iter().any(|a| a == "--measurement-time"));
        for r in &p.runs {
            let s = r.options.apply(&r.scenario).unwrap();
            assert!(s.sweep.len() <= 2, "{}: {:?}", s.name, s.sweep);
            assert_eq!(s.duration, QUICK_DURATION);
        }
        assert!(p.scenario_time() < Duration::from_secs(60));
    }

    #[test]
    fn result_files_are_named_by_scenario_and_driver() {
        let p = plan(scenarios(), true);
        let names: Vec<String> = p.runs.iter().map(PlannedRun::file_name).collect();
        assert!(names.contains(&"status_storm-threads.json".to_owned()));
        assert!(names.contains(&"status_storm-tokio.json".to_owned()));
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
    }
}
