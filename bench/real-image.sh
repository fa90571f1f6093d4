#!/usr/bin/env bash
# Builds the benchmark's real workload: a Debian bookworm image made from Debian's own
# packages (debootstrap, then apt-get and pip in further layers), about 1 GB and well over
# 20,000 files in six layers, saved in three forms. Needs root, buildah and debootstrap;
# the result is cached under $OUT and reused.
#
#   bench/real-image.sh            # writes $OUT/real.{docker,oci-gzip,oci-zstd}.tar
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-target/bench}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
[ "$(id -u)" = 0 ] || { echo "real-image.sh: needs root (debootstrap, buildah)" >&2; exit 2; }
for t in buildah debootstrap; do
    command -v $t >/dev/null || apt-get install -y $t >/dev/null
done
if [ -f "$OUT/real.docker.tar" ] && [ -f "$OUT/real.oci-gzip.tar" ] && [ -f "$OUT/real.oci-zstd.tar" ]; then
    exit 0
fi

work=$(mktemp -d "$OUT/real-build.XXXXXX")
trap 'buildah rm "${ctr:-none}" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
export STORAGE_DRIVER=vfs BUILDAH_ISOLATION=chroot
if ! buildah inspect --type image layergate-bench-real >/dev/null 2>&1; then
MIRROR=${MIRROR:-http://deb.debian.org/debian}
if [ ! -f "$OUT/real-rootfs.tar" ]; then
    debootstrap --variant=minbase bookworm "$work/rootfs" "$MIRROR" >"$work/debootstrap.log"
    tar -C "$work/rootfs" --numeric-owner -cf "$work/rootfs.tar" . && mv "$work/rootfs.tar" "$OUT/real-rootfs.tar"
fi
# pip inside the build trusts what the host's pip trusts (a TLS-inspecting proxy's CA, say).
pipca=()
if [ -n "${PIP_CERT:-}" ] && [ -f "$PIP_CERT" ]; then
    pipca=(-v "$PIP_CERT:/etc/layergate-bench-ca.crt:ro" --env PIP_CERT=/etc/layergate-bench-ca.crt)
fi

ctr=$(buildah from scratch)
# Each step commits, then goes on from a new container of what it committed: committing one
# container again and again would squash every step into a single layer.
step() {
    buildah config --created-by "$1" "$ctr"
    buildah commit --quiet "$ctr" layergate-bench-real >/dev/null
    buildah rm "$ctr" >/dev/null
    ctr=$(buildah from layergate-bench-real)
}
buildah add "$ctr" "$OUT/real-rootfs.tar" / >/dev/null
step "debootstrap --variant=minbase bookworm"
buildah run --network host "$ctr" -- sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq build-essential >/dev/null'
step "apt-get install build-essential"
buildah run --network host "$ctr" -- sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-dev >/dev/null'
step "apt-get install python3 python3-venv python3-dev"
buildah run --network host "${pipca[@]}" "$ctr" -- sh -c 'python3 -m venv /opt/venv && /opt/venv/bin/pip install -q numpy pandas'
step "python3 -m venv /opt/venv && pip install numpy pandas"
# The cleanup a later layer makes is the waste layergate is there to find.
buildah run "$ctr" -- sh -c 'rm -rf /var/lib/apt/lists/* /root/.cache'
step "rm -rf /var/lib/apt/lists/* /root/.cache"
buildah run "$ctr" -- sh -c 'chmod -R a+rX /opt/venv'
step "chmod -R a+rX /opt/venv"
# The last step's fresh container holds the image: let it go, or the image cannot be removed.
buildah rm "$ctr" >/dev/null
ctr=

fi
buildah push --quiet --format docker layergate-bench-real "docker-archive:$work/real.docker.tar:real:bench"
buildah push --quiet --format oci --compression-format gzip layergate-bench-real "oci-archive:$work/real.oci-gzip.tar:real"
buildah push --quiet --format oci --compression-format zstd layergate-bench-real "oci-archive:$work/real.oci-zstd.tar:real"
buildah rmi layergate-bench-real >/dev/null
buildah rmi --prune >/dev/null 2>&1 || true
mv "$work"/real.*.tar "$OUT/"
ls -l "$OUT"/real.*.tar
