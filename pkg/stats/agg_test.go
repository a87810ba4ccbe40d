package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// The expected values are numpy's (numpy.percentile, default method
// "linear"; numpy.std, ddof=0), printed by numpy 1.24.2 for this sample;
// sorted it is 3, 7.25, 8, 9.75, 12.5, 15.5, 27, 42, 61, 100. numpy
// prints p90 as 64.89999999999999 and p99.9 as 99.64900000000006: the
// test allows a relative 1e-9.
func TestSummaryMatchesNumpy(t *testing.T) {
	sample := []float64{12.5, 3.0, 7.25, 100.0, 42.0, 8.0, 15.5, 9.75, 61.0, 27.0}
	s := newSummary(DefaultExactLimit)
	for _, v := range sample {
		s.Add(v)
	}
	s.Add(math.NaN()) // ignored
	tests := []struct {
		name      string
		got, want float64
	}{
		{"mean", s.Mean(), 28.6},
		{"std", s.Std(), 29.413474803225814},
		{"max", s.Max(), 100},
		{"p0", s.Percentile(0), 3},
		{"p25", s.Percentile(25), 8.4375},
		{"p50", s.Percentile(50), 14.0},
		{"p90", s.Percentile(90), 64.9},
		{"p99", s.Percentile(99), 96.49},
		{"p99.9", s.Percentile(99.9), 99.649},
		{"p100", s.Percentile(100), 100},
	}
	for _, tt := range tests {
		if math.Abs(tt.got-tt.want) > 1e-9*math.Abs(tt.want) {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if s.Count() != 10 || !s.Exact() {
		t.Errorf("count %d exact %v, want 10 true", s.Count(), s.Exact())
	}
}

func TestSummaryEmptyAndSingle(t *testing.T) {
	s := newSummary(10)
	if !math.IsNaN(s.Mean()) || !math.IsNaN(s.Percentile(50)) || !math.IsNaN(s.Max()) || !math.IsNaN(s.Std()) {
		t.Error("empty summary should report NaN")
	}
	s.Add(7)
	for _, p := range []float64{0, 50, 99, 100} {
		if got := s.Percentile(p); got != 7 {
			t.Errorf("p%v of one sample = %v, want 7", p, got)
		}
	}
	if s.Std() != 0 {
		t.Errorf("std of one sample = %v", s.Std())
	}
}

// Past the exact limit the summary switches to a sketch: percentiles stay
// within 1% of the exact ones, mean, std and max stay exact.
func TestSummarySketchWithinOnePercent(t *testing.T) {
	const n = 300_000
	rng := rand.New(rand.NewPCG(1, 2))
	vals := make([]float64, n)
	s := newSummary(50_000)
	for i := range vals {
		// A long-tailed latency: lognormal around 200 ms.
		vals[i] = 200 * math.Exp(rng.NormFloat64()*0.8)
		s.Add(vals[i])
	}
	if s.Exact() {
		t.Fatal("summary still exact past its limit")
	}
	slices.Sort(vals)
	for _, p := range []float64{1, 10, 50, 90, 99, 99.9} {
		want := percentileSorted(vals, p)
		got := s.Percentile(p)
		if rel := math.Abs(got-want) / want; rel > 0.01 {
			t.Errorf("p%v = %v, exact %v: off by %.3f%%", p, got, want, rel*100)
		}
	}
	var sum float64
	for _, v := range vals {
		sum += v
	}
	if m := sum / n; math.Abs(s.Mean()-m)/m > 1e-9 {
		t.Errorf("mean %v, want %v", s.Mean(), m)
	}
	if s.Max() != vals[n-1] {
		t.Errorf("max %v, want %v", s.Max(), vals[n-1])
	}
}

func req(model string, startMS, e2el float64) *Request {
	r := &Request{}
	r.reset()
	r.Model, r.Path, r.Status = model, "/v1/chat/completions", 200
	r.Start = t0.Add(time.Duration(startMS * float64(time.Millisecond)))
	r.E2EL = e2el
	return r
}

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func testRequests() []*Request {
	r1 := req("m1", 0, 1000)
	r1.TTFT, r1.TTFO, r1.TTFB, r1.TPOT = 100, 100, 50, 20
	r1.ITL = []float64{100, 100}
	r1.InputTokens, r1.OutputTokens = 10, 10

	r2 := req("m1", 500, 1500)
	r2.TTFT, r2.TTFO, r2.TTFB, r2.TPOT = 300, 400, 60, 40
	r2.ITL = []float64{250}
	r2.InputTokens, r2.OutputTokens, r2.CachedTokens, r2.TokensEstimated = 5, 20, 3, true

	r3 := req("m1", 1000, 2000)
	r3.Status, r3.ErrorKind, r3.Failed = 0, "upstream_timeout", true

	r4 := req("m2", 0, 10)
	r4.Status, r4.Failed = 500, true
	return []*Request{r1, r2, r3, r4}
}

func TestAggregate(t *testing.T) {
	goal, err := ParseGoodput("ttft:200 e2el:5000")
	if err != nil {
		t.Fatal(err)
	}
	a := NewAggregator(Options{By: []Key{ByModel}, Goodput: goal})
	for _, r := range testRequests() {
		a.Add(r)
	}
	res := a.Results()
	if len(res) != 2 || res[0].Label() != "model=m1" || res[1].Label() != "model=m2" {
		t.Fatalf("groups: %+v", res)
	}
	want := map[string]float64{
		"completed": 2, "failed": 1, "duration_s": 3,
		"total_input_tokens": 15, "total_output_tokens": 30, "cached_input_tokens": 3,
		"request_throughput": 2.0 / 3, "output_throughput": 10, "total_token_throughput": 15,
		// r1's 10 tokens at 0.1, 0.2, 0.3 s; r2's 20 at 0.8 and 1.05 s.
		"peak_output_throughput": 20,
		"mean_concurrency":       1.5, "peak_concurrency": 2,
		"error_rate": 1.0 / 3, "goodput": 1.0 / 3, "goodput_share": 1.0 / 3,
		"tokens_estimated": 1, "errors.upstream_timeout": 1, "status.2xx": 2, "status.none": 1,
		"mean_ttft_ms": 200, "median_ttft_ms": 200, "std_ttft_ms": 100,
		"p50_ttft_ms": 200, "p90_ttft_ms": 280, "p99_ttft_ms": 298, "max_ttft_ms": 300,
		"mean_ttfo_ms": 250, "max_ttfb_ms": 60, "mean_tpot_ms": 30,
		"mean_itl_ms": 450.0 / 3, "median_itl_ms": 100, "max_itl_ms": 250,
		"mean_e2el_ms": 1250, "p99_e2el_ms": 1495,
	}
	m1 := res[0]
	for name, w := range want {
		got, ok := m1.Get(name)
		if !ok {
			t.Errorf("%s missing", name)
		} else if math.Abs(got-w) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, w)
		}
	}
	for _, absent := range []string{"mean_lag_ms", "errors.shutdown", "status.5xx"} {
		if _, ok := m1.Get(absent); ok {
			t.Errorf("%s present, want absent", absent)
		}
	}
	m2 := res[1]
	if v, _ := m2.Get("error_rate"); v != 1 {
		t.Errorf("m2 error_rate %v", v)
	}
	if _, ok := m2.Get("mean_ttft_ms"); ok {
		t.Error("m2 has TTFT stats from failed requests only")
	}
	if _, ok := m2.Get("request_throughput"); !ok {
		t.Error("m2 has no request_throughput over its 10 ms span")
	}
}

func TestAggregateWindowsAndKeys(t *testing.T) {
	a := NewAggregator(Options{By: []Key{ByStatus, ByNone}, Interval: time.Second})
	for _, r := range testRequests() {
		a.Add(r)
	}
	var got []string
	for _, r := range a.Results() {
		got = append(got, r.Label()+" "+r.Window.Format("05.000"))
	}
	want := []string{"status_code=200 00.000", "status_code=500 00.000", "status_code=- 01.000"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestFromSchedule(t *testing.T) {
	r := req("m", 0, 100)
	r.TTFT = 10
	FromSchedule(r) // not a replay: unchanged
	if r.TTFT != 10 {
		t.Fatal("changed a record that is not a replay")
	}
	r.IsReplay, r.Scheduled = true, r.Start.Add(-30*time.Millisecond)
	FromSchedule(r)
	if r.TTFT != 40 || r.E2EL != 130 {
		t.Errorf("ttft %v e2el %v, want 40 130", r.TTFT, r.E2EL)
	}
}

func TestParseGoodput(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Goodput
		err  bool
	}{
		{in: "ttft:200,tpot:50,e2el:2000", want: Goodput{{"ttft", 200}, {"tpot", 50}, {"e2el", 2000}}},
		{in: "ttft:200 tpot:50", want: Goodput{{"ttft", 200}, {"tpot", 50}}},
		{in: "ttft:1.5", want: Goodput{{"ttft", 1.5}}},
		{in: "", err: true},
		{in: "ttft", err: true},
		{in: "itl:5", err: true},
		{in: "ttft:-1", err: true},
		{in: "ttft:x", err: true},
	} {
		got, err := ParseGoodput(tt.in)
		if (err != nil) != tt.err || !slices.Equal(got, tt.want) {
			t.Errorf("ParseGoodput(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestGoodputMet(t *testing.T) {
	g := Goodput{{"ttft", 100}, {"tpot", 10}}
	ok := req("m", 0, 50)
	ok.TTFT = 100 // at the target meets it
	slow := req("m", 0, 50)
	slow.TTFT = 101
	failed := req("m", 0, 50)
	failed.TTFT, failed.Failed = 1, true
	for _, tt := range []struct {
		r    *Request
		want bool
	}{{ok, true}, {slow, false}, {failed, false}} {
		if got := g.Met(tt.r); got != tt.want {
			t.Errorf("Met(ttft %v failed %v) = %v", tt.r.TTFT, tt.r.Failed, got)
		}
	}
}

// Events older than the watermark are folded away: the trackers stay small
// over a long input, and the peaks stay right.
func TestTrackersStaySmall(t *testing.T) {
	a := NewAggregator(Options{By: []Key{ByNone}})
	for i := range 100_000 {
		r := req("m", float64(i)*100, 250) // 2 or 3 open at once
		r.TTFT, r.OutputTokens = 250, 1
		a.Add(r)
	}
	g := a.groups[""]
	if len(g.conc.pending) > 2*flushEvery || len(g.tokens.sums) > 2*flushEvery {
		t.Errorf("trackers grew: %d events, %d buckets", len(g.conc.pending), len(g.tokens.sums))
	}
	res := a.Results()[0]
	if v, _ := res.Get("peak_concurrency"); v != 3 {
		t.Errorf("peak_concurrency %v, want 3", v)
	}
	if v, _ := res.Get("peak_output_throughput"); v != 10 {
		t.Errorf("peak_output_throughput %v, want 10", v)
	}
}

// An input whose times repeat (the same records concatenated) folds
// nothing before the end, but equal events merge: memory stays small and
// the peak counts every copy.
func TestTrackersRepeatedTimes(t *testing.T) {
	a := NewAggregator(Options{By: []Key{ByNone}})
	for range 20_000 {
		for j := range 5 {
			a.Add(req("m", float64(j)*1000, 500))
		}
	}
	g := a.groups[""]
	if len(g.conc.pending) > 2*flushEvery {
		t.Errorf("%d pending events", len(g.conc.pending))
	}
	if v, _ := a.Results()[0].Get("peak_concurrency"); v != 20_000 {
		t.Errorf("peak_concurrency %v, want 20000", v)
	}
}

// Windows close as the input moves past them: their results come out in
// order, their samples are freed, and every request is counted once.
func TestWindowsClose(t *testing.T) {
	a := NewAggregator(Options{By: []Key{ByModel}, Interval: time.Second})
	var got []Result
	const n = 20_000
	for i := range n { // 10 requests a second for 2000 s, two models
		r := req([]string{"a", "b"}[i%2], float64(i)*100, 50)
		r.TTFT = 10
		a.Add(r)
		got = append(got, a.TakeClosed()...)
		if len(a.groups) > 2*70 {
			t.Fatalf("%d open windows after %d requests", len(a.groups), i)
		}
	}
	if len(got) < 2*1900 {
		t.Fatalf("only %d windows closed", len(got))
	}
	got = append(got, a.Results()...)
	if len(got) != 2*2000 {
		t.Fatalf("%d windows, want 4000", len(got))
	}
	var total float64
	for i, r := range got {
		if i > 0 && r.Window.Before(got[i-1].Window) {
			t.Fatalf("window %v after %v", r.Window, got[i-1].Window)
		}
		c, _ := r.Get("completed")
		total += c
	}
	if total != n {
		t.Errorf("%v requests counted, want %d", total, n)
	}
}

func BenchmarkAggregatorAdd(b *testing.B) {
	a := NewAggregator(Options{By: []Key{ByModel}})
	rs := make([]*Request, 1000)
	for i := range rs {
		r := req([]string{"a", "b", "c"}[i%3], float64(i)*10, 300)
		r.TTFT, r.TTFO, r.TTFB, r.TPOT = 50, 50, 40, 10
		r.ITL = []float64{10, 11, 9, 10, 12, 10, 10, 9, 10, 11}
		r.InputTokens, r.OutputTokens = 100, 11
		rs[i] = r
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r := rs[i%len(rs)]
		r.Start = t0.Add(time.Duration(i) * 10 * time.Millisecond)
		a.Add(r)
	}
}
