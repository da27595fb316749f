#!/bin/sh
# Installs the Debian packages the project needs, only those missing.
set -eu
PKGS="make gcc clang libclang-rt-14-dev clang-format pkg-config
libev-dev libmsgpack-dev libyaml-dev libhttp-parser-dev libnghttp2-dev libssl-dev openssl libjansson-dev libjsmn-dev libxxhash-dev check
haproxy curl python3 python3-httpbin gunicorn prometheus buildah gnuplot-nox wrk nginx-light
python3-msgpack nghttp2-server python3-h2 python3-grpcio valgrind"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
if [ "$(id -u)" != 0 ]; then
    echo "deps: missing packages:$missing (run as root, or install them with apt-get)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
