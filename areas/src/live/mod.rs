//! Shared glue for the read-only live areas generated from the TR-181 XML
//! (`scripts/gen-diag-schema.py`): the declaration tables' types, declaring them into the
//! schema ([`Ids::register`]), and answering a `get` from a row's name → value lookup.
//!
//! Every parameter declared here is live and read-only to controllers: the system (netlink,
//! `/proc`, `/sys`) owns the values. Tables are external, keyed by the system's own names
//! (interface name, MAC address, PID).
//!
//! Never does: read the system itself (the areas do), or store values.

pub mod links;
#[cfg(test)]
pub mod netns;
pub mod schema;
#[cfg(test)]
pub mod testing;

pub use schema::Ids;
