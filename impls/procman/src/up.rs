//! `procman up`: run processes in the foreground, foreman/overmind style.
//!
//! Every selected process is started; their output is printed with name prefixes as it
//! arrives (read from each run's log ring every 40 ms, so the printing never slows a child);
//! starts, ends and automatic restarts are announced on `system` lines. A process that ends by
//! itself with success is done; one that fails (non-zero exit, a signal, a failed spawn) once
//! its automatic restarts are used up stops all the others and `up` exits 1. When every process
//! is done `up` exits 0. SIGINT, SIGTERM or SIGHUP stop every process gracefully (each with its
//! stop signal and timeout); a second one sends SIGKILL at once. Automatic restarts wait at
//! least 150 ms so that a run's last lines and exit are printed before the next run
//! replaces it.

use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use procman_core::{
    IfRunning, ProcessId, ProcessManager, ProcessSnapshot, Status, StopOptions, Target,
};
use tokio::signal::unix::{SignalKind, signal};

use crate::catalog::{Catalog, Script, ScriptSource};
use crate::prefix::{Painter, Tone};
use crate::supervisor::Supervisor;

/// How often output and statuses are polled.
const POLL: Duration = Duration::from_millis(40);
/// The shortest delay before an automatic restart under `up`: a run's last lines and its exit
/// can only be read until the next run replaces it, so the delay must outlast a poll or two.
const MIN_BACKOFF: Duration = Duration::from_millis(150);
/// Lines read per process per read.
const PAGE: usize = 1000;

/// Why `up` could not begin.
#[derive(Debug, thiserror::Error)]
pub enum UpError {
    /// A name on the command line is not configured.
    #[error("no script named {name:?}; the configured scripts are: {known} (see `procman list`)")]
    UnknownScript {
        /// The name given.
        name: String,
        /// The configured names.
        known: String,
    },
    /// Nothing to run.
    #[error(
        "procman.toml defines no processes{hint}; add [processes.NAME] tables, or name \
         package.json scripts to run: `procman up dev`"
    )]
    NothingToRun {
        /// Where procman looked.
        hint: String,
    },
    /// The terminal went away.
    #[error("cannot write to stdout: {0}")]
    Output(#[from] io::Error),
}

/// One process being run.
struct Watched {
    index: usize,
    script: Script,
    id: Option<ProcessId>,
    cursor: u64,
    end_reported: bool,
    /// Done for good: `Some(true)` succeeded, `Some(false)` failed.
    done: Option<bool>,
}

/// The scripts `names` asks for: those named, or every procman.toml process.
pub fn select(catalog: &Catalog, names: &[String]) -> Result<Vec<Script>, UpError> {
    if names.is_empty() {
        let all: Vec<Script> = catalog
            .iter()
            .filter(|s| s.source == ScriptSource::ProcmanToml)
            .cloned()
            .collect();
        if all.is_empty() {
            let hint = match &catalog.config_path {
                Some(path) => format!(" ({})", path.display()),
                None => format!(
                    " (there is no procman.toml in {} or above)",
                    catalog.project_dir.display()
                ),
            };
            return Err(UpError::NothingToRun { hint });
        }
        return Ok(all);
    }
    names
        .iter()
        .map(|name| {
            catalog
                .get(name)
                .cloned()
                .ok_or_else(|| UpError::UnknownScript {
                    name: name.clone(),
                    known: catalog
                        .iter()
                        .map(Script::name)
                        .collect::<Vec<_>>()
                        .join(", "),
                })
        })
        .collect()
}

/// Runs `scripts` until they are all done, one fails, or a signal stops them; returns the exit
/// code (0, or 1 after a failure).
pub async fn run(sup: Arc<Supervisor>, scripts: Vec<Script>, color: bool) -> Result<i32, UpError> {
    let painter = Painter::new(scripts.iter().map(Script::name), color);
    let manager = Arc::clone(sup.manager());
    let deadline = scripts
        .iter()
        .map(|s| s.spec.stop_timeout)
        .max()
        .unwrap_or_default();
    let mut signals = Signals::new();
    let mut watched: Vec<Watched> = Vec::new();
    let mut exit_code = 0;
    let mut out = io::stdout();
    for (index, mut script) in scripts.into_iter().enumerate() {
        let restart = &mut script.spec.restart;
        restart.initial_backoff = restart.initial_backoff.max(MIN_BACKOFF);
        restart.max_backoff = restart.max_backoff.max(restart.initial_backoff);
        let spec = script.spec.clone();
        let m = Arc::clone(&manager);
        let started = tokio::task::spawn_blocking(move || m.start(spec, IfRunning::Error)).await;
        match started {
            Ok(Ok(snap)) => {
                let pid = snap.pid.map_or_else(String::new, |p| format!(" (pid {p})"));
                painter.system(&mut out, Tone::Info, &format!("started {}{pid}", snap.id))?;
            }
            Ok(Err(e)) => {
                painter.system(&mut out, Tone::Failure, &e.to_string())?;
                exit_code = 1;
            }
            Err(e) => {
                painter.system(&mut out, Tone::Failure, &format!("internal error: {e}"))?;
                exit_code = 1;
            }
        }
        watched.push(Watched {
            index,
            script,
            id: None,
            cursor: 0,
            end_reported: false,
            done: None,
        });
        if exit_code != 0 {
            break;
        }
    }

    let mut stopping: Option<tokio::sync::oneshot::Receiver<()>> = None;
    let mut killed = false;
    if exit_code != 0 {
        stopping = Some(begin_shutdown(&manager, deadline));
    }
    let mut tick = tokio::time::interval(POLL);
    loop {
        let finished = tokio::select! {
            _ = tick.tick() => false,
            name = signals.next() => {
                if stopping.is_none() {
                    let msg = format!("{name}: stopping every process (again to kill them at once)");
                    painter.system(&mut out, Tone::Info, &msg)?;
                    stopping = Some(begin_shutdown(&manager, deadline));
                } else if !killed {
                    killed = true;
                    painter.system(&mut out, Tone::Failure, &format!("{name}: killing every process"))?;
                    kill_all(&manager, &watched);
                }
                false
            }
            _ = async { stopping.as_mut().expect("guarded").await }, if stopping.is_some() => true,
        };
        let running = stopping.is_none();
        let mut buf = Vec::new();
        for w in &mut watched {
            pump(manager.as_ref(), w, &painter, &mut buf, running)?;
        }
        out.write_all(&buf)?;
        out.flush()?;
        if finished {
            break;
        }
        if running {
            if let Some(failed) = watched.iter().find(|w| w.done == Some(false)) {
                let msg = format!("{} failed; stopping the others", failed.script.name());
                painter.system(&mut out, Tone::Failure, &msg)?;
                exit_code = 1;
                stopping = Some(begin_shutdown(&manager, deadline));
            } else if watched.iter().all(|w| w.done.is_some()) {
                painter.system(&mut out, Tone::Info, "every process is done")?;
                break;
            }
        }
    }
    Ok(exit_code)
}

/// Prints what is new for one process: its output, a restart, its end.
fn pump(
    manager: &dyn ProcessManager,
    w: &mut Watched,
    painter: &Painter,
    out: &mut Vec<u8>,
    running: bool,
) -> io::Result<()> {
    let Ok(snap) = manager.status(Target::Name(w.script.name())) else {
        return Ok(());
    };
    if w.id.as_ref() != Some(&snap.id) {
        if let Some(old) = &w.id {
            if !w.end_reported {
                painter.system(out, Tone::Info, &format!("{old} ended"))?;
            }
            painter.system(out, Tone::Info, &format!("restarted as {}", snap.id))?;
        }
        w.id = Some(snap.id);
        w.cursor = 0;
        w.end_reported = false;
    }
    let name = w.script.name().to_owned();
    while let Ok(chunk) = manager.logs_tail(Target::Id(&snap.id), w.cursor, PAGE) {
        if chunk.missed > 0 {
            let msg = format!(
                "({} lines of {name} dropped: output too fast)",
                chunk.missed
            );
            painter.system(out, Tone::Failure, &msg)?;
        }
        for line in &chunk.lines {
            painter.line(out, w.index, &name, &line.text)?;
        }
        w.cursor = chunk.next_cursor;
        if chunk.lines.len() < PAGE {
            break;
        }
    }
    if snap.status.is_terminal() && !w.end_reported {
        w.end_reported = true;
        report_end(w, &snap, painter, out, running)?;
    }
    Ok(())
}

fn report_end(
    w: &mut Watched,
    snap: &ProcessSnapshot,
    painter: &Painter,
    out: &mut Vec<u8>,
    running: bool,
) -> io::Result<()> {
    let restart = &w.script.spec.restart;
    let (success, how) = match &snap.status {
        Status::Exited(0) => (true, "exited with code 0".to_owned()),
        Status::Exited(code) => (false, format!("exited with code {code}")),
        Status::Killed(signal) => (false, format!("was killed by {signal}")),
        Status::Stopped => (true, "stopped".to_owned()),
        Status::Failed(reason) => (false, format!("failed to start: {reason}")),
        other => (false, other.to_string()),
    };
    let restarting = running
        && snap
            .exit
            .is_some_and(|exit| restart.wants_restart(&exit, snap.restarts));
    let tone = if success || !running {
        Tone::Info
    } else {
        Tone::Failure
    };
    if restarting {
        let delay = restart.backoff(snap.restarts);
        let msg = format!(
            "{} {how}; restarting in {} ms ({} of {})",
            snap.id,
            delay.as_millis(),
            snap.restarts + 1,
            restart.max_restarts
        );
        painter.system(out, tone, &msg)?;
    } else {
        painter.system(out, tone, &format!("{} {how}", snap.id))?;
        if running {
            w.done = Some(success);
        }
    }
    Ok(())
}

/// Stops everything on a worker thread; the receiver completes when it is done.
fn begin_shutdown(
    manager: &Arc<dyn ProcessManager>,
    deadline: Duration,
) -> tokio::sync::oneshot::Receiver<()> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let manager = Arc::clone(manager);
    tokio::task::spawn_blocking(move || {
        manager.shutdown(deadline);
        let _ = tx.send(());
    });
    rx
}

/// SIGKILL to every process (joining the stops in flight).
fn kill_all(manager: &Arc<dyn ProcessManager>, watched: &[Watched]) {
    for w in watched {
        let manager = Arc::clone(manager);
        let name = w.script.name().to_owned();
        tokio::task::spawn_blocking(move || {
            let _ = manager.stop(Target::Name(&name), StopOptions { force: true });
        });
    }
}

/// SIGINT, SIGTERM and SIGHUP as one stream.
struct Signals {
    streams: Vec<(tokio::signal::unix::Signal, &'static str)>,
}

impl Signals {
    fn new() -> Self {
        let streams = [
            (SignalKind::interrupt(), "SIGINT"),
            (SignalKind::terminate(), "SIGTERM"),
            (SignalKind::hangup(), "SIGHUP"),
        ]
        .into_iter()
        .filter_map(|(kind, name)| match signal(kind) {
            Ok(s) => Some((s, name)),
            Err(e) => {
                tracing::warn!(signal = name, error = %e, "cannot install a handler");
                None
            }
        })
        .collect();
        Signals { streams }
    }

    async fn next(&mut self) -> &'static str {
        std::future::poll_fn(|cx| {
            for (stream, name) in &mut self.streams {
                if stream.poll_recv(cx).is_ready() {
                    return std::task::Poll::Ready(*name);
                }
            }
            std::task::Poll::Pending
        })
        .await
    }
}
