//! Scripted conversations.
