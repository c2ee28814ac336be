//! The TR-181 data-model engine of the USP agent.
//!
//! Owns: the path grammar ([`path`]), typed values ([`value`]), the supported data model
//! ([`schema`]), object instances and transactions ([`DataModel`]), persistence through the
//! [`store::Store`] trait, and the plugin API ([`plugin::Plugin`]) through which each TR-181
//! area is served (the areas themselves live in the `usp-areas` crate), and the access-control evaluator
//! ([`access`]) built from the ControllerTrust roles.
//!
//! Never does: USP message handling (that is the agent's core), network or MTP I/O, reading the
//! clock (time is passed in as [`plugin::Now`]), or threads of its own. It is owned by one
//! thread; other threads reach it through that thread.

pub mod access;
pub mod error;
pub mod fields;
mod origin;
pub mod path;
pub mod plugin;
pub mod schema;
pub mod store;
pub mod tree;
pub mod value;

mod dm;

pub use dm::{BuildError, DEFAULT_POLL_INTERVAL, DataModel, Item, MAX_FOLLOWED, Target, Walked};
pub use error::{ErrorCode, UspError};
