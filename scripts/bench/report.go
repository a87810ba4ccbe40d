package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"text/tabwriter"
)

// row is one target's results: metrics by name (see metricOrder), or why
// there are none.
type row struct {
	target  string
	skipped string
	err     string
	notes   []string
	m       map[string]float64
	sent    atomic.Int64 // requests sent, for the record-count check
}

func (r *row) totalErrors() float64 {
	var n float64
	for k, v := range r.m {
		if strings.HasSuffix(k, "_errors") {
			n += v
		}
	}
	return n
}

func (r *row) get(k string) (float64, bool) {
	v, ok := r.m[k]
	return v, ok
}

func findRow(rows []*row, name string) *row {
	for _, r := range rows {
		if r.target == name && r.skipped == "" && r.err == "" {
			return r
		}
	}
	return nil
}

// addedTTFB fills slow_added_ttfb_* and many_added_ttfb_*: the time to first
// byte of each target minus that of the upstream reached directly.
func addedTTFB(rows []*row) {
	d := findRow(rows, "direct")
	if d == nil {
		return
	}
	for _, r := range rows {
		if r == d {
			continue
		}
		for _, c := range []string{"slow", "many"} {
			for _, q := range []string{"p50", "p99"} {
				base, ok1 := d.get(c + "_ttfb_" + q + "_ms")
				v, ok2 := r.get(c + "_ttfb_" + q + "_ms")
				if ok1 && ok2 {
					r.m[c+"_added_ttfb_"+q+"_ms"] = v - base
				}
			}
		}
	}
}

// noRatio lists the metrics that are counts, not figures to compare.
func noRatio(k string) bool {
	return strings.HasSuffix(k, "_errors") || k == "records" || k == "requests"
}

// computeRatios returns llmtap/baseline for every metric both rows have,
// when both values are positive.
func computeRatios(rows []*row) map[string]map[string]float64 {
	out := map[string]map[string]float64{}
	l := findRow(rows, "llmtap")
	if l == nil {
		return out
	}
	for _, base := range []string{"bareproxy", "nginx", "original"} {
		b := findRow(rows, base)
		if b == nil {
			continue
		}
		m := map[string]float64{}
		for k, lv := range l.m {
			bv, ok := b.m[k]
			if !ok || noRatio(k) || lv <= 0 || bv <= 0 {
				continue
			}
			if strings.HasSuffix(k, "_rss_mb") && bv < 1 {
				continue // a ratio to ~0 MiB of noise says nothing; read the table
			}
			m[k] = lv / bv
		}
		out["llmtap/"+base] = m
	}
	return out
}

// fmtNum prints v with about 4 significant digits, "-" when absent.
func fmtNum(v float64, ok bool) string {
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	a := math.Abs(v)
	switch {
	case a == 0 || a >= 1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}

type column struct{ head, key string }

func printTable(w io.Writer, title string, rows []*row, cols []column) {
	fmt.Fprintf(w, "\n%s\n", title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	heads := []string{"target"}
	for _, c := range cols {
		heads = append(heads, c.head)
	}
	fmt.Fprintln(tw, strings.Join(heads, "\t")+"\t")
	for _, r := range rows {
		cells := []string{r.target}
		switch {
		case r.skipped != "":
			cells = append(cells, "skipped")
		case r.err != "" && len(r.m) == 0:
			cells = append(cells, "failed")
		default:
			for _, c := range cols {
				v, ok := r.get(c.key)
				cells = append(cells, fmtNum(v, ok))
			}
		}
		for len(cells) <= len(cols) {
			cells = append(cells, "") // a short row would end the columns' alignment
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	tw.Flush()
}

func printTables(w io.Writer, cli *CLI, rows []*row, ratios map[string]map[string]float64) {
	printTable(w, fmt.Sprintf("plain JSON (~1 KB), fast SSE (%d chunks) and fast SSE of %d short events, %d connections; latency in ms; cpu: the target's CPU µs per exchange", cli.Chunks, cli.SmallChunks, cli.Conns), rows, []column{
		{"req/s", "plain_rps"}, {"p50", "plain_p50_ms"}, {"p99", "plain_p99_ms"}, {"cpu", "plain_cpu_us"}, {"err", "plain_errors"},
		{"sse/s", "sse_streams_per_s"}, {"p50", "sse_p50_ms"}, {"p99", "sse_p99_ms"}, {"cpu", "sse_cpu_us"}, {"err", "sse_errors"},
		{"small/s", "sse_small_streams_per_s"}, {"p50", "sse_small_p50_ms"}, {"p99", "sse_small_p99_ms"}, {"cpu", "sse_small_cpu_us"}, {"err", "sse_small_errors"},
	})
	starts := "starts spread over one stream"
	if cli.Lockstep {
		starts = "all started at once (--lockstep)"
	}
	printTable(w, fmt.Sprintf("slow streams (%d chunks × %v): time to first byte in ms, +added vs direct; %d connections (%s) and %d (all at once); KiB/str: RSS above idle per open stream",
		cli.SlowChunks, cli.SlowInterval, cli.Conns, starts, cli.SlowConns), rows, []column{
		{"str/s", "slow_streams_per_s"}, {"ttfb p50", "slow_ttfb_p50_ms"}, {"p99", "slow_ttfb_p99_ms"},
		{"+p50", "slow_added_ttfb_p50_ms"}, {"+p99", "slow_added_ttfb_p99_ms"}, {"cpu", "slow_cpu_us"}, {"err", "slow_errors"},
		{fmt.Sprintf("×%d str/s", cli.SlowConns), "many_streams_per_s"}, {"ttfb p99", "many_ttfb_p99_ms"},
		{"+p99", "many_added_ttfb_p99_ms"}, {"cpu", "many_cpu_us"}, {"RSS MB", "many_peak_rss_mb"}, {"KiB/str", "many_kib_per_stream"}, {"err", "many_errors"},
	})
	printTable(w, fmt.Sprintf("%d MiB stream (median of %d downloads) and memory of the target's processes (MiB; direct = the upstream)", cli.BigMB, cli.Rounds*cli.BigReps), rows, []column{
		{"big ms", "big_ms"}, {"MB/s", "big_mb_per_s"}, {"+RSS", "big_added_rss_mb"}, {"err", "big_errors"},
		{"RSS idle", "rss_idle_mb"}, {"peak", "rss_peak_mb"}, {"end", "rss_end_mb"},
		{"record B", "record_bytes"}, {"records", "records"}, {"requests", "requests"},
	})

	for _, r := range rows {
		if r.err != "" {
			fmt.Fprintf(w, "error %s: %s\n", r.target, r.err)
		}
		for _, n := range r.notes {
			fmt.Fprintf(w, "note %s: %s\n", r.target, n)
		}
	}

	if len(ratios) == 0 {
		fmt.Fprintln(w, "\nno ratios: llmtap and a baseline must both have run")
		return
	}
	bases := []string{}
	for _, b := range []string{"bareproxy", "nginx", "original"} {
		if _, ok := ratios["llmtap/"+b]; ok {
			bases = append(bases, b)
		}
	}
	keys := map[string]bool{}
	for _, m := range ratios {
		for k := range m {
			keys[k] = true
		}
	}
	fmt.Fprintln(w, "\nratios llmtap/baseline (rates: higher is better; times, CPU and memory: lower is better)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "metric\t"+strings.Join(bases, "\t")+"\t")
	for _, k := range metricOrder(keys) {
		cells := []string{k}
		for _, b := range bases {
			v, ok := ratios["llmtap/"+b][k]
			cells = append(cells, fmtNum(v, ok))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	tw.Flush()
}

// order is the display order of metrics; unknown ones sort last.
var order = []string{
	"plain_rps", "plain_p50_ms", "plain_p99_ms", "plain_cpu_us", "plain_errors",
	"sse_streams_per_s", "sse_p50_ms", "sse_p99_ms", "sse_cpu_us", "sse_errors",
	"sse_small_streams_per_s", "sse_small_p50_ms", "sse_small_p99_ms", "sse_small_cpu_us", "sse_small_errors",
	"slow_streams_per_s", "slow_ttfb_p50_ms", "slow_ttfb_p99_ms", "slow_added_ttfb_p50_ms", "slow_added_ttfb_p99_ms", "slow_cpu_us", "slow_errors",
	"many_streams_per_s", "many_ttfb_p50_ms", "many_ttfb_p99_ms", "many_added_ttfb_p50_ms", "many_added_ttfb_p99_ms", "many_cpu_us",
	"many_peak_rss_mb", "many_kib_per_stream", "many_errors",
	"big_ms", "big_mb_per_s", "big_added_rss_mb", "big_errors",
	"rss_idle_mb", "rss_peak_mb", "rss_end_mb", "record_bytes", "records", "requests",
}

func metricOrder(keys map[string]bool) []string {
	var out []string
	for k := range keys {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b string) int {
		ia, ib := slices.Index(order, a), slices.Index(order, b)
		if ia < 0 {
			ia = len(order)
		}
		if ib < 0 {
			ib = len(order)
		}
		if ia != ib {
			return ia - ib
		}
		return strings.Compare(a, b)
	})
	return out
}

func round(v float64) float64 {
	if math.Abs(v) >= 100 {
		return math.Round(v*10) / 10
	}
	return math.Round(v*10000) / 10000
}

// printJSON writes {"rows":[...],"ratios":{...},"bars":[...]} on one line, metrics in
// display order after target, skipped, error and notes.
func printJSON(w io.Writer, rows []*row, ratios map[string]map[string]float64, bars []bar) {
	var b strings.Builder
	b.WriteString(`{"rows":[`)
	for i, r := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"target":`)
		writeJSON(&b, r.target)
		if r.skipped != "" {
			b.WriteString(`,"skipped":`)
			writeJSON(&b, r.skipped)
		}
		if r.err != "" {
			b.WriteString(`,"error":`)
			writeJSON(&b, r.err)
		}
		if len(r.notes) > 0 {
			b.WriteString(`,"notes":`)
			writeJSON(&b, r.notes)
		}
		keys := map[string]bool{}
		for k := range r.m {
			keys[k] = true
		}
		for _, k := range metricOrder(keys) {
			fmt.Fprintf(&b, ",%q:", k)
			writeJSON(&b, round(r.m[k]))
		}
		b.WriteByte('}')
	}
	b.WriteString(`],"ratios":{`)
	first := true
	for _, base := range []string{"bareproxy", "nginx", "original"} {
		m, ok := ratios["llmtap/"+base]
		if !ok {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		fmt.Fprintf(&b, `"llmtap/%s":{`, base)
		keys := map[string]bool{}
		for k := range m {
			keys[k] = true
		}
		for j, k := range metricOrder(keys) {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%q:", k)
			writeJSON(&b, math.Round(m[k]*1000)/1000)
		}
		b.WriteByte('}')
	}
	b.WriteString(`},"bars":`)
	if bars == nil {
		bars = []bar{}
	}
	writeJSON(&b, bars)
	b.WriteString("}\n")
	io.WriteString(w, b.String())
}

func writeJSON(b *strings.Builder, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep ">= 1" readable
	enc.Encode(v)
	b.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// bar is one of llmtap's performance bars (BENCHMARKS.md), checked on this
// run's llmtap row.
type bar struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Want  string  `json:"want"`
	Pass  bool    `json:"pass"`
}

// checkBars evaluates the bars that this benchmark measures.
func checkBars(cli *CLI, rows []*row, ratios map[string]map[string]float64) []bar {
	l := findRow(rows, "llmtap")
	if l == nil {
		return nil
	}
	var out []bar
	atLeast := func(name string, v float64, ok bool, want float64) {
		if ok {
			out = append(out, bar{name, round(v), fmt.Sprintf(">= %g", want), v >= want})
		}
	}
	below := func(name string, v float64, ok bool, want float64) {
		if ok {
			out = append(out, bar{name, round(v), fmt.Sprintf("< %g", want), v < want})
		}
	}
	atMost := func(name string, v float64, ok bool, want float64) {
		if ok {
			out = append(out, bar{name, round(v), fmt.Sprintf("<= %g", want), v <= want})
		}
	}
	// CPU per exchange judges the proxy: it is what a user pays in cores,
	// and unlike a rate it hardly moves when other work shares the machine.
	bp := ratios["llmtap/bareproxy"]
	v, ok := bp["plain_cpu_us"]
	atMost("plain_cpu_us llmtap/bareproxy", v, ok, 1)
	v, ok = bp["sse_cpu_us"]
	atMost(fmt.Sprintf("sse_cpu_us (%d events) llmtap/bareproxy", cli.Chunks), v, ok, 1)
	v, ok = bp["sse_small_cpu_us"]
	atMost(fmt.Sprintf("sse_small_cpu_us (%d events) llmtap/bareproxy", cli.SmallChunks), v, ok, 1)
	v, ok = ratios["llmtap/nginx"]["sse_cpu_us"]
	atMost("sse_cpu_us llmtap/nginx (stretch)", v, ok, 1.5)
	v, ok = bp["plain_rps"]
	atLeast("plain_rps llmtap/bareproxy", v, ok, 1)
	v, ok = bp["sse_streams_per_s"]
	atLeast("sse_streams_per_s llmtap/bareproxy", v, ok, 1)
	v, ok = bp["sse_small_streams_per_s"]
	atLeast("sse_small_streams_per_s llmtap/bareproxy", v, ok, 1)
	v, ok = l.get("slow_added_ttfb_p99_ms")
	below("slow_added_ttfb_p99_ms", v, ok, 1)
	if cli.SlowConns >= 1000 {
		v, ok = l.get("many_peak_rss_mb")
		below(fmt.Sprintf("many_peak_rss_mb (%d streams)", cli.SlowConns), v, ok, 100)
	}
	if cli.BigMB >= 50 {
		v, ok = l.get("big_added_rss_mb")
		below(fmt.Sprintf("big_added_rss_mb (%d MiB)", cli.BigMB), v, ok, 16)
	}
	if rec, ok := l.get("records"); ok {
		req, _ := l.get("requests")
		out = append(out, bar{"records per request", round(rec / max(req, 1)), "== 1", rec == req})
	}
	return out
}

func printBars(w io.Writer, bars []bar) {
	if len(bars) == 0 {
		return
	}
	fmt.Fprintln(w, "\nbars, llmtap")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, b := range bars {
		verdict := "FAIL"
		if b.Pass {
			verdict = "ok"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", b.Name, fmtNum(b.Value, true), b.Want, verdict)
	}
	tw.Flush()
}
