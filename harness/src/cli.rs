//! The `harness` command line: `run` and `list` here; the other subcommands (`seeds`,
//! `reproduce`, `report`, `gate`) are variants of [`Command`] whose arguments and code live in
//! their own modules, which depend on nothing here (scenario lookup is [`crate::scenario::files`]).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use clap::{Args, Parser, Subcommand};

use crate::contender::Design;
use crate::duration::parse_duration;
use crate::error::HarnessError;
use crate::progress::Progress;
use crate::provenance::{Provenance, compact_utc, workspace_root};
use crate::results::{Driver, ResultsFile};
use crate::run::{RunOptions, planned_time, run_scenario};
use crate::scenario::Scenario;
use crate::scenario::files::{resolve_scenario, scenario_paths, scenarios_dir};
use crate::table;

/// Drives the procman designs with MCP-shaped workloads and reports what it measured.
#[derive(Debug, Parser)]
#[command(name = "harness", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenarios against the designs; print tables and write a result file.
    Run(RunArgs),
    /// List the scenarios, one line each.
    List(ListArgs),
    /// Measure the clock and the harness's own cost per op on this machine, and print them.
    Calibrate,
    /// Gate on cost and latency: the head against a base revision, measured in the same job (exit 0 ok, 1 regression, 2 could not measure).
    Gate(crate::gate::GateArgs),
    /// Export the criterion figures of the seed-table benchmarks, with provenance, to JSON.
    Seeds(crate::seeds::SeedsArgs),
    /// Render REPORT.md, index.html and charts/ from result files alone.
    Report(crate::report::ReportArgs),
    /// Run the evidence end to end (seed benches, every scenario, all designs) and render it.
    Reproduce(crate::reproduce::ReproduceArgs),
}

/// `harness run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario file, or a scenario's name in the scenarios directory (repeatable).
    #[arg(long, short, required = true)]
    pub scenario: Vec<String>,
    /// Designs to run, comma-separated [default: mutex,actor,atomic,atomic-sharded].
    #[arg(long = "impl", value_delimiter = ',', value_parser = str::parse::<Design>)]
    pub designs: Vec<Design>,
    /// Client counts to sweep, comma-separated (replaces the scenario's `clients`).
    #[arg(long, value_delimiter = ',')]
    pub clients: Option<Vec<usize>>,
    /// Timed region per run, e.g. 5s (replaces the scenario's `duration`).
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Warm-up per run, e.g. 500ms (replaces the scenario's `warmup`).
    #[arg(long, value_parser = parse_duration)]
    pub warmup: Option<Duration>,
    /// Stall bound, e.g. 10ms (replaces the scenario's `stall_bound`).
    #[arg(long, value_parser = parse_duration)]
    pub stall_bound: Option<Duration>,
    /// How clients call: OS threads or tokio tasks.
    #[arg(long, value_enum, default_value = "threads")]
    pub driver: Driver,
    /// Worker threads of the tokio runtime [default: logical CPUs].
    #[arg(long)]
    pub tokio_workers: Option<usize>,
    /// Seed of every generator (replaces the scenario's `seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Result file [default: target/harness-results/SCENARIO-DRIVER-DATE.json].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Directory of scenario names [default: ./scenarios, else the workspace's].
    #[arg(long)]
    pub scenarios_dir: Option<PathBuf>,
}

/// `harness list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Directory to list [default: ./scenarios, else the workspace's].
    #[arg(long)]
    pub scenarios_dir: Option<PathBuf>,
}

/// Parses the process's arguments and runs the command; errors go to stderr.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let args: Vec<String> = std::env::args().collect();
    let result = match cli.command {
        Command::Run(a) => run(&a, args),
        Command::List(a) => list(&a),
        Command::Gate(a) => return crate::gate::run(&a),
        Command::Seeds(a) => return crate::seeds::command(&a),
        Command::Report(a) => return crate::report::command(&a),
        Command::Reproduce(a) => return crate::reproduce::command(&a),
        Command::Calibrate => {
            let clock = crate::measure::timer::Clock::calibrate();
            let c = crate::measure::overhead::calibrate(&clock, true);
            println!("{}", table::calibration_line(&c));
            Ok(if c.within_budget {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(a: &RunArgs, args: Vec<String>) -> Result<ExitCode, HarnessError> {
    let dir = scenarios_dir(a.scenarios_dir.as_deref());
    let scenarios = a
        .scenario
        .iter()
        .map(|s| Scenario::load(&resolve_scenario(s, &dir)))
        .collect::<Result<Vec<_>, _>>()?;
    let designs = if a.designs.is_empty() {
        // By default every design this build can construct; name the others.
        let (ready, missing): (Vec<Design>, Vec<Design>) =
            Design::ALL.into_iter().partition(|d| d.is_available());
        for d in missing {
            eprintln!("note: design {d} is not available in this build; running without it");
        }
        ready
    } else {
        a.designs.clone()
    };
    let options = RunOptions {
        designs,
        driver: a.driver,
        clients: a.clients.clone(),
        duration: a.duration,
        warmup: a.warmup,
        stall_bound: a.stall_bound,
        seed: a.seed,
        tokio_workers: a.tokio_workers,
    };
    // Check every override against every scenario before running anything.
    for s in &scenarios {
        options.apply(s)?;
    }
    let provenance = Provenance::collect(&workspace_root());
    let mut results = Vec::with_capacity(scenarios.len());
    let mut failed = false;
    for s in &scenarios {
        let effective = options.apply(s)?;
        let progress = Progress::stderr(
            &effective.name,
            planned_time(&effective, options.designs.len()),
        );
        let result = run_scenario(s, &options, &progress);
        progress.finish();
        let result = result?;
        failed |= result.runs.iter().any(|r| !r.complete);
        println!("{}", table::render(&result, Some(&provenance)));
        results.push(result);
    }
    let out = match &a.out {
        Some(p) => p.clone(),
        None => workspace_root()
            .join("target/harness-results")
            .join(format!(
                "{}-{}-{}.json",
                scenarios[0].name,
                a.driver.name(),
                compact_utc(SystemTime::now())
            )),
    };
    let file = ResultsFile::new(provenance, args, results);
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| HarnessError::Write {
            path: parent.to_owned(),
            source,
        })?;
    }
    std::fs::write(&out, file.to_json()).map_err(|source| HarnessError::Write {
        path: out.clone(),
        source,
    })?;
    println!("results: {}", out.display());
    if failed {
        eprintln!("error: some runs did not complete (see INCOMPLETE above)");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn list(a: &ListArgs) -> Result<ExitCode, HarnessError> {
    let dir = scenarios_dir(a.scenarios_dir.as_deref());
    let paths = scenario_paths(&dir)?;
    let mut bad = 0;
    for path in &paths {
        match Scenario::load(path) {
            Ok(s) => println!("{}", list_line(&s)),
            Err(e) => {
                bad += 1;
                println!("INVALID {e}");
            }
        }
    }
    Ok(if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// One line about `s` for `harness list`.
pub fn list_line(s: &Scenario) -> String {
    let clients = if s.sweep.is_empty() {
        format!("{} clients", s.total_clients(0))
    } else {
        format!("clients {:?}", s.sweep)
    };
    format!(
        "{:<14} {:>4} procs  {:<3}  {:<18} {}",
        s.name,
        s.processes,
        s.launcher.kind(),
        clients,
        s.description
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_parses_the_documented_forms() {
        let cli = Cli::try_parse_from([
            "harness",
            "run",
            "--scenario",
            "scenarios/status_storm.toml",
            "--impl",
            "mutex,atomic",
            "--clients",
            "1,2,4,8",
            "--duration",
            "5s",
            "--driver",
            "tokio",
            "--out",
            "r.json",
        ])
        .unwrap();
        let Command::Run(a) = cli.command else {
            panic!("not run")
        };
        assert_eq!(a.designs, vec![Design::Mutex, Design::Atomic]);
        assert_eq!(a.clients, Some(vec![1, 2, 4, 8]));
        assert_eq!(a.duration, Some(Duration::from_secs(5)));
        assert_eq!(a.driver, Driver::Tokio);
        assert!(Cli::try_parse_from(["harness", "list"]).is_ok());
        let e = Cli::try_parse_from(["harness", "run", "-s", "x", "--impl", "rwlock"]).unwrap_err();
        assert!(e.to_string().contains("unknown design"), "{e}");
    }
}
