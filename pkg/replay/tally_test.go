package replay

import (
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
