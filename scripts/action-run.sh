#!/usr/bin/env bash
# The GitHub Action's steps, as a script a test can run (action.yml only calls it).
#
#   action-run.sh resolve   which version to run and where it is cached (step outputs)
#   action-run.sh install   put that layergate binary on PATH ($GITHUB_PATH)
#   action-run.sh run       layergate diff|check|analyze|comment|merge|cache-key with the
#                           action's inputs (INPUT_*)
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
# A notice annotation, also in the job summary so it is read beside the verdict.
notice() {
  echo "::notice title=layergate::$*"
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then printf '> layergate: %s\n\n' "$*" >> "$GITHUB_STEP_SUMMARY"; fi
}

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
  # "latest" would be cached under that name and never looked at again.
  is_release_version "$version" || die "input 'version' must be a release X.Y.Z, not '$version' (pin the action's ref to follow releases)"
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
  resolve_layer_cache
  log "layergate $version for $triple (action ref ${ref:-none})"
}

# The layer cache: restored by the first layergate step of a job that reads images,
# under a key per base branch (the newest entry of that branch first, then any), and
# saved after every such step, even a failing one, under a key of its own (run,
# attempt, step number), so the next run restores everything this one scanned.
resolve_layer_cache() {
  local dir="${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/layergate" branch prefix n
  case "${XDG_CACHE_HOME:-}" in /*) ;; *) dir="${HOME:-/tmp}/.cache/layergate" ;; esac
  output layer-cache-dir "$dir"
  output layer-cache-key ""
  output layer-cache-restore false
  case "${INPUT_CACHE:-true}" in
    true) ;;
    false) return 0 ;;
    *) die "input 'cache' must be true or false, not '${INPUT_CACHE}'" ;;
  esac
  case "${INPUT_COMMAND:-diff}" in diff|check|analyze) ;; *) return 0 ;; esac
  n=$(( ${LAYERGATE_LAYER_CACHE_STEPS:-0} + 1 ))
  if [ -n "${GITHUB_ENV:-}" ]; then echo "LAYERGATE_LAYER_CACHE_STEPS=$n" >> "$GITHUB_ENV"; fi
  branch="${GITHUB_BASE_REF:-${GITHUB_REF_NAME:-none}}"
  prefix="layergate-layers-v1-${RUNNER_OS:-$(uname -s)}"
  output layer-cache-key "$prefix-$branch-${GITHUB_RUN_ID:-0}-${GITHUB_RUN_ATTEMPT:-1}-${GITHUB_JOB:-job}-$n"
  if [ "$n" = 1 ]; then output layer-cache-restore true; fi
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    printf 'layer-cache-restore-keys<<LAYERGATE_EOF\n%s\n%s\nLAYERGATE_EOF\n' "$prefix-$branch-" "$prefix-" >> "$GITHUB_OUTPUT"
  fi
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
  url="$base/download/v${version#v}/$asset"
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

# The policy at commit INPUT_POLICY_REF (the `policy` file, else the discovered names)
# into $1. Returns 1, with a notice, when that commit has none: the pull request that
# adds the policy is gated by its own (or the defaults).
policy_at_ref() {
  local dest="$1" ref="$INPUT_POLICY_REF" names n
  if [ -n "${INPUT_POLICY:-}" ]; then names=("$INPUT_POLICY"); else names=(.layergate.yml layergate.yml .layergate.yaml layergate.yaml); fi
  if ! git cat-file -e "$ref^{commit}" 2>/dev/null; then
    git fetch -q --depth=1 origin "$ref" 2>/dev/null || { warn "policy-ref: cannot read commit $ref; using ${INPUT_POLICY:-the policy in the working tree, else the defaults}"; return 1; }
  fi
  for n in "${names[@]}"; do
    if git cat-file -e "$ref:${n#./}" 2>/dev/null; then
      git show "$ref:${n#./}" > "$dest"
      log "policy ${n#./} read from $ref"
      return 0
    fi
  done
  notice "no policy at $ref (the base commit): using ${INPUT_POLICY:-the policy in the working tree, else the defaults}"
  return 1
}

# Whether a `base` names a local file that does not exist (yet): a saved report, or an
# archive. Registry and engine references are never "missing" here: layergate reports them.
base_is_missing() {
  local base="$1" path
  case "$base" in
    report:*) path="${base#report:}" ;;
    docker-archive:*|oci-archive:*) path="${base#*:}" ;;
    *://*|oci:*|docker-daemon:*|podman:*) return 1 ;;
    *.json|*.tar|*.tar.gz) path="$base" ;;
    *) return 1 ;;
  esac
  [ ! -e "$path" ]
}

NO_BASE_BANNER='> ℹ️ **No base yet.** There is no report or image of the base branch to compare with: this is the first pull request, or the default branch has not run the workflow since it was added. The image is checked on its own: its size and layers are below, the rules that need no base apply, and size growth is not judged. Run the workflow on the default branch (a push, or *Run workflow*) to seed the base.'

cmd_run() {
  local bin="${LAYERGATE_BIN_PATH:-layergate}" command="${INPUT_COMMAND:-diff}"
  local head="${INPUT_HEAD:-${INPUT_IMAGE:-}}" key="${INPUT_COMMENT_KEY:-default}"
  local tmp="${LAYERGATE_TEMP:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}}"
  local report="${INPUT_REPORT:-$tmp/layergate-$key.json}"
  local markdown="${INPUT_MARKDOWN:-$tmp/layergate-$key.md}"
  local template="${INPUT_TEMPLATE:-}" policy="${INPUT_POLICY:-}"
  bool_input comment "${INPUT_COMMENT:=true}"
  bool_input comment-required "${INPUT_COMMENT_REQUIRED:=false}"
  bool_input warn-only "${INPUT_WARN_ONLY:=false}"
  bool_input manifest-only "${INPUT_MANIFEST_ONLY:=false}"
  bool_input html "${INPUT_HTML:=false}"
  bool_input fix "${INPUT_FIX:=false}"
  case "${INPUT_COMMENT_ON:=always}" in
    always|change|failure) ;;
    *) die "input 'comment-on' must be always, change or failure, not '$INPUT_COMMENT_ON'" ;;
  esac
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
    size-delta-percent size-kind report-path markdown-path comment-id comment-url \
    html-path html-artifact base; do
    output "$o" ""
  done
  output comment-status none

  local args=()
  case "$command" in
    cache-key)
      # Before the build: key every download step of the Dockerfile (the rewrite is
      # idempotent, and an unchanged key file is left untouched so the cache holds).
      # A download server that gives no validator is a warning: this step only makes
      # builds cacheable, it must never fail the size gate.
      [ -f "${INPUT_DOCKERFILE:-Dockerfile}" ] || die "input 'dockerfile': ${INPUT_DOCKERFILE:-Dockerfile} does not exist"
      if ! "$bin" cache-key --dockerfile "${INPUT_DOCKERFILE:-Dockerfile}" --write; then
        warn "cache-key could not key every download of ${INPUT_DOCKERFILE:-Dockerfile} (see above); the build goes on without those keys"
      fi
      return 0 ;;
    diff)
      [ -n "${INPUT_BASE:-}" ] || die "input 'base' is required for command: diff"
      [ -n "$head" ] || die "input 'head' (or 'image') is required for command: diff"
      if base_is_missing "$INPUT_BASE"; then
        notice "no base yet: $INPUT_BASE does not exist, so $head is checked on its own (seed the base by running the workflow on the default branch)"
        output base missing
        # The built-in comment (or yours) with the banner on top.
        local src="${template:-${GITHUB_ACTION_PATH:-$(dirname "$0")/..}/templates/check.md.j2}"
        [ -f "$src" ] || die "no template at $src to say there is no base yet"
        template="$tmp/layergate-$key-no-base.md.j2"
        mkdir -p "$tmp"
        { printf '%s\n\n' "$NO_BASE_BANNER"; cat "$src"; } > "$template"
        args=(check "$head")
      else
        output base present
        args=(diff "$INPUT_BASE" "$head")
      fi ;;
    check)
      [ -n "$head" ] || die "input 'image' (or 'head') is required for command: check"
      args=(check "$head") ;;
    analyze)
      [ -n "$head" ] || die "input 'image' (or 'head') is required for command: analyze"
      args=(analyze "$head") ;;
    merge)
      [ -n "${INPUT_VERDICTS:-}" ] || die "input 'verdicts' (the JSON verdicts of the matrix) is required for command: merge"
      local files=() pattern f
      shopt -s nullglob
      for pattern in $INPUT_VERDICTS; do
        for f in $pattern; do files+=("$f"); done
      done
      shopt -u nullglob
      [ ${#files[@]} -gt 0 ] || die "input 'verdicts': no file matches $INPUT_VERDICTS"
      args=(merge "${files[@]}" --format markdown --output "$markdown")
      # The policy of a merge judges drift over the history only.
      if [ -n "${INPUT_HISTORY:-}" ] && [ -f "$INPUT_HISTORY" ]; then args+=(--history "$INPUT_HISTORY"); else INPUT_POLICY_REF="" policy=""; fi ;;
    comment)
      # Posts Markdown a gate wrote earlier (fork pull requests, workflow_run).
      [ -n "${INPUT_MARKDOWN:-}" ] || die "input 'markdown' (the file to post) is required for command: comment"
      [ -f "$INPUT_MARKDOWN" ] || die "input 'markdown': $INPUT_MARKDOWN does not exist"
      args=(comment "$INPUT_MARKDOWN" --comment auto --comment-key "$key")
      if [ -n "${INPUT_PR_NUMBER:-}" ]; then args+=(--pr "$INPUT_PR_NUMBER"); fi
      if [ "$INPUT_COMMENT_REQUIRED" = true ]; then args+=(--comment-required); fi
      output markdown-path "$INPUT_MARKDOWN"
      exec "$bin" "${args[@]}" ;;
    *) die "input 'command' must be diff, check, analyze, merge, comment or cache-key, not '$command'" ;;
  esac
  mkdir -p "$(dirname "$report")" "$(dirname "$markdown")"
  if [ "$command" != merge ]; then
    if [ -n "${INPUT_PLATFORM:-}" ]; then args+=(--platform "$INPUT_PLATFORM"); fi
    if [ "$INPUT_MANIFEST_ONLY" = true ]; then args+=(--manifest-only); fi
    # Plain lines in the log, one per layer (read, or from the layer cache).
    args+=(--progress --format json --output "$report")
  fi

  if [ "$command" = analyze ]; then
    "$bin" "${args[@]}" 2> >(cat >&2) || exit $?
    output report-path "$report"
    if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
      printf '### layergate analyze\n\nReport of `%s` written to `%s`.\n' "$head" "$report" >> "$GITHUB_STEP_SUMMARY"
    fi
    log "report written to $report"
    return 0
  fi

  if [ -n "${INPUT_POLICY_REF:-}" ]; then
    if policy_at_ref "$tmp/layergate-$key-policy.yml"; then policy="$tmp/layergate-$key-policy.yml"; fi
  fi
  if [ -n "$policy" ]; then args+=(--policy "$policy"); fi
  if [ -n "$template" ]; then args+=(--template "$template"); fi
  if [ "$INPUT_WARN_ONLY" = true ]; then args+=(--warn-only); fi
  if [ -n "${INPUT_LABEL:-}" ] && [ "$command" != merge ]; then args+=(--label "$INPUT_LABEL"); fi
  # The "Fix it" section: the rewrite of the Dockerfile head was built from.
  if [ "$INPUT_FIX" = true ] && [ "$command" != merge ]; then
    [ -f "${INPUT_DOCKERFILE:-Dockerfile}" ] || die "input 'dockerfile': ${INPUT_DOCKERFILE:-Dockerfile} does not exist (input 'fix' reads it)"
    args+=(--dockerfile "${INPUT_DOCKERFILE:-Dockerfile}")
  fi
  if [ "$INPUT_HTML" = true ] && [ "$command" != merge ]; then
    local html="$tmp/layergate-$key.html"
    args+=(--html "$html")
    # The run's page lists its artifacts, the HTML report among them.
    if [ -n "${GITHUB_RUN_ID:-}" ] && [ -n "${GITHUB_REPOSITORY:-}" ]; then
      args+=(--html-url "${GITHUB_SERVER_URL:-https://github.com}/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID#artifacts")
    fi
    output html-path "$html"
    output html-artifact "layergate-$key-html"
  fi
  args+=(--markdown "$markdown")
  if [ "$INPUT_COMMENT" = true ]; then
    args+=(--comment auto)
    # workflow_run and other events without a pull request in their payload.
    if [ -n "${INPUT_PR_NUMBER:-}" ]; then args+=(--pr "$INPUT_PR_NUMBER"); fi
    if [ "$INPUT_COMMENT_REQUIRED" = true ]; then args+=(--comment-required); fi
    if [ "$INPUT_COMMENT_ON" != always ]; then args+=(--comment-on "$INPUT_COMMENT_ON"); fi
  else
    args+=(--comment none)
  fi
  args+=(--comment-key "$key")
  # The exit code is the verdict: 0 pass, 1 policy failed, 2 error. Standard error
  # goes through a pipe so the progress is plain lines, one per layer, even where a
  # runner gives steps a terminal (act does).
  log "running: layergate ${args[*]}"
  exec "$bin" "${args[@]}" 2> >(cat >&2)
}

case "${1:-}" in
  resolve) cmd_resolve ;;
  install) cmd_install ;;
  run) cmd_run ;;
  *) die "usage: $0 resolve|install|run" ;;
esac
