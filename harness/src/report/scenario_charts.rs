//! The charts of one scenario, in the manner of conc-map-bench (one chart per workload and
//! metric, raw CSV beside each): per client group, p99 latency and throughput against the
//! client count, one line per design; a percentile ladder (p50 to max) per operation at the
//! highest client count; and the allocations per operation of every design.

use crate::results::{GroupResult, RunResult};

use super::chart::{self, Axis, Bar, Scale, Series, Unit};
use super::figure::{Csv, Figure, num};
use super::inputs::ScenarioEntry;
use super::palette::colour;

/// The client count a run is plotted at: the swept count, else all clients.
pub fn clients_of(run: &RunResult) -> usize {
    run.swept_clients.unwrap_or(run.total_clients)
}

/// The complete runs of a scenario, in design order then client order.
pub fn complete_runs(entry: &ScenarioEntry) -> Vec<&RunResult> {
    let mut runs: Vec<&RunResult> = entry.result.runs.iter().filter(|r| r.complete).collect();
    runs.sort_by_key(|r| (r.design, clients_of(r)));
    runs
}

/// The groups of a scenario, by name, in the order of its first complete run.
pub fn group_names(entry: &ScenarioEntry) -> Vec<String> {
    complete_runs(entry)
        .first()
        .map(|r| r.groups.iter().map(|g| g.group.clone()).collect())
        .unwrap_or_default()
}

fn group<'a>(run: &'a RunResult, name: &str) -> Option<&'a GroupResult> {
    run.groups.iter().find(|g| g.group == name)
}

/// The designs of a scenario's complete runs, in design order.
fn designs(runs: &[&RunResult]) -> Vec<crate::contender::Design> {
    let mut d: Vec<_> = runs.iter().map(|r| r.design).collect();
    d.dedup();
    d
}

/// Every chart of one scenario.
pub fn figures(entry: &ScenarioEntry) -> Result<Vec<Figure>, chart::DrawError> {
    let mut out = Vec::new();
    let runs = complete_runs(entry);
    if runs.is_empty() {
        return Ok(out);
    }
    for g in group_names(entry) {
        out.extend(sweep_figures(entry, &runs, &g)?);
        out.extend(ladders(entry, &runs, &g)?);
    }
    out.push(allocations(entry, &runs)?);
    Ok(out)
}

fn context(entry: &ScenarioEntry) -> String {
    let s = &entry.result.scenario;
    format!(
        "{} driver, {} {} processes, {} s per run",
        entry.result.driver.name(),
        s.processes,
        s.launcher,
        s.duration_ns as f64 / 1e9
    )
}

/// p99 latency and throughput against clients for one group.
fn sweep_figures(
    entry: &ScenarioEntry,
    runs: &[&RunResult],
    g: &str,
) -> Result<Vec<Figure>, chart::DrawError> {
    let stem = format!("{}.{g}", entry.stem());
    let mut csv = Csv::new(&[
        "scenario",
        "group",
        "design",
        "clients",
        "group_clients",
        "count",
        "ops_per_sec",
        "p50_ns",
        "p90_ns",
        "p99_ns",
        "p999_ns",
        "max_ns",
        "stalls",
        "errors",
    ]);
    let mut p99 = Vec::new();
    let mut tput = Vec::new();
    let mut counts = Vec::new();
    for d in designs(runs) {
        let mut lat_pts = Vec::new();
        let mut tput_pts = Vec::new();
        for run in runs.iter().filter(|r| r.design == d) {
            let Some(gr) = group(run, g) else { continue };
            let c = clients_of(run);
            counts.push(c);
            let l = &gr.total.latency;
            lat_pts.push((c as f64, l.p99_ns as f64));
            tput_pts.push((c as f64, gr.achieved_ops_per_sec));
            csv.row([
                entry.result.scenario.name.clone(),
                g.to_owned(),
                d.name().to_owned(),
                c.to_string(),
                gr.clients.to_string(),
                gr.total.count.to_string(),
                num(Some(gr.achieved_ops_per_sec)),
                l.p50_ns.to_string(),
                l.p90_ns.to_string(),
                l.p99_ns.to_string(),
                l.p999_ns.to_string(),
                l.max_ns.to_string(),
                gr.total.stalls.to_string(),
                gr.total.errors_total.to_string(),
            ]);
        }
        let name = d.name().to_owned();
        p99.push(Series {
            name: name.clone(),
            colour: colour(&name),
            points: lat_pts,
        });
        tput.push(Series {
            name: name.clone(),
            colour: colour(&name),
            points: tput_pts,
        });
    }
    let csv = csv.finish();
    let x = Axis::clients("clients (swept count)", &counts);
    let lat_values: Vec<f64> = p99
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .collect();
    let lat_scale = Scale::auto(lat_values.iter().copied(), 20.0);
    let y = Axis::values(
        &axis_title("p99 latency", lat_scale),
        Unit::Nanos,
        lat_scale,
        &lat_values,
    );
    let title = format!(
        "{} · {g}: p99 latency vs clients",
        entry.result.scenario.name
    );
    let lat_svg = chart::line_chart(&title, &x, &y, &p99)?;
    let t_values: Vec<f64> = tput
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .collect();
    let t_scale = Scale::auto(t_values.iter().copied(), 20.0);
    let y = Axis::values(
        &axis_title("throughput, ops/s", t_scale),
        Unit::PerSec,
        t_scale,
        &t_values,
    );
    let title = format!(
        "{} · {g}: throughput vs clients",
        entry.result.scenario.name
    );
    let t_svg = chart::line_chart(&title, &x, &y, &tput)?;
    Ok(vec![
        Figure {
            name: format!("{stem}.p99"),
            caption: format!("{g}: p99 latency against clients ({})", context(entry)),
            svg: lat_svg,
            csv: csv.clone(),
        },
        Figure {
            name: format!("{stem}.throughput"),
            caption: format!(
                "{g}: completed ops per second against clients ({})",
                context(entry)
            ),
            svg: t_svg,
            csv,
        },
    ])
}

fn axis_title(what: &str, scale: Scale) -> String {
    match scale {
        Scale::Log => format!("{what} (log scale)"),
        Scale::Linear => what.to_owned(),
    }
}

/// The percentile ladder of each op of group `g` at the highest client count.
fn ladders(
    entry: &ScenarioEntry,
    runs: &[&RunResult],
    g: &str,
) -> Result<Vec<Figure>, chart::DrawError> {
    let Some(top) = runs.iter().map(|r| clients_of(r)).max() else {
        return Ok(Vec::new());
    };
    let at_top: Vec<&RunResult> = runs
        .iter()
        .copied()
        .filter(|r| clients_of(r) == top)
        .collect();
    let ops: Vec<crate::mix::Op> = at_top
        .iter()
        .filter_map(|r| group(r, g))
        .flat_map(|gr| gr.ops.iter().map(|o| o.op))
        .fold(Vec::new(), |mut v, op| {
            if !v.contains(&op) {
                v.push(op);
            }
            v
        });
    let names: Vec<String> = ["p50", "p90", "p99", "p99.9", "max"]
        .map(String::from)
        .to_vec();
    let mut out = Vec::new();
    for op in ops {
        let mut csv = Csv::new(&[
            "scenario", "group", "op", "design", "clients", "count", "p50_ns", "p90_ns", "p99_ns",
            "p999_ns", "max_ns",
        ]);
        let mut series = Vec::new();
        for run in &at_top {
            let Some(o) = group(run, g).and_then(|gr| gr.ops.iter().find(|o| o.op == op)) else {
                continue;
            };
            let l = &o.stats.latency;
            if l.count == 0 {
                continue;
            }
            let ladder = [l.p50_ns, l.p90_ns, l.p99_ns, l.p999_ns, l.max_ns];
            csv.row(
                [
                    entry.result.scenario.name.clone(),
                    g.to_owned(),
                    op.name().to_owned(),
                    run.design.name().to_owned(),
                    top.to_string(),
                    l.count.to_string(),
                ]
                .into_iter()
                .chain(ladder.iter().map(|v| v.to_string())),
            );
            let name = run.design.name().to_owned();
            series.push(Series {
                colour: colour(&name),
                name,
                points: ladder
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (i as f64, *v as f64))
                    .collect(),
            });
        }
        if series.is_empty() {
            continue;
        }
        let values: Vec<f64> = series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .collect();
        let scale = Scale::auto(values.iter().copied(), 20.0);
        let x = Axis::categories("percentile", &names);
        let y = Axis::values(&axis_title("latency", scale), Unit::Nanos, scale, &values);
        let title = format!(
            "{} · {g} · {op}: latency percentiles at {top} clients",
            entry.result.scenario.name
        );
        out.push(Figure {
            name: format!("{}.{g}.{op}.ladder", entry.stem()),
            caption: format!(
                "{g}, {op}: p50 to max at {top} clients, one line per design ({})",
                context(entry)
            ),
            svg: chart::line_chart(&title, &x, &y, &series)?,
            csv: csv.finish(),
        });
    }
    Ok(out)
}

/// Allocations per op of each design at the highest client count: per op on the calling side,
/// and process-wide (the actor's owner thread, the background load and the launcher included).
fn allocations(entry: &ScenarioEntry, runs: &[&RunResult]) -> Result<Figure, chart::DrawError> {
    let top = runs.iter().map(|r| clients_of(r)).max().unwrap_or(0);
    let at_top: Vec<&RunResult> = runs
        .iter()
        .copied()
        .filter(|r| clients_of(r) == top)
        .collect();
    let mut categories: Vec<String> = Vec::new();
    for run in &at_top {
        for gr in &run.groups {
            for o in &gr.ops {
                let c = format!("{}: {}", gr.group, o.op);
                if !categories.contains(&c) {
                    categories.push(c);
                }
            }
        }
    }
    categories.push("process-wide, all ops".into());
    let ds = designs(&at_top);
    let mut bars = Vec::new();
    let mut csv = Csv::new(&[
        "scenario",
        "design",
        "clients",
        "group",
        "op",
        "allocs_per_op",
        "bytes_per_op",
        "side",
    ]);
    for (slot, run) in at_top.iter().enumerate() {
        let c = colour(run.design.name());
        for gr in &run.groups {
            for o in &gr.ops {
                let cat = format!("{}: {}", gr.group, o.op);
                let i = categories.iter().position(|x| *x == cat).unwrap_or(0);
                bars.push(Bar {
                    category: i,
                    slot,
                    value: o.stats.client_allocs_per_op,
                    interval: None,
                    colour: c,
                });
                csv.row([
                    entry.result.scenario.name.clone(),
                    run.design.name().into(),
                    top.to_string(),
                    gr.group.clone(),
                    o.op.name().into(),
                    num(Some(o.stats.client_allocs_per_op)),
                    num(Some(o.stats.client_bytes_per_op)),
                    "client".into(),
                ]);
            }
        }
        let p = &run.process_allocs;
        bars.push(Bar {
            category: categories.len() - 1,
            slot,
            value: p.allocs_per_op,
            interval: None,
            colour: c,
        });
        csv.row([
            entry.result.scenario.name.clone(),
            run.design.name().into(),
            top.to_string(),
            String::new(),
            "all".into(),
            num(Some(p.allocs_per_op)),
            num(Some(p.bytes_per_op)),
            "process".into(),
        ]);
    }
    let values: Vec<f64> = bars.iter().map(|b| b.value).collect();
    let x = Axis::values("allocations per op", Unit::Count, Scale::Linear, &values);
    let entries: Vec<_> = ds
        .iter()
        .map(|d| (d.name().to_owned(), colour(d.name())))
        .collect();
    let title = format!(
        "{}: allocations per op at {top} clients",
        entry.result.scenario.name
    );
    Ok(Figure {
        name: format!("{}.allocs", entry.stem()),
        caption: format!(
            "allocations per op at {top} clients: on the calling side per op, and process-wide \
             ({})",
            context(entry)
        ),
        svg: chart::bar_chart(&title, &categories, at_top.len(), &x, &bars, &entries)?,
        csv: csv.finish(),
    })
}
