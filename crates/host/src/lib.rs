//! datasette-rs: a Datasette-style data browser and plugin host for SQLite.

// Every unsafe operation sits in its own block with a `// SAFETY:` comment saying why it
// holds, unsafe functions included.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod app;
pub mod cli;
pub mod config;
pub mod db;
pub mod delivery;
pub mod error;
pub mod inspect;
pub mod limits;
pub mod permissions;
pub mod plugins;
pub mod render;
pub mod sample;
pub mod server;
pub mod services;
pub mod session;
pub mod telemetry;
pub mod tokens;
pub mod urls;
pub mod views;
