package jsonl

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestWriteFunc: a function's line lands in order with the plain lines,
// and WriteFunc returns only once it has run.
func TestWriteFunc(t *testing.T) {
	out := &memOut{}
	w, err := NewWriter(openOnce(out), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for i := range 50 {
		line := fmt.Sprintf("line %d\n", i)
		want.WriteString(line)
		if i%5 == 0 {
			ran := false
			if err := w.WriteFunc(func(o io.Writer) error {
				for _, part := range []string{"line", " ", fmt.Sprint(i), "\n"} {
					if _, err := io.WriteString(o, part); err != nil {
						return err
					}
				}
				ran = true
				return nil
			}); err != nil || !ran {
				t.Fatalf("WriteFunc: %v, ran %v", err, ran)
			}
			continue
		}
		if err := w.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if out.String() != want.String() {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want.String())
	}
	if err := w.WriteFunc(func(io.Writer) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("WriteFunc after Close: %v", err)
	}
}

// TestWriteFuncFails: a function that fails half-way fails the writer like
// a write failure; its partial line is ended, nothing more is written, and
// later calls return at once.
func TestWriteFuncFails(t *testing.T) {
	out := &memOut{}
	w, err := NewWriter(openOnce(out), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Write([]byte("first\n"))
	boom := errors.New("source went away")
	err = w.WriteFunc(func(o io.Writer) error {
		_, _ = io.WriteString(o, `{"partial":`)
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("WriteFunc = %v, want %v", err, boom)
	}
	select {
	case err := <-w.Failed():
		if !errors.Is(err, boom) {
			t.Errorf("Failed = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no failure reported")
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.WriteFunc(func(io.Writer) error { t.Error("ran after a failure"); return nil }); err == nil {
				t.Error("WriteFunc after a failure: no error")
			}
		}()
	}
	within(t, 5*time.Second, "WriteFunc after a failure", wg.Wait)
	_ = w.Write([]byte("after\n"))
	_ = w.Close()
	if got, want := out.String(), "first\n{\"partial\":\n"; got != want {
		t.Errorf("output %q, want %q", got, want)
	}

	// A failing output is reported as a write failure.
	w, err = NewWriter(openOnce(&failOut{}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = w.WriteFunc(func(o io.Writer) error {
		_, err := o.Write(make([]byte, 1<<20)) // past the buffer: reaches the output
		return err
	})
	if !errors.Is(err, errDiskFull) {
		t.Errorf("WriteFunc to a failing output = %v", err)
	}
	_ = w.Close()
}
