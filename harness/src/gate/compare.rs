//! One row per metric, a verdict per row, and the renderings (table, JSON rows, Bencher Metric
//! Format). Rows come from the A/B comparison ([`super::ab`]) or from a committed baseline
//! against now ([`compare`]), where only the instruction layer can fail.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::baseline::{GateFile, Layer};

/// What a row says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Within the limit.
    Ok,
    /// Worse than the limit allows: the gate fails.
    Regressed,
    /// Better by more than the limit: passes; consider updating the baseline.
    Improved,
    /// In the baseline but not measured now: the input is unusable.
    Missing,
    /// Shown, never judged: a latency row in the baseline mode, whose reference was measured on
    /// another machine or another day.
    Info,
}

impl Verdict {
    /// Its word in the table.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Regressed => "REGRESSED",
            Verdict::Improved => "improved",
            Verdict::Missing => "MISSING",
            Verdict::Info => "info",
        }
    }
}

/// One compared metric.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// The metric.
    pub metric: String,
    /// The design.
    pub design: String,
    /// Its layer.
    pub layer: Layer,
    /// The reference: the base revision's median (A/B) or the baseline file's value.
    pub baseline: f64,
    /// Now: the head's median (`None` when missing).
    pub now: Option<f64>,
    /// Unit of both.
    pub unit: String,
    /// `(now - baseline) / baseline`, percent (A/B: the median of the paired ratios).
    pub change_pct: Option<f64>,
    /// The 95 % confidence interval of the change, percent (A/B mode only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_pct: Option<[f64; 2]>,
    /// The allowed worsening, percent.
    pub limit_pct: f64,
    /// The verdict.
    pub verdict: Verdict,
}

/// Compares every metric of `baseline` (a committed file) with `current`. Instruction rows are
/// judged against their limit; latency rows are [`Verdict::Info`]: a p99 measured on another
/// machine or day says nothing about this change.
pub fn compare(baseline: &GateFile, current: &GateFile) -> Vec<Row> {
    baseline
        .metrics
        .iter()
        .map(|b| {
            let now = current.find(&b.name, &b.design).map(|m| m.value);
            let change_pct = now.map(|n| {
                if b.value == 0.0 {
                    if n == 0.0 { 0.0 } else { f64::INFINITY }
                } else {
                    (n - b.value) / b.value * 100.0
                }
            });
            let verdict = match change_pct {
                None => Verdict::Missing,
                Some(_) if b.layer == Layer::Latency => Verdict::Info,
                Some(c) if c > b.limit_pct => Verdict::Regressed,
                Some(c) if c < -b.limit_pct => Verdict::Improved,
                Some(_) => Verdict::Ok,
            };
            Row {
                metric: b.name.clone(),
                design: b.design.clone(),
                layer: b.layer,
                baseline: b.value,
                now,
                unit: b.unit.clone(),
                change_pct,
                interval_pct: None,
                limit_pct: b.limit_pct,
                verdict,
            }
        })
        .collect()
}

/// The process exit code for `rows`: 2 if any metric is missing, else 1 if any regressed, else 0.
pub fn exit_code(rows: &[Row]) -> u8 {
    if rows.iter().any(|r| r.verdict == Verdict::Missing) {
        2
    } else if rows.iter().any(|r| r.verdict == Verdict::Regressed) {
        1
    } else {
        0
    }
}

fn fmt_value(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

/// The terminal table.
pub fn render_table(rows: &[Row]) -> String {
    let mut out = String::new();
    let header = [
        "metric", "design", "base", "head", "unit", "change", "95% CI", "limit", "verdict",
    ];
    let cells: Vec<[String; 9]> = rows
        .iter()
        .map(|r| {
            [
                r.metric.clone(),
                r.design.clone(),
                fmt_value(r.baseline),
                r.now.map_or("-".into(), fmt_value),
                r.unit.clone(),
                r.change_pct.map_or("-".into(), |c| format!("{c:+.1}%")),
                r.interval_pct
                    .map_or("-".into(), |[lo, hi]| format!("[{lo:+.1}%, {hi:+.1}%]")),
                format!("+{:.1}%", r.limit_pct),
                r.verdict.word().into(),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..9)
        .map(|i| {
            cells
                .iter()
                .map(|c| c[i].len())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |out: &mut String, vals: &[&str]| {
        for (i, v) in vals.iter().enumerate() {
            let _ = if i < 2 || i == 4 || i == 8 {
                write!(out, "{v:<w$}  ", w = widths[i])
            } else {
                write!(out, "{v:>w$}  ", w = widths[i])
            };
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    };
    line(&mut out, &header);
    for c in &cells {
        line(&mut out, &c.iter().map(String::as_str).collect::<Vec<_>>());
    }
    out
}

/// Bencher Metric Format: `{ "<design>/<metric>": { "<measure>": { "value": v } } }`, with the
/// limit as `upper_value` so a dashboard can draw the threshold.
pub fn to_bmf(current: &GateFile, baseline: Option<&GateFile>) -> serde_json::Value {
    let mut out: BTreeMap<String, BTreeMap<String, serde_json::Value>> = BTreeMap::new();
    for m in &current.metrics {
        let (measure, bench) = m.name.split_once('/').unwrap_or((m.name.as_str(), ""));
        let key = format!(
            "{}/{}",
            m.design,
            if bench.is_empty() { measure } else { bench }
        );
        let mut v = serde_json::json!({ "value": m.value });
        if let Some(b) = baseline.and_then(|b| b.find(&m.name, &m.design)) {
            v["upper_value"] = serde_json::json!(b.value * (1.0 + b.limit_pct / 100.0));
        }
        out.entry(key).or_default().insert(measure.to_owned(), v);
    }
    serde_json::to_value(out).expect("maps of numbers serialise")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::baseline::{BASELINE_KIND, GATE_SCHEMA_VERSION, MEASUREMENTS_KIND, Metric};
    use crate::provenance::Provenance;

    fn file(kind: &str, values: &[(&str, f64)]) -> GateFile {
        GateFile {
            kind: kind.into(),
            schema_version: GATE_SCHEMA_VERSION,
            provenance: Provenance::collect(&crate::provenance::workspace_root()),
            valgrind: None,
            quick: true,
            metrics: values
                .iter()
                .map(|(design, value)| Metric {
                    name: "instructions/status".into(),
                    design: (*design).into(),
                    layer: Layer::Instructions,
                    value: *value,
                    unit: "instructions/op".into(),
                    limit_pct: 3.0,
                    noise_pct: None,
                })
                .collect(),
        }
    }

    #[test]
    fn verdicts_follow_the_limit() {
        let base = file(
            BASELINE_KIND,
            &[("mutex", 100.0), ("atomic", 100.0), ("actor", 100.0)],
        );
        let now = file(
            MEASUREMENTS_KIND,
            &[("mutex", 102.9), ("atomic", 110.0), ("actor", 90.0)],
        );
        let rows = compare(&base, &now);
        let verdict = |d: &str| rows.iter().find(|r| r.design == d).unwrap().verdict;
        assert_eq!(verdict("mutex"), Verdict::Ok);
        assert_eq!(verdict("atomic"), Verdict::Regressed);
        assert_eq!(verdict("actor"), Verdict::Improved);
        assert_eq!(exit_code(&rows), 1);
        let table = render_table(&rows);
        assert!(
            table
                .lines()
                .any(|l| l.contains("atomic") && l.contains("REGRESSED"))
        );
    }

    #[test]
    fn a_missing_metric_is_unusable_input() {
        let base = file(BASELINE_KIND, &[("mutex", 100.0), ("atomic", 100.0)]);
        let now = file(MEASUREMENTS_KIND, &[("mutex", 100.0)]);
        let rows = compare(&base, &now);
        assert_eq!(exit_code(&rows), 2);
    }

    #[test]
    fn bmf_carries_value_and_threshold() {
        let base = file(BASELINE_KIND, &[("atomic", 100.0)]);
        let now = file(MEASUREMENTS_KIND, &[("atomic", 101.0)]);
        let bmf = to_bmf(&now, Some(&base));
        assert_eq!(bmf["atomic/status"]["instructions"]["value"], 101.0);
        assert_eq!(bmf["atomic/status"]["instructions"]["upper_value"], 103.0);
    }
}
