//! Scripted conversations with the core: a test data model, a fake clock, and one test per
//! behaviour, named after the TP-469 test case it covers where there is one.

#![allow(clippy::unwrap_used)]

mod acl;
mod backend;
mod dos;
mod firmware;
mod harness;
mod links;
mod notify;
mod operate;
mod read;
mod records;
mod retry;
mod seams;
mod subs;
mod timers;
mod tp469;
mod write;
