#!/usr/bin/env bash
# HTTP/2 mirrors against real servers on loopback: HAProxy (the shipped
# SPOE setup) fronts a plain nginx; the agent (one worker thread) mirrors
# 100% of each route, with certificates this script makes with the openssl
# command (tls/pki.sh):
#   h2c     cleartext HTTP/2 with prior knowledge to nghttpd --no-tls
#           -> every copy delivered, over one connection
#   h2      HTTP/2 over TLS (ALPN h2) to nghttpd --max-concurrent-streams 1
#           -> every copy delivered, one stream at a time
#   autoh2  protocol auto to that server -> ALPN picks h2, every copy delivered
#   auto1   protocol auto to nginx, HTTP/1.1 only -> every copy delivered as HTTP/1.1
#   noh2    protocol h2 to that nginx -> every copy refused (tls_handshake,
#           then circuit_open), logged as alpn_refused
#   goaway  h2c to a python3-h2 server sending GOAWAY every few requests
#           -> GETs it did not process go again, POSTs are dropped and
#           counted as refused retries; every copy accounted for
# For each: every client request answers 200 from the primary, was ACKed,
# and HAProxy logged no SPOE error; the agent exits 0 on SIGTERM. Then
# `replay --protocol` sends the route h2c's capture to nghttpd as h2c and as
# h2 over TLS.
#
# Run from anywhere: `make && bash tests/integration/test_mirror_h2.sh`.
# Environment: HAPROXY (default haproxy), AGENT_BIN (default
# build/spoa-shadow), NGINX (default nginx), NGHTTPD (default nghttpd),
# H2_REQUESTS (default 200 per route), KEEP_WORK=1 keeps the temp dir.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/tests/integration"
AGENT_BIN=${AGENT_BIN:-$ROOT/build/spoa-shadow}
NGINX=${NGINX:-nginx}
NGHTTPD=${NGHTTPD:-nghttpd}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spoa-h2.XXXXXX")
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"
report_start agent.log haproxy.log nginx.error.log '*.client.err' 'nghttpd-*.log' goaway.err
COUNT=${H2_REQUESTS:-200}

require "$AGENT_BIN" "$HAPROXY" "$NGINX" "$NGHTTPD" openssl py:h2
note "$("$HAPROXY" -v | head -n 1)"

# shellcheck disable=SC2034  # read by render_template
read -r HTTP_PORT PRIMARY_PORT AGENT_PORT ADMIN_PORT H2C_PORT H2_PORT TLS1_PORT GOAWAY_PORT < <(free_ports 8)
# shellcheck disable=SC2034
V1_PORT=$PRIMARY_PORT PKI="$WORK/pki"
mkdir -p "$PKI" "$WORK/ngx-tmp" "$WORK/htdocs" "$WORK/capture"
if ! bash "$HERE/tls/pki.sh" "$PKI"; then
    not_ok "certificates made with openssl"
    exit 1
fi
if ! render_haproxy_config "$HERE/mirroring/haproxy.cfg.in" ||
    ! render_template "$HERE/h2/agent.yaml.in" "$WORK/agent.yaml" ||
    ! render_template "$HERE/h2/nginx.conf.in" "$WORK/nginx.conf"; then
    not_ok "configuration rendered from the templates"
    exit 1
fi
require_agent_config "$WORK/agent.yaml"

# A protocol that contradicts the URL scheme is refused at load, naming the key.
sed 's|protocol: h2c|protocol: h2|' "$HERE/h2/agent.yaml.in" >"$WORK/bad.yaml.in"
render_template "$WORK/bad.yaml.in" "$WORK/bad.yaml"
"$AGENT_BIN" -c "$WORK/bad.yaml" --check-config >"$WORK/bad.out" 2>&1
rc=$?
check "protocol h2 on an http:// URL: --check-config exits 2 (got $rc)" [ "$rc" = 2 ]
check "... naming file, line and key (routes[0].mirrors[0].protocol)" \
    grep -q "bad.yaml:[0-9]*: routes\[0\].mirrors\[0\].protocol: h2 is HTTP/2 over TLS" "$WORK/bad.out"

"$NGINX" -c "$WORK/nginx.conf" -e "$WORK/nginx.error.log" >"$WORK/nginx.out" 2>&1 &
track $!
"$NGHTTPD" --no-tls -v -d "$WORK/htdocs" "$H2C_PORT" >"$WORK/nghttpd-h2c.log" 2>&1 &
track $!
"$NGHTTPD" -v --max-concurrent-streams 1 -d "$WORK/htdocs" "$H2_PORT" "$PKI/server.key" "$PKI/server.pem" \
    >"$WORK/nghttpd-h2.log" 2>&1 &
track $!
"$PY" "$HERE/h2/goaway_server.py" "$GOAWAY_PORT" 10 >"$WORK/goaway.out" 2>"$WORK/goaway.err" &
GOAWAY_PID=$!
track "$GOAWAY_PID"
start_agent "$AGENT_PORT" "$WORK/agent.log" -c "$WORK/agent.yaml" --admin-listen "127.0.0.1:$ADMIN_PORT" ||
    { not_ok "agent started"; exit 1; }
start_haproxy "$WORK/haproxy.cfg" "$WORK/haproxy.log"
for p in "$H2C_PORT" "$H2_PORT" "$TLS1_PORT" "$GOAWAY_PORT" "$HTTP_PORT"; do
    wait_until 5 port_open "$p" || { not_ok "port $p open (nginx, nghttpd, the GOAWAY server, HAProxy)"; exit 1; }
done
wait_until 5 grep -q 'event=start ' "$WORK/agent.log" || { not_ok "the agent started"; exit 1; }
check "HAProxy marks the agent UP (spop-check)" \
    wait_until 5 server_is "$WORK/haproxy.sock" "$AGENTS_BACKEND" agent1 UP

# delivered ROUTE [FILTER...]: every copy to the route's mirror (the one
# FILTER selects) answered (any status), none dropped.
delivered() {
    local route=$1 resp sampled dropped
    shift
    resp=$(route_metric "$route" spoa_shadow_mirror_responses_total "$@")
    sampled=$(route_metric "$route" spoa_shadow_mirror_sampled_total "$@")
    dropped=$(route_metric "$route" spoa_shadow_mirror_dropped_total "$@")
    check "$route: $COUNT copies sampled, $COUNT answered (got $sampled, $resp)" \
        [ "$sampled" = "$COUNT" -a "$resp" = "$COUNT" ]
    check "$route: no copy dropped (got $dropped)" [ "$dropped" = 0 ]
}

# seen LOG PREFIX: requests nghttpd logged (its -v trace) whose path starts with PREFIX.
seen() {
    grep -c "recv (stream_id=[0-9]*) :path: $2/" "$1" || true
}

route_run h2c
delivered h2c '!mirror="file:'
check "h2c: the capture mirror recorded every request ($(route_metric h2c spoa_shadow_capture_records_total) of $COUNT)" \
    [ "$(route_metric h2c spoa_shadow_capture_records_total)" = "$COUNT" ]
got=$(seen "$WORK/nghttpd-h2c.log" /h2c)
opened=$(route_metric h2c spoa_shadow_mirror_connections_opened_total '!mirror="file:')
check "h2c: nghttpd received every copy over HTTP/2 ($got of $COUNT)" [ "$got" = "$COUNT" ]
check "h2c: the copies shared one connection (opened: $opened)" [ "$opened" = 1 ]
reused=$(route_metric h2c spoa_shadow_mirror_reused_total '!mirror="file:')
check "h2c: reused for all but the first (reused: $reused)" [ "$reused" = $((COUNT - 1)) ]

route_run h2
delivered h2
got=$(seen "$WORK/nghttpd-h2.log" /h2)
check "h2: nghttpd (TLS, one stream at a time) received every copy ($got of $COUNT)" [ "$got" = "$COUNT" ]
check "h2: over $(route_metric h2 spoa_shadow_mirror_connections_opened_total) connection(s), $(route_metric h2 spoa_shadow_mirror_tls_handshakes_total) TLS handshake(s)" \
    [ "$(route_metric h2 spoa_shadow_mirror_connections_opened_total)" -le 2 ]

route_run autoh2
delivered autoh2
got=$(seen "$WORK/nghttpd-h2.log" /autoh2)
check "autoh2: ALPN picked h2, nghttpd received every copy ($got of $COUNT)" [ "$got" = "$COUNT" ]

route_run auto1
delivered auto1
got=$(grep -c "^$TLS1_PORT HTTP/1.1 .* /auto1/" "$WORK/nginx.access.log" || true)
check "auto1: ALPN picked http/1.1, nginx received every copy as HTTP/1.1 ($got of $COUNT)" [ "$got" = "$COUNT" ]

route_run noh2
refused=$(route_metric noh2 spoa_shadow_mirror_dropped_total 'reason="tls_handshake"')
check "noh2: 0 copies delivered (responses: $(route_metric noh2 spoa_shadow_mirror_responses_total))" \
    [ "$(route_metric noh2 spoa_shadow_mirror_responses_total)" = 0 ]
check "noh2: refusals counted as tls_handshake ($refused), every copy dropped ($(route_metric noh2 spoa_shadow_mirror_dropped_total) of $COUNT)" \
    [ "$refused" -gt 0 -a "$(route_metric noh2 spoa_shadow_mirror_dropped_total)" = "$COUNT" ]
check "noh2: the refusal is logged as alpn_refused naming the mirror" \
    grep -q 'level=warn event=alpn_refused mirror=noh2/0 ' "$WORK/agent.log"
check "noh2: nginx saw no request" [ "$(grep -c " /noh2/" "$WORK/nginx.access.log" || true)" = 0 ]

route_run goaway
resp=$(route_metric goaway spoa_shadow_mirror_responses_total)
dropped=$(route_metric goaway spoa_shadow_mirror_dropped_total)
io=$(route_metric goaway spoa_shadow_mirror_dropped_total 'reason="io_error"')
refused_retries=$(route_metric goaway spoa_shadow_mirror_retries_refused_total)
opened=$(route_metric goaway spoa_shadow_mirror_connections_opened_total)
stop_pid "$GOAWAY_PID"
read -r s_answered s_refused s_goaways s_conns < <(sed -n 's/^answered=\([0-9]*\) refused=\([0-9]*\) goaways=\([0-9]*\) connections=\([0-9]*\)$/\1 \2 \3 \4/p' "$WORK/goaway.out")
note "goaway: server answered ${s_answered:-?}, left ${s_refused:-?} unprocessed, sent ${s_goaways:-?} GOAWAYs on ${s_conns:-?} connections"
note "goaway: agent: $resp answered, $dropped dropped ($io io_error), $refused_retries refused retries, $opened connections"
check "goaway: every copy accounted for: answered + dropped = sampled ($resp + $dropped = $COUNT)" \
    [ $((resp + dropped)) = "$COUNT" ]
check "goaway: the server answered exactly the copies the agent counted (${s_answered:-none} = $resp)" \
    [ "${s_answered:-none}" = "$resp" ]
check "goaway: each GOAWAY made the agent open a new connection (${s_goaways:-none} GOAWAYs, $opened connections)" \
    [ "${s_goaways:-0}" -gt 1 -a "$opened" -ge "${s_goaways:-0}" ]
check "goaway: only refused copies were dropped, as io_error ($io of $dropped)" [ "$io" = "$dropped" ]
# A GET is sent once more only: one refused twice (its second connection
# went away too) is dropped without counting as a refused retry.
check "goaway: refused POSTs are counted as refused retries, GETs went again ($refused_retries of $dropped drops were POSTs)" \
    [ "$refused_retries" -le "$dropped" -a "$refused_retries" -ge $((dropped / 2)) ]
check "goaway: some copies were refused and GETs among them went again (dropped $dropped; reused $(route_metric goaway spoa_shadow_mirror_reused_total))" \
    [ "$dropped" -gt 0 ]

spoe_errors=$(grep -c 'SPOE:' "$WORK/haproxy.log" || true)
check "HAProxy logged no SPOE error (got $spoe_errors)" [ "$spoe_errors" = 0 ]
stop_pid "$AGENT_PID" 10
check "the agent exits 0 on SIGTERM" [ "$(cat "$AGENT_RC" 2>/dev/null)" = 0 ]

# replay PROTOCOL URL LOG PREFIX: the route h2c's capture (finished when the
# agent stopped) to URL with --protocol PROTOCOL; every request must reach
# the nghttpd whose trace is LOG, under PREFIX.
replay() {
    local proto=$1 url=$2 log=$3 prefix=$4 rc got
    timeout 60 "$AGENT_BIN" replay "$WORK/capture" --target "$url" --protocol "$proto" --ca-file "$PKI/ca.pem" \
        --rate 500 --authority target >"$WORK/replay-$proto.out" 2>"$WORK/replay-$proto.err"
    rc=$?
    got=$(seen "$log" "$prefix")
    check "replay --protocol $proto to $url: exit 0 (got $rc)" [ "$rc" = 0 ]
    check "replay --protocol $proto: every captured request reached nghttpd over HTTP/2 ($got of $COUNT)" \
        [ "$got" = "$COUNT" ]
}
replay h2c "http://127.0.0.1:$H2C_PORT/replay" "$WORK/nghttpd-h2c.log" /replay
replay h2 "https://localhost:$H2_PORT/replay" "$WORK/nghttpd-h2.log" /replay
