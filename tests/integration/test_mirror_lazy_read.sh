#!/bin/bash
# Integration test of the mirror client's lazy reads (HTTP/2 answers read
# when the thread is awake anyway, response_read_delay_ms) against a real h2c
# server: starts nghttpd --no-tls on a free loopback port with a docroot
# holding one file, runs each scenario of build/itest/mirror_lazy_read_test
# in its own process (ASan+UBSan, leak check at exit), and stops nghttpd by
# PID. The scenarios: an answer waits read_delay_ms when nothing else wakes
# the thread (and not at all with 0), is read on other wake-ups once
# read_delay_ms has passed without waking the thread itself, 200 copies in
# bursts each end once and the counters say so, a connection with half its
# stream limit open is read at once, an answer left unread when its response
# timer fires is delivered (parked, or back in epoll after a stall), and a
# server that never answers still times out.
#
# Run from anywhere: make build/itest/mirror_lazy_read_test && bash tests/integration/test_mirror_lazy_read.sh
# Environment: NGHTTPD (default nghttpd), MIRROR_LAZY_TEST_BIN, KEEP_WORK=1
# keeps the temp dir. Prints "ok - ..." / "not ok - ..." per scenario and a
# final "N passed, M failed" line; exits non-zero on any failure.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/tests/integration"
BIN=${MIRROR_LAZY_TEST_BIN:-$ROOT/build/itest/mirror_lazy_read_test}
NGHTTPD=${NGHTTPD:-nghttpd}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mirror-lazy-it.XXXXXX")
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"
report_start nghttpd.log '*.err'

if [ ! -x "$BIN" ]; then
    not_ok "test program $BIN missing (make build/itest/mirror_lazy_read_test)"
    exit 1
fi
require "$NGHTTPD" timeout

read -r PORT < <(free_ports 1)
mkdir -p "$WORK/htdocs"
echo "lazy" >"$WORK/htdocs/lazy.txt"
"$NGHTTPD" --no-tls -d "$WORK/htdocs" "$PORT" >"$WORK/nghttpd.log" 2>&1 &
NGHTTPD_PID=$!
track "$NGHTTPD_PID"
wait_until 5 port_open "$PORT" || {
    not_ok "nghttpd listening on 127.0.0.1:$PORT"
    exit 1
}
note "nghttpd pid $NGHTTPD_PID on 127.0.0.1:$PORT (h2c)"

export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

SCENARIOS=$(timeout 10 "$BIN" --list) || {
    not_ok "$BIN --list"
    exit 1
}

for s in $SCENARIOS; do
    run_scenario "$s" "$BIN" "$PORT" /lazy.txt "$s"
done

check "nghttpd still running after every scenario" kill -0 "$NGHTTPD_PID"
