// Package stats turns llmtap records into serving metrics (TTFT, TPOT, ITL,
// latency, tokens, throughput, goodput) and aggregates them by group and
// time window. It knows no wire format: pkg/provider says where each output
// event ends and what the usage was; this package turns those offsets, the
// record's timing and the usage into milliseconds and tokens.
package stats

import (
	"math"
	"net"
	"strings"
	"time"

	"github.com/llmtap/llmtap/pkg/provider"
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
	Upstream  string // host of upstream_url (with its port, when it names one)
	Client    string // the client's host, without the port of its connection
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
// calls, so use one per goroutine: in steady state a record costs its id
// (and a path, host or model not seen before), and an event nothing.
type Extractor struct {
	meter *provider.Meter
	// strs holds the paths and hosts seen, each once: a log repeats a few,
	// and a string kept here costs no allocation when it comes again.
	strs map[string]string
}

// maxInterned bounds Extractor.strs: past it, the strings are forgotten
// and gathered anew, so that a log of ever new paths does not grow it.
const maxInterned = 4096

// NewExtractor returns an Extractor.
func NewExtractor() *Extractor { return &Extractor{meter: provider.NewMeter()} }

// Extract fills r from the record v, reusing r's storage (r.ITL's array).
//
// An output event's time is the arrival of the chunk that holds its last
// byte (record.View.TickMS of the byte before the event's End, the same
// byte llmmd's TTFT looks up), in ms since the exchange started; then:
//   - TTFT is the first output event's time, TTFO the first that is not
//     reasoning alone, ITL the gaps between consecutive output events
//     (events that came in one chunk are 0 apart), and TPOT (last output
//     event − TTFT) / (output tokens − 1), for more than one output token.
//   - A response that was not streamed has TTFT = TTFO = E2EL, no ITL and
//     no TPOT.
//   - When an event's time is unknown, TTFT, TTFO, ITL and TPOT are left
//     undefined rather than guessed. That is the case for a response that
//     came with a Content-Encoding (gzip, br, …): the record holds the
//     decoded body, but its timing counts compressed bytes, and no offset
//     of one maps onto the other (TTFB, the first byte of the headers, is
//     no stand-in for the first token).
//
// Tokens come from the response's usage. When a stream reports no output
// count (a stream cut before its last event, a server not asked for usage),
// OutputTokens is the number of output events and TokensEstimated is set.
func (x *Extractor) Extract(v record.View, r *Request) {
	r.reset()
	r.ID = v.ID()
	r.Start = v.Start()
	// The parsed record's own bytes: keep copies only what is new.
	r.Path = x.intern(record.UnsafeString(v.PathBytes()))
	r.Status = v.Status()
	r.ErrorKind = v.ErrorKind()
	hasResponse := v.HasResponse()
	r.Failed = r.ErrorKind != "" || !hasResponse || r.Status >= 400
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
	r.Upstream = x.intern(urlHost(record.UnsafeString(v.UpstreamURLBytes())))
	r.Client = x.intern(addrHost(record.UnsafeString(v.ClientBytes())))

	m := x.meter.Measure(v)
	r.API, r.Model, r.Streamed = string(m.API), m.Model, m.Stream
	if m.HasInput {
		r.InputTokens, r.CachedTokens = m.Usage.Input, m.Usage.CachedInput
	}
	switch {
	case m.HasOutput:
		r.OutputTokens = m.Usage.Output
	case r.Streamed && m.Counted:
		r.OutputTokens, r.TokensEstimated = int64(len(m.Events)), true
	}
	switch {
	case !hasResponse:
	case !r.Streamed:
		r.TTFT, r.TTFO = r.E2EL, r.E2EL
	default:
		eventTimes(v, m.Events, r)
	}
}

// eventTimes fills TTFT, TTFO, ITL and TPOT from the times of the output
// events, or leaves them all undefined when one event's time is unknown.
func eventTimes(v record.View, events []provider.OutputEvent, r *Request) {
	var last float64
	ticks := v.Ticks() // events come in offset order
	for i, e := range events {
		t, ok := ticks.MS(e.End - 1)
		if e.End <= 0 || !ok {
			r.TTFT, r.TTFO, r.ITL = math.NaN(), math.NaN(), r.ITL[:0]
			return
		}
		if i == 0 {
			r.TTFT = t
		} else {
			r.ITL = append(r.ITL, t-last)
		}
		if math.IsNaN(r.TTFO) && e.Kind.Answer() {
			r.TTFO = t
		}
		last = t
	}
	if len(events) > 0 && r.OutputTokens > 1 {
		r.TPOT = (last - r.TTFT) / float64(r.OutputTokens-1)
	}
}

// intern returns s as the string kept in x.strs, keeping a copy of it
// first when it is new; s may alias the parsed record.
func (x *Extractor) intern(s string) string {
	if k, ok := x.strs[s]; ok {
		return k
	}
	if x.strs == nil || len(x.strs) >= maxInterned {
		x.strs = make(map[string]string)
	}
	k := strings.Clone(s)
	x.strs[k] = k
	return k
}

// urlHost is the host (and port, when given) of an absolute URL; "" when
// u is not one.
func urlHost(u string) string {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:] // user info, masked or not, is not the host
	}
	return rest
}

// addrHost is the host of a host:port address (an IPv6 host without its
// brackets), or addr itself when it has no port: one client's connections
// come from many ports, and group as one client.
func addrHost(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}
