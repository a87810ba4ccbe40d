package provider_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/llmtap/llmtap/pkg/provider"
	"github.com/llmtap/llmtap/pkg/record"
	"github.com/valyala/fastjson"
)

// FuzzParse checks that Parse never panics, whatever the record holds,
// and that Meter's events are in order inside the body, the first where
// Parse's FirstTokenOffset points. Parse
// recovers from a panic and says so in the Summary, so the target looks for
// that Summary. The input is a record built from a path, a status, a
// response content type and the two bodies; when req itself starts like a
// record line ({"v":…), it is parsed as the whole record instead, to reach
// fields of the wrong JSON type. Seeds are in testdata/fuzz/FuzzParse and
// below.
func FuzzParse(f *testing.F) {
	seeds := []struct {
		path    string
		status  int
		resType string
		req     string
		res     string
	}{
		{"/v1/chat/completions", 200, "text/event-stream", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
			tapSSE(tapChunk(tapDelta(0, `{"role":"assistant","tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":"{"}}]}`)),
				tapChunk(tapDelta(1, `{"content":"x","reasoning_content":"y"}`)), tapData("[DONE]"))},
		{"/v1/chat/completions", 200, "application/json", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}]}`,
			`{"choices":[{"index":0,"message":{"content":"x","tool_calls":[{"id":"a","function":{"name":"f","arguments":{}}}]}}],"usage":{"prompt_tokens":1}}`},
		{"/v1/completions", 200, "text/event-stream", `{"model":"m","prompt":["a",[1,2]]}`, tapSSE(tapData(`{"choices":[{"text":"a","index":0}]}`))},
		{"/v1/responses", 200, "text/event-stream", `{"model":"m","instructions":"s","input":[{"type":"reasoning","summary":[{"text":"t"}]},{"type":"function_call_output","call_id":"c","output":[{"type":"input_text","text":"o"}]}]}`,
			tapSSE(tapREvent("response.output_item.added", `"output_index":0,"item":{"type":"function_call","call_id":"c","name":"f"}`),
				tapREvent("response.function_call_arguments.delta", `"output_index":0,"delta":"{}"`),
				tapREvent("response.reasoning_summary_text.delta", `"output_index":1,"summary_index":3,"delta":"r"`),
				tapREvent("response.completed", `"response":{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[{"type":"web_search_call"}]}`))},
		{"/v1/responses", 200, "application/json", `{"model":"m","input":"hi"}`, `{"output":[{"type":"message","role":"assistant","content":[{"type":"refusal","refusal":"no"}]}],"error":{"message":"x"}}`},
		{"/v1/embeddings", 200, "application/json", `{"input":["a"]}`, `{"data":[{"embedding":"AAAAAAAAAAA="}]}`},
		{"/v1/models", 200, "application/json", ``, `{"data":[{"id":"a"},{"name":"models/b"}]}`},
		{"/v1/audio/speech", 200, "audio/mpeg", `{"model":"tts-1"}`, "\xff\xf3"},
		{"/v1/messages", 200, "text/event-stream", `{"model":"claude","messages":[{"role":"user","content":"hi"}]}`,
			tapSSE(tapEvent("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}`))},
		{"/v1beta/models/gemini-2.5-flash:streamGenerateContent", 200, "text/event-stream", `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`,
			tapSSE(tapData(`{"candidates":[{"content":{"role":"model","parts":[{"text":"x"}]}}]}`))},
		{"/v1/whatever", 500, "text/html", `{}`, "<title>boom</title>"},
		{"/v1/chat/completions", 429, "application/json", `{}`, `[{"error":{"code":429,"message":"slow"}}]`},
		{"/", 200, "", `{"v":1,"method":"POST","path":"/v1/chat/completions","request":{"body":{"messages":5},"body_encoding":"json"},"response":{"status":200,"headers":{"content-type":"text/event-stream"},"body":"data: {}\n\n","body_encoding":"text"}}`, ""},
	}
	for _, s := range seeds {
		f.Add(s.path, s.status, s.resType, []byte(s.req), []byte(s.res))
	}
	f.Fuzz(func(t *testing.T, path string, status int, resType string, req, res []byte) {
		var line []byte
		if bytes.HasPrefix(req, []byte(`{"v":`)) {
			line = req
		} else {
			r := tapRec{path: path, status: status, resType: resType, req: string(req), res: string(res)}
			if status < 100 || status > 999 {
				r.status = 200
			}
			rec := r.record()
			line = rec.AppendJSON(nil)
		}
		var p fastjson.Parser
		v, err := p.ParseBytes(line)
		if err != nil {
			return
		}
		view, err := record.NewView(v)
		if err != nil {
			return
		}
		ex := provider.Parse(view)
		if ex == nil {
			t.Fatal("Parse returned nil")
		}
		if strings.HasPrefix(ex.Summary, "unreadable") {
			t.Fatalf("Parse panicked: %s", ex.Summary)
		}
		// The Meter reads the same record: its events end inside the body,
		// in order, and the first agrees with Parse's first token.
		mt := provider.NewMeter().Measure(view)
		body, _ := view.BodyBytes("response")
		last := int64(0)
		for _, e := range mt.Events {
			if e.Kind == 0 || e.End <= last || e.End > int64(len(body)) {
				t.Fatalf("event %+v after %d in a body of %d bytes", e, last, len(body))
			}
			last = max(last, e.End)
		}
		first := int64(-1)
		if len(mt.Events) > 0 {
			first = mt.Events[0].End - 1
		}
		if first != ex.FirstTokenOffset {
			t.Fatalf("Meter's first output ends at byte %d, Parse's FirstTokenOffset is %d", first, ex.FirstTokenOffset)
		}
	})
}
