//go:build !purego

package record

import (
	"strings"
	"testing"
)

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

// BenchmarkEscapers escapes, in each way this CPU can, the streamed answer
// of benchRecords (a byte to escape every six or so), text with an accented
// letter every few words, and text in a script of three-byte characters
// with ASCII punctuation: the last two are left to Go a character at a
// time, and must not cost more than with the word loop alone.
func BenchmarkEscapers(b *testing.B) {
	texts := []struct{ name, s string }{
		{"sse", string(benchRecords()["stream"].Response.Body.Data)},
		{"latin", strings.Repeat("Voilà où l'été s'achève, déjà, près du café. ", 600)},
		{"cjk", strings.Repeat("日本語のテキスト、「引用」です。\n", 900)},
	}
	blocks, avx2 := useBlocks, useAVX2
	defer func() { useBlocks, useAVX2 = blocks, avx2 }()
	for _, text := range texts {
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
			b.Run(text.name+"/"+m.name, func(b *testing.B) {
				useBlocks, useAVX2 = m.blocks, m.avx2
				buf := appendStringContent(nil, text.s)
				b.SetBytes(int64(len(text.s)))
				for b.Loop() {
					buf = appendStringContent(buf[:0], text.s)
				}
			})
		}
	}
}
