package clikit

import (
	"fmt"
	"io"
	"os"
)

// OpenOutput returns the opener a tool's JSONL writer (re)opens its output
// with: path appended to (created 0600), or, for "-" or "", stdout, which
// the writer's Close leaves open and its Sync still syncs when it is a
// file.
func OpenOutput(path string, stdout io.Writer) func() (io.WriteCloser, error) {
	if path == "-" || path == "" {
		return func() (io.WriteCloser, error) { return nopCloser{stdout}, nil }
	}
	return AppendTo(path, "output")
}

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
