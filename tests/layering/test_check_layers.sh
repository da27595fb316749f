#!/usr/bin/env bash
# Shows that check_layers.py fails on each kind of violation it exists for,
# naming the offending file and include, and passes on a clean tree.
# Works on a small tree of its own in a temporary folder.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
CHECK="$HERE/check_layers.py"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/layers.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
passed=0
failed=0

ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1"; failed=$((failed + 1)); }

# A clean tree: one file per layer, each including the layer just below.
make_tree() {
    rm -rf "$WORK/spoa" && mkdir -p "$WORK/spoa"
    local l
    for l in core spop config http capture mirror replay admin app; do mkdir -p "$WORK/spoa/$l"; done
    printf '#include <stdint.h>\n' >"$WORK/spoa/core/buf.h"
    printf '#include "core/buf.h"\n' >"$WORK/spoa/spop/frame.h"
    printf '#include "core/buf.h"\n' >"$WORK/spoa/config/model.h"
    printf '#include "core/buf.h"\n' >"$WORK/spoa/http/syntax.h"
    printf '#include "spop/frame.h"\n' >"$WORK/spoa/capture/record.h"
    printf '#include "capture/record.h"\n#include "config/model.h"\n#include "http/syntax.h"\n' \
        >"$WORK/spoa/mirror/engine.h"
    printf '#include "mirror/engine.h"\n#include <ev.h>\n' >"$WORK/spoa/replay/replay.c"
    printf '#include "mirror/engine.h"\n#include <ev.h>\n' >"$WORK/spoa/admin/admin.c"
    printf '#include "admin/admin.h"\n#include "replay/replay.h"\n#include <ev.h>\n' >"$WORK/spoa/app/main.c"
    printf '#include "core/buf.h"\n' >"$WORK/spoa/admin/admin.h"
    printf '#include "core/buf.h"\n' >"$WORK/spoa/replay/replay.h"
}

# expect_fail NAME PATTERN: the checker must exit 1 and print PATTERN.
expect_fail() {
    local out rc
    out=$(python3 "$CHECK" "$WORK/spoa" 2>&1)
    rc=$?
    if [ "$rc" = 1 ] && printf '%s\n' "$out" | grep -qF -- "$2"; then
        ok "$1"
    else
        not_ok "$1 (exit $rc, output: $(printf '%s' "$out" | tr '\n' ' '))"
    fi
}

make_tree
out=$(python3 "$CHECK" "$WORK/spoa" 2>&1)
rc=$?
if [ "$rc" = 0 ]; then ok "a clean tree passes"; else not_ok "a clean tree passes (exit $rc: $out)"; fi

make_tree
printf '#include "mirror/engine.h"\n' >>"$WORK/spoa/core/buf.h"
expect_fail "core including mirror fails, naming file and include" \
    'spoa/core/buf.h:2: includes "mirror/engine.h"'

make_tree
printf '#include "config/model.h"\n' >>"$WORK/spoa/spop/frame.h"
expect_fail "a layer including another of its own level fails" \
    'spoa/spop/frame.h:2: includes "config/model.h"'

make_tree
printf '#include "app/main.h"\n' >"$WORK/spoa/admin/metrics.h"
expect_fail "admin including app fails" 'spoa/admin/metrics.h:1: includes "app/main.h"'

make_tree
printf '#include <ev.h>\n' >"$WORK/spoa/spop/conn.c"
expect_fail "<ev.h> in the protocol layer fails" 'spoa/spop/conn.c:1: includes <ev.h>'

make_tree
printf '#include <ev.h>\n' >"$WORK/spoa/mirror/engine.c"
expect_fail "<ev.h> in the mirror engine (outside the client adapter) fails" \
    'spoa/mirror/engine.c:1: includes <ev.h>'

make_tree
printf '#include <openssl/ssl.h>\n' >"$WORK/spoa/mirror/engine.c"
expect_fail "<openssl/...> outside the TLS files of the client adapter fails" \
    'spoa/mirror/engine.c:1: includes <openssl/ssl.h>'

make_tree
printf '#include <openssl/ssl.h>\n' >"$WORK/spoa/mirror/tls_conn.c"
out=$(python3 "$CHECK" "$WORK/spoa" 2>&1)
rc=$?
if [ "$rc" = 0 ]; then ok "<openssl/...> in mirror/tls_conn.c passes"; else not_ok "openssl in tls_conn.c (exit $rc: $out)"; fi

make_tree
printf '#include <nghttp2/nghttp2.h>\n' >"$WORK/spoa/mirror/mirror_client.c"
expect_fail "<nghttp2/...> outside the client's HTTP/2 file fails" \
    'spoa/mirror/mirror_client.c:1: includes <nghttp2/nghttp2.h>'

make_tree
printf '#include <nghttp2/nghttp2.h>\n' >"$WORK/spoa/mirror/mirror_h2.c"
out=$(python3 "$CHECK" "$WORK/spoa" 2>&1)
rc=$?
if [ "$rc" = 0 ]; then ok "<nghttp2/...> in mirror/mirror_h2.c passes"; else not_ok "nghttp2 in mirror_h2.c (exit $rc: $out)"; fi

make_tree
printf '#include "buf.h"\n' >"$WORK/spoa/core/log.c"
expect_fail "an include without its layer folder fails" 'spoa/core/log.c:1: includes "buf.h" without'

make_tree
printf '#include "config/load.h"\n' >"$WORK/spoa/config/model.c"
printf '#include "config/model.h"\n' >"$WORK/spoa/config/load.h"
expect_fail "two modules including each other fail as a cycle" \
    'include cycle: spoa/config/'

make_tree
mkdir -p "$WORK/spoa/util" && printf '\n' >"$WORK/spoa/util/x.h"
expect_fail "a folder that is not a layer fails" 'util/: a folder that is not a known layer'

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
