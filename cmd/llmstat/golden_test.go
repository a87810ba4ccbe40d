package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// TestGolden runs llmstat over testdata/mixed.jsonl with each set of flags
// and compares stdout with testdata/NAME.golden; go test -update rewrites
// the goldens (review the diff).
func TestGolden(t *testing.T) {
	in := filepath.Join("testdata", "mixed.jsonl")
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"table", []string{"--by", "path"}},
		{"json_status", []string{"--json", "--by", "status"}},
		{"csv_path_window", []string{"--csv", "--by", "path", "--interval", "1s"}},
		{"json_none_goodput", []string{"--json", "--by", "none", "--goodput", "e2el:260", "--percentiles", "50,99.9"}},
		{"json_from_schedule", []string{"--json", "--by", "none", "--from-schedule"}},
		{"rows", []string{"--rows"}},
		{"rows_csv", []string{"--rows", "--csv"}},
		{"compare", []string{"--by", "none", "--baseline", in}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(append(tt.args, in), nil, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			golden := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, stdout.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(stdout.Bytes(), want) {
				t.Errorf("%s differs; run go test -update and review the diff\ngot:\n%s\nwant:\n%s", golden, stdout.String(), strings.TrimSpace(string(want)))
			}
		})
	}
}
