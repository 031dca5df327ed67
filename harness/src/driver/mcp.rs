//! The MCP driver (`launcher = "mcp"`): the designs measured through the real MCP layer of the
//! `procman` binary, the way an AI agent reaches them.
//!
//! One run (design × sweep point):
//!
//! 1. writes a `procman.toml` configuring the scenario's processes (`proc-000`, ...: the
//!    `[mcp]` command, the `[spec]` stop timeout and restart policy) into a temporary directory;
//! 2. at the first sweep point of each design, the **start-up probes**: spawns
//!    `procman mcp --impl DESIGN --config FILE` `startup_probes` times and, for each, times
//!    the spawn to the `initialize` response (the request is written right after the spawn, so
//!    this is what an MCP client waits before its first answer) and reads the idle RSS
//!    (`VmRSS` after `tools/list` and one `scripts_list`, nothing started);
//! 3. spawns the measured session, starts `[mcp] start` processes with `scripts_run`
//!    (untimed) and reads the RSS;
//! 4. runs the scenario's clients with the thread driver's loop ([`super::threads`]): one OS
//!    thread per client, all **multiplexed over the one stdio connection** of the session
//!    (each with its own requests in flight; see [`super::mcp_wire`]), so that the clients
//!    share one set of processes and one design, as the in-process drivers' clients do. Every
//!    op is one `tools/call`, timed from before the request is serialised to after its
//!    response is parsed;
//! 5. reads the RSS again, closes procman's stdin and times its exit, then checks in /proc that
//!    every child it had running is gone.
//!
//! The ops map to tools as their names say: `scripts_status` → `scripts_status{name}`,
//! `scripts_status_all` → `scripts_status{}`, `scripts_run`/`scripts_stop`/`scripts_restart`
//! → the tool of that name with `{name}`, `logs_stream` → `logs_stream{name, cursor, limit}`
//! (the client follows `nextCursor`), `logs_search` → `logs_search{query, regex, limit}`. A
//! tool error (`isError`) is counted by the kind its message names (already running, not
//! running, ...); a JSON-RPC error or a broken connection counts as `task_failed`.
//!
//! The binary is the `procman` beside the harness's own executable (`PROCMAN_BIN` overrides);
//! when it is missing the driver builds it with cargo (the profile the harness was built
//! with), saying so, or fails with the command to run.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use procman_core::ProcessSpec;
use serde::Serialize;

use super::join::{self, RunEnd, grace, wait_showing};
use super::mcp_http::HttpSession;
pub use super::mcp_wire::WireError;
use super::mcp_wire::{Connection, Reply};
use super::threads::{self, BlockingTarget};
use crate::call::{Call, ErrorKind, Outcome, Workload};
use crate::contender::Design;
use crate::driver::client::ClientPlan;
use crate::error::HarnessError;
use crate::measure::alloc;
use crate::measure::timer::Clock;
use crate::measure::watchdog::{InFlight, Watchdog};
use crate::progress::Progress;
use crate::provenance::workspace_root;
use crate::results::{BackgroundResult, McpFigures, RunResult};
use crate::scenario::{McpChildren, McpTransport, Scenario};

/// The environment variable that names the procman binary to drive.
pub const PROCMAN_BIN_ENV: &str = "PROCMAN_BIN";

/// How long procman may take to exit after its stdin closes before the driver kills it.
const EXIT_BOUND: Duration = Duration::from_secs(10);

/// procman's `--impl` value for `design`; `None` for designs the binary does not offer.
pub fn procman_impl(design: Design) -> Option<&'static str> {
    match design {
        Design::Mutex => Some("mutex"),
        Design::Actor => Some("actor"),
        Design::Atomic => Some("atomic"),
        Design::AtomicSharded => None,
    }
}

/// Why there is no procman binary to drive. `Clone`: the lookup is done once per process and
/// every run gets its answer.
#[derive(Clone, Debug, thiserror::Error)]
pub enum LocateError {
    /// `PROCMAN_BIN` names something that is not a file.
    #[error(
        "{PROCMAN_BIN_ENV}={} is not a file; unset it to use the procman built beside the \
         harness, or build one with `cargo build --release -p procman`",
        .0.display()
    )]
    NotAFile(PathBuf),
    /// The harness cannot find its own executable (to look beside it).
    #[error("cannot find the harness itself: {0}; set {PROCMAN_BIN_ENV}=/path/to/procman")]
    NoSelf(String),
    /// None beside the harness, and building one did not give one.
    #[error(
        "no procman binary at {} and `{command}` {outcome}; run `{command}` in the workspace \
         (or set {PROCMAN_BIN_ENV}=/path/to/procman)",
        candidate.display()
    )]
    NotBuilt {
        /// Where it was looked for.
        candidate: PathBuf,
        /// The cargo command tried.
        command: String,
        /// What that command did.
        outcome: String,
    },
}

/// Why a procman MCP session could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The binary would not start.
    #[error("cannot start {}: {source}", binary.display())]
    Spawn {
        /// The binary.
        binary: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The child's stdio could not be taken (a bug in the driver).
    #[error("procman's stdio was not piped")]
    NotPiped,
    /// The MCP handshake failed.
    #[error("procman --impl {design}: {source}")]
    Handshake {
        /// The `--impl` value.
        design: String,
        /// What went wrong on the wire.
        source: WireError,
    },
    /// A request failed on the wire.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// `procman serve` never printed the address it listens on.
    #[error(
        "procman serve --impl {design} did not print its address (`{SERVING_AT}…`) within \
         10 s; its stderr above says why"
    )]
    NoAddress {
        /// The `--impl` value.
        design: String,
    },
    /// A tool answered with an error where the driver needs it to succeed.
    #[error("{tool} failed: {message}")]
    Tool {
        /// The tool (and its argument).
        tool: String,
        /// Its error.
        message: String,
    },
}

/// The procman binary: `PROCMAN_BIN`, else `procman` beside this executable (built with cargo
/// if missing). Looked up once per process.
pub fn procman_binary() -> Result<PathBuf, LocateError> {
    static FOUND: OnceLock<Result<PathBuf, LocateError>> = OnceLock::new();
    FOUND.get_or_init(locate_procman).clone()
}

fn locate_procman() -> Result<PathBuf, LocateError> {
    if let Some(path) = std::env::var_os(PROCMAN_BIN_ENV) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(LocateError::NotAFile(path))
        };
    }
    let exe = std::env::current_exe().map_err(|e| LocateError::NoSelf(e.to_string()))?;
    let mut dir = exe.parent().unwrap_or(Path::new(".")).to_owned();
    if dir.ends_with("deps") {
        // A test binary: target/PROFILE/deps/harness-HASH.
        dir.pop();
    }
    let candidate = dir.join("procman");
    if candidate.is_file() {
        return Ok(candidate);
    }
    let profile = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut args = vec!["build", "-p", "procman"];
    match profile.as_str() {
        "release" => args.push("--release"),
        "debug" => {}
        other => args.extend(["--profile", other]),
    }
    let command = format!("cargo {}", args.join(" "));
    eprintln!(
        "mcp driver: no procman binary at {}; building it: {command}",
        candidate.display()
    );
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(&args)
        .current_dir(workspace_root())
        .status();
    match status {
        Ok(s) if s.success() && candidate.is_file() => Ok(candidate),
        outcome => Err(LocateError::NotBuilt {
            outcome: match outcome {
                Ok(s) if s.success() => "did not put one there".to_owned(),
                Ok(s) => format!("failed ({s})"),
                Err(e) => format!("could not run ({e})"),
            },
            candidate,
            command,
        }),
    }
}

/// A temporary project directory holding the generated procman.toml; removed on drop.
struct Project {
    dir: PathBuf,
    config: PathBuf,
}

impl Project {
    fn new(s: &Scenario) -> std::io::Result<Project> {
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("procman-harness-mcp-{}-{seq}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let config = dir.join("procman.toml");
        std::fs::write(&config, procman_toml(s))?;
        Ok(Project { dir, config })
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The procman.toml of scenario `s`: its processes with its `[spec]`, no package.json. Written
/// with procman's own configuration types, so the file follows procman's schema by construction.
pub fn procman_toml(s: &Scenario) -> String {
    let file = procman::config::ConfigFile {
        settings: procman::config::Settings {
            max_processes: s.processes.max(64),
            package_json: false,
            ..Default::default()
        },
        processes: (0..s.processes)
            .map(|i| {
                (
                    toml::Spanned::new(0..0, Scenario::process_name(i)),
                    procman::config::ProcessConfig::of_spec(&s.process_spec(i)),
                )
            })
            .collect(),
        scripts: Default::default(),
    };
    let body = toml::to_string(&file).expect("procman's configuration types serialise to TOML");
    format!(
        "# Generated by the harness's MCP driver for scenario {:?}.\n{body}",
        s.name
    )
}

/// One `procman mcp` process with an initialized MCP connection.
struct Session {
    child: Child,
    conn: Arc<Connection>,
    /// From just before the spawn to the `initialize` response.
    startup: Duration,
}

impl Session {
    fn spawn(binary: &Path, design: &str, project: &Project) -> Result<Session, SessionError> {
        let t0 = Instant::now();
        let mut child = Command::new(binary)
            .args(["mcp", "--impl", design, "--config"])
            .arg(&project.config)
            .current_dir(&project.dir)
            .env("PROCMAN_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|source| SessionError::Spawn {
                binary: binary.to_owned(),
                source,
            })?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(SessionError::NotPiped);
        };
        let conn = Arc::new(Connection::new(Box::new(stdin), Box::new(stdout)));
        match conn.initialize("procman-harness") {
            Ok(_) => Ok(Session {
                startup: t0.elapsed(),
                child,
                conn,
            }),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(SessionError::Handshake {
                    design: design.to_owned(),
                    source: e,
                })
            }
        }
    }

    /// procman's resident set size, KiB.
    fn rss_kib(&self) -> u64 {
        rss_kib(self.child.id())
    }

    /// Closes stdin and waits for the exit; the time it took, or `None` (then it is killed).
    fn close(mut self) -> Option<Duration> {
        let t0 = Instant::now();
        self.conn.close_input();
        while t0.elapsed() < EXIT_BOUND {
            if let Ok(Some(_)) = self.child.try_wait() {
                return Some(t0.elapsed());
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Only reached with the child still running on an error path: do not leave it behind.
        if let Ok(None) = self.child.try_wait() {
            self.conn.close_input();
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The resident set size of process `pid`, KiB (0 when it cannot be read).
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The line `procman serve` prints with its address.
const SERVING_AT: &str = "procman: serving MCP at http://";

/// One `procman serve --listen 127.0.0.1:0` process and the driver's own session on it.
struct HttpServer {
    child: Child,
    addr: SocketAddr,
    /// `None` once closed.
    control: Option<HttpSession>,
    /// From just before the spawn to the `initialize` response of the driver's session.
    startup: Duration,
}

impl HttpServer {
    fn spawn(binary: &Path, design: &str, project: &Project) -> Result<HttpServer, SessionError> {
        let t0 = Instant::now();
        let mut child = Command::new(binary)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--impl",
                design,
                "--config",
            ])
            .arg(&project.config)
            .current_dir(&project.dir)
            .env("PROCMAN_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| SessionError::Spawn {
                binary: binary.to_owned(),
                source,
            })?;
        let Some(stderr) = child.stderr.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(SessionError::NotPiped);
        };
        // The address line goes to the driver; everything else procman says is passed on.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                let addr = line
                    .strip_prefix(SERVING_AT)
                    .and_then(|url| url.strip_suffix("/mcp"))
                    .and_then(|a| a.parse::<SocketAddr>().ok());
                match addr {
                    Some(addr) => {
                        let _ = tx.send(addr);
                    }
                    None => eprintln!("{line}"),
                }
            }
        });
        let fail = |mut child: Child, e: SessionError| {
            let _ = child.kill();
            let _ = child.wait();
            Err(e)
        };
        let addr = match rx.recv_timeout(EXIT_BOUND) {
            Ok(addr) => addr,
            Err(_) => {
                return fail(
                    child,
                    SessionError::NoAddress {
                        design: design.to_owned(),
                    },
                );
            }
        };
        match HttpSession::open(addr, "procman-harness") {
            Ok(control) => Ok(HttpServer {
                startup: t0.elapsed(),
                child,
                addr,
                control: Some(control),
            }),
            Err(source) => fail(
                child,
                SessionError::Handshake {
                    design: design.to_owned(),
                    source,
                },
            ),
        }
    }

    /// Ends the driver's session, sends SIGTERM and waits for the exit; the time from the
    /// signal to the exit, or `None` (then it is killed).
    fn close(mut self) -> Option<Duration> {
        if let Some(control) = self.control.take() {
            control.close();
        }
        let t0 = Instant::now();
        // SAFETY: kill(2) on our own child's pid, which is not reaped before try_wait below.
        let sent = unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) } == 0;
        while sent && t0.elapsed() < EXIT_BOUND {
            if let Ok(Some(_)) = self.child.try_wait() {
                return Some(t0.elapsed());
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }
}

impl HttpServer {
    /// The driver's own session.
    fn control(&mut self) -> Result<&mut HttpSession, WireError> {
        self.control.as_mut().ok_or(WireError::InputClosed)
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The procman under test, reached over the scenario's transport.
enum Server {
    /// `procman mcp`, its stdio shared by every client.
    Stdio(Session),
    /// `procman serve`, a session per client.
    Http(HttpServer),
}

/// Tells one run's HTTP sessions from another's (see [`McpHttpTarget`]).
static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Server {
    fn spawn(
        transport: McpTransport,
        binary: &Path,
        design: &str,
        project: &Project,
    ) -> Result<Server, SessionError> {
        Ok(match transport {
            McpTransport::Stdio => Server::Stdio(Session::spawn(binary, design, project)?),
            McpTransport::Http => Server::Http(HttpServer::spawn(binary, design, project)?),
        })
    }

    fn startup(&self) -> Duration {
        match self {
            Server::Stdio(s) => s.startup,
            Server::Http(s) => s.startup,
        }
    }

    fn request(&mut self, method: &str, params: impl Serialize) -> Result<Reply, WireError> {
        match self {
            Server::Stdio(s) => s.conn.request(method, params),
            Server::Http(s) => s.control()?.request(method, params),
        }
    }

    fn call_tool(&mut self, tool: &str, args: impl Serialize) -> Result<Reply, WireError> {
        match self {
            Server::Stdio(s) => s.conn.call_tool(tool, args),
            Server::Http(s) => s.control()?.call_tool(tool, args),
        }
    }

    fn rss_kib(&self) -> u64 {
        match self {
            Server::Stdio(s) => s.rss_kib(),
            Server::Http(s) => rss_kib(s.child.id()),
        }
    }

    /// The clients' target for one run.
    fn target(&self) -> Arc<dyn BlockingTarget> {
        match self {
            Server::Stdio(s) => Arc::new(McpTarget {
                conn: Arc::clone(&s.conn),
            }),
            Server::Http(s) => Arc::new(McpHttpTarget {
                addr: s.addr,
                run: RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            }),
        }
    }

    /// Ends procman (stdin EOF, or SIGTERM) and times its exit.
    fn close(self) -> Option<Duration> {
        match self {
            Server::Stdio(s) => s.close(),
            Server::Http(s) => s.close(),
        }
    }
}

/// Arguments of the tools the ops call.
#[derive(Serialize)]
struct NameArg<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct NoArgs {}

#[derive(Serialize)]
struct LogsArgs<'a> {
    name: &'a str,
    cursor: u64,
    limit: usize,
}

#[derive(Serialize)]
struct SearchArgs<'a> {
    query: &'a str,
    regex: bool,
    limit: usize,
}

/// Something that makes `tools/call` requests: the shared stdio connection, or one client's
/// HTTP session.
trait ToolCaller {
    fn call_tool<A: Serialize>(&mut self, tool: &str, args: A) -> Result<Reply, WireError>;
}

impl ToolCaller for &Connection {
    fn call_tool<A: Serialize>(&mut self, tool: &str, args: A) -> Result<Reply, WireError> {
        Connection::call_tool(self, tool, args)
    }
}

impl ToolCaller for HttpSession {
    fn call_tool<A: Serialize>(&mut self, tool: &str, args: A) -> Result<Reply, WireError> {
        HttpSession::call_tool(self, tool, args)
    }
}

/// The clients' target over stdio: one `tools/call` per op over the shared connection.
#[derive(Debug)]
struct McpTarget {
    conn: Arc<Connection>,
}

impl BlockingTarget for McpTarget {
    fn call(&self, w: &Workload, call: Call, staged: &mut Option<ProcessSpec>) -> Outcome {
        dispatch(&mut &*self.conn, w, call, staged)
    }
}

/// The clients' target over HTTP: each client thread opens its own MCP session (on its first
/// call, in the warm-up) and keeps it for the run.
#[derive(Debug)]
struct McpHttpTarget {
    addr: SocketAddr,
    /// Tells this run's sessions from a previous run's on a reused thread.
    run: u64,
}

thread_local! {
    /// This client thread's HTTP session, with the run it belongs to.
    static HTTP_SESSION: std::cell::RefCell<Option<(u64, HttpSession)>> =
        const { std::cell::RefCell::new(None) };
}

impl BlockingTarget for McpHttpTarget {
    fn call(&self, w: &Workload, call: Call, staged: &mut Option<ProcessSpec>) -> Outcome {
        HTTP_SESSION.with(|cell| {
            let mut slot = cell.borrow_mut();
            if slot.as_ref().is_none_or(|(run, _)| *run != self.run) {
                match HttpSession::open(self.addr, "procman-harness") {
                    Ok(session) => *slot = Some((self.run, session)),
                    Err(_) => return Outcome::failed(ErrorKind::TaskFailed),
                }
            }
            let (_, session) = slot.as_mut().expect("opened above");
            let outcome = dispatch(session, w, call, staged);
            if outcome.error == Some(ErrorKind::TaskFailed) {
                // A broken connection: open a new session on the next call.
                *slot = None;
            }
            outcome
        })
    }
}

/// One op as one `tools/call` through `c`.
fn dispatch(
    c: &mut impl ToolCaller,
    w: &Workload,
    call: Call,
    staged: &mut Option<ProcessSpec>,
) -> Outcome {
    let name = |i: usize| w.names[i].as_str();
    let (reply, streams) = match call {
        Call::Status(i) => (
            c.call_tool("scripts_status", NameArg { name: name(i) }),
            false,
        ),
        Call::StatusAll => (c.call_tool("scripts_status", NoArgs {}), false),
        Call::Run(i) => {
            staged.take();
            (c.call_tool("scripts_run", NameArg { name: name(i) }), false)
        }
        Call::Stop(i) => (
            c.call_tool("scripts_stop", NameArg { name: name(i) }),
            false,
        ),
        Call::Restart(i) => (
            c.call_tool("scripts_restart", NameArg { name: name(i) }),
            false,
        ),
        Call::LogsStream { proc, cursor } => (
            c.call_tool(
                "logs_stream",
                LogsArgs {
                    name: name(proc),
                    cursor,
                    limit: w.stream_limit,
                },
            ),
            true,
        ),
        Call::LogsSearch => (
            c.call_tool(
                "logs_search",
                SearchArgs {
                    query: &w.query.pattern,
                    regex: w.query.regex,
                    limit: w.query.limit,
                },
            ),
            false,
        ),
    };
    match reply {
        Ok(r) if r.rpc_error.is_none() && !r.is_error => Outcome {
            error: None,
            next_cursor: if streams {
                r.structured.next_cursor
            } else {
                None
            },
        },
        Ok(r) => Outcome::failed(error_kind(&r)),
        Err(_) => Outcome::failed(ErrorKind::TaskFailed),
    }
}

/// The error kind a tool error's message names.
fn error_kind(r: &Reply) -> ErrorKind {
    if r.rpc_error.is_some() {
        return ErrorKind::TaskFailed;
    }
    let t = r.text.as_str();
    let kinds = [
        ("has not been started", ErrorKind::NotFound),
        ("no script named", ErrorKind::NotFound),
        ("is already", ErrorKind::AlreadyRunning),
        ("is not running", ErrorKind::NotRunning),
        ("older run", ErrorKind::Superseded),
        ("is busy", ErrorKind::Busy),
        ("failed to start", ErrorKind::SpawnFailed),
        ("shutting down", ErrorKind::ShuttingDown),
        ("limit of", ErrorKind::LimitReached),
        ("bad log search pattern", ErrorKind::BadPattern),
        ("invalid arguments", ErrorKind::InvalidSpec),
    ];
    kinds
        .iter()
        .find(|(needle, _)| t.contains(needle))
        .map_or(ErrorKind::TaskFailed, |&(_, kind)| kind)
}

/// True while `pid` is a live (not zombie) process.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let state = stat
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.chars().next());
        !matches!(state, Some('Z' | 'X') | None)
    })
}

/// The start-up probes: `n` fresh sessions, each timed to `initialize` and read idle.
fn startup_probes(
    transport: McpTransport,
    binary: &Path,
    design: &str,
    project: &Project,
    n: usize,
) -> Result<(Vec<u64>, Vec<u64>), SessionError> {
    let (mut startup, mut rss) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let mut session = Server::spawn(transport, binary, design, project)?;
        startup.push(session.startup().as_nanos() as u64);
        session.request("tools/list", NoArgs {})?;
        if let Some(e) = session.call_tool("scripts_list", NoArgs {})?.failure() {
            return Err(SessionError::Tool {
                tool: "scripts_list".into(),
                message: e,
            });
        }
        // Let the runtime's threads settle (and anything lazily allocated be allocated).
        std::thread::sleep(Duration::from_millis(150));
        rss.push(session.rss_kib());
        session.close();
    }
    Ok((startup, rss))
}

/// The median of `v` (0 for none).
pub fn median(v: &[u64]) -> u64 {
    let mut v = v.to_vec();
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

/// Runs scenario `s` (launcher = "mcp") on `design` at sweep point `swept`.
pub fn run_one(
    s: &Scenario,
    mcp: &McpChildren,
    design: Design,
    swept: usize,
    clock: &Clock,
    progress: &Progress,
    base: Duration,
) -> Result<RunResult, HarnessError> {
    let fail = HarnessError::run_failure(&s.name, design);
    let imp =
        procman_impl(design).ok_or_else(|| fail(format!("procman has no --impl {design}")))?;
    let binary = procman_binary().map_err(|e| fail(e.to_string()))?;
    let project =
        Project::new(s).map_err(|e| fail(format!("cannot write the procman.toml: {e}")))?;

    let first_point = s.sweep_points().first() == Some(&swept);
    let (startup_ns, idle_rss_kib) = if first_point && mcp.startup_probes > 0 {
        startup_probes(mcp.transport, &binary, imp, &project, mcp.startup_probes)
            .map_err(|e| fail(e.to_string()))?
    } else {
        (Vec::new(), Vec::new())
    };

    let mut session =
        Server::spawn(mcp.transport, &binary, imp, &project).map_err(|e| fail(e.to_string()))?;
    let workload = Arc::new(Workload::new(s));
    for name in workload.names.iter().take(mcp.start) {
        let reply = session
            .call_tool("scripts_run", NameArg { name })
            .map_err(|e| fail(e.to_string()))?;
        if let Some(e) = reply.failure() {
            return Err(fail(format!("scripts_run {name}: {e}")));
        }
    }
    let started_rss_kib = session.rss_kib();

    let plans = ClientPlan::for_groups(&s.groups, swept, s.seed);
    let total_clients = plans.len();
    let slots = Arc::new(InFlight::new(
        plans.iter().map(|p| p.label.clone()).collect(),
    ));
    let watchdog = Watchdog::start(*clock, slots.clone(), s.stall_bound);
    let target = session.target();
    let clients = threads::start(
        plans,
        workload.clone(),
        target,
        *clock,
        clock.ticks_of(s.stall_bound),
        slots.clone(),
        s.warmup,
        s.duration,
    )
    .map_err(|e| fail(format!("could not start the clients: {e}")))?;
    let tl = clients.timeline;
    wait_showing(clock, tl.measure_start, progress, base, tl.warm_start);
    let alloc0 = alloc::process_counts();
    wait_showing(clock, tl.measure_end, progress, base, tl.warm_start);
    let alloc1 = alloc::process_counts();

    let joined = clients.join(Instant::now() + grace(s));
    let mut watch = watchdog.finish();
    watch.suspected_lockups.dedup();
    let after_rss_kib = session.rss_kib();

    // Every child procman has running now, to check after its exit.
    // (Not asked when clients are stuck: the server may be too.)
    let status = joined
        .is_ok()
        .then(|| session.call_tool("scripts_status", NoArgs {}));
    let mut pids: Vec<u32> = match status {
        Some(Ok(r)) => r
            .structured
            .processes
            .iter()
            .filter(|p| p.alive)
            .filter_map(|p| p.pid)
            .collect(),
        _ => Vec::new(),
    };
    pids.sort_unstable();
    let exit = session.close();
    let deadline = Instant::now() + Duration::from_secs(2);
    while pids.iter().any(|&p| alive(p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let children_left = pids.iter().filter(|&&p| alive(p)).count();

    let figures = McpFigures {
        binary: binary.display().to_string(),
        transport: match mcp.transport {
            McpTransport::Stdio => "stdio",
            McpTransport::Http => "http",
        }
        .to_owned(),
        configured: s.processes,
        startup_ns,
        idle_rss_kib,
        started_rss_kib,
        after_rss_kib,
        exit_after_eof_ns: exit.map(|d| d.as_nanos() as u64),
        children_left,
    };
    progress.note(&figures_line(design, &figures));
    Ok(join::run_result(RunEnd {
        s,
        design,
        swept,
        total_clients,
        join: joined,
        in_op: "a tools/call",
        watch,
        tl: &tl,
        clock,
        allocs: alloc1.since(alloc0),
        background: BackgroundResult::default(),
        manager_stats: procman_core::ManagerStats::default(),
        mcp: Some(figures),
    }))
}

/// One line about the binary's start-up, memory and exit, printed after each run.
pub fn figures_line(design: Design, f: &McpFigures) -> String {
    let ms = |ns: u64| ns as f64 / 1e6;
    let mib = |kib: u64| kib as f64 / 1024.0;
    let startup = if f.startup_ns.is_empty() {
        String::new()
    } else {
        format!(
            "initialize answered {:.1} ms after spawn (median of {}, max {:.1}); idle RSS {:.1} MiB \
             with {} configured (median, max {:.1}); ",
            ms(median(&f.startup_ns)),
            f.startup_ns.len(),
            ms(f.startup_ns.iter().copied().max().unwrap_or(0)),
            mib(median(&f.idle_rss_kib)),
            f.configured,
            mib(f.idle_rss_kib.iter().copied().max().unwrap_or(0)),
        )
    };
    let (via, end) = if f.transport == "http" {
        ("http ", "SIGTERM")
    } else {
        ("", "stdin EOF")
    };
    let exit = f.exit_after_eof_ns.map_or_else(
        || "did not exit within 10 s".to_owned(),
        |ns| format!("exited {:.0} ms after {end}", ms(ns)),
    );
    format!(
        "mcp {via}{design}: {startup}RSS {:.1} MiB started, {:.1} MiB after the run; {exit}, {} \
         children left",
        mib(f.started_rss_kib),
        mib(f.after_rss_kib),
        f.children_left
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCENARIO: &str = r#"
        description = "mcp test"
        processes = 3
        launcher = "mcp"
        duration = "300ms"
        warmup = "100ms"
        [mcp]
        shell = "echo 'it''s up'; exec sleep 60"
        start = 2
        startup_probes = 1
        [spec]
        stop_timeout = "2s"
        restart = "on-failure"
        [[group]]
        name = "agents"
        clients = 2
        mix = { scripts_status = 50, scripts_status_all = 10, logs_stream = 20, logs_search = 10, scripts_restart = 10 }
    "#;

    fn scenario() -> Scenario {
        Scenario::parse(Path::new("scenarios/mcp_test.toml"), SCENARIO).unwrap()
    }

    #[test]
    fn the_generated_config_configures_every_process() {
        let s = scenario();
        let text = procman_toml(&s);
        let parsed: toml::Table = toml::from_str(&text).unwrap();
        let procs = parsed["processes"].as_table().unwrap();
        assert_eq!(procs.len(), 3);
        let p = procs["proc-001"].as_table().unwrap();
        assert_eq!(p["shell"].as_str(), Some("echo 'it''s up'; exec sleep 60"));
        assert_eq!(p["stop_timeout_ms"].as_integer(), Some(2000));
        assert_eq!(p["restart"].as_str(), Some("on-failure"));
        assert_eq!(parsed["settings"]["package_json"].as_bool(), Some(false));
    }

    /// What procman makes of the generated file is the scenario's specs: every process, with
    /// its command, environment, stop and restart settings (procman adds the working directory,
    /// the config file's own).
    #[test]
    fn procman_loads_the_generated_config_as_the_scenarios_specs() {
        let s = scenario();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("procman.toml");
        std::fs::write(&path, procman_toml(&s)).unwrap();
        let catalog = procman::catalog::Catalog::load(Some(&path), dir.path())
            .unwrap_or_else(|e| panic!("procman refused the generated procman.toml: {e}"));
        assert_eq!(catalog.iter().count(), s.processes);
        for i in 0..s.processes {
            let want = s.process_spec(i);
            let script = catalog
                .get(&Scenario::process_name(i))
                .unwrap_or_else(|| panic!("{} is missing", Scenario::process_name(i)));
            let got = ProcessSpec {
                cwd: want.cwd.clone(),
                ..script.spec.clone()
            };
            assert_eq!(got, want, "process {i}");
        }
    }

    /// Over HTTP: each client its own session on `procman serve`, every op answered, the
    /// processes gone after SIGTERM.
    #[test]
    fn an_http_run_gives_each_client_a_session_and_leaves_no_child() {
        let text = SCENARIO.replace(
            "startup_probes = 1",
            "startup_probes = 1\ntransport = \"http\"",
        );
        let s = Scenario::parse(Path::new("scenarios/mcp_http_test.toml"), &text).unwrap();
        let crate::scenario::LauncherSpec::Mcp(mcp) = &s.launcher else {
            panic!("not an mcp scenario")
        };
        assert_eq!(mcp.transport, McpTransport::Http);
        let clock = Clock::monotonic();
        let run = run_one(
            &s,
            mcp,
            Design::Atomic,
            0,
            &clock,
            &Progress::hidden(),
            Duration::ZERO,
        )
        .unwrap();
        assert!(run.complete, "{:?}", run.failure);
        let figures = run.mcp.as_ref().unwrap();
        assert_eq!(figures.transport, "http");
        assert_eq!(figures.startup_ns.len(), 1);
        assert!(figures.exit_after_eof_ns.is_some(), "no exit after SIGTERM");
        assert_eq!(figures.children_left, 0);
        let group = &run.groups[0];
        assert_eq!(group.clients, 2);
        assert!(group.total.count > 0);
        let status = group
            .ops
            .iter()
            .find(|o| o.op == crate::mix::Op::ScriptsStatus)
            .unwrap();
        assert!(status.stats.count > 0);
        assert_eq!(status.stats.errors_total, 0, "{:?}", status.stats.errors);
        // No op lost its session or its connection (a tool error, such as a restart that
        // finds its script stopped, is counted by its own kind).
        for op in &group.ops {
            let failed = op.stats.errors.get(&ErrorKind::TaskFailed);
            assert_eq!(failed, None, "{:?}: {:?}", op.op, op.stats.errors);
        }
    }

    #[test]
    fn tool_errors_are_counted_by_kind() {
        let err = |text: &str| Reply {
            is_error: true,
            text: text.into(),
            ..Reply::default()
        };
        assert_eq!(
            error_kind(&err(
                "script \"proc-001\" is already running as proc-001#1; ..."
            )),
            ErrorKind::AlreadyRunning
        );
        assert_eq!(
            error_kind(&err("process proc-001#1 is not running (it is exited(0))")),
            ErrorKind::NotRunning
        );
        assert_eq!(error_kind(&err("something new")), ErrorKind::TaskFailed);
    }

    /// The whole driver against the real binary: a short run on the atomic design. Needs the
    /// procman binary (built by cargo if missing, which takes a while the first time).
    #[test]
    fn a_short_run_measures_every_tool_and_leaves_no_child() {
        let s = scenario();
        let crate::scenario::LauncherSpec::Mcp(mcp) = &s.launcher else {
            panic!("not an mcp scenario")
        };
        let clock = Clock::monotonic();
        let run = run_one(
            &s,
            mcp,
            Design::Atomic,
            0,
            &clock,
            &Progress::hidden(),
            Duration::ZERO,
        )
        .unwrap();
        assert!(run.complete, "{:?}", run.failure);
        let figures = run.mcp.as_ref().unwrap();
        assert_eq!(figures.startup_ns.len(), 1);
        assert!(figures.idle_rss_kib[0] > 0);
        assert!(figures.exit_after_eof_ns.is_some());
        assert_eq!(figures.children_left, 0);
        let group = &run.groups[0];
        assert!(group.total.count > 0);
        let status = group
            .ops
            .iter()
            .find(|o| o.op == crate::mix::Op::ScriptsStatus)
            .unwrap();
        assert!(status.stats.count > 0);
        assert_eq!(status.stats.errors_total, 0, "{:?}", status.stats.errors);
    }
}
