//! The drivers that call the designs: OS threads ([`threads`]) and tokio tasks ([`tokio`]),
//! over the same client state and records ([`client`]).

pub mod client;
pub mod threads;
pub mod tokio;
