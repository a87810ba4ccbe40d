package provider_test

import (
	"reflect"
	"testing"

	"github.com/llmtap/llmtap/pkg/provider"
	"github.com/llmtap/llmtap/pkg/record"
	"github.com/valyala/fastjson"
)

// tapEnd is the End of frame k in tapSSE(frames...): just past its last
// line, which in these tests is its data line.
func tapEnd(frames []string, k int) int64 {
	return tapOffset(frames, k) + int64(len(frames[k]))
}

// measure encodes rec as a JSONL line, reads it back and measures it with
// m. The result lives until m measures again.
func measure(t testing.TB, m *provider.Meter, rec record.Record) *provider.Metrics {
	t.Helper()
	var p fastjson.Parser
	v, err := p.ParseBytes(rec.AppendJSON(nil))
	if err != nil {
		t.Fatal(err)
	}
	view, err := record.NewView(v)
	if err != nil {
		t.Fatal(err)
	}
	return m.Measure(view)
}

// out is an expected output event: the frame it ends and its kind.
type out struct {
	frame int
	kind  provider.OutputKind
}

func TestMeter(t *testing.T) {
	const (
		text      = provider.OutputText
		reasoning = provider.OutputReasoning
		tool      = provider.OutputToolCall
		refusal   = provider.OutputRefusal
		other     = provider.OutputOther
	)
	chatReq := `{"model":"m","stream":true,"messages":[]}`
	tests := []struct {
		name    string
		rec     tapRec
		frames  []string // the SSE frames of rec.res, when streamed
		want    provider.Metrics
		outputs []out
	}{{
		name: "chat: empty deltas, role chunks and bare tool-call fragments are not output",
		rec:  tapRec{path: "/v1/chat/completions", req: chatReq, resType: tapSSEType},
		frames: []string{
			tapChunk(tapDelta(0, `{"role":"assistant","content":""}`)),
			tapChunk(tapDelta(0, `{"reasoning_content":"hmm"}`)),
			tapChunk(tapDelta(0, `{"content":"Hi","reasoning_content":""}`)),
			tapChunk(tapDelta(0, `{"tool_calls":[{"index":0,"id":"c","type":"function","function":{"name":"f","arguments":""}}]}`)),
			tapChunk(tapDelta(0, `{"tool_calls":[{"index":0,"function":{"arguments":""}}]}`)),
			tapChunk(tapDelta(0, `{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}`)),
			tapChunk(tapDelta(0, `{"refusal":"no"}`)),
			tapChunk(tapDelta(0, `{"role":"assistant"}`)),
			`data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":4}}}`,
			tapData("[DONE]"),
		},
		want: provider.Metrics{Counted: true, API: provider.OpenAIChat, Model: "m", Stream: true, HasInput: true, HasOutput: true,
			Usage: provider.Usage{Input: 10, Output: 5, CachedInput: 4}},
		outputs: []out{{1, reasoning}, {2, text}, {3, tool}, {5, tool}, {6, refusal}},
	}, {
		name:    "chat: an error chunk is not output, and a stream without usage has none",
		rec:     tapRec{path: "/v1/chat/completions", req: `{"messages":[]}`, resType: tapSSEType},
		frames:  []string{tapChunk(tapDelta(0, `{"content":"a"}`)), tapData(`{"error":{"message":"boom","content":"x"}}`)},
		want:    provider.Metrics{Counted: true, API: provider.OpenAIChat, Model: "gpt-4o-2024-08-06", Stream: true},
		outputs: []out{{0, text}},
	}, {
		name:    "completions",
		rec:     tapRec{path: "/v1/completions", req: `{"model":"m","prompt":"p"}`, resType: tapSSEType},
		frames:  []string{tapData(`{"choices":[{"text":"","index":0}]}`), tapData(`{"choices":[{"text":"a","index":0}]}`), tapData("[DONE]")},
		want:    provider.Metrics{Counted: true, API: provider.OpenAICompletions, Model: "m", Stream: true},
		outputs: []out{{1, text}},
	}, {
		name: "responses: done events and response.completed repeat output",
		rec:  tapRec{path: "/v1/responses", req: `{"input":"hi"}`, resType: tapSSEType},
		frames: []string{
			tapREvent("response.created", `"response":{"model":"gpt-5"}`),
			tapREvent("response.output_item.added", `"output_index":0,"item":{"type":"reasoning","id":"r"}`),
			tapREvent("response.reasoning_summary_text.delta", `"output_index":0,"delta":"think"`),
			tapREvent("response.reasoning_summary_text.done", `"output_index":0,"text":"think"`),
			tapREvent("response.output_item.added", `"output_index":1,"item":{"type":"function_call","name":"f","call_id":"c"}`),
			tapREvent("response.function_call_arguments.delta", `"output_index":1,"delta":"{}"`),
			tapREvent("response.function_call_arguments.done", `"output_index":1,"arguments":"{}"`),
			tapREvent("response.output_item.added", `"output_index":2,"item":{"type":"message","role":"assistant","content":[]}`),
			tapREvent("response.content_part.added", `"output_index":2,"part":{"type":"output_text","text":""}`),
			tapREvent("response.output_text.delta", `"output_index":2,"delta":""`),
			tapREvent("response.output_text.delta", `"output_index":2,"delta":"Hi"`),
			tapREvent("response.refusal.delta", `"output_index":2,"delta":"no"`),
			tapREvent("response.output_text.done", `"output_index":2,"text":"Hi"`),
			tapREvent("response.completed", `"response":{"model":"gpt-5","output":[{"type":"message","content":[{"type":"output_text","text":"Hi"}]}],"usage":{"input_tokens":9,"output_tokens":30,"input_tokens_details":{"cached_tokens":2},"output_tokens_details":{"reasoning_tokens":20}}}`),
		},
		want: provider.Metrics{Counted: true, API: provider.OpenAIResponses, Model: "gpt-5", Stream: true, HasInput: true, HasOutput: true,
			Usage: provider.Usage{Input: 9, Output: 30, CachedInput: 2, Reasoning: 20}},
		outputs: []out{{2, reasoning}, {4, tool}, {5, tool}, {10, text}, {11, refusal}},
	}, {
		name: "anthropic: thinking, text, tool use; input counts the cache",
		rec:  tapRec{path: "/v1/messages", req: `{"model":"claude","messages":[]}`, resType: tapSSEType},
		frames: []string{
			tapEvent("message_start", `{"type":"message_start","message":{"model":"claude-x","usage":{"input_tokens":3,"cache_read_input_tokens":10,"cache_creation_input_tokens":2,"output_tokens":1}}}`),
			tapEvent("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}`),
			tapEvent("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}`),
			tapEvent("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"c2ln"}}`),
			tapEvent("ping", `{"type":"ping"}`),
			tapEvent("content_block_start", `{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}`),
			tapEvent("content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":""}}`),
			tapEvent("content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Hi"}}`),
			tapEvent("content_block_start", `{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"t","name":"f","input":{}}}`),
			tapEvent("content_block_delta", `{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}`),
			tapEvent("content_block_delta", `{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{}"}}`),
			tapEvent("message_delta", `{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":7}}`),
			tapEvent("message_stop", `{"type":"message_stop"}`),
		},
		want: provider.Metrics{Counted: true, API: provider.AnthropicMessages, Model: "claude", Stream: true, HasInput: true, HasOutput: true,
			Usage: provider.Usage{Input: 15, Output: 7, Total: 22, CachedInput: 10, CacheWrite: 2}},
		outputs: []out{{2, reasoning}, {7, text}, {8, tool}, {10, tool}},
	}, {
		name: "anthropic cut before message_delta: the opening output count is not the answer's",
		rec:  tapRec{path: "/v1/messages", req: `{"messages":[]}`, resType: tapSSEType},
		frames: []string{
			tapEvent("message_start", `{"type":"message_start","message":{"model":"claude-x","usage":{"input_tokens":3,"output_tokens":1}}}`),
			tapEvent("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}`),
		},
		want: provider.Metrics{Counted: true, API: provider.AnthropicMessages, Model: "claude-x", Stream: true, HasInput: true,
			Usage: provider.Usage{Input: 3, Output: 1, Total: 4}},
		outputs: []out{{1, text}},
	}, {
		name: "gemini SSE: thought, text, a signature alone, a function call, inline data",
		rec:  tapRec{path: "/v1beta/models/gemini-2.5-pro:streamGenerateContent", query: "alt=sse", req: `{"contents":[]}`, resType: tapSSEType},
		frames: []string{
			tapData(`{"candidates":[{"content":{"parts":[{"text":"hmm","thought":true}]}}],"modelVersion":"gemini-2.5-pro-001"}`),
			tapData(`{"candidates":[{"content":{"parts":[{"text":"Hi"}]}}]}`),
			tapData(`{"candidates":[{"content":{"parts":[{"text":""},{"thoughtSignature":"c2ln"}]}}]}`),
			tapData(`{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{}}}]}}]}`),
			tapData(`{"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"image/png","data":"AAAA"}}]}}],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":3,"thoughtsTokenCount":20,"cachedContentTokenCount":5}}`),
		},
		want: provider.Metrics{Counted: true, API: provider.Gemini, Model: "gemini-2.5-pro", Stream: true, HasInput: true, HasOutput: true,
			Usage: provider.Usage{Input: 8, Output: 23, Total: 31, CachedInput: 5, Reasoning: 20}},
		outputs: []out{{0, reasoning}, {1, text}, {3, tool}, {4, other}},
	}, {
		name: "gemini JSON array: one JSON document, not streamed, its chunks' places unknown",
		rec: tapRec{path: "/v1beta/models/gemini-2.5-pro:streamGenerateContent", req: `{"contents":[]}`, resType: "application/json",
			res: `[{"candidates":[{"content":{"parts":[{"text":"a"}]}}]},{"candidates":[{"content":{"parts":[{"text":"b"}]}}],"usageMetadata":{"promptTokenCount":2,"candidatesTokenCount":2}}]`},
		want: provider.Metrics{Counted: true, API: provider.Gemini, Model: "gemini-2.5-pro", HasInput: true, HasOutput: true,
			Usage: provider.Usage{Input: 2, Output: 2, Total: 4}},
	}, {
		name: "chat JSON answer: no events, the model from the answer",
		rec: tapRec{path: "/v1/chat/completions", req: `{"messages":[]}`, resType: "application/json",
			res: `{"model":"served","choices":[{"message":{"content":"x"}}],"usage":{"prompt_tokens":3,"completion_tokens":1}}`},
		want: provider.Metrics{Counted: true, API: provider.OpenAIChat, Model: "served", HasInput: true, HasOutput: true, Usage: provider.Usage{Input: 3, Output: 1}},
	}, {
		name: "anthropic JSON answer labelled text/plain",
		rec: tapRec{path: "/v1/messages", req: `{"model":"claude","messages":[]}`, resType: "text/plain",
			res: `{"type":"message","model":"claude-x","content":[{"type":"text","text":"x"}],"usage":{"input_tokens":3,"cache_read_input_tokens":4,"output_tokens":2}}`},
		want: provider.Metrics{Counted: true, API: provider.AnthropicMessages, Model: "claude", HasInput: true, HasOutput: true,
			Usage: provider.Usage{Input: 7, Output: 2, Total: 9, CachedInput: 4}},
	}, {
		name: "no response",
		rec:  tapRec{path: "/v1/chat/completions", req: chatReq, noResponse: true},
		want: provider.Metrics{Counted: true, API: provider.OpenAIChat, Model: "m"},
	}}
	m := provider.NewMeter()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tt.rec
			if tt.frames != nil {
				rec.res = tapSSE(tt.frames...)
			}
			want := tt.want
			for _, o := range tt.outputs {
				want.Events = append(want.Events, provider.OutputEvent{End: tapEnd(tt.frames, o.frame), Kind: o.kind})
			}
			got := *measure(t, m, rec.record())
			if len(got.Events) == 0 && len(want.Events) == 0 {
				got.Events, want.Events = nil, nil
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestMeterAllocs: in steady state, measuring a record allocates a few
// small strings (the record's method, path and content type), however many
// events its stream has.
func TestMeterAllocs(t *testing.T) {
	frames := []string{tapChunk(tapDelta(0, `{"role":"assistant","content":""}`))}
	for range 200 {
		frames = append(frames, tapChunk(tapDelta(0, `{"content":"tok"}`)))
	}
	frames = append(frames, tapData(`{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":200}}`), tapData("[DONE]"))
	rec := tapRec{path: "/v1/chat/completions", req: `{"model":"m","stream":true,"messages":[]}`, resType: tapSSEType, res: tapSSE(frames...)}.record()
	line := rec.AppendJSON(nil)
	var p fastjson.Parser
	m := provider.NewMeter()
	run := func() {
		v, _ := p.ParseBytes(line)
		view, _ := record.NewView(v)
		if got := m.Measure(view); len(got.Events) != 200 {
			t.Fatalf("%d events, want 200", len(got.Events))
		}
	}
	run()
	if allocs := testing.AllocsPerRun(20, run); allocs > 5 {
		t.Errorf("%.0f allocations per record; want at most 5", allocs)
	}
}

// BenchmarkMeterStream measures Meter on the records BenchmarkParseStream
// parses, in bytes of record per second.
func BenchmarkMeterStream(b *testing.B) {
	m := provider.NewMeter()
	benchStreamViews(b, func(b *testing.B, view record.View) {
		if mt := m.Measure(view); len(mt.Events) == 0 {
			b.Fatal("no events")
		}
	})
}
