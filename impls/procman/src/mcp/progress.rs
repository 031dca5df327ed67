//! [`Progress`]: `notifications/progress` for a request whose client asked for them.

use std::sync::atomic::{AtomicU64, Ordering};

use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::service::RequestContext;
use rmcp::{Peer, RoleServer};

/// Where a tool reports progress: the client's progress token and the connection to it, or
/// nowhere when the request carried no token.
#[derive(Debug, Default)]
pub struct Progress {
    target: Option<(Peer<RoleServer>, ProgressToken)>,
    /// The last value sent; the specification wants each to be larger than the one before.
    last: AtomicU64,
}

impl Progress {
    /// Progress for the request of `ctx` (nowhere if it has no `_meta.progressToken`).
    pub fn for_request(ctx: &RequestContext<RoleServer>) -> Self {
        Progress {
            target: ctx
                .meta
                .get_progress_token()
                .map(|token| (ctx.peer.clone(), token)),
            last: AtomicU64::new(0),
        }
    }

    /// Progress that goes nowhere.
    pub fn none() -> Self {
        Progress::default()
    }

    /// True when reports reach a client.
    pub fn is_wanted(&self) -> bool {
        self.target.is_some()
    }

    /// Sends `progress` (of `total`, if known) with a message; a value not above the last one
    /// sent is raised so that the sequence keeps increasing. Send failures are ignored: the
    /// client may be gone, and the tool's own result is what matters.
    pub async fn report(&self, progress: u64, total: Option<u64>, message: String) {
        let Some((peer, token)) = &self.target else {
            return;
        };
        let last = self.last.fetch_max(progress, Ordering::Relaxed);
        let value = if progress > last {
            progress
        } else {
            self.last.fetch_add(1, Ordering::Relaxed) + 1
        };
        let mut param =
            ProgressNotificationParam::new(token.clone(), value as f64).with_message(message);
        if let Some(total) = total.filter(|t| *t >= value) {
            param = param.with_total(total as f64);
        }
        if let Err(e) = peer.notify_progress(param).await {
            tracing::debug!(error = %e, "progress notification not sent");
        }
    }
}
