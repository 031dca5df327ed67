//! `reports/seed_claims.toml`: every figure of the seed documents as data (the file's header
//! documents the keys), and how a claim's `bench` key names the benchmarks that measure the
//! same shape for every design.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;

use super::{SeedsError, split_design};

/// The claims file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ClaimsFile {
    /// Every claim, in the file's order.
    #[serde(rename = "claim")]
    pub claims: Vec<Claim>,
}

/// One figure of a seed document.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Claim {
    /// Stable id.
    pub id: String,
    /// The seed document's prefix (`000`).
    pub seed: String,
    /// The seed's own words.
    pub quote: String,
    /// The figure.
    pub value: f64,
    /// Its unit: `ns/op`, `allocs/op`, or a ratio (`x faster ...`, `x slower ...`).
    pub unit: String,
    /// Which of our designs stands for the seed's approach.
    pub design: String,
    /// Our benchmark of the same shape: `group/function[/parameter]`.
    pub bench: String,
    /// For ratio claims: the claim this one is compared with.
    #[serde(default)]
    pub compare_to: Option<String>,
    /// What the seed's method does to the number.
    #[serde(default)]
    pub method_note: String,
}

/// Where a claim's figure is measured: a group, a shape and maybe a parameter, for any design.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BenchKey {
    /// The criterion group (`memory_per_op` resolved to `_allocs` or `_bytes` by the unit).
    pub group: String,
    /// The function id less the design (`""`, `"_getters"`).
    pub shape: String,
    /// The parameter, when the key names one.
    pub parameter: Option<String>,
}

impl Claim {
    /// Whether the figure is a ratio (`x faster`, `x slower`) rather than a per-op figure.
    pub fn is_ratio_unit(&self) -> bool {
        self.unit.starts_with('x')
    }

    /// Whether the figure is a time per operation.
    pub fn is_time(&self) -> bool {
        self.unit.starts_with("ns")
    }

    /// The benchmark key of `bench`.
    pub fn bench_key(&self) -> BenchKey {
        let mut parts = self.bench.splitn(3, '/');
        let mut group = parts.next().unwrap_or_default().to_owned();
        let function = parts.next().unwrap_or_default();
        let parameter = parts.next().map(str::to_owned);
        if group == "memory_per_op" {
            let what = if self.unit.starts_with("bytes") || self.unit.starts_with("B/") {
                "bytes"
            } else {
                "allocs"
            };
            group = format!("memory_per_op_{what}");
        }
        BenchKey {
            group,
            shape: split_design(function).1.to_owned(),
            parameter,
        }
    }

    /// The high end of a ratio range the unit states (`x slower (low end; 67 high end)`).
    pub fn range_high(&self) -> Option<f64> {
        let before = self.unit.split("high end").next()?;
        if before.len() == self.unit.len() {
            return None;
        }
        before
            .split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .rfind(|s| !s.is_empty())
            .and_then(|s| s.parse().ok())
    }

    /// Whether the method note says the seed's loop never used its load.
    pub fn dead_load(&self) -> bool {
        let note = self.method_note.to_lowercase();
        note.contains("dead load") || note.contains("dead-load")
    }
}

impl ClaimsFile {
    /// Reads and checks the claims file: unique ids, known designs, `compare_to` naming a
    /// claim, a `group/function` bench key.
    pub fn load(path: &Path) -> Result<ClaimsFile, SeedsError> {
        let text = std::fs::read_to_string(path).map_err(|source| SeedsError::Read {
            path: path.to_owned(),
            source,
        })?;
        let bad = |message: String| SeedsError::Malformed {
            path: path.to_owned(),
            message,
        };
        let file: ClaimsFile = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let mut ids = BTreeSet::new();
        for c in &file.claims {
            if !ids.insert(c.id.as_str()) {
                return Err(bad(format!(
                    "claim id {:?} appears twice; ids must be unique",
                    c.id
                )));
            }
        }
        for c in &file.claims {
            if split_design(&c.design).0.is_none() {
                return Err(bad(format!(
                    "claim {}: design {:?} is not one of mutex, actor, atomic, atomic-sharded",
                    c.id, c.design
                )));
            }
            if !c.bench.contains('/') {
                return Err(bad(format!(
                    "claim {}: bench {:?} must be group/function[/parameter], e.g. \
                     single_process_read/mutex",
                    c.id, c.bench
                )));
            }
            if let Some(other) = &c.compare_to
                && !ids.contains(other.as_str())
            {
                return Err(bad(format!(
                    "claim {}: compare_to {other:?} names no claim in this file",
                    c.id
                )));
            }
        }
        Ok(file)
    }

    /// The claim with this id.
    pub fn get(&self, id: &str) -> Option<&Claim> {
        self.claims.iter().find(|c| c.id == id)
    }
}
