//! What to run: [`ProcessSpec`] and the pieces it is made of.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::ProcessError;
use crate::signal::Signal;

/// How the child's program is named.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// A program and its arguments, passed to `execvp` as they are: nothing is re-parsed.
    Argv(Vec<String>),
    /// A shell line, run explicitly as `sh -c LINE`. Only when the caller asked for a shell.
    Shell(String),
}

impl Command {
    /// The argv the OS launcher hands to `execvp`.
    pub fn to_argv(&self) -> Vec<String> {
        match self {
            Command::Argv(argv) => argv.clone(),
            Command::Shell(line) => vec!["sh".into(), "-c".into(), line.clone()],
        }
    }
}

/// The environment a child sees.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvSpec {
    /// Start from the manager's environment (true) or from an empty one (false).
    pub inherit: bool,
    /// Variables set (or overridden) for the child.
    pub set: BTreeMap<String, String>,
    /// Variables removed from the inherited environment.
    pub unset: Vec<String>,
}

impl EnvSpec {
    /// Inherit the manager's environment unchanged.
    pub fn inherit() -> Self {
        EnvSpec {
            inherit: true,
            ..EnvSpec::default()
        }
    }
}

/// When a process that ended by itself is started again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartMode {
    /// Never restart.
    #[default]
    Never,
    /// Restart when it exits with a non-zero code or dies of a signal nobody sent through us.
    OnFailure,
    /// Restart whenever it ends by itself.
    Always,
}

/// Restart mode plus exponential backoff and a cap on the number of restarts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestartPolicy {
    /// When to restart.
    pub mode: RestartMode,
    /// Delay before the first automatic restart.
    pub initial_backoff: Duration,
    /// Upper bound on the delay; each restart doubles it up to this.
    pub max_backoff: Duration,
    /// Automatic restarts allowed over the life of the name (manual restarts do not count).
    pub max_restarts: u32,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            mode: RestartMode::Never,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(30),
            max_restarts: 5,
        }
    }
}

impl RestartPolicy {
    /// A policy that never restarts.
    pub fn never() -> Self {
        Self::default()
    }

    /// Whether a natural end (`exit`) should lead to a restart, given `done` automatic restarts so far.
    pub fn wants_restart(&self, exit: &crate::ExitInfo, done: u32) -> bool {
        if done >= self.max_restarts {
            return false;
        }
        match self.mode {
            RestartMode::Never => false,
            RestartMode::Always => true,
            RestartMode::OnFailure => !exit.success(),
        }
    }

    /// The delay before automatic restart number `attempt` (0-based): `initial * 2^attempt`, capped.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.initial_backoff
            .checked_mul(factor)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }
}

/// Everything needed to start (and restart) one named process.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessSpec {
    /// The process's name: unique among live processes of one manager.
    pub name: Arc<str>,
    /// What to execute.
    pub command: Command,
    /// Working directory; `None` keeps the manager's.
    pub cwd: Option<PathBuf>,
    /// Environment.
    pub env: EnvSpec,
    /// The signal a graceful stop sends to the process group.
    pub stop_signal: Signal,
    /// How long a graceful stop waits before SIGKILL.
    pub stop_timeout: Duration,
    /// What happens when the process ends by itself.
    pub restart: RestartPolicy,
}

/// Longest accepted process name, in bytes.
pub const MAX_NAME_LEN: usize = 128;

impl ProcessSpec {
    /// A spec for `argv` with the defaults: inherit env, SIGTERM, 5 s stop timeout, never restart.
    pub fn new<I, S>(name: &str, argv: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ProcessSpec {
            name: Arc::from(name),
            command: Command::Argv(argv.into_iter().map(Into::into).collect()),
            cwd: None,
            env: EnvSpec::inherit(),
            stop_signal: Signal::TERM,
            stop_timeout: Duration::from_secs(5),
            restart: RestartPolicy::never(),
        }
    }

    /// A spec that runs `line` through `sh -c`, asked for explicitly.
    pub fn shell(name: &str, line: &str) -> Self {
        let mut spec = ProcessSpec::new(name, Vec::<String>::new());
        spec.command = Command::Shell(line.to_owned());
        spec
    }

    /// Sets the stop timeout.
    pub fn with_stop_timeout(mut self, timeout: Duration) -> Self {
        self.stop_timeout = timeout;
        self
    }

    /// Sets the stop signal.
    pub fn with_stop_signal(mut self, signal: Signal) -> Self {
        self.stop_signal = signal;
        self
    }

    /// Sets the restart policy.
    pub fn with_restart(mut self, restart: RestartPolicy) -> Self {
        self.restart = restart;
        self
    }

    /// Sets the working directory.
    pub fn with_cwd(mut self, cwd: impl Into<PathBuf>) -> Self {
        self.cwd = Some(cwd.into());
        self
    }

    /// Checks the spec before anything is spawned; the error names the field and the fix.
    pub fn validate(&self) -> Result<(), ProcessError> {
        let invalid = |reason: String| ProcessError::InvalidSpec {
            name: self.name.to_string(),
            reason,
        };
        if self.name.trim().is_empty() {
            return Err(invalid(
                "the name is empty; give every process a non-empty name".into(),
            ));
        }
        if self.name.len() > MAX_NAME_LEN {
            return Err(invalid(format!(
                "the name is {} bytes long; use at most {MAX_NAME_LEN}",
                self.name.len()
            )));
        }
        if self.name.chars().any(char::is_control) {
            return Err(invalid(
                "the name contains control characters; use printable characters only".into(),
            ));
        }
        match &self.command {
            Command::Argv(argv) if argv.is_empty() => {
                return Err(invalid(
                    "argv is empty; name the program to run as its first element".into(),
                ));
            }
            Command::Argv(argv) if argv[0].is_empty() => {
                return Err(invalid(
                    "argv[0] is empty; name the program to run as its first element".into(),
                ));
            }
            Command::Shell(line) if line.trim().is_empty() => {
                return Err(invalid(
                    "the shell line is empty; give the command to run".into(),
                ));
            }
            _ => {}
        }
        if self.restart.initial_backoff > self.restart.max_backoff {
            return Err(invalid(
                "restart.initial_backoff exceeds restart.max_backoff; make the initial delay the smaller".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ExitInfo;

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RestartPolicy {
            mode: RestartMode::Always,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(700),
            max_restarts: 10,
        };
        assert_eq!(p.backoff(0), Duration::from_millis(100));
        assert_eq!(p.backoff(1), Duration::from_millis(200));
        assert_eq!(p.backoff(2), Duration::from_millis(400));
        assert_eq!(p.backoff(3), Duration::from_millis(700));
        assert_eq!(p.backoff(40), Duration::from_millis(700));
    }

    #[test]
    fn restart_modes() {
        let mut p = RestartPolicy::default();
        let ok = ExitInfo::Code(0);
        let bad = ExitInfo::Code(3);
        assert!(!p.wants_restart(&bad, 0));
        p.mode = RestartMode::OnFailure;
        assert!(p.wants_restart(&bad, 0));
        assert!(!p.wants_restart(&ok, 0));
        assert!(!p.wants_restart(&bad, p.max_restarts));
        p.mode = RestartMode::Always;
        assert!(p.wants_restart(&ok, 0));
    }

    #[test]
    fn validation_names_the_problem() {
        let err = ProcessSpec::new("", ["x"]).validate().unwrap_err();
        assert!(err.to_string().contains("name is empty"), "{err}");
        let err = ProcessSpec::new("a", Vec::<String>::new())
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("argv is empty"), "{err}");
        let err = ProcessSpec::shell("a", "  ").validate().unwrap_err();
        assert!(err.to_string().contains("shell line is empty"), "{err}");
        assert!(ProcessSpec::new("a", ["true"]).validate().is_ok());
    }
}
