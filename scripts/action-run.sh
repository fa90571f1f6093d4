#!/usr/bin/env bash
# The GitHub Action's steps, as a script a test can run (action.yml only calls it).
#
#   action-run.sh install   put a layergate binary on PATH ($GITHUB_PATH)
#   action-run.sh run       layergate diff with the action's inputs (INPUT_* variables)
#
# install, in order:
#   1. $LAYERGATE_BIN, when set: a binary already built (tests, self-hosted runners);
#   2. the released archive for this OS/arch, from
#      $LAYERGATE_RELEASE_URL (default https://github.com/layergate/layergate/releases),
#      verified against its .sha256 file; a checksum mismatch is fatal, never skipped;
#   3. when no release asset can be downloaded: cargo install from the action's own
#      checkout ($GITHUB_ACTION_PATH) or, failing that, from git.
set -euo pipefail

REPO_URL="https://github.com/layergate/layergate"

log() { echo "layergate-action: $*" >&2; }
die() { log "error: $*"; exit 2; }

target_triple() {
  local os arch
  os="${RUNNER_OS:-$(uname -s)}"
  arch="${RUNNER_ARCH:-$(uname -m)}"
  case "$os" in
    Linux) os=unknown-linux-musl ;;
    macOS|Darwin) os=apple-darwin ;;
    *) return 1 ;;
  esac
  case "$arch" in
    X64|x86_64|amd64) arch=x86_64 ;;
    ARM64|aarch64|arm64) arch=aarch64 ;;
    *) return 1 ;;
  esac
  echo "${arch}-${os}"
}

sha256_of() {
  if command -v sha256sum >/dev/null; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

# Downloads and verifies the release archive into $1. Returns 1 when no asset could
# be downloaded (so the caller may build instead); exits on a checksum mismatch.
download_release() {
  local dest="$1" version="${LAYERGATE_VERSION:-latest}" triple base url asset tmp want got
  triple="$(target_triple)" || { log "no released binary for ${RUNNER_OS:-$(uname -s)}/${RUNNER_ARCH:-$(uname -m)}"; return 1; }
  base="${LAYERGATE_RELEASE_URL:-$REPO_URL/releases}"
  asset="layergate-${triple}.tar.gz"
  if [ "$version" = latest ]; then
    url="$base/latest/download/$asset"
  else
    url="$base/download/v${version#v}/$asset"
  fi
  tmp="$(mktemp -d)"
  if ! curl -fsSL --retry 3 --retry-delay 2 -o "$tmp/$asset" "$url" \
     || ! curl -fsSL --retry 3 --retry-delay 2 -o "$tmp/$asset.sha256" "$url.sha256"; then
    log "could not download $url"
    rm -rf "$tmp"
    return 1
  fi
  want="$(cut -d' ' -f1 < "$tmp/$asset.sha256" | tr -d '[:space:]')"
  got="$(sha256_of "$tmp/$asset")"
  if [ -z "$want" ] || [ "$want" != "$got" ]; then
    rm -rf "$tmp"
    die "checksum mismatch for $asset: expected ${want:-nothing}, got $got"
  fi
  tar -xzf "$tmp/$asset" -C "$tmp"
  [ -f "$tmp/layergate" ] || die "$asset holds no layergate binary"
  install -m 0755 "$tmp/layergate" "$dest/layergate"
  rm -rf "$tmp"
  log "installed $asset ($version), sha256 $got"
}

build_from_source() {
  local root="$1"
  command -v cargo >/dev/null || die "no released binary and no cargo to build one"
  if [ -n "${GITHUB_ACTION_PATH:-}" ] && [ -f "$GITHUB_ACTION_PATH/Cargo.toml" ]; then
    log "building from the action's checkout"
    cargo install --locked --quiet --root "$root" --path "$GITHUB_ACTION_PATH"
  else
    local version="${LAYERGATE_VERSION:-latest}"
    log "building from $REPO_URL ($version)"
    if [ "$version" = latest ]; then
      cargo install --locked --quiet --root "$root" --git "$REPO_URL"
    else
      cargo install --locked --quiet --root "$root" --git "$REPO_URL" --tag "v${version#v}"
    fi
  fi
}

cmd_install() {
  local root="${LAYERGATE_INSTALL_DIR:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/layergate}"
  local bindir="$root/bin"
  mkdir -p "$bindir"
  if [ -n "${LAYERGATE_BIN:-}" ]; then
    [ -x "$LAYERGATE_BIN" ] || die "LAYERGATE_BIN=$LAYERGATE_BIN is not an executable"
    install -m 0755 "$LAYERGATE_BIN" "$bindir/layergate"
    log "using $LAYERGATE_BIN"
  elif ! download_release "$bindir"; then
    build_from_source "$root"
  fi
  "$bindir/layergate" --version >&2 || die "$bindir/layergate does not run"
  if [ -n "${GITHUB_PATH:-}" ]; then echo "$bindir" >> "$GITHUB_PATH"; fi
  if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "bin=$bindir/layergate" >> "$GITHUB_OUTPUT"; fi
}

cmd_run() {
  [ -n "${INPUT_BASE:-}" ] || die "input 'base' is required"
  [ -n "${INPUT_HEAD:-}" ] || die "input 'head' is required"
  local bin="layergate"
  if [ -n "${LAYERGATE_INSTALL_DIR:-}" ] && [ -x "$LAYERGATE_INSTALL_DIR/bin/layergate" ]; then
    bin="$LAYERGATE_INSTALL_DIR/bin/layergate"
  fi
  local args=(diff "$INPUT_BASE" "$INPUT_HEAD")
  if [ -n "${INPUT_POLICY:-}" ]; then args+=(--policy "$INPUT_POLICY"); fi
  if [ -n "${INPUT_TEMPLATE:-}" ]; then args+=(--template "$INPUT_TEMPLATE"); fi
  case "${INPUT_COMMENT:-true}" in
    true) args+=(--comment auto) ;;
    false) args+=(--comment none) ;;
    *) die "input 'comment' must be true or false, not '${INPUT_COMMENT}'" ;;
  esac
  args+=(--comment-key "${INPUT_COMMENT_KEY:-default}")
  # The exit code is the verdict: 0 pass, 1 policy failed, 2 error.
  exec "$bin" "${args[@]}"
}

case "${1:-}" in
  install) cmd_install ;;
  run) cmd_run ;;
  *) die "usage: $0 install|run" ;;
esac
