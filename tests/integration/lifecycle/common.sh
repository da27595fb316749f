# shellcheck shell=bash
# Helpers shared by tests/integration/test_metrics.sh and test_lifecycle.sh
# (bash). Source it after setting ROOT, WORK and AGENT_BIN; it sources
# tests/integration/lib.sh (process tracking, ports, HAProxy helpers) and
# installs the EXIT trap that stops every tracked process and prints the
# closing "N passed, M failed" line.

HERE="$ROOT/tests/integration"
LC="$HERE/lifecycle"
SHIPPED="$ROOT/haproxy-conf"
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"

PASSED=0
FAILED=0
T0=$(now_ms)

ok() {
    PASSED=$((PASSED + 1))
    echo "ok - $*"
}

not_ok() {
    FAILED=$((FAILED + 1))
    echo "not ok - $*"
}

note() {
    echo "# $*"
}

# check DESCRIPTION CMD...: ok when CMD succeeds.
check() {
    local desc=$1
    shift
    if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# check_eq DESCRIPTION GOT WANT: ok when the two strings are equal.
check_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (got \"$2\", want \"$3\")"; fi
}

# gt0 N: true when N is a whole number above 0.
gt0() {
    [ "$1" -gt 0 ] 2>/dev/null
}

# more A B: true when A and B are whole numbers and A > B.
more() {
    [ "$1" -gt "$2" ] 2>/dev/null
}

# all_of GOT TOTAL: true when TOTAL is above 0 and GOT equals it.
all_of() {
    gt0 "$2" && [ "$1" = "$2" ]
}

# finish: the EXIT trap. Stops every tracked process; keeps WORK and shows
# the end of each log when something failed (or KEEP_WORK is set).
finish() {
    local rc=$? f
    trap - EXIT INT TERM
    stop_all
    if [ "$FAILED" -gt 0 ] || [ "$rc" -ne 0 ] || [ -n "${KEEP_WORK:-}" ]; then
        note "files kept in $WORK"
        for f in "$WORK"/*.log; do
            [ -s "$f" ] || continue
            note "--- last lines of $f"
            tail -n 5 "$f" | cut -c 1-300 | sed 's/^/#   /'
        done
    else
        rm -rf "$WORK"
    fi
    note "total time: $(($(now_ms) - T0)) ms"
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ] && [ "$rc" -eq 0 ] && exit 0
    exit 1
}
trap finish EXIT
trap 'not_ok "interrupted"; exit 130' INT TERM

# require CMD...: fails the run unless every named program exists.
require() {
    local missing="" c
    [ -x "$AGENT_BIN" ] || missing="$missing $AGENT_BIN"
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
    done
    "$PY" -c 'import httpbin' 2>/dev/null || missing="$missing python3-httpbin"
    if [ -n "$missing" ]; then
        not_ok "prerequisites:$missing (run make deps && make)"
        exit 1
    fi
}

# render TEMPLATE OUT: copies TEMPLATE to OUT with every @NAME@ replaced by
# the value of the shell variable NAME; fails when a marker is left over or
# names an unset variable.
render() {
    local name vars
    vars=$(grep -v '^[[:space:]]*#' "$1" | grep -oE '@[A-Z_]+@' | sort -u | tr -d '@')
    cp "$1" "$OUT_TMP" || return 1
    for name in $vars; do
        [ -n "${!name:-}" ] || { echo "render: $name is not set" >&2; return 1; }
        sed -i "s#@$name@#${!name}#g" "$OUT_TMP" || return 1
    done
    ! grep -v '^[[:space:]]*#' "$OUT_TMP" | grep -q '@' && mv "$OUT_TMP" "$2"
}
OUT_TMP="$WORK/render.tmp"

# render_haproxy: writes WORK/haproxy.cfg from lifecycle/haproxy.cfg.in and
# the shipped haproxy.cfg, and WORK/mirror.spoe.conf from the shipped SPOE
# file with "timeout processing 500ms" (a scheduling hiccup on a busy test
# machine must not turn an ACK into a timeout). Needs HTTP_PORT, APP_PORT
# and AGENT_PORT; sets AGENTS_BACKEND.
render_haproxy() {
    AGENTS_BACKEND=$(awk '$1 == "use-backend" { print $2; exit }' "$SHIPPED/mirror.spoe.conf")
    sed 's/^\([[:space:]]*timeout processing\).*/\1 500ms/' "$SHIPPED/mirror.spoe.conf" >"$WORK/mirror.spoe.conf"
    awk '
        FNR == NR { if (!($1 in shipped)) shipped[$1] = $0; next }
        $1 == "@SHIPPED" {
            key = $2; sub(/@$/, "", key)
            if (!(key in shipped)) { print "missing in shipped config: " key > "/dev/stderr"; exit 1 }
            print shipped[key]; next
        }
        { print }' "$SHIPPED/haproxy.cfg" "$LC/haproxy.cfg.in" >"$WORK/haproxy.cfg.in" &&
        [ -n "$AGENTS_BACKEND" ] &&
        grep -q '^[[:space:]]*timeout processing 500ms$' "$WORK/mirror.spoe.conf" &&
        render "$WORK/haproxy.cfg.in" "$WORK/haproxy.cfg"
}

# start_stack AGENT_LOG AGENT_ARGS...: starts httpbin (APP_PORT), the mirror
# test server (MIRROR_PORT, recording to WORK/mirror.records), the agent
# (AGENT_PORT, admin on ADMIN_PORT) and HAProxy (HTTP_PORT); returns once
# HAProxy marks the agent UP. Sets MIRROR_PID as well as lib.sh's PIDs.
start_stack() {
    local log=$1 t
    shift
    t=$(now_ms)
    start_httpbin "$APP_PORT" "$WORK/httpbin"
    "$PY" "$HERE/mirror_test_server.py" "$MIRROR_PORT" --records "$WORK/mirror.records" \
        >"$WORK/mirror.out" 2>"$WORK/mirror.log" &
    MIRROR_PID=$!
    track "$MIRROR_PID"
    start_agent "$AGENT_PORT" "$log" --admin-listen "127.0.0.1:$ADMIN_PORT" "$@" ||
        { not_ok "agent started"; exit 1; }
    wait_until 5 grep -q 'event.\{0,3\}start' "$log" || { not_ok "agent started (see $log)"; exit 1; }
    start_haproxy "$WORK/haproxy.cfg" "$WORK/haproxy.log"
    wait_until 5 haproxy_ready "$WORK/haproxy.sock" || { not_ok "haproxy started (see $WORK/haproxy.log)"; exit 1; }
    if ! wait_until 15 port_open "$APP_PORT" || ! wait_until 5 port_open "$MIRROR_PORT"; then
        not_ok "httpbin and the mirror test server started"
        exit 1
    fi
    wait_until 5 agent_up || { not_ok "HAProxy marks the agent UP"; exit 1; }
    note "startup: $(($(now_ms) - t)) ms"
}

agent_up() {
    server_is "$WORK/haproxy.sock" "$AGENTS_BACKEND" agent1 UP
}

agent_down() {
    server_is "$WORK/haproxy.sock" "$AGENTS_BACKEND" agent1 DOWN
}

# admin_status PATH [CURL-ARGS...]: the HTTP status of one admin request
# ("000" when there was no answer); the body goes to WORK/admin.body.
admin_status() {
    local path=$1
    shift
    curl -s --max-time 3 -o "$WORK/admin.body" -w '%{http_code}' "$@" \
        "http://127.0.0.1:$ADMIN_PORT$path" 2>/dev/null || true
}

# scrape FILE: GET /metrics into FILE; fails when it did not answer 200.
scrape() {
    [ "$(curl -s --max-time 3 -o "$1" -w '%{http_code}' "http://127.0.0.1:$ADMIN_PORT/metrics" 2>/dev/null)" = 200 ]
}

# metric FILE NAME [FILTER...]: the sum of the samples of NAME in the scrape
# FILE whose label set contains every FILTER (a substring such as
# 'route="r1"'; a FILTER starting with "!" must not be contained). Prints
# "none" and fails when no sample matches.
metric() {
    local file=$1 name=$2
    shift 2
    awk -v name="$name" -v filters="$*" '
        BEGIN { nf = split(filters, fl, " ") }
        /^#/ || NF < 2 { next }
        {
            key = $0; sub(/ [^ ]+$/, "", key)
            metric = key; labels = ""
            i = index(key, "{")
            if (i) { metric = substr(key, 1, i - 1); labels = substr(key, i) }
            if (metric != name) next
            for (k = 1; k <= nf; k++) {
                f = fl[k]
                if (substr(f, 1, 1) == "!") { if (index(labels, substr(f, 2))) next }
                else if (!index(labels, f)) next
            }
            sum += $NF; found = 1
        }
        END { if (!found) { print "none"; exit 1 } printf "%.0f\n", sum }' "$file"
}

# live_metric NAME [FILTER...]: metric on a fresh scrape ("none" on failure).
live_metric() {
    if scrape "$WORK/live.prom"; then metric "$WORK/live.prom" "$@"; else echo none; fi
}

# records TAG: how many requests with t=TAG the mirror test server recorded.
records() {
    curl -s --max-time 3 "http://127.0.0.1:$MIRROR_PORT/__records?t=$1" 2>/dev/null | grep -c . || true
}

# distinct_records TAG: how many distinct request numbers (n=) of tag TAG
# the mirror recorded.
distinct_records() {
    curl -s --max-time 3 "http://127.0.0.1:$MIRROR_PORT/__records?t=$1" 2>/dev/null |
        grep -oE '[?&]n=[0-9]+' | sort -u | grep -c . || true
}

# start_load NAME ARGS...: lifecycle/load.py in the background, results in
# WORK/NAME.res; sets LOAD_PID.
start_load() {
    local name=$1
    shift
    "$PY" "$LC/load.py" --port "$HTTP_PORT" --out "$WORK/$name.res" "$@" 2>"$WORK/$name.load.err" &
    LOAD_PID=$!
    track "$LOAD_PID"
}

# load_done: true once the load client started last has exited.
load_done() {
    ! kill -0 "$LOAD_PID" 2>/dev/null
}

# wait_load SECONDS: waits for the load client started last (killed after SECONDS).
wait_load() {
    wait_until "$1" load_done || stop_pid "$LOAD_PID" 1
    wait "$LOAD_PID" 2>/dev/null
}

# res_count NAME JQ-LIKE-FILTER: counts the results of load NAME for which
# the Python expression FILTER (over r, a result dict) is true.
res_count() {
    "$PY" - "$WORK/$1.res" "$2" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(sum(1 for r in rows if eval(sys.argv[2], {}, {"r": r})))
EOF
}
