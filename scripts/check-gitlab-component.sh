#!/usr/bin/env sh
# Validates GitLab CI/CD component files against GitLab's CI schema. A component is
# two YAML documents (the `spec:` header, then the jobs) and check-jsonschema reads
# one document per file, so each is checked on its own. Needs check-jsonschema
# (pip install check-jsonschema; .ci/run installs it).
set -eu
status=0
for file in "$@"; do
  dir="$(mktemp -d)"
  awk -v dir="$dir" 'BEGIN { n = 1 } /^---[[:space:]]*$/ { n++; next } { print > (dir "/doc" n ".yml") }' "$file"
  for doc in "$dir"/doc*.yml; do
    if ! check-jsonschema --builtin-schema vendor.gitlab-ci "$doc"; then
      echo "$file: $(basename "$doc" .yml) does not match the GitLab CI schema" >&2
      status=1
    fi
  done
  rm -rf "$dir"
done
exit "$status"
