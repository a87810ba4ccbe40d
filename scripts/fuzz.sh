#!/usr/bin/env bash
# Runs every fuzz target in the module for a while each: scripts/fuzz.sh [DURATION].
# Crashers are written under the package's testdata/fuzz/FuzzX/; keep them in the corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
time="${1:-10s}"
for pkg in $(go list ./...); do
  for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    echo "== $pkg $target ($time)"
    go test -run='^$' -fuzz="^${target}\$" -fuzztime="$time" "$pkg"
  done
done
