package clikit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
)

// TestWriteFailed: a broken pipe is not reported, however it is wrapped;
// any other failed write is, once, naming the tool.
func TestWriteFailed(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"bare EPIPE", syscall.EPIPE, ""},
		{"EPIPE from os.File", &os.PathError{Op: "write", Path: "/dev/stdout", Err: syscall.EPIPE}, ""},
		{"EPIPE wrapped", fmt.Errorf("flush: %w", &os.PathError{Op: "write", Path: "/dev/stdout", Err: syscall.EPIPE}), ""},
		{"disk full", &os.PathError{Op: "write", Path: "out.md", Err: syscall.ENOSPC}, "tool: write: write out.md: no space left on device\n"},
		{"other", errors.New("boom"), "tool: write: boom\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			WriteFailed(&stderr, "tool", tc.err)
			if stderr.String() != tc.want {
				t.Errorf("stderr %q, want %q", stderr.String(), tc.want)
			}
			if BrokenPipe(tc.err) != (tc.want == "") {
				t.Errorf("BrokenPipe = %v", BrokenPipe(tc.err))
			}
		})
	}
}
