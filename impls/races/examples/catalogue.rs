//! Prints the seeded-bug catalogue as tab-separated lines, one per bug and checker:
//! `design  feature  checker  workloads`. `scripts/check-races.sh` reads it to know what to
//! build and run: `cargo run -q -p procman-races --example catalogue`.

use procman_races::catalogue::CATALOGUE;

fn main() {
    for bug in CATALOGUE {
        let mut checkers: Vec<_> = bug.detections.iter().map(|d| d.checker).collect();
        checkers.dedup();
        for checker in checkers {
            let workloads: Vec<_> = bug
                .detections
                .iter()
                .filter(|d| d.checker == checker)
                .map(|d| format!("{}:{}", d.workload.name(), d.expect))
                .collect();
            println!(
                "{}\t{}\t{}\t{}",
                bug.design,
                bug.feature,
                checker.feature(),
                workloads.join(",")
            );
        }
    }
}
