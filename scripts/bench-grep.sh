#!/usr/bin/env bash
# Times llmgrep against the equivalent `jq -c 'select(…)'` on one big file of
# llmtap records, on one core, and prints MB/s and the ratio (the bar: llmgrep
# at least 100 MB/s and at least 3x jq).
#
# Usage: scripts/bench-grep.sh [SIZE_MB]   (default 200; BENCH_FILE=path to reuse a file)
#
# The file is pkg/filter/testdata/records.jsonl (real llmtap records of
# every kind: chat, streams, tools, Responses, Anthropic, errors) repeated
# to SIZE_MB. Each row checks that both tools select the same number of
# records before it compares their times. jq cannot reassemble streams, so
# the text search has no jq row. Without jq, only llmgrep is timed.
set -euo pipefail
cd "$(dirname "$0")/.."

size_mb="${1:-200}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
file="${BENCH_FILE:-$work/records.jsonl}"

go build -o "$work/llmgrep" ./cmd/llmgrep
llmgrep="$work/llmgrep"

if [ ! -s "$file" ]; then
	src=pkg/filter/testdata/records.jsonl
	target=$((size_mb * 1000 * 1000))
	cp "$src" "$file"
	while [ "$(stat -c %s "$file")" -lt "$target" ]; do
		cat "$file" "$file" >"$work/double" && mv "$work/double" "$file"
	done
	head -c "$target" "$file" >"$work/cut" && sed '$d' "$work/cut" >"$file" && rm "$work/cut"
fi
bytes="$(stat -c %s "$file")"
lines="$(wc -l <"$file")"
echo "file: $file, $((bytes / 1000000)) MB, $lines records"

one_core=()
if command -v taskset >/dev/null; then
	one_core=(taskset -c 0)
fi
export GOMAXPROCS=1

have_jq=1
if ! command -v jq >/dev/null; then
	have_jq=0
	echo "jq not found (apt-get install jq): timing llmgrep alone, no ratio"
fi

# seconds CMD...: runs CMD on one core with output to /dev/null, prints the
# best wall time of two runs.
seconds() {
	local best=""
	for _ in 1 2; do
		local t0 t1
		t0="$(date +%s.%N)"
		"${one_core[@]}" "$@" >/dev/null
		t1="$(date +%s.%N)"
		best="$(awk -v a="$t0" -v b="$t1" -v best="$best" 'BEGIN { d = b - a; if (best == "" || d < best) best = d; printf "%.3f", best }')"
	done
	echo "$best"
}

row() {
	local name="$1" jqexpr="$2"
	shift 2
	local n_grep t_grep mbs
	n_grep="$("$llmgrep" -c "$@" "$file" || true)"
	t_grep="$(seconds "$llmgrep" "$@" "$file" || true)"
	mbs="$(awk -v b="$bytes" -v t="$t_grep" 'BEGIN { printf "%.0f", b / 1e6 / t }')"
	if [ "$have_jq" = 1 ] && [ -n "$jqexpr" ]; then
		local n_jq t_jq
		n_jq="$(jq -c "select($jqexpr)" "$file" | wc -l)"
		if [ "$n_jq" != "$n_grep" ]; then
			echo "MISMATCH $name: llmgrep selected $n_grep records, jq $n_jq" >&2
			exit 1
		fi
		t_jq="$(seconds jq -c "select($jqexpr)" "$file")"
		printf '%-22s %8s records  llmgrep %6.2fs %5s MB/s   jq %7.2fs   jq/llmgrep %5.1fx\n' \
			"$name" "$n_grep" "$t_grep" "$mbs" "$t_jq" "$(awk -v a="$t_jq" -v b="$t_grep" 'BEGIN { print a / b }')"
	else
		printf '%-22s %8s records  llmgrep %6.2fs %5s MB/s\n' "$name" "$n_grep" "$t_grep" "$mbs"
	fi
}

row "status >=400" '.response.status >= 400' --status '>=400'
row "model gpt-4o*" '(.request.body.model? // "") | strings | startswith("gpt-4o")' --model 'gpt-4o*'
row "error kind" '.error.kind == "client_cancelled"' --error=client_cancelled
row "id" '.id == "20260101T001200.000000Z-5eed01-000013"' --id 20260101T001200.000000Z-5eed01-000013
row "where temperature" '(.request.body.temperature? // null) | numbers | . > 0.5' --where 'request.body.temperature>0.5'
row "stream and 200" '.response.status == 200 and (.response.headers["content-type"] // "" | startswith("text/event-stream"))' --stream --status 200
row "text search" '' Paris
row "tool" '' --tool get_weather
