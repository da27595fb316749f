#!/usr/bin/env bash
# Re-resolution reaches busy connections, with real parts on loopback:
# HAProxy (the shipped SPOE setup) fronts httpbin, and the agent runs in a
# mount namespace of its own whose /etc/hosts is a file of this test (glibc's
# files backend reads it at each lookup; /etc/host.conf says "multi on", so
# a name on two lines has both addresses). Its one route copies every
# request to two mirrors; a counting HTTP/1.1 keep-alive server listens on
# 127.0.0.2:P and another on 127.0.0.3:P (the same port), each counting the
# copies of each mirror by their base path:
#   http://mirror.readdress.test:P/move, max_connection_age_ms 0 (no limit):
#     its name moves from 127.0.0.2 to 127.0.0.3;
#   http://gained.readdress.test:P/gain, max_connection_age_ms 500: its name
#     gains 127.0.0.3 next to 127.0.0.2.
# A client sends keep-alive requests at 200/s throughout. The agent
# re-resolves every 2 s (resolve_interval_ms: 2000; 30 s by default), so the
# bound for a change is that plus a margin.
#
# Checks, each printed as "ok - ..." / "not ok - ...", then "N passed, M
# failed"; exit status non-zero on any failure:
#   a. under the steady load, copies of both mirrors reach 127.0.0.2, none
#      reach 127.0.0.3, and no connection was closed for its address yet;
#   b. /etc/hosts is rewritten (127.0.0.3 for the moved name, both addresses
#      for the gained one; getent in the agent's namespace agrees) while the
#      load goes on: within 2 s + margin the moved mirror's copies reach
#      127.0.0.3; after that point 127.0.0.2 gets at most a few more (those
#      in flight) while 127.0.0.3 gets hundreds; its
#      mirror_connections_address_gone_total is > 0 and expired_total 0 (the
#      kept-alive connections were moved by the address check alone);
#   c. every client request was answered 200 without an SPOE error, none of
#      the requests HAProxy logged shows one, and the agent kept running;
#   d. within the same bound the gained mirror's copies reach 127.0.0.3 too,
#      and then both addresses keep receiving them; its
#      mirror_connections_expired_total is > 0 and address_gone_total 0
#      (max_connection_age_ms alone spread them: no address left its set).
#
# Needs root (unshare --mount, mount --bind). Run from anywhere: `make && bash
# tests/integration/test_mirror_readdress.sh` (about 15 s). Environment:
# HAPROXY (default haproxy), AGENT_BIN (default build/spoa-shadow),
# KEEP_WORK=1 keeps the temp dir even on success.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
AGENT_BIN=${AGENT_BIN:-$ROOT/build/spoa-shadow}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spoa-readdress.XXXXXX")
# shellcheck source=tests/integration/lifecycle/common.sh
. "$ROOT/tests/integration/lifecycle/common.sh"
export PYTHONDONTWRITEBYTECODE=1

require "$AGENT_BIN" "$HAPROXY" curl unshare mount getent "$GUNICORN" py:httpbin
require_root "unshare --mount, mount --bind"
# MIRROR_PORT: start_stack's mirror test server, unused here.
read -r HTTP_PORT APP_PORT MIRROR_PORT AGENT_PORT ADMIN_PORT COPY_PORT <<EOF
$(free_ports 6)
EOF
OLD=127.0.0.2
NEW=127.0.0.3
MOVED=mirror.readdress.test
GAINED=gained.readdress.test
RESOLVE_PERIOD_S=2 # the agent's resolve_interval_ms, below
MARGIN_S=10
RATE=200
note "ports: haproxy=$HTTP_PORT httpbin=$APP_PORT agent=$AGENT_PORT admin=$ADMIN_PORT copies=$COPY_PORT"

# ---------------------------------------------------------------- the mirrors

# start_counter ADDR: an HTTP/1.1 keep-alive server on ADDR:COPY_PORT that
# answers 200 to everything, counting requests by the first segment of
# their path; GET /__count lists "<segment> <count>" lines.
start_counter() {
    "$PY" - "$1" "$COPY_PORT" >"$WORK/counter.$1.out" 2>"$WORK/counter.$1.log" <<'EOF' &
import http.server, sys, threading
counts, lock = {}, threading.Lock()
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
    def do_GET(self):
        with lock:
            if self.path == "/__count":
                body = "".join("%s %d\n" % kv for kv in counts.items()).encode()
            else:
                key = self.path.split("/")[1]
                counts[key] = counts.get(key, 0) + 1
                body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
srv = Server((sys.argv[1], int(sys.argv[2])), Handler)
print("listening", flush=True)
srv.serve_forever()
EOF
    track "$!"
    wait_until 5 test -s "$WORK/counter.$1.out" || { not_ok "the server on $1:$COPY_PORT started"; exit 1; }
}

# counts ADDR: "<move> <gain>", the copies of each mirror (by the base path)
# that the server on ADDR received.
counts() {
    curl -s --max-time 3 "http://$1:$COPY_PORT/__count" 2>/dev/null |
        awk '{ n[$1] = $2 } END { print n["move"] + 0, n["gain"] + 0 }'
}

# snapshot: sets OM OG (the copies of move and gain at OLD) and NM NG (at NEW).
snapshot() {
    read -r OM OG <<<"$(counts "$OLD")"
    read -r NM NG <<<"$(counts "$NEW")"
}

# mirror_metric NAME HOST: the sample of NAME for the mirror of HOST.
mirror_metric() {
    live_metric "spoa_shadow_mirror_connections_${1}_total" "mirror=\"http://$2:"
}

# ---------------------------------------------------------------- the agent

printf '127.0.0.1 localhost\n%s %s\n%s %s\n' "$OLD" "$MOVED" "$OLD" "$GAINED" >"$WORK/hosts"
echo 'multi on' >"$WORK/host.conf"
ns_setup "$WORK/hosts" /etc/hosts "$WORK/host.conf" /etc/host.conf
catch_all_cfg "$WORK/agent.yaml" \
    "{url: \"http://$MOVED:$COPY_PORT/move\", timeout_ms: 2000, max_connection_age_ms: 0}" \
    "{url: \"http://$GAINED:$COPY_PORT/gain\", timeout_ms: 2000, max_connection_age_ms: 500}"
echo "resolve_interval_ms: $((RESOLVE_PERIOD_S * 1000))" >>"$WORK/agent.yaml"
render_haproxy_config "$LC/haproxy.cfg.in" || { not_ok "HAProxy configuration rendered"; exit 1; }

start_counter "$OLD"
start_counter "$NEW"
start_stack "$WORK/agent.log" -c "$WORK/agent.yaml"
T_AGENT=$(now_ms)
# At most a few minutes of load; the client stops early once WORK/load.stop exists.
start_load load --path "/ok?t=load" --hosts a.test --parallel 4 --rate "$RATE" \
    --duration 240 --max $((RATE * 240)) --stop-file "$WORK/load.stop"

# ---------------------------------------------------------------- a
both_old() { snapshot && [ "$OM" -ge 200 ] && [ "$OG" -ge 200 ]; }
check "a: under load, copies of both mirrors reach $OLD (move and gain: 200 each within 15 s)" \
    wait_until 15 both_old
check_eq "a: none reaches $NEW (move $OM, gain $OG at $OLD)" "$NM $NG" "0 0"
check_eq "a: no connection was closed for its address yet (address_gone_total of both)" \
    "$(mirror_metric address_gone "$MOVED") $(mirror_metric address_gone "$GAINED")" "0 0"

# ---------------------------------------------------------------- b, d
printf '127.0.0.1 localhost\n%s %s\n%s %s\n%s %s\n' "$NEW" "$MOVED" "$OLD" "$GAINED" "$NEW" "$GAINED" >"$WORK/hosts"
T_REWRITE=$(now_ms)
snapshot
note "/etc/hosts rewritten $((T_REWRITE - T_AGENT)) ms after the agent started; copies ($OLD $NEW): move $OM $NM, gain $OG $NG"
addrs() { "$WORK/in-ns.sh" getent ahostsv4 "$1" | awk '{ print $1 }' | sort -u | xargs; }
check_eq "b: in the agent's namespace $MOVED is $NEW now" "$(addrs "$MOVED")" "$NEW"
check_eq "d: in the agent's namespace $GAINED has both addresses" "$(addrs "$GAINED")" "$OLD $NEW"

# first_seen: notes when each mirror's first copy to NEW was seen (T_MOVE,
# T_GAIN) and the counts then (MOVE_AT: OM NM, GAIN_AT: OG NG); true once
# both were.
T_MOVE="" T_GAIN=""
first_seen() {
    snapshot
    if [ -z "$T_MOVE" ] && [ "$NM" -gt 0 ]; then T_MOVE=$(now_ms) MOVE_AT="$OM $NM"; fi
    if [ -z "$T_GAIN" ] && [ "$NG" -gt 0 ]; then T_GAIN=$(now_ms) GAIN_AT="$OG $NG"; fi
    [ -n "$T_MOVE" ] && [ -n "$T_GAIN" ]
}
BOUND_S=$((RESOLVE_PERIOD_S + MARGIN_S))
wait_until "$BOUND_S" first_seen
check "b: the moved mirror's copies reach $NEW within ${BOUND_S} s of the rewrite ($((${T_MOVE:-0} - T_REWRITE)) ms)" \
    [ -n "$T_MOVE" ]
check "d: the gained mirror's copies reach $NEW within ${BOUND_S} s of the rewrite ($((${T_GAIN:-0} - T_REWRITE)) ms)" \
    [ -n "$T_GAIN" ]
if [ -n "$T_MOVE" ] && [ -n "$T_GAIN" ]; then
    read -r om nm <<<"$MOVE_AT"
    read -r og ng <<<"$GAIN_AT"
    # Then NEW gets 500 more copies of move, and both addresses 200 more of gain.
    later() { snapshot && [ "$NM" -ge $((nm + 500)) ] && [ "$OG" -ge $((og + 200)) ] && [ "$NG" -ge $((ng + 200)) ]; }
    wait_until 15 later
    note "move: copies ($OLD $NEW) at the first one to $NEW: $om $nm; then: $OM $NM"
    note "gain: copies ($OLD $NEW) at the first one to $NEW: $og $ng; then: $OG $NG"
    check "b: then $NEW received 500 more of the moved mirror's copies (got $((NM - nm)))" [ $((NM - nm)) -ge 500 ]
    check "b: meanwhile $OLD received at most 8 (in flight: $((OM - om)))" [ $((OM - om)) -le 8 ]
    check "d: then both addresses received 200 more of the gained mirror's copies (got $((OG - og)) and $((NG - ng)))" \
        [ $((OG - og)) -ge 200 -a $((NG - ng)) -ge 200 ]
fi
gone=$(mirror_metric address_gone "$MOVED")
expired=$(mirror_metric expired "$MOVED")
check "b: the moved mirror's address_gone_total > 0 (got $gone)" gt0 "$gone"
check_eq "b: the moved mirror's expired_total (max_connection_age_ms 0)" "$expired" 0
gone=$(mirror_metric address_gone "$GAINED")
expired=$(mirror_metric expired "$GAINED")
check "d: the gained mirror's expired_total > 0 (got $expired)" gt0 "$expired"
check_eq "d: the gained mirror's address_gone_total (no address left)" "$gone" 0

# ---------------------------------------------------------------- c
touch "$WORK/load.stop"
wait_load 10
total=$(res_count load 'True')
note "load: $total requests in $((($(now_ms) - T_AGENT) / 1000)) s; mirrors' connections opened: move $(mirror_metric opened "$MOVED"), gain $(mirror_metric opened "$GAINED")"
drops=$(grep '^spoa_shadow_mirror_dropped_total' "$WORK/live.prom" | grep -v ' 0$' | sed 's/^spoa_shadow_mirror_dropped_total//' | xargs)
note "copies dropped: ${drops:-none}"
good=$(res_count load 'r["status"] == 200 and not r["spoe_err"]')
check "c: every one of $total requests was answered 200 without an SPOE error ($good were)" all_of "$good" "$total"
# HAProxy drops a log line rather than wait when its threads contend for the
# log's file descriptor: a few may be missing.
logged() { grep -c ' spoe_err=' "$WORK/haproxy.log"; }
all_logged() { [ "$(logged)" -ge "$total" ]; }
wait_until 2 all_logged
check_eq "c: none of the $(logged) requests HAProxy logged (of $total) shows an SPOE error" \
    "$(grep ' spoe_err=' "$WORK/haproxy.log" | grep -vc ' spoe_err=-$')" 0
check "c: the agent kept running" kill -0 "$AGENT_PID"
