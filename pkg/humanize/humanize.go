// Package humanize writes quantities and text for a person to read: byte
// sizes in SI units (1 KB is 1000 bytes, as the README defines it) and
// text clipped to a number of characters. Every tool that shows a size or
// cuts a text says it the same way through here. It knows nothing of
// records, providers or Markdown.
package humanize

import (
	"strconv"
	"unicode/utf8"
)

// Bytes formats a byte count: "512 B", "12.3 KB", "4.5 MB", "1.2 GB".
func Bytes(n int64) string { return string(AppendBytes(nil, n)) }

// AppendBytes appends n formatted as Bytes does.
func AppendBytes(dst []byte, n int64) []byte {
	if n < 1000 {
		dst = strconv.AppendInt(dst, n, 10)
		return append(dst, " B"...)
	}
	f := float64(n)
	for _, unit := range [...]string{" KB", " MB", " GB"} {
		f /= 1000
		// Choose the unit after rounding, so 999,999 bytes is "1.0 MB",
		// never "1000.0 KB".
		if f < 999.95 || unit == " GB" {
			dst = strconv.AppendFloat(dst, f, 'f', 1, 64)
			return append(dst, unit...)
		}
	}
	panic("unreachable")
}

// Clip cuts s to at most n characters (runes) when n > 0, and says how
// many characters it cut; 0 when s was short enough and is returned whole.
func Clip(s string, n int) (string, int) {
	if n <= 0 || len(s) <= n {
		return s, 0 // len in bytes >= len in runes
	}
	i, count := 0, 0
	for i < len(s) && count < n {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		count++
	}
	if i >= len(s) {
		return s, 0
	}
	return s[:i], utf8.RuneCountInString(s[i:])
}

// Shorten is Clip with the cut marked by "…" after the n characters kept.
func Shorten(s string, n int) string {
	c, cut := Clip(s, n)
	if cut == 0 {
		return s
	}
	return c + "…"
}
