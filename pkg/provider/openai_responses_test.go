package provider_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/llmtap/llmtap/pkg/provider"
)

func TestResponsesRequest(t *testing.T) {
	tests := []struct {
		name string
		req  string
		want provider.Exchange
	}{{
		name: "instructions, string input, tools",
		req: `{"model":"gpt-5","instructions":"Be terse.","input":"Hi","tools":[
			{"type":"function","name":"get_weather","description":"Weather by city","parameters":{"type":"object"},"strict":true},
			{"type":"web_search_preview"},
			{"type":"file_search","vector_store_ids":["vs_1"]},
			{"type":"mcp","server_label":"deepwiki","server_url":"https://mcp.deepwiki.com/mcp"},
			{"type":"custom","name":"grammar","description":"Free text"}]}`,
		want: provider.Exchange{Model: "gpt-5",
			Request: []provider.Message{
				{Role: "system", Parts: tapText("Be terse.")},
				{Role: "user", Parts: tapText("Hi")},
			},
			Tools: []provider.Tool{
				{Name: "get_weather", Description: "Weather by city"},
				{Name: "web_search_preview"},
				{Name: "file_search"},
				{Name: "mcp", Description: "deepwiki"},
				{Name: "grammar", Description: "Free text"},
			}},
	}, {
		name: "items",
		req: `{"model":"gpt-5","instructions":"Be terse.","input":[
			{"role":"developer","content":"Use metric."},
			{"type":"message","role":"user","content":[
				{"type":"input_text","text":"What is in these?"},
				{"type":"input_image","image_url":"data:image/jpeg;base64,` + tapB64 + `","detail":"auto"},
				{"type":"input_image","image_url":"https://example.com/a.png"},
				{"type":"input_image","file_id":"file-img"},
				{"type":"input_file","filename":"a.pdf","file_data":"data:application/pdf;base64,` + tapB64 + `"},
				{"type":"input_file","file_url":"https://example.com/b.pdf"},
				{"type":"input_audio","input_audio":{"data":"` + tapB64 + `","format":"wav"}}]},
			{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"First."},{"type":"summary_text","text":"Second."}]},
			{"type":"message","role":"assistant","id":"msg_1","status":"completed","content":[{"type":"output_text","text":"Let me check.","annotations":[]}]},
			{"type":"function_call","id":"fc_1","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}","status":"completed"},
			{"type":"function_call","id":"fc_2","call_id":"call_2","name":"get_time","arguments":"{}","status":"completed"},
			{"type":"function_call_output","call_id":"call_1","output":"18°C"},
			{"type":"function_call_output","call_id":"call_2","output":[{"type":"input_text","text":"12:00"}]},
			{"type":"reasoning","id":"rs_2","summary":[],"encrypted_content":"gAAAAABo-secret"},
			{"type":"web_search_call","id":"ws_1","status":"completed","action":{"type":"search","query":"paris weather"}},
			{"type":"message","role":"assistant","content":[{"type":"refusal","refusal":"No."}]},
			{"type":"computer_call_output","call_id":"cu_1","output":{"type":"input_image","image_url":"data:image/png;base64,` + tapB64 + `"}},
			{"type":"custom_tool_call","call_id":"call_3","name":"grammar","input":"x+1"},
			{"type":"custom_tool_call_output","call_id":"call_3","output":"ok"},
			{"type":"reasoning","id":"rs_3","summary":[],"content":[{"type":"reasoning_text","text":"Raw thought."}]},
			{"role":"user","content":"Thanks"}]}`,
		want: provider.Exchange{Model: "gpt-5",
			Request: []provider.Message{
				{Role: "system", Parts: tapText("Be terse.")},
				{Role: "developer", Parts: tapText("Use metric.")},
				{Role: "user", Parts: []provider.Part{
					{Kind: provider.PartText, Text: "What is in these?"},
					{Kind: provider.PartImage, MediaType: "image/jpeg", Bytes: 300},
					{Kind: provider.PartImage, URL: "https://example.com/a.png"},
					{Kind: provider.PartImage, URL: "file-img"},
					{Kind: provider.PartFile, Name: "a.pdf", MediaType: "application/pdf", Bytes: 300},
					{Kind: provider.PartFile, URL: "https://example.com/b.pdf"},
					{Kind: provider.PartAudio, MediaType: "audio/wav", Bytes: 300},
				}},
				{Role: "assistant", Reasoning: "First.\n\nSecond.", Parts: tapText("Let me check."), ToolCalls: []provider.ToolCall{
					{ID: "call_1", Type: "function", Name: "get_weather", Arguments: `{"city":"Paris"}`},
					{ID: "call_2", Type: "function", Name: "get_time", Arguments: `{}`},
				}},
				{Role: "tool", ToolCallID: "call_1", Parts: tapText("18°C")},
				{Role: "tool", ToolCallID: "call_2", Parts: tapText("12:00")},
				{Role: "assistant", RedactedReasoning: true, Refusal: "No.", Parts: []provider.Part{
					{Kind: provider.PartOther, Text: `{"type":"web_search_call","id":"ws_1","status":"completed","action":{"type":"search","query":"paris weather"}}`},
				}},
				{Role: "tool", ToolCallID: "cu_1", Parts: []provider.Part{
					{Kind: provider.PartOther, Text: `{"type":"computer_call_output","call_id":"cu_1","output":{"type":"input_image","image_url":"[image/png data, 300 B]"}}`},
				}},
				{Role: "assistant", ToolCalls: []provider.ToolCall{{ID: "call_3", Type: "custom", Name: "grammar", Arguments: "x+1"}}},
				{Role: "tool", ToolCallID: "call_3", Parts: tapText("ok")},
				{Role: "assistant", Reasoning: "Raw thought."},
				{Role: "user", Parts: tapText("Thanks")},
			}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tapParse(t, tapRec{path: "/v1/responses", req: tt.req, noResponse: true}.record())
			want := tt.want
			want.API, want.FirstTokenOffset = provider.OpenAIResponses, -1
			tapCheck(t, got, &want)
			if b, _ := json.Marshal(got); strings.Contains(string(b), tapB64[:40]) {
				t.Errorf("base64 data kept in the Exchange: %s", b)
			}
		})
	}
}

func TestResponsesJSON(t *testing.T) {
	const req = `{"model":"gpt-5","input":"Hi"}`
	tests := []struct {
		name   string
		req    string
		status int
		res    string
		want   provider.Exchange
	}{{
		name: "reasoning, message and call make one answer",
		res: `{"id":"resp_1","object":"response","status":"completed","error":null,"incomplete_details":null,"model":"gpt-5-2025-08-07","output":[
			{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"Think."}]},
			{"type":"message","id":"msg_1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Checking.","annotations":[]}]},
			{"type":"function_call","id":"fc_1","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}","status":"completed"}],
			"usage":{"input_tokens":10,"input_tokens_details":{"cached_tokens":4},"output_tokens":20,"output_tokens_details":{"reasoning_tokens":12},"total_tokens":30}}`,
		want: provider.Exchange{
			Response: []provider.Message{{Role: "assistant", Reasoning: "Think.", Parts: tapText("Checking."), FinishReason: "completed",
				ToolCalls: []provider.ToolCall{{ID: "call_1", Type: "function", Name: "get_weather", Arguments: `{"city":"Paris"}`}}}},
			Usage: &provider.Usage{Input: 10, Output: 20, Total: 30, CachedInput: 4, Reasoning: 12}},
	}, {
		name: "web search call and refusal",
		res: `{"object":"response","status":"completed","output":[
			{"type":"web_search_call","id":"ws_1","status":"completed"},
			{"type":"message","role":"assistant","content":[{"type":"refusal","refusal":"I can't."}]}]}`,
		want: provider.Exchange{Response: []provider.Message{{Role: "assistant", Refusal: "I can't.", FinishReason: "completed",
			Parts: []provider.Part{{Kind: provider.PartOther, Text: `{"type":"web_search_call","id":"ws_1","status":"completed"}`}}}}},
	}, {
		name: "image generation result never kept",
		res: `{"object":"response","status":"completed","output":[
			{"type":"image_generation_call","id":"ig_1","status":"completed","result":"` + tapB64 + `"}]}`,
		want: provider.Exchange{Response: []provider.Message{{Role: "assistant", FinishReason: "completed",
			Parts: []provider.Part{{Kind: provider.PartOther, Text: `{"type":"image_generation_call","id":"ig_1","status":"completed","result":"[base64 data, 300 B]"}`}}}}},
	}, {
		name: "incomplete",
		res: `{"object":"response","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[
			{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Once upon"}]}]}`,
		want: provider.Exchange{Response: []provider.Message{{Role: "assistant", Parts: tapText("Once upon"), FinishReason: "max_output_tokens"}}},
	}, {
		name: "failed",
		res:  `{"object":"response","status":"failed","error":{"code":"server_error","message":"The model failed."},"output":[]}`,
		want: provider.Exchange{Error: &provider.APIError{Code: "server_error", Message: "The model failed."}},
	}, {
		name:   "error 400",
		status: 400,
		res:    `{"error":{"message":"Unsupported parameter: 'temperature'.","type":"invalid_request_error","param":"temperature","code":"unsupported_parameter"}}`,
		want:   provider.Exchange{Error: &provider.APIError{Type: "invalid_request_error", Code: "unsupported_parameter", Message: "Unsupported parameter: 'temperature'."}},
	}, {
		name: "model from the response",
		req:  `{"input":"Hi"}`,
		res:  `{"object":"response","status":"completed","model":"gpt-4.1","output":[{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Yo"}]}]}`,
		want: provider.Exchange{Model: "gpt-4.1", Request: []provider.Message{{Role: "user", Parts: tapText("Hi")}},
			Response: []provider.Message{{Role: "assistant", Parts: tapText("Yo"), FinishReason: "completed"}}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tapRec{path: "/v1/responses", req: tt.req, status: tt.status, resType: tapJSONType, res: tt.res}
			want := tt.want
			if r.req == "" {
				r.req = req
				want.Model = "gpt-5"
				want.Request = []provider.Message{{Role: "user", Parts: tapText("Hi")}}
			}
			want.API, want.FirstTokenOffset = provider.OpenAIResponses, -1
			tapCheck(t, tapParse(t, r.record()), &want)
		})
	}
}

// tapREvent is a Responses stream event: its type as the SSE event name and
// in the JSON.
func tapREvent(typ, fields string) string {
	if fields != "" {
		fields = "," + fields
	}
	return tapEvent(typ, `{"type":"`+typ+`","sequence_number":0`+fields+`}`)
}

func TestResponsesStream(t *testing.T) {
	const req = `{"model":"gpt-5","input":"Hi","stream":true}`
	created := tapREvent("response.created", `"response":{"id":"resp_1","object":"response","status":"in_progress","model":"gpt-5-2025-08-07","output":[],"usage":null}`)
	msgAdded := tapREvent("response.output_item.added", `"output_index":0,"item":{"type":"message","id":"msg_1","status":"in_progress","role":"assistant","content":[]}`)
	textDelta := func(out int, d string) string {
		return tapREvent("response.output_text.delta", `"output_index":`+tapJSON(out)+`,"item_id":"msg_1","content_index":0,"delta":`+tapJSON(d))
	}
	tests := []struct {
		name   string
		req    string
		frames []string
		first  int
		want   provider.Exchange
	}{{
		name:   "text deltas, stream cut before the end",
		frames: []string{created, msgAdded, textDelta(0, "Hel"), textDelta(0, "lo ☀️")},
		first:  2,
		want:   provider.Exchange{Response: []provider.Message{{Role: "assistant", Parts: tapText("Hello ☀️")}}},
	}, {
		name: "response.completed output preferred",
		frames: []string{created, msgAdded, textDelta(0, "Hel"),
			tapREvent("response.completed", `"response":{"status":"completed","output":[{"type":"message","id":"msg_1","role":"assistant","content":[{"type":"output_text","text":"Hello","annotations":[]}]}],"usage":{"input_tokens":5,"input_tokens_details":{"cached_tokens":0},"output_tokens":2,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":7}}`)},
		first: 2,
		want: provider.Exchange{Response: []provider.Message{{Role: "assistant", Parts: tapText("Hello"), FinishReason: "completed"}},
			Usage: &provider.Usage{Input: 5, Output: 2, Total: 7}},
	}, {
		name: "output_item.done used when no delta came",
		frames: []string{created, msgAdded,
			tapREvent("response.output_item.done", `"output_index":0,"item":{"type":"message","id":"msg_1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Whole."}]}`)},
		first: -1,
		want:  provider.Exchange{Response: []provider.Message{{Role: "assistant", Parts: tapText("Whole.")}}},
	}, {
		name: "function call: added, then argument deltas",
		frames: []string{created,
			tapREvent("response.output_item.added", `"output_index":0,"item":{"type":"function_call","id":"fc_1","call_id":"call_1","name":"get_weather","arguments":"","status":"in_progress"}`),
			tapREvent("response.function_call_arguments.delta", `"output_index":0,"item_id":"fc_1","delta":"{\"city\":"`),
			tapREvent("response.function_call_arguments.delta", `"output_index":0,"item_id":"fc_1","delta":"\"Paris\"}"`),
			tapREvent("response.function_call_arguments.done", `"output_index":0,"item_id":"fc_1","arguments":"{\"city\":\"Paris\"}"`),
		},
		first: 1,
		want: provider.Exchange{Response: []provider.Message{{Role: "assistant",
			ToolCalls: []provider.ToolCall{{ID: "call_1", Type: "function", Name: "get_weather", Arguments: `{"city":"Paris"}`}}}}},
	}, {
		name: "reasoning summary and text deltas, then a message",
		frames: []string{created,
			tapREvent("response.output_item.added", `"output_index":0,"item":{"type":"reasoning","id":"rs_1","summary":[]}`),
			tapREvent("response.reasoning_summary_part.added", `"output_index":0,"item_id":"rs_1","summary_index":0,"part":{"type":"summary_text","text":""}`),
			tapREvent("response.reasoning_summary_text.delta", `"output_index":0,"item_id":"rs_1","summary_index":0,"delta":"First"`),
			tapREvent("response.reasoning_summary_text.delta", `"output_index":0,"item_id":"rs_1","summary_index":0,"delta":"."`),
			tapREvent("response.reasoning_summary_text.delta", `"output_index":0,"item_id":"rs_1","summary_index":1,"delta":"Second."`),
			tapREvent("response.output_item.added", `"output_index":1,"item":{"type":"message","id":"msg_1","role":"assistant","content":[]}`),
			textDelta(1, "Answer."),
		},
		first: 3,
		want:  provider.Exchange{Response: []provider.Message{{Role: "assistant", Reasoning: "First.\n\nSecond.", Parts: tapText("Answer.")}}},
	}, {
		name: "reasoning_text deltas",
		frames: []string{created,
			tapREvent("response.output_item.added", `"output_index":0,"item":{"type":"reasoning","id":"rs_1"}`),
			tapREvent("response.reasoning_text.delta", `"output_index":0,"item_id":"rs_1","content_index":0,"delta":"Raw "`),
			tapREvent("response.reasoning_text.delta", `"output_index":0,"item_id":"rs_1","content_index":0,"delta":"thought."`),
		},
		first: 2,
		want:  provider.Exchange{Response: []provider.Message{{Role: "assistant", Reasoning: "Raw thought."}}},
	}, {
		name: "refusal deltas",
		frames: []string{created, msgAdded,
			tapREvent("response.refusal.delta", `"output_index":0,"item_id":"msg_1","content_index":0,"delta":"I can't"`),
			tapREvent("response.refusal.delta", `"output_index":0,"item_id":"msg_1","content_index":0,"delta":" help."`),
		},
		first: 2,
		want:  provider.Exchange{Response: []provider.Message{{Role: "assistant", Refusal: "I can't help."}}},
	}, {
		name: "items keyed by item_id, events out of output order",
		frames: []string{
			tapREvent("response.output_item.added", `"output_index":1,"item":{"type":"function_call","id":"fc_1","call_id":"call_1","name":"f"}`),
			tapREvent("response.function_call_arguments.delta", `"item_id":"fc_1","delta":"{}"`),
			tapREvent("response.output_item.added", `"output_index":0,"item":{"type":"message","id":"msg_1","role":"assistant","content":[]}`),
			tapREvent("response.output_text.delta", `"item_id":"msg_1","content_index":0,"delta":"Calling."`),
		},
		first: 0,
		want: provider.Exchange{Response: []provider.Message{{Role: "assistant", Parts: tapText("Calling."),
			ToolCalls: []provider.ToolCall{{ID: "call_1", Type: "function", Name: "f", Arguments: "{}"}}}}},
	}, {
		name: "deltas without any item event",
		frames: []string{
			tapREvent("response.output_text.delta", `"output_index":0,"item_id":"msg_1","content_index":0,"delta":"Hi"`),
		},
		first: 0,
		want:  provider.Exchange{Response: []provider.Message{{Role: "assistant", Parts: tapText("Hi")}}},
	}, {
		name: "deltas with neither index nor id continue the latest item",
		frames: []string{
			tapREvent("response.output_item.added", `"item":{"type":"message","id":"msg_1","role":"assistant","content":[]}`),
			tapREvent("response.output_text.delta", `"delta":"A"`),
			tapREvent("response.output_text.delta", `"delta":"B"`),
		},
		first: 1,
		want:  provider.Exchange{Response: []provider.Message{{Role: "assistant", Parts: tapText("AB")}}},
	}, {
		name: "huge and negative indexes",
		frames: []string{
			tapREvent("response.reasoning_summary_text.delta", `"output_index":-5,"item_id":"rs_1","summary_index":2000000000,"delta":"B"`),
			tapREvent("response.reasoning_summary_text.delta", `"output_index":-5,"item_id":"rs_1","summary_index":-1,"delta":"A"`),
		},
		first: 0,
		want:  provider.Exchange{Response: []provider.Message{{Role: "assistant", Reasoning: "A\n\nB"}}},
	}, {
		name: "response.failed",
		frames: []string{created, msgAdded, textDelta(0, "Hel"),
			tapREvent("response.failed", `"response":{"status":"failed","error":{"code":"server_error","message":"The model failed."},"output":[]}`)},
		first: 2,
		want: provider.Exchange{Response: []provider.Message{{Role: "assistant", Parts: tapText("Hel"), FinishReason: "failed"}},
			Error: &provider.APIError{Code: "server_error", Message: "The model failed."}},
	}, {
		name:   "response.incomplete",
		frames: []string{created, msgAdded, textDelta(0, "Once"), tapREvent("response.incomplete", `"response":{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"}}`)},
		first:  2,
		want:   provider.Exchange{Response: []provider.Message{{Role: "assistant", Parts: tapText("Once"), FinishReason: "max_output_tokens"}}},
	}, {
		name:   "error event",
		frames: []string{created, tapREvent("error", `"code":"rate_limit_exceeded","message":"Slow down.","param":null`)},
		first:  -1,
		want:   provider.Exchange{Error: &provider.APIError{Code: "rate_limit_exceeded", Message: "Slow down."}},
	}, {
		name:   "model from response.created",
		req:    `{"input":"Hi","stream":true}`,
		frames: []string{created, msgAdded, textDelta(0, "Yo")},
		first:  2,
		want: provider.Exchange{Model: "gpt-5-2025-08-07", Request: []provider.Message{{Role: "user", Parts: tapText("Hi")}},
			Response: []provider.Message{{Role: "assistant", Parts: tapText("Yo")}}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tapRec{path: "/v1/responses", req: tt.req, resType: tapSSEType, res: tapSSE(tt.frames...)}
			want := tt.want
			if r.req == "" {
				r.req = req
				want.Model = "gpt-5"
				want.Request = []provider.Message{{Role: "user", Parts: tapText("Hi")}}
			}
			want.API, want.Stream = provider.OpenAIResponses, true
			want.FirstTokenOffset = tapLastByte(tapSSE(tt.frames...), tapOffset(tt.frames, tt.first))
			tapCheck(t, tapParse(t, r.record()), &want)
		})
	}
}

// TestResponsesStreamSplits cuts text and call arguments into two deltas at
// every rune boundary, with no response.completed to fall back on.
func TestResponsesStreamSplits(t *testing.T) {
	enc := map[string]func(string) string{"utf8": func(s string) string { return tapJSON(s) }, "ascii": tapASCII}
	const s = "Héllo wörld ☀️! 日本語 😀\u2028end"
	const args = `{"city":"Zürich ☀️","note":"say \"hi\""}`
	for name, quote := range enc {
		for _, sp := range tapSplits(s) {
			t.Run(name+"/text/"+tapJSON(sp[0])+"|"+tapJSON(sp[1]), func(t *testing.T) {
				frames := []string{
					tapREvent("response.output_text.delta", `"output_index":0,"item_id":"msg_1","content_index":0,"delta":`+quote(sp[0])),
					tapREvent("response.output_text.delta", `"output_index":0,"item_id":"msg_1","content_index":0,"delta":`+quote(sp[1])),
				}
				got := tapParse(t, tapRec{path: "/v1/responses", req: `{"model":"m"}`, resType: tapSSEType, res: tapSSE(frames...)}.record())
				if len(got.Response) != 1 || len(got.Response[0].Parts) != 1 || got.Response[0].Parts[0].Text != s {
					t.Fatalf("got %+v, want text %q", got.Response, s)
				}
			})
		}
		for _, sp := range tapSplits(args) {
			t.Run(name+"/args/"+tapJSON(sp[0])+"|"+tapJSON(sp[1]), func(t *testing.T) {
				frames := []string{
					tapREvent("response.output_item.added", `"output_index":0,"item":{"type":"function_call","id":"fc_1","call_id":"call_1","name":"f","arguments":""}`),
					tapREvent("response.function_call_arguments.delta", `"output_index":0,"item_id":"fc_1","delta":`+quote(sp[0])),
					tapREvent("response.function_call_arguments.delta", `"output_index":0,"item_id":"fc_1","delta":`+quote(sp[1])),
				}
				got := tapParse(t, tapRec{path: "/v1/responses", req: `{"model":"m"}`, resType: tapSSEType, res: tapSSE(frames...)}.record())
				want := []provider.ToolCall{{ID: "call_1", Type: "function", Name: "f", Arguments: args}}
				if len(got.Response) != 1 || !tapEqualCalls(got.Response[0].ToolCalls, want) {
					t.Fatalf("got %+v, want calls %+v", got.Response, want)
				}
			})
		}
	}
}

// TestResponsesFakeUpstream parses real-shaped Responses answers, and checks
// that a stream reads as the JSON answer to the same request does.
func TestResponsesFakeUpstream(t *testing.T) {
	const greeting = `Héllo wörld ☀️! You said: "Hi".`
	tests := []struct {
		name string
		req  string
		want provider.Exchange
	}{{
		name: "text",
		req:  `{"model":"gpt-4o","instructions":"Be nice.","input":"Hi"}`,
		want: provider.Exchange{Model: "gpt-4o",
			Request:  []provider.Message{{Role: "system", Parts: tapText("Be nice.")}, {Role: "user", Parts: tapText("Hi")}},
			Response: []provider.Message{{Role: "assistant", Parts: tapText(greeting), FinishReason: "completed"}},
			Usage:    &provider.Usage{Input: 7, Output: 6, Total: 13}},
	}, {
		name: "tool call",
		req:  `{"model":"gpt-4o","input":[{"role":"user","content":"Hi"}],"tools":[{"type":"function","name":"get_weather"}]}`,
		want: provider.Exchange{Model: "gpt-4o",
			Request: []provider.Message{{Role: "user", Parts: tapText("Hi")}},
			Tools:   []provider.Tool{{Name: "get_weather"}},
			Response: []provider.Message{{Role: "assistant", FinishReason: "completed",
				ToolCalls: []provider.ToolCall{{ID: "call_fake_1", Type: "function", Name: "get_weather", Arguments: `{"city":"Paris"}`}}}},
			Usage: &provider.Usage{Input: 5, Output: 5, Total: 10}},
	}}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			t.Run(tt.name+map[bool]string{false: "/json", true: "/stream"}[stream], func(t *testing.T) {
				req := strings.TrimSuffix(tt.req, "}") + `,"stream":` + tapJSON(stream) + `}`
				r := tapFake(t, "POST", "/v1/responses", req)
				got := tapParse(t, r.record())
				want := tt.want
				want.API, want.Stream, want.FirstTokenOffset = provider.OpenAIResponses, stream, -1
				if stream {
					// The first content: the call's output_item.added, or the
					// first text delta.
					marker := "event: response.output_text.delta"
					if len(tt.want.Response[0].ToolCalls) > 0 {
						marker = "event: response.output_item.added"
					}
					want.FirstTokenOffset = tapLastByte(r.res, int64(strings.Index(r.res, marker)))
				}
				tapCheck(t, got, &want)
			})
		}
	}
}
