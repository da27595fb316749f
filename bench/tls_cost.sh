#!/usr/bin/env bash
# What TLS costs the agent per copy (about 2 minutes, bounded), on loopback:
# the agent (one worker thread) driven by build/bench/spop_loadgen at a
# fixed rate of NOTIFYs, each copied to one nginx mirror (`return 200`),
# in four scenarios run side by side in each round (max_inflight 16 and a
# 1 s connect timeout, so that the first burst of handshakes on a busy
# machine does not open the circuit):
#   http            plain HTTP/1.1, kept-alive connections
#   https           TLS (ECDSA P-256 certificate, verified), kept-alive
#   http  reconnect plain, max_connection_age_ms 100: a new connection every
#                   few copies
#   https reconnect TLS the same way: every new connection resumes the
#                   session of the previous one
# For each: agent CPU (utime+stime from /proc) per delivered copy, the
# handshakes and how many resumed. The medians of the rounds go to
# bench/results/tls-cost.md. Every process is stopped by PID on exit.
#
# Run: make build/spoa-shadow build/bench/spop_loadgen && bash bench/tls_cost.sh
# Environment: AGENT_BIN, LOADGEN, NGINX (binaries), TLS_RATE (NOTIFY/s,
# default 2000), TLS_SECONDS (per run, default 5), TLS_ROUNDS (default 3),
# TLS_KEEP (a directory that receives each scenario's last metrics scrape).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
E2E=$ROOT/bench/e2e
AGENT_BIN=${AGENT_BIN:-$ROOT/build/spoa-shadow}
LOADGEN=${LOADGEN:-$ROOT/build/bench/spop_loadgen}
NGINX=${NGINX:-nginx}
RATE=${TLS_RATE:-2000}
SECONDS_RUN=${TLS_SECONDS:-5}
ROUNDS=${TLS_ROUNDS:-3}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tls-cost.XXXXXX")
# shellcheck source=tests/integration/lib.sh
. "$ROOT/tests/integration/lib.sh"
# shellcheck source=bench/e2e/lib.sh
. "$E2E/lib.sh"
trap 'stop_all; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

die() {
    echo "tls_cost: $*" >&2
    exit 1
}
for b in "$AGENT_BIN" "$LOADGEN" "$NGINX" openssl curl; do
    command -v "$b" >/dev/null 2>&1 || die "$b is missing (make build/spoa-shadow build/bench/spop_loadgen; nginx)"
done

read -r PLAIN_PORT TLS_PORT AGENT_PORT ADMIN_PORT < <(free_ports 4)
PKI=$WORK/pki
mkdir -p "$PKI"
bash "$ROOT/tests/integration/tls/pki.sh" "$PKI" || die "certificates"
cat >"$WORK/nginx.conf" <<NGX
daemon off;
master_process off;
error_log $WORK/nginx.error.log warn;
pid $WORK/nginx.pid;
events { worker_connections 2048; }
http {
    access_log off;
    client_body_temp_path $WORK/mirror-tmp;
    keepalive_requests 10000000;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:TLS:10m;
    server { listen 127.0.0.1:$PLAIN_PORT; location / { return 200 "ok\n"; } }
    server {
        listen 127.0.0.1:$TLS_PORT ssl;
        ssl_certificate $PKI/server.pem;
        ssl_certificate_key $PKI/server.key;
        location / { return 200 "ok\n"; }
    }
}
NGX
start_nginx mirror "$WORK/nginx.conf" ""
wait_until 5 port_open "$TLS_PORT" || die "nginx did not start: $(cat "$WORK/mirror.error.log" 2>/dev/null)"

# name|url|max_connection_age_ms
SCENARIOS=(
    "http|http://127.0.0.1:$PLAIN_PORT|60000"
    "https|https://127.0.0.1:$TLS_PORT|60000"
    "http reconnect|http://127.0.0.1:$PLAIN_PORT|100"
    "https reconnect|https://127.0.0.1:$TLS_PORT|100"
)

# m FILE NAME: a metric of the bench route in a scrape (0 when absent).
m() {
    metric "$1" "$2" 'route="bench"' || echo 0
}

# run_one NAME URL AGE: one agent, one load run; appends
# "NAME|us_per_copy|copies|handshakes|resumed|dropped" to WORK/results.
run_one() {
    local name=$1 url=$2 age=$3 t0 t1 before after copies
    cat >"$WORK/agent.yaml" <<YAML
spop: { listen: "127.0.0.1:$AGENT_PORT", threads: 1 }
admin: { listen: "127.0.0.1:$ADMIN_PORT" }
log: { level: warn }
routes:
  - name: bench
    match: { hosts: ["shop.example.com"] }
    mirrors:
      - url: "$url"
        max_connection_age_ms: $age
        max_inflight: 16
        timeout_ms: 2000
        connect_timeout_ms: 1000
        tls: { ca_file: "$PKI/ca.pem" }
YAML
    [ "${url%%:*}" = http ] && sed -i '/tls: /d' "$WORK/agent.yaml"
    start_agent "$AGENT_PORT" "$WORK/agent.log" -c "$WORK/agent.yaml" --admin-listen "127.0.0.1:$ADMIN_PORT" ||
        die "agent did not start"
    wait_until 5 port_open "$ADMIN_PORT" || die "agent did not listen: $(tail -n 3 "$WORK/agent.log")"
    scrape "$WORK/before.prom"
    t0=$(proc_ticks "$AGENT_PID")
    timeout $((SECONDS_RUN + 20)) "$LOADGEN" --target "127.0.0.1:$AGENT_PORT" --connections 4 --pipeline 20 \
        --rate "$RATE" --duration "$SECONDS_RUN" >"$WORK/loadgen.out" 2>&1 || echo "tls_cost: loadgen failed" >&2
    wait_until 10 sh -c "curl -s http://127.0.0.1:$ADMIN_PORT/metrics | grep -q '^spoa_shadow_mirror_inflight{route=\"bench\".*} 0$'"
    t1=$(proc_ticks "$AGENT_PID")
    scrape "$WORK/after.prom"
    [ -n "${TLS_KEEP:-}" ] && cp "$WORK/after.prom" "$TLS_KEEP/${name// /_}.prom" # to look closer
    stop_pid "$AGENT_PID" 5
    before=$(m "$WORK/before.prom" spoa_shadow_mirror_responses_total)
    after=$(m "$WORK/after.prom" spoa_shadow_mirror_responses_total)
    copies=$((after - before))
    echo "$name|$(awk -v t=$((t1 - t0)) -v k="$TICK" -v n="$copies" 'BEGIN { printf "%.2f", n ? t / k * 1e6 / n : 0 }')|$copies|$(m "$WORK/after.prom" spoa_shadow_mirror_tls_handshakes_total)|$(m "$WORK/after.prom" spoa_shadow_mirror_tls_resumed_total)|$(m "$WORK/after.prom" spoa_shadow_mirror_dropped_total)" >>"$WORK/results"
    tail -n 1 "$WORK/results" | sed 's/^/# round '"$round"': /'
}

for round in $(seq 1 "$ROUNDS"); do
    for s in "${SCENARIOS[@]}"; do
        IFS='|' read -r name url age <<<"$s"
        run_one "$name" "$url" "$age"
    done
done

# median NAME FIELD: the median of FIELD (2..6) over the rounds of NAME.
median() {
    awk -F'|' -v n="$1" -v f="$2" '$1 == n { print $f }' "$WORK/results" | sort -g |
        awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

base=$(median http 2)
base_re=$(median "http reconnect" 2)
MD=$(
    echo "# TLS cost per copy"
    echo
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, $("$AGENT_BIN" --version 2>&1 | head -n 1), $("$NGINX" -v 2>&1), $(openssl version)."
    echo "spop_loadgen open loop at $RATE NOTIFY/s for $SECONDS_RUN s (4 connections x 20 pipelined), agent with one"
    echo "worker thread, one mirror (nginx \`return 200\`); medians of $ROUNDS rounds, the scenarios side by side in each."
    echo "Agent CPU covers the whole agent (SPOP, shaping and the copy); the difference to plain HTTP is TLS's part."
    echo
    echo "| scenario | agent CPU per copy | vs plain HTTP | copies delivered | TLS handshakes (resumed) | dropped |"
    echo "|---|---|---|---|---|---|"
    for s in "${SCENARIOS[@]}"; do
        IFS='|' read -r name _ _ <<<"$s"
        us=$(median "$name" 2)
        ref=$base
        case $name in *reconnect) ref=$base_re ;; esac
        echo "| $name | $us µs | $(awk -v a="$us" -v b="$ref" 'BEGIN { printf "%+.2f µs", a - b }') | $(median "$name" 3) | $(median "$name" 4) ($(median "$name" 5)) | $(median "$name" 6) |"
    done
)
echo "$MD"
mkdir -p "$ROOT/bench/results"
echo "$MD" >"$ROOT/bench/results/tls-cost.md"
