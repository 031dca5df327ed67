//! `procman.toml`: the file format, how it is found, and the errors that point into it.
//!
//! The raw types here mirror the file one to one (`deny_unknown_fields` everywhere, so a typo
//! is an error rather than a silently ignored key); [`crate::catalog`] turns them into
//! [`procman_core::ProcessSpec`]s and checks what serde cannot (a command *or* a shell line,
//! regexes that compile, a `cwd` that exists).
//!
//! ```toml
//! [settings]
//! log_lines = 10000          # lines kept per process (oldest dropped first)
//! log_bytes = 4194304        # bytes kept per process
//! max_processes = 64         # processes procman will hold at once
//! package_json = true        # also offer the scripts of ./package.json
//! history_runs = 5           # runs kept per process after a restart, with their output
//! history_bytes = 16777216   # bytes of output kept over all those runs
//!
//! [processes.api]
//! command = ["cargo", "run", "-p", "api"]   # argv: passed to exec as is, never re-parsed
//! cwd = "backend"                            # relative to this file's directory
//! env = { RUST_LOG = "info", PORT = "8080" }
//! ready = "listening on"                     # regex; wait_for_log's default pattern
//! restart = "on-failure"                     # never | on-failure | always
//!
//! [scripts.dev]                             # a package.json script: its command stays
//! ready = "Local:.*http"                     # `npm run dev`; only these keys may be set
//! env = { PORT = "5173" }                    # (plus description, stop_signal, backoff_ms,
//! restart = "on-failure"                     #  max_backoff_ms, max_restarts)
//! stop_timeout_ms = 3000
//!
//! [processes.assets]
//! shell = "npx tailwindcss -i in.css -o out.css --watch"   # explicitly through `sh -c`
//! stop_signal = "INT"
//! stop_timeout_ms = 2000
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use procman_core::{RestartMode, Signal};
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// The file name procman looks for.
pub const CONFIG_FILE_NAME: &str = "procman.toml";

/// The whole `procman.toml`. It serialises back to TOML too, so that a program writing a
/// configuration (the harness's MCP driver) uses these types rather than a copy of the schema.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `[settings]`: limits and discovery switches shared by every process.
    #[serde(default)]
    pub settings: Settings,
    /// `[processes.NAME]`: one table per process, keyed by its name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub processes: BTreeMap<Spanned<String>, ProcessConfig>,
    /// `[scripts.NAME]`: settings for the package.json script NAME, whose command stays the
    /// package manager's (`npm run NAME`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub scripts: BTreeMap<Spanned<String>, ScriptConfig>,
}

/// `[scripts.NAME]`: what procman.toml may say about a package.json script. Every key is
/// optional; those absent keep their defaults (as for `[processes.NAME]`).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptConfig {
    /// Replaces the description (the script body) shown by `scripts_list`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Variables set for the script, on top of procman's own environment.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// The signal a graceful stop sends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<Signal>,
    /// How long a graceful stop waits before SIGKILL, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_timeout_ms: Option<Spanned<u64>>,
    /// When the script is started again after it ends by itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart: Option<RestartMode>,
    /// Delay before the first automatic restart, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_ms: Option<u64>,
    /// Upper bound on the restart delay, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_backoff_ms: Option<u64>,
    /// Automatic restarts allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_restarts: Option<u32>,
    /// The ready line's regex (`wait_for_log`'s default pattern).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<Spanned<String>>,
}

/// `[settings]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Lines of output kept per process; older lines are dropped first.
    pub log_lines: usize,
    /// Bytes of output kept per process.
    pub log_bytes: usize,
    /// Longer lines are cut to this many bytes.
    pub log_line_bytes: usize,
    /// Most processes procman holds at once (a safety limit for agents).
    pub max_processes: usize,
    /// Offer the scripts of the `package.json` beside this file as processes.
    pub package_json: bool,
    /// Runs kept per script, the current one included, with their output (for logs_stream and
    /// logs_search by processId, scripts_why, and scripts_status's previous run).
    pub history_runs: usize,
    /// Bytes of output kept over every run in that history.
    pub history_bytes: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            log_lines: 10_000,
            log_bytes: 4 << 20,
            log_line_bytes: 16 << 10,
            max_processes: 64,
            package_json: true,
            history_runs: 5,
            history_bytes: 16 << 20,
        }
    }
}

/// Upper bounds on the settings, so that a typo cannot ask for terabytes of log.
pub mod limits {
    /// Most lines a log ring may be configured to keep.
    pub const MAX_LOG_LINES: usize = 1_000_000;
    /// Most bytes a log ring may be configured to keep (256 MiB).
    pub const MAX_LOG_BYTES: usize = 256 << 20;
    /// Longest line a log ring may be configured to keep (1 MiB).
    pub const MAX_LOG_LINE_BYTES: usize = 1 << 20;
    /// Most processes that may be configured as the limit.
    pub const MAX_PROCESSES: usize = 4096;
    /// Most runs per script the history may keep.
    pub const MAX_HISTORY_RUNS: usize = 100;
    /// Longest stop timeout (10 minutes).
    pub const MAX_STOP_TIMEOUT_MS: u64 = 600_000;
}

/// `[processes.NAME]`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessConfig {
    /// The program and its arguments, passed to exec as they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Spanned<Vec<String>>>,
    /// A shell line run as `sh -c LINE`: only when a shell is really wanted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<Spanned<String>>,
    /// One line shown by `procman list` and `scripts_list`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Working directory, relative to the directory of `procman.toml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<Spanned<PathBuf>>,
    /// Variables set for the process, on top of procman's own environment.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Start from an empty environment instead of procman's (then only `env` is set).
    #[serde(default)]
    pub clear_env: bool,
    /// The signal a graceful stop sends to the process group.
    #[serde(default = "default_stop_signal")]
    pub stop_signal: Signal,
    /// How long a graceful stop waits before SIGKILL, in milliseconds.
    #[serde(default = "default_stop_timeout_ms")]
    pub stop_timeout_ms: Spanned<u64>,
    /// When a process that ended by itself is started again.
    #[serde(default)]
    pub restart: RestartMode,
    /// Delay before the first automatic restart, in milliseconds; doubled each time.
    #[serde(default = "default_backoff_ms")]
    pub backoff_ms: u64,
    /// Upper bound on the restart delay, in milliseconds.
    #[serde(default = "default_max_backoff_ms")]
    pub max_backoff_ms: u64,
    /// Automatic restarts allowed over procman's life (manual restarts do not count).
    #[serde(default = "default_max_restarts")]
    pub max_restarts: u32,
    /// A regex matched against each output line: the line that says "ready".
    /// `wait_for_log` uses it when no pattern is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<Spanned<String>>,
}

impl ProcessConfig {
    /// The `[processes.NAME]` table that runs `spec` as procman would: its command (argv or
    /// shell line), working directory, environment, stop signal and timeout, and restart policy.
    /// (`EnvSpec::unset` has no key here: procman.toml clears the whole environment or none.)
    pub fn of_spec(spec: &procman_core::ProcessSpec) -> ProcessConfig {
        let (command, shell) = match &spec.command {
            procman_core::Command::Argv(argv) => (Some(Spanned::new(0..0, argv.clone())), None),
            procman_core::Command::Shell(line) => (None, Some(Spanned::new(0..0, line.clone()))),
        };
        let millis = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        ProcessConfig {
            command,
            shell,
            description: None,
            cwd: spec.cwd.clone().map(|cwd| Spanned::new(0..0, cwd)),
            env: spec.env.set.clone(),
            clear_env: !spec.env.inherit,
            stop_signal: spec.stop_signal,
            stop_timeout_ms: Spanned::new(0..0, millis(spec.stop_timeout)),
            restart: spec.restart.mode,
            backoff_ms: millis(spec.restart.initial_backoff),
            max_backoff_ms: millis(spec.restart.max_backoff),
            max_restarts: spec.restart.max_restarts,
            ready: None,
        }
    }
}

fn default_stop_signal() -> Signal {
    Signal::TERM
}

fn default_stop_timeout_ms() -> Spanned<u64> {
    Spanned::new(0..0, 5_000)
}

fn default_backoff_ms() -> u64 {
    500
}

fn default_max_backoff_ms() -> u64 {
    30_000
}

fn default_max_restarts() -> u32 {
    5
}

/// A place in a file: `path:line:column` (1-based), or just the path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub path: PathBuf,
    /// Line and column, when known.
    pub line_col: Option<(usize, usize)>,
}

impl Location {
    /// The whole file, no position.
    pub fn file(path: &Path) -> Self {
        Location {
            path: path.to_owned(),
            line_col: None,
        }
    }

    /// The position of byte `offset` of `text`, the contents of `path`.
    pub fn at(path: &Path, text: &str, offset: usize) -> Self {
        let offset = offset.min(text.len());
        let before = &text[..floor_char_boundary(text, offset)];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Location {
            path: path.to_owned(),
            line_col: Some((line, column)),
        }
    }

    /// The position of a span's start, or the whole file for an empty (defaulted) span.
    pub fn of_span(path: &Path, text: &str, span: std::ops::Range<usize>) -> Self {
        if span.is_empty() && span.start == 0 {
            Location::file(path)
        } else {
            Location::at(path, text, span.start)
        }
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some((line, col)) = self.line_col {
            write!(f, ":{line}:{col}")?;
        }
        Ok(())
    }
}

/// A configuration that procman refuses, naming the file, the key and the fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but cannot be read.
    #[error("cannot read {}: {error}; check that the file exists and is readable", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error (part of the message, not a separate cause).
        error: std::io::Error,
    },
    /// The file was read but a key or value is wrong.
    #[error("{location}: `{key}`: {message}; {fix}")]
    Invalid {
        /// Where.
        location: Location,
        /// The dotted key concerned (`processes.web.command`), or the section.
        key: String,
        /// What is wrong.
        message: String,
        /// What to do about it.
        fix: String,
    },
}

impl ConfigError {
    /// An [`ConfigError::Invalid`] from its parts.
    pub fn invalid(
        location: Location,
        key: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        ConfigError::Invalid {
            location,
            key: key.into(),
            message: message.into(),
            fix: fix.into(),
        }
    }
}

/// A parsed `procman.toml` with what is needed to point into it.
#[derive(Debug)]
pub struct LoadedConfig {
    /// The file it came from.
    pub path: PathBuf,
    /// Its text (for error positions).
    pub text: String,
    /// The parsed contents.
    pub file: ConfigFile,
}

impl LoadedConfig {
    /// The location of a span of this file.
    pub fn location(&self, span: std::ops::Range<usize>) -> Location {
        Location::of_span(&self.path, &self.text, span)
    }

    /// The directory the file is in: the project directory.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }
}

/// Reads and parses the `procman.toml` at `path`.
pub fn load(path: &Path) -> Result<LoadedConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
        path: path.to_owned(),
        error,
    })?;
    let file = parse(path, &text)?;
    Ok(LoadedConfig {
        path: path.to_owned(),
        text,
        file,
    })
}

/// Parses `text`, the contents of `path`, and checks the settings' bounds.
pub fn parse(path: &Path, text: &str) -> Result<ConfigFile, ConfigError> {
    let file: ConfigFile = toml::from_str(text).map_err(|e| toml_error(path, text, &e))?;
    check_settings(path, &file.settings)?;
    Ok(file)
}

fn check_settings(path: &Path, s: &Settings) -> Result<(), ConfigError> {
    let checks: [(&str, usize, usize); 6] = [
        ("log_lines", s.log_lines, limits::MAX_LOG_LINES),
        ("log_bytes", s.log_bytes, limits::MAX_LOG_BYTES),
        (
            "log_line_bytes",
            s.log_line_bytes,
            limits::MAX_LOG_LINE_BYTES,
        ),
        ("max_processes", s.max_processes, limits::MAX_PROCESSES),
        ("history_runs", s.history_runs, limits::MAX_HISTORY_RUNS),
        ("history_bytes", s.history_bytes, limits::MAX_LOG_BYTES),
    ];
    for (key, value, max) in checks {
        if value == 0 || value > max {
            return Err(ConfigError::invalid(
                Location::file(path),
                format!("settings.{key}"),
                format!("{value} is out of range"),
                format!("use a value from 1 to {max}"),
            ));
        }
    }
    Ok(())
}

/// Turns a TOML error into a [`ConfigError`] that names the line, column, key and a fix.
fn toml_error(path: &Path, text: &str, err: &toml::de::Error) -> ConfigError {
    let location = match err.span() {
        Some(span) => Location::at(path, text, span.start),
        None => Location::file(path),
    };
    let key = err
        .span()
        .map(|span| key_at(text, span))
        .unwrap_or_else(|| "(document)".into());
    let message = err.message().trim().to_owned();
    let fix = fix_for(&message);
    ConfigError::invalid(location, key, message, fix)
}

/// The dotted key at `span`: the table header in force there plus the key written at the span.
fn key_at(text: &str, span: std::ops::Range<usize>) -> String {
    let start = floor_char_boundary(text, span.start.min(text.len()));
    let table = text[..start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('[') && !l.starts_with("[[") && l.contains(']'))
        .map(|l| {
            l.trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim()
        })
        .unwrap_or("");
    let end = floor_char_boundary(text, span.end.min(text.len()));
    let at = text[start..end].trim();
    // The span is the key itself (unknown field) or the value (wrong type): then the key is
    // what precedes `=` on the value's line.
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let before_value = text[line_start..start].trim_end();
    let here = if is_bare_key(at) && !before_value.ends_with('=') {
        at
    } else if let Some(key) = before_value.strip_suffix('=') {
        let key = key.trim();
        if is_bare_key(key) { key } else { "" }
    } else {
        ""
    };
    match (table.is_empty(), here.is_empty()) {
        (true, true) => "(top level)".into(),
        (true, false) => here.into(),
        (false, true) => table.into(),
        (false, false) => format!("{table}.{here}"),
    }
}

fn is_bare_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

fn fix_for(message: &str) -> String {
    if message.starts_with("unknown field") {
        "remove the key or correct its spelling to one of the expected keys".into()
    } else if message.starts_with("unknown variant") {
        "use one of the expected values".into()
    } else if message.starts_with("unknown signal") {
        "name a signal such as TERM, INT or HUP".into()
    } else if message.starts_with("invalid type") {
        "give the value the type shown (strings in quotes, argv as [\"prog\", \"arg\"])".into()
    } else if message.contains("duplicate key") {
        "keep one of the two definitions".into()
    } else {
        "fix the TOML syntax at this position".into()
    }
}

/// Finds `procman.toml`: `explicit` if given, else the first one in `start` or its ancestors.
pub fn find(explicit: Option<&Path>, start: &Path) -> Option<PathBuf> {
    if let Some(path) = explicit {
        return Some(path.to_owned());
    }
    start
        .ancestors()
        .map(|dir| dir.join(CONFIG_FILE_NAME))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(Path::new("procman.toml"), text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn parses_the_documented_example() {
        let text = include_str!("../procman.example.toml");
        let file = parse(Path::new("procman.toml"), text).unwrap();
        assert!(file.processes.len() >= 2);
        assert_eq!(file.settings.max_processes, 64);
    }

    #[test]
    fn unknown_key_names_file_line_key_and_fix() {
        let e = err("[processes.web]\ncomand = [\"x\"]\n");
        assert!(
            e.starts_with("procman.toml:2:1: `processes.web.comand`"),
            "{e}"
        );
        assert!(e.contains("unknown field `comand`"), "{e}");
        assert!(e.contains("correct its spelling"), "{e}");
    }

    #[test]
    fn bad_enum_and_signal_values_are_named() {
        let e = err("[processes.web]\ncommand = [\"x\"]\nrestart = \"sometimes\"\n");
        assert!(e.contains("procman.toml:3:"), "{e}");
        assert!(e.contains("on-failure"), "{e}");
        let e = err("[processes.web]\ncommand = [\"x\"]\nstop_signal = \"BOGUS\"\n");
        assert!(e.contains("unknown signal"), "{e}");
    }

    #[test]
    fn wrong_value_types_name_the_key() {
        let e = err("[processes.web]\ncommand = \"x y\"\n");
        assert!(
            e.starts_with("procman.toml:2:11: `processes.web.command`"),
            "{e}"
        );
        assert!(e.contains("argv as"), "{e}");
    }

    #[test]
    fn settings_are_bounded() {
        let e = err("[settings]\nlog_lines = 0\n");
        assert!(e.contains("`settings.log_lines`"), "{e}");
        assert!(e.contains("use a value from 1 to"), "{e}");
        let e = err("[settings]\nlog_sise = 3\n");
        assert!(e.contains("`settings.log_sise`"), "{e}");
    }

    #[test]
    fn syntax_errors_point_at_the_position() {
        let e = err("[processes.web\n");
        assert!(e.starts_with("procman.toml:1:"), "{e}");
    }

    #[test]
    fn locations_count_lines_and_chars() {
        let text = "ab\ncdé\nx";
        let loc = Location::at(Path::new("f"), text, 7);
        assert_eq!(loc.line_col, Some((2, 4)));
        assert_eq!(loc.to_string(), "f:2:4");
    }
}
