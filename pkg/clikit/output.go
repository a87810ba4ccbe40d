package clikit

import (
	"fmt"
	"io"
	"os"
)

// OpenOutput returns the opener a tool's JSONL writer (re)opens its output
// with: path appended to (created 0600), or, for "-" or "", stdout, which
// the writer's Close leaves open and its Sync still syncs when it is a
// file. An output that is a pipe is grown (see growPipe).
func OpenOutput(path string, stdout io.Writer) func() (io.WriteCloser, error) {
	if path == "-" || path == "" {
		return func() (io.WriteCloser, error) {
			growPipe(stdout, outputPipeSize)
			return nopCloser{stdout}, nil
		}
	}
	return AppendTo(path, "output")
}

// outputPipeSize is the capacity a tool gives the pipe its records go
// into, when that pipe is smaller. The writer hands the kernel a batch of
// records at a time, and the default pipe (64 KiB) holds one or two records
// of a long stream: a reader a moment late (tee, llmmd) then blocks the
// writer in write(2), and a blocked system call costs the Go runtime a
// thread hand-off. 1 MiB is Linux's default limit for an unprivileged
// process (fs.pipe-max-size).
const outputPipeSize = 1 << 20

// AppendTo returns a function that opens the file at path for appending,
// creating it readable by its owner only (records hold what was said), for
// a jsonl.Writer to call at start and on every reopen. what names the file
// in the error.
func AppendTo(path, what string) func() (io.WriteCloser, error) {
	return func() (io.WriteCloser, error) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", what, err)
		}
		growPipe(f, outputPipeSize) // a named pipe (mkfifo)
		return f, nil
	}
}

// nopCloser keeps stdout open across a reopen and at exit, but still lets
// the writer sync it when it is a file.
type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

func (n nopCloser) Sync() error {
	if s, ok := n.Writer.(interface{ Sync() error }); ok {
		return s.Sync()
	}
	return nil
}
