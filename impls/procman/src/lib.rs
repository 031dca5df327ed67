//! procman: run and watch a project's dev processes, for humans (`procman up`) and for AI
//! coding agents (`procman mcp`, an MCP server built on rmcp with Brummer's tool names).
//!
//! The process manager behind it is the atomic design of this workspace (`--impl` picks
//! another); everything here talks to it through [`procman_core::ProcessManager`].
//!
//! - [`config`]: `procman.toml`, its schema and its errors; [`discover`]: package.json scripts;
//!   [`catalog`]: both merged into the only scripts procman will run;
//! - [`supervisor`]: the manager plus the catalog, shared by every front end; [`history`]: the
//!   last runs of each script, kept after a restart;
//! - [`mcp`]: the MCP server and its tools; [`up`] and [`prefix`]: the foreground runner;
//!   [`list`]: `procman list`; [`cli`]: the command line; [`design`]: `--impl`.

#![warn(missing_docs)]

pub mod catalog;
pub mod cli;
pub mod config;
pub mod design;
pub mod diag;
pub mod discover;
pub mod events;
pub mod history;
pub mod list;
pub mod mcp;
pub mod prefix;
pub mod signals;
pub mod supervisor;
pub mod up;
