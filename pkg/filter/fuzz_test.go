package filter

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/valyala/fastjson"
)

// FuzzWhere feeds the --where parser arbitrary text. An expression that
// parses must print a canonical form that parses back to itself, and must
// evaluate on a record and on odd JSON without panicking.
func FuzzWhere(f *testing.F) {
	for _, tc := range whereCases {
		f.Add(tc.expr)
	}
	var p fastjson.Parser
	docs := []string{whereDoc, `{}`, `[]`, `null`, `"s"`, `{"a":[[[]]],"b":{"c":[{"d":1e308}]}}`}
	if data, err := os.ReadFile("testdata/records.jsonl"); err == nil {
		docs = append(docs, string(bytes.SplitN(data, []byte("\n"), 2)[0]))
	}
	f.Fuzz(func(t *testing.T, expr string) {
		w, err := parseWhere(expr)
		if err != nil {
			return
		}
		canon := w.String()
		again, err := parseWhere(canon)
		if err != nil {
			t.Fatalf("%q: canonical form %q does not parse: %v", expr, canon, err)
		}
		if again.String() != canon {
			t.Fatalf("%q: canonical form %q parses to %q", expr, canon, again.String())
		}
		for _, d := range docs {
			v, err := p.Parse(d)
			if err != nil {
				t.Fatal(err)
			}
			if w.match(v) != again.match(v) {
				t.Fatalf("%q and its canonical form %q disagree on %s", expr, canon, d)
			}
		}
	})
}

// fuzzSpecs are the matchers FuzzMatch runs every line through.
var fuzzSpecs = []Spec{
	{},
	{Status: []string{">=400"}, Errors: []string{""}},
	{IDs: []string{"abc*"}, Tools: []string{"get_weather"}, InRequest: true},
	{Models: []string{"gpt-*"}, Paths: []string{"*/chat/*"}, Methods: []string{"POST"}, Stream: new(bool)},
	{Where: []string{"request.body.messages.*.content~(?i)paris", "response.status!=200", "duration_ms>1"}},
	{Patterns: []string{"h.llo"}, IgnoreCase: true, OK: true},
	{Since: []string{"2026-01-01"}, Until: []string{"1h"}, Slower: []string{"1ms"}, TTFBOver: []string{"0s"}},
}

// FuzzMatch runs arbitrary lines through several matchers and their
// inverses: no panic, and a line is either bad for both (never selected)
// or selected by exactly one of the pair.
func FuzzMatch(f *testing.F) {
	if data, err := os.ReadFile("testdata/records.jsonl"); err == nil {
		for _, line := range bytes.Split(data, []byte("\n")) {
			f.Add(line)
		}
	}
	type pair struct{ m, inv *Matcher }
	var pairs []pair
	for _, s := range fuzzSpecs {
		s.Now = time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC)
		m, err := Compile(s)
		if err != nil {
			f.Fatal(err)
		}
		s.Invert = true
		inv, err := Compile(s)
		if err != nil {
			f.Fatal(err)
		}
		pairs = append(pairs, pair{m, inv})
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		for i, p := range pairs {
			a, errA := p.m.Match(line)
			b, errB := p.inv.Match(line)
			switch {
			case errA != nil && a, errB != nil && b:
				t.Fatalf("spec %d: a bad line was selected", i)
			case errA != nil && errB == nil:
				t.Fatalf("spec %d: bad for F (%v) but not for -v F", i, errA)
			case errB == nil && a == b:
				t.Fatalf("spec %d: F and -v F both gave %v", i, a)
			}
			if b {
				_ = p.inv.ID(line)
			}
		}
	})
}
