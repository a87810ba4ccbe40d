#!/usr/bin/env bash
# demo.sh: what `make demo` runs. Offline: a fake upstream, llmtap in front of
# it, a few requests with curl, then the records llmtap wrote and (when
# bin/llmmd exists) their Markdown transcript and (when bin/llmstat exists)
# their serving metrics.
#
# Needs bin/llmtap and bin/mockupstream (make build), curl, and optionally jq.
# The binaries can be overridden with LLMTAP, LLMMD, LLMGREP, LLMSTAT,
# LLMREPLAY and MOCKUPSTREAM.
set -euo pipefail

cd "$(dirname "$0")/.."

LLMTAP=${LLMTAP:-bin/llmtap}
LLMMD=${LLMMD:-bin/llmmd}
LLMGREP=${LLMGREP:-bin/llmgrep}
LLMREPLAY=${LLMREPLAY:-bin/llmreplay}
LLMSTAT=${LLMSTAT:-bin/llmstat}
MOCKUPSTREAM=${MOCKUPSTREAM:-bin/mockupstream}
OUT=demo-out
RECORDS=$OUT/demo.jsonl

for bin in "$LLMTAP" "$MOCKUPSTREAM"; do
	if [[ ! -x $bin ]]; then
		echo "demo: $bin is missing; run make build first" >&2
		exit 1
	fi
done
command -v curl >/dev/null || { echo "demo: curl is required" >&2; exit 1; }

mkdir -p "$OUT"
rm -f "$RECORDS" "$OUT"/*.log

mock_pid=
mock2_pid=
tap_pid=
cleanup() {
	# Only the processes this script started, by pid.
	for pid in $tap_pid $mock_pid $mock2_pid; do
		kill "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_for_url LOG PREFIX PID: wait until the process writes
# "PREFIX: listening on URL" as its first stderr line, and print URL.
wait_for_url() {
	local log=$1 prefix=$2 pid=$3 line
	for _ in $(seq 100); do
		if line=$(head -n 1 "$log" 2>/dev/null) && [[ $line == "$prefix: listening on "* ]]; then
			echo "${line#"$prefix: listening on "}"
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	echo "demo: $prefix did not start; its stderr says:" >&2
	cat "$log" >&2
	return 1
}

echo "== starting =="
"$MOCKUPSTREAM" --addr 127.0.0.1:0 2>"$OUT/mockupstream.log" &
mock_pid=$!
upstream=$(wait_for_url "$OUT/mockupstream.log" mockupstream "$mock_pid")
echo "fake upstream: $upstream"

"$LLMTAP" --upstream "$upstream/v1" --port 0 -o "$RECORDS" 2>"$OUT/llmtap.log" &
tap_pid=$!
tap=$(wait_for_url "$OUT/llmtap.log" llmtap "$tap_pid")
echo "llmtap:        $tap (recording to $RECORDS)"

# call TITLE PATH [JSON [HEADER]]: one request through llmtap (a POST when
# there is a body), shown with its answer.
call() {
	local title=$1 path=$2 body=${3-} header=${4-}
	local args=(-sS --fail-with-body -H 'Authorization: Bearer sk-demo-0123456789abcdef')
	if [[ -n $header ]]; then
		args+=(-H "$header")
	fi
	echo
	echo "-- $title"
	if [[ -n $body ]]; then
		echo "POST $path"
		args+=(-H 'Content-Type: application/json' --data "$body")
	else
		echo "GET $path"
	fi
	if ! curl "${args[@]}" "$tap$path"; then
		echo "demo: the request failed; llmtap's stderr says:" >&2
		cat "$OUT/llmtap.log" >&2
		exit 1
	fi
	echo
}

echo
echo "== requests =="
call "a chat completion" /v1/chat/completions \
	'{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello to the world."}]}'

# The mock answers at once unless asked otherwise: 20 ms between the
# stream's events gives llmstat a time to first token and between tokens
# worth reading (a replay sends the same header, so the same pace).
call "the same, streamed (server-sent events), 20 ms between events" /v1/chat/completions \
	'{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Say hello, slowly."}]}' \
	'X-Fake-Chunk-Delay: 20ms'

tools='[{"type":"function","function":{"name":"get_weather","description":"Current weather in a city.","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]'
call "a chat offering the get_weather tool: the model calls it" /v1/chat/completions \
	'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"What is the weather in Paris?"}],"tools":'"$tools"'}'

call "the next turn, with the tool result" /v1/chat/completions \
	'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"What is the weather in Paris?"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_fake_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},{"role":"tool","tool_call_id":"call_fake_1","content":"{\"temp_c\":18,\"sky\":\"sunny\"}"}],"tools":'"$tools"'}'

call "the model list" /v1/models

echo
echo "== stopping =="
kill -TERM "$tap_pid"
status=0
wait "$tap_pid" || status=$?
tap_pid=
if [[ $status -ne 0 ]]; then
	echo "demo: llmtap exited with status $status; its stderr says:" >&2
	cat "$OUT/llmtap.log" >&2
	exit 1
fi
kill -TERM "$mock_pid"
wait "$mock_pid" || true
mock_pid=
echo "llmtap wrote $(wc -l <"$RECORDS") records to $RECORDS"

echo
echo "== records ($RECORDS) =="
echo "(one JSON line per exchange; try: jq '.response.status' $RECORDS)"
if command -v jq >/dev/null; then
	jq -c . "$RECORDS"
else
	cat "$RECORDS"
fi

# The demo ends with the transcript: each exchange once, threaded (the tool
# result links back to the call), as `llmtap | llmmd` would show it live.
if [[ -x $LLMMD ]]; then
	echo
	echo "== transcript ($LLMMD $RECORDS, also in $OUT/demo.md) =="
	"$LLMMD" "$RECORDS" | tee "$OUT/demo.md"
else
	echo
	echo "demo: $LLMMD is missing, so no transcript; run make build" >&2
fi

# Then the numbers: TTFT, TPOT, ITL, latency and tokens per model, as
# `llmstat raw.jsonl` reports them for any recorded traffic; llmgrep picks
# the chat completions (the model list is not a model's answer).
if [[ -x $LLMSTAT && -x $LLMGREP ]]; then
	echo
	echo "== serving metrics ($LLMGREP --path '*/chat/completions' $RECORDS | $LLMSTAT) =="
	"$LLMGREP" --path '*/chat/completions' "$RECORDS" | "$LLMSTAT"
else
	echo
	echo "demo: $LLMSTAT or $LLMGREP is missing, so no metrics; run make build" >&2
fi

# Then the records become a test: the same requests sent again to a fresh
# mock upstream, ten times faster and one at a time, recorded the same way,
# and compared. Ten times faster, the requests after the stream are due
# while it still runs: they wait for the one slot, and their records say so
# (replay.lag_ms, replay.queued_ms).
if [[ -x $LLMREPLAY ]]; then
	REPLAYED=$OUT/replay.jsonl
	rm -f "$REPLAYED"
	echo
	echo "== replay ($LLMREPLAY --speed 10 --concurrency 1, to a fresh mock upstream, recording to $REPLAYED) =="
	"$MOCKUPSTREAM" --addr 127.0.0.1:0 2>"$OUT/mockupstream2.log" &
	mock2_pid=$!
	upstream2=$(wait_for_url "$OUT/mockupstream2.log" mockupstream "$mock2_pid")
	"$LLMREPLAY" --target "$upstream2/v1" --speed 10 --concurrency 1 \
		-H 'Authorization: Bearer sk-demo-0123456789abcdef' -o "$REPLAYED" "$RECORDS"
	kill -TERM "$mock2_pid"
	wait "$mock2_pid" || true
	mock2_pid=
	if command -v jq >/dev/null; then
		echo "(each record says which one it repeats, and how it kept to the schedule)"
		jq -c '{id, status: .response.status, replay}' "$REPLAYED"
	fi
	if [[ -x $LLMSTAT ]]; then
		echo
		echo "== comparison ($LLMSTAT --baseline $RECORDS $REPLAYED) =="
		"$LLMSTAT" --baseline "$RECORDS" "$REPLAYED"
		# The same mock answers as fast as before, but the replay kept two
		# requests waiting: measured from when they were due (wrk2's
		# correction), their latency says so.
		if command -v jq >/dev/null; then
			echo "== end-to-end latency of the replay, from the send and from the schedule ($LLMSTAT [--from-schedule] --by none --json $REPLAYED | jq) =="
			for from in "" --from-schedule; do
				printf '%-16s' "${from:-(from the send)}"
				"$LLMSTAT" ${from:+"$from"} --by none --json "$REPLAYED" | jq -c '{median_e2el_ms, p99_e2el_ms, max_e2el_ms}'
			done
		fi
	fi
else
	echo
	echo "demo: $LLMREPLAY is missing, so no replay; run make build" >&2
fi
