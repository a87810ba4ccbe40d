package replay

import (
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/llmtap/llmtap/pkg/proxy"
	"github.com/llmtap/llmtap/pkg/record"
	"github.com/llmtap/llmtap/pkg/stats"
	"github.com/valyala/fastjson"
)

// Tally counts the records of a replay on their way to the output, for the
// progress line and the summary, and passes each on to Next.
type Tally struct {
	Next proxy.Sink

	mu     sync.Mutex
	counts Counts
	ttfb   histogram
	ttft   histogram
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

// histogram buckets durations from histBase^i microseconds, 2% wide, so
// the median it gives is within 2% of the true one.
type histogram struct {
	n       int
	buckets [histBuckets]int
}

const (
	histBase    = 1.02
	histBuckets = 1100 // up to about 2.8e9 µs
)

func (h *histogram) add(d time.Duration) {
	us := max(float64(d.Microseconds()), 1)
	h.buckets[min(int(math.Log(us)/math.Log(histBase)), histBuckets-1)]++
	h.n++
}

// median is the middle of the bucket that holds the median.
func (h *histogram) median() (time.Duration, bool) {
	half, seen := (h.n+1)/2, 0
	for i, n := range h.buckets {
		if seen += n; seen >= half && h.n > 0 {
			us := math.Pow(histBase, float64(i)+0.5)
			return time.Duration(us * float64(time.Microsecond)), true
		}
	}
	return 0, false
}

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
		t.ttfb.add(rec.TTFB)
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
	return t.ttfb.median()
}

// MedianTTFT is the median time to the first token so far, of the records
// MeasureTTFT has seen; ok is false before any.
func (t *Tally) MedianTTFT() (d time.Duration, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ttft.median()
}

// MeasureTTFT returns a line writer that reads each record line's time to
// first token (stats.Extract: the first output event of a stream, the
// whole exchange for an answer that was not streamed) for the progress
// line, then hands the line to next. It parses every record, so it is for
// when someone watches the progress line. A record streamed through
// WriteFunc (a body too large for memory) is passed on unmeasured.
func (t *Tally) MeasureTTFT(next proxy.FuncWriter) proxy.FuncWriter {
	return &ttftLines{next: next, tally: t}
}

// ttftLines is the writer MeasureTTFT returns.
type ttftLines struct {
	next  proxy.FuncWriter
	tally *Tally
	pool  sync.Pool // of *ttftState
}

var _ proxy.FuncWriter = (*ttftLines)(nil)

// ttftState is one goroutine's parsing state.
type ttftState struct {
	p   fastjson.Parser
	x   *stats.Extractor
	req stats.Request
}

func (w *ttftLines) Write(line []byte) error {
	st, _ := w.pool.Get().(*ttftState)
	if st == nil {
		st = &ttftState{x: stats.NewExtractor()}
	}
	if v, err := record.ParseLine(&st.p, line); err == nil {
		st.x.Extract(v, &st.req)
		if ms := st.req.TTFT; !math.IsNaN(ms) {
			w.tally.mu.Lock()
			w.tally.ttft.add(time.Duration(ms * float64(time.Millisecond)))
			w.tally.mu.Unlock()
		}
	}
	w.pool.Put(st)
	return w.next.Write(line)
}

func (w *ttftLines) WriteFunc(fn func(io.Writer) error) error { return w.next.WriteFunc(fn) }

// Progress is the live status line: sent/total, in flight, the send rate,
// errors, the median time to first token (to first byte until MeasureTTFT
// has seen a record), and the time left. total < 0 is not known.
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
	if d, ok := t.MedianTTFT(); ok {
		fmt.Fprintf(&b, "  p50 ttft %s", roundDuration(d))
	} else if d, ok := t.MedianTTFB(); ok {
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
