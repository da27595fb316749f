# shellcheck shell=bash
# Helpers shared by tests/integration/test_metrics.sh, test_lifecycle.sh,
# test_reload_dns.sh and test_mirror_readdress.sh (bash). Source it after
# setting ROOT, WORK and AGENT_BIN; it sources
# tests/integration/lib.sh (process tracking, ports, HAProxy helpers, the
# test report) and starts the report, whose EXIT trap stops every tracked
# process and prints the closing "N passed, M failed" line.

HERE="$ROOT/tests/integration"
LC="$HERE/lifecycle"
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"

report_start '*.log'

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

# start_stack AGENT_LOG AGENT_ARGS...: starts httpbin (APP_PORT), the mirror
# test server (MIRROR_PORT, recording to WORK/mirror.records), the agent
# (AGENT_PORT, admin on ADMIN_PORT) and HAProxy (HTTP_PORT); returns once
# HAProxy marks the agent UP. Sets lib.sh's PIDs (SERVER_PID: the mirror
# test server).
start_stack() {
    local log=$1 t
    shift
    t=$(now_ms)
    start_httpbin "$APP_PORT" "$WORK/httpbin"
    start_test_server "$MIRROR_PORT" "$WORK/mirror.out" "$WORK/mirror.log" --records "$WORK/mirror.records" ||
        { not_ok "the mirror test server started"; exit 1; }
    start_agent "$AGENT_PORT" "$log" --admin-listen "127.0.0.1:$ADMIN_PORT" "$@" ||
        { not_ok "agent started"; exit 1; }
    wait_until 5 grep -q 'event.\{0,3\}start' "$log" || { not_ok "agent started (see $log)"; exit 1; }
    start_haproxy "$WORK/haproxy.cfg" "$WORK/haproxy.log"
    wait_until 5 haproxy_ready "$WORK/haproxy.sock" || { not_ok "haproxy started (see $WORK/haproxy.log)"; exit 1; }
    wait_until 15 port_open "$APP_PORT" || { not_ok "httpbin started"; exit 1; }
    wait_until 5 agent_up || { not_ok "HAProxy marks the agent UP"; exit 1; }
    note "startup: $(($(now_ms) - t)) ms"
}

# require_root WHY: fails the run ("not ok - prerequisites: root (WHY)" and
# exit 1) unless it runs as root.
require_root() {
    [ "$(id -u)" = 0 ] && return 0
    not_ok "prerequisites: root ($1)"
    exit 1
}

# catch_all_cfg FILE MIRROR...: writes to FILE an agent configuration with
# SPOP on AGENT_PORT (2 threads), admin on ADMIN_PORT, a 1 s drain and one
# route, "all", that every request matches, with each MIRROR (a YAML flow
# mapping such as '{url: "http://127.0.0.1:8000", timeout_ms: 2000}') in its
# mirrors.
catch_all_cfg() {
    local file=$1 m
    shift
    {
        printf 'spop: {listen: "127.0.0.1:%s", threads: 2}\n' "$AGENT_PORT"
        printf 'admin: {listen: "127.0.0.1:%s"}\n' "$ADMIN_PORT"
        printf 'drain_timeout_ms: 1000\nroutes:\n  - name: all\n    mirrors:\n'
        for m in "$@"; do
            printf '      - %s\n' "$m"
        done
    } >"$file"
}

# ns_setup FILE TARGET [FILE TARGET...]: the agent in a mount namespace of its
# own, where each FILE is bind-mounted over TARGET (e.g. /etc/resolv.conf,
# /etc/hosts). Writes WORK/in-ns.sh, which runs its arguments in such a
# namespace (a new one per run), and WORK/agent-in-ns.sh, which runs AGENT_BIN
# there; AGENT_BIN (what start_agent runs) becomes the latter. Both exec, so
# the PID start_agent records is the agent's. Needs root.
ns_setup() {
    local mounts=""
    while [ $# -ge 2 ]; do
        mounts="${mounts}mount --bind '$1' '$2' || exit 1
"
        shift 2
    done
    cat >"$WORK/in-ns.sh" <<EOF
#!/bin/sh
# Runs its arguments in a mount namespace of their own (ns_setup in
# tests/integration/lifecycle/common.sh).
[ "\${1:-}" = --in-ns ] || exec unshare --mount "\$0" --in-ns "\$@"
shift
${mounts}exec "\$@"
EOF
    printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$WORK/in-ns.sh" "$AGENT_BIN" >"$WORK/agent-in-ns.sh"
    chmod +x "$WORK/in-ns.sh" "$WORK/agent-in-ns.sh"
    AGENT_BIN="$WORK/agent-in-ns.sh"
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
