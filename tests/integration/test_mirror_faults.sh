#!/usr/bin/env bash
# Mirrors that misbehave in every way a real server can must never reach the
# primary. Real parts on loopback: HAProxy (the shipped SPOE setup) fronts
# httpbin; the agent (one worker thread) mirrors 100% of each route to one
# fault of faulty_mirror.py:
#   huge      a 4 GiB response at full speed   -> response counted, then cut: too_large;
#                                               cuts in a row open the circuit breaker
#   trickle   one byte a second                -> dropped: timeout
#   reset     RST after the request            -> dropped: io_error, then circuit_open
#   midclose  close in the middle of the body  -> response counted, then cut: io_error,
#                                               then circuit_open
#   flood1xx  "100 Continue" without end       -> dropped: bad_response, then circuit_open
#   garbage   bytes that are not HTTP          -> dropped: bad_response, then circuit_open
#   noread    never reads a large POST         -> dropped: timeout
# and from HTTP/2 mirrors (h2c; h2/faulty_h2_mirror.py), where one connection
# carries many copies:
#   h2huge    a 4 GiB content-length           -> response counted, then the stream
#                                               cut: too_large
#   h2endless DATA without end                 -> response counted, then the stream
#                                               cut: too_large
#   h2reset   RST_STREAM for every request     -> dropped: stream_reset, then circuit_open
#   h2flood1xx 100 interim responses, no final -> dropped: bad_response, then circuit_open
#   h2stall   window 0, never answers          -> dropped: timeout
#   h2garbage no HTTP/2 preface                -> dropped: bad_response, then circuit_open
# For each: every client request answers 200 from the primary, none has an
# SPOE error, every request was ACKed (X-Mirrored: 1), and the agent counted
# the fault under the right reason. Then the agent exits 0 on SIGTERM.
#
# Run from anywhere: `make && bash tests/integration/test_mirror_faults.sh`.
# Environment: HAPROXY (default haproxy), AGENT_BIN (default
# build/spoa-shadow), FAULT_REQUESTS (default 300 per fault), KEEP_WORK=1
# keeps the temp dir even on success.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/tests/integration"
AGENT_BIN=${AGENT_BIN:-$ROOT/build/spoa-shadow}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spoa-faults.XXXXXX")
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"
report_start agent.log haproxy.log faults.out faults-h2.out '*.client.err'

FAULTS="huge trickle reset midclose flood1xx garbage noread h2huge h2endless h2reset h2flood1xx h2stall h2garbage"
# Requests per fault, 8 at a time; half are POSTs of 12 KB (one HAProxy
# buffer holds them whole), so that the noread mirror's socket buffers fill.
COUNT=${FAULT_REQUESTS:-300}

require "$AGENT_BIN" "$HAPROXY" curl "$GUNICORN" py:httpbin
note "$("$HAPROXY" -v | head -n 1)"

# shellcheck disable=SC2034  # read by render_template
read -r HTTP_PORT V1_PORT AGENT_PORT ADMIN_PORT HUGE_PORT TRICKLE_PORT RESET_PORT MIDCLOSE_PORT \
    FLOOD1XX_PORT GARBAGE_PORT NOREAD_PORT H2HUGE_PORT H2ENDLESS_PORT H2RESET_PORT H2FLOOD1XX_PORT \
    H2STALL_PORT H2GARBAGE_PORT < <(free_ports 17)
if ! render_haproxy_config "$HERE/mirroring/haproxy.cfg.in" ||
    ! render_template "$HERE/faults/agent.yaml.in" "$WORK/agent.yaml"; then
    not_ok "configuration rendered from the templates"
    exit 1
fi
if ! "$AGENT_BIN" -c "$WORK/agent.yaml" --check-config >"$WORK/check-config.out" 2>&1; then
    not_ok "spoa-shadow --check-config accepts the rendered agent configuration"
    sed 's/^/#   /' "$WORK/check-config.out"
    exit 1
fi

"$PY" "$HERE/faulty_mirror.py" --max-seconds 600 huge="$HUGE_PORT" trickle="$TRICKLE_PORT" \
    reset="$RESET_PORT" midclose="$MIDCLOSE_PORT" flood1xx="$FLOOD1XX_PORT" garbage="$GARBAGE_PORT" \
    noread="$NOREAD_PORT" >"$WORK/faults.out" 2>&1 &
FAULTY_PID=$!
track "$FAULTY_PID"
"$PY" "$HERE/h2/faulty_h2_mirror.py" --max-seconds 600 huge="$H2HUGE_PORT" endless="$H2ENDLESS_PORT" \
    reset="$H2RESET_PORT" flood1xx="$H2FLOOD1XX_PORT" stall="$H2STALL_PORT" garbage="$H2GARBAGE_PORT" \
    >"$WORK/faults-h2.out" 2>&1 &
FAULTY_H2_PID=$!
track "$FAULTY_H2_PID"
start_httpbin "$V1_PORT" "$WORK/httpbin"
start_agent "$AGENT_PORT" "$WORK/agent.log" -c "$WORK/agent.yaml" --admin-listen "127.0.0.1:$ADMIN_PORT" ||
    { not_ok "agent started"; exit 1; }
start_haproxy "$WORK/haproxy.cfg" "$WORK/haproxy.log"
if ! wait_until 5 grep -q ready "$WORK/faults.out" || ! wait_until 5 grep -q ready "$WORK/faults-h2.out" ||
    ! wait_until 15 port_open "$V1_PORT" ||
    ! wait_until 5 port_open "$HTTP_PORT" || ! wait_until 5 grep -q 'event=start ' "$WORK/agent.log"; then
    not_ok "faulty mirrors, httpbin, the agent and HAProxy started"
    exit 1
fi
check "HAProxy marks the agent UP (spop-check)" \
    wait_until 5 server_is "$WORK/haproxy.sock" "$AGENTS_BACKEND" agent1 UP

# expect_counted FAULT DESCRIPTION METRIC FILTER...: the metric of the
# fault's route, with FILTERs, rose during the fault's run.
expect_counted() {
    local fault=$1 desc=$2 name=$3 before after
    shift 3
    before=$(metric "$WORK/before-$fault.prom" "$name" "route=\"$fault\"" "$@") || before=0
    after=$(metric "$WORK/after-$fault.prom" "$name" "route=\"$fault\"" "$@") || after=0
    check "$fault: $desc ($name $* went $before -> $after)" [ "$after" -gt "$before" ]
}

# settled ROUTE: nothing of the route is in flight or queued any more.
settled() {
    scrape "$WORK/settle.prom" &&
        [ "$(metric "$WORK/settle.prom" spoa_shadow_mirror_inflight "route=\"$1\"")" = 0 ] &&
        [ "$(metric "$WORK/settle.prom" spoa_shadow_mirror_queued "route=\"$1\"")" = 0 ]
}

for fault in $FAULTS; do
    scrape "$WORK/before-$fault.prom"
    t=$(now_ms)
    "$PY" "$HERE/mirroring/load_client.py" --port "$HTTP_PORT" --host "$fault.test" --prefix "$fault" \
        --count "$COUNT" --parallel 8 --post-bytes 12000 --deadline 60 --out "$WORK/$fault.res" \
        2>"$WORK/$fault.client.err"
    ms=$(($(now_ms) - t))
    ok200=$(grep -c '"status": *200' "$WORK/$fault.res")
    acked=$(grep -c '"mirrored": *"1"' "$WORK/$fault.res")
    clean=$(grep -c '"spoe_err": *""' "$WORK/$fault.res")
    note "$fault: $COUNT requests in $ms ms ($((COUNT * 1000 / (ms > 0 ? ms : 1))) req/s)"
    check "$fault: all $COUNT client requests answered 200 (got $ok200)" [ "$ok200" = "$COUNT" ]
    check "$fault: every request ACKed with mirrored=1 (got $acked)" [ "$acked" = "$COUNT" ]
    check "$fault: 0 SPOE errors ($((COUNT - clean)) requests had one)" [ "$clean" = "$COUNT" ]
    wait_until 10 settled "$fault" || note "$fault: copies still in flight after 10 s"
    scrape "$WORK/after-$fault.prom"
    case $fault in
        huge)
            expect_counted huge "the copy counts as delivered once its headers arrived" \
                spoa_shadow_mirror_responses_total 'class="2xx"'
            expect_counted huge "the body beyond max_response_bytes is cut" \
                spoa_shadow_mirror_responses_cut_total 'reason="too_large"'
            expect_counted huge "answers cut in a row open the circuit breaker" \
                spoa_shadow_mirror_dropped_total 'reason="circuit_open"'
            ;;
        trickle) expect_counted trickle "dropped at timeout_ms" spoa_shadow_mirror_dropped_total 'reason="timeout"' ;;
        reset)
            expect_counted reset "dropped as an I/O error" spoa_shadow_mirror_dropped_total 'reason="io_error"'
            expect_counted reset "the resets open the circuit breaker" spoa_shadow_mirror_dropped_total \
                'reason="circuit_open"'
            ;;
        midclose)
            expect_counted midclose "the copy counts as delivered once its headers arrived" \
                spoa_shadow_mirror_responses_total 'class="2xx"'
            expect_counted midclose "the cut body is counted" \
                spoa_shadow_mirror_responses_cut_total 'reason="io_error"'
            expect_counted midclose "answers cut in a row open the circuit breaker" \
                spoa_shadow_mirror_dropped_total 'reason="circuit_open"'
            ;;
        flood1xx | garbage)
            expect_counted "$fault" "dropped as a bad response" spoa_shadow_mirror_dropped_total \
                'reason="bad_response"'
            expect_counted "$fault" "the bad responses open the circuit breaker" \
                spoa_shadow_mirror_dropped_total 'reason="circuit_open"'
            ;;
        noread) expect_counted noread "dropped at timeout_ms" spoa_shadow_mirror_dropped_total 'reason="timeout"' ;;
        h2huge | h2endless)
            expect_counted "$fault" "the copy counts as delivered once its headers arrived" \
                spoa_shadow_mirror_responses_total 'class="2xx"'
            expect_counted "$fault" "the stream is cut beyond max_response_bytes" \
                spoa_shadow_mirror_responses_cut_total 'reason="too_large"'
            ;;
        h2reset)
            expect_counted h2reset "dropped as a reset stream" spoa_shadow_mirror_dropped_total \
                'reason="stream_reset"'
            expect_counted h2reset "the resets open the circuit breaker" spoa_shadow_mirror_dropped_total \
                'reason="circuit_open"'
            ;;
        h2stall) expect_counted h2stall "dropped at timeout_ms" spoa_shadow_mirror_dropped_total 'reason="timeout"' ;;
        h2flood1xx)
            expect_counted h2flood1xx "dropped as a bad response" spoa_shadow_mirror_dropped_total \
                'reason="bad_response"'
            expect_counted h2flood1xx "the bad responses open the circuit breaker" \
                spoa_shadow_mirror_dropped_total 'reason="circuit_open"'
            ;;
        h2garbage)
            expect_counted h2garbage "dropped as a bad response" spoa_shadow_mirror_dropped_total \
                'reason="bad_response"'
            expect_counted h2garbage "the bad responses open the circuit breaker" \
                spoa_shadow_mirror_dropped_total 'reason="circuit_open"'
            ;;
    esac
done

# A POST written whole is never sent twice: the reset mirror reads each
# request before resetting, so it counts every copy it was sent.
stop_pid "$FAULTY_PID" 5
stop_pid "$FAULTY_H2_PID" 5
note "faulty mirrors: $(tr '\n' ';' <"$WORK/faults.out")"
note "faulty HTTP/2 mirrors: $(tr '\n' ';' <"$WORK/faults-h2.out")"
seen=$(sed -n 's/^reset connections=[0-9]* requests=\([0-9]*\).*/\1/p' "$WORK/faults.out")
check "reset: at most one copy per client request reached the mirror ($seen for $COUNT)" \
    [ "${seen:-0}" -le "$COUNT" ]

stop_pid "$AGENT_PID" 10
check "the agent exits 0 on SIGTERM" [ "$(cat "$AGENT_RC" 2>/dev/null)" = 0 ]
