#!/usr/bin/env bash
# Builds every fuzz target and runs each for a short, bounded time on a seed corpus
# made from what the repository holds, so a target that no longer compiles, that
# crashes on its seeds or on what a short run finds, fails CI (.ci/run calls this).
# Stable toolchain: the coverage instrumentation cargo-fuzz adds with
# `--sanitizer none` is plain rustc flags; `--cfg fuzzing` is what libfuzzer-sys expects.
# Usage: fuzz/run-seeds.sh [SECONDS_PER_TARGET]   (default 10)
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-10}"
repo="$(cd .. && pwd)"

# Every file in fuzz_targets/ is a target and must be a [[bin]] of this crate: a
# target left out of Cargo.toml would otherwise never be built.
targets=()
for f in fuzz_targets/*.rs; do
  t="$(basename "$f" .rs)"
  grep -qx "path = \"fuzz_targets/$t.rs\"" Cargo.toml || {
    echo "fuzz/run-seeds.sh: $f is not a [[bin]] in fuzz/Cargo.toml" >&2
    exit 1
  }
  targets+=("$t")
done

# Seeds, in a scratch corpus each run may add to.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
images="$repo/tests/data/images"
for t in "${targets[@]}"; do mkdir -p "$work/$t"; done
cp "$images/multiarch.oci.tar" "$images/whiteouts.oci.tar" "$work/archive/"
# Layer seeds: the blobs of a real image as stored (gzip layers; its JSON documents too).
tar -tf "$images/whiteouts.oci.tar" | grep '^blobs/sha256/.' | while read -r b; do
  tar -xOf "$images/whiteouts.oci.tar" "$b" > "$work/layer/$(basename "$b")"
done
cp seeds/reference/* "$work/reference/"
cp "$repo"/examples/policy*.yml "$work/policy/"
cp "$repo"/examples/policy*.yml "$work/policy_bytes/"
# The rpm databases (unpacked), their header blobs and a genuine cache entry are
# made by the library itself: the main crate's debug build, which the test
# command has already built, without this script's fuzzing flags.
(cd "$repo" && cargo run --quiet --example fuzz-seeds -- "$work")
for t in "${targets[@]}"; do
  [ -n "$(ls -A "$work/$t")" ] || {
    echo "fuzz/run-seeds.sh: no seed for target $t (add one above)" >&2
    exit 1
  }
done

export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"
# Its own target dir (git-ignored): these flags would otherwise rebuild the main
# crate's dependencies in target/.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR_FUZZ:-$PWD/target}"
# An explicit --target keeps RUSTFLAGS off build scripts (instrumented, they do not link).
host="$(rustc -vV | sed -n 's/^host: //p')"
# Not --locked: this lock trails the main crate's dependencies, and a dependency added
# there must not fail CI here; cargo adds it to this lock as it builds.
cargo build --release --bins --target "$host"

# A crashing input is kept (git-ignored) to become a test case in tests/it/hardening/.
mkdir -p artifacts
for t in "${targets[@]}"; do
  echo "fuzz $t: ${secs}s on $(ls "$work/$t" | wc -l) seeds"
  # -rss_limit_mb: the archive target analyses real images; -timeout: one input may
  # take at most 30 s (a hang, not a slow input). A panic, an allocation past the
  # limit or a hang ends the run with a non-zero status.
  "$CARGO_TARGET_DIR/$host/release/$t" "$work/$t" -max_total_time="$secs" -rss_limit_mb=2048 \
    -timeout=30 -print_final_stats=1 -artifact_prefix="$PWD/artifacts/$t-" 2>"$work/$t.log" || {
    tail -40 "$work/$t.log" >&2
    echo "fuzz target $t failed; the input is saved as fuzz/artifacts/$t-* (see the log above)" >&2
    exit 1
  }
  grep -E '^stat::number_of_executed_units|^Done' "$work/$t.log" || true
done
echo "fuzz/run-seeds.sh: ${#targets[@]} targets built and run ${secs}s each, no crash"
