//! Starting the child: the command line, working directory, environment and pipes of a
//! [`ProcessSpec`], and spawn errors that name the path and the OS error.

use std::fs;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

use super::contain::{RUN_MARKER, join_cgroup};
use crate::launcher::LaunchError;
use crate::spec::{EnvSpec, ProcessSpec};

/// A child that exists: the leader of its own process group, with the read ends of its output.
#[derive(Debug)]
pub(super) struct Spawned {
    /// Its pid, which is also its process group id.
    pub(super) pid: libc::pid_t,
    /// Read end of its stdout pipe (close-on-exec, blocking).
    pub(super) stdout: OwnedFd,
    /// Read end of its stderr pipe (close-on-exec, blocking).
    pub(super) stderr: OwnedFd,
}

/// Spawns `spec`: argv as given (or `sh -c LINE` for a shell line), stdin from `/dev/null`,
/// stdout and stderr into pipes, in a new process group it leads, with `marker` as the value
/// of [`RUN_MARKER`] in its environment and, when `cgroup_procs` is an open `cgroup.procs`,
/// moved into that cgroup before it execs (so everything it starts is born inside).
///
/// Ignored signal dispositions of this process are inherited across exec (POSIX), except
/// SIGPIPE, which the standard library resets to the default for children.
pub(super) fn spawn(
    spec: &ProcessSpec,
    marker: &str,
    cgroup_procs: Option<i32>,
) -> Result<Spawned, LaunchError> {
    let argv = spec.command.to_argv();
    let Some((program, args)) = argv.split_first() else {
        return Err(LaunchError(format!(
            "cannot start {:?}: the command is empty; name the program to run",
            spec.name
        )));
    };
    if let Some(cwd) = &spec.cwd {
        check_cwd(cwd)?;
    }
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    if let Some(cwd) = &spec.cwd {
        cmd.current_dir(cwd);
    }
    apply_env(&mut cmd, &spec.env);
    cmd.env(RUN_MARKER, marker);
    if let Some(fd) = cgroup_procs {
        // SAFETY: the closure calls only write(2), async-signal-safe, on a descriptor that
        // stays open until `spawn` returns.
        unsafe {
            cmd.pre_exec(move || join_cgroup(fd));
        }
    }
    let mut child = cmd.spawn().map_err(|e| spawn_error(program, &e))?;
    let pid = libc::pid_t::try_from(child.id()).expect("Linux pids fit in pid_t");
    // The standard library returns the pipes it was asked to create.
    let stdout = OwnedFd::from(child.stdout.take().expect("stdout was piped"));
    let stderr = OwnedFd::from(child.stderr.take().expect("stderr was piped"));
    // Dropping `child` neither waits for nor kills it; the launcher reaps the pid itself.
    drop(child);
    Ok(Spawned {
        pid,
        stdout,
        stderr,
    })
}

/// Builds the environment: empty unless inherited, then `unset` removed, then `set` applied (so
/// a name both unset and set ends up set).
fn apply_env(cmd: &mut Command, env: &EnvSpec) {
    if !env.inherit {
        cmd.env_clear();
    }
    for name in &env.unset {
        cmd.env_remove(name);
    }
    cmd.envs(&env.set);
}

/// Checks the working directory before the spawn, so that its error names the directory rather
/// than the program (a failed `chdir` in the child reports only an errno).
fn check_cwd(cwd: &Path) -> Result<(), LaunchError> {
    let fail = |why: String| {
        Err(LaunchError(format!(
            "cannot use working directory {cwd:?}: {why}"
        )))
    };
    match fs::metadata(cwd) {
        Err(e) => fail(format!("{e}; create it or fix the process's cwd")),
        Ok(meta) if !meta.is_dir() => {
            fail("it is not a directory; point cwd at a directory".to_owned())
        }
        Ok(_) => match nix::unistd::access(cwd, nix::unistd::AccessFlags::X_OK) {
            Ok(()) => Ok(()),
            Err(errno) => fail(format!(
                "{}; grant search (x) permission on it or choose another directory",
                io::Error::from(errno)
            )),
        },
    }
}

/// The error for a failed spawn, naming the program, the OS error and what to check.
fn spawn_error(program: &str, err: &io::Error) -> LaunchError {
    let hint = match err.kind() {
        io::ErrorKind::NotFound if program.contains('/') => "; check the path",
        io::ErrorKind::NotFound => "; check the program name and PATH",
        io::ErrorKind::PermissionDenied => {
            "; check that it is an executable file (chmod +x) in a directory you may search"
        }
        _ => "",
    };
    LaunchError(format!("cannot run {program:?}: {err}{hint}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_program_names_it_and_the_os_error() {
        let err = spawn(
            &ProcessSpec::new("a", ["procman-no-such-program"]),
            "t",
            None,
        )
        .unwrap_err();
        assert_eq!(
            err.0,
            "cannot run \"procman-no-such-program\": No such file or directory (os error 2); \
             check the program name and PATH"
        );
    }

    #[test]
    fn a_missing_cwd_names_the_directory() {
        let spec = ProcessSpec::new("a", ["true"]).with_cwd("/procman/no/such/dir");
        let err = spawn(&spec, "t", None).unwrap_err();
        assert!(
            err.0.starts_with(
                "cannot use working directory \"/procman/no/such/dir\": \
                 No such file or directory (os error 2)"
            ),
            "{err}"
        );
    }

    #[test]
    fn a_file_as_cwd_is_refused() {
        let spec = ProcessSpec::new("a", ["true"]).with_cwd("/proc/self/stat");
        let err = spawn(&spec, "t", None).unwrap_err();
        assert!(err.0.contains("is not a directory"), "{err}");
    }
}
