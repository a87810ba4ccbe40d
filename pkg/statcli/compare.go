package statcli

import (
	"encoding/csv"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/llmtap/llmtap/pkg/stats"
)

// Threshold is one --fail-on condition: METRIC OP CHANGE, where CHANGE is
// relative (in percent) or absolute (in the metric's unit).
type Threshold struct {
	Text     string // as given, for messages
	Metric   string
	Op       string // >, <, >= or <=
	Change   float64
	Relative bool
}

var thresholdRE = regexp.MustCompile(`^\s*([A-Za-z0-9_.]+)\s*(>=|<=|>|<)\s*([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))\s*(%?)\s*$`)

// ParseThreshold parses 'p99_ttft_ms>+10%', 'error_rate>+0.005' or
// 'output_throughput<-5%'.
func ParseThreshold(s string) (Threshold, error) {
	m := thresholdRE.FindStringSubmatch(s)
	if m == nil {
		return Threshold{}, fmt.Errorf("--fail-on %q: want METRIC OP CHANGE, such as 'p99_ttft_ms>+10%%' or 'error_rate>+0.005'", s)
	}
	if !stats.KnownField(m[1]) {
		return Threshold{}, fmt.Errorf("--fail-on %q: unknown metric %q (a key of llmstat --json, such as p99_ttft_ms)", s, m[1])
	}
	v, _ := strconv.ParseFloat(m[3], 64)
	return Threshold{Text: strings.TrimSpace(s), Metric: m[1], Op: m[2], Change: v, Relative: m[4] == "%"}, nil
}

// breached reports whether a change from base to now crosses t.
func (t Threshold) breached(base, now float64) bool {
	c := now - base
	if t.Relative {
		c = relChange(base, now)
	}
	switch t.Op {
	case ">":
		return c > t.Change
	case "<":
		return c < t.Change
	case ">=":
		return c >= t.Change
	default:
		return c <= t.Change
	}
}

// relChange is the change from base to now in percent; from zero, any
// rise is infinite and no change is 0%.
func relChange(base, now float64) float64 {
	if base == 0 {
		switch {
		case now > 0:
			return math.Inf(1)
		case now < 0:
			return math.Inf(-1)
		}
		return 0
	}
	return (now - base) / math.Abs(base) * 100
}

// comparison is one metric of one group on both sides.
type comparison struct {
	name      string
	base, now float64
	hasBase   bool
	hasNow    bool
}

// compare writes the comparison of each group found on both sides and
// checks the thresholds; it returns true when one was breached or could
// not be checked in any group.
func (r *runner) compare(base, now []stats.Result) bool {
	byLabel := map[string]*stats.Result{}
	for i := range base {
		byLabel[base[i].Label()] = &base[i]
	}
	checked := make([]int, len(r.opts.FailOn))
	breach := false
	var cw *csv.Writer
	if r.opts.Format == CSV {
		cw = csv.NewWriter(r.out)
		cw.Write(append(keyNames(now), "metric", "baseline", "now", "change", "change_pct"))
	}
	matched := 0
	for i := range now {
		res := &now[i]
		label := res.Label()
		b, ok := byLabel[label]
		if !ok {
			fmt.Fprintf(r.stderr, "llmstat: %s: not in the baseline; not compared\n", label)
			continue
		}
		delete(byLabel, label) // what is left is only in the baseline
		matched++
		rows := pair(b, res)
		switch r.opts.Format {
		case JSON:
			for _, c := range rows {
				r.out.Write(appendComparisonJSON(nil, res, c))
			}
		case CSV:
			for _, c := range rows {
				rec := []string{}
				for _, k := range res.Keys {
					rec = append(rec, k.Value)
				}
				cw.Write(append(rec, c.name, cell(c.base, c.hasBase), cell(c.now, c.hasNow),
					cell(c.now-c.base, c.hasBase && c.hasNow), cell(relChange(c.base, c.now), c.hasBase && c.hasNow)))
			}
		default:
			writeComparisonText(r.out, label, rows)
		}
		for j, t := range r.opts.FailOn {
			bv, okb := b.Get(t.Metric)
			nv, okn := res.Get(t.Metric)
			if !okb || !okn {
				continue
			}
			checked[j]++
			if t.breached(bv, nv) {
				breach = true
				fmt.Fprintf(r.stderr, "llmstat: %s: %s breached: baseline %s, now %s (%s, %s%%)\n",
					label, t.Text, num(bv), num(nv), signed(nv-bv), signed(relChange(bv, nv)))
			}
		}
	}
	if cw != nil {
		cw.Flush()
	}
	for i := range base {
		if label := base[i].Label(); byLabel[label] != nil {
			fmt.Fprintf(r.stderr, "llmstat: %s: only in the baseline; not compared\n", label)
		}
	}
	for j, t := range r.opts.FailOn {
		if checked[j] == 0 {
			breach = true
			fmt.Fprintf(r.stderr, "llmstat: %s: could not be checked: %s is in no group of both the baseline and the input\n", t.Text, t.Metric)
		}
	}
	if matched == 0 {
		fmt.Fprintln(r.stderr, "llmstat: no group is in both the baseline and the input")
	}
	return breach
}

// pair lines up the fields of both sides: now's order, then fields only
// the baseline has.
func pair(base, now *stats.Result) []comparison {
	var out []comparison
	idx := map[string]int{}
	for _, f := range now.Fields {
		idx[f.Name] = len(out)
		out = append(out, comparison{name: f.Name, now: f.Value, hasNow: true})
	}
	for _, f := range base.Fields {
		if i, ok := idx[f.Name]; ok {
			out[i].base, out[i].hasBase = f.Value, true
		} else {
			out = append(out, comparison{name: f.Name, base: f.Value, hasBase: true})
		}
	}
	return out
}

func keyNames(results []stats.Result) []string {
	if len(results) == 0 {
		return nil
	}
	var names []string
	for _, k := range results[0].Keys {
		names = append(names, k.Name)
	}
	return names
}

func cell(v float64, ok bool) string {
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	return strconv.FormatFloat(round(v), 'f', -1, 64)
}

func num(v float64) string { return strconv.FormatFloat(round(v), 'f', -1, 64) }

func signed(v float64) string {
	if math.IsInf(v, 0) {
		if v > 0 {
			return "+inf"
		}
		return "-inf"
	}
	s := strconv.FormatFloat(round(v), 'f', -1, 64)
	if v >= 0 {
		s = "+" + s
	}
	return s
}

func appendComparisonJSON(b []byte, res *stats.Result, c comparison) []byte {
	b = append(b, '{')
	for _, k := range res.Keys {
		b = appendString(b, k.Name)
		b = append(b, ':')
		b = appendString(b, k.Value)
		b = append(b, ',')
	}
	b = append(b, `"metric":`...)
	b = appendString(b, c.name)
	field := func(name string, v float64, ok bool) {
		if ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
			b = append(b, ',', '"')
			b = append(b, name...)
			b = append(b, '"', ':')
			b = strconv.AppendFloat(b, round(v), 'f', -1, 64)
		}
	}
	field("baseline", c.base, c.hasBase)
	field("now", c.now, c.hasNow)
	field("change", c.now-c.base, c.hasBase && c.hasNow)
	field("change_pct", relChange(c.base, c.now), c.hasBase && c.hasNow)
	return append(b, '}', '\n')
}

func writeComparisonText(w interface{ Write([]byte) (int, error) }, label string, rows []comparison) {
	fmt.Fprintln(w, banner(" "+label+" ", '='))
	fmt.Fprintf(w, "%-28s %14s %14s %14s %9s\n", "metric", "baseline", "now", "change", "change %")
	names := map[string]bool{}
	for _, c := range rows {
		names[c.name] = true
	}
	for _, c := range rows {
		// p50 is the median, shown once, as in the table of results.
		if rest, ok := strings.CutPrefix(c.name, "p50_"); ok && names["median_"+rest] {
			continue
		}
		pct := ""
		if c.hasBase && c.hasNow {
			if p := relChange(c.base, c.now); !math.IsNaN(p) {
				pct = signedFixed(p, 1) + "%"
			}
		}
		change := ""
		if c.hasBase && c.hasNow {
			change = signedFixed(c.now-c.base, 2)
		}
		fmt.Fprintf(w, "%-28s %14s %14s %14s %9s\n", c.name, fixed(c.base, c.hasBase), fixed(c.now, c.hasNow), change, pct)
	}
	fmt.Fprintln(w)
}

func fixed(v float64, ok bool) string {
	if !ok {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func signedFixed(v float64, prec int) string {
	if math.IsInf(v, 0) {
		return signed(v)
	}
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if v >= 0 {
		s = "+" + s
	}
	return s
}
