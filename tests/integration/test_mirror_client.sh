#!/bin/bash
# Integration test of the mirror HTTP client against a real local HTTP server:
# starts tests/integration/mirror_test_server.py on a free loopback port, then
# runs each scenario of build/itest/mirror_client_test in its own process
# (ASan+UBSan, leak check at exit), and stops the server by PID.
#
# Run from anywhere: make build/itest/mirror_client_test && bash tests/integration/test_mirror_client.sh
# Prints "ok - ..." / "not ok - ..." per scenario and a final "N passed, M failed"
# line; exits non-zero on any failure. KEEP_WORK=1 keeps the temp dir (logs).
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/tests/integration"
BIN=${MIRROR_CLIENT_TEST_BIN:-$ROOT/build/itest/mirror_client_test}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mirror-client-it.XXXXXX")
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"
report_start server.err

if [ ! -x "$BIN" ]; then
    not_ok "test program $BIN missing (make build/itest/mirror_client_test)"
    exit 1
fi
command -v timeout >/dev/null || {
    not_ok "coreutils timeout missing"
    exit 1
}

if ! start_test_server 0 "$WORK/server.out" "$WORK/server.err" --records "$WORK/records.jsonl"; then
    not_ok "test server started"
    sed 's/^/#   /' "$WORK/server.err"
    exit 1
fi
PORT=$SERVER_PORT
echo "# test server pid $SERVER_PID on 127.0.0.1:$PORT"

SAN_OPTS="detect_leaks=1:halt_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

# Circuit-open warnings are expected: not shown when a scenario fails.
RUN_SCENARIO_QUIET='^ts=.* level=warn event=circuit_open '
SCENARIOS=$(timeout 10 "$BIN" --list) || {
    not_ok "$BIN --list"
    exit 1
}

for s in $SCENARIOS; do
    opts=$SAN_OPTS
    # Freed memory must not linger in ASan's quarantine for the RSS bound to mean anything.
    [ "$s" = memory ] && opts="$opts:quarantine_size_mb=1"
    ASAN_OPTIONS=$opts run_scenario "$s" "$BIN" "$PORT" "$s"
done

if kill -0 "$SERVER_PID" 2>/dev/null; then
    ok "test server still running after every scenario"
else
    not_ok "test server still running after every scenario"
fi
if [ -s "$WORK/server.err" ]; then
    not_ok "test server reported no errors"
    tail -n 20 "$WORK/server.err" | sed 's/^/#   /'
else
    ok "test server reported no errors"
fi
