//! The command line (clap).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::design::Design;

const ABOUT: &str = "Run and watch a project's dev processes: a foreground supervisor for \
humans (`procman up`) and an MCP server for AI coding agents (`procman mcp`).";

const AFTER_HELP: &str = "\
Scripts come from procman.toml (the nearest one in the current directory or above, or --config)
and from the package.json beside it. Only those scripts ever run.

Without a subcommand procman serves MCP when stdin is not a terminal (so an MCP client can
launch plain `procman`), and prints this help otherwise.

Logs go to stderr; set PROCMAN_LOG (e.g. PROCMAN_LOG=debug) to change how much is logged.";

/// `procman`.
#[derive(Debug, Parser)]
#[command(name = "procman", version, about = ABOUT, after_help = AFTER_HELP)]
pub struct Cli {
    /// What to do (see the note below for running without one).
    #[command(subcommand)]
    pub command: Option<Command>,

    /// The procman.toml to use [default: the nearest procman.toml in the current directory or
    /// any parent]
    #[arg(long, short = 'c', global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// The process-manager design behind procman (all three behave the same; atomic ships)
    #[arg(
        long = "impl",
        value_enum,
        default_value_t,
        global = true,
        value_name = "DESIGN"
    )]
    pub design: Design,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the MCP tools over stdin/stdout for an AI agent. Exits, stopping every process it
    /// started, when stdin closes or on SIGTERM/SIGINT/SIGHUP.
    #[command(
        long_about = "Serve the MCP tools over stdin/stdout for an AI agent.\n\n\
        Tools: scripts_list, scripts_run, scripts_stop, scripts_restart, scripts_status, \
        scripts_why, logs_stream, logs_search, wait_for_log. Resources procman://process/NAME and \
        procman://logs/NAME, with resources/subscribe: a subscriber is notified when a run ends, \
        fails to start or is ready. stdout carries only MCP messages; logs go to \
        stderr. When stdin closes, or on SIGTERM, SIGINT or SIGHUP, every process is stopped \
        (stop signal to everything it started, in its process group or not, SIGKILL after at \
        most 1 s) and procman exits within 2 s. A procman.toml that cannot be loaded does not \
        stop the server: every tool answers with the error."
    )]
    Mcp,

    /// Serve the MCP tools over Streamable HTTP: one procman for every agent and human that
    /// connects (sessions share the processes). Loopback only unless given a token.
    #[command(
        long_about = "Serve the MCP tools over Streamable HTTP at http://ADDR/mcp, one set of \
        processes shared by every session: two agents, or an agent and a human, see and stop \
        the same dev server. Sessions come and go without touching the processes; SIGTERM, \
        SIGINT or SIGHUP stops every process (as `procman mcp` does) and exits.\n\n\
        The endpoint is printed on stderr at start (`procman: serving MCP at URL`). Requests \
        whose Host header is not a loopback name (or the bound address, or an --allow-host) \
        and requests with an Origin header that is not a loopback origin (or an \
        --allow-origin) get 403: a web page cannot drive procman through DNS rebinding. With \
        a token every request needs `Authorization: Bearer TOKEN` (401 otherwise); a bind to \
        anything but loopback refuses to start without --token-file or --generate-token."
    )]
    Serve {
        /// The address to listen on (port 0: any free port, printed at start)
        #[arg(long, value_name = "ADDR", default_value = crate::mcp::http::DEFAULT_LISTEN)]
        listen: std::net::SocketAddr,
        /// Require `Authorization: Bearer TOKEN` on every request, TOKEN being this file's
        /// content (surrounding whitespace ignored)
        #[arg(long, value_name = "PATH")]
        token_file: Option<PathBuf>,
        /// Require a bearer token generated now and printed once on stderr
        #[arg(long)]
        generate_token: bool,
        /// Also accept this Host header value (a name, or name:port), e.g. the machine's name
        /// when listening on 0.0.0.0 (repeatable)
        #[arg(long = "allow-host", value_name = "HOST")]
        allow_hosts: Vec<String>,
        /// Also accept requests with this Origin header, scheme included, e.g.
        /// http://localhost:5173 or https://app.example.com:* (repeatable)
        #[arg(long = "allow-origin", value_name = "ORIGIN")]
        allow_origins: Vec<String>,
    },

    /// Run the processes of procman.toml in the foreground, their output prefixed with their
    /// names; Ctrl-C stops them all gracefully (twice: at once).
    #[command(
        long_about = "Run processes in the foreground, foreman/overmind style.\n\n\
        With no NAMEs, runs every process of procman.toml (package.json scripts only when \
        named). Each output line is prefixed with its process's name, coloured when stdout is \
        a terminal (NO_COLOR turns colour off). A process that ends by itself with success is \
        done; one that fails (non-zero exit or a signal) once its restarts are used up stops \
        the others and procman exits 1. Ctrl-C (or SIGTERM) stops every process with its stop \
        signal and timeout; a second Ctrl-C sends SIGKILL at once."
    )]
    Up {
        /// Run only these (procman.toml processes or package.json scripts)
        #[arg(value_name = "NAME")]
        names: Vec<String>,
    },

    /// Show the configured scripts: name, where each is defined, its command and ready pattern.
    List {
        /// Print JSON (the same shape as the scripts_list tool's result)
        #[arg(long)]
        json: bool,
    },
}
