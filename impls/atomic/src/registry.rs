//! [`Registry`]: name → [`Entry`], in one of two forms measured against each other.
//!
//! - [`Registry::Table`] (what `AtomicManager::new` uses): an append-only open-addressing table of
//!   `AtomicPtr<Entry>`, sized once from `max_processes`, plus the same entries in name order in a
//!   `SwapCell` for `list`.
//!   - **Lookup** hashes the name, then loads slots (`Acquire`) until it meets the name or an
//!     empty slot: plain loads, no guard, no lock, nothing written. An entry is never removed
//!     or moved, and the table holds one strong reference to each until it is dropped with the
//!     manager, so a `&Entry` found there lives as long as the registry.
//!   - **Insert** (the first start of a name) claims the first empty slot of the probe sequence
//!     by compare-and-swap from null. Two starts of one new name probe the same sequence, so
//!     one CAS wins and the other meets the winner's entry in that slot and uses it.
//!   - **Listing.** The name-ordered `Vec` is copied and swapped by CAS when a name is added
//!     (O(names), rare). An entry counts as existing once it is in that list: whoever finds an
//!     entry whose `listed` flag is not set yet — the inserter, a racing start, a reader — puts it
//!     there first (idempotent), so nothing a `status` has returned is missing from a later
//!     `list`. The fast path is one `Acquire` load of the flag.
//!   - The table never fills: it has at least twice as many slots as the names it may hold
//!     ([`Registry::capacity`]), so every probe ends at an empty slot.
//! - [`Registry::Sharded`] (kept for comparison): the facade's `ConcurrentMap` (dashmap). A lookup
//!   takes its shard's read lock — an atomic read-modify-write on a word that every reader of that
//!   shard shares, so under many cores the readers of a hot shard contend on one cache line even
//!   though none of them waits for a writer.
//!
//! An enum rather than a trait object: the branch is perfectly predicted and the closures stay
//! generic (inlined).

use std::hash::BuildHasher;
use std::ptr::{self, NonNull};

use procman_core::Name;
use procman_core::sync::atomic::{AtomicPtr, Ordering};
use procman_core::sync::{Arc, ConcurrentMap, SwapCell, Upsert};

use crate::entry::Entry;

/// The hasher both forms use (the one the facade's `ConcurrentMap` uses), so that the
/// comparison measures the synchronisation, not the hash function.
#[cfg(not(any(feature = "loom", feature = "shuttle")))]
type NameHasher = foldhash::fast::RandomState;
/// Under a checker the hash must be the same in every execution: a name's probe sequence decides
/// which slot atomics a thread touches, and loom replays a schedule assuming the same accesses.
#[cfg(any(feature = "loom", feature = "shuttle"))]
type NameHasher = foldhash::fast::FixedState;

/// Most names a table is built for: with the default `max_processes` (1024) the table has 2048
/// slots (16 KiB); the cap keeps a huge configured limit from allocating a huge table.
pub(crate) const MAX_TABLE_NAMES: usize = if cfg!(any(feature = "loom", feature = "shuttle")) {
    // Each slot is a checker atomic that the model tracks in every execution.
    16
} else {
    1 << 16
};

/// A pointer to an entry the table owns (one strong count, released when the table drops).
#[derive(Clone, Copy, Debug)]
struct EntryRef(NonNull<Entry>);

// SAFETY: an `EntryRef` is a shared reference to an `Entry` (which is `Sync`) that the table
// keeps alive; sending or sharing it is sending or sharing `&Entry`.
unsafe impl Send for EntryRef {}
// SAFETY: as above.
unsafe impl Sync for EntryRef {}

impl EntryRef {
    /// The entry. Valid while the table that owns it lives.
    #[inline]
    fn get(&self) -> &Entry {
        // SAFETY: the table holds a strong count on every entry it ever published and drops
        // them only in its own `Drop`; an `EntryRef` never outlives the table it came from.
        unsafe { self.0.as_ref() }
    }
}

/// The append-only table (see the module docs).
#[derive(Debug)]
pub(crate) struct Table {
    /// `Arc::into_raw` pointers, null while empty; a power of two long.
    slots: Box<[AtomicPtr<Entry>]>,
    /// `slots.len() - 1`.
    mask: usize,
    hasher: NameHasher,
    /// Every listed entry, sorted by name.
    ordered: SwapCell<Vec<EntryRef>>,
}

impl Table {
    fn new(names: usize) -> Self {
        let len = (names.clamp(1, MAX_TABLE_NAMES) * 2).next_power_of_two();
        Table {
            slots: (0..len).map(|_| AtomicPtr::new(ptr::null_mut())).collect(),
            mask: len - 1,
            hasher: NameHasher::default(),
            ordered: SwapCell::new(Vec::new()),
        }
    }

    /// The first slot of `name`'s probe sequence.
    #[inline]
    fn home(&self, name: &str) -> usize {
        self.hasher.hash_one(name) as usize & self.mask
    }

    /// The entry of `name`, listed or not.
    #[inline]
    fn find(&self, name: &str) -> Option<EntryRef> {
        let mut at = self.home(name);
        loop {
            let entry = NonNull::new(self.slots[at].load(Ordering::Acquire))?;
            let entry = EntryRef(entry);
            if entry.get().name() == name {
                return Some(entry);
            }
            at = (at + 1) & self.mask;
        }
    }

    /// Puts `entry` in the name order unless it is there, then sets its flag (see the module
    /// docs). The fast path is one load.
    #[inline]
    fn ensure_listed(&self, entry: EntryRef) {
        if !entry.get().is_listed() {
            self.list(entry);
        }
    }

    #[cold]
    fn list(&self, entry: EntryRef) {
        let name = entry.get().name();
        let mut current = self.ordered.load();
        while let Err(at) = current.binary_search_by(|e| e.get().name().cmp(&name)) {
            let mut next = Vec::with_capacity(current.len() + 1);
            next.extend_from_slice(&current[..at]);
            next.push(entry);
            next.extend_from_slice(&current[at..]);
            // SEEDED BUG `seeded-bug-registry-store-not-cas` (procman-races catalogue): the
            // grown order is stored over whatever the cell holds now, so a name another thread
            // listed since `current` was loaded disappears from `list`.
            #[cfg(feature = "seeded-bug-registry-store-not-cas")]
            {
                self.ordered.store(Arc::new(next));
                break;
            }
            #[cfg(not(feature = "seeded-bug-registry-store-not-cas"))]
            match self.ordered.compare_and_swap(&current, Arc::new(next)) {
                Ok(()) => break,
                Err(found) => current = found,
            }
        }
        entry.get().mark_listed();
    }

    fn insert_if_absent(&self, name: Name, entry: Arc<Entry>) -> Result<(), Arc<Entry>> {
        let raw = Arc::into_raw(entry).cast_mut();
        let mut at = self.home(&name);
        loop {
            let mut found = self.slots[at].load(Ordering::Acquire);
            if found.is_null() {
                // SEEDED BUG `seeded-bug-table-slot-store-not-cas` (procman-races catalogue): the
                // empty slot is claimed with a plain store, so two first starts of one name can
                // both believe they inserted it, and one of their entries is lost.
                #[cfg(feature = "seeded-bug-table-slot-store-not-cas")]
                {
                    self.slots[at].store(raw, Ordering::Release);
                    self.list(EntryRef(NonNull::new(raw).expect("from Arc::into_raw")));
                    return Ok(());
                }
                #[cfg(not(feature = "seeded-bug-table-slot-store-not-cas"))]
                match self.slots[at].compare_exchange(
                    ptr::null_mut(),
                    raw,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => {
                        self.list(EntryRef(NonNull::new(raw).expect("from Arc::into_raw")));
                        return Ok(());
                    }
                    Err(winner) => found = winner,
                }
            }
            let existing = EntryRef(NonNull::new(found).expect("checked non-null"));
            if existing.get().name() == name {
                // SAFETY: `raw` came from `Arc::into_raw` above and was never published.
                drop(unsafe { Arc::from_raw(raw) });
                self.ensure_listed(existing);
                return Err(arc_of(existing));
            }
            at = (at + 1) & self.mask;
        }
    }
}

/// A new strong reference to a table's entry.
fn arc_of(entry: EntryRef) -> Arc<Entry> {
    let raw = entry.0.as_ptr().cast_const();
    // SAFETY: `raw` came from `Arc::into_raw` and the table still holds that strong count, so
    // the allocation is live; we add a count and take it back as an `Arc`.
    unsafe {
        Arc::increment_strong_count(raw);
        Arc::from_raw(raw)
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        for slot in self.slots.iter() {
            let raw = slot.load(Ordering::Acquire);
            if !raw.is_null() {
                // SAFETY: every non-null slot holds the strong count `insert_if_absent` gave it,
                // released exactly once, here.
                drop(unsafe { Arc::from_raw(raw.cast_const()) });
            }
        }
    }
}

/// Name → entry. Entries are only ever added.
#[derive(Debug)]
pub(crate) enum Registry {
    /// dashmap, sharded reader-writer locks.
    Sharded(ConcurrentMap<Name, Arc<Entry>>),
    /// The append-only table.
    Table(Table),
}

impl Registry {
    /// An empty sharded (dashmap) registry.
    pub(crate) fn sharded() -> Self {
        Registry::Sharded(ConcurrentMap::new())
    }

    /// An empty table for up to `names` names (at most [`MAX_TABLE_NAMES`]).
    pub(crate) fn table(names: usize) -> Self {
        Registry::Table(Table::new(names))
    }

    /// Which form this is, for reports: "dashmap" or "table".
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Registry::Sharded(_) => "dashmap",
            Registry::Table(_) => "table",
        }
    }

    /// Most names this registry can hold: the table's [`MAX_TABLE_NAMES`], else unbounded.
    pub(crate) fn capacity(&self) -> usize {
        match self {
            Registry::Sharded(_) => usize::MAX,
            Registry::Table(table) => table.slots.len() / 2,
        }
    }

    /// Runs `f` on the entry of `name`, if any. `f` must be short and must not block: under the
    /// sharded form it runs under the shard's read lock.
    #[inline]
    pub(crate) fn get_with<R>(&self, name: &str, f: impl FnOnce(&Entry) -> R) -> Option<R> {
        match self {
            Registry::Sharded(map) => map.get_with(name, |entry| f(entry)),
            Registry::Table(table) => {
                let entry = table.find(name)?;
                table.ensure_listed(entry);
                Some(f(entry.get()))
            }
        }
    }

    /// The entry of `name`, if any.
    pub(crate) fn get(&self, name: &str) -> Option<Arc<Entry>> {
        match self {
            Registry::Sharded(map) => map.get_with(name, Arc::clone),
            Registry::Table(table) => {
                let entry = table.find(name)?;
                table.ensure_listed(entry);
                Some(arc_of(entry))
            }
        }
    }

    /// Adds `entry` under `name` unless the name is taken; `Err` carries the entry already there.
    pub(crate) fn insert_if_absent(&self, name: Name, entry: Arc<Entry>) -> Result<(), Arc<Entry>> {
        match self {
            Registry::Sharded(map) => map.upsert(name, |existing| match existing {
                Some(existing) => Upsert::Keep(Err(existing.clone())),
                None => Upsert::Put(entry, Ok(())),
            }),
            Registry::Table(table) => table.insert_if_absent(name, entry),
        }
    }

    /// Every entry now. Sharded: a walk shard by shard (entries added meanwhile may be missed);
    /// table: one consistent name order.
    pub(crate) fn entries(&self) -> Vec<Arc<Entry>> {
        match self {
            Registry::Sharded(map) => {
                let mut out = Vec::with_capacity(map.len());
                map.for_each(|_, entry| out.push(entry.clone()));
                out
            }
            Registry::Table(table) => table.ordered.load().iter().map(|e| arc_of(*e)).collect(),
        }
    }

    /// Calls `f` on every entry. `f` must be short and must not block (shard read locks).
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Entry)) {
        match self {
            Registry::Sharded(map) => map.for_each(|_, entry| f(entry)),
            Registry::Table(table) => table.ordered.load().iter().for_each(|e| f(e.get())),
        }
    }

    /// `f` of every entry, in name order. Table: one load and one walk of the kept order, one
    /// allocation; sharded: collects, sorts, maps. `f` must be short and must not block.
    pub(crate) fn map_by_name<T>(&self, mut f: impl FnMut(&Entry) -> T) -> Vec<T> {
        match self {
            Registry::Sharded(_) => {
                let mut entries = self.entries();
                entries.sort_unstable_by_key(|entry| entry.name());
                entries.iter().map(|entry| f(entry)).collect()
            }
            Registry::Table(table) => table.ordered.load().iter().map(|e| f(e.get())).collect(),
        }
    }

    /// Names registered now.
    pub(crate) fn len(&self) -> usize {
        match self {
            Registry::Sharded(map) => map.len(),
            Registry::Table(table) => table.ordered.load().len(),
        }
    }
}

#[cfg(all(test, not(any(feature = "loom", feature = "shuttle"))))]
mod tests {
    use super::*;
    use crate::entry::tests::entry;

    fn listed(registry: &Registry) -> Vec<String> {
        registry.map_by_name(|e| e.name().to_string())
    }

    /// The window between an inserter's compare-and-swap and its own `list()`: a reader that
    /// finds the name there lists it before answering, so a `list` after that answer has it.
    #[test]
    fn a_reader_that_finds_an_unlisted_name_lists_it() {
        let table = Table::new(4);
        let raw = Arc::into_raw(entry("b")).cast_mut();
        let slot = &table.slots[table.home("b")];
        slot.compare_exchange(ptr::null_mut(), raw, Ordering::AcqRel, Ordering::Acquire)
            .expect("an empty table");
        let registry = Registry::Table(table);
        assert!(
            listed(&registry).is_empty(),
            "not listed before anyone found it"
        );
        let name = registry.get_with("b", |e| e.name().to_string());
        assert_eq!(name.as_deref(), Some("b"));
        assert_eq!(listed(&registry), ["b"], "the finder listed it");
        assert_eq!(registry.len(), 1);
        // The inserter's own list() then finds it there and adds nothing.
        let Registry::Table(table) = &registry else {
            unreachable!()
        };
        table.list(EntryRef(NonNull::new(raw).expect("non-null")));
        assert_eq!(listed(&registry), ["b"]);
        // `get` helps the same way.
        let raw = Arc::into_raw(entry("a")).cast_mut();
        table.slots[table.home("a")..]
            .iter()
            .chain(&table.slots[..table.home("a")])
            .find(|slot| {
                slot.compare_exchange(ptr::null_mut(), raw, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
            })
            .expect("a free slot");
        assert!(registry.get("a").is_some());
        assert_eq!(listed(&registry), ["a", "b"]);
        assert_eq!(registry.len(), 2);
    }

    #[test]
    fn dropping_the_table_releases_every_entry() {
        let registry = Registry::table(8);
        let mut weak = Vec::new();
        for name in ["a", "b", "c"] {
            let entry = entry(name);
            weak.push(Arc::downgrade(&entry));
            registry.insert_if_absent(entry.name(), entry).expect("new");
        }
        let again = entry("b");
        let other = registry
            .insert_if_absent(again.name(), again)
            .expect_err("taken");
        drop(other);
        assert!(weak.iter().all(|w| w.upgrade().is_some()));
        drop(registry);
        assert!(
            weak.iter().all(|w| w.upgrade().is_none()),
            "the table holds one count per entry and gives it back when dropped"
        );
    }

    #[test]
    fn capacity_leaves_half_the_table_empty() {
        for names in [1, 10, 1024, MAX_TABLE_NAMES, usize::MAX] {
            let registry = Registry::table(names);
            let Registry::Table(table) = &registry else {
                unreachable!()
            };
            let capacity = registry.capacity();
            assert!(capacity >= names.min(MAX_TABLE_NAMES), "{names} names fit");
            assert!(
                table.slots.len() >= 2 * capacity,
                "{names}: {capacity} names in {} slots would fill the probe",
                table.slots.len()
            );
        }
        assert_eq!(Registry::table(usize::MAX).capacity(), MAX_TABLE_NAMES);
        assert_eq!(Registry::sharded().capacity(), usize::MAX);
    }
}
