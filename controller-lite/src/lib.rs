//! The lab USP controller paired with `uspagent`: a library and the `uspctl` command.
//!
//! Owns the controller side of USP for the lab, our tests and benchmarks.
//!
//! The library others call:
//! - [`client`]: the [`client::Controller`] over any `usp-mtp` link (send a request, await its
//!   response by msg_id with a timeout, collect notifications, track the agent);
//! - [`loopback`]: an in-memory link pair, to drive an agent core in the same process;
//! - [`operate`] (wait for OperationComplete with progress) and [`watch`] (subscriptions, the
//!   notification stream), built on the controller;
//! - [`request`]: USP requests from `PATH=VALUE`-style words;
//! - [`json`] and [`render`]: Records, Msgs and responses as JSON (rusp-lib's layout) or tables;
//! - [`decode`]: a captured Record (file bytes, hex or base64) as readable text or JSON.
//!
//! The command behind `uspctl`: [`cli`] (arguments), [`transport`] (options and the one
//! function that builds a link), [`exec`] (one command, its output and exit status),
//! [`shell`] with [`complete`] (the interactive shell), [`signal`] (Ctrl-C), [`lab`] (`uspctl
//! lab`: an agent started and connected, then the shell).
//!
//! Never part of the agent binary; shares wire types with it through `usp-proto` and the links
//! through `usp-mtp`.

#[cfg(test)]
mod agent_host;
pub mod cli;
pub mod client;
pub mod complete;
pub mod decode;
pub mod exec;
pub mod json;
pub mod lab;
pub mod loopback;
pub mod operate;
pub mod render;
pub mod request;
#[cfg(test)]
mod script;
pub mod shell;
pub mod signal;
pub mod transport;
pub mod watch;
