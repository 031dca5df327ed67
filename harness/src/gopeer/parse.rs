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
pub fn parse(text: &str) -> Result<ParsedOutput, String> {
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
            let b = parse_line(line).map_err(|e| format!("line {}: {e}: {line:?}", n + 1))?;
            out.benchmarks.push(b);
        }
    }
    if out.benchmarks.is_empty() {
        return Err(
            "no benchmark result line (`BenchmarkX  N  T ns/op`) in go test's output".into(),
        );
    }
    Ok(out)
}

/// One result line.
pub fn parse_line(line: &str) -> Result<GoBench, String> {
    let mut fields = line.split_whitespace();
    let full = fields.next().ok_or("empty line")?;
    let full = full
        .strip_prefix("Benchmark")
        .ok_or("not a benchmark line")?;
    let (name, gomaxprocs) = split_procs(full);
    let iterations: u64 = fields
        .next()
        .ok_or("no iteration count")?
        .parse()
        .map_err(|e| format!("iteration count: {e}"))?;
    let rest: Vec<&str> = fields.collect();
    if !rest.len().is_multiple_of(2) {
        return Err("the figures after the iteration count are not value-unit pairs".into());
    }
    let mut ns = None;
    let mut goroutines = None;
    let mut bytes = None;
    let mut allocs = None;
    for pair in rest.chunks(2) {
        let value: f64 = pair[0]
            .parse()
            .map_err(|e| format!("{:?} is not a number: {e}", pair[0]))?;
        match pair[1] {
            "ns/op" => ns = Some(value),
            "goroutines" => goroutines = Some(value),
            "B/op" => bytes = Some(value),
            "allocs/op" => allocs = Some(value),
            // Other metrics (MB/s, custom ones) are not used.
            _ => {}
        }
    }
    let ns_per_op = ns.ok_or("no ns/op")?;
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
