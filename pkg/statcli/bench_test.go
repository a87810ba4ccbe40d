package statcli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkRun measures llmstat's whole path (read, extract, aggregate,
// write) over the llmmd record mix of pkg/markdown/testdata, by model and
// as rows, in bytes of records per second.
func BenchmarkRun(b *testing.B) {
	names, err := filepath.Glob("../markdown/testdata/*.jsonl")
	if err != nil || len(names) == 0 {
		b.Fatal("no records in ../markdown/testdata", err)
	}
	var one []byte
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			b.Fatal(err)
		}
		one = append(one, data...)
	}
	mix := bytes.Repeat(one, 20)
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"by-model", Options{}},
		{"rows", Options{Rows: true, Format: JSON}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(mix)))
			b.ReportAllocs()
			for b.Loop() {
				if st := Run(tc.opts, bytes.NewReader(mix), io.Discard, io.Discard); st > 1 {
					b.Fatalf("exit status %d", st)
				}
			}
		})
	}
}
