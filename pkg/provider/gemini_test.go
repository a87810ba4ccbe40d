package provider_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/llmtap/llmtap/pkg/provider"
)

const geminiPath = "/v1beta/models/gemini-2.5-flash:generateContent"

func TestGeminiRequest(t *testing.T) {
	const wav = "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA="
	tests := []struct {
		name  string
		path  string
		req   string
		model string
		want  []provider.Message
		tools []provider.Tool
	}{
		{
			name:  "system, parts of every kind, function call and response",
			path:  geminiPath,
			model: "gemini-2.5-flash",
			req: `{"systemInstruction":{"parts":[{"text":"Be brief."}]},"contents":[
				{"role":"user","parts":[
					{"text":"What is in these?"},
					{"inlineData":{"mimeType":"image/png","data":"` + nativePNG + `"}},
					{"inlineData":{"mimeType":"audio/wav","data":"` + wav + `"}},
					{"inlineData":{"mimeType":"application/pdf","data":"JVBERi0x"}},
					{"fileData":{"mimeType":"video/mp4","fileUri":"https://generativelanguage.googleapis.com/v1beta/files/abc"}}]},
				{"role":"model","parts":[
					{"text":"Thinking it over.","thought":true,"thoughtSignature":"c2ln"},
					{"text":"Let me look."},
					{"functionCall":{"id":"call_1","name":"get_weather","args":{"city":"Paris","days":2}}},
					{"functionCall":{"name":"now"}},
					{"executableCode":{"language":"PYTHON","code":"print(1)"}},
					{"codeExecutionResult":{"outcome":"OUTCOME_OK","output":"1\n"}},
					{"thoughtSignature":"b25seQ=="}]},
				{"role":"user","parts":[
					{"functionResponse":{"id":"call_1","name":"get_weather","response":{"temp":15,"unit":"°C"}}},
					{"functionResponse":{"name":"now","response":{"output":"noon"}}},
					{"text":"And tomorrow?"}]},
				{"parts":[{"text":"no role"}]}],
				"tools":[{"functionDeclarations":[{"name":"get_weather","description":"Weather for a city.","parameters":{"type":"OBJECT"}},{"name":"now"}]},{"googleSearch":{}}],
				"generationConfig":{"thinkingConfig":{"includeThoughts":true}}}`,
			want: []provider.Message{
				{Role: "system", Parts: []provider.Part{{Kind: provider.PartText, Text: "Be brief."}}},
				{Role: "user", Parts: []provider.Part{
					{Kind: provider.PartText, Text: "What is in these?"},
					{Kind: provider.PartImage, MediaType: "image/png", Bytes: 70},
					{Kind: provider.PartAudio, MediaType: "audio/wav", Bytes: 44},
					{Kind: provider.PartFile, MediaType: "application/pdf", Bytes: 6},
					{Kind: provider.PartFile, MediaType: "video/mp4", URL: "https://generativelanguage.googleapis.com/v1beta/files/abc"},
				}},
				{
					Role: "assistant", Reasoning: "Thinking it over.",
					Parts: []provider.Part{
						{Kind: provider.PartText, Text: "Let me look."},
						{Kind: provider.PartOther, Text: `{"executableCode":{"language":"PYTHON","code":"print(1)"}}`},
						{Kind: provider.PartOther, Text: `{"codeExecutionResult":{"outcome":"OUTCOME_OK","output":"1\n"}}`},
					},
					ToolCalls: []provider.ToolCall{
						{ID: "call_1", Name: "get_weather", Arguments: `{"city":"Paris","days":2}`},
						{Name: "now"},
					},
				},
				{Role: "tool", Name: "get_weather", ToolCallID: "call_1", Parts: []provider.Part{{Kind: provider.PartData, Text: `{"temp":15,"unit":"°C"}`}}},
				{Role: "tool", Name: "now", Parts: []provider.Part{{Kind: provider.PartData, Text: `{"output":"noon"}`}}},
				{Role: "user", Parts: []provider.Part{{Kind: provider.PartText, Text: "And tomorrow?"}}},
				{Role: "user", Parts: []provider.Part{{Kind: provider.PartText, Text: "no role"}}},
			},
			tools: []provider.Tool{{Name: "get_weather", Description: "Weather for a city."}, {Name: "now"}, {Name: "googleSearch"}},
		},
		{
			name:  "snake_case spellings on a Vertex path",
			path:  "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash-001:generateContent",
			model: "gemini-2.0-flash-001",
			req: `{"system_instruction":{"parts":[{"text":"Sys"}]},"contents":[{"role":"user","parts":[
				{"inline_data":{"mime_type":"image/jpeg","data":"` + nativePNG + `"}},
				{"file_data":{"mime_type":"audio/mp3","file_uri":"gs://b/a.mp3"}}]},
				{"role":"model","parts":[{"function_call":{"name":"f","args":{}}}]},
				{"role":"user","parts":[{"function_response":{"name":"f","response":{"ok":true}}}]}],
				"tools":[{"function_declarations":[{"name":"f","description":"F."}]}]}`,
			want: []provider.Message{
				{Role: "system", Parts: []provider.Part{{Kind: provider.PartText, Text: "Sys"}}},
				{Role: "user", Parts: []provider.Part{
					{Kind: provider.PartImage, MediaType: "image/jpeg", Bytes: 70},
					{Kind: provider.PartAudio, MediaType: "audio/mp3", URL: "gs://b/a.mp3"},
				}},
				{Role: "assistant", ToolCalls: []provider.ToolCall{{Name: "f", Arguments: "{}"}}},
				{Role: "tool", Name: "f", Parts: []provider.Part{{Kind: provider.PartData, Text: `{"ok":true}`}}},
			},
			tools: []provider.Tool{{Name: "f", Description: "F."}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseNative(t, nativeCase{path: tt.path, req: tt.req, resType: "application/json"})
			checkNative(t, got, &provider.Exchange{API: provider.Gemini, Model: tt.model, Request: tt.want, Tools: tt.tools, FirstTokenOffset: -1})
			if b, _ := json.Marshal(got); bytes.Contains(b, []byte(nativePNG[:20])) || bytes.Contains(b, []byte(wav[:20])) {
				t.Errorf("base64 data kept in the exchange: %s", b)
			}
		})
	}
}

func TestGeminiJSONResponse(t *testing.T) {
	req := `{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}`
	user := []provider.Message{{Role: "user", Parts: []provider.Part{{Kind: provider.PartText, Text: "Hi"}}}}
	tests := []struct {
		name   string
		path   string
		status int
		res    string
		want   provider.Exchange
	}{
		{
			name: "two candidates, thought, function call and usage",
			path: geminiPath,
			res: `{"candidates":[
				{"content":{"role":"model","parts":[{"text":"Pondering.","thought":true},{"text":"Hello!"},{"text":" Again."}]},"finishReason":"STOP","index":0,"safetyRatings":[]},
				{"content":{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"c2ln"}]},"finishReason":"STOP","index":1}],
				"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":5,"totalTokenCount":40,"cachedContentTokenCount":4,"thoughtsTokenCount":25,"promptTokensDetails":[{"modality":"TEXT","tokenCount":10}]},
				"modelVersion":"gemini-2.5-flash-preview-05-20","responseId":"abc"}`,
			want: provider.Exchange{
				Model: "gemini-2.5-flash",
				Response: []provider.Message{
					{Role: "assistant", Reasoning: "Pondering.", FinishReason: "STOP",
						Parts: []provider.Part{{Kind: provider.PartText, Text: "Hello!"}, {Kind: provider.PartText, Text: " Again."}}},
					{Role: "assistant", Choice: 1, FinishReason: "STOP",
						ToolCalls: []provider.ToolCall{{Name: "get_weather", Arguments: `{"city":"Paris"}`}}},
				},
				Usage: &provider.Usage{Input: 10, Output: 30, Total: 40, CachedInput: 4, Reasoning: 25},
			},
		},
		{
			name: "model from modelVersion when the path names none, total summed",
			path: "/v1beta/models/:generateContent",
			res:  `{"candidates":[{"content":{"parts":[{"text":"ok"}]}}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":2,"thoughtsTokenCount":1},"modelVersion":"gemini-2.5-pro"}`,
			want: provider.Exchange{
				Model:    "gemini-2.5-pro",
				Response: []provider.Message{{Role: "assistant", Parts: []provider.Part{{Kind: provider.PartText, Text: "ok"}}}},
				Usage:    &provider.Usage{Input: 3, Output: 3, Reasoning: 1, Total: 6},
			},
		},
		{
			name: "prompt blocked",
			path: geminiPath,
			res:  `{"promptFeedback":{"blockReason":"SAFETY","safetyRatings":[]},"usageMetadata":{"promptTokenCount":7,"totalTokenCount":7},"modelVersion":"gemini-2.5-flash"}`,
			want: provider.Exchange{
				Model: "gemini-2.5-flash",
				Usage: &provider.Usage{Input: 7, Total: 7},
				Error: &provider.APIError{Type: "prompt_blocked", Code: "SAFETY", Message: "prompt blocked: SAFETY"},
			},
		},
		{
			name: "candidate stopped without content",
			path: geminiPath,
			res:  `{"candidates":[{"finishReason":"RECITATION","index":0}]}`,
			want: provider.Exchange{
				Model:    "gemini-2.5-flash",
				Response: []provider.Message{{Role: "assistant", FinishReason: "RECITATION"}},
			},
		},
		{
			name:   "error body",
			path:   geminiPath,
			status: 429,
			res:    `{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}`,
			want: provider.Exchange{
				Model: "gemini-2.5-flash",
				Error: &provider.APIError{Type: "RESOURCE_EXHAUSTED", Code: "429", Message: "Resource has been exhausted (e.g. check quota)."},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseNative(t, nativeCase{path: tt.path, req: req, status: tt.status, resType: "application/json", res: tt.res})
			want := tt.want
			want.API, want.Request, want.FirstTokenOffset = provider.Gemini, user, -1
			checkNative(t, got, &want)
		})
	}
}

func TestGeminiStream(t *testing.T) {
	const path = "/v1beta/models/gemini-2.5-pro:streamGenerateContent"
	req := `{"contents":[{"role":"user","parts":[{"text":"Weather?"}]}],"tools":[{"functionDeclarations":[{"name":"get_weather"}]}]}`
	user := []provider.Message{{Role: "user", Parts: []provider.Part{{Kind: provider.PartText, Text: "Weather?"}}}}
	chunk := func(parts []jobj, extra jobj) jobj {
		c := jobj{"content": jobj{"role": "model", "parts": parts}, "index": 0}
		for k, v := range extra {
			c[k] = v
		}
		return jobj{"candidates": []any{c}, "modelVersion": "gemini-2.5-pro"}
	}
	usage := func(out int) jobj {
		return jobj{"promptTokenCount": 8, "candidatesTokenCount": out, "totalTokenCount": 8 + out + 20, "thoughtsTokenCount": 20}
	}
	const text = "Hi 你好!"

	// build streams thought text, then text in pieces, then a function call
	// with the finish reason, usage in every chunk as Gemini sends it.
	build := func(pieces []string) (string, int64) {
		var s nativeSSE
		first := s.add("", geminiWithUsage(chunk([]jobj{{"text": "Let me ", "thought": true}}, nil), usage(0)))
		s.add("", geminiWithUsage(chunk([]jobj{{"text": "think.", "thought": true}}, nil), usage(0)))
		for i, p := range pieces {
			s.add("", geminiWithUsage(chunk([]jobj{{"text": p}}, nil), usage(i+1)))
		}
		s.add("", geminiWithUsage(chunk([]jobj{{"functionCall": jobj{"name": "get_weather", "args": jobj{"city": "Paris"}}, "thoughtSignature": "c2ln"}}, jobj{"finishReason": "STOP"}), usage(9)))
		return s.b.String(), first
	}
	want := func(first int64) *provider.Exchange {
		return &provider.Exchange{
			API: provider.Gemini, Model: "gemini-2.5-pro", Stream: true, Request: user,
			Tools: []provider.Tool{{Name: "get_weather"}},
			Response: []provider.Message{{
				Role: "assistant", Reasoning: "Let me think.",
				Parts:        []provider.Part{{Kind: provider.PartText, Text: text}},
				ToolCalls:    []provider.ToolCall{{Name: "get_weather", Arguments: `{"city":"Paris"}`}},
				FinishReason: "STOP",
			}},
			Usage:            &provider.Usage{Input: 8, Output: 29, Reasoning: 20, Total: 37},
			FirstTokenOffset: first,
		}
	}
	for i := range text {
		if i == 0 {
			continue
		}
		t.Run("text split at byte "+nativeItoa(i), func(t *testing.T) {
			body, first := build([]string{text[:i], text[i:]})
			got := parseNative(t, nativeCase{path: path, query: "alt=sse", req: req, resType: "text/event-stream", res: body})
			checkNative(t, got, want(first))
		})
	}
	t.Run("one rune per chunk", func(t *testing.T) {
		var pieces []string
		for _, r := range text {
			pieces = append(pieces, string(r))
		}
		body, first := build(pieces)
		got := parseNative(t, nativeCase{path: path, query: "alt=sse", req: req, resType: "text/event-stream", res: body})
		checkNative(t, got, want(first))
	})

	t.Run("JSON array of chunks without alt=sse", func(t *testing.T) {
		body, _ := build([]string{"Hi ", "你好", "!"})
		var chunks []string
		for _, line := range strings.Split(body, "\n") {
			if d, ok := strings.CutPrefix(line, "data: "); ok {
				chunks = append(chunks, d)
			}
		}
		arr := "[" + strings.Join(chunks, ",\r\n") + "]"
		got := parseNative(t, nativeCase{path: path, req: req, resType: "application/json; charset=UTF-8", res: arr})
		// One JSON document, even when sent in pieces: not streamed
		// (record.Streamed), though its chunks are merged like a stream's.
		w := want(-1)
		w.Stream = false
		checkNative(t, got, w)
	})

	t.Run("two candidates interleaved, and an image part between texts", func(t *testing.T) {
		var s nativeSSE
		cand := func(i int, parts ...jobj) jobj {
			return jobj{"content": jobj{"role": "model", "parts": parts}, "index": i}
		}
		first := s.add("", jobj{"candidates": []any{cand(1, jobj{"text": "B1"})}})
		s.add("", jobj{"candidates": []any{cand(0, jobj{"text": "A1"}), cand(1, jobj{"text": "B2"})}})
		s.add("", jobj{"candidates": []any{cand(0, jobj{"inlineData": jobj{"mimeType": "image/png", "data": nativePNG}}, jobj{"text": "A2"})}})
		s.add("", jobj{"candidates": []any{cand(0, jobj{"text": "A3"}), jobj{"index": 1, "finishReason": "MAX_TOKENS"}}})
		got := parseNative(t, nativeCase{path: path, query: "alt=sse", req: req, resType: "text/event-stream", res: s.b.String()})
		checkNative(t, got, &provider.Exchange{
			API: provider.Gemini, Model: "gemini-2.5-pro", Stream: true, Request: user,
			Tools: []provider.Tool{{Name: "get_weather"}},
			Response: []provider.Message{
				{Role: "assistant", Parts: []provider.Part{
					{Kind: provider.PartText, Text: "A1"},
					{Kind: provider.PartImage, MediaType: "image/png", Bytes: 70},
					{Kind: provider.PartText, Text: "A2A3"},
				}},
				{Role: "assistant", Choice: 1, Parts: []provider.Part{{Kind: provider.PartText, Text: "B1B2"}}, FinishReason: "MAX_TOKENS"},
			},
			FirstTokenOffset: first,
		})
	})

	t.Run("error chunk mid-stream", func(t *testing.T) {
		var s nativeSSE
		first := s.add("", chunk([]jobj{{"text": "Part"}}, nil))
		s.add("", jobj{"error": jobj{"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}})
		got := parseNative(t, nativeCase{path: path, query: "alt=sse", req: req, resType: "text/event-stream", res: s.b.String()})
		checkNative(t, got, &provider.Exchange{
			API: provider.Gemini, Model: "gemini-2.5-pro", Stream: true, Request: user,
			Tools:            []provider.Tool{{Name: "get_weather"}},
			Response:         []provider.Message{{Role: "assistant", Parts: []provider.Part{{Kind: provider.PartText, Text: "Part"}}}},
			Error:            &provider.APIError{Type: "UNAVAILABLE", Code: "503", Message: "The model is overloaded."},
			FirstTokenOffset: first,
		})
	})

	t.Run("a first chunk with only a thought signature is not the first token", func(t *testing.T) {
		var s nativeSSE
		s.add("", chunk([]jobj{{"text": "", "thoughtSignature": "c2ln"}}, nil))
		first := s.add("", chunk([]jobj{{"text": "Yes"}}, jobj{"finishReason": "STOP"}))
		got := parseNative(t, nativeCase{path: path, query: "alt=sse", req: req, resType: "text/event-stream", res: s.b.String()})
		checkNative(t, got, &provider.Exchange{
			API: provider.Gemini, Model: "gemini-2.5-pro", Stream: true, Request: user,
			Tools:            []provider.Tool{{Name: "get_weather"}},
			Response:         []provider.Message{{Role: "assistant", Parts: []provider.Part{{Kind: provider.PartText, Text: "Yes"}}, FinishReason: "STOP"}},
			FirstTokenOffset: first,
		})
	})
}

func geminiWithUsage(c, u jobj) jobj {
	c["usageMetadata"] = u
	return c
}
