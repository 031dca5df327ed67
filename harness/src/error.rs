//! [`HarnessError`]: every way a harness command fails, each naming the thing and the fix.

use std::path::PathBuf;

use crate::scenario::ScenarioError;

/// A harness failure.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// A scenario file is unusable.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The scenarios directory cannot be listed.
    #[error(transparent)]
    ListScenarios(#[from] crate::scenario::files::ListError),
    /// A command-line option cannot be applied; the message names the option and the fix.
    #[error("{0}")]
    Options(String),
    /// A run could not be set up or carried out.
    #[error("scenario {scenario}, design {design}: {message}")]
    Run {
        /// The scenario.
        scenario: String,
        /// The design.
        design: String,
        /// What went wrong and what to do.
        message: String,
    },
    /// A file could not be written.
    #[error("cannot write {}: {source}; check that the directory is writable", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

impl HarnessError {
    /// Makes [`HarnessError::Run`] errors for `scenario` on `design` from a message.
    pub fn run_failure(
        scenario: &str,
        design: crate::contender::Design,
    ) -> impl Fn(String) -> HarnessError + '_ {
        move |message| HarnessError::Run {
            scenario: scenario.to_owned(),
            design: design.name().into(),
            message,
        }
    }
}
