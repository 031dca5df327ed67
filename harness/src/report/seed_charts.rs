//! The charts of the seed-table benchmarks: each seed figure beside ours (log scale), each
//! claimed speed-up beside ours, and one chart per criterion group with every design's median
//! and its confidence interval.

use crate::seeds::SeedsFile;

use super::chart::{self, Axis, Bar, Scale, Unit};
use super::figure::{Csv, Figure, num};
use super::palette::{CLAIM, colour};
use super::verdict::ClaimRow;

const SEED_LABEL: &str = "seed's figure";

fn design_entries(
    designs: impl IntoIterator<Item = String>,
) -> Vec<(String, plotters::style::RGBColor)> {
    let mut names: Vec<String> = Vec::new();
    for d in designs {
        if !names.contains(&d) {
            names.push(d);
        }
    }
    let order = |n: &String| {
        crate::contender::Design::ALL
            .iter()
            .position(|d| d.name() == n)
            .unwrap_or(usize::MAX)
    };
    names.sort_by_key(order);
    names.into_iter().map(|n| (n.clone(), colour(&n))).collect()
}

/// Every seed chart that has data.
pub fn figures(rows: &[ClaimRow<'_>], seeds: &SeedsFile) -> Result<Vec<Figure>, chart::DrawError> {
    let mut out = Vec::new();
    if let Some(f) = claims_vs_measured(rows)? {
        out.push(f);
    }
    if let Some(f) = ratios(rows)? {
        out.push(f);
    }
    out.extend(groups(seeds)?);
    Ok(out)
}

/// Each absolute time claim beside our figure for the claim's design, in the seed's accounting.
fn claims_vs_measured(rows: &[ClaimRow<'_>]) -> Result<Option<Figure>, chart::DrawError> {
    let rows: Vec<&ClaimRow<'_>> = rows
        .iter()
        .filter(|r| r.claim.is_time() && !r.claim.is_ratio_unit() && r.ours.is_some())
        .collect();
    if rows.is_empty() {
        return Ok(None);
    }
    let mut csv = Csv::new(&[
        "claim",
        "seed",
        "quote",
        "claim_ns_per_op",
        "design",
        "ours_ns_per_op",
        "ours_ci_lower",
        "ours_ci_upper",
        "accounting",
        "verdict",
    ]);
    let mut bars = Vec::new();
    let mut categories = Vec::new();
    let mut values = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let Some(ours) = r.ours else { continue };
        let e = ours.seed_accounting();
        categories.push(r.claim.id.clone());
        bars.push(Bar {
            category: i,
            slot: 0,
            value: r.claim.value,
            interval: None,
            colour: CLAIM,
        });
        bars.push(Bar {
            category: i,
            slot: 1,
            value: e.median,
            interval: Some((e.median_lower, e.median_upper)),
            colour: colour(&r.claim.design),
        });
        values.extend([r.claim.value, e.median]);
        csv.row([
            r.claim.id.clone(),
            r.claim.seed.clone(),
            r.claim.quote.clone(),
            num(Some(r.claim.value)),
            r.claim.design.clone(),
            num(Some(e.median)),
            num(Some(e.median_lower)),
            num(Some(e.median_upper)),
            match ours.threads {
                Some(n) => format!("aggregate over {n} threads"),
                None => "per op, one thread".into(),
            },
            r.verdict.label().into(),
        ]);
    }
    let x = Axis::values(
        "time per op (log scale; concurrent: wall time / all threads' ops)",
        Unit::Nanos,
        Scale::Log,
        &values,
    );
    let mut entries = vec![(SEED_LABEL.to_owned(), CLAIM)];
    entries.extend(design_entries(rows.iter().map(|r| r.claim.design.clone())));
    Ok(Some(Figure {
        name: "seeds.claims".into(),
        caption: "Each seed figure (dark) beside ours for the same shape and design, median with \
                  its 95% confidence interval, in the seed's accounting"
            .into(),
        svg: chart::bar_chart(
            "Seed figures vs measured here, ns/op",
            &categories,
            2,
            &x,
            &bars,
            &entries,
        )?,
        csv: csv.finish(),
    }))
}

/// Each claimed speed-up beside ours for the same two designs.
fn ratios(rows: &[ClaimRow<'_>]) -> Result<Option<Figure>, chart::DrawError> {
    let rows: Vec<&ClaimRow<'_>> = rows
        .iter()
        .filter(|r| r.claimed_speedup.is_some() && r.our_speedup.is_some())
        .collect();
    if rows.is_empty() {
        return Ok(None);
    }
    let mut csv = Csv::new(&[
        "claim",
        "seed",
        "quote",
        "design",
        "versus",
        "claimed_speedup_low",
        "claimed_speedup_high",
        "our_speedup",
        "verdict",
    ]);
    let mut bars = Vec::new();
    let mut categories = Vec::new();
    let mut values = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let (Some((lo, hi)), Some(s)) = (r.claimed_speedup, r.our_speedup) else {
            continue;
        };
        let versus = r.versus.clone().unwrap_or_default();
        categories.push(format!("{} ({} vs {versus})", r.claim.id, r.subject));
        let range = (lo != hi).then_some((lo, hi));
        bars.push(Bar {
            category: i,
            slot: 0,
            value: lo,
            interval: range,
            colour: CLAIM,
        });
        bars.push(Bar {
            category: i,
            slot: 1,
            value: s,
            interval: None,
            colour: colour(&r.claim.design),
        });
        values.extend([lo, hi, s]);
        csv.row([
            r.claim.id.clone(),
            r.claim.seed.clone(),
            r.claim.quote.clone(),
            r.claim.design.clone(),
            versus,
            num(Some(lo)),
            num(Some(hi)),
            num(Some(s)),
            r.verdict.label().into(),
        ]);
    }
    let x = Axis::values(
        "speed-up of the claim's design over the compared one (log scale; >1 faster, <1 slower)",
        Unit::Ratio,
        Scale::Log,
        &values,
    );
    let mut entries = vec![(format!("{SEED_LABEL} (whisker: range)"), CLAIM)];
    entries.extend(design_entries(rows.iter().map(|r| r.claim.design.clone())));
    Ok(Some(Figure {
        name: "seeds.ratios".into(),
        caption: "Each claimed speed-up (dark; a whisker spans a claimed range) beside ours for \
                  the same two designs in the same shape"
            .into(),
        svg: chart::bar_chart(
            "Claimed vs measured speed-ups",
            &categories,
            2,
            &x,
            &bars,
            &entries,
        )?,
        csv: csv.finish(),
    }))
}

/// One chart per criterion group: every variant's median per design, with its interval.
fn groups(seeds: &SeedsFile) -> Result<Vec<Figure>, chart::DrawError> {
    let mut names: Vec<&str> = seeds.benchmarks.iter().map(|b| b.group.as_str()).collect();
    names.dedup();
    let mut out = Vec::new();
    for g in names {
        let figs: Vec<_> = seeds.benchmarks.iter().filter(|b| b.group == g).collect();
        let unit = figs[0].unit.clone();
        let variant = |b: &crate::seeds::BenchFigure| -> String {
            let base = if b.design.is_some() {
                b.shape.trim_start_matches('_').to_owned()
            } else {
                b.function.clone()
            };
            match (&b.parameter, base.is_empty()) {
                (Some(p), true) => p.clone(),
                (Some(p), false) => format!("{base} {p}"),
                (None, true) => "(one shape)".into(),
                (None, false) => base,
            }
        };
        let mut categories: Vec<String> = Vec::new();
        let mut slot_of: Vec<String> = Vec::new();
        for b in &figs {
            let v = variant(b);
            if !categories.contains(&v) {
                categories.push(v);
            }
            let d = b.design.clone().unwrap_or_else(|| "(no design)".into());
            if !slot_of.contains(&d) {
                slot_of.push(d);
            }
        }
        slot_of.sort_by_key(|n| {
            crate::contender::Design::ALL
                .iter()
                .position(|d| d.name() == n)
                .unwrap_or(usize::MAX)
        });
        let mut csv = Csv::new(&[
            "id",
            "group",
            "design",
            "variant",
            "unit",
            "threads",
            "per_thread_median",
            "per_thread_ci_lower",
            "per_thread_ci_upper",
            "aggregate_median",
            "measured_utc",
        ]);
        let mut bars = Vec::new();
        let mut values = Vec::new();
        for b in &figs {
            let d = b.design.clone().unwrap_or_else(|| "(no design)".into());
            let e = &b.per_thread;
            bars.push(Bar {
                category: categories
                    .iter()
                    .position(|c| *c == variant(b))
                    .unwrap_or(0),
                slot: slot_of.iter().position(|s| *s == d).unwrap_or(0),
                value: e.median,
                interval: Some((e.median_lower, e.median_upper)),
                colour: colour(&d),
            });
            values.push(e.median);
            csv.row([
                b.id.clone(),
                b.group.clone(),
                d,
                variant(b),
                b.unit.clone(),
                b.threads.map(|n| n.to_string()).unwrap_or_default(),
                num(Some(e.median)),
                num(Some(e.median_lower)),
                num(Some(e.median_upper)),
                num(b.aggregate.map(|a| a.median)),
                b.measured_utc.clone().unwrap_or_default(),
            ]);
        }
        let (axis_unit, what) = match unit.as_str() {
            "allocs/op" => (Unit::Count, "allocations per op"),
            "bytes/op" => (Unit::Count, "bytes allocated per op"),
            _ => (Unit::Nanos, "time per op, per thread"),
        };
        let scale = Scale::auto(values.iter().copied(), 30.0);
        let title = if scale == Scale::Log {
            format!("{what} (log scale)")
        } else {
            what.to_owned()
        };
        let x = Axis::values(&title, axis_unit, scale, &values);
        let entries: Vec<_> = slot_of.iter().map(|d| (d.clone(), colour(d))).collect();
        out.push(Figure {
            name: format!("seeds.{g}"),
            caption: format!(
                "criterion group {g}: median {unit} per design with its 95% confidence interval \
                 (concurrent variants per thread; the CSV has the aggregate)"
            ),
            svg: chart::bar_chart(
                &format!("{g} ({unit})"),
                &categories,
                slot_of.len(),
                &x,
                &bars,
                &entries,
            )?,
            csv: csv.finish(),
        });
    }
    Ok(out)
}
