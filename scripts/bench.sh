#!/bin/sh
# Build the benchmark and its Go targets into bin/, then run it.
# Usage: scripts/bench.sh [--quick] [--only direct,bareproxy,nginx,original,llmtap] [--duration 3s] [--conns 32] ...
# (scripts/bench.sh --help lists every flag). BENCHMARKS.md has a full run and the bars
# llmtap is held to.
set -eu
cd "$(dirname "$0")/.."
mkdir -p bin
go build -o bin/bench ./scripts/bench
go build -o bin/bareproxy ./scripts/bareproxy
skip=
if ls cmd/llmtap/*.go >/dev/null 2>&1; then
	# Never measure a stale bin/llmtap: if the build fails, the row is skipped.
	go build -o bin/llmtap ./cmd/llmtap || skip="--llmtap-skip=go build ./cmd/llmtap failed"
fi
exec bin/bench ${skip:+"$skip"} "$@"
