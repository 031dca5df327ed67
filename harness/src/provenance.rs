//! What a result needs to be trusted: the source revision, the toolchain and crate versions
//! that built the harness, the machine it ran on, and when.
//!
//! The toolchain, profile and crate versions are baked in at build time (build.rs reads
//! `rustc -V` and the workspace Cargo.lock); the rest is read when the run starts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// Where the result came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// `git rev-parse HEAD` of the workspace (`None` outside a git checkout).
    pub git_commit: Option<String>,
    /// Whether `git status --porcelain` listed changes (tracked or untracked).
    pub git_dirty: Option<bool>,
    /// `rustc -V` of the compiler that built the harness.
    pub rustc: String,
    /// Cargo profile of the build (`release`, `debug`); figures from a debug build are not
    /// representative.
    pub build_profile: String,
    /// Versions from Cargo.lock of the crates the designs stand on.
    pub crates: BTreeMap<String, String>,
    /// The harness's own version.
    pub harness_version: String,
    /// `model name` from /proc/cpuinfo.
    pub cpu_model: String,
    /// Logical CPUs available to this process.
    pub logical_cpus: usize,
    /// `uname -srvm`.
    pub os: String,
    /// When the run started, UTC, ISO-8601 (`2026-01-31T12:00:00Z`).
    pub date_utc: String,
}

impl Provenance {
    /// Collects it now, for the workspace at `root`.
    pub fn collect(root: &Path) -> Provenance {
        let git = |args: &[&str]| -> Option<String> {
            let out = Command::new("git")
                .args(args)
                .current_dir(root)
                .output()
                .ok()?;
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        };
        let git_commit = git(&["rev-parse", "HEAD"]);
        let git_dirty = git_commit
            .as_ref()
            .and_then(|_| git(&["status", "--porcelain"]))
            .map(|s| !s.is_empty());
        Provenance {
            git_commit,
            git_dirty,
            rustc: env!("PROCMAN_HARNESS_RUSTC").into(),
            build_profile: env!("PROCMAN_HARNESS_PROFILE").into(),
            crates: locked_crates(),
            harness_version: env!("CARGO_PKG_VERSION").into(),
            cpu_model: cpu_model().unwrap_or_else(|| "unknown".into()),
            logical_cpus: std::thread::available_parallelism().map_or(1, usize::from),
            os: uname().unwrap_or_else(|| std::env::consts::OS.into()),
            date_utc: iso8601_utc(SystemTime::now()),
        }
    }

    /// One line for table headers.
    pub fn summary(&self) -> String {
        let commit = self
            .git_commit
            .as_deref()
            .map_or("no git", |c| &c[..c.len().min(10)]);
        let dirty = if self.git_dirty == Some(true) {
            "+dirty"
        } else {
            ""
        };
        format!(
            "{} · {} cpus · {} · {} ({}) · {commit}{dirty} · {}",
            self.cpu_model,
            self.logical_cpus,
            self.os,
            self.rustc,
            self.build_profile,
            self.date_utc
        )
    }
}

/// The workspace root this harness was built in (the parent of the harness crate).
pub fn workspace_root() -> PathBuf {
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    if built.join("Cargo.toml").exists() {
        built.canonicalize().unwrap_or(built)
    } else {
        PathBuf::from(".")
    }
}

/// The crate versions baked in by build.rs (`name=version,...`).
fn locked_crates() -> BTreeMap<String, String> {
    env!("PROCMAN_HARNESS_LOCKED")
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
}

fn uname() -> Option<String> {
    let out = Command::new("uname").arg("-srvm").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// `t` as `YYYY-MM-DDTHH:MM:SSZ` (RFC 3339, UTC, whole seconds).
pub fn iso8601_utc(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `t` as `YYYYMMDDTHHMMSSZ`, for file names.
pub fn compact_utc(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t)
        .format("%Y%m%dT%H%M%SZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn iso8601_of_known_instants() {
        let at = |s: u64| iso8601_utc(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_738_327_530), "2025-01-31T12:45:30Z");
        assert_eq!(at(4_102_444_799), "2099-12-31T23:59:59Z");
        assert_eq!(
            compact_utc(UNIX_EPOCH + Duration::from_secs(1_738_327_530)),
            "20250131T124530Z"
        );
    }

    #[test]
    fn collects_what_the_build_baked_in() {
        let p = Provenance::collect(&workspace_root());
        assert!(p.rustc.starts_with("rustc "), "{}", p.rustc);
        for name in ["parking_lot", "arc-swap", "dashmap", "flume", "tokio"] {
            let v = p.crates.get(name).map(String::as_str);
            assert!(v.is_some_and(|v| v != "absent"), "{name}: {v:?}");
        }
        assert!(p.logical_cpus >= 1);
        assert!(p.date_utc.ends_with('Z'));
        assert!(!p.summary().is_empty());
    }
}
