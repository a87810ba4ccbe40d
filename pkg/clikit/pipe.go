package clikit

import (
	"errors"
	"fmt"
	"io"
	"os/signal"
	"syscall"
)

// CatchBrokenPipe makes a write to a standard output whose reader has gone
// (llmmd | head) fail with EPIPE, instead of the Go runtime ending the
// process with SIGPIPE, so that the tool ends as its own code says: with
// its exit status, quietly (see WriteFailed). Call it first in main.
func CatchBrokenPipe() { signal.Ignore(syscall.SIGPIPE) }

// BrokenPipe reports whether err is a write to a pipe whose reader has gone.
func BrokenPipe(err error) bool { return errors.Is(err, syscall.EPIPE) }

// WriteFailed reports a failed write to stdout on stderr, as
// "PROG: write: …", except a broken pipe: a reader that went away (llmgrep
// | head) has all it wanted, and a message would be noise.
func WriteFailed(stderr io.Writer, prog string, err error) {
	if !BrokenPipe(err) {
		fmt.Fprintf(stderr, "%s: write: %v\n", prog, err)
	}
}
