//! The gate's files: the committed baseline (`reports/baseline.json`) and a set of current
//! measurements, which share one layout so a measurement can be compared, saved or fed back.

use std::path::{Path, PathBuf};

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
    pub fn read(path: &Path) -> Result<GateFile, GateFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| GateFileError::Read {
            path: path.to_owned(),
            source,
        })?;
        let file: GateFile =
            serde_json::from_str(&text).map_err(|source| GateFileError::Parse {
                path: path.to_owned(),
                source,
            })?;
        if file.kind != BASELINE_KIND && file.kind != MEASUREMENTS_KIND {
            return Err(GateFileError::Kind {
                path: path.to_owned(),
                kind: file.kind,
            });
        }
        if file.schema_version != GATE_SCHEMA_VERSION {
            return Err(GateFileError::Schema {
                path: path.to_owned(),
                found: file.schema_version,
            });
        }
        Ok(file)
    }

    /// Writes it as pretty JSON.
    pub fn write(&self, path: &Path) -> Result<(), GateFileError> {
        let text = serde_json::to_string_pretty(self).expect("gate files always serialise");
        std::fs::write(path, text + "\n").map_err(|source| GateFileError::Write {
            path: path.to_owned(),
            source,
        })
    }

    /// The metric `name` of `design`.
    pub fn find(&self, name: &str, design: &str) -> Option<&Metric> {
        self.metrics
            .iter()
            .find(|m| m.name == name && m.design == design)
    }
}

/// Why a gate file could not be read or written; each names the file and, where there is one,
/// the fix.
#[derive(Debug, thiserror::Error)]
pub enum GateFileError {
    /// The file could not be read.
    #[error("{}: cannot be read: {source}; create it with `harness gate --update-baseline`", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not JSON of a gate file.
    #[error("{}: not a gate file: {source}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// A JSON file of another kind.
    #[error("{}: kind is {kind:?}; expected {BASELINE_KIND:?} or {MEASUREMENTS_KIND:?}", path.display())]
    Kind {
        /// The file.
        path: PathBuf,
        /// The kind it says it is.
        kind: String,
    },
    /// Written by another version of the gate.
    #[error(
        "{}: schema_version {found} but this harness reads {GATE_SCHEMA_VERSION}; regenerate it with `harness gate --update-baseline`",
        path.display()
    )]
    Schema {
        /// The file.
        path: PathBuf,
        /// Its schema version.
        found: u32,
    },
    /// The file could not be written.
    #[error("{}: cannot be written: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}
