#!/usr/bin/env bash
# Reruns the evidence end to end and renders target/reports/ (--out reports publishes into the
# committed reports/): the seed-table criterion benches, every
# scenario in scenarios/ against every design, then REPORT.md, index.html and charts/.
#
#   scripts/reproduce.sh            # the default run (under 10 minutes on a 2-core machine)
#   scripts/reproduce.sh --quick    # a check that everything works (under 2 minutes once built)
#   scripts/reproduce.sh --out reports   # a full run that replaces the committed evidence
#   scripts/reproduce.sh --help     # every option (--out DIR, --scenario NAME, --skip-benches)
#
# The harness is built in release mode first: figures from a debug build are not representative.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked -p procman-harness --bin harness
exec "${CARGO_TARGET_DIR:-target}/release/harness" reproduce "$@"
