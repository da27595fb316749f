# shellcheck shell=bash
# Helpers of the end-to-end benchmark (bench/run_e2e.sh), for bash.
#
# Source after tests/integration/lib.sh (track, stop_pid, wait_until,
# port_open, haproxy_cmd, server_field, PY, IT_DIR) and after setting: E2E (this
# directory), WORK (a private temp dir), PIN_SUT / PIN_LOAD (command prefixes
# that pin a process to the system-under-test CPU or to the load CPU), and
# the binaries AGENT_BIN, HAPROXY, NGINX, WRK, DELAY_BIN; snapshot also
# needs PRIMARY_PID, MIRROR_PID, DELAY_PID and FAULTY_PID (the backends);
# start_bench_agent needs AGENT_MIRROR_KEYS (agent_mirror_keys sets it).
#
# Every process started here is recorded with track and stopped by PID.

TICK=$(getconf CLK_TCK) # clock ticks per second, for the callers
export TICK

# bench_on_exit NAME: installs the EXIT trap of a benchmark script, which
# stops every tracked process, then removes WORK, or keeps it (saying so,
# prefixed with NAME) when the run failed or KEEP_WORK is set; INT and TERM
# end the run with status 130.
bench_on_exit() {
    BENCH_NAME=$1
    trap bench_finish EXIT
    trap 'exit 130' INT TERM
}

# bench_finish: the EXIT trap of bench_on_exit.
bench_finish() {
    local rc=$?
    trap - EXIT INT TERM
    stop_all
    if [ "$rc" -ne 0 ] || [ -n "${KEEP_WORK:-}" ]; then
        echo "$BENCH_NAME: work directory kept: $WORK" >&2
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}

# render TEMPLATE OUT KEY=VALUE...: copies TEMPLATE to OUT, replacing each
# @KEY@ with VALUE (values must not contain '|').
render() {
    local tpl=$1 out=$2 kv args=()
    shift 2
    for kv in "$@"; do
        args+=(-e "s|@${kv%%=*}@|${kv#*=}|g")
    done
    sed "${args[@]}" "$tpl" >"$out"
}

# proc_ticks PID: utime+stime of every thread of PID, in clock ticks (0 when
# PID is gone). Field 2 (comm) may hold spaces, hence the cut at ") ".
proc_ticks() {
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return 0; }
    echo "${s##*) }" | awk '{ print $12 + $13 }'
}

# proc_kb PID FIELD: a /proc/PID/status field in kB (VmRSS, VmHWM), or 0.
proc_kb() {
    local s
    s=$(cat "/proc/$1/status" 2>/dev/null) || { echo 0; return 0; }
    echo "$s" | awk -v f="$2:" '$1 == f { v = $2 } END { print v + 0 }'
}

# start_nginx NAME CONF CPU_PIN_PREFIX: one single-process nginx; sets NGINX_PID.
start_nginx() {
    mkdir -p "$WORK/$1-tmp"
    # shellcheck disable=SC2086
    $3 "$NGINX" -c "$2" -e "$WORK/$1.error.log" >"$WORK/$1.out" 2>&1 &
    NGINX_PID=$!
    track "$NGINX_PID"
}

# start_delay_server PORT DELAY_MS: the slow mirror; sets DELAY_PID.
start_delay_server() {
    # shellcheck disable=SC2086
    $PIN_LOAD "$DELAY_BIN" --listen "127.0.0.1:$1" --delay-ms "$2" >"$WORK/delay.log" 2>&1 &
    DELAY_PID=$!
    track "$DELAY_PID"
}

# start_faulty_mirrors MAX_SECONDS HUGE_PORT RESET_PORT H2_HUGE_PORT
# H2_RESET_PORT: the misbehaving mirrors, each exiting by itself after
# MAX_SECONDS: tests/integration/faulty_mirror.py, a 4 GiB answer at full
# speed on HUGE_PORT and a reset after each request on RESET_PORT (sets
# FAULTY_PID; its totals go to $WORK/faulty.log when it is stopped), and
# tests/integration/h2/faulty_h2_mirror.py, the same faults over h2c for
# each stream (FAULTY_H2_PID, $WORK/faulty-h2.log).
start_faulty_mirrors() {
    local max=$1 script log pids=() i=0
    shift
    for script in faulty_mirror.py h2/faulty_h2_mirror.py; do
        log=$WORK/faulty$([ $i = 1 ] && echo -h2).log
        # shellcheck disable=SC2086
        ${PIN_FAULTY:-$PIN_LOAD} "$PY" "$IT_DIR/$script" --max-seconds "$max" \
            "huge=$1" "reset=$2" >"$log" 2>&1 &
        pids+=("$!")
        track "$!"
        shift 2
        i=$((i + 1))
    done
    FAULTY_PID=${pids[0]} FAULTY_H2_PID=${pids[1]}
    wait_until 10 grep -q '^ready$' "$WORK/faulty.log" && wait_until 10 grep -q '^ready$' "$WORK/faulty-h2.log"
}

# agent_mirror_yaml URL PERCENT EXTRA_KEYS: prints the "routes" of an agent
# configuration: one catch-all route named "default" with one mirror, what
# --mirror URL --percent PERCENT builds, plus EXTRA_KEYS ("key: value"
# lines, or nothing) in the mirror.
agent_mirror_yaml() {
    printf 'routes:\n  - name: default\n    mirrors:\n      - url: "%s"\n        percent: %s\n' "$1" "$2"
    [ -n "$3" ] && printf '%s\n' "$3" | sed 's/^/        /'
    return 0
}

# agent_mirror_keys: sets AGENT_MIRROR_KEYS to the mirror keys the bench
# adds to the agent's configuration, those of them the agent accepts (asked
# once with --check-config): "max_response_bytes: 65536" (the mirror's
# answers are read up to that size) or nothing. Fails when the agent rejects
# even the configuration without them.
agent_mirror_keys() {
    local f="$WORK/check-config.yaml" key="max_response_bytes: 65536"
    AGENT_MIRROR_KEYS=""
    agent_mirror_yaml "http://127.0.0.1:9" 100 "$key" >"$f"
    if "$AGENT_BIN" -c "$f" --check-config >"$WORK/check-config.out" 2>&1; then
        AGENT_MIRROR_KEYS=$key
        return 0
    fi
    agent_mirror_yaml "http://127.0.0.1:9" 100 "" >"$f"
    "$AGENT_BIN" -c "$f" --check-config >>"$WORK/check-config.out" 2>&1
}

# start_bench_agent SPOP_PORT ADMIN_PORT MIRROR_URL PERCENT MAX_FRAME
# [MORE_KEYS]: the agent, pinned with the system under test, one worker
# thread, one catch-all route to MIRROR_URL with AGENT_MIRROR_KEYS (and
# MORE_KEYS: mirror keys, one "key: value" line each); sets AGENT_PID.
start_bench_agent() {
    agent_mirror_yaml "$3" "$4" "$(printf '%s\n%s' "$AGENT_MIRROR_KEYS" "${6:-}" | sed '/^$/d')" >"$WORK/agent.yaml"
    # shellcheck disable=SC2086
    $PIN_SUT "${S_AGENT_BIN:-$AGENT_BIN}" -c "$WORK/agent.yaml" --listen "127.0.0.1:$1" --admin-listen "127.0.0.1:$2" \
        --threads 1 --max-frame-size "$5" --log-level warn 2>>"$WORK/agent.log" &
    AGENT_PID=$!
    track "$AGENT_PID"
    wait_until 5 curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$2/readyz"
}

# circuit_rest_left_ms SINCE_LINE: milliseconds until the rest of the
# agent's circuit breaker is over, from the last "circuit_open" event the
# agent logged to $WORK/agent.log after line SINCE_LINE (0: none, or over).
circuit_rest_left_ms() {
    local line ts open_ms end now
    line=$(tail -n +"$(($1 + 1))" "$WORK/agent.log" 2>/dev/null | grep 'event=circuit_open' | tail -1)
    ts=$(sed -n 's/^ts=\([^ ]*\) .*/\1/p' <<<"$line")
    open_ms=$(sed -n 's/.* open_ms=\([0-9]*\).*/\1/p' <<<"$line")
    if [ -z "$ts" ] || [ -z "$open_ms" ] || ! end=$(date -d "$ts" +%s%3N 2>/dev/null); then
        echo 0
        return 0
    fi
    end=$((end + open_ms)) now=$(date +%s%3N)
    # Never more than one rest (should the clocks disagree).
    echo $((end <= now ? 0 : end - now > open_ms ? open_ms : end - now))
}

# start_bench_haproxy CFG: HAProxy in the foreground mode, pinned with the
# system under test; sets HAPROXY_PID. Waits for its stats socket.
start_bench_haproxy() {
    # shellcheck disable=SC2086
    $PIN_SUT "$HAPROXY" -db -f "$1" >"$WORK/haproxy.log" 2>&1 &
    HAPROXY_PID=$!
    track "$HAPROXY_PID"
    wait_until 5 haproxy_ready "$WORK/haproxy.sock"
}

# agent_checked: true once HAProxy's spop-check has passed on the agent.
agent_checked() {
    [ "$(server_field "$WORK/haproxy.sock" spoa-shadow-agents agent1 check_status)" = L7OK ]
}

# metric_sum FILE NAME [LABEL_MATCH]: the sum of every sample of metric NAME
# in a Prometheus text file (optionally only lines containing LABEL_MATCH).
metric_sum() {
    awk -v n="$2" -v m="${3:-}" '
        $1 == n || index($1, n "{") == 1 { if (m == "" || index($0, m)) s += $NF }
        END { printf "%.0f\n", s }' "$1" 2>/dev/null
}

# agent_idle ADMIN_PORT: true when the agent has no copy in flight or queued.
agent_idle() {
    local f="$WORK/metrics.idle"
    curl -sf --max-time 1 "http://127.0.0.1:$1/metrics" >"$f" || return 1
    [ "$(metric_sum "$f" spoa_shadow_mirror_inflight)" = 0 ] &&
        [ "$(metric_sum "$f" spoa_shadow_mirror_queued)" = 0 ]
}

# mirror_count KIND PORT: requests received so far by the mirror backend
# (KIND nginx: stub_status "requests", which counts the status request
# itself; KIND delay: the delay server's counter; anything else: 0).
mirror_count() {
    case $1 in
    nginx | h2c | h2tls | h1tls) curl -sf --max-time 2 "http://127.0.0.1:$2/__status" | awk 'NR == 3 { print $3 }' ;;
    delay) curl -sf --max-time 2 "http://127.0.0.1:$2/__stats" |
        sed -n 's/.*"received":\([0-9]*\).*/\1/p' ;;
    *) echo 0 ;;
    esac
}

# snapshot_agent DIR TAG: records the agent's metrics (DIR/metrics.TAG),
# CPU time and memory (TAG_agent_* lines in DIR/meta.env), when it runs.
snapshot_agent() {
    [ -n "${RUN_AGENT_PID:-}" ] && kill -0 "$RUN_AGENT_PID" 2>/dev/null || return 0
    curl -sf --max-time 2 "http://127.0.0.1:$RUN_ADMIN_PORT/metrics" >"$1/metrics.$2"
    {
        echo "${2}_agent_ticks=$(proc_ticks "$RUN_AGENT_PID")"
        echo "${2}_agent_hwm_kb=$(proc_kb "$RUN_AGENT_PID" VmHWM)"
        echo "${2}_agent_rss_kb=$(proc_kb "$RUN_AGENT_PID" VmRSS)"
    } >>"$1/meta.env"
}

# snapshot DIR TAG: records, as TAG_* lines in DIR/meta.env and files
# DIR/*.TAG, what the run's figures are computed from: wall clock, the
# agent (snapshot_agent), CPU time of the proxy (HAProxy or the nginx peer)
# and of the primary, HAProxy's counters, the mirror's counter and the
# per-CPU busy times. Uses the RUN_* variables set by the caller.
snapshot() {
    local d=$1 t=$2
    snapshot_agent "$d" "$t"
    {
        echo "${t}_ms=$(date +%s%3N)"
        echo "${t}_mirror=$(mirror_count "$RUN_MIRROR_KIND" "$RUN_MIRROR_PORT")"
        echo "${t}_proxy_ticks=$(proc_ticks "$RUN_PROXY_PID")"
        echo "${t}_primary_ticks=$(proc_ticks "$PRIMARY_PID")"
        # The other long-lived processes of the benchmark: with the above
        # and wrk, what the CPUs did for the benchmark; the rest of their
        # busy time is other load on the machine.
        local faulty
        faulty=$(($(proc_ticks "${FAULTY_PID:-}") + $(proc_ticks "${FAULTY_H2_PID:-}")))
        echo "${t}_backends_ticks=$(($(proc_ticks "$MIRROR_PID") + $(proc_ticks "$DELAY_PID") + \
            $(proc_ticks "${H2_MIRROR_PID:-}") + faulty))"
        echo "${t}_faulty_ticks=$faulty"
    } >>"$d/meta.env"
    if [ "$RUN_PROXY_KIND" = haproxy ]; then
        haproxy_cmd "$WORK/haproxy.sock" "show stat" >"$d/haproxy.$t.csv" 2>/dev/null
    fi
    grep '^cpu[0-9]' /proc/stat >"$d/cpustat.$t"
}

# rss_sampler PID OUT PERIOD_S COUNT: appends "<ms> <VmRSS kB>" to OUT every
# PERIOD_S seconds, COUNT times at most, while PID lives and OUT.stop does
# not exist (run it with &; create OUT.stop and wait for it to stop it).
rss_sampler() {
    local i=0
    while [ "$i" -lt "$4" ] && kill -0 "$1" 2>/dev/null && [ ! -e "$2.stop" ]; do
        echo "$(date +%s%3N) $(proc_kb "$1" VmRSS)" >>"$2"
        sleep "$3"
        i=$((i + 1))
    done
}

# wrk_script OUT MODE WORKLOAD: concatenates the Lua pieces a run needs
# (the report hook; pacing for MODE half; the POST body for WORKLOAD post).
wrk_script() {
    cat "$E2E/wrk_report.lua" >"$1"
    [ "$2" = half ] && cat "$E2E/wrk_pace.lua" >>"$1"
    [ "$3" = post ] && cat "$E2E/wrk_post.lua" >>"$1"
    return 0
}

# run_wrk OUT PORT SECONDS MODE WORKLOAD RATE: one wrk run (one thread,
# CONNECTIONS connections, pinned to the load CPU) against 127.0.0.1:PORT
# (path /json for WORKLOAD json, / otherwise); its output goes to OUT.
run_wrk() {
    local script="$WORK/wrk-$4-$5.lua" c0 c1 path=/
    [ "$5" = json ] && path=/json
    wrk_script "$script" "$4" "$5"
    children_cpu_s >"$WORK/cpu0"
    # shellcheck disable=SC2086
    E2E_BODY_BYTES=$BODY_BYTES $PIN_LOAD "$WRK" -t1 -c"$CONNECTIONS" -d"$3"s --timeout 2s --latency \
        -s "$script" "http://127.0.0.1:$2$path" -- "rate_per_thread=$6" \
        "connections_per_thread=$CONNECTIONS" "stagger_ms=${STAGGER_MS:-500}" >"$1" 2>&1
    children_cpu_s >"$WORK/cpu1"
    c0=$(cat "$WORK/cpu0") c1=$(cat "$WORK/cpu1")
    echo "WRK_CPU_S $(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')" >>"$1"
}

# children_cpu_s: user+system seconds of this shell's reaped children
# (bash's "times", run in this shell, not in a subshell), so that a
# foreground command's CPU time is a difference.
children_cpu_s() {
    times >"$WORK/times"
    awk 'NR == 2 {
        n = 0
        for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); n += a[1] * 60 + a[2] }
        printf "%.3f", n }' "$WORK/times"
}
