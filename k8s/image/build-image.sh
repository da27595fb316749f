#!/usr/bin/env bash
# Builds the spoa-shadow container image from scratch with buildah and
# writes it as an OCI archive. The image holds the agent, exactly the shared
# libraries it loads (found with ldd, the dynamic loader included),
# /etc/nsswitch.conf, /etc/passwd and /etc/group with the non-root user
# 10001, and the default configuration: no shell, no package manager.
#
# Usage: build-image.sh BINARY CONFIG OUT.tar
# Environment: BUILDAH_STORE (default: OUT's directory/buildah) holds
# buildah's vfs storage, so nothing is left in the system's storage.
set -euo pipefail

BIN=$1
CONFIG=$2
OUT=$3
STORE=${BUILDAH_STORE:-$(cd "$(dirname "$OUT")" && pwd)/buildah}
UID_GID=10001
SPOP_PORT=12345
ADMIN_PORT=9901

command -v buildah >/dev/null || { echo "build-image: buildah is not installed (make deps)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "build-image: $BIN is not built" >&2; exit 1; }
VERSION=$("$BIN" --version | awk '{print $2}')

bh() {
    buildah --storage-driver vfs --root "$STORE/root" --runroot "$STORE/run" "$@"
}

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/spoa-shadow-rootfs.XXXXXX")
CTR=""
cleanup() {
    [ -n "$CTR" ] && bh rm "$CTR" >/dev/null 2>&1
    rm -rf "$STAGE"
}
trap cleanup EXIT

# put SRC DEST MODE: copies SRC (symlinks followed) to DEST in the rootfs.
put() {
    install -D -m "$3" "$(readlink -f "$1")" "$STAGE$2"
}

put "$BIN" /usr/local/bin/spoa-shadow 0755
# The image gets the binary without its debug information.
strip --strip-unneeded "$STAGE/usr/local/bin/spoa-shadow"

# Every library the binary loads, at the path the loader finds it (ldd's
# "=> /path" lines and the loader's own line).
LIBS=$(ldd "$BIN" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}')
# Before glibc 2.34 the "files" and "dns" NSS modules (getaddrinfo of a
# name, /etc/hosts, /etc/passwd) were separate libraries loaded at run time,
# which ldd cannot see; since 2.34 they are built into libc.so.6.
GLIBC=$(getconf GNU_LIBC_VERSION | awk '{print $2}')
if [ "$(printf '%s\n2.34\n' "$GLIBC" | sort -V | head -1)" != 2.34 ]; then
    LIBDIR=$(dirname "$(echo "$LIBS" | grep '/libc\.so\.6$')")
    LIBS="$LIBS $LIBDIR/libnss_files.so.2 $LIBDIR/libnss_dns.so.2 $LIBDIR/libresolv.so.2"
fi
for lib in $LIBS; do
    put "$lib" "$lib" 0755
done

mkdir -p "$STAGE/etc/spoa-shadow"
printf 'spoa:x:%s:%s:spoa-shadow:/nonexistent:/sbin/nologin\n' $UID_GID $UID_GID >"$STAGE/etc/passwd"
printf 'spoa:x:%s:\n' $UID_GID >"$STAGE/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$STAGE/etc/nsswitch.conf"
chmod 0644 "$STAGE/etc/passwd" "$STAGE/etc/group" "$STAGE/etc/nsswitch.conf"
install -m 0644 "$CONFIG" "$STAGE/etc/spoa-shadow/spoa-shadow.yaml"

mkdir -p "$STORE"
CTR=$(bh from --quiet scratch)
bh copy --quiet "$CTR" "$STAGE/" / >/dev/null
bh config \
    --user "$UID_GID:$UID_GID" \
    --workingdir / \
    --entrypoint '["/usr/local/bin/spoa-shadow"]' \
    --cmd '-c /etc/spoa-shadow/spoa-shadow.yaml' \
    --port "$SPOP_PORT/tcp" \
    --port "$ADMIN_PORT/tcp" \
    --stop-signal SIGTERM \
    --created-by "k8s/image/build-image.sh" \
    --label "org.opencontainers.image.title=spoa-shadow" \
    --label "org.opencontainers.image.description=HAProxy SPOP agent mirroring requests to shadow services" \
    --label "org.opencontainers.image.version=$VERSION" \
    "$CTR"
rm -f "$OUT"
bh commit --quiet --format oci --disable-compression=false "$CTR" "oci-archive:$OUT:spoa-shadow:$VERSION" >/dev/null
bh rm "$CTR" >/dev/null
CTR=""
echo "image: $OUT (spoa-shadow:$VERSION, $(du -k "$OUT" | cut -f1) KiB)"
