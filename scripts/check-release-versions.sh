#!/usr/bin/env sh
# Refuses a release whose tag disagrees with the versions written in the tree:
# Cargo.toml (the binary's --version), scripts/action-run.sh's ACTION_VERSION (the
# binary the action downloads at a SHA or major-tag ref) and the GitLab
# component's default image tag. Usage: check-release-versions.sh vX.Y.Z
set -eu
cd "$(dirname "$0")/.."
tag="${1:?usage: $0 vX.Y.Z}"
want="${tag#v}"
cargo="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)"
action="$(sed -n 's/^ACTION_VERSION="\(.*\)"$/\1/p' scripts/action-run.sh)"
gitlab="$(sed -n 's|.*default: "*ghcr.io/layergate/layergate:\([^"]*\)"*$|\1|p' templates/layergate.yml | head -n1)"
ok=true
for pair in "Cargo.toml:$cargo" "scripts/action-run.sh ACTION_VERSION:$action" "templates/layergate.yml image:$gitlab"; do
  name="${pair%:*}"; got="${pair##*:}"
  if [ "$got" != "$want" ]; then
    echo "::error::$name says ${got:-nothing}, the tag says $want" >&2
    ok=false
  fi
done
$ok && echo "all versions are $want"
