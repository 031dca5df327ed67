//! The [`Catalog`]: every script procman may run, from `procman.toml` and package.json.
//!
//! Only what is in the catalog ever runs: MCP clients choose a script by name and may append
//! arguments to its argv, nothing more. A `procman.toml` process shadows a package.json script
//! of the same name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use procman_core::{Command, EnvSpec, LogRingConfig, ManagerConfig, ProcessSpec, RestartPolicy};
use regex::Regex;

use crate::config::{
    self, ConfigError, LoadedConfig, Location, ProcessConfig, ScriptConfig, Settings, limits,
};
use crate::discover::{self, PackageManager, PackageScripts};

/// Where a script was defined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScriptSource {
    /// A `[processes.NAME]` table of procman.toml.
    ProcmanToml,
    /// An entry of package.json's `"scripts"`.
    PackageJson,
}

impl ScriptSource {
    /// The file name, as shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            ScriptSource::ProcmanToml => "procman.toml",
            ScriptSource::PackageJson => "package.json",
        }
    }
}

/// One runnable script.
#[derive(Clone, Debug)]
pub struct Script {
    /// The spec it starts with (no extra arguments).
    pub spec: ProcessSpec,
    /// The "ready" line pattern: `wait_for_log`'s default.
    pub ready: Option<Regex>,
    /// Where it was defined.
    pub source: ScriptSource,
    /// One line for humans: the configured description (may be empty), or the package.json
    /// script body.
    pub description: String,
    /// Inserted between the argv and extra arguments (npm's `--`).
    args_separator: Option<&'static str>,
}

/// Why extra arguments were refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "script {name:?} is a shell line (`shell = ...` in procman.toml), and extra arguments are never \
     passed through a shell; call it without args, or define it with `command = [...]` to accept args"
)]
pub struct ArgsRefused {
    /// The script.
    pub name: String,
}

impl Script {
    /// The script's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// True when extra arguments may be appended (argv commands; not shell lines).
    pub fn accepts_args(&self) -> bool {
        matches!(self.spec.command, Command::Argv(_))
    }

    /// The spec for a run with `args` appended to the argv, each as one argv element.
    pub fn spec_with_args(&self, args: &[String]) -> Result<ProcessSpec, ArgsRefused> {
        if args.is_empty() {
            return Ok(self.spec.clone());
        }
        let Command::Argv(argv) = &self.spec.command else {
            return Err(ArgsRefused {
                name: self.name().to_owned(),
            });
        };
        let mut argv = argv.clone();
        argv.extend(self.args_separator.map(String::from));
        argv.extend(args.iter().cloned());
        let mut spec = self.spec.clone();
        spec.command = Command::Argv(argv);
        Ok(spec)
    }

    /// The command as a shell-quoted line, for display only.
    pub fn command_line(&self) -> String {
        match &self.spec.command {
            Command::Argv(argv) => display_argv(argv),
            Command::Shell(line) => format!("sh -c {}", quote(line)),
        }
    }
}

/// Joins an argv into a line a user could paste into a shell.
pub fn display_argv(argv: &[String]) -> String {
    argv.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ")
}

fn quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// The package.json the catalog read, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageInfo {
    /// Its path.
    pub path: PathBuf,
    /// Who runs its scripts.
    pub manager: PackageManager,
    /// The lockfile that chose the manager.
    pub lockfile: Option<&'static str>,
}

/// Every script procman may run, and the settings they share.
#[derive(Clone, Debug)]
pub struct Catalog {
    scripts: BTreeMap<Arc<str>, Script>,
    /// The procman.toml read, if one was found.
    pub config_path: Option<PathBuf>,
    /// The directory relative paths are resolved against.
    pub project_dir: PathBuf,
    /// `[settings]` (defaults when there is no procman.toml).
    pub settings: Settings,
    /// The package.json read, if any.
    pub package: Option<PackageInfo>,
}

impl Catalog {
    /// Loads the catalog: procman.toml (`explicit`, or found from `cwd` upwards) and the
    /// package.json in the project directory (the one holding procman.toml, else `cwd`).
    pub fn load(explicit: Option<&Path>, cwd: &Path) -> Result<Catalog, ConfigError> {
        let loaded = match config::find(explicit, cwd) {
            Some(path) => Some(config::load(&absolute(&path, cwd))?),
            None => None,
        };
        let project_dir = loaded
            .as_ref()
            .map_or_else(|| cwd.to_owned(), |l| l.dir().to_owned());
        let settings = loaded
            .as_ref()
            .map(|l| l.file.settings.clone())
            .unwrap_or_default();
        let package = if settings.package_json {
            discover::discover(&project_dir)?
        } else {
            None
        };
        Catalog::build(loaded.as_ref(), project_dir, package)
    }

    /// Builds the catalog from an already parsed config and discovered scripts.
    pub fn build(
        loaded: Option<&LoadedConfig>,
        project_dir: PathBuf,
        package: Option<PackageScripts>,
    ) -> Result<Catalog, ConfigError> {
        let mut scripts = BTreeMap::new();
        let package_info = package.as_ref().map(|p| PackageInfo {
            path: p.path.clone(),
            manager: p.manager,
            lockfile: p.lockfile,
        });
        if let Some(pkg) = package {
            for (name, body) in &pkg.scripts {
                let mut spec = ProcessSpec::new(name, pkg.manager.run_argv(name));
                spec.cwd = Some(project_dir.clone());
                if let Err(e) = spec.validate() {
                    tracing::warn!(script = %name, error = %e, "skipping package.json script");
                    continue;
                }
                let script = Script {
                    spec,
                    ready: None,
                    source: ScriptSource::PackageJson,
                    description: body.clone(),
                    args_separator: pkg.manager.args_separator(),
                };
                scripts.insert(Arc::from(name.as_str()), script);
            }
        }
        if let Some(loaded) = loaded {
            for (name, over) in &loaded.file.scripts {
                let Some(script) = scripts.get_mut(name.get_ref().as_str()) else {
                    return Err(no_such_package_script(loaded, name, &scripts));
                };
                apply_script_config(loaded, name, over, script)?;
            }
            for (name, process) in &loaded.file.processes {
                let is_package_script = scripts
                    .get(name.get_ref().as_str())
                    .is_some_and(|s| s.source == ScriptSource::PackageJson);
                let script =
                    script_from_config(loaded, name, process, &project_dir, is_package_script)?;
                if let Some(shadowed) = scripts.insert(Arc::from(name.get_ref().as_str()), script) {
                    tracing::debug!(
                        script = shadowed.name(),
                        "procman.toml process shadows the package.json script of the same name"
                    );
                }
            }
        }
        Ok(Catalog {
            scripts,
            config_path: loaded.map(|l| l.path.clone()),
            project_dir,
            settings: loaded.map(|l| l.file.settings.clone()).unwrap_or_default(),
            package: package_info,
        })
    }

    /// The script called `name`.
    pub fn get(&self, name: &str) -> Option<&Script> {
        self.scripts.get(name)
    }

    /// Every script, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = &Script> {
        self.scripts.values()
    }

    /// How many scripts there are.
    pub fn len(&self) -> usize {
        self.scripts.len()
    }

    /// True when nothing is configured.
    pub fn is_empty(&self) -> bool {
        self.scripts.is_empty()
    }

    /// The bounds of the run history.
    pub fn history_config(&self) -> crate::history::HistoryConfig {
        crate::history::HistoryConfig {
            runs: self.settings.history_runs,
            bytes: self.settings.history_bytes,
            lines_per_run: self.settings.log_lines,
            bytes_per_run: self.settings.log_bytes,
        }
    }

    /// The manager settings: log bounds and the process limit.
    pub fn manager_config(&self) -> ManagerConfig {
        ManagerConfig {
            log_ring: LogRingConfig {
                max_lines: self.settings.log_lines,
                max_bytes: self.settings.log_bytes,
                max_line_bytes: self.settings.log_line_bytes,
            },
            max_processes: self.settings.max_processes,
        }
    }
}

fn absolute(path: &Path, cwd: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_owned()
    } else {
        cwd.join(path)
    }
}

/// `[scripts.NAME]` for a name package.json does not have.
fn no_such_package_script(
    loaded: &LoadedConfig,
    name: &toml::Spanned<String>,
    scripts: &BTreeMap<Arc<str>, Script>,
) -> ConfigError {
    let package: Vec<&str> = scripts
        .values()
        .filter(|s| s.source == ScriptSource::PackageJson)
        .map(Script::name)
        .collect();
    let known = if package.is_empty() {
        "there is no package.json script (no package.json beside procman.toml, or \
         package_json = false)"
            .to_owned()
    } else {
        format!("the package.json scripts are {}", package.join(", "))
    };
    ConfigError::invalid(
        loaded.location(name.span()),
        format!("scripts.{}", name.get_ref()),
        format!(
            "no package.json script is named {:?}; {known}",
            name.get_ref()
        ),
        "name a package.json script, or define a process of your own under \
         [processes.NAME] with `command` or `shell`",
    )
}

/// Applies `[scripts.NAME]` to the package.json script it names.
fn apply_script_config(
    loaded: &LoadedConfig,
    name: &toml::Spanned<String>,
    over: &ScriptConfig,
    script: &mut Script,
) -> Result<(), ConfigError> {
    let key = format!("scripts.{}", name.get_ref());
    let spec = &mut script.spec;
    if let Some(description) = &over.description {
        script.description = description.clone();
    }
    spec.env.set.extend(over.env.clone());
    if let Some(signal) = over.stop_signal {
        spec.stop_signal = signal;
    }
    if let Some(timeout) = &over.stop_timeout_ms {
        let ms = *timeout.get_ref();
        if ms > limits::MAX_STOP_TIMEOUT_MS {
            return Err(ConfigError::invalid(
                loaded.location(timeout.span()),
                format!("{key}.stop_timeout_ms"),
                format!("{ms} ms is too long"),
                format!("use at most {} ms", limits::MAX_STOP_TIMEOUT_MS),
            ));
        }
        spec.stop_timeout = Duration::from_millis(ms);
    }
    if let Some(mode) = over.restart {
        spec.restart.mode = mode;
    }
    if let Some(ms) = over.backoff_ms {
        spec.restart.initial_backoff = Duration::from_millis(ms);
    }
    if let Some(ms) = over.max_backoff_ms {
        spec.restart.max_backoff = Duration::from_millis(ms);
    }
    if let Some(n) = over.max_restarts {
        spec.restart.max_restarts = n;
    }
    if spec.restart.initial_backoff > spec.restart.max_backoff {
        return Err(ConfigError::invalid(
            loaded.location(name.span()),
            format!("{key}.backoff_ms"),
            format!(
                "{} ms exceeds max_backoff_ms ({} ms)",
                spec.restart.initial_backoff.as_millis(),
                spec.restart.max_backoff.as_millis()
            ),
            "make backoff_ms the smaller of the two",
        ));
    }
    if let Some(pattern) = &over.ready {
        script.ready = Some(compile_ready(pattern.get_ref()).map_err(|e| {
            ConfigError::invalid(
                loaded.location(pattern.span()),
                format!("{key}.ready"),
                format!("not a valid regex: {e}"),
                "fix the regex (Rust regex syntax; escape literal characters like `(` with `\\`)",
            )
        })?);
    }
    Ok(())
}

fn script_from_config(
    loaded: &LoadedConfig,
    name: &toml::Spanned<String>,
    p: &ProcessConfig,
    project_dir: &Path,
    is_package_script: bool,
) -> Result<Script, ConfigError> {
    let key = format!("processes.{}", name.get_ref());
    let here = loaded.location(name.span());
    let invalid = |location: Location, field: &str, message: String, fix: &str| {
        let key = if field.is_empty() {
            key.clone()
        } else {
            format!("{key}.{field}")
        };
        ConfigError::invalid(location, key, message, fix)
    };
    let command = match (&p.command, &p.shell) {
        (Some(argv), None) => Command::Argv(argv.get_ref().clone()),
        (None, Some(line)) => Command::Shell(line.get_ref().clone()),
        (Some(argv), Some(_)) => {
            return Err(invalid(
                loaded.location(argv.span()),
                "command",
                "both `command` and `shell` are set".into(),
                "keep `command = [\"prog\", \"arg\"]` (argv, no shell) or `shell = \"...\"`, not both",
            ));
        }
        (None, None) if is_package_script => {
            return Err(invalid(
                here,
                "",
                format!(
                    "no `command` or `shell`, and {:?} is a package.json script",
                    name.get_ref()
                ),
                &format!(
                    "to set ready, env, restart or stop_timeout_ms for the package.json script, \
                     rename the table to [scripts.{}] (a [processes.NAME] table defines a \
                     process of its own and needs `command` or `shell`)",
                    name.get_ref()
                ),
            ));
        }
        (None, None) => {
            return Err(invalid(
                here,
                "",
                "no `command` or `shell`".into(),
                "add `command = [\"prog\", \"arg\"]` (run directly) or `shell = \"...\"` (run by sh -c)",
            ));
        }
    };
    let cwd = match &p.cwd {
        None => project_dir.to_owned(),
        Some(dir) => {
            let path = absolute(dir.get_ref(), project_dir);
            if !path.is_dir() {
                return Err(invalid(
                    loaded.location(dir.span()),
                    "cwd",
                    format!("{} is not a directory", path.display()),
                    "create it, or give a path relative to the directory of procman.toml",
                ));
            }
            path
        }
    };
    let stop_timeout = *p.stop_timeout_ms.get_ref();
    if stop_timeout > limits::MAX_STOP_TIMEOUT_MS {
        return Err(invalid(
            loaded.location(p.stop_timeout_ms.span()),
            "stop_timeout_ms",
            format!("{stop_timeout} ms is too long"),
            &format!("use at most {} ms", limits::MAX_STOP_TIMEOUT_MS),
        ));
    }
    if p.backoff_ms > p.max_backoff_ms {
        return Err(invalid(
            here,
            "backoff_ms",
            format!(
                "{} exceeds max_backoff_ms ({})",
                p.backoff_ms, p.max_backoff_ms
            ),
            "make backoff_ms the smaller of the two",
        ));
    }
    let ready = match &p.ready {
        None => None,
        Some(pattern) => Some(compile_ready(pattern.get_ref()).map_err(|e| {
            invalid(
                loaded.location(pattern.span()),
                "ready",
                format!("not a valid regex: {e}"),
                "fix the regex (Rust regex syntax; escape literal characters like `(` with `\\\\`)",
            )
        })?),
    };
    let spec = ProcessSpec {
        name: Arc::from(name.get_ref().as_str()),
        command,
        cwd: Some(cwd),
        env: EnvSpec {
            inherit: !p.clear_env,
            set: p.env.clone(),
            unset: Vec::new(),
        },
        stop_signal: p.stop_signal,
        stop_timeout: Duration::from_millis(stop_timeout),
        restart: RestartPolicy {
            mode: p.restart,
            initial_backoff: Duration::from_millis(p.backoff_ms),
            max_backoff: Duration::from_millis(p.max_backoff_ms),
            max_restarts: p.max_restarts,
        },
    };
    if let Err(e) = spec.validate() {
        return Err(invalid(
            loaded.location(name.span()),
            "",
            e.to_string(),
            "fix the process definition as the message says",
        ));
    }
    Ok(Script {
        description: p.description.clone().unwrap_or_default(),
        spec,
        ready,
        source: ScriptSource::ProcmanToml,
        args_separator: None,
    })
}

/// Compiles a ready pattern with a bounded program size.
pub fn compile_ready(pattern: &str) -> Result<Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog(toml: &str, package_json: Option<&str>) -> Result<Catalog, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("procman.toml"), toml).unwrap();
        if let Some(pkg) = package_json {
            std::fs::write(dir.path().join("package.json"), pkg).unwrap();
            std::fs::write(dir.path().join("yarn.lock"), "").unwrap();
        }
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let nested = dir.path().join("sub");
        let result = Catalog::load(None, &nested);
        drop(dir);
        result
    }

    #[test]
    fn merges_toml_and_package_json_and_toml_wins() {
        let c = catalog(
            "[processes.dev]\ncommand = [\"sleep\", \"5\"]\nready = \"up\"\n",
            Some(r#"{"scripts":{"dev":"vite","lint":"eslint ."}}"#),
        )
        .unwrap();
        assert_eq!(c.len(), 2);
        let dev = c.get("dev").unwrap();
        assert_eq!(dev.source, ScriptSource::ProcmanToml);
        assert!(dev.ready.as_ref().unwrap().is_match("server up"));
        let lint = c.get("lint").unwrap();
        assert_eq!(lint.source, ScriptSource::PackageJson);
        assert_eq!(lint.command_line(), "yarn run lint");
        assert_eq!(lint.description, "eslint .");
        assert!(c.config_path.is_some());
    }

    #[test]
    fn args_are_appended_as_argv_and_refused_for_shell_lines() {
        let c = catalog(
            "[processes.a]\ncommand = [\"echo\"]\n[processes.b]\nshell = \"echo hi\"\n",
            Some(r#"{"scripts":{"t":"vitest"}}"#),
        )
        .unwrap();
        let args = vec!["; rm -rf /".to_owned(), "$(x)".to_owned()];
        let spec = c.get("a").unwrap().spec_with_args(&args).unwrap();
        assert_eq!(
            spec.command,
            Command::Argv(vec!["echo".into(), "; rm -rf /".into(), "$(x)".into()])
        );
        assert!(c.get("b").unwrap().spec_with_args(&args).is_err());
        assert!(c.get("b").unwrap().spec_with_args(&[]).is_ok());
        let t = c.get("t").unwrap().spec_with_args(&args).unwrap();
        assert_eq!(
            t.command.to_argv()[..3],
            ["yarn", "run", "t"].map(String::from)
        );
    }

    #[test]
    fn semantic_errors_name_the_key_and_fix() {
        let e = catalog("[processes.web]\ncwd = \".\"\n", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains(":1:") && e.contains("`processes.web`"), "{e}");
        assert!(e.contains("add `command"), "{e}");
        let e = catalog("[processes.web]\ncommand = [\"a\"]\nshell = \"a\"\n", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`processes.web.command`"), "{e}");
        let e = catalog("[processes.web]\ncommand = [\"a\"]\nready = \"(\"\n", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains(":3:9: `processes.web.ready`"), "{e}");
        let e = catalog("[processes.web]\ncommand = []\n", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("argv is empty"), "{e}");
        let e = catalog("[processes.web]\ncommand = [\"a\"]\ncwd = \"nope\"\n", None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`processes.web.cwd`") && e.contains("not a directory"),
            "{e}"
        );
    }

    #[test]
    fn scripts_tables_configure_package_json_scripts() {
        let c = catalog(
            "[scripts.dev]\nready = \"Local:\"\nenv = { PORT = \"5173\" }\nrestart = \"always\"\n\
             stop_timeout_ms = 1500\nmax_restarts = 2\nstop_signal = \"INT\"\n",
            Some(r#"{"scripts":{"dev":"vite","lint":"eslint ."}}"#),
        )
        .unwrap();
        let dev = c.get("dev").unwrap();
        assert_eq!(dev.source, ScriptSource::PackageJson);
        assert_eq!(dev.command_line(), "yarn run dev");
        assert!(dev.ready.as_ref().unwrap().is_match("  Local: http://x"));
        assert_eq!(
            dev.spec.env.set.get("PORT").map(String::as_str),
            Some("5173")
        );
        assert_eq!(dev.spec.restart.mode, procman_core::RestartMode::Always);
        assert_eq!(dev.spec.restart.max_restarts, 2);
        assert_eq!(dev.spec.stop_timeout, Duration::from_millis(1500));
        assert_eq!(dev.spec.stop_signal, procman_core::Signal(2));
        // Untouched scripts keep their defaults.
        assert!(c.get("lint").unwrap().ready.is_none());
    }

    #[test]
    fn scripts_tables_are_checked() {
        let pkg = Some(r#"{"scripts":{"dev":"vite"}}"#);
        let e = catalog("[scripts.dve]\nready = \"x\"\n", pkg)
            .unwrap_err()
            .to_string();
        assert!(e.contains(":1:") && e.contains("`scripts.dve`"), "{e}");
        assert!(e.contains("the package.json scripts are dev"), "{e}");
        let e = catalog("[scripts.dev]\nready = \"(\"\n", pkg)
            .unwrap_err()
            .to_string();
        assert!(e.contains(":2:9: `scripts.dev.ready`"), "{e}");
        let e = catalog("[scripts.dev]\ncommand = [\"x\"]\n", pkg)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `command`"), "{e}");
        // The mistake the issue reports: `ready` under [processes.dev] for a package script.
        let e = catalog("[processes.dev]\nready = \"x\"\n", pkg)
            .unwrap_err()
            .to_string();
        assert!(e.contains("rename the table to [scripts.dev]"), "{e}");
    }

    #[test]
    fn quoting_for_display() {
        assert_eq!(
            display_argv(&["echo".into(), "a b".into(), "it's".into()]),
            r"echo 'a b' 'it'\''s'"
        );
    }
}
