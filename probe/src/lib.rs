//! What `harness gate` and its probe (`gate-probe`, `src/main.rs`) agree on: the protocol
//! version, the ops the probe counts and the line its storm prints. The gate depends on this
//! library for those types alone; it measures the probe binary, never itself.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The command-line protocol between `harness gate` and the probe. A base revision whose probe
/// speaks another protocol cannot be compared, and the gate says so.
pub const PROTOCOL: u32 = 2;

/// The designs the probe can build, by the names the harness uses; same-run ratios are against
/// the first.
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
    /// the difference of the two loops is millions of instructions.
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

impl FromStr for CostOp {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        CostOp::ALL
            .into_iter()
            .find(|op| op.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown op {s:?}; use one of: {}",
                    CostOp::ALL.map(CostOp::name).join(", ")
                )
            })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_names_round_trip() {
        for op in CostOp::ALL {
            assert_eq!(op.name().parse::<CostOp>(), Ok(op));
        }
        let e = "sort".parse::<CostOp>().unwrap_err();
        assert!(
            e.contains("status, list, start_stop, log_append, log_tail"),
            "{e}"
        );
    }
}
