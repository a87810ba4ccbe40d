package main

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// pipeBuffer is the capacity of the pipe f reads: llmtap grows the pipe it
// writes to where the system lets it.
func pipeBuffer(t *testing.T, f *os.File) int {
	n, err := unix.FcntlInt(f.Fd(), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		t.Fatalf("the FIFO's capacity: %v", err)
	}
	return n
}
