//! The terminal tables printed at the end of a run: per op (throughput, latency percentiles
//! with their units, allocations, stalls, errors), per run (process-wide allocations,
//! background load achieved, watchdog), and per open-loop group (target against achieved).
//! Every figure carries its unit; the header says what the harness itself costs.

use std::fmt::Write as _;

use crate::measure::overhead::Calibration;
use crate::measure::timer::ClockSource;
use crate::provenance::Provenance;
use crate::results::{RunResult, ScenarioResult};

/// Renders `result` (and, when given, the machine it ran on) as text tables.
pub fn render(result: &ScenarioResult, provenance: Option<&Provenance>) -> String {
    let s = &result.scenario;
    let mut out = String::new();
    let _ = writeln!(out, "== {}: {}", s.name, s.description);
    let sweep = if s.sweep.is_empty() {
        String::new()
    } else {
        format!(" · clients {:?}", s.sweep)
    };
    let workers = result
        .tokio_workers
        .map_or(String::new(), |w| format!(" ({w} workers)"));
    let _ = writeln!(
        out,
        "{} driver{workers} · {} launcher · {} processes · duration {} + warm-up {} per run · stall bound {}{sweep}",
        result.driver.name(),
        s.launcher,
        s.processes,
        ns(s.duration_ns as f64),
        ns(s.warmup_ns as f64),
        ns(s.stall_bound_ns as f64),
    );
    let _ = writeln!(out, "{}", calibration_line(&result.calibration));
    if let Some(p) = provenance {
        let _ = writeln!(out, "machine: {}", p.summary());
        if p.build_profile != "release" {
            let _ = writeln!(
                out,
                "WARNING: {} build — figures are not representative; use cargo run --release",
                p.build_profile
            );
        }
    }
    let _ = writeln!(
        out,
        "latency: closed loop = call to return, open loop = due time to return · ops/s over the run window · allocs/op and B/op on the calling side · stalls = ops slower than {}\n",
        ns(s.stall_bound_ns as f64)
    );
    out.push_str(&ops_table(&result.runs).render());
    out.push('\n');
    out.push_str(&runs_table(&result.runs).render());
    let open = open_table(&result.runs);
    if !open.rows.is_empty() {
        out.push('\n');
        out.push_str(&open.render());
    }
    for run in result.runs.iter().filter(|r| !r.complete) {
        let _ = writeln!(
            out,
            "INCOMPLETE {} {}: {}",
            run.design,
            clients(run),
            run.failure.as_deref().unwrap_or("")
        );
    }
    for run in &result.runs {
        for lockup in &run.watchdog.suspected_lockups {
            let _ = writeln!(out, "LOCKUP? {} {}: {lockup}", run.design, clients(run));
        }
    }
    out
}

/// One line: the clock, its cost, and the harness's own cost per op against the budget.
pub fn calibration_line(c: &Calibration) -> String {
    let clock = match c.timer.source {
        ClockSource::Tsc => format!("TSC at {:.3} GHz", c.timer.hz / 1e9),
        ClockSource::Instant => "Instant".to_owned(),
    };
    let verdict = if c.within_budget { "within" } else { "OVER" };
    let tokio = c
        .tokio_cost_per_op_ns
        .map_or(String::new(), |t| format!(" · tokio driver {t:.1} ns/op"));
    let allocs = if c.alloc_counting {
        "allocation counting on"
    } else {
        "allocation counting OFF (counting allocator not installed)"
    };
    format!(
        "clock: {clock}, read pair {:.1} ns (Instant pair {:.1} ns) · harness cost {:.1} ns/op CPU ({verdict} the {:.0} ns budget; {:.1} ns wall){tokio} · empty-op latency p50 {} · {allocs}",
        c.timer.clock_pair_ns,
        c.timer.instant_pair_ns,
        c.harness_cost_per_op_ns,
        c.harness_budget_ns,
        c.harness_wall_per_op_ns,
        ns(c.empty_op_latency.p50_ns as f64),
    )
}

fn clients(run: &RunResult) -> String {
    match run.swept_clients {
        Some(n) => format!("x{n}"),
        None => format!("({} clients)", run.total_clients),
    }
}

fn ops_table(runs: &[RunResult]) -> Table {
    let mut t = Table::new(&[
        ("design", L),
        ("clients", R),
        ("group", L),
        ("op", L),
        ("ops/s", R),
        ("p50", R),
        ("p90", R),
        ("p99", R),
        ("p99.9", R),
        ("max", R),
        ("allocs/op", R),
        ("B/op", R),
        ("stalls", R),
        ("errors", R),
    ]);
    for run in runs {
        t.separate();
        for g in &run.groups {
            let mut rows: Vec<(String, &crate::results::OpStats)> = g
                .ops
                .iter()
                .map(|o| (o.op.name().to_owned(), &o.stats))
                .collect();
            if g.ops.len() > 1 {
                rows.push(("(all ops)".to_owned(), &g.total));
            }
            for (op, st) in rows {
                let l = &st.latency;
                t.row(vec![
                    run.design.name().to_owned(),
                    g.clients.to_string(),
                    g.group.clone(),
                    op,
                    rate(st.ops_per_sec),
                    ns(l.p50_ns as f64),
                    ns(l.p90_ns as f64),
                    ns(l.p99_ns as f64),
                    ns(l.p999_ns as f64),
                    ns(l.max_ns as f64),
                    format!("{:.2}", st.client_allocs_per_op),
                    format!("{:.0}", st.client_bytes_per_op),
                    st.stalls.to_string(),
                    errors(st),
                ]);
            }
        }
    }
    t
}

fn errors(st: &crate::results::OpStats) -> String {
    if st.errors_total == 0 {
        return "0".into();
    }
    let pct = st.errors_total as f64 * 100.0 / st.count.max(1) as f64;
    let kinds: Vec<String> = st
        .errors
        .iter()
        .map(|(k, n)| {
            format!(
                "{}:{n}",
                serde_json::to_value(k)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            )
        })
        .collect();
    format!("{pct:.1}% {}", kinds.join(","))
}

fn runs_table(runs: &[RunResult]) -> Table {
    let mut t = Table::new(&[
        ("design", L),
        ("clients", R),
        ("window", R),
        ("ops", R),
        ("proc allocs/op", R),
        ("proc B/op", R),
        ("churn/s", R),
        ("log lines/s", R),
        ("exits/s", R),
        ("in-flight stalls", R),
        ("longest in flight", R),
        ("vol/invol ctx sw per 1k ops", R),
        ("complete", L),
    ]);
    for run in runs {
        let ops: u64 = run.groups.iter().map(|g| g.total.count).sum();
        let a = &run.background.achieved;
        t.row(vec![
            run.design.name().to_owned(),
            run.total_clients.to_string(),
            ns(run.window_ns as f64),
            ops.to_string(),
            format!("{:.2}", run.process_allocs.allocs_per_op),
            format!("{:.0}", run.process_allocs.bytes_per_op),
            format!("{:.1}", a.churn_per_sec),
            format!("{:.0}", a.log_lines_per_sec),
            format!("{:.1}", a.exits_per_sec),
            run.watchdog.in_flight_stalls.to_string(),
            ns(run.watchdog.longest_in_flight_ns as f64),
            run.client_context_switches.map_or("-".into(), |c| {
                let per_k = |n: u64| n as f64 * 1000.0 / ops.max(1) as f64;
                format!("{:.2} / {:.2}", per_k(c.voluntary), per_k(c.involuntary))
            }),
            if run.complete { "yes" } else { "NO" }.into(),
        ]);
    }
    t
}

fn open_table(runs: &[RunResult]) -> Table {
    let mut t = Table::new(&[
        ("design", L),
        ("clients", R),
        ("open-loop group", L),
        ("target ops/s", R),
        ("achieved ops/s", R),
        ("due", R),
        ("due, not sent", R),
        ("send lag p50", R),
        ("send lag p99", R),
        ("send lag max", R),
    ]);
    for run in runs {
        for g in run.groups.iter().filter(|g| g.target_ops_per_sec.is_some()) {
            let lag = g.send_lag.unwrap_or_default();
            t.row(vec![
                run.design.name().to_owned(),
                run.total_clients.to_string(),
                g.group.clone(),
                rate(g.target_ops_per_sec.unwrap_or(0.0)),
                rate(g.achieved_ops_per_sec),
                g.due.unwrap_or(0).to_string(),
                g.due_not_sent.unwrap_or(0).to_string(),
                ns(lag.p50_ns as f64),
                ns(lag.p99_ns as f64),
                ns(lag.max_ns as f64),
            ]);
        }
    }
    t
}

/// A duration in nanoseconds with its unit: `812 ns`, `1.24 µs`, `3.10 ms`, `1.20 s`.
pub fn ns(v: f64) -> String {
    if v < 1e3 {
        format!("{v:.0} ns")
    } else if v < 1e6 {
        format!("{:.3} µs", v / 1e3).trim_dec()
    } else if v < 1e9 {
        format!("{:.3} ms", v / 1e6).trim_dec()
    } else {
        format!("{:.3} s", v / 1e9).trim_dec()
    }
}

/// A rate per second: `4.21 M`, `512 k`, `60.0`.
pub fn rate(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2} M", v / 1e6)
    } else if v >= 1e4 {
        format!("{:.0} k", v / 1e3)
    } else if v >= 1e3 {
        format!("{:.2} k", v / 1e3)
    } else {
        format!("{v:.1}")
    }
}

/// Three significant digits for the unit-scaled numbers.
trait TrimDec {
    fn trim_dec(self) -> String;
}

impl TrimDec for String {
    fn trim_dec(self) -> String {
        let (num, unit) = self.split_once(' ').unwrap_or((&self, ""));
        let value: f64 = num.parse().unwrap_or(0.0);
        let digits = if value >= 100.0 {
            0
        } else if value >= 10.0 {
            1
        } else {
            2
        };
        format!("{value:.digits$} {unit}")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Align {
    Left,
    Right,
}
use Align::{Left as L, Right as R};

/// A plain text table with aligned columns and optional separator rules.
#[derive(Debug)]
struct Table {
    headers: Vec<(&'static str, Align)>,
    /// `None` is a separator.
    rows: Vec<Option<Vec<String>>>,
}

impl Table {
    fn new(headers: &[(&'static str, Align)]) -> Table {
        Table {
            headers: headers.to_vec(),
            rows: Vec::new(),
        }
    }

    fn row(&mut self, cells: Vec<String>) {
        self.rows.push(Some(cells));
    }

    fn separate(&mut self) {
        if self.rows.last().is_some_and(Option::is_some) {
            self.rows.push(None);
        }
    }

    fn render(&self) -> String {
        let mut widths: Vec<usize> = self
            .headers
            .iter()
            .map(|(h, _)| h.chars().count())
            .collect();
        for row in self.rows.iter().flatten() {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &mut dyn Iterator<Item = &str>| -> String {
            let mut s = String::new();
            for (i, (cell, (_, align))) in cells.zip(&self.headers).enumerate() {
                if i > 0 {
                    s.push_str("  ");
                }
                let pad = widths[i].saturating_sub(cell.chars().count());
                match align {
                    Align::Left => {
                        s.push_str(cell);
                        s.extend(std::iter::repeat_n(' ', pad));
                    }
                    Align::Right => {
                        s.extend(std::iter::repeat_n(' ', pad));
                        s.push_str(cell);
                    }
                }
            }
            s.trim_end().to_owned() + "\n"
        };
        let mut out = line(&mut self.headers.iter().map(|(h, _)| *h));
        let total: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
        let rule = "-".repeat(total) + "\n";
        out.push_str(&rule);
        for row in &self.rows {
            match row {
                Some(cells) => out.push_str(&line(&mut cells.iter().map(String::as_str))),
                None => out.push_str(&rule),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_always_shown() {
        assert_eq!(ns(812.0), "812 ns");
        assert_eq!(ns(1_240.0), "1.24 µs");
        assert_eq!(ns(12_400.0), "12.4 µs");
        assert_eq!(ns(3_100_000.0), "3.10 ms");
        assert_eq!(ns(1_200_000_000.0), "1.20 s");
        assert_eq!(rate(4_210_000.0), "4.21 M");
        assert_eq!(rate(512_000.0), "512 k");
        assert_eq!(rate(60.0), "60.0");
    }

    #[test]
    fn table_aligns_columns() {
        let mut t = Table::new(&[("a", L), ("num", R)]);
        t.row(vec!["x".into(), "1".into()]);
        t.separate();
        t.row(vec!["long".into(), "100".into()]);
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "a     num");
        assert_eq!(lines[2], "x       1");
        assert_eq!(lines[3], "---------");
        assert_eq!(lines[4], "long  100");
    }
}
