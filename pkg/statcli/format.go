package statcli

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/llmtap/llmtap/pkg/stats"
)

// write writes results in the chosen format; a failed write is noticed at
// the next flush.
func (r *runner) write(results []stats.Result) {
	switch r.opts.Format {
	case JSON:
		for i := range results {
			r.out.Write(appendResultJSON(nil, &results[i]))
		}
	case CSV:
		if r.csvCols == nil {
			r.csvCols = csvColumns(r.agg, results)
			cw := csv.NewWriter(r.out)
			cw.Write(r.csvCols)
			cw.Flush()
		}
		writeResultsCSV(r.out, r.csvCols, results)
	default:
		for i := range results {
			writeText(r.out, &results[i])
		}
	}
}

// appendResultJSON appends res as one JSON line: the group keys, the
// window's start, then every field, with errors.* and status.* nested in
// objects named errors and status.
func appendResultJSON(b []byte, res *stats.Result) []byte {
	b = append(b, '{')
	first := true
	key := func(k string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, k)
		b = append(b, ':')
	}
	for _, k := range res.Keys {
		key(k.Name)
		switch {
		case k.Name == "status_code" && k.Value == "":
			b = append(b, "null"...) // no response: no status
		case k.Name == "status_code":
			b = append(b, k.Value...)
		default:
			b = appendString(b, k.Value)
		}
	}
	if !res.Window.IsZero() {
		key("window_start")
		b = appendString(b, res.Window.UTC().Format(time.RFC3339Nano))
	}
	open := "" // the nested object being written
	for _, f := range res.Fields {
		prefix, name, nested := strings.Cut(f.Name, ".")
		if !nested || (prefix != "errors" && prefix != "status") {
			prefix, name = "", f.Name // p99.9_ttft_ms is not nested
		}
		if prefix != open {
			if open != "" {
				b = append(b, '}')
			}
			if prefix != "" {
				key(prefix)
				b = append(b, '{')
				first = true
			}
			open = prefix
		}
		key(name)
		b = appendNumber(b, f)
	}
	if open != "" {
		b = append(b, '}')
	}
	return append(b, '}', '\n')
}

func appendNumber(b []byte, f stats.Field) []byte {
	if f.Int {
		return strconv.AppendInt(b, int64(f.Value), 10)
	}
	return strconv.AppendFloat(b, round(f.Value), 'f', -1, 64)
}

// round keeps 6 decimals: microseconds of a millisecond, more than any
// clock here measures, and lines a person can read.
func round(v float64) float64 {
	if math.Abs(v) >= 1e15 {
		return v
	}
	return math.Round(v*1e6) / 1e6
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
			i++
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			i++
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
		}
	}
	return append(b, '"')
}

// csvColumns is the CSV header: the keys, window_start with windows, and
// every field a result can have (a fixed list, so that windows written
// as they close share one header), plus any error kind outside that list
// that the first results hold.
func csvColumns(agg *stats.Aggregator, results []stats.Result) []string {
	cols := agg.KeyNames()
	if agg.Options().Interval > 0 {
		cols = append(cols, "window_start")
	}
	fixed := agg.Columns()
	known := map[string]bool{}
	for _, c := range fixed {
		known[c] = true
	}
	var extra []string
	for _, res := range results {
		for _, f := range res.Fields {
			if !known[f.Name] {
				known[f.Name] = true
				extra = append(extra, f.Name)
			}
		}
	}
	return append(append(cols, fixed...), extra...)
}

func writeResultsCSV(w io.Writer, cols []string, results []stats.Result) {
	cw := csv.NewWriter(w)
	for i := range results {
		res := &results[i]
		vals := map[string]string{}
		for _, k := range res.Keys {
			vals[k.Name] = k.Value
		}
		if !res.Window.IsZero() {
			vals["window_start"] = res.Window.UTC().Format(time.RFC3339Nano)
		}
		for _, f := range res.Fields {
			vals[f.Name] = string(appendNumber(nil, f))
		}
		row := make([]string, len(cols))
		for j, c := range cols {
			row[j] = vals[c]
		}
		cw.Write(row)
	}
	cw.Flush()
}

// labels name the fixed fields in the text table, as vllm bench serve's
// summary does where it has them.
var labels = map[string]string{
	"completed":              "Successful requests",
	"failed":                 "Failed requests",
	"duration_s":             "Duration, first start to last end (s)",
	"total_input_tokens":     "Total input tokens",
	"total_output_tokens":    "Total generated tokens",
	"cached_input_tokens":    "Cached input tokens",
	"request_throughput":     "Request throughput (req/s)",
	"output_throughput":      "Output token throughput (tok/s)",
	"total_token_throughput": "Total token throughput (tok/s)",
	"peak_output_throughput": "Peak output token throughput (tok/s)",
	"mean_concurrency":       "Mean concurrency",
	"peak_concurrency":       "Peak concurrent requests",
	"error_rate":             "Error rate",
	"goodput":                "Request goodput (req/s)",
	"goodput_share":          "Goodput share",
	"tokens_estimated":       "Requests with estimated tokens",
}

var sections = map[string]string{
	"ttft":   "Time to First Token",
	"ttfo":   "Time to First Output (not reasoning)",
	"ttfb":   "Time to First Byte",
	"tpot":   "Time per Output Token (excl. 1st token)",
	"itl":    "Inter-token Latency",
	"e2el":   "End-to-end Latency",
	"lag":    "Replay send lag",
	"queued": "Replay queue wait",
}

// fieldLabel is the text table's label for a field, and the section it
// opens ("" when it opens none).
func fieldLabel(name string) (label, section string) {
	if l, ok := labels[name]; ok {
		return l, ""
	}
	if k, ok := strings.CutPrefix(name, "errors."); ok {
		return "Errors: " + k, ""
	}
	if k, ok := strings.CutPrefix(name, "status."); ok {
		return "Status " + k, ""
	}
	stat, rest, _ := strings.Cut(name, "_")
	metric := strings.TrimSuffix(rest, "_ms")
	upper := strings.ToUpper(metric)
	if metric == "lag" || metric == "queued" {
		upper = strings.ToUpper(metric[:1]) + metric[1:]
	}
	switch stat {
	case "mean":
		return "Mean " + upper + " (ms)", sections[metric]
	case "median":
		return "Median " + upper + " (ms)", ""
	case "std":
		return "Std " + upper + " (ms)", ""
	case "max":
		return "Max " + upper + " (ms)", ""
	}
	return strings.ToUpper(stat[:1]) + stat[1:] + " " + upper + " (ms)", ""
}

const textWidth = 50

// writeText writes one group as a block like vllm bench serve's summary.
func writeText(w io.Writer, res *stats.Result) {
	title := " " + res.Label() + " "
	if !res.Window.IsZero() {
		title = " " + res.Label() + " @ " + res.Window.UTC().Format(time.RFC3339) + " "
	}
	fmt.Fprintln(w, banner(title, '='))
	for _, f := range res.Fields {
		if strings.HasPrefix(f.Name, "p50_") {
			continue // the median, one line up
		}
		label, section := fieldLabel(f.Name)
		if section != "" {
			fmt.Fprintln(w, banner(section, '-'))
		}
		fmt.Fprintf(w, "%-*s%*s\n", textWidth-12, label+":", 12, textNumber(f))
	}
	fmt.Fprintln(w, strings.Repeat("=", textWidth))
	fmt.Fprintln(w)
}

// banner centres title in a line of c.
func banner(title string, c byte) string {
	n := textWidth - utf8.RuneCountInString(title)
	if n < 2 {
		return title
	}
	return strings.Repeat(string(c), n/2) + title + strings.Repeat(string(c), n-n/2)
}

func textNumber(f stats.Field) string {
	if f.Int {
		return strconv.FormatInt(int64(f.Value), 10)
	}
	if f.Name == "error_rate" || f.Name == "goodput_share" {
		return strconv.FormatFloat(f.Value, 'f', 4, 64)
	}
	return strconv.FormatFloat(f.Value, 'f', 2, 64)
}
