#!/usr/bin/env bash
# Instructions per copy (about 2 minutes, bounded by timeouts), on loopback
# only: the agent's user-space work per mirrored request, counted by
# valgrind's callgrind. A shared machine's other load moves CPU time by more
# than a small change to the agent does; an instruction count moves by a few
# per cent between runs (batching follows timing), so a change of 5 % or more
# shows in one run. The kernel's share (system calls, wake-ups) is not
# counted: bench/run_e2e.sh measures the whole cost.
#
# For each build (AGENT, and BASE_AGENT when set) and each header size: the
# end-to-end benchmark's HTTP/2 nginx (bench/e2e/nginx-h2.conf.in, scenario
# s3c's mirror) answers over h2c; the agent runs under callgrind with one
# catch-all route mirroring 100 % to it (protocol h2c); build/bench/spop_loadgen sends a
# warm-up of 2,000 NOTIFYs, the counts are zeroed, then INSTR_REQUESTS
# NOTIFYs paced at INSTR_RATE per second (GETs with a req.hdrs_bin block of
# that many bytes: 40 is a Host header alone, as in the end-to-end
# benchmark; 900 is a browser's request). The instructions counted from the
# zeroing to the end, divided by the copies the mirror answered
# (spoa_shadow_mirror_responses_total), are the figure.
#
# Prints a markdown table and writes bench/results/instructions.md and .json.
# Every process is stopped by PID on exit.
#
# Run: make build/spoa-shadow build/bench/spop_loadgen && bash bench/instructions.sh
# Environment: AGENT, BASE_AGENT (a second build, e.g. of the commit before),
# LOADGEN, NGINX, INSTR_REQUESTS (20000), INSTR_RATE (2000),
# INSTR_HEADERS ("40 900"), INSTR_NAME (instructions: the results' name).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
AGENT=${AGENT:-$ROOT/build/spoa-shadow}
BASE_AGENT=${BASE_AGENT:-}
LOADGEN=${LOADGEN:-$ROOT/build/bench/spop_loadgen}
NGINX=${NGINX:-nginx}
REQUESTS=${INSTR_REQUESTS:-20000}
RATE=${INSTR_RATE:-2000}
HEADERS=${INSTR_HEADERS:-40 900}
NAME=${INSTR_NAME:-instructions}
WARMUP=2000
RESULTS=$ROOT/bench/results
WORK=$(mktemp -d "${TMPDIR:-/tmp}/instructions.XXXXXX")
E2E=$ROOT/bench/e2e
# shellcheck source=tests/integration/lib.sh
. "$ROOT/tests/integration/lib.sh"
# shellcheck source=bench/e2e/lib.sh
. "$E2E/lib.sh"
bench_on_exit instructions

die() {
    echo "instructions: $*" >&2
    exit 1
}

for b in "$AGENT" "$LOADGEN" "$NGINX" valgrind callgrind_control curl ${BASE_AGENT:+"$BASE_AGENT"}; do
    command -v "$b" >/dev/null 2>&1 || die "$b is missing (make build/spoa-shadow build/bench/spop_loadgen; apt-get install valgrind nginx)"
done
[ "$RATE" -gt 0 ] && [ "$REQUESTS" -gt 0 ] || die "INSTR_RATE and INSTR_REQUESTS must be positive"
# The paced run must end well inside the load generator's 60 s bound.
[ $((REQUESTS / RATE)) -le 40 ] || die "INSTR_REQUESTS / INSTR_RATE must be at most 40 s"

# answered ADMIN_PORT: the copies the mirror answered, over every class.
answered() {
    curl -s --max-time 5 "http://127.0.0.1:$1/metrics" |
        awk '/^spoa_shadow_mirror_responses_total\{/ { n += $2 } END { printf "%d\n", n }'
}

# The mirror: the end-to-end benchmark's HTTP/2 nginx (scenario s3c's), on
# its h2c port.
read -r STATUS_PORT NGINX_PORT H2S_PORT H1S_PORT < <(free_ports 4)
mkdir -p "$WORK/pki"
bash "$ROOT/tests/integration/tls/pki.sh" "$WORK/pki" >/dev/null 2>&1 || die "certificates not made"
render "$E2E/nginx-h2.conf.in" "$WORK/nginx.conf" WORK="$WORK" NAME=nginx PORT="$STATUS_PORT" \
    H2C_PORT="$NGINX_PORT" H2S_PORT="$H2S_PORT" H1S_PORT="$H1S_PORT" PKI="$WORK/pki"
start_nginx nginx "$WORK/nginx.conf" ""
wait_until 5 port_open "$NGINX_PORT" ||
    die "nginx did not start: $(cat "$WORK/nginx.out" "$WORK/nginx.error.log" 2>/dev/null)"

# measure LABEL BINARY HEADER_BYTES: one callgrind run; appends a JSON line
# to $WORK/runs.jsonl.
measure() {
    local label=$1 bin=$2 hb=$3 spop_port admin_port pid before after out ir
    read -r spop_port admin_port < <(free_ports 2)
    cat >"$WORK/agent.yaml" <<EOF
routes:
  - name: default
    mirrors:
      - url: "http://127.0.0.1:$NGINX_PORT"
        percent: 100
        protocol: h2c
EOF
    out="$WORK/callgrind.$label.$hb"
    valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" -c "$WORK/agent.yaml" \
        --listen "127.0.0.1:$spop_port" --admin-listen "127.0.0.1:$admin_port" --threads 1 \
        --log-level warn 2>"$WORK/agent.$label.$hb.log" &
    pid=$!
    track "$pid"
    # callgrind starts slowly.
    wait_until 60 curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$admin_port/readyz" || die "the agent did not start: $(tail -n 3 "$WORK/agent.$label.$hb.log")"
    timeout 60 "$LOADGEN" --target "127.0.0.1:$spop_port" --requests "$WARMUP" --rate "$RATE" --duration 20 \
        --header-bytes "$hb" >"$WORK/warmup.out" 2>&1 || die "the warm-up failed: $(tail -n 3 "$WORK/warmup.out")"
    sleep 0.5
    callgrind_control -z "$pid" >/dev/null || die "callgrind_control -z failed"
    before=$(answered "$admin_port")
    timeout 90 "$LOADGEN" --target "127.0.0.1:$spop_port" --requests "$REQUESTS" --rate "$RATE" --duration 60 \
        --header-bytes "$hb" >"$WORK/load.out" 2>&1 || die "the load generator failed: $(tail -n 3 "$WORK/load.out")"
    # The last answers are read within the agent's read delay.
    sleep 1
    after=$(answered "$admin_port")
    callgrind_control -d "$pid" >/dev/null || die "callgrind_control -d failed"
    stop_pid "$pid" 10
    # The dump taken on request is part 1; its "summary:" line is the total.
    ir=$(awk '/^summary:/ { print $2; exit }' "$out.1" 2>/dev/null)
    [ -n "$ir" ] || die "no callgrind dump for $label ($hb bytes of headers)"
    printf '{"build": "%s", "header_bytes": %d, "instructions": %s, "copies": %d}\n' \
        "$label" "$hb" "$ir" "$((after - before))" >>"$WORK/runs.jsonl"
}

for hb in $HEADERS; do
    measure agent "$AGENT" "$hb"
    [ -n "$BASE_AGENT" ] && measure base "$BASE_AGENT" "$hb"
done

mkdir -p "$RESULTS"
"$PY" - "$WORK/runs.jsonl" "$RESULTS/$NAME" "$REQUESTS" "$RATE" "$AGENT" "$BASE_AGENT" <<'EOF'
import json, sys, time
src, dst, requests, rate, agent, base = sys.argv[1:7]
runs = [json.loads(l) for l in open(src)]
for r in runs:
    r["per_copy"] = r["instructions"] / r["copies"] if r["copies"] else None
lines = [
    "# Agent instructions per mirrored copy (callgrind)",
    "",
    f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}: {requests} GETs paced at {rate}/s "
    "over SPOP (build/bench/spop_loadgen), mirrored 100 % over h2c to nginx; user-space "
    "instructions of the agent divided by the copies the mirror answered. "
    f"Agent: `{agent}`" + (f"; base: `{base}`" if base else "") + ".",
    "",
    "| headers (bytes of req.hdrs_bin) | build | copies | instructions per copy | × base |",
    "|---|---|---|---|---|",
]
for r in runs:
    ratio = ""
    if r["build"] == "agent":
        b = [x for x in runs if x["build"] == "base" and x["header_bytes"] == r["header_bytes"]]
        if b and b[0]["per_copy"] and r["per_copy"]:
            r["vs_base"] = r["per_copy"] / b[0]["per_copy"]
            ratio = f"{r['vs_base']:.3f}"
    per = f"{r['per_copy']:,.0f}" if r["per_copy"] else "–"
    lines.append(f"| {r['header_bytes']} | {r['build']} | {r['copies']} | {per} | {ratio} |")
open(dst + ".md", "w").write("\n".join(lines) + "\n")
json.dump({"requests": int(requests), "rate": int(rate), "runs": runs}, open(dst + ".json", "w"), indent=1)
print("\n".join(lines))
EOF
