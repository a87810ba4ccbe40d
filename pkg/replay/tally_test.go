package replay

import (
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/llmtap/llmtap/pkg/record"
)

func TestTally(t *testing.T) {
	tl := &Tally{Next: nopSink{}}
	if _, ok := tl.MedianTTFB(); ok {
		t.Error("a median before any record")
	}
	for _, r := range []*record.Record{
		{Response: &record.Response{Status: 200}, TTFB: 10 * time.Millisecond, HasTTFB: true},
		{Response: &record.Response{Status: 200}, TTFB: 20 * time.Millisecond, HasTTFB: true},
		{Response: &record.Response{Status: 429}, TTFB: 30 * time.Millisecond, HasTTFB: true},
		{Response: &record.Response{Status: 200}, Error: &record.Error{Kind: record.KindUpstreamAborted}},
		{Error: &record.Error{Kind: record.KindShutdown}},
	} {
		tl.Record(r)
	}
	want := Counts{Done: 5, OK: 2, HTTPErrors: 1, TransportErrors: 2, Shutdown: 1}
	if got := tl.Counts(); got != want {
		t.Errorf("counts %+v, want %+v", got, want)
	}
	if d, ok := tl.MedianTTFB(); !ok || d < 19600*time.Microsecond || d > 20400*time.Microsecond {
		t.Errorf("median %v, want 20ms ± 2%%", d)
	}
	for _, tt := range []struct {
		sent, total, inFlight int
		elapsed               time.Duration
		want                  string
	}{
		{10, 40, 2, 2 * time.Second, "sent 10/40  in flight 2  5.0 req/s  errors 3  p50 ttfb 20ms  ETA 6s"},
		{10, -1, 0, time.Second, "sent 10  in flight 0  10.0 req/s  errors 3  p50 ttfb 20ms"},
		{40, 40, 0, time.Second, "sent 40/40  in flight 0  40.0 req/s  errors 3  p50 ttfb 20ms"},
	} {
		if got := tl.Progress(tt.sent, tt.total, tt.inFlight, tt.elapsed); got != tt.want {
			t.Errorf("Progress = %q, want %q", got, tt.want)
		}
	}
}

func TestMeasureTTFT(t *testing.T) {
	stream := func(id string, ms int) string {
		return `{"v":1,"id":"` + id + `","start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:00:01Z","duration_ms":1000,"ttfb_ms":5,"method":"POST","path":"/v1/chat/completions",` +
			`"request":{"headers":{},"body":{"model":"m","stream":true},"body_encoding":"json","body_bytes":27},` +
			`"response":{"status":200,"headers":{"content-type":"text/event-stream"},"body":"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n","body_encoding":"text","body_bytes":66,` +
			`"timing":[[0,` + strconv.Itoa(ms) + `]]}}` + "\n"
	}
	plain := `{"v":1,"id":"p","start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:00:01Z","duration_ms":100,"ttfb_ms":5,"method":"POST","path":"/v1/chat/completions",` +
		`"request":{"headers":{},"body":{"model":"m"},"body_encoding":"json","body_bytes":11},` +
		`"response":{"status":200,"headers":{"content-type":"application/json"},"body":{"choices":[{"message":{"content":"hi"}}]},"body_encoding":"json","body_bytes":35}}` + "\n"
	tl := &Tally{}
	var got []string
	w := tl.MeasureTTFT(collect{&got})
	if _, ok := tl.MedianTTFT(); ok {
		t.Error("a median before any record")
	}
	for _, line := range []string{stream("a", 50), stream("b", 60), plain} {
		if err := w.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 3 {
		t.Fatalf("%d lines passed on", len(got))
	}
	if d, ok := tl.MedianTTFT(); !ok || d < 58800*time.Microsecond || d > 61200*time.Microsecond {
		t.Errorf("median TTFT %v, want 60ms ± 2%%", d)
	}
	if p := tl.Progress(3, 3, 0, time.Second); !strings.Contains(p, "p50 ttft 60ms") {
		t.Errorf("progress %q", p)
	}
}

// collect is a FuncWriter that keeps the lines.
type collect struct{ lines *[]string }

func (c collect) Write(line []byte) error { *c.lines = append(*c.lines, string(line)); return nil }

func (c collect) WriteFunc(fn func(io.Writer) error) error { return fn(io.Discard) }
