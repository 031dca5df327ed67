//! The Go peer: `peers/go/`, a Go model of each design and the seeds' benchmark shapes, run by
//! `harness reproduce` beside the Rust benches so that every seed claim can be set beside Go
//! *and* Rust figures from the same machine and the same run.
//!
//! [`run`] finds `go` (1.19 or later) on PATH and runs `go test -run '^$' -bench . -benchmem
//! -cpu 1,N` in `peers/go` (N: this machine's logical CPUs); [`parse`] reads its output; the
//! result, with provenance, is [`GoPeerFile`], written to `RESULTS/go-peer.json`. Without Go
//! the file still goes there, empty with the reason ([`GoPeerFile::skipped`]), so the report
//! can say why its Go column is empty.
//!
//! Go's `ns/op` for a `b.RunParallel` benchmark is wall time over every goroutine's operations
//! (the seeds' accounting); the benchmarks report a `goroutines` metric and
//! [`GoBench::per_goroutine_ns`] multiplies it back: the time one goroutine waits per
//! operation, which is criterion's per-thread figure on the Rust side.

mod parse;

pub use parse::{LineError, ParseError, ParsedOutput, parse, parse_line};

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::file_format::{Format, FormatError};
use crate::provenance::{Provenance, iso8601_utc};

/// The version of the file layout; bumped on an incompatible change.
pub const GO_PEER_SCHEMA_VERSION: u32 = 1;
/// The `kind` of a Go peer file.
pub const GO_PEER_KIND: &str = "procman-harness-go-peer";
/// The file's name in the results directory.
pub const GO_PEER_FILE: &str = "go-peer.json";
/// The oldest Go that builds the peer (`atomic.Pointer[T]` arrived in 1.19).
pub const MIN_GO: (u32, u32) = (1, 19);
/// The Go models' design names, longest first for prefix matching (`actor-fresh` is the
/// actor with a reply channel allocated per request, the seed's form; Go only).
pub const GO_DESIGNS: &[&str] = &["actor-fresh", "atomic", "mutex", "actor"];
/// `-benchtime` of the default plan: long enough for a stable ns/op, short enough that the
/// ~300 benchmark runs fit in a few minutes.
pub const BENCHTIME: &str = "300ms";
/// `-benchtime` with `--quick`: a check that everything runs, not evidence.
pub const QUICK_BENCHTIME: &str = "20ms";

/// `RESULTS/go-peer.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GoPeerFile {
    /// [`GO_PEER_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Always [`GO_PEER_KIND`].
    pub kind: String,
    /// Why nothing was measured (`go not found`), when nothing was.
    pub skipped: Option<String>,
    /// The Rust side's provenance (revision, machine) at the time of the Go run.
    pub provenance: Provenance,
    /// What `go` said about itself and the machine.
    pub go: Option<GoProvenance>,
    /// The command run, argv.
    pub command: Vec<String>,
    /// Every benchmark line, in output order.
    pub benchmarks: Vec<GoBench>,
}

/// The Go side's provenance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GoProvenance {
    /// `go version` (`go1.19.8 linux/amd64`).
    pub version: String,
    /// `goos:` of the benchmark output.
    pub goos: String,
    /// `goarch:` of the benchmark output.
    pub goarch: String,
    /// `cpu:` of the benchmark output.
    pub cpu: String,
    /// The GOMAXPROCS values run (`-cpu`).
    pub gomaxprocs: Vec<usize>,
    /// `-benchtime`.
    pub benchtime: String,
    /// When the run started, UTC.
    pub date_utc: String,
}

/// One `go test -bench` result line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GoBench {
    /// The name less `Benchmark` and the GOMAXPROCS suffix (`Ops/single_process_read/mutex`).
    pub name: String,
    /// GOMAXPROCS of the run: the `-N` suffix, 1 without one.
    pub gomaxprocs: usize,
    /// Goroutines running the operation at once: the `goroutines` metric the parallel
    /// benchmarks report, else 1.
    pub goroutines: usize,
    /// Whether the benchmark reported a goroutine count (it ran under `b.RunParallel`).
    pub parallel: bool,
    /// b.N.
    pub iterations: u64,
    /// Go's ns/op: for a parallel benchmark, wall time over all goroutines' operations.
    pub ns_per_op: f64,
    /// What one goroutine waits per operation: `ns_per_op * goroutines`.
    pub per_goroutine_ns: f64,
    /// `-benchmem`'s B/op.
    pub bytes_per_op: Option<f64>,
    /// `-benchmem`'s allocs/op.
    pub allocs_per_op: Option<f64>,
}

impl GoBench {
    /// The benchmark family: `Ops` (the models, named as criterion names the Rust benches) or
    /// `Seed` (the seeds' shapes, named by claim id).
    pub fn family(&self) -> &str {
        self.name.split('/').next().unwrap_or_default()
    }

    /// The name less the family: `single_process_read/mutex`, `single_read_mutex/sink`.
    pub fn id(&self) -> &str {
        self.name.split_once('/').map_or("", |(_, rest)| rest)
    }

    /// `group`, `function`, `parameter` of an `Ops` id.
    fn parts(&self) -> (&str, &str, Option<&str>) {
        let mut p = self.id().splitn(3, '/');
        (
            p.next().unwrap_or_default(),
            p.next().unwrap_or_default(),
            p.next(),
        )
    }

    /// The criterion group an `Ops` benchmark stands beside.
    pub fn group(&self) -> &str {
        self.parts().0
    }

    /// The design a function id names (`mutex_getters` is `mutex`).
    pub fn design(&self) -> Option<&'static str> {
        split_go_design(self.parts().1).0
    }

    /// The function id less the design (`""`, `"_getters"`).
    pub fn shape(&self) -> &str {
        split_go_design(self.parts().1).1
    }

    /// The parameter as run: a thread count (`readers=cores`, `readers=10`) becomes the
    /// goroutine count the benchmark reported (`readers=2`), as the Rust ids name them.
    pub fn parameter(&self) -> Option<String> {
        let p = self.parts().2?;
        match p.split_once('=') {
            Some((k, _)) if self.parallel && matches!(k, "readers" | "workers" | "threads") => {
                Some(format!("{k}={}", self.goroutines))
            }
            _ => Some(p.to_owned()),
        }
    }
}

/// Splits a Go function id into its design and the rest (`actor-fresh_getters`).
pub fn split_go_design(function: &str) -> (Option<&'static str>, &str) {
    for &name in GO_DESIGNS {
        if let Some(rest) = function.strip_prefix(name)
            && (rest.is_empty() || rest.starts_with('_'))
        {
            return (Some(name), rest);
        }
    }
    (None, function)
}

impl GoPeerFile {
    /// A file saying the Go peer did not run, and why.
    pub fn skipped(provenance: Provenance, why: impl Into<String>) -> GoPeerFile {
        GoPeerFile {
            schema_version: GO_PEER_SCHEMA_VERSION,
            kind: GO_PEER_KIND.into(),
            skipped: Some(why.into()),
            provenance,
            go: None,
            command: Vec::new(),
            benchmarks: Vec::new(),
        }
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("go peer types always serialise")
    }

    /// Parses a Go peer file, refusing other kinds and versions with a message saying which.
    pub fn from_json(text: &str) -> Result<GoPeerFile, FormatError> {
        crate::file_format::parse(
            text,
            &Format {
                kind: GO_PEER_KIND,
                not_a: "",
                version: GO_PEER_SCHEMA_VERSION,
                fix: "re-run `harness reproduce`",
            },
        )
    }

    /// The GOMAXPROCS the comparison with Rust uses: the highest run (one per logical CPU,
    /// as the Rust benches run one thread per CPU).
    pub fn full_procs(&self) -> Option<usize> {
        self.benchmarks.iter().map(|b| b.gomaxprocs).max()
    }

    /// The `Ops` benchmark of `design` in criterion's `group`, `shape` and (resolved)
    /// `parameter`, at [`Self::full_procs`].
    pub fn find_op(
        &self,
        group: &str,
        shape: &str,
        parameter: Option<&str>,
        design: &str,
    ) -> Option<&GoBench> {
        let procs = self.full_procs()?;
        self.benchmarks.iter().find(|b| {
            b.family() == "Ops"
                && b.gomaxprocs == procs
                && b.group() == group
                && b.shape() == shape
                && b.design() == Some(design)
                && parameter.is_none_or(|p| b.parameter().as_deref() == Some(p))
        })
    }

    /// The `Seed` benchmark of claim `id` in `variant` (`as_written`, `sink`), at
    /// [`Self::full_procs`].
    pub fn find_seed(&self, id: &str, variant: &str) -> Option<&GoBench> {
        let procs = self.full_procs()?;
        let name = format!("Seed/{id}/{variant}");
        self.benchmarks
            .iter()
            .find(|b| b.gomaxprocs == procs && b.name == name)
    }
}

/// Why the Go peer could not run (not an error of the run as a whole: reproduce goes on).
#[derive(Debug, thiserror::Error)]
pub enum GoPeerError {
    /// No `go` on PATH.
    #[error("go not found")]
    NotFound,
    /// `go` is older than [`MIN_GO`].
    #[error("{version} is older than go{major}.{minor}; install a newer Go (apt-get install golang-go)", version = .0, major = MIN_GO.0, minor = MIN_GO.1)]
    TooOld(String),
    /// `go test` failed or printed nothing parsable.
    #[error("{0}")]
    Failed(String),
}

/// `go version`'s `go1.19.8 linux/amd64`, or why there is none.
pub fn go_version() -> Result<String, GoPeerError> {
    version_of("go")
}

/// [`go_version`] of the Go command `program`.
fn version_of(program: &str) -> Result<String, GoPeerError> {
    let out = Command::new(program)
        .arg("version")
        .env("GOTOOLCHAIN", "local")
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => GoPeerError::NotFound,
            _ => GoPeerError::Failed(format!("cannot run `go version`: {e}")),
        })?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let version = text.strip_prefix("go version ").unwrap_or(&text).to_owned();
    match parse_go_version(&version) {
        Some(v) if v >= MIN_GO => Ok(version),
        Some(_) => Err(GoPeerError::TooOld(version)),
        None => Err(GoPeerError::Failed(format!(
            "`go version` printed {text:?}, which names no go1.N version"
        ))),
    }
}

/// `(1, 19)` from `go1.19.8 linux/amd64` (or `go1.22rc1 ...`).
pub fn parse_go_version(text: &str) -> Option<(u32, u32)> {
    let v = text.split_whitespace().next()?.strip_prefix("go")?;
    let mut parts = v.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor: String = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor.parse().ok()?))
}

/// The `go test` arguments for a run on `cpus` logical CPUs.
pub fn go_test_args(cpus: usize, benchtime: &str) -> Vec<String> {
    let mut cpu = vec![1];
    if cpus > 1 {
        cpu.push(cpus);
    }
    let cpu: Vec<String> = cpu.iter().map(usize::to_string).collect();
    [
        "test",
        "-run",
        "^$",
        "-bench",
        ".",
        "-benchmem",
        "-cpu",
        &cpu.join(","),
        "-benchtime",
        benchtime,
        "-count",
        "1",
    ]
    .map(String::from)
    .to_vec()
}

/// Runs the Go peer in `root/peers/go`, its raw output kept at `log`; `on_line` sees each
/// benchmark line as it arrives (for progress).
pub fn run(
    root: &Path,
    quick: bool,
    log: &Path,
    mut on_line: impl FnMut(&str),
) -> Result<GoPeerFile, GoPeerError> {
    let version = go_version()?;
    let provenance = Provenance::collect(root);
    let dir = root.join("peers/go");
    let benchtime = if quick { QUICK_BENCHTIME } else { BENCHTIME };
    let args = go_test_args(provenance.logical_cpus, benchtime);
    let date_utc = iso8601_utc(SystemTime::now());
    let mut child = Command::new("go")
        .args(&args)
        .current_dir(&dir)
        // Use the installed toolchain and never the network: the module has no dependency.
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            GoPeerError::Failed(format!("cannot run go test in {}: {e}", dir.display()))
        })?;
    let stderr = child.stderr.take().expect("piped");
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            s.push_str(&line);
            s.push('\n');
        }
        s
    });
    let mut text = String::new();
    let stdout = child.stdout.take().expect("piped");
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        if line.starts_with("Benchmark") {
            on_line(&line);
        }
        text.push_str(&line);
        text.push('\n');
    }
    let status = child
        .wait()
        .map_err(|e| GoPeerError::Failed(format!("go test: {e}")))?;
    let err_text = err_thread.join().unwrap_or_default();
    if let Some(parent) = log.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let _ = std::fs::write(log, format!("{text}\n--- stderr ---\n{err_text}"));
    if !status.success() {
        let tail: Vec<&str> = text.lines().chain(err_text.lines()).collect();
        let tail = tail[tail.len().saturating_sub(15)..].join("\n");
        return Err(GoPeerError::Failed(format!(
            "`go {}` in {} failed ({status}); last lines:\n{tail}",
            args.join(" "),
            dir.display()
        )));
    }
    let parsed =
        parse(&text).map_err(|e| GoPeerError::Failed(format!("{}: {e}", log.display())))?;
    let mut command = vec!["go".to_owned()];
    command.extend(args);
    let mut gomaxprocs: Vec<usize> = parsed.benchmarks.iter().map(|b| b.gomaxprocs).collect();
    gomaxprocs.sort_unstable();
    gomaxprocs.dedup();
    Ok(GoPeerFile {
        schema_version: GO_PEER_SCHEMA_VERSION,
        kind: GO_PEER_KIND.into(),
        skipped: None,
        provenance,
        go: Some(GoProvenance {
            version,
            goos: parsed.goos,
            goarch: parsed.goarch,
            cpu: parsed.cpu,
            gomaxprocs,
            benchtime: benchtime.into(),
            date_utc,
        }),
        command,
        benchmarks: parsed.benchmarks,
    })
}

/// Where [`run`] keeps go test's raw output under reproduce's target directory.
pub fn log_path(reproduce_target: &Path) -> PathBuf {
    reproduce_target.join("go-bench.log")
}

#[cfg(test)]
mod tests;
