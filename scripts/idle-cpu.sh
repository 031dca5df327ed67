#!/usr/bin/env bash
# CPU time an idle `procman mcp` uses, per design (not part of CI: it measures, it does not judge).
#
#   scripts/idle-cpu.sh [SECONDS] [DESIGN…]     defaults: 10 s; atomic actor mutex
#
# For each design it starts `target/release/procman mcp --impl DESIGN` over a pipe, with a
# procman.toml of 50 configured processes, answers `initialize`, starts one of them (a `sleep`,
# so a supervised child is alive), makes one `scripts_status` call (the actor's owner and its
# caller have just spun, as after any request), then sends nothing for SECONDS and reads the CPU
# time procman used meanwhile, two ways:
#   - per thread, from /proc/PID/task/TID/schedstat (nanoseconds), over the threads alive at both
#     reads (a thread that retires inside the window, such as an idle tokio blocking-pool thread,
#     takes its last microseconds with it; the line says how many came and went);
#   - for the whole process, from utime + stime in /proc/PID/stat (clock ticks, 10 ms here), which
#     keeps the time of threads that exited: a bound on anything the first figure missed.
# Prints one line per design.
set -euo pipefail
cd "$(dirname "$0")/.."

secs="${1:-10}"
if [[ ! "$secs" =~ ^[0-9]+$ ]] || ((secs == 0)); then
    echo "idle-cpu: SECONDS must be a positive whole number, got '$secs'" >&2
    exit 2
fi
shift || true
designs=("$@")
((${#designs[@]})) || designs=(atomic actor mutex)
for d in "${designs[@]}"; do
    case "$d" in
        atomic | actor | mutex) ;;
        *)
            echo "idle-cpu: unknown design '$d' (expected atomic, actor or mutex)" >&2
            exit 2
            ;;
    esac
done

if [[ "$(uname -s)" != Linux ]]; then
    echo "idle-cpu: needs Linux (/proc/PID/task/*/schedstat)" >&2
    exit 2
fi

cargo build --release --locked -q -p procman --bin procman
bin="$PWD/target/release/procman"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
{
    for i in $(seq -w 1 50); do
        printf '[processes.p%s]\ncommand = ["sleep", "600"]\n\n' "$i"
    done
} >"$work/procman.toml"

# "TID NS" for every live thread of PID, NS its time on the CPU.
thread_ns() {
    local t v
    for t in /proc/"$1"/task/*; do
        read -r v _ <"$t/schedstat" 2>/dev/null || continue
        echo "${t##*/} $v"
    done | sort
}
# utime + stime of the whole process, in clock ticks (fields 14 and 15; the name in field 2 has
# no spaces here).
process_ticks() { awk '{ print $14 + $15 }' /proc/"$1"/stat; }
hz=$(getconf CLK_TCK)

send() { printf '%s\n' "$1" >&"${PM[1]}"; }
reply() {
    local line
    # One JSON-RPC reply per request; notifications (no "id") are skipped.
    while IFS= read -r -t 10 line <&"${PM[0]}"; do
        [[ "$line" == *'"id":'* ]] && return 0
    done
    echo "idle-cpu: procman did not answer (see $work/stderr)" >&2
    cat "$work/stderr" >&2
    return 1
}

for design in "${designs[@]}"; do
    coproc PM { exec "$bin" mcp --impl "$design" --config "$work/procman.toml" 2>"$work/stderr"; }
    pid=$PM_PID
    send '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"idle-cpu","version":"0"}}}'
    reply
    send '{"jsonrpc":"2.0","method":"notifications/initialized"}'
    send '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"scripts_run","arguments":{"name":"p01"}}}'
    reply
    send '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"scripts_status","arguments":{"name":"p01"}}}'
    reply
    # Let the request's own work (and any spin after it) end before the window opens.
    sleep 1
    thread_ns "$pid" >"$work/before"
    ticks_before=$(process_ticks "$pid")
    sleep "$secs"
    ticks_after=$(process_ticks "$pid")
    thread_ns "$pid" >"$work/after"
    both=$(join "$work/before" "$work/after" | awk '{ ns += $3 - $2; n++ } END { printf "%d %d", ns, n }')
    read -r used kept <<<"$both"
    gone=$(($(wc -l <"$work/before") - kept))
    came=$(($(wc -l <"$work/after") - kept))
    awk -v d="$design" -v s="$secs" -v ns="$used" -v k="$kept" -v g="$gone" -v c="$came" \
        -v t=$((ticks_after - ticks_before)) -v hz="$hz" \
        'BEGIN { printf "%-6s idle %ds: %.3f ms on the CPU (%.4f %% of one core) over its %d threads; whole process %d ms (tick resolution %d ms); threads retired %d, new %d\n", d, s, ns / 1e6, ns / (s * 1e7), k, t * 1000 / hz, 1000 / hz, g, c }'
    # Closing stdin is procman's shutdown: it stops the child and exits.
    exec {PM[1]}>&-
    wait "$pid" || true
done
