//! Tests of the engine against a test-only plugin declaring a realistic model
//! (`Device.Test.`), see [`fixture`].

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fixture;

mod external;
mod keys;
mod live;
mod matches;
mod operate;
mod persist;
mod read;
mod resolve;
mod watch;
mod write;
