#!/usr/bin/env bash
# gRPC mirrored as gRPC, end to end, with real gRPC servers and a real gRPC
# client (python3-grpcio, grpc/): the client speaks h2c to HAProxy running
# the shipped gRPC example (haproxy-conf/grpc/, ports and paths made local),
# which forwards every call to the primary gRPC server over HTTP/2; the agent
# (one worker thread) sends each sampled call to the shadow gRPC server as
# the same gRPC call over h2c (protocol: h2c). The shadow answers Unary with
# OK and Collect (client streaming) with NOT_FOUND (5), and records every call
# it gets.
#   grpc  (100%)  GRPC_UNARY unary and GRPC_STREAMING client-streaming calls
#                 that fit one buffer, then one of each larger than one,
#                 then 3 interactive bidirectional-streaming calls (which the
#                 example leaves alone: they must not wait, nor be mirrored)
#   half  (50%)   GRPC_HALF unary calls under another :authority
# The client makes 4 calls at a time on one HTTP/2 connection.
# Checks: every call succeeds with the primary's answer and sees no SPOE
# error; the shadow gets exactly the calls answered X-Mirrored: 1 (all that
# fit at 100%, a binomial share at 50%, none of the larger ones), each with
# the same method, metadata and messages (sha256 of each); the agent counts
# the shadow's grpc-status by code (code="0" = mirrored unary calls, code="5"
# = mirrored streaming ones), drops nothing, and counts the larger calls as
# skipped body_truncated; the bidirectional calls answer at once and never
# reach the agent; the agent exits 0 on SIGTERM.
#
# Exits 77 (skipped) when the agent does not know `protocol: h2c`.
#
# Run from anywhere: `make && bash tests/integration/test_grpc.sh`.
# Environment: HAPROXY (default haproxy), AGENT_BIN (default
# build/spoa-shadow), GRPC_UNARY (default 40), GRPC_STREAMING (default 20),
# GRPC_HALF (default 200), KEEP_WORK=1 keeps the temp dir even on success.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/tests/integration"
AGENT_BIN=${AGENT_BIN:-$ROOT/build/spoa-shadow}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spoa-grpc.XXXXXX")
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"
report_start agent.log haproxy.log '*.err' '*.client.err'
UNARY=${GRPC_UNARY:-40}
STREAMING=${GRPC_STREAMING:-20}
HALF=${GRPC_HALF:-200}

require "$AGENT_BIN" "$HAPROXY" py:grpc=python3-grpcio
note "$("$HAPROXY" -v | head -n 1)"

# shellcheck disable=SC2034  # read by render_template
read -r GRPC_PORT PRIMARY_PORT SHADOW_PORT AGENT_PORT ADMIN_PORT < <(free_ports 5)
if ! render_template "$HERE/grpc/agent.yaml.in" "$WORK/agent.yaml"; then
    not_ok "configuration rendered from the template"
    exit 1
fi
if ! "$AGENT_BIN" -c "$WORK/agent.yaml" --check-config >"$WORK/agent.yaml.check" 2>&1; then
    if grep -q 'protocol' "$WORK/agent.yaml.check"; then
        sed 's/^/#   /' "$WORK/agent.yaml.check"
        report_skip "this agent does not accept 'protocol: h2c' (no HTTP/2 mirror client): gRPC cannot be mirrored as gRPC"
    fi
    require_agent_config "$WORK/agent.yaml"
fi
"$AGENT_BIN" -c "$SHIPPED_CONF/grpc/spoa-shadow.yaml" --check-config >"$WORK/shipped.check" 2>&1
check "spoa-shadow --check-config accepts the shipped haproxy-conf/grpc/spoa-shadow.yaml (status $?)" [ $? = 0 ]

# HAProxy runs the shipped gRPC example (haproxy-conf/grpc/), with loopback
# ports and local paths, the test method Chat added to the bidirectional
# ones, the agent's answer added to each response (a gRPC client sees it as
# initial metadata) and "timeout processing 500ms" (a busy test machine must
# not turn an ACK into a timeout). Each edit must apply exactly once.
edits=(
    "s|^\([[:space:]]*\)log /dev/log local0|\1log stdout format raw local0|"
    "s|/run/haproxy/admin.sock mode 660|$WORK/haproxy.sock mode 600|"
    "s|bind 127.0.0.1:8443 proto h2|bind 127.0.0.1:$GRPC_PORT proto h2|"
    "s|/etc/haproxy/mirror-grpc.spoe.conf|$WORK/mirror-grpc.spoe.conf|"
    "s|^\([[:space:]]*acl grpc_bidi path\) |\1 /shadowtest.Echo/Chat |"
    "s|^\([[:space:]]*\)default_backend grpc_service|\1http-response set-header X-Mirrored %[var(txn.mirror.mirrored)]\n\1http-response set-header X-Spoe-Err %[var(txn.mirror.err)]\n&|"
    "s|server svc1 127.0.0.1:50051 proto h2 check|server svc1 127.0.0.1:$PRIMARY_PORT proto h2|"
    "s|server agent1 127.0.0.1:12345 check inter 2s|server agent1 127.0.0.1:$AGENT_PORT check inter 500ms|"
)
cp "$SHIPPED_CONF/grpc/haproxy.cfg" "$WORK/haproxy.cfg"
for e in "${edits[@]}"; do
    before=$(md5sum <"$WORK/haproxy.cfg")
    sed -i "$e" "$WORK/haproxy.cfg"
    [ "$(md5sum <"$WORK/haproxy.cfg")" != "$before" ] || { not_ok "the shipped gRPC example takes the edit $e"; exit 1; }
done
sed 's/^\([[:space:]]*timeout processing\).*/\1 500ms/' "$SHIPPED_CONF/grpc/mirror-grpc.spoe.conf" \
    >"$WORK/mirror-grpc.spoe.conf"
grep -q '^[[:space:]]*timeout processing 500ms$' "$WORK/mirror-grpc.spoe.conf" ||
    { not_ok "the shipped gRPC SPOE file takes timeout processing 500ms"; exit 1; }
AGENTS_BACKEND=spoa-shadow-agents

# start_grpc ROLE PORT [ARGS...]: a gRPC server (grpc/grpc_server.py) on
# 127.0.0.1:PORT; fails when it did not serve within 10 s.
start_grpc() {
    local role=$1 port=$2
    shift 2
    "$PY" "$HERE/grpc/grpc_server.py" --role "$role" --port "$port" "$@" >"$WORK/$role.out" 2>"$WORK/$role.err" &
    track $!
    wait_until 10 grep -q "^port=$port$" "$WORK/$role.out"
}

start_grpc primary "$PRIMARY_PORT" || { not_ok "the primary gRPC server started"; exit 1; }
start_grpc shadow "$SHADOW_PORT" --records "$WORK/shadow.jsonl" || { not_ok "the shadow gRPC server started"; exit 1; }
start_agent "$AGENT_PORT" "$WORK/agent.log" -c "$WORK/agent.yaml" --admin-listen "127.0.0.1:$ADMIN_PORT" ||
    { not_ok "agent started"; exit 1; }
start_haproxy "$WORK/haproxy.cfg" "$WORK/haproxy.log"
if ! wait_until 5 port_open "$GRPC_PORT" || ! wait_until 5 grep -q 'event=start ' "$WORK/agent.log"; then
    not_ok "the agent and HAProxy started"
    exit 1
fi
check "HAProxy marks the agent UP (spop-check)" \
    wait_until 5 server_is "$WORK/haproxy.sock" "$AGENTS_BACKEND" agent1 UP

# records_at_least N: the shadow recorded N calls or more.
records_at_least() {
    [ "$(wc -l <"$WORK/shadow.jsonl" 2>/dev/null || echo 0)" -ge "$1" ]
}

# settled ROUTE: nothing of the route is in flight or queued any more.
settled() {
    scrape "$WORK/settle.prom" &&
        [ "$(metric "$WORK/settle.prom" spoa_shadow_mirror_inflight "route=\"$1\"")" = 0 ] &&
        [ "$(metric "$WORK/settle.prom" spoa_shadow_mirror_queued "route=\"$1\"")" = 0 ]
}

# run NAME ROUTE EXPECTED_RECORDS CLIENT_ARGS... / VERIFY_ARGS after "--":
# the calls, then waits until the shadow recorded EXPECTED_RECORDS in all
# (or 10 s) and the route settled, checks them (grpc_verify.py, which writes
# WORK/NAME.sum) and scrapes the metrics into WORK/NAME.prom.
run() {
    local name=$1 route=$2 t
    shift 2
    local client=() verify=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do client+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    verify=("$@")
    t=$(now_ms)
    "$PY" "$HERE/grpc/grpc_client.py" --port "$GRPC_PORT" --prefix "$name" --out "$WORK/$name.calls" \
        --deadline 120 --parallel 4 "${client[@]}" 2>"$WORK/$name.client.err"
    note "$name: $(wc -l <"$WORK/$name.calls") calls in $(($(now_ms) - t)) ms"
    local want
    want=$("$PY" -c 'import json,sys; print(sum(json.loads(l).get("mirrored") == "1" for l in open(sys.argv[1])))' \
        "$WORK/$name.calls")
    SEEN=$((SEEN + want))
    wait_until 10 records_at_least "$SEEN" || note "$name: the shadow has fewer records than expected after 10 s"
    wait_until 10 settled "$route" || note "$name: copies still in flight after 10 s"
    sleep 0.2 # a copy recorded twice would show up now
    run_checks "$PY" "$HERE/grpc/grpc_verify.py" "$WORK/$name.calls" "$WORK/shadow.jsonl" "$WORK/$name.sum" \
        "${verify[@]}"
    scrape "$WORK/$name.prom"
}

# m RUN NAME FILTER...: a metric in WORK/RUN.prom (0 when absent).
m() {
    local file=$1 name=$2
    shift 2
    metric "$WORK/$file.prom" "$name" "$@" || echo 0
}

SEEN=0
run grpc grpc --unary "$UNARY" --streaming "$STREAMING" --big --bidi 3 -- --marker x-shadow:1
unary=0 streaming=0
# shellcheck disable=SC1090  # written by grpc_verify.py: unary=N streaming=M
. "$WORK/grpc.sum"
g0=$(m grpc spoa_shadow_mirror_grpc_status_total 'route="grpc"' 'code="0"')
g5=$(m grpc spoa_shadow_mirror_grpc_status_total 'route="grpc"' 'code="5"')
gall=$(m grpc spoa_shadow_mirror_grpc_status_total 'route="grpc"')
check "grpc: grpc_status{code=\"0\"} = the $unary unary calls mirrored (got $g0)" [ "$g0" = "$unary" ]
check "grpc: grpc_status{code=\"5\"} = the $streaming streaming calls mirrored (got $g5)" [ "$g5" = "$streaming" ]
check "grpc: no other grpc-status counted (all codes: $gall)" [ "$gall" = $((unary + streaming)) ]
check "grpc: $((unary + streaming)) responses counted as 2xx (got $(m grpc spoa_shadow_mirror_responses_total 'route="grpc"' 'class="2xx"'))" \
    [ "$(m grpc spoa_shadow_mirror_responses_total 'route="grpc"' 'class="2xx"')" = $((unary + streaming)) ]
check "grpc: nothing dropped (dropped_total $(m grpc spoa_shadow_mirror_dropped_total 'route="grpc"'))" \
    [ "$(m grpc spoa_shadow_mirror_dropped_total 'route="grpc"')" = 0 ]
check "grpc: the 2 calls larger than a buffer counted as skipped body_truncated (got $(m grpc spoa_shadow_mirror_skipped_total 'route="grpc"' 'reason="body_truncated"'))" \
    [ "$(m grpc spoa_shadow_mirror_skipped_total 'route="grpc"' 'reason="body_truncated"')" = 2 ]

run half half --unary "$HALF" --authority half.grpc.test -- --percent 50
unary=0 streaming=0
# shellcheck disable=SC1090
. "$WORK/half.sum"
h0=$(m half spoa_shadow_mirror_grpc_status_total 'route="half"' 'code="0"')
check "half: grpc_status{code=\"0\"} = the $unary calls mirrored (got $h0)" [ "$h0" = "$unary" ]
check "half: sampled_total = the $unary calls mirrored (got $(m half spoa_shadow_mirror_sampled_total 'route="half"'))" \
    [ "$(m half spoa_shadow_mirror_sampled_total 'route="half"')" = "$unary" ]
check "half: nothing dropped (dropped_total $(m half spoa_shadow_mirror_dropped_total 'route="half"'))" \
    [ "$(m half spoa_shadow_mirror_dropped_total 'route="half"')" = 0 ]
spoe_errors=$(grep -c 'spoe_err=[0-9]' "$WORK/haproxy.log")
check "HAProxy logged no SPOE error ($spoe_errors requests with spoe_err set)" [ "$spoe_errors" = 0 ]

stop_pid "$AGENT_PID" 10
check "the agent exits 0 on SIGTERM" [ "$(cat "$AGENT_RC" 2>/dev/null)" = 0 ]
