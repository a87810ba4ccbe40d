package stats

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Key is a way to group requests (llmstat --by).
type Key string

// The keys requests can be grouped by.
const (
	ByModel    Key = "model"
	ByPath     Key = "path"
	ByStatus   Key = "status"
	ByUpstream Key = "upstream"
	ByClient   Key = "client"
	ByError    Key = "error"
	ByAPI      Key = "api"
	ByNone     Key = "none"
)

// Keys lists every Key, in the order --help shows them.
var Keys = []Key{ByModel, ByPath, ByStatus, ByUpstream, ByClient, ByError, ByAPI, ByNone}

// ParseKeys parses a comma-separated list of keys ("model,path"). "none"
// alone puts every request in one group.
func ParseKeys(s string) ([]Key, error) {
	var keys []Key
	for f := range strings.SplitSeq(s, ",") {
		k := Key(strings.TrimSpace(f))
		if !slices.Contains(Keys, k) {
			return nil, fmt.Errorf("unknown group key %q: want one of model, path, status, upstream, client, error, api, none", k)
		}
		if k != ByNone && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// fieldName is the name of the key in output. The status group key is
// status_code, since "status" holds the counts by status class.
func (k Key) fieldName() string {
	if k == ByStatus {
		return "status_code"
	}
	return string(k)
}

// Value is r's value of key k: "" when r has none.
func (k Key) Value(r *Request) string {
	switch k {
	case ByModel:
		return r.Model
	case ByPath:
		return r.Path
	case ByStatus:
		if r.Status == 0 {
			return ""
		}
		return strconv.Itoa(r.Status)
	case ByUpstream:
		return r.Upstream
	case ByClient:
		return r.Client
	case ByError:
		return r.ErrorKind
	case ByAPI:
		return r.API
	}
	return ""
}

// Options configures an Aggregator.
type Options struct {
	// By lists the group keys; none puts every request in one group.
	By []Key
	// Interval, when not zero, splits each group into windows of this
	// length by request start, aligned to the Unix epoch.
	Interval time.Duration
	// Percentiles are reported for every latency metric; nil means
	// 50, 90 and 99.
	Percentiles []float64
	// Goodput holds the targets a good request meets; empty: no goodput.
	Goodput Goodput
	// ExactLimit is how many samples of a metric a group keeps before its
	// percentiles come from a sketch; 0 means DefaultExactLimit.
	ExactLimit int
}

// DefaultPercentiles are the percentiles reported when none are asked for.
var DefaultPercentiles = []float64{50, 90, 99}

// Metric names one latency distribution a group reports.
type Metric int

// The latency metrics, in output order.
const (
	MetricTTFT Metric = iota
	MetricTTFO
	MetricTTFB
	MetricTPOT
	MetricITL
	MetricE2EL
	MetricLag
	MetricQueued
	nMetrics
)

var metricNames = [nMetrics]string{"ttft", "ttfo", "ttfb", "tpot", "itl", "e2el", "lag", "queued"}

// String is the metric's name in output keys (mean_ttft_ms).
func (m Metric) String() string { return metricNames[m] }

// Aggregator adds Requests into groups and windows and reports the serving
// metrics of each. It is not safe for concurrent use.
type Aggregator struct {
	opts   Options
	groups map[string]*group
	buf    []byte
	n      int64

	// With windows: a window whose end is past the watermark can get no
	// more requests (see horizon); it is closed, its result kept in closed
	// until taken, and its samples freed, so memory follows the open
	// windows, not the input.
	hz        horizon
	closed    []Result
	nextClose int64 // earliest end of an open window, ns
}

// NewAggregator returns an empty Aggregator.
func NewAggregator(opts Options) *Aggregator {
	if opts.Percentiles == nil {
		opts.Percentiles = DefaultPercentiles
	}
	if opts.ExactLimit <= 0 {
		opts.ExactLimit = DefaultExactLimit
	}
	opts.By = slices.DeleteFunc(slices.Clone(opts.By), func(k Key) bool { return k == ByNone })
	return &Aggregator{opts: opts, groups: make(map[string]*group), nextClose: math.MaxInt64}
}

// Options returns the options in effect (with defaults filled in).
func (a *Aggregator) Options() Options { return a.opts }

// Len is the number of requests added.
func (a *Aggregator) Len() int64 { return a.n }

// group is the running state of one group (or one window of a group).
type group struct {
	keys      []string
	window    time.Time
	completed int64
	failed    int64
	first     int64 // earliest start, ns since the Unix epoch
	last      int64 // latest end
	sumE2EL   float64
	inTok     int64
	outTok    int64
	cached    int64
	good      int64
	estimated int64
	errors    map[string]int64
	status    map[string]int64
	metrics   [nMetrics]*Summary
	hz        horizon
	conc      concurrency
	tokens    buckets
}

// Add adds one request. r is not kept.
func (a *Aggregator) Add(r *Request) {
	a.buf = a.buf[:0]
	for _, k := range a.opts.By {
		a.buf = append(a.buf, k.Value(r)...)
		a.buf = append(a.buf, 0)
	}
	var window time.Time
	if a.opts.Interval > 0 {
		window = r.Start.Truncate(a.opts.Interval)
		a.buf = strconv.AppendInt(a.buf, window.UnixNano(), 10)
	}
	g := a.groups[string(a.buf)]
	if g == nil {
		g = &group{window: window, first: math.MaxInt64, last: math.MinInt64,
			errors: map[string]int64{}, status: map[string]int64{}}
		for _, k := range a.opts.By {
			g.keys = append(g.keys, k.Value(r))
		}
		for i := range g.metrics {
			g.metrics[i] = newSummary(a.opts.ExactLimit)
		}
		a.groups[string(a.buf)] = g
		if a.opts.Interval > 0 {
			a.nextClose = min(a.nextClose, window.Add(a.opts.Interval).UnixNano())
		}
	}
	start, end := g.add(r, a.opts.Goodput)
	a.n++
	if a.opts.Interval > 0 {
		a.hz.see(start, end)
		if a.hz.watermark() >= a.nextClose {
			a.closeWindows()
		}
	}
}

// closeWindows closes every window that ended before the watermark.
func (a *Aggregator) closeWindows() {
	w := a.hz.watermark()
	a.nextClose = math.MaxInt64
	var done []Result
	for k, g := range a.groups {
		end := g.window.Add(a.opts.Interval).UnixNano()
		if end > w {
			a.nextClose = min(a.nextClose, end)
			continue
		}
		done = append(done, a.result(g))
		delete(a.groups, k)
	}
	a.sort(done)
	a.closed = append(a.closed, done...)
}

// TakeClosed returns the results of the windows closed since the last call
// (none without Interval), in window order, and forgets them: a window
// closes once no request can fall in it any more (requests arrive in the
// order they ended; see the package's trackers). Results does not report
// them again.
func (a *Aggregator) TakeClosed() []Result {
	c := a.closed
	a.closed = nil
	return c
}

// add adds r to g and returns the span it counted r over, in ns since the
// Unix epoch.
func (g *group) add(r *Request, goal Goodput) (start, end int64) {
	start = r.Start.UnixNano()
	e2el := r.E2EL
	if math.IsNaN(e2el) || e2el < 0 {
		e2el = 0
	}
	end = start + int64(e2el*float64(time.Millisecond))
	g.first, g.last = min(g.first, start), max(g.last, end)
	g.sumE2EL += e2el
	g.hz.see(start, end)
	g.conc.add(start, end, &g.hz)
	g.status[statusClass(r.Status)]++
	if r.ErrorKind != "" {
		g.errors[r.ErrorKind]++
	}
	if r.IsReplay {
		g.metrics[MetricLag].Add(r.Lag)
		g.metrics[MetricQueued].Add(r.Queued)
	}
	if r.Failed {
		g.failed++
		return start, end
	}
	g.completed++
	g.metrics[MetricTTFT].Add(r.TTFT)
	g.metrics[MetricTTFO].Add(r.TTFO)
	g.metrics[MetricTTFB].Add(r.TTFB)
	g.metrics[MetricTPOT].Add(r.TPOT)
	g.metrics[MetricE2EL].Add(r.E2EL)
	for _, v := range r.ITL {
		g.metrics[MetricITL].Add(v)
	}
	if r.InputTokens > 0 {
		g.inTok += r.InputTokens
	}
	if r.CachedTokens > 0 {
		g.cached += r.CachedTokens
	}
	if r.TokensEstimated {
		g.estimated++
	}
	if r.OutputTokens > 0 {
		g.outTok += r.OutputTokens
		g.addTokens(r, start, end)
	}
	if goal.Met(r) {
		g.good++
	}
	return start, end
}

// addTokens spreads r's output tokens over its output events (the first at
// TTFT, then one per ITL gap) into the per-second buckets; a request with
// no output events puts them all at its end.
func (g *group) addTokens(r *Request, start, end int64) {
	out := float64(r.OutputTokens)
	if math.IsNaN(r.TTFT) {
		g.tokens.add(end, out, &g.hz)
		return
	}
	per := out / float64(len(r.ITL)+1)
	t := float64(start) + r.TTFT*float64(time.Millisecond)
	g.tokens.add(int64(t), per, &g.hz)
	for _, gap := range r.ITL {
		t += gap * float64(time.Millisecond)
		g.tokens.add(int64(t), per, &g.hz)
	}
}

// statusClass is "2xx" … "5xx" for a status code, "none" when no response
// came.
func statusClass(status int) string {
	if status < 100 || status > 999 {
		return "none"
	}
	return classNames[status/100-1]
}

// classNames are the classes statusClass returns, made once rather than
// per request.
var classNames = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx", "6xx", "7xx", "8xx", "9xx"}

// Results reports every group, sorted by key values; with windows, every
// window not yet taken with TakeClosed, sorted by window start, then key
// values.
func (a *Aggregator) Results() []Result {
	out := slices.Clone(a.closed)
	for _, g := range a.groups {
		out = append(out, a.result(g))
	}
	a.sort(out)
	return out
}

func (a *Aggregator) sort(rs []Result) {
	slices.SortFunc(rs, func(x, y Result) int {
		if c := x.Window.Compare(y.Window); c != 0 {
			return c
		}
		for i := range x.Keys {
			if c := cmp.Compare(x.Keys[i].Value, y.Keys[i].Value); c != 0 {
				return c
			}
		}
		return 0
	})
}
