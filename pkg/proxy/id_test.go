package proxy

import (
	"fmt"
	"testing"
)

func TestAppendSeq(t *testing.T) {
	for _, n := range []uint64{0, 1, 42, 99999, 999999, 1000000, 1234567890, 1<<64 - 1} {
		if got, want := string(appendSeq([]byte("x-"), n)), fmt.Sprintf("x-%06d", n); got != want {
			t.Errorf("appendSeq(%d) = %q, want %q", n, got, want)
		}
	}
}
