# shellcheck shell=bash
# profile_agent OUT [URL KEYS]: profiles the agent during one more
# scenario-3 run (100% mirrored to the healthy mirror, saturation; or to
# URL with the mirror keys KEYS, e.g. the h2c mirror of s3c) and writes OUT:
#   - system calls per mirrored copy (perf stat on syscall tracepoints, and
#     how many epoll_ctl calls failed with EEXIST), and HAProxy's system
#     calls per request in a window of the same length,
#   - the agent's CPU time by object (agent, libc, libev, kernel...),
#   - inclusive time per function (perf record --call-graph dwarf), which
#     tells which part of the agent (SPOP input, the mirror send, the
#     response read, the event loop) the kernel time is spent for,
#   - self time per symbol.
# Sourced by bench/run_e2e.sh after bench/e2e/lib.sh; uses its variables
# (WORK, RUN_SECONDS, ports, MIRROR_PORT, MAX_FRAME) and helpers.
profile_agent() {
    local out=$1 d="$WORK/profile" agent wrk_job secs n0 n1
    local S_AGENT_BIN="" # the build under test, whatever scenario ran last
    command -v perf >/dev/null 2>&1 || { echo "e2e: perf is missing: no profile" >&2; return 0; }
    mkdir -p "$d"
    secs=$((RUN_SECONDS > 3 ? RUN_SECONDS - 2 : 2))
    start_bench_agent "$AGENT_PORT" "$ADMIN_PORT" "${2:-http://127.0.0.1:$MIRROR_PORT}" 100 "$MAX_FRAME" "${3:-}" ||
        return 1
    agent=$AGENT_PID
    start_bench_haproxy "$WORK/haproxy-spoe.cfg" || return 1
    wait_until 5 agent_checked
    # PROFILE_RATE (requests/s): a paced run at that rate instead of saturation.
    local pmode=sat prate=${PROFILE_RATE:-0}
    [ "$prate" -gt 0 ] && pmode=half
    run_wrk "$d/warmup.out" "$HTTP_PORT" 1 "$pmode" get "$prate"
    run_wrk "$d/wrk.out" "$HTTP_PORT" "$((secs + 2))" "$pmode" get "$prate" &
    wrk_job=$!
    track "$wrk_job"
    sleep 0.5
    # The counting window is the life of the command perf stat runs, which
    # scrapes the metrics at its start and its end: the same window.
    local metrics="curl -sf --max-time 2 http://127.0.0.1:$ADMIN_PORT/metrics"
    perf stat -x, -o "$d/syscalls.csv" -p "$agent" \
        -e syscalls:sys_enter_sendto,syscalls:sys_enter_recvfrom,syscalls:sys_enter_epoll_wait \
        -e syscalls:sys_enter_epoll_ctl -e syscalls:sys_exit_epoll_ctl --filter 'ret == -17' \
        -- sh -c "$metrics >'$d/metrics.0'; sleep $secs; $metrics >'$d/metrics.1'" >/dev/null 2>&1 &
    local stat_job=$!
    track "$stat_job"
    # HAProxy's side of the same window: how many system calls a request
    # costs the proxy (3.x's SPOP multiplexer and 2.6's applets batch
    # NOTIFYs differently).
    perf stat -x, -o "$d/haproxy-syscalls.csv" -p "$HAPROXY_PID" \
        -e syscalls:sys_enter_sendto,syscalls:sys_enter_sendmsg,syscalls:sys_enter_recvfrom \
        -e syscalls:sys_enter_recvmsg,syscalls:sys_enter_epoll_wait,context-switches \
        -- sleep "$secs" >/dev/null 2>&1 &
    local hstat_job=$!
    track "$hstat_job"
    perf record -F 2999 --call-graph dwarf,16384 -o "$d/perf.data" -p "$agent" -- sleep "$secs" \
        >"$d/perf-record.log" 2>&1
    wait "$stat_job"
    wait "$hstat_job"
    wait "$wrk_job"
    stop_pid "$HAPROXY_PID"
    stop_pid "$agent"
    n0=$(metric_sum "$d/metrics.0" spoa_shadow_mirror_sent_total)
    n1=$(metric_sum "$d/metrics.1" spoa_shadow_mirror_sent_total)
    local f0 f1
    f0=$(metric_sum "$d/metrics.0" spoa_shadow_spop_notify_frames_total)
    f1=$(metric_sum "$d/metrics.1" spoa_shadow_spop_notify_frames_total)
    {
        echo "# perf profile of spoa-shadow (--threads 1) in scenario 3 (100% mirrored to a healthy"
        echo "# mirror), $([ "$pmode" = sat ] && echo saturation || echo "paced at $prate req/s"), $(sed -n 's/^Requests\/sec: *//p' "$d/wrk.out") req/s through HAProxy,"
        echo "# $((n1 - n0)) copies mirrored in the ${secs} s window of the system call counts."
        echo
        echo "# System calls per mirrored copy (perf stat, same window):"
        awk -F, -v n=$((n1 - n0)) '$3 ~ /^syscalls:/ && n > 0 {
            name = $3; sub(/^syscalls:sys_/, "", name)
            if (name == "exit_epoll_ctl") name = "epoll_ctl failing with EEXIST"
            else sub(/^enter_/, "", name)
            printf "#   %-32s %10d  %.2f per copy\n", name, $1, $1 / n }' "$d/syscalls.csv"
        echo "#   NOTIFY frames received            $((f1 - f0))"
        echo
        echo "# HAProxy $("$HAPROXY" -v | awk 'NR == 1 { print $3 }'): system calls per request (perf stat on"
        echo "# its process over a window of the same length; requests = NOTIFY frames above):"
        awk -F, -v n=$((f1 - f0)) '$1 ~ /^[0-9]+$/ && n > 0 {
            name = $3; sub(/^syscalls:sys_enter_/, "", name)
            printf "#   %-32s %10d  %.2f per request\n", name, $1, $1 / n }' "$d/haproxy-syscalls.csv"
        echo
        echo "# CPU time by object (self):"
        perf report -i "$d/perf.data" --stdio --no-children --sort dso -g none 2>/dev/null |
            grep -v '^#' | grep -v '^$' | head -12
        echo
        echo "# Inclusive time per function (children; >= 2 %; the syscall chains show whose"
        echo "# system calls the kernel time is for):"
        perf report -i "$d/perf.data" --stdio --children --sort symbol -g none --percent-limit 2 2>/dev/null |
            grep -v '^#' | grep -v '^$' | sed 's/ *- *- *$//' | head -80
        echo
        echo "# Self time per symbol (>= 0.5 %):"
        perf report -i "$d/perf.data" --stdio --no-children --sort dso,symbol -g none --percent-limit 0.5 \
            2>/dev/null | grep -v '^#' | grep -v '^$' | sed 's/ *- *- *$//' | head -60
    } >"$out"
    echo "e2e: wrote $out" >&2
}
