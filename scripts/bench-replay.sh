#!/bin/sh
# Measure llmreplay against its bars: open-loop
# accuracy at --rate 1000, peak rate at --concurrency 32 against vegeta, and
# RSS with 1,000 slow streams in flight. About a minute on 2 cores.
# Usage: scripts/bench-replay.sh [--rate-duration 10s] [--only rate,peak,streams] ...
# (scripts/bench-replay.sh -help lists every flag).
set -eu
cd "$(dirname "$0")/.."
mkdir -p bin
go build -o bin/llmreplay ./cmd/llmreplay
go build -o bin/benchreplay ./scripts/benchreplay
# vegeta from the Go module proxy, at a fixed version, for the peak-rate comparison.
if [ ! -x bin/vegeta ]; then
	GOBIN="$PWD/bin" go install github.com/tsenart/vegeta/v12@v12.13.0 || echo "bench-replay: could not install vegeta; the peak rate is not compared" >&2
fi
exec bin/benchreplay "$@"
