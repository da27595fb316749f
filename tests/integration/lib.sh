# Shared helpers for tests/integration/run.sh and tests/demo.sh (bash).
# Source it after setting WORK (a private temp dir) and AGENT_BIN (the agent
# binary). Every process started through these helpers is recorded by PID
# and stopped by stop_all.

PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=python3
GUNICORN=${GUNICORN:-/usr/bin/gunicorn}
HAPROXY=${HAPROXY:-haproxy}
STARTED_PIDS=""

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
