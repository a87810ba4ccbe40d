package proxy

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/llmtap/llmtap/pkg/filter"
	"github.com/llmtap/llmtap/pkg/provider"
	"github.com/llmtap/llmtap/pkg/record"
	"github.com/valyala/fastjson"
)

// TestStreamedAgreesEverywhere: whether an exchange was streamed is one
// decision. The proxy records timing for exactly the responses that
// llmgrep --stream selects and that llmmd marks as streamed.
func TestStreamedAgreesEverywhere(t *testing.T) {
	chunks := []string{`{"model":"llama3","message":{"content":"Hi"},"done":false}` + "\n", `{"model":"llama3","done":true}` + "\n"}
	for _, tc := range []struct {
		name   string
		ct     string
		length bool // send a Content-Length
		want   bool
	}{
		{"ollama ndjson", "application/x-ndjson", false, true},
		{"event stream", "text/event-stream", false, true},
		{"event stream with a length", "text/event-stream", true, true},
		{"chunked json", "application/json; charset=utf-8", false, false},
		{"json with a length", "application/json", true, false},
		{"plain text of unknown length", "text/plain", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.ct)
				if tc.length {
					w.Header().Set("Content-Length", strconv.Itoa(len(strings.Join(chunks, ""))))
				}
				for _, c := range chunks {
					_, _ = io.WriteString(w, c)
					w.(http.Flusher).Flush()
				}
			}))
			do(t, "POST", h.front.URL+"/api/chat", []byte(`{"model":"llama3","messages":[]}`), nil)
			r := h.sink.wait(t, 1)[0]
			if timed := len(r.Response.Timing) > 0; timed != tc.want {
				t.Errorf("proxy recorded timing: %v, want %v", timed, tc.want)
			}
			view, err := record.NewView(fastjson.MustParse(r.raw))
			if err != nil {
				t.Fatal(err)
			}
			if got := view.Streamed(); got != tc.want {
				t.Errorf("View.Streamed = %v, want %v", got, tc.want)
			}
			if got := provider.Parse(view).Stream; got != tc.want {
				t.Errorf("provider Exchange.Stream (llmmd) = %v, want %v", got, tc.want)
			}
			yes := true
			m, err := filter.Compile(filter.Spec{Stream: &yes})
			if err != nil {
				t.Fatal(err)
			}
			if got, err := m.Match([]byte(strings.TrimSpace(r.raw))); err != nil || got != tc.want {
				t.Errorf("llmgrep --stream matches: %v (%v), want %v", got, err, tc.want)
			}
		})
	}
}
