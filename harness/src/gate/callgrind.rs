//! Layer 1 of the gate: instructions per op, counted by callgrind.
//!
//! Instruction counts do not depend on what else the machine is doing, so this layer can hold
//! a hard limit on a shared, noisy CI machine where wall-clock time cannot. Each count is
//! `(I(n2) - I(n1)) / (n2 - n1)` over two runs of the cost probe, so the manager's set-up and
//! tear-down cancel out.
//!
//! Deterministic is not the same as invariant. Two things still move a count between runs of
//! the same binary, and both were measured here (see the README's gate section):
//! - `list` sorts what it collected from a hash map whose seed is random per process, so the
//!   sort's work depends on that run's order (±5-10 % here, all designs);
//! - the actor's ops cross threads, and how often a caller or the owner finds the other
//!   already waiting (spin, futex or not) depends on the interleaving (±10 % here).
//!
//! So each count is the median of [`repetitions`] probe pairs, and each metric's limit is
//! `max(3 %, 3 x spread)`, where spread is `(max - min) / median` over the repetitions that made
//! the baseline: ops that are invariant (status, start+stop, log append and tail on mutex and
//! atomic: within 1 % run to run) keep the hard 3 %.

use std::path::Path;
use std::process::Command;

use super::probe::CostOp;
use crate::contender::Design;

/// Iterations of the two probe runs, before [`CostOp::scale`]. Quick mode uses the same counts
/// as the baseline (it runs fewer repetitions instead): with fewer iterations the actor's
/// cross-thread ops batched differently and moved by up to 7 % against a full-mode baseline.
pub fn iterations(_quick: bool) -> (u64, u64) {
    (1_000, 6_000)
}

/// Probe pairs per metric (quick and full mode); the median is kept.
pub fn repetitions(quick: bool) -> usize {
    if quick { 3 } else { 5 }
}

/// Why a count could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum CountError {
    /// valgrind is not installed.
    #[error(
        "valgrind was not found ({0}); install it (Debian/Ubuntu: `apt-get install -y valgrind`) \
         or run the gate with --skip-instructions"
    )]
    NoValgrind(String),
    /// The probe failed under valgrind.
    #[error("the cost probe for {design} {op} failed under valgrind: {detail}")]
    ProbeFailed {
        /// The design.
        design: Design,
        /// The op.
        op: &'static str,
        /// valgrind's last lines.
        detail: String,
    },
}

/// Checks that valgrind runs, returning its version.
pub fn valgrind_version() -> Result<String, CountError> {
    let out = Command::new("valgrind")
        .arg("--version")
        .output()
        .map_err(|e| CountError::NoValgrind(e.to_string()))?;
    if !out.status.success() {
        return Err(CountError::NoValgrind(format!("exit {}", out.status)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Total instructions of one probe run under callgrind.
fn instructions(exe: &Path, design: Design, op: CostOp, iters: u64) -> Result<u64, CountError> {
    let out = Command::new("valgrind")
        .args([
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            // Deterministic thread interleaving: the actor's owner and caller take turns the
            // same way on every run.
            "--fair-sched=yes",
        ])
        .arg(exe)
        .args(["cost-probe", "--design", design.name(), "--op", op.name()])
        .args(["--iters", &iters.to_string()])
        .output()
        .map_err(|e| CountError::NoValgrind(e.to_string()))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let failed = |detail: String| CountError::ProbeFailed {
        design,
        op: op.name(),
        detail,
    };
    if !out.status.success() {
        let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
        return Err(failed(
            tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
        ));
    }
    parse_collected(&stderr)
        .ok_or_else(|| failed("no `Collected :` line in valgrind's output".into()))
}

/// Parses callgrind's `==PID== Collected : N` summary line.
pub fn parse_collected(stderr: &str) -> Option<u64> {
    stderr
        .lines()
        .find_map(|l| l.split_once("Collected :").map(|(_, n)| n.trim()))
        .and_then(|n| n.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// Instructions per op for `design` and `op`.
pub fn per_op(exe: &Path, design: Design, op: CostOp, quick: bool) -> Result<f64, CountError> {
    let (n1, n2) = iterations(quick);
    let (n1, n2) = (n1 * op.scale(), n2 * op.scale());
    let i1 = instructions(exe, design, op, n1)?;
    let i2 = instructions(exe, design, op, n2)?;
    Ok((i2.saturating_sub(i1)) as f64 / (n2 - n1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_summary_line() {
        let text = "==12== Events    : Ir\n==12== Collected : 1234567\n==12==\n==12== I   refs:      1,234,567\n";
        assert_eq!(parse_collected(text), Some(1_234_567));
        assert_eq!(parse_collected("nothing here"), None);
    }
}
