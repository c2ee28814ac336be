//! Scripted conversations with the core: a test data model, a fake clock, and one test per
//! behaviour, named after the TP-469 test case it covers where there is one.

#![allow(clippy::unwrap_used)]

mod acl;
mod dos;
mod harness;
mod notify;
mod operate;
mod read;
mod records;
mod retry;
mod subs;
mod timers;
mod tp469;
mod write;
