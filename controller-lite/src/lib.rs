//! The lab USP controller paired with `uspagent`.
//!
//! Owns the controller side of USP for the lab, our tests and benchmarks. So far: [`decode`],
//! which turns a captured Record (file bytes, hex or base64) into readable text. Never part of
//! the agent binary; shares wire types with it through `usp-proto`.

pub mod decode;
