package replay

import (
	"encoding/base64"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// rec builds a record line with the given request parts.
func rec(id, method, path, query, headers, bodyPart string) string {
	q := ""
	if query != "" {
		q = `,"query":"` + query + `"`
	}
	if bodyPart != "" {
		bodyPart = "," + bodyPart
	}
	return `{"v":1,"id":"` + id + `","start":"2026-01-01T00:00:00.000000Z","method":"` + method + `","path":"` + path + `"` + q +
		`,"request":{"headers":{` + headers + `}` + bodyPart + `}}`
}

func TestReadBodies(t *testing.T) {
	audio := []byte{0xff, 0xf3, 0x00, 0x80, 'I', 'D', '3', 0xfe}
	for _, tt := range []struct {
		name, line string
		want       string
	}{
		{"json as held, escapes kept", rec("a", "POST", "/v1/chat/completions", "", `"content-type":"application/json"`,
			`"body":{"model":"m","messages":[{"role":"user","content":"caf\u00e9 \"q\" ✓"}],"n":1.50},"body_encoding":"json","body_bytes":90`),
			`{"model":"m","messages":[{"role":"user","content":"caf\u00e9 \"q\" ✓"}],"n":1.50}`},
		{"text", rec("b", "POST", "/v1/completions", "", "", `"body":"line1\nline2 \"x\"","body_encoding":"text","body_bytes":17`),
			"line1\nline2 \"x\""},
		{"base64", rec("c", "POST", "/v1/audio/transcriptions", "", "", `"body":"`+base64.StdEncoding.EncodeToString(audio)+`","body_encoding":"base64","body_bytes":8`),
			string(audio)},
		{"no body", rec("d", "POST", "/v1/chat/completions", "", "", `"body_bytes":0`), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rd := &Reader{}
			req, skip, err := rd.Read([]byte(tt.line))
			if err != nil || skip != Keep {
				t.Fatalf("Read: %v, %v", skip, err)
			}
			if string(req.Body) != tt.want {
				t.Errorf("body %q, want %q", req.Body, tt.want)
			}
		})
	}
}

func TestReadHeaders(t *testing.T) {
	line := rec("a", "POST", "/v1/chat/completions", "", `"accept":"application/json","authorization":"Bearer [REDACTED]…WXYZ","connection":"keep-alive, x-hop","content-length":"2","content-type":"application/json","host":"127.0.0.1:8000","keep-alive":"timeout=5","transfer-encoding":"chunked","user-agent":"OpenAI/Python 1.0","x-api-key":"[REDACTED]","x-hop":"1","x-stainless-os":"Linux"`,
		`"body":{},"body_encoding":"json","body_bytes":2`)
	var warnings []string
	rd := &Reader{Warn: func(m string) { warnings = append(warnings, m) }, Headers: []Header{{"Authorization", "Bearer new"}, {"X-Extra", "1"}}}
	for range 2 {
		req, _, err := rd.Read([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		want := http.Header{
			"Accept": {"application/json"}, "Content-Type": {"application/json"},
			"User-Agent": {"OpenAI/Python 1.0"}, "X-Stainless-Os": {"Linux"},
			"Authorization": {"Bearer new"}, "X-Extra": {"1"},
		}
		if !reflect.DeepEqual(req.Header, want) {
			t.Errorf("headers\n got %v\nwant %v", req.Header, want)
		}
	}
	// Authorization is replaced by -H: no warning; x-api-key is dropped, once.
	if len(warnings) != 1 || !strings.Contains(warnings[0], "x-api-key") {
		t.Errorf("warnings %q, want one about x-api-key", warnings)
	}
}

func TestReadQuery(t *testing.T) {
	for _, tt := range []struct {
		name, query string
		params      []Param
		want        string
		warn        string
	}{
		{"kept byte for byte", "a=1&b=%2F+x&c", nil, "a=1&b=%2F+x&c", ""},
		{"masked dropped", "alt=sse&key=[REDACTED]…abcd", nil, "alt=sse", "key"},
		{"masked replaced", "alt=sse&key=[REDACTED]", []Param{{"key", "s3cr=t"}}, "alt=sse&key=s3cr%3Dt", ""},
		{"param added", "", []Param{{"api-version", "2024-10-21"}}, "api-version=2024-10-21", ""},
		{"param replaces", "a=1&v=old&b=2", []Param{{"v", "new"}}, "a=1&b=2&v=new", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var warnings []string
			rd := &Reader{Params: tt.params, Warn: func(m string) { warnings = append(warnings, m) }}
			req, _, err := rd.Read([]byte(rec("a", "POST", "/v1/chat/completions", tt.query, "", "")))
			if err != nil {
				t.Fatal(err)
			}
			if req.Query != tt.want {
				t.Errorf("query %q, want %q", req.Query, tt.want)
			}
			if (tt.warn == "") != (len(warnings) == 0) || (tt.warn != "" && !strings.Contains(warnings[0], "parameter "+tt.warn)) {
				t.Errorf("warnings %q, want about %q", warnings, tt.warn)
			}
		})
	}
}

func TestReadSkips(t *testing.T) {
	for _, tt := range []struct {
		name, line string
		all        bool
		want       Skip
	}{
		{"inference", rec("a", "POST", "/v1/chat/completions", "", "", `"body":{},"body_encoding":"json","body_bytes":2`), false, Keep},
		{"model list", rec("a", "GET", "/v1/models", "", "", `"body_bytes":0`), false, SkipEndpoint},
		{"model list with --all", rec("a", "GET", "/v1/models", "", "", `"body_bytes":0`), true, Keep},
		{"delete", rec("a", "DELETE", "/v1/files/f1", "", "", `"body_bytes":0`), false, SkipEndpoint},
		{"truncated", rec("a", "POST", "/v1/chat/completions", "", "", `"body":"{\"model\":","body_encoding":"text","body_bytes":99999,"truncated":true`), false, SkipTruncated},
		{"body not kept", rec("a", "POST", "/v1/chat/completions", "", "", `"body_bytes":120`), false, SkipTruncated},
		{"upload cut short", rec("a", "POST", "/v1/chat/completions", "", `"content-length":"500"`, `"body":"{\"mo","body_encoding":"text","body_bytes":4`), false, SkipTruncated},
		{"content-length matches", rec("a", "POST", "/v1/chat/completions", "", `"content-length":"2"`, `"body":{},"body_encoding":"json","body_bytes":2`), false, Keep},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, skip, err := (&Reader{All: tt.all}).Read([]byte(tt.line))
			if err != nil || skip != tt.want {
				t.Errorf("Read = %v, %v; want %v", skip, err, tt.want)
			}
		})
	}
	for _, bad := range []string{`{"a":1}`, `not json`, `{"v":1,"id":"x"}`} {
		if _, _, err := (&Reader{}).Read([]byte(bad)); err == nil {
			t.Errorf("Read(%s): no error", bad)
		}
	}
}

func TestReadModelAndSet(t *testing.T) {
	mp := "--x\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n--x--\r\n"
	for _, tt := range []struct {
		name, line         string
		model              string
		sets               []string
		wantPath, wantBody string
		warn               string
	}{
		{"chat model", rec("a", "POST", "/v1/chat/completions", "", "", `"body":{"model":"gpt-4o","messages":[]},"body_encoding":"json","body_bytes":30`),
			"m2", nil, "/v1/chat/completions", `{"model":"m2","messages":[]}`, ""},
		{"anthropic model and sets", rec("a", "POST", "/v1/messages", "", "", `"body":{"model":"claude","max_tokens":1024,"messages":[]},"body_encoding":"json","body_bytes":30`),
			"claude-x", []string{"max_tokens=64", "stream=true", "metadata.user_id=u1"}, "/v1/messages", `{"model":"claude-x","max_tokens":64,"messages":[],"stream":true,"metadata":{"user_id":"u1"}}`, ""},
		{"openai sets", rec("a", "POST", "/v1/chat/completions", "", "", `"body":{"model":"m"},"body_encoding":"json","body_bytes":30`),
			"", []string{"stream=true", "stream_options.include_usage=true", `stop=["\n"]`, "user=not json"}, "/v1/chat/completions", `{"model":"m","stream":true,"stream_options":{"include_usage":true},"stop":["\n"],"user":"not json"}`, ""},
		{"gemini model in the path", rec("a", "POST", "/v1beta/models/gemini-2.5-flash:streamGenerateContent", "alt=sse", "", `"body":{"contents":[]},"body_encoding":"json","body_bytes":30`),
			"gemini-2.5-pro", []string{"generationConfig.maxOutputTokens=64"}, "/v1beta/models/gemini-2.5-pro:streamGenerateContent", `{"contents":[],"generationConfig":{"maxOutputTokens":64}}`, ""},
		{"ollama", rec("a", "POST", "/api/chat", "", "", `"body":{"model":"llama3","messages":[]},"body_encoding":"json","body_bytes":30`),
			"qwen3", []string{"options.num_predict=64"}, "/api/chat", `{"model":"qwen3","messages":[],"options":{"num_predict":64}}`, ""},
		{"multipart unchanged", rec("a", "POST", "/v1/audio/transcriptions", "", "", `"body":"`+strings.ReplaceAll(strings.ReplaceAll(mp, "\r\n", `\r\n`), `"`, `\"`)+`","body_encoding":"text","body_bytes":70`),
			"whisper-2", nil, "/v1/audio/transcriptions", mp, "--model"},
		{"set on text unchanged", rec("a", "POST", "/v1/completions", "", "", `"body":"plain","body_encoding":"text","body_bytes":5`),
			"", []string{"a=1"}, "/v1/completions", "plain", "--set"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var warnings []string
			rd := &Reader{Model: tt.model, Warn: func(m string) { warnings = append(warnings, m) }}
			for _, s := range tt.sets {
				x, err := ParseSet(s)
				if err != nil {
					t.Fatal(err)
				}
				rd.Sets = append(rd.Sets, x)
			}
			req, _, err := rd.Read([]byte(tt.line))
			if err != nil {
				t.Fatal(err)
			}
			if req.Path != tt.wantPath || string(req.Body) != tt.wantBody {
				t.Errorf("got %s %s\nwant %s %s", req.Path, req.Body, tt.wantPath, tt.wantBody)
			}
			if (tt.warn == "") != (len(warnings) == 0) || (tt.warn != "" && !strings.HasPrefix(warnings[0], tt.warn)) {
				t.Errorf("warnings %q, want %q", warnings, tt.warn)
			}
		})
	}
}

func TestParseFlags(t *testing.T) {
	if h, err := ParseHeader("Authorization:  Bearer x "); err != nil || h != (Header{"Authorization", "Bearer x"}) {
		t.Errorf("ParseHeader = %v, %v", h, err)
	}
	for _, bad := range []string{"NoColon", ": x", "A B: x"} {
		if _, err := ParseHeader(bad); err == nil {
			t.Errorf("ParseHeader(%q): no error", bad)
		}
	}
	if _, err := ParseParam("novalue"); err == nil {
		t.Error("ParseParam: no error")
	}
	for _, bad := range []string{"x", "=1", "a..b=1", ".a=1"} {
		if _, err := ParseSet(bad); err == nil {
			t.Errorf("ParseSet(%q): no error", bad)
		}
	}
	s, _ := ParseSet("a.b=  12 ")
	if string(s.Value) != "12" || !reflect.DeepEqual(s.Path, []string{"a", "b"}) {
		t.Errorf("ParseSet = %+v", s)
	}
}
