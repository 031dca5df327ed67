//! From the manager's types to the tools' output types.

use std::time::SystemTime;

use procman_core::{ExitInfo, LogLine, ProcessSnapshot, Stream};

use super::schema::{LogLineView, ProcessView, RunEndView, ScriptView, ScriptsList};
use crate::catalog::Catalog;
use crate::history::RunRecord;

/// The status reported for a script that has never been started.
pub const NOT_STARTED: &str = "not_started";

/// Every script of `catalog` with the status of its current run among `runs`.
pub fn scripts_list(catalog: &Catalog, runs: &[ProcessSnapshot]) -> ScriptsList {
    let scripts = catalog
        .iter()
        .map(|script| {
            let run = runs.iter().find(|s| s.name() == script.name());
            ScriptView {
                name: script.name().to_owned(),
                source: script.source.as_str().into(),
                command: script.command_line(),
                description: script.description.clone(),
                accepts_args: script.accepts_args(),
                ready: script
                    .ready
                    .as_ref()
                    .map_or_else(String::new, |r| r.as_str().to_owned()),
                status: run.map_or(NOT_STARTED, |s| s.status.kind().as_str()).into(),
                process_id: run.map_or_else(String::new, |s| s.id.to_string()),
            }
        })
        .collect();
    ScriptsList {
        scripts,
        config: path_string(catalog.config_path.as_deref()),
        package_json: path_string(catalog.package.as_ref().map(|p| p.path.as_path())),
    }
}

fn path_string(path: Option<&std::path::Path>) -> String {
    path.map_or_else(String::new, |p| p.display().to_string())
}

/// A run as the tools report it.
pub fn process_view(s: &ProcessSnapshot) -> ProcessView {
    let (exit_code, signal) = match s.exit {
        Some(ExitInfo::Code(code)) => (Some(code), None),
        Some(ExitInfo::Signal(sig)) => (None, Some(sig.to_string())),
        None => (None, None),
    };
    ProcessView {
        process_id: s.id.to_string(),
        name: s.name().to_owned(),
        status: s.status.kind().as_str().to_owned(),
        detail: s.status.to_string(),
        alive: s.status.is_alive(),
        pid: s.pid,
        exit_code,
        signal,
        started_at: s.started_at.map(rfc3339),
        ended_at: s.ended_at.map(rfc3339),
        restarts: s.restarts,
        log_lines: s.logs.lines,
        log_dropped: s.logs.dropped,
        urls: Vec::new(),
        ports: Vec::new(),
        previous_run: None,
    }
}

/// A run of the history: when it ran and how it ended.
pub fn run_end_view(r: &RunRecord) -> RunEndView {
    let end = r.end();
    let (exit_code, signal) = match end.map(|e| e.exit) {
        Some(ExitInfo::Code(code)) => (Some(code), None),
        Some(ExitInfo::Signal(sig)) => (None, Some(sig.to_string())),
        None => (None, None),
    };
    RunEndView {
        process_id: r.id.to_string(),
        exit_code,
        signal,
        started_at: rfc3339(r.started_at),
        ended_at: end.map(|e| rfc3339(e.at)),
        duration_ms: end.map(|e| {
            u64::try_from(
                e.at.duration_since(r.started_at)
                    .unwrap_or_default()
                    .as_millis(),
            )
            .unwrap_or(u64::MAX)
        }),
    }
}

/// A configured script that has no run yet.
pub fn not_started_view(name: &str) -> ProcessView {
    ProcessView {
        name: name.to_owned(),
        status: NOT_STARTED.into(),
        detail: NOT_STARTED.into(),
        ..ProcessView::default()
    }
}

/// One log line as the tools report it.
pub fn line_view(line: &LogLine) -> LogLineView {
    LogLineView {
        seq: line.seq,
        stream: match line.stream {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
        .into(),
        at: rfc3339(line.at),
        text: line.text.to_string(),
        partial: line.partial,
    }
}

/// Formats a time as RFC 3339 in UTC with milliseconds, e.g. `2025-01-31T23:59:07.123Z`.
pub fn rfc3339(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(951_782_400_123);
        assert_eq!(rfc3339(t), "2000-02-29T00:00:00.123Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_735_689_599);
        assert_eq!(rfc3339(t), "2024-12-31T23:59:59.000Z");
    }
}
