//! The probe binary (`probe/`, `gate-probe`) as the gate sees it: a path, the ops it counts and
//! the storm it runs. The gate never measures itself: it builds the probe of each revision it
//! compares and runs it, so an edit to the harness cannot move a figure.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::GateError;

pub use procman_gate_probe::{CostOp, DESIGNS, PROTOCOL, StormLine};

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
