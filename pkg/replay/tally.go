package replay

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/llmtap/llmtap/pkg/proxy"
	"github.com/llmtap/llmtap/pkg/record"
)

// Tally counts the records of a replay on their way to the output, for the
// progress line and the summary, and passes each on to Next.
type Tally struct {
	Next proxy.Sink

	mu     sync.Mutex
	counts Counts
	ttfb   [ttfbBuckets]int
	nTTFB  int
}

var _ proxy.Sink = (*Tally)(nil)

// Counts are the results so far.
type Counts struct {
	Done            int // records written
	OK              int // a response below 400, complete
	HTTPErrors      int // a complete response of status 400 or more
	TransportErrors int // no response, or one cut short (error.kind set)
	Shutdown        int // of TransportErrors, those cut by shutdown
}

// ttfb histogram: bucket i holds times from ttfbBase^i microseconds, 2%
// wide, so the median it gives is within 2% of the true one.
const (
	ttfbBase    = 1.02
	ttfbBuckets = 1100 // up to about 2.8e9 µs
)

// Record counts rec and passes it on.
func (t *Tally) Record(rec *record.Record) {
	t.mu.Lock()
	c := &t.counts
	c.Done++
	switch {
	case rec.Error != nil:
		c.TransportErrors++
		if rec.Error.Kind == record.KindShutdown {
			c.Shutdown++
		}
	case rec.Response != nil && rec.Response.Status >= 400:
		c.HTTPErrors++
	default:
		c.OK++
	}
	if rec.HasTTFB {
		us := max(float64(rec.TTFB.Microseconds()), 1)
		i := min(int(math.Log(us)/math.Log(ttfbBase)), ttfbBuckets-1)
		t.ttfb[i]++
		t.nTTFB++
	}
	t.mu.Unlock()
	t.Next.Record(rec)
}

// Counts returns the counts so far.
func (t *Tally) Counts() Counts {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.counts
}

// MedianTTFB is the median time to the first response byte so far; ok is
// false before any.
func (t *Tally) MedianTTFB() (d time.Duration, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.nTTFB == 0 {
		return 0, false
	}
	half, seen := (t.nTTFB+1)/2, 0
	for i, n := range t.ttfb {
		if seen += n; seen >= half {
			// The middle of the bucket.
			us := math.Pow(ttfbBase, float64(i)+0.5)
			return time.Duration(us * float64(time.Microsecond)), true
		}
	}
	return 0, false
}

// Progress is the live status line: sent/total, in flight, the send rate,
// errors, the median time to first byte, and the time left. total < 0 is
// not known.
func (t *Tally) Progress(sent, total, inFlight int, elapsed time.Duration) string {
	c := t.Counts()
	var b strings.Builder
	if total >= 0 {
		fmt.Fprintf(&b, "sent %d/%d", sent, total)
	} else {
		fmt.Fprintf(&b, "sent %d", sent)
	}
	rate := 0.0
	if elapsed > 0 {
		rate = float64(sent) / elapsed.Seconds()
	}
	fmt.Fprintf(&b, "  in flight %d  %.1f req/s  errors %d", inFlight, rate, c.HTTPErrors+c.TransportErrors)
	if d, ok := t.MedianTTFB(); ok {
		fmt.Fprintf(&b, "  p50 ttfb %s", roundDuration(d))
	}
	if total >= 0 && rate > 0 && sent < total {
		eta := time.Duration(float64(total-sent) / rate * float64(time.Second))
		fmt.Fprintf(&b, "  ETA %s", eta.Round(time.Second))
	}
	return b.String()
}

// roundDuration keeps three significant digits or so.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= 10*time.Millisecond:
		return d.Round(time.Millisecond)
	case d >= 10*time.Microsecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d
	}
}
