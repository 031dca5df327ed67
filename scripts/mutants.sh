#!/usr/bin/env bash
# Mutation score of the atomic design and the shared status machine (on demand, not in CI).
#
#   scripts/mutants.sh [core|atomic|all] [-- ARGS…]     default: all
#
#   core    impls/core/src/status.rs and impls/core/src/supervise.rs (used by every design)
#   atomic  every file of impls/atomic/src but its unit tests (src/tests/)
#   ARGS    passed to phase 1's cargo mutants (for example `--shard 1/4`, `-F 'in stop'`);
#           phase 2 takes whatever phase 1 missed
#
# Phase 1 runs `cargo mutants` with the unit tests of procman-core and procman-atomic, the
# conformance suite on the atomic design (the 60 cases of procman-conformance) and its OS tests,
# under nextest (less procman-core's os_escape test, see below). Phase 2 takes every mutant phase 1 missed and runs it again under shuttle:
# procman-atomic's `tests/shuttle.rs` (the protocol models and the linearizability histories)
# and procman-core's `tests/model_facade.rs` (the facade and the exit latch under the checker),
# with PROCMAN_SHUTTLE_ITERATIONS schedules per test (default here 100, the suite's own 1000 is
# for scripts/check-races.sh; a mutant whose shuttle run passes PROCMAN_MUTANTS_SHUTTLE_TIMEOUT,
# default 300 s, is a timeout, which counts as caught). loom is not used: its exhaustive runs take
# minutes per mutant.
#
# A mutant is killed when a test fails or times out in either phase; "unviable" mutants do not
# build and do not count. Results: target/mutants/SCOPE/{phase1,phase2}/mutants.out (cargo
# mutants' own files: caught.txt, missed.txt, timeout.txt, unviable.txt, one log per mutant) and
# target/mutants/SCOPE/summary.txt (also printed) with survivors.txt. Exit status 0 whatever the score: it measures.
#
# Installs cargo-mutants with `cargo install --locked` when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

scope=all
if [[ $# -gt 0 && "$1" != -- ]]; then
    scope="$1"
    shift
fi
[[ "${1:-}" == -- ]] && shift
extra=("$@")

files=()
case "$scope" in
    core) files=(-f impls/core/src/status.rs -f impls/core/src/supervise.rs) ;;
    # src/tests/ is the crate's unit tests (under a cfg that cargo mutants does not read as
    # #[cfg(test)]): mutating the tests themselves measures nothing.
    atomic) files=(-f 'impls/atomic/src/**' -e 'impls/atomic/src/tests/**') ;;
    all) files=(-f impls/core/src/status.rs -f impls/core/src/supervise.rs -f 'impls/atomic/src/**' -e 'impls/atomic/src/tests/**') ;;
    -h | --help)
        sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "mutants.sh: unknown scope '$scope' (expected core, atomic or all; --help explains)" >&2
        exit 2
        ;;
esac

if ! cargo mutants --version >/dev/null 2>&1; then
    echo "cargo-mutants not found; installing it (cargo install --locked cargo-mutants)"
    cargo install --locked cargo-mutants
fi
cargo mutants --version

out="target/mutants/$scope"
# Runs with ARGS (a shard, a filter) keep their results apart: target/mutants/SCOPE-ARGS.
# Long ARGS are shortened and told apart by a hash, to keep the folder name within limits.
if ((${#extra[@]})); then
    tag=$(printf '%s' "${extra[*]}" | tr -c 'A-Za-z0-9' '_')
    if ((${#tag} > 60)); then
        tag="${tag:0:48}-$(printf '%s' "${extra[*]}" | sha256sum | cut -c1-10)"
    fi
    out="$out-$tag"
fi
rm -rf "$out"
mkdir -p "$out"
common=(-p procman-core -p procman-atomic "${files[@]}" --no-shuffle --colors never)

echo "==> phase 1: unit tests, the conformance suite and the OS tests (nextest)"
# procman-core's os_escape test is left out: it tests the OS launcher's /proc walk, which no
# mutant here touches, and a test run killed at its timeout can leave its escaped processes
# behind (the test now ignores processes older than itself; before that, one such stray failed
# it in every later run, which counted unrelated mutants as caught). ARGS that bring their own
# `-- …` (test-tool arguments) replace this filter.
nextest_args=(-- -E 'not binary(os_escape)')
for arg in "${extra[@]}"; do [[ "$arg" == -- ]] && nextest_args=(); done
# cargo mutants exits non-zero when mutants survive; the summary below is the result.
cargo mutants "${common[@]}" --test-tool nextest \
    --test-package=procman-core,procman-atomic \
    --output "$out/phase1" "${extra[@]}" "${nextest_args[@]}" || true
p1="$out/phase1/mutants.out"
if [[ ! -f "$p1/outcomes.json" ]]; then
    echo "mutants.sh: phase 1 left no $p1/outcomes.json (see the output above)" >&2
    exit 2
fi

count() { if [[ -f "$1" ]]; then grep -c . "$1" || true; else echo 0; fi; }
missed1=$(count "$p1/missed.txt")
missed2=0
if ((missed1 > 0)); then
    echo "==> phase 2: the $missed1 mutants phase 1 missed, under shuttle"
    # One anchored alternative per missed mutant, its name escaped for the regex crate.
    re=$(sed -e 's/[][\\.^$*+?(){}|/]/\\&/g' -e 's/^/^/' -e 's/$/$/' "$p1/missed.txt" | paste -sd '|')
    export PROCMAN_SHUTTLE_ITERATIONS="${PROCMAN_SHUTTLE_ITERATIONS:-100}"
    # cargo mutants' own baseline would test the mutated packages (procman-core has no shuttle
    # suite), so the unmutated run is done here, and cargo mutants skips its own.
    echo "--> baseline: the shuttle suite on the unmutated tree"
    cargo test -q --locked -p procman-atomic -p procman-core --features shuttle \
        --test shuttle --test model_facade
    cargo mutants "${common[@]}" --test-tool cargo --test-package=procman-atomic,procman-core \
        --features shuttle --baseline skip --timeout "${PROCMAN_MUTANTS_SHUTTLE_TIMEOUT:-300}" \
        --re "$re" --output "$out/phase2" -- --test shuttle --test model_facade || true
    p2="$out/phase2/mutants.out"
    # Every mutant phase 1 missed must have an outcome in phase 2 (the regex may select more).
    untested=$(cat "$p2"/{caught,timeout,missed,unviable}.txt 2>/dev/null | sort | comm -23 <(sort "$p1/missed.txt") -)
    if [[ ! -f "$p2/outcomes.json" || -n "$untested" ]]; then
        echo "mutants.sh: phase 2 did not test every mutant phase 1 missed (see the output above and $p2):" >&2
        echo "$untested" >&2
        exit 2
    fi
    # Survivors: missed by both phases.
    comm -12 <(sort "$p1/missed.txt") <(sort "$p2/missed.txt") >"$out/survivors.txt"
    missed2=$(count "$out/survivors.txt")
fi

caught1=$(count "$p1/caught.txt")
timeout1=$(count "$p1/timeout.txt")
unviable=$(count "$p1/unviable.txt")
viable=$((caught1 + timeout1 + missed1))
killed=$((viable - missed2))
{
    echo "scope $scope${extra[*]:+ (${extra[*]})}, $(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (dirty)')"
    echo "phase 1 (unit, conformance, os): caught $caught1, timeout $timeout1, missed $missed1, unviable $unviable"
    echo "phase 2 (shuttle) over the $missed1 missed: killed $((missed1 - missed2)), missed $missed2"
    if ((viable > 0)); then
        awk -v k="$killed" -v v="$viable" 'BEGIN { printf "score: %d of %d viable mutants killed (%.1f %%)\n", k, v, 100 * k / v }'
    fi
    if ((missed2 > 0)); then
        echo "survivors:"
        sed 's/^/  /' "$out/survivors.txt"
    elif ((missed1 > 0)); then
        echo "survivors: none"
    fi
} | tee "$out/summary.txt"
