//! The probe binary (`probe/`, `gate-probe`) as the gate sees it: a path, the ops it counts and
//! the storm it runs. The gate never measures itself: it builds the probe of each revision it
//! compares and runs it, so an edit to the harness cannot move a figure.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use super::GateError;

/// The command-line protocol this harness speaks with `gate-probe` (its `PROTOCOL`).
pub const PROTOCOL: u32 = 2;

/// The designs the gate measures; same-run ratios are against the first.
pub const DESIGNS: [&str; 3] = ["mutex", "actor", "atomic"];

/// A hot op the gate counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CostOp {
    /// `status` by name.
    Status,
    /// `list` of all 50 processes.
    List,
    /// One `start` and one `stop` of a simulated process.
    StartStop,
    /// One line of output appended to a run's log ring (through the launcher's event path).
    LogAppend,
    /// `logs_tail` of 10 lines from a cursor.
    LogTail,
}

impl CostOp {
    /// Every op, in table order.
    pub const ALL: [CostOp; 5] = [
        CostOp::Status,
        CostOp::List,
        CostOp::StartStop,
        CostOp::LogAppend,
        CostOp::LogTail,
    ];

    /// How many times the base iteration counts this op is run: cheap ops run more often, so
    /// the difference of two runs is millions of instructions and the set-up's own run-to-run
    /// variation (tens of thousands: thread start-up, hash seeds) stays below 1 % of it.
    pub fn scale(self) -> u64 {
        match self {
            CostOp::Status => 20,
            CostOp::LogAppend | CostOp::LogTail => 10,
            CostOp::List | CostOp::StartStop => 1,
        }
    }

    /// Its name in tables, files and on the probe's command line.
    pub fn name(self) -> &'static str {
        match self {
            CostOp::Status => "status",
            CostOp::List => "list",
            CostOp::StartStop => "start_stop",
            CostOp::LogAppend => "log_append",
            CostOp::LogTail => "log_tail",
        }
    }
}

/// One design's line of `gate-probe storm`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StormLine {
    /// The design.
    pub design: String,
    /// Client threads.
    pub clients: usize,
    /// Status calls measured.
    pub ops: u64,
    /// Median latency, ns.
    pub p50_ns: u64,
    /// 99th percentile, ns.
    pub p99_ns: u64,
    /// Slowest call, ns.
    pub max_ns: u64,
}

/// A built probe of one revision.
#[derive(Clone, Debug)]
pub struct Probe {
    /// What it was built from, for messages ("base 1a2b3c4", "head (working tree)").
    pub label: String,
    /// The executable.
    pub path: PathBuf,
}

impl Probe {
    /// Checks the probe speaks [`PROTOCOL`].
    pub fn check_protocol(&self) -> Result<(), GateError> {
        let out = Command::new(&self.path)
            .arg("protocol")
            .output()
            .map_err(|e| GateError::io(&self.path, e))?;
        let said = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if out.status.success() && said == PROTOCOL.to_string() {
            Ok(())
        } else {
            Err(GateError::ProbeProtocol {
                label: self.label.clone(),
                said,
                want: PROTOCOL,
            })
        }
    }

    /// The command that runs `op` in loops of `n1` and `n2` for `design` (the caller wraps it
    /// in valgrind).
    pub fn cost_args(&self, design: &str, op: CostOp, n1: u64, n2: u64) -> Vec<String> {
        vec![
            self.path.display().to_string(),
            "cost".into(),
            "--design".into(),
            design.into(),
            "--op".into(),
            op.name().into(),
            "--n1".into(),
            n1.to_string(),
            "--n2".into(),
            n2.to_string(),
        ]
    }

    /// Runs one storm per design (in order) and returns their lines.
    pub fn storm(
        &self,
        designs: &[&str],
        clients: usize,
        millis: u64,
        warmup_millis: u64,
    ) -> Result<Vec<StormLine>, GateError> {
        let out = Command::new(&self.path)
            .args(["storm", "--designs", &designs.join(",")])
            .args(["--clients", &clients.to_string()])
            .args(["--millis", &millis.to_string()])
            .args(["--warmup-millis", &warmup_millis.to_string()])
            .output()
            .map_err(|e| GateError::io(&self.path, e))?;
        let failed = |detail: String| GateError::ProbeFailed {
            label: self.label.clone(),
            what: "storm".into(),
            detail,
        };
        if !out.status.success() {
            return Err(failed(
                String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            ));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<StormLine> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(serde_json::from_str)
            .collect::<Result<_, _>>()
            .map_err(|e| failed(format!("unreadable output ({e}): {text}")))?;
        if lines.len() != designs.len() {
            return Err(failed(format!(
                "{} lines for {} designs",
                lines.len(),
                designs.len()
            )));
        }
        Ok(lines)
    }
}

/// Where a probe of `label` is kept once built (`target/gate/<label>-gate-probe`).
pub fn kept_path(target_dir: &Path, label: &str) -> PathBuf {
    target_dir.join("gate").join(format!("{label}-gate-probe"))
}
