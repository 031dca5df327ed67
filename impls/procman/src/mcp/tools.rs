//! What each tool does, independent of the wire: [`Tools`] validates the arguments, calls the
//! process manager and builds the output.
//!
//! Manager calls that may block (start, stop, restart: a spawn, a signal and a wait) run on the
//! blocking pool; readers (status, list, logs) are called directly, since the contract promises
//! they never wait on a spawn, a stop or a syscall. One `Tools` serves any number of
//! concurrent requests and clients.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::time::SystemTime;

use procman_core::{
    ExitInfo, IfRunning, LogChunk, LogLine, LogMatcher, LogQuery, ProcessError, ProcessId,
    ProcessSnapshot, StatusKind, StopOptions, Stream, Target,
};

use super::error::{ToolError, clip};
use super::progress::Progress;
use super::schema::*;
use super::view::{line_view, not_started_view, process_view, run_end_view, scripts_list};
use crate::catalog::Script;
use crate::history::RunRecord;
use crate::supervisor::Supervisor;

/// How often a long operation reports progress.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// The tools' behaviour over one shared [`Supervisor`].
#[derive(Clone, Debug)]
pub struct Tools {
    sup: Arc<Supervisor>,
}

/// Where a run's output is read from.
pub(super) enum RunSource {
    /// The manager's current run of the name.
    Current(ProcessSnapshot),
    /// An earlier run, kept in the history.
    Past(Arc<RunRecord>),
}

/// The status of a run of the history: how it ended.
pub(super) fn past_status(record: &RunRecord) -> &'static str {
    match record.end().map(|e| e.exit) {
        Some(ExitInfo::Code(_)) => "exited",
        Some(ExitInfo::Signal(_)) => "killed",
        None => "ended",
    }
}

/// `stream` and `since` of logs_stream and logs_search.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Filter {
    stream: Option<Stream>,
    since: Option<SystemTime>,
}

impl Filter {
    fn new(tool: &'static str, stream: &str, since: &str) -> Result<Filter, ToolError> {
        let stream = match stream {
            "" => None,
            "stdout" => Some(Stream::Stdout),
            "stderr" => Some(Stream::Stderr),
            other => {
                return Err(ToolError::bad_args(
                    tool,
                    format!(
                        "stream {:?} is not a stream; give \"stdout\" or \"stderr\", or omit it \
                         for both",
                        clip(other, 40)
                    ),
                ));
            }
        };
        let since = if since.is_empty() {
            None
        } else {
            Some(
                crate::diag::parse_since(since, SystemTime::now())
                    .map_err(|e| ToolError::bad_args(tool, e))?,
            )
        };
        Ok(Filter { stream, since })
    }

    fn is_none(&self) -> bool {
        self.stream.is_none() && self.since.is_none()
    }

    fn keeps(&self, line: &LogLine) -> bool {
        self.stream.is_none_or(|s| s == line.stream) && self.since.is_none_or(|t| line.at >= t)
    }
}

/// A name or an exact run, as given by the client.
pub(super) enum Which {
    Name(String),
    Id(ProcessId),
}

impl Which {
    fn target(&self) -> Target<'_> {
        match self {
            Which::Name(name) => Target::Name(name),
            Which::Id(id) => Target::Id(id),
        }
    }

    fn name(&self) -> &str {
        match self {
            Which::Name(name) => name,
            Which::Id(id) => &id.name,
        }
    }
}

impl Tools {
    /// Tools over `sup`.
    pub fn new(sup: Arc<Supervisor>) -> Self {
        Tools { sup }
    }

    /// The supervisor behind the tools.
    pub fn supervisor(&self) -> &Arc<Supervisor> {
        &self.sup
    }

    /// The configuration error every tool reports, when procman started without a valid
    /// configuration.
    pub fn check_config(&self) -> Result<(), ToolError> {
        match self.sup.config_error() {
            Some(e) => Err(ToolError::Config(e.to_owned())),
            None => Ok(()),
        }
    }

    /// `scripts_list`: every configured script with its current status.
    pub fn scripts_list(&self) -> ScriptsList {
        scripts_list(self.sup.catalog(), &self.sup.manager().list())
    }

    /// `scripts_run`: starts a configured script, refusing one that is already live.
    pub async fn scripts_run(&self, p: RunParams) -> Result<ProcessResult, ToolError> {
        const TOOL: &str = "scripts_run";
        let script = self.script(TOOL, &p.name)?;
        if p.args.len() > MAX_ARGS {
            return Err(ToolError::bad_args(
                TOOL,
                format!("{} args given; pass at most {MAX_ARGS}", p.args.len()),
            ));
        }
        if let Some(long) = p.args.iter().find(|a| a.len() > MAX_ARG_LEN) {
            return Err(ToolError::bad_args(
                TOOL,
                format!(
                    "an arg is {} bytes long; each may be at most {MAX_ARG_LEN}",
                    long.len()
                ),
            ));
        }
        let spec = script.spec_with_args(&p.args)?;
        let manager = Arc::clone(self.sup.manager());
        let snap = blocking(move || manager.start(spec, IfRunning::Error))
            .await?
            .map_err(ToolError::from_start)?;
        let message = match snap.status.kind() {
            StatusKind::Running => format!(
                "started {} (pid {}); read its output with logs_stream",
                snap.id,
                snap.pid.unwrap_or_default()
            ),
            _ => format!(
                "started {}, which has already ended: {}; read its output with logs_stream",
                snap.id, snap.status
            ),
        };
        Ok(ProcessResult {
            process: process_view(&snap),
            message,
        })
    }

    /// `scripts_stop`: stops the live run, reporting progress until it is gone. When
    /// `cancelled` completes first the call returns [`ToolError::Cancelled`] at once (no more
    /// progress, no result); the stop itself carries on to its end, since a process group half
    /// signalled is worse than one stopped.
    pub async fn scripts_stop(
        &self,
        p: StopParams,
        progress: &Progress,
        cancelled: impl Future<Output = ()>,
    ) -> Result<ProcessResult, ToolError> {
        const TOOL: &str = "scripts_stop";
        let which = self.which(TOOL, &p.name, &p.process_id)?;
        let before = self.status_of(&which)?;
        let timeout = self.stop_timeout(which.name());
        let what = if p.force {
            format!("killing {} (SIGKILL)", before.id)
        } else {
            format!(
                "stopping {} (stop signal, SIGKILL after {} ms)",
                before.id,
                timeout.as_millis()
            )
        };
        let manager = Arc::clone(self.sup.manager());
        let options = StopOptions { force: p.force };
        let snap = with_progress(progress, what, timeout, cancelled, move || {
            manager.stop(which.target(), options)
        })
        .await?
        .map_err(|e| self.not_started(e))?;
        let message = match snap.status.kind() {
            StatusKind::Killed if !p.force => format!(
                "{} did not stop within {} ms and was killed with SIGKILL",
                snap.id,
                timeout.as_millis()
            ),
            _ => format!("{} is {}", snap.id, snap.status),
        };
        Ok(ProcessResult {
            process: process_view(&snap),
            message,
        })
    }

    /// `scripts_restart`: stops the script if it is live, then starts it again; a script never
    /// started is simply started. Cancellation as for [`Tools::scripts_stop`]: the call
    /// returns at once, the restart completes.
    pub async fn scripts_restart(
        &self,
        p: RestartParams,
        progress: &Progress,
        cancelled: impl Future<Output = ()>,
    ) -> Result<ProcessResult, ToolError> {
        const TOOL: &str = "scripts_restart";
        let script = self.script(TOOL, &p.name)?;
        let manager = Arc::clone(self.sup.manager());
        let timeout = script.spec.stop_timeout;
        let first_spec = script.spec.clone();
        let name = p.name.clone();
        let what = format!("restarting {name}");
        let snap = with_progress(progress, what, timeout, cancelled, move || {
            match manager.restart(Target::Name(&name)) {
                Err(ProcessError::NotFound { .. }) => manager.start(first_spec, IfRunning::Error),
                other => other,
            }
        })
        .await?
        .map_err(ToolError::from_start)?;
        Ok(ProcessResult {
            message: format!("restarted {}: now {}", p.name, snap.status),
            process: process_view(&snap),
        })
    }

    /// `scripts_status`: one script's current run, or every script's, with the URLs each run
    /// printed, how the run before it ended and (when asked) its listening ports.
    pub fn scripts_status(&self, p: StatusParams) -> Result<StatusList, ToolError> {
        if !p.name.is_empty() {
            self.script("scripts_status", &p.name)?;
            let view = match self.sup.manager().status(Target::Name(&p.name)) {
                Ok(snap) => self.enriched_view(&snap, p.ports),
                Err(ProcessError::NotFound { .. }) => not_started_view(&p.name),
                Err(e) => return Err(e.into()),
            };
            return Ok(StatusList {
                processes: vec![view],
            });
        }
        let runs = self.sup.manager().list();
        let processes = self
            .sup
            .catalog()
            .iter()
            .map(|script| {
                runs.iter().find(|s| s.name() == script.name()).map_or_else(
                    || not_started_view(script.name()),
                    |snap| self.enriched_view(snap, p.ports),
                )
            })
            .collect();
        Ok(StatusList { processes })
    }

    /// A run's view with what the history and /proc add: its URLs, the previous run's end,
    /// and (with `ports`) the ports its processes listen on.
    pub(super) fn enriched_view(&self, snap: &ProcessSnapshot, ports: bool) -> ProcessView {
        let mut view = process_view(snap);
        let history = self.sup.history();
        let runs = history.runs(snap.name());
        if let Some(at) = runs.iter().position(|r| r.id == snap.id) {
            view.urls = runs[at].urls();
            if at > 0 {
                view.previous_run = Some(run_end_view(&runs[at - 1]));
            }
        } else if let Some(last) = runs.last() {
            // Not recorded (a run the history never saw): the newest kept run came before it.
            view.previous_run = Some(run_end_view(last));
        }
        if ports
            && snap.status.is_alive()
            && let Some(pid) = snap.pid
        {
            view.ports = crate::diag::listening_ports(&crate::diag::run_pids(pid));
        }
        view
    }

    /// `logs_stream`: a page of output from a cursor, or the latest lines; of the current run
    /// or of an earlier one the history keeps; optionally one stream, or lines since a time.
    pub fn logs_stream(&self, p: LogsParams) -> Result<LogsPage, ToolError> {
        const TOOL: &str = "logs_stream";
        let which = self.which(TOOL, &p.name, &p.process_id)?;
        let filter = Filter::new(TOOL, &p.stream, &p.since)?;
        let limit = bounded_limit(p.limit, LOGS_LIMIT);
        let source = self.run_source(&which)?;
        let (id, status, total, record) = match &source {
            RunSource::Current(snap) => (
                snap.id.to_string(),
                snap.status.kind().as_str().to_owned(),
                snap.logs.lines,
                self.sup.history().get(&snap.id),
            ),
            RunSource::Past(record) => (
                record.id.to_string(),
                past_status(record).to_owned(),
                record.total(),
                Some(Arc::clone(record)),
            ),
        };
        let chunk = match (&source, &record) {
            // The common case reads the manager's own ring, as before.
            (RunSource::Current(snap), _) if filter.is_none() => {
                let cursor = p
                    .cursor
                    .unwrap_or_else(|| total.saturating_sub(limit as u64));
                self.sup
                    .manager()
                    .logs_tail(Target::Id(&snap.id), cursor, limit)?
            }
            (_, Some(record)) => match p.cursor {
                Some(cursor) => record.tail(cursor, limit, |l| filter.keeps(l)),
                None => {
                    let lines = record.last(limit, |l| filter.keeps(l));
                    LogChunk {
                        lines,
                        next_cursor: record.total(),
                        missed: 0,
                    }
                }
            },
            (RunSource::Current(snap), None) => {
                // No history (a supervisor built without one): filter the manager's pages.
                let cursor = p.cursor.unwrap_or(0);
                let mut chunk =
                    self.sup
                        .manager()
                        .logs_tail(Target::Id(&snap.id), cursor, LOGS_LIMIT.1)?;
                chunk.lines.retain(|l| filter.keeps(l));
                if p.cursor.is_none() {
                    let keep_from = chunk.lines.len().saturating_sub(limit);
                    chunk.lines.drain(..keep_from);
                } else {
                    chunk.lines.truncate(limit);
                    if let Some(last) = chunk.lines.last()
                        && chunk.lines.len() == limit
                    {
                        chunk.next_cursor = last.seq + 1;
                    }
                }
                chunk
            }
            (RunSource::Past(_), None) => unreachable!("a past run always has its record"),
        };
        Ok(LogsPage {
            process_id: id,
            status,
            lines: chunk.lines.iter().map(line_view).collect(),
            next_cursor: chunk.next_cursor,
            missed: chunk.missed,
        })
    }

    /// `logs_search`: matching lines across the current runs, or in one run (current or
    /// kept in the history); optionally one stream, or lines since a time.
    pub fn logs_search(&self, p: SearchParams) -> Result<SearchResults, ToolError> {
        const TOOL: &str = "logs_search";
        check_pattern(TOOL, "query", &p.query)?;
        let filter = Filter::new(TOOL, &p.stream, &p.since)?;
        let limit = bounded_limit(p.limit, SEARCH_LIMIT);
        if !p.process_id.is_empty() {
            if !p.name.is_empty() {
                return Err(ToolError::bad_args(
                    TOOL,
                    "give name or processId, not both",
                ));
            }
            let which = self.which(TOOL, "", &p.process_id)?;
            let matcher = LogMatcher::new(&LogQuery {
                pattern: p.query.clone(),
                regex: p.regex,
                name: None,
                limit,
            })?;
            let record = match self.run_source(&which)? {
                RunSource::Past(record) => Some(record),
                RunSource::Current(snap) => self.sup.history().get(&snap.id),
            };
            let Some(record) = record else {
                return Err(ToolError::bad_args(
                    TOOL,
                    "this run's output is not in the history; search by name instead",
                ));
            };
            return Ok(SearchResults {
                matches: record
                    .search(&matcher, limit, |l| filter.keeps(l))
                    .iter()
                    .map(|line| SearchHit {
                        process_id: record.id.to_string(),
                        line: line_view(line),
                    })
                    .collect(),
            });
        }
        let name = if p.name.is_empty() {
            None
        } else {
            self.script(TOOL, &p.name)?;
            Some(p.name.clone())
        };
        let query = LogQuery {
            pattern: p.query,
            regex: p.regex,
            name,
            // Filtering happens after the search: ask for more, keep the newest `limit`.
            limit: if filter.is_none() {
                limit
            } else {
                SEARCH_LIMIT.1 * 4
            },
        };
        let mut matches = self
            .sup
            .manager()
            .logs_search(&query)
            .map_err(|e| self.not_started(e))?;
        matches.retain(|m| filter.keeps(&m.line));
        let keep_from = matches.len().saturating_sub(limit);
        Ok(SearchResults {
            matches: matches[keep_from..]
                .iter()
                .map(|m| SearchHit {
                    process_id: m.id.to_string(),
                    line: line_view(&m.line),
                })
                .collect(),
        })
    }

    /// The run `which` names: the manager's current run, or an earlier run from the history.
    pub(super) fn run_source(&self, which: &Which) -> Result<RunSource, ToolError> {
        match self.sup.manager().status(which.target()) {
            Ok(snap) => Ok(RunSource::Current(snap)),
            Err(ProcessError::Superseded { asked, current }) => {
                match self.sup.history().get(&asked) {
                    Some(record) => Ok(RunSource::Past(record)),
                    None => Err(
                        ToolError::Process(ProcessError::Superseded { asked, current })
                            .with_history_hint(self.sup.history().config().runs),
                    ),
                }
            }
            Err(e) => Err(self.not_started(e)),
        }
    }

    // -----------------------------------------------------------------------------------------

    /// The configured script `name`, or why not.
    pub(super) fn script(&self, tool: &'static str, name: &str) -> Result<&Script, ToolError> {
        if name.is_empty() {
            return Err(ToolError::bad_args(
                tool,
                "name is empty; give a script name",
            ));
        }
        if name.len() > MAX_NAME_LEN {
            return Err(ToolError::bad_args(
                tool,
                format!(
                    "name is {} bytes long; names have at most {MAX_NAME_LEN}",
                    name.len()
                ),
            ));
        }
        let catalog = self.sup.catalog();
        catalog.get(name).ok_or_else(|| {
            const SHOWN: usize = 20;
            let names: Vec<&str> = catalog.iter().map(Script::name).take(SHOWN).collect();
            let known = if names.is_empty() {
                "; none are configured: add [processes.NAME] tables to procman.toml".into()
            } else {
                let more = if catalog.len() > SHOWN { ", …" } else { "" };
                format!("; the configured scripts are {}{more}", names.join(", "))
            };
            ToolError::UnknownScript {
                name: clip(name, 80),
                known,
            }
        })
    }

    /// Exactly one of `name` and `process_id`, checked against the catalog.
    pub(super) fn which(
        &self,
        tool: &'static str,
        name: &str,
        process_id: &str,
    ) -> Result<Which, ToolError> {
        match (name.is_empty(), process_id.is_empty()) {
            (false, true) => {
                self.script(tool, name)?;
                Ok(Which::Name(name.to_owned()))
            }
            (true, false) => {
                if process_id.len() > MAX_PROCESS_ID_LEN {
                    return Err(ToolError::bad_args(
                        tool,
                        format!(
                            "processId is {} bytes long; ids are shorter",
                            process_id.len()
                        ),
                    ));
                }
                let id: ProcessId = process_id.parse()?;
                self.script(tool, &id.name)?;
                Ok(Which::Id(id))
            }
            (true, true) => Err(ToolError::bad_args(
                tool,
                "give name (a script) or processId (one run, NAME#GENERATION)",
            )),
            (false, false) => Err(ToolError::bad_args(
                tool,
                "give name or processId, not both",
            )),
        }
    }

    /// The run `which` names, with "never started" reported as such.
    pub(super) fn status_of(&self, which: &Which) -> Result<ProcessSnapshot, ToolError> {
        self.sup
            .manager()
            .status(which.target())
            .map_err(|e| self.not_started(e))
    }

    /// Maps the manager's "no such name" for a configured script to "not started yet".
    fn not_started(&self, e: ProcessError) -> ToolError {
        match e {
            ProcessError::NotFound { name } if self.sup.catalog().get(&name).is_some() => {
                ToolError::NotStarted { name }
            }
            other => other.into(),
        }
    }

    fn stop_timeout(&self, name: &str) -> Duration {
        self.sup
            .catalog()
            .get(name)
            .map_or(Duration::from_secs(5), |s| s.spec.stop_timeout)
    }
}

pub(super) fn check_pattern(
    tool: &'static str,
    field: &str,
    pattern: &str,
) -> Result<(), ToolError> {
    if pattern.is_empty() {
        return Err(ToolError::bad_args(
            tool,
            format!("{field} is empty; give text to look for"),
        ));
    }
    if pattern.len() > MAX_PATTERN_LEN {
        return Err(ToolError::bad_args(
            tool,
            format!(
                "{field} is {} bytes long; use at most {MAX_PATTERN_LEN}",
                pattern.len()
            ),
        ));
    }
    Ok(())
}

/// `requested` capped at the maximum (0 counts as the default).
fn bounded_limit(requested: usize, (default, max): (usize, usize)) -> usize {
    if requested == 0 {
        default
    } else {
        requested.min(max)
    }
}

pub(super) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Runs a blocking manager call on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ToolError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ToolError::Internal(format!("manager call failed: {e}")))
}

/// Runs a blocking manager call, reporting progress every [`PROGRESS_EVERY`] until it returns
/// (when the client asked for progress). If `cancelled` completes first, returns
/// [`ToolError::Cancelled`] at once and leaves the call to finish on the blocking pool.
async fn with_progress<T: Send + 'static>(
    progress: &Progress,
    what: String,
    expected: Duration,
    cancelled: impl Future<Output = ()>,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ToolError> {
    let task = blocking(f);
    tokio::pin!(task);
    tokio::pin!(cancelled);
    let started = Instant::now();
    let total = millis(expected).max(1);
    if progress.is_wanted() {
        progress.report(0, Some(total), what.clone()).await;
    }
    let mut tick =
        tokio::time::interval_at(tokio::time::Instant::now() + PROGRESS_EVERY, PROGRESS_EVERY);
    loop {
        tokio::select! {
            result = &mut task => return result,
            () = &mut cancelled => {
                tracing::info!(operation = %what, "cancelled by the client; the operation completes in the background");
                return Err(ToolError::Cancelled);
            }
            _ = tick.tick(), if progress.is_wanted() => {
                let elapsed = millis(started.elapsed());
                let msg = format!("{what}: {elapsed} ms so far");
                progress.report(elapsed, Some(total), msg).await;
            }
        }
    }
}
