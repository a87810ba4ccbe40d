package stats

import (
	"math"
	"testing"
)

// FuzzParseGoodput: any input either fails or gives targets that are all
// known metrics with finite, non-negative limits.
func FuzzParseGoodput(f *testing.F) {
	for _, s := range []string{"ttft:200,tpot:50,e2el:2000", "ttft:200 tpot:50", "ttft", "", "itl:5", "ttft:-1", "ttft:1e400", "ttft:NaN", ",,ttft:1,,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, err := ParseGoodput(s)
		if err != nil {
			return
		}
		if len(g) == 0 {
			t.Fatal("no error and no target")
		}
		for _, goal := range g {
			if goal.Metric != "ttft" && goal.Metric != "tpot" && goal.Metric != "e2el" {
				t.Fatalf("metric %q", goal.Metric)
			}
			if goal.MS < 0 || math.IsNaN(goal.MS) || math.IsInf(goal.MS, 0) {
				t.Fatalf("limit %v", goal.MS)
			}
		}
	})
}

// FuzzParseKeys: any input either fails or gives known keys, none twice,
// never none.
func FuzzParseKeys(f *testing.F) {
	for _, s := range []string{"model", "model,path", "none", "status, error", "colour", "", "model,model"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		keys, err := ParseKeys(s)
		if err != nil {
			return
		}
		seen := map[Key]bool{}
		for _, k := range keys {
			if k == ByNone || seen[k] {
				t.Fatalf("keys %v", keys)
			}
			seen[k] = true
			if k.fieldName() == "" {
				t.Fatalf("key %q has no name", k)
			}
		}
	})
}
