#!/bin/bash
# What mirroring 256 KiB bodies in slices costs, on HAProxy 3.4 (see
# haproxy-conf/README.md, "Bodies larger than a buffer"). wrk POSTs
# BODY_BYTES bodies through HAProxy to nginx (the primary); three
# configurations run side by side, in each round, in alternating order:
#   plain     HAProxy 3.4 alone, the body streamed to the primary
#   buffered  the shipped large-body configuration without its SPOE part:
#             tune.bufsize.large and wait-for-body use-large-buffer only
#   sliced    the shipped configuration (haproxy-conf/large-bodies/): every
#             body sent to the agent in 18 slices plus the `mirror` message,
#             and mirrored to a second nginx
# each in two load modes: "sat" (closed loop, CONNECTIONS connections:
# requests/s) and "half" (paced at half of the slowest configuration's
# "sat" rate in round 1, so that each runs below its capacity: latency
# p50/p99). Per run: requests/s, latency, and the CPU time HAProxy,
# the agent and the primary took per request (from /proc/PID/stat); for
# sliced, what the agent assembled and the mirror received. Each figure is
# the median over the rounds.
#
# HAProxy, the agent and the primary share one CPU (SUT_CPU), wrk and the
# mirror the other (LOAD_CPU), as in bench/run_e2e.sh. The machine may be
# shared: each run records how much of the CPUs other processes took.
#
# Writes bench/results/large-body.json and large-body.md (RESULTS_DIR= to
# write elsewhere). Bounded: 3 rounds x 3 configurations x 2 modes x
# (RUN_SECONDS + WARMUP_SECONDS + about 3 s of start and stop), under 3
# minutes by default, 9 at most with every run disturbed.
#
# Environment: HAPROXY (default build/haproxy3/haproxy: make haproxy3),
# AGENT_BIN, NGINX, WRK, ROUNDS (3), RUN_SECONDS (5), WARMUP_SECONDS (1),
# CONNECTIONS (16), BODY_BYTES (262144), SUT_CPU (1), LOAD_CPU (0),
# BENCH_NICE (-20 as root, 0 disables), KEEP_WORK=1, ATTEMPTS (3) and
# DISTURBED_PCT (50): a run during which more than DISTURBED_PCT % of the
# CPUs were busy outside the benchmark's processes (under 10 % on a quiet
# machine) is run again, ATTEMPTS times in all at most.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
E2E=$ROOT/bench/e2e
LARGE=$ROOT/haproxy-conf/large-bodies
RESULTS_DIR=${RESULTS_DIR:-$ROOT/bench/results}

HAPROXY=${HAPROXY:-$ROOT/build/haproxy3/haproxy}
AGENT_BIN=${AGENT_BIN:-$ROOT/build/spoa-shadow}
NGINX=${NGINX:-nginx}
WRK=${WRK:-wrk}
ROUNDS=${ROUNDS:-3}
RUN_SECONDS=${RUN_SECONDS:-5}
WARMUP_SECONDS=${WARMUP_SECONDS:-1}
CONNECTIONS=${CONNECTIONS:-16}
BODY_BYTES=${BODY_BYTES:-262144}
SUT_CPU=${SUT_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
NICE=${BENCH_NICE:--20}
ATTEMPTS=${ATTEMPTS:-3}
DISTURBED_PCT=${DISTURBED_PCT:-50}
CONFIGS="plain buffered sliced"

if ! [ "$ROUNDS" -ge 1 ] 2>/dev/null || [ "$ROUNDS" -gt 10 ] || ! [ "$RUN_SECONDS" -ge 2 ] 2>/dev/null ||
    [ "$RUN_SECONDS" -gt 60 ] || ! [ "$BODY_BYTES" -ge 1 ] 2>/dev/null || [ "$BODY_BYTES" -gt 262144 ]; then
    echo "large-body: ROUNDS must be 1..10, RUN_SECONDS 2..60, BODY_BYTES 1..262144" >&2
    exit 2
fi
for b in "$HAPROXY" "$AGENT_BIN" "$NGINX" "$WRK" python3 curl taskset; do
    command -v "$b" >/dev/null 2>&1 || { echo "large-body: $b is missing" >&2; exit 1; }
done
case $("$HAPROXY" -v | head -n 1 | awk '{ print $3 }') in
    [0-2].* | 3.[0-3] | 3.[0-3][.-]*)
        echo "large-body: $HAPROXY is older than 3.4 (no large buffers): run make haproxy3" >&2
        exit 1
        ;;
esac

WORK=$(mktemp -d "${TMPDIR:-/tmp}/spoa-large-body.XXXXXX")
# shellcheck source=tests/integration/lib.sh
. "$ROOT/tests/integration/lib.sh"
# shellcheck source=bench/e2e/lib.sh
. "$E2E/lib.sh"

bench_on_exit large-body

PIN_SUT="taskset -c $SUT_CPU" PIN_LOAD="taskset -c $LOAD_CPU"
[ "$(nproc)" -ge 2 ] || PIN_SUT="" PIN_LOAD=""
# As bench/run_e2e.sh: ahead of other load on a shared machine, as root.
if [ "$(id -u)" = 0 ] && [ "$NICE" != 0 ]; then
    PIN_SUT="nice -n $NICE $PIN_SUT" PIN_LOAD="nice -n $NICE $PIN_LOAD"
fi

read -r HTTP_PORT PRIMARY_PORT MIRROR_PORT AGENT_PORT ADMIN_PORT <<<"$(free_ports 5)"
render "$E2E/nginx-backend.conf.in" "$WORK/primary.conf" WORK="$WORK" NAME=primary PORT="$PRIMARY_PORT"
render "$E2E/nginx-backend.conf.in" "$WORK/mirror.conf" WORK="$WORK" NAME=mirror PORT="$MIRROR_PORT"
start_nginx primary "$WORK/primary.conf" "$PIN_SUT"
PRIMARY_PID=$NGINX_PID
start_nginx mirror "$WORK/mirror.conf" "$PIN_LOAD"
MIRROR_PID=$NGINX_PID
for p in "$PRIMARY_PORT" "$MIRROR_PORT"; do
    wait_until 5 port_open "$p" || { echo "large-body: nginx did not start (see $WORK)" >&2; exit 1; }
done
printf 'routes:\n  - name: all\n    mirrors:\n      - url: "http://127.0.0.1:%s"\n        max_response_bytes: 65536\n' \
    "$MIRROR_PORT" >"$WORK/agent.yaml"

# The three HAProxy configurations, from the shipped files: the same
# addresses as the test's, nothing logged but warnings (failed SPOE
# exchanges), and for plain and buffered the SPOE part taken out.
python3 - "$LARGE" "$WORK" "$HTTP_PORT" "$PRIMARY_PORT" "$AGENT_PORT" <<'EOF' || exit 1
import sys
src, work, http, primary, agent = sys.argv[1:]
cfg = open(src + "/haproxy-3.4.cfg").read()
for old, new in [
    ("log /dev/log local0", "log stdout format raw local0 warning"),
    ("stats socket /run/haproxy/admin.sock mode 660", "stats socket %s/haproxy.sock mode 600" % work),
    ("bind 127.0.0.1:8080", "bind 127.0.0.1:" + http),
    ("/etc/haproxy/mirror-large.spoe.conf", work + "/mirror-large.spoe.conf"),
    ("server app1 127.0.0.1:8000 check", "server app1 127.0.0.1:" + primary),
    ("server agent1 127.0.0.1:12345", "server agent1 127.0.0.1:" + agent),
]:
    if cfg.count(old) != 1:
        sys.exit("large-body: %r is not once in haproxy-3.4.cfg" % old)
    cfg = cfg.replace(old, new)
spoe_lines = ("filter spoe", "http-request send-spoe-group", "http-request set-var(txn.mirror_off)")
buffered = "\n".join(l for l in cfg.split("\n") if not l.strip().startswith(spoe_lines))
plain = "\n".join(l for l in buffered.split("\n")
                  if not l.strip().startswith(("tune.bufsize.large", "http-request wait-for-body")))
for name, text in (("sliced", cfg), ("buffered", buffered), ("plain", plain)):
    open("%s/haproxy-%s.cfg" % (work, name), "w").write(text)
open(work + "/mirror-large.spoe.conf", "w").write(open(src + "/mirror-large.spoe.conf").read())
EOF
for c in $CONFIGS; do
    "$HAPROXY" -c -q -f "$WORK/haproxy-$c.cfg" || { echo "large-body: bad configuration $c" >&2; exit 1; }
done

# cpu_busy_ticks: busy clock ticks of all CPUs (for the other load's share).
cpu_busy_ticks() {
    awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}

# run_once CONFIG MODE ROUND RATE: one measured run into $WORK/runs/<round>-<mode>-<config>.env.
run_once() {
    local cfg=$1 mode=$2 d="$WORK/runs/$3-$2-$1" agent="" script="$WORK/wrk-$2.lua"
    mkdir -p "$d"
    cat "$E2E/wrk_report.lua" "$E2E/wrk_post.lua" >"$WORK/wrk-sat.lua"
    cat "$E2E/wrk_report.lua" "$E2E/wrk_pace.lua" "$E2E/wrk_post.lua" >"$WORK/wrk-half.lua"
    if [ "$cfg" = sliced ]; then
        # shellcheck disable=SC2086
        $PIN_SUT "$AGENT_BIN" -c "$WORK/agent.yaml" --listen "127.0.0.1:$AGENT_PORT" \
            --admin-listen "127.0.0.1:$ADMIN_PORT" --threads 1 --log-level warn 2>>"$WORK/agent.log" &
        agent=$!
        track "$agent"
        wait_until 5 curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$ADMIN_PORT/readyz" ||
            { echo "large-body: the agent did not start" >&2; return 1; }
    fi
    start_bench_haproxy "$WORK/haproxy-$cfg.cfg" || { echo "large-body: HAProxy did not start" >&2; return 1; }
    [ -z "$agent" ] || wait_until 5 agent_checked || { echo "large-body: the agent is not UP" >&2; return 1; }
    # shellcheck disable=SC2086
    E2E_BODY_BYTES=$BODY_BYTES $PIN_LOAD "$WRK" -t1 -c"$CONNECTIONS" -d"$WARMUP_SECONDS"s --timeout 5s \
        -s "$script" "http://127.0.0.1:$HTTP_PORT/" -- "rate_per_thread=$4" >"$d/warmup.out" 2>&1
    sleep 0.3
    [ -z "$agent" ] || curl -s --max-time 3 -o "$d/before.prom" "http://127.0.0.1:$ADMIN_PORT/metrics"
    local mirror0 t0 busy0 h0 a0 p0 m0 w0 e0
    mirror0=$(curl -s --max-time 2 "http://127.0.0.1:$MIRROR_PORT/__status" | awk '/^ *[0-9]+ +[0-9]+ +[0-9]+/ { print $3 }')
    t0=$(date +%s%3N) busy0=$(cpu_busy_ticks) e0=$(grep -c 'SPOE:' "$WORK/haproxy.log")
    h0=$(proc_ticks "$HAPROXY_PID") a0=$(proc_ticks "${agent:-0}") p0=$(proc_ticks "$PRIMARY_PID")
    m0=$(proc_ticks "$MIRROR_PID")
    children_cpu_s >"$WORK/cpu0" # wrk's CPU time: what this shell's children used (not in a subshell)
    # shellcheck disable=SC2086
    E2E_BODY_BYTES=$BODY_BYTES $PIN_LOAD "$WRK" -t1 -c"$CONNECTIONS" -d"$RUN_SECONDS"s --timeout 5s \
        -s "$script" "http://127.0.0.1:$HTTP_PORT/" -- "rate_per_thread=$4" >"$d/wrk.out" 2>&1
    local h1 a1 p1 m1 w1 t1 busy1 mirror1 e1
    children_cpu_s >"$WORK/cpu1"
    w0=$(cat "$WORK/cpu0") w1=$(cat "$WORK/cpu1")
    h1=$(proc_ticks "$HAPROXY_PID") a1=$(proc_ticks "${agent:-0}") p1=$(proc_ticks "$PRIMARY_PID")
    m1=$(proc_ticks "$MIRROR_PID")
    t1=$(date +%s%3N) busy1=$(cpu_busy_ticks) e1=$(grep -c 'SPOE:' "$WORK/haproxy.log")
    sleep 0.5 # the last copies reach the mirror
    mirror1=$(curl -s --max-time 2 "http://127.0.0.1:$MIRROR_PORT/__status" | awk '/^ *[0-9]+ +[0-9]+ +[0-9]+/ { print $3 }')
    [ -z "$agent" ] || curl -s --max-time 3 -o "$d/after.prom" "http://127.0.0.1:$ADMIN_PORT/metrics"
    cat >"$d/run.env" <<EOF
config=$cfg
mode=$mode
round=$3
rate=$4
ms=$((t1 - t0))
busy_ticks=$((busy1 - busy0))
haproxy_ticks=$((h1 - h0))
agent_ticks=$((a1 - a0))
primary_ticks=$((p1 - p0))
mirror_ticks=$((m1 - m0))
wrk_cpu_s=$(awk -v a="$w0" -v b="$w1" 'BEGIN { printf "%.3f", b - a }')
mirror_requests=$((${mirror1:-0} - ${mirror0:-0}))
spoe_errors=$((e1 - e0))
EOF
    stop_pid "$HAPROXY_PID"
    [ -z "$agent" ] || stop_pid "$agent"
    echo "large-body: round $3 $mode $cfg: $(sed -n 's/^Requests\/sec: *//p' "$d/wrk.out") req/s" >&2
}

# unbilled_pct RUN_ENV: the share (%) of both CPUs busy during a run but
# not billed to the benchmark's processes (other tenants, and loopback
# work done outside any process).
unbilled_pct() {
    awk -F= -v tick="$TICK" -v ncpu="$(nproc)" '{ v[$1] = $2 }
        END { ours = v["haproxy_ticks"] + v["agent_ticks"] + v["primary_ticks"] + v["mirror_ticks"] + v["wrk_cpu_s"] * tick
              u = (v["busy_ticks"] - ours) / (ncpu * v["ms"] / 1000 * tick) * 100
              printf "%d", (u < 0 ? 0 : u) }' "$1"
}

# measure CONFIG MODE ROUND RATE: run_once, run again (ATTEMPTS times in all
# at most) while more than DISTURBED_PCT % of the CPUs went unbilled: other
# load on the machine disturbed the run. The discarded runs are kept in
# $WORK/discarded/ and counted in the results.
measure() {
    local d="$WORK/runs/$3-$2-$1" n=1 u
    while :; do
        run_once "$@" || return 1
        u=$(unbilled_pct "$d/run.env")
        [ "$n" -ge "$ATTEMPTS" ] || [ "$u" -le "$DISTURBED_PCT" ] && return 0
        echo "large-body: round $3 $2 $1: $u% of the CPUs unbilled: once more" >&2
        mkdir -p "$WORK/discarded"
        mv "$d" "$WORK/discarded/$3-$2-$1.$n"
        n=$((n + 1))
    done
}

reverse() { printf '%s\n' "$@" | tac | tr '\n' ' '; }
mkdir -p "$WORK/runs" "$RESULTS_DIR"
HALF_RATE=""
for round in $(seq 1 "$ROUNDS"); do
    order=$CONFIGS
    # shellcheck disable=SC2086
    [ $((round % 2)) = 0 ] && order=$(reverse $CONFIGS)
    for c in $order; do
        measure "$c" sat "$round" 0 || exit 1
    done
    if [ -z "$HALF_RATE" ]; then
        # Half of the slowest configuration's rate: every one runs below its capacity.
        HALF_RATE=$(python3 -c '
import json, sys
rates = []
for path in sys.argv[1:]:
    for line in open(path):
        if line.startswith("E2E_RESULT "):
            r = json.loads(line[11:])
            rates.append(r["requests"] / (r["duration_us"] / 1e6))
print(max(1, int(min(rates) / 2)))' "$WORK"/runs/1-sat-*/wrk.out)
    fi
    for c in $order; do
        measure "$c" half "$round" "$HALF_RATE" || exit 1
    done
done

python3 "$ROOT/bench/large_body_report.py" "$WORK/runs" "$RESULTS_DIR" "$TICK" "$(nproc)" \
    "$BODY_BYTES" "$CONNECTIONS" "$RUN_SECONDS" "$("$HAPROXY" -v | head -n 1 | awk '{ print $3 }')" \
    "$(find "$WORK/discarded" -name run.env 2>/dev/null | wc -l)" "$DISTURBED_PCT" || exit 1
echo "large-body: wrote $RESULTS_DIR/large-body.json and large-body.md" >&2
