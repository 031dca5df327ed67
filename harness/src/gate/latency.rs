//! The latency layer: `scripts_status` p99 under load, from the probe's storm (agents polling
//! status while processes churn and children write output; see `probe/src/storm.rs`).
//!
//! Absolute latency on a shared machine drifts by tens of percent between runs and by several
//! times between hosts, so a latency figure is only ever judged against one measured in the
//! same job: in A/B mode the base and the head probe run in alternating rounds (ABBA…) and each
//! round gives one pair. Two metrics per design: its p99, and its p99 divided by the mutex
//! design's p99 *in the same storm* (the same-run ratio), whose head/base change cancels what
//! drift is left.

use super::GateError;
use super::probe::{DESIGNS, Probe};
use crate::progress::Progress;

/// The smallest change of a p99 worth failing on, percent. On unchanged code under a heavy
/// load (other builds on the 2-core machine) single quick runs showed interval bounds up to
/// +10 %; 15 % stays clear of that and still well under a 1.3x regression.
pub const P99_LIMIT_PCT: f64 = 15.0;
/// The smallest change of a same-run ratio worth failing on, percent: a ratio carries the noise
/// of two p99s (the mutex design's p99 is near the clock's granularity).
pub const RATIO_LIMIT_PCT: f64 = 20.0;

/// How many rounds, how long each storm, how many clients.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Rounds (each round: both probes in A/B mode, one in baseline mode).
    pub rounds: usize,
    /// Measured milliseconds per design per storm.
    pub millis: u64,
    /// Unmeasured warm-up before it.
    pub warmup_millis: u64,
    /// Client threads: as many as cores.
    pub clients: usize,
}

/// The plan for quick or full mode.
pub fn plan(quick: bool) -> Plan {
    let clients = std::thread::available_parallelism().map_or(2, |n| n.get());
    if quick {
        Plan {
            rounds: 20,
            millis: 150,
            warmup_millis: 50,
            clients,
        }
    } else {
        Plan {
            rounds: 40,
            millis: 250,
            warmup_millis: 50,
            clients,
        }
    }
}

/// One side's figures: `p99[design][round]`, designs in [`DESIGNS`] order.
#[derive(Clone, Debug, Default)]
pub struct Series {
    /// p99 of `scripts_status`, ns.
    pub p99: Vec<Vec<f64>>,
}

impl Series {
    fn new() -> Self {
        Series {
            p99: vec![Vec::new(); DESIGNS.len()],
        }
    }

    fn push(&mut self, probe: &Probe, plan: &Plan) -> Result<(), GateError> {
        let lines = probe.storm(&DESIGNS, plan.clients, plan.millis, plan.warmup_millis)?;
        for (i, line) in lines.iter().enumerate() {
            self.p99[i].push(line.p99_ns as f64);
        }
        Ok(())
    }

    /// Appends `other`'s rounds (a confirmation run).
    pub fn extend(&mut self, other: Series) {
        for (mine, theirs) in self.p99.iter_mut().zip(other.p99) {
            mine.extend(theirs);
        }
    }

    /// The metrics: `(name, design, unit, values per round)`; none when nothing was measured
    /// (`--skip-latency`).
    pub fn metrics(&self) -> Vec<(&'static str, &'static str, &'static str, Vec<f64>)> {
        let mut out = Vec::new();
        if self.p99.len() != DESIGNS.len() {
            return out;
        }
        for (i, design) in DESIGNS.iter().enumerate() {
            out.push(("p99_ns/scripts_status", *design, "ns", self.p99[i].clone()));
            if i > 0 {
                let ratio = self.p99[i]
                    .iter()
                    .zip(&self.p99[0])
                    .map(|(d, m)| d / m.max(1.0))
                    .collect();
                out.push(("p99_ratio_vs_mutex/scripts_status", *design, "ratio", ratio));
            }
        }
        out
    }
}

/// Alternating rounds of `base` and `head` (ABBA…, so neither side always goes first).
pub fn paired_rounds(
    base: &Probe,
    head: &Probe,
    plan: &Plan,
    progress: &Progress,
) -> Result<(Series, Series), GateError> {
    let (mut b, mut h) = (Series::new(), Series::new());
    for round in 0..plan.rounds {
        progress.message(format!("latency round {}/{}", round + 1, plan.rounds));
        if round % 2 == 0 {
            b.push(base, plan)?;
            h.push(head, plan)?;
        } else {
            h.push(head, plan)?;
            b.push(base, plan)?;
        }
    }
    Ok((b, h))
}

/// Rounds of one probe (the baseline mode).
pub fn rounds(probe: &Probe, plan: &Plan, progress: &Progress) -> Result<Series, GateError> {
    let mut s = Series::new();
    for round in 0..plan.rounds {
        progress.message(format!("latency round {}/{}", round + 1, plan.rounds));
        s.push(probe, plan)?;
    }
    Ok(s)
}
