//! [`SwapCell`]: an atomically replaceable `Arc<T>` (arc-swap in production).

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// An `Arc<T>` that readers load without locking and writers replace whole, by store or CAS.
pub struct SwapCell<T> {
    inner: arc_swap::ArcSwap<T>,
}

/// A loaded value. Cheap to hold briefly; do not hold it across long work.
pub struct CellGuard<T> {
    inner: arc_swap::Guard<Arc<T>>,
}

impl<T> Deref for CellGuard<T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: fmt::Debug> fmt::Debug for CellGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T> CellGuard<T> {
    /// The loaded value as an owned `Arc`.
    pub fn to_arc(&self) -> Arc<T> {
        Arc::clone(&self.inner)
    }

    /// The loaded value as an owned `Arc`, without a new count when the guard already holds
    /// one: after the cell has moved on, the caller may find it the only owner
    /// (`Arc::get_mut`).
    pub fn into_arc(self) -> Arc<T> {
        arc_swap::Guard::into_inner(self.inner)
    }
}

impl<T> SwapCell<T> {
    /// A cell holding `value`.
    pub fn new(value: T) -> Self {
        Self::from_arc(Arc::new(value))
    }

    /// A cell holding `value`.
    pub fn from_arc(value: Arc<T>) -> Self {
        SwapCell {
            inner: arc_swap::ArcSwap::new(value),
        }
    }

    /// The current value, without locking.
    #[inline]
    pub fn load(&self) -> CellGuard<T> {
        CellGuard {
            inner: self.inner.load(),
        }
    }

    /// The current value as an owned `Arc`.
    pub fn load_full(&self) -> Arc<T> {
        self.inner.load_full()
    }

    /// Replaces the value unconditionally.
    pub fn store(&self, value: Arc<T>) {
        self.inner.store(value);
    }

    /// Replaces the value only if it is still `current` (by pointer). On failure returns the
    /// value found instead; `new` is dropped.
    pub fn compare_and_swap(
        &self,
        current: &CellGuard<T>,
        new: Arc<T>,
    ) -> Result<(), CellGuard<T>> {
        let found = self.inner.compare_and_swap(&current.inner, new);
        if std::ptr::eq(&**found, &**current) {
            Ok(())
        } else {
            Err(CellGuard { inner: found })
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for SwapCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SwapCell").field(&*self.load()).finish()
    }
}
