#!/usr/bin/env bash
# Times llmstat against llmmd and against `jq -s` on one big file of llmtap
# records, whole processes on one core, and prints MB/s, ratios and peak RSS
# (the bars: llmstat at least llmmd's MB/s, with memory that does not grow
# with the input; at least 5x jq -s computing TTFB percentiles).
#
# Usage: scripts/bench-stat.sh [SIZE_MB]   (default 200; BENCH_FILE=path to reuse a file;
#        RUNS=n runs of each tool, default 5)
#
# The file is the record mix the llmmd measurement uses: the records of
# pkg/markdown/testdata (chat, streams, tools, Responses, Anthropic, Gemini,
# errors) repeated to SIZE_MB. Each tool runs RUNS times (default 5), the
# tools taking turns, so that a burst of load from other processes hits
# them alike. The best CPU time (user+sys) and the best wall time count;
# the ratios are of CPU time, which the load of a shared machine disturbs
# least (a process waiting for the core uses none). Without jq, its row is
# left out. Machines differ by 2-3x in absolute speed: compare the ratios.
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
load="$(cut -d " " -f 1-3 /proc/loadavg)"

one_core=()
if command -v taskset >/dev/null; then
	one_core=(taskset -c 0)
fi
export GOMAXPROCS=1

runs="${RUNS:-5}"
jqexpr='[.[] | .ttfb_ms | numbers] | sort | . as $s | [50, 90, 99] | map($s[((length * 0) + (($s | length) - 1) * . / 100 | floor)])'
names=(llmmd llmstat llmstat_rows)
if command -v jq >/dev/null; then
	names+=(jq_s)
fi
declare -A cpu wall rss

# run NAME: runs the tool once on one core with stdout to /dev/null and
# keeps its best CPU and wall times and its largest peak RSS.
run() {
	local name="$1"
	local cmd
	case "$name" in
	llmmd) cmd=("$work/llmmd" "$file") ;;
	llmstat) cmd=("$work/llmstat" --by model "$file") ;;
	llmstat_rows) cmd=("$work/llmstat" --rows "$file") ;;
	# The TTFB percentiles jq can compute: slurp every record, sort, pick.
	jq_s) cmd=(jq -s "$jqexpr" "$file") ;;
	esac
	/usr/bin/time -o "$work/time" -f '%e %U %S %M' "${one_core[@]}" "${cmd[@]}" >/dev/null 2>"$work/stderr" || true
	read -r e u s m < <(tail -n 1 "$work/time")
	local c
	c="$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')"
	cpu[$name]="$(awk -v a="$c" -v b="${cpu[$name]:-}" 'BEGIN { if (b == "" || a < b) print a; else print b }')"
	wall[$name]="$(awk -v a="$e" -v b="${wall[$name]:-}" 'BEGIN { if (b == "" || a < b) print a; else print b }')"
	[ "$m" -gt "${rss[$name]:-0}" ] && rss[$name]="$m"
	return 0
}

for _ in $(seq "$runs"); do
	for name in "${names[@]}"; do
		run "$name"
	done
done

mbs() { awk -v b="$bytes" -v t="$1" 'BEGIN { if (t > 0) printf "%.0f", b / 1e6 / t; else print "inf" }'; }
echo "best of $runs runs each, taking turns; load average before: $load"
printf '%-14s %8s %9s %8s %9s %10s\n' tool "CPU s" "MB/s CPU" "wall s" "MB/s wall" "peak RSS"
for name in "${names[@]}"; do
	printf '%-14s %8.2f %9s %8.2f %9s %6.1f MiB\n' "$name" "${cpu[$name]}" "$(mbs "${cpu[$name]}")" \
		"${wall[$name]}" "$(mbs "${wall[$name]}")" "$(awk -v k="${rss[$name]}" 'BEGIN { print k / 1024 }')"
done

# ratio A B: how many times B's time A's is, "CPU, wall".
ratio() {
	awk -v a="${cpu[$1]}" -v b="${cpu[$2]}" -v c="${wall[$1]}" -v d="${wall[$2]}" \
		'BEGIN { printf "%.2fx (CPU), %.2fx (wall)", (b > 0 ? a / b : 0), (d > 0 ? c / d : 0) }'
}
echo
echo "llmstat --by model vs llmmd: $(ratio llmmd llmstat) llmmd's speed (bar: 1x)"
echo "llmstat --rows vs llmmd:     $(ratio llmmd llmstat_rows) llmmd's speed (bar: 1x)"
if [ -n "${cpu[jq_s]:-}" ]; then
	echo "llmstat --by model vs jq -s: $(ratio jq_s llmstat) faster (bar: 5x)"
fi
