package proxy_test

// The tests in this file use the official OpenAI and Anthropic Go SDKs as real
// clients of a real llmtap listener, and make the same calls straight to the
// upstream: what an SDK makes of an answer must not depend on whether llmtap
// sits in the middle, and every exchange must leave exactly one faithful,
// secret-free record.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"

	"github.com/llmtap/llmtap/internal/fakeupstream"
	"github.com/llmtap/llmtap/pkg/proxy"
	"github.com/llmtap/llmtap/pkg/record"
	"github.com/llmtap/llmtap/pkg/redact"
)

// The API keys the SDKs send. Long enough that a record may keep their last
// four characters, and with a middle part that must never appear in a record.
const (
	sdkOpenAIKey    = "sk-test-0123456789abcdef-long-secret-openai-K3yZ"
	sdkAnthropicKey = "sk-ant-test-0123456789abcdef-long-secret-anthropic-An7q"
	sdkToolArgs     = `{"city":"Paris"}`
	sdkToolResult   = "18 degrees and sunny"
)

// sdkLines is a Sink that encodes each record as llmtap writes it and keeps
// the lines.
type sdkLines struct {
	mu    sync.Mutex
	lines [][]byte
}

func (s *sdkLines) Record(rec *record.Record) {
	line := rec.AppendJSON(nil)
	s.mu.Lock()
	s.lines = append(s.lines, line)
	s.mu.Unlock()
}

func (s *sdkLines) snapshot() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.lines...)
}

// seenRequest is a request as the fake upstream received it.
type seenRequest struct {
	method, path, query string
	header              http.Header
	body                []byte
	protoMajor          int
}

// sdkEnv is a fake upstream, a tap in front of it, and what both saw.
type sdkEnv struct {
	upstream *httptest.Server
	front    *httptest.Server
	tap      *proxy.Tap
	sink     *sdkLines

	mu   sync.Mutex
	seen []seenRequest
	raw  *http.Client // fetches from the upstream directly, wire bytes
}

// newSDKEnv starts a fake upstream and a tap in front of it. wrap, if not
// nil, wraps the fake upstream's handler.
func newSDKEnv(t *testing.T, wrap func(http.Handler) http.Handler) *sdkEnv {
	return newSDKEnvTLS(t, wrap, false)
}

// newSDKEnvTLS is newSDKEnv with, when h2 is set, an upstream that speaks
// HTTP/2 over TLS, as real ones do; the tap's transport trusts its
// certificate.
func newSDKEnvTLS(t *testing.T, wrap func(http.Handler) http.Handler, h2 bool) *sdkEnv {
	t.Helper()
	e := &sdkEnv{sink: &sdkLines{}, raw: sdkRawClient}
	if wrap == nil {
		wrap = func(h http.Handler) http.Handler { return h }
	}
	e.upstream = httptest.NewUnstartedServer(wrap(fakeupstream.New(fakeupstream.Options{
		Seen: func(r *http.Request, body []byte) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.seen = append(e.seen, seenRequest{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body, r.ProtoMajor})
		},
	})))
	var transport http.RoundTripper
	if h2 {
		e.upstream.EnableHTTP2 = true
		e.upstream.StartTLS()
		pool := x509.NewCertPool()
		pool.AddCert(e.upstream.Certificate())
		tr := proxy.NewTransport(10 * time.Second)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
		t.Cleanup(tr.CloseIdleConnections)
		transport = tr
		direct := e.upstream.Client().Transport.(*http.Transport).Clone()
		direct.DisableCompression = true
		e.raw = &http.Client{Transport: direct}
	} else {
		e.upstream.Start()
	}
	t.Cleanup(e.upstream.Close)
	tap, err := proxy.New(proxy.Config{
		Upstream:    e.upstream.URL + "/v1",
		Sink:        e.sink,
		Transport:   transport,
		IdleTimeout: 10 * time.Second,
		ErrorLog:    log.New(testLogWriter{t}, "llmtap: ", 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.tap = tap
	e.front = httptest.NewServer(tap)
	t.Cleanup(e.front.Close)
	return e
}

// testLogWriter sends the tap's own log lines to the test log. Every
// exchange ends before its test does (records waits for them).
type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// takeSeen returns the requests the upstream has received since the last call.
func (e *sdkEnv) takeSeen() []seenRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.seen
	e.seen = nil
	return s
}

// sdkClients are both SDKs' clients, pointed at the tap or at the upstream.
type sdkClients struct {
	openai    openai.Client
	anthropic anthropic.Client
}

// clients returns SDK clients that reach the upstream through the tap
// (viaTap) or directly. headers are sent with every request (fault knobs).
func (e *sdkEnv) clients(viaTap bool, headers map[string]string) sdkClients {
	hc := sdkHTTPClient
	base := e.upstream.URL
	if viaTap {
		base = e.front.URL
	}
	oopts := []option.RequestOption{option.WithBaseURL(base + "/v1/"), option.WithAPIKey(sdkOpenAIKey), option.WithMaxRetries(0),
		option.WithHTTPClient(hc)}
	aopts := []aoption.RequestOption{aoption.WithBaseURL(base), aoption.WithAPIKey(sdkAnthropicKey), aoption.WithMaxRetries(0),
		aoption.WithHTTPClient(hc)}
	for k, v := range headers {
		oopts = append(oopts, option.WithHeader(k, v))
		aopts = append(aopts, aoption.WithHeader(k, v))
	}
	return sdkClients{openai: openai.NewClient(oopts...), anthropic: anthropic.NewClient(aopts...)}
}

// sdkHTTPClient is the HTTP client the SDKs use in these tests; like the
// SDKs' own default, it closes a body as soon as the SDK is done with it
// (openai-go does so at "data: [DONE]", possibly before the end of the body
// has reached the tap; see TestSDKStreamClosedAfterLastEventIsComplete).
var sdkHTTPClient = &http.Client{Transport: http.DefaultTransport}

// records waits until the tap has written the record of every exchange it
// has started, then returns the lines.
func (e *sdkEnv) records(t *testing.T, want int) [][]byte {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(e.sink.snapshot()) < want && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	// Any exchange still running writes its record before Wait returns.
	done := make(chan struct{})
	go func() { e.tap.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Until(deadline) + time.Second):
		t.Fatal("the tap still has an exchange in flight")
	}
	lines := e.sink.snapshot()
	if len(lines) != want {
		t.Fatalf("got %d records, want %d:\n%s", len(lines), want, bytes.Join(lines, nil))
	}
	return lines
}

// sdkOutcome is what an SDK call gave its caller, in comparable form.
type sdkOutcome struct {
	// raw is the RawJSON of the parsed result, or of each streamed event in
	// order.
	raw []string
	// parsed is the parsed (or accumulated) result encoded again as JSON.
	parsed string
	// toolCall is the id, name and arguments of the tool call, if any.
	toolCall [3]string
	// text is the answer's text.
	text string
	err  error
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode %T: %v", v, err)
	}
	return string(b)
}

var sdkWeatherTool = openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
	Name: "get_weather",
	Parameters: shared.FunctionParameters{
		"type":       "object",
		"properties": map[string]any{"city": map[string]any{"type": "string"}},
	},
})

// openAIChatParams asks for the weather with get_weather offered; with
// toolResult, the conversation goes on with the tool's answer.
func openAIChatParams(toolResult bool) openai.ChatCompletionNewParams {
	p := openai.ChatCompletionNewParams{
		Model:    "gpt-4o",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What is the weather in Paris?")},
		Tools:    []openai.ChatCompletionToolUnionParam{sdkWeatherTool},
	}
	if toolResult {
		p.Messages = append(p.Messages,
			openai.ChatCompletionMessageParamUnion{OfAssistant: &openai.ChatCompletionAssistantMessageParam{
				ToolCalls: []openai.ChatCompletionMessageToolCallUnionParam{{
					OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{
						ID:       "call_fake_1",
						Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: "get_weather", Arguments: sdkToolArgs},
					},
				}},
			}},
			openai.ToolMessage(sdkToolResult, "call_fake_1"))
		p.StreamOptions.IncludeUsage = openai.Bool(true)
	}
	return p
}

func openAIChat(params openai.ChatCompletionNewParams) func(*testing.T, sdkClients) sdkOutcome {
	return func(t *testing.T, c sdkClients) sdkOutcome {
		res, err := c.openai.Chat.Completions.New(context.Background(), params)
		if err != nil {
			return sdkOutcome{err: err}
		}
		out := sdkOutcome{raw: []string{res.RawJSON()}, parsed: mustJSON(t, res)}
		if len(res.Choices) > 0 {
			m := res.Choices[0].Message
			out.text = m.Content
			if len(m.ToolCalls) > 0 {
				out.toolCall = [3]string{m.ToolCalls[0].ID, m.ToolCalls[0].Function.Name, m.ToolCalls[0].Function.Arguments}
			}
		}
		return out
	}
}

// openAIChatStream accumulates a streamed chat completion with the SDK's
// ChatCompletionAccumulator. The tool call is the one the accumulator
// reports as just finished, checked against the accumulated message.
func openAIChatStream(params openai.ChatCompletionNewParams) func(*testing.T, sdkClients) sdkOutcome {
	return func(t *testing.T, c sdkClients) sdkOutcome {
		s := c.openai.Chat.Completions.NewStreaming(context.Background(), params)
		defer s.Close()
		var acc openai.ChatCompletionAccumulator
		var out sdkOutcome
		var finished []openai.FinishedChatCompletionToolCall
		for s.Next() {
			chunk := s.Current()
			out.raw = append(out.raw, chunk.RawJSON())
			if !acc.AddChunk(chunk) {
				t.Fatalf("the accumulator rejected chunk %s", chunk.RawJSON())
			}
			if tc, ok := acc.JustFinishedToolCall(); ok {
				finished = append(finished, tc)
			}
		}
		out.err = s.Err()
		out.parsed = mustJSON(t, acc.ChatCompletion)
		if len(acc.Choices) > 0 {
			m := acc.Choices[0].Message
			out.text = m.Content
			if len(m.ToolCalls) > 0 {
				out.toolCall = [3]string{m.ToolCalls[0].ID, m.ToolCalls[0].Function.Name, m.ToolCalls[0].Function.Arguments}
			}
		}
		if out.err == nil && len(finished) > 0 {
			f := finished[0]
			if got := [3]string{f.ID, f.Name, f.Arguments}; len(finished) != 1 || got != out.toolCall {
				t.Errorf("finished tool calls %+v, accumulated %q", finished, out.toolCall)
			}
		}
		return out
	}
}

func openAIEmbedding(t *testing.T, c sdkClients) sdkOutcome {
	res, err := c.openai.Embeddings.New(context.Background(), openai.EmbeddingNewParams{
		Model: "text-embedding-3-small",
		Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"Héllo wörld ☀️", "weather in Paris"}},
	})
	if err != nil {
		return sdkOutcome{err: err}
	}
	return sdkOutcome{raw: []string{res.RawJSON()}, parsed: mustJSON(t, res)}
}

func anthropicParams() anthropic.MessageNewParams {
	return anthropic.MessageNewParams{
		Model:     "claude-sonnet-4-5",
		MaxTokens: 256,
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("What is the weather in Paris?"))},
		Tools: []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{
			Name:        "get_weather",
			InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{"city": map[string]any{"type": "string"}}},
		}}},
	}
}

// anthropicSummary fills the text and the tool_use block of a message.
func anthropicSummary(out *sdkOutcome, m anthropic.Message) {
	for _, b := range m.Content {
		switch b.Type {
		case "text":
			out.text += b.Text
		case "tool_use":
			out.toolCall = [3]string{b.ID, b.Name, string(b.Input)}
		}
	}
}

func anthropicMessage(t *testing.T, c sdkClients) sdkOutcome {
	m, err := c.anthropic.Messages.New(context.Background(), anthropicParams())
	if err != nil {
		return sdkOutcome{err: err}
	}
	out := sdkOutcome{raw: []string{m.RawJSON()}, parsed: mustJSON(t, m)}
	anthropicSummary(&out, *m)
	return out
}

func anthropicStream(t *testing.T, c sdkClients) sdkOutcome {
	s := c.anthropic.Messages.NewStreaming(context.Background(), anthropicParams())
	defer s.Close()
	var m anthropic.Message
	var out sdkOutcome
	for s.Next() {
		ev := s.Current()
		out.raw = append(out.raw, ev.RawJSON())
		if err := m.Accumulate(ev); err != nil {
			t.Fatalf("accumulate %s: %v", ev.RawJSON(), err)
		}
	}
	out.err = s.Err()
	out.parsed = mustJSON(t, m)
	anthropicSummary(&out, m)
	return out
}

// sdkCase is one SDK call; check looks at what came back (through the tap).
type sdkCase struct {
	name    string
	headers map[string]string
	call    func(*testing.T, sdkClients) sdkOutcome
	check   func(*testing.T, sdkOutcome)
}

func wantToolCall(id string) func(*testing.T, sdkOutcome) {
	return func(t *testing.T, o sdkOutcome) {
		t.Helper()
		if want := [3]string{id, "get_weather", sdkToolArgs}; o.toolCall != want {
			t.Errorf("tool call %q, want %q", o.toolCall, want)
		}
	}
}

func wantTextUsingToolResult(t *testing.T, o sdkOutcome) {
	t.Helper()
	if !strings.Contains(o.text, sdkToolResult) || !strings.Contains(o.text, "wörld ☀️") || o.toolCall != [3]string{} {
		t.Errorf("text %q, tool call %q: want a text answer quoting the tool result", o.text, o.toolCall)
	}
}

func wantEmbeddings(t *testing.T, o sdkOutcome) {
	t.Helper()
	var res struct {
		Data []struct {
			Embedding []float64 `json:"embedding"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(o.raw[0]), &res); err != nil || len(res.Data) != 2 || len(res.Data[1].Embedding) != 8 {
		t.Errorf("embeddings %s (%v)", o.raw[0], err)
	}
}

func wantAnthropicToolUse(t *testing.T, o sdkOutcome) {
	t.Helper()
	wantToolCall("toolu_fake_1")(t, o)
	if !strings.Contains(o.text, "get_weather") {
		t.Errorf("text %q", o.text)
	}
}

var sdkCases = []sdkCase{
	{name: "OpenAIChatToolCall", call: openAIChat(openAIChatParams(false)), check: wantToolCall("call_fake_1")},
	{name: "OpenAIChatStreamToolCall", call: openAIChatStream(openAIChatParams(false)), check: wantToolCall("call_fake_1")},
	{name: "OpenAIChatToolResult", call: openAIChat(openAIChatParams(true)), check: wantTextUsingToolResult},
	{name: "OpenAIChatStreamToolResult", call: openAIChatStream(openAIChatParams(true)), check: wantTextUsingToolResult},
	{
		name: "OpenAIChatStreamToolResultSplitDeltas", headers: map[string]string{"X-Fake-Chunks": "40"},
		call: openAIChatStream(openAIChatParams(true)), check: wantTextUsingToolResult,
	},
	{name: "OpenAIEmbedding", call: openAIEmbedding, check: wantEmbeddings},
	{name: "AnthropicMessageToolUse", call: anthropicMessage, check: wantAnthropicToolUse},
	{name: "AnthropicStreamToolUse", call: anthropicStream, check: wantAnthropicToolUse},
	{
		// The SDK sends its key as "Authorization: Bearer"; Anthropic's own
		// API takes it as X-Api-Key, so send it that way too.
		name: "AnthropicMessageToolUseXAPIKey", headers: map[string]string{"X-Api-Key": sdkAnthropicKey},
		call: anthropicMessage, check: wantAnthropicToolUse,
	},
}

// TestSDKSameThroughTap makes each SDK call through the tap and directly,
// requires the same result, and checks the one record it left.
func TestSDKSameThroughTap(t *testing.T) {
	for _, tc := range sdkCases {
		t.Run(tc.name, func(t *testing.T) {
			e := newSDKEnv(t, nil)
			via := tc.call(t, e.clients(true, tc.headers))
			if via.err != nil {
				t.Fatalf("through the tap: %v", via.err)
			}
			lines := e.records(t, 1)
			seen := e.takeSeen()
			if len(seen) != 1 {
				t.Fatalf("the upstream got %d requests through the tap, want 1", len(seen))
			}

			direct := tc.call(t, e.clients(false, tc.headers))
			if direct.err != nil {
				t.Fatalf("direct: %v", direct.err)
			}
			sameOutcome(t, via, direct)
			tc.check(t, via)

			r := checkSDKRecord(t, e, lines[0], seen[0], sdkKey(tc.name))
			if r.Error != nil {
				t.Errorf("a complete exchange has an error: %s", lines[0])
			}
			if r.Response.Status != http.StatusOK {
				t.Errorf("status %d", r.Response.Status)
			}
			if len(e.sink.snapshot()) != 1 {
				t.Errorf("the direct call left a record")
			}
		})
	}
}

// TestSDKStreamAbortedUpstream: an upstream that cuts a stream after three
// events makes the SDK's stream fail (not end cleanly) through the tap just
// as it does directly, and the record says upstream_aborted and keeps the
// part that arrived.
func TestSDKStreamAbortedUpstream(t *testing.T) {
	const abortAfter = 3
	cases := []struct {
		name string
		call func(*testing.T, sdkClients) sdkOutcome
		// sdkEvents is how many of the events sent before the cut the SDK
		// yields (Anthropic's SDK drops "ping").
		sdkEvents int
	}{
		{"OpenAIChatStream", openAIChatStream(openAIChatParams(false)), 3},
		{"AnthropicStream", anthropicStream, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newSDKEnv(t, nil)
			knobs := map[string]string{"X-Fake-Abort-After": fmt.Sprint(abortAfter)}
			via := tc.call(t, e.clients(true, knobs))
			if via.err == nil {
				t.Fatalf("through the tap the cut stream ended cleanly after %d events", len(via.raw))
			}
			lines := e.records(t, 1)
			seen := e.takeSeen()
			if len(seen) != 1 {
				t.Fatalf("the upstream got %d requests through the tap, want 1", len(seen))
			}
			direct := tc.call(t, e.clients(false, knobs))
			if direct.err == nil {
				t.Fatalf("directly the cut stream ended cleanly")
			}
			if len(via.raw) != tc.sdkEvents {
				t.Errorf("the SDK got %d events before the error, want %d", len(via.raw), tc.sdkEvents)
			}
			if !equalStrings(via.raw, direct.raw) {
				t.Errorf("events before the cut differ:\nvia tap %q\ndirect  %q", via.raw, direct.raw)
			}
			t.Logf("stream error through the tap: %v; direct: %v", via.err, direct.err)

			r := checkSDKRecord(t, e, lines[0], seen[0], sdkKey(tc.name))
			if r.Error == nil || r.Error.Kind != record.KindUpstreamAborted || r.Error.Message == "" {
				t.Errorf("error %+v, want kind %s", r.Error, record.KindUpstreamAborted)
			}
			if body := r.Response.bytes(t); bytes.Count(body, []byte("data: ")) != abortAfter {
				t.Errorf("recorded partial body holds %d events, want %d: %q",
					bytes.Count(body, []byte("data: ")), abortAfter, body)
			}
		})
	}
}

// sdkKey is the API key the case's SDK sends.
func sdkKey(caseName string) string {
	if strings.HasPrefix(caseName, "Anthropic") {
		return sdkAnthropicKey
	}
	return sdkOpenAIKey
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// sameOutcome requires two SDK results to be the same.
func sameOutcome(t *testing.T, via, direct sdkOutcome) {
	t.Helper()
	if len(via.raw) == 0 || !equalStrings(via.raw, direct.raw) {
		t.Errorf("raw JSON differs:\nvia tap %q\ndirect  %q", via.raw, direct.raw)
	}
	if via.parsed != direct.parsed {
		t.Errorf("parsed result differs:\nvia tap %s\ndirect  %s", via.parsed, direct.parsed)
	}
	if via.toolCall != direct.toolCall || via.text != direct.text {
		t.Errorf("via tap: tool call %q, text %q\ndirect:  tool call %q, text %q", via.toolCall, via.text, direct.toolCall, direct.text)
	}
}

// sdkRecord is a decoded record, for assertions.
type sdkRecord struct {
	V       int       `json:"v"`
	ID      string    `json:"id"`
	Method  string    `json:"method"`
	Path    string    `json:"path"`
	Up      string    `json:"upstream_url"`
	Request sdkPart   `json:"request"`
	Resp    *sdkPart  `json:"response"`
	Error   *sdkError `json:"error"`
	// Response is Resp, never nil once checkSDKRecord has returned.
	Response sdkPart `json:"-"`
}

type sdkError struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

type sdkPart struct {
	Status       int               `json:"status"`
	Headers      map[string]string `json:"headers"`
	Body         json.RawMessage   `json:"body"`
	BodyEncoding string            `json:"body_encoding"`
	BodyBytes    int64             `json:"body_bytes"`
}

// bytes returns the recorded body as bytes (a json body as its compact text).
func (p sdkPart) bytes(t *testing.T) []byte {
	t.Helper()
	switch p.BodyEncoding {
	case "":
		return nil
	case record.EncodingJSON:
		return p.Body
	case record.EncodingText, record.EncodingBase64:
		var s string
		if err := json.Unmarshal(p.Body, &s); err != nil {
			t.Fatalf("%s body is not a JSON string: %v", p.BodyEncoding, err)
		}
		if p.BodyEncoding == record.EncodingText {
			return []byte(s)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("base64 body: %v", err)
		}
		return b
	}
	t.Fatalf("unknown body_encoding %q", p.BodyEncoding)
	return nil
}

// compactIfJSON returns b as a json body is recorded: compacted.
func compactIfJSON(t *testing.T, encoding string, b []byte) []byte {
	t.Helper()
	if encoding != record.EncodingJSON {
		return b
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatalf("a body recorded as json is not JSON: %v", err)
	}
	return out.Bytes()
}

// sdkRawClient fetches wire bytes: no transparent decompression.
var sdkRawClient = &http.Client{Transport: &http.Transport{DisableCompression: true}}

// replay sends the request the upstream saw straight to the upstream again
// and returns the status and the bytes it answered (up to a cut, if any).
func replay(t *testing.T, e *sdkEnv, s seenRequest) (int, []byte, error) {
	t.Helper()
	u := e.upstream.URL + s.path
	if s.query != "" {
		u += "?" + s.query
	}
	req, err := http.NewRequest(s.method, u, bytes.NewReader(s.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = s.header.Clone()
	res, err := e.raw.Do(req)
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// checkSDKRecord checks one record line: one line of valid JSON, the request
// body the upstream got, the response bytes the upstream sends for that
// request, and no trace of the API key.
func checkSDKRecord(t *testing.T, e *sdkEnv, line []byte, seen seenRequest, key string) sdkRecord {
	t.Helper()
	if bytes.IndexByte(line, '\n') != len(line)-1 {
		t.Fatalf("record is not one line: %q", line)
	}
	if !json.Valid(line) {
		t.Fatalf("record is not valid JSON: %s", line)
	}
	var r sdkRecord
	if err := json.Unmarshal(line, &r); err != nil {
		t.Fatalf("record: %v\n%s", err, line)
	}
	if r.V != record.Version || r.ID == "" || r.Method != seen.method || r.Path != seen.path {
		t.Errorf("record v %d id %q %s %s; upstream saw %s %s", r.V, r.ID, r.Method, r.Path, seen.method, seen.path)
	}

	// The API key: nowhere, not even in part; only its masked form.
	for _, secret := range []string{key, strings.TrimSuffix(key, key[len(key)-4:]), "long-secret"} {
		if bytes.Contains(line, []byte(secret)) {
			t.Errorf("record holds the API key (%q): %s", secret, line)
		}
	}
	// Each header that carried the key is recorded with only its scheme word
	// and the key's last four characters.
	carried := 0
	for name, values := range seen.header {
		v := strings.Join(values, ", ")
		if !strings.Contains(v, key) {
			continue
		}
		carried++
		want := strings.ReplaceAll(v, key, redact.Marker+"…"+key[len(key)-4:])
		if got := r.Request.Headers[strings.ToLower(name)]; got != want {
			t.Errorf("request header %s recorded as %q, want %q", strings.ToLower(name), got, want)
		}
	}
	if carried == 0 {
		t.Errorf("no header the upstream got carried the SDK's key: %v", seen.header)
	}

	// The request as the upstream received it.
	if got, want := r.Request.bytes(t), compactIfJSON(t, r.Request.BodyEncoding, seen.body); !bytes.Equal(got, want) {
		t.Errorf("recorded request body\n%s\nupstream got\n%s", got, want)
	}
	if r.Request.BodyBytes != int64(len(seen.body)) {
		t.Errorf("request body_bytes %d, upstream got %d", r.Request.BodyBytes, len(seen.body))
	}

	// The response: the bytes the upstream sends for that same request.
	if r.Resp == nil {
		t.Fatalf("no response in record: %s", line)
	}
	r.Response = *r.Resp
	status, wire, cut := replay(t, e, seen)
	if r.Response.Status != status {
		t.Errorf("recorded status %d, upstream answers %d", r.Response.Status, status)
	}
	if (r.Error != nil) != (cut != nil) {
		t.Errorf("record error %+v, but reading the upstream directly: %v", r.Error, cut)
	}
	if got, want := r.Response.bytes(t), compactIfJSON(t, r.Response.BodyEncoding, wire); !bytes.Equal(got, want) {
		t.Errorf("recorded response body (%s)\n%q\nupstream sends\n%q", r.Response.BodyEncoding, got, want)
	}
	if r.Response.BodyBytes != int64(len(wire)) {
		t.Errorf("response body_bytes %d, upstream sends %d", r.Response.BodyBytes, len(wire))
	}
	return r
}

// TestSDKStreamClosedAfterLastEventIsComplete: openai-go stops reading a
// stream at "data: [DONE]" and closes the body at once (its Stream.Next
// calls Close). An upstream that has sent every event and ends the chunked
// body a moment later (here 20 ms) has answered completely, and the client
// has all of it; the record must not call that exchange an error. The tap
// gives the upstream clientGoneGrace after the client leaves, so the read
// waiting for the end of the body completes. anthropic-sdk-go reads a stream
// to its end, so it is not affected.
func TestSDKStreamClosedAfterLastEventIsComplete(t *testing.T) {
	slowEnd := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r) // every event is written and flushed
			time.Sleep(20 * time.Millisecond)
		})
	}
	e := newSDKEnv(t, slowEnd)
	out := openAIChatStream(openAIChatParams(true))(t, e.clients(true, nil))
	if out.err != nil {
		t.Fatal(out.err)
	}
	wantTextUsingToolResult(t, out)
	line := e.records(t, 1)[0]
	r := checkSDKRecord(t, e, line, e.takeSeen()[0], sdkOpenAIKey)
	if r.Error != nil {
		t.Errorf("a stream the client got whole is recorded with error %s: %s", r.Error.Kind, r.Error.Message)
	}
}

// TestSDKThroughTapToH2Upstream: openai-go, streaming and not, through the
// tap to an upstream that speaks HTTP/2 over TLS, as real ones do: the SDK
// gets its answer, the upstream really spoke HTTP/2, and each record is
// faithful to what the upstream sends.
func TestSDKThroughTapToH2Upstream(t *testing.T) {
	for _, tc := range []struct {
		name string
		call func(*testing.T, sdkClients) sdkOutcome
	}{
		{"chat", openAIChat(openAIChatParams(true))},
		{"chat stream", openAIChatStream(openAIChatParams(true))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newSDKEnvTLS(t, nil, true)
			out := tc.call(t, e.clients(true, nil))
			if out.err != nil {
				t.Fatal(out.err)
			}
			wantTextUsingToolResult(t, out)
			line := e.records(t, 1)[0]
			seen := e.takeSeen()
			if len(seen) != 1 {
				t.Fatalf("the upstream saw %d requests, want 1", len(seen))
			}
			if seen[0].protoMajor != 2 {
				t.Errorf("the upstream was spoken to over HTTP/%d, want HTTP/2", seen[0].protoMajor)
			}
			r := checkSDKRecord(t, e, line, seen[0], sdkOpenAIKey)
			if r.Error != nil {
				t.Errorf("record error %s: %s", r.Error.Kind, r.Error.Message)
			}
			if !strings.HasPrefix(r.Up, "https://") {
				t.Errorf("upstream_url %q, want https", r.Up)
			}
		})
	}
}
