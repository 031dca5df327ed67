//! What the report renders from: every `*.json` in the results directory, each either a
//! scenario result file (`harness run`, `harness reproduce`), a seeds file
//! (`harness seeds`) or the Go peer's file (`harness reproduce`: `go-peer.json`), and the
//! claims file.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::gopeer::{GO_PEER_KIND, GoPeerFile};
use crate::provenance::Provenance;
use crate::results::{ResultsFile, ScenarioResult};
use crate::seeds::claims::ClaimsFile;
use crate::seeds::{SEEDS_KIND, SeedsFile};

use super::ReportError;

/// One scenario's result and the file it came from.
#[derive(Clone, Debug)]
pub struct ScenarioEntry {
    /// The result file.
    pub file: PathBuf,
    /// The file's provenance.
    pub provenance: Provenance,
    /// The scenario's result.
    pub result: ScenarioResult,
}

impl ScenarioEntry {
    /// The stem of this scenario's chart files: the scenario's name, with the driver when it
    /// is not the thread driver (`status_storm`, `status_storm-tokio`).
    pub fn stem(&self) -> String {
        match self.result.driver {
            crate::results::Driver::Threads => self.result.scenario.name.clone(),
            d => format!("{}-{}", self.result.scenario.name, d.name()),
        }
    }
}

/// Everything the report is made of.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    /// Scenario results, one per scenario and driver, by name.
    pub scenarios: Vec<ScenarioEntry>,
    /// The seeds file and its path, if present.
    pub seeds: Option<(PathBuf, SeedsFile)>,
    /// The Go peer's file and its path, if present (it may say the peer was skipped).
    pub go_peer: Option<(PathBuf, GoPeerFile)>,
    /// The claims, if the file was found.
    pub claims: Option<ClaimsFile>,
    /// Things the reader should know about the inputs (superseded files).
    pub notes: Vec<String>,
}

#[derive(Deserialize)]
struct Header {
    kind: Option<String>,
}

/// Reads every result file in `dir` and the claims at `claims` (optional: without it the
/// pivot-evidence table is left out, and the report says so).
pub fn load(dir: &Path, claims: &Path) -> Result<Inputs, ReportError> {
    let entries = std::fs::read_dir(dir).map_err(|source| ReportError::Read {
        path: dir.to_owned(),
        message: format!(
            "{source}; pass --results DIR holding the files of `harness run`/`harness seeds`, \
             or run `harness reproduce`"
        ),
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let mut inputs = Inputs::default();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(|e| ReportError::Read {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let header: Header = serde_json::from_str(&text).map_err(|e| ReportError::Read {
            path: path.clone(),
            message: format!("not JSON ({e}); remove it from the results directory"),
        })?;
        let bad = |message: String| ReportError::Read {
            path: path.clone(),
            message,
        };
        if header.kind.as_deref() == Some(SEEDS_KIND) {
            let seeds = SeedsFile::from_json(&text).map_err(|e| bad(e.to_string()))?;
            if let Some((old, _)) = &inputs.seeds {
                return Err(bad(format!(
                    "a second seeds file (the first is {}); keep one",
                    old.display()
                )));
            }
            inputs.seeds = Some((path, seeds));
        } else if header.kind.as_deref() == Some(GO_PEER_KIND) {
            let go = GoPeerFile::from_json(&text).map_err(|e| bad(e.to_string()))?;
            if let Some((old, _)) = &inputs.go_peer {
                return Err(bad(format!(
                    "a second Go peer file (the first is {}); keep one",
                    old.display()
                )));
            }
            inputs.go_peer = Some((path, go));
        } else {
            let file = ResultsFile::from_json(&text).map_err(|e| bad(e.to_string()))?;
            for result in file.scenarios {
                add_scenario(&mut inputs, &path, &file.provenance, result);
            }
        }
    }
    if inputs.scenarios.is_empty() && inputs.seeds.is_none() {
        return Err(ReportError::Read {
            path: dir.to_owned(),
            message: "no result files (*.json); run `harness reproduce`, or `harness run \
                      --out DIR/NAME.json` and `harness seeds --out DIR/seeds.json`"
                .into(),
        });
    }
    inputs.scenarios.sort_by_key(|e| e.stem());
    if claims.is_file() {
        inputs.claims = Some(ClaimsFile::load(claims).map_err(|e| ReportError::Read {
            path: claims.to_owned(),
            message: e.to_string(),
        })?);
    }
    Ok(inputs)
}

/// Adds `result`, replacing an older result of the same scenario and driver.
fn add_scenario(inputs: &mut Inputs, path: &Path, provenance: &Provenance, result: ScenarioResult) {
    let entry = ScenarioEntry {
        file: path.to_owned(),
        provenance: provenance.clone(),
        result,
    };
    let stem = entry.stem();
    match inputs.scenarios.iter_mut().find(|e| e.stem() == stem) {
        Some(existing) => {
            let (newer, older) = if entry.provenance.date_utc >= existing.provenance.date_utc {
                (entry, existing.clone())
            } else {
                (existing.clone(), entry)
            };
            inputs.notes.push(format!(
                "{stem}: {} ({}) supersedes {} ({})",
                newer.file.display(),
                newer.provenance.date_utc,
                older.file.display(),
                older.provenance.date_utc
            ));
            *existing = newer;
        }
        None => inputs.scenarios.push(entry),
    }
}
