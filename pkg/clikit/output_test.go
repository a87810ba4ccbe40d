package clikit

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestOpenOutput(t *testing.T) {
	for _, path := range []string{"-", ""} {
		var stdout bytes.Buffer
		w, err := OpenOutput(path, &stdout)()
		if err != nil {
			t.Fatalf("%q: %v", path, err)
		}
		_, _ = w.Write([]byte("a\n"))
		if err := w.Close(); err != nil || stdout.String() != "a\n" {
			t.Errorf("%q: Close = %v, stdout %q; want nil, %q", path, err, stdout.String(), "a\n")
		}
	}

	// A file is appended to on every open (SIGHUP reopens it).
	path := filepath.Join(t.TempDir(), "out.jsonl")
	open := OpenOutput(path, nil)
	for _, line := range []string{"a\n", "b\n"} {
		w, err := open()
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(line))
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "a\nb\n" {
		t.Errorf("file = %q, %v; want %q", b, err, "a\nb\n")
	}
	if _, err := OpenOutput(filepath.Join(path, "x"), nil)(); err == nil {
		t.Error("opening a path under a file: no error")
	}
}
