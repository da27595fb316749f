#!/usr/bin/env bash
# End-to-end mirroring test, after the service-mesh "Mirroring" task (httpbin
# v1 and v1-mirroring, 50% of the traffic mirrored), with real parts on
# loopback: HAProxy (the shipped SPOE setup) fronts httpbin "v1"; the
# spoa-shadow agent copies requests to httpbin "v1-mirroring". Both httpbins
# run recording_app.py, so each one's view of every request is on file.
#
# Checks, each printed as "ok - ..." / "not ok - ...", then "N passed, M
# failed"; exit status non-zero on any failure:
#   a. 1000 requests (GET and POST) to Host httpbin:8000: all 200 from v1,
#      each recorded once at v1 exactly as sent;
#   b. the copies of route "httpbin" (50%) lie within binomial bounds and
#      are exactly the requests answered X-Mirrored: 1;
#   c. every copy: Host httpbin-shadow:8000, the original's method, path,
#      query and body, no hop-by-hop header;
#   d. route "full" (100%) copies all 200 requests, route "none" (0%) none;
#   e. with v1-mirroring killed, clients see no error and no added latency;
#   f. the agent exits 0 on SIGTERM.
#
# Run from anywhere: `make && bash tests/integration/test_mirroring.sh`.
# Environment: HAPROXY (default haproxy), AGENT_BIN (default
# build/spoa-shadow), KEEP_WORK=1 keeps the temp dir even on success.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/tests/integration"
TPL="$HERE/mirroring"
AGENT_BIN=${AGENT_BIN:-$ROOT/build/spoa-shadow}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spoa-mirroring.XXXXXX")
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"
# No __pycache__ in the source tree from gunicorn importing recording_app.
export PYTHONDONTWRITEBYTECODE=1

# The gunicorn workers, killed by kill_workers (lib.sh) after stop_all.
WORKER_PIDS=""

# verify ARGS...: runs mirroring/verify.py and counts its ok / not ok lines.
verify() {
    run_checks "$PY" "$TPL/verify.py" "$@"
}

REPORT_CLEANUP=kill_workers
report_start agent.log haproxy.log '*.err'

# run_load NAME HOST COUNT PARALLEL [ARGS...]: COUNT requests with Host HOST
# through HAProxy, ids NAME-<i>; results in WORK/NAME.res.
run_load() {
    local name=$1 host=$2 count=$3 par=$4 t
    shift 4
    t=$(now_ms)
    "$PY" "$TPL/load_client.py" --port "$HTTP_PORT" --host "$host" --prefix "$name" --count "$count" \
        --parallel "$par" --deadline 30 --out "$WORK/$name.res" "$@" 2>"$WORK/$name.client.err"
    note "$name: $count requests, Host $host, $par in parallel: $(($(now_ms) - t)) ms"
}

# count_ids FILE PREFIX: lines of FILE whose x-test-id starts with PREFIX-.
count_ids() {
    grep -c "\"id\":\"$2-" "$1" 2>/dev/null || true
}

# wait_copies NAME SECONDS: waits until the mirror holds as many copies of
# run NAME as its answers with X-Mirrored: 1, then a little longer so that
# any extra copy would land too. Copies go out after the ACK, hence the wait.
wait_copies() {
    local want t
    want=$(grep -c '"mirrored":"1"' "$WORK/$1.res")
    t=$(now_ms)
    enough() { [ "$(count_ids "$WORK/mirror.jsonl" "$1")" -ge "$2" ]; }
    wait_until "$2" enough "$1" "$want"
    sleep 0.3
    note "$1: $(count_ids "$WORK/mirror.jsonl" "$1") copies at the mirror ($want expected) after $(($(now_ms) - t)) ms"
}

# ---------------------------------------------------------------- setup

require "$AGENT_BIN" "$HAPROXY" "$GUNICORN" py:httpbin
note "$("$HAPROXY" -v | head -n 1)"

# ADMIN_PORT is read by render_template (lib.sh) for agent.yaml.in.
# shellcheck disable=SC2034
read -r HTTP_PORT V1_PORT MIRROR_PORT AGENT_PORT ADMIN_PORT <<EOF
$(free_ports 5)
EOF
note "ports: haproxy=$HTTP_PORT v1=$V1_PORT v1-mirroring=$MIRROR_PORT agent=$AGENT_PORT"

# HAProxy: the template plus lines of the shipped haproxy.cfg, and the
# shipped SPOE file with "timeout processing" raised from 100 ms to 500 ms
# (the checks below require an answer to every request).
if ! render_haproxy_config "$TPL/haproxy.cfg.in" || ! render_template "$TPL/agent.yaml.in" "$WORK/agent.yaml"; then
    not_ok "configuration rendered from the templates"
    exit 1
fi
check "haproxy -c accepts the rendered configuration" "$HAPROXY" -c -q -f "$WORK/haproxy.cfg"
if "$AGENT_BIN" -c "$WORK/agent.yaml" --check-config >"$WORK/check-config.out" 2>&1; then
    ok "spoa-shadow --check-config accepts the rendered agent configuration"
else
    not_ok "spoa-shadow --check-config accepts the rendered agent configuration"
    sed 's/^/#   /' "$WORK/check-config.out"
fi

T=$(now_ms)
start_recorder v1 "$V1_PORT"
V1_PID=$RECORDER_PID
start_recorder mirror "$MIRROR_PORT"
MIRROR_PID=$RECORDER_PID
start_agent "$AGENT_PORT" "$WORK/agent.log" -c "$WORK/agent.yaml" || { not_ok "agent started"; exit 1; }
wait_until 5 grep -q 'event=start ' "$WORK/agent.log" || { not_ok "agent started (see $WORK/agent.log)"; exit 1; }
start_haproxy "$WORK/haproxy.cfg" "$WORK/haproxy.log"
wait_until 5 port_open "$HTTP_PORT" || { not_ok "haproxy started (see $WORK/haproxy.log)"; exit 1; }
if ! wait_until 15 port_open "$V1_PORT" || ! wait_until 15 port_open "$MIRROR_PORT"; then
    not_ok "both httpbins started"
    exit 1
fi
four_workers() { [ "$(workers_of "$1" | wc -w)" -eq 4 ]; }
if ! wait_until 10 four_workers "$V1_PID" || ! wait_until 10 four_workers "$MIRROR_PID"; then
    not_ok "gunicorn workers started"
    exit 1
fi
MIRROR_WORKERS=$(workers_of "$MIRROR_PID")
WORKER_PIDS="$(workers_of "$V1_PID") $MIRROR_WORKERS"
check "HAProxy marks the agent UP (spop-check)" \
    wait_until 5 server_is "$WORK/haproxy.sock" "$AGENTS_BACKEND" agent1 UP
note "startup: $(($(now_ms) - T)) ms"

# ---------------------------------------------------------------- a, b, c
# The tutorial's traffic: half GET /headers?n=<i>, half POST /anything?n=<i>
# with a JSON body unique to the request, with the hop-by-hop headers a
# client may send (Connection: keep-alive, Keep-Alive: timeout=5, TE:
# trailers, and X-Hop-Token, named by Connection). v1 must receive them
# (HAProxy forwards all but the keep-alive token); the copies must not.
N=1000
run_load a httpbin:8000 "$N" 8 --hop-headers
verify primary --results "$WORK/a.res" --records "$WORK/v1.jsonl" --host httpbin:8000 --expect "$N"
wait_copies a 10
# 4.5 sigma on each side: a correct agent fails this check with probability
# 2 * P(Z > 4.5) ~ 7e-6 (normal approximation of Binomial(1000, 0.5):
# mean 500, sigma 15.8, bounds [429, 571]).
verify mirror --results "$WORK/a.res" --primary "$WORK/v1.jsonl" --records "$WORK/mirror.jsonl" \
    --host httpbin-shadow:8000 --percent 50 --sigmas 4.5 --marker x-shadow --hop-headers

# ---------------------------------------------------------------- d
# authority: shadow appends "-shadow" to the whole host name (before any
# port), so the copies of Host full.test carry Host full.test-shadow.
run_load none none.test 200 8
run_load full full.test 200 8
wait_copies full 5
verify primary --results "$WORK/none.res" --records "$WORK/v1.jsonl" --host none.test --expect 200
verify mirror --results "$WORK/none.res" --primary "$WORK/v1.jsonl" --records "$WORK/mirror.jsonl" \
    --host none.test-shadow --percent 0
verify primary --results "$WORK/full.res" --records "$WORK/v1.jsonl" --host full.test --expect 200
verify mirror --results "$WORK/full.res" --primary "$WORK/v1.jsonl" --records "$WORK/mirror.jsonl" \
    --host full.test-shadow --percent 100

# ---------------------------------------------------------------- e
# Route "full" copies every request, so with v1-mirroring gone every request
# of the second run makes the agent try the dead mirror. One request at a
# time: the latencies are then the service times, not queueing in httpbin.
run_load base full.test 300 1
wait_copies base 5
verify mirror --results "$WORK/base.res" --primary "$WORK/v1.jsonl" --records "$WORK/mirror.jsonl" \
    --host full.test-shadow --percent 100
stop_pid "$MIRROR_PID" 5
gone() {
    local p
    ! port_open "$MIRROR_PORT" || return 1
    for p in $MIRROR_WORKERS; do kill -0 "$p" 2>/dev/null && return 1; done
    return 0
}
check "v1-mirroring (gunicorn master $MIRROR_PID and workers) stopped" wait_until 5 gone
run_load down full.test 300 1
verify primary --results "$WORK/down.res" --records "$WORK/v1.jsonl" --host full.test --expect 300
verify latency --base "$WORK/base.res" --down "$WORK/down.res"
note "agent log while the mirror was down: $(grep -c 'event=circuit_open' "$WORK/agent.log") circuit_open events"

# ---------------------------------------------------------------- f
kill -TERM "$AGENT_PID"
T=$(now_ms)
if wait_until 5 test -s "$AGENT_RC"; then
    rc=$(cat "$AGENT_RC")
    check "SIGTERM: agent exits with status 0 (got $rc) in $(($(now_ms) - T)) ms" [ "$rc" = 0 ]
else
    not_ok "SIGTERM: agent did not exit within 5 s"
fi
