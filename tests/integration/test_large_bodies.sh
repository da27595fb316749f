#!/usr/bin/env bash
# End-to-end test of request bodies larger than one HAProxy buffer, with the
# shipped HAProxy 3.4 configuration of haproxy-conf/large-bodies/ (ports and
# paths adjusted): HAProxy 3.4 waits for each body in a large buffer, sends
# it to the agent in slices (one SPOE group each), then the `mirror`
# message; the agent joins the slices and mirrors the whole body. The
# primary and the mirror run recording_app.py (httpbin), which records the
# length and sha256 of every body it receives.
#
# Checks, each printed as "ok - ..." / "not ok - ...", then "N passed, M
# failed"; exit status non-zero on any failure:
#   a. the shipped files are what haproxy-conf/large-bodies/gen.sh writes;
#      on HAProxy older than 3.4 (no large buffers) the rest is skipped and
#      the script exits 77 ("result: skipped: ...");
#   b. POSTs of random bytes around every boundary (the 4096 bytes of the
#      `mirror` message, the 14336-byte slices) up to the 262144-byte maximum,
#      twenty 256 KiB bodies from 4 connections at once, a chunked body and
#      an HTTP/2 body: each answered 200 by the primary, which got it byte
#      for byte, and mirrored once, byte for byte (sha256), Host
#      <host>-shadow;
#   c. a body one byte above the maximum: answered and forwarded whole, not
#      mirrored, no slice sent, counted as skipped{reason="body_truncated"};
#   d. HAProxy logged no SPOE error; the agent got exactly the slices the
#      bodies need, assembled every sliced body, discarded none and holds
#      none at the end.
#
# Run from anywhere: `make && HAPROXY=build/haproxy3/haproxy bash
# tests/integration/test_large_bodies.sh`. Environment: HAPROXY (default
# haproxy), AGENT_BIN (default build/spoa-shadow), KEEP_WORK=1 keeps the temp
# dir even on success.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/tests/integration"
LARGE="$ROOT/haproxy-conf/large-bodies"
AGENT_BIN=${AGENT_BIN:-$ROOT/build/spoa-shadow}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spoa-large-bodies.XXXXXX")
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"
export PYTHONDONTWRITEBYTECODE=1

# The shipped configuration's figures (gen.sh's defaults).
MAX=262144
FIRST=4096
SLICE=14336

# The gunicorn workers, killed by kill_workers (lib.sh) after stop_all.
WORKER_PIDS=""
REPORT_CLEANUP=kill_workers
report_start agent.log haproxy.log '*.err'

bodies() {
    "$PY" "$HERE/large_bodies/bodies.py" "$@"
}

# check_eq DESCRIPTION GOT WANT: ok when GOT is WANT.
check_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (got $2, want $3)"; fi
}

# slices_for SIZE: the slice NOTIFYs HAProxy sends for a body of SIZE bytes.
slices_for() {
    if [ "$1" -le "$FIRST" ] || [ "$1" -gt "$MAX" ]; then
        echo 0
    else
        echo $((($1 - FIRST + SLICE - 1) / SLICE))
    fi
}

# render_shipped: WORK/haproxy.cfg and WORK/mirror-large.spoe.conf from the
# shipped files, each line below replaced exactly once (else it fails):
# loopback ports and paths of this run, a log HAProxy can write, an HTTP/2
# listener and the agent's answer in response headers; and, because a
# request makes up to 19 exchanges with the agent and this checks
# correctness, not latency, on what may be a busy shared machine: checks
# that need 3 failures to mark the agent DOWN and "timeout processing" 2 s
# (a scheduling stall must not turn an ACK into a timeout).
render_shipped() {
    "$PY" - "$LARGE" "$WORK" <<EOF
import sys
src, work = sys.argv[1], sys.argv[2]
def render(name, out, pairs):
    lines = open("%s/%s" % (src, name)).read().split("\n")
    for old, new in pairs:
        hits = [i for i, l in enumerate(lines) if l.strip() == old]
        if len(hits) != 1:
            sys.exit("%s: %d lines are %r" % (name, len(hits), old))
        indent = lines[hits[0]][:len(lines[hits[0]]) - len(lines[hits[0]].lstrip())]
        lines[hits[0]] = "\n".join(indent + n for n in new.split("\n"))
    open("%s/%s" % (work, out), "w").write("\n".join(lines))
render("haproxy-3.4.cfg", "haproxy.cfg", [
    ("log /dev/log local0", "log stdout format raw local0"),
    ("stats socket /run/haproxy/admin.sock mode 660 level admin", "stats socket $WORK/haproxy.sock mode 600 level admin"),
    ("bind 127.0.0.1:8080", "bind 127.0.0.1:$HTTP_PORT\nbind 127.0.0.1:$H2_PORT proto h2"),
    ("filter spoe engine mirror config /etc/haproxy/mirror-large.spoe.conf",
     "filter spoe engine mirror config $WORK/mirror-large.spoe.conf"),
    ("default_backend app", 'http-response set-header X-Mirrored "%[var(txn.mirror.mirrored)]"\n'
     'http-response set-header X-Spoe-Err "%[var(txn.mirror.err)]"\ndefault_backend app'),
    ("server app1 127.0.0.1:8000 check", "server app1 127.0.0.1:$APP_PORT"),
    ("server agent1 127.0.0.1:12345 check inter 2s fall 2 rise 2",
     "server agent1 127.0.0.1:$AGENT_PORT check inter 1s fall 3 rise 1"),
])
render("mirror-large.spoe.conf", "mirror-large.spoe.conf", [
    ("timeout processing 100ms", "timeout processing 2s"),
])
EOF
}

# ---------------------------------------------------------------- a

require "$HAPROXY" "$GUNICORN" py:httpbin curl cmp
mkdir -p "$WORK/gen"
if sh "$LARGE/gen.sh" "$MAX" "$WORK/gen" && cmp -s "$WORK/gen/haproxy-3.4.cfg" "$LARGE/haproxy-3.4.cfg" &&
    cmp -s "$WORK/gen/mirror-large.spoe.conf" "$LARGE/mirror-large.spoe.conf"; then
    ok "haproxy-conf/large-bodies/ holds what gen.sh $MAX writes"
else
    not_ok "haproxy-conf/large-bodies/ holds what gen.sh $MAX writes (run: sh haproxy-conf/large-bodies/gen.sh $MAX)"
fi
VERSION=$("$HAPROXY" -v | head -n 1 | awk '{ print $3 }')
note "HAProxy $VERSION"
case $VERSION in
    [0-2].* | 3.[0-3] | 3.[0-3][.-]*)
        report_skip "HAProxy $VERSION has no large buffers (tune.bufsize.large, wait-for-body use-large-buffer: 3.4); a body is limited to one buffer there"
        ;;
esac
require "$AGENT_BIN"

read -r HTTP_PORT H2_PORT APP_PORT MIRROR_PORT AGENT_PORT ADMIN_PORT <<EOF
$(free_ports 6)
EOF
note "ports: haproxy=$HTTP_PORT h2=$H2_PORT primary=$APP_PORT mirror=$MIRROR_PORT agent=$AGENT_PORT"
if ! render_shipped 2>"$WORK/render.err"; then
    not_ok "configuration rendered from the shipped files ($(cat "$WORK/render.err"))"
    exit 1
fi
check "haproxy -c accepts the rendered configuration" "$HAPROXY" -c -q -f "$WORK/haproxy.cfg"
cat >"$WORK/agent.yaml" <<EOF
spop: {threads: 2}
routes:
  - name: all
    mirrors:
      - url: "http://127.0.0.1:$MIRROR_PORT"
        max_response_bytes: 0
        timeout_ms: 10000
EOF

start_recorder primary "$APP_PORT"
PRIMARY_PID=$RECORDER_PID
start_recorder mirror "$MIRROR_PORT"
MIRROR_PID=$RECORDER_PID
start_agent "$AGENT_PORT" "$WORK/agent.log" -c "$WORK/agent.yaml" --admin-listen "127.0.0.1:$ADMIN_PORT" ||
    { not_ok "agent started"; exit 1; }
wait_until 5 grep -q 'event=start ' "$WORK/agent.log" || { not_ok "agent started (see $WORK/agent.log)"; exit 1; }
start_haproxy "$WORK/haproxy.cfg" "$WORK/haproxy.log"
wait_until 5 port_open "$HTTP_PORT" || { not_ok "haproxy started (see $WORK/haproxy.log)"; exit 1; }
if ! wait_until 15 port_open "$APP_PORT" || ! wait_until 15 port_open "$MIRROR_PORT"; then
    not_ok "both httpbins started"
    exit 1
fi
four_workers() { [ "$(workers_of "$1" | wc -w)" -eq 4 ]; }
wait_until 10 four_workers "$PRIMARY_PID" && wait_until 10 four_workers "$MIRROR_PID" ||
    { not_ok "gunicorn workers started"; exit 1; }
WORKER_PIDS="$(workers_of "$PRIMARY_PID") $(workers_of "$MIRROR_PID")"
check "HAProxy marks the agent UP (spop-check)" \
    wait_until 5 server_is "$WORK/haproxy.sock" spoa-shadow-agents agent1 UP

# ---------------------------------------------------------------- b, c
# One byte, the first part's edge, one slice exactly and one byte more, 15
# KiB + 1 (the old limit), an odd size, 100 KiB, the maximum minus one; then
# twenty 256 KiB bodies from four connections at once; a chunked and an
# HTTP/2 body; and one byte over the maximum.
EDGES="1 4095 4096 4097 $((FIRST + SLICE)) $((FIRST + SLICE + 1)) 15361 33333 102400 $((MAX - 1))"
T=$(now_ms)
bodies send --port "$HTTP_PORT" --out "$WORK/edges.res" --prefix edge $EDGES 2>"$WORK/edges.err"
bodies send --port "$HTTP_PORT" --out "$WORK/max.res" --prefix max --parallel 4 "${MAX}x20" 2>"$WORK/max.err"
bodies send --port "$HTTP_PORT" --out "$WORK/chunked.res" --prefix chunked --chunked 200000 2>"$WORK/chunked.err"
bodies send-h2 --port "$H2_PORT" --out "$WORK/h2.res" --prefix h2 "$MAX" 2>"$WORK/h2.err"
note "$(($(echo $EDGES | wc -w) + 22)) requests sent in $(($(now_ms) - T)) ms"
scrape "$WORK/before-over.prom" || not_ok "scrape before the body over the maximum"
bodies send --port "$HTTP_PORT" --out "$WORK/over.res" --prefix over $((MAX + 1)) 2>"$WORK/over.err"

RESULTS="$WORK/edges.res $WORK/max.res $WORK/chunked.res $WORK/h2.res $WORK/over.res"
SLICED=0
SLICES=0
for size in $EDGES $(yes "$MAX" | head -n 20) 200000 "$MAX" $((MAX + 1)); do
    n=$(slices_for "$size")
    SLICES=$((SLICES + n))
    [ "$n" -gt 0 ] && SLICED=$((SLICED + 1))
done
# Copies go out after the ACK: wait until the mirror has them all.
WANT=$(($(cat $RESULTS | wc -l) - 1))
copies() { [ "$(wc -l <"$WORK/mirror.jsonl" 2>/dev/null || echo 0)" -ge "$WANT" ]; }
wait_until 15 copies
sleep 0.3
run_checks "$PY" "$HERE/large_bodies/bodies.py" verify --results $RESULTS --primary "$WORK/primary.jsonl" \
    --mirror "$WORK/mirror.jsonl" --max "$MAX" --host bodies.test-shadow

# ---------------------------------------------------------------- c, d
scrape "$WORK/after.prom" || not_ok "scrape at the end"
A="$WORK/after.prom"
B="$WORK/before-over.prom"
check_eq "the body over the maximum sent no slice" \
    "$(($(metric "$A" spoa_shadow_body_parts_received_total) - $(metric "$B" spoa_shadow_body_parts_received_total)))" 0
check_eq "the body over the maximum is counted as skipped{reason=\"body_truncated\"}" \
    "$(($(metric "$A" spoa_shadow_mirror_skipped_total 'reason="body_truncated"') - \
        $(metric "$B" spoa_shadow_mirror_skipped_total 'reason="body_truncated"')))" 1
check_eq "the agent received the $SLICES slices the bodies need" \
    "$(metric "$A" spoa_shadow_body_parts_received_total)" "$SLICES"
check_eq "the agent assembled all $SLICED sliced bodies" "$(metric "$A" spoa_shadow_body_parts_assembled_total)" "$SLICED"
check_eq "the agent discarded no slice" "$(metric "$A" spoa_shadow_body_parts_dropped_total)" 0
check_eq "the agent holds no slice at the end" \
    "$(metric "$A" spoa_shadow_body_parts_requests)/$(metric "$A" spoa_shadow_body_parts_bytes)" 0/0
check_eq "no copy was dropped or skipped for another reason" \
    "$(metric "$A" spoa_shadow_mirror_dropped_total)/$(metric "$A" spoa_shadow_mirror_skipped_total '!reason="body_truncated"')" 0/0
note "SPOP: $(metric "$A" spoa_shadow_spop_notify_frames_total) NOTIFYs on $(metric "$A" spoa_shadow_spop_connections_accepted_total) connections, $(metric "$A" spoa_shadow_spop_received_bytes_total) bytes"
spoe_errors=$(grep -c 'SPOE:' "$WORK/haproxy.log")
check_eq "HAProxy logged no SPOE error" "$spoe_errors" 0
set_errs=$(grep -c 'spoe_err=[0-9]' "$WORK/haproxy.log")
check_eq "no access-log line has spoe_err set" "$set_errs" 0
