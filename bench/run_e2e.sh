#!/bin/bash
# End-to-end benchmark: does mirroring through spoa-shadow ever harm the
# primary traffic? wrk -> HAProxy -> nginx (the primary), with HAProxy's SPOE
# filter sending every request to the agent, which mirrors it to a mirror
# backend. Scenarios (bench/e2e/README.md explains each and how to read the
# output):
#   s1   HAProxy alone, no SPOE filter (the reference)
#   s2   filter on, agent running, 0% sampled (the SPOP round trip alone)
#   s3   100% mirrored to a healthy mirror (nginx)
#   s3c  as s3 over cleartext HTTP/2 (protocol h2c) to nginx's http2 listener
#   s3c0 s3c with request_write_delay_ms: 0 (each wake-up's streams written
#        at once, the behaviour before that key): what the delay saves
#   s3t  as s3 over HTTP/2 and TLS (protocol h2, ALPN) to nginx, with a
#        certificate the benchmark makes (tests/integration/tls/pki.sh)
#   s3s  as s3 over HTTP/1.1 and TLS (https://, kept-alive connections,
#        sessions resumed) to the same nginx, on a listener without http2
#   s4   100% mirrored to a mirror that answers after MIRROR_DELAY_MS
#   s5   100% mirrored to a closed port (mirror down)
#   s6   as s3, and the agent is killed (SIGKILL) half way through the run
#   s6g  s6 with the SPOE event guarded by "if { nbsrv(spoa-shadow-agents) gt
#        0 }": the configuration change proposed for s6's fail-open window
#   s1p  s1 with the POST workload (the reference of s7)
#   s7   POST with BODY_BYTES bodies, 100% mirrored to the healthy mirror
#   s8   100% mirrored to a mirror that answers every copy with a 4 GiB
#        body at loopback speed (tests/integration/faulty_mirror.py "huge")
#   s9   100% mirrored to a mirror that resets every connection once it has
#        read the request (faulty_mirror.py "reset")
#   s8c, s9c  the same faults from an HTTP/2 mirror (h2c): every stream
#        answered with a 4 GiB content-length and DATA at full speed, or
#        reset (RST_STREAM) once its request is in
#        (tests/integration/h2/faulty_h2_mirror.py); judged against s3c
#   s3j  GET /json (answers of about 1 KB of JSON whose "ts" differs between
#        the primary and the mirror), 100% mirrored to the healthy mirror
#   s3jc  s3j with the comparison on: the mirror's compare block (percent
#        100, body json, $.ts ignored) and the shipped http-response rules
#        sending the primary's answer (the reference of its ratios is s3j)
#   s3jb  s3jc with body: bytes (the default: xxh3 digests of both bodies,
#        no JSON parsing), the cost of comparing with the defaults
#   ngx, ngx_mirror   nginx in HAProxy's place, alone and with its mirror
#        module copying every request to the same mirror (peer comparison)
# Each runs in two load modes: "sat" (closed loop, CONNECTIONS connections:
# throughput) and "half" (paced at half of s1's "sat" throughput, s1p's
# for POST, s3j's for the JSON workload: latency). Rounds run every
# scenario once (reversed every other round) and each figure is the median
# over rounds. The agent gets one
# catch-all route in a YAML file, its mirror with "max_response_bytes: 65536"
# when the agent accepts that key (asked once with --check-config).
#
# Writes bench/results/<E2E_NAME>-results.json, -results.md, -chart.svg (and
# -profile.txt when it profiles); E2E_NAME is "e2e" unless set (`make bench`
# names each HAProxy version's run: e2e-haproxy2.6, e2e-haproxy3.4).
# Bounded: 10 to 15 minutes by default (runs are no longer repeated after
# RETRY_UNTIL_S), about 3 minutes with QUICK=1. The faulty mirror exits by
# itself after a bound derived from these (FAULTY_MAX_SECONDS).
#
# Environment: QUICK=1, ROUNDS (3; QUICK 1), RUN_SECONDS (5; QUICK 3),
# WARMUP_SECONDS (1), CONNECTIONS (256), LOAD_CPU (0), SUT_CPU (1), QUIET_WAIT
# (30; QUICK 0: seconds to wait for the CPUs to be 80 % idle first),
# BENCH_NICE (-20 as root, 0 disables), PROFILE (1: profile the agent with perf
# in one more s3 run, the default; auto: only when a CPU or throughput target
# is missed, the default with QUICK; 0: never), PROFILE_SCENARIO (s3, or s3c:
# the profiled run mirrors over h2c), PROFILE_RATE (requests/s: the profiled run is
# paced at that rate; 0 or unset: saturation),
# HAPROXY, NGINX, WRK, AGENT_BIN (binaries), E2E_NAME (result file prefix),
# KEEP_WORK=1 (keep the temp dir), STAGGER_MS (500: in half mode, wrk's first
# request on each connection leaves spread over that many ms; 0: all at once),
# ATTEMPTS (3), DISTURBED_PCT (10), RETRY_UNTIL_S (420; QUICK 90): a run
# during which other load took more than DISTURBED_PCT % of the CPUs is run
# again, ATTEMPTS times at most, until RETRY_UNTIL_S seconds into the rounds;
# SCENARIOS_SAT / SCENARIOS_HALF (subsets, for development: s1, s1p and s3j
# must come first in SCENARIOS_SAT whenever SCENARIOS_HALF needs their
# rates; s8 and s9 are judged against s3, s8c and s9c against s3c, s3jc
# against s3j), BASE_AGENT_BIN (another build of the agent: a scenario
# written <id>@base, e.g. s3c@base, runs <id> with it, in the same rounds as
# the others, so that two builds are measured side by side).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
E2E=$ROOT/bench/e2e
RESULTS=$ROOT/bench/results
E2E_NAME=${E2E_NAME:-e2e}
OUT_JSON=$RESULTS/$E2E_NAME-results.json
OUT_MD=$RESULTS/$E2E_NAME-results.md
OUT_SVG=$RESULTS/$E2E_NAME-chart.svg
OUT_PROFILE=$RESULTS/$E2E_NAME-profile.txt

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
    ROUNDS=${ROUNDS:-1} RUN_SECONDS=${RUN_SECONDS:-3} WARMUP_SECONDS=${WARMUP_SECONDS:-1}
else
    ROUNDS=${ROUNDS:-3} RUN_SECONDS=${RUN_SECONDS:-5} WARMUP_SECONDS=${WARMUP_SECONDS:-1}
fi
CONNECTIONS=${CONNECTIONS:-256}
QUIET_WAIT=${QUIET_WAIT:-$([ "$QUICK" = 1 ] && echo 0 || echo 30)}
LOAD_CPU=${LOAD_CPU:-0}
SUT_CPU=${SUT_CPU:-1}
NICE=${BENCH_NICE:--20}
PROFILE=${PROFILE:-$([ "$QUICK" = 1 ] && echo auto || echo 1)}
HAPROXY=${HAPROXY:-haproxy}
NGINX=${NGINX:-nginx}
WRK=${WRK:-wrk}
AGENT_BIN=${AGENT_BIN:-$ROOT/build/spoa-shadow}
DELAY_BIN=$ROOT/build/bench/e2e/delay_server
MIRROR_DELAY_MS=5000
BODY_BYTES=8192
BUFSIZE=32768
MAX_FRAME=$((BUFSIZE - 4))
CHECK_INTER=200ms
ATTEMPTS=${ATTEMPTS:-3}
DISTURBED_PCT=${DISTURBED_PCT:-10}
RETRY_UNTIL_S=${RETRY_UNTIL_S:-$([ "$QUICK" = 1 ] && echo 90 || echo 420)}
SCENARIOS_SAT=${SCENARIOS_SAT-s1 s2 s3 s3c s3c0 s3t s3s s4 s5 s6 s6g s1p s7 s8 s9 s8c s9c s3j s3jc s3jc10 s3jb ngx ngx_mirror}
SCENARIOS_HALF=${SCENARIOS_HALF-s1 s2 s3 s3c s3c0 s3t s3s s4 s5 s6 s6g s1p s7 s8 s9 s8c s9c s3j s3jc s3jc10 s3jb}
if ! [ "$ROUNDS" -ge 1 ] 2>/dev/null || [ "$ROUNDS" -gt 10 ] || ! [ "$RUN_SECONDS" -ge 2 ] 2>/dev/null ||
    [ "$RUN_SECONDS" -gt 60 ]; then
    echo "e2e: ROUNDS must be 1..10 and RUN_SECONDS 2..60" >&2
    exit 2
fi

for b in "$HAPROXY" "$NGINX" "$WRK" gnuplot python3 curl taskset; do
    command -v "$b" >/dev/null 2>&1 || {
        echo "e2e: $b is missing (make deps installs haproxy, nginx-light, wrk, gnuplot-nox)" >&2
        exit 1
    }
done
[ -x "$AGENT_BIN" ] || { echo "e2e: $AGENT_BIN is missing: run make" >&2; exit 1; }
FAULTY=$ROOT/tests/integration/faulty_mirror.py
[ -f "$FAULTY" ] || { echo "e2e: $FAULTY is missing" >&2; exit 1; }

# The slow mirror is built here (the Makefile builds only bench/*.c).
if [ ! -x "$DELAY_BIN" ] || [ "$E2E/delay_server.c" -nt "$DELAY_BIN" ]; then
    mkdir -p "$(dirname "$DELAY_BIN")"
    ${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o "$DELAY_BIN" "$E2E/delay_server.c" || exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/spoa-e2e.XXXXXX")
# shellcheck source=tests/integration/lib.sh
. "$ROOT/tests/integration/lib.sh"
# shellcheck source=bench/e2e/lib.sh
. "$E2E/lib.sh"
# shellcheck source=bench/e2e/profile.sh
. "$E2E/profile.sh"

bench_on_exit e2e

PIN_SUT="" PIN_LOAD=""
if [ "$(nproc)" -ge 2 ]; then
    PIN_SUT="taskset -c $SUT_CPU" PIN_LOAD="taskset -c $LOAD_CPU"
else
    echo "e2e: fewer than 2 CPUs: running unpinned" >&2
fi
# The faulty mirror (s8, s9) runs on the load CPU at the normal priority,
# below wrk's: its flood of bytes (one Python thread per connection sending
# at full speed) must not take the load generator's CPU, as a remote service
# spends its own. nginx and the delay server are light and keep -20.
PIN_FAULTY=$PIN_LOAD
if [ "$(id -u)" = 0 ] && [ "$NICE" != 0 ]; then
    PIN_SUT="nice -n $NICE $PIN_SUT" PIN_LOAD="nice -n $NICE $PIN_LOAD"
fi

# pin_load_cpu PID: moves a helper (sampler, killer) to the load CPU, so
# that it does not take CPU time from the system under test.
pin_load_cpu() {
    [ -n "$PIN_LOAD" ] && taskset -pc "$LOAD_CPU" "$1" >/dev/null 2>&1
    return 0
}

# idle_pct: idle share of all CPUs over one second.
idle_pct() {
    local a b
    a=$(awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
    sleep 1
    b=$(awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
    echo "$a $b" | awk '{ d = $4 - $2; printf "%.0f", (d > 0 ? 100 * ($3 - $1) / d : 100) }'
}

# Other load on the machine disturbs every figure: wait up to QUIET_WAIT
# seconds for the CPUs to be at least 80 % idle, then go on regardless.
IDLE_BEFORE=$(idle_pct)
waited=0
while [ "$IDLE_BEFORE" -lt 80 ] && [ "$waited" -lt "$QUIET_WAIT" ]; do
    [ "$waited" = 0 ] && echo "e2e: CPUs only $IDLE_BEFORE% idle: waiting up to $QUIET_WAIT s for quiet" >&2
    sleep 4
    waited=$((waited + 5))
    IDLE_BEFORE=$(idle_pct)
done
[ "$IDLE_BEFORE" -lt 90 ] && echo "e2e: warning: CPUs only $IDLE_BEFORE% idle before the run" >&2

# ---------------------------------------------------------------- backends

read -r HTTP_PORT PRIMARY_PORT MIRROR_PORT DELAY_PORT AGENT_PORT ADMIN_PORT PEER_PORT HUGE_PORT RESET_PORT \
    H2_STATUS_PORT H2C_PORT H2S_PORT H1S_PORT H2HUGE_PORT H2RESET_PORT <<<"$(free_ports 15)"
[ -n "$H2RESET_PORT" ] || { echo "e2e: no free ports" >&2; exit 1; }
# The closed port: below 1024, out of the range other tests pick from.
CLOSED_PORT=9
port_open "$CLOSED_PORT" && { echo "e2e: 127.0.0.1:$CLOSED_PORT is open" >&2; exit 1; }

# The primary shares the system-under-test CPU with HAProxy and the agent.
# The mirrors stand for remote services: they run on the load CPU so that
# their work is not billed to the primary path.
# The answer of /json: about 1 KB of JSON, its "ts" the time of the answer
# ($msec is nginx's variable, not the shell's).
# shellcheck disable=SC2016
JSON_BODY='{"ts":$msec,"items":['
for i in $(seq 0 28); do
    JSON_BODY="$JSON_BODY$([ "$i" = 0 ] || echo ,){\"id\":$i,\"name\":\"item-$i\",\"ok\":true}"
done
JSON_BODY="$JSON_BODY]}"
render "$E2E/nginx-backend.conf.in" "$WORK/primary.conf" WORK="$WORK" NAME=primary PORT="$PRIMARY_PORT" \
    JSON_BODY="$JSON_BODY"
render "$E2E/nginx-backend.conf.in" "$WORK/mirror.conf" WORK="$WORK" NAME=mirror PORT="$MIRROR_PORT" \
    JSON_BODY="$JSON_BODY"
start_nginx primary "$WORK/primary.conf" "$PIN_SUT"
PRIMARY_PID=$NGINX_PID
start_nginx mirror "$WORK/mirror.conf" "$PIN_LOAD"
MIRROR_PID=$NGINX_PID
# The HTTP/2 mirror (s3c, s3t): the same answer over h2c and over TLS; and
# over HTTP/1.1 and TLS (s3s).
mkdir -p "$WORK/pki"
bash "$ROOT/tests/integration/tls/pki.sh" "$WORK/pki" || { echo "e2e: certificates not made" >&2; exit 1; }
render "$E2E/nginx-h2.conf.in" "$WORK/mirror-h2.conf" WORK="$WORK" NAME=mirror-h2 PORT="$H2_STATUS_PORT" \
    H2C_PORT="$H2C_PORT" H2S_PORT="$H2S_PORT" H1S_PORT="$H1S_PORT" PKI="$WORK/pki"
start_nginx mirror-h2 "$WORK/mirror-h2.conf" "$PIN_LOAD"
H2_MIRROR_PID=$NGINX_PID
start_delay_server "$DELAY_PORT" "$MIRROR_DELAY_MS"
# The misbehaving mirrors of s8, s9, s8c and s9c, one process each for the whole run. Their
# lifetime is bounded by more than the rounds and the profile can take
# (every run at most about RUN_SECONDS + WARMUP_SECONDS + 30 s, the repeats
# within RETRY_UNTIL_S), so that they cannot outlive an interrupted benchmark
# by long; they are stopped by PID after the rounds.
n_runs=$(echo "$SCENARIOS_SAT $SCENARIOS_HALF" | wc -w)
FAULTY_MAX_SECONDS=$((RETRY_UNTIL_S + ROUNDS * n_runs * (RUN_SECONDS + WARMUP_SECONDS + 30) + 300))
start_faulty_mirrors "$FAULTY_MAX_SECONDS" "$HUGE_PORT" "$RESET_PORT" "$H2HUGE_PORT" "$H2RESET_PORT" ||
    { echo "e2e: the faulty mirrors did not start (see $WORK/faulty.log, $WORK/faulty-h2.log)" >&2; exit 1; }
for p in "$PRIMARY_PORT" "$MIRROR_PORT" "$DELAY_PORT" "$H2_STATUS_PORT" "$H2C_PORT" "$H2S_PORT" "$H1S_PORT"; do
    wait_until 5 port_open "$p" || { echo "e2e: a backend did not start (see $WORK)" >&2; exit 1; }
done
# The mirror keys the agent accepts, asked once (max_response_bytes: the
# agent gives up reading an answer beyond that size).
agent_mirror_keys || { echo "e2e: the agent rejects its configuration (see $WORK/check-config.out)" >&2; exit 1; }
[ -n "$AGENT_MIRROR_KEYS" ] ||
    echo "e2e: the agent does not accept max_response_bytes: its mirror reads answers whole" >&2

HAPROXY_COMMON=(WORK="$WORK" HTTP_PORT="$HTTP_PORT" PRIMARY_PORT="$PRIMARY_PORT" AGENT_PORT="$AGENT_PORT"
    CHECK_INTER="$CHECK_INTER" BUFSIZE="$BUFSIZE" MAX_FRAME="$MAX_FRAME")
render "$E2E/haproxy.cfg.in" "$WORK/haproxy.tpl" "${HAPROXY_COMMON[@]}" SPOE_CONF="$WORK/mirror.spoe.conf"
grep -v '^#SPOE ' "$WORK/haproxy.tpl" >"$WORK/haproxy-ref.cfg"
sed 's/^#SPOE //' "$WORK/haproxy.tpl" >"$WORK/haproxy-spoe.cfg"
render "$E2E/haproxy.cfg.in" "$WORK/haproxy.tpl" "${HAPROXY_COMMON[@]}" SPOE_CONF="$WORK/mirror-guarded.spoe.conf"
sed 's/^#SPOE //' "$WORK/haproxy.tpl" >"$WORK/haproxy-spoe-guarded.cfg"
# The compare scenario's: the shipped SPOE file and the shipped http-response
# rules of the comparison, in the frontend.
COMPARE_RULES=$(grep -E '^[[:space:]]*http-response (wait-for-body|send-spoe-group)' "$ROOT/haproxy-conf/haproxy.cfg")
[ "$(wc -l <<<"$COMPARE_RULES")" = 2 ] ||
    { echo "e2e: the shipped haproxy.cfg's compare rules changed: cannot build s3jc's configuration" >&2; exit 1; }
render "$E2E/haproxy.cfg.in" "$WORK/haproxy.tpl" "${HAPROXY_COMMON[@]}" SPOE_CONF="$WORK/mirror.spoe.conf"
sed 's/^#SPOE //' "$WORK/haproxy.tpl" |
    awk -v rules="$COMPARE_RULES" '/^#CMP rules$/ { print rules; next } { print }' >"$WORK/haproxy-spoe-compare.cfg"
# The shipped SPOE configuration, without its log line (nothing is logged);
# and the variant of s6g, whose event fires only while HAProxy sees an agent
# UP (so a dead agent costs nothing once it is marked DOWN).
sed '/^[[:space:]]*log global/d' "$ROOT/haproxy-conf/mirror.spoe.conf" >"$WORK/mirror.spoe.conf"
sed 's/^\([[:space:]]*event on-frontend-http-request\)$/\1 if { nbsrv(spoa-shadow-agents) gt 0 }/' \
    "$WORK/mirror.spoe.conf" >"$WORK/mirror-guarded.spoe.conf"
grep -q 'nbsrv(spoa-shadow-agents)' "$WORK/mirror-guarded.spoe.conf" ||
    { echo "e2e: the shipped SPOE event line changed: cannot derive the s6g variant" >&2; exit 1; }
for c in ref spoe spoe-guarded spoe-compare; do
    "$HAPROXY" -c -q -f "$WORK/haproxy-$c.cfg" || { echo "e2e: bad HAProxy configuration" >&2; exit 1; }
done
render "$E2E/nginx-peer.conf.in" "$WORK/peer.tpl" WORK="$WORK" NAME=peer PORT="$PEER_PORT" \
    PRIMARY_PORT="$PRIMARY_PORT" MIRROR_PORT="$MIRROR_PORT"
grep -v '^#MIRROR ' "$WORK/peer.tpl" >"$WORK/peer-alone.conf"
sed 's/^#MIRROR //' "$WORK/peer.tpl" >"$WORK/peer-mirror.conf"

# ---------------------------------------------------------------- scenarios

# scenario_spec ID: sets S_PROXY (haproxy|nginx), S_SPOE (0|1), S_PERCENT,
# S_MIRROR (nginx|delay|closed|huge|reset|h2c|h2tls|h1tls|h2huge|h2reset|none), S_KILL (0|1), S_WORKLOAD
# (get|post|json), S_REF (the reference scenario of its ratios), S_HCFG
# (HAProxy configuration: ref, spoe, spoe-guarded or spoe-compare),
# S_COMPARE (the mirror's compare block, or nothing), S_MIRROR_MORE (more
# mirror keys, or nothing), S_PEER_CONF, S_AGENT_BIN (the agent binary:
# BASE_AGENT_BIN for <id>@base, else empty for AGENT_BIN).
scenario_spec() {
    local id=$1
    S_PROXY=haproxy S_SPOE=1 S_PERCENT=100 S_MIRROR=nginx S_KILL=0 S_WORKLOAD=get S_REF=s1 S_PEER_CONF=""
    S_HCFG=spoe S_COMPARE="" S_MIRROR_MORE="" S_AGENT_BIN=""
    case $id in
    *@base)
        [ -x "${BASE_AGENT_BIN:-}" ] || return 1
        S_AGENT_BIN=$BASE_AGENT_BIN id=${id%@base}
        ;;
    esac
    case $id in
    s1) S_SPOE=0 S_MIRROR=none S_HCFG=ref ;;
    s2) S_PERCENT=0 ;;
    s3) ;;
    s3c) S_MIRROR=h2c ;;
    s3c0) S_MIRROR=h2c S_MIRROR_MORE="request_write_delay_ms: 0" ;;
    s3t) S_MIRROR=h2tls ;;
    s3s) S_MIRROR=h1tls ;;
    s4) S_MIRROR=delay ;;
    s5) S_MIRROR=closed ;;
    s6) S_KILL=1 ;;
    s6g) S_KILL=1 S_HCFG=spoe-guarded ;;
    s1p) S_SPOE=0 S_MIRROR=none S_WORKLOAD=post S_REF=s1p S_HCFG=ref ;;
    s7) S_WORKLOAD=post S_REF=s1p ;;
    s8) S_MIRROR=huge ;;
    s9) S_MIRROR=reset ;;
    s8c) S_MIRROR=h2huge ;;
    s9c) S_MIRROR=h2reset ;;
    s3j) S_WORKLOAD=json S_REF=s3j ;;
    s3jc) S_WORKLOAD=json S_REF=s3j S_HCFG=spoe-compare
        S_COMPARE=$(printf 'compare:\n  percent: 100\n  body: json\n  ignore_json_paths: ["$.ts"]') ;;
    s3jc10) S_WORKLOAD=json S_REF=s3j S_HCFG=spoe-compare
        S_COMPARE=$(printf 'compare:\n  percent: 10\n  body: json\n  ignore_json_paths: ["$.ts"]') ;;
    s3jb) S_WORKLOAD=json S_REF=s3j S_HCFG=spoe-compare S_COMPARE=$(printf 'compare:\n  percent: 100\n  body: bytes') ;;
    ngx) S_PROXY=nginx S_SPOE=0 S_MIRROR=none S_REF=ngx S_PEER_CONF=$WORK/peer-alone.conf ;;
    ngx_mirror) S_PROXY=nginx S_SPOE=0 S_REF=ngx S_PEER_CONF=$WORK/peer-mirror.conf ;;
    *) return 1 ;;
    esac
}

for id in $SCENARIOS_SAT $SCENARIOS_HALF; do
    scenario_spec "$id" ||
        { echo "e2e: unknown scenario $id (<id>@base needs BASE_AGENT_BIN, an executable)" >&2; exit 1; }
done

# run_scenario ID MODE ROUND RATE: one measured run; its raw data goes to
# $WORK/runs/<round>-<mode>-<id>/ (meta.env, wrk.out, metrics.*, ...).
run_scenario() {
    local id=$1 mode=$2 round=$3 rate=$4 d url_port mirror_url mirror_keys=""
    d="$WORK/runs/$round-$mode-$id"
    mkdir -p "$d"
    scenario_spec "$id"
    RUN_AGENT_PID="" RUN_PROXY_PID="" RUN_PROXY_KIND=$S_PROXY RUN_ADMIN_PORT=$ADMIN_PORT
    RUN_MIRROR_KIND=$S_MIRROR RUN_MIRROR_PORT=$MIRROR_PORT
    case $S_MIRROR in
    delay) RUN_MIRROR_PORT=$DELAY_PORT ;;
    closed) RUN_MIRROR_PORT=$CLOSED_PORT ;;
    huge) RUN_MIRROR_PORT=$HUGE_PORT ;;
    reset) RUN_MIRROR_PORT=$RESET_PORT ;;
    h2huge) RUN_MIRROR_PORT=$H2HUGE_PORT ;;
    h2reset) RUN_MIRROR_PORT=$H2RESET_PORT ;;
    h2c | h2tls | h1tls) RUN_MIRROR_PORT=$H2_STATUS_PORT ;; # where its requests are counted
    esac
    mirror_url="http://127.0.0.1:$RUN_MIRROR_PORT"
    case $S_MIRROR in
    h2c)
        mirror_url="http://127.0.0.1:$H2C_PORT" mirror_keys="protocol: h2c"
        ;;
    h2huge | h2reset) mirror_keys="protocol: h2c" ;;
    h2tls)
        mirror_url="https://localhost:$H2S_PORT"
        mirror_keys=$(printf 'protocol: h2\ntls: { ca_file: "%s" }' "$WORK/pki/ca.pem")
        ;;
    h1tls)
        mirror_url="https://localhost:$H1S_PORT"
        mirror_keys=$(printf 'tls: { ca_file: "%s" }' "$WORK/pki/ca.pem")
        ;;
    esac
    cat >"$d/meta.env" <<EOF
scenario=$id
mode=$mode
round=$round
rate=$rate
seconds=$RUN_SECONDS
connections=$CONNECTIONS
percent=$S_PERCENT
mirror=$S_MIRROR
workload=$S_WORKLOAD
ref=$S_REF
proxy=$S_PROXY
spoe=$S_SPOE
kill=$S_KILL
compare=$([ -n "$S_COMPARE" ] && echo 1 || echo 0)
EOF
    local log_lines
    log_lines=$( (wc -l <"$WORK/agent.log") 2>/dev/null || echo 0)
    if [ "$S_PROXY" = haproxy ]; then
        if [ "$S_SPOE" = 1 ]; then
            start_bench_agent "$AGENT_PORT" "$ADMIN_PORT" "$mirror_url" "$S_PERCENT" "$MAX_FRAME" "$(printf '%s\n%s\n%s' "$mirror_keys" "$S_MIRROR_MORE" "$S_COMPARE")" || {
                echo "e2e: the agent did not start (see $WORK/agent.log)" >&2
                return 1
            }
            RUN_AGENT_PID=$AGENT_PID
            start_bench_haproxy "$WORK/haproxy-$S_HCFG.cfg" || return 1
            wait_until 5 agent_checked || { echo "e2e: HAProxy never saw the agent UP" >&2; return 1; }
        else
            start_bench_haproxy "$WORK/haproxy-$S_HCFG.cfg" || return 1
        fi
        RUN_PROXY_PID=$HAPROXY_PID
        url_port=$HTTP_PORT
    else
        start_nginx peer "$S_PEER_CONF" "$PIN_SUT"
        RUN_PROXY_PID=$NGINX_PID
        wait_until 5 port_open "$PEER_PORT" || { echo "e2e: the nginx peer did not start" >&2; return 1; }
        url_port=$PEER_PORT
    fi
    echo "proxy_pid=$RUN_PROXY_PID" >>"$d/meta.env"

    run_wrk "$d/warmup.out" "$url_port" "$WARMUP_SECONDS" "$mode" "$S_WORKLOAD" "$rate"
    if [ -n "$RUN_AGENT_PID" ]; then
        wait_until 5 agent_idle "$ADMIN_PORT"
    elif [ "$S_MIRROR" != none ]; then
        sleep 0.3 # the nginx peer's last mirror subrequests land before "before"
    fi
    if [ -n "$RUN_AGENT_PID" ] && case $S_MIRROR in huge | reset | h2huge | h2reset) true ;; *) false ;; esac; then
        # When the warm-up against a misbehaving mirror opened the agent's
        # circuit breaker, the run would measure only its rest (copies
        # dropped at once) and not the mirror: start it when the rest is over.
        local rest
        rest=$(circuit_rest_left_ms "$log_lines")
        echo "circuit_wait_ms=$rest" >>"$d/meta.env"
        [ "$rest" -gt 0 ] && sleep "$(awk -v ms="$rest" 'BEGIN { printf "%.3f", ms / 1000 + 0.05 }')"
    fi
    snapshot "$d" before

    local sampler="" killer=""
    if [ -n "$RUN_AGENT_PID" ]; then
        rss_sampler "$RUN_AGENT_PID" "$d/rss.samples" 0.25 $((RUN_SECONDS * 4 + 4)) &
        pin_load_cpu "$!"
        sampler=$!
        track "$sampler"
    fi
    if [ "$S_KILL" = 1 ]; then
        disown "$RUN_AGENT_PID" 2>/dev/null # no "Killed" job notice; stop_pid still reaps it
        (
            sleep "$(awk -v s="$RUN_SECONDS" 'BEGIN { print s / 2 }')"
            snapshot_agent "$d" kill
            kill -KILL "$RUN_AGENT_PID" 2>/dev/null
            echo "killed_ms=$(date +%s%3N)" >>"$d/meta.env"
            # When HAProxy's health check marks the agent DOWN (bounded poll).
            if wait_until "$RUN_SECONDS" server_is "$WORK/haproxy.sock" spoa-shadow-agents agent1 DOWN; then
                echo "down_ms=$(date +%s%3N)" >>"$d/meta.env"
            fi
        ) &
        killer=$!
        pin_load_cpu "$killer"
        track "$killer"
    fi
    run_wrk "$d/wrk.out" "$url_port" "$RUN_SECONDS" "$mode" "$S_WORKLOAD" "$rate"
    [ -n "$killer" ] && wait "$killer"
    if [ -n "$RUN_AGENT_PID" ] && kill -0 "$RUN_AGENT_PID" 2>/dev/null; then
        wait_until 5 agent_idle "$ADMIN_PORT" || echo "e2e: $id: the agent did not drain in 5 s" >&2
    else
        sleep 0.3 # copies already sent reach the mirror
    fi
    snapshot "$d" after
    if [ -n "$sampler" ]; then
        touch "$d/rss.samples.stop"
        wait "$sampler"
    fi
    [ "$S_KILL" = 1 ] && grep '^E2E ' "$WORK/haproxy.log" >"$d/haproxy-errors.log"
    [ "$S_PROXY" = haproxy ] && grep -c '^E2E ' "$WORK/haproxy.log" | sed 's/^/logged_errors=/' >>"$d/meta.env"
    stop_pid "$RUN_PROXY_PID"
    [ -n "$RUN_AGENT_PID" ] && stop_pid "$RUN_AGENT_PID"
    echo "e2e: round $round $mode $id: $(sed -n 's/^Requests\/sec: *//p' "$d/wrk.out") req/s" >&2
    return 0
}

# ---------------------------------------------------------------- rounds

# measure ID MODE ROUND RATE: run_scenario, run once more (at most
# ATTEMPTS times in all) while other load on the machine took more than
# DISTURBED_PCT % of its CPU time during the run and the retry budget
# (RETRY_UNTIL_S seconds into the rounds) is not spent. The discarded runs
# move to $WORK/discarded/ and are listed in the results.
measure() {
    local d="$WORK/runs/$3-$2-$1" n=1 foreign
    while :; do
        run_scenario "$@" || return 1
        foreign=$(python3 "$E2E/summarize.py" --foreign "$d" "$TICK")
        if [ "$n" -ge "$ATTEMPTS" ] || [ $(($(date +%s) - T_START)) -ge "$RETRY_UNTIL_S" ] ||
            awk -v f="$foreign" -v l="$DISTURBED_PCT" 'BEGIN { exit !(f <= l) }'; then
            return 0
        fi
        echo "e2e: round $3 $2 $1: other load took $foreign% of the CPUs: once more" >&2
        mkdir -p "$WORK/discarded"
        mv "$d" "$WORK/discarded/$3-$2-$1.$n"
        n=$((n + 1))
    done
}

T_START=$(date +%s)
mkdir -p "$WORK/runs" "$RESULTS"
rm -f "$OUT_PROFILE" # written again only when this run profiles
HALF_GET="" HALF_POST="" HALF_JSON=""
reverse() { printf '%s\n' "$@" | tac | tr '\n' ' '; }

for round in $(seq 1 "$ROUNDS"); do
    sat=$SCENARIOS_SAT half=$SCENARIOS_HALF
    if [ $((round % 2)) = 0 ]; then
        # shellcheck disable=SC2086
        sat=$(reverse $SCENARIOS_SAT) half=$(reverse $SCENARIOS_HALF)
    fi
    for id in $sat; do
        measure "$id" sat "$round" 0 || exit 1
    done
    # The half-load rates come from the first round's references and stay
    # fixed, so every round offers the same load.
    if [ -z "$HALF_GET" ]; then
        rps() {
            sed -n 's/^Requests\/sec: *//p' "$WORK/runs/1-sat-$1/wrk.out" 2>/dev/null |
                awk '{ r = $1 / 2 } END { printf "%d", r }'
        }
        HALF_GET=$(rps s1) HALF_POST=$(rps s1p)
        # The JSON workload's from s3j, mirroring without comparison: the
        # load that both s3j and s3jc are offered must be one s3j sustains.
        HALF_JSON=$(rps s3j)
    fi
    for id in $half; do
        scenario_spec "$id"
        r=$HALF_GET
        [ "$S_WORKLOAD" = post ] && r=$HALF_POST
        [ "$S_WORKLOAD" = json ] && r=$HALF_JSON
        [ "${r:-0}" -gt 0 ] || { echo "e2e: no half-load rate for $id (run s1/s1p/s3j in sat first)" >&2; exit 1; }
        measure "$id" half "$round" "$r" || exit 1
    done
done
T_END=$(date +%s)
# Its totals ("<fault> connections=N requests=N bytes_out=N") go to its log.
stop_pid "$FAULTY_PID"
stop_pid "$FAULTY_H2_PID"
faulty_json=$(awk '$2 ~ /^connections=/ {
        split($2, c, "="); split($3, r, "="); split($4, b, "=")
        printf "%s\"%s\": {\"connections\": %d, \"requests\": %d, \"bytes_out\": %.0f}", sep, $1, c[2], r[2], b[2]
        sep = ", " }' "$WORK/faulty.log")
# "<fault> connections=N streams=N resets_received=N bytes_out=N"
faulty_h2_json=$(awk '$2 ~ /^connections=/ {
        split($2, c, "="); split($3, r, "="); split($4, x, "="); split($5, b, "=")
        printf "%s\"%s\": {\"connections\": %d, \"streams\": %d, \"resets_received\": %d, \"bytes_out\": %.0f}", sep, $1, c[2], r[2], x[2], b[2]
        sep = ", " }' "$WORK/faulty-h2.log")

# ---------------------------------------------------------------- report

cat >"$WORK/env.json" <<EOF
{"date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "quick": $([ "$QUICK" = 1 ] && echo true || echo false),
 "rounds": $ROUNDS, "run_seconds": $RUN_SECONDS, "warmup_seconds": $WARMUP_SECONDS,
 "stagger_ms": ${STAGGER_MS:-500},
 "connections": $CONNECTIONS, "wrk_threads": 1, "half_rate_get": ${HALF_GET:-0}, "half_rate_post": ${HALF_POST:-0},
 "half_rate_json": ${HALF_JSON:-0},
 "load_cpu": "$LOAD_CPU", "sut_cpu": "$SUT_CPU", "nice": $NICE, "idle_pct_before": $IDLE_BEFORE,
 "wall_seconds": $((T_END - T_START)), "clk_tck": $TICK,
 "cpus": $(nproc), "cpu_model": "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)",
 "kernel": "$(uname -r)", "haproxy": "$("$HAPROXY" -v | awk 'NR == 1 { print $3 }')",
 "nginx": "$("$NGINX" -v 2>&1 | sed 's/.*nginx\///')", "wrk": "$("$WRK" -v 2>&1 | awk 'NR == 1 { print $2 }')",
 "agent": "$("$AGENT_BIN" --version 2>&1 | head -1)",
 "base_agent": "$([ -x "${BASE_AGENT_BIN:-}" ] && "$BASE_AGENT_BIN" --version 2>&1 | head -1)",
 "attempts": $ATTEMPTS, "disturbed_pct": $DISTURBED_PCT, "retry_until_s": $RETRY_UNTIL_S,
 "mirror_delay_ms": $MIRROR_DELAY_MS, "body_bytes": $BODY_BYTES, "tune_bufsize": $BUFSIZE,
 "agent_max_frame_size": $MAX_FRAME, "check_inter": "$CHECK_INTER", "closed_port": $CLOSED_PORT,
 "agent_mirror_keys": "$AGENT_MIRROR_KEYS", "faulty_max_seconds": $FAULTY_MAX_SECONDS,
 "faulty_mirror": {$faulty_json}, "faulty_h2_mirror": {$faulty_h2_json}}
EOF
python3 "$E2E/summarize.py" "$WORK/env.json" "$WORK/runs" "$WORK/discarded" >"$OUT_JSON" || exit 1

if [ "$PROFILE" = 1 ] || { [ "$PROFILE" = auto ] && python3 "$E2E/summarize.py" --cpu-missed "$OUT_JSON"; }; then
    if [ "${PROFILE_SCENARIO:-s3}" = s3c ]; then
        profile_agent "$OUT_PROFILE" "http://127.0.0.1:$H2C_PORT" "protocol: h2c" || echo "e2e: profiling failed" >&2
    else
        profile_agent "$OUT_PROFILE" || echo "e2e: profiling failed" >&2
    fi
fi
python3 "$E2E/report_md.py" "$OUT_JSON" "$OUT_PROFILE" >"$OUT_MD" || exit 1
if python3 "$E2E/chart_data.py" "$OUT_JSON" sat | grep . >/dev/null &&
    python3 "$E2E/chart_data.py" "$OUT_JSON" half | grep . >/dev/null; then
    gnuplot -e "data='$OUT_JSON'" -e "out='$OUT_SVG'" \
        -e "helper='$E2E/chart_data.py'" "$E2E/chart.gp" || exit 1
else
    echo "e2e: no chart: both load modes are needed" >&2
fi
cat "$OUT_MD"
echo "e2e: wrote $OUT_JSON, $OUT_MD and $OUT_SVG in $(($(date +%s) - T_START)) s" >&2
