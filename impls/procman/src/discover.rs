//! package.json scripts, offered as processes, run by the package manager the lockfile names.
//!
//! | lockfile beside package.json    | runs as                      |
//! |---------------------------------|------------------------------|
//! | `package-lock.json`             | `npm run SCRIPT -- ARGS…`    |
//! | `pnpm-lock.yaml`                | `pnpm run SCRIPT ARGS…`      |
//! | `yarn.lock`                     | `yarn run SCRIPT ARGS…`      |
//! | `bun.lockb` or `bun.lock`       | `bun run SCRIPT ARGS…`       |
//! | none                            | `npm run SCRIPT -- ARGS…`    |
//!
//! Every run is an argv (`[pm, "run", script]`); extra arguments are appended as argv elements
//! and never pass through a shell. npm needs `--` before them or it would read them as its own
//! options; the others hand everything after the script name to the script.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::{ConfigError, Location};

/// The file procman reads scripts from.
pub const PACKAGE_JSON: &str = "package.json";

/// Lockfiles in the order they are tried, with the package manager each one means.
const LOCKFILES: [(&str, PackageManager); 5] = [
    ("package-lock.json", PackageManager::Npm),
    ("pnpm-lock.yaml", PackageManager::Pnpm),
    ("yarn.lock", PackageManager::Yarn),
    ("bun.lockb", PackageManager::Bun),
    ("bun.lock", PackageManager::Bun),
];

/// A JavaScript package manager that can run package.json scripts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PackageManager {
    /// npm (also the default when there is no lockfile).
    Npm,
    /// pnpm.
    Pnpm,
    /// Yarn.
    Yarn,
    /// Bun.
    Bun,
}

impl PackageManager {
    /// The program to execute.
    pub fn program(self) -> &'static str {
        match self {
            PackageManager::Npm => "npm",
            PackageManager::Pnpm => "pnpm",
            PackageManager::Yarn => "yarn",
            PackageManager::Bun => "bun",
        }
    }

    /// The argv that runs `script`; extra arguments are appended after it.
    pub fn run_argv(self, script: &str) -> Vec<String> {
        vec![self.program().into(), "run".into(), script.into()]
    }

    /// What goes between the script and its extra arguments (npm's `--`).
    pub fn args_separator(self) -> Option<&'static str> {
        match self {
            PackageManager::Npm => Some("--"),
            _ => None,
        }
    }
}

impl fmt::Display for PackageManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.program())
    }
}

/// Which package manager runs the scripts of `dir`, and the lockfile that said so.
pub fn detect_package_manager(dir: &Path) -> (PackageManager, Option<&'static str>) {
    let found: Vec<(&'static str, PackageManager)> = LOCKFILES
        .iter()
        .copied()
        .filter(|(file, _)| dir.join(file).is_file())
        .collect();
    match found.as_slice() {
        [] => (PackageManager::Npm, None),
        [(file, pm), rest @ ..] => {
            if rest.iter().any(|(_, other)| other != pm) {
                tracing::warn!(
                    dir = %dir.display(),
                    chosen = %pm,
                    lockfile = file,
                    "several package managers' lockfiles found; using the first (delete the stale ones)"
                );
            }
            (*pm, Some(*file))
        }
    }
}

/// The scripts of one package.json.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageScripts {
    /// The package.json they came from.
    pub path: PathBuf,
    /// Who runs them.
    pub manager: PackageManager,
    /// The lockfile that chose `manager`, if any.
    pub lockfile: Option<&'static str>,
    /// Script name to its body (shown to users; never executed by procman directly).
    pub scripts: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct PackageJson {
    #[serde(default)]
    scripts: BTreeMap<String, serde_json::Value>,
}

/// Reads the scripts of `dir/package.json`; `None` when there is no package.json.
pub fn discover(dir: &Path) -> Result<Option<PackageScripts>, ConfigError> {
    let path = dir.join(PACKAGE_JSON);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(ConfigError::Read { path, error }),
    };
    let parsed: PackageJson = serde_json::from_str(&text).map_err(|e| {
        let location = Location {
            path: path.clone(),
            line_col: Some((e.line(), e.column())),
        };
        ConfigError::invalid(
            location,
            "scripts",
            e.to_string(),
            "fix the JSON, or set `package_json = false` in [settings] of procman.toml",
        )
    })?;
    let mut scripts = BTreeMap::new();
    for (name, body) in parsed.scripts {
        match body {
            serde_json::Value::String(body) => {
                scripts.insert(name, body);
            }
            other => {
                return Err(ConfigError::invalid(
                    Location::file(&path),
                    format!("scripts.{name}"),
                    format!("expected a string command, found {other}"),
                    "make every entry of \"scripts\" a string",
                ));
            }
        }
    }
    let (manager, lockfile) = detect_package_manager(dir);
    Ok(Some(PackageScripts {
        path,
        manager,
        lockfile,
        scripts,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, body) in files {
            std::fs::write(dir.path().join(name), body).unwrap();
        }
        dir
    }

    #[test]
    fn lockfile_chooses_the_package_manager() {
        for (lock, pm) in [
            ("package-lock.json", PackageManager::Npm),
            ("pnpm-lock.yaml", PackageManager::Pnpm),
            ("yarn.lock", PackageManager::Yarn),
            ("bun.lockb", PackageManager::Bun),
            ("bun.lock", PackageManager::Bun),
        ] {
            let dir = dir_with(&[(lock, "")]);
            assert_eq!(detect_package_manager(dir.path()), (pm, Some(lock)));
        }
        let dir = dir_with(&[]);
        assert_eq!(
            detect_package_manager(dir.path()),
            (PackageManager::Npm, None)
        );
    }

    #[test]
    fn reads_scripts_and_builds_argv() {
        let dir = dir_with(&[
            (
                "package.json",
                r#"{"name":"x","scripts":{"dev":"vite","test":"vitest run"}}"#,
            ),
            ("pnpm-lock.yaml", ""),
        ]);
        let found = discover(dir.path()).unwrap().unwrap();
        assert_eq!(found.manager, PackageManager::Pnpm);
        assert_eq!(found.scripts["dev"], "vite");
        assert_eq!(
            found.manager.run_argv("dev"),
            ["pnpm", "run", "dev"].map(String::from)
        );
        assert_eq!(PackageManager::Npm.args_separator(), Some("--"));
    }

    #[test]
    fn missing_package_json_is_not_an_error() {
        let dir = dir_with(&[]);
        assert!(discover(dir.path()).unwrap().is_none());
    }

    #[test]
    fn broken_package_json_names_file_and_position() {
        let dir = dir_with(&[("package.json", "{\n  \"scripts\": {\"dev\": }\n}")]);
        let e = discover(dir.path()).unwrap_err().to_string();
        assert!(e.contains("package.json:2:"), "{e}");
        assert!(e.contains("package_json = false"), "{e}");
        let dir = dir_with(&[("package.json", r#"{"scripts":{"dev":3}}"#)]);
        let e = discover(dir.path()).unwrap_err().to_string();
        assert!(e.contains("`scripts.dev`"), "{e}");
    }
}
