#!/usr/bin/env bash
# TLS mirrors against real servers on loopback: HAProxy (the shipped SPOE
# setup) fronts a plain nginx; the agent (one worker thread) mirrors 100% of
# each route to an nginx TLS server, with certificates this script makes
# with the openssl command (tls/pki.sh):
#   tls       verified by IP (SAN) and by name (server_name, SNI, TLS 1.3)
#             -> every copy delivered over TLS; reconnects resume sessions
#   mtls      the server requires a client certificate; the agent has one
#             -> every copy delivered, nginx saw the certificate verified
#   nocert    a server (openssl s_server) requiring a client certificate,
#             none given                             -> dropped: tls_handshake
#   wrongca   verified against an unrelated CA        -> dropped: tls_verify
#   expired   a certificate that expired in 2020     -> dropped: tls_verify
#   insecure  the expired one, insecure_skip_verify  -> delivered, warning logged
# For each: every client request answers 200 from the primary and was
# ACKed; refused routes deliver nothing. Then `replay` sends the route tls's
# capture to the TLS server, and the agent exits 0 on SIGTERM.
#
# Run from anywhere: `make && bash tests/integration/test_mirror_tls.sh`.
# Environment: HAPROXY (default haproxy), AGENT_BIN (default
# build/spoa-shadow), NGINX (default nginx), TLS_REQUESTS (default 200 per
# route), KEEP_WORK=1 keeps the temp dir even on success.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/tests/integration"
AGENT_BIN=${AGENT_BIN:-$ROOT/build/spoa-shadow}
NGINX=${NGINX:-nginx}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spoa-tls.XXXXXX")
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"
report_start agent.log haproxy.log nginx.error.log '*.client.err' replay.err
COUNT=${TLS_REQUESTS:-200}

require "$AGENT_BIN" "$HAPROXY" "$NGINX" openssl
note "$("$HAPROXY" -v | head -n 1)"

# shellcheck disable=SC2034  # read by render_template
read -r HTTP_PORT PRIMARY_PORT AGENT_PORT ADMIN_PORT TLS_PORT MTLS_PORT EXPIRED_PORT REFUSE_PORT < <(free_ports 8)
# shellcheck disable=SC2034
V1_PORT=$PRIMARY_PORT PKI="$WORK/pki"
mkdir -p "$PKI" "$WORK/ngx-tmp" "$WORK/capture"
if ! bash "$HERE/tls/pki.sh" "$PKI"; then
    not_ok "certificates made with openssl"
    exit 1
fi
if ! render_haproxy_config "$HERE/mirroring/haproxy.cfg.in" ||
    ! render_template "$HERE/tls/agent.yaml.in" "$WORK/agent.yaml" ||
    ! render_template "$HERE/tls/nginx.conf.in" "$WORK/nginx.conf"; then
    not_ok "configuration rendered from the templates"
    exit 1
fi
require_agent_config "$WORK/agent.yaml"

# A key that does not match its certificate is refused at load, naming the key.
sed "s|@PKI@/client.key|$PKI/server.key|" "$HERE/tls/agent.yaml.in" >"$WORK/bad.yaml.in"
render_template "$WORK/bad.yaml.in" "$WORK/bad.yaml"
"$AGENT_BIN" -c "$WORK/bad.yaml" --check-config >"$WORK/bad.out" 2>&1
rc=$?
check "a client key that does not match its certificate: --check-config exits 2 (got $rc)" [ "$rc" = 2 ]
check "... naming file, line and key (routes[1].mirrors[0].tls.key_file)" \
    grep -q "bad.yaml:[0-9]*: routes\[1\].mirrors\[0\].tls.key_file: .*key values mismatch" "$WORK/bad.out"

"$NGINX" -c "$WORK/nginx.conf" -e "$WORK/nginx.error.log" >"$WORK/nginx.out" 2>&1 &
track $!
openssl s_server -quiet -accept "127.0.0.1:$REFUSE_PORT" -cert "$PKI/server.pem" -key "$PKI/server.key" \
    -CAfile "$PKI/client-ca.pem" -Verify 1 -www </dev/null >"$WORK/s_server.out" 2>&1 &
track $!
start_agent "$AGENT_PORT" "$WORK/agent.log" -c "$WORK/agent.yaml" --admin-listen "127.0.0.1:$ADMIN_PORT" ||
    { not_ok "agent started"; exit 1; }
start_haproxy "$WORK/haproxy.cfg" "$WORK/haproxy.log"
if ! wait_until 5 port_open "$TLS_PORT" || ! wait_until 5 port_open "$REFUSE_PORT" || ! wait_until 5 port_open "$HTTP_PORT" ||
    ! wait_until 5 grep -q 'event=start ' "$WORK/agent.log"; then
    not_ok "nginx, the agent and HAProxy started"
    exit 1
fi
check "HAProxy marks the agent UP (spop-check)" \
    wait_until 5 server_is "$WORK/haproxy.sock" "$AGENTS_BACKEND" agent1 UP
check "insecure_skip_verify is logged as a warning naming the mirror" \
    grep -q 'level=warn event=tls_insecure mirror=insecure/0' "$WORK/agent.log"

# logged PORT PATTERN: nginx access log lines of the server on PORT matching PATTERN.
logged() {
    grep "^$1 " "$WORK/nginx.access.log" 2>/dev/null | grep -c -- "$2" || true
}

route_run tls
ip=$(logged "$TLS_PORT" " /ip/headers\| /ip/anything")
name=$(logged "$TLS_PORT" "sni=localhost .* /name/")
v13=$(logged "$TLS_PORT" "TLSv1.3 .* /name/")
check "tls: every copy to the IP-verified mirror reached nginx over TLS ($ip of $COUNT)" [ "$ip" = "$COUNT" ]
check "tls: every copy to the name-verified mirror came with SNI localhost ($name of $COUNT)" [ "$name" = "$COUNT" ]
check "tls: min_version 1.3 spoke TLSv1.3 ($v13 of $COUNT)" [ "$v13" = "$COUNT" ]
check "tls: the agent counted $((2 * COUNT)) 2xx responses (got $(route_metric tls spoa_shadow_mirror_responses_total 'class="2xx"'))" \
    [ "$(route_metric tls spoa_shadow_mirror_responses_total 'class="2xx"')" = $((2 * COUNT)) ]
hs=$(route_metric tls spoa_shadow_mirror_tls_handshakes_total)
res=$(route_metric tls spoa_shadow_mirror_tls_resumed_total)
reused=$(logged "$TLS_PORT" "reused=r")
note "tls: $hs handshakes, $res resumed; nginx saw $reused requests on resumed sessions"
check "tls: reconnects resumed sessions (agent: $res of $hs handshakes resumed)" [ "$res" -gt 0 ]
check "tls: nginx saw resumed sessions (\$ssl_session_reused: $reused requests)" [ "$reused" -gt 0 ]

route_run mtls
got=$(logged "$MTLS_PORT" "client=SUCCESS")
check "mtls: every copy delivered with the client certificate verified by nginx ($got of $COUNT)" \
    [ "$got" = "$COUNT" ]

# refused ROUTE REASON: nothing delivered, the refusal counted under REASON,
# every copy accounted for as dropped.
refused() {
    local route=$1 reason=$2 n total sampled
    n=$(route_metric "$route" spoa_shadow_mirror_dropped_total "reason=\"$reason\"")
    total=$(route_metric "$route" spoa_shadow_mirror_dropped_total)
    sampled=$(route_metric "$route" spoa_shadow_mirror_sampled_total)
    check "$route: 0 copies delivered (responses: $(route_metric "$route" spoa_shadow_mirror_responses_total))" \
        [ "$(route_metric "$route" spoa_shadow_mirror_responses_total)" = 0 ]
    check "$route: refusals counted as $reason ($n; the rest circuit_open: $((total - n)); sampled $sampled)" \
        [ "$n" -gt 0 -a "$total" = "$sampled" ]
    check "$route: the refusals feed the circuit breaker (connect_failures $(route_metric "$route" spoa_shadow_mirror_connect_failures_total))" \
        [ "$(route_metric "$route" spoa_shadow_mirror_connect_failures_total)" -ge "$n" ]
}

route_run nocert
refused nocert tls_handshake
route_run wrongca
refused wrongca tls_verify
route_run expired
refused expired tls_verify
check "expired: nginx logged no request on the expired server" [ "$(logged "$EXPIRED_PORT" " /")" = 0 ]
route_run insecure
got=$(logged "$EXPIRED_PORT" " /insecure/")
check "insecure: insecure_skip_verify delivers to the expired server ($got of $COUNT)" [ "$got" = "$COUNT" ]

stop_pid "$AGENT_PID" 10
check "the agent exits 0 on SIGTERM" [ "$(cat "$AGENT_RC" 2>/dev/null)" = 0 ]

# The capture files are finished when the agent stops.
# replay: the route tls's capture to the TLS server, verified with --ca-file.
before=$(logged "$TLS_PORT" " /replay/")
timeout 60 "$AGENT_BIN" replay "$WORK/capture" --target "https://localhost:$TLS_PORT/replay" \
    --ca-file "$PKI/ca.pem" --rate 500 --authority target >"$WORK/replay.out" 2>"$WORK/replay.err"
rc=$?
sent=$(($(logged "$TLS_PORT" " /replay/") - before))
check "replay to https://localhost: exit 0 (got $rc)" [ "$rc" = 0 ]
check "replay: every captured request reached nginx over TLS ($sent of $COUNT)" [ "$sent" = "$COUNT" ]
timeout 60 "$AGENT_BIN" replay "$WORK/capture" --target "https://localhost:$TLS_PORT/replay" --rate 500 \
    >"$WORK/replay-noca.out" 2>"$WORK/replay-noca.err"
rc=$?
check "replay without the test CA: refused, exit 1 (got $rc)" [ "$rc" = 1 ]
check "... counted as tls_verify" grep -q "tls_verify" "$WORK/replay-noca.out"

