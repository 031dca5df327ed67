//! `harness report`: renders the evidence from result files alone. Reads every `*.json` in the
//! results directory (scenario results of `harness run`/`reproduce`, the seeds file of
//! `harness seeds`) and `reports/seed_claims.toml`, and writes:
//!
//! - `charts/NAME.svg` with `charts/NAME.csv` beside it (the data plotted), drawn with
//!   plotters' SVG backend ([`chart`]), one colour per design everywhere ([`palette`]);
//! - `REPORT.md`: provenance, the pivot-evidence table ([`verdict`]) with the Go peer's figure
//!   and a same-machine verdict per claim and the Rust/Go table ([`go_side`]), the winner of
//!   each workload ([`winners`]), what this machine cannot show, per-scenario tables
//!   ([`content`]);
//! - `index.html`: the same document as one self-contained page, every chart inlined.
//!
//! Nothing is measured here: every number printed comes from the input files. Every SVG and
//! the page are checked for well-formedness ([`xml`]) before anything is written.

pub mod chart;
pub mod content;
pub mod document;
pub mod figure;
pub mod format;
pub mod go_side;
pub mod inputs;
pub mod palette;
pub mod render;
pub mod scenario_charts;
pub mod seed_charts;
pub mod verdict;
pub mod winners;
pub mod xml;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::contender::Design;
use crate::provenance::workspace_root;

use figure::Figure;

/// Why the report could not be rendered; each message names the file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// An input could not be read or parsed.
    #[error("{}: {message}", path.display())]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },
    /// A chart could not be drawn, or came out malformed.
    #[error("chart {name}: {message}")]
    Chart {
        /// The chart's file stem.
        name: String,
        /// What went wrong.
        message: String,
    },
    /// An output could not be written.
    #[error("cannot write {}: {source}; check that the directory is writable", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// `harness report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Directory of result files (`*.json`) [default: reports/results in the workspace].
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// Directory to write REPORT.md, index.html and charts/ into [default: reports/].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The seed claims [default: reports/seed_claims.toml in the workspace].
    #[arg(long)]
    pub claims: Option<PathBuf>,
}

/// What [`render`] wrote.
#[derive(Clone, Debug)]
pub struct Rendered {
    /// `REPORT.md`.
    pub report_md: PathBuf,
    /// `index.html`.
    pub index_html: PathBuf,
    /// Charts written (each an `.svg` and a `.csv` under `charts/`).
    pub charts: usize,
    /// Scenario results rendered (one per scenario and driver).
    pub scenarios: usize,
    /// Claims judged (0 without a claims file or seeds file).
    pub claims: usize,
    /// Stale chart files removed from `charts/`.
    pub removed: usize,
}

/// Renders the report from the files in `results` and the claims at `claims` into `out`.
pub fn render(results: &Path, claims: &Path, out: &Path) -> Result<Rendered, ReportError> {
    let inputs = inputs::load(results, claims)?;
    // Without a seeds file every claim is judged against no figures: "not measured".
    let empty = inputs.seeds.is_none().then(|| crate::seeds::SeedsFile {
        schema_version: crate::seeds::SEEDS_SCHEMA_VERSION,
        kind: crate::seeds::SEEDS_KIND.into(),
        provenance: inputs
            .scenarios
            .first()
            .map(|e| e.provenance.clone())
            .unwrap_or_else(|| crate::provenance::Provenance::collect(&workspace_root())),
        criterion_dir: String::new(),
        benchmarks: Vec::new(),
    });
    let seeds = inputs.seeds.as_ref().map(|(_, s)| s).or(empty.as_ref());
    let rows = match (&inputs.claims, seeds) {
        (Some(c), Some(s)) => verdict::judge(c, s),
        _ => Vec::new(),
    };
    render_with(&inputs, &rows, out)
}

fn render_with(
    inputs: &inputs::Inputs,
    rows: &[verdict::ClaimRow<'_>],
    out: &Path,
) -> Result<Rendered, ReportError> {
    let mut figures: Vec<Figure> = Vec::new();
    if let Some((_, seeds)) = &inputs.seeds {
        figures.extend(
            seed_charts::figures(rows, seeds).map_err(|e| ReportError::Chart {
                name: "seeds.*".into(),
                message: e.to_string(),
            })?,
        );
    }
    if let Some((_, go)) = &inputs.go_peer {
        let seeds = inputs.seeds.as_ref().map(|(_, s)| s);
        let rows = go_side::head_rows(seeds, go);
        figures.extend(go_side::figures(&rows).map_err(|e| ReportError::Chart {
            name: "go.*".into(),
            message: e.to_string(),
        })?);
    }
    for entry in &inputs.scenarios {
        figures.extend(
            scenario_charts::figures(entry).map_err(|e| ReportError::Chart {
                name: format!("{}.*", entry.stem()),
                message: e.to_string(),
            })?,
        );
    }
    for f in &figures {
        xml::check(&f.svg).map_err(|message| ReportError::Chart {
            name: f.name.clone(),
            message: format!("the SVG is not well-formed XML: {message}"),
        })?;
    }
    let blocks = content::blocks(inputs, rows, &figures);
    let markdown = render::markdown(&blocks);
    let html = page(&blocks, &figures);
    xml::check(&html).map_err(|message| ReportError::Chart {
        name: "index.html".into(),
        message: format!("the page is not well-formed XML: {message}"),
    })?;

    let charts = out.join("charts");
    create_dir(&charts)?;
    let mut wanted = BTreeSet::new();
    for f in &figures {
        for (ext, text) in [("svg", &f.svg), ("csv", &f.csv)] {
            let name = format!("{}.{ext}", f.name);
            write(&charts.join(&name), text)?;
            wanted.insert(name);
        }
    }
    let removed = remove_stale(&charts, &wanted)?;
    let report_md = out.join("REPORT.md");
    write(&report_md, &markdown)?;
    let index_html = out.join("index.html");
    write(&index_html, &html)?;
    Ok(Rendered {
        report_md,
        index_html,
        charts: figures.len(),
        scenarios: inputs.scenarios.len(),
        claims: rows.len(),
        removed,
    })
}

/// The self-contained page: inline CSS, every chart's SVG inlined, no external reference but
/// the links to the files beside it.
pub fn page(blocks: &[document::Block], figures: &[Figure]) -> String {
    let svg = |name: &str| {
        figures
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.svg.clone())
    };
    let body = render::html_body(blocks, &svg);
    let legend: String = Design::ALL
        .iter()
        .map(|d| {
            format!(
                "<span class=\"swatch\" style=\"background:{}\"></span>{} ",
                palette::hex(palette::colour(d.name())),
                d.name()
            )
        })
        .collect();
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n\
         <title>procman: mutex, actor or atomic? The evidence</title>\n<style>\n{CSS}</style>\n\
         </head>\n<body>\n<p class=\"designs\">Colours: {legend}</p>\n{body}</body>\n</html>\n"
    )
}

const CSS: &str = "body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; \
padding: 0 1em; color: #222; line-height: 1.45; }\n\
table { border-collapse: collapse; margin: 1em 0; font-size: 0.85em; }\n\
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; vertical-align: top; }\n\
th { background: #f4f4f4; }\n\
td.num, th.num { text-align: right; white-space: nowrap; }\n\
code { background: #f4f4f4; padding: 0 0.2em; }\n\
figure { margin: 1.5em 0; }\n\
figure svg { max-width: 100%; height: auto; }\n\
figcaption { font-size: 0.9em; color: #555; }\n\
.swatch { display: inline-block; width: 0.9em; height: 0.9em; margin: 0 0.3em 0 0.8em; \
vertical-align: middle; }\n\
.missing { color: #b00; }\n";

fn create_dir(dir: &Path) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Write {
        path: dir.to_owned(),
        source,
    })
}

fn write(path: &Path, text: &str) -> Result<(), ReportError> {
    std::fs::write(path, text).map_err(|source| ReportError::Write {
        path: path.to_owned(),
        source,
    })
}

/// Removes the `.svg`/`.csv` files in `charts` that this rendering did not write, so the
/// directory holds exactly the charts the report references.
fn remove_stale(charts: &Path, wanted: &BTreeSet<String>) -> Result<usize, ReportError> {
    let entries = std::fs::read_dir(charts).map_err(|e| ReportError::Read {
        path: charts.to_owned(),
        message: e.to_string(),
    })?;
    let mut removed = 0;
    for e in entries.filter_map(Result::ok) {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        let ours = path.extension().is_some_and(|x| x == "svg" || x == "csv");
        if ours && !wanted.contains(&name) {
            std::fs::remove_file(&path).map_err(|source| ReportError::Write {
                path: path.clone(),
                source,
            })?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// The workspace's `reports/` directory.
pub fn default_reports_dir() -> PathBuf {
    workspace_root().join("reports")
}

/// Runs `harness report`; errors go to stderr.
pub fn command(args: &ReportArgs) -> ExitCode {
    let out = args.out.clone().unwrap_or_else(default_reports_dir);
    let results = args
        .results
        .clone()
        .unwrap_or_else(|| default_reports_dir().join("results"));
    let claims = args
        .claims
        .clone()
        .unwrap_or_else(|| default_reports_dir().join("seed_claims.toml"));
    match render(&results, &claims, &out) {
        Ok(r) => {
            println!("{}", summary_line(&r));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One line saying what was written.
pub fn summary_line(r: &Rendered) -> String {
    format!(
        "report: {} scenario results, {} claims judged, {} charts{} -> {} and {}",
        r.scenarios,
        r.claims,
        r.charts,
        if r.removed > 0 {
            format!(" ({} stale chart files removed)", r.removed)
        } else {
            String::new()
        },
        r.report_md.display(),
        r.index_html.display()
    )
}

#[cfg(test)]
mod tests;
