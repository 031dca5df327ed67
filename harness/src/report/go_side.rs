//! The Go side of the report, from `go-peer.json` ([`crate::gopeer`]): for each seed claim the
//! Go figure measured on this machine beside the seed's and ours, and a same-machine verdict
//! (does the seed's figure hold in Go here, and in Rust?); the headline table of each Rust
//! design against the Go model of the same design, operation by operation, with its chart;
//! and every Go figure.
//!
//! Which Go figure stands for a claim:
//! - the seed's own loop, `Seed/CLAIM_ID/as_written` (a value it never used stays unused) and
//!   `Seed/CLAIM_ID/sink` (every value used), when the peer has the claim's shape;
//! - else the Go model of the claim's design in the claim's benchmark (`Ops/` plus the
//!   criterion id), so the two languages run the same operation.
//!
//! "Holds" uses the verdicts' own rule ([`super::verdict`]): a ratio holds when it points the
//! same way and lies within [`AGREEMENT_FACTOR`] of the claimed range, a count when it rounds
//! to the same count, a time when it lies within [`AGREEMENT_FACTOR`] of the claim. The Go
//! figure judged is the honest one (sink-fed, else the model); the dead-load figure is shown
//! beside it. All figures are at the highest GOMAXPROCS run (one per logical CPU, as the Rust
//! benches run one thread per CPU).

use crate::gopeer::{GoBench, GoPeerFile};
use crate::seeds::claims::{Claim, ClaimsFile};
use crate::seeds::{BenchFigure, SeedsFile};

use super::chart::{self, Axis, Bar, Scale, Unit};
use super::document::{Block, FigureRef, Table, heading};
use super::figure::{Csv, Figure, num};
use super::format::{per_op, ratio, sig3, time_ns};
use super::palette::colour;
use super::verdict::{AGREEMENT_FACTOR, ClaimRow, speed_phrase};

/// The Go figures that stand for one claim.
#[derive(Clone, Copy, Debug, Default)]
pub struct GoFigures<'a> {
    /// The seed's loop as the seed wrote it.
    pub as_written: Option<&'a GoBench>,
    /// The seed's loop with every value fed to a sink.
    pub sink: Option<&'a GoBench>,
    /// The Go model of the claim's design in the claim's benchmark.
    pub model: Option<&'a GoBench>,
}

impl<'a> GoFigures<'a> {
    /// The figure judged: sink-fed seed loop, else the model.
    pub fn honest(&self) -> Option<&'a GoBench> {
        self.sink.or(self.model)
    }
}

/// A Go benchmark's figure in a claim's unit: ns/op (Go's own accounting, which is the
/// seeds'), allocs/op or bytes/op.
pub fn value(b: &GoBench, unit: &str) -> Option<f64> {
    if unit.starts_with("allocs") {
        b.allocs_per_op
    } else if unit.starts_with("bytes") || unit.starts_with("B/") {
        b.bytes_per_op
    } else {
        Some(b.ns_per_op)
    }
}

/// The Go figures for `claim`.
pub fn figures_for<'a>(claim: &Claim, go: &'a GoPeerFile) -> GoFigures<'a> {
    let key = claim.bench_key();
    let group = if key.group.starts_with("memory_per_op") {
        "memory_per_op".to_owned()
    } else {
        key.group.clone()
    };
    let procs = go.full_procs().unwrap_or(1);
    let parameter = key
        .parameter
        .as_deref()
        .map(|p| p.replace("=cores", &format!("={procs}")));
    GoFigures {
        as_written: go.find_seed(&claim.id, "as_written"),
        sink: go.find_seed(&claim.id, "sink"),
        model: go.find_op(&group, &key.shape, parameter.as_deref(), &claim.design),
    }
}

/// Whether `measured` upholds `claim`: for a ratio claim `measured` is the speed-up of the
/// claim's design over the compared one, else a figure in the claim's unit.
pub fn holds(claim: &Claim, claimed_speedup: Option<(f64, f64)>, measured: f64) -> bool {
    if let Some((lo, hi)) = claimed_speedup {
        let same_direction = (lo > 1.0) == (measured > 1.0);
        return same_direction
            && measured >= lo / AGREEMENT_FACTOR
            && measured <= hi * AGREEMENT_FACTOR;
    }
    if claim.unit.starts_with("allocs") || claim.unit.starts_with("bytes") {
        return (measured.round() - claim.value.round()).abs() < 0.5;
    }
    let r = measured / claim.value;
    (1.0 / AGREEMENT_FACTOR..=AGREEMENT_FACTOR).contains(&r)
}

/// Where the seed's figure holds on this machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SameMachine {
    /// In the Go peer and in Rust: the seed's figure is a property of the design.
    Both,
    /// In Go, not in Rust: the language or our implementation makes the difference.
    GoOnly,
    /// In Rust, not in Go.
    RustOnly,
    /// In neither: the seed's machine or method made the figure.
    Neither,
    /// No Go figure (the peer did not run, or has no such shape).
    NoGo,
    /// A Go figure but none of ours.
    NoRust,
}

impl SameMachine {
    /// As the report writes it.
    pub fn label(self) -> &'static str {
        match self {
            SameMachine::Both => "holds in Go and in Rust",
            SameMachine::GoOnly => "holds in Go only",
            SameMachine::RustOnly => "holds in Rust only",
            SameMachine::Neither => "holds in neither",
            SameMachine::NoGo => "no Go figure",
            SameMachine::NoRust => "Go only measured",
        }
    }
}

/// One claim judged on this machine in both languages.
#[derive(Clone, Debug)]
pub struct GoClaim<'a> {
    /// The Go figures used.
    pub figures: GoFigures<'a>,
    /// The honest Go figure in the claim's terms: a speed-up for a ratio claim, else a figure
    /// in the claim's unit.
    pub go: Option<f64>,
    /// The same from the seed's loop as written (the dead-load version, where there is one).
    pub go_as_written: Option<f64>,
    /// Ours, in the claim's terms.
    pub rust: Option<f64>,
    /// The verdict.
    pub verdict: SameMachine,
    /// The "Go here" cell.
    pub cell: String,
    /// One sentence of why, with the numbers.
    pub why: String,
}

/// The speed-up of `claim`'s design over its compared claim's from matching Go figures: both
/// sink-fed seed loops, else both models (never one of each: they are different shapes).
fn go_speedup(
    mine: &GoFigures<'_>,
    theirs: &GoFigures<'_>,
    pick: impl Fn(&GoFigures<'_>) -> Option<f64>,
) -> Option<f64> {
    let (a, b) = (pick(mine)?, pick(theirs)?);
    (a > 0.0).then(|| b / a)
}

/// Judges every claim row against the Go peer (rows without a Go figure say why).
pub fn judge<'a>(
    rows: &[ClaimRow<'_>],
    claims: &ClaimsFile,
    go: Option<&'a GoPeerFile>,
) -> Vec<GoClaim<'a>> {
    rows.iter().map(|r| judge_one(r, claims, go)).collect()
}

fn judge_one<'a>(
    row: &ClaimRow<'_>,
    claims: &ClaimsFile,
    go: Option<&'a GoPeerFile>,
) -> GoClaim<'a> {
    let claim = row.claim;
    let unit = claim.unit.as_str();
    let figures = go.map(|g| figures_for(claim, g)).unwrap_or_default();
    let rust = match row.claimed_speedup {
        Some(_) => row.our_speedup,
        None => row.ours.map(|f| f.seed_accounting().median),
    };
    let (go_value, go_as_written) = match (row.claimed_speedup, go) {
        (Some(_), Some(g)) => {
            // Ours is judged against the compared claim's figure (verdict.rs); so is Go's.
            match claim.compare_to.as_deref().and_then(|id| claims.get(id)) {
                Some(o) => {
                    let theirs = figures_for(o, g);
                    let ns = |f: &GoFigures<'_>| f.sink.and_then(|b| value(b, "ns/op"));
                    let model = |f: &GoFigures<'_>| f.model.and_then(|b| value(b, "ns/op"));
                    let aw = |f: &GoFigures<'_>| f.as_written.and_then(|b| value(b, "ns/op"));
                    (
                        go_speedup(&figures, &theirs, ns)
                            .or_else(|| go_speedup(&figures, &theirs, model)),
                        go_speedup(&figures, &theirs, aw),
                    )
                }
                None => (None, None),
            }
        }
        (None, Some(_)) => (
            figures.honest().and_then(|b| value(b, unit)),
            figures.as_written.and_then(|b| value(b, unit)),
        ),
        (_, None) => (None, None),
    };
    let go_holds = go_value.map(|v| holds(claim, row.claimed_speedup, v));
    let rust_holds = rust.map(|v| holds(claim, row.claimed_speedup, v));
    let verdict = match (go_holds, rust_holds) {
        (None, _) => SameMachine::NoGo,
        (Some(_), None) => SameMachine::NoRust,
        (Some(true), Some(true)) => SameMachine::Both,
        (Some(true), Some(false)) => SameMachine::GoOnly,
        (Some(false), Some(true)) => SameMachine::RustOnly,
        (Some(false), Some(false)) => SameMachine::Neither,
    };
    let show = |v: f64| match row.claimed_speedup {
        Some(_) => speed_phrase(v),
        None => per_op(v, unit),
    };
    let source = if figures.sink.is_some() {
        "the seed's loop, sink-fed"
    } else {
        "the Go model"
    };
    let cell = match (go, go_value) {
        (None, _) => "—".to_owned(),
        (Some(g), None) => match &g.skipped {
            Some(why) => format!("— ({why})"),
            None => "— (no such shape in the Go peer)".to_owned(),
        },
        (Some(_), Some(v)) => {
            let mut s = format!("{} ({source})", show(v));
            if let Some(aw) = go_as_written
                && figures.sink.is_some()
            {
                s.push_str(&format!("; as written {}", show(aw)));
            }
            if row.claimed_speedup.is_none()
                && figures.sink.is_some()
                && let Some(m) = figures.model.and_then(|b| value(b, unit))
            {
                s.push_str(&format!("; model {}", show(m)));
            }
            s
        }
    };
    let judged = |h: Option<bool>| match h {
        Some(true) => "holds",
        Some(false) => "does not hold",
        None => "not measured",
    };
    let why = match (go_value, rust) {
        (Some(g), Some(r)) => {
            let mut s = format!(
                "Go here: {} ({}); Rust here: {} ({})",
                show(g),
                judged(go_holds),
                show(r),
                judged(rust_holds)
            );
            if row.claimed_speedup.is_none() && claim.is_time() && g > 0.0 {
                s.push_str(&format!("; Rust/Go {}", ratio(r / g)));
            }
            if let Some(aw) = go_as_written
                && claim.dead_load()
            {
                s.push_str(&format!(
                    "; the seed's loop as written gives {} here ({})",
                    show(aw),
                    judged(Some(holds(claim, row.claimed_speedup, aw)))
                ));
            }
            s.push('.');
            s
        }
        (Some(g), None) => format!(
            "Go here: {} ({}); no figure of ours.",
            show(g),
            judged(go_holds)
        ),
        (None, _) => match go {
            None => {
                "No go-peer.json in the results: run `harness reproduce` with Go 1.19+ on PATH."
                    .into()
            }
            Some(g) => match &g.skipped {
                Some(why) => format!("The Go peer did not run: {why}."),
                None => "The Go peer has no figure for this shape.".into(),
            },
        },
    };
    GoClaim {
        figures,
        go: go_value,
        go_as_written,
        rust,
        verdict,
        cell,
        why,
    }
}

/// An operation of the headline table: a criterion group (with its parameter) that both sides
/// run for every design.
#[derive(Clone, Copy, Debug)]
pub struct Operation {
    /// As the table names it.
    pub label: &'static str,
    /// The criterion group.
    pub group: &'static str,
    /// The parameter, `=cores` resolved per side.
    pub parameter: Option<&'static str>,
    /// The Rust bench's parameter where it differs (its group has a dimension the Go peer
    /// fixes: `concurrent_status_spread` also runs one shared name, `names=1`).
    pub rust_parameter: Option<&'static str>,
}

/// The operations of the headline table, in order.
pub const OPERATIONS: &[Operation] = &[
    Operation {
        label: "status by name, 1 thread",
        group: "single_process_read",
        parameter: None,
        rust_parameter: None,
    },
    Operation {
        label: "status over 100 names, 1 per CPU",
        group: "concurrent_status_spread",
        parameter: Some("readers=cores"),
        rust_parameter: Some("names=100/readers=cores"),
    },
    Operation {
        label: "status over 100 names, 10 threads",
        group: "concurrent_status_spread",
        parameter: Some("readers=10"),
        rust_parameter: Some("names=100/readers=10"),
    },
    Operation {
        label: "same name, 1 per CPU",
        group: "concurrent_process_read",
        parameter: Some("readers=cores"),
        rust_parameter: None,
    },
    Operation {
        label: "same name, 10 threads",
        group: "concurrent_process_read",
        parameter: Some("readers=10"),
        rust_parameter: None,
    },
    Operation {
        label: "status beside a non-sleeping writer",
        group: "writer_reader_contention",
        parameter: Some("busy_writer"),
        rust_parameter: None,
    },
    Operation {
        label: "status beside the seed's sleeping writer",
        group: "writer_reader_contention",
        parameter: Some("sleeping_writer"),
        rust_parameter: None,
    },
    Operation {
        label: "1-in-5 write mix, 50 names",
        group: "mixed_workload",
        parameter: Some("workers=cores"),
        rust_parameter: None,
    },
    Operation {
        label: "registry read, key built per call",
        group: "registry_read",
        parameter: Some("readers=cores"),
        rust_parameter: None,
    },
    Operation {
        label: "state update (restart)",
        group: "state_update",
        parameter: None,
        rust_parameter: None,
    },
    Operation {
        label: "list of 100",
        group: "list_100",
        parameter: None,
        rust_parameter: None,
    },
];

/// The designs both sides have.
pub const DESIGNS: &[&str] = &["mutex", "actor", "atomic"];

/// One row of the headline table.
#[derive(Clone, Debug)]
pub struct HeadRow<'a> {
    /// The operation.
    pub op: Operation,
    /// The design.
    pub design: &'static str,
    /// Ours (criterion: per op, per thread).
    pub rust: Option<&'a BenchFigure>,
    /// The Go model's (per op, per goroutine).
    pub go: Option<&'a GoBench>,
}

impl HeadRow<'_> {
    /// Rust's per-thread time over Go's per-goroutine time: below 1, Rust is faster.
    pub fn rust_over_go(&self) -> Option<f64> {
        let r = self.rust?.per_thread.median;
        let g = self.go?.per_goroutine_ns;
        (g > 0.0).then(|| r / g)
    }
}

/// Every operation and design with a figure on at least one side.
pub fn head_rows<'a>(seeds: Option<&'a SeedsFile>, go: &'a GoPeerFile) -> Vec<HeadRow<'a>> {
    let mut out = Vec::new();
    let go_procs = go.full_procs().unwrap_or(1);
    for op in OPERATIONS {
        for &design in DESIGNS {
            let rust = seeds.and_then(|s| {
                let p = op
                    .rust_parameter
                    .or(op.parameter)
                    .map(|p| p.replace("=cores", &format!("={}", s.provenance.logical_cpus)));
                s.find(op.group, "", p.as_deref(), design)
            });
            let p = op
                .parameter
                .map(|p| p.replace("=cores", &format!("={go_procs}")));
            let go = go.find_op(op.group, "", p.as_deref(), design);
            if rust.is_some() || go.is_some() {
                out.push(HeadRow {
                    op: *op,
                    design,
                    rust,
                    go,
                });
            }
        }
    }
    out
}

/// `Rust 1.3x faster` / `Go 2.0x faster` / `even` from Rust's time over Go's.
pub fn who_wins(rust_over_go: f64) -> String {
    if (rust_over_go - 1.0).abs() < 0.005 {
        "even".into()
    } else if rust_over_go < 1.0 {
        format!("Rust {} faster", ratio(1.0 / rust_over_go))
    } else {
        format!("Go {} faster", ratio(rust_over_go))
    }
}

/// The headline chart: each operation and design, Rust beside Go, per op per thread.
pub fn figures(rows: &[HeadRow<'_>]) -> Result<Vec<Figure>, chart::DrawError> {
    let rows: Vec<&HeadRow<'_>> = rows
        .iter()
        .filter(|r| r.rust.is_some() && r.go.is_some())
        .collect();
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut csv = Csv::new(&[
        "operation",
        "group",
        "design",
        "rust_id",
        "rust_ns_per_op_per_thread",
        "go_name",
        "go_gomaxprocs",
        "go_goroutines",
        "go_ns_per_op_per_goroutine",
        "rust_over_go",
    ]);
    let mut categories = Vec::new();
    let mut bars = Vec::new();
    let mut values = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let (Some(rust), Some(go)) = (r.rust, r.go) else {
            continue;
        };
        categories.push(format!("{} · {}", r.op.label, r.design));
        let e = &rust.per_thread;
        bars.push(Bar {
            category: i,
            slot: 0,
            value: e.median,
            interval: Some((e.median_lower, e.median_upper)),
            colour: colour(r.design),
        });
        bars.push(Bar {
            category: i,
            slot: 1,
            value: go.per_goroutine_ns,
            interval: None,
            colour: lighter(colour(r.design)),
        });
        values.extend([e.median, go.per_goroutine_ns]);
        csv.row([
            r.op.label.to_owned(),
            r.op.group.to_owned(),
            r.design.to_owned(),
            rust.id.clone(),
            num(Some(e.median)),
            go.name.clone(),
            go.gomaxprocs.to_string(),
            go.goroutines.to_string(),
            num(Some(go.per_goroutine_ns)),
            num(r.rust_over_go()),
        ]);
    }
    let x = Axis::values(
        "time per op, per thread or goroutine (log scale)",
        Unit::Nanos,
        Scale::Log,
        &values,
    );
    let mut entries = Vec::new();
    for d in DESIGNS {
        entries.push((format!("Rust {d}"), colour(d)));
        entries.push((format!("Go {d}"), lighter(colour(d))));
    }
    Ok(vec![Figure {
        name: "go.rust_vs_go".into(),
        caption: "Each Rust design (full colour, criterion median and 95% interval) beside the \
                  Go model of the same design (light), same operation, same machine, same run; \
                  time per op that one thread or goroutine waits"
            .into(),
        svg: chart::bar_chart(
            "Rust design vs Go model of it, per op per thread",
            &categories,
            2,
            &x,
            &bars,
            &entries,
        )?,
        csv: csv.finish(),
    }])
}

/// The design's hue, lightened halfway to white (the Go bars).
fn lighter(c: plotters::style::RGBColor) -> plotters::style::RGBColor {
    let l = |v: u8| v + (255 - v) / 2;
    plotters::style::RGBColor(l(c.0), l(c.1), l(c.2))
}

/// The "Rust and its Go model on this machine" section: the headline table and chart, then
/// every Go figure.
pub fn blocks(
    seeds: Option<&SeedsFile>,
    go: Option<&GoPeerFile>,
    figures: &[Figure],
) -> Vec<Block> {
    let mut out = vec![heading(
        2,
        "Rust and the Go model of each design, on this machine",
    )];
    let Some(go) = go else {
        out.push(Block::Para(
            "No `go-peer.json` in the results, so there is no Go figure: `harness reproduce` \
             writes it when `go` 1.19 or later is on PATH (`apt-get install golang-go`)."
                .into(),
        ));
        return out;
    };
    if let Some(why) = &go.skipped {
        out.push(Block::Para(format!(
            "The Go peer did not run when these results were made ({why}), so every Go column \
             is empty. Install Go 1.19 or later (`apt-get install golang-go`) and run `harness \
             reproduce` again."
        )));
        return out;
    }
    let rows = head_rows(seeds, go);
    let g = go.go.as_ref();
    out.push(Block::Para(format!(
        "`peers/go` holds a Go model of each design as the Go peers built it (atomic: `sync.Map` \
         plus an `atomic.Pointer` to a state struct, copied out; mutex: an `RWMutex` map plus an \
         `RWMutex` per process; actor: an owner goroutine, a reply channel reused per caller) and \
         runs the criterion groups' operations under the same names. `{}` ({}, {} on `{}`, \
         GOMAXPROCS {}, `-benchtime {}`). Times are what one thread or goroutine waits per \
         operation: criterion's median for Rust, Go's ns/op times the goroutine count for Go \
         (`RunParallel`'s own ns/op divides by it). Go runs at GOMAXPROCS {} here, one per \
         logical CPU, as the Rust benches run one thread per CPU.",
        go.command.join(" "),
        g.map_or("?", |g| g.version.as_str()),
        g.map_or("?", |g| g.date_utc.as_str()),
        g.map_or("?", |g| g.cpu.as_str()),
        g.map_or(String::new(), |g| g
            .gomaxprocs
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(" and ")),
        g.map_or("?", |g| g.benchtime.as_str()),
        go.full_procs().unwrap_or(1),
    )));
    let mut t = Table::new(&[
        "operation",
        "design",
        "Rust, per thread>",
        "Go model, per goroutine>",
        "Rust / Go>",
        "which is faster",
        "Go allocs/op>",
    ]);
    for r in &rows {
        t.row(vec![
            r.op.label.to_owned(),
            r.design.to_owned(),
            r.rust.map_or("— (not in seeds.json)".into(), |f| {
                time_ns(f.per_thread.median)
            }),
            r.go.map_or("—".into(), |b| time_ns(b.per_goroutine_ns)),
            r.rust_over_go()
                .map_or("—".into(), |x| format!("{}x", sig3(x))),
            r.rust_over_go().map_or("—".into(), who_wins),
            r.go.and_then(|b| b.allocs_per_op)
                .map_or("—".into(), |a| format!("{a:.0}")),
        ]);
    }
    out.push(Block::Table(t));
    let compared: Vec<f64> = rows.iter().filter_map(HeadRow::rust_over_go).collect();
    if !compared.is_empty() {
        let rust_wins = compared.iter().filter(|&&x| x < 1.0).count();
        out.push(Block::Para(format!(
            "Rust is faster than its Go model in **{rust_wins} of {}** operation-design pairs \
             measured on both sides.",
            compared.len()
        )));
    }
    let figs: Vec<FigureRef> = figures
        .iter()
        .filter(|f| f.name.starts_with("go."))
        .map(|f| FigureRef {
            name: f.name.clone(),
            caption: f.caption.clone(),
        })
        .collect();
    if !figs.is_empty() {
        out.push(Block::Figures(figs));
    }
    out.push(heading(3, "Every Go figure"));
    out.push(Block::Para(
        "`Ops/…`: the Go models under the criterion ids (`actor-fresh` is the actor with a reply \
         channel made per request, the seed's form). `Seed/CLAIM/as_written`: the seed's loop \
         for that claim as the seed describes it, values it never used left unused; \
         `Seed/CLAIM/sink`: the same loop with every value used. ns/op is Go's own figure (for \
         parallel benchmarks, wall time over all goroutines' operations, the seeds' accounting)."
            .into(),
    ));
    let mut t = Table::new(&[
        "benchmark",
        "GOMAXPROCS>",
        "goroutines>",
        "ns/op (Go)>",
        "per goroutine>",
        "B/op>",
        "allocs/op>",
    ]);
    for b in &go.benchmarks {
        t.row(vec![
            format!("`{}`", b.name),
            b.gomaxprocs.to_string(),
            b.goroutines.to_string(),
            time_ns(b.ns_per_op),
            if b.parallel {
                time_ns(b.per_goroutine_ns)
            } else {
                "—".into()
            },
            b.bytes_per_op.map_or("—".into(), |v| format!("{v:.0}")),
            b.allocs_per_op.map_or("—".into(), |v| format!("{v:.0}")),
        ]);
    }
    out.push(Block::Table(t));
    out
}

/// What the Go peer lets the "cannot show" section say, or why it says nothing.
pub fn limits(
    claims: &[GoClaim<'_>],
    rows: &[ClaimRow<'_>],
    go: Option<&GoPeerFile>,
) -> Vec<String> {
    let Some(go) = go.filter(|g| g.skipped.is_none()) else {
        let why = match go.and_then(|g| g.skipped.as_deref()) {
            Some(why) => format!("the Go peer did not run ({why})"),
            None => "there is no `go-peer.json` in the results".to_owned(),
        };
        return vec![format!(
            "The seed's machine ran Go with GOMAXPROCS=6; our figures are Rust on another CPU. \
             The Go peer would measure the seed's shapes in Go here, but {why}: without it, a \
             difference between the seed's figure and ours cannot be split between the \
             machine, the language, the seed's method and the design."
        )];
    };
    let mut items = Vec::new();
    // The machine (and Go version) factor: the seed's own loops, as written, here over there.
    let mut factors: Vec<f64> = claims
        .iter()
        .zip(rows)
        .filter(|(_, r)| {
            // Dead loads are the next item; a documentation estimate was never measured.
            r.claim.is_time()
                && r.claimed_speedup.is_none()
                && !r.claim.dead_load()
                && !r.claim.method_note.to_lowercase().contains("estimate")
        })
        .filter_map(|(g, r)| {
            let aw = g.figures.as_written.map(|b| b.ns_per_op)?;
            (r.claim.value >= super::verdict::ONE_INSTRUCTION_NS).then(|| aw / r.claim.value)
        })
        .collect();
    factors.sort_by(f64::total_cmp);
    if let (Some(lo), Some(hi)) = (factors.first(), factors.last()) {
        items.push(format!(
            "The seed's machine ran Go with GOMAXPROCS=6; the Go peer ran the seed's own loops \
             here at GOMAXPROCS {} ({}). For the {} measured, timed claims that are not dead \
             loads, the seed's loop as written here over the seed's figure is {}–{} (median \
             {}): that much of a difference between the seed and us is the machine, the Go \
             version or the seed's exact code, not the language or the design.",
            go.full_procs().unwrap_or(1),
            go.go.as_ref().map_or("?", |g| g.version.as_str()),
            factors.len(),
            ratio(*lo),
            ratio(*hi),
            ratio(factors[factors.len() / 2]),
        ));
    }
    let pairs: Vec<(&str, f64, f64)> = claims
        .iter()
        .zip(rows)
        .filter(|(_, r)| r.claim.dead_load() && r.claimed_speedup.is_none())
        .filter_map(|(g, r)| {
            Some((
                r.claim.id.as_str(),
                g.figures.as_written?.ns_per_op,
                g.figures.sink?.ns_per_op,
            ))
        })
        .collect();
    if !pairs.is_empty() {
        items.push(dead_load_finding(&pairs));
    }
    let tally = |v: SameMachine| claims.iter().filter(|c| c.verdict == v).count();
    items.push(format!(
        "Same machine, both languages (the \"same machine\" column): holds in Go and in Rust \
         {}, in Go only {}, in Rust only {}, in neither {}; Go figure without one of ours {}; \
         no Go figure {}.",
        tally(SameMachine::Both),
        tally(SameMachine::GoOnly),
        tally(SameMachine::RustOnly),
        tally(SameMachine::Neither),
        tally(SameMachine::NoRust),
        tally(SameMachine::NoGo),
    ));
    items
}

/// What the seed's dead-load loops did on this machine: `(claim, as written, sink-fed)` ns/op.
/// A loop whose load the compiler dropped or hoisted runs far faster as written than fed to a
/// sink; one whose load stayed costs the same either way, and its small figure is the loop's
/// small work (a pointer load and a field, no lookup, no copy), not a dropped load.
pub fn dead_load_finding(pairs: &[(&str, f64, f64)]) -> String {
    let listed = pairs
        .iter()
        .map(|(id, aw, sink)| {
            format!(
                "`{id}` {} as written, {} sink-fed",
                time_ns(*aw),
                time_ns(*sink)
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let dropped = pairs
        .iter()
        .filter(|(_, aw, sink)| *aw * AGREEMENT_FACTOR < *sink)
        .count();
    let verdict = if dropped == 0 {
        "In none of them is the loop as written more than 2x faster than the same loop with its \
         value used: here the compiler kept the load, and the seed's sub-nanosecond figures come \
         from the loop's small work (one pointer load, no registry lookup, no copy of the state) \
         and from RunParallel dividing by the goroutines, not from a dropped load"
            .to_owned()
    } else {
        format!(
            "In {dropped} of {} the loop as written is more than 2x faster than with its value \
             used: there the compiler dropped or hoisted the load",
            pairs.len()
        )
    };
    format!(
        "The seed's dead-load loops, run on this machine as written and with the value fed to a \
         sink: {listed}. {verdict}."
    )
}
