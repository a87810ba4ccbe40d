//go:build !purego

package record

import (
	"bytes"
	"strings"
	"syscall"
	"testing"
)

// guarded returns a slice of n bytes that ends where an unreadable,
// unwritable page begins, so that reading or writing one byte past it
// faults.
func guarded(t *testing.T, n int) []byte {
	t.Helper()
	page := syscall.Getpagesize()
	size := (n/page + 2) * page
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Munmap(mem) })
	if err := syscall.Mprotect(mem[size-page:], syscall.PROT_NONE); err != nil {
		t.Skipf("mprotect: %v", err)
	}
	return mem[size-page-n : size-page : size-page]
}

// TestEscapeBlocksBounds: escapeBlocks and escapeBlocksAVX2 read no byte
// past their input and write no byte past their room (both end at a page
// they may not touch), what they write for what they read is what the
// byte-at-a-time escaper writes for it, and they stop only where their
// promise says.
func TestEscapeBlocksBounds(t *testing.T) {
	if !useBlocks {
		t.Skip("this CPU lacks SSSE3 or POPCNT")
	}
	inputs := []string{
		strings.Repeat("abcdefghijklmnop", 8),
		strings.Repeat(`{"a":"b\\c"}`+"\n\n", 12),
		strings.Repeat(`"`, 100),
		strings.Repeat("x\x01", 40),
		strings.Repeat("plain text é ", 10),
	}
	for _, avx2 := range []bool{false, true} {
		if avx2 && !useAVX2 {
			continue
		}
		for _, in := range inputs {
			for n := range len(in) + 1 {
				src := guarded(t, n)
				copy(src, in[:n])
				for _, room := range []int{0, 31, 32, 33, 47, 63, 64, 65, 2 * n, 2*n + 32} {
					dst := guarded(t, room)
					var dp *byte
					if room > 0 {
						dp = &dst[0]
					}
					var sp *byte
					if n > 0 {
						sp = &src[0]
					}
					escape := escapeBlocks
					if avx2 {
						escape = escapeBlocksAVX2
					}
					c, w := escape(dp, room, sp, n, &blockShuffle)
					if c < 0 || c > n || w < 0 || w > room {
						t.Fatalf("%q, room %d: consumed %d, written %d", in[:n], room, c, w)
					}
					want := appendStringContentSlow(nil, in[:c])
					if !bytes.Equal(dst[:w], want) {
						t.Fatalf("%q, room %d: wrote %q for %q, want %q", in[:n], room, dst[:w], in[:c], want)
					}
					// It stops only with fewer than 16 bytes left, less than
					// 32 bytes of room, or before a byte it leaves to Go.
					if n-c >= 16 && room-w >= blockRoom && !blockStop[in[c]] {
						t.Fatalf("%q, room %d: stopped at %d (%q) with %d bytes of room", in[:n], room, c, in[c], room-w)
					}
				}
			}
		}
	}
}

// TestBlockShuffle: each entry spreads eight bytes with a backslash
// before each marked one, as the mask says.
func TestBlockShuffle(t *testing.T) {
	for m, e := range blockShuffle {
		var want []byte
		for j := range 8 {
			if m>>j&1 != 0 {
				want = append(want, 8)
			}
			want = append(want, byte(j))
		}
		if !bytes.Equal(e[:len(want)], want) {
			t.Fatalf("mask %08b: %v, want %v", m, e, want)
		}
	}
}
