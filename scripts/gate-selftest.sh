#!/usr/bin/env bash
# The latency gate's self-test (not part of CI): how often the paired A/B gate fails unchanged
# code, and how often it catches a regression of a known size injected behind a test-only
# feature of the probe. The README's gate section summarises its output.
#
#   scripts/gate-selftest.sh [RUNS] [CASES]   # RUNS per case (default 20); CASES a subset,
#                                             # e.g. "unchanged latency" (default: all three)
#
# Cases, each `harness gate --base HEAD --quick` on the working tree:
#   unchanged        no change: every run must pass (exit 0)
#   instructions     inject-atomic-status-instructions (+5.2 % instructions on atomic `status`)
#   latency          inject-atomic-status-latency (busy time in atomic `status`, ~1.3x its p99)
# A detection counts when the run exits 1 with a REGRESSED row naming the atomic design.
# Writes every run's table and a summary to target/gate-selftest/.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
cases="${2:-unchanged instructions latency}"
out=target/gate-selftest
mkdir -p "$out"
cargo build --release --locked -p procman-harness --bin harness
harness=target/release/harness

case_run() { # name features extra-args...
    local name="$1" features="$2"
    shift 2
    local pass=0 caught=0 other=0 start end
    start=$(date +%s)
    for i in $(seq 1 "$runs"); do
        local log="$out/$name-$i.txt" rc=0
        "$harness" gate --base HEAD --quick ${features:+--head-features "$features"} "$@" \
            >"$log" 2>&1 || rc=$?
        if [ "$rc" -eq 0 ]; then
            pass=$((pass + 1))
        elif [ "$rc" -eq 1 ] && grep -E 'REGRESSED' "$log" | grep -q ' atomic '; then
            caught=$((caught + 1))
        else
            other=$((other + 1))
        fi
        printf '%s run %d/%d: exit %d\n' "$name" "$i" "$runs" "$rc"
        grep -E 'REGRESSED' "$log" || true
    done
    end=$(date +%s)
    printf '%-13s runs %d  passed %d  caught (atomic REGRESSED) %d  other %d  mean %ds per run\n' \
        "$name" "$runs" "$pass" "$caught" "$other" $(((end - start) / runs)) | tee -a "$out/summary.txt"
}

: >"$out/summary.txt"
echo "gate self-test, $(date -u +%FT%TZ), $(git rev-parse --short HEAD), $(nproc) cores" | tee -a "$out/summary.txt"
for c in $cases; do
    case "$c" in
    unchanged) case_run unchanged "" ;;
    instructions) case_run instructions inject-atomic-status-instructions --skip-latency ;;
    latency) case_run latency inject-atomic-status-latency --skip-instructions ;;
    *) echo "unknown case $c (use unchanged, instructions, latency)" >&2; exit 2 ;;
    esac
done
# The change the gate measured for the injected rows, for the README.
for name in $cases; do
    [ "$name" = unchanged ] && continue
    echo "$name: measured change on the atomic rows" | tee -a "$out/summary.txt"
    grep -hE '^(instructions/status|p99_ns/scripts_status) +atomic' "$out/$name"-*.txt \
        | awk '{print "  " $0}' | head -n "$runs" | tee -a "$out/summary.txt"
done
