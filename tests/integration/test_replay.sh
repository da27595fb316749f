#!/bin/bash
# Integration test of `spoa-shadow replay` and `spoa-shadow capture-dump`:
# capture files are written with the real encoder (build/itest/capture_gen),
# replayed into tests/integration/mirror_test_server.py on loopback, and what
# arrived (method, path, Host, body length and hash) is compared with what the
# capture holds, read independently with python3-msgpack
# (tests/integration/replay_verify.py). Covers --rate and --speed pacing
# (achieved rate within 10% of the requested one), every --authority mode, a
# base path, --filter-route, a directory of files (name order, *.open files
# skipped), a closed target port (exit status 1), capture-dump's JSON lines,
# truncated and corrupt files (exit status and byte offset) and the docs'
# Python example.
#
# Run from anywhere: make build/spoa-shadow build/itest/capture_gen && bash tests/integration/test_replay.sh
# Prints "ok - ..." / "not ok - ..." and a final "N passed, M failed" line;
# exits non-zero on any failure. KEEP_WORK=1 keeps the temp dir.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/tests/integration"
AGENT=${AGENT_BIN:-$ROOT/build/spoa-shadow}
GEN=${CAPTURE_GEN_BIN:-$ROOT/build/itest/capture_gen}
VERIFY="$HERE/replay_verify.py"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/replay-it.XXXXXX")
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"
report_start server.err

for bin in "$AGENT" "$GEN"; do
    if [ ! -x "$bin" ]; then
        not_ok "$bin missing (make build/spoa-shadow build/itest/capture_gen)"
        exit 1
    fi
done
if ! "$PY" -c 'import msgpack' 2>/dev/null; then
    not_ok "python3-msgpack missing (make deps)"
    exit 1
fi
command -v timeout >/dev/null || {
    not_ok "coreutils timeout missing"
    exit 1
}

if ! start_test_server 0 "$WORK/server.out" "$WORK/server.err"; then
    not_ok "test server started"
    sed 's/^/#   /' "$WORK/server.err"
    exit 1
fi
PORT=$SERVER_PORT
echo "# test server pid $SERVER_PID on 127.0.0.1:$PORT"
TARGET="http://127.0.0.1:$PORT"

# summary FILE KEY [LINE_PREFIX]: the value of KEY in a replay summary.
summary() {
    sed -n "s/^${3:-}.*\\b$2=\\([^ ]*\\).*/\\1/p" "$1" | head -n 1
}

# replay NAME ARGS...: runs the replay (at most 60 s), keeps its output in
# $WORK/NAME.{out,err} and its exit status in RC.
replay() {
    local name=$1
    shift
    timeout 60 "$AGENT" replay "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
    RC=$?
    sed 's/^/#   /' "$WORK/$name.out"
}

# arrived TAG: what the server recorded for tag TAG, in the expect format.
arrived() {
    curl -sf "$TARGET/__records?t=$1" | cut -f1-5 | sort
}

# same_requests NAME TAG EXPECT_ARGS...: what arrived for TAG equals what the
# capture says (replay_verify.py expect EXPECT_ARGS...).
same_requests() {
    local name=$1 tag=$2
    shift 2
    "$PY" "$VERIFY" expect "$@" >"$WORK/$name.want" || return 1
    arrived "$tag" >"$WORK/$name.got" || return 1
    [ -s "$WORK/$name.want" ] || return 1
    if ! cmp -s "$WORK/$name.want" "$WORK/$name.got"; then
        diff "$WORK/$name.want" "$WORK/$name.got" | head -n 10 | sed 's/^/#   /'
        return 1
    fi
}

# every_request_ended NAME: responses + failed == sent (the completion hook
# saw each request exactly once).
every_request_ended() {
    local s r f
    s=$(summary "$WORK/$1.out" sent)
    r=$(summary "$WORK/$1.out" responses)
    f=$(summary "$WORK/$1.out" failed)
    [ -n "$s" ] && [ $((r + f)) -eq "$s" ]
}

# within X WANT PCT: |X - WANT| <= PCT% of WANT (decimals allowed).
within() {
    awk -v x="$1" -v w="$2" -v p="$3" 'BEGIN { d = x - w; if (d < 0) d = -d; exit !(w > 0 && d <= w * p / 100) }'
}

# ---- --rate, --authority keep ----
"$GEN" records "$WORK/rate.msgpack" 100 --tag rate --interval-ms 10
replay rate "$WORK/rate.msgpack" --target "$TARGET" --rate 200 --concurrency 4 --authority keep
check "--rate 200: exit status 0 (got $RC)" test "$RC" -eq 0
check "--rate 200: 100 sent, 100 responses, 0 failed" \
    test "$(summary "$WORK/rate.out" sent)/$(summary "$WORK/rate.out" responses)/$(summary "$WORK/rate.out" failed)" = "100/100/0"
check "--rate 200: 90 2xx and 10 5xx (/status/503 records)" \
    test "$(summary "$WORK/rate.out" 2xx)/$(summary "$WORK/rate.out" 5xx)" = "90/10"
ACH=$(summary "$WORK/rate.out" achieved_rps)
check "--rate 200: achieved $ACH rps, within 10% of 200" within "$ACH" 200 10
check "--rate 200: span $(summary "$WORK/rate.out" send_span_s) s for 99 intervals of 5 ms" \
    within "$(summary "$WORK/rate.out" send_span_s)" 0.495 10
check "--authority keep: method, path, original Host and body of all 100 arrived" \
    same_requests rate rate keep "" "" "$WORK/rate.msgpack"
check "--rate 200: every request ended once (responses + failed = sent)" every_request_ended rate
check "--rate 200: latency p50 <= p99 <= max" awk -v a="$(summary "$WORK/rate.out" p50)" \
    -v b="$(summary "$WORK/rate.out" p99)" -v c="$(summary "$WORK/rate.out" max)" 'BEGIN { exit !(a > 0 && a <= b && b <= c) }'

# ---- --speed, default authority (shadow) ----
"$GEN" records "$WORK/speed.msgpack" 40 --tag speed --interval-ms 50
replay speed "$WORK/speed.msgpack" --target "$TARGET" --speed 2
check "--speed 2: exit status 0 (got $RC)" test "$RC" -eq 0
SPAN=$(summary "$WORK/speed.out" send_span_s)
check "--speed 2: 1.95 s of capture sent in $SPAN s (0.975 s +-10%)" within "$SPAN" 0.975 10
check "--speed 2: requested $(summary "$WORK/speed.out" requested_rps) rps = 39 / 0.975 s" \
    within "$(summary "$WORK/speed.out" requested_rps)" 40 1
check "--speed 2: achieved $(summary "$WORK/speed.out" achieved_rps) rps within 10% of 40" \
    within "$(summary "$WORK/speed.out" achieved_rps)" 40 10
check "--authority shadow (default): every request carries the recorded shadow authority" \
    same_requests speed speed shadow "" "" "$WORK/speed.msgpack"

# ---- a directory, --authority target, a base path ----
mkdir -p "$WORK/dir"
"$GEN" records "$WORK/dir/capture-20250101T000000.000Z-000002.msgpack" 10 --tag dir --first 10
"$GEN" records "$WORK/dir/capture-20250101T000000.000Z-000001.msgpack" 10 --tag dir --first 0
"$GEN" records "$WORK/dir/capture-20250101T000001.000Z-000003.msgpack.open" 5 --tag dir --first 100
echo "not a capture" >"$WORK/dir/README.txt"
replay dir "$WORK/dir" --target "$TARGET/pre" --rate 500 --concurrency 1 --authority target
check "DIR: exit status 0 (got $RC), 2 files read" test "$RC/$(summary "$WORK/dir.out" files)" = "0/2"
check "DIR + --authority target + base path: Host 127.0.0.1:$PORT, paths under /pre" \
    same_requests dir dir "127.0.0.1:$PORT" /pre "" "$WORK/dir/capture-20250101T000000.000Z-000001.msgpack" \
    "$WORK/dir/capture-20250101T000000.000Z-000002.msgpack"
ORDER=$(curl -sf "$TARGET/__records?t=dir" | cut -f2 | sed 's/.*&i=//' | tr '\n' ' ')
check "DIR: files in name order, records in file order, the .open file skipped (got: $ORDER)" \
    test "$ORDER" = "$(seq -s ' ' 0 19) "
check "DIR: base path /pre gives 404s from the test server: 4xx=20" test "$(summary "$WORK/dir.out" 4xx)" = 20

# ---- --filter-route, literal authority ----
"$GEN" records "$WORK/filter.msgpack" 30 --tag filter --interval-ms 1
replay filter "$WORK/filter.msgpack" --target "$TARGET" --filter-route web --authority literal.example:9
check "--filter-route web: exit 0, 15 sent, 15 filtered" \
    test "$RC/$(summary "$WORK/filter.out" sent)/$(summary "$WORK/filter.out" filtered)" = "0/15/15"
check "--filter-route web + literal authority: only route web's records, Host literal.example:9" \
    same_requests filter filter literal.example:9 "" web "$WORK/filter.msgpack"

# ---- a closed port ----
CLOSED=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
replay closed "$WORK/filter.msgpack" --target "http://127.0.0.1:$CLOSED" --rate 1000 --timeout-ms 1000
check "closed target port: exit status 1 (got $RC)" test "$RC" -eq 1
check "closed target port: 30 connect_error, 0 responses" \
    test "$(summary "$WORK/closed.out" connect_error)/$(summary "$WORK/closed.out" responses)" = "30/0"
check "closed target port: every request ended once" every_request_ended closed
replay usage "$WORK/filter.msgpack" --target "ftp://127.0.0.1:$PORT"
check "bad --target: exit status 2 (got $RC)" test "$RC" -eq 2
replay missing "$WORK/nope.msgpack" --target "$TARGET"
check "missing capture file: exit status 2 (got $RC)" test "$RC" -eq 2

# ---- capture-dump ----
"$AGENT" capture-dump "$WORK/rate.msgpack" >"$WORK/dump.jsonl" 2>"$WORK/dump.err"
RC=$?
check "capture-dump: exit status 0 (got $RC), nothing on stderr" test "$RC" -eq 0 -a ! -s "$WORK/dump.err"
check "capture-dump: 100 JSON lines equal to python3-msgpack's reading, field by field" \
    "$PY" "$VERIFY" dump "$WORK/rate.msgpack" "$WORK/dump.jsonl"

# ---- a truncated file: every record before the torn one, then its offset ----
"$PY" "$VERIFY" offsets "$WORK/speed.msgpack" >"$WORK/speed.offsets"
LAST=$(sed -n '40p' "$WORK/speed.offsets")
SIZE=$(stat -c %s "$WORK/speed.msgpack")
head -c $((SIZE - 7)) "$WORK/speed.msgpack" >"$WORK/torn.msgpack"
"$AGENT" capture-dump "$WORK/torn.msgpack" >"$WORK/torn.jsonl" 2>"$WORK/torn.err"
RC=$?
sed 's/^/#   /' "$WORK/torn.err"
check "truncated file: capture-dump exit status 1 (got $RC)" test "$RC" -eq 1
check "truncated file: the 39 whole records printed, valid JSON" \
    "$PY" "$VERIFY" dump "$WORK/torn.msgpack" "$WORK/torn.jsonl"
check "truncated file: stderr names the torn record's offset $LAST" \
    grep -q "truncated record at byte offset $LAST " "$WORK/torn.err"
replay torn "$WORK/torn.msgpack" --target "$TARGET" --rate 1000
check "truncated file: replay sends the 39 whole records, exit status 3 (got $RC)" \
    test "$RC/$(summary "$WORK/torn.out" sent)/$(summary "$WORK/torn.out" damaged_files)" = "3/39/1"
check "truncated file: replay names the offset $LAST on stderr" grep -q "byte offset $LAST " "$WORK/torn.err"
cp "$WORK/torn.msgpack" "$WORK/torn.msgpack.open"
replay open "$WORK/torn.msgpack.open" --target "$TARGET" --rate 1000
check "a torn tail in a .msgpack.open file (being written) is its end: exit status 0 (got $RC)" test "$RC" -eq 0

# ---- a corrupt file: valid records, then a record that is not a map ----
{ cat "$WORK/filter.msgpack"; printf '\x93\x01\x02\x03'; cat "$WORK/filter.msgpack"; } >"$WORK/corrupt.msgpack"
GOOD=$(stat -c %s "$WORK/filter.msgpack")
"$AGENT" capture-dump "$WORK/corrupt.msgpack" >"$WORK/corrupt.jsonl" 2>"$WORK/corrupt.err"
RC=$?
sed 's/^/#   /' "$WORK/corrupt.err"
check "corrupt file: capture-dump exit status 1 (got $RC), 30 records printed" \
    test "$RC/$(wc -l <"$WORK/corrupt.jsonl")" = "1/30"
check "corrupt file: stderr names offset $GOOD" grep -q "corrupt record at byte offset $GOOD (record is not a map)" \
    "$WORK/corrupt.err"

# ---- the Python example of docs/capture-format.md ----
DOC="$ROOT/docs/capture-format.md"
if [ -f "$DOC" ]; then
    sed -n '/^```python$/,/^```$/p' "$DOC" | sed '1d;$d' >"$WORK/example.py"
    "$PY" "$WORK/example.py" "$WORK/torn.msgpack" >"$WORK/example.out" 2>"$WORK/example.err"
    RC=$?
    check "docs example: exit status 1 on the truncated file, 39 records, the offset $LAST" \
        test "$RC/$(grep -c '^POST\|^GET\|^PUT\|^DELETE\|^HEAD' "$WORK/example.out")/$(grep -c "at byte $LAST" "$WORK/example.err")" = "1/39/1"
else
    not_ok "docs/capture-format.md exists"
fi

if kill -0 "$SERVER_PID" 2>/dev/null; then
    ok "test server still running after every replay"
else
    not_ok "test server still running after every replay"
fi
