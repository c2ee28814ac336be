//! The library of the uspagent daemon, a USP (TR-369) agent for OpenWrt routers meant as a
//! drop-in replacement for the Broadband Forum's obuspa.
//!
//! The layers below it are crates of their own: `usp-core` (the sans-IO message core),
//! `usp-areas` (the TR-181 areas and their backends), `usp-datamodel` (the engine), `usp-mtp`
//! (the links), `usp-proto` (the wire types) and `usp-util`. This crate owns:
//! - persistence: [`store::SqliteStore`], the SQLite backend of the data model's
//!   [`usp_datamodel::store::Store`] trait, with atomic batches, the core's private items, and
//!   recovery from a corrupt database file;
//! - the obuspa-compatible factory-reset file (`obuspa -r FILE`): [`reset_file`] parses it into
//!   validated parameter settings;
//! - start-up: [`startup::start`] builds the data model from the database, or from the reset
//!   file on a first start; [`startup::factory_reset`] empties the configuration;
//! - the MTP links the data model configures: [`links::plan`] (which links with which
//!   configuration, how each controller is reached) and the `links::record_*` functions that
//!   write link state back.
//!
//! Never does: interpret the data model (paths and values are the engine's business, in
//! `usp_datamodel`; this crate stores and reads them as text), decide *when* a factory reset
//! happens or apply one (the daemon's start-up logic does), USP message semantics (the core's),
//! or unsafe code. Only [`daemon`] spawns threads.

pub mod daemon;
pub mod links;
pub mod reset_file;
pub mod startup;
pub mod store;
