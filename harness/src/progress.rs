//! Progress on stderr for runs longer than a few seconds: one bar over the planned seconds of
//! a scenario, hidden when stderr is not a terminal (CI logs stay clean).
//!
//! The bar is redrawn only by the coordinating thread while it waits for a run's timed region
//! to pass, at most four times a second, and has no ticker thread of its own: its cost to the
//! measured clients is a few allocations per second, which the process-wide allocation figure
//! includes and the per-client figures do not.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often the bar is redrawn while a run is in progress.
pub const REDRAW_EVERY: Duration = Duration::from_millis(250);

/// A progress display, or none.
#[derive(Debug, Clone)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// No display (library use, tests).
    pub fn hidden() -> Progress {
        Progress { bar: None }
    }

    /// A bar on stderr over `total` planned time, shown only when stderr is a terminal and the
    /// plan is longer than three seconds.
    pub fn stderr(title: &str, total: Duration) -> Progress {
        let target = ProgressDrawTarget::stderr_with_hz(4);
        if target.is_hidden() || total < Duration::from_secs(3) {
            return Progress::hidden();
        }
        let bar = ProgressBar::with_draw_target(Some(total.as_millis() as u64), target);
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:.bold} [{bar:30}] {elapsed_precise}/~{duration_precise} {msg}",
            )
            .expect("the template is valid")
            .progress_chars("=> "),
        );
        bar.set_prefix(title.to_owned());
        Progress { bar: Some(bar) }
    }

    /// Says what is running now.
    pub fn message(&self, msg: String) {
        if let Some(bar) = &self.bar {
            bar.set_message(msg);
        }
    }

    /// Moves the bar to `done` of the planned time.
    pub fn at(&self, done: Duration) {
        if let Some(bar) = &self.bar {
            bar.set_position(done.as_millis() as u64);
        }
    }

    /// Prints `line` above the bar (or to stderr without one).
    pub fn note(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
