//! The `procman` binary: parses the command line, loads the configuration, builds the process
//! manager and hands over to the subcommand. Errors end here, as `anyhow` reports.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{CommandFactory, Parser};
use procman::catalog::Catalog;
use procman::cli::{Cli, Command};
use procman::events::Events;
use procman::history::{History, HistoryLauncher};
use procman::supervisor::Supervisor;
use procman::{design, list, mcp, prefix, up};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = match cli.command {
        Some(command) => command,
        None if !std::io::stdin().is_terminal() => Command::Mcp,
        None => {
            let _ = Cli::command().print_help();
            return ExitCode::SUCCESS;
        }
    };
    init_logging(&command);
    match run(cli.config.as_deref(), cli.design, command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("procman: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(
    config: Option<&std::path::Path>,
    design: design::Design,
    command: Command,
) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let (catalog, config_error) = match Catalog::load(config, &cwd) {
        Ok(catalog) => (catalog, None),
        // An MCP client launched procman and would see only a disconnect: serve anyway, and
        // let every tool answer with the error, where the agent can read it.
        Err(e) if matches!(command, Command::Mcp) => {
            tracing::error!(error = %e, "the configuration is invalid; every tool reports it");
            let empty = Catalog::build(None, cwd.clone(), None)?;
            (empty, Some(e.to_string()))
        }
        Err(e) => return Err(e.into()),
    };
    if let Command::List { json } = command {
        list::print(&catalog, json, std::io::stdout().lock()).context("cannot write to stdout")?;
        return Ok(ExitCode::SUCCESS);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("procman")
        .build()
        .context("cannot start the async runtime")?;
    let code = runtime.block_on(async move {
        let manager_config = catalog.manager_config();
        let launcher = design::os_launcher(&manager_config);
        let history = Arc::new(History::new(catalog.history_config()));
        let events = Arc::new(Events::new());
        let ready = catalog
            .iter()
            .filter_map(|s| Some((s.name().to_owned(), s.ready.clone()?)))
            .collect();
        let recorded = Arc::new(
            HistoryLauncher::new(launcher.clone(), Arc::clone(&history))
                .with_events(Arc::clone(&events), ready),
        );
        let manager = design.build(recorded, manager_config);
        tracing::info!(
            design = manager.design(),
            scripts = catalog.len(),
            "procman ready"
        );
        match command {
            Command::Mcp => {
                let sup = Arc::new(
                    Supervisor::new(manager, catalog)
                        .with_os_launcher(launcher)
                        .with_history(history)
                        .with_events(events)
                        .with_config_error(config_error),
                );
                mcp::serve_stdio(sup).await;
                Ok(ExitCode::SUCCESS)
            }
            Command::Serve {
                listen,
                token_file,
                generate_token,
                allow_hosts,
                allow_origins,
            } => {
                let options = mcp::http::HttpOptions::resolve(
                    listen,
                    token_file.as_deref(),
                    generate_token,
                    &allow_hosts,
                    &allow_origins,
                )?;
                let sup = Arc::new(
                    Supervisor::new(manager, catalog)
                        .with_os_launcher(launcher)
                        .with_history(history)
                        .with_events(events),
                );
                mcp::http::serve_http(sup, options).await?;
                Ok(ExitCode::SUCCESS)
            }
            Command::Up { names } => {
                let scripts = up::select(&catalog, &names)?;
                let sup = Arc::new(
                    Supervisor::new(manager, catalog)
                        .with_os_launcher(launcher)
                        .with_history(history),
                );
                let code = up::run(sup, scripts, prefix::want_color()).await?;
                Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
            }
            Command::List { .. } => unreachable!("handled before the runtime starts"),
        }
    });
    // A blocking stdin read (when stdin is not a pipe) cannot be cancelled: do not wait for it.
    runtime.shutdown_timeout(Duration::from_millis(100));
    code
}

/// Logs to stderr (stdout is the MCP channel); `PROCMAN_LOG` overrides the level.
fn init_logging(command: &Command) {
    let default = match command {
        Command::Mcp | Command::Serve { .. } => "procman=info,rmcp=warn,warn",
        _ => "warn",
    };
    let filter = EnvFilter::try_from_env("PROCMAN_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
