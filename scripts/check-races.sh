#!/usr/bin/env bash
# Race verification of the three designs (issue 6), runnable by hand and from scripts/test.sh.
#
#   scripts/check-races.sh          default bounds (a few minutes on 2 cores, builds included)
#   scripts/check-races.sh --deep   longer bounds: loom preemption bound 3 (actor: bound 1 to
#                                   exhaustion), 10x the shuttle schedules
#   PROCMAN_LOOM_TIME_CAP=S         cap each clean loom model at S seconds (0: none; default:
#                                   none for mutex and atomic, 15 s for the actor)
#   PROCMAN_LOOM_SEEDED_TIME_CAP=S  cap each seeded-bug loom detection (default 60)
#
# 1. The clean suites: each design's tests/loom.rs and tests/shuttle.rs (protocol models, and
#    under shuttle long mixed histories checked for linearizability) over the real code. Any
#    failure fails the script; so does a suite that explores nothing.
# 2. The seeded-bug catalogue (procman-races' catalogue.rs, read through its `catalogue`
#    example): each bug is compiled in by its own `seeded-bug-*` feature and run under every
#    checker the catalogue lists for it; the checker must catch it as the finding the catalogue
#    names. A bug that survives fails the script.
# 3. A table: per bug, the checker that caught it, how (workload, finding), after how many
#    schedules, in how long; and a row per clean suite.
#
# A failing shuttle schedule is printed in the failing test's log (shown below the table);
# replay it with PROCMAN_SHUTTLE_REPLAY (see README, "Race verification").
set -uo pipefail
cd "$(dirname "$0")/.."

deep=0
for arg in "$@"; do
    case "$arg" in
        --deep) deep=1 ;;
        -h | --help)
            sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "check-races.sh: unknown argument '$arg' (try --help)" >&2
            exit 2
            ;;
    esac
done
if [ "$deep" = 1 ]; then
    export PROCMAN_RACES_DEEP=1
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/check-races.XXXXXX")"
export PROCMAN_RACES_REPORT="$work/report.tsv"
: >"$PROCMAN_RACES_REPORT"
: >"$work/runs.tsv"
failed=()
began=$(date +%s)

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# run LABEL CARGO-TEST-ARGS...: one cargo invocation (build + tests), logged to $work/LABEL.log.
run() {
    local label="$1"
    shift
    local log="$work/$label.log" t0 rc
    t0=$(now)
    printf '  %-58s' "$label"
    cargo test --locked -q "$@" >"$log" 2>&1
    rc=$?
    local wall
    wall=$(secs "$t0" "$(now)")
    printf '%6ss  %s\n' "$wall" "$([ $rc = 0 ] && echo ok || echo FAILED)"
    printf '%s\t%s\t%s\n' "$label" "$rc" "$wall" >>"$work/runs.tsv"
    if [ $rc != 0 ]; then
        failed+=("$label")
    fi
    return $rc
}

echo "==> check-races: $([ "$deep" = 1 ] && echo deep || echo default) bounds; logs in $work"

echo "--> clean suites (the real implementations)"
for design in mutex actor atomic; do
    for checker in loom shuttle; do
        label="$design-$checker"
        if run "$label" -p "procman-$design" --features "$checker" --test "$checker"; then
            n=$(awk -F'\t' -v d="$design" -v c="$checker" \
                '$1 == "pass" && ($2 == d || index($2, d "_") == 1) && $3 == c' \
                "$PROCMAN_RACES_REPORT" | wc -l)
            if [ "$n" = 0 ]; then
                echo "    $label ran no test: a cfg that silently runs nothing is a failure" >&2
                failed+=("$label (zero tests)")
            fi
        fi
    done
done

# Seeded bugs get their own loom time cap (PROCMAN_LOOM_SEEDED_TIME_CAP, default 60 s), apart
# from the clean suites' PROCMAN_LOOM_TIME_CAP.
seeded_cap="${PROCMAN_LOOM_SEEDED_TIME_CAP:-60}"
echo "--> seeded bugs (each must be caught; loom time cap ${seeded_cap}s per detection)"
catalogue="$work/catalogue.tsv"
if ! cargo run --locked -q -p procman-races --example catalogue >"$catalogue" 2>"$work/catalogue.err"; then
    cat "$work/catalogue.err" >&2
    echo "check-races.sh: cannot read the seeded-bug catalogue" >&2
    exit 1
fi
while IFS=$'\t' read -r design feature checker workloads; do
    bug="${feature#seeded-bug-}"
    label="$design-$bug-$checker"
    # A detection stops at the schedule that catches its bug, so a longer cap costs nothing
    # while every bug is caught; it only decides how long a surviving bug is searched for.
    PROCMAN_LOOM_TIME_CAP="$seeded_cap" run "$label" -p "procman-$design" --features "$checker,$feature" --test seeded
    want=$(tr ',' '\n' <<<"$workloads" | wc -l)
    got=$(awk -F'\t' -v d="$design" -v b="$bug" -v c="$checker" \
        '$1 == "caught" && $2 == d && $3 == b && $4 == c' "$PROCMAN_RACES_REPORT" | wc -l)
    if [ "$got" -lt "$want" ]; then
        # Recorded as a miss even when the test binary failed before reporting.
        printf 'missed\t%s\t%s\t%s\t%s\t-\t-\t-\n' "$design" "$bug" "$checker" "$workloads" \
            >>"$PROCMAN_RACES_REPORT"
        case " ${failed[*]} " in *" $label "*) ;; *) failed+=("$label (not caught)") ;; esac
    fi
done <"$catalogue"

total=$(($(date +%s) - began))

echo
echo "==> seeded bugs: which checker caught each (schedules until the failing one)"
{
    printf 'BUG\tDESIGN\tCHECKER\tWORKLOAD\tCAUGHT AS\tSCHEDULES\tTIME\n'
    awk -F'\t' '$1 == "caught" || $1 == "missed" {
        t = ($8 == "-") ? "-" : sprintf("%.2fs", $8 / 1000)
        as = ($1 == "caught") ? $6 : "NOT CAUGHT"
        printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", $3, $2, $4, $5, as, $7, t
    }' "$PROCMAN_RACES_REPORT" | sort
} | column -t -s $'\t'

echo
echo "==> clean suites: the real implementations"
{
    printf 'SUITE\tTESTS\tSCHEDULES\tCOVERAGE\tCHECKER TIME\tWALL (BUILD+RUN)\tRESULT\n'
    for design in mutex actor atomic; do
        for checker in loom shuttle; do
            label="$design-$checker"
            awk -F'\t' -v d="$design" -v c="$checker" -v label="$label" -v runs="$work/runs.tsv" '
                BEGIN {
                    while ((getline line < runs) > 0) {
                        split(line, f, "\t")
                        if (f[1] == label) { rc = f[2]; wall = f[3] }
                    }
                }
                $1 == "pass" && ($2 == d || index($2, d "_") == 1) && $3 == c {
                    n++; s += $6; ms += $7; cov[$5]++
                }
                END {
                    c = ""
                    for (k in cov) c = c (c == "" ? "" : ", ") cov[k] " " k
                    if (c == "") c = "-"
                    printf "%s\t%d\t%d\t%s\t%.1fs\t%ss\t%s\n", label, n, s, c, ms / 1000, wall,
                        (rc == 0 && n > 0) ? "clean" : "FAILED"
                }' "$PROCMAN_RACES_REPORT"
        done
    done
} | column -t -s $'\t'

echo
if [ ${#failed[@]} -gt 0 ]; then
    for label in "${failed[@]}"; do
        log="$work/${label%% (*}.log"
        echo "---- $label: last lines of $log"
        grep -v '^\s*[0-9]*: \|^\s*at ' "$log" | tail -n 40
        echo
    done
    echo "check-races: FAILED (${#failed[@]}): ${failed[*]} — total ${total}s"
    echo "A failing shuttle schedule is in its log above; replay it with"
    echo "  PROCMAN_SHUTTLE_REPLAY='<schedule>' cargo test -p procman-<design> --features shuttle --test shuttle <test> -- --exact"
    exit 1
fi
echo "check-races: every real implementation clean, every seeded bug caught — total ${total}s"
