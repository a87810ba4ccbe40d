package fakeupstream

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// server starts a fake upstream and returns it with a client that sees the
// wire bytes (no transparent gzip decoding).
func server(t *testing.T, opts Options) (*httptest.Server, *http.Client) {
	t.Helper()
	srv := httptest.NewServer(New(opts))
	t.Cleanup(srv.Close)
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.DisableCompression = true
	t.Cleanup(tr.CloseIdleConnections)
	return srv, &http.Client{Transport: tr}
}

// request is one call to the fake upstream; hdr holds name, value pairs.
type request struct {
	method, path, body string
	hdr                []string
}

func (rq request) do(t *testing.T, ctx context.Context, srv *httptest.Server, c *http.Client) *http.Response {
	t.Helper()
	method := rq.method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, srv.URL+rq.path, strings.NewReader(rq.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(rq.hdr); i += 2 {
		req.Header.Set(rq.hdr[i], rq.hdr[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// get answers rq and returns the status and whole body; a body read error
// fails the test.
func get(t *testing.T, srv *httptest.Server, c *http.Client, rq request) (*http.Response, []byte) {
	t.Helper()
	res := rq.do(t, context.Background(), srv, c)
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return res, body
}

// event is one server-sent event.
type event struct{ name, data string }

// parseSSE splits a complete event stream.
func parseSSE(t *testing.T, body []byte) []event {
	t.Helper()
	if !bytes.HasSuffix(body, []byte("\n\n")) {
		t.Fatalf("stream does not end with a blank line: %q", tail(body))
	}
	var out []event
	for _, block := range strings.Split(strings.TrimSuffix(string(body), "\n\n"), "\n\n") {
		var e event
		for _, line := range strings.Split(block, "\n") {
			switch {
			case strings.HasPrefix(line, "event: "):
				e.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				e.data = strings.TrimPrefix(line, "data: ")
			default:
				t.Fatalf("unexpected line %q", line)
			}
		}
		out = append(out, e)
	}
	return out
}

func tail(b []byte) []byte { return b[max(0, len(b)-200):] }

func mustJSON(t *testing.T, data string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(data), v); err != nil {
		t.Fatalf("decode %.200s: %v", data, err)
	}
}

const (
	chatText     = `{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is the weather in Paris?"}]}`
	chatTool     = `{"model":"gpt-4o","messages":[{"role":"user","content":"Weather in Paris?"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}},{"type":"function","function":{"name":"other"}}]}`
	chatToolDone = `{"model":"gpt-4o","messages":[{"role":"user","content":"Weather in Paris?"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_fake_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},{"role":"tool","tool_call_id":"call_fake_1","content":"18 degrees and sunny"}],"tools":[{"type":"function","function":{"name":"get_weather"}}]}`
	respText     = `{"model":"gpt-4o","input":"What is the weather in Paris?"}`
	respTool     = `{"model":"gpt-4o","input":[{"role":"user","content":"Weather in Paris?"}],"tools":[{"type":"function","name":"get_weather","parameters":{}}]}`
	respToolDone = `{"model":"gpt-4o","input":[{"role":"user","content":"Weather in Paris?"},{"type":"function_call","call_id":"call_fake_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}"},{"type":"function_call_output","call_id":"call_fake_1","output":"18 degrees and sunny"}],"tools":[{"type":"function","name":"get_weather","parameters":{}}]}`
	msgText      = `{"model":"claude-sonnet-4-5","max_tokens":256,"system":"Be brief.","messages":[{"role":"user","content":"What is the weather in Paris?"}]}`
	msgTool      = `{"model":"claude-sonnet-4-5","max_tokens":256,"messages":[{"role":"user","content":[{"type":"text","text":"Weather in Paris?"}]}],"tools":[{"name":"get_weather","input_schema":{"type":"object"}}]}`
	msgToolDone  = `{"model":"claude-sonnet-4-5","max_tokens":256,"messages":[{"role":"user","content":"Weather in Paris?"},{"role":"assistant","content":[{"type":"tool_use","id":"toolu_fake_1","name":"get_weather","input":{"city":"Paris"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_fake_1","content":[{"type":"text","text":"18 degrees and sunny"}]}]}],"tools":[{"name":"get_weather","input_schema":{"type":"object"}}]}`
)

// stream turns a request body into its streamed form.
func stream(body string) string {
	return strings.Replace(body, "{", `{"stream":true,`, 1)
}

// Small views of the answers, with the fields an SDK reads.
type (
	chatView struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		Model   string `json:"model"`
		Choices []struct {
			Index   int `json:"index"`
			Message struct {
				Role      string  `json:"role"`
				Content   *string `json:"content"`
				ToolCalls []struct {
					ID       string `json:"id"`
					Type     string `json:"type"`
					Function struct {
						Name      string `json:"name"`
						Arguments string `json:"arguments"`
					} `json:"function"`
				} `json:"tool_calls"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage *struct {
			PromptTokens        int `json:"prompt_tokens"`
			CompletionTokens    int `json:"completion_tokens"`
			TotalTokens         int `json:"total_tokens"`
			PromptTokensDetails *struct {
				CachedTokens *int `json:"cached_tokens"`
			} `json:"prompt_tokens_details"`
			CompletionTokensDetails *struct {
				ReasoningTokens *int `json:"reasoning_tokens"`
			} `json:"completion_tokens_details"`
		} `json:"usage"`
	}
	responseView struct {
		ID     string `json:"id"`
		Object string `json:"object"`
		Status string `json:"status"`
		Output []struct {
			Type      string `json:"type"`
			Role      string `json:"role"`
			Name      string `json:"name"`
			CallID    string `json:"call_id"`
			Arguments string `json:"arguments"`
			Content   []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"content"`
		} `json:"output"`
		Usage *struct {
			InputTokens  int `json:"input_tokens"`
			OutputTokens int `json:"output_tokens"`
			TotalTokens  int `json:"total_tokens"`
		} `json:"usage"`
	}
	messageView struct {
		ID      string `json:"id"`
		Type    string `json:"type"`
		Role    string `json:"role"`
		Content []struct {
			Type  string          `json:"type"`
			Text  string          `json:"text"`
			ID    string          `json:"id"`
			Name  string          `json:"name"`
			Input json.RawMessage `json:"input"`
		} `json:"content"`
		StopReason string `json:"stop_reason"`
		Usage      struct {
			InputTokens  int `json:"input_tokens"`
			OutputTokens int `json:"output_tokens"`
		} `json:"usage"`
	}
)

func (v chatView) text(t *testing.T) string {
	t.Helper()
	if len(v.Choices) == 0 || v.Choices[0].Message.Content == nil {
		t.Fatalf("no text in %+v", v)
	}
	return *v.Choices[0].Message.Content
}

// TestJSONAnswers checks that each non-streamed answer decodes into the
// fields a real SDK reads, and that the tool rules pick the right answer.
func TestJSONAnswers(t *testing.T) {
	tests := []struct {
		name  string
		rq    request
		check func(t *testing.T, body []byte)
	}{
		{"chat text echoes the user", request{path: "/v1/chat/completions", body: chatText}, func(t *testing.T, b []byte) {
			var v chatView
			mustJSON(t, string(b), &v)
			if v.ID != "chatcmpl-fake-1" || v.Object != "chat.completion" || v.Created != Created || v.Model != "gpt-4o" {
				t.Errorf("header fields: %+v", v)
			}
			if got := v.text(t); !strings.Contains(got, "héllo wörld ☀️") && !strings.Contains(got, "Héllo wörld ☀️") || !strings.Contains(got, "What is the weather in Paris?") {
				t.Errorf("text %q", got)
			}
			if v.Choices[0].FinishReason != "stop" || v.Choices[0].Message.Role != "assistant" {
				t.Errorf("choice: %+v", v.Choices[0])
			}
			u := v.Usage
			if u == nil || u.PromptTokens == 0 || u.TotalTokens != u.PromptTokens+u.CompletionTokens ||
				u.PromptTokensDetails == nil || u.PromptTokensDetails.CachedTokens == nil ||
				u.CompletionTokensDetails == nil || u.CompletionTokensDetails.ReasoningTokens == nil {
				t.Errorf("usage: %s", b)
			}
		}},
		{"chat tools call the first tool", request{path: "/v1/chat/completions", body: chatTool}, func(t *testing.T, b []byte) {
			var v chatView
			mustJSON(t, string(b), &v)
			c := v.Choices[0]
			if c.FinishReason != "tool_calls" || c.Message.Content != nil || len(c.Message.ToolCalls) != 1 {
				t.Fatalf("choice: %s", b)
			}
			tc := c.Message.ToolCalls[0]
			var args map[string]string
			mustJSON(t, tc.Function.Arguments, &args)
			if tc.ID != "call_fake_1" || tc.Type != "function" || tc.Function.Name != "get_weather" || args["city"] != "Paris" {
				t.Errorf("tool call: %+v", tc)
			}
		}},
		{"chat tool result is used", request{path: "/v1/chat/completions", body: chatToolDone}, func(t *testing.T, b []byte) {
			var v chatView
			mustJSON(t, string(b), &v)
			if got := v.text(t); !strings.Contains(got, "18 degrees and sunny") {
				t.Errorf("text %q", got)
			}
			if *v.Usage.PromptTokensDetails.CachedTokens == 0 {
				t.Errorf("a resent history should count as cached: %s", b)
			}
		}},
		{"chat n=2", request{path: "/v1/chat/completions", body: `{"n":2,"messages":[{"role":"user","content":"hi"}]}`}, func(t *testing.T, b []byte) {
			var v chatView
			mustJSON(t, string(b), &v)
			if len(v.Choices) != 2 || v.Choices[1].Index != 1 || v.Model != "gpt-4o-mini" {
				t.Errorf("choices: %s", b)
			}
		}},
		{"chat reasoning model", request{path: "/v1/chat/completions", body: `{"model":"o3-mini","messages":[{"role":"user","content":"hi"}]}`}, func(t *testing.T, b []byte) {
			var v chatView
			mustJSON(t, string(b), &v)
			if *v.Usage.CompletionTokensDetails.ReasoningTokens == 0 {
				t.Errorf("usage: %s", b)
			}
		}},
		{"legacy completions", request{path: "/v1/completions", body: `{"model":"gpt-3.5-turbo-instruct","prompt":"Say hi"}`}, func(t *testing.T, b []byte) {
			var v struct {
				Object  string `json:"object"`
				Choices []struct {
					Text string `json:"text"`
				} `json:"choices"`
			}
			mustJSON(t, string(b), &v)
			if v.Object != "text_completion" || len(v.Choices) != 1 || !strings.Contains(v.Choices[0].Text, "Say hi") {
				t.Errorf("%s", b)
			}
		}},
		{"embeddings", request{path: "/v1/embeddings", body: `{"model":"text-embedding-3-small","input":["a","b"]}`}, func(t *testing.T, b []byte) {
			var v struct {
				Object string `json:"object"`
				Data   []struct {
					Object    string    `json:"object"`
					Index     int       `json:"index"`
					Embedding []float64 `json:"embedding"`
				} `json:"data"`
				Usage struct {
					PromptTokens int `json:"prompt_tokens"`
				} `json:"usage"`
			}
			mustJSON(t, string(b), &v)
			if v.Object != "list" || len(v.Data) != 2 || v.Data[1].Index != 1 || len(v.Data[0].Embedding) != 8 ||
				v.Data[0].Object != "embedding" || v.Usage.PromptTokens == 0 {
				t.Errorf("%s", b)
			}
		}},
		{"embeddings base64", request{path: "/v1/embeddings", body: `{"input":"a","dimensions":3,"encoding_format":"base64"}`}, func(t *testing.T, b []byte) {
			var v struct {
				Data []struct {
					Embedding string `json:"embedding"`
				} `json:"data"`
			}
			mustJSON(t, string(b), &v)
			raw, err := base64.StdEncoding.DecodeString(v.Data[0].Embedding)
			if err != nil || len(raw) != 12 {
				t.Errorf("%s: %v", b, err)
			}
		}},
		{"models", request{method: http.MethodGet, path: "/v1/models"}, func(t *testing.T, b []byte) {
			var v struct {
				Object string `json:"object"`
				Data   []struct {
					ID     string `json:"id"`
					Object string `json:"object"`
				} `json:"data"`
			}
			mustJSON(t, string(b), &v)
			if v.Object != "list" || len(v.Data) == 0 || v.Data[0].Object != "model" || v.Data[0].ID == "" {
				t.Errorf("%s", b)
			}
		}},
		{"responses text", request{path: "/v1/responses", body: respText}, func(t *testing.T, b []byte) {
			var v responseView
			mustJSON(t, string(b), &v)
			if v.Object != "response" || v.Status != "completed" || len(v.Output) != 1 || v.Output[0].Type != "message" ||
				!strings.Contains(v.Output[0].Content[0].Text, "Paris") || v.Output[0].Content[0].Type != "output_text" ||
				v.Usage == nil || v.Usage.TotalTokens == 0 {
				t.Errorf("%s", b)
			}
		}},
		{"responses tools call the first tool", request{path: "/v1/responses", body: respTool}, func(t *testing.T, b []byte) {
			var v responseView
			mustJSON(t, string(b), &v)
			if len(v.Output) != 1 || v.Output[0].Type != "function_call" || v.Output[0].Name != "get_weather" ||
				v.Output[0].Arguments != toolArgs || v.Output[0].CallID == "" {
				t.Errorf("%s", b)
			}
		}},
		{"responses tool result is used", request{path: "/v1/responses", body: respToolDone}, func(t *testing.T, b []byte) {
			var v responseView
			mustJSON(t, string(b), &v)
			if len(v.Output) != 1 || !strings.Contains(v.Output[0].Content[0].Text, "18 degrees and sunny") {
				t.Errorf("%s", b)
			}
		}},
		{"messages text", request{path: "/v1/messages", body: msgText}, func(t *testing.T, b []byte) {
			var v messageView
			mustJSON(t, string(b), &v)
			if v.Type != "message" || v.Role != "assistant" || v.StopReason != "end_turn" || len(v.Content) != 1 ||
				!strings.Contains(v.Content[0].Text, "Paris") || v.Usage.InputTokens == 0 || v.Usage.OutputTokens == 0 {
				t.Errorf("%s", b)
			}
		}},
		{"messages tools use the first tool", request{path: "/v1/messages", body: msgTool}, func(t *testing.T, b []byte) {
			var v messageView
			mustJSON(t, string(b), &v)
			if v.StopReason != "tool_use" || len(v.Content) != 2 || v.Content[1].Type != "tool_use" ||
				v.Content[1].Name != "get_weather" || string(v.Content[1].Input) != toolArgs {
				t.Errorf("%s", b)
			}
		}},
		{"messages tool result is used", request{path: "/v1/messages", body: msgToolDone}, func(t *testing.T, b []byte) {
			var v messageView
			mustJSON(t, string(b), &v)
			if v.StopReason != "end_turn" || len(v.Content) != 1 || !strings.Contains(v.Content[0].Text, "18 degrees and sunny") {
				t.Errorf("%s", b)
			}
		}},
	}
	srv, c := server(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := get(t, srv, c, tt.rq)
			if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("status %d, type %q: %s", res.StatusCode, res.Header.Get("Content-Type"), body)
			}
			if res.ContentLength != int64(len(body)) {
				t.Errorf("Content-Length %d for %d bytes", res.ContentLength, len(body))
			}
			tt.check(t, body)
		})
	}
}

// reassemble returns the text, the tool arguments and the last event of a
// stream, reading it the way a client library does.
func reassemble(t *testing.T, path string, events []event) (text, args string, last event) {
	t.Helper()
	var tb, ab strings.Builder
	for _, e := range events {
		if e.data == "[DONE]" {
			continue
		}
		switch path {
		case "/v1/chat/completions":
			var c struct {
				Choices []struct {
					Index int `json:"index"`
					Delta struct {
						Content   *string `json:"content"`
						ToolCalls []struct {
							Function struct {
								Arguments string `json:"arguments"`
							} `json:"function"`
						} `json:"tool_calls"`
					} `json:"delta"`
				} `json:"choices"`
			}
			mustJSON(t, e.data, &c)
			for _, ch := range c.Choices {
				if ch.Index != 0 {
					continue
				}
				if ch.Delta.Content != nil {
					tb.WriteString(*ch.Delta.Content)
				}
				for _, tc := range ch.Delta.ToolCalls {
					ab.WriteString(tc.Function.Arguments)
				}
			}
		case "/v1/responses":
			var r struct {
				Type  string `json:"type"`
				Delta string `json:"delta"`
			}
			mustJSON(t, e.data, &r)
			if r.Type != e.name {
				t.Errorf("event %q carries type %q", e.name, r.Type)
			}
			switch r.Type {
			case "response.output_text.delta":
				tb.WriteString(r.Delta)
			case "response.function_call_arguments.delta":
				ab.WriteString(r.Delta)
			}
		case "/v1/messages":
			var m struct {
				Type  string `json:"type"`
				Delta struct {
					Type        string `json:"type"`
					Text        string `json:"text"`
					PartialJSON string `json:"partial_json"`
				} `json:"delta"`
			}
			mustJSON(t, e.data, &m)
			if m.Type != e.name {
				t.Errorf("event %q carries type %q", e.name, m.Type)
			}
			switch m.Delta.Type {
			case "text_delta":
				tb.WriteString(m.Delta.Text)
			case "input_json_delta":
				ab.WriteString(m.Delta.PartialJSON)
			}
		}
	}
	return tb.String(), ab.String(), events[len(events)-1]
}

// jsonText returns the text and tool arguments of a non-streamed answer.
func jsonText(t *testing.T, path string, body []byte) (text, args string) {
	t.Helper()
	switch path {
	case "/v1/chat/completions":
		var v chatView
		mustJSON(t, string(body), &v)
		m := v.Choices[0].Message
		if m.Content != nil {
			text = *m.Content
		}
		if len(m.ToolCalls) > 0 {
			args = m.ToolCalls[0].Function.Arguments
		}
	case "/v1/responses":
		var v responseView
		mustJSON(t, string(body), &v)
		for _, o := range v.Output {
			args += o.Arguments
			for _, c := range o.Content {
				text += c.Text
			}
		}
	case "/v1/messages":
		var v messageView
		mustJSON(t, string(body), &v)
		for _, c := range v.Content {
			text += c.Text
			if c.Type == "tool_use" {
				args = string(c.Input)
			}
		}
	}
	return text, args
}

// TestStreams checks that each stream ends the way its API ends, and that its
// deltas add up to exactly the non-streamed answer, for several chunk counts.
func TestStreams(t *testing.T) {
	tests := []struct {
		path, body string
		wantLast   string // event name, or data for chat
	}{
		{"/v1/chat/completions", chatText, "[DONE]"},
		{"/v1/chat/completions", chatTool, "[DONE]"},
		{"/v1/chat/completions", chatToolDone, "[DONE]"},
		{"/v1/responses", respText, "response.completed"},
		{"/v1/responses", respTool, "response.completed"},
		{"/v1/responses", respToolDone, "response.completed"},
		{"/v1/messages", msgText, "message_stop"},
		{"/v1/messages", msgTool, "message_stop"},
		{"/v1/messages", msgToolDone, "message_stop"},
	}
	srv, c := server(t, Options{})
	for _, tt := range tests {
		for _, chunks := range []string{"", "1", "3", "40", "500"} {
			t.Run(fmt.Sprintf("%s/%.40s/chunks=%s", tt.path, tt.body[strings.Index(tt.body, "messages")+1:], chunks), func(t *testing.T) {
				hdr := []string{"X-Fake-Chunks", chunks}
				_, want := get(t, srv, c, request{path: tt.path, body: tt.body, hdr: hdr})
				wantText, wantArgs := jsonText(t, tt.path, want)

				res, body := get(t, srv, c, request{path: tt.path, body: stream(tt.body), hdr: hdr})
				if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
					t.Fatalf("Content-Type %q", ct)
				}
				if !utf8.Valid(body) {
					t.Fatal("stream is not valid UTF-8")
				}
				events := parseSSE(t, body)
				text, args, last := reassemble(t, tt.path, events)
				if last.name != tt.wantLast && last.data != tt.wantLast {
					t.Errorf("last event %+v, want %s", last, tt.wantLast)
				}
				if text != wantText || args != wantArgs {
					t.Errorf("streamed text %q args %q\nwant text %q args %q", text, args, wantText, wantArgs)
				}
				if chunks != "" && args == "" {
					var deltas int
					for _, e := range events {
						if strings.Contains(e.data, `"content":"`) && !strings.Contains(e.data, `"content":""`) ||
							strings.Contains(e.data, "output_text.delta") || strings.Contains(e.data, "text_delta") {
							deltas++
						}
					}
					if fmt.Sprint(deltas) != chunks {
						t.Errorf("%d text deltas, want %s", deltas, chunks)
					}
				}
			})
		}
	}
}

// TestChatStreamShape pins the details of OpenAI's chunk format that client
// libraries and llmmd's reassembly depend on.
func TestChatStreamShape(t *testing.T) {
	srv, c := server(t, Options{})
	type chunk struct {
		Object  string `json:"object"`
		Choices []struct {
			Index int            `json:"index"`
			Delta map[string]any `json:"delta"`
			// FinishReason is null until the last chunk of a choice.
			FinishReason *string `json:"finish_reason"`
		} `json:"choices"`
		Usage json.RawMessage `json:"usage"`
	}
	decode := func(t *testing.T, body []byte) ([]chunk, []event) {
		events := parseSSE(t, body)
		if last := events[len(events)-1]; last.data != "[DONE]" || last.name != "" {
			t.Fatalf("last event %+v", last)
		}
		var out []chunk
		for _, e := range events[:len(events)-1] {
			var ch chunk
			mustJSON(t, e.data, &ch)
			if ch.Object != "chat.completion.chunk" {
				t.Fatalf("object %q", ch.Object)
			}
			out = append(out, ch)
		}
		return out, events
	}

	t.Run("text with usage", func(t *testing.T) {
		body := `{"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`
		_, raw := get(t, srv, c, request{path: "/v1/chat/completions", body: body})
		chunks, _ := decode(t, raw)
		if chunks[0].Choices[0].Delta["role"] != "assistant" {
			t.Errorf("first delta %v", chunks[0].Choices[0].Delta)
		}
		if _, ok := chunks[1].Choices[0].Delta["role"]; ok {
			t.Errorf("second delta has a role: %v", chunks[1].Choices[0].Delta)
		}
		if !strings.Contains(string(raw), `"content":"Héllo"`) {
			t.Errorf("no multibyte delta in %s", raw)
		}
		usage := chunks[len(chunks)-1]
		if len(usage.Choices) != 0 || !bytes.Contains(usage.Usage, []byte(`"total_tokens"`)) {
			t.Errorf("usage chunk %+v", usage)
		}
		for _, ch := range chunks[:len(chunks)-1] {
			if string(ch.Usage) != "null" {
				t.Errorf("usage %s before the last chunk", ch.Usage)
			}
		}
		final := chunks[len(chunks)-2].Choices[0]
		if final.FinishReason == nil || *final.FinishReason != "stop" || len(final.Delta) != 0 {
			t.Errorf("final chunk %+v", final)
		}
	})
	t.Run("no usage unless asked", func(t *testing.T) {
		_, raw := get(t, srv, c, request{path: "/v1/chat/completions", body: stream(chatText)})
		if bytes.Contains(raw, []byte(`"usage"`)) {
			t.Errorf("usage without include_usage")
		}
	})
	t.Run("tool call fragments", func(t *testing.T) {
		_, raw := get(t, srv, c, request{path: "/v1/chat/completions", body: stream(chatTool)})
		chunks, _ := decode(t, raw)
		var frags []map[string]any
		for _, ch := range chunks {
			if tcs, ok := ch.Choices[0].Delta["tool_calls"].([]any); ok {
				frags = append(frags, tcs[0].(map[string]any))
			}
		}
		if len(frags) < 3 {
			t.Fatalf("%d fragments", len(frags))
		}
		first := frags[0]
		fn := first["function"].(map[string]any)
		if first["index"] != 0.0 || first["id"] != "call_fake_1" || first["type"] != "function" ||
			fn["name"] != "get_weather" || fn["arguments"] != "" {
			t.Errorf("first fragment %v", first)
		}
		for _, f := range frags[1:] {
			fn := f["function"].(map[string]any)
			if len(f) != 2 || f["index"] != 0.0 || len(fn) != 1 || fn["arguments"] == "" {
				t.Errorf("later fragment %v", f)
			}
		}
		final := chunks[len(chunks)-1].Choices[0]
		if final.FinishReason == nil || *final.FinishReason != "tool_calls" {
			t.Errorf("final %+v", final)
		}
	})
	t.Run("n=2 interleaves choices", func(t *testing.T) {
		_, raw := get(t, srv, c, request{path: "/v1/chat/completions", body: `{"stream":true,"n":2,"messages":[{"role":"user","content":"hi"}]}`})
		chunks, _ := decode(t, raw)
		for i, ch := range chunks {
			if len(ch.Choices) != 1 || ch.Choices[0].Index != i%2 {
				t.Fatalf("chunk %d: %+v", i, ch)
			}
		}
	})
}

// TestErrors checks the error answers: unknown paths, wrong methods, bad
// bodies, bad knobs and X-Fake-Status, in each service's shape.
func TestErrors(t *testing.T) {
	tests := []struct {
		name       string
		rq         request
		status     int
		anthropic  bool
		wantType   string
		wantCode   any // nil for null
		retryAfter string
	}{
		{"unknown path", request{method: "GET", path: "/v1/nope"}, 404, false, "invalid_request_error", "not_found", ""},
		{"unknown path on root", request{method: "POST", path: "/", body: "{}"}, 404, false, "invalid_request_error", "not_found", ""},
		{"wrong method", request{method: "GET", path: "/v1/chat/completions"}, 405, false, "invalid_request_error", "method_not_allowed", ""},
		{"bad JSON", request{path: "/v1/chat/completions", body: "{"}, 400, false, "invalid_request_error", nil, ""},
		{"bad JSON anthropic", request{path: "/v1/messages", body: "nope"}, 400, true, "invalid_request_error", nil, ""},
		{"bad knob", request{path: "/v1/models", method: "GET", hdr: []string{"X-Fake-Chunks", "lots"}}, 400, false, "invalid_request_error", nil, ""},
		{"bad status knob", request{path: "/v1/models", method: "GET", hdr: []string{"X-Fake-Status", "200"}}, 400, false, "invalid_request_error", nil, ""},
		{"bad delay knob", request{path: "/v1/models", method: "GET", hdr: []string{"X-Fake-Chunk-Delay", "5"}}, 400, false, "invalid_request_error", nil, ""},
		{"429", request{path: "/v1/chat/completions", body: chatText, hdr: []string{"X-Fake-Status", "429"}}, 429, false, "requests", "rate_limit_exceeded", "1"},
		{"500", request{path: "/v1/chat/completions", body: chatText, hdr: []string{"X-Fake-Status", "500"}}, 500, false, "server_error", nil, ""},
		{"418 on an unknown path", request{path: "/x", hdr: []string{"X-Fake-Status", "418"}}, 418, false, "invalid_request_error", nil, ""},
		{"429 anthropic", request{path: "/v1/messages", body: msgText, hdr: []string{"X-Fake-Status", "429"}}, 429, true, "rate_limit_error", nil, "1"},
		{"529 anthropic", request{path: "/v1/messages", body: msgText, hdr: []string{"X-Fake-Status", "529"}}, 529, true, "overloaded_error", nil, ""},
	}
	srv, c := server(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := get(t, srv, c, tt.rq)
			if res.StatusCode != tt.status || res.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("status %d type %q, want %d: %s", res.StatusCode, res.Header.Get("Content-Type"), tt.status, body)
			}
			if got := res.Header.Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tt.retryAfter)
			}
			if tt.anthropic {
				var v struct {
					Type  string `json:"type"`
					Error struct {
						Type    string `json:"type"`
						Message string `json:"message"`
					} `json:"error"`
				}
				mustJSON(t, string(body), &v)
				if v.Type != "error" || v.Error.Type != tt.wantType || v.Error.Message == "" {
					t.Errorf("%s", body)
				}
				return
			}
			var v struct {
				Error map[string]any `json:"error"`
			}
			mustJSON(t, string(body), &v)
			param, hasParam := v.Error["param"]
			if v.Error["type"] != tt.wantType || v.Error["code"] != tt.wantCode || v.Error["message"] == "" ||
				!hasParam || param != nil {
				t.Errorf("%s", body)
			}
		})
	}
}

// TestDeterministic checks that the same request always gets the same bytes.
func TestDeterministic(t *testing.T) {
	srv, c := server(t, Options{})
	for _, rq := range []request{
		{path: "/v1/chat/completions", body: chatText},
		{path: "/v1/chat/completions", body: stream(chatTool)},
		{path: "/v1/responses", body: stream(respText)},
		{path: "/v1/messages", body: stream(msgTool)},
		{path: "/v1/embeddings", body: `{"input":"x"}`},
		{path: "/v1/chat/completions", body: stream(chatText), hdr: []string{"X-Fake-Gzip", "1"}},
	} {
		_, a := get(t, srv, c, rq)
		_, b := get(t, srv, c, rq)
		if !bytes.Equal(a, b) {
			t.Errorf("%s %.60s: answers differ:\n%s\n%s", rq.path, rq.body, a, b)
		}
	}
}

// TestGzip checks that X-Fake-Gzip compresses JSON and streams, and that the
// decoded bytes are the plain answer.
func TestGzip(t *testing.T) {
	srv, c := server(t, Options{})
	for _, rq := range []request{
		{path: "/v1/chat/completions", body: chatText},
		{path: "/v1/chat/completions", body: stream(chatText)},
		{path: "/v1/messages", body: stream(msgTool)},
		{path: "/v1/nope"},
		{path: "/v1/x", hdr: []string{"X-Fake-Binary", "100"}},
	} {
		t.Run(rq.path+rq.body, func(t *testing.T) {
			_, plain := get(t, srv, c, rq)
			rq.hdr = append(rq.hdr, "X-Fake-Gzip", "1")
			res, body := get(t, srv, c, rq)
			// net/http may set Content-Length itself for a small answer; it
			// must then count the compressed bytes.
			if res.Header.Get("Content-Encoding") != "gzip" || res.ContentLength != -1 && res.ContentLength != int64(len(body)) {
				t.Fatalf("headers %v", res.Header)
			}
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plain) {
				t.Errorf("decoded %q, want %q", got, plain)
			}
		})
	}
}

// TestBinary checks X-Fake-Binary.
func TestBinary(t *testing.T) {
	srv, c := server(t, Options{})
	for _, n := range []int{1, 1000, 100_000} {
		res, body := get(t, srv, c, request{path: "/v1/chat/completions", body: chatText, hdr: []string{"X-Fake-Binary", fmt.Sprint(n)}})
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/octet-stream" || len(body) != n || utf8.Valid(body) {
			t.Errorf("n=%d: status %d type %q, %d bytes, valid UTF-8 %v", n, res.StatusCode, res.Header.Get("Content-Type"), len(body), utf8.Valid(body))
		}
	}
}

// TestSize checks that X-Fake-Size pads answers to about the size asked for.
func TestSize(t *testing.T) {
	srv, c := server(t, Options{})
	const size = 1 << 20
	for _, rq := range []request{
		{path: "/v1/chat/completions", body: chatText},
		{path: "/v1/chat/completions", body: stream(chatText)},
		{path: "/v1/chat/completions", body: `{"stream":true,"n":3,"messages":[{"role":"user","content":"hi"}]}`},
		{path: "/v1/completions", body: `{"prompt":"hi"}`},
		{path: "/v1/completions", body: `{"prompt":"hi","stream":true}`},
		{path: "/v1/responses", body: respText},
		{path: "/v1/responses", body: stream(respText)},
		{path: "/v1/messages", body: msgText},
		{path: "/v1/messages", body: stream(msgTool)},
	} {
		t.Run(rq.path+rq.body, func(t *testing.T) {
			rq.hdr = []string{"X-Fake-Size", fmt.Sprint(size)}
			_, body := get(t, srv, c, rq)
			if len(body) < size || len(body) > size+8<<10 {
				t.Errorf("%d bytes, want about %d", len(body), size)
			}
			if !utf8.Valid(body) {
				t.Error("not valid UTF-8")
			}
			if strings.Contains(rq.body, "stream") {
				parseSSE(t, body)
			} else if !json.Valid(body) {
				t.Error("not valid JSON")
			}
		})
	}
}

// readEvents reads a stream event by event as it arrives, noting when each
// event's last line came in; it returns the read error that ended it.
func readEvents(r io.Reader) (times []time.Time, events []string, err error) {
	br := bufio.NewReader(r)
	var cur strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return times, events, err
		}
		if line == "\n" {
			times = append(times, time.Now())
			events = append(events, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteString(line)
	}
}

// TestDelay checks that X-Fake-Chunk-Delay spaces the events of a stream and
// that each one reaches the client on its own.
func TestDelay(t *testing.T) {
	srv, c := server(t, Options{})
	const delay = 30 * time.Millisecond
	for _, gz := range []string{"0", "1"} {
		t.Run("gzip="+gz, func(t *testing.T) {
			res := request{path: "/v1/chat/completions", body: stream(chatText),
				hdr: []string{"X-Fake-Chunk-Delay", delay.String(), "X-Fake-Chunks", "4", "X-Fake-Gzip", gz}}.do(t, context.Background(), srv, c)
			var r io.Reader = res.Body
			if gz == "1" {
				zr, err := gzip.NewReader(res.Body)
				if err != nil {
					t.Fatal(err)
				}
				r = zr
			}
			times, events, err := readEvents(r)
			if err != io.EOF {
				t.Fatalf("read: %v", err)
			}
			if len(events) != 7 { // role, 4 deltas, finish, [DONE]
				t.Fatalf("%d events", len(events))
			}
			for i := 1; i < len(times); i++ {
				if gap := times[i].Sub(times[i-1]); gap < delay*2/3 {
					t.Errorf("gap %d is %v, want about %v", i, gap, delay)
				}
			}
		})
	}
}

// TestAbort checks that X-Fake-Abort-After sends what it promised and then
// cuts the connection, so the client sees a read error, not a clean end.
func TestAbort(t *testing.T) {
	srv, c := server(t, Options{})
	tests := []struct {
		name       string
		rq         request
		wantEvents int
		wantBytes  int // for JSON answers
	}{
		{"chat stream after 3", request{path: "/v1/chat/completions", body: stream(chatText), hdr: []string{"X-Fake-Abort-After", "3"}}, 3, -1},
		{"chat stream after 0", request{path: "/v1/chat/completions", body: stream(chatText), hdr: []string{"X-Fake-Abort-After", "0"}}, 0, -1},
		{"anthropic stream after 5", request{path: "/v1/messages", body: stream(msgTool), hdr: []string{"X-Fake-Abort-After", "5"}}, 5, -1},
		{"responses stream after 2 with delay", request{path: "/v1/responses", body: stream(respText), hdr: []string{"X-Fake-Abort-After", "2", "X-Fake-Chunk-Delay", "5ms"}}, 2, -1},
		{"json after 10 bytes", request{path: "/v1/chat/completions", body: chatText, hdr: []string{"X-Fake-Abort-After", "10"}}, -1, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.rq.do(t, context.Background(), srv, c)
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			if tt.wantBytes >= 0 {
				b, err := io.ReadAll(res.Body)
				if !errors.Is(err, io.ErrUnexpectedEOF) || len(b) != tt.wantBytes {
					t.Errorf("got %d bytes and %v, want %d bytes and unexpected EOF", len(b), err, tt.wantBytes)
				}
				return
			}
			_, events, err := readEvents(res.Body)
			if !errors.Is(err, io.ErrUnexpectedEOF) || len(events) != tt.wantEvents {
				t.Errorf("got %d events and %v, want %d and unexpected EOF", len(events), err, tt.wantEvents)
			}
		})
	}
	t.Run("gzip stream", func(t *testing.T) {
		res := request{path: "/v1/chat/completions", body: stream(chatText),
			hdr: []string{"X-Fake-Abort-After", "2", "X-Fake-Gzip", "1"}}.do(t, context.Background(), srv, c)
		zr, err := gzip.NewReader(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		_, events, err := readEvents(zr)
		if err == nil || err == io.EOF || len(events) != 2 {
			t.Errorf("got %d events and %v, want 2 and a read error", len(events), err)
		}
	})
}

// tracked wraps a handler to tell when each request's handler has returned.
func tracked(h http.Handler) (http.Handler, <-chan string) {
	done := make(chan string, 16)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { done <- r.URL.Path }()
		h.ServeHTTP(w, r)
	}), done
}

// TestClientGone checks that hanging and long streams stop when the client
// goes away, instead of running on.
func TestClientGone(t *testing.T) {
	tests := []struct {
		name string
		rq   request
	}{
		{"hang stream", request{path: "/v1/chat/completions", body: stream(chatText), hdr: []string{"X-Fake-Hang", "1"}}},
		{"hang json", request{path: "/v1/messages", body: msgText, hdr: []string{"X-Fake-Hang", "1"}}},
		{"slow stream", request{path: "/v1/messages", body: stream(msgText), hdr: []string{"X-Fake-Chunks", "100000", "X-Fake-Chunk-Delay", "1ms"}}},
		{"endless padding", request{path: "/v1/responses", body: stream(respText), hdr: []string{"X-Fake-Size", "100000000000", "X-Fake-Chunk-Delay", "1ms"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, done := tracked(New(Options{}))
			srv := httptest.NewServer(h)
			defer srv.Close()
			ctx, cancel := context.WithCancel(context.Background())
			res := tt.rq.do(t, ctx, srv, srv.Client())
			if !strings.Contains(tt.name, "json") {
				br := bufio.NewReader(res.Body)
				if _, err := br.ReadString('\n'); err != nil {
					t.Fatalf("first event: %v", err)
				}
			}
			if strings.HasPrefix(tt.name, "hang") {
				more := make(chan error, 1)
				go func() { _, err := res.Body.Read(make([]byte, 64<<10)); more <- err }()
				select {
				case err := <-more:
					// The first read may return the rest of the first event.
					if err != nil {
						t.Fatalf("hanging answer ended: %v", err)
					}
				case <-time.After(100 * time.Millisecond):
				}
			}
			cancel()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("handler still running 5s after the client went away")
			}
		})
	}
}

// TestHooks checks Options.Seen and Options.Log, and that they are safe from
// concurrent requests.
func TestHooks(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	var logs []string
	srv, c := server(t, Options{
		Seen: func(r *http.Request, body []byte) {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization")+" "+string(body))
		},
		Log: func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			logs = append(logs, fmt.Sprintf(format, args...))
		},
	})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			get(t, srv, c, request{path: "/v1/embeddings", body: `{"input":"x"}`, hdr: []string{"Authorization", "Bearer sk-1", "X-Fake-Gzip", "1"}})
		})
	}
	wg.Wait()
	if len(seen) != 8 || seen[0] != `POST /v1/embeddings Bearer sk-1 {"input":"x"}` {
		t.Errorf("seen %q", seen)
	}
	if len(logs) != 8 || logs[0] != "POST /v1/embeddings gzip" {
		t.Errorf("logs %q", logs)
	}
}

// TestSplit checks the delta splitter: exact counts, lossless, whole runes.
func TestSplit(t *testing.T) {
	text := greeting + " You said: hi."
	for _, n := range []int{0, 1, 2, 3, 7, 8, 9, 20, 21, 100, 1000} {
		pieces := split(text, n)
		if n > 0 && len(pieces) != n {
			t.Errorf("n=%d: %d pieces", n, len(pieces))
		}
		joined := strings.Join(pieces, "")
		if !strings.HasPrefix(joined, text) {
			t.Errorf("n=%d: joined %q", n, joined)
		}
		for _, p := range pieces {
			if p == "" || !utf8.ValidString(p) {
				t.Errorf("n=%d: piece %q", n, p)
			}
		}
	}
	if got := strings.Join(split(text, 0), "|"); got != "Héllo| wörld| ☀️!| You| said:| hi." {
		t.Errorf("words: %s", got)
	}
	if got := strings.Join(splitArgs(toolArgs), "|"); got != `{"|city|":"|Paris|"}` {
		t.Errorf("args: %s", got)
	}
}
