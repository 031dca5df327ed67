//! [`Name`]: an interned string, so that ids, statuses and snapshots copy without touching any
//! shared counter.
//!
//! A snapshot used to carry its name as an `Arc<str>` (and a failure reason as another), so every
//! clone of it — every `status` — incremented a reference count on a cache line that every reader
//! of that name shares: an atomic read-modify-write that bounces between cores. A `Name` is a
//! `&'static str` from a process-wide table instead: copying it is copying two words.
//!
//! # The table
//!
//! [`Name::new`] looks the text up in one process-wide [`Interner`] and, the first time, leaks one
//! copy of it. Lookup and insert happen under one acquisition of the table's lock, so each
//! distinct text is leaked exactly once and two `Name`s of the same text always hold the same
//! pointer (equality compares the pointer first). Interning is paid where a name enters the
//! system — a start, a parsed id, a deserialised snapshot — never on a read: `status` takes a
//! `&str` and compares it with the interned key.
//!
//! The cost is memory that is never freed: one copy of each distinct process name and failure
//! reason for the life of the process. Both sets are bounded by what a user configures (names are
//! at most [`crate::spec::MAX_NAME_LEN`] bytes; a failure reason is an OS error and a path), so
//! the table stays the size of the configuration.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::HashSet;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::{Arc, LazyLock};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The set an [`Interner`] guards.
pub type InternSet = HashSet<&'static str, foldhash::fast::RandomState>;

/// The lock an [`Interner`] keeps its set behind. The process-wide table uses `std`'s mutex (it
/// must exist outside any model checker's run); the loom and shuttle models build an `Interner`
/// over the checker's mutex, so they check this same code.
pub trait InternLock: Send + Sync {
    /// A lock around an empty set.
    fn empty() -> Self;
    /// Runs `f` with the set, under the lock.
    fn with<R>(&self, f: impl FnOnce(&mut InternSet) -> R) -> R;
}

impl InternLock for std::sync::Mutex<InternSet> {
    fn empty() -> Self {
        std::sync::Mutex::new(InternSet::default())
    }

    fn with<R>(&self, f: impl FnOnce(&mut InternSet) -> R) -> R {
        // A panic inside `f` cannot leave the set inconsistent (an insert either happened or
        // not), so a poisoned lock is still good.
        let mut set = self.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut set)
    }
}

impl InternLock for crate::sync::Mutex<InternSet> {
    fn empty() -> Self {
        crate::sync::Mutex::new(InternSet::default())
    }

    fn with<R>(&self, f: impl FnOnce(&mut InternSet) -> R) -> R {
        f(&mut self.lock())
    }
}

/// A table of leaked strings: each distinct text is leaked once and handed out as the same
/// `&'static str` ever after.
pub struct Interner<L: InternLock = std::sync::Mutex<InternSet>> {
    set: L,
}

impl<L: InternLock> Default for Interner<L> {
    fn default() -> Self {
        Interner { set: L::empty() }
    }
}

impl<L: InternLock> fmt::Debug for Interner<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let len = self.set.with(|set| set.len());
        f.debug_struct("Interner").field("len", &len).finish()
    }
}

impl<L: InternLock> Interner<L> {
    /// The one copy of `text`, leaked the first time it is asked for.
    pub fn intern(&self, text: &str) -> &'static str {
        // SEEDED BUG `seeded-bug-intern-check-then-insert` (procman-races catalogue): the lookup
        // and the insert take the lock separately, so two threads interning the same new text
        // both miss, both leak a copy, and hold different pointers for one name.
        #[cfg(feature = "seeded-bug-intern-check-then-insert")]
        {
            if let Some(found) = self.set.with(|set| set.get(text).copied()) {
                return found;
            }
            let leaked: &'static str = Box::leak(Box::from(text));
            self.set.with(|set| set.insert(leaked));
            leaked
        }
        #[cfg(not(feature = "seeded-bug-intern-check-then-insert"))]
        self.set.with(|set| match set.get(text) {
            Some(found) => found,
            None => {
                let leaked: &'static str = Box::leak(Box::from(text));
                set.insert(leaked);
                leaked
            }
        })
    }

    /// Distinct texts interned so far.
    pub fn len(&self) -> usize {
        self.set.with(|set| set.len())
    }

    /// True before the first intern.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The process-wide table behind [`Name::new`].
static NAMES: LazyLock<Interner> = LazyLock::new(Interner::default);

/// An interned string: a process name (in [`crate::ProcessId`]) or a failure reason (in
/// [`crate::Status::Failed`]). `Copy`; compares, hashes and orders as its text.
#[derive(Clone, Copy)]
pub struct Name(&'static str);

impl Name {
    /// The interned copy of `text` (see the module docs: one lock acquisition, and one leaked
    /// allocation the first time a text is seen).
    pub fn new(text: &str) -> Self {
        Name(NAMES.intern(text))
    }

    /// Wraps a string interned by `interner` (the models use their own tables).
    pub fn from_interned(text: &'static str) -> Self {
        Name(text)
    }

    /// The text.
    #[inline]
    pub fn as_str(&self) -> &'static str {
        self.0
    }

    /// Whether both hold the same interned pointer (always true for equal texts from one table).
    #[inline]
    pub fn same_pointer(a: Name, b: Name) -> bool {
        std::ptr::eq(a.0, b.0)
    }
}

impl Deref for Name {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.0
    }
}

impl AsRef<str> for Name {
    #[inline]
    fn as_ref(&self) -> &str {
        self.0
    }
}

impl Borrow<str> for Name {
    #[inline]
    fn borrow(&self) -> &str {
        self.0
    }
}

impl PartialEq for Name {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        // One table hands out one pointer per text; the text comparison covers names built with
        // `from_interned` from another table.
        std::ptr::eq(self.0, other.0) || self.0 == other.0
    }
}

impl Eq for Name {}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl Hash for Name {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        // As the text, so that maps keyed by `Name` can be probed with a `&str`.
        self.0.hash(state)
    }
}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Name {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp(other.0)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0, f)
    }
}

impl From<&str> for Name {
    fn from(text: &str) -> Self {
        Name::new(text)
    }
}

impl From<&String> for Name {
    fn from(text: &String) -> Self {
        Name::new(text)
    }
}

impl From<String> for Name {
    fn from(text: String) -> Self {
        Name::new(&text)
    }
}

impl From<Arc<str>> for Name {
    fn from(text: Arc<str>) -> Self {
        Name::new(&text)
    }
}

impl From<&Arc<str>> for Name {
    fn from(text: &Arc<str>) -> Self {
        Name::new(text)
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(Name::new(&text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pointer_per_text() {
        let a = Name::new("name-test-web");
        let b = Name::from(String::from("name-test-web"));
        assert!(Name::same_pointer(a, b));
        assert_eq!(a, b);
        assert_ne!(a, Name::new("name-test-api"));
        assert_eq!(&*a, "name-test-web");
        assert!(Name::new("a") < Name::new("b"));
    }

    #[test]
    fn a_private_table_interns_independently() {
        let table: Interner = Interner::default();
        let a = table.intern("x");
        let b = table.intern("x");
        assert!(std::ptr::eq(a, b));
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn serde_round_trip_interns() {
        let name = Name::new("name-test-serde");
        let text = serde_json::to_string(&name).unwrap();
        assert_eq!(text, "\"name-test-serde\"");
        let back: Name = serde_json::from_str(&text).unwrap();
        assert!(Name::same_pointer(name, back));
    }
}
