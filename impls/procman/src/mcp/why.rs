//! `scripts_why`: why a run ended, in one call — its exit, how long it ran, its last stderr
//! lines, the error block at the end of its output, a port it could not bind and who holds it,
//! and the other runs the history keeps.

use std::sync::Arc;

use procman_core::{ExitInfo, ProcessError, Stream, Target};

use super::error::{ToolError, clip};
use super::schema::{PortHolderView, PortInUseView, WHY_LINES, WhyParams, WhyResult};
use super::tools::{RunSource, Tools, Which, past_status};
use super::view::{line_view, run_end_view};
use crate::diag;
use crate::history::RunRecord;

/// Lines at the end of a run's output searched for an error block or EADDRINUSE.
const SCANNED: usize = 500;

impl Tools {
    /// `scripts_why`: explains a run (see the module docs). For a name, the latest run that
    /// ended: the current one if it has, else the one before it; a script whose only run is
    /// live is explained as it is now.
    pub fn scripts_why(&self, p: WhyParams) -> Result<WhyResult, ToolError> {
        const TOOL: &str = "scripts_why";
        let which = self.which(TOOL, &p.name, &p.process_id)?;
        let lines = if p.lines == 0 {
            WHY_LINES.0
        } else {
            p.lines.min(WHY_LINES.1)
        };
        let history = self.supervisor().history();
        let (record, status): (Option<Arc<RunRecord>>, String) = match &which {
            Which::Id(_) => match self.run_source(&which)? {
                RunSource::Current(snap) => (
                    history.get(&snap.id),
                    snap.status.kind().as_str().to_owned(),
                ),
                RunSource::Past(record) => {
                    let status = past_status(&record).to_owned();
                    (Some(record), status)
                }
            },
            Which::Name(name) => {
                let current = self
                    .supervisor()
                    .manager()
                    .status(Target::Name(name))
                    .map_err(|e| match e {
                        ProcessError::NotFound { name } => ToolError::NotStarted { name },
                        other => other.into(),
                    })?;
                let earlier = history
                    .runs(name)
                    .into_iter()
                    .rev()
                    .find(|r| r.id != current.id && r.end().is_some());
                match earlier {
                    Some(record) if !current.status.is_terminal() => {
                        let status = past_status(&record).to_owned();
                        (Some(record), status)
                    }
                    _ => (
                        history.get(&current.id),
                        current.status.kind().as_str().to_owned(),
                    ),
                }
            }
        };
        let Some(record) = record else {
            return Err(ToolError::Expired(format!(
                "no output is kept for {}: procman's history did not record it; read it with \
                 logs_stream",
                which_name(&which)
            )));
        };
        let recent = record.last(SCANNED, |_| true);
        let texts: Vec<String> = recent.iter().map(|l| l.text.to_string()).collect();
        let error_block = diag::error_block(&texts);
        let stderr_tail = record
            .last(lines, |l| l.stream == Stream::Stderr)
            .iter()
            .map(line_view)
            .collect();
        let port_in_use = texts
            .iter()
            .rev()
            .find_map(|t| diag::port_in_use(t))
            .map(|port| self.port_in_use(port));
        let run = run_end_view(&record);
        let summary = summarize(&record, &status, &error_block, port_in_use.as_ref());
        Ok(WhyResult {
            run,
            status,
            summary,
            stderr_tail,
            error_block,
            port_in_use,
            urls: record.urls(),
            runs: history
                .runs(&record.id.name)
                .iter()
                .map(|r| run_end_view(r))
                .collect(),
        })
    }

    /// Who listens on `port`, naming procman's own runs among them.
    fn port_in_use(&self, port: u16) -> PortInUseView {
        let live: Vec<(String, Vec<u32>)> = self
            .supervisor()
            .manager()
            .list()
            .into_iter()
            .filter(|s| s.status.is_alive())
            .filter_map(|s| Some((s.id.to_string(), diag::run_pids(s.pid?))))
            .collect();
        let holders = diag::port_holders(port)
            .into_iter()
            .map(|h| PortHolderView {
                process_id: live
                    .iter()
                    .find(|(_, pids)| pids.contains(&h.pid))
                    .map(|(id, _)| id.clone())
                    .unwrap_or_default(),
                pid: h.pid,
                command: h.command,
            })
            .collect();
        PortInUseView { port, holders }
    }
}

fn which_name(which: &Which) -> String {
    match which {
        Which::Name(name) => name.clone(),
        Which::Id(id) => id.to_string(),
    }
}

/// One sentence: how the run ended, its error, the port it could not bind.
fn summarize(
    record: &RunRecord,
    status: &str,
    block: &[String],
    port: Option<&PortInUseView>,
) -> String {
    let mut s = match record.end() {
        Some(end) => {
            let ran = end
                .at
                .duration_since(record.started_at)
                .unwrap_or_default()
                .as_millis();
            let how = match end.exit {
                ExitInfo::Code(code) => format!("exited with code {code}"),
                ExitInfo::Signal(sig) => format!("was killed by {sig}"),
            };
            format!("{} {how} after {ran} ms ({status})", record.id)
        }
        None => format!("{} is {status} (pid {})", record.id, record.pid),
    };
    if let Some(first) = block.first() {
        s.push_str(&format!("; error: {}", clip(first.trim(), 200)));
    }
    if let Some(port) = port {
        match port.holders.first() {
            Some(h) if !h.process_id.is_empty() => s.push_str(&format!(
                "; port {} is held by pid {} ({}), procman's {}",
                port.port,
                h.pid,
                clip(&h.command, 80),
                h.process_id
            )),
            Some(h) => s.push_str(&format!(
                "; port {} is held by pid {} ({})",
                port.port,
                h.pid,
                clip(&h.command, 80)
            )),
            None => s.push_str(&format!(
                "; port {} was in use (nobody listens on it now)",
                port.port
            )),
        }
    }
    s
}
