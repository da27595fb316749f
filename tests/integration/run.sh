#!/bin/sh
# Integration test: real HAProxy -> spoa-shadow agent -> httpbin as the real
# backend, over loopback only. Prints "ok - ..." / "not ok - ..." per check
# and a final "N passed, M failed" line; exits non-zero on any failure.
#
# Run from the repo root: `make integration` (or sh tests/integration/run.sh).
# Environment: HAPROXY (haproxy binary, default haproxy), AGENT_BIN (default
# build/spoa-shadow), KEEP_WORK=1 keeps the temp dir (logs) even on success.
if [ -z "${BASH_VERSION:-}" ]; then
    exec bash "$0" "$@"
fi
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/tests/integration"
SHIPPED="$ROOT/haproxy-conf"
AGENT_BIN=${AGENT_BIN:-$ROOT/build/spoa-shadow}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spoa-it.XXXXXX")
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"

NL='
'
report_start 'agent*.log' haproxy.log

# ---------------------------------------------------------------- helpers

# http NAME CURL-ARGS...: one request; response headers in NAME.hdr, body in
# NAME.body; prints "<status> <seconds>".
http() {
    local name=$1
    shift
    curl -s --max-time 5 -o "$WORK/$name.body" -D "$WORK/$name.hdr" \
        -w '%{http_code} %{time_total}' "$@" 2>/dev/null || true
}

# hdr NAME HEADER: the value of a response header of request NAME; exit
# status 1 when the header is absent.
hdr() {
    awk -v h="$(echo "$2" | tr '[:upper:]' '[:lower:]')" '
        { sub(/\r$/, "") }
        tolower(substr($0, 1, length(h) + 1)) == h ":" {
            v = substr($0, length(h) + 2); sub(/^[ \t]+/, "", v); print v; found = 1; exit
        }
        END { exit !found }' "$WORK/$1.hdr"
}

# notify_line LOG PATH: the agent's decoded-notify log line for PATH.
notify_line() {
    grep -F ' event=notify ' "$1" | grep -F -e " path=$2 " -e " path=\"$2\" " | tail -n 1
}

# field LINE KEY: the value of KEY in a logfmt LINE, without its quotes.
field() {
    printf '%s\n' "$1" | grep -oE " $2=(\"([^\"\\\\]|\\\\.)*\"|[^ \"]*)" | head -n 1 |
        sed -e "s/^ $2=//" -e 's/^"\(.*\)"$/\1/'
}

# expect_field DESC LINE KEY VALUE: ok when field KEY of LINE equals VALUE.
expect_field() {
    local got
    got=$(field "$2" "$3")
    if [ "$got" = "$4" ]; then ok "$1"; else not_ok "$1 (got $3=\"$got\", want \"$4\")"; fi
}

# between N LO HI: true when N is a whole number and LO < N < HI.
between() {
    case $1 in '' | *[!0-9]*) return 1 ;; esac
    [ "$1" -gt "$2" ] && [ "$1" -lt "$3" ]
}

# has_names LIST NAME...: true when the comma-separated LIST holds every NAME.
has_names() {
    local list=",$1," n
    shift
    for n in "$@"; do
        case $list in *",$n,"*) ;; *) return 1 ;; esac
    done
}

# load_notified N: true once the agent logged N notifies of the load step.
load_notified() {
    [ "$(grep -c ' event=notify .*path="/get?load=' "$WORK/agent.log")" -ge "$1" ]
}

count_notify() {
    grep -c ' event=notify ' "$1" 2>/dev/null || true
}

agent_up() {
    server_is "$WORK/haproxy.sock" "$AGENTS_BACKEND" agent1 UP
}

agent_down() {
    server_is "$WORK/haproxy.sock" "$AGENTS_BACKEND" agent1 DOWN
}

# ---------------------------------------------------------------- setup

require "$AGENT_BIN" "$HAPROXY" curl py:httpbin py:gunicorn
note "$("$HAPROXY" -v | head -n 1)"

read -r HTTP_PORT H2_PORT APP_PORT AGENT_PORT <<EOF
$(free_ports 4)
EOF
note "ports: http=$HTTP_PORT h2=$H2_PORT httpbin=$APP_PORT agent=$AGENT_PORT"

# a. The shipped files, with only the SPOE file's path pointed at the copy.
mkdir -p "$WORK/shipped"
cp "$SHIPPED/mirror.spoe.conf" "$WORK/shipped/"
sed "s#/etc/haproxy/mirror.spoe.conf#$WORK/shipped/mirror.spoe.conf#" "$SHIPPED/haproxy.cfg" >"$WORK/shipped/haproxy.cfg"
if out=$("$HAPROXY" -c -f "$WORK/shipped/haproxy.cfg" 2>&1); then
    ok "haproxy -c accepts haproxy-conf/haproxy.cfg + mirror.spoe.conf"
else
    not_ok "haproxy -c accepts haproxy-conf/haproxy.cfg + mirror.spoe.conf"
fi
printf '%s\n' "$out" | grep -E 'WARNING|ALERT' | sed 's/^/#   /'

if ! render_haproxy_config "$HERE/haproxy.cfg.in"; then
    not_ok "test configuration rendered from the templates"
    exit 1
fi

T=$(now_ms)
start_httpbin "$APP_PORT" "$WORK/httpbin"
start_agent "$AGENT_PORT" "$WORK/agent.log" --threads 2 --log-level debug
wait_until 5 grep -q 'event=start ' "$WORK/agent.log" ||
    { not_ok "agent started (see $WORK/agent.log)"; exit 1; }
wait_until 15 port_open "$APP_PORT" || { not_ok "httpbin started"; exit 1; }
start_haproxy "$WORK/haproxy.cfg" "$WORK/haproxy.log"
wait_until 5 haproxy_ready "$WORK/haproxy.sock" || { not_ok "haproxy started (see $WORK/haproxy.log)"; exit 1; }
note "startup: $(($(now_ms) - T)) ms"

# ---------------------------------------------------------------- checks

# b. spop-check marks the agent UP, and the agent saw health-check HELLOs.
T=$(now_ms)
up_hc() {
    agent_up && grep -q 'event=spop_close .*reason=healthcheck' "$WORK/agent.log" &&
        [ "$(server_field "$WORK/haproxy.sock" "$AGENTS_BACKEND" agent1 check_status)" = L7OK ]
}
check "health check: agent1 UP with check_status L7OK, agent logged reason=healthcheck closes" wait_until 5 up_hc
note "health check UP after $(($(now_ms) - T)) ms; $(grep -c 'reason=healthcheck' "$WORK/agent.log") health checks so far"

# c. A GET through HAProxy: 200 from httpbin and the ACK's variable applied.
r=$(http get -H 'X-Probe: abc123' "http://127.0.0.1:$HTTP_PORT/headers?x=1")
check "GET /headers?x=1 through HAProxy returns 200 (got ${r% *})" [ "${r% *}" = 200 ]
check "httpbin received the X-Probe header" grep -q 'abc123' "$WORK/get.body"
mirrored=$(hdr get X-Mirrored)
check "X-Mirrored carries txn.mirror.mirrored=false as \"0\" (got \"$mirrored\")" [ "$mirrored" = 0 ]
err=$(hdr get X-Spoe-Err)
check "no SPOE error: X-Spoe-Err is empty (got \"$err\")" [ -z "$err" ]
check "HAProxy's access log shows mirrored=0 spoe_err=-" \
    wait_until 2 grep -q 'GET /headers?x=1 HTTP/1.1" id=.* mirrored=0 spoe_err=-' "$WORK/haproxy.log"

# d. The agent decoded that request.
line=$(notify_line "$WORK/agent.log" '/headers?x=1')
check "agent logged a notify for /headers?x=1" [ -n "$line" ]
expect_field "notify method=GET" "$line" method GET
expect_field "notify host is the Host header" "$line" host "127.0.0.1:$HTTP_PORT"
expect_field "notify ver=1.1" "$line" ver 1.1
expect_field "notify body_bytes=0" "$line" body_bytes 0
names=$(field "$line" header_names)
check "notify header_names include host and x-probe (got $names)" has_names "$names" host x-probe

# e. A POST with a small body: whole body seen by the agent.
body='shadow probe 7f3a9c21e5d4'
r=$(http post --data-binary "$body" "http://127.0.0.1:$HTTP_PORT/anything/post-probe")
check "POST /anything/post-probe returns 200 (got ${r% *})" [ "${r% *}" = 200 ]
check "httpbin echoed the POST body" grep -qF "$body" "$WORK/post.body"
line=$(notify_line "$WORK/agent.log" /anything/post-probe)
check "agent logged a notify for the POST" [ -n "$line" ]
expect_field "POST notify method=POST" "$line" method POST
expect_field "POST notify body_bytes=${#body}" "$line" body_bytes "${#body}"
expect_field "POST notify body_size=${#body}" "$line" body_size "${#body}"
expect_field "POST notify body text" "$line" body "$body"

# f. A 20,000-byte body: larger than HAProxy's buffer, cut short for the agent.
head -c 20000 /dev/zero | tr '\0' 'b' >"$WORK/big.in"
r=$(http big --data-binary "@$WORK/big.in" "http://127.0.0.1:$HTTP_PORT/anything/big-probe")
check "POST of 20000 bytes returns 200 (got ${r% *})" [ "${r% *}" = 200 ]
mirrored=$(hdr big X-Mirrored)
check "the big POST was ACKed too (X-Mirrored=\"$mirrored\")" [ "$mirrored" = 0 ]
line=$(notify_line "$WORK/agent.log" /anything/big-probe)
expect_field "big POST notify body_size=20000" "$line" body_size 20000
bb=$(field "$line" body_bytes)
check "big POST notify 0 < body_bytes < body_size (truncation visible: body_bytes=$bb)" \
    between "$bb" 0 20000

# g. HTTP/2 with prior knowledge on the h2 bind.
r=$(http h2 --http2-prior-knowledge "http://127.0.0.1:$H2_PORT/headers?h2=1")
check "HTTP/2 GET returns 200 (got ${r% *})" [ "${r% *}" = 200 ]
check "HTTP/2 response carries X-Mirrored: 0" [ "$(hdr h2 X-Mirrored)" = 0 ]
line=$(notify_line "$WORK/agent.log" '/headers?h2=1')
expect_field "HTTP/2 notify ver=2.0" "$line" ver 2.0

# h. 200 requests from 20 parallel workers of 10 each.
T=$(now_ms)
before=$(count_notify "$WORK/agent.log")
pids=""
for w in $(seq 1 20); do
    (
        for i in $(seq 1 10); do
            curl -s --max-time 5 -o /dev/null -D - -w 'status=%{http_code}\n' \
                "http://127.0.0.1:$HTTP_PORT/get?load=$w-$i" 2>/dev/null |
                awk '{ sub(/\r$/, "") } tolower($1) == "x-mirrored:" { m = $2 } /^status=/ { print $0, "mirrored=" m }'
        done >"$WORK/load.$w"
    ) &
    pids="$pids $!"
    track "$!"
done
for p in $pids; do wait "$p"; done
elapsed=$(($(now_ms) - T))
good=$(cat "$WORK"/load.* | grep -c '^status=200 mirrored=0$')
check "200 concurrent requests: all 200 with X-Mirrored: 0 (got $good)" [ "$good" -eq 200 ]
wait_until 2 load_notified 200
after=$(count_notify "$WORK/agent.log")
check "one notify per request: $((after - before)) notify lines for 200 requests" [ $((after - before)) -eq 200 ]
distinct=$(grep -oE ' path="/get\?load=[0-9]+-[0-9]+"' "$WORK/agent.log" | sort -u | wc -l)
check "all 200 distinct requests were decoded (got $distinct)" [ "$distinct" -eq 200 ]
note "200 requests, 20 workers: $elapsed ms"

# i. Fail-open: agent killed -> DOWN -> fast unmirrored requests -> restart -> UP.
kill -KILL "$AGENT_PID"
T=$(now_ms)
check "after SIGKILL of the agent, HAProxy marks agent1 DOWN" wait_until 5 agent_down
note "DOWN after $(($(now_ms) - T)) ms"
slow=0 bad=0 max=0 errs=""
for i in $(seq 1 20); do
    r=$(http down -H 'X-Probe: down' "http://127.0.0.1:$HTTP_PORT/get?down=$i")
    ms=$(awk -v t="${r#* }" 'BEGIN { printf "%d", t * 1000 }')
    [ "${r% *}" = 200 ] && [ -z "$(hdr down X-Mirrored)" ] || bad=$((bad + 1))
    [ "$ms" -lt 250 ] || slow=$((slow + 1))
    [ "$ms" -gt "$max" ] && max=$ms
    errs="$errs${NL}err=$(hdr down X-Spoe-Err)"
done
check "agent down: 20/20 requests return 200, unmirrored ($bad bad)" [ "$bad" -eq 0 ]
check "agent down: every request < 250 ms with timeout processing 500ms (max $max ms)" [ "$slow" -eq 0 ]
unset_errs=$(printf '%s\n' "$errs" | grep -c "^err=$")
errs=$(printf '%s\n' "$errs" | grep . | sort | uniq -c | awk '{ printf "%s%dx %s", s, $1, $2; s = ", " }')
# The shipped event is guarded by nbsrv(): with the agent DOWN, HAProxy does
# not even try an SPOE exchange, so no error variable is set.
check "agent down: the SPOE filter was skipped on every request ($errs)" [ "$unset_errs" -eq 20 ]
start_agent "$AGENT_PORT" "$WORK/agent2.log" --threads 2 --log-level debug
T=$(now_ms)
check "restarted agent: HAProxy marks agent1 UP again" wait_until 5 agent_up
note "UP after $(($(now_ms) - T)) ms"
r=$(http back "http://127.0.0.1:$HTTP_PORT/get?back=1")
got="${r% *} $(hdr back X-Mirrored)"
check "after restart: 200 with X-Mirrored: 0 (got $got)" [ "$got" = "200 0" ]
check "after restart: the new agent logged the notify" [ -n "$(notify_line "$WORK/agent2.log" '/get?back=1')" ]

# j. Clean shutdown: SIGTERM -> exit status 0 within 5 s, HAProxy still connected.
kill -TERM "$AGENT_PID"
T=$(now_ms)
if wait_until 5 test -s "$AGENT_RC"; then
    rc=$(cat "$AGENT_RC")
    check "SIGTERM: agent exits with status 0 (got $rc) in $(($(now_ms) - T)) ms" [ "$rc" = 0 ]
else
    not_ok "SIGTERM: agent did not exit within 5 s"
fi
