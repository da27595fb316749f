#!/usr/bin/env bash
# End-to-end comparison test through real HAProxy: httpbin is the primary,
# compare/shadow.py the shadow, which forwards to the same httpbin but
# differs in known ways on known paths (another status, another header, an
# extra, a missing and a changed JSON member, a slower answer); a noise
# mirror (shadow.py --noise) answers exactly as the primary would. On /uuid
# every answer carries a new random uuid: the noise mirror's differences
# there are learned as noise and left out of the candidate's verdicts. The
# agent compares every mirrored request (compare/agent.yaml.in) with the
# primary's answer that HAProxy sends in the mirror-response message (the
# shipped SPOE file and http-response rules).
#
# Checks, each printed as "ok - ..." / "not ok - ...", then "N passed, M
# failed":
#   a. every client request is answered 200 by the primary;
#   b. spoa_shadow_compare_total is exact per verdict for the candidate:
#      match (/anything/same, /anything/slow, /uuid after the noise is left
#      out), status_differs, headers_differ, body_differs (3 paths); for the
#      noise mirror: body_differs on /uuid only; nothing unmatched;
#   c. the slow path shows in the latency difference (sign="slower");
#   d. the diff log holds one record per differing request with the injected
#      difference (compare/check_diffs.py);
#   e. the agent exits 0 on SIGTERM;
#   f. compare-report --json summarises that diff log with the same counts,
#      and its learned noise is exactly $.uuid.
#
# Environment: HAPROXY (default haproxy), AGENT_BIN (default
# build/spoa-shadow), N (requests per path, default 10), KEEP_WORK=1.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/tests/integration"
TPL="$HERE/compare"
AGENT_BIN=${AGENT_BIN:-$ROOT/build/spoa-shadow}
HAPROXY=${HAPROXY:-haproxy}
N=${N:-10}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spoa-compare.XXXXXX")
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"
export PYTHONDONTWRITEBYTECODE=1

report_start agent.log haproxy.log '*.err'
require "$HAPROXY" "$AGENT_BIN" curl py:httpbin py:msgpack
note "HAProxy: $("$HAPROXY" -v 2>/dev/null | head -1)"

read -r HTTP_PORT APP_PORT AGENT_PORT ADMIN_PORT SHADOW_PORT NOISE_PORT <<EOF2
$(free_ports 6)
EOF2
# The shipped response rules, indented for the frontend.
RESPONSE_RULES=$(grep -E '^[[:space:]]*http-response (wait-for-body|send-spoe-group)' "$SHIPPED_CONF/haproxy.cfg" |
    sed 's/^[[:space:]]*/    /' | sed ':a;N;$!ba;s/\n/\\n/g')
[ -n "$RESPONSE_RULES" ] || { not_ok "shipped haproxy.cfg has the compare rules"; exit 1; }
if ! render_haproxy_config "$TPL/haproxy.cfg.in" || ! render_template "$TPL/agent.yaml.in" "$WORK/agent.yaml"; then
    not_ok "configurations rendered"
    exit 1
fi
sed -i 's/\\n/\n/g' "$WORK/haproxy.cfg"

start_httpbin "$APP_PORT" "$WORK/httpbin"
"$PY" "$TPL/shadow.py" "$SHADOW_PORT" "$APP_PORT" >"$WORK/shadow.out" 2>"$WORK/shadow.err" &
track $!
"$PY" "$TPL/shadow.py" "$NOISE_PORT" "$APP_PORT" --noise >"$WORK/noise.out" 2>"$WORK/noise.err" &
track $!
start_agent "$AGENT_PORT" "$WORK/agent.log" -c "$WORK/agent.yaml" --admin-listen "127.0.0.1:$ADMIN_PORT" || { not_ok "agent started"; exit 1; }
start_haproxy "$WORK/haproxy.cfg" "$WORK/haproxy.log"
if ! wait_until 15 port_open "$APP_PORT" || ! wait_until 5 port_open "$SHADOW_PORT" ||
    ! wait_until 5 port_open "$NOISE_PORT" || ! wait_until 5 port_open "$HTTP_PORT" || ! wait_until 5 port_open "$ADMIN_PORT"; then
    not_ok "httpbin, shadow, agent and HAProxy started"
    exit 1
fi
wait_until 5 server_is "$WORK/haproxy.sock" "$AGENTS_BACKEND" agent1 UP || { not_ok "agent UP in HAProxy"; exit 1; }
ok "httpbin, shadow, agent and HAProxy started"

PATHS="/uuid /anything/same /anything/slow /anything/status /anything/header /anything/extra /anything/missing /anything/changed"
bad=0
for i in $(seq 1 "$N"); do
    for p in $PATHS; do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Host: httpbin' "http://127.0.0.1:$HTTP_PORT$p?i=$i")
        [ "$code" = 200 ] || { bad=$((bad + 1)); [ "$i" = 1 ] && note "$p: $code"; }
    done
done
check "all $((N * 8)) requests answered 200 by the primary ($bad not)" [ "$bad" = 0 ]

total() { live_metric spoa_shadow_compare_total; }
done_all() { [ "$(total)" = "$((N * 16))" ]; }
wait_until 20 done_all
scrape "$WORK/final.prom" || not_ok "metrics scraped"
CAND="mirror=\"http://127.0.0.1:$SHADOW_PORT\""
NOISE="mirror=\"http://127.0.0.1:$NOISE_PORT\""
count() { metric "$WORK/final.prom" spoa_shadow_compare_total "$1" "result=\"$2\""; }
for want in "match $((3 * N))" "status_differs $N" "headers_differ $N" "body_differs $((3 * N))" \
    "shadow_error 0" "unmatched 0"; do
    set -- $want
    got=$(count "$CAND" "$1")
    check "candidate: compare_total{result=\"$1\"} = $2 (got $got)" [ "$got" = "$2" ]
done
for want in "match $((7 * N))" "body_differs $N" "status_differs 0" "headers_differ 0" "unmatched 0"; do
    set -- $want
    got=$(count "$NOISE" "$1")
    check "noise mirror: compare_total{result=\"$1\"} = $2 (got $got)" [ "$got" = "$2" ]
done
got=$(metric "$WORK/final.prom" spoa_shadow_compare_noise_total "$CAND")
check "candidate: $N differences left out as learned noise (got $got)" [ "$got" = "$N" ]
hits=$(metric "$WORK/final.prom" spoa_shadow_compare_json_shape_hits_total "$CAND")
misses=$(metric "$WORK/final.prom" spoa_shadow_compare_json_shape_misses_total "$CAND")
note "candidate: primary JSON bodies derived from a kept shape $hits, tokenized $misses"
# Every verdict whose bodies differ loads the primary's body, derived or not: the
# candidate's, and the one against the noise mirror it learns from (twice 8 per round).
check "candidate: at least the $((3 * N)) differing bodies loaded as JSON, at most $((16 * N)) (got $((hits + misses)))" \
    [ $((hits + misses)) -ge $((3 * N)) -a $((hits + misses)) -le $((16 * N)) ]
got=$(metric "$WORK/final.prom" spoa_shadow_compare_responses_total 'result="unknown_id"')
check "no mirror-response for an unknown id (got $got)" [ "$got" = 0 ]
got=$(metric "$WORK/final.prom" spoa_shadow_compare_latency_diff_seconds_bucket 'sign="slower"' 'le="0.25"')
all=$(metric "$WORK/final.prom" spoa_shadow_compare_latency_diff_seconds_count 'sign="slower"')
note "latency difference: $all slower, $got of them by at most 250 ms"
check "the slow path is at least $N answers slower by more than 250 ms" [ $((all - got)) -ge "$N" ]

kill -TERM "$AGENT_PID"
check "agent exits 0 on SIGTERM" wait_until 10 test -s "$AGENT_RC"
[ -s "$AGENT_RC" ] && check "agent exit status 0 (got $(cat "$AGENT_RC"))" [ "$(cat "$AGENT_RC")" = 0 ]
run_checks "$PY" "$TPL/check_diffs.py" "$WORK/diffs" "$N"

# compare-report reads the same diff log back.
"$AGENT_BIN" compare-report "$WORK/diffs" --json >"$WORK/report.json" 2>"$WORK/report.err"
check "compare-report exits 0" [ $? = 0 ]
run_checks "$PY" - "$WORK/report.json" "$N" <<'PYEOF'
import json, sys
r, n = json.load(open(sys.argv[1])), int(sys.argv[2])
res = {}
for x in r["results"]:
    res[x["result"]] = res.get(x["result"], 0) + x["count"]
print(("ok - " if r["records"] == 6 * n else "not ok - ") + "compare-report: %d records" % r["records"])
print(("ok - " if res == {"status_differs": n, "headers_differ": n, "body_differs": 4 * n} else "not ok - ")
      + "compare-report: counts per result %s" % res)
noise = sorted(p["path"] for p in r["noise_paths"])
print(("ok - " if noise == ["$.uuid"] and not r["noise_headers"] else "not ok - ")
      + "compare-report: learned noise %s %s" % (noise, [h["header"] for h in r["noise_headers"]]))
paths = {p["path"] for p in r["paths"]}
print(("ok - " if paths == {"$.extra", "$.args", "$.method"} else "not ok - ") + "compare-report: paths %s" % sorted(paths))
print(("ok - " if [h["header"] for h in r["headers"]] == ["content-type"] else "not ok - ") + "compare-report: headers")
PYEOF
