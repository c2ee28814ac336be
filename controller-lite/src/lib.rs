//! The lab USP controller paired with `uspagent`: a library and the `uspctl` command.
//!
//! Owns the controller side of USP for the lab, our tests and benchmarks:
//! - [`client`]: the [`client::Controller`] over any `usp-mtp` link (send a request, await its
//!   response by msg_id with a timeout, collect notifications);
//! - [`loopback`]: an in-memory link pair, to drive an agent core in the same process;
//! - [`decode`]: a captured Record (file bytes, hex or base64) as readable text.
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
