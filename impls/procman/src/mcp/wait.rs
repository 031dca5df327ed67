//! `wait_for_log`: wait for a line, polling the run's log ring.
//!
//! The contract offers no subscription, so the wait reads the ring from a cursor every
//! 25 ms: a status read and a short ring read, which never block a child. Lines printed
//! before the call count, and a run that ends is read to its last line (the launcher drains the
//! output before it reports the exit). If a run is replaced by an automatic restart between two
//! polls, lines it printed after the last poll are not seen: the old run's log is gone.

use std::future::Future;
use std::time::{Duration, Instant};

use procman_core::{LogMatcher, LogQuery, ProcessError, ProcessId, ProcessManager, Target};

use super::error::{ToolError, clip};
use super::progress::Progress;
use super::schema::{LogLineView, WAIT_TIMEOUT_MS, WaitParams, WaitResult};
use super::tools::{Tools, Which, check_pattern, millis};
use super::view::{line_view, process_view};

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
        let matcher = LogMatcher::new(&LogQuery::regex(&pattern, 1))?;
        let timeout = Duration::from_millis(p.timeout_ms.min(WAIT_TIMEOUT_MS.1));
        let manager = self.supervisor().manager();
        let mut snap = self.status_of(&Which::Name(p.name.clone()))?;
        let started = Instant::now();
        let mut cursor = 0;
        let mut next_report = started;
        tokio::pin!(cancelled);
        let (line, outcome) = loop {
            let ended = snap.status.is_terminal();
            let found = scan(manager.as_ref(), &snap.id, &mut cursor, &matcher)?;
            if let Some(line) = found {
                break (Some(line), "matched");
            }
            if ended {
                // A terminal run's output is complete: the launcher drains it before the exit.
                match manager.status(Target::Name(&p.name))? {
                    newer if newer.id != snap.id => {
                        snap = newer;
                        cursor = 0;
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

/// Reads `id`'s output from `cursor` on, returning the first line that matches.
fn scan(
    manager: &dyn ProcessManager,
    id: &ProcessId,
    cursor: &mut u64,
    matcher: &LogMatcher,
) -> Result<Option<LogLineView>, ToolError> {
    loop {
        let chunk = match manager.logs_tail(Target::Id(id), *cursor, WAIT_PAGE) {
            Ok(chunk) => chunk,
            // A newer run replaced this one; the caller moves on to it.
            Err(ProcessError::Superseded { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        *cursor = chunk.next_cursor;
        if let Some(line) = chunk.lines.iter().find(|l| matcher.is_match(&l.text)) {
            return Ok(Some(line_view(line)));
        }
        if chunk.lines.len() < WAIT_PAGE {
            return Ok(None);
        }
    }
}
