//! Tests of the BulkData area: encodings against TR-369's examples, scheduling, and profiles
//! driven end to end in a data model with a real HTTP collector on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod collector;
mod encoding;
mod profiles;
mod spec;
