//go:build purego || !amd64

package record

// appendStringBlocks is where amd64 escapes blocks of 16 bytes with SIMD;
// elsewhere the word loop in appendStringContent does all the work.
func appendStringBlocks(out []byte, s string, strict bool) ([]byte, int, bool) {
	return out, 0, true
}
