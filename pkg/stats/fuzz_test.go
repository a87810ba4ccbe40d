package stats

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/llmtap/llmtap/pkg/record"
	"github.com/valyala/fastjson"
)

var update = flag.Bool("update", false, "rewrite the seed corpus in testdata/fuzz/FuzzExtract from the table")

// TestFuzzSeeds keeps the committed seed corpus of FuzzExtract in step with
// the table of TestExtract: go test -update rewrites it.
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzExtract")
	for i, tt := range extractTests {
		name := filepath.Join(dir, fmt.Sprintf("table-%02d", i))
		want := "go test fuzz v1\n[]byte(" + strconv.Quote(string(tt.fx.record().AppendJSON(nil))) + ")\n"
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(name, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(name)
		if err != nil || string(got) != want {
			t.Errorf("%s is missing or stale (%v); run go test ./pkg/stats -update", name, err)
		}
	}
}

// FuzzExtract checks that Extract never panics, whatever a record line
// holds, that a reused Extractor and Request give what fresh ones give,
// and that the metrics hang together: no ITL or TPOT without a TTFT, none
// for an answer that was not streamed, and an estimate only for a stream.
// Seeds: the table of TestExtract, in testdata/fuzz/FuzzExtract.
func FuzzExtract(f *testing.F) {
	for _, tt := range extractTests {
		f.Add(tt.fx.record().AppendJSON(nil))
	}
	used, usedReq := NewExtractor(), &Request{}
	var p fastjson.Parser
	f.Fuzz(func(t *testing.T, line []byte) {
		v, err := record.ParseLine(&p, line)
		if err != nil {
			return
		}
		used.Extract(v, usedReq)
		var fresh Request
		NewExtractor().Extract(v, &fresh)
		if a, b := show(usedReq), show(&fresh); a != b {
			t.Fatalf("reused: %s\n fresh: %s", a, b)
		}
		r := &fresh
		if math.IsNaN(r.TTFT) && (len(r.ITL) > 0 || !math.IsNaN(r.TPOT) || !math.IsNaN(r.TTFO)) {
			t.Fatalf("ITL, TPOT or TTFO without a TTFT: %s", show(r))
		}
		if !r.Streamed && (len(r.ITL) > 0 || !math.IsNaN(r.TPOT) || r.TokensEstimated) {
			t.Fatalf("stream metrics for an answer not streamed: %s", show(r))
		}
		if !math.IsNaN(r.TPOT) && r.OutputTokens < 2 {
			t.Fatalf("TPOT with %d output tokens: %s", r.OutputTokens, show(r))
		}
	})
}
