//! The instruction layer: instructions per op, counted by callgrind.
//!
//! Instruction counts do not depend on what else the machine is doing, so this layer can hold
//! a hard limit on a shared, noisy CI machine where wall-clock time cannot. The probe runs the
//! op in two loops of `n1` and `n2` iterations; callgrind dumps its counters at the probe's
//! checkpoints (`--dump-after=gate_probe_checkpoint`), so each loop's instructions, on every
//! thread, land in a dump of their own, and `(I(n2) - I(n1)) / (n2 - n1)` is the instructions
//! per op with the set-up, the tear-down and each loop's fixed cost cancelled out.
//!
//! Deterministic is not the same as invariant. Two things still move a count between runs of
//! the same binary, and both were measured here (see the README's gate section):
//! - `list` walks a hash map whose seed is random per process, so its work can depend on that
//!   run's order;
//! - the actor's ops cross threads, and how often a caller or the owner finds the other
//!   already waiting depends on the interleaving.
//!
//! So every count is repeated, and each metric's limit is `max(3 %, 3 x spread)`, where spread is
//! `(max - min) / median` over the repetitions measured: the invariant ops keep the hard 3 %.
//! Counts are taken on as many valgrind processes at once as there are cores: an instruction
//! count does not depend on what runs beside it.

use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::GateError;
use super::probe::{CostOp, Probe};

/// The hard limit on instructions per op, percent.
pub const INSTRUCTION_LIMIT_PCT: f64 = 3.0;
/// A noisy op's limit is this many times the spread of its repetitions.
pub const NOISE_MULTIPLIER: f64 = 3.0;

/// Iterations of the two probe runs, before [`CostOp::scale`].
pub const ITERATIONS: (u64, u64) = (1_000, 6_000);

/// Repetitions per metric and side (quick and full mode).
pub fn repetitions(quick: bool) -> usize {
    if quick { 3 } else { 5 }
}

/// Checks that valgrind runs, returning its version.
pub fn valgrind_version() -> Result<String, GateError> {
    let out = Command::new("valgrind")
        .arg("--version")
        .output()
        .map_err(|e| GateError::NoValgrind(e.to_string()))?;
    if !out.status.success() {
        return Err(GateError::NoValgrind(format!("exit {}", out.status)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Instructions per op of `op` on `design`, from one run of `probe` under callgrind.
pub fn per_op(probe: &Probe, design: &str, op: CostOp) -> Result<f64, GateError> {
    static RUN: AtomicU64 = AtomicU64::new(0);
    let (n1, n2) = (ITERATIONS.0 * op.scale(), ITERATIONS.1 * op.scale());
    let failed = |detail: String| GateError::ProbeFailed {
        label: probe.label.clone(),
        what: format!("cost {design} {} under valgrind", op.name()),
        detail,
    };
    let dir = std::env::temp_dir().join(format!(
        "procman-gate-{}-{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).map_err(|e| GateError::io(&dir, e))?;
    let out = Command::new("valgrind")
        .args([
            "--tool=callgrind",
            "--dump-after=gate_probe_checkpoint",
            // Deterministic thread interleaving: the actor's owner and caller take turns the
            // same way on every run.
            "--fair-sched=yes",
        ])
        .arg(format!(
            "--callgrind-out-file={}",
            dir.join("out").display()
        ))
        .args(probe.cost_args(design, op, n1, n2))
        .output();
    let dumps = (1..=3)
        .map(|part| {
            let path = dir.join(format!("out.{part}"));
            std::fs::read_to_string(&path)
                .ok()
                .and_then(|text| parse_totals(&text))
        })
        .collect::<Vec<_>>();
    let _ = std::fs::remove_dir_all(&dir);
    let out = out.map_err(|e| GateError::NoValgrind(e.to_string()))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
        return Err(failed(
            tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
        ));
    }
    match (dumps[1], dumps[2]) {
        (Some(i1), Some(i2)) => Ok(i2.saturating_sub(i1) as f64 / (n2 - n1) as f64),
        _ => Err(failed(
            "callgrind wrote no dump per measured loop (does the probe export gate_probe_checkpoint?)"
                .into(),
        )),
    }
}

/// Parses the `totals: N` (or `summary: N`) line of a callgrind dump.
pub fn parse_totals(dump: &str) -> Option<u64> {
    dump.lines()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })
        .and_then(|n| n.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// One count to take: which probe, design and op.
#[derive(Clone, Debug)]
pub struct Job<'a> {
    /// The probe (revision).
    pub probe: &'a Probe,
    /// The design.
    pub design: &'static str,
    /// The op.
    pub op: CostOp,
}

/// Takes every count in `jobs` on `workers` threads, calling `done` after each; the results are
/// in the order of `jobs`.
pub fn count_all(
    jobs: &[Job<'_>],
    workers: usize,
    done: &(dyn Fn(usize) + Sync),
) -> Result<Vec<f64>, GateError> {
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<Option<Result<f64, GateError>>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..workers.max(1) {
            s.spawn(|| {
                loop {
                    let i = {
                        let mut n = next.lock().expect("job counter");
                        let i = *n;
                        *n += 1;
                        i
                    };
                    let Some(job) = jobs.get(i) else { break };
                    let r = per_op(job.probe, job.design, job.op);
                    let failed = r.is_err();
                    let finished = {
                        let mut all = results.lock().expect("job results");
                        all[i] = Some(r);
                        all.iter().filter(|r| r.is_some()).count()
                    };
                    done(finished);
                    if failed {
                        // Let the other workers run out: the first error is what is reported.
                        *next.lock().expect("job counter") = jobs.len();
                        break;
                    }
                }
            });
        }
    });
    let mut values = Vec::with_capacity(jobs.len());
    for r in results.into_inner().expect("job results") {
        match r {
            Some(Ok(v)) => values.push(v),
            Some(Err(e)) => return Err(e),
            // Never started because an earlier job failed: that failure is returned above.
            None => {}
        }
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_dumps_totals() {
        let dump = "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nsummary: 7812037\ntotals: 7812037\n";
        assert_eq!(parse_totals(dump), Some(7_812_037));
        assert_eq!(parse_totals("events: Ir\nsummary: 12\n"), Some(12));
        assert_eq!(parse_totals("nothing here"), None);
    }
}
