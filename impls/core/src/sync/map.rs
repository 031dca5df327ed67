//! [`ConcurrentMap`]: a sharded concurrent hash map (dashmap in production).
//!
//! The API is closure-based so that no shard guard escapes: callers cannot hold a shard lock
//! across other work by accident, and the model backends need no guard types.

use std::borrow::Borrow;
use std::fmt;
use std::hash::Hash;

type Hasher = foldhash::fast::RandomState;

/// A concurrent map from `K` to `V`.
pub struct ConcurrentMap<K, V> {
    inner: dashmap::DashMap<K, V, Hasher>,
}

/// What [`ConcurrentMap::upsert`] decided.
#[derive(Debug)]
pub enum Upsert<V, R> {
    /// Insert (or replace with) this value, and return `R`.
    Put(V, R),
    /// Leave the map as it is, and return `R`.
    Keep(R),
}

impl<K: Eq + Hash, V> Default for ConcurrentMap<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Eq + Hash, V> ConcurrentMap<K, V> {
    /// An empty map.
    pub fn new() -> Self {
        ConcurrentMap {
            inner: dashmap::DashMap::with_hasher(Hasher::default()),
        }
    }

    /// Runs `f` on the value of `key`, if any, under the shard's read lock.
    #[inline]
    pub fn get_with<Q, R>(&self, key: &Q, f: impl FnOnce(&V) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inner.get(key).map(|r| f(r.value()))
    }

    /// A clone of the value of `key`.
    pub fn get_cloned<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        self.get_with(key, V::clone)
    }

    /// Inserts or replaces; returns the old value.
    pub fn insert(&self, key: K, value: V) -> Option<V> {
        self.inner.insert(key, value)
    }

    /// Decides under the shard's write lock, atomically with respect to other writers of `key`,
    /// whether to put a new value, seeing the current one.
    pub fn upsert<R>(&self, key: K, decide: impl FnOnce(Option<&V>) -> Upsert<V, R>) -> R {
        match self.inner.entry(key) {
            dashmap::Entry::Occupied(mut e) => match decide(Some(e.get())) {
                Upsert::Put(v, r) => {
                    e.insert(v);
                    r
                }
                Upsert::Keep(r) => r,
            },
            dashmap::Entry::Vacant(e) => match decide(None) {
                Upsert::Put(v, r) => {
                    e.insert(v);
                    r
                }
                Upsert::Keep(r) => r,
            },
        }
    }

    /// Removes `key` if `pred` holds for its value, under the shard's write lock.
    pub fn remove_if<Q>(&self, key: &Q, pred: impl FnOnce(&V) -> bool) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inner.remove_if(key, |_, v| pred(v)).map(|(_, v)| v)
    }

    /// Calls `f` on every entry, one shard lock at a time. Not a consistent snapshot of the
    /// whole map: entries added or removed during the walk may or may not be seen.
    pub fn for_each(&self, mut f: impl FnMut(&K, &V)) {
        for r in self.inner.iter() {
            f(r.key(), r.value());
        }
    }

    /// Entries now (approximate under concurrent writes).
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }
}

impl<K: Eq + Hash + fmt::Debug, V: fmt::Debug> fmt::Debug for ConcurrentMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConcurrentMap")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}
