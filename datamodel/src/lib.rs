//! The TR-181 data-model engine of the USP agent.
//!
//! Owns: the path grammar ([`path`]), typed values ([`value`]), the supported data model
//! (schema), object instances, transactions, persistence through a storage trait, and the plugin
//! API through which each TR-181 area is served.
//!
//! Never does: USP message handling (that is the agent's core), network or MTP I/O, reading the
//! clock (time is passed in), or threads of its own. It is owned by one thread.

pub mod error;
pub mod path;
pub mod store;
pub mod value;
