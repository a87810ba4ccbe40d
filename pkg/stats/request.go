// Package stats turns llmtap records into serving metrics (TTFT, TPOT, ITL,
// latency, tokens, throughput, goodput) and aggregates them by group and
// time window. It knows no wire format: pkg/provider says where each output
// event ends and what the usage was; this package turns those offsets, the
// record's timing and the usage into milliseconds and tokens.
package stats

import (
	"math"
	"time"

	"github.com/llmtap/llmtap/pkg/record"
)

// Request is what one record says about speed and tokens: the row of
// llmstat --rows and the unit every aggregate is built from. A metric that
// does not apply to the exchange is NaN (durations) or -1 (token counts).
type Request struct {
	ID    string
	Start time.Time

	// Group keys.
	Model     string // the request's model, else the response's
	Path      string
	API       string // provider.API: openai.chat, anthropic.messages, …
	Upstream  string // host of upstream_url
	Client    string
	Status    int    // 0 when no response came
	ErrorKind string // "" when none

	// Failed is true when the exchange has an error kind, no response, or a
	// status of 400 or more; every other exchange completed.
	Failed   bool
	Streamed bool

	// Milliseconds; NaN when undefined.
	E2EL float64 // the record's duration_ms
	TTFB float64 // the record's ttfb_ms
	TTFT float64 // start → first output event (reasoning counts)
	TTFO float64 // start → first output event that is not reasoning
	TPOT float64 // (last output event − TTFT) / (output tokens − 1)
	// ITL holds the gaps between consecutive output events, in order.
	ITL []float64

	// Tokens from usage; -1 when unknown. When a stream reports no usage,
	// OutputTokens is the number of output events and TokensEstimated is set.
	InputTokens     int64
	CachedTokens    int64
	OutputTokens    int64
	TokensEstimated bool

	// Replay fields, from the record's replay object; IsReplay is false
	// for a record llmtap wrote.
	IsReplay  bool
	Scheduled time.Time
	Lag       float64 // ms; NaN when not a replay
	Queued    float64 // ms; NaN without a concurrency cap
}

// End is when the exchange ended: Start plus E2EL.
func (r *Request) End() time.Time {
	return r.Start.Add(time.Duration(r.E2EL * float64(time.Millisecond)))
}

// reset clears r for reuse, keeping the ITL slice's storage.
func (r *Request) reset() {
	itl := r.ITL[:0]
	nan := math.NaN()
	*r = Request{
		E2EL: nan, TTFB: nan, TTFT: nan, TTFO: nan, TPOT: nan, Lag: nan, Queued: nan,
		InputTokens: -1, CachedTokens: -1, OutputTokens: -1,
		ITL: itl,
	}
}

// Extractor fills Requests from records. It keeps parsing state between
// calls, so use one per goroutine.
type Extractor struct{}

// NewExtractor returns an Extractor.
func NewExtractor() *Extractor { return &Extractor{} }

// Extract fills r from the record v, reusing r's storage. The fields that
// need no wire format are filled here; TTFT, TTFO, TPOT, ITL, tokens, Model
// and API come from pkg/provider.
func (x *Extractor) Extract(v record.View, r *Request) {
	r.reset()
	r.ID = v.ID()
	r.Start = v.Start()
	r.Path = v.Path()
	r.Status = v.Status()
	r.ErrorKind = v.ErrorKind()
	r.Failed = r.ErrorKind != "" || !v.HasResponse() || r.Status >= 400
	r.Streamed = v.Streamed()
	r.E2EL = v.DurationMS()
	if ms, ok := v.TTFBMS(); ok {
		r.TTFB = ms
	}
	if rp, ok := v.Replay(); ok {
		r.IsReplay, r.Scheduled, r.Lag = true, rp.Scheduled, rp.LagMS
		if rp.HasQueued {
			r.Queued = rp.QueuedMS
		}
	}
}
