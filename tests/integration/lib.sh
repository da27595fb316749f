# Shared helpers for the tests/integration scripts, tests/demo.sh and
# bench/run_e2e.sh (bash). Source it after setting WORK (a private temp dir)
# and AGENT_BIN (the agent binary). Every process started through these
# helpers is recorded by PID and stopped by stop_all. Sourcing it only
# defines functions and variables; report_start turns on the test report.

PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=python3
GUNICORN=${GUNICORN:-/usr/bin/gunicorn}
HAPROXY=${HAPROXY:-haproxy}
STARTED_PIDS=""
# This directory (tests/integration) and the shipped HAProxy configuration.
IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SHIPPED_CONF="$IT_DIR/../../haproxy-conf"

# now_ms: wall-clock milliseconds.
now_ms() {
    date +%s%3N
}

# free_ports N: prints N distinct loopback TCP ports that were free a moment
# ago, picked at random in 20000-29999 (below the kernel's ephemeral range,
# so outgoing connections do not take them meanwhile).
free_ports() {
    "$PY" - "$1" <<'EOF'
import random, socket, sys
want, found, tries = int(sys.argv[1]), [], 0
while len(found) < want and tries < 500:
    tries += 1
    p = random.randint(20000, 29999)
    if p in found:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        found.append(p)
    except OSError:
        pass
    finally:
        s.close()
if len(found) < want:
    sys.exit("no free ports")
print(" ".join(map(str, found)))
EOF
}

# track PID: records a PID for stop_all.
track() {
    STARTED_PIDS="$STARTED_PIDS $1"
}

# stop_pid PID [SECONDS]: SIGTERM, then SIGKILL after SECONDS (default 3).
stop_pid() {
    local pid=$1 i=0
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null
    while kill -0 "$pid" 2>/dev/null && [ $i -lt $((${2:-3} * 20)) ]; do
        # A dead but unreaped child still answers kill -0.
        grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && break
        sleep 0.05
        i=$((i + 1))
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

# stop_all: stops every tracked process, newest first.
stop_all() {
    local pid newest_first=""
    for pid in $STARTED_PIDS; do
        newest_first="$pid $newest_first"
    done
    for pid in $newest_first; do
        stop_pid "$pid"
    done
    STARTED_PIDS=""
}

# wait_until SECONDS CMD...: runs CMD every 50 ms until it succeeds;
# fails after SECONDS.
wait_until() {
    local limit=$(($1 * 20)) i=0
    shift
    while [ $i -lt $limit ]; do
        "$@" && return 0
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

# port_open PORT: true when something accepts connections on 127.0.0.1:PORT.
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# start_httpbin PORT LOGPREFIX: starts httpbin under gunicorn (2 workers)
# with its access log in LOGPREFIX.access (one line per request:
# "<request line>" <status> host=<Host> length=<Content-Length>); sets HTTPBIN_PID.
start_httpbin() {
    if [ -x "$GUNICORN" ]; then
        set -- "$GUNICORN" "$1" "$2"
    else
        set -- "$PY -m gunicorn" "$1" "$2"
    fi
    $1 -b "127.0.0.1:$2" -w 2 --error-logfile "$3.log" --access-logfile "$3.access" \
        --access-logformat '"%(r)s" %(s)s host=%({host}i)s length=%({content-length}i)s' \
        httpbin:app >/dev/null 2>&1 &
    HTTPBIN_PID=$!
    track "$HTTPBIN_PID"
}

# start_recorder NAME PORT: httpbin under gunicorn (4 workers) behind
# recording_app.py, recording every request it gets to WORK/NAME.jsonl and
# logging to WORK/NAME.err; sets RECORDER_PID (the master, tracked).
start_recorder() {
    RECORD_FILE="$WORK/$1.jsonl" RECORDER_NAME="$1" \
        "$GUNICORN" --chdir "$IT_DIR" -b "127.0.0.1:$2" -w 4 --graceful-timeout 2 \
        --error-logfile "$WORK/$1.err" recording_app:app >/dev/null 2>&1 &
    RECORDER_PID=$!
    track "$RECORDER_PID"
}

# workers_of PID: the PIDs of PID's children.
workers_of() {
    ps -o pid= --ppid "$1" 2>/dev/null | tr -s ' \n' ' '
}

# kill_workers: SIGKILLs the PIDs in WORKER_PIDS (gunicorn workers left
# behind by a master that had to be SIGKILLed); a script sets
# REPORT_CLEANUP=kill_workers to run it after stop_all.
kill_workers() {
    local pid
    for pid in ${WORKER_PIDS:-}; do
        kill -KILL "$pid" 2>/dev/null
    done
}

# start_agent PORT LOG [ARGS...]: starts build/spoa-shadow on 127.0.0.1:PORT
# with its stderr appended to LOG. Its admin endpoint goes to a free port
# (127.0.0.1:0) unless ARGS name one with --admin-listen. Sets AGENT_PID (the agent itself) and
# AGENT_RC (a file that receives its exit status once it exits).
start_agent() {
    local port=$1 log=$2
    shift 2
    : "${AGENT_BIN:?AGENT_BIN must be set}"
    AGENT_RC="$WORK/agent-rc.$port.$(now_ms)"
    (
        "$AGENT_BIN" --listen "127.0.0.1:$port" --admin-listen 127.0.0.1:0 "$@" 2>>"$log" &
        echo $! >"$AGENT_RC.pid"
        wait $!
        echo $? >"$AGENT_RC"
    ) 2>/dev/null &
    track "$!"
    wait_until 2 test -s "$AGENT_RC.pid" || return 1
    AGENT_PID=$(cat "$AGENT_RC.pid")
    track "$AGENT_PID"
}

# start_haproxy CFG LOG: starts HAProxy in the foreground mode (-db) in the
# background with stdout and stderr in LOG; sets HAPROXY_PID.
start_haproxy() {
    "$HAPROXY" -db -f "$1" >"$2" 2>&1 &
    HAPROXY_PID=$!
    track "$HAPROXY_PID"
}

# haproxy_ready SOCKET: true once HAProxy answers on its stats socket (its
# listeners are bound by then).
haproxy_ready() {
    haproxy_cmd "$1" "show info" 2>/dev/null | grep -q '^Uptime'
}

# haproxy_cmd SOCKET COMMAND: sends one command to HAProxy's stats socket
# and prints the answer.
haproxy_cmd() {
    "$PY" - "$1" "$2" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
sys.stdout.write(out.decode(errors="replace"))
EOF
}

# server_field SOCKET BACKEND SERVER FIELD: one column of "show stat" for a
# server (e.g. status, check_status), looked up by the CSV header's name.
server_field() {
    haproxy_cmd "$1" "show stat" 2>/dev/null | awk -F, -v px="$2" -v sv="$3" -v f="$4" '
        NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) col[$i] = i; next }
        $1 == px && $2 == sv { print $(col[f]); exit }'
}

# server_is SOCKET BACKEND SERVER STATUS: true when the server's status is STATUS.
server_is() {
    [ "$(server_field "$1" "$2" "$3" status)" = "$4" ]
}

# ---------------------------------------------------------------- metrics

# These read the agent's admin endpoint at 127.0.0.1:ADMIN_PORT.

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

# route_settled ROUTE: nothing of the route is in flight or queued any more.
route_settled() {
    scrape "$WORK/settle.prom" &&
        [ "$(metric "$WORK/settle.prom" spoa_shadow_mirror_inflight "route=\"$1\"")" = 0 ] &&
        [ "$(metric "$WORK/settle.prom" spoa_shadow_mirror_queued "route=\"$1\"")" = 0 ]
}

# route_run ROUTE: COUNT requests (mirroring/load_client.py: half GET, half
# POST) with Host ROUTE.test through HAProxy at 127.0.0.1:HTTP_PORT, checks
# that each answered 200 and was ACKed as mirrored, then waits for the route
# to settle and scrapes the metrics into WORK/ROUTE.prom.
route_run() {
    local route=$1 t ms ok200 acked
    t=$(now_ms)
    "$PY" "$IT_DIR/mirroring/load_client.py" --port "$HTTP_PORT" --host "$route.test" --prefix "$route" \
        --count "$COUNT" --parallel 8 --deadline 60 --out "$WORK/$route.res" 2>"$WORK/$route.client.err"
    ms=$(($(now_ms) - t))
    ok200=$(grep -c '"status": *200' "$WORK/$route.res")
    acked=$(grep -c '"mirrored": *"1"' "$WORK/$route.res")
    note "$route: $COUNT requests in $ms ms"
    check "$route: all $COUNT client requests answered 200 (got $ok200)" [ "$ok200" = "$COUNT" ]
    check "$route: every request ACKed with mirrored=1 (got $acked)" [ "$acked" = "$COUNT" ]
    wait_until 10 route_settled "$route" || note "$route: copies still in flight after 10 s"
    scrape "$WORK/$route.prom"
}

# route_metric ROUTE NAME [FILTER...]: a metric of the route in the scrape
# route_run left in WORK/ROUTE.prom (0 when absent).
route_metric() {
    local route=$1 name=$2
    shift 2
    metric "$WORK/$route.prom" "$name" "route=\"$route\"" "$@" || echo 0
}

# live_metric NAME [FILTER...]: metric on a fresh scrape ("none" on failure).
live_metric() {
    if scrape "$WORK/live.prom"; then metric "$WORK/live.prom" "$@"; else echo none; fi
}

# ---------------------------------------------------------------- report

# ok DESCRIPTION / not_ok DESCRIPTION: one passed / failed check, counted in
# PASSED / FAILED and printed as "ok - ..." / "not ok - ...".
ok() {
    PASSED=$((PASSED + 1))
    echo "ok - $*"
}

not_ok() {
    FAILED=$((FAILED + 1))
    echo "not ok - $*"
}

# note TEXT: a "# TEXT" comment line in the report.
note() {
    echo "# $*"
}

# run_scenario NAME CMD...: runs CMD, a test program running its scenario
# NAME (killed after 30 s), with its output in WORK/NAME.out and .err; shows
# its "#" lines and reports its "ok - NAME: ..." line. It fails unless CMD
# exited 0 having printed that line (a sanitizer or leak report after an ok
# line fails it too), and then shows the last 30 lines of its stderr but
# those matching RUN_SCENARIO_QUIET (a grep -E pattern), when set.
run_scenario() {
    local s=$1 rc line why desc
    shift
    timeout 30 "$@" >"$WORK/$s.out" 2>"$WORK/$s.err"
    rc=$?
    grep '^#' "$WORK/$s.out"
    line=$(grep -E "^(not )?ok - $s:" "$WORK/$s.out" | tail -n 1)
    case "$rc:$line" in
    0:"ok - "*)
        ok "${line#ok - }"
        return 0
        ;;
    esac
    why="exit status $rc"
    [ "$rc" -eq 124 ] && why="killed after 30 s"
    [ -n "$line" ] && [ "$rc" -ne 0 ] && [ "${line#ok - }" != "$line" ] && why="$why: sanitizer or leak report"
    desc=${line#not ok - }
    desc=${desc#ok - }
    not_ok "${desc:-$s} ($why)"
    if [ -n "${RUN_SCENARIO_QUIET:-}" ]; then
        grep -Ev "$RUN_SCENARIO_QUIET" "$WORK/$s.err"
    else
        cat "$WORK/$s.err"
    fi | tail -n 30 | sed 's/^/#   /'
    return 1
}

# check DESCRIPTION CMD...: ok when CMD succeeds, not_ok otherwise.
check() {
    local desc=$1
    shift
    if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# run_checks CMD...: runs a checker program (stderr merged), echoes its
# output and counts its "ok - " / "not ok - " lines as checks; a checker
# that printed no check at all counts as one failure, named after CMD's
# second and third words ("verify.py primary printed no check").
run_checks() {
    local line seen=0
    while IFS= read -r line; do
        case $line in
            "ok - "*) PASSED=$((PASSED + 1)) seen=1 ;;
            "not ok - "*) FAILED=$((FAILED + 1)) seen=1 ;;
        esac
        echo "$line"
    done < <("$@" 2>&1)
    [ "$seen" = 1 ] || not_ok "${2##*/} ${3:-} printed no check"
}

# report_start [GLOB...]: starts the report: PASSED=0, FAILED=0, T0=now, an
# EXIT trap (report_finish) and an INT/TERM trap that fails the run. GLOBs
# (relative to WORK) name the logs whose last lines are shown when the run
# fails. A script may set REPORT_CLEANUP to a command that report_finish
# runs after stop_all (e.g. to unmount something).
report_start() {
    PASSED=0
    FAILED=0
    T0=$(now_ms)
    REPORT_LOGS=("$@")
    REPORT_CLEANUP=${REPORT_CLEANUP:-}
    trap report_finish EXIT
    trap 'not_ok "interrupted"; exit 130' INT TERM
}

# report_skip REASON: ends a run that cannot apply here (e.g. a feature the
# HAProxy under test lacks): prints "# SKIPPED: REASON"; report_finish then
# prints "result: skipped: REASON" and exits 77 (the checks made before still
# count: a failure among them still fails the run).
report_skip() {
    REPORT_SKIPPED=$1
    note "SKIPPED: $1"
    exit 0
}

# report_finish: the EXIT trap of report_start. Stops every tracked process,
# runs REPORT_CLEANUP, keeps WORK (and shows the end of each log) when
# something failed or KEEP_WORK is set, removes it otherwise; prints the
# total time and "N passed, M failed"; exits 0 only when nothing failed, 77
# after report_skip.
report_finish() {
    local rc=$? pat f
    trap - EXIT INT TERM
    stop_all
    [ -n "$REPORT_CLEANUP" ] && $REPORT_CLEANUP
    if [ "$FAILED" -gt 0 ] || [ "$rc" -ne 0 ] || [ -n "${KEEP_WORK:-}" ]; then
        note "files kept in $WORK"
        for pat in "${REPORT_LOGS[@]}"; do
            for f in "$WORK"/$pat; do
                [ -s "$f" ] || continue
                note "--- last lines of $f"
                tail -n 5 "$f" | cut -c 1-300 | sed 's/^/#   /'
            done
        done
    else
        rm -rf "$WORK"
    fi
    note "total time: $(($(now_ms) - T0)) ms"
    echo "$PASSED passed, $FAILED failed"
    if [ -n "${REPORT_SKIPPED:-}" ] && [ "$FAILED" -eq 0 ] && [ "$rc" -eq 0 ]; then
        echo "result: skipped: $REPORT_SKIPPED"
        exit 77
    fi
    [ "$FAILED" -eq 0 ] && [ "$rc" -eq 0 ] && exit 0
    exit 1
}

# require ITEM...: fails the run ("not ok - prerequisites: ..." and exit 1)
# unless every ITEM is there: a program (name or path) that can be run, or
# py:MODULE, a module that python3 imports (py:MODULE=PACKAGE when its Debian
# package is not python3-MODULE).
require() {
    local missing="" item module package
    for item in "$@"; do
        case $item in
            py:*=*)
                module=${item#py:} package=${module#*=} module=${module%%=*}
                "$PY" -c "import $module" 2>/dev/null || missing="$missing $package"
                ;;
            py:*) "$PY" -c "import ${item#py:}" 2>/dev/null || missing="$missing python3-${item#py:}" ;;
            *) command -v "$item" >/dev/null 2>&1 || missing="$missing $item" ;;
        esac
    done
    if [ -n "$missing" ]; then
        not_ok "prerequisites:$missing (run make deps && make)"
        exit 1
    fi
}

# ---------------------------------------------------------------- configs

# render_template TEMPLATE OUT: copies TEMPLATE to OUT with every @NAME@
# marker replaced by the value of the shell variable NAME (values must not
# hold '#'). Fails, leaving OUT alone, when a marker outside comment lines
# names an unset or empty variable or an '@' is left over there.
render_template() {
    local name vars tmp="$2.tmp"
    vars=$(grep -v '^[[:space:]]*#' "$1" | grep -oE '@[A-Z][A-Z0-9_]*@' | sort -u | tr -d '@')
    cp "$1" "$tmp" || return 1
    for name in $vars; do
        [ -n "${!name:-}" ] || { echo "render_template: $name is not set" >&2; return 1; }
        sed -i "s#@$name@#${!name}#g" "$tmp" || return 1
    done
    ! grep -v '^[[:space:]]*#' "$tmp" | grep -q '@' && mv "$tmp" "$2"
}

# render_haproxy_config TEMPLATE: writes WORK/mirror.spoe.conf, the shipped
# haproxy-conf/mirror.spoe.conf with "timeout processing 500ms" (so that a
# scheduling hiccup on a busy test machine cannot turn an ACK into a
# timeout), and WORK/haproxy.cfg from TEMPLATE: each "@SHIPPED <keyword>@"
# line becomes the first line of haproxy-conf/haproxy.cfg whose first word
# is <keyword>, then the other markers are filled in by render_template.
# Sets AGENTS_BACKEND (the SPOE file's use-backend) first, so TEMPLATE may
# use @AGENTS_BACKEND@. Fails when a keyword, a variable or the backend is
# missing.
render_haproxy_config() {
    AGENTS_BACKEND=$(awk '$1 == "use-backend" { print $2; exit }' "$SHIPPED_CONF/mirror.spoe.conf")
    [ -n "$AGENTS_BACKEND" ] || return 1
    sed 's/^\([[:space:]]*timeout processing\).*/\1 500ms/' "$SHIPPED_CONF/mirror.spoe.conf" >"$WORK/mirror.spoe.conf" &&
        grep -q '^[[:space:]]*timeout processing 500ms$' "$WORK/mirror.spoe.conf" || return 1
    awk '
        FNR == NR { if (!($1 in shipped)) shipped[$1] = $0; next }
        $1 == "@SHIPPED" {
            key = $2; sub(/@$/, "", key)
            if (!(key in shipped)) { print "missing in shipped config: " key > "/dev/stderr"; exit 1 }
            print shipped[key]; next
        }
        { print }' "$SHIPPED_CONF/haproxy.cfg" "$1" >"$WORK/haproxy.cfg.in" &&
        render_template "$WORK/haproxy.cfg.in" "$WORK/haproxy.cfg"
}

# require_agent_config CFG: stops the run (not_ok with the agent's messages,
# exit 1) unless `spoa-shadow -c CFG --check-config` accepts CFG.
require_agent_config() {
    "$AGENT_BIN" -c "$1" --check-config >"$1.check" 2>&1 && return 0
    not_ok "spoa-shadow --check-config accepts $(basename "$1")"
    sed 's/^/#   /' "$1.check"
    exit 1
}

# ---------------------------------------------------------------- test server

# start_test_server PORT OUT ERR [ARGS...]: starts mirror_test_server.py
# (ARGS: e.g. --records FILE) on 127.0.0.1:PORT, 0 for a port of its
# choosing, with stdout in OUT and stderr in ERR, and waits at most 5 s for
# its "port=N" line. Sets SERVER_PID (tracked for stop_all) and SERVER_PORT;
# fails when the server exited or did not listen in time.
start_test_server() {
    local port=$1 out=$2 err=$3 i=0
    shift 3
    "$PY" "$IT_DIR/mirror_test_server.py" "$port" "$@" >"$out" 2>"$err" &
    SERVER_PID=$!
    track "$SERVER_PID"
    SERVER_PORT=""
    while [ $i -lt 100 ]; do
        SERVER_PORT=$(sed -n 's/^port=\([0-9][0-9]*\)$/\1/p' "$out" 2>/dev/null)
        [ -n "$SERVER_PORT" ] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || return 1
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}
