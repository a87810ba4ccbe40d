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
