package stats

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/llmtap/llmtap/pkg/record"
)

// KeyValue is one group key and its value in a Result.
type KeyValue struct {
	Name  string // model, path, status_code, …
	Value string // "" when the request had none
}

// Field is one metric of a Result. Counts by kind and by class are
// flattened: errors.upstream_timeout, status.2xx.
type Field struct {
	Name  string
	Value float64
	Int   bool // a count: written without a fraction
}

// Result is what one group (or one window of a group) measured. Fields
// that have no value (a latency metric without samples, a throughput over
// an empty span) are left out.
type Result struct {
	Keys   []KeyValue
	Window time.Time // the window's start; zero without --interval
	Fields []Field
}

// Get returns the value of the field named name.
func (r *Result) Get(name string) (float64, bool) {
	for _, f := range r.Fields {
		if f.Name == name {
			return f.Value, true
		}
	}
	return 0, false
}

// Label is the group's keys as one string (model=gpt-4o path=/v1/…), or
// "all" for the single group of --by none.
func (r *Result) Label() string {
	if len(r.Keys) == 0 {
		return "all"
	}
	var b strings.Builder
	for i, k := range r.Keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		v := k.Value
		if v == "" {
			v = "-"
		}
		b.WriteString(k.Name + "=" + v)
	}
	return b.String()
}

// PercentileKey is the key fragment of percentile p: 99 → "p99", 99.9 →
// "p99.9" (vLLM's naming).
func PercentileKey(p float64) string {
	return "p" + strconv.FormatFloat(p, 'f', -1, 64)
}

func (a *Aggregator) result(g *group) Result {
	r := Result{Window: g.window}
	for i, k := range a.opts.By {
		r.Keys = append(r.Keys, KeyValue{k.fieldName(), g.keys[i]})
	}
	add := func(name string, v float64) {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			r.Fields = append(r.Fields, Field{Name: name, Value: v})
		}
	}
	count := func(name string, n int64) {
		r.Fields = append(r.Fields, Field{Name: name, Value: float64(n), Int: true})
	}
	all := g.completed + g.failed
	span := float64(g.last-g.first) / 1e9
	per := func(x float64) float64 {
		if span <= 0 {
			return math.NaN()
		}
		return x / span
	}
	count("completed", g.completed)
	count("failed", g.failed)
	add("duration_s", span)
	count("total_input_tokens", g.inTok)
	count("total_output_tokens", g.outTok)
	count("cached_input_tokens", g.cached)
	add("request_throughput", per(float64(g.completed)))
	add("output_throughput", per(float64(g.outTok)))
	add("total_token_throughput", per(float64(g.inTok+g.outTok)))
	if g.completed > 0 && g.outTok > 0 {
		add("peak_output_throughput", g.tokens.Peak())
	}
	add("mean_concurrency", per(g.sumE2EL/1000))
	count("peak_concurrency", g.conc.Peak())
	add("error_rate", float64(g.failed)/float64(all))
	if len(a.opts.Goodput) > 0 {
		add("goodput", per(float64(g.good)))
		add("goodput_share", float64(g.good)/float64(all))
	}
	count("tokens_estimated", g.estimated)
	for _, k := range sortedKeys(g.errors) {
		count("errors."+k, g.errors[k])
	}
	for _, k := range sortedKeys(g.status) {
		count("status."+k, g.status[k])
	}
	for m := range nMetrics {
		s := g.metrics[m]
		if s.Count() == 0 {
			continue
		}
		name := Metric(m).String()
		add("mean_"+name+"_ms", s.Mean())
		add("median_"+name+"_ms", s.Percentile(50))
		add("std_"+name+"_ms", s.Std())
		for _, p := range a.opts.Percentiles {
			add(PercentileKey(p)+"_"+name+"_ms", s.Percentile(p))
		}
		add("max_"+name+"_ms", s.Max())
	}
	return r
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Goal is one goodput target: a metric and its limit in milliseconds.
type Goal struct {
	Metric string // ttft, tpot or e2el
	MS     float64
}

// Goodput is a set of targets a good request meets (llmstat --goodput).
type Goodput []Goal

// ParseGoodput parses vLLM's goodput syntax: name:milliseconds pairs
// separated by commas or spaces ("ttft:200,tpot:50,e2el:2000").
func ParseGoodput(s string) (Goodput, error) {
	var g Goodput
	for f := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		name, val, ok := strings.Cut(f, ":")
		if !ok {
			return nil, fmt.Errorf("goodput target %q: want NAME:MILLISECONDS, such as ttft:200", f)
		}
		if name != "ttft" && name != "tpot" && name != "e2el" {
			return nil, fmt.Errorf("goodput target %q: the metric must be ttft, tpot or e2el", f)
		}
		ms, err := strconv.ParseFloat(val, 64)
		if err != nil || ms < 0 || math.IsNaN(ms) || math.IsInf(ms, 0) {
			return nil, fmt.Errorf("goodput target %q: want a number of milliseconds that is not negative", f)
		}
		g = append(g, Goal{name, ms})
	}
	if len(g) == 0 {
		return nil, fmt.Errorf("goodput: no target given (want e.g. ttft:200,tpot:50)")
	}
	return g, nil
}

// Met reports whether r completed and met every target. A metric that does
// not apply to r (no TPOT for a one-token answer) meets any target.
func (g Goodput) Met(r *Request) bool {
	if r.Failed || len(g) == 0 {
		return false
	}
	for _, goal := range g {
		var v float64
		switch goal.Metric {
		case "ttft":
			v = r.TTFT
		case "tpot":
			v = r.TPOT
		case "e2el":
			v = r.E2EL
		}
		if v > goal.MS { // false for NaN
			return false
		}
	}
	return true
}

// FromSchedule moves the start of r's latency metrics (TTFT, TTFO, TTFB,
// E2EL) from when a replayed request was sent to when it was scheduled, so
// that a sender that fell behind does not hide the wait it caused (wrk2's
// correction for coordinated omission). Records that are not replays, or
// carry no schedule, are left as they are.
func FromSchedule(r *Request) {
	if !r.IsReplay || r.Scheduled.IsZero() {
		return
	}
	d := float64(r.Start.Sub(r.Scheduled)) / float64(time.Millisecond)
	r.TTFT += d
	r.TTFO += d
	r.TTFB += d
	r.E2EL += d
}

// KnownField reports whether name is a field a Result can have: one of the
// fixed fields, errors.KIND, status.CLASS, or a statistic of a latency
// metric (mean_ttft_ms, p99.9_itl_ms, …). llmstat --fail-on checks its
// metric names with it.
func KnownField(name string) bool {
	if slices.Contains(fixedFields, name) {
		return true
	}
	if rest, ok := strings.CutPrefix(name, "errors."); ok {
		return rest != ""
	}
	if rest, ok := strings.CutPrefix(name, "status."); ok {
		return rest != ""
	}
	stat, rest, ok := strings.Cut(name, "_")
	if !ok {
		return false
	}
	metric, ok := strings.CutSuffix(rest, "_ms")
	if !ok || !slices.Contains(metricNames[:], metric) {
		return false
	}
	switch stat {
	case "mean", "median", "std", "max":
		return true
	}
	p, err := strconv.ParseFloat(strings.TrimPrefix(stat, "p"), 64)
	return strings.HasPrefix(stat, "p") && err == nil && p >= 0 && p <= 100
}

// fixedFields are the fields every Result can have, whatever the records
// hold, in output order; the goodput fields only with goodput targets.
var fixedFields = []string{"completed", "failed", "duration_s", "total_input_tokens", "total_output_tokens",
	"cached_input_tokens", "request_throughput", "output_throughput", "total_token_throughput",
	"peak_output_throughput", "mean_concurrency", "peak_concurrency", "error_rate",
	"goodput", "goodput_share", "tokens_estimated"}

func isGoodputField(name string) bool { return name == "goodput" || name == "goodput_share" }

// statusClasses are the status classes a Result counts, in output order.
var statusClasses = []string{"1xx", "2xx", "3xx", "4xx", "5xx", "none"}

// Columns lists the fields a Result of a can have, in output order, for a
// fixed CSV header: every error kind a record can carry and every status
// class, whether or not they occur, then every statistic of every metric.
// Keys and window_start are not included. A Result may also hold error
// kinds this version does not know; they are not in the list.
func (a *Aggregator) Columns() []string {
	var cols []string
	for _, f := range fixedFields {
		if len(a.opts.Goodput) > 0 || !isGoodputField(f) {
			cols = append(cols, f)
		}
	}
	// Sorted, as a Result's errors are.
	var kinds []string
	for _, k := range record.ErrorKinds() {
		kinds = append(kinds, k.Name)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		cols = append(cols, "errors."+k)
	}
	for _, c := range statusClasses {
		cols = append(cols, "status."+c)
	}
	for m := range nMetrics {
		name := Metric(m).String()
		cols = append(cols, "mean_"+name+"_ms", "median_"+name+"_ms", "std_"+name+"_ms")
		for _, p := range a.opts.Percentiles {
			cols = append(cols, PercentileKey(p)+"_"+name+"_ms")
		}
		cols = append(cols, "max_"+name+"_ms")
	}
	return cols
}

// KeyNames are the names of the group keys in output, in order.
func (a *Aggregator) KeyNames() []string {
	var names []string
	for _, k := range a.opts.By {
		names = append(names, k.fieldName())
	}
	return names
}
