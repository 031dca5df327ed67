//! [`ScenarioError`]: what is wrong with a scenario file, where, and what to do about it.

use std::fmt;
use std::path::Path;

/// A scenario file that cannot be used. Displays as
/// `FILE: key `KEY`: PROBLEM; fix: FIX` (with `:LINE:COLUMN` after the file when known).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file, as given.
    pub file: String,
    /// `line:column` (1-based) when the TOML parser located the problem.
    pub at: Option<(usize, usize)>,
    /// The key concerned, dotted (`group[0].mix.scripts_status`), or `(file)` for the whole file.
    pub key: String,
    /// What is wrong.
    pub problem: String,
    /// What to do.
    pub fix: String,
}

impl ScenarioError {
    /// An error about `key` in `file`.
    pub fn new(
        file: &Path,
        key: impl Into<String>,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        ScenarioError {
            file: file.display().to_string(),
            at: None,
            key: key.into(),
            problem: problem.into(),
            fix: fix.into(),
        }
    }

    /// Maps a TOML parse or type error to a readable one: the line and column, the key written
    /// on that line, the parser's message, and a fix for the common cases.
    pub fn from_toml(file: &Path, source: &str, err: &toml::de::Error) -> Self {
        let message = err.message().trim().to_owned();
        let at = err.span().map(|span| line_col(source, span.start));
        let key = at
            .and_then(|(line, _)| source.lines().nth(line - 1))
            .map(key_on_line)
            .unwrap_or_else(|| "(file)".into());
        let fix = if message.starts_with("unknown field") {
            "remove the key or correct its spelling (the message lists the keys valid here; \
             scenarios/README.md documents them all)"
        } else if message.starts_with("missing field") {
            "add the key (scenarios/README.md documents it)"
        } else if message.contains("invalid type") || message.contains("did not match") {
            "give the value the type scenarios/README.md documents for this key \
             (durations are strings such as \"5s\"; counts are integers; `clients` in a group \
             is an integer or \"sweep\")"
        } else {
            "correct the TOML syntax at that place"
        };
        ScenarioError {
            file: file.display().to_string(),
            at,
            key,
            problem: message,
            fix: fix.into(),
        }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((line, col)) = self.at {
            write!(f, ":{line}:{col}")?;
        }
        write!(
            f,
            ": key `{}`: {}; fix: {}",
            self.key, self.problem, self.fix
        )
    }
}

impl std::error::Error for ScenarioError {}

/// 1-based line and column of byte `offset` in `source`.
fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The key a TOML line sets (`a = 1` gives `a`), or the table it opens (`[[group]]`).
fn key_on_line(line: &str) -> String {
    let line = line.trim();
    if line.starts_with('[') {
        return line
            .trim_matches(|c| c == '[' || c == ']')
            .trim()
            .to_owned();
    }
    match line.split_once('=') {
        Some((key, _)) => key.trim().to_owned(),
        None => "(file)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_place_key_and_fix() {
        let mut e = ScenarioError::new(Path::new("s.toml"), "duration", "is zero", "make it > 0");
        assert_eq!(
            e.to_string(),
            "s.toml: key `duration`: is zero; fix: make it > 0"
        );
        e.at = Some((3, 1));
        assert!(e.to_string().starts_with("s.toml:3:1: key `duration`"));
    }

    #[test]
    fn locates_keys_and_tables() {
        assert_eq!(line_col("a\nbc\n", 3), (2, 2));
        assert_eq!(key_on_line("  processes = 5 # c"), "processes");
        assert_eq!(key_on_line("[[group]]"), "group");
        assert_eq!(key_on_line("[background]"), "background");
    }
}
