//! The signals that ask procman to exit.

use tokio::signal::unix::{SignalKind, signal};

/// Completes when SIGTERM, SIGINT or SIGHUP arrives, with the signal's name. A signal whose
/// handler cannot be installed is logged and never fires.
pub async fn terminated() -> &'static str {
    let wait = |kind: SignalKind, name: &'static str| async move {
        match signal(kind) {
            Ok(mut s) => {
                s.recv().await;
                name
            }
            Err(e) => {
                tracing::warn!(signal = name, error = %e, "cannot install a handler");
                std::future::pending().await
            }
        }
    };
    tokio::select! {
        name = wait(SignalKind::terminate(), "SIGTERM") => name,
        name = wait(SignalKind::interrupt(), "SIGINT") => name,
        name = wait(SignalKind::hangup(), "SIGHUP") => name,
    }
}
