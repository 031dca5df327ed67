//! [`ProcessId`]: a name plus a generation, unique for a manager's lifetime.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ProcessError;
use crate::name::Name;

/// Identifies one run of a named process.
///
/// Every start (manual, restart or automatic restart) takes the next value of the
/// manager's generation counter, so two starts in the same second — or the same
/// nanosecond — never collide, unlike Brummer's timestamp-derived ids.
///
/// `Copy`: the name is interned ([`Name`]), so copying an id writes no shared memory.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ProcessId {
    /// The process name.
    pub name: Name,
    /// The manager-wide start counter at this start (1-based).
    pub generation: u64,
}

impl ProcessId {
    /// Builds an id (interning the name unless it is a [`Name`] already).
    pub fn new(name: impl Into<Name>, generation: u64) -> Self {
        ProcessId {
            name: name.into(),
            generation,
        }
    }
}

impl fmt::Display for ProcessId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.name, self.generation)
    }
}

impl fmt::Debug for ProcessId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The error for a string that is not `NAME#GENERATION`.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a process id; ids look like NAME#GENERATION, e.g. web#3")]
pub struct BadProcessId(pub String);

impl FromStr for ProcessId {
    type Err = BadProcessId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, generation) = s.rsplit_once('#').ok_or_else(|| BadProcessId(s.into()))?;
        let generation = generation.parse().map_err(|_| BadProcessId(s.into()))?;
        if name.is_empty() {
            return Err(BadProcessId(s.into()));
        }
        Ok(ProcessId::new(name, generation))
    }
}

/// How a caller names the process it means: by name (the current run) or by exact id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target<'a> {
    /// The current run of the process with this name.
    Name(&'a str),
    /// Exactly this run; an older generation is reported as superseded.
    Id(&'a ProcessId),
}

impl Target<'_> {
    /// The name part of the target.
    pub fn name(&self) -> &str {
        match self {
            Target::Name(name) => name,
            Target::Id(id) => &id.name,
        }
    }

    /// The contract's one rule for a target of a name the manager knows, whose first run had
    /// generation `first_generation` and whose current run is `current`; every design calls
    /// it.
    ///
    /// - by name: the current run;
    /// - by id of the current generation: the current run;
    /// - by id of an older run of this name (`first_generation <= g < current`):
    ///   [`ProcessError::Superseded`], naming the current run;
    /// - any other generation, below the name's first run (generations are manager-wide, so
    ///   another name may have used it) or beyond its current run: [`ProcessError::NotFound`],
    ///   naming the id asked for.
    ///
    /// Allocates only on the `NotFound` path.
    #[inline]
    pub fn check_run(
        &self,
        first_generation: u64,
        current: &ProcessId,
    ) -> Result<(), ProcessError> {
        let Target::Id(asked) = self else {
            return Ok(());
        };
        if asked.generation == current.generation {
            Ok(())
        } else if (first_generation..current.generation).contains(&asked.generation) {
            Err(ProcessError::Superseded {
                asked: **asked,
                current: *current,
            })
        } else {
            Err(ProcessError::NotFound {
                name: asked.to_string(),
            })
        }
    }
}

impl<'a> From<&'a str> for Target<'a> {
    fn from(name: &'a str) -> Self {
        Target::Name(name)
    }
}

impl<'a> From<&'a ProcessId> for Target<'a> {
    fn from(id: &'a ProcessId) -> Self {
        Target::Id(id)
    }
}

impl fmt::Display for Target<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Name(name) => write!(f, "{name:?}"),
            Target::Id(id) => write!(f, "{id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_text() {
        let id = ProcessId::new("web#api", 42);
        assert_eq!(id.to_string(), "web#api#42");
        assert_eq!("web#api#42".parse::<ProcessId>().unwrap(), id);
        assert!("web".parse::<ProcessId>().is_err());
        assert!("#3".parse::<ProcessId>().is_err());
    }

    /// Each arm of the generation rule, at its edges: the name's first run was generation 3,
    /// its current run is 7 (generations are manager-wide, so 1, 2 and 4-6 may be other
    /// names').
    #[test]
    fn check_run_at_each_edge() {
        let current = ProcessId::new("web", 7);
        let check = |g: u64| Target::Id(&ProcessId::new("web", g)).check_run(3, &current);
        assert_eq!(Target::Name("web").check_run(3, &current), Ok(()));
        assert_eq!(check(7), Ok(()));
        for older in [3, 4, 6] {
            assert_eq!(
                check(older),
                Err(ProcessError::Superseded {
                    asked: ProcessId::new("web", older),
                    current
                }),
                "generation {older}"
            );
        }
        for never in [0, 1, 2, 8, u64::MAX] {
            assert_eq!(
                check(never),
                Err(ProcessError::NotFound {
                    name: format!("web#{never}")
                }),
                "generation {never}"
            );
        }
    }
}
