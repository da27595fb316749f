#!/usr/bin/env bash
# End-to-end test of capture mirrors (url file:///dir), with real parts on
# loopback: HAProxy (the shipped SPOE setup) fronts httpbin; the agent
# writes the requests of two capture routes to files, which are read back
# with Python's msgpack (capture/verify.py), not with the agent's code.
#
# Checks, each printed as "ok - ..." / "not ok - ...", then "N passed, M
# failed"; exit status non-zero on any failure:
#   a. route "cap" (Host cap.test, rotate_bytes 16384): 200 requests, GET
#      and POST with binary bodies, Authorization, Cookie and X-Api-Key, in
#      two halves around a SIGHUP reload; every request answered 200 and
#      mirrored; /metrics counts them; after SIGTERM every file is finished
#      (no .open), whole records only, rotated by size, each request there
#      once with its method, path, authority, shadow_authority and body,
#      the secrets redacted, names in time order;
#   b. route "full" (Host full.test) writes into a 1 MiB tmpfs (or, when
#      mounting is not possible, under a 1 MiB file size limit set on the
#      agent with prlimit): 300 POSTs of 8000 bytes; clients see 200 fast
#      and no SPOE error; /metrics counts disk_full drops; the files hold
#      whole records only, as many as capture_records_total says;
#   c. the agent exits 0 on SIGTERM;
#   d. round trip: `spoa-shadow replay DIR --rate 500 --authority keep` of
#      route cap's finished files into capture/replay_sink.py (a loopback
#      server that keeps every header) exits 0 and delivers each captured
#      request once, with the client's method, path and body hash, Host
#      cap.test and none of the redacted headers (capture/verify.py replay).
#
# Run from anywhere: `make && bash tests/integration/test_capture.sh`.
# Environment: HAPROXY (default haproxy), AGENT_BIN (default
# build/spoa-shadow), KEEP_WORK=1 keeps the temp dir even on success,
# CAPTURE_DISK=fsize uses the file size limit even where tmpfs works.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/tests/integration"
TPL="$HERE/capture"
AGENT_BIN=${AGENT_BIN:-$ROOT/build/spoa-shadow}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spoa-capture.XXXXXX")
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"
export PYTHONDONTWRITEBYTECODE=1

MOUNTED=""
CAPTURE_DIR="$WORK/capture"
FULL_DIR="$WORK/small/capture"
CAP_N=200
CAP_BODY=600
FULL_N=300
FULL_BODY=8000

# verify ARGS...: runs capture/verify.py and counts its ok / not ok lines.
verify() {
    run_checks "$PY" "$TPL/verify.py" "$@"
}

# unmount_small: unmounts the small tmpfs, if one was mounted (run by
# report_finish after stop_all).
unmount_small() {
    [ -z "$MOUNTED" ] || umount "$MOUNTED" 2>/dev/null
}
REPORT_CLEANUP=unmount_small
report_start agent.log haproxy.log '*.err'

# traffic NAME HOST COUNT BODY: COUNT requests through HAProxy (4 in
# parallel), ids NAME-<i>; results in WORK/NAME.res.
traffic() {
    local t
    t=$(now_ms)
    "$PY" "$TPL/traffic.py" --port "$HTTP_PORT" --host "$2" --prefix "$1" --count "$3" --parallel 4 \
        --body-size "$4" --out "$WORK/$1.res" 2>>"$WORK/traffic.err"
    note "$1: $3 requests to Host $2: $(($(now_ms) - t)) ms"
}

# metric NAME{LABELS}: the value of one sample of /metrics ("" when absent).
metric() {
    curl -s --max-time 2 "http://127.0.0.1:$ADMIN_PORT/metrics" | awk -v s="$1" 'index($0, s " ") == 1 { print $2 }'
}

# labels ROUTE DIR: the route and mirror labels of a capture mirror.
labels() {
    printf 'route="%s",mirror="file://%s"' "$1" "$2"
}

# ---------------------------------------------------------------- setup

require "$AGENT_BIN" "$HAPROXY" curl "$GUNICORN" py:httpbin py:msgpack
note "$("$HAPROXY" -v | head -n 1)"

read -r HTTP_PORT APP_PORT AGENT_PORT ADMIN_PORT <<EOF
$(free_ports 4)
EOF
note "ports: haproxy=$HTTP_PORT httpbin=$APP_PORT agent=$AGENT_PORT admin=$ADMIN_PORT"

# The small disk: a 1 MiB tmpfs when this user may mount one; otherwise a
# plain directory and a 1 MiB file size limit on the agent (prlimit below).
mkdir -p "$WORK/small"
if [ "${CAPTURE_DISK:-}" != fsize ] && mount -t tmpfs -o size=1m,mode=0755 tmpfs "$WORK/small" 2>/dev/null; then
    MOUNTED="$WORK/small"
    DISK_MODE=tmpfs
else
    DISK_MODE=fsize
fi
note "disk-full simulation: $DISK_MODE"

# HAProxy: the mirroring test's template (HAProxy in front of one backend,
# "v1" being httpbin here, the agent behind the shipped SPOE file).
# Read by render_template (lib.sh) for the template's @V1_PORT@ markers.
# shellcheck disable=SC2034
V1_PORT=$APP_PORT
if ! render_haproxy_config "$HERE/mirroring/haproxy.cfg.in" || ! render_template "$TPL/agent.yaml.in" "$WORK/agent.yaml"; then
    not_ok "configuration rendered from the templates"
    exit 1
fi
check "haproxy -c accepts the rendered configuration" "$HAPROXY" -c -q -f "$WORK/haproxy.cfg"
if "$AGENT_BIN" -c "$WORK/agent.yaml" --check-config >"$WORK/check-config.out" 2>&1; then
    ok "spoa-shadow --check-config accepts the capture configuration"
else
    not_ok "spoa-shadow --check-config accepts the capture configuration"
    sed 's/^/#   /' "$WORK/check-config.out"
fi
check "--check-config creates no capture directory" test ! -e "$CAPTURE_DIR"

start_httpbin "$APP_PORT" "$WORK/httpbin"
start_agent "$AGENT_PORT" "$WORK/agent.log" -c "$WORK/agent.yaml" --admin-listen "127.0.0.1:$ADMIN_PORT" || { not_ok "agent started"; exit 1; }
wait_until 5 grep -q 'event=start ' "$WORK/agent.log" || { not_ok "agent started (see $WORK/agent.log)"; exit 1; }
if [ "$DISK_MODE" = fsize ]; then
    check "1 MiB file size limit set on the agent" prlimit --pid "$AGENT_PID" --fsize=1048576:1048576
fi
start_haproxy "$WORK/haproxy.cfg" "$WORK/haproxy.log"
wait_until 5 port_open "$HTTP_PORT" || { not_ok "haproxy started (see $WORK/haproxy.log)"; exit 1; }
wait_until 15 port_open "$APP_PORT" || { not_ok "httpbin started"; exit 1; }
check "HAProxy marks the agent UP (spop-check)" \
    wait_until 5 server_is "$WORK/haproxy.sock" "$AGENTS_BACKEND" agent1 UP
check "the agent created both capture directories" wait_until 2 test -d "$CAPTURE_DIR" -a -d "$FULL_DIR"

# ---------------------------------------------------------------- a
traffic cap1 cap.test $((CAP_N / 2)) "$CAP_BODY"
kill -HUP "$AGENT_PID"
check "SIGHUP: the agent reloads the configuration" \
    wait_until 3 grep -q 'event=reload generation=2' "$WORK/agent.log"
traffic cap2 cap.test $((CAP_N / 2)) "$CAP_BODY"
CAP_L=$(labels cap "$CAPTURE_DIR")
FULL_L=$(labels full "$FULL_DIR")
written() { [ "$(metric "spoa_shadow_capture_records_total{$CAP_L}")" = "$1" ]; }
check "metrics: capture_records_total{route=cap} reaches $CAP_N" wait_until 5 written "$CAP_N"
for r in queue_full disk_full io_error shutdown; do
    v=$(metric "spoa_shadow_capture_dropped_total{$CAP_L,reason=\"$r\"}")
    check "metrics: capture_dropped_total{route=cap,reason=$r} = 0 (got ${v:-absent})" [ "$v" = 0 ]
done
ROTATED=$(metric "spoa_shadow_capture_files_rotated_total{$CAP_L}")
check "metrics: capture_files_rotated_total{route=cap} > 0 (got ${ROTATED:-absent})" [ "${ROTATED:-0}" -gt 0 ]
BYTES=$(metric "spoa_shadow_capture_bytes_total{$CAP_L}")
check "metrics: capture_bytes_total{route=cap} > $((CAP_N * CAP_BODY / 2)) (got ${BYTES:-absent})" \
    [ "${BYTES:-0}" -gt $((CAP_N * CAP_BODY / 2)) ]
open_file() { compgen -G "$CAPTURE_DIR/*.msgpack.open" >/dev/null; }
check "a file is still open while the agent runs" open_file

# ---------------------------------------------------------------- b
traffic full full.test "$FULL_N" "$FULL_BODY"
settled() { [ "$(metric "spoa_shadow_capture_queued{$FULL_L}")" = 0 ]; }
wait_until 5 settled
sleep 0.2
FULL_WRITTEN=$(metric "spoa_shadow_capture_records_total{$FULL_L}")
FULL_DROPPED=$(metric "spoa_shadow_capture_dropped_total{$FULL_L,reason=\"disk_full\"}")
note "full: written=$FULL_WRITTEN disk_full=$FULL_DROPPED"
check "metrics: capture_dropped_total{route=full,reason=disk_full} > 0 (got ${FULL_DROPPED:-absent})" \
    [ "${FULL_DROPPED:-0}" -gt 0 ]
SPOE_ERRS=$(metric 'spoa_shadow_spop_errors_total{status="0"}')
note "spop_errors_total{status=0}: ${SPOE_ERRS:-absent}"

# ---------------------------------------------------------------- c
kill -TERM "$AGENT_PID"
T=$(now_ms)
if wait_until 8 test -s "$AGENT_RC"; then
    rc=$(cat "$AGENT_RC")
    check "SIGTERM: agent exits with status 0 (got $rc) in $(($(now_ms) - T)) ms" [ "$rc" = 0 ]
else
    not_ok "SIGTERM: agent did not exit within 8 s"
fi
note "cap: $(find "$CAPTURE_DIR" -name 'capture-*' | wc -l) files, $(du -sk "$CAPTURE_DIR" | cut -f1) KiB"

verify capture --dir "$CAPTURE_DIR" --results "$WORK/cap1.res" --results "$WORK/cap2.res" --host cap.test --shadow cap.test-shadow \
    --route cap --mirror "file://$CAPTURE_DIR" --rotate-bytes 16384 --body-size "$CAP_BODY"
verify diskfull --dir "$FULL_DIR" --results "$WORK/full.res" --host full.test --written "${FULL_WRITTEN:-0}" \
    --dropped "${FULL_DROPPED:-0}" --body-size "$FULL_BODY"

# ---------------------------------------------------------------- d
# start_sink OUT: starts capture/replay_sink.py on a free loopback port,
# recording into OUT; sets SINK_PORT (empty on failure).
start_sink() {
    local i=0
    "$PY" "$TPL/replay_sink.py" 0 "$1" >"$WORK/sink.out" 2>"$WORK/sink.err" &
    track "$!"
    SINK_PORT=""
    while [ -z "$SINK_PORT" ] && [ $i -lt 100 ]; do
        SINK_PORT=$(sed -n 's/^port=\([0-9][0-9]*\)$/\1/p' "$WORK/sink.out")
        sleep 0.05
        i=$((i + 1))
    done
    [ -n "$SINK_PORT" ]
}

if start_sink "$WORK/replayed.jsonl"; then
    timeout 60 "$AGENT_BIN" replay "$CAPTURE_DIR" --target "http://127.0.0.1:$SINK_PORT" --rate 500 \
        --authority keep >"$WORK/replay.out" 2>"$WORK/replay.err"
    rc=$?
    sed 's/^/#   /' "$WORK/replay.out" "$WORK/replay.err"
    check "replay of route cap's files: exit status 0 (got $rc)" [ "$rc" = 0 ]
    verify replay --dir "$CAPTURE_DIR" --received "$WORK/replayed.jsonl" --results "$WORK/cap1.res" \
        --results "$WORK/cap2.res" --host cap.test --body-size "$CAP_BODY"
else
    not_ok "replay sink started (see $WORK/sink.err)"
fi
