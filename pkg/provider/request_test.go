package provider_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/llmtap/llmtap/pkg/provider"
	"github.com/llmtap/llmtap/pkg/record"
	"github.com/valyala/fastjson"
)

func reqView(t testing.TB, p *fastjson.Parser, line string) record.View {
	t.Helper()
	v, err := record.ParseLine(p, []byte(line))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestRequestModel(t *testing.T) {
	var p fastjson.Parser
	for _, tt := range []struct {
		line, want string
	}{
		{`{"v":1,"path":"/v1/chat/completions","request":{"body":{"model":"gpt-4o","messages":[]},"body_encoding":"json"}}`, "gpt-4o"},
		{`{"v":1,"path":"/v1/messages","request":{"body":{"model":"claude-sonnet-4"},"body_encoding":"json"}}`, "claude-sonnet-4"},
		{`{"v":1,"path":"/v1beta/models/gemini-2.5-pro:generateContent","request":{"body":{"contents":[]},"body_encoding":"json"}}`, "gemini-2.5-pro"},
		{`{"v":1,"path":"/v1beta/models/gemini-2.5-flash:streamGenerateContent","query":"alt=sse"}`, "gemini-2.5-flash"},
		{`{"v":1,"path":"/V1BETA/MODELS/G:STREAMGENERATECONTENT"}`, "G"},
		{`{"v":1,"path":"/v1/chat/completions?x=:generateContent","request":{"body":{"model":"m"},"body_encoding":"json"}}`, "m"}, // the query is not the path
		{`{"v":1,"path":"/v1/chat/completions","request":{"body":{"model":7},"body_encoding":"json"}}`, ""},
		{`{"v":1,"path":"/v1/chat/completions","request":{"body":"{\"model\":\"cut","body_encoding":"text"}}`, ""},
		{`{"v":1,"path":"/v1/models"}`, ""},
	} {
		if got := string(provider.RequestModel(reqView(t, &p, tt.line))); got != tt.want {
			t.Errorf("%s: RequestModel = %q, want %q", tt.line, got, tt.want)
		}
	}
	v := reqView(t, &p, `{"v":1,"path":"/v1beta/models/gemini-2.5-pro:generateContent"}`)
	if n := testing.AllocsPerRun(100, func() { provider.RequestModel(v) }); n != 0 {
		t.Errorf("RequestModel allocates %v times", n)
	}
}

// TestRequestModelAgreesWithParse: llmgrep --model reads RequestModel and
// llmmd shows Exchange.Model; on every test record, when the request names
// a model, both say the same.
func TestRequestModelAgreesWithParse(t *testing.T) {
	files, _ := filepath.Glob("../markdown/testdata/*.jsonl")
	more, _ := filepath.Glob("../filter/testdata/*.jsonl")
	files = append(files, more...)
	if len(files) == 0 {
		t.Fatal("no test records")
	}
	var p fastjson.Parser
	checked := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
			v, err := record.ParseLine(&p, line)
			if err != nil {
				continue
			}
			if m := string(provider.RequestModel(v)); m != "" {
				checked++
				if ex := provider.Parse(v); ex.Model != m {
					t.Errorf("%s %s: RequestModel %q, Parse %q", f, v.ID(), m, ex.Model)
				}
			}
		}
	}
	if checked == 0 {
		t.Error("no record names a model")
	}
}

func TestIsToolResult(t *testing.T) {
	for _, tt := range []struct {
		m    provider.Message
		want bool
	}{
		{provider.Message{Role: provider.RoleTool}, true},
		{provider.Message{Role: provider.RoleFunction, Name: "f"}, true},
		{provider.Message{Role: provider.RoleUser, ToolCallID: "call_1"}, true},
		{provider.Message{Role: provider.RoleUser}, false},
		{provider.Message{Role: provider.RoleAssistant}, false},
	} {
		if got := tt.m.IsToolResult(); got != tt.want {
			t.Errorf("%+v: IsToolResult = %v, want %v", tt.m, got, tt.want)
		}
	}
}

func TestAbnormalFinish(t *testing.T) {
	for _, tt := range []struct {
		reason string
		want   bool
	}{
		{"", false},
		{"stop", false}, {"tool_calls", false}, {"function_call", false}, // OpenAI
		{"completed", false},                                               // Responses
		{"end_turn", false}, {"stop_sequence", false}, {"tool_use", false}, // Anthropic
		{"STOP", false}, // Gemini
		{"length", true}, {"content_filter", true}, {"max_tokens", true},
		{"MAX_TOKENS", true}, {"SAFETY", true}, {"incomplete", true}, {"refusal", true},
	} {
		if got := provider.AbnormalFinish(tt.reason); got != tt.want {
			t.Errorf("AbnormalFinish(%q) = %v, want %v", tt.reason, got, tt.want)
		}
	}
}

// TestOddBodies: a conversation API's JSON body that is not an object is
// described, not dropped.
func TestOddBodies(t *testing.T) {
	chat := `{"model":"m","messages":[{"role":"user","content":"hi"}]}`
	answer := `{"choices":[{"index":0,"message":{"role":"assistant","content":"yo"}}]}`
	for _, tt := range []struct {
		name string
		r    tapRec
		want string
	}{
		{"request string", tapRec{path: "/v1/chat/completions", req: `"just a string"`, resType: "application/json", res: answer},
			`request body is not a JSON object: "just a string"`},
		{"request array", tapRec{path: "/v1/messages", req: `[1,2]`, resType: "application/json", res: `{"content":[]}`},
			`request body is not a JSON object: [1,2]`},
		{"response number", tapRec{path: "/v1/chat/completions", req: chat, resType: "application/json", res: `42`},
			`response body is not a JSON object: 42`},
		{"both", tapRec{path: "/v1/responses", req: `true`, resType: "application/json", res: `"ok"`},
			`request body is not a JSON object: true · response body is not a JSON object: "ok"`},
		{"error answer read as an error", tapRec{path: "/v1/chat/completions", req: chat, status: 500, resType: "application/json", res: `"overloaded"`}, ""},
		{"gemini array of chunks", tapRec{path: "/v1beta/models/g:streamGenerateContent", req: `{"contents":[]}`, resType: "application/json", res: `[{"candidates":[]}]`}, ""},
		{"objects", tapRec{path: "/v1/chat/completions", req: chat, resType: "application/json", res: answer}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tapParse(t, tt.r.record()).Summary; got != tt.want {
				t.Errorf("Summary = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIsPlainFunction(t *testing.T) {
	for _, tt := range []struct {
		typ  string
		want bool
	}{{"", true}, {"function", true}, {"custom", false}, {"web_search", false}} {
		if got := (provider.ToolCall{Type: tt.typ}).IsPlainFunction(); got != tt.want {
			t.Errorf("ToolCall{Type: %q}.IsPlainFunction() = %v, want %v", tt.typ, got, tt.want)
		}
	}
}
