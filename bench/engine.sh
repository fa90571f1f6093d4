#!/usr/bin/env bash
# Times `layergate analyze docker-daemon:IMAGE` against `docker save IMAGE > /dev/null`
# on the same engine, for the large generated bench image (>= 500 MB), with wall time and
# peak RSS of both. A private dockerd (vfs, no networking) is started on a socket in a
# temporary directory and stopped by its PID at the end; a system engine is never touched.
#
#   bench/engine.sh                 # the 600 MB image of bench/run.sh
#   SIZE_MB=1000 bench/engine.sh
#   RUNS=3 bench/engine.sh          # runs per command (each line is printed)
#
# Needs dockerd/docker (Debian: docker.io) and GNU time; run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MB=${SIZE_MB:-600}
RUNS=${RUNS:-2}
OUT=${OUT:-target/bench}
IMAGE="$OUT/bench-${SIZE_MB}.docker25.tar"
mkdir -p "$OUT"
[ -x /usr/bin/time ] || apt-get install -y time >/dev/null

cargo build --release --quiet --bin layergate --example make-bench-image
[ -f "$IMAGE" ] || target/release/examples/make-bench-image "$IMAGE" "$SIZE_MB"

D=$(mktemp -d /tmp/lgbXXXX)
dockerd --data-root "$D/data" --exec-root "$D/exec" --pidfile "$D/d.pid" -H "unix://$D/d.sock" \
    --storage-driver vfs --iptables=false --ip6tables=false --bridge=none >"$D/log" 2>&1 &
DPID=$!
trap 'kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; rm -rf "$D"' EXIT
export DOCKER_HOST="unix://$D/d.sock"
for _ in $(seq 100); do docker version >/dev/null 2>&1 && break; sleep 0.2; done
NAME=$(docker load -i "$IMAGE" | sed -n 's/^Loaded image: //p' | head -1)
echo "engine: $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})'), image $NAME"
echo "export size: $(($(curl -s --unix-socket "$D/d.sock" "http://d/images/$NAME/get" | wc -c) / 1048576)) MiB"

wall() { awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$1"; }
rss() { awk -F': ' '/Maximum resident set size/ { print $2 }' "$1"; }

for run in $(seq "$RUNS"); do
    /usr/bin/time -v sh -c "docker save '$NAME' > /dev/null" 2>"$OUT/save.time"
    /usr/bin/time -v target/release/layergate analyze "docker-daemon:$NAME" --format json \
        --output "$OUT/engine-report.json" 2>"$OUT/engine.time"
    s=$(wall "$OUT/save.time"); l=$(wall "$OUT/engine.time")
    printf 'run %d: docker save > /dev/null %6.2f s (%6d KiB docker CLI RSS) | layergate analyze docker-daemon: %6.2f s (%6d KiB RSS) | ratio %.2f\n' \
        "$run" "$s" "$(rss "$OUT/save.time")" "$l" "$(rss "$OUT/engine.time")" "$(awk -v l="$l" -v s="$s" 'BEGIN { print l / s }')"
done
/usr/bin/time -v target/release/layergate analyze "docker-archive:$IMAGE" --format json \
    --output "$OUT/archive-report.json" 2>"$OUT/archive.time"
printf 'for reference, layergate analyze docker-archive: %6.2f s (%6d KiB RSS)\n' \
    "$(wall "$OUT/archive.time")" "$(rss "$OUT/archive.time")"
python3 - "$OUT/engine-report.json" "$OUT/archive-report.json" <<'PY'
import json, sys
a, b = (json.load(open(p))["totals"] for p in sys.argv[1:])
# The engine exports plain layers, the archive holds gzip ones: compressed sizes differ.
keys = [k for k in a if "compressed" not in k]
print("figures equal to the archive's (but compressed sizes):", all(a[k] == b[k] for k in keys))
PY
