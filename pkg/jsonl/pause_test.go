package jsonl

import (
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock the test moves; After hands the test each wait it
// is asked for, and the channel that ends it.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	afters chan fakeAfter
}

type fakeAfter struct {
	d    time.Duration
	fire chan time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	a := fakeAfter{d: d, fire: make(chan time.Time, 1)}
	c.afters <- a
	return a.fire
}

// writesOut hands the test each write to the output.
type writesOut struct{ writes chan string }

func (o *writesOut) Write(p []byte) (int, error) { o.writes <- string(p); return len(p), nil }
func (o *writesOut) Close() error                { return nil }

// TestFlushPause: a writer that has not flushed for flushPause writes a
// line at once; lines that come within the pause wait for its end and go
// out in one write.
func TestFlushPause(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1e9, 0), afters: make(chan fakeAfter, 1)}
	out := &writesOut{writes: make(chan string, 8)}
	handled := make(chan string, 8) // each line, once the writer has put it in its buffer
	w, err := newWriter(openOnce(out), Options{Release: func(line []byte) { handled <- string(line) }}, clk)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	expectWrite := func(want string) {
		t.Helper()
		select {
		case got := <-out.writes:
			if got != want {
				t.Fatalf("write %q; want %q", got, want)
			}
		case <-time.After(wait):
			t.Fatalf("no write of %q", want)
		}
	}
	noWrite := func() {
		t.Helper()
		select {
		case got := <-out.writes:
			t.Fatalf("write %q during the pause", got)
		default:
		}
	}
	put := func(line string) {
		t.Helper()
		if err := w.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
		select {
		case <-handled:
		case <-time.After(wait):
			t.Fatalf("line %q never handled", line)
		}
	}

	put("a\n")
	expectWrite("a\n") // the first flush: none before it

	clk.advance(flushPause / 4)
	put("b\n")
	var pause fakeAfter
	select {
	case pause = <-clk.afters:
	case <-time.After(wait):
		t.Fatal("a line within the pause was neither written nor held")
	}
	if want := flushPause * 3 / 4; pause.d != want {
		t.Errorf("held for %v; want the rest of the pause, %v", pause.d, want)
	}
	noWrite()
	put("c\n")
	put("d\n") // handled once the writer is past c's turn
	noWrite()
	select {
	case a := <-clk.afters:
		t.Fatalf("a second pause (%v) while one is running", a.d)
	default:
	}

	clk.advance(flushPause * 3 / 4)
	pause.fire <- clk.Now()
	expectWrite("b\nc\nd\n") // one write for the lines of the pause

	clk.advance(flushPause)
	put("e\n")
	expectWrite("e\n") // a pause since the last flush: at once again
}
