//go:build !purego

package record

import (
	"slices"
	"unsafe"

	"golang.org/x/sys/cpu"
)

// escapeBlocks escapes src[:n] into dst, which has room bytes, 16 bytes
// at a time, while at least 16 are left to read and 32 bytes of room to
// write. It escapes the quote, the backslash, '\n', '\r' and '\t' itself,
// copies valid characters of two and three bytes (accented letters,
// Cyrillic, CJK, typographic quotes...) as they are, U+0085, U+2028 and
// U+2029 excepted, and stops before any other byte that is not plain
// ASCII, leaving it to appendEscaped. It never reads past src[n-1] and never writes past
// dst[room-1], and returns how many bytes it read and wrote. table is
// blockShuffle.
//
//go:noescape
func escapeBlocks(dst *byte, room int, src *byte, n int, table *[256][16]byte) (consumed, written int)

// escapeBlocksAVX2 is escapeBlocks 32 bytes at a time with AVX2 while
// at least 32 are left to read and 64 bytes of room to write; its promise
// is escapeBlocks's.
//
//go:noescape
func escapeBlocksAVX2(dst *byte, room int, src *byte, n int, table *[256][16]byte) (consumed, written int)

// useBlocks reports whether this CPU has what escapeBlocks uses: PSHUFB
// (SSSE3) and POPCNT; useAVX2, whether it has what escapeBlocksAVX2 uses.
// Tests turn them off to try the other paths on the same CPU.
var (
	useBlocks = cpu.X86.HasSSSE3 && cpu.X86.HasPOPCNT
	useAVX2   = useBlocks && cpu.X86.HasAVX2
)

// blockShuffle is, for each mask of the bytes to escape among eight (bit j
// for byte j), the PSHUFB indexes that spread those eight bytes over up
// to 16 with a backslash (any index from 8 up) before each marked one.
var blockShuffle = func() (t [256][16]byte) {
	for m := range t {
		p := 0
		for j := range 8 {
			if m>>j&1 != 0 {
				t[m][p] = 8
				p++
			}
			t[m][p] = byte(j)
			p++
		}
		for ; p < 16; p++ {
			t[m][p] = 0x80 // past the output: zero
		}
	}
	return t
}()

// blockRoom is the room escapeBlocks needs to take another block.
const blockRoom = 32

// appendStringBlocks escapes s into out (which has its length) from the
// start with escapeBlocks, and the bytes it stops at with appendEscaped,
// until fewer than 16 bytes are left; it returns out and the index of the
// first byte not yet escaped. With strict, it stops at a byte that is not
// valid UTF-8 and reports false, as appendText does.
func appendStringBlocks(out []byte, s string, strict bool) ([]byte, int, bool) {
	if !useBlocks {
		return out, 0, true
	}
	i, n := 0, len(out)
	from := unsafe.StringData(s)
	for len(s)-i >= 16 {
		if cap(out)-n < blockRoom {
			out = slices.Grow(out[:n], min(2*(len(s)-i), escapeGrow)+blockRoom)
		}
		to := unsafe.SliceData(out[:cap(out)])
		dp, sp := (*byte)(unsafe.Add(unsafe.Pointer(to), n)), (*byte)(unsafe.Add(unsafe.Pointer(from), i))
		var c, w int
		if useAVX2 {
			c, w = escapeBlocksAVX2(dp, cap(out)-n, sp, len(s)-i, &blockShuffle)
		} else {
			c, w = escapeBlocks(dp, cap(out)-n, sp, len(s)-i, &blockShuffle)
		}
		i += c
		n += w
		if len(s)-i < 16 || cap(out)-n < blockRoom {
			continue
		}
		// Stopped before a byte escapeBlocks leaves to Go; take the run
		// of such bytes here (text in a non-Latin script is mostly one),
		// not one call each.
		out = out[:n]
		for i < len(s) && blockStop[s[i]] {
			var bad bool
			out, i, bad = appendEscaped(out, s, i)
			if bad && strict {
				return out, i, false
			}
		}
		n = len(out)
	}
	return out[:n], i, true
}

// blockStop marks the bytes escapeBlocks may stop at: control characters
// other than '\n', '\r' and '\t', and every byte from 0x80 up.
var blockStop = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c >= 0x80 || c < 0x20 && shortEscape[c] == 0
	}
	return t
}()
