//! `procman list`: what is configured, as a table or as JSON.

use std::io::{self, Write};

use crate::catalog::Catalog;
use crate::mcp::view::scripts_list;

/// Writes the catalog to `out`: a table, or with `json` the scripts_list tool's result shape.
pub fn print(catalog: &Catalog, json: bool, mut out: impl Write) -> io::Result<()> {
    let list = scripts_list(catalog, &[]);
    if json {
        serde_json::to_writer_pretty(&mut out, &list)?;
        return writeln!(out);
    }
    match (&catalog.config_path, &catalog.package) {
        (None, None) => {
            writeln!(
                out,
                "nothing configured in {}: add a procman.toml (see `procman --help`) or a \
                 package.json with scripts",
                catalog.project_dir.display()
            )?;
            return Ok(());
        }
        (config, package) => {
            if let Some(path) = config {
                writeln!(out, "config:       {}", path.display())?;
            }
            if let Some(pkg) = package {
                let lock = pkg.lockfile.map_or_else(
                    || "no lockfile, default".to_owned(),
                    |l| format!("from {l}"),
                );
                writeln!(
                    out,
                    "package.json: {} (run with {}, {lock})",
                    pkg.path.display(),
                    pkg.manager
                )?;
            }
        }
    }
    writeln!(out)?;
    let width = |f: fn(&crate::mcp::schema::ScriptView) -> usize, min: usize| {
        list.scripts.iter().map(f).max().unwrap_or(0).max(min)
    };
    let name_w = width(|s| s.name.chars().count(), 4);
    let source_w = width(|s| s.source.len(), 6);
    writeln!(out, "{:name_w$}  {:source_w$}  COMMAND", "NAME", "SOURCE")?;
    for s in &list.scripts {
        write!(
            out,
            "{:name_w$}  {:source_w$}  {}",
            s.name, s.source, s.command
        )?;
        if !s.ready.is_empty() {
            write!(out, "  (ready: /{}/)", s.ready)?;
        }
        if !s.description.is_empty() {
            write!(out, "  # {}", s.description)?;
        }
        writeln!(out)?;
    }
    Ok(())
}
