//! `wait_for_log`: wait for a line, polling the run's log ring.
//!
//! The contract offers no subscription, so the wait reads the ring from a cursor every
//! 25 ms: a status read and a short ring read, which never block a child. Lines printed
//! before the call count, and a run that ends is read to its last line (the launcher drains the
//! output before it reports the exit). If a run is replaced by an automatic restart between two
//! polls, lines it printed after the last poll are not seen: the old run's log is gone.

use std::future::Future;
use std::time::{Duration, Instant};

use procman_core::{LogMatcher, ProcessError, ProcessId, ProcessManager, Target};

use super::error::{ToolError, clip};
use super::progress::Progress;
use super::schema::{LogLineView, WAIT_TIMEOUT_MS, WaitParams, WaitResult};
use super::tools::{Tools, Which, check_pattern, millis};
use super::view::{line_view, process_view};
use crate::catalog::ScriptSource;

/// How often `wait_for_log` looks for new output.
const WAIT_POLL: Duration = Duration::from_millis(25);
/// Lines read per step while `wait_for_log` scans.
const WAIT_PAGE: usize = 1000;

impl Tools {
    /// `wait_for_log`: waits until the script's current run prints a line matching the
    /// pattern, the run ends, the timeout passes or `cancelled` completes.
    pub async fn wait_for_log(
        &self,
        p: WaitParams,
        progress: &Progress,
        cancelled: impl Future<Output = ()>,
    ) -> Result<WaitResult, ToolError> {
        const TOOL: &str = "wait_for_log";
        let script = self.script(TOOL, &p.name)?;
        if !p.pattern.is_empty() {
            check_pattern(TOOL, "pattern", &p.pattern)?;
        }
        let pattern = match (&p.pattern, &script.ready) {
            (given, _) if !given.is_empty() => given.clone(),
            (_, Some(ready)) => ready.as_str().to_owned(),
            (_, None) => {
                return Err(ToolError::NoPattern {
                    name: p.name.clone(),
                });
            }
        };
        let matcher = crate::catalog::compile_ready(&pattern)
            .map(LogMatcher::Regex)
            .map_err(|e| {
                ToolError::bad_args(
                    TOOL,
                    format!(
                        "pattern is not a valid regex: {e}; wait_for_log patterns are always \
                         regexes (Rust syntax): fix it, or escape characters such as ( . [ * \
                         with a backslash to match them literally"
                    ),
                )
            })?;
        // npm, pnpm, yarn and bun print the script's command before it runs (`> app@1.0.0 dev`,
        // `> vite`, `$ vite`): for a package.json script those banner lines never count.
        let mut banner = (script.source == ScriptSource::PackageJson).then(Banner::default);
        let timeout = Duration::from_millis(p.timeout_ms.min(WAIT_TIMEOUT_MS.1));
        let manager = self.supervisor().manager();
        let mut snap = self.status_of(&Which::Name(p.name.clone()))?;
        let started = Instant::now();
        let mut cursor = 0;
        let mut next_report = started;
        tokio::pin!(cancelled);
        let (line, outcome) = loop {
            let ended = snap.status.is_terminal();
            let found = scan(
                manager.as_ref(),
                &snap.id,
                &mut cursor,
                &matcher,
                banner.as_mut(),
            )?;
            if let Some(line) = found {
                break (Some(line), "matched");
            }
            if ended {
                // A terminal run's output is complete: the launcher drains it before the exit.
                match manager.status(Target::Name(&p.name))? {
                    newer if newer.id != snap.id => {
                        snap = newer;
                        cursor = 0;
                        banner = banner.map(|_| Banner::default());
                        continue;
                    }
                    _ => break (None, "ended"),
                }
            }
            let elapsed = started.elapsed();
            if elapsed >= timeout {
                break (None, "timeout");
            }
            if progress.is_wanted() && Instant::now() >= next_report {
                next_report += Duration::from_secs(1);
                let msg = format!("waiting for /{}/ in {}", clip(&pattern, 80), snap.id);
                progress
                    .report(millis(elapsed), Some(millis(timeout)), msg)
                    .await;
            }
            tokio::select! {
                () = &mut cancelled => {
                    tracing::info!(script = %p.name, "wait_for_log cancelled by the client");
                    return Err(ToolError::Cancelled);
                }
                () = tokio::time::sleep(WAIT_POLL.min(timeout - elapsed)) => {}
            }
            snap = match manager.status(Target::Name(&p.name)) {
                Ok(now) if now.id != snap.id => {
                    cursor = 0;
                    banner = banner.map(|_| Banner::default());
                    now
                }
                Ok(now) => now,
                Err(e) => return Err(e.into()),
            };
        };
        let snap = manager.status(Target::Id(&snap.id)).unwrap_or(snap);
        Ok(WaitResult {
            matched: line.is_some(),
            outcome: outcome.into(),
            pattern,
            line,
            process: process_view(&snap),
            waited_ms: millis(started.elapsed()),
        })
    }
}

/// The package manager's banner at the start of a package.json script's output: the leading
/// lines (either stream: npm versions differ) that are empty, start with `> ` (npm, pnpm) or `$ ` (yarn, bun), or are
/// yarn's `yarn run v1.22.19`. It ends at the first other line.
#[derive(Debug, Default)]
pub struct Banner {
    over: bool,
}

impl Banner {
    /// True if `line` is part of the banner (and so never matches a ready pattern).
    pub fn skips(&mut self, line: &procman_core::LogLine) -> bool {
        if self.over {
            return false;
        }
        let text = line.text.trim_end();
        let banner = text.is_empty()
            || text.starts_with("> ")
            || text == ">"
            || text.starts_with("$ ")
            || text.starts_with("yarn run v");
        self.over = !banner;
        banner
    }
}

/// Reads `id`'s output from `cursor` on, returning the first line that matches (never one of
/// `banner`'s lines).
fn scan(
    manager: &dyn ProcessManager,
    id: &ProcessId,
    cursor: &mut u64,
    matcher: &LogMatcher,
    mut banner: Option<&mut Banner>,
) -> Result<Option<LogLineView>, ToolError> {
    loop {
        let chunk = match manager.logs_tail(Target::Id(id), *cursor, WAIT_PAGE) {
            Ok(chunk) => chunk,
            // A newer run replaced this one; the caller moves on to it.
            Err(ProcessError::Superseded { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        *cursor = chunk.next_cursor;
        let mut hit = None;
        for l in &chunk.lines {
            if banner.as_deref_mut().is_some_and(|b| b.skips(l)) {
                continue;
            }
            if matcher.is_match(&l.text) {
                hit = Some(l);
                break;
            }
        }
        if let Some(line) = hit {
            return Ok(Some(line_view(line)));
        }
        if chunk.lines.len() < WAIT_PAGE {
            return Ok(None);
        }
    }
}
