//! The winner of each workload, read off the numbers: for a closed-loop group (clients call as
//! fast as they can) the design completing the most operations, for an open-loop group (a
//! fixed offered rate) the design with the lowest p99 measured from each op's intended send
//! time. A lead under [`TIE_MARGIN`] is called a tie: two shared cores do not resolve less.

use crate::contender::Design;
use crate::results::RunResult;

use super::document::{Block, Table, heading};
use super::format::{rate, time_ns};
use super::inputs::{Inputs, ScenarioEntry};
use super::scenario_charts::{clients_of, complete_runs, group_names};
use super::verdict::speed_phrase;

/// A lead smaller than this (5 %) is a tie.
pub const TIE_MARGIN: f64 = 0.05;

/// One design's figures for a group at one client count.
#[derive(Clone, Copy, Debug)]
struct Entry {
    design: Design,
    ops_per_sec: f64,
    p99_ns: f64,
    stalls: u64,
}

fn entries(runs: &[&RunResult], group: &str, clients: usize) -> Vec<Entry> {
    runs.iter()
        .filter(|r| clients_of(r) == clients)
        .filter_map(|r| {
            // A group that recorded nothing (an open loop slower than the window) has no
            // latency or rate to compare.
            let g = r
                .groups
                .iter()
                .find(|g| g.group == group && g.total.count > 0)?;
            Some(Entry {
                design: r.design,
                ops_per_sec: g.achieved_ops_per_sec,
                p99_ns: g.total.latency.p99_ns as f64,
                stalls: g.total.stalls,
            })
        })
        .collect()
}

/// The best entry by `better` and a sentence naming it and its lead.
fn verdict(
    list: &[Entry],
    higher_is_better: bool,
    value: fn(&Entry) -> f64,
    show: fn(f64) -> String,
) -> Option<(Design, String)> {
    let mut sorted = list.to_vec();
    sorted.sort_by(|a, b| {
        let (x, y) = (value(a), value(b));
        if higher_is_better {
            y.total_cmp(&x)
        } else {
            x.total_cmp(&y)
        }
    });
    let best = sorted.first()?;
    let Some(second) = sorted.get(1) else {
        return Some((
            best.design,
            format!("{} only ({})", best.design, show(value(best))),
        ));
    };
    let (b, s) = (value(best), value(second));
    // Speed-up of the best over the second, > 1.
    let lead = if higher_is_better { b / s } else { s / b };
    let sentence = if lead.is_finite() && lead < 1.0 + TIE_MARGIN {
        let tied: Vec<String> = sorted
            .iter()
            .filter(|e| {
                let l = if higher_is_better {
                    b / value(e)
                } else {
                    value(e) / b
                };
                l < 1.0 + TIE_MARGIN
            })
            .map(|e| format!("{} {}", e.design, show(value(e))))
            .collect();
        format!("tie within 5%: {}", tied.join(", "))
    } else {
        format!(
            "**{}** ({}; {} than {}, {})",
            best.design,
            show(b),
            speed_phrase(lead),
            second.design,
            show(s)
        )
    };
    Some((best.design, sentence))
}

/// The winners section.
pub fn blocks(inputs: &Inputs) -> Vec<Block> {
    let mut t = Table::new(&[
        "workload",
        "group",
        "loop",
        "clients>",
        "most ops/s",
        "lowest p99",
        "stalls",
    ]);
    let mut tally: Vec<(Design, usize)> = Vec::new();
    let mut judged = 0;
    for entry in &inputs.scenarios {
        for g in group_names(entry) {
            rows_for(entry, &g, &mut t, &mut tally, &mut judged);
        }
    }
    let mut out = vec![heading(2, "Who wins which workload")];
    if judged == 0 {
        out.push(Block::Para("No scenario results to judge.".into()));
        return out;
    }
    tally.sort_by_key(|t| std::cmp::Reverse(t.1));
    let summary = tally
        .iter()
        .map(|(d, n)| format!("{d} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    out.push(Block::Para(format!(
        "Read off the tables below, at the lowest and the highest client count of each group. \
         Closed-loop groups are judged by completed ops/s, open-loop groups (a fixed offered \
         rate) by p99 from each op's intended send time; a lead under 5% is a tie. Clear wins \
         at the highest client count, by design: {}.",
        if summary.is_empty() {
            "none".into()
        } else {
            summary
        }
    )));
    out.push(Block::Table(t));
    out
}

fn rows_for(
    entry: &ScenarioEntry,
    group: &str,
    t: &mut Table,
    tally: &mut Vec<(Design, usize)>,
    judged: &mut usize,
) {
    let runs = complete_runs(entry);
    let mut counts: Vec<usize> = runs.iter().map(|r| clients_of(r)).collect();
    counts.sort_unstable();
    counts.dedup();
    let open = runs
        .iter()
        .flat_map(|r| r.groups.iter())
        .find(|g| g.group == group)
        .is_some_and(|g| g.pacing == "open");
    let points: Vec<usize> = match (counts.first(), counts.last()) {
        (Some(&a), Some(&b)) if a != b => vec![a, b],
        (Some(&a), _) => vec![a],
        _ => vec![],
    };
    for (i, &c) in points.iter().enumerate() {
        let list = entries(&runs, group, c);
        if list.is_empty() {
            t.row(vec![
                format!("`{}`", entry.stem()),
                group.to_owned(),
                if open { "open".into() } else { "closed".into() },
                c.to_string(),
                "no ops recorded in the window".into(),
                "—".into(),
                "—".into(),
            ]);
            continue;
        }
        *judged += 1;
        let tput = verdict(&list, true, |e| e.ops_per_sec, rate);
        let p99 = verdict(&list, false, |e| e.p99_ns, time_ns);
        let headline = if open { &p99 } else { &tput };
        if i == points.len() - 1
            && let Some((d, s)) = headline
            && !s.starts_with("tie")
        {
            match tally.iter_mut().find(|(x, _)| x == d) {
                Some((_, n)) => *n += 1,
                None => tally.push((*d, 1)),
            }
        }
        let stalls: Vec<String> = list
            .iter()
            .filter(|e| e.stalls > 0)
            .map(|e| format!("{} {}", e.design, e.stalls))
            .collect();
        let tput_text = tput.map_or("—".into(), |x| x.1);
        t.row(vec![
            format!("`{}`", entry.stem()),
            group.to_owned(),
            if open { "open".into() } else { "closed".into() },
            c.to_string(),
            if open {
                format!("{tput_text} (set by the offered rate)")
            } else {
                tput_text
            },
            p99.map_or("—".into(), |x| x.1),
            if stalls.is_empty() {
                "none".into()
            } else {
                stalls.join(", ")
            },
        ]);
    }
}
