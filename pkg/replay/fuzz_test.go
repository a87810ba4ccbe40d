package replay

import (
	"encoding/json"
	"testing"
)

// FuzzRead: any line either is not a record, or is skipped, or gives a
// request whose JSON body is valid JSON when the record embedded one, and
// Read never panics.
func FuzzRead(f *testing.F) {
	for _, s := range []string{
		rec("a", "POST", "/v1/chat/completions", "a=1&key=[REDACTED]", `"authorization":"Bearer [REDACTED]","connection":"x-a","x-a":"1"`, `"body":{"model":"m","x":[1,"}"]},"body_encoding":"json","body_bytes":9`),
		rec("b", "POST", "/v1beta/models/g:generateContent", "", "", `"body":"AAEC","body_encoding":"base64","body_bytes":3`),
		rec("c", "POST", "/v1/completions", "", "", `"body":"x","body_encoding":"text","body_bytes":1,"truncated":true`),
		`{"v":1,"id":"d","method":"POST","path":"/v1/messages","request":{"body":{"m\u006fdel":1},"body_encoding":"json"}}`,
		`{"v":1}`, `[]`, `{"v":1,"method":"GET","path":"x"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		set, _ := ParseSet("a.b=1")
		rd := &Reader{Model: "m2", Sets: []Set{set}, Params: []Param{{"k", "v"}}, Headers: []Header{{"X", "y"}}, All: true}
		req, skip, err := rd.Read([]byte(line))
		if err != nil || skip != Keep {
			return
		}
		if req.Method == "" || req.Path == "" || req.Header.Get("X") != "y" {
			t.Fatalf("request %+v", req)
		}
		var probe struct {
			Request struct {
				Encoding string `json:"body_encoding"`
			} `json:"request"`
		}
		if json.Unmarshal([]byte(line), &probe) == nil && probe.Request.Encoding == "json" && len(req.Body) > 0 && !json.Valid(req.Body) {
			t.Fatalf("json body %q from %s", req.Body, line)
		}
	})
}
