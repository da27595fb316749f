#!/usr/bin/env bash
# Builds the container image (make image) and tests it: the archive's
# layout, config and exact file list; the Dockerfile kept in step with it;
# then runs the agent from the image with `buildah run --isolation chroot`
# on loopback ports, checks it runs as uid 10001, talks SPOP to it with
# frames captured from HAProxy 2.6, and checks that it mirrors a request to
# two shadows whose names resolve inside the image, one through /etc/hosts
# and one through DNS (a stub server on 127.0.0.77:53). Stops everything it
# started by PID. Prints "ok"/"not ok" lines and "N passed, M failed".
# shellcheck disable=SC2317  # functions called through wait_for and trap
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/tests/image"
FIX="$ROOT/tests/fixtures/spop/haproxy-2.6"
ARCHIVE="$ROOT/build/spoa-shadow-image.tar"
BIN="$ROOT/build/spoa-shadow"
PY=${PYTHON:-python3}
export PYTHONDONTWRITEBYTECODE=1
DNS_ADDR=127.0.0.77
WORK=$(mktemp -d "${TMPDIR:-/tmp}/image-test.XXXXXX")
PASS=0
FAIL=0
PIDS=""
BUILDAH_PID=""
AGENT_PID=""
CTR=""

bh() {
    buildah --storage-driver vfs --root "$WORK/storage/root" --runroot "$WORK/storage/run" "$@"
}

cleanup() {
    [ -n "$AGENT_PID" ] && kill -TERM "$AGENT_PID" 2>/dev/null
    if [ -n "$BUILDAH_PID" ]; then
        for _ in $(seq 1 100); do kill -0 "$BUILDAH_PID" 2>/dev/null || break; sleep 0.05; done
        [ -n "$AGENT_PID" ] && kill -KILL "$AGENT_PID" 2>/dev/null
        kill -KILL "$BUILDAH_PID" 2>/dev/null
        wait "$BUILDAH_PID" 2>/dev/null
    fi
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    if command -v buildah >/dev/null 2>&1 && [ -d "$WORK/storage" ]; then
        [ -n "$CTR" ] && bh rm "$CTR" >/dev/null 2>&1
        bh rmi --all --force >/dev/null 2>&1
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

check() { # check STATUS NAME [DETAIL]
    if [ "$1" -eq 0 ]; then
        PASS=$((PASS + 1)); echo "ok - $2"
    else
        FAIL=$((FAIL + 1)); echo "not ok - $2${3:+: $3}"
    fi
}

tally() { # tally OUTPUT-FILE STATUS NAME
    local p f
    cat "$1"
    p=$(grep -c '^ok - ' "$1")
    f=$(grep -c '^not ok - ' "$1")
    PASS=$((PASS + p)); FAIL=$((FAIL + f))
    if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then
        check 1 "$3" "exit status $2: $(tail -3 "$1" | tr '\n' ' ')"
    fi
}

finish() {
    echo "$PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ]
    exit
}

# wait_for SECONDS COMMAND...: polls COMMAND every 50 ms until it succeeds.
wait_for() {
    local n=$(($1 * 20)); shift
    for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.05; done
    return 1
}

# descendant PID NAME: prints the first process named NAME below PID, from
# the "pid (comm) state ppid" head of every /proc/<pid>/stat.
descendant() {
    cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$1" -v want="$2" '
        {
            pid = $1; rest = $0; sub(/^[0-9]+ \(/, "", rest)
            comm = rest; sub(/\) .*$/, "", comm)
            n = split(substr(rest, length(comm) + 3), f, " ")
            parent[pid] = f[2]; name[pid] = comm
        }
        END {
            for (p in parent) {
                if (name[p] != want) continue
                for (q = p; (q in parent) && q > 1; q = parent[q]) if (parent[q] == root) { print p; exit }
            }
        }'
}

command -v buildah >/dev/null 2>&1
check $? "buildah is installed" "apt-get install buildah (make deps)"
[ -x "$BIN" ]
check $? "agent is built (make)"
[ "$FAIL" -eq 0 ] || finish

# Build, from scratch every time.
rm -f "$ARCHIVE"
start=$(date +%s%N)
make -C "$ROOT" --no-print-directory image >"$WORK/make.log" 2>&1
check $? "make image builds $ARCHIVE in $(( ($(date +%s%N) - start) / 1000000 )) ms" "$(tail -5 "$WORK/make.log" | tr '\n' ' ')"
[ -f "$ARCHIVE" ] || finish
grep '^image:' "$WORK/make.log" | sed 's/^/# /'

# The archive.
"$PY" "$HERE/check_image.py" "$ARCHIVE" "$BIN" "$ROOT/k8s/image/spoa-shadow.yaml" >"$WORK/image.out" 2>&1
tally "$WORK/image.out" $? "check_image.py ran"

# The Dockerfile, and a copy missing a runtime library that must be caught.
"$PY" "$HERE/check_dockerfile.py" "$ROOT/Dockerfile" "$ROOT/.dockerignore" "$ROOT/Makefile" "$BIN" "$ARCHIVE" \
    >"$WORK/dockerfile.out" 2>&1
tally "$WORK/dockerfile.out" $? "check_dockerfile.py ran"
sed 's/ libev4 / /' "$ROOT/Dockerfile" >"$WORK/Dockerfile.broken"
"$PY" "$HERE/check_dockerfile.py" "$WORK/Dockerfile.broken" "$ROOT/.dockerignore" "$ROOT/Makefile" "$BIN" \
    "$ARCHIVE" >"$WORK/dockerfile-broken.out" 2>&1
rc=$?
[ "$rc" -ne 0 ] && grep -q "^not ok - runtime stage installs.*libev4" "$WORK/dockerfile-broken.out"
check $? "a Dockerfile without libev4 is rejected"

# Stand-ins for the shadows, and a DNS server for one of their names.
"$PY" "$HERE/mirror_sink.py" "$WORK/sink.port" "$WORK/sink.log" 60 >"$WORK/sink.err" 2>&1 &
PIDS="$PIDS $!"
"$PY" "$HERE/dns_stub.py" "$DNS_ADDR" 53 "$WORK/dns.log" 60 mirror-dns.spoa-image-test=127.0.0.1 \
    >"$WORK/dns.err" 2>&1 &
PIDS="$PIDS $!"
wait_for 5 test -s "$WORK/sink.port"
check $? "mirror sink listening" "$(cat "$WORK/sink.err")"
wait_for 5 grep -q listening "$WORK/dns.log"
check $? "DNS stub listening on $DNS_ADDR:53" "$(cat "$WORK/dns.err")"
SINK=$(cat "$WORK/sink.port" 2>/dev/null)
mkdir -p "$WORK/run"
cat >"$WORK/run/agent.yaml" <<YAML
spop:
  threads: 1
routes:
  - name: image
    mirrors:
      - url: "http://mirror-dns.spoa-image-test:$SINK"
        authority: via-dns
        timeout_ms: 2000
      - url: "http://mirror-hosts.spoa-image-test:$SINK"
        authority: via-hosts
        timeout_ms: 2000
YAML

# A container from the image, with the DNS server and a hosts entry.
CTR=$(bh from --quiet --dns "$DNS_ADDR" --add-host mirror-hosts.spoa-image-test:127.0.0.1 \
    "oci-archive:$ARCHIVE" 2>"$WORK/from.err")
check $? "buildah from oci-archive:$(basename "$ARCHIVE")" "$(cat "$WORK/from.err")"
[ -n "$CTR" ] || finish
want=$("$BIN" --version)
got=$(bh run --isolation chroot "$CTR" -- /usr/local/bin/spoa-shadow --version 2>&1)
[ "$got" = "$want" ]
check $? "the agent runs from the image: $got" "want $want"
bh run --isolation chroot "$CTR" -- /usr/local/bin/spoa-shadow --check-config \
    -c /etc/spoa-shadow/spoa-shadow.yaml >"$WORK/check.out" 2>&1
check $? "the image's default configuration is valid" "$(cat "$WORK/check.out")"

# The agent, from the image, on loopback ports chosen by the kernel.
bh run --isolation chroot -v "$WORK/run:/run/test:ro" "$CTR" -- /usr/local/bin/spoa-shadow \
    -c /run/test/agent.yaml --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 >"$WORK/agent.log" 2>&1 &
BUILDAH_PID=$!
find_agent() { AGENT_PID=$(descendant "$BUILDAH_PID" spoa-shadow); [ -n "$AGENT_PID" ]; }
wait_for 10 find_agent
check $? "agent process started under buildah run (pid ${AGENT_PID:-none})" "$(tail -3 "$WORK/agent.log")"
started() { grep -q 'event=start' "$WORK/agent.log"; }
wait_for 10 started
check $? "agent logged its start" "$(tail -3 "$WORK/agent.log")"
SPOP=$(sed -n 's/.*event=start.* port=\([0-9][0-9]*\).*/\1/p' "$WORK/agent.log" | head -1)
ADMIN=$(sed -n 's/.*event=start.* admin_port=\([0-9][0-9]*\).*/\1/p' "$WORK/agent.log" | head -1)
if [ -z "$AGENT_PID" ] || [ -z "$SPOP" ] || [ -z "$ADMIN" ]; then finish; fi

uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' /proc/"$AGENT_PID"/status)
gids=$(awk '/^Gid:/ {print $2, $3, $4, $5}' /proc/"$AGENT_PID"/status)
[ "$uids" = "10001 10001 10001 10001" ] && [ "$gids" = "10001 10001 10001 10001" ]
check $? "agent runs as uid/gid 10001" "Uid: $uids Gid: $gids"
caps=$(awk '/^CapEff:/ {print $2}' /proc/"$AGENT_PID"/status)
[ "$caps" = "0000000000000000" ]
check $? "agent has no effective capabilities" "CapEff: $caps"
[ "$(readlink /proc/"$AGENT_PID"/root)" != "/" ] && [ ! -e /proc/"$AGENT_PID"/root/bin/sh ]
check $? "agent's root is the image (no /bin/sh there)"

"$PY" "$HERE/spop_client.py" "$SPOP" "$FIX/002-haproxy-hello.hex" "$FIX/003-notify.hex" >"$WORK/spop.out" 2>&1
tally "$WORK/spop.out" $? "SPOP exchange ran"

mirrored() { grep -q "^GET /headers?x=1 $1\$" "$WORK/sink.log" 2>/dev/null; }
wait_for 5 mirrored via-hosts
check $? "request mirrored to a name from /etc/hosts" "$(cat "$WORK/sink.log" 2>/dev/null)"
wait_for 5 mirrored via-dns
check $? "request mirrored to a name resolved by DNS" "$(cat "$WORK/sink.log" 2>/dev/null)"
grep -q '^A mirror-dns.spoa-image-test$' "$WORK/dns.log"
check $? "the agent queried the DNS server from inside the image"

code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$ADMIN/readyz")
[ "$code" = 200 ]
check $? "GET /readyz answers 200" "got $code"
curl -s --max-time 5 "http://127.0.0.1:$ADMIN/metrics" >"$WORK/metrics.txt"
sent=$(awk '/^spoa_shadow_mirror_sent_total\{route="image"/ {s += $NF} END {print s + 0}' "$WORK/metrics.txt")
[ "$sent" = 2 ]
check $? "metrics count 2 copies sent" "spoa_shadow_mirror_sent_total sum $sent"

# Stop by PID: SIGTERM drains, then the agent (and buildah run) exit 0.
kill -TERM "$AGENT_PID"
rc=1
for _ in $(seq 1 200); do kill -0 "$BUILDAH_PID" 2>/dev/null || break; sleep 0.05; done
if ! kill -0 "$BUILDAH_PID" 2>/dev/null; then wait "$BUILDAH_PID"; rc=$?; fi
BUILDAH_PID=""
AGENT_PID=""
[ "$rc" -eq 0 ] && grep -q 'event=exit status=0' "$WORK/agent.log"
check $? "SIGTERM stops the agent, exit status 0" "buildah run status $rc: $(tail -2 "$WORK/agent.log" | tr '\n' ' ')"

finish
