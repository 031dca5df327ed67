//! `gate-probe`: what `harness gate` runs to measure one revision of the designs.
//!
//! The gate builds this small binary twice — from the base revision (in a git worktree under
//! `target/gate/`) and from the working tree — and measures both in the same job. It depends on
//! nothing but `procman-core` and the three designs, so it builds in seconds once the
//! dependencies are compiled, and an edit to the harness cannot move what it counts.
//!
//! ```text
//! gate-probe protocol                                   # prints PROTOCOL (the gate checks it)
//! gate-probe cost  --design D --op OP --n1 N --n2 M    # one hot op in loops of N and M (under callgrind)
//! gate-probe storm --designs D,D --clients C --millis M [--warmup-millis W]
//!                                                       # status latency under load, one JSON line per design
//! ```

mod cost;
mod design;
mod storm;

use std::process::ExitCode;

use design::Design;
use procman_gate_probe::PROTOCOL;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gate-probe: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let (command, rest) = args
        .split_first()
        .ok_or("no command; use one of: protocol, cost, storm")?;
    let flags = Flags::parse(rest)?;
    match command.as_str() {
        "protocol" => {
            println!("{PROTOCOL}");
            Ok(())
        }
        "cost" => cost::run(
            flags.design("--design")?,
            flags.value("--op")?.parse()?,
            flags.number("--n1")?,
            flags.number("--n2")?,
        ),
        "storm" => {
            let designs = flags
                .value("--designs")?
                .split(',')
                .map(str::parse)
                .collect::<Result<Vec<Design>, _>>()?;
            let plan = storm::Plan {
                clients: flags.number("--clients")? as usize,
                millis: flags.number("--millis")?,
                warmup_millis: flags.optional_number("--warmup-millis")?.unwrap_or(50),
            };
            for d in designs {
                let line = storm::run(d, &plan)?;
                println!(
                    "{}",
                    serde_json::to_string(&line).map_err(|e| e.to_string())?
                );
            }
            Ok(())
        }
        other => Err(format!(
            "unknown command {other:?}; use one of: protocol, cost, storm"
        )),
    }
}

/// `--name value` pairs.
struct Flags<'a>(Vec<(&'a str, &'a str)>);

impl<'a> Flags<'a> {
    fn parse(args: &'a [String]) -> Result<Self, String> {
        let mut pairs = Vec::new();
        let mut it = args.iter();
        while let Some(name) = it.next() {
            if !name.starts_with("--") {
                return Err(format!(
                    "unexpected argument {name:?}; flags are `--name value`"
                ));
            }
            let value = it.next().ok_or_else(|| format!("{name} needs a value"))?;
            pairs.push((name.as_str(), value.as_str()));
        }
        Ok(Flags(pairs))
    }

    fn optional(&self, name: &str) -> Option<&'a str> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    fn value(&self, name: &str) -> Result<&'a str, String> {
        self.optional(name).ok_or_else(|| format!("missing {name}"))
    }

    fn design(&self, name: &str) -> Result<Design, String> {
        self.value(name)?.parse()
    }

    fn number(&self, name: &str) -> Result<u64, String> {
        self.optional_number(name)?
            .ok_or_else(|| format!("missing {name}"))
    }

    fn optional_number(&self, name: &str) -> Result<Option<u64>, String> {
        self.optional(name)
            .map(|v| {
                v.parse()
                    .map_err(|_| format!("{name} {v:?} is not a whole number"))
            })
            .transpose()
    }
}
