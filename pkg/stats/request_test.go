package stats

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/llmtap/llmtap/pkg/provider"
	"github.com/llmtap/llmtap/pkg/record"
	"github.com/valyala/fastjson"
)

// fx is a hand-made record: a request, and a response given as SSE frames
// (each followed by a blank line, but for the last of a cut stream) or as
// a whole body, with the arrival of its chunks.
type fx struct {
	path       string
	req        string // request body, JSON
	status     int    // 200 when 0
	noResponse bool
	resType    string // text/event-stream when frames are given
	frames     []string
	cut        bool // the last frame is not followed by a blank line
	body       string
	ticks      []tk
	errKind    string
	encoding   string // content_encoding
}

// tk is a chunk of the response body: it starts into bytes into frame
// (into may be negative: before the frame) and arrives at ms.
type tk struct {
	frame, into int
	ms          float64
}

var (
	fxStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	nan     = math.NaN()
)

// offset is where frame k starts in the body.
func (f fx) offset(k int) int {
	n := 0
	for _, fr := range f.frames[:k] {
		n += len(fr) + 2
	}
	return n
}

func (f fx) record() *record.Record {
	rec := &record.Record{
		ID: "01TEST", Start: fxStart, End: fxStart.Add(time.Second), TTFB: 100 * time.Millisecond, HasTTFB: !f.noResponse,
		Method: "POST", Path: f.path, UpstreamURL: "https://user:[REDACTED]@api.example.com:8443/v1" + f.path + "?key=x",
		Client: "127.0.0.1:54321",
	}
	if f.req != "" {
		rec.Request.Headers = []record.Header{{Name: "content-type", Value: "application/json"}}
		rec.Request.Body = record.Body{Data: []byte(f.req), WireBytes: int64(len(f.req))}
	}
	if f.errKind != "" {
		rec.Error = &record.Error{Kind: f.errKind, Message: "test"}
	}
	if f.noResponse {
		return rec
	}
	res := &record.Response{Status: f.status}
	if res.Status == 0 {
		res.Status = 200
	}
	body, ct := f.body, f.resType
	if f.frames != nil {
		body = strings.Join(f.frames, "\n\n")
		if !f.cut {
			body += "\n\n"
		}
		if ct == "" {
			ct = "text/event-stream"
		}
	}
	if ct != "" {
		res.Headers = []record.Header{{Name: "content-type", Value: ct}}
	}
	res.Body = record.Body{Data: []byte(body), WireBytes: int64(len(body)), ContentEncoding: f.encoding}
	for _, t := range f.ticks {
		off := t.into
		if f.frames != nil {
			off += f.offset(t.frame)
		}
		res.Timing = append(res.Timing, record.Tick{Offset: int64(off), At: time.Duration(t.ms * float64(time.Millisecond))})
	}
	rec.Response = res
	return rec
}

// noResponse is the Status of a wanted Request whose exchange got no
// response (want makes it 0).
const noResponse = -1

// want is a Request with the fields every fixture shares filled in; its
// Status is 200 when not given.
func want(r Request) Request {
	r.ID, r.Start, r.E2EL = "01TEST", fxStart, 1000
	r.Upstream, r.Client = "api.example.com:8443", "127.0.0.1"
	switch r.Status {
	case 0:
		r.Status, r.TTFB = 200, 100
	case noResponse:
		r.Status, r.TTFB = 0, nan
	default:
		r.TTFB = 100
	}
	r.Lag, r.Queued = nan, nan
	return r
}

// show prints a Request so that NaN equals NaN and a difference is easy to
// spot.
func show(r *Request) string {
	return fmt.Sprintf("%+v", *r)
}

func chunk(delta string) string {
	return `data: {"id":"c","object":"chat.completion.chunk","model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":` + delta + `,"finish_reason":null}]}`
}

func respEvent(typ, fields string) string {
	return "event: " + typ + "\ndata: {\"type\":\"" + typ + "\"," + fields + "}"
}

func anthEvent(typ, data string) string { return "event: " + typ + "\ndata: " + data }

const (
	chatPath  = "/v1/chat/completions"
	chatReq   = `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"Hi"}]}`
	usageTail = `data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":6,"prompt_tokens_details":{"cached_tokens":4}}}`
)

var extractTests = []struct {
	name string
	fx   fx
	want Request
}{{
	name: "openai chat with tool calls, an event cut across chunks",
	fx: fx{path: chatPath, req: chatReq, frames: []string{
		chunk(`{"role":"assistant","content":""}`),
		chunk(`{"content":"Hi"}`),
		chunk(`{"content":" there"}`),
		chunk(`{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}`),
		chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}`),
		usageTail,
		"data: [DONE]",
	}, ticks: []tk{{0, 0, 100}, {1, 0, 150}, {2, 0, 200}, {3, 0, 290}, {3, 10, 300}, {4, 0, 310}, {5, 0, 400}}},
	// Output events: frames 1-4 at 150, 200, 300 (the chunk with its last
	// byte, not its first) and 310; TPOT = (310-150)/(6-1).
	want: want(Request{Model: "gpt-4o", Path: chatPath, API: "openai.chat", Streamed: true,
		TTFT: 150, TTFO: 150, TPOT: 32, ITL: []float64{50, 100, 10},
		InputTokens: 12, CachedTokens: 4, OutputTokens: 6}),
}, {
	name: "responses, a reasoning model: TTFO comes when the answer starts",
	fx: fx{path: "/v1/responses", req: `{"model":"o4-mini","stream":true,"input":"Hi"}`, frames: []string{
		respEvent("response.created", `"response":{"model":"o4-mini-2025-04-16"}`),
		respEvent("response.output_item.added", `"output_index":0,"item":{"type":"reasoning","id":"rs_1"}`),
		respEvent("response.reasoning_summary_text.delta", `"output_index":0,"delta":"Think"`),
		respEvent("response.reasoning_summary_text.delta", `"output_index":0,"delta":"ing."`),
		respEvent("response.output_item.added", `"output_index":1,"item":{"type":"message","id":"msg_1","role":"assistant","content":[]}`),
		respEvent("response.output_text.delta", `"output_index":1,"content_index":0,"delta":"Hel"`),
		respEvent("response.output_text.delta", `"output_index":1,"content_index":0,"delta":"lo"`),
		respEvent("response.output_text.done", `"output_index":1,"content_index":0,"text":"Hello"`),
		respEvent("response.completed", `"response":{"model":"o4-mini-2025-04-16","usage":{"input_tokens":20,"output_tokens":11,"output_tokens_details":{"reasoning_tokens":6}}}`),
	}, ticks: []tk{{0, 0, 100}, {1, 0, 120}, {2, 0, 200}, {3, 0, 260}, {4, 0, 300}, {5, 0, 350}, {6, 0, 390}, {7, 0, 400}}},
	// Reasoning 200 and 260, text 350 and 390: TTFO - TTFT = 150 ms of
	// reasoning. TPOT = (390-200)/(11-1).
	want: want(Request{Model: "o4-mini", Path: "/v1/responses", API: "openai.responses", Streamed: true,
		TTFT: 200, TTFO: 350, TPOT: 19, ITL: []float64{60, 90, 40},
		InputTokens: 20, CachedTokens: 0, OutputTokens: 11}),
}, {
	name: "anthropic with thinking; input counts the cache",
	fx: fx{path: "/v1/messages", req: `{"model":"claude-sonnet-4-5","stream":true,"messages":[]}`, frames: []string{
		anthEvent("message_start", `{"type":"message_start","message":{"model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":5,"cache_read_input_tokens":100,"cache_creation_input_tokens":10,"output_tokens":1}}}`),
		anthEvent("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}`),
		anthEvent("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Hmm."}}`),
		anthEvent("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"c2ln"}}`),
		anthEvent("content_block_start", `{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}`),
		anthEvent("content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Hi"}}`),
		anthEvent("content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"!"}}`),
		anthEvent("content_block_stop", `{"type":"content_block_stop","index":1}`),
		anthEvent("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":9}}`),
		anthEvent("message_stop", `{"type":"message_stop"}`),
	}, ticks: []tk{{0, 0, 100}, {2, 0, 180}, {3, 0, 250}, {5, 0, 300}, {6, 0, 330}, {7, 0, 400}}},
	want: want(Request{Model: "claude-sonnet-4-5", Path: "/v1/messages", API: "anthropic.messages", Streamed: true,
		TTFT: 180, TTFO: 300, TPOT: 18.75, ITL: []float64{120, 30},
		InputTokens: 115, CachedTokens: 100, OutputTokens: 9}),
}, {
	name: "gemini SSE: thoughts, text, a function call",
	fx: fx{path: "/v1beta/models/gemini-2.5-flash:streamGenerateContent", req: `{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}`, frames: []string{
		`data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Plan.","thought":true}]}}],"modelVersion":"gemini-2.5-flash"}`,
		`data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Sure"}]}}]}`,
		`data: {"candidates":[{"content":{"role":"model","parts":[{"text":"."},{"functionCall":{"name":"f","args":{}}}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":7,"candidatesTokenCount":4,"thoughtsTokenCount":5,"totalTokenCount":16}}`,
	}, ticks: []tk{{0, 0, 200}, {1, 0, 250}, {2, 0, 325}}},
	want: want(Request{Model: "gemini-2.5-flash", Path: "/v1beta/models/gemini-2.5-flash:streamGenerateContent", API: "gemini", Streamed: true,
		TTFT: 200, TTFO: 250, TPOT: 15.625, ITL: []float64{50, 75},
		InputTokens: 7, CachedTokens: 0, OutputTokens: 9}),
}, {
	name: "not streamed: TTFT = TTFO = E2EL, no ITL, no TPOT",
	fx: fx{path: chatPath, req: `{"messages":[]}`, resType: "application/json",
		body:  `{"model":"gpt-4o-mini","choices":[{"message":{"role":"assistant","content":"Hi"}}],"usage":{"prompt_tokens":10,"completion_tokens":3}}`,
		ticks: []tk{{0, 0, 900}}},
	want: want(Request{Model: "gpt-4o-mini", Path: chatPath, API: "openai.chat",
		TTFT: 1000, TTFO: 1000, TPOT: nan, InputTokens: 10, CachedTokens: 0, OutputTokens: 3}),
}, {
	name: "no usage: output tokens are the output events, estimated; a blank line late does not move an event",
	fx: fx{path: chatPath, req: chatReq, frames: []string{
		chunk(`{"role":"assistant","content":""}`), chunk(`{"content":"a"}`), chunk(`{"content":"b"}`), chunk(`{"content":"c"}`), "data: [DONE]",
	}, ticks: []tk{{0, 0, 90}, {1, 0, 100}, {2, -2, 120}, {2, 0, 150}, {3, 0, 170}}},
	want: want(Request{Model: "gpt-4o", Path: chatPath, API: "openai.chat", Streamed: true,
		TTFT: 100, TTFO: 100, TPOT: 35, ITL: []float64{50, 20},
		InputTokens: -1, CachedTokens: -1, OutputTokens: 3, TokensEstimated: true}),
}, {
	name: "events coalesced in one chunk are 0 apart",
	fx: fx{path: chatPath, req: chatReq, frames: []string{
		chunk(`{"content":"a"}`), chunk(`{"content":"b"}`), chunk(`{"content":"c"}`), usageTail, "data: [DONE]",
	}, ticks: []tk{{0, 0, 120}}},
	want: want(Request{Model: "gpt-4o", Path: chatPath, API: "openai.chat", Streamed: true,
		TTFT: 120, TTFO: 120, TPOT: 0, ITL: []float64{0, 0},
		InputTokens: 12, CachedTokens: 4, OutputTokens: 6}),
}, {
	name: "an error status",
	fx: fx{path: chatPath, req: chatReq, status: 429, resType: "application/json",
		body: `{"error":{"message":"slow down","type":"rate_limit"}}`},
	want: want(Request{Model: "gpt-4o", Path: chatPath, API: "openai.chat", Status: 429, Failed: true,
		TTFT: 1000, TTFO: 1000, TPOT: nan, InputTokens: -1, CachedTokens: -1, OutputTokens: -1}),
}, {
	name: "upstream unreachable: no response",
	fx:   fx{path: chatPath, req: chatReq, noResponse: true, errKind: "upstream_unreachable"},
	want: want(Request{Model: "gpt-4o", Path: chatPath, API: "openai.chat", Status: noResponse, ErrorKind: "upstream_unreachable", Failed: true,
		TTFT: nan, TTFO: nan, TPOT: nan, InputTokens: -1, CachedTokens: -1, OutputTokens: -1}),
}, {
	name: "a cut stream: the unterminated last event ends at the last byte",
	fx: fx{path: chatPath, req: chatReq, errKind: "upstream_aborted", cut: true, frames: []string{
		chunk(`{"content":"a"}`), chunk(`{"content":"b"}`), chunk(`{"content":"c"}`),
	}, ticks: []tk{{0, 0, 100}, {1, 0, 140}, {2, 0, 180}, {2, 30, 230}}},
	want: want(Request{Model: "gpt-4o", Path: chatPath, API: "openai.chat", Streamed: true, ErrorKind: "upstream_aborted", Failed: true,
		TTFT: 100, TTFO: 100, TPOT: 65, ITL: []float64{40, 90},
		InputTokens: -1, CachedTokens: -1, OutputTokens: 3, TokensEstimated: true}),
}, {
	name: "a stream cut while reasoning: no TTFO",
	fx: fx{path: chatPath, req: chatReq, errKind: "client_cancelled", frames: []string{
		chunk(`{"reasoning_content":"Let"}`), chunk(`{"reasoning_content":" me"}`),
	}, ticks: []tk{{0, 0, 100}, {1, 0, 160}}},
	want: want(Request{Model: "gpt-4o", Path: chatPath, API: "openai.chat", Streamed: true, ErrorKind: "client_cancelled", Failed: true,
		TTFT: 100, TTFO: nan, TPOT: 60, ITL: []float64{60},
		InputTokens: -1, CachedTokens: -1, OutputTokens: 2, TokensEstimated: true}),
}, {
	name: "gzip: the timing counts compressed bytes, so event times are unknown",
	fx: fx{path: chatPath, req: chatReq, encoding: "gzip", frames: []string{
		chunk(`{"content":"a"}`), chunk(`{"content":"b"}`), usageTail, "data: [DONE]",
	}, ticks: []tk{{0, 0, 100}, {1, -200, 150}}},
	want: want(Request{Model: "gpt-4o", Path: chatPath, API: "openai.chat", Streamed: true,
		TTFT: nan, TTFO: nan, TPOT: nan, InputTokens: 12, CachedTokens: 4, OutputTokens: 6}),
}, {
	name: "a stream without output: no TTFT",
	fx: fx{path: chatPath, req: chatReq, frames: []string{
		chunk(`{"role":"assistant","content":""}`), "data: [DONE]",
	}, ticks: []tk{{0, 0, 100}}},
	want: want(Request{Model: "gpt-4o", Path: chatPath, API: "openai.chat", Streamed: true,
		TTFT: nan, TTFO: nan, TPOT: nan, InputTokens: -1, CachedTokens: -1, OutputTokens: 0, TokensEstimated: true}),
}, {
	name: "a stream of an API provider does not know: no output counted, no estimate",
	fx:   fx{path: "/v1/whatever", req: `{"stream":true}`, frames: []string{`data: {"text":"a"}`}, ticks: []tk{{0, 0, 100}}},
	want: want(Request{Path: "/v1/whatever", Streamed: true,
		TTFT: nan, TTFO: nan, TPOT: nan, InputTokens: -1, CachedTokens: -1, OutputTokens: -1}),
}, {
	name: "an SSE answer cut before its first event: streamed, no TTFT, its output unknown",
	fx:   fx{path: chatPath, req: chatReq, errKind: "upstream_aborted", resType: "text/event-stream; charset=utf-8", body: ""},
	want: want(Request{Model: "gpt-4o", Path: chatPath, API: "openai.chat", Streamed: true, ErrorKind: "upstream_aborted", Failed: true,
		TTFT: nan, TTFO: nan, TPOT: nan, InputTokens: -1, CachedTokens: -1, OutputTokens: -1}),
}, {
	name: "Ollama's JSON lines: streamed, output not counted",
	fx: fx{path: "/api/chat", req: `{"model":"llama3","messages":[]}`, resType: "application/x-ndjson",
		body:  "{\"message\":{\"content\":\"a\"},\"done\":false}\n{\"done\":true,\"eval_count\":1}\n",
		ticks: []tk{{0, 0, 100}}},
	// Detect reads Ollama's chat body as an OpenAI chat.
	want: want(Request{Model: "llama3", Path: "/api/chat", API: "openai.chat", Streamed: true,
		TTFT: nan, TTFO: nan, TPOT: nan, InputTokens: -1, CachedTokens: -1, OutputTokens: -1}),
}}

// extract encodes rec as a JSONL line, reads it back and extracts it with
// x into r, as llmstat does.
func extract(t testing.TB, x *Extractor, p *fastjson.Parser, line []byte, r *Request) {
	t.Helper()
	v, err := record.ParseLine(p, line)
	if err != nil {
		t.Fatal(err)
	}
	x.Extract(v, r)
}

func TestExtract(t *testing.T) {
	x := NewExtractor()
	var p fastjson.Parser
	var r Request // reused across cases, as llmstat reuses it
	for _, tt := range extractTests {
		t.Run(tt.name, func(t *testing.T) {
			extract(t, x, &p, tt.fx.record().AppendJSON(nil), &r)
			want := tt.want
			if len(r.ITL) == 0 && len(want.ITL) == 0 {
				want.ITL = r.ITL // empty either way; nil or not does not matter
			}
			if got, w := show(&r), show(&want); got != w {
				t.Errorf("\n got %s\nwant %s", got, w)
			}
		})
	}
}

// TestEventTimesSweep cuts the body of a stream in two chunks at every
// byte, arriving at 100 and 200 ms: an event whose last byte is before
// the cut is at 100, any other at 200, whatever the cut splits (a data
// line, a multibyte character, the blank line after an event).
func TestEventTimesSweep(t *testing.T) {
	for _, c := range []struct {
		test    int   // index in extractTests
		outputs []int // its output frames
		answer  int   // the first output frame that is not reasoning
	}{
		{0, []int{1, 2, 3, 4}, 1},
		{1, []int{2, 3, 5, 6}, 5},
		{2, []int{2, 5, 6}, 5},
		{3, []int{0, 1, 2}, 1},
	} {
		tt := extractTests[c.test]
		t.Run(tt.name, func(t *testing.T) {
			f := tt.fx
			f.frames = append([]string(nil), f.frames...)
			f.frames[c.outputs[0]] = strings.Replace(f.frames[c.outputs[0]], `"}`, ` 你好"}`, 1) // a multibyte character to cut
			body := f.offset(len(f.frames))
			x, r := NewExtractor(), &Request{}
			var p fastjson.Parser
			for cut := 1; cut < body; cut++ {
				f.ticks = []tk{{0, 0, 100}, {0, cut, 200}}
				at := func(frame int) float64 {
					if f.offset(frame)+len(f.frames[frame])-1 < cut {
						return 100
					}
					return 200
				}
				extract(t, x, &p, f.record().AppendJSON(nil), r)
				var itl []float64
				for i := 1; i < len(c.outputs); i++ {
					itl = append(itl, at(c.outputs[i])-at(c.outputs[i-1]))
				}
				last := at(c.outputs[len(c.outputs)-1])
				tpot := (last - at(c.outputs[0])) / float64(r.OutputTokens-1)
				if r.TTFT != at(c.outputs[0]) || r.TTFO != at(c.answer) || r.TPOT != tpot || fmt.Sprint(r.ITL) != fmt.Sprint(itl) {
					t.Fatalf("cut at %d: TTFT %v TTFO %v TPOT %v ITL %v; want %v %v %v %v",
						cut, r.TTFT, r.TTFO, r.TPOT, r.ITL, at(c.outputs[0]), at(c.answer), tpot, itl)
				}
			}
		})
	}
}

// TestExtractAllocs: in steady state a record costs a few allocations (its
// id, path and the like), not one per event.
func TestExtractAllocs(t *testing.T) {
	line := streamedChat(300, "tok")
	x, r := NewExtractor(), &Request{}
	var p fastjson.Parser
	run := func() { extract(t, x, &p, line, r) }
	run()
	if len(r.ITL) != 299 {
		t.Fatalf("%d gaps, want 299", len(r.ITL))
	}
	allocs := testing.AllocsPerRun(20, run)
	t.Logf("%.0f allocations per record", allocs)
	if allocs > 8 {
		t.Errorf("%.0f allocations per record; want at most 8", allocs)
	}
}

// streamedChat is the JSON line of a streamed chat record: a role chunk,
// then n text chunks of text each, one 1 ms after the other from 100 ms,
// then usage.
func streamedChat(n int, text string) []byte {
	frames := []string{chunk(`{"role":"assistant","content":""}`)}
	var ticks []tk
	for i := range n {
		frames = append(frames, chunk(`{"content":"`+text+`"}`))
		ticks = append(ticks, tk{i + 1, 0, float64(100 + i)})
	}
	frames = append(frames, usageTail, "data: [DONE]")
	return fx{path: chatPath, req: chatReq, frames: frames, ticks: ticks}.record().AppendJSON(nil)
}

// BenchmarkExtract measures Extract on a streamed record of 2,000 events,
// in bytes of record per second.
func BenchmarkExtract(b *testing.B) {
	line := streamedChat(2000, "token")
	x, r := NewExtractor(), &Request{}
	var p fastjson.Parser
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		extract(b, x, &p, line, r)
	}
}

// TestTTFTAgreesWithLlmmd: llmmd's heading shows the tick of Parse's
// FirstTokenOffset as TTFT; it is the TTFT Extract finds.
func TestTTFTAgreesWithLlmmd(t *testing.T) {
	x, r := NewExtractor(), &Request{}
	var p fastjson.Parser
	for _, tt := range extractTests {
		if tt.fx.frames == nil {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			line := tt.fx.record().AppendJSON(nil)
			extract(t, x, &p, line, r)
			v, err := record.ParseLine(&p, line)
			if err != nil {
				t.Fatal(err)
			}
			ms, ok := v.TickMS(provider.Parse(v).FirstTokenOffset)
			if !ok {
				ms = nan
			}
			if fmt.Sprint(ms) != fmt.Sprint(r.TTFT) {
				t.Errorf("llmmd's TTFT %v, Extract's %v", ms, r.TTFT)
			}
		})
	}
}
