//! Where scenario files are found: the scenarios directory, a bare name resolved in it, and
//! every file of it. Shared by `harness run`, `harness list` and `harness reproduce`, so that
//! none of those commands depends on another.

use std::path::{Path, PathBuf};

use super::{Scenario, ScenarioError};
use crate::provenance::workspace_root;

/// The scenarios directory could not be listed.
#[derive(Debug, thiserror::Error)]
#[error("cannot list {}: {source}; pass --scenarios-dir DIR", dir.display())]
pub struct ListError {
    /// The directory.
    pub dir: PathBuf,
    /// The OS error.
    pub source: std::io::Error,
}

/// Loading every scenario of a directory failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadAllError {
    /// The directory could not be listed.
    #[error(transparent)]
    List(#[from] ListError),
    /// A file in it is not a valid scenario.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
}

/// The scenarios directory: the one given, else ./scenarios, else the workspace's.
pub fn scenarios_dir(given: Option<&Path>) -> PathBuf {
    if let Some(dir) = given {
        return dir.to_owned();
    }
    let here = PathBuf::from("scenarios");
    if here.is_dir() {
        here
    } else {
        workspace_root().join("scenarios")
    }
}

/// The file `arg` names: a path as given, or `DIR/NAME.toml` for a bare name.
pub fn resolve_scenario(arg: &str, dir: &Path) -> PathBuf {
    let path = PathBuf::from(arg);
    if path.exists() || arg.contains('/') || arg.ends_with(".toml") {
        path
    } else {
        dir.join(format!("{arg}.toml"))
    }
}

/// Every `*.toml` file in `dir`, sorted by name.
pub fn scenario_paths(dir: &Path) -> Result<Vec<PathBuf>, ListError> {
    let entries = std::fs::read_dir(dir).map_err(|source| ListError {
        dir: dir.to_owned(),
        source,
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    Ok(paths)
}

/// Every scenario file in `dir`, sorted by name; an invalid file is an error naming it.
pub fn load_all(dir: &Path) -> Result<Vec<Scenario>, LoadAllError> {
    scenario_paths(dir)?
        .iter()
        .map(|p| Scenario::load(p).map_err(LoadAllError::from))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_names_resolve_in_the_scenarios_dir() {
        let dir = Path::new("/s");
        assert_eq!(
            resolve_scenario("status_storm", dir),
            Path::new("/s/status_storm.toml")
        );
        assert_eq!(resolve_scenario("a/b.toml", dir), Path::new("a/b.toml"));
    }

    #[test]
    fn a_missing_directory_is_named_with_the_option_to_pass() {
        let e = load_all(Path::new("/nonexistent/scenarios")).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("/nonexistent/scenarios"), "{text}");
        assert!(text.contains("--scenarios-dir"), "{text}");
    }
}
