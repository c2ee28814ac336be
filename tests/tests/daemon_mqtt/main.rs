//! The `uspagent` daemon against a private Mosquitto broker, over MQTT 5.0 and 3.1.1: a
//! controller made of `usp_mtp::mqtt` talks to the real binary through the broker, exchanging
//! real USP Records (every message type, Connect Records, notifications), with TLS, an
//! Oktopus-style configuration, broker restarts, agent restarts, `kill -9` and garbage.
//!
//! Needs the `mosquitto` program (apt package `mosquitto`) and the `uspagent` binary built
//! (`cargo build -p uspagent` first: `cargo test` does not rebuild other packages' binaries).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod backup;
mod backup_openwrt;
mod ctl;
mod e2e_session;
mod firmware;
mod firmware_openwrt;
mod messages;
mod props;
mod reboot;
mod resilience;
mod setup;
