//! datasette-rs: a Datasette-style data browser and plugin host for SQLite.

pub mod app;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod permissions;
pub mod plugins;
pub mod render;
pub mod sample;
pub mod server;
pub mod session;
pub mod urls;
pub mod views;
