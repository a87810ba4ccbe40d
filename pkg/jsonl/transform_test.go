package jsonl

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
	"testing"
)

// upperSection is a Transform that writes each line as a two-line section,
// and nothing for a line that starts with "skip".
func upperSection(w io.Writer, line []byte) error {
	if strings.HasPrefix(string(line), "skip") {
		return nil
	}
	_, err := fmt.Fprintf(w, "## %s\n%s\n", strings.TrimSpace(strings.ToUpper(string(line))), strings.Repeat("x", 40))
	return err
}

// TestTransform: each line is written as its Transform writes it, in order,
// and a line it writes nothing for leaves nothing behind.
func TestTransform(t *testing.T) {
	out := &memOut{}
	w, err := NewWriter(openOnce(out), Options{Transform: upperSection})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"one\n", "skip me\n", "two\n"} {
		if err := w.Write([]byte(l)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	x := strings.Repeat("x", 40)
	if want := "## ONE\n" + x + "\n## TWO\n" + x + "\n"; out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
}

// TestTransformFails: a Transform's own error is a write failure, reported
// on Failed; a full disk in the middle of a transformed section is cut back
// to the last whole section, as for a plain line.
func TestTransformFails(t *testing.T) {
	errRender := errors.New("render failed")
	w, err := NewWriter(openOnce(&memOut{}), Options{Transform: func(io.Writer, []byte) error { return errRender }})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]byte("a\n")); err != nil {
		t.Fatal(err)
	}
	var ferr error
	within(t, wait, "the failure", func() { ferr = <-w.Failed() })
	if !errors.Is(ferr, errRender) {
		t.Errorf("Failed: %v, want %v", ferr, errRender)
	}
	_ = w.Close()

	section := len("## ONE\n") + 41
	f := &fakeFile{limit: section + 10}
	w, err = NewWriter(openOnce(f), Options{Transform: upperSection})
	if err != nil {
		t.Fatal(err)
	}
	within(t, wait, "writing", func() {
		for _, l := range []string{"one\n", "two\n"} {
			if w.Write([]byte(l)) != nil {
				break
			}
		}
	})
	var cerr error
	within(t, wait, "Close", func() { cerr = w.Close() })
	if !errors.Is(cerr, syscall.ENOSPC) {
		t.Errorf("Close = %v, want ENOSPC", cerr)
	}
	if got, want := f.contents(), "## ONE\n"+strings.Repeat("x", 40)+"\n"; got != want {
		t.Errorf("file %q, want only the whole first section %q", got, want)
	}
}
