//! The actor design (work in progress).
