#!/usr/bin/env bash
# The official MCP conformance suite (@modelcontextprotocol/conformance, npm) against
# `procman serve`: starts it on a free loopback port with a small procman.toml, runs every
# server scenario of the suite's active set, and fails when a scenario that applies to what
# procman declares fails (or does not run). Scenarios that need the suite's own fixtures
# (tools, resources and prompts named test_*, test://…) or capabilities procman does not
# declare are listed as not applicable, each with its reason.
#
#   scripts/mcp-conformance.sh            # install what is missing, run, print the table
#   scripts/mcp-conformance.sh --prepare  # only install (scripts/test.sh starts this early)
#
# Needs Node >= 22: the node on PATH if it is new enough, else the `node@22` npm package,
# installed with the suite into target/mcp-conformance/ (npm from the registry). Without npm or
# the registry it says so and exits 0 (skipped), as a machine without the network cannot run it.
# The procman binary: $PROCMAN_BIN, else target/debug/procman (built with cargo if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

SUITE_VERSION=0.1.16
dir="${CARGO_TARGET_DIR:-target}/mcp-conformance"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

# Scenarios that apply to procman (its declared capabilities: tools, resources with
# subscribe, logging), and what the others need.
applicable=(
    server-initialize
    ping
    tools-list
    logging-set-level
    resources-list
    server-sse-multiple-streams
    dns-rebinding-protection
)
declare -A not_applicable=(
    [completion-complete]="procman declares no completions capability"
    [tools-call-simple-text]="calls the suite's fixture tool test_simple_text; procman's tools are its own"
    [tools-call-image]="calls the fixture tool test_image_content"
    [tools-call-audio]="calls the fixture tool test_audio_content"
    [tools-call-embedded-resource]="calls the fixture tool test_embedded_resource"
    [tools-call-mixed-content]="calls the fixture tool test_multiple_content_types"
    [tools-call-with-logging]="calls the fixture tool test_tool_with_logging"
    [tools-call-error]="calls the fixture tool test_error_handling (procman's tool errors are isError results, tested in mcp_errors.rs)"
    [tools-call-with-progress]="calls the fixture tool test_tool_with_progress (procman's progress is tested in mcp_tools.rs)"
    [tools-call-sampling]="calls the fixture tool test_sampling; procman never asks the client to sample"
    [tools-call-elicitation]="calls the fixture tool test_elicitation; procman never elicits"
    [elicitation-sep1034-defaults]="elicitation: procman never elicits"
    [elicitation-sep1330-enums]="elicitation: procman never elicits"
    [json-schema-2020-12]="looks for a fixture tool with a 2020-12 schema"
    [server-sse-polling]="calls the fixture tool test_reconnection, which closes its stream mid-call"
    [resources-read-text]="reads the fixture resource test://static-text"
    [resources-read-binary]="reads the fixture resource test://static-binary"
    [resources-templates-read]="reads a fixture template test://template/{id}/data"
    [resources-subscribe]="subscribes to the fixture resource test://watched-resource, which procman answers -32002 (a URI that is not one of its resources; procman's subscribe is tested in mcp_push.rs)"
    [resources-unsubscribe]="unsubscribes from the fixture test://watched-resource (see resources-subscribe)"
    [prompts-list]="procman declares no prompts capability"
    [prompts-get-simple]="procman declares no prompts capability"
    [prompts-get-with-args]="procman declares no prompts capability"
    [prompts-get-embedded-resource]="procman declares no prompts capability"
    [prompts-get-with-image]="procman declares no prompts capability"
)

skip() {
    echo "mcp-conformance: skipped: $*"
    exit 0
}

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# Node >= 22 and the suite, installed once into $dir.
prepare() {
    local want=("@modelcontextprotocol/conformance@$SUITE_VERSION")
    if ! command -v node >/dev/null 2>&1 || [ "$(node_major node)" -lt 22 ]; then
        want+=("node@22")
    fi
    if [ -x "$dir/node_modules/.bin/conformance" ] &&
        { [ ${#want[@]} -eq 1 ] || [ -x "$dir/node_modules/node/bin/node" ]; }; then
        return 0
    fi
    command -v npm >/dev/null 2>&1 || skip "npm not found (install Node.js and npm to run the MCP conformance suite)"
    echo "mcp-conformance: installing ${want[*]} into $dir"
    if ! (cd "$dir" && npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "${want[@]}" >"$dir/npm.log" 2>&1); then
        tail -5 "$dir/npm.log"
        skip "npm could not install ${want[*]} (is the npm registry reachable? log: $dir/npm.log)"
    fi
}

if [ "${1:-}" = "--prepare" ]; then
    prepare
    exit 0
fi
prepare

node_bin=node
if [ -x "$dir/node_modules/node/bin/node" ]; then
    node_bin="$dir/node_modules/node/bin/node"
fi
[ "$(node_major "$node_bin")" -ge 22 ] || skip "no Node >= 22 ($node_bin is $("$node_bin" --version 2>&1))"

procman="${PROCMAN_BIN:-${CARGO_TARGET_DIR:-target}/debug/procman}"
if [ ! -x "$procman" ]; then
    cargo build --locked -p procman --bin procman
fi
procman="$(cd "$(dirname "$procman")" && pwd)/$(basename "$procman")"

work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
cat >"$work/procman.toml" <<'EOF'
[processes.web]
description = "idles until stopped"
command = ["sleep", "300"]
EOF
(cd "$work" && exec "$procman" serve --listen 127.0.0.1:0 2>"$work/serve.log") &
server_pid=$!
url=""
for _ in $(seq 1 200); do
    url="$(sed -n 's/^procman: serving MCP at //p' "$work/serve.log" | head -1)"
    [ -n "$url" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
done
if [ -z "$url" ]; then
    cat "$work/serve.log"
    echo "mcp-conformance: procman serve did not start"
    exit 1
fi
echo "mcp-conformance: @modelcontextprotocol/conformance $SUITE_VERSION, node $("$node_bin" --version), against $url"

out="$work/suite.txt"
set +e
PATH="$(dirname "$node_bin"):$PATH" "$dir/node_modules/.bin/conformance" server --url "$url" >"$out" 2>&1
set -e

declare -A result=()
while IFS= read -r line; do
    case "$line" in
    "✓ "*) name="${line#✓ }"; result["${name%%:*}"]=passed ;;
    "✗ "*) name="${line#✗ }"; result["${name%%:*}"]=failed ;;
    esac
done <"$out"
if [ ${#result[@]} -eq 0 ]; then
    tail -30 "$out"
    echo "mcp-conformance: the suite reported no scenario"
    exit 1
fi

passed=0 failed=0 na=0 unknown=0
printf '%-32s %-15s %s\n' scenario result "why not applicable"
for name in $(printf '%s\n' "${!result[@]}" | sort); do
    if [[ " ${applicable[*]} " == *" $name "* ]]; then
        printf '%-32s %s\n' "$name" "${result[$name]}"
        if [ "${result[$name]}" = passed ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    elif [ -n "${not_applicable[$name]:-}" ]; then
        printf '%-32s %-15s %s\n' "$name" "n/a (${result[$name]})" "${not_applicable[$name]}"
        na=$((na + 1))
    else
        printf '%-32s %-15s %s\n' "$name" "${result[$name]}" "NEW: not classified in scripts/mcp-conformance.sh"
        unknown=$((unknown + 1))
    fi
done
missing=()
for name in "${applicable[@]}"; do
    [ -n "${result[$name]:-}" ] || missing+=("$name")
done
echo "mcp-conformance: applicable $((passed + failed)): $passed passed, $failed failed; not applicable $na; not classified $unknown; applicable but not run by this suite version: ${missing[*]:-none}"
if [ "$failed" -gt 0 ] || [ "$unknown" -gt 0 ]; then
    grep -A12 "Failed Checks" "$out" | head -60 || true
    echo "mcp-conformance: FAILED (the suite's output: rerun with scripts/mcp-conformance.sh and read the table above)"
    exit 1
fi
echo "mcp-conformance: passed"
