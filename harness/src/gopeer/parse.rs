//! The text `go test -bench -benchmem` prints, parsed.
//!
//! ```text
//! goos: linux
//! cpu: AMD EPYC
//! BenchmarkOps/concurrent_process_read/mutex/readers=cores-2   1000   73.45 ns/op   2.000 goroutines   0 B/op   0 allocs/op
//! ```
//!
//! A name ends in `-N` when GOMAXPROCS is N (no suffix: 1), so no benchmark of the peer may
//! end its own name in `-digits`. Each result is pairs of value and unit after b.N: `ns/op`,
//! the benchmark's own metrics (`goroutines`), and `B/op`, `allocs/op` under `-benchmem`.

use super::GoBench;

/// go test output that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// A result line that does not parse.
    #[error("line {number}: {problem}: {line:?}")]
    Line {
        /// Its 1-based number.
        number: usize,
        /// What is wrong with it.
        problem: LineError,
        /// The line.
        line: String,
    },
    /// No result line at all.
    #[error("no benchmark result line (`BenchmarkX  N  T ns/op`) in go test's output")]
    NoResults,
}

/// What is wrong with one result line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// Nothing on it.
    #[error("empty line")]
    Empty,
    /// It does not start with `Benchmark`.
    #[error("not a benchmark line")]
    NotBenchmark,
    /// No b.N after the name.
    #[error("no iteration count")]
    NoIterations,
    /// b.N is not an integer.
    #[error("iteration count: {0}")]
    Iterations(String),
    /// An odd number of fields after b.N.
    #[error("the figures after the iteration count are not value-unit pairs")]
    NotPairs,
    /// A value that is not a number.
    #[error("{value:?} is not a number: {error}")]
    NotANumber {
        /// The value.
        value: String,
        /// The parser's message.
        error: String,
    },
    /// No `ns/op` figure.
    #[error("no ns/op")]
    NoNsPerOp,
}

/// What one `go test -bench` run printed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParsedOutput {
    /// `goos:`.
    pub goos: String,
    /// `goarch:`.
    pub goarch: String,
    /// `cpu:`.
    pub cpu: String,
    /// Every result line, in order.
    pub benchmarks: Vec<GoBench>,
}

/// Parses `go test -bench` output; a result line that cannot be read is an error naming it,
/// and output with no result line at all is an error too.
pub fn parse(text: &str) -> Result<ParsedOutput, ParseError> {
    let mut out = ParsedOutput::default();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if let Some(v) = line.strip_prefix("goos: ") {
            out.goos = v.trim().to_owned();
        } else if let Some(v) = line.strip_prefix("goarch: ") {
            out.goarch = v.trim().to_owned();
        } else if let Some(v) = line.strip_prefix("cpu: ") {
            out.cpu = v.trim().to_owned();
        } else if line.starts_with("Benchmark") && line.contains(" ns/op") {
            let b = parse_line(line).map_err(|problem| ParseError::Line {
                number: n + 1,
                problem,
                line: line.to_owned(),
            })?;
            out.benchmarks.push(b);
        }
    }
    if out.benchmarks.is_empty() {
        return Err(ParseError::NoResults);
    }
    Ok(out)
}

/// One result line.
pub fn parse_line(line: &str) -> Result<GoBench, LineError> {
    let mut fields = line.split_whitespace();
    let full = fields.next().ok_or(LineError::Empty)?;
    let full = full
        .strip_prefix("Benchmark")
        .ok_or(LineError::NotBenchmark)?;
    let (name, gomaxprocs) = split_procs(full);
    let iterations: u64 = fields
        .next()
        .ok_or(LineError::NoIterations)?
        .parse()
        .map_err(|e: std::num::ParseIntError| LineError::Iterations(e.to_string()))?;
    let rest: Vec<&str> = fields.collect();
    if !rest.len().is_multiple_of(2) {
        return Err(LineError::NotPairs);
    }
    let mut ns = None;
    let mut goroutines = None;
    let mut bytes = None;
    let mut allocs = None;
    for pair in rest.chunks(2) {
        let value: f64 =
            pair[0]
                .parse()
                .map_err(|e: std::num::ParseFloatError| LineError::NotANumber {
                    value: pair[0].to_owned(),
                    error: e.to_string(),
                })?;
        match pair[1] {
            "ns/op" => ns = Some(value),
            "goroutines" => goroutines = Some(value),
            "B/op" => bytes = Some(value),
            "allocs/op" => allocs = Some(value),
            // Other metrics (MB/s, custom ones) are not used.
            _ => {}
        }
    }
    let ns_per_op = ns.ok_or(LineError::NoNsPerOp)?;
    let parallel = goroutines.is_some();
    let goroutines = goroutines.map_or(1, |g| g.round().max(1.0) as usize);
    Ok(GoBench {
        name: name.to_owned(),
        gomaxprocs,
        goroutines,
        parallel,
        iterations,
        ns_per_op,
        per_goroutine_ns: ns_per_op * goroutines as f64,
        bytes_per_op: bytes,
        allocs_per_op: allocs,
    })
}

/// `("Ops/x", 2)` from `Ops/x-2`; `("Ops/x", 1)` from `Ops/x`.
fn split_procs(name: &str) -> (&str, usize) {
    if let Some((base, suffix)) = name.rsplit_once('-')
        && !suffix.is_empty()
        && suffix.bytes().all(|b| b.is_ascii_digit())
        && let Ok(n) = suffix.parse()
    {
        return (base, n);
    }
    (name, 1)
}
