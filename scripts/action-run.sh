#!/usr/bin/env bash
# The GitHub Action's steps, as a script a test can run (action.yml only calls it).
#
#   action-run.sh resolve   which version to run and where it is cached (step outputs)
#   action-run.sh install   put that layergate binary on PATH ($GITHUB_PATH)
#   action-run.sh run       layergate diff|check|analyze|comment with the action's inputs (INPUT_*)
#
# The version, in order: the `version` input; the action's own ref when it is a
# release tag (uses: layergate/layergate@v0.2.0); else ACTION_VERSION below, which
# the release workflow checks against the tag, so `@v0` (a moved major tag) and
# `@<commit sha>` run the binary of the release they point at.
#
# install, in order:
#   1. `layergate-path` (INPUT_LAYERGATE_PATH): a binary already on the runner;
#   2. the cached binary of that version (actions/cache restored it into the
#      install directory, or the runner's tool cache kept it);
#   3. `install: source`: cargo build of the action's own checkout, said loudly;
#   4. the released archive for this OS/arch from LAYERGATE_RELEASE_URL
#      (default https://github.com/layergate/layergate/releases), retried on
#      transient errors and verified against its .sha256 file; a checksum mismatch
#      is fatal, never skipped; only when no release matches (HTTP 404, or no asset
#      for this platform) is the action's checkout built instead, with a warning.
set -euo pipefail

# Written at release time; tests/it/action.rs keeps it equal to Cargo.toml's version.
ACTION_VERSION="0.1.0"
REPO_URL="https://github.com/layergate/layergate"

log() { echo "layergate-action: $*" >&2; }
die() { echo "::error title=layergate::$*"; log "error: $*"; exit 2; }
# A workflow-command warning (an annotation on the run), and the same on stderr.
warn() { echo "::warning title=layergate::$*"; log "warning: $*"; }

output() { if [ -n "${GITHUB_OUTPUT:-}" ]; then printf '%s=%s\n' "$1" "$2" >> "$GITHUB_OUTPUT"; fi; }

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

is_release_version() { [[ "$1" =~ ^v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]]; }

cmd_resolve() {
  local version="${INPUT_VERSION:-}" ref="${ACTION_REF:-}" dir key triple
  if [ -z "$version" ]; then
    if is_release_version "$ref"; then version="$ref"; else version="$ACTION_VERSION"; fi
  fi
  version="${version#v}"
  triple="$(target_triple || echo unknown)"
  if [ -n "${INPUT_LAYERGATE_PATH:-}" ]; then
    dir="${LAYERGATE_TEMP:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}}/layergate-bin"
    key=""
  else
    # The tool cache survives between jobs on self-hosted runners; actions/cache
    # (keyed on version, platform and how it was installed) everywhere.
    dir="${RUNNER_TOOL_CACHE_DIR:-${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}}}/layergate/$version/${INPUT_INSTALL:-release}-$triple"
    key="layergate-$version-${INPUT_INSTALL:-release}-$triple"
  fi
  output version "$version"
  output dir "$dir"
  output cache-key "$key"
  log "layergate $version for $triple (action ref ${ref:-none})"
}

# Fetches URL into FILE with retries on transient errors (connection failures,
# 429, 5xx). Returns 0 when fetched, 4 when the server says there is no such
# file (404/410: no release matches), 1 after the retries ran out.
fetch() {
  local url="$1" file="$2" attempt=1 code
  while :; do
    code="$(curl -sSL --connect-timeout 20 --max-time 300 -o "$file" -w '%{http_code}' "$url" 2>"$file.err" || true)"
    case "$code" in
      200) return 0 ;;
      # curl reports 000 for file:// URLs that exist, and for failed connections.
      000) if [ "${url#file://}" != "$url" ]; then [ -f "${url#file://}" ] && return 0 || return 4; fi ;;
      404|410) return 4 ;;
    esac
    if [ "$attempt" -ge "${LAYERGATE_DOWNLOAD_ATTEMPTS:-4}" ]; then
      log "$url: HTTP $code after $attempt attempts: $(tr '\n' ' ' < "$file.err")"
      return 1
    fi
    log "$url: HTTP $code, retrying ($attempt)"
    sleep "$((attempt * ${LAYERGATE_DOWNLOAD_BACKOFF:-2}))"
    attempt=$((attempt + 1))
  done
}

# Downloads and verifies the release archive into $1. Returns 4 when no release
# matches (so the caller may build instead), 1 when the download kept failing;
# exits on a checksum mismatch.
download_release() {
  local dest="$1" version="$LAYERGATE_VERSION" triple base url asset tmp want got rc
  triple="$(target_triple)" || { log "no released binary for ${RUNNER_OS:-$(uname -s)}/${RUNNER_ARCH:-$(uname -m)}"; return 4; }
  base="${LAYERGATE_RELEASE_URL:-$REPO_URL/releases}"
  base="${base%/}"
  asset="layergate-${triple}.tar.gz"
  if [ "$version" = latest ]; then
    url="$base/latest/download/$asset"
  else
    url="$base/download/v${version#v}/$asset"
  fi
  tmp="$(mktemp -d)"
  rc=0
  fetch "$url" "$tmp/$asset" || rc=$?
  [ "$rc" = 0 ] && { fetch "$url.sha256" "$tmp/$asset.sha256" || rc=$?; }
  if [ "$rc" != 0 ]; then
    rm -rf "$tmp"
    [ "$rc" = 4 ] && log "no release asset at $url"
    return "$rc"
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
  echo "$got  $asset" > "$dest/layergate.sha256"
  rm -rf "$tmp"
  log "installed $asset ($version), sha256 $got"
}

build_from_source() {
  local root="$1" why="$2"
  command -v cargo >/dev/null || die "$why, and no cargo on the runner to build it (set layergate-path, or install Rust)"
  if [ -n "${GITHUB_ACTION_PATH:-}" ] && [ -f "$GITHUB_ACTION_PATH/Cargo.toml" ]; then
    warn "$why: building layergate from the action's checkout; this takes minutes, the build is cached for the next runs"
    cargo install --locked --quiet --root "$root" --path "$GITHUB_ACTION_PATH"
  else
    warn "$why: building layergate $LAYERGATE_VERSION from $REPO_URL; this takes minutes, the build is cached for the next runs"
    cargo install --locked --quiet --root "$root" --git "$REPO_URL" --tag "v${LAYERGATE_VERSION#v}"
  fi
}

cmd_install() {
  local root="${LAYERGATE_INSTALL_DIR:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/layergate}"
  local bindir="$root/bin" rc=0
  : "${LAYERGATE_VERSION:=$ACTION_VERSION}"
  mkdir -p "$bindir"
  if [ -n "${INPUT_LAYERGATE_PATH:-}" ]; then
    [ -x "$INPUT_LAYERGATE_PATH" ] || die "layergate-path $INPUT_LAYERGATE_PATH is not an executable"
    bindir="$(cd "$(dirname "$INPUT_LAYERGATE_PATH")" && pwd)"
    log "using $INPUT_LAYERGATE_PATH"
  elif [ -x "$bindir/layergate" ]; then
    log "using the cached $bindir/layergate"
  else
    case "${INPUT_INSTALL:-release}" in
      source) build_from_source "$root" "install: source" ;;
      release)
        download_release "$bindir" || rc=$?
        case "$rc" in
          0) ;;
          4) build_from_source "$root" "no layergate release $LAYERGATE_VERSION for this runner" ;;
          *) die "could not download layergate $LAYERGATE_VERSION (see above); retry the job, or set layergate-path or install: source" ;;
        esac ;;
      *) die "input 'install' must be release or source, not '${INPUT_INSTALL}'" ;;
    esac
  fi
  local bin="$bindir/layergate" ran
  [ -n "${INPUT_LAYERGATE_PATH:-}" ] && bin="$INPUT_LAYERGATE_PATH"
  ran="$("$bin" --version 2>&1)" || die "$bin does not run: $ran"
  log "$ran"
  if [ -n "${GITHUB_PATH:-}" ]; then echo "$bindir" >> "$GITHUB_PATH"; fi
  output bin "$bin"
  output version "${ran#layergate }"
}

bool_input() {
  case "$2" in
    true|false) ;;
    *) die "input '$1' must be true or false, not '$2'" ;;
  esac
}

cmd_run() {
  local bin="${LAYERGATE_BIN_PATH:-layergate}" command="${INPUT_COMMAND:-diff}"
  local head="${INPUT_HEAD:-${INPUT_IMAGE:-}}" key="${INPUT_COMMENT_KEY:-default}"
  local tmp="${LAYERGATE_TEMP:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}}"
  local report="${INPUT_REPORT:-$tmp/layergate-$key.json}"
  local markdown="${INPUT_MARKDOWN:-$tmp/layergate-$key.md}"
  bool_input comment "${INPUT_COMMENT:=true}"
  bool_input comment-required "${INPUT_COMMENT_REQUIRED:=false}"
  bool_input warn-only "${INPUT_WARN_ONLY:=false}"
  bool_input manifest-only "${INPUT_MANIFEST_ONLY:=false}"
  if [ -n "${INPUT_HEAD:-}" ] && [ -n "${INPUT_IMAGE:-}" ] && [ "$INPUT_HEAD" != "$INPUT_IMAGE" ]; then
    die "inputs 'head' and 'image' are the same thing: set one"
  fi
  if [ -n "${INPUT_PR_NUMBER:-}" ] && ! [[ "$INPUT_PR_NUMBER" =~ ^[1-9][0-9]*$ ]]; then
    die "input 'pr-number' must be a pull request number, not '$INPUT_PR_NUMBER'"
  fi

  # Every declared output gets a value on every path: empty first, the figures of
  # this run (written by layergate below) come later and win.
  local o
  for o in verdict headline failures warnings size-before size-after size-delta \
    size-delta-percent size-kind report-path markdown-path comment-id comment-url; do
    output "$o" ""
  done
  output comment-status none

  local args=()
  case "$command" in
    cache-key)
      # Before the build: key every download step of the Dockerfile (the rewrite is
      # idempotent, and an unchanged key file is left untouched so the cache holds).
      [ -f "${INPUT_DOCKERFILE:-Dockerfile}" ] || die "input 'dockerfile': ${INPUT_DOCKERFILE:-Dockerfile} does not exist"
      exec "$bin" cache-key --dockerfile "${INPUT_DOCKERFILE:-Dockerfile}" --write ;;
    diff)
      [ -n "${INPUT_BASE:-}" ] || die "input 'base' is required for command: diff"
      [ -n "$head" ] || die "input 'head' (or 'image') is required for command: diff"
      args=(diff "$INPUT_BASE" "$head") ;;
    check)
      [ -n "$head" ] || die "input 'image' (or 'head') is required for command: check"
      args=(check "$head") ;;
    analyze)
      [ -n "$head" ] || die "input 'image' (or 'head') is required for command: analyze"
      args=(analyze "$head") ;;
    comment)
      # Posts Markdown a gate wrote earlier (fork pull requests, workflow_run).
      [ -n "${INPUT_MARKDOWN:-}" ] || die "input 'markdown' (the file to post) is required for command: comment"
      [ -f "$INPUT_MARKDOWN" ] || die "input 'markdown': $INPUT_MARKDOWN does not exist"
      args=(comment "$INPUT_MARKDOWN" --comment auto --comment-key "$key")
      if [ -n "${INPUT_PR_NUMBER:-}" ]; then args+=(--pr "$INPUT_PR_NUMBER"); fi
      if [ "$INPUT_COMMENT_REQUIRED" = true ]; then args+=(--comment-required); fi
      output markdown-path "$INPUT_MARKDOWN"
      exec "$bin" "${args[@]}" ;;
    *) die "input 'command' must be diff, check, analyze or comment, not '$command'" ;;
  esac
  mkdir -p "$(dirname "$report")" "$(dirname "$markdown")"
  if [ -n "${INPUT_PLATFORM:-}" ]; then args+=(--platform "$INPUT_PLATFORM"); fi
  if [ "$INPUT_MANIFEST_ONLY" = true ]; then args+=(--manifest-only); fi
  args+=(--format json --output "$report")

  if [ "$command" = analyze ]; then
    "$bin" "${args[@]}" || exit $?
    output report-path "$report"
    if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
      printf '### layergate analyze\n\nReport of `%s` written to `%s`.\n' "$head" "$report" >> "$GITHUB_STEP_SUMMARY"
    fi
    log "report written to $report"
    return 0
  fi

  if [ -n "${INPUT_POLICY:-}" ]; then args+=(--policy "$INPUT_POLICY"); fi
  if [ -n "${INPUT_TEMPLATE:-}" ]; then args+=(--template "$INPUT_TEMPLATE"); fi
  if [ "$INPUT_WARN_ONLY" = true ]; then args+=(--warn-only); fi
  args+=(--markdown "$markdown")
  if [ "$INPUT_COMMENT" = true ]; then
    args+=(--comment auto)
    # workflow_run and other events without a pull request in their payload.
    if [ -n "${INPUT_PR_NUMBER:-}" ]; then args+=(--pr "$INPUT_PR_NUMBER"); fi
    if [ "$INPUT_COMMENT_REQUIRED" = true ]; then args+=(--comment-required); fi
  else
    args+=(--comment none)
  fi
  args+=(--comment-key "$key")
  # The exit code is the verdict: 0 pass, 1 policy failed, 2 error.
  exec "$bin" "${args[@]}"
}

case "${1:-}" in
  resolve) cmd_resolve ;;
  install) cmd_install ;;
  run) cmd_run ;;
  *) die "usage: $0 resolve|install|run" ;;
esac
