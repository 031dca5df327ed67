//! The mutex design (work in progress).
