#!/bin/bash
# Soak run (not part of make test): steady load through HAProxy and the agent
# for SOAK_MINUTES, the mirror switched every minute, by a reload, to the
# next of a healthy nginx and the faults of tests/integration/faulty_mirror.py
# (a huge answer at full speed, one byte a second, a reset, a close mid-body,
# a flood of 100 Continue, garbage, a server that never reads), in turn.
# Every minute it records the agent's resident memory, open descriptors and
# CPU, the clients' requests and errors, and the requests whose SPOE
# exchange failed (the ACK came too late: the primary felt the mirror). Writes bench/results/soak.md
# (the table and its verdicts), soak.json and soak.svg (the chart).
#
# Environment: SOAK_MINUTES (30; 1..120), RATE (total requests/s, 2000),
# CONNECTIONS (32), SOAK_FAULTS (the mirrors, in turn; all of them by default),
# BENCH_NICE (-20), HAPROXY, NGINX, WRK, AGENT_BIN (binaries), KEEP_WORK=1.
# Traffic stays on loopback; every process is stopped by PID; the faulty
# mirror and every wrk run are bounded in time.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
E2E=$ROOT/bench/e2e
RESULTS=$ROOT/bench/results
MINUTES=${SOAK_MINUTES:-30}
RATE=${RATE:-2000}
CONNECTIONS=${CONNECTIONS:-32}
HAPROXY=${HAPROXY:-haproxy}
NGINX=${NGINX:-nginx}
WRK=${WRK:-wrk}
AGENT_BIN=${AGENT_BIN:-$ROOT/build/spoa-shadow}
SLICE_S=${SOAK_SLICE_SECONDS:-60}
BUFSIZE=16384
MAX_FRAME=$((BUFSIZE - 4))
CHECK_INTER=500ms
BODY_BYTES=0
FAULTS=${SOAK_FAULTS:-"ok huge trickle reset midclose flood1xx garbage noread"}
if ! [ "$MINUTES" -ge 1 ] 2>/dev/null || [ "$MINUTES" -gt 120 ]; then
    echo "soak: SOAK_MINUTES must be 1..120" >&2
    exit 2
fi
for b in "$HAPROXY" "$NGINX" "$WRK" gnuplot python3 curl; do
    command -v "$b" >/dev/null 2>&1 || { echo "soak: $b is missing (make deps)" >&2; exit 1; }
done
[ -x "$AGENT_BIN" ] || { echo "soak: $AGENT_BIN is missing: run make" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/spoa-soak.XXXXXX")
# shellcheck source=tests/integration/lib.sh
. "$ROOT/tests/integration/lib.sh"
# shellcheck source=bench/e2e/lib.sh
. "$E2E/lib.sh"
PIN_SUT="" PIN_LOAD=""
if [ "$(nproc)" -ge 2 ]; then
    PIN_SUT="taskset -c 1" PIN_LOAD="taskset -c 0"
fi
# As in bench/run_e2e.sh: HAProxy, the agent, the primary and wrk at nice
# -20 (as root; BENCH_NICE=0 disables) so that other work on a shared machine
# does not stall them, nor the healthy nginx mirror; the faulty mirror at
# the normal priority on the load CPU, so that its flood of bytes cannot take
# wrk's CPU (a remote service spends its own).
PIN_FAULTY=$PIN_LOAD
NICE=${BENCH_NICE:--20}
if [ "$(id -u)" = 0 ] && [ "$NICE" != 0 ]; then
    PIN_SUT="nice -n $NICE $PIN_SUT" PIN_LOAD="nice -n $NICE $PIN_LOAD"
fi
bench_on_exit soak

read -r HTTP_PORT PRIMARY_PORT MIRROR_PORT AGENT_PORT ADMIN_PORT HUGE TRICKLE RESET MIDCLOSE FLOOD GARBAGE NOREAD \
    <<<"$(free_ports 12)"
[ -n "$NOREAD" ] || { echo "soak: no free ports" >&2; exit 1; }
declare -A URL=([ok]="http://127.0.0.1:$MIRROR_PORT" [huge]="http://127.0.0.1:$HUGE"
    [trickle]="http://127.0.0.1:$TRICKLE" [reset]="http://127.0.0.1:$RESET" [midclose]="http://127.0.0.1:$MIDCLOSE"
    [flood1xx]="http://127.0.0.1:$FLOOD" [garbage]="http://127.0.0.1:$GARBAGE" [noread]="http://127.0.0.1:$NOREAD")

render "$E2E/nginx-backend.conf.in" "$WORK/primary.conf" WORK="$WORK" NAME=primary PORT="$PRIMARY_PORT"
render "$E2E/nginx-backend.conf.in" "$WORK/mirror.conf" WORK="$WORK" NAME=mirror PORT="$MIRROR_PORT"
start_nginx primary "$WORK/primary.conf" "$PIN_SUT"
start_nginx mirror "$WORK/mirror.conf" "$PIN_LOAD"
# shellcheck disable=SC2086
$PIN_FAULTY "$PY" "$IT_DIR/faulty_mirror.py" --max-seconds $((MINUTES * SLICE_S + 120)) huge="$HUGE" \
    trickle="$TRICKLE" reset="$RESET" midclose="$MIDCLOSE" flood1xx="$FLOOD" garbage="$GARBAGE" \
    noread="$NOREAD" >"$WORK/faulty.log" 2>&1 &
track "$!"
FAULTY_PID=$!
wait_until 10 grep -q '^ready$' "$WORK/faulty.log" || { echo "soak: faulty mirror did not start" >&2; exit 1; }
for p in "$PRIMARY_PORT" "$MIRROR_PORT"; do
    wait_until 5 port_open "$p" || { echo "soak: nginx did not start (see $WORK)" >&2; exit 1; }
done

agent_mirror_keys || { echo "soak: the agent rejects its configuration" >&2; exit 1; }
agent_mirror_yaml "${URL[ok]}" 100 "$AGENT_MIRROR_KEYS" >"$WORK/agent.yaml"
# shellcheck disable=SC2086
$PIN_SUT "$AGENT_BIN" -c "$WORK/agent.yaml" --listen "127.0.0.1:$AGENT_PORT" --admin-listen "127.0.0.1:$ADMIN_PORT" \
    --threads 1 --max-frame-size "$MAX_FRAME" --log-level warn 2>>"$WORK/agent.log" &
AGENT_PID=$!
track "$AGENT_PID"
wait_until 5 curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$ADMIN_PORT/readyz" ||
    { echo "soak: the agent did not start (see $WORK/agent.log)" >&2; exit 1; }
sed '/^[[:space:]]*log global/d' "$ROOT/haproxy-conf/mirror.spoe.conf" >"$WORK/mirror.spoe.conf"
render "$E2E/haproxy.cfg.in" "$WORK/haproxy.tpl" WORK="$WORK" HTTP_PORT="$HTTP_PORT" PRIMARY_PORT="$PRIMARY_PORT" \
    AGENT_PORT="$AGENT_PORT" CHECK_INTER="$CHECK_INTER" BUFSIZE="$BUFSIZE" MAX_FRAME="$MAX_FRAME" \
    SPOE_CONF="$WORK/mirror.spoe.conf"
sed 's/^#SPOE //' "$WORK/haproxy.tpl" >"$WORK/haproxy.cfg"
start_bench_haproxy "$WORK/haproxy.cfg" || { echo "soak: HAProxy did not start" >&2; exit 1; }
wait_until 5 agent_checked || { echo "soak: HAProxy never saw the agent UP" >&2; exit 1; }

# One minute: switch the mirror by a reload, run wrk paced at RATE for the
# slice, then sample the agent.
wrk_script "$WORK/wrk.lua" half get
: >"$WORK/minutes.tsv"
last_ticks=$(proc_ticks "$AGENT_PID")
log_lines=0
fault_list=($FAULTS)
for m in $(seq 1 "$MINUTES"); do
    fault=${fault_list[$(((m - 1) % ${#fault_list[@]}))]}
    agent_mirror_yaml "${URL[$fault]}" 100 "$AGENT_MIRROR_KEYS" >"$WORK/agent.yaml"
    reload=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST "http://127.0.0.1:$ADMIN_PORT/-/reload")
    # shellcheck disable=SC2086
    $PIN_LOAD "$WRK" -t1 -c"$CONNECTIONS" -d"$SLICE_S"s --timeout 2s -s "$WORK/wrk.lua" \
        "http://127.0.0.1:$HTTP_PORT/" -- "rate_per_thread=$RATE" >"$WORK/wrk-$m.out" 2>&1
    ticks=$(proc_ticks "$AGENT_PID")
    # HAProxy logs only the requests whose SPOE exchange failed or whose
    # status was not 2xx (bench/e2e/haproxy.cfg.in): those of this minute.
    tail -n +"$((log_lines + 1))" "$WORK/haproxy.log" | grep -c '^E2E .* [0-9][0-9]*$' >"$WORK/spoe-$m.count"
    log_lines=$(wc -l <"$WORK/haproxy.log")
    curl -s --max-time 5 -o "$WORK/metrics-$m.prom" "http://127.0.0.1:$ADMIN_PORT/metrics"
    python3 - "$m" "$fault" "$reload" "$WORK/wrk-$m.out" "$(proc_kb "$AGENT_PID" VmRSS)" \
        "$(ls "/proc/$AGENT_PID/fd" 2>/dev/null | wc -l)" "$((ticks - last_ticks))" "$TICK" "$SLICE_S" \
        "$WORK/metrics-$m.prom" "$(cat "$WORK/spoe-$m.count")" >>"$WORK/minutes.tsv" <<'PY'
import re, sys
m, fault, reload, wrk, rss, fds, ticks, tck, slice_s, prom, spoe = sys.argv[1:]
text = open(wrk).read()
def num(pat):
    x = re.search(pat, text)
    return int(x.group(1)) if x else 0
reqs = num(r"(\d+) requests in")
non2xx = num(r"Non-2xx or 3xx responses: (\d+)")
sock = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
drops = 0
for line in open(prom):
    if line.startswith(("spoa_shadow_mirror_dropped_total{", "spoa_shadow_mirror_responses_cut_total{")):
        drops += float(line.rsplit(" ", 1)[1])
cpu = 100.0 * int(ticks) / int(tck) / float(slice_s)
print("\t".join(map(str, [m, fault, reload, reqs, non2xx + sock, int(spoe), int(rss), int(fds), "%.1f" % cpu,
                          int(drops)])))
PY
    last_ticks=$ticks
    tail -1 "$WORK/minutes.tsv"
    kill -0 "$AGENT_PID" 2>/dev/null || { echo "soak: the agent died in minute $m" >&2; exit 1; }
done

mkdir -p "$RESULTS"
python3 - "$WORK/minutes.tsv" "$RESULTS" "$MINUTES" "$RATE" "$("$HAPROXY" -v | awk 'NR == 1 { print $3 }')" <<'PY'
import json, sys
tsv, out, minutes, rate, hap = sys.argv[1:]
rows = [l.rstrip("\n").split("\t") for l in open(tsv) if l.strip()]
keys = ["minute", "mirror", "reload", "requests", "client_errors", "spoe_errors", "rss_kb", "fds", "agent_cpu_pct",
        "drops_total"]
data = [dict(zip(keys, r)) for r in rows]
for d in data:
    for k in keys:
        if k != "mirror":
            d[k] = float(d[k]) if k == "agent_cpu_pct" else int(d[k])
errors = sum(d["client_errors"] for d in data)
spoe = sum(d["spoe_errors"] for d in data)
settled = data[len(data) // 4:] or data
rss = [d["rss_kb"] for d in settled]
fds = [d["fds"] for d in settled]
verdicts = {
    "client_errors": errors,
    "spoe_errors": spoe,
    "rss_kb_range_after_first_quarter": [min(rss), max(rss)],
    "fds_range_after_first_quarter": [min(fds), max(fds)],
    "reloads_ok": sum(1 for d in data if d["reload"] == 200),
}
json.dump({"haproxy": hap, "minutes": int(minutes), "rate": int(rate), "rows": data, "verdicts": verdicts},
          open(out + "/soak.json", "w"), indent=1)
with open(out + "/soak.md", "w") as f:
    f.write("# Soak run: %s minutes at %s req/s, HAProxy %s, the mirror switched by a reload every minute\n\n"
            % (minutes, rate, hap))
    f.write("| minute | mirror | reload | requests | client errors | SPOE errors | agent RSS (MB) | open fds "
            "| agent CPU | drops + cut bodies (total) |\n")
    f.write("|---|---|---|---|---|---|---|---|---|---|\n")
    for d in data:
        f.write("| %d | %s | %d | %d | %d | %d | %.1f | %d | %.1f %% | %d |\n" % (
            d["minute"], d["mirror"], d["reload"], d["requests"], d["client_errors"], d["spoe_errors"],
            d["rss_kb"] / 1024.0,
            d["fds"], d["agent_cpu_pct"], d["drops_total"]))
    f.write("\nClient errors: %d. SPOE errors: %d. After the first quarter: RSS %.1f–%.1f MB, open fds %d–%d. "
            "Reloads answered 200: %d of %d.\n" % (errors, spoe, min(rss) / 1024.0, max(rss) / 1024.0, min(fds),
                                                  max(fds), verdicts["reloads_ok"], len(data)))
with open(out + "/soak.dat", "w") as f:
    for d in data:
        f.write("%d %.2f %d %.1f\n" % (d["minute"], d["rss_kb"] / 1024.0, d["fds"], d["agent_cpu_pct"]))
PY
gnuplot -e "set terminal svg size 900,420; set output '$RESULTS/soak.svg'; set xlabel 'minute';
    set ylabel 'RSS (MB) / open fds'; set y2label 'agent CPU (%)'; set y2tics; set ytics nomirror; set key top left;
    set title 'spoa-shadow soak: the mirror switched to the next fault by a reload every minute';
    plot '$RESULTS/soak.dat' using 1:2 with linespoints title 'agent RSS (MB)',
         '' using 1:3 with linespoints title 'open fds', '' using 1:4 axes x1y2 with linespoints title 'agent CPU (%)'" ||
    echo "soak: no chart" >&2
rm -f "$RESULTS/soak.dat"
cat "$RESULTS/soak.md"
