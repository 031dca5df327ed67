//! Push instead of polling: each script is two MCP resources, and a session that subscribes to
//! one is told when it changes.
//!
//! - `procman://process/{name}`: the script's current run, as `scripts_status` reports it
//!   (JSON);
//! - `procman://logs/{name}`: its current run's latest output lines, as `logs_stream` reports
//!   them (JSON).
//!
//! `resources/subscribe` to either makes the session's listener send
//! `notifications/resources/updated` for that URI when one of the script's runs ends (by
//! itself, crashed, stopped or killed), fails to spawn, or prints its ready line, followed by
//! `notifications/message` (a log message, logger `procman`) whose `data` holds the run, the
//! event and the one-line reason, so an agent learns why without another call. Output lines
//! alone do not notify (a chatty child would flood the client); `logs_stream` with a cursor
//! reads them.
//!
//! The listener is one task per session, started at its first subscription, fed by the
//! supervisor's [`Events`](crate::events::Events); it ends when the client is gone (a send
//! fails) or procman exits. The same code serves stdio and Streamable HTTP (where the
//! notifications travel on the session's standalone `GET` stream).
//!
//! rmcp marks MCP logging deprecated (SEP-2577 drops it from the 2026-07-28 protocol); the
//! clients of the 2025 protocols, which are the clients there are, read it, so it is used here
//! on purpose.
#![allow(deprecated)]

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use rmcp::model::{
    ErrorData, LoggingLevel, LoggingMessageNotificationParam, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate, ResourceUpdatedNotificationParam,
};
use rmcp::{Peer, RoleServer};
use tokio::sync::broadcast::error::RecvError;

use super::schema::{LogsParams, StatusParams};
use super::tools::Tools;
use crate::events::{RunEvent, RunEventKind};
use crate::supervisor::Supervisor;

/// The scheme and host of every procman resource.
const PROCESS_PREFIX: &str = "procman://process/";
const LOGS_PREFIX: &str = "procman://logs/";

/// Output lines a `procman://logs/{name}` read returns.
const LOG_LINES: usize = 100;

/// Which of a script's two resources a URI names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `procman://process/{name}`.
    Process,
    /// `procman://logs/{name}`.
    Logs,
}

/// The URI of `name`'s resource of `kind`.
pub fn uri(kind: Kind, name: &str) -> String {
    match kind {
        Kind::Process => format!("{PROCESS_PREFIX}{name}"),
        Kind::Logs => format!("{LOGS_PREFIX}{name}"),
    }
}

/// The kind and script name of a procman resource URI.
pub fn parse(uri: &str) -> Option<(Kind, &str)> {
    let (kind, name) = if let Some(name) = uri.strip_prefix(PROCESS_PREFIX) {
        (Kind::Process, name)
    } else {
        (Kind::Logs, uri.strip_prefix(LOGS_PREFIX)?)
    };
    (!name.is_empty()).then_some((kind, name))
}

/// The resource for a URI that names no configured script's resource.
fn unknown(uri: &str, sup: &Supervisor) -> ErrorData {
    let names: Vec<&str> = sup.catalog().iter().map(|s| s.name()).collect();
    ErrorData::resource_not_found(
        format!(
            "no procman resource {uri:?}: resources are procman://process/NAME and \
             procman://logs/NAME for a configured script (resources/list lists them; scripts: \
             {})",
            names.join(", ")
        ),
        None,
    )
}

/// Every script's two resources.
pub fn list(sup: &Supervisor) -> Vec<Resource> {
    let mut out = Vec::with_capacity(sup.catalog().len() * 2);
    for script in sup.catalog().iter() {
        let name = script.name();
        out.push(
            Resource::new(uri(Kind::Process, name), format!("{name} process"))
                .with_description(format!(
                    "{name}'s current run: status, pid, exit, restarts (as scripts_status); \
                     subscribe to hear when it ends, fails to start or is ready"
                ))
                .with_mime_type("application/json"),
        );
        out.push(
            Resource::new(uri(Kind::Logs, name), format!("{name} logs"))
                .with_description(format!(
                    "{name}'s latest {LOG_LINES} output lines (as logs_stream)"
                ))
                .with_mime_type("application/json"),
        );
    }
    out
}

/// The two URI templates.
pub fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new(format!("{PROCESS_PREFIX}{{name}}"), "process")
            .with_description("a script's current run, as scripts_status reports it")
            .with_mime_type("application/json"),
        ResourceTemplate::new(format!("{LOGS_PREFIX}{{name}}"), "logs")
            .with_description("a script's latest output lines, as logs_stream reports them")
            .with_mime_type("application/json"),
    ]
}

/// The contents of resource `uri`.
pub fn read(tools: &Tools, uri: &str) -> Result<ReadResourceResult, ErrorData> {
    let sup = tools.supervisor();
    let (kind, name) = parse(uri)
        .filter(|(_, name)| sup.catalog().get(name).is_some())
        .ok_or_else(|| unknown(uri, sup))?;
    let json = match kind {
        Kind::Process => tools
            .scripts_status(StatusParams {
                name: name.to_owned(),
                ports: false,
            })
            .map(|v| serde_json::to_string(&v)),
        Kind::Logs => tools
            .logs_stream(LogsParams {
                name: name.to_owned(),
                limit: LOG_LINES,
                ..LogsParams::default()
            })
            .map(|v| serde_json::to_string(&v)),
    };
    let text = json
        .map_err(|e| ErrorData::resource_not_found(format!("{uri}: {e}"), None))?
        .map_err(|e| ErrorData::internal_error(format!("cannot encode {uri}: {e}"), None))?;
    Ok(ReadResourceResult::new(vec![
        ResourceContents::text(text, uri).with_mime_type("application/json"),
    ]))
}

/// One session's subscriptions, its log level and its listener.
#[derive(Debug, Default)]
pub struct SessionPush {
    uris: Mutex<HashSet<String>>,
    listening: AtomicBool,
    /// The least severe log message sent (`logging/setLevel`), as [`severity`]; 0 (debug,
    /// everything) until the client sets one.
    min_level: AtomicU8,
}

/// `level`'s rank, debug 0 to emergency 7.
fn severity(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}

impl SessionPush {
    /// `logging/setLevel`: log messages less severe than `level` are not sent from now on.
    pub fn set_level(&self, level: LoggingLevel) {
        self.min_level.store(severity(level), Ordering::Relaxed);
    }

    /// Whether a message at `level` is sent.
    fn wants(&self, level: LoggingLevel) -> bool {
        severity(level) >= self.min_level.load(Ordering::Relaxed)
    }

    /// Subscribes to `uri` (a configured script's resource), starting the session's listener
    /// on `peer` at the first subscription.
    pub fn subscribe(
        self: &Arc<Self>,
        sup: &Arc<Supervisor>,
        peer: &Peer<RoleServer>,
        uri: &str,
    ) -> Result<(), ErrorData> {
        if parse(uri).is_none_or(|(_, name)| sup.catalog().get(name).is_none()) {
            return Err(unknown(uri, sup));
        }
        self.uris
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(uri.to_owned());
        if !self.listening.swap(true, Ordering::AcqRel) {
            let receiver = sup.events().subscribe();
            tokio::spawn(listen(Arc::clone(self), receiver, peer.clone()));
        }
        Ok(())
    }

    /// Drops `uri` from the subscriptions (unknown ones too: unsubscribing is idempotent).
    pub fn unsubscribe(&self, uri: &str) {
        self.uris
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(uri);
    }

    /// The subscribed URIs among `name`'s two.
    fn subscribed(&self, name: &str) -> Vec<String> {
        let uris = self.uris.lock().unwrap_or_else(|e| e.into_inner());
        [Kind::Process, Kind::Logs]
            .into_iter()
            .map(|k| uri(k, name))
            .filter(|u| uris.contains(u))
            .collect()
    }

    /// Every subscribed URI.
    fn all(&self) -> Vec<String> {
        let uris = self.uris.lock().unwrap_or_else(|e| e.into_inner());
        uris.iter().cloned().collect()
    }
}

/// The session's listener: turns run events into notifications until the client is gone.
async fn listen(
    push: Arc<SessionPush>,
    mut events: tokio::sync::broadcast::Receiver<RunEvent>,
    peer: Peer<RoleServer>,
) {
    loop {
        let (uris, event) = match events.recv().await {
            Ok(event) => (push.subscribed(event.name()), Some(event)),
            // Too far behind: anything subscribed may have changed.
            Err(RecvError::Lagged(_)) => (push.all(), None),
            Err(RecvError::Closed) => return,
        };
        if uris.is_empty() {
            continue;
        }
        for uri in uris {
            if let Err(e) = peer
                .notify_resource_updated(ResourceUpdatedNotificationParam::new(uri))
                .await
            {
                tracing::debug!(error = %e, "the client is gone; its listener ends");
                return;
            }
        }
        if let Some(event) = event {
            let level = match event.kind {
                RunEventKind::Ready(_) => LoggingLevel::Info,
                RunEventKind::Ended(exit) if exit.success() => LoggingLevel::Info,
                RunEventKind::Ended(_) => LoggingLevel::Warning,
                RunEventKind::SpawnFailed(_) => LoggingLevel::Error,
            };
            if !push.wants(level) {
                continue;
            }
            let data = serde_json::json!({
                "processId": event.id.to_string(),
                "name": event.name(),
                "event": event.kind_str(),
                "reason": event.reason(),
                "at": super::view::rfc3339(event.at),
            });
            let sent = peer
                .notify_logging_message(
                    LoggingMessageNotificationParam::new(level, data).with_logger("procman"),
                )
                .await;
            if sent.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_name_a_kind_and_a_script() {
        assert_eq!(uri(Kind::Process, "web"), "procman://process/web");
        assert_eq!(uri(Kind::Logs, "web"), "procman://logs/web");
        assert_eq!(parse("procman://process/web"), Some((Kind::Process, "web")));
        assert_eq!(
            parse("procman://logs/api:dev"),
            Some((Kind::Logs, "api:dev"))
        );
        assert_eq!(parse("procman://process/"), None);
        assert_eq!(parse("procman://other/web"), None);
        assert_eq!(parse("file:///etc/passwd"), None);
    }

    #[test]
    fn a_session_hears_only_the_scripts_it_subscribed_to() {
        let push = SessionPush::default();
        push.uris.lock().unwrap().insert(uri(Kind::Process, "web"));
        assert_eq!(push.subscribed("web"), ["procman://process/web"]);
        assert!(push.subscribed("api").is_empty());
        push.uris.lock().unwrap().insert(uri(Kind::Logs, "web"));
        assert_eq!(push.subscribed("web").len(), 2);
        push.unsubscribe("procman://process/web");
        push.unsubscribe("procman://process/never");
        assert_eq!(push.subscribed("web"), ["procman://logs/web"]);
        assert_eq!(push.all(), ["procman://logs/web"]);
    }

    #[test]
    fn set_level_drops_what_is_less_severe() {
        let push = SessionPush::default();
        assert!(push.wants(LoggingLevel::Debug));
        push.set_level(LoggingLevel::Warning);
        assert!(!push.wants(LoggingLevel::Info));
        assert!(push.wants(LoggingLevel::Warning));
        assert!(push.wants(LoggingLevel::Error));
        push.set_level(LoggingLevel::Debug);
        assert!(push.wants(LoggingLevel::Info));
    }
}
