package record

import (
	"strconv"
	"testing"

	"github.com/valyala/fastjson"
)

var streamedTests = []struct {
	ct     string
	length int64
	want   bool
}{
	{"text/event-stream", -1, true},
	{"text/event-stream; charset=utf-8", -1, true},
	{" Text/Event-Stream ;charset=utf-8", 1234, true}, // an event stream is one even with a length
	{"application/x-ndjson", -1, true},                // Ollama
	{"application/x-ndjson", 900, true},
	{"application/ndjson", -1, true},
	{"application/jsonl", -1, true},
	{"application/json", 120, false},
	{"application/json", -1, false}, // a chunked JSON answer: one document sent in pieces
	{"application/json; charset=utf-8", -1, false},
	{"application/problem+json", -1, false},
	{"text/plain", -1, true}, // text of unknown length: a stream mislabelled, or one of plain text
	{"text/plain", 12, false},
	{"audio/mpeg", -1, true}, // speech, sent as it is made
	{"audio/mpeg", 3400, false},
	{"", -1, true},
	{"", 0, false},
}

func TestStreamed(t *testing.T) {
	for _, tt := range streamedTests {
		if got := Streamed(tt.ct, tt.length); got != tt.want {
			t.Errorf("Streamed(%q, %d) = %v, want %v", tt.ct, tt.length, got, tt.want)
		}
	}
}

// TestViewStreamed: a reader of a record decides as the proxy did from the
// same headers, as they are recorded.
func TestViewStreamed(t *testing.T) {
	for _, tt := range streamedTests {
		headers := `{"content-type":"` + tt.ct + `"`
		if tt.length >= 0 {
			headers += `,"content-length":"` + strconv.FormatInt(tt.length, 10) + `"`
		}
		headers += "}"
		v := fastjson.MustParse(`{"v":1,"response":{"status":200,"headers":` + headers + `}}`)
		view, err := NewView(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := view.Streamed(); got != tt.want {
			t.Errorf("%s: View.Streamed = %v, want %v", headers, got, tt.want)
		}
	}
	for _, tt := range []struct {
		line string
		want bool
	}{
		{`{"v":1}`, false}, // no response
		{`{"v":1,"request":{"body":{"stream":true}}}`, false},
		{`{"v":1,"response":{"status":200}}`, true}, // no headers at all: nothing says it was whole
		{`{"v":1,"response":{"status":200,"headers":{"content-type":"application/json","content-length":"x"}}}`, false},
		{`{"v":1,"response":{"status":200,"headers":{"content-type":"text/plain","content-length":"-5"}}}`, true},
	} {
		view, _ := NewView(fastjson.MustParse(tt.line))
		if got := view.Streamed(); got != tt.want {
			t.Errorf("%s: View.Streamed = %v, want %v", tt.line, got, tt.want)
		}
	}
}

func TestViewStreamedAllocs(t *testing.T) {
	v := fastjson.MustParse(`{"v":1,"response":{"status":200,"headers":{"content-length":"120","content-type":"application/json"}}}`)
	view, _ := NewView(v)
	if n := testing.AllocsPerRun(100, func() { view.Streamed() }); n != 0 {
		t.Errorf("View.Streamed allocates %v times", n)
	}
}
