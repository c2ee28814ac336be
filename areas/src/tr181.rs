//! The table types of the generated TR-181 declarations (each area's `tr181.rs`, written by
//! `scripts/gen-*-schema.py` from the Broadband Forum's XML) and the code that declares their
//! objects, parameters and commands into a [`SchemaBuilder`]. What an area serves, its
//! storage and access choices and its defaults stay in the area; this module never decides
//! them.

#[cfg(test)]
mod tests;
