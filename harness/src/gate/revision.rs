//! The two revisions the A/B gate compares: which commit is the base, a git worktree of it
//! under `target/gate/base`, and a release build of the probe from each side.
//!
//! The base builds into a target directory of its own (`target/gate/base-target`), kept between
//! runs, so a second gate run rebuilds only what changed. It cannot share the workspace's: cargo
//! names a workspace member's artifacts after its path *relative to the workspace root*, which
//! is the same in the worktree, so the two revisions' crates would overwrite each other's
//! artifacts and fingerprints (and a stale probe could pass for a fresh one). The *dependencies*
//! (crates from the registry) do not collide, so a base target directory that was never built
//! is first given copies of the head build's ([`seed_base_target`]): on a fresh clone the
//! dependencies are compiled once, not twice.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::GateError;
use super::probe::{Probe, kept_path};

/// Why there is no base revision to compare with (the gate then runs the baseline mode).
#[derive(Debug, thiserror::Error)]
pub enum NoBase {
    /// Not a git checkout, or git is missing.
    #[error("this is not a git checkout ({0})")]
    NotGit(#[source] GitError),
    /// The base's worktree could not be made or moved to the base commit.
    #[error("cannot make the base worktree at {}: {source}", path.display())]
    Worktree {
        /// Where the worktree goes (`target/gate/base`).
        path: PathBuf,
        /// What git said.
        source: GitError,
    },
    /// A stale worktree folder could not be removed.
    #[error("cannot remove the stale worktree {}: {source}; delete it by hand", path.display())]
    StaleWorktree {
        /// The folder.
        path: PathBuf,
        /// The filesystem's answer.
        source: std::io::Error,
    },
    /// The revision does not resolve (a shallow clone, a clone with one commit, a typo).
    #[error(
        "revision {rev:?} does not exist here ({source}){shallow}",
        shallow = if *.shallow { "; this is a shallow clone: fetch the history (`git fetch --unshallow`, or `fetch-depth: 0` in GitHub Actions)" } else { "" }
    )]
    Unresolved {
        /// What was asked for.
        rev: String,
        /// git's words.
        source: GitError,
        /// Whether the clone is shallow.
        shallow: bool,
    },
    /// The base revision predates the probe, or speaks another protocol.
    #[error("base revision {sha} has no gate probe that this harness can drive ({detail})")]
    NoProbe {
        /// The base commit.
        sha: String,
        /// Why.
        detail: String,
    },
    /// The base revision's probe does not build.
    #[error("the probe of base revision {sha} does not build: {detail}")]
    BuildFailed {
        /// The base commit.
        sha: String,
        /// cargo's last words.
        detail: String,
    },
}

/// A git command that could not run or did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// git could not be started (not installed, not on `PATH`).
    #[error("cannot run git: {0}; install git or put it on PATH")]
    Spawn(#[source] std::io::Error),
    /// git ran and failed.
    #[error("`git {args}` failed: {stderr}")]
    Failed {
        /// The arguments, space-separated.
        args: String,
        /// git's error output, trimmed.
        stderr: String,
    },
}

fn git(root: &Path, args: &[&str]) -> Result<String, GitError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(GitError::Spawn)?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(GitError::Failed {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        })
    }
}

/// The base commit: `requested` if given, else the merge-base of `HEAD` with the default branch
/// (`origin/HEAD`, else a local `main` or `master`), else `HEAD~1` — and `HEAD~1` too when that
/// merge-base is `HEAD` itself (a run on the default branch compares its last commit). Returns
/// the full sha and how it was chosen.
pub fn resolve_base(root: &Path, requested: Option<&str>) -> Result<(String, String), NoBase> {
    let head = git(root, &["rev-parse", "--verify", "HEAD^{commit}"]).map_err(NoBase::NotGit)?;
    let shallow = git(root, &["rev-parse", "--is-shallow-repository"]).is_ok_and(|s| s == "true");
    let resolve = |rev: &str| {
        git(
            root,
            &["rev-parse", "--verify", &format!("{rev}^{{commit}}")],
        )
        .map_err(|source| NoBase::Unresolved {
            rev: rev.to_owned(),
            source,
            shallow,
        })
    };
    if let Some(rev) = requested {
        return Ok((resolve(rev)?, format!("--base {rev}")));
    }
    let default_branch = git(
        root,
        &[
            "symbolic-ref",
            "--quiet",
            "--short",
            "refs/remotes/origin/HEAD",
        ],
    )
    .ok()
    .or_else(|| {
        ["main", "master"]
            .into_iter()
            .find(|b| git(root, &["rev-parse", "--verify", &format!("refs/heads/{b}")]).is_ok())
            .map(str::to_owned)
    });
    if let Some(branch) = default_branch
        && let Ok(mb) = git(root, &["merge-base", "HEAD", &branch])
        && mb != head
    {
        return Ok((mb, format!("merge-base of HEAD and {branch}")));
    }
    Ok((resolve("HEAD~1")?, "HEAD~1".into()))
}

/// A short sha for messages.
pub fn short(sha: &str) -> &str {
    &sha[..sha.len().min(10)]
}

/// The workspace's target directory (`CARGO_TARGET_DIR`, else `<root>/target`).
pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { root.join(p) })
        .unwrap_or_else(|| root.join("target"))
}

/// Checks out `sha` in the worktree `target/gate/base` (made or moved there) and returns it.
pub fn checkout_base(root: &Path, sha: &str) -> Result<PathBuf, NoBase> {
    let worktree = target_dir(root).join("gate").join("base");
    let has_probe = git(
        root,
        &["cat-file", "-e", &format!("{sha}:probe/Cargo.toml")],
    )
    .is_ok();
    if !has_probe {
        return Err(NoBase::NoProbe {
            sha: short(sha).into(),
            detail: "it has no probe/ crate; it predates the A/B gate".into(),
        });
    }
    let not_git = |source| NoBase::Worktree {
        path: worktree.clone(),
        source,
    };
    // A worktree whose folder was deleted (a `cargo clean`) is still registered: forget it.
    git(root, &["worktree", "prune"]).map_err(not_git)?;
    if worktree.join(".git").exists() {
        git(
            &worktree,
            &["checkout", "--quiet", "--detach", "--force", sha],
        )
        .map_err(not_git)?;
    } else {
        if worktree.exists() {
            std::fs::remove_dir_all(&worktree).map_err(|source| NoBase::StaleWorktree {
                path: worktree.clone(),
                source,
            })?;
        }
        let path = worktree.display().to_string();
        git(
            root,
            &[
                "worktree", "add", "--quiet", "--detach", "--force", &path, sha,
            ],
        )
        .map_err(not_git)?;
    }
    Ok(worktree)
}

/// The target directory the base revision builds into.
pub fn base_target_dir(root: &Path) -> PathBuf {
    target_dir(root).join("gate").join("base-target")
}

/// Gives a base target directory that was never built copies of the head's compiled
/// dependencies (`target/release/{deps,.fingerprint,build}`, less the workspace's own crates,
/// whose artifacts would collide), so that the base build compiles only the workspace's crates.
/// Returns the files copied (0 when the base target exists already or the head has not been
/// built).
pub fn seed_base_target(root: &Path) -> std::io::Result<u64> {
    seed_release_dir(
        &target_dir(root).join("release"),
        &base_target_dir(root).join("release"),
    )
}

/// [`seed_base_target`] from the release directory `from` into `to`. Copies keep their
/// modification times, and are never hard links: a rebuild on one side must not change the
/// other's files. The copy is made beside `to` and renamed into place when complete, so a
/// failed copy leaves nothing half-written for cargo to trust.
fn seed_release_dir(from: &Path, to: &Path) -> std::io::Result<u64> {
    if to.exists() || !from.is_dir() {
        return Ok(0);
    }
    let partial = to.with_extension("seeding");
    if partial.exists() {
        std::fs::remove_dir_all(&partial)?;
    }
    let copied = (|| {
        let mut copied = 0;
        for sub in ["deps", ".fingerprint", "build"] {
            if from.join(sub).is_dir() {
                copied += copy_dependencies(&from.join(sub), &partial.join(sub), true)?;
            }
        }
        std::fs::rename(&partial, to)?;
        Ok(copied)
    })();
    if copied.is_err() {
        let _ = std::fs::remove_dir_all(&partial);
    }
    copied
}

/// Whether an entry of `deps`, `.fingerprint` or `build` belongs to one of the workspace's own
/// crates (`procman-*` and the probe: `libprocman_core-….rlib`, `procman-core-…/`,
/// `gate_probe-…`).
fn is_workspace_artifact(name: &str) -> bool {
    let name = name.strip_prefix("lib").unwrap_or(name);
    ["procman", "gate_probe", "gate-probe"]
        .iter()
        .any(|prefix| name.starts_with(prefix))
}

/// Copies `from` into `to`, keeping modification times; at the top level, skips the workspace's
/// own artifacts.
fn copy_dependencies(from: &Path, to: &Path, top: bool) -> std::io::Result<u64> {
    std::fs::create_dir_all(to)?;
    let mut copied = 0;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if top && is_workspace_artifact(&name.to_string_lossy()) {
            continue;
        }
        let (source, target) = (entry.path(), to.join(&name));
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copied += copy_dependencies(&source, &target, false)?;
        } else if kind.is_file() {
            std::fs::copy(&source, &target)?;
            let modified = entry.metadata()?.modified()?;
            std::fs::File::options()
                .write(true)
                .open(&target)?
                .set_modified(modified)?;
            copied += 1;
        }
    }
    Ok(copied)
}

/// Builds the probe of the workspace at `source` in release mode (with `features`, if any) into
/// `build_dir`, and keeps a copy as `target/gate/<label>-gate-probe`.
pub fn build_probe(
    root: &Path,
    source: &Path,
    build_dir: &Path,
    label: &str,
    features: Option<&str>,
) -> Result<Probe, GateError> {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.args(["build", "--release", "--locked", "-p", "procman-gate-probe"])
        .args([
            "--bin",
            "gate-probe",
            "--message-format=json-render-diagnostics",
        ])
        .arg("--manifest-path")
        .arg(source.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(build_dir)
        .stdin(Stdio::null())
        // cargo's progress and any compile error go straight to the user.
        .stderr(Stdio::inherit());
    if let Some(f) = features.filter(|f| !f.is_empty()) {
        cmd.args(["--features", f]);
    }
    let out = cmd.output().map_err(|e| GateError::Build {
        label: label.into(),
        detail: format!("cannot run cargo: {e}"),
    })?;
    if !out.status.success() {
        return Err(GateError::Build {
            label: label.into(),
            detail: format!("cargo exited with {}; its messages are above", out.status),
        });
    }
    let built = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "gate-probe")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| GateError::Build {
            label: label.into(),
            detail: "cargo reported no gate-probe executable".into(),
        })?;
    let kept = kept_path(&target_dir(root), label);
    if let Some(dir) = kept.parent() {
        std::fs::create_dir_all(dir).map_err(|e| GateError::io(dir, e))?;
    }
    std::fs::copy(&built, &kept).map_err(|e| GateError::io(&kept, e))?;
    let probe = Probe {
        label: label.into(),
        path: kept,
    };
    probe.check_protocol()?;
    Ok(probe)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "--quiet", "--initial-branch=main"]).unwrap();
        git(root, &["config", "user.email", "gate@test"]).unwrap();
        git(root, &["config", "user.name", "gate"]).unwrap();
        dir
    }

    fn commit(root: &Path, name: &str) -> String {
        std::fs::write(root.join(name), name).unwrap();
        git(root, &["add", name]).unwrap();
        git(root, &["commit", "--quiet", "-m", name]).unwrap();
        git(root, &["rev-parse", "HEAD"]).unwrap()
    }

    #[test]
    fn a_fresh_base_target_gets_the_dependencies_but_not_the_workspace_crates() {
        let dir = tempfile::tempdir().unwrap();
        let head = dir.path().join("release");
        let files = [
            "deps/libparking_lot-0a1b.rlib",
            "deps/libprocman_core-0a1b.rlib",
            "deps/procman_atomic-0a1b.d",
            "deps/gate_probe-0a1b",
            "deps/libprocman_gate_probe-0a1b.rlib",
            ".fingerprint/dashmap-0a1b/lib-dashmap",
            ".fingerprint/procman-core-0a1b/lib-procman_core",
            "build/parking_lot_core-0a1b/output",
        ];
        for file in files {
            let path = head.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, file).unwrap();
        }
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        std::fs::File::options()
            .write(true)
            .open(head.join("deps/libparking_lot-0a1b.rlib"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        let base = dir.path().join("base-target").join("release");
        assert_eq!(seed_release_dir(&head, &base).unwrap(), 3);
        for kept in [
            "deps/libparking_lot-0a1b.rlib",
            ".fingerprint/dashmap-0a1b/lib-dashmap",
            "build/parking_lot_core-0a1b/output",
        ] {
            assert_eq!(std::fs::read_to_string(base.join(kept)).unwrap(), kept);
        }
        for skipped in [
            "deps/libprocman_core-0a1b.rlib",
            "deps/procman_atomic-0a1b.d",
            "deps/gate_probe-0a1b",
            "deps/libprocman_gate_probe-0a1b.rlib",
            ".fingerprint/procman-core-0a1b",
        ] {
            assert!(
                !base.join(skipped).exists(),
                "{skipped} must be built by the base"
            );
        }
        let copied = std::fs::metadata(base.join("deps/libparking_lot-0a1b.rlib")).unwrap();
        assert_eq!(
            copied.modified().unwrap(),
            old,
            "modification times are kept"
        );
        assert!(!base.with_extension("seeding").exists());
        // A base target that exists is left alone, and so is a missing head build.
        assert_eq!(seed_release_dir(&head, &base).unwrap(), 0);
        let other = dir.path().join("other").join("release");
        assert_eq!(
            seed_release_dir(&dir.path().join("nothing"), &other).unwrap(),
            0
        );
        assert!(!other.exists());
    }

    #[test]
    fn a_single_commit_has_no_base() {
        let dir = repo();
        commit(dir.path(), "a");
        let err = resolve_base(dir.path(), None).unwrap_err();
        assert!(
            matches!(err, NoBase::Unresolved { ref rev, .. } if rev == "HEAD~1"),
            "{err}"
        );
        assert!(err.to_string().contains("HEAD~1"), "{err}");
    }

    #[test]
    fn on_the_default_branch_the_base_is_the_previous_commit() {
        let dir = repo();
        let first = commit(dir.path(), "a");
        commit(dir.path(), "b");
        let (sha, how) = resolve_base(dir.path(), None).unwrap();
        assert_eq!((sha.as_str(), how.as_str()), (first.as_str(), "HEAD~1"));
    }

    #[test]
    fn on_a_branch_the_base_is_the_merge_base() {
        let dir = repo();
        let root = dir.path();
        commit(root, "a");
        let fork = commit(root, "b");
        git(root, &["checkout", "--quiet", "-b", "feature"]).unwrap();
        commit(root, "c");
        commit(root, "d");
        let (sha, how) = resolve_base(root, None).unwrap();
        assert_eq!(sha, fork);
        assert!(how.contains("merge-base"), "{how}");
        let (sha, _) = resolve_base(root, Some("HEAD~1")).unwrap();
        assert_ne!(sha, fork);
        assert!(resolve_base(root, Some("no-such-rev")).is_err());
    }

    #[test]
    fn a_base_without_the_probe_is_refused_by_name() {
        let dir = repo();
        let sha = commit(dir.path(), "a");
        let err = checkout_base(dir.path(), &sha).unwrap_err();
        assert!(err.to_string().contains("predates the A/B gate"), "{err}");
    }
}
