#!/usr/bin/env bash
# Capture and replay benchmark (about 30 s, bounded by timeouts to < 90 s),
# on loopback only:
#   a. capture throughput: the agent with one capture route (file:// under a
#      temp dir, rotate_bytes 64 MiB) driven by build/bench/spop_loadgen in
#      closed loop (4 connections x 20 pipelined NOTIFYs, ~1 KB records);
#      records/s and MB/s from the deltas of the agent's
#      spoa_shadow_capture_records_total / _bytes_total over the run, drops
#      by reason, and agent CPU (utime+stime from /proc) per record;
#   b. replay: the first records of the capture (copied at record
#      boundaries) replayed into nginx (`return 200`) with
#      `spoa-shadow replay --rate R --concurrency 32` at 2,000/s and
#      10,000/s: achieved vs requested rate and latency p50/p99.
# Prints a markdown table and writes bench/results/capture-bench.md and
# bench/results/capture-bench.json. Every process is stopped by PID on exit.
#
# Run: make build/spoa-shadow build/bench/spop_loadgen && bash bench/capture_bench.sh
# Environment: AGENT, LOADGEN, NGINX (binaries), CAPTURE_SECONDS (default 5).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
AGENT=${AGENT:-$ROOT/build/spoa-shadow}
LOADGEN=${LOADGEN:-$ROOT/build/bench/spop_loadgen}
NGINX=${NGINX:-nginx}
SECONDS_RUN=${CAPTURE_SECONDS:-5}
RESULTS=$ROOT/bench/results
WORK=$(mktemp -d "${TMPDIR:-/tmp}/capture-bench.XXXXXX")
PIDS=""
PY=${PYTHON:-/usr/bin/python3}

# cleanup: stops every started process by PID (newest first), removes WORK.
cleanup() {
    local p order=""
    for p in $PIDS; do order="$p $order"; done
    for p in $order; do
        kill -TERM "$p" 2>/dev/null
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
    echo "capture_bench: $*" >&2
    exit 1
}

for b in "$AGENT" "$LOADGEN" "$NGINX" curl "$PY"; do
    command -v "$b" >/dev/null 2>&1 || die "$b is missing (make build/spoa-shadow build/bench/spop_loadgen; nginx)"
done

# free_ports N: N loopback TCP ports that were free a moment ago.
free_ports() {
    "$PY" - "$1" <<'EOF'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
EOF
}

# wait_port PORT: waits at most 5 s for 127.0.0.1:PORT to accept.
wait_port() {
    local i=0
    while [ $i -lt 100 ]; do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

# metric NAME{LABELS}: one sample of the agent's /metrics (0 when absent).
metric() {
    curl -s --max-time 2 "http://127.0.0.1:$ADMIN_PORT/metrics" |
        awk -v s="$1" 'index($0, s " ") == 1 { v = $2 } END { print (v == "" ? 0 : v) }'
}

# cpu_ticks PID: utime + stime of PID, in clock ticks.
cpu_ticks() {
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# summary FILE KEY: the value of KEY=... in a replay summary.
summary() {
    sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p" "$1" | head -n 1
}

read -r AGENT_PORT ADMIN_PORT NGINX_PORT <<EOF
$(free_ports 3)
EOF
CAP_DIR=$WORK/capture
cat >"$WORK/agent.yaml" <<EOF
spop:
  listen: "127.0.0.1:$AGENT_PORT"
  threads: 2
admin:
  listen: "127.0.0.1:$ADMIN_PORT"
log:
  level: warn
routes:
  - name: bench
    match:
      hosts: ["shop.example.com"]
    mirrors:
      - url: "file://$CAP_DIR"
        capture:
          rotate_bytes: 67108864
          max_files: 20
          max_total_bytes: 1073741824
EOF

# ---------------------------------------------------------------- a
"$AGENT" -c "$WORK/agent.yaml" 2>"$WORK/agent.log" &
AGENT_PID=$!
PIDS="$PIDS $AGENT_PID"
wait_port "$AGENT_PORT" && wait_port "$ADMIN_PORT" || die "the agent did not start: $(tail -n 3 "$WORK/agent.log")"
L="route=\"bench\",mirror=\"file://$CAP_DIR\""

R0=$(metric "spoa_shadow_capture_records_total{$L}")
B0=$(metric "spoa_shadow_capture_bytes_total{$L}")
C0=$(cpu_ticks "$AGENT_PID")
T0=$(date +%s%N)
timeout $((SECONDS_RUN + 20)) "$LOADGEN" --target "127.0.0.1:$AGENT_PORT" --connections 4 --pipeline 20 \
    --duration "$SECONDS_RUN" --header-bytes 900 --body-bytes 100 >"$WORK/loadgen.out" 2>&1 ||
    echo "capture_bench: spop_loadgen exited non-zero (see below)" >&2
# The writer drains its queue after the last ACK: wait until it is empty.
for _ in $(seq 1 100); do
    [ "$(metric "spoa_shadow_capture_queued{$L}")" = 0 ] && break
    sleep 0.05
done
T1=$(date +%s%N)
C1=$(cpu_ticks "$AGENT_PID")
R1=$(metric "spoa_shadow_capture_records_total{$L}")
B1=$(metric "spoa_shadow_capture_bytes_total{$L}")
DROPS=""
for r in queue_full disk_full io_error shutdown; do
    DROPS="$DROPS $r=$(metric "spoa_shadow_capture_dropped_total{$L,reason=\"$r\"}")"
done
ACKS=$(sed -n "s/^throughput *\([0-9][0-9]*\) ACK\/s.*/\1/p" "$WORK/loadgen.out" | head -n 1)
sed 's/^/# loadgen: /' "$WORK/loadgen.out"
kill -TERM "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
TICK=$(getconf CLK_TCK)
read -r REC_S MB_S CPU_US RECS BYTES WALL <<EOF
$(awk -v r0="$R0" -v r1="$R1" -v b0="$B0" -v b1="$B1" -v c0="$C0" -v c1="$C1" -v t0="$T0" -v t1="$T1" \
    -v tick="$TICK" -v run="$SECONDS_RUN" 'BEGIN {
        n = r1 - r0; b = b1 - b0; wall = (t1 - t0) / 1e9
        printf "%.0f %.1f %.2f %d %d %.2f\n", n / run, b / run / 1e6, n ? (c1 - c0) / tick * 1e6 / n : 0, n, b, wall }')
EOF
echo "# capture: $RECS records, $BYTES bytes in ${SECONDS_RUN} s of load (${WALL} s with the drain); drops:$DROPS"

# ---------------------------------------------------------------- b
mkdir -p "$WORK/ngx-tmp"
cat >"$WORK/nginx.conf" <<EOF
daemon off;
master_process off;
worker_rlimit_nofile 4096;
error_log $WORK/nginx.error.log warn;
pid $WORK/nginx.pid;
events { worker_connections 2048; }
http {
    access_log off;
    client_body_temp_path $WORK/ngx-tmp;
    keepalive_requests 10000000;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / { return 200 "ok\n"; }
    }
}
EOF
"$NGINX" -c "$WORK/nginx.conf" -e "$WORK/nginx.error.log" >"$WORK/nginx.out" 2>&1 &
PIDS="$PIDS $!"
wait_port "$NGINX_PORT" || die "nginx did not start: $(cat "$WORK/nginx.out" "$WORK/nginx.error.log" 2>/dev/null)"

# subset N OUT: the first N records of the capture, copied at record
# boundaries (files in name order) into OUT; prints how many were copied.
subset() {
    "$PY" - "$CAP_DIR" "$1" "$2" <<'EOF'
import os, sys
import msgpack
d, want, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
n = 0
with open(out, "wb") as w:
    for name in sorted(f for f in os.listdir(d) if f.endswith(".msgpack")):
        data = open(os.path.join(d, name), "rb").read()
        u = msgpack.Unpacker(raw=False)
        u.feed(data)
        for _ in u:
            n += 1
            if n == want:
                break
        w.write(data[: u.tell()] if n == want else data)
        if n == want:
            break
print(n)
EOF
}

ROWS=()
JSON_RUNS=""
for spec in 2000:10000 10000:20000; do
    rate=${spec%%:*}
    want=${spec##*:}
    got=$(subset "$want" "$WORK/subset-$rate.msgpack") || die "could not read the capture (python3-msgpack?)"
    timeout 60 "$AGENT" replay "$WORK/subset-$rate.msgpack" --target "http://127.0.0.1:$NGINX_PORT" \
        --rate "$rate" --concurrency 32 --authority target >"$WORK/replay-$rate.out" 2>"$WORK/replay-$rate.err"
    rc=$?
    sed "s/^/# replay $rate: /" "$WORK/replay-$rate.out" "$WORK/replay-$rate.err"
    f=$WORK/replay-$rate.out
    ach=$(summary "$f" achieved_rps)
    p50=$(summary "$f" p50)
    p99=$(summary "$f" p99)
    ROWS+=("| replay --rate $rate (c=32) | $got records, exit $rc | achieved $ach rps | p50 $p50 ms, p99 $p99 ms |")
    JSON_RUNS="$JSON_RUNS${JSON_RUNS:+, }{\"requested_rps\": $rate, \"records\": $got, \"exit_status\": $rc, \"sent\": $(summary "$f" sent), \"2xx\": $(summary "$f" 2xx), \"failed\": $(summary "$f" failed), \"achieved_rps\": $ach, \"p50_ms\": $p50, \"p99_ms\": $p99}"
done

# ---------------------------------------------------------------- report
DROP_JSON=$(for kv in $DROPS; do printf '"%s": %s, ' "${kv%%=*}" "${kv#*=}"; done | sed 's/, $//')
MD=$(
    cat <<EOF
# Capture and replay benchmark

$(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, $("$AGENT" --version 2>&1 | head -n 1), $("$NGINX" -v 2>&1).
Capture: spop_loadgen closed loop, 4 connections x 20 pipelined, ${SECONDS_RUN} s, 900-byte headers +
100-byte body per NOTIFY; agent with 2 threads, one capture route (rotate_bytes 64 MiB).
Replay: \`spoa-shadow replay --concurrency 32 --authority target\` into nginx \`return 200\`.

| run | volume | throughput | cost / latency |
|---|---|---|---|
| capture | $RECS records, $BYTES bytes | $REC_S records/s, $MB_S MB/s | $CPU_US µs agent CPU per record (whole agent: SPOP + capture) |
| capture drops | |$DROPS | |
$(printf '%s\n' "${ROWS[@]}")
EOF
)
echo "$MD"
mkdir -p "$RESULTS"
echo "$MD" >"$RESULTS/capture-bench.md"
cat >"$RESULTS/capture-bench.json" <<EOF
{"date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "cpus": $(nproc), "capture": {"seconds": $SECONDS_RUN, "records": $RECS, "bytes": $BYTES, "records_per_s": $REC_S, "mb_per_s": $MB_S, "agent_cpu_us_per_record": $CPU_US, "loadgen_ack_per_s": ${ACKS:-null}, "dropped": {$DROP_JSON}}, "replay": [$JSON_RUNS]}
EOF
"$PY" -c 'import json, sys; json.load(open(sys.argv[1]))' "$RESULTS/capture-bench.json" || die "invalid JSON written"
