//! The pivot-evidence verdicts: each seed claim beside our measurement of the same shape, and
//! a verdict computed from the numbers.
//!
//! The rules, in order:
//! 1. no figure of ours for the claim's shape: **not measured**;
//! 2. a time claim (or a ratio over one) whose method note says the loop never used its load,
//!    or an absolute time below [`ONE_INSTRUCTION_NS`]: **artifact of the seed's method**;
//! 3. a ratio claim (`compare_to`, or a unit `x faster` / `x slower`): **replicated** when our
//!    ratio of the same two designs in the same shape points the same way and lies within
//!    [`AGREEMENT_FACTOR`] of the claimed ratio (or range), else **not replicated**;
//! 4. an allocation count: **replicated** when ours rounds to the same count per op;
//! 5. any other absolute figure: **replicated** within [`AGREEMENT_FACTOR`] of the claim.
//!
//! Times are compared in the seed's accounting: concurrent groups by their aggregate
//! (`RunParallel`: wall time over all threads' operations), the others per operation.

use crate::seeds::claims::{Claim, ClaimsFile};
use crate::seeds::{BenchFigure, SeedsFile};

use super::format::{per_op, ratio, sig3, time_ns};

/// How far a figure may be from the claim and still replicate it: a factor of 2 either way.
/// Tighter would demand the seed's machine and Go runtime; looser would accept anything.
pub const AGREEMENT_FACTOR: f64 = 2.0;

/// One clock cycle at 5 GHz, about the fastest a shipping CPU runs: no loop that does an
/// instruction of real work per operation reports less.
pub const ONE_INSTRUCTION_NS: f64 = 0.2;

/// What the numbers say about a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Our measurement of the same shape agrees.
    Replicated,
    /// Our measurement of the same shape disagrees.
    NotReplicated,
    /// The figure is a product of the seed's method, not of the design.
    Artifact,
    /// We have no figure for the shape.
    NotMeasured,
}

impl Verdict {
    /// As the report writes it.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Replicated => "replicated",
            Verdict::NotReplicated => "not replicated",
            Verdict::Artifact => "artifact of the seed's method",
            Verdict::NotMeasured => "not measured",
        }
    }
}

/// One row of the pivot-evidence table.
#[derive(Clone, Debug)]
pub struct ClaimRow<'a> {
    /// The claim.
    pub claim: &'a Claim,
    /// Our figure for the claim's design in the claim's shape.
    pub ours: Option<&'a BenchFigure>,
    /// Our figures in the same shape for every design measured, in design order.
    pub all: Vec<&'a BenchFigure>,
    /// The claimed speed-up of the claim's design over the compared one (low, high); ratio
    /// claims only. Above 1: the claim's design is faster.
    pub claimed_speedup: Option<(f64, f64)>,
    /// Our speed-up of the same two designs in the same shapes.
    pub our_speedup: Option<f64>,
    /// What the claim's figure measures, as the sentences name it: its design, or its
    /// benchmark function (`mutex_snapshot`) when the compared claim has the same design.
    pub subject: String,
    /// The same for the compared claim (ratio claims).
    pub versus: Option<String>,
    /// The verdict.
    pub verdict: Verdict,
    /// One sentence of why, with the numbers.
    pub why: String,
}

/// The claim's benchmark key on the machine that measured `seeds`: a parameter naming
/// `cores` (`readers=cores`) means the count the benches used there, one thread per logical CPU.
fn key_of(claim: &Claim, seeds: &SeedsFile) -> crate::seeds::claims::BenchKey {
    let mut key = claim.bench_key();
    if let Some(p) = &key.parameter {
        key.parameter = Some(p.replace("=cores", &format!("={}", seeds.provenance.logical_cpus)));
    }
    key
}

/// The figures of every design measured in `claim`'s shape, in the order of
/// [`crate::contender::Design::ALL`].
fn same_shape<'a>(claim: &Claim, seeds: &'a SeedsFile) -> Vec<&'a BenchFigure> {
    let key = key_of(claim, seeds);
    crate::contender::Design::ALL
        .iter()
        .filter_map(|d| seeds.find(&key.group, &key.shape, key.parameter.as_deref(), d.name()))
        .collect()
}

/// The seed-accounting median of `claim`'s design in its shape.
fn our_figure<'a>(claim: &Claim, seeds: &'a SeedsFile) -> Option<&'a BenchFigure> {
    let key = key_of(claim, seeds);
    let matching: Vec<_> = seeds
        .benchmarks
        .iter()
        .filter(|b| {
            b.group == key.group
                && b.shape == key.shape
                && b.design.as_deref() == Some(claim.design.as_str())
                && key
                    .parameter
                    .as_deref()
                    .is_none_or(|p| b.parameter.as_deref() == Some(p))
        })
        .collect();
    // Several parameters and none named: ambiguous, so nothing rather than a guess.
    (matching.len() == 1).then(|| matching[0])
}

/// The claimed speed-up range of a ratio claim.
fn claimed_speedup(claim: &Claim, claims: &ClaimsFile) -> Option<(f64, f64)> {
    if claim.is_ratio_unit() {
        let lo = claim.value;
        let hi = claim.range_high().unwrap_or(lo);
        if claim.unit.contains("slower") {
            Some((1.0 / hi, 1.0 / lo))
        } else {
            Some((lo, hi))
        }
    } else {
        let other = claims.get(claim.compare_to.as_deref()?)?;
        let r = other.value / claim.value;
        Some((r, r))
    }
}

/// Every claim of `claims` judged against `seeds`.
pub fn judge<'a>(claims: &'a ClaimsFile, seeds: &'a SeedsFile) -> Vec<ClaimRow<'a>> {
    claims
        .claims
        .iter()
        .map(|c| judge_one(c, claims, seeds))
        .collect()
}

fn judge_one<'a>(claim: &'a Claim, claims: &'a ClaimsFile, seeds: &'a SeedsFile) -> ClaimRow<'a> {
    let ours = our_figure(claim, seeds);
    let all = same_shape(claim, seeds);
    let claimed = claimed_speedup(claim, claims);
    let reference = claim.compare_to.as_deref().and_then(|id| claims.get(id));
    let reference_fig = reference.and_then(|r| our_figure(r, seeds));
    let our_speedup = match (ours, reference_fig, claimed) {
        (Some(o), Some(r), Some(_)) => {
            Some(r.seed_accounting().median / o.seed_accounting().median)
        }
        _ => None,
    };
    let mut row = ClaimRow {
        claim,
        ours,
        all,
        claimed_speedup: claimed,
        our_speedup,
        subject: label(claim, reference),
        versus: reference.map(|r| label(r, Some(claim))),
        verdict: Verdict::NotMeasured,
        why: String::new(),
    };
    // Whether any design was measured in the claim's group and shape (else no benchmark here
    // has the shape, as opposed to a run that left it out).
    let key = key_of(claim, seeds);
    let shape_measured = seeds
        .benchmarks
        .iter()
        .any(|b| b.group == key.group && b.shape == key.shape);
    let (verdict, why) = decide(&row, reference, shape_measured);
    row.verdict = verdict;
    row.why = why;
    row
}

fn decide(
    row: &ClaimRow<'_>,
    reference: Option<&Claim>,
    shape_measured: bool,
) -> (Verdict, String) {
    let claim = row.claim;
    let Some(ours) = row.ours else {
        let why = if !shape_measured {
            format!(
                "No benchmark here measures this shape (`{}`){}",
                claim.bench,
                if claim.method_note.is_empty() {
                    ".".to_owned()
                } else {
                    format!(": {}", claim.method_note)
                }
            )
        } else {
            format!(
                "No single figure for `{}` (design {}) in seeds.json: run `harness reproduce`, \
                 or name the parameter in seed_claims.toml when the group has several.",
                claim.bench, claim.design
            )
        };
        return (Verdict::NotMeasured, why);
    };
    let mine = ours.seed_accounting().median;
    let accounting = match ours.threads {
        Some(n) => format!(" (wall time over {n} threads' ops, the seed's accounting)"),
        None => String::new(),
    };
    if let Some((lo, hi)) = row.claimed_speedup {
        let versus = row.versus.as_deref().unwrap_or("the compared design");
        let Some(s) = row.our_speedup else {
            return (
                Verdict::NotMeasured,
                format!(
                    "No figure of ours for the compared claim `{}`.",
                    reference.map_or("?", |r| r.bench.as_str())
                ),
            );
        };
        let said = if lo == hi {
            speed_phrase(lo)
        } else {
            format!("{}–{}", speed_phrase(lo), speed_phrase(hi))
        };
        if claim.dead_load() {
            return (
                Verdict::Artifact,
                format!(
                    "The claimed {said} than {versus} divides by a dead-load figure (the loop \
                     never uses its load); measured honestly here, {} is {} than {versus}.",
                    row.subject,
                    speed_phrase(s)
                ),
            );
        }
        let same_direction = (lo > 1.0) == (s > 1.0);
        let within = s >= lo / AGREEMENT_FACTOR && s <= hi * AGREEMENT_FACTOR;
        return if same_direction && within {
            (
                Verdict::Replicated,
                format!(
                    "Same direction, within {}x: here {} is {} than {versus} (claim: {said}).",
                    sig3(AGREEMENT_FACTOR).trim_end_matches(".00"),
                    row.subject,
                    speed_phrase(s)
                ),
            )
        } else if !same_direction {
            (
                Verdict::NotReplicated,
                format!(
                    "Reversed: here {} is {} than {versus}; the claim has it {said}.",
                    row.subject,
                    speed_phrase(s)
                ),
            )
        } else {
            (
                Verdict::NotReplicated,
                format!(
                    "Same direction but not within {}x: here {} is {} than {versus} (claim: {said}).",
                    sig3(AGREEMENT_FACTOR).trim_end_matches(".00"),
                    row.subject,
                    speed_phrase(s)
                ),
            )
        };
    }
    if claim.is_time() && (claim.dead_load() || claim.value < ONE_INSTRUCTION_NS) {
        let cause = if claim.value < ONE_INSTRUCTION_NS {
            format!(
                "{} per op is less than one instruction ({} at 5 GHz)",
                time_ns(claim.value),
                time_ns(ONE_INSTRUCTION_NS)
            )
        } else {
            "the seed's loop never uses the loaded value (a dead load)".to_owned()
        };
        return (
            Verdict::Artifact,
            format!(
                "{}: {cause}; the same read, with its result used, costs {}{accounting} here, \
                 {} the claim.",
                capitalise(&claim.design),
                per_op(mine, &ours.unit),
                ratio(mine / claim.value)
            ),
        );
    }
    if claim.unit.starts_with("allocs") || claim.unit.starts_with("bytes") {
        let same = (mine.round() - claim.value.round()).abs() < 0.5;
        let verdict = if same {
            Verdict::Replicated
        } else {
            Verdict::NotReplicated
        };
        return (
            verdict,
            format!(
                "{} here: {}, against the seed's {}.",
                if same {
                    "Same count"
                } else {
                    "A different count"
                },
                per_op(mine, &ours.unit),
                per_op(claim.value, &claim.unit)
            ),
        );
    }
    let r = mine / claim.value;
    let within = (1.0 / AGREEMENT_FACTOR..=AGREEMENT_FACTOR).contains(&r);
    let verdict = if within {
        Verdict::Replicated
    } else {
        Verdict::NotReplicated
    };
    (
        verdict,
        format!(
            "{} here{accounting}: {} the claim, {} {}x (absolute figures depend on the \
             machine and the language; the ratio rows compare designs).",
            per_op(mine, &ours.unit),
            ratio(r),
            if within { "within" } else { "outside" },
            sig3(AGREEMENT_FACTOR).trim_end_matches(".00"),
        ),
    )
}

/// How a claim is named beside `other`: its design, or its bench function when both have the
/// same design (`mutex_getters` vs `mutex_snapshot`).
fn label(claim: &Claim, other: Option<&Claim>) -> String {
    match other {
        Some(o) if o.design == claim.design => claim
            .bench
            .split('/')
            .nth(1)
            .unwrap_or(&claim.design)
            .to_owned(),
        _ => claim.design.clone(),
    }
}

/// `5.6x faster` or `15x slower` for a speed-up `s`.
pub fn speed_phrase(s: f64) -> String {
    if s >= 1.0 {
        format!("{} faster", ratio(s))
    } else {
        format!("{} slower", ratio(1.0 / s))
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}
