#!/usr/bin/env bash
# The per-file cases of issue 25, in one run (release build): what layergate spends
# per tar member and per name byte, on layers that cost nothing to hash.
# - empty: one gzip layer of 1,000,000 empty files (a thousand per directory);
# - long:  one gzip layer of 2,000 empty files whose 200 KB names share all but
#          their last component (examples/make-many-files.rs writes both);
# - deep:  the same names as a chain of 100 directories of 2,000 bytes.
# Prints wall time (noisy on a shared machine: the load is printed), user+system
# CPU time and peak RSS of `layergate analyze --no-cache`, in text and JSON.
#
#   bench/many-files.sh          # inputs under target/bench/ (kept between runs)
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${OUT:-target/bench}
mkdir -p "$OUT"
[ -x /usr/bin/time ] || apt-get install -y time >/dev/null

cargo build --release --quiet --bin layergate --example make-many-files
LG=target/release/layergate

echo "load before the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
for shape in empty long deep; do
    img="$OUT/many-files-$shape.tar"
    case $shape in
        deep) make=(long "$img" 2000 200000 2000) ;;
        *) make=("$shape" "$img") ;;
    esac
    [ -f "$img" ] || target/release/examples/make-many-files "${make[@]}" 2>/dev/null
    for fmt in text json; do
        /usr/bin/time -f '%e %U %S %M' -o "$OUT/many-files.time" \
            "$LG" analyze "docker-archive:$img" --format "$fmt" --no-cache --quiet >/dev/null
        read -r wall user sys rss <"$OUT/many-files.time"
        printf '%-5s %-4s: wall %6.2f s | cpu %6.2f s | peak RSS %7.1f MiB\n' \
            "$shape" "$fmt" "$wall" "$(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}')" \
            "$(awk -v k="$rss" 'BEGIN{print k/1024}')"
    done
done
