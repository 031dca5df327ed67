//! What a checker can find, and how a failure message says which it was.
//!
//! Every assertion in this crate fails through [`fail`], which tags its message with the
//! [`Finding`]; the checkers' own failures (deadlock, step or branch bound) are recognised by
//! their messages. A seeded-bug test then asserts not only that a checker failed, but that it
//! failed *for the expected reason* — a model that fails for an unrelated reason proves nothing
//! about the bug it was meant to catch.

use std::fmt;

/// A kind of failure a model can report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Finding {
    /// Every thread blocked (loom: "deadlock; threads = ..."; shuttle: "deadlock! blocked
    /// tasks"), including a reader that waits for a stop that waits for that reader.
    Deadlock,
    /// An execution that never ends: loom's branch bound or shuttle's step bound was exceeded,
    /// as by a compare-and-swap retry loop that can never succeed.
    Livelock,
    /// A snapshot broke [`procman_core::ProcessSnapshot::check_invariants`] (a torn read), or a
    /// reader saw a run go backwards.
    Invariant,
    /// The history of calls and returns has no linearization against the sequential
    /// specification (see [`crate::linearizability`]).
    Linearizability,
    /// One name ended up with two runs (two ids, or two children spawned).
    DuplicateRun,
    /// Something outlived what should have ended it: a live run or child after shutdown
    /// returned, a child never reaped, a run left non-terminal.
    Leak,
    /// A call returned an outcome the contract does not allow in that situation (an unexpected
    /// error, a non-terminal snapshot from a stop, two stops seeing different ends).
    Contract,
    /// A panic of the design's own code (an `expect`, an `unreachable!`, a debug assertion).
    Panic,
}

impl Finding {
    /// Every finding.
    pub const ALL: [Finding; 8] = [
        Finding::Deadlock,
        Finding::Livelock,
        Finding::Invariant,
        Finding::Linearizability,
        Finding::DuplicateRun,
        Finding::Leak,
        Finding::Contract,
        Finding::Panic,
    ];

    /// Its short name, as used in tags and the report table.
    pub fn as_str(self) -> &'static str {
        match self {
            Finding::Deadlock => "deadlock",
            Finding::Livelock => "livelock",
            Finding::Invariant => "invariant",
            Finding::Linearizability => "linearizability",
            Finding::DuplicateRun => "duplicate-run",
            Finding::Leak => "leak",
            Finding::Contract => "contract",
            Finding::Panic => "panic",
        }
    }

    /// Which finding a failure message reports.
    pub fn classify(message: &str) -> Finding {
        for finding in Finding::ALL {
            if message.contains(&format!("[procman-races:{}]", finding.as_str())) {
                return finding;
            }
        }
        if message.contains("deadlock; threads") || message.contains("deadlock! blocked tasks") {
            Finding::Deadlock
        } else if message.contains("Model exceeded maximum number of branches")
            || message.contains("exceeded max_steps bound")
        {
            Finding::Livelock
        } else {
            Finding::Panic
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Fails the current model execution with `finding`: a panic whose message carries the tag
/// [`Finding::classify`] reads back.
#[track_caller]
pub fn fail(finding: Finding, what: impl fmt::Display) -> ! {
    panic!("[procman-races:{finding}] {what}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_checker_messages_classify() {
        for finding in Finding::ALL {
            let message = std::panic::catch_unwind(|| fail(finding, "x")).unwrap_err();
            let text = crate::explore::panic_text(message.as_ref());
            assert_eq!(Finding::classify(&text), finding);
        }
        assert_eq!(
            Finding::classify("deadlock; threads = [(0, Blocked)]"),
            Finding::Deadlock
        );
        assert_eq!(
            Finding::classify("deadlock! blocked tasks: [main-thread(0)]"),
            Finding::Deadlock
        );
        assert_eq!(
            Finding::classify("Model exceeded maximum number of branches. This is often"),
            Finding::Livelock
        );
        assert_eq!(
            Finding::classify("exceeded max_steps bound 200000. this might be"),
            Finding::Livelock
        );
        assert_eq!(
            Finding::classify("called `Option::unwrap()`"),
            Finding::Panic
        );
    }
}
