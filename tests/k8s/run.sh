#!/usr/bin/env bash
# Validates k8s/ offline: renders the kustomizations with kubectl, checks
# every object against the Kubernetes OpenAPI schemas (kubernetes-models,
# unknown fields rejected), checks the deployment policy (hardening, probes,
# node-local Service, NetworkPolicy, config consistency), has the agent check
# the configuration each render mounts, proves a broken copy fails, and
# checks the Grafana dashboard's queries against a live /metrics scrape.
# Prints "ok"/"not ok" lines and a closing "N passed, M failed" line.
#
# Usage: bash tests/k8s/run.sh   (from anywhere; AGENT_BIN overrides the
# agent binary, default build/spoa-shadow)
# shellcheck disable=SC2317  # cleanup runs from the EXIT trap
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/tests/k8s"
AGENT_BIN=${AGENT_BIN:-$ROOT/build/spoa-shadow}
KUBECTL=${KUBECTL:-kubectl}
PASS=0
FAIL=0
AGENT_PID=""
WORK=$(mktemp -d "${TMPDIR:-/tmp}/k8s-validate.XXXXXX")

cleanup() {
    if [ -n "$AGENT_PID" ] && kill -0 "$AGENT_PID" 2>/dev/null; then
        kill -TERM "$AGENT_PID" 2>/dev/null
        wait "$AGENT_PID" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

check() { # check COND-STATUS NAME [DETAIL]
    if [ "$1" -eq 0 ]; then
        PASS=$((PASS + 1)); echo "ok - $2"
    else
        FAIL=$((FAIL + 1)); echo "not ok - $2${3:+: $3}"
    fi
}

# tally OUTPUT-FILE STATUS NAME: prints a script's result lines and counts
# them; a non-zero status without any "not ok" line counts as one failure.
tally() {
    local out=$1 rc=$2 name=$3 p f
    cat "$out"
    p=$(grep -c '^ok - ' "$out")
    f=$(grep -c '^not ok - ' "$out")
    PASS=$((PASS + p)); FAIL=$((FAIL + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        check 1 "$name" "exit status $rc: $(tail -3 "$out" | tr '\n' ' ')"
    fi
}

finish() {
    echo "$PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ]
    exit
}

# Tools.
command -v "$KUBECTL" >/dev/null 2>&1
check $? "kubectl is installed (kustomize built in)" "install kubectl 1.27 or newer"
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1
check $? "node and npm are installed"
[ "$FAIL" -eq 0 ] || finish

# The validator's packages, installed once from the lock file and reused.
if [ ! -f "$HERE/node_modules/.package-lock.json" ] ||
    [ "$HERE/package-lock.json" -nt "$HERE/node_modules/.package-lock.json" ]; then
    (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) >"$WORK/npm.log" 2>&1
    check $? "npm ci (tests/k8s/package-lock.json)" "$(tail -5 "$WORK/npm.log" | tr '\n' ' ')"
    [ "$FAIL" -eq 0 ] || finish
fi

# Render every kustomization.
RENDERS=""
for dir in k8s k8s/overlays/tutorial k8s/overlays/monitoring k8s/ingress; do
    name=$(echo "$dir" | tr '/' '-')
    "$KUBECTL" kustomize "$ROOT/$dir" >"$WORK/$name.yaml" 2>"$WORK/$name.err"
    check $? "kubectl kustomize $dir renders" "$(head -3 "$WORK/$name.err" | tr '\n' ' ')"
    [ -s "$WORK/$name.yaml" ] && RENDERS="$RENDERS $name.yaml"
done
cd "$WORK" || exit 1  # the renders are named relative to it in the results

# Schemas, strictly.
# shellcheck disable=SC2086
node "$HERE/validate.js" $RENDERS >"$WORK/validate.out" 2>&1
tally "$WORK/validate.out" $? "schema validation ran"

# Policy (k8s/ingress holds only the controller's ConfigMaps).
node "$HERE/policy.js" k8s.yaml >"$WORK/policy1.out" 2>&1
tally "$WORK/policy1.out" $? "policy checks of k8s ran"
node "$HERE/policy.js" --mirror-service k8s-overlays-tutorial.yaml >"$WORK/policy2.out" 2>&1
tally "$WORK/policy2.out" $? "policy checks of the tutorial ran"
node "$HERE/policy.js" k8s-overlays-monitoring.yaml >"$WORK/policy3.out" 2>&1
tally "$WORK/policy3.out" $? "policy checks of the monitoring overlay ran"

# A deliberately broken copy must fail, each break reported.
node "$HERE/negative.js" k8s-overlays-monitoring.yaml broken.yaml >"$WORK/negative.out" 2>&1
tally "$WORK/negative.out" $? "negative checks ran"
node "$HERE/validate.js" broken.yaml >"$WORK/broken.out" 2>&1
rc=$?
nbroken=$(grep -c '^not ok - ' "$WORK/broken.out")
[ "$rc" -ne 0 ] && [ "$nbroken" -ge 9 ]
check $? "validate.js rejects the broken copy (exit $rc, $nbroken objects reported)"

# The ingress controller wiring, and HAProxy's own check of it.
node "$HERE/ingress.js" "$ROOT" k8s-ingress.yaml k8s.yaml "$WORK/haproxy" >"$WORK/ingress.out" 2>&1
tally "$WORK/ingress.out" $? "ingress wiring checks ran"
HAPROXY=${HAPROXY:-haproxy}
if command -v "$HAPROXY" >/dev/null 2>&1; then
    for d in "$WORK"/haproxy/*/; do
        name=$(basename "$d")
        "$HAPROXY" -c -f "$d/haproxy.cfg" -f "$d/aux.cfg" >"$WORK/haproxy-$name.out" 2>&1
        check $? "$("$HAPROXY" -v | head -1 | cut -d' ' -f1-3) accepts the $name snippets, sections and SPOE file" \
            "$(grep -E 'ALERT|rror' "$WORK/haproxy-$name.out" | head -3 | tr '\n' ' ')"
    done
else
    check 1 "haproxy is installed (make deps)"
fi

# The agent checks the configuration each render mounts.
if [ -x "$AGENT_BIN" ]; then
    for r in $RENDERS; do
        [ "$(basename "$r")" = k8s-ingress.yaml ] && continue
        base=$(basename "$r" .yaml)
        if node "$HERE/extract_config.js" "$r" "$WORK/$base.agent.yaml" 2>"$WORK/$base.extract.err"; then
            "$AGENT_BIN" --check-config -c "$WORK/$base.agent.yaml" >"$WORK/$base.check.out" 2>&1
            check $? "the agent accepts the configuration mounted by $base" \
                "$(head -3 "$WORK/$base.check.out" | tr '\n' ' ')"
        else
            check 1 "configuration of $base extracted" "$(cat "$WORK/$base.extract.err")"
        fi
    done
else
    check 1 "agent binary $AGENT_BIN is built (make)"
fi

# The dashboard, against what a running agent exports.
METRICS_MODE=--documented
METRICS_SRC="$HERE/metrics.txt"
if [ -x "$AGENT_BIN" ] && "$AGENT_BIN" --help 2>&1 | grep -q -- '--admin-listen'; then
    cat >"$WORK/scrape.yaml" <<'YAML'
spop:
  threads: 1
routes:
  - name: scrape
    mirrors:
      - url: "http://127.0.0.1:9"
        compare: {body: bytes} # the dashboard's comparison panels need its series
YAML
    "$AGENT_BIN" -c "$WORK/scrape.yaml" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
        >"$WORK/agent.log" 2>&1 &
    AGENT_PID=$!
    admin_port=""
    for _ in $(seq 1 100); do
        admin_port=$(sed -n 's/.*event=start.* admin_port=\([0-9][0-9]*\).*/\1/p' "$WORK/agent.log" | head -1)
        [ -n "$admin_port" ] && break
        kill -0 "$AGENT_PID" 2>/dev/null || break
        sleep 0.05
    done
    if [ -n "$admin_port" ] &&
        curl -fsS --max-time 5 "http://127.0.0.1:$admin_port/metrics" -o "$WORK/metrics.txt" 2>"$WORK/curl.err"; then
        METRICS_MODE=--scrape
        METRICS_SRC="$WORK/metrics.txt"
        check 0 "scraped /metrics from a running agent (admin port $admin_port)"
    else
        check 1 "scraped /metrics from a running agent" "$(tail -3 "$WORK/agent.log" "$WORK/curl.err" 2>/dev/null | tr '\n' ' ')"
    fi
    kill -TERM "$AGENT_PID" 2>/dev/null
    wait "$AGENT_PID" 2>/dev/null
    AGENT_PID=""
fi
node "$HERE/dashboard.js" "$ROOT/k8s/grafana/spoa-shadow-dashboard.json" "$METRICS_MODE" "$METRICS_SRC" \
    >"$WORK/dashboard.out" 2>&1
tally "$WORK/dashboard.out" $? "dashboard checks ran"

finish
