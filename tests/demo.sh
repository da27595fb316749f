#!/bin/sh
# Local demo of spoa-shadow's job: HAProxy (the shipped haproxy-conf files,
# ports moved to free loopback ports) sends every request to the agent over
# SPOP and on to a primary httpbin; the agent mirrors to a second httpbin,
# the "shadow". Sends a few requests, shows what each component saw, then
# stops everything it started. Run from the repo root: `make demo`.
if [ -z "${BASH_VERSION:-}" ]; then
    exec bash "$0" "$@"
fi
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHIPPED="$ROOT/haproxy-conf"
AGENT_BIN=${AGENT_BIN:-$ROOT/build/spoa-shadow}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spoa-demo.XXXXXX")
# shellcheck source=tests/integration/lib.sh
. "$ROOT/tests/integration/lib.sh"

finish() {
    local rc=$?
    trap - EXIT INT TERM
    stop_all
    if [ "$rc" -eq 0 ]; then rm -rf "$WORK"; else echo "demo failed; logs in $WORK" >&2; fi
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

die() {
    echo "demo: $*" >&2
    exit 1
}

section() {
    printf '\n== %s\n' "$*"
}

[ -x "$AGENT_BIN" ] || die "$AGENT_BIN not built (run make)"
read -r HTTP_PORT PRIMARY_PORT SHADOW_PORT AGENT_PORT ADMIN_PORT <<EOF
$(free_ports 5)
EOF

# The shipped configuration with its addresses moved to this demo's ports,
# its log sent to stdout, and the agent's answer shown to the client.
sed -e "s#127.0.0.1:8080#127.0.0.1:$HTTP_PORT#" \
    -e "s#127.0.0.1:8000#127.0.0.1:$PRIMARY_PORT#" \
    -e "s#127.0.0.1:12345#127.0.0.1:$AGENT_PORT#" \
    -e "s#/etc/haproxy/mirror.spoe.conf#$WORK/mirror.spoe.conf#" \
    -e "s#/run/haproxy/admin.sock#$WORK/haproxy.sock#" \
    -e "s#^\([[:space:]]*maxconn\) [0-9]*#\1 500#" \
    -e "s#^\([[:space:]]*\)log /dev/log local0#\1log stdout format raw local0#" \
    -e "s#^\([[:space:]]*\)default_backend app#\1http-response set-header X-Mirrored %[var(txn.mirror.mirrored)]\n&#" \
    "$SHIPPED/haproxy.cfg" >"$WORK/haproxy.cfg"
cp "$SHIPPED/mirror.spoe.conf" "$WORK/mirror.spoe.conf"
for want in "127.0.0.1:$HTTP_PORT" "127.0.0.1:$PRIMARY_PORT" "127.0.0.1:$AGENT_PORT" "$WORK/mirror.spoe.conf" \
    "X-Mirrored" "log stdout" "maxconn 500"; do
    grep -qF "$want" "$WORK/haproxy.cfg" || die "could not adapt haproxy-conf/haproxy.cfg ($want)"
done
AGENTS_BACKEND=$(awk '$1 == "use-backend" { print $2; exit }' "$WORK/mirror.spoe.conf")

section "starting: primary httpbin :$PRIMARY_PORT, shadow httpbin :$SHADOW_PORT, agent :$AGENT_PORT, HAProxy :$HTTP_PORT"
start_httpbin "$PRIMARY_PORT" "$WORK/primary"
start_httpbin "$SHADOW_PORT" "$WORK/shadow"
MIRROR_ARGS=""
if "$AGENT_BIN" --help 2>&1 | grep -q -- --mirror; then
    MIRROR_ARGS="--mirror http://127.0.0.1:$SHADOW_PORT"
    echo "agent mirrors to http://127.0.0.1:$SHADOW_PORT"
else
    echo "agent has no --mirror option yet: it decodes and ACKs only"
fi
# shellcheck disable=SC2086
start_agent "$AGENT_PORT" "$WORK/agent.log" --threads 2 --log-level debug \
    --admin-listen "127.0.0.1:$ADMIN_PORT" $MIRROR_ARGS ||
    die "agent did not start"
wait_until 5 grep -q 'event=start ' "$WORK/agent.log" || die "agent did not start: $(tail -n 3 "$WORK/agent.log")"
wait_until 15 port_open "$PRIMARY_PORT" || die "primary httpbin did not start"
wait_until 15 port_open "$SHADOW_PORT" || die "shadow httpbin did not start"
start_haproxy "$WORK/haproxy.cfg" "$WORK/haproxy.log"
wait_until 5 haproxy_ready "$WORK/haproxy.sock" || die "HAProxy did not start: $(tail -n 3 "$WORK/haproxy.log")"
checked() {
    [ "$(server_field "$WORK/haproxy.sock" "$AGENTS_BACKEND" agent1 check_status)" = L7OK ]
}
wait_until 6 checked || die "HAProxy's spop-check did not pass"
echo "HAProxy's spop-check: agent1 $(server_field "$WORK/haproxy.sock" "$AGENTS_BACKEND" agent1 status)"

section "requests through HAProxy"
head -c 20000 /dev/zero | tr '\0' 'x' >"$WORK/big.body"
SENT=0
MIRRORED=0
send() {
    local label=$1 out code mirrored
    shift
    # The client asks for the service by name, as it would through an ingress:
    # the shadow receives Host: httpbin-shadow:8000.
    out=$(curl -s --max-time 5 -o /dev/null -D - -w 'status=%{http_code}\n' -H 'Host: httpbin:8000' "$@" 2>/dev/null)
    code=$(printf '%s\n' "$out" | sed -n 's/^status=//p')
    mirrored=$(printf '%s\n' "$out" | tr -d '\r' | awk 'tolower($1) == "x-mirrored:" { print $2 }')
    printf '%-44s -> %s  X-Mirrored: %s\n' "$label" "${code:-none}" "${mirrored:-(none)}"
    SENT=$((SENT + 1))
    [ "$mirrored" = 1 ] && MIRRORED=$((MIRRORED + 1))
    return 0
}
U="http://127.0.0.1:$HTTP_PORT"
send "GET  /get?demo=1" "$U/get?demo=1"
send "GET  /headers (X-Demo: hello)" -H 'X-Demo: hello' "$U/headers"
send "POST /anything/orders (JSON, 26 bytes)" -H 'Content-Type: application/json' \
    --data-binary '{"order":42,"qty":3,"x":1}' "$U/anything/orders"
send "PUT  /anything/items/7 (form)" -X PUT --data-binary 'name=widget&colour=blue' "$U/anything/items/7"
send "DELETE /anything/items/7" -X DELETE "$U/anything/items/7"
send "POST /anything/upload (20000 bytes)" --data-binary "@$WORK/big.body" "$U/anything/upload"

section "what the agent decoded (event=notify, debug log)"
grep ' event=notify ' "$WORK/agent.log" | sed -e 's/^ts=[^ ]* //'

section "HAProxy's access log (mirrored= is txn.mirror.mirrored)"
grep -F '" id=' "$WORK/haproxy.log" | sed 's/^/  /'

section "shadow"
if [ -n "$MIRROR_ARGS" ]; then
    shadow_count() {
        local n
        n=$(grep -c '"[A-Z]* /' "$WORK/shadow.access" 2>/dev/null)
        echo "${n:-0}"
    }
    # Mirrors are sent after the ACK: give them a moment.
    wait_until 3 test "$(shadow_count)" -ge "$MIRRORED"
    echo "$SENT requests sent, $MIRRORED answered X-Mirrored: 1 (0 means the agent chose not to"
    echo "mirror, e.g. a body HAProxy cut short: body_bytes < body_size above)."
    echo "The shadow received $(shadow_count) (its access log):"
    sed 's/^/  /' "$WORK/shadow.access" 2>/dev/null
else
    n=$(grep -c '"[A-Z]* /' "$WORK/shadow.access" 2>/dev/null)
    echo "the shadow received ${n:-0} requests"
fi

section "metrics (curl http://127.0.0.1:$ADMIN_PORT/metrics, excerpt)"
curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" |
    grep -E '^spoa_shadow_(spop_acks_total|route_requests_total|route_mirrored_total|mirror_sent_total|mirror_responses_total.*2xx|mirror_skipped_total.*body_truncated)' |
    sed 's/^/  /'

section "stopping (by PID)"
stop_all
echo "done"
