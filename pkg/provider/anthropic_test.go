package provider_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/llmtap/llmtap/internal/fakeupstream"
	"github.com/llmtap/llmtap/pkg/provider"
	"github.com/llmtap/llmtap/pkg/record"
	"github.com/valyala/fastjson"
)

// nativeCase is one record to parse: a request body, and a response with
// its status, content type and body.
type nativeCase struct {
	path, query string
	req         string
	status      int
	resType     string
	res         string
}

// parseNative builds the record the way llmtap writes it, reads it back and
// parses it.
func parseNative(t *testing.T, c nativeCase) *provider.Exchange {
	t.Helper()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	status := c.status
	if status == 0 {
		status = 200
	}
	r := record.Record{
		ID: "01TEST", Start: start, End: start.Add(time.Second),
		Method: "POST", Path: c.path, Query: c.query,
		UpstreamURL: "https://api.example.com" + c.path,
		Request: record.Request{
			Headers: []record.Header{{Name: "content-type", Value: "application/json"}},
			Body:    record.Body{Data: []byte(c.req), WireBytes: int64(len(c.req))},
		},
		Response: &record.Response{
			Status:  status,
			Headers: []record.Header{{Name: "content-type", Value: c.resType}},
			Body:    record.Body{Data: []byte(c.res), WireBytes: int64(len(c.res))},
		},
	}
	line := r.AppendJSON(nil)
	var p fastjson.Parser
	v, err := p.ParseBytes(line)
	if err != nil {
		t.Fatalf("record does not parse: %v\n%s", err, line)
	}
	view, err := record.NewView(v)
	if err != nil {
		t.Fatal(err)
	}
	return provider.Parse(view)
}

// checkNative compares two exchanges and shows both as JSON on a
// mismatch.
func checkNative(t *testing.T, got, want *provider.Exchange) {
	t.Helper()
	g, _ := json.MarshalIndent(got, "", "  ")
	w, _ := json.MarshalIndent(want, "", "  ")
	if !bytes.Equal(g, w) {
		t.Errorf("exchange mismatch\n--- got\n%s\n--- want\n%s", g, w)
	}
}

// nativeSSE writes events as a server does, "event: NAME\ndata: JSON\n\n"
// (no event line when the name is ""), and returns the body and each
// event's byte offset.
type nativeSSE struct {
	b       strings.Builder
	offsets []int64
}

func (s *nativeSSE) add(name string, data any) int64 {
	off := int64(s.b.Len())
	s.offsets = append(s.offsets, off)
	if name != "" {
		s.b.WriteString("event: " + name + "\n")
	}
	var d []byte
	switch x := data.(type) {
	case string:
		d = []byte(x)
	default:
		var err error
		if d, err = json.Marshal(x); err != nil {
			panic(err)
		}
	}
	s.b.WriteString("data: ")
	s.b.Write(d)
	s.b.WriteString("\n\n")
	return int64(s.b.Len()) - 3 // the event's last byte, where FirstTokenOffset points
}

type jobj = map[string]any

const nativePNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="

func TestAnthropicRequest(t *testing.T) {
	pdf := "JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFI+PgpzdHJlYW0K"
	tests := []struct {
		name string
		req  string
		want []provider.Message
		tool []provider.Tool
	}{
		{
			name: "system string and user string",
			req:  `{"model":"claude-sonnet-4-5","max_tokens":100,"system":"Be brief.","messages":[{"role":"user","content":"Hi"}]}`,
			want: []provider.Message{
				{Role: "system", Parts: []provider.Part{{Kind: provider.PartText, Text: "Be brief."}}},
				{Role: "user", Parts: []provider.Part{{Kind: provider.PartText, Text: "Hi"}}},
			},
		},
		{
			name: "system blocks are one message",
			req:  `{"model":"m","system":[{"type":"text","text":"One."},{"type":"text","text":"Two.","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]}`,
			want: []provider.Message{
				{Role: "system", Parts: []provider.Part{{Kind: provider.PartText, Text: "One."}, {Kind: provider.PartText, Text: "Two."}}},
				{Role: "user", Parts: []provider.Part{{Kind: provider.PartText, Text: "Hi"}}},
			},
		},
		{
			name: "images and documents keep no data",
			req: `{"model":"m","messages":[{"role":"user","content":[
				{"type":"image","source":{"type":"base64","media_type":"image/png","data":"` + nativePNG + `"}},
				{"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}},
				{"type":"image","source":{"type":"file","file_id":"file_011"}},
				{"type":"document","title":"Report","source":{"type":"base64","media_type":"application/pdf","data":"` + pdf + `"}},
				{"type":"document","title":"Notes","source":{"type":"text","media_type":"text/plain","data":"plain words"}},
				{"type":"document","source":{"type":"url","url":"https://example.com/a.pdf"}},
				{"type":"document","source":{"type":"content","content":[{"type":"text","text":"first"},{"type":"text","text":"second"}]}},
				{"type":"text","text":"What is this?"}]}]}`,
			want: []provider.Message{{Role: "user", Parts: []provider.Part{
				{Kind: provider.PartImage, MediaType: "image/png", Bytes: 70},
				{Kind: provider.PartImage, URL: "https://example.com/cat.jpg"},
				{Kind: provider.PartImage, URL: "file_011"},
				{Kind: provider.PartFile, MediaType: "application/pdf", Bytes: 48, Name: "Report"},
				{Kind: provider.PartFile, MediaType: "text/plain", Text: "plain words", Bytes: 11, Name: "Notes"},
				{Kind: provider.PartFile, URL: "https://example.com/a.pdf"},
				{Kind: provider.PartFile, Text: "first\n\nsecond"},
				{Kind: provider.PartText, Text: "What is this?"},
			}}},
		},
		{
			name: "assistant thinking, redacted thinking, text and tool_use",
			req: `{"model":"m","messages":[{"role":"user","content":"Weather?"},{"role":"assistant","content":[
				{"type":"thinking","thinking":"Need the tool.","signature":"sig"},
				{"type":"redacted_thinking","data":"EmwKAhgB"},
				{"type":"thinking","thinking":"Paris it is."},
				{"type":"text","text":"Let me check."},
				{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city": "Paris", "units": ["c"], "n": 1.50}}]}]}`,
			want: []provider.Message{
				{Role: "user", Parts: []provider.Part{{Kind: provider.PartText, Text: "Weather?"}}},
				{
					Role: "assistant", Parts: []provider.Part{{Kind: provider.PartText, Text: "Let me check."}},
					Reasoning: "Need the tool.\n\nParis it is.", RedactedReasoning: true,
					ToolCalls: []provider.ToolCall{{ID: "toolu_1", Name: "get_weather", Arguments: `{"city":"Paris","units":["c"],"n":1.50}`}},
				},
			},
		},
		{
			name: "tool results become tool messages in wire order",
			req: `{"model":"m","messages":[{"role":"user","content":[
				{"type":"tool_result","tool_use_id":"toolu_1","content":"15 °C"},
				{"type":"tool_result","tool_use_id":"toolu_2","content":[{"type":"text","text":"a"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"` + nativePNG + `"}}]},
				{"type":"text","text":"Thanks"},
				{"type":"tool_result","tool_use_id":"toolu_3","is_error":true,"content":"city not found"},
				{"type":"tool_result","tool_use_id":"toolu_4","is_error":true},
				{"type":"tool_result","tool_use_id":"toolu_5"}]}]}`,
			want: []provider.Message{
				{Role: "tool", ToolCallID: "toolu_1", Parts: []provider.Part{{Kind: provider.PartText, Text: "15 °C"}}},
				{Role: "tool", ToolCallID: "toolu_2", Parts: []provider.Part{{Kind: provider.PartText, Text: "a"}, {Kind: provider.PartImage, MediaType: "image/png", Bytes: 70}}},
				{Role: "user", Parts: []provider.Part{{Kind: provider.PartText, Text: "Thanks"}}},
				{Role: "tool", ToolCallID: "toolu_3", Parts: []provider.Part{{Kind: provider.PartText, Text: "error: city not found"}}},
				{Role: "tool", ToolCallID: "toolu_4", Parts: []provider.Part{{Kind: provider.PartText, Text: "error"}}},
				{Role: "tool", ToolCallID: "toolu_5"},
			},
		},
		{
			name: "server tool blocks and unknown blocks are other parts",
			req: `{"model":"m","messages":[{"role":"assistant","content":[
				{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"go 1.26"}},
				{"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":[{"type":"web_search_result","url":"https://go.dev","title":"Go"}]},
				{"type":"future_block","x":"<a&b>"}]}]}`,
			want: []provider.Message{{Role: "assistant", Parts: []provider.Part{
				{Kind: provider.PartOther, Text: `{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"go 1.26"}}`},
				{Kind: provider.PartOther, Text: `{"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":[{"type":"web_search_result","url":"https://go.dev","title":"Go"}]}`},
				{Kind: provider.PartOther, Text: `{"type":"future_block","x":"<a&b>"}`},
			}}},
		},
		{
			name: "empty content still shows the turn",
			req:  `{"model":"m","messages":[{"role":"user","content":""},{"role":"user","content":[]}]}`,
			want: []provider.Message{{Role: "user"}, {Role: "user"}},
		},
		{
			name: "tools offered, client and server",
			req: `{"model":"m","messages":[{"role":"user","content":"Hi"}],"tools":[
				{"name":"get_weather","description":"Weather for a city.","input_schema":{"type":"object"}},
				{"type":"custom","name":"lookup","input_schema":{"type":"object"}},
				{"type":"web_search_20250305","name":"web_search","max_uses":5},
				{"type":"bash_20250124","name":"bash"}]}`,
			want: []provider.Message{{Role: "user", Parts: []provider.Part{{Kind: provider.PartText, Text: "Hi"}}}},
			tool: []provider.Tool{
				{Name: "get_weather", Description: "Weather for a city."},
				{Name: "lookup"},
				{Name: "web_search", Description: "web_search_20250305"},
				{Name: "bash", Description: "bash_20250124"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseNative(t, nativeCase{path: "/v1/messages", req: tt.req, status: 200, resType: "application/json"})
			want := &provider.Exchange{API: provider.AnthropicMessages, Model: fastjson.GetString([]byte(tt.req), "model"),
				Request: tt.want, Tools: tt.tool, FirstTokenOffset: -1}
			checkNative(t, got, want)
			if b, _ := json.Marshal(got); bytes.Contains(b, []byte(nativePNG[:20])) || bytes.Contains(b, []byte(pdf[:20])) {
				t.Errorf("base64 data kept in the exchange: %s", b)
			}
		})
	}
}

func TestAnthropicJSONResponse(t *testing.T) {
	req := `{"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[{"role":"user","content":"Weather in Paris?"}]}`
	tests := []struct {
		name   string
		status int
		res    string
		want   provider.Exchange
	}{
		{
			name: "text, thinking, tool_use and usage",
			res: `{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[
				{"type":"thinking","thinking":"The user wants weather.","signature":"abc"},
				{"type":"redacted_thinking","data":"xyz"},
				{"type":"text","text":"I'll check.","citations":null},
				{"type":"tool_use","id":"toolu_01","name":"get_weather","input":{"city":"Paris"}}],
				"stop_reason":"tool_use","stop_sequence":null,
				"usage":{"input_tokens":20,"cache_creation_input_tokens":5,"cache_read_input_tokens":100,"output_tokens":30}}`,
			want: provider.Exchange{
				Response: []provider.Message{{
					Role: "assistant", Parts: []provider.Part{{Kind: provider.PartText, Text: "I'll check."}},
					Reasoning: "The user wants weather.", RedactedReasoning: true,
					ToolCalls:    []provider.ToolCall{{ID: "toolu_01", Name: "get_weather", Arguments: `{"city":"Paris"}`}},
					FinishReason: "tool_use",
				}},
				Usage: &provider.Usage{Input: 125, Output: 30, CachedInput: 100, CacheWrite: 5, Total: 155},
			},
		},
		{
			name:   "error body",
			status: 529,
			res:    `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}`,
			want:   provider.Exchange{Error: &provider.APIError{Type: "overloaded_error", Message: "Overloaded"}},
		},
		{
			name: "a message without usage",
			res:  `{"type":"message","role":"assistant","content":[{"type":"text","text":"Hi"}],"stop_reason":"end_turn"}`,
			want: provider.Exchange{Response: []provider.Message{{Role: "assistant", Parts: []provider.Part{{Kind: provider.PartText, Text: "Hi"}}, FinishReason: "end_turn"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseNative(t, nativeCase{path: "/v1/messages", req: req, status: tt.status, resType: "application/json", res: tt.res})
			want := tt.want
			want.API, want.Model, want.FirstTokenOffset = provider.AnthropicMessages, "claude-sonnet-4-5", -1
			want.Request = []provider.Message{{Role: "user", Parts: []provider.Part{{Kind: provider.PartText, Text: "Weather in Paris?"}}}}
			checkNative(t, got, &want)
		})
	}
}

// anthStart is message_start as Anthropic sends it.
func anthStart(model string, usage jobj) jobj {
	return jobj{"type": "message_start", "message": jobj{
		"id": "msg_1", "type": "message", "role": "assistant", "model": model, "content": []any{},
		"stop_reason": nil, "stop_sequence": nil, "usage": usage,
	}}
}

func anthBlockStart(i int, block jobj) jobj {
	return jobj{"type": "content_block_start", "index": i, "content_block": block}
}

func anthDelta(i int, delta jobj) jobj {
	return jobj{"type": "content_block_delta", "index": i, "delta": delta}
}

func anthStop(i int) jobj { return jobj{"type": "content_block_stop", "index": i} }

func TestAnthropicStream(t *testing.T) {
	req := `{"model":"claude-opus-4-1","max_tokens":1024,"stream":true,"messages":[{"role":"user","content":"Hi"}]}`
	user := []provider.Message{{Role: "user", Parts: []provider.Part{{Kind: provider.PartText, Text: "Hi"}}}}

	t.Run("text with usage merged", func(t *testing.T) {
		var s nativeSSE
		s.add("message_start", anthStart("claude-opus-4-1-20250805", jobj{"input_tokens": 12, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 40, "output_tokens": 1}))
		s.add("content_block_start", anthBlockStart(0, jobj{"type": "text", "text": ""}))
		s.add("ping", jobj{"type": "ping"})
		first := s.add("content_block_delta", anthDelta(0, jobj{"type": "text_delta", "text": "Hello"}))
		s.add("content_block_delta", anthDelta(0, jobj{"type": "citations_delta", "citation": jobj{"type": "char_location"}}))
		s.add("content_block_delta", anthDelta(0, jobj{"type": "text_delta", "text": " there\u2028!"}))
		s.add("content_block_stop", anthStop(0))
		s.add("message_delta", jobj{"type": "message_delta", "delta": jobj{"stop_reason": "end_turn", "stop_sequence": nil}, "usage": jobj{"output_tokens": 7}})
		s.add("message_stop", jobj{"type": "message_stop"})
		got := parseNative(t, nativeCase{path: "/v1/messages", req: req, resType: "text/event-stream", res: s.b.String()})
		checkNative(t, got, &provider.Exchange{
			API: provider.AnthropicMessages, Model: "claude-opus-4-1", Stream: true, Request: user,
			Response: []provider.Message{{Role: "assistant", Parts: []provider.Part{{Kind: provider.PartText, Text: "Hello there\u2028!"}}, FinishReason: "end_turn"}},
			Usage:    &provider.Usage{Input: 52, Output: 7, CachedInput: 40, Total: 59},
			// The first text_delta, not the empty block start or the ping.
			FirstTokenOffset: first,
		})
	})

	t.Run("message_delta usage with cumulative input counts", func(t *testing.T) {
		var s nativeSSE
		s.add("message_start", anthStart("m", jobj{"input_tokens": 3, "output_tokens": 1}))
		s.add("content_block_start", anthBlockStart(0, jobj{"type": "text", "text": ""}))
		first := s.add("content_block_delta", anthDelta(0, jobj{"type": "text_delta", "text": "x"}))
		s.add("message_delta", jobj{"type": "message_delta", "delta": jobj{"stop_reason": "max_tokens"}, "usage": jobj{"input_tokens": 50, "cache_read_input_tokens": 8, "output_tokens": 2}})
		got := parseNative(t, nativeCase{path: "/v1/messages", req: req, resType: "text/event-stream", res: s.b.String()})
		checkNative(t, got, &provider.Exchange{
			API: provider.AnthropicMessages, Model: "claude-opus-4-1", Stream: true, Request: user,
			Response:         []provider.Message{{Role: "assistant", Parts: []provider.Part{{Kind: provider.PartText, Text: "x"}}, FinishReason: "max_tokens"}},
			Usage:            &provider.Usage{Input: 58, Output: 2, CachedInput: 8, Total: 60},
			FirstTokenOffset: first,
		})
	})

	t.Run("error event mid-stream", func(t *testing.T) {
		var s nativeSSE
		s.add("message_start", anthStart("m", jobj{"input_tokens": 3, "output_tokens": 1}))
		s.add("content_block_start", anthBlockStart(0, jobj{"type": "text", "text": ""}))
		first := s.add("content_block_delta", anthDelta(0, jobj{"type": "text_delta", "text": "Partial"}))
		s.add("error", jobj{"type": "error", "error": jobj{"type": "overloaded_error", "message": "Overloaded"}})
		got := parseNative(t, nativeCase{path: "/v1/messages", req: req, resType: "text/event-stream", res: s.b.String()})
		checkNative(t, got, &provider.Exchange{
			API: provider.AnthropicMessages, Model: "claude-opus-4-1", Stream: true, Request: user,
			Response:         []provider.Message{{Role: "assistant", Parts: []provider.Part{{Kind: provider.PartText, Text: "Partial"}}}},
			Usage:            &provider.Usage{Input: 3, Output: 1, Total: 4},
			Error:            &provider.APIError{Type: "overloaded_error", Message: "Overloaded"},
			FirstTokenOffset: first,
		})
	})

	t.Run("only an error event", func(t *testing.T) {
		var s nativeSSE
		s.add("error", jobj{"type": "error", "error": jobj{"type": "api_error", "message": "Internal server error"}})
		got := parseNative(t, nativeCase{path: "/v1/messages", req: req, resType: "text/event-stream", res: s.b.String()})
		checkNative(t, got, &provider.Exchange{
			API: provider.AnthropicMessages, Model: "claude-opus-4-1", Stream: true, Request: user,
			Error:            &provider.APIError{Type: "api_error", Message: "Internal server error"},
			FirstTokenOffset: -1,
		})
	})

	t.Run("server tool use, search result, empty tool input and a cut argument", func(t *testing.T) {
		var s nativeSSE
		s.add("message_start", anthStart("m", jobj{"input_tokens": 3, "output_tokens": 1}))
		// A server tool's start names the tool the model chose: output.
		first := s.add("content_block_start", anthBlockStart(0, jobj{"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": jobj{}}))
		s.add("content_block_delta", anthDelta(0, jobj{"type": "input_json_delta", "partial_json": `{"query": `}))
		s.add("content_block_delta", anthDelta(0, jobj{"type": "input_json_delta", "partial_json": `"go"}`}))
		s.add("content_block_stop", anthStop(0))
		s.add("content_block_start", anthBlockStart(1, jobj{"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []any{jobj{"type": "web_search_result", "url": "https://go.dev"}}}))
		s.add("content_block_stop", anthStop(1))
		s.add("content_block_start", anthBlockStart(2, jobj{"type": "tool_use", "id": "toolu_a", "name": "now", "input": jobj{}}))
		s.add("content_block_delta", anthDelta(2, jobj{"type": "input_json_delta", "partial_json": ""}))
		s.add("content_block_stop", anthStop(2))
		s.add("content_block_start", anthBlockStart(3, jobj{"type": "tool_use", "id": "toolu_b", "name": "get_weather", "input": jobj{}}))
		s.add("content_block_delta", anthDelta(3, jobj{"type": "input_json_delta", "partial_json": `{"city": "Par`}))
		got := parseNative(t, nativeCase{path: "/v1/messages", req: req, resType: "text/event-stream", res: s.b.String()})
		checkNative(t, got, &provider.Exchange{
			API: provider.AnthropicMessages, Model: "claude-opus-4-1", Stream: true, Request: user,
			Response: []provider.Message{{
				Role: "assistant",
				Parts: []provider.Part{
					// The block start as sent (keys in the order json.Marshal wrote
					// them) with the streamed input in place.
					{Kind: provider.PartOther, Text: `{"id":"srvtoolu_1","input":{"query":"go"},"name":"web_search","type":"server_tool_use"}`},
					{Kind: provider.PartOther, Text: `{"content":[{"type":"web_search_result","url":"https://go.dev"}],"tool_use_id":"srvtoolu_1","type":"web_search_tool_result"}`},
				},
				ToolCalls: []provider.ToolCall{
					{ID: "toolu_a", Name: "now", Arguments: "{}"},
					// Cut mid-argument: kept exactly as received.
					{ID: "toolu_b", Name: "get_weather", Arguments: `{"city": "Par`},
				},
			}},
			Usage:            &provider.Usage{Input: 3, Output: 1, Total: 4},
			FirstTokenOffset: first,
		})
	})

	t.Run("events without event lines, deltas without a block start", func(t *testing.T) {
		var s nativeSSE
		first := s.add("", anthDelta(0, jobj{"type": "text_delta", "text": "Hi"}))
		s.add("", anthDelta(1, jobj{"type": "thinking_delta", "thinking": "hmm"}))
		s.add("", jobj{"type": "message_delta", "delta": jobj{"stop_reason": "end_turn"}})
		got := parseNative(t, nativeCase{path: "/v1/messages", req: req, resType: "text/event-stream", res: s.b.String()})
		checkNative(t, got, &provider.Exchange{
			API: provider.AnthropicMessages, Model: "claude-opus-4-1", Stream: true, Request: user,
			Response: []provider.Message{{Role: "assistant", Parts: []provider.Part{{Kind: provider.PartText, Text: "Hi"}},
				Reasoning: "hmm", FinishReason: "end_turn"}},
			FirstTokenOffset: first,
		})
	})
}

// TestAnthropicStreamSplits reassembles a thinking block, a text block and
// a tool_use block whose input arrives in two input_json_delta pieces split
// at every byte of the argument string, and text split between every two
// runes of "你好".
func TestAnthropicStreamSplits(t *testing.T) {
	const args = `{"city": "Zürich", "note": "say \"你好\" ☀️\n", "days": [1, 2]}`
	const compact = `{"city":"Zürich","note":"say \"你好\" ☀️\n","days":[1,2]}`
	const text = "Hi 你好!"
	build := func(argPieces, textPieces []string) (string, int64) {
		var s nativeSSE
		s.add("message_start", anthStart("claude-sonnet-4-5", jobj{"input_tokens": 10, "output_tokens": 1}))
		s.add("content_block_start", anthBlockStart(0, jobj{"type": "thinking", "thinking": ""}))
		first := s.add("content_block_delta", anthDelta(0, jobj{"type": "thinking_delta", "thinking": "Let me "}))
		s.add("content_block_delta", anthDelta(0, jobj{"type": "thinking_delta", "thinking": "think."}))
		s.add("content_block_delta", anthDelta(0, jobj{"type": "signature_delta", "signature": "EqQBCgIYAhIM"}))
		s.add("content_block_stop", anthStop(0))
		s.add("content_block_start", anthBlockStart(1, jobj{"type": "text", "text": ""}))
		for _, p := range textPieces {
			s.add("content_block_delta", anthDelta(1, jobj{"type": "text_delta", "text": p}))
		}
		s.add("content_block_stop", anthStop(1))
		s.add("content_block_start", anthBlockStart(2, jobj{"type": "tool_use", "id": "toolu_9", "name": "get_weather", "input": jobj{}}))
		s.add("content_block_delta", anthDelta(2, jobj{"type": "input_json_delta", "partial_json": ""}))
		for _, p := range argPieces {
			s.add("content_block_delta", anthDelta(2, jobj{"type": "input_json_delta", "partial_json": p}))
		}
		s.add("content_block_stop", anthStop(2))
		s.add("message_delta", jobj{"type": "message_delta", "delta": jobj{"stop_reason": "tool_use"}, "usage": jobj{"output_tokens": 42}})
		s.add("message_stop", jobj{"type": "message_stop"})
		return s.b.String(), first
	}
	req := `{"model":"claude-sonnet-4-5","stream":true,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[{"role":"user","content":"Weather?"}],"tools":[{"name":"get_weather","input_schema":{"type":"object"}}]}`
	check := func(t *testing.T, body string, first int64) {
		t.Helper()
		got := parseNative(t, nativeCase{path: "/v1/messages", req: req, resType: "text/event-stream", res: body})
		checkNative(t, got, &provider.Exchange{
			API: provider.AnthropicMessages, Model: "claude-sonnet-4-5", Stream: true,
			Request: []provider.Message{{Role: "user", Parts: []provider.Part{{Kind: provider.PartText, Text: "Weather?"}}}},
			Tools:   []provider.Tool{{Name: "get_weather"}},
			Response: []provider.Message{{
				Role: "assistant", Parts: []provider.Part{{Kind: provider.PartText, Text: text}},
				Reasoning:    "Let me think.",
				ToolCalls:    []provider.ToolCall{{ID: "toolu_9", Name: "get_weather", Arguments: compact}},
				FinishReason: "tool_use",
			}},
			Usage:            &provider.Usage{Input: 10, Output: 42, Total: 52},
			FirstTokenOffset: first,
		})
	}
	// A delta is a JSON string, so it holds whole characters: split at
	// every byte that starts one (every byte of the ASCII parts, including
	// inside the \" escapes).
	for i := 0; i <= len(args); i++ {
		if i < len(args) && !utf8.RuneStart(args[i]) {
			continue
		}
		t.Run("args split at byte "+nativeItoa(i), func(t *testing.T) {
			body, first := build([]string{args[:i], args[i:]}, []string{text})
			check(t, body, first)
		})
	}
	t.Run("args one character per delta", func(t *testing.T) {
		var pieces []string
		for _, r := range args {
			pieces = append(pieces, string(r))
		}
		body, first := build(pieces, []string{text})
		check(t, body, first)
	})
	for i := range text {
		if i == 0 {
			continue
		}
		t.Run("text split at byte "+nativeItoa(i), func(t *testing.T) {
			body, first := build([]string{args}, []string{text[:i], text[i:]})
			check(t, body, first)
		})
	}
	t.Run("text one rune per delta", func(t *testing.T) {
		var pieces []string
		for _, r := range text {
			pieces = append(pieces, string(r))
		}
		body, first := build([]string{args}, pieces)
		check(t, body, first)
	})
}

func nativeItoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// TestAnthropicFakeUpstream parses the realistic bodies internal/fakeupstream
// sends, streamed and not, with a tool call, and its error answers.
func TestAnthropicFakeUpstream(t *testing.T) {
	srv := httptest.NewServer(fakeupstream.New(fakeupstream.Options{}))
	defer srv.Close()
	tests := []struct {
		name    string
		req     string
		headers map[string]string
		check   func(t *testing.T, ex *provider.Exchange)
	}{
		{
			name: "streamed text",
			req:  `{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"Say hi"}]}`,
			check: func(t *testing.T, ex *provider.Exchange) {
				if !ex.Stream || len(ex.Response) != 1 || ex.FirstTokenOffset <= 0 {
					t.Fatalf("stream not read: %+v", ex)
				}
				m := ex.Response[0]
				if len(m.Parts) != 1 || !strings.HasPrefix(m.Parts[0].Text, "Héllo wörld ☀️!") || m.FinishReason != "end_turn" {
					t.Errorf("answer = %+v", m)
				}
				if ex.Usage == nil || ex.Usage.Input == 0 || ex.Usage.Output == 0 {
					t.Errorf("usage = %+v", ex.Usage)
				}
			},
		},
		{
			name:    "streamed tool call, text in 30 chunks",
			req:     `{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"Weather?"}],"tools":[{"name":"get_weather","description":"Get weather","input_schema":{"type":"object"}}]}`,
			headers: map[string]string{"X-Fake-Chunks": "30"},
			check: func(t *testing.T, ex *provider.Exchange) {
				m := ex.Response[0]
				want := []provider.ToolCall{{ID: "toolu_fake_1", Name: "get_weather", Arguments: `{"city":"Paris"}`}}
				checkNative(t, &provider.Exchange{Response: []provider.Message{{ToolCalls: m.ToolCalls}}}, &provider.Exchange{Response: []provider.Message{{ToolCalls: want}}})
				if m.FinishReason != "tool_use" || len(m.Parts) != 1 || m.Parts[0].Text != "Let me call get_weather for that." {
					t.Errorf("answer = %+v", m)
				}
				if len(ex.Tools) != 1 || ex.Tools[0] != (provider.Tool{Name: "get_weather", Description: "Get weather"}) {
					t.Errorf("tools = %+v", ex.Tools)
				}
			},
		},
		{
			name: "JSON tool call then the result",
			req:  `{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"Weather?"},{"role":"assistant","content":[{"type":"tool_use","id":"toolu_fake_1","name":"get_weather","input":{"city":"Paris"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_fake_1","content":"15 °C"}]}],"tools":[{"name":"get_weather","input_schema":{"type":"object"}}]}`,
			check: func(t *testing.T, ex *provider.Exchange) {
				if ex.Stream || len(ex.Request) != 3 || ex.Request[2].Role != "tool" || ex.Request[2].ToolCallID != "toolu_fake_1" {
					t.Errorf("request = %+v", ex.Request)
				}
				if len(ex.Response) != 1 || !strings.Contains(ex.Response[0].Parts[0].Text, "15 °C") || ex.Response[0].FinishReason != "end_turn" {
					t.Errorf("response = %+v", ex.Response)
				}
				if ex.Usage == nil || ex.Usage.CachedInput == 0 || ex.Usage.Total != ex.Usage.Input+ex.Usage.Output || ex.Usage.Input <= ex.Usage.CachedInput {
					t.Errorf("usage = %+v", ex.Usage)
				}
			},
		},
		{
			name:    "error answer",
			req:     `{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"Hi"}]}`,
			headers: map[string]string{"X-Fake-Status": "529"},
			check: func(t *testing.T, ex *provider.Exchange) {
				if ex.Error == nil || *ex.Error != (provider.APIError{Type: "overloaded_error", Message: "Overloaded"}) || len(ex.Response) != 0 {
					t.Errorf("error = %+v, response = %+v", ex.Error, ex.Response)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hreq, _ := http.NewRequest("POST", srv.URL+"/v1/messages", strings.NewReader(tt.req))
			hreq.Header.Set("content-type", "application/json")
			for k, v := range tt.headers {
				hreq.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(hreq)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			ex := parseNative(t, nativeCase{path: "/v1/messages", req: tt.req, status: resp.StatusCode, resType: resp.Header.Get("content-type"), res: string(body)})
			if ex.API != provider.AnthropicMessages || ex.Model != "claude-sonnet-4-5" {
				t.Errorf("api %q model %q", ex.API, ex.Model)
			}
			tt.check(t, ex)
		})
	}
}
