package filter_test

// The generator of testdata/records.jsonl: real llmtap records, made by
// running proxy.Tap in process in front of fakeupstream, one scenario at a
// time. Regenerate with
//
//	go test ./pkg/filter -run TestGenerateRecords -gen
//
// and review the diff. Only the start and end times and the ids are
// rewritten (to 2026-01-01T00:NN:00Z and a fixed process tag), so that the
// time and id filters have stable values to test; every duration, TTFB,
// timing tick, header and body is what the tap recorded.

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmtap/llmtap/internal/fakeupstream"
	"github.com/llmtap/llmtap/pkg/proxy"
	"github.com/llmtap/llmtap/pkg/record"
)

var gen = flag.Bool("gen", false, "regenerate testdata/records.jsonl by running llmtap against fakeupstream")

// genBase is the start time of the first generated record; record i starts
// i minutes later.
var genBase = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// scenario is one exchange of the generated file. Its index in scenarios
// is its line number minus one.
type scenario struct {
	name    string
	method  string // POST when empty
	path    string
	headers map[string]string
	body    string
	// cancelAfter, when > 0, makes the client read that many bytes of the
	// response body and then go away.
	cancelAfter int
	// tap picks the proxy: "" the normal one, "dead" an upstream that
	// refuses connections, "impatient" one with a 100 ms idle timeout.
	tap string
}

const (
	toolsOpenAI    = `[{"type":"function","function":{"name":"get_weather","description":"Weather for a city","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]`
	toolsAnthropic = `[{"name":"get_weather","description":"Weather for a city","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}]`
	toolsResponses = `[{"type":"function","name":"get_weather","description":"Weather for a city","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}]`
)

// scenarios are the exchanges of testdata/records.jsonl, in order. The
// filter tests name records by these names.
var scenarios = []scenario{
	{name: "chat", path: "/v1/chat/completions",
		body: `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello to the moon"}],"temperature":0.2}`},
	{name: "chat_stream", path: "/v1/chat/completions",
		body: `{"model":"gpt-4o","messages":[{"role":"user","content":"Tell me about the aurora borealis"}],"stream":true,"stream_options":{"include_usage":true},"temperature":0.9}`},
	{name: "chat_tools", path: "/v1/chat/completions",
		body: `{"model":"gpt-4o","messages":[{"role":"user","content":"What is the weather in Paris?"}],"tools":` + toolsOpenAI + `}`},
	{name: "chat_tools_stream", path: "/v1/chat/completions",
		body: `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Weather in Paris, please"}],"tools":` + toolsOpenAI + `,"stream":true}`},
	{name: "chat_tool_result", path: "/v1/chat/completions",
		body: `{"model":"gpt-4o","messages":[{"role":"user","content":"What is the weather in Paris?"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_fake_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},{"role":"tool","tool_call_id":"call_fake_1","content":"drizzle and 14 degrees"}],"tools":` + toolsOpenAI + `}`},
	// The tool's name is only ever written with a \u escape: a bytes
	// pre-check for "lookup_db" would miss it.
	{name: "chat_escaped_tool", path: "/v1/chat/completions",
		body: `{"model":"gpt-4.1","messages":[{"role":"user","content":"Find Paris in the db"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_9","type":"function","function":{"name":"lookup_\u0064b","arguments":"{\"q\":\"Paris\"}"}}]},{"role":"tool","tool_call_id":"call_9","content":"sunny, 21 \u00b0C"}],"tools":[{"type":"function","function":{"name":"lookup_\u0064b"}}]}`},
	{name: "chat_slow_stream", path: "/v1/chat/completions",
		headers: map[string]string{"X-Fake-Chunk-Delay": "50ms", "X-Fake-Chunks": "10"},
		body:    `{"model":"gpt-4o","messages":[{"role":"user","content":"Count slowly"}],"stream":true}`},
	{name: "chat_late_headers", path: "/v1/chat/completions",
		headers: map[string]string{"X-Gen-Delay": "300ms"},
		body:    `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Take your time"}]}`},
	{name: "chat_gzip_stream", path: "/v1/chat/completions",
		headers: map[string]string{"X-Fake-Gzip": "1"},
		body:    `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Compress this answer"}],"stream":true}`},
	{name: "completions", path: "/v1/completions",
		body: `{"model":"gpt-3.5-turbo-instruct","prompt":"Once upon a time","max_tokens":16}`},
	{name: "responses", path: "/v1/responses",
		body: `{"model":"o3-mini","input":"Explain tides in one line","reasoning":{"effort":"low"}}`},
	{name: "responses_stream", path: "/v1/responses",
		body: `{"model":"gpt-4.1","input":[{"role":"user","content":"Write a haiku about rain"}],"stream":true}`},
	{name: "responses_tools_stream", path: "/v1/responses",
		body: `{"model":"gpt-4.1","input":"Weather in Paris?","tools":` + toolsResponses + `,"stream":true}`},
	{name: "anthropic", path: "/v1/messages",
		headers: map[string]string{"X-Api-Key": "sk-ant-test-0000secret", "Anthropic-Version": "2023-06-01"},
		body:    `{"model":"claude-sonnet-4-5","max_tokens":256,"system":"Be kind.","messages":[{"role":"user","content":"Greet the ocean"}]}`},
	{name: "anthropic_tools_stream", path: "/v1/messages",
		headers: map[string]string{"X-Api-Key": "sk-ant-test-0000secret", "Anthropic-Version": "2023-06-01"},
		body:    `{"model":"claude-haiku-4-5","max_tokens":256,"messages":[{"role":"user","content":"Weather in Paris?"}],"tools":` + toolsAnthropic + `,"stream":true}`},
	{name: "anthropic_tool_result", path: "/v1/messages",
		headers: map[string]string{"X-Api-Key": "sk-ant-test-0000secret", "Anthropic-Version": "2023-06-01"},
		body:    `{"model":"claude-haiku-4-5","max_tokens":256,"messages":[{"role":"user","content":"Weather in Paris?"},{"role":"assistant","content":[{"type":"text","text":"Let me check."},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"fog, 9 degrees"}]}],"tools":` + toolsAnthropic + `}`},
	{name: "rate_limited", path: "/v1/chat/completions",
		headers: map[string]string{"X-Fake-Status": "429"},
		body:    `{"model":"gpt-4o","messages":[{"role":"user","content":"Too many of these"}]}`},
	{name: "server_error", path: "/v1/messages",
		headers: map[string]string{"X-Fake-Status": "500", "X-Api-Key": "sk-ant-test-0000secret"},
		body:    `{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"Break please"}]}`},
	{name: "not_found", path: "/v1/nothing/here",
		body: `{"model":"gpt-4o","ping":true}`},
	{name: "aborted_stream", path: "/v1/chat/completions",
		headers: map[string]string{"X-Fake-Abort-After": "3"},
		body:    `{"model":"gpt-4o","messages":[{"role":"user","content":"Stop halfway through"}],"stream":true}`},
	{name: "cancelled_stream", path: "/v1/chat/completions", cancelAfter: 1,
		headers: map[string]string{"X-Fake-Chunk-Delay": "100ms"},
		body:    `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"I will hang up on you"}],"stream":true}`},
	{name: "upstream_timeout", path: "/v1/chat/completions", tap: "impatient",
		headers: map[string]string{"X-Fake-Hang": "1"},
		body:    `{"model":"gpt-4o","messages":[{"role":"user","content":"Hello? Anyone?"}],"stream":true}`},
	{name: "unreachable", path: "/v1/chat/completions", tap: "dead",
		body: `{"model":"gpt-4o","messages":[{"role":"user","content":"Is the upstream down?"}]}`},
	{name: "models", method: "GET", path: "/v1/models"},
	{name: "embeddings", path: "/v1/embeddings",
		body: `{"model":"text-embedding-3-small","input":"vector me"}`},
	{name: "binary", method: "GET", path: "/v1/files/file-1/content",
		headers: map[string]string{"X-Fake-Binary": "64"}},
}

// genSink rewrites start, end and id to fixed values and encodes the
// record the way llmtap's LineSink does.
type genSink struct {
	mu    sync.Mutex
	lines [][]byte
}

func (s *genSink) Record(rec *record.Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.lines)
	d := rec.End.Sub(rec.Start)
	rec.Start = genBase.Add(time.Duration(n) * time.Minute)
	rec.End = rec.Start.Add(d)
	rec.ID = rec.Start.Format("20060102T150405.000000Z") + fmt.Sprintf("-5eed01-%06d", n+1)
	rec.Client = "127.0.0.1:50000"
	s.lines = append(s.lines, rec.AppendJSON(nil))
}

// delayHeaders lets a scenario make the upstream wait before it answers
// (X-Gen-Delay), so a record has a long time to first byte.
func delayHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d, err := time.ParseDuration(r.Header.Get("X-Gen-Delay")); err == nil {
			time.Sleep(d)
		}
		next.ServeHTTP(w, r)
	})
}

func TestGenerateRecords(t *testing.T) {
	if !*gen {
		t.Skip("run with -gen to regenerate testdata/records.jsonl")
	}
	up := httptest.NewServer(delayHeaders(fakeupstream.New(fakeupstream.Options{})))
	defer up.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close() // nothing listens there any more

	sink := &genSink{}
	quiet := log.New(io.Discard, "", 0)
	newTap := func(upstream string, idle time.Duration) (*proxy.Tap, *httptest.Server) {
		tap, err := proxy.New(proxy.Config{Upstream: upstream + "/v1", Sink: sink, IdleTimeout: idle, ErrorLog: quiet})
		if err != nil {
			t.Fatal(err)
		}
		return tap, httptest.NewServer(tap)
	}
	taps := map[string]*proxy.Tap{}
	fronts := map[string]*httptest.Server{}
	for name, cfg := range map[string]struct {
		url  string
		idle time.Duration
	}{"": {up.URL, 0}, "dead": {deadURL, 0}, "impatient": {up.URL, 100 * time.Millisecond}} {
		taps[name], fronts[name] = newTap(cfg.url, cfg.idle)
		defer fronts[name].Close()
	}

	for _, sc := range scenarios {
		runScenario(t, fronts[sc.tap].URL, sc)
		taps[sc.tap].Wait()
	}
	if len(sink.lines) != len(scenarios) {
		t.Fatalf("got %d records for %d scenarios", len(sink.lines), len(scenarios))
	}
	if err := os.WriteFile("testdata/records.jsonl", bytes.Join(sink.lines, nil), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runScenario sends one request through the tap at base as a client would.
func runScenario(t *testing.T, base string, sc scenario) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	method := sc.method
	if method == "" {
		method = http.MethodPost
	}
	var body io.Reader
	if sc.body != "" {
		body = strings.NewReader(sc.body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+sc.path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer sk-test-abcdefgh1234")
	req.Header.Set("User-Agent", "llmtap-gen/1")
	if sc.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range sc.headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", sc.name, err)
	}
	defer res.Body.Close()
	if sc.cancelAfter > 0 {
		if _, err := io.ReadFull(res.Body, make([]byte, sc.cancelAfter)); err != nil {
			t.Fatalf("%s: %v", sc.name, err)
		}
		cancel()
		return
	}
	_, _ = io.Copy(io.Discard, res.Body) // an aborted stream ends in an error: expected
}
