#!/usr/bin/env bash
# Times llmstat against llmmd and against `jq -s` on one big file of llmtap
# records, whole processes on one core, and prints MB/s, ratios and peak RSS
# (the bars: llmstat at least llmmd's MB/s, with memory that does not grow
# with the input; at least 5x jq -s computing TTFB percentiles).
#
# Usage: scripts/bench-stat.sh [SIZE_MB]   (default 200; BENCH_FILE=path to reuse a file)
#
# The file is the record mix the llmmd measurement uses: the records of
# pkg/markdown/testdata (chat, streams, tools, Responses, Anthropic, Gemini,
# errors) repeated to SIZE_MB. Each tool runs twice; the best wall time
# counts. Without jq, its row is left out. Machines differ by 2-3x in
# absolute speed, and a shared machine is noisy: compare the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."

size_mb="${1:-200}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
file="${BENCH_FILE:-$work/records.jsonl}"

go build -o "$work/" ./cmd/llmstat ./cmd/llmmd

if [ ! -s "$file" ]; then
	cat pkg/markdown/testdata/*.jsonl >"$work/one.jsonl"
	target=$((size_mb * 1000 * 1000))
	: >"$file"
	while [ "$(stat -c %s "$file")" -lt "$target" ]; do
		cat "$work/one.jsonl" >>"$file"
	done
fi
bytes="$(stat -c %s "$file")"
lines="$(wc -l <"$file")"
echo "file: $((bytes / 1000000)) MB, $lines records (pkg/markdown/testdata repeated); one core, GOMAXPROCS=1"
cat "$file" >/dev/null # into the page cache

one_core=()
if command -v taskset >/dev/null; then
	one_core=(taskset -c 0)
fi
export GOMAXPROCS=1

# measure NAME CMD...: runs CMD twice on one core with stdout to /dev/null;
# prints the best wall time and the larger peak RSS.
measure() {
	local name="$1" best="" rss=0
	shift
	for _ in 1 2; do
		local out
		/usr/bin/time -o "$work/time" -f '%e %M' "${one_core[@]}" "$@" >/dev/null 2>"$work/stderr" || true
		out="$(tail -n 1 "$work/time")"
		local t="${out% *}" m="${out#* }"
		best="$(awk -v a="$t" -v b="$best" 'BEGIN { if (b == "" || a < b) print a; else print b }')"
		[ "$m" -gt "$rss" ] && rss="$m"
	done
	printf '%-34s %7.2fs %6.0f MB/s %7.1f MiB\n' "$name" "$best" "$(awk -v b="$bytes" -v t="$best" 'BEGIN { print b / 1e6 / t }')" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')"
	eval "t_${name//[^a-z]/_}=$best"
}

printf '%-34s %8s %11s %11s\n' tool wall speed "peak RSS"
measure llmmd "$work/llmmd" "$file"
measure llmstat "$work/llmstat" --by model "$file"
measure llmstat_rows "$work/llmstat" --rows "$file"
if command -v jq >/dev/null; then
	# The TTFB percentiles jq can compute: slurp every record, sort, pick.
	jqexpr='[.[] | .ttfb_ms | numbers] | sort | . as $s | [50, 90, 99] | map($s[((length * 0) + (($s | length) - 1) * . / 100 | floor)])'
	measure jq_s jq -s "$jqexpr" "$file"
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "llmstat --by model vs llmmd: $(ratio "$t_llmmd" "$t_llmstat")x llmmd's speed"
echo "llmstat --rows vs llmmd:     $(ratio "$t_llmmd" "$t_llmstat_rows")x llmmd's speed"
if [ -n "${t_jq_s:-}" ]; then
	echo "llmstat --by model vs jq -s: $(ratio "$t_jq_s" "$t_llmstat")x faster"
fi
