#!/usr/bin/env bash
# The agent's admin endpoint and logs, with real parts on loopback: HAProxy
# (the shipped SPOE setup) fronts httpbin; the agent copies every request to
# tests/integration/mirror_test_server.py; a real Prometheus scrapes the
# agent every second.
#
# Checks, each printed as "ok - ..." / "not ok - ...", then "N passed, M
# failed"; exit status non-zero on any failure:
#   a. GET /metrics passes `promtool check metrics` (no lint problem) and
#      holds every metric family of spoa/admin/metrics.c, the mirror ones
#      labelled route and mirror;
#   b. /healthz and /readyz answer 200, an unknown path 404, a wrong method
#      405, a request with more than 8 KiB of headers and a malformed
#      request line 400;
#   c. Prometheus scrapes the agent (target up), and while traffic flows
#      mirror_sent_total and spop_acks_total grow between two queries and
#      histogram_quantile over ack_latency_seconds_bucket is a number;
#   d. with --log-format json, every line the agent wrote is a JSON object
#      with ts, level and event.
#
# Run from anywhere: `make && bash tests/integration/test_metrics.sh`.
# Environment: HAPROXY (default haproxy), AGENT_BIN (default
# build/spoa-shadow), KEEP_WORK=1 keeps the temp dir even on success.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
AGENT_BIN=${AGENT_BIN:-$ROOT/build/spoa-shadow}
PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
PROMTOOL=${PROMTOOL:-/usr/bin/promtool}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spoa-metrics.XXXXXX")
# shellcheck source=tests/integration/lifecycle/common.sh
. "$ROOT/tests/integration/lifecycle/common.sh"
export PYTHONDONTWRITEBYTECODE=1

require "$AGENT_BIN" "$HAPROXY" curl "$GUNICORN" "$PROMETHEUS" "$PROMTOOL" py:httpbin
read -r HTTP_PORT APP_PORT MIRROR_PORT AGENT_PORT ADMIN_PORT PROM_PORT <<EOF
$(free_ports 6)
EOF
note "ports: haproxy=$HTTP_PORT httpbin=$APP_PORT mirror=$MIRROR_PORT agent=$AGENT_PORT admin=$ADMIN_PORT prometheus=$PROM_PORT"

if ! render_haproxy_config "$LC/haproxy.cfg.in" || ! render_template "$LC/agent-metrics.yaml.in" "$WORK/agent.yaml" ||
    ! render_template "$LC/prometheus.yml.in" "$WORK/prometheus.yml"; then
    not_ok "configuration rendered from the templates"
    exit 1
fi
start_stack "$WORK/agent.log" -c "$WORK/agent.yaml" --log-format json --log-level debug

# Some traffic first, so that every labelled family has samples: plain GETs,
# and a POST whose body and headers need escaping in the logs.
for i in 1 2 3 4 5; do
    curl -s --max-time 5 -o /dev/null "http://127.0.0.1:$HTTP_PORT/ok?t=warm&n=$i"
done
# (The agent logs the first 32 bytes of a body: this one is 18.)
printf 'q " \\ \t \n \303\251 \001 end' >"$WORK/odd.body"
curl -s --max-time 5 -o /dev/null -H 'X-Odd: a "quoted" \ value' --data-binary "@$WORK/odd.body" \
    "http://127.0.0.1:$HTTP_PORT/ok?t=warm&n=odd"
enough_sent() { [ "$(live_metric spoa_shadow_mirror_sent_total)" = 6 ]; }
check "warm-up: 6 requests through HAProxy, 6 copies sent" wait_until 5 enough_sent

# ---------------------------------------------------------------- a
if scrape "$WORK/scrape1.prom"; then
    ok "GET /metrics answers 200 ($(grep -c -v '^#' "$WORK/scrape1.prom") samples)"
else
    not_ok "GET /metrics answers 200"
fi
ctype=$(curl -s --max-time 3 -o /dev/null -w '%{content_type}' "http://127.0.0.1:$ADMIN_PORT/metrics")
check_eq "GET /metrics has the text format 0.0.4 content type" "$ctype" "text/plain; version=0.0.4; charset=utf-8"
lint=$("$PROMTOOL" check metrics <"$WORK/scrape1.prom" 2>&1)
lint_rc=$?
check "promtool check metrics: exit 0 (got $lint_rc)" [ "$lint_rc" = 0 ]
check "promtool check metrics: no lint problem${lint:+ (got: $(printf '%s' "$lint" | head -n 3 | tr '\n' ' '))}" \
    [ -z "$lint" ]
# The families spoa/admin/metrics.c renders (mirror_* ones only once a route has a mirror).
missing=""
for fam in build_info start_time_seconds ready config_reloads_total \
    config_last_reload_success_timestamp_seconds spop_connections spop_connections_accepted_total \
    spop_connections_rejected_total spop_idle_timeouts_total spop_hellos_total spop_healthchecks_total \
    spop_notify_frames_total spop_acks_total spop_notify_aborted_total spop_unknown_frames_total \
    spop_received_bytes_total spop_sent_bytes_total spop_errors_total spop_peer_errors_total \
    ack_latency_seconds requests_unrouted_total route_requests_total route_mirrored_total \
    mirror_sampled_total mirror_not_sampled_total mirror_sampled_by_key_total mirror_sent_total \
    mirror_connections_opened_total mirror_connect_failures_total mirror_reused_total mirror_inflight \
    mirror_queued mirror_responses_total mirror_dropped_total mirror_skipped_total mirror_latency_seconds \
    mirror_resolve_failures_total mirror_connections_address_gone_total body_parts_received_total \
    body_parts_dropped_total body_parts_assembled_total body_parts_requests body_parts_bytes; do
    grep -q "^# TYPE spoa_shadow_$fam " "$WORK/scrape1.prom" || missing="$missing $fam"
done
check "every metric family of spoa/admin/metrics.c is exposed${missing:+ (missing:$missing)}" [ -z "$missing" ]
others=$(grep -v '^#' "$WORK/scrape1.prom" | grep -v '^spoa_shadow_' | head -n 3)
check "every sample is named spoa_shadow_*${others:+ (got: $others)}" [ -z "$others" ]
check_eq "route_requests_total{route=\"all\"} counts the 6 requests" \
    "$(metric "$WORK/scrape1.prom" spoa_shadow_route_requests_total 'route="all"')" 6
check_eq "mirror_responses_total{class=\"2xx\"} counts the 6 answers of the mirror" \
    "$(metric "$WORK/scrape1.prom" spoa_shadow_mirror_responses_total 'class="2xx"')" 6
check_eq "the ack latency histogram counts one ACK per request" \
    "$(metric "$WORK/scrape1.prom" spoa_shadow_ack_latency_seconds_count)" \
    "$(metric "$WORK/scrape1.prom" spoa_shadow_spop_acks_total)"
check_eq "ready is 1" "$(metric "$WORK/scrape1.prom" spoa_shadow_ready)" 1
# Resolve failures are labelled like every mirror series: route and mirror (not host).
check_eq "mirror_resolve_failures_total is labelled route and mirror, and 0 for 127.0.0.1" \
    "$(metric "$WORK/scrape1.prom" spoa_shadow_mirror_resolve_failures_total 'route="all"' \
        "mirror=\"http://127.0.0.1:$MIRROR_PORT\"" '!host=')" 0

# ---------------------------------------------------------------- b
check_eq "GET /healthz answers 200" "$(admin_status /healthz)" 200
check_eq "GET /readyz answers 200" "$(admin_status /readyz)" 200
check_eq "GET /no-such-path answers 404" "$(admin_status /no-such-path)" 404
check_eq "DELETE /metrics answers 405" "$(admin_status /metrics -X DELETE)" 405
check_eq "GET /-/reload answers 405" "$(admin_status /-/reload)" 405

# raw_status PYTHON-BYTES-EXPR: sends those bytes to the admin port and
# prints the status code of the answer ("none" when there was none).
raw_status() {
    "$PY" - "$ADMIN_PORT" "$1" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
try:
    s.sendall(eval(sys.argv[2]))
except OSError:
    pass  # the agent may answer and close before taking it all
out = b""
try:
    while b"\r\n" not in out:
        b = s.recv(4096)
        if not b:
            break
        out += b
except OSError as e:
    out = out or ("error %s" % e).encode()
parts = out.split(b" ", 2)
print(parts[1].decode() if len(parts) > 1 and out.startswith(b"HTTP/1.") else "none (%r)" % out[:60])
EOF
}
long='b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Filler: " + b"a" * 9000 + b"\r\n\r\n"'
check_eq "a request with 9000 bytes of headers answers 400" "$(raw_status "$long")" 400
many='b"GET /healthz HTTP/1.1\r\n" + b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 90) for i in range(100)) + b"\r\n"'
check_eq "a request with 100 headers of 100 bytes answers 400" "$(raw_status "$many")" 400
check_eq "a malformed request line answers 400" "$(raw_status 'b"GARBAGE\r\n\r\n"')" 400
check_eq "a request line with two spaces in the target answers 400" \
    "$(raw_status 'b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n"')" 400
check_eq "the admin endpoint still answers after the bad requests" "$(admin_status /healthz)" 200

# ---------------------------------------------------------------- c
"$PROMETHEUS" --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
    --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn >"$WORK/prometheus.log" 2>&1 &
PROM_PID=$!
track "$PROM_PID"
prom_ready() {
    [ "$(curl -s --max-time 1 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PROM_PORT/-/ready")" = 200 ]
}
T=$(now_ms)
if ! wait_until 20 prom_ready; then
    not_ok "Prometheus started (see $WORK/prometheus.log)"
    exit 1
fi
note "Prometheus ready after $(($(now_ms) - T)) ms"

# prom QUERY: the value of the first sample of an instant query ("none"
# when the result is empty or the query failed).
prom() {
    curl -s --max-time 3 -G --data-urlencode "query=$1" "http://127.0.0.1:$PROM_PORT/api/v1/query" 2>/dev/null |
        "$PY" -c '
import json, sys
try:
    d = json.load(sys.stdin)
    r = d["data"]["result"]
    print(r[0]["value"][1] if d["status"] == "success" and r else "none")
except Exception:
    print("none")'
}

start_load prom --path '/ok?t=prom' --hosts load.test --parallel 4 --rate 200 --duration 10 --max 3000
T=$(now_ms)
target_up() { [ "$(prom 'up{job="spoa-shadow"}')" = 1 ]; }
check "Prometheus: the agent's target is up" wait_until 10 target_up
health=$(curl -s --max-time 3 "http://127.0.0.1:$PROM_PORT/api/v1/targets" | "$PY" -c '
import json, sys
t = json.load(sys.stdin)["data"]["activeTargets"]
print(",".join("%s:%s:%s" % (x["scrapePool"], x["health"], x["lastError"] or "-") for x in t))')
check_eq "Prometheus: one target, healthy, no scrape error" "$health" "spoa-shadow:up:-"
# Two scrapes of the load are needed before a difference can show.
has_load() { more "$(prom 'sum(spoa_shadow_spop_acks_total)')" 50; }
wait_until 5 has_load
sent1=$(prom 'sum(spoa_shadow_mirror_sent_total)')
acks1=$(prom 'sum(spoa_shadow_spop_acks_total)')
grown() {
    sent2=$(prom 'sum(spoa_shadow_mirror_sent_total)')
    acks2=$(prom 'sum(spoa_shadow_spop_acks_total)')
    more "$sent2" "$sent1" && more "$acks2" "$acks1"
}
sent2=none acks2=none
wait_until 8 grown
running=$(kill -0 "$LOAD_PID" 2>/dev/null && echo yes || echo no)
check "Prometheus: mirror_sent_total grows while traffic flows ($sent1 -> $sent2)" \
    more "$sent2" "$sent1"
check "Prometheus: spop_acks_total grows while traffic flows ($acks1 -> $acks2)" \
    more "$acks2" "$acks1"
check_eq "the load was still running after those queries" "$running" yes
q='histogram_quantile(0.99, sum by (le) (rate(spoa_shadow_ack_latency_seconds_bucket[5s])))'
p99=$(prom "$q")
is_number() {
    "$PY" -c 'import math, sys; v = float(sys.argv[1]); sys.exit(0 if math.isfinite(v) and 0 < v < 0.5 else 1)' "$1" 2>/dev/null
}
check "Prometheus: histogram_quantile(0.99) of ack_latency_seconds is a number in (0, 0.5) s (got $p99)" \
    is_number "$p99"
q='histogram_quantile(0.5, sum by (le) (rate(spoa_shadow_mirror_latency_seconds_bucket[5s])))'
p50=$(prom "$q")
check "Prometheus: histogram_quantile(0.5) of mirror_latency_seconds is a number in (0, 0.5) s (got $p50)" \
    is_number "$p50"
wait_load 20
total=$(res_count prom 'True')
good=$(res_count prom 'r["status"] == 200 and r["mirrored"] == "1"')
check "load: every request answered 200 with X-Mirrored: 1 ($good of $total)" \
    all_of "$good" "$total"
note "load: $total requests in $(($(now_ms) - T)) ms"
stop_pid "$PROM_PID" 5

# ---------------------------------------------------------------- d
kill -TERM "$AGENT_PID"
if wait_until 5 test -s "$AGENT_RC"; then
    check_eq "SIGTERM: the agent exits with status 0" "$(cat "$AGENT_RC")" 0
else
    not_ok "SIGTERM: the agent exits within 5 s"
fi
json_report=$("$PY" - "$WORK/agent.log" <<'EOF'
import json, sys
bad, events, n = [], {}, 0
with open(sys.argv[1], "rb") as f:
    for no, raw in enumerate(f, 1):
        n += 1
        try:
            obj = json.loads(raw.decode("utf-8"))
            if not isinstance(obj, dict) or not all(k in obj for k in ("ts", "level", "event")):
                raise ValueError("missing ts, level or event")
            events[obj["event"]] = events.get(obj["event"], 0) + 1
        except Exception as e:
            bad.append("line %d: %s: %r" % (no, e, raw[:120]))
print(n, len(bad), ",".join(sorted(events)))
for b in bad[:3]:
    print(b)
EOF
)
read -r lines bad_lines events <<EOF
$json_report
EOF
note "json log: $lines lines, events: $events"
check "json log: every one of the $lines lines is a JSON object with ts, level and event ($bad_lines bad)" \
    all_of "$((lines - bad_lines))" "$lines"
[ "$bad_lines" = 0 ] || printf '%s\n' "$json_report" | tail -n +2 | sed 's/^/#   /'
missing=""
for e in start notify spop_close drain drained exit; do
    case ",$events," in *",$e,"*) ;; *) missing="$missing $e" ;; esac
done
check "json log: has the start, notify, spop_close, drain, drained and exit events${missing:+ (missing:$missing)}" \
    [ -z "$missing" ]
odd=$("$PY" - "$WORK/agent.log" "$WORK/odd.body" <<'EOF'
import json, sys
want = open(sys.argv[2], "rb").read().decode("utf-8")
for raw in open(sys.argv[1], "rb"):
    try:
        o = json.loads(raw.decode("utf-8"))
    except Exception:
        continue
    if o.get("event") == "notify" and "n=odd" in o.get("path", ""):
        print("same" if o.get("body") == want else "differs: %r" % o.get("body"))
        break
else:
    print("no notify line")
EOF
)
check_eq "json log: the odd POST body round-trips through the notify line" "$odd" same
