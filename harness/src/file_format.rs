//! Reading back a JSON file the harness wrote (result, seeds and Go peer files): the `kind` and
//! `schema_version` are checked before the body, so a wrong or old file is refused with a
//! message that says which and what to do, not with a serde error about some field.

use serde::Deserialize;
use serde::de::DeserializeOwned;

/// What a file of one kind must say in its header.
#[derive(Clone, Copy, Debug)]
pub struct Format {
    /// The `kind` it must carry.
    pub kind: &'static str,
    /// What a file of another kind is not (appended to the kind message, may be empty).
    pub not_a: &'static str,
    /// The `schema_version` this harness reads.
    pub version: u32,
    /// What to do with a file of another version.
    pub fix: &'static str,
}

/// A file that is not of the expected format.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// Not JSON at all.
    #[error("not JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    /// JSON of another kind.
    #[error("kind is {found:?}, not {expected:?}{not_a}")]
    Kind {
        /// The kind it says.
        found: Option<String>,
        /// The kind expected.
        expected: &'static str,
        /// What it is therefore not (`: not a harness result file`), or empty.
        not_a: &'static str,
    },
    /// The right kind, another schema version.
    #[error("schema_version is {found:?}; this harness reads version {expected} ({fix})")]
    Version {
        /// The version it says.
        found: Option<u32>,
        /// The version this harness reads.
        expected: u32,
        /// What to do.
        fix: &'static str,
    },
    /// The right kind and version, and a body that does not parse.
    #[error("malformed: {0}")]
    Malformed(#[source] serde_json::Error),
}

/// Parses `text` as a file of `format`.
pub fn parse<T: DeserializeOwned>(text: &str, format: &Format) -> Result<T, FormatError> {
    #[derive(Deserialize)]
    struct Header {
        schema_version: Option<u32>,
        kind: Option<String>,
    }
    let header: Header = serde_json::from_str(text).map_err(FormatError::NotJson)?;
    if header.kind.as_deref() != Some(format.kind) {
        return Err(FormatError::Kind {
            found: header.kind,
            expected: format.kind,
            not_a: format.not_a,
        });
    }
    if header.schema_version != Some(format.version) {
        return Err(FormatError::Version {
            found: header.schema_version,
            expected: format.version,
            fix: format.fix,
        });
    }
    serde_json::from_str(text).map_err(FormatError::Malformed)
}
