//go:build !purego

package record

import "testing"

// eachEscaper runs f once for each way this CPU can escape strings: with
// AVX2, with SSSE3, and with the word loop alone (as other CPUs do).
func eachEscaper(t testing.TB, f func()) {
	t.Helper()
	blocks, avx2 := useBlocks, useAVX2
	defer func() { useBlocks, useAVX2 = blocks, avx2 }()
	if avx2 {
		f()
	}
	useAVX2 = false
	if blocks {
		f()
	}
	useBlocks = false
	f()
}

// BenchmarkEscapers escapes the streamed answer of benchRecords (text,
// a byte to escape every five or so) in each way this CPU can.
func BenchmarkEscapers(b *testing.B) {
	s := string(benchRecords()["stream"].Response.Body.Data)
	blocks, avx2 := useBlocks, useAVX2
	defer func() { useBlocks, useAVX2 = blocks, avx2 }()
	for _, m := range []struct {
		name         string
		blocks, avx2 bool
		supported    bool
	}{
		{"avx2", true, true, avx2},
		{"ssse3", true, false, blocks},
		{"words", false, false, true},
	} {
		if !m.supported {
			continue
		}
		b.Run(m.name, func(b *testing.B) {
			useBlocks, useAVX2 = m.blocks, m.avx2
			buf := appendStringContent(nil, s)
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				buf = appendStringContent(buf[:0], s)
			}
		})
	}
}
