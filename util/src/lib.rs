//! Small helpers shared by the agent's layers and by `uspctl`, with no dependency of their own,
//! so that each side can use them without pulling in the other: TR-369's retry schedule
//! ([`retry`], used by every MTP link and by Notify retries in the core) and base64
//! ([`base64`], TR-106 values and `uspctl decode`).
//!
//! Never does: I/O, threads, or anything USP-specific beyond these formulas.

pub mod base64;
pub mod retry;
