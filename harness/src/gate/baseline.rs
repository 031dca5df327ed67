//! The gate's files: the committed baseline (`reports/baseline.json`) and a set of current
//! measurements, which share one layout so a measurement can be compared, saved or fed back.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::provenance::Provenance;

/// The `kind` of a baseline file.
pub const BASELINE_KIND: &str = "procman-gate-baseline";
/// The `kind` of a measurements file (`harness gate --save-current`).
pub const MEASUREMENTS_KIND: &str = "procman-gate-measurements";
/// Layout version of both.
pub const GATE_SCHEMA_VERSION: u32 = 1;

/// Which layer a metric belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    /// Instructions per op under callgrind: deterministic, hard limit.
    Instructions,
    /// Latency under load: noisy, compared by medians and same-run ratios.
    Latency,
}

/// One gated figure. Lower is better for every metric the gate keeps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// What is measured, e.g. `instructions/status` or `p99_ratio_vs_mutex/scripts_status`.
    pub name: String,
    /// The design.
    pub design: String,
    /// Its layer.
    pub layer: Layer,
    /// The figure.
    pub value: f64,
    /// Its unit (`instructions/op`, `ns`, `ratio`).
    pub unit: String,
    /// Allowed worsening, percent of the baseline value.
    pub limit_pct: f64,
    /// Spread seen across the repetitions that made this value, percent of it:
    /// `(max - min) / median`. The limit is set from it.
    pub noise_pct: Option<f64>,
}

/// A baseline or a set of current measurements.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GateFile {
    /// [`BASELINE_KIND`] or [`MEASUREMENTS_KIND`].
    pub kind: String,
    /// [`GATE_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Where and how it was measured.
    pub provenance: Provenance,
    /// `valgrind --version`, when layer 1 ran.
    pub valgrind: Option<String>,
    /// Whether it was measured with `--quick`.
    pub quick: bool,
    /// The figures.
    pub metrics: Vec<Metric>,
}

impl GateFile {
    /// Reads a baseline or measurements file; the error names the file and the fix.
    pub fn read(path: &Path) -> Result<GateFile, String> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "{}: cannot be read: {e}; create it with `harness gate --update-baseline`",
                path.display()
            )
        })?;
        let file: GateFile = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a gate file: {e}", path.display()))?;
        if file.kind != BASELINE_KIND && file.kind != MEASUREMENTS_KIND {
            return Err(format!(
                "{}: kind is {:?}; expected {BASELINE_KIND:?} or {MEASUREMENTS_KIND:?}",
                path.display(),
                file.kind
            ));
        }
        if file.schema_version != GATE_SCHEMA_VERSION {
            return Err(format!(
                "{}: schema_version {} but this harness reads {GATE_SCHEMA_VERSION}; \
                 regenerate it with `harness gate --update-baseline`",
                path.display(),
                file.schema_version
            ));
        }
        Ok(file)
    }

    /// Writes it as pretty JSON.
    pub fn write(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).expect("gate files always serialise");
        std::fs::write(path, text + "\n")
            .map_err(|e| format!("{}: cannot be written: {e}", path.display()))
    }

    /// The metric `name` of `design`.
    pub fn find(&self, name: &str, design: &str) -> Option<&Metric> {
        self.metrics
            .iter()
            .find(|m| m.name == name && m.design == design)
    }
}
