#!/usr/bin/env bash
# A reload never makes the main loop wait for DNS, with real parts on
# loopback: HAProxy (the shipped SPOE setup) fronts httpbin, and the agent
# runs in a mount namespace of its own whose /etc/resolv.conf names a
# loopback name server that never answers (a UDP socket bound by a small
# python3 process that reads and drops every query; with "options timeout:5
# attempts:3" each getaddrinfo() of a name hangs about 15 s).
#
# Checks, each printed as "ok - ..." / "not ok - ...", then "N passed, M
# failed"; exit status non-zero on any failure:
#   a. in the agent's namespace a name lookup hangs (getent is still waiting
#      after 2 s), and the agent, started with a mirror given as an IP
#      literal, delivers copies;
#   b. the configuration is rewritten to a mirror host name and POST
#      /-/reload applied while /healthz is probed every 50 ms: the reload is
#      answered at once, every probe answers 200 within 100 ms, /metrics
#      answers, and the copies to the unresolved host are dropped and counted
#      (connect_error; circuit_open too, should the client's breaker open)
#      while the clients see 200s;
#   c. SIGHUP back to the IP literal while that lookup still hangs: answered
#      at once, copies delivered again at once; the agent outlives the hung
#      lookup of the configuration it dropped (its answer arrives after the
#      configuration was freed) and keeps answering;
#   d. a reload to the host name again, then SIGTERM while its lookup hangs:
#      the agent exits 0 within 2 s.
#
# Needs root (unshare --mount, mount --bind, a socket on port 53 of a
# 127.0.0.x address). Run from anywhere: `make && bash
# tests/integration/test_reload_dns.sh`. Environment: HAPROXY (default
# haproxy), AGENT_BIN (default build/spoa-shadow), KEEP_WORK=1 keeps the temp
# dir even on success.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
AGENT_BIN=${AGENT_BIN:-$ROOT/build/spoa-shadow}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spoa-reload-dns.XXXXXX")
# shellcheck source=tests/integration/lifecycle/common.sh
. "$ROOT/tests/integration/lifecycle/common.sh"
export PYTHONDONTWRITEBYTECODE=1

require "$AGENT_BIN" "$HAPROXY" curl unshare mount getent timeout "$GUNICORN" py:httpbin
require_root "unshare --mount, mount --bind, port 53"
read -r HTTP_PORT APP_PORT MIRROR_PORT AGENT_PORT ADMIN_PORT <<EOF
$(free_ports 5)
EOF
MIRROR_HOST=shadow.invalid-test
note "ports: haproxy=$HTTP_PORT httpbin=$APP_PORT mirror=$MIRROR_PORT agent=$AGENT_PORT admin=$ADMIN_PORT"

# ---------------------------------------------------------------- the silent name server

# A UDP socket on port 53 of the first free 127.0.0.x; it prints the address
# it took, then reads queries forever without ever answering.
"$PY" - >"$WORK/dns.out" 2>"$WORK/dns.log" <<'EOF' &
import socket, sys
for last in range(77, 100):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.%d" % last, 53))
    except OSError:
        s.close()
        continue
    print("127.0.0.%d" % last, flush=True)
    while True:
        data, peer = s.recvfrom(4096)
        sys.stderr.write("query of %d bytes from %s, not answered\n" % (len(data), peer[0]))
        sys.stderr.flush()
sys.exit("no free 127.0.0.x:53")
EOF
DNS_PID=$!
track "$DNS_PID"
wait_until 5 test -s "$WORK/dns.out" || { not_ok "the silent name server started (see dns.log)"; exit 1; }
DNS_ADDR=$(head -n 1 "$WORK/dns.out")
printf 'nameserver %s\noptions timeout:5 attempts:3\n' "$DNS_ADDR" >"$WORK/resolv.conf"
note "silent name server: $DNS_ADDR:53"

# The agent (start_agent runs it through WORK/agent-in-ns.sh) sees
# WORK/resolv.conf as its /etc/resolv.conf.
ns_setup "$WORK/resolv.conf" /etc/resolv.conf

# ---------------------------------------------------------------- configurations

# write_cfg FILE MIRROR-HOST: one catch-all route, every request copied to
# http://MIRROR-HOST:MIRROR_PORT.
write_cfg() {
    catch_all_cfg "$1" "{url: \"http://$2:$MIRROR_PORT\", timeout_ms: 2000}"
}
CFG="$WORK/agent.yaml"
write_cfg "$WORK/ip.yaml" 127.0.0.1
write_cfg "$WORK/name.yaml" "$MIRROR_HOST"
install_cfg() {
    cp "$1" "$CFG.new" && mv "$CFG.new" "$CFG"
}
install_cfg "$WORK/ip.yaml"
render_haproxy_config "$LC/haproxy.cfg.in" || { not_ok "HAProxy configuration rendered"; exit 1; }

NAME_MIRROR="mirror=\"http://$MIRROR_HOST:$MIRROR_PORT\""
IP_MIRROR="mirror=\"http://127.0.0.1:$MIRROR_PORT\""

# send TAG N: N requests through HAProxy; prints how many answered 200.
send() {
    local i n200=0 code
    for i in $(seq 1 "$2"); do
        code=$(curl -s --max-time 3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/ok?t=$1&n=$i")
        [ "$code" = 200 ] && n200=$((n200 + 1))
    done
    echo "$n200"
}

# The /healthz prober: a request every 50 ms, each allowed 100 ms; one
# "<status> <seconds>" line per probe in WORK/probe.<NAME>.
start_probe() {
    rm -f "$WORK/probe.stop"
    (
        while [ ! -e "$WORK/probe.stop" ]; do
            out=$(curl -s -o /dev/null --max-time 0.1 -w '%{http_code} %{time_total}' \
                "http://127.0.0.1:$ADMIN_PORT/healthz" 2>/dev/null)
            echo "${out:-000 none}"
            sleep 0.05
        done
    ) >"$WORK/probe.$1" &
    PROBE_PID=$!
    track "$PROBE_PID"
}

stop_probe() {
    touch "$WORK/probe.stop"
    wait "$PROBE_PID" 2>/dev/null
}

# probe_report NAME: "<probes> <failed> <p50 ms> <max ms>" for WORK/probe.NAME
# (the times of the probes that answered 200).
probe_report() {
    local f="$WORK/probe.$1"
    awk '$1 == "200" { printf "%.1f\n", $2 * 1000 }' "$f" | sort -n |
        awk -v n="$(grep -c . "$f")" -v bad="$(grep -vc '^200 ' "$f")" \
            '{ t[NR] = $1 } END { printf "%d %d %s %s\n", n, bad, (NR ? t[int((NR + 1) / 2)] : "-"), (NR ? t[NR] : "-") }'
}

# check_probes NAME WHAT: every probe of NAME answered 200 within 100 ms.
check_probes() {
    local n bad p50 max
    read -r n bad p50 max <<<"$(probe_report "$1")"
    note "/healthz during $2: $n probes, $bad failed, p50 ${p50} ms, max ${max} ms"
    check "during $2, every one of $n /healthz probes (every 50 ms) answered 200 within 100 ms ($bad did not, max ${max} ms)" \
        [ "$n" -ge 10 -a "$bad" = 0 ]
}

# timed CURL-ARGS...: one admin request; prints "<status> <ms>".
timed() {
    curl -s -o "$WORK/admin.body" --max-time 5 -w '%{http_code} %{time_total}\n' "$@" 2>/dev/null |
        awk '{ printf "%s %.0f\n", $1, $2 * 1000 }'
}

dropped_name() {
    local ce co
    ce=$(live_metric spoa_shadow_mirror_dropped_total "$NAME_MIRROR" 'reason="connect_error"')
    co=$(live_metric spoa_shadow_mirror_dropped_total "$NAME_MIRROR" 'reason="circuit_open"')
    echo $((${ce/none/0} + ${co/none/0}))
}

# ---------------------------------------------------------------- a
t=$(now_ms)
"$WORK/in-ns.sh" timeout 2 getent hosts "$MIRROR_HOST" >/dev/null 2>&1
rc=$?
check "a name lookup in the agent's namespace hangs (getent killed after 2 s: status $rc, $(($(now_ms) - t)) ms)" \
    [ "$rc" = 124 ]

start_stack "$WORK/agent.log" -c "$CFG"
check_eq "with the IP literal mirror, 5 requests answered 200" "$(send ip 5)" 5
sent_ip() { [ "$(live_metric spoa_shadow_mirror_sent_total "$IP_MIRROR")" = 5 ]; }
check "with the IP literal mirror, the 5 copies were sent" wait_until 5 sent_ip

# ---------------------------------------------------------------- b
start_probe reload
sleep 0.5
install_cfg "$WORK/name.yaml"
T_RELOAD=$(now_ms)
read -r code ms <<<"$(timed -X POST "http://127.0.0.1:$ADMIN_PORT/-/reload")"
check "POST /-/reload to the host name answered 200 at once (got $code in $ms ms, want < 500)" \
    [ "$code" = 200 -a "$ms" -lt 500 ]
read -r code ms <<<"$(timed "http://127.0.0.1:$ADMIN_PORT/metrics")"
check "GET /metrics answered 200 right after the reload (got $code in $ms ms, want < 500)" \
    [ "$code" = 200 -a "$ms" -lt 500 ]
check_eq "with the unresolved mirror, 10 requests answered 200" "$(send name 10)" 10
all_dropped() { [ "$(dropped_name)" = 10 ]; }
check "the 10 copies to the unresolved host were dropped and counted (connect_error + circuit_open = $(dropped_name))" \
    wait_until 5 all_dropped
read -r code ms <<<"$(timed "http://127.0.0.1:$ADMIN_PORT/metrics")"
check "GET /metrics answered 200 while the lookup hangs (got $code in $ms ms, want < 500)" \
    [ "$code" = 200 -a "$ms" -lt 500 ]
sleep 1
stop_probe
check_probes reload "the reload to the host name"

# ---------------------------------------------------------------- c
start_probe back
sleep 0.3
install_cfg "$WORK/ip.yaml"
t=$(now_ms)
kill -HUP "$AGENT_PID"
reloaded() { grep -q 'event.\{0,3\}reload.*generation.\{0,3\}3' "$WORK/agent.log"; }
wait_until 5 reloaded
ms=$(($(now_ms) - t))
check "SIGHUP back to the IP literal applied at once, while the lookup hangs (${ms} ms, want < 1000)" \
    [ "$ms" -lt 1000 ]
check_eq "with the IP literal again, 5 requests answered 200" "$(send back 5)" 5
sent_back() { [ "$(live_metric spoa_shadow_mirror_sent_total "$IP_MIRROR")" = 10 ]; }
check "with the IP literal again, the 5 copies were sent at once" wait_until 5 sent_back
# The dropped configuration's lookup ends about 15 s after the first reload.
left=$((T_RELOAD + 17000 - $(now_ms)))
[ "$left" -gt 0 ] && sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
stop_probe
check_probes back "the reload back and the end of the hung lookup"
check "the agent outlived the hung lookup of the configuration it freed" kill -0 "$AGENT_PID"
check_eq "GET /healthz answers 200 after that" "$(admin_status /healthz)" 200

# ---------------------------------------------------------------- d
install_cfg "$WORK/name.yaml"
read -r code ms <<<"$(timed -X POST "http://127.0.0.1:$ADMIN_PORT/-/reload")"
check "POST /-/reload to the host name again answered 200 at once (got $code in $ms ms)" \
    [ "$code" = 200 -a "$ms" -lt 500 ]
sleep 0.5
t=$(now_ms)
kill -TERM "$AGENT_PID"
exited() { [ -s "$AGENT_RC" ]; }
wait_until 10 exited
ms=$(($(now_ms) - t))
check "SIGTERM while the lookup hangs: the agent exited within 2 s (${ms} ms)" [ "$ms" -lt 2000 ]
check_eq "the agent's exit status is 0" "$(cat "$AGENT_RC" 2>/dev/null)" 0
n=$(grep -c 'not answered' "$WORK/dns.log")
check "the silent name server was asked (${n} queries) and answered none" [ "$n" -gt 0 ]
if grep -q 'AddressSanitizer\|runtime error' "$WORK/agent.log"; then
    not_ok "no sanitizer report in the agent's log"
fi
