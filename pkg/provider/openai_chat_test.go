package provider_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/llmtap/llmtap/pkg/provider"
	"github.com/llmtap/llmtap/pkg/record"
	"github.com/valyala/fastjson"
)

// tapB64 is 300 bytes of base64 data, long enough to look like a payload.
var tapB64 = base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\x89PNG\r\n\x1a\n", 300/8) + "xxxx"))

const tapJSONType, tapSSEType = "application/json", "text/event-stream; charset=utf-8"

func TestChatRequest(t *testing.T) {
	tests := []struct {
		name string
		req  string
		want provider.Exchange
	}{{
		name: "roles parts tools",
		req: `{"model":"gpt-4o","messages":[
			{"role":"system","content":"Be brief."},
			{"role":"developer","content":[{"type":"text","text":"Use metric."}]},
			{"role":"user","name":"ann","content":[
				{"type":"text","text":"What is this?"},
				{"type":"image_url","image_url":{"url":"data:image/png;base64,` + tapB64 + `","detail":"low"}},
				{"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}},
				{"type":"image_url","image_url":"https://example.com/dog.jpg"},
				{"type":"input_audio","input_audio":{"data":"` + tapB64 + `","format":"wav"}},
				{"type":"input_audio","input_audio":{"data":"` + tapB64 + `","format":"mp3"}},
				{"type":"file","file":{"filename":"report.pdf","file_data":"data:application/pdf;base64,` + tapB64 + `"}},
				{"type":"file","file":{"file_id":"file-abc"}},
				{"type":"video_url","video_url":{"url":"https://example.com/v.mp4"}}]},
			{"role":"assistant","content":null,"tool_calls":[
				{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
				{"id":"call_2","type":"function","function":{"name":"get_time","arguments":{"tz":"UTC"}}},
				{"id":"call_3","type":"custom","custom":{"name":"grammar","input":"free text"}}]},
			{"role":"tool","tool_call_id":"call_1","content":"18°C"},
			{"role":"tool","tool_call_id":"call_2","content":[{"type":"text","text":"12:00"}]},
			{"role":"assistant","content":"","function_call":{"name":"lookup","arguments":"{\"q\":1}"}},
			{"role":"function","name":"lookup","content":"found"},
			{"role":"assistant","reasoning_content":"hmm","content":[{"type":"text","text":"Done."},{"type":"refusal","refusal":"No."}]}],
			"tools":[
				{"type":"function","function":{"name":"get_weather","description":"Weather by city","parameters":{"type":"object"}}},
				{"type":"function","function":{"name":"get_time"}},
				{"type":"custom","custom":{"name":"grammar","description":"Free text"}},
				{"type":"web_search"}],
			"functions":[{"name":"lookup","description":"Legacy function"}]}`,
		want: provider.Exchange{
			Model: "gpt-4o",
			Request: []provider.Message{
				{Role: "system", Parts: tapText("Be brief.")},
				{Role: "developer", Parts: tapText("Use metric.")},
				{Role: "user", Name: "ann", Parts: []provider.Part{
					{Kind: provider.PartText, Text: "What is this?"},
					{Kind: provider.PartImage, MediaType: "image/png", Bytes: 300},
					{Kind: provider.PartImage, URL: "https://example.com/cat.jpg"},
					{Kind: provider.PartImage, URL: "https://example.com/dog.jpg"},
					{Kind: provider.PartAudio, MediaType: "audio/wav", Bytes: 300},
					{Kind: provider.PartAudio, MediaType: "audio/mpeg", Bytes: 300},
					{Kind: provider.PartFile, Name: "report.pdf", MediaType: "application/pdf", Bytes: 300},
					{Kind: provider.PartFile, URL: "file-abc"},
					{Kind: provider.PartOther, Text: `{"type":"video_url","video_url":{"url":"https://example.com/v.mp4"}}`},
				}},
				{Role: "assistant", ToolCalls: []provider.ToolCall{
					{ID: "call_1", Type: "function", Name: "get_weather", Arguments: `{"city":"Paris"}`},
					{ID: "call_2", Type: "function", Name: "get_time", Arguments: `{"tz":"UTC"}`},
					{ID: "call_3", Type: "custom", Name: "grammar", Arguments: "free text"},
				}},
				{Role: "tool", ToolCallID: "call_1", Parts: tapText("18°C")},
				{Role: "tool", ToolCallID: "call_2", Parts: tapText("12:00")},
				{Role: "assistant", ToolCalls: []provider.ToolCall{{Type: "function", Name: "lookup", Arguments: `{"q":1}`}}},
				{Role: "function", Name: "lookup", Parts: tapText("found")},
				{Role: "assistant", Reasoning: "hmm", Parts: tapText("Done."), Refusal: "No."},
			},
			Tools: []provider.Tool{
				{Name: "get_weather", Description: "Weather by city"},
				{Name: "get_time"},
				{Name: "grammar", Description: "Free text"},
				{Name: "web_search"},
				{Name: "lookup", Description: "Legacy function"},
			},
		},
	}, {
		name: "a part that is not known keeps no base64",
		req:  `{"model":"m","messages":[{"role":"user","content":[{"type":"image","source":{"data":"` + tapB64 + `"}},{"type":"x","url":"data:image/gif;base64,` + tapB64 + `"}]}]}`,
		want: provider.Exchange{Model: "m", Request: []provider.Message{{Role: "user", Parts: []provider.Part{
			{Kind: provider.PartOther, Text: `{"type":"image","source":{"data":"[base64 data, 300 B]"}}`},
			{Kind: provider.PartOther, Text: `{"type":"x","url":"[image/gif data, 300 B]"}`},
		}}}},
	}, {
		name: "raw base64 image url",
		req:  `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"` + tapB64 + `"}}]}]}`,
		want: provider.Exchange{Model: "m", Request: []provider.Message{{Role: "user", Parts: []provider.Part{
			{Kind: provider.PartImage, Bytes: 300},
		}}}},
	}, {
		name: "gateway path",
		req:  `{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
		want: provider.Exchange{Model: "m", Request: []provider.Message{{Role: "user", Parts: tapText("hi")}}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/v1/chat/completions"
			if tt.name == "gateway path" {
				path = "/api/llm/chat"
			}
			got := tapParse(t, tapRec{path: path, req: tt.req, noResponse: true}.record())
			want := tt.want
			want.API, want.FirstTokenOffset = provider.OpenAIChat, -1
			tapCheck(t, got, &want)
			if b, _ := json.Marshal(got); strings.Contains(string(b), tapB64[:40]) {
				t.Errorf("base64 data kept in the Exchange: %s", b)
			}
		})
	}
}

func TestChatResponseJSON(t *testing.T) {
	const req = `{"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}]}`
	tests := []struct {
		name   string
		req    string
		status int
		res    string
		want   provider.Exchange
	}{{
		name: "text and usage",
		res: `{"id":"c","object":"chat.completion","model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],
			"usage":{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42,"prompt_tokens_details":{"cached_tokens":8,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":16}}}`,
		want: provider.Exchange{
			Response: []provider.Message{{Role: "assistant", Parts: tapText("Hello!"), FinishReason: "stop"}},
			Usage:    &provider.Usage{Input: 12, Output: 30, Total: 42, CachedInput: 8, Reasoning: 16},
		},
	}, {
		name: "n=2 keyed by index not position",
		res: `{"model":"gpt-4o","choices":[
			{"index":1,"message":{"role":"assistant","content":"Blue berries!"},"finish_reason":"stop"},
			{"index":0,"message":{"role":"assistant","content":"Red apples."},"finish_reason":"length"}]}`,
		want: provider.Exchange{Response: []provider.Message{
			{Role: "assistant", Choice: 0, Parts: tapText("Red apples."), FinishReason: "length"},
			{Role: "assistant", Choice: 1, Parts: tapText("Blue berries!"), FinishReason: "stop"},
		}},
	}, {
		name: "reasoning_content",
		res:  `{"choices":[{"index":0,"message":{"role":"assistant","reasoning_content":"Think.","content":"42"},"finish_reason":"stop"}]}`,
		want: provider.Exchange{Response: []provider.Message{{Role: "assistant", Reasoning: "Think.", Parts: tapText("42"), FinishReason: "stop"}}},
	}, {
		name: "reasoning",
		res:  `{"choices":[{"index":0,"message":{"role":"assistant","reasoning":"Think.","content":"42"}}]}`,
		want: provider.Exchange{Response: []provider.Message{{Role: "assistant", Reasoning: "Think.", Parts: tapText("42")}}},
	}, {
		name: "reasoning and reasoning_content not doubled",
		res:  `{"choices":[{"index":0,"message":{"role":"assistant","reasoning":"Think.","reasoning_content":"Think.","content":"42"}}]}`,
		want: provider.Exchange{Response: []provider.Message{{Role: "assistant", Reasoning: "Think.", Parts: tapText("42")}}},
	}, {
		name: "tool calls",
		res: `{"choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[
			{"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
			{"id":"call_b","type":"function","function":{"name":"get_weather","arguments":{"city":"Rome"}}}]},"finish_reason":"tool_calls"}]}`,
		want: provider.Exchange{Response: []provider.Message{{Role: "assistant", FinishReason: "tool_calls", ToolCalls: []provider.ToolCall{
			{ID: "call_a", Type: "function", Name: "get_weather", Arguments: `{"city":"Paris"}`},
			{ID: "call_b", Type: "function", Name: "get_weather", Arguments: `{"city":"Rome"}`},
		}}}},
	}, {
		name: "legacy function_call",
		res:  `{"choices":[{"index":0,"message":{"role":"assistant","content":null,"function_call":{"name":"lookup","arguments":"{}"}},"finish_reason":"function_call"}]}`,
		want: provider.Exchange{Response: []provider.Message{{Role: "assistant", FinishReason: "function_call",
			ToolCalls: []provider.ToolCall{{Type: "function", Name: "lookup", Arguments: "{}"}}}}},
	}, {
		name: "refusal",
		res:  `{"choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I can't help with that."},"finish_reason":"stop"}]}`,
		want: provider.Exchange{Response: []provider.Message{{Role: "assistant", Refusal: "I can't help with that.", FinishReason: "stop"}}},
	}, {
		name: "model from the response",
		req:  `{"messages":[{"role":"user","content":"Hi"}]}`,
		res:  `{"model":"llama-3.1-8b","choices":[{"message":{"content":"Yo"}}]}`,
		want: provider.Exchange{Model: "llama-3.1-8b", Request: []provider.Message{{Role: "user", Parts: tapText("Hi")}},
			Response: []provider.Message{{Role: "assistant", Parts: tapText("Yo")}}},
	}, {
		name:   "error 429",
		status: 429,
		res:    `{"error":{"message":"Rate limit reached for requests.","type":"requests","param":null,"code":"rate_limit_exceeded"}}`,
		want:   provider.Exchange{Error: &provider.APIError{Type: "requests", Code: "rate_limit_exceeded", Message: "Rate limit reached for requests."}},
	}, {
		name: "error in a 200 body",
		res:  `{"error":{"message":"model overloaded","code":503}}`,
		want: provider.Exchange{Error: &provider.APIError{Code: "503", Message: "model overloaded"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tapRec{path: "/v1/chat/completions", req: tt.req, status: tt.status, resType: tapJSONType, res: tt.res}
			want := tt.want
			if r.req == "" {
				r.req = req
				want.Model = "gpt-4o"
				want.Request = []provider.Message{{Role: "user", Parts: tapText("Hi")}}
			}
			want.API, want.FirstTokenOffset = provider.OpenAIChat, -1
			tapCheck(t, tapParse(t, r.record()), &want)
		})
	}
}

// tapChunk is a chat.completion.chunk with the given choices, as OpenAI sends
// it.
func tapChunk(choices string) string {
	return tapData(`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1767225600,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1","choices":[` + choices + `]}`)
}

// tapDelta is one choice of a chunk.
func tapDelta(index int, d string) string {
	return `{"index":` + tapJSON(index) + `,"delta":` + d + `,"logprobs":null,"finish_reason":null}`
}

func TestChatStream(t *testing.T) {
	const req = `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"Hi"}]}`
	msg := func(m provider.Message) []provider.Message { return []provider.Message{m} }
	tests := []struct {
		name   string
		frames []string
		first  int // the frame with the first content; -1 for none
		want   provider.Exchange
	}{{
		name: "text, usage chunk with empty choices, DONE",
		frames: []string{
			tapChunk(tapDelta(0, `{"role":"assistant","content":"","refusal":null}`)),
			tapChunk(tapDelta(0, `{"content":"Hel"}`)),
			tapChunk(tapDelta(0, `{"content":"lo"}`)),
			tapChunk(`{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}`),
			tapData(`{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}`),
			tapData(`[DONE]`),
		},
		first: 1,
		want: provider.Exchange{Response: msg(provider.Message{Role: "assistant", Parts: tapText("Hello"), FinishReason: "stop"}),
			Usage: &provider.Usage{Input: 5, Output: 2, Total: 7}},
	}, {
		// Interleaved choices must not merge into "Red Blue applesberries.!".
		name: "n=2 interleaved kept apart",
		frames: []string{
			tapChunk(tapDelta(0, `{"role":"assistant","content":""}`)),
			tapChunk(tapDelta(1, `{"role":"assistant","content":""}`)),
			tapChunk(tapDelta(0, `{"content":"Red"}`)),
			tapChunk(tapDelta(1, `{"content":"Blue"}`)),
			tapChunk(tapDelta(0, `{"content":" apples"}`)),
			tapChunk(tapDelta(1, `{"content":" berries"}`)),
			tapChunk(tapDelta(0, `{"content":"."}`)),
			tapChunk(tapDelta(1, `{"content":"!"}`)),
			tapChunk(`{"index":0,"delta":{},"finish_reason":"stop"}`),
			tapChunk(`{"index":1,"delta":{},"finish_reason":"stop"}`),
			tapData(`[DONE]`),
		},
		first: 2,
		want: provider.Exchange{Response: []provider.Message{
			{Role: "assistant", Choice: 0, Parts: tapText("Red apples."), FinishReason: "stop"},
			{Role: "assistant", Choice: 1, Parts: tapText("Blue berries!"), FinishReason: "stop"},
		}},
	}, {
		name: "n=2 in one chunk, array order reversed",
		frames: []string{
			tapChunk(tapDelta(1, `{"role":"assistant","content":"B"}`) + "," + tapDelta(0, `{"role":"assistant","content":"A"}`)),
			tapChunk(tapDelta(1, `{"content":"b"}`) + "," + tapDelta(0, `{"content":"a"}`)),
		},
		first: 0,
		want: provider.Exchange{Response: []provider.Message{
			{Role: "assistant", Choice: 0, Parts: tapText("Aa")},
			{Role: "assistant", Choice: 1, Parts: tapText("Bb")},
		}},
	}, {
		name: "choice without index",
		frames: []string{
			tapData(`{"choices":[{"delta":{"content":"x"}}]}`),
			tapData(`{"choices":[{"delta":{"content":"y"},"finish_reason":"stop"}]}`),
		},
		first: 0,
		want:  provider.Exchange{Response: msg(provider.Message{Role: "assistant", Parts: tapText("xy"), FinishReason: "stop"})},
	}, {
		// Deltas holding U+2028 or U+0085 must survive line splitting.
		name: "line separators inside deltas kept",
		frames: []string{
			tapChunk(tapDelta(0, `{"role":"assistant","content":"before"}`)),
			tapChunk(tapDelta(0, `{"content":"\u2028 \u0085 raw: `+"\u2028 \u0085 \u2029"+` after"}`)),
		},
		first: 0,
		want:  provider.Exchange{Response: msg(provider.Message{Role: "assistant", Parts: tapText("before\u2028 \u0085 raw: \u2028 \u0085 \u2029 after")})},
	}, {
		name: "reasoning_content then content",
		frames: []string{
			tapChunk(tapDelta(0, `{"role":"assistant","content":null,"reasoning_content":""}`)),
			tapChunk(tapDelta(0, `{"reasoning_content":"Let me "}`)),
			tapChunk(tapDelta(0, `{"reasoning_content":"think."}`)),
			tapChunk(tapDelta(0, `{"content":"42","reasoning_content":null}`)),
		},
		first: 1,
		want:  provider.Exchange{Response: msg(provider.Message{Role: "assistant", Reasoning: "Let me think.", Parts: tapText("42")})},
	}, {
		name: "reasoning, and both fields with the same text",
		frames: []string{
			tapChunk(tapDelta(0, `{"role":"assistant","reasoning":"Hm"}`)),
			tapChunk(tapDelta(0, `{"reasoning":"m.","reasoning_content":"m."}`)),
			tapChunk(tapDelta(0, `{"content":"ok"}`)),
		},
		first: 0,
		want:  provider.Exchange{Response: msg(provider.Message{Role: "assistant", Reasoning: "Hmm.", Parts: tapText("ok")})},
	}, {
		name: "refusal",
		frames: []string{
			tapChunk(tapDelta(0, `{"role":"assistant","content":null,"refusal":""}`)),
			tapChunk(tapDelta(0, `{"refusal":"I can't"}`)),
			tapChunk(tapDelta(0, `{"refusal":" help."}`)),
			tapChunk(`{"index":0,"delta":{},"finish_reason":"stop"}`),
		},
		first: 1,
		want:  provider.Exchange{Response: msg(provider.Message{Role: "assistant", Refusal: "I can't help.", FinishReason: "stop"})},
	}, {
		// Two calls interleaved, one delta with fragments for both.
		name: "parallel tool calls by index",
		frames: []string{
			tapChunk(tapDelta(0, `{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}}]}`)),
			tapChunk(tapDelta(0, `{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"get_time","arguments":""}}]}`)),
			tapChunk(tapDelta(0, `{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}},{"index":1,"function":{"arguments":"{\"tz\":"}}]}`)),
			tapChunk(tapDelta(0, `{"tool_calls":[{"index":1,"function":{"arguments":"\"UTC\"}"}}]}`)),
			tapChunk(tapDelta(0, `{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}`)),
			tapChunk(`{"index":0,"delta":{},"finish_reason":"tool_calls"}`),
			tapData(`[DONE]`),
		},
		first: 0,
		want: provider.Exchange{Response: msg(provider.Message{Role: "assistant", FinishReason: "tool_calls", ToolCalls: []provider.ToolCall{
			{ID: "call_a", Type: "function", Name: "get_weather", Arguments: `{"city":"Paris"}`},
			{ID: "call_b", Type: "function", Name: "get_time", Arguments: `{"tz":"UTC"}`},
		}})},
	}, {
		// Some local servers number every parallel call 0; only the new id
		// tells them apart.
		name: "sloppy: every call at index 0, new id",
		frames: []string{
			tapChunk(tapDelta(0, `{"role":"assistant","tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":"}}]}`)),
			tapChunk(tapDelta(0, `{"role":"assistant","tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}`)),
			tapChunk(tapDelta(0, `{"role":"assistant","tool_calls":[{"index":0,"id":"call_b","type":"function","function":{"name":"get_weather","arguments":"{\"city\":"}}]}`)),
			tapChunk(tapDelta(0, `{"role":"assistant","tool_calls":[{"index":0,"function":{"arguments":"\"Rome\"}"}}]}`)),
			tapChunk(`{"index":0,"delta":{"role":"assistant"},"finish_reason":"tool_calls"}`),
		},
		first: 0,
		want: provider.Exchange{Response: msg(provider.Message{Role: "assistant", FinishReason: "tool_calls", ToolCalls: []provider.ToolCall{
			{ID: "call_a", Type: "function", Name: "get_weather", Arguments: `{"city":"Paris"}`},
			{ID: "call_b", Type: "function", Name: "get_weather", Arguments: `{"city":"Rome"}`},
		}})},
	}, {
		name: "sloppy: no index",
		frames: []string{
			tapChunk(tapDelta(0, `{"role":"assistant","tool_calls":[{"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\""}}]}`)),
			tapChunk(tapDelta(0, `{"tool_calls":[{"function":{"arguments":":\"Paris\"}"}}]}`)),
			tapChunk(tapDelta(0, `{"tool_calls":[{"id":"call_b","type":"function","function":{"name":"get_time"}}]}`)),
			tapChunk(tapDelta(0, `{"tool_calls":[{"function":{"arguments":"{}"}}]}`)),
		},
		first: 0,
		want: provider.Exchange{Response: msg(provider.Message{Role: "assistant", ToolCalls: []provider.ToolCall{
			{ID: "call_a", Type: "function", Name: "get_weather", Arguments: `{"city":"Paris"}`},
			{ID: "call_b", Type: "function", Name: "get_time", Arguments: `{}`},
		}})},
	}, {
		name: "sloppy: no index and no id",
		frames: []string{
			tapChunk(tapDelta(0, `{"tool_calls":[{"function":{"name":"get_time","arguments":"{\"tz\":"}}]}`)),
			tapChunk(tapDelta(0, `{"tool_calls":[{"function":{"arguments":"\"UTC\"}"}}]}`)),
		},
		first: 0,
		want: provider.Exchange{Response: msg(provider.Message{Role: "assistant", ToolCalls: []provider.ToolCall{
			{Name: "get_time", Arguments: `{"tz":"UTC"}`},
		}})},
	}, {
		name: "sloppy: no index, an id after a call without one starts a call",
		frames: []string{
			tapChunk(tapDelta(0, `{"tool_calls":[{"function":{"name":"f","arguments":"{}"}}]}`)),
			tapChunk(tapDelta(0, `{"tool_calls":[{"id":"call_b","function":{"name":"g","arguments":"[]"}}]}`)),
		},
		first: 0,
		want: provider.Exchange{Response: msg(provider.Message{Role: "assistant", ToolCalls: []provider.ToolCall{
			{Name: "f", Arguments: `{}`},
			{ID: "call_b", Name: "g", Arguments: `[]`},
		}})},
	}, {
		name: "sloppy: no index, id repeated in every fragment",
		frames: []string{
			tapChunk(tapDelta(0, `{"tool_calls":[{"id":"call_a","function":{"name":"f","arguments":"{\"a\""}}]}`)),
			tapChunk(tapDelta(0, `{"tool_calls":[{"id":"call_a","function":{"arguments":":1}"}}]}`)),
		},
		first: 0,
		want: provider.Exchange{Response: msg(provider.Message{Role: "assistant", ToolCalls: []provider.ToolCall{
			{ID: "call_a", Name: "f", Arguments: `{"a":1}`},
		}})},
	}, {
		name: "sloppy: id, name and role repeated in every fragment",
		frames: []string{
			tapChunk(tapDelta(0, `{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":"}}]}`)),
			tapChunk(tapDelta(0, `{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"\"Paris\"}"}}]}`)),
		},
		first: 0,
		want: provider.Exchange{Response: msg(provider.Message{Role: "assistant", ToolCalls: []provider.ToolCall{
			{ID: "call_a", Type: "function", Name: "get_weather", Arguments: `{"city":"Paris"}`},
		}})},
	}, {
		name: "sloppy: arguments null, then pieces",
		frames: []string{
			tapChunk(tapDelta(0, `{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"f","arguments":null}}]}`)),
			tapChunk(tapDelta(0, `{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}`)),
		},
		first: 0,
		want: provider.Exchange{Response: msg(provider.Message{Role: "assistant", ToolCalls: []provider.ToolCall{
			{ID: "call_a", Type: "function", Name: "f", Arguments: `{}`},
		}})},
	}, {
		name: "legacy function_call deltas",
		frames: []string{
			tapChunk(tapDelta(0, `{"role":"assistant","content":null,"function_call":{"name":"lookup","arguments":""}}`)),
			tapChunk(tapDelta(0, `{"function_call":{"arguments":"{\"q\""}}`)),
			tapChunk(tapDelta(0, `{"function_call":{"arguments":":1}"}}`)),
			tapChunk(`{"index":0,"delta":{},"finish_reason":"function_call"}`),
		},
		first: 0,
		want: provider.Exchange{Response: msg(provider.Message{Role: "assistant", FinishReason: "function_call",
			ToolCalls: []provider.ToolCall{{Type: "function", Name: "lookup", Arguments: `{"q":1}`}}})},
	}, {
		name: "error event after some text",
		frames: []string{
			tapChunk(tapDelta(0, `{"role":"assistant","content":"Hel"}`)),
			tapData(`{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}`),
		},
		first: 0,
		want: provider.Exchange{Response: msg(provider.Message{Role: "assistant", Parts: tapText("Hel")}),
			Error: &provider.APIError{Type: "server_error", Message: "The server had an error while processing your request."}},
	}, {
		name: "error event with event type, vLLM shape",
		frames: []string{
			"event: error\n" + tapData(`{"object":"error","message":"context length exceeded","type":"BadRequestError","param":null,"code":400}`),
			tapData(`[DONE]`),
		},
		first: -1,
		want:  provider.Exchange{Error: &provider.APIError{Type: "BadRequestError", Code: "400", Message: "context length exceeded"}},
	}, {
		name: "usage repeated in every chunk: the last wins",
		frames: []string{
			tapData(`{"choices":[{"index":0,"delta":{"content":"a"}}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`),
			tapData(`{"choices":[{"index":0,"delta":{"content":"b"}}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`),
			tapData(`{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}`),
		},
		first: 0,
		want: provider.Exchange{Response: msg(provider.Message{Role: "assistant", Parts: tapText("ab"), FinishReason: "stop"}),
			Usage: &provider.Usage{Input: 3, Output: 2, Total: 5}},
	}, {
		name: "CRLF, comments and a stream cut without a last blank line",
		frames: []string{
			": keep-alive\r\ndata: " + `{"choices":[{"index":0,"delta":{"role":"assistant","content":"a"}}]}` + "\r",
			"data: " + `{"choices":[{"index":0,"delta":{"content":"b"}}]}`,
		},
		first: 0,
		want:  provider.Exchange{Response: msg(provider.Message{Role: "assistant", Parts: tapText("ab")})},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tapSSE(tt.frames...)
			if strings.Contains(tt.name, "cut") {
				body = strings.TrimSuffix(body, "\n\n")
			}
			got := tapParse(t, tapRec{path: "/v1/chat/completions", req: req, resType: tapSSEType, res: body}.record())
			want := tt.want
			want.API, want.Stream, want.Model = provider.OpenAIChat, true, "gpt-4o"
			want.Request = []provider.Message{{Role: "user", Parts: tapText("Hi")}}
			want.FirstTokenOffset = tapOffset(tt.frames, tt.first)
			if tt.first == 0 && strings.HasPrefix(tt.frames[0], ":") {
				want.FirstTokenOffset = int64(len(": keep-alive\r\n"))
			}
			want.FirstTokenOffset = tapLastByte(body, want.FirstTokenOffset)
			tapCheck(t, got, &want)
		})
	}
}

func TestChatStreamModelFromChunks(t *testing.T) {
	frames := []string{tapChunk(tapDelta(0, `{"content":"x"}`))}
	got := tapParse(t, tapRec{path: "/v1/chat/completions", req: `{"messages":[]}`, resType: tapSSEType, res: tapSSE(frames...)}.record())
	if got.Model != "gpt-4o-2024-08-06" {
		t.Errorf("Model = %q, want the chunks' model", got.Model)
	}
}

// tapSplits lists every way to cut s in two on a rune boundary.
func tapSplits(s string) [][2]string {
	var out [][2]string
	for i := 0; i <= len(s); i++ {
		if i == len(s) || utf8.RuneStart(s[i]) {
			out = append(out, [2]string{s[:i], s[i:]})
		}
	}
	return out
}

// TestChatStreamSplits cuts text and tool-call arguments into two deltas at
// every rune boundary (every byte of ASCII, every whole character of
// multibyte text), sent as raw UTF-8 and as \u escapes, and checks that
// the reassembly is exact.
func TestChatStreamSplits(t *testing.T) {
	texts := []string{
		"Héllo wörld ☀️!",
		"日本語 😀 done",
		"a\u2028b\u0085c\u2029d\r\ne",
		"```go\nfmt.Println(\"x\")\n```",
	}
	args := []string{
		`{"city":"Zürich ☀️","days":[1,2],"note":"say \"hi\"\n"}`,
		`{"q":"😀"}`,
	}
	enc := map[string]func(string) string{"utf8": func(s string) string { return tapJSON(s) }, "ascii": tapASCII}
	for name, quote := range enc {
		for _, s := range texts {
			for _, sp := range tapSplits(s) {
				t.Run(name+"/text/"+tapJSON(sp[0])+"|"+tapJSON(sp[1]), func(t *testing.T) {
					frames := []string{
						tapChunk(tapDelta(0, `{"role":"assistant","content":`+quote(sp[0])+`}`)),
						tapChunk(tapDelta(0, `{"content":`+quote(sp[1])+`}`)),
						tapData("[DONE]"),
					}
					got := tapParse(t, tapRec{path: "/v1/chat/completions", req: `{"model":"m"}`, resType: tapSSEType, res: tapSSE(frames...)}.record())
					if len(got.Response) != 1 || len(got.Response[0].Parts) != 1 || got.Response[0].Parts[0].Text != s {
						t.Fatalf("got %+v, want text %q", got.Response, s)
					}
				})
			}
		}
		for _, a := range args {
			for _, sp := range tapSplits(a) {
				t.Run(name+"/args/"+tapJSON(sp[0])+"|"+tapJSON(sp[1]), func(t *testing.T) {
					frames := []string{
						tapChunk(tapDelta(0, `{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":`+quote(sp[0])+`}}]}`)),
						tapChunk(tapDelta(0, `{"tool_calls":[{"index":0,"function":{"arguments":`+quote(sp[1])+`}}]}`)),
					}
					got := tapParse(t, tapRec{path: "/v1/chat/completions", req: `{"model":"m"}`, resType: tapSSEType, res: tapSSE(frames...)}.record())
					want := []provider.ToolCall{{ID: "call_1", Type: "function", Name: "f", Arguments: a}}
					if len(got.Response) != 1 || !tapEqualCalls(got.Response[0].ToolCalls, want) {
						t.Fatalf("got %+v, want calls %+v", got.Response, want)
					}
				})
			}
		}
	}
}

func tapEqualCalls(a, b []provider.ToolCall) bool {
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

// TestChatFakeUpstream parses real-shaped answers of the fake upstream.
func TestChatFakeUpstream(t *testing.T) {
	const greeting = `Héllo wörld ☀️! You said: "Hi".`
	hi := []provider.Message{{Role: "user", Parts: tapText("Hi")}}
	tests := []struct {
		name string
		req  string
		want provider.Exchange
	}{{
		name: "json reasoning model",
		req:  `{"model":"o3","messages":[{"role":"user","content":"Hi"}]}`,
		want: provider.Exchange{Model: "o3", Request: hi, FirstTokenOffset: -1,
			Response: []provider.Message{{Role: "assistant", Parts: tapText(greeting), FinishReason: "stop"}},
			Usage:    &provider.Usage{Input: 5, Output: 22, Total: 27, Reasoning: 16}},
	}, {
		name: "stream n=2 with usage",
		req:  `{"model":"gpt-4o","stream":true,"n":2,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Hi"}]}`,
		want: provider.Exchange{Model: "gpt-4o", Stream: true, Request: hi,
			Response: []provider.Message{
				{Role: "assistant", Choice: 0, Parts: tapText(greeting), FinishReason: "stop"},
				{Role: "assistant", Choice: 1, Parts: tapText("[1] " + greeting), FinishReason: "stop"},
			},
			Usage: &provider.Usage{Input: 5, Output: 6, Total: 11}},
	}, {
		name: "stream tool call",
		req:  `{"model":"gpt-4o","stream":true,"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather"}}],"messages":[{"role":"user","content":"Hi"}]}`,
		want: provider.Exchange{Model: "gpt-4o", Stream: true, Request: hi, FirstTokenOffset: 0,
			Tools: []provider.Tool{{Name: "get_weather", Description: "Weather"}},
			Response: []provider.Message{{Role: "assistant", FinishReason: "tool_calls", ToolCalls: []provider.ToolCall{
				{ID: "call_fake_1", Type: "function", Name: "get_weather", Arguments: `{"city":"Paris"}`}}}}},
	}, {
		name: "tool result answered, json",
		req: `{"model":"gpt-4o","messages":[{"role":"user","content":"Hi"},
			{"role":"assistant","content":null,"tool_calls":[{"id":"call_fake_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
			{"role":"tool","tool_call_id":"call_fake_1","content":"18°C"}]}`,
		want: provider.Exchange{Model: "gpt-4o", FirstTokenOffset: -1,
			Request: []provider.Message{hi[0],
				{Role: "assistant", ToolCalls: []provider.ToolCall{{ID: "call_fake_1", Type: "function", Name: "get_weather", Arguments: `{"city":"Paris"}`}}},
				{Role: "tool", ToolCallID: "call_fake_1", Parts: tapText("18°C")}},
			Response: []provider.Message{{Role: "assistant", FinishReason: "stop",
				Parts: tapText("Based on the tool result (18°C): Héllo wörld ☀️! Have a lovely day.")}},
			Usage: &provider.Usage{Input: 15, Output: 13, Total: 28, CachedInput: 9}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tapFake(t, "POST", "/v1/chat/completions", tt.req)
			got := tapParse(t, r.record())
			want := tt.want
			want.API = provider.OpenAIChat
			if tt.name == "stream n=2 with usage" {
				// The first content is the third event: two role chunks come first.
				frames := strings.SplitAfter(r.res, "\n\n")
				want.FirstTokenOffset = int64(len(frames[0]) + len(frames[1]))
			}
			want.FirstTokenOffset = tapLastByte(r.res, want.FirstTokenOffset)
			tapCheck(t, got, &want)
		})
	}
}

// BenchmarkParseStream measures Parse on large streamed records of the fake
// upstream, in bytes of record per second.
func BenchmarkParseStream(b *testing.B) {
	benchStreamViews(b, func(b *testing.B, view record.View) {
		if ex := provider.Parse(view); len(ex.Response) != 1 {
			b.Fatal("no answer")
		}
	})
}

// benchStreamViews runs each on the view of each of two large streamed
// records of the fake upstream (chat and responses), as sub-benchmarks, in
// bytes of record per second: the record is parsed anew each time.
func benchStreamViews(b *testing.B, each func(b *testing.B, view record.View)) {
	for _, bc := range []struct{ name, path, req string }{
		{"chat", "/v1/chat/completions", `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"Hi"}]}`},
		{"responses", "/v1/responses", `{"model":"gpt-4o","stream":true,"input":"Hi"}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			rec := tapFake(b, "POST", bc.path, bc.req, "X-Fake-Size", "1000000").record()
			line := rec.AppendJSON(nil)
			var p fastjson.Parser
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			for b.Loop() {
				v, err := p.ParseBytes(line)
				if err != nil {
					b.Fatal(err)
				}
				view, _ := record.NewView(v)
				each(b, view)
			}
		})
	}
}

// TestStreamAllocs: reassembling a stream allocates per stream, not per
// event: ten times the events cost only a few more allocations, far fewer
// than one per event. Some servers repeat the role in every chunk.
func TestStreamAllocs(t *testing.T) {
	streams := []struct {
		name, path, req string
		event           func(i int) string
	}{
		{"chat", "/v1/chat/completions", `{"model":"m","stream":true,"messages":[]}`, func(i int) string {
			return tapChunk(tapDelta(0, `{"role":"assistant","content":"tok `+tapJSON(i)+`"}`))
		}},
		{"responses", "/v1/responses", `{"model":"m","stream":true,"input":"Hi"}`, func(i int) string {
			return tapREvent("response.output_text.delta", `"item_id":"msg_1","output_index":0,"content_index":0,"delta":"tok"`)
		}},
		{"anthropic", "/v1/messages", `{"model":"m","stream":true,"messages":[]}`, func(i int) string {
			return tapEvent("content_block_delta", tapJSON(anthDelta(0, jobj{"type": "text_delta", "text": "tok"})))
		}},
	}
	for _, s := range streams {
		t.Run(s.name, func(t *testing.T) {
			allocs := func(events int) float64 {
				frames := make([]string, events)
				for i := range frames {
					frames[i] = s.event(i)
				}
				rec := tapRec{path: s.path, req: s.req, resType: tapSSEType, res: tapSSE(frames...)}.record()
				line := rec.AppendJSON(nil)
				var p fastjson.Parser
				return testing.AllocsPerRun(20, func() {
					v, _ := p.ParseBytes(line)
					view, _ := record.NewView(v)
					if ex := provider.Parse(view); len(ex.Response) != 1 {
						t.Fatalf("%d messages, want 1", len(ex.Response))
					}
				})
			}
			// 900 more events; an allocation per event would add 900. A few
			// more come from growing buffers, and under -race from
			// sync.Pool dropping items at random.
			few, many := allocs(100), allocs(1000)
			if many-few > 100 {
				t.Errorf("%.0f allocations for 100 events, %.0f for 1000; want at most 100 more", few, many)
			}
		})
	}
}
