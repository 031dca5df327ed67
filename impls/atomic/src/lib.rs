//! The atomic design (work in progress).
