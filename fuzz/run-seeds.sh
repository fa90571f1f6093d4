#!/usr/bin/env bash
# Builds every fuzz target and runs each for a short, bounded time on its seed corpus, so
# a target that no longer compiles, or that crashes on its seeds or on what a short run
# finds, fails CI. Stable toolchain: the coverage instrumentation cargo-fuzz adds with
# `--sanitizer none` is plain rustc flags; `--cfg fuzzing` is what libfuzzer-sys expects.
# Usage: fuzz/run-seeds.sh [SECONDS_PER_TARGET]
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-20}"
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"
# Its own target dir: these flags would otherwise rebuild the main crate's dependencies.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR_FUZZ:-$PWD/target}"
targets=(archive layer reference policy)
# An explicit --target keeps RUSTFLAGS off build scripts (instrumented, they do not link).
host="$(rustc -vV | sed -n 's/^host: //p')"
cargo build --release --bins --target "$host"

# Seeds: what the repository already holds (small real images, the example policies),
# copied into a scratch corpus the run may add to.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
images=../tests/data/images
mkdir -p "$work"/{archive,layer,reference,policy}
cp "$images/multiarch.oci.tar" "$images/whiteouts.oci.tar" "$work/archive/"
# Layer seeds: the blobs of a real image as stored (gzip layers; its JSON documents too).
tar -tf "$images/whiteouts.oci.tar" | grep '^blobs/sha256/.' | while read -r b; do
  tar -xOf "$images/whiteouts.oci.tar" "$b" > "$work/layer/$(basename "$b")"
done
cp seeds/reference/* "$work/reference/"
cp ../examples/policy.yml ../examples/policy-strict.yml "$work/policy/"

for t in "${targets[@]}"; do
  echo "fuzz $t: ${secs}s on $(ls "$work/$t" | wc -l) seeds"
  # -rss_limit_mb: the archive target analyses real images; -timeout: one input may
  # take at most 30 s (a hang, not a slow input).
  "$CARGO_TARGET_DIR/$host/release/$t" "$work/$t" -max_total_time="$secs" -rss_limit_mb=2048 \
    -timeout=30 -print_final_stats=1 -artifact_prefix="$work/crash-$t-" 2>"$work/$t.log" || {
    tail -40 "$work/$t.log" >&2
    echo "fuzz target $t failed; the input is in the log above" >&2
    exit 1
  }
  grep -E '^stat::number_of_executed_units|^Done' "$work/$t.log" || true
done
