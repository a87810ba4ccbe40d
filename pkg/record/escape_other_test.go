//go:build purego || !amd64

package record

import "testing"

// eachEscaper runs f: here strings are escaped one way only.
func eachEscaper(t testing.TB, f func()) {
	t.Helper()
	f()
}
