package jsonl

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// wait bounds every wait in these tests: nothing here should take long.
const wait = 5 * time.Second

// memOut is an output in memory that remembers whether it was closed.
type memOut struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	closed bool
	syncs  int
}

func (m *memOut) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, errors.New("write after close")
	}
	return m.buf.Write(p)
}

func (m *memOut) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

func (m *memOut) Sync() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncs++
	return nil
}

func (m *memOut) String() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.buf.String()
}

func (m *memOut) isClosed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

// failOut fails every write.
type failOut struct{ closes atomic.Int32 }

var errDiskFull = errors.New("disk full")

func (f *failOut) Write(p []byte) (int, error) { return 0, errDiskFull }
func (f *failOut) Close() error                { f.closes.Add(1); return nil }

// gateOut blocks every write until gate is closed; entered receives once
// per write as it starts.
type gateOut struct {
	memOut
	gate    chan struct{}
	entered chan struct{}
}

func (g *gateOut) Write(p []byte) (int, error) {
	select {
	case g.entered <- struct{}{}:
	default:
	}
	<-g.gate
	return g.memOut.Write(p)
}

func openOnce(out io.WriteCloser) func() (io.WriteCloser, error) {
	return func() (io.WriteCloser, error) { return out, nil }
}

// within runs f and fails the test if it has not returned after d.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s: still blocked after %v", what, d)
	}
}

// TestConcurrentWrites: lines written from many goroutines at once all
// arrive, each exactly once and whole, including lines larger than the
// writer's buffer, and each is released once.
func TestConcurrentWrites(t *testing.T) {
	for _, queue := range []int{1, 16, 0} {
		t.Run(fmt.Sprintf("queue=%d", queue), func(t *testing.T) {
			out := &memOut{}
			var released atomic.Int64
			w, err := NewWriter(openOnce(out), Options{Queue: queue, Release: func([]byte) { released.Add(1) }})
			if err != nil {
				t.Fatal(err)
			}
			const goroutines, perG = 32, 100
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range perG {
						line := fmt.Appendf(nil, "%d %d %s\n", g, i, strings.Repeat("x", padLen(g, i)))
						if err := w.Write(line); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			within(t, 2*wait, "concurrent writes", wg.Wait)
			within(t, wait, "Close", func() {
				if err := w.Close(); err != nil {
					t.Error(err)
				}
			})
			if !out.isClosed() {
				t.Error("Close did not close the output")
			}
			if n := released.Load(); n != goroutines*perG {
				t.Errorf("released %d lines, want %d", n, goroutines*perG)
			}
			seen := map[[2]int]bool{}
			for line := range strings.Lines(out.String()) {
				var g, i int
				var pad string
				if _, err := fmt.Sscanf(line, "%d %d %s\n", &g, &i, &pad); err != nil ||
					len(pad) != padLen(g, i) || strings.Count(pad, "x") != len(pad) || seen[[2]int{g, i}] {
					t.Fatalf("line %.80q is cut, merged or repeated (%v)", line, err)
				}
				seen[[2]int{g, i}] = true
			}
			if len(seen) != goroutines*perG {
				t.Errorf("got %d lines, want %d", len(seen), goroutines*perG)
			}
		})
	}
}

// padLen is how long the padding of line i from goroutine g is: now and
// then longer than the writer's buffer.
func padLen(g, i int) int {
	if g%8 == 0 && i == 50 {
		return writeBuffer + 6<<10
	}
	return 10 + (g*i)%50
}

// TestReopen: Reopen flushes and closes the current output, opens the next,
// and keeps the order of lines around it.
func TestReopen(t *testing.T) {
	outs := []*memOut{{}, {}, {}}
	opened := 0
	w, err := NewWriter(func() (io.WriteCloser, error) {
		o := outs[opened]
		opened++
		return o, nil
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	write := func(s string) {
		t.Helper()
		if err := w.Write([]byte(s + "\n")); err != nil {
			t.Fatal(err)
		}
	}
	write("a")
	write("b")
	if err := w.Reopen(); err != nil {
		t.Fatal(err)
	}
	if !outs[0].isClosed() || outs[0].String() != "a\nb\n" {
		t.Errorf("after Reopen the first output holds %q (closed %v), want \"a\\nb\\n\" and closed", outs[0].String(), outs[0].isClosed())
	}
	write("c")
	if err := w.Reopen(); err != nil {
		t.Fatal(err)
	}
	write("d")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := []string{outs[0].String(), outs[1].String(), outs[2].String()}
	want := []string{"a\nb\n", "c\n", "d\n"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("outputs hold %q, want %q", got, want)
	}
	for i, o := range outs {
		if !o.isClosed() {
			t.Errorf("output %d not closed", i)
		}
	}
}

// TestReopenFails: when the output cannot be opened again, Reopen says so,
// the writer has failed (Failed fires, Write returns the error) and Close
// does not block.
func TestReopenFails(t *testing.T) {
	first := &memOut{}
	calls := 0
	errGone := errors.New("directory gone")
	w, err := NewWriter(func() (io.WriteCloser, error) {
		calls++
		if calls > 1 {
			return nil, errGone
		}
		return first, nil
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]byte("a\n")); err != nil {
		t.Fatal(err)
	}
	err = w.Reopen()
	if !errors.Is(err, errGone) {
		t.Fatalf("Reopen = %v, want %v", err, errGone)
	}
	select {
	case ferr := <-w.Failed():
		if !errors.Is(ferr, errGone) {
			t.Errorf("Failed() = %v", ferr)
		}
	case <-time.After(wait):
		t.Fatal("Failed() did not fire")
	}
	if err := w.Write([]byte("b\n")); !errors.Is(err, errGone) {
		t.Errorf("Write after a failed Reopen = %v, want %v", err, errGone)
	}
	within(t, wait, "Close", func() {
		if err := w.Close(); !errors.Is(err, errGone) {
			t.Errorf("Close = %v, want %v", err, errGone)
		}
	})
	if first.String() != "a\n" {
		t.Errorf("first output holds %q", first.String())
	}
}

// TestOpenFails: NewWriter returns the open error.
func TestOpenFails(t *testing.T) {
	errNo := errors.New("no")
	if _, err := NewWriter(func() (io.WriteCloser, error) { return nil, errNo }, Options{}); !errors.Is(err, errNo) {
		t.Errorf("NewWriter = %v, want %v", err, errNo)
	}
}

// TestFailingOutput: an output whose writes fail makes Failed receive the
// error exactly once; Write then returns it; and no Write or Close blocks,
// even with many writers racing on a tiny queue.
func TestFailingOutput(t *testing.T) {
	out := &failOut{}
	var released atomic.Int64
	w, err := NewWriter(openOnce(out), Options{Queue: 1, Release: func([]byte) { released.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var queued atomic.Int64
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				err := w.Write([]byte("line\n"))
				if err == nil {
					queued.Add(1)
				} else if !errors.Is(err, errDiskFull) {
					t.Errorf("Write = %v, want %v", err, errDiskFull)
					return
				}
			}
		}()
	}
	within(t, wait, "Write on a failing output", wg.Wait)

	select {
	case ferr := <-w.Failed():
		if !errors.Is(ferr, errDiskFull) {
			t.Errorf("Failed() = %v, want %v", ferr, errDiskFull)
		}
	case <-time.After(wait):
		t.Fatal("Failed() did not fire")
	}
	if err := w.Write([]byte("more\n")); !errors.Is(err, errDiskFull) {
		t.Errorf("Write after the failure = %v, want %v", err, errDiskFull)
	}
	within(t, wait, "Close", func() {
		if err := w.Close(); !errors.Is(err, errDiskFull) {
			t.Errorf("Close = %v, want %v", err, errDiskFull)
		}
	})
	select {
	case ferr := <-w.Failed():
		t.Errorf("Failed() fired twice: %v", ferr)
	default:
	}
	if n := out.closes.Load(); n != 1 {
		t.Errorf("output closed %d times, want 1", n)
	}
	if r, q := released.Load(), queued.Load(); r != q {
		t.Errorf("released %d of %d queued lines", r, q)
	}
}

// TestClose: Close writes and flushes every queued line, closes the
// output, and later Writes return ErrClosed; a second Close is harmless.
func TestClose(t *testing.T) {
	out := &memOut{}
	w, err := NewWriter(openOnce(out), Options{Queue: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for i := range 500 {
		line := fmt.Sprintf("line %d\n", i)
		want.WriteString(line)
		if err := w.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if out.String() != want.String() {
		t.Errorf("after Close the output holds %d bytes, want %d", len(out.String()), want.Len())
	}
	if !out.isClosed() {
		t.Error("output not closed")
	}
	if err := w.Write([]byte("late\n")); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
	within(t, wait, "second Close", func() {
		if err := w.Close(); err != nil {
			t.Errorf("second Close = %v", err)
		}
	})
}

// TestFlushWhenIdle: a line reaches the output without Close once the
// queue is empty (a live `llmtap | llmmd` sees each record at once).
func TestFlushWhenIdle(t *testing.T) {
	out := &memOut{}
	w, err := NewWriter(openOnce(out), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Write([]byte("one\n")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(wait)
	for out.String() != "one\n" {
		if time.Now().After(deadline) {
			t.Fatalf("line not flushed while idle; output holds %q", out.String())
		}
		time.Sleep(time.Millisecond)
	}
}

// TestFsync: with Fsync, a regular file is synced, and a pipe, which cannot
// be synced, is not an error.
func TestFsync(t *testing.T) {
	t.Run("pipe", func(t *testing.T) {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer pr.Close()
		w, err := NewWriter(openOnce(pw), Options{Fsync: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write([]byte("through a pipe\n")); err != nil {
			t.Fatal(err)
		}
		_ = pr.SetReadDeadline(time.Now().Add(wait))
		line, err := bufio.NewReader(pr).ReadString('\n')
		if err != nil || line != "through a pipe\n" {
			t.Fatalf("read %q, %v", line, err)
		}
		select {
		case err := <-w.Failed():
			t.Fatalf("syncing a pipe failed the writer: %v", err)
		default:
		}
		if err := w.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
	})
	t.Run("file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "out.jsonl")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w, err := NewWriter(openOnce(f), Options{Fsync: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write([]byte("{}\n")); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(path); string(b) != "{}\n" {
			t.Errorf("file holds %q", b)
		}
	})
	t.Run("syncer", func(t *testing.T) {
		out := &memOut{}
		w, err := NewWriter(openOnce(out), Options{Fsync: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write([]byte("{}\n")); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		out.mu.Lock()
		defer out.mu.Unlock()
		if out.syncs == 0 {
			t.Error("Fsync set but the output was never synced")
		}
	})
}

// TestBackPressure: with an output that blocks, Write still returns at once
// until the queue is full, and only then blocks; no line is lost.
func TestBackPressure(t *testing.T) {
	const queue = 4
	out := &gateOut{gate: make(chan struct{}), entered: make(chan struct{}, 1)}
	w, err := NewWriter(openOnce(out), Options{Queue: queue})
	if err != nil {
		t.Fatal(err)
	}
	line := func(i int) []byte { return fmt.Appendf(nil, "%d\n", i) }

	// The writer goroutine takes line 0 and blocks writing it out.
	if err := w.Write(line(0)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-out.entered:
	case <-time.After(wait):
		t.Fatal("the output was never written to")
	}
	// The queue takes queue more lines without blocking.
	within(t, wait, "Write with room in the queue", func() {
		for i := 1; i <= queue; i++ {
			if err := w.Write(line(i)); err != nil {
				t.Error(err)
			}
		}
	})
	// The next Write waits for room.
	next := make(chan error, 1)
	go func() { next <- w.Write(line(queue + 1)) }()
	select {
	case err := <-next:
		t.Fatalf("Write returned (%v) with the queue full", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(out.gate)
	select {
	case err := <-next:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(wait):
		t.Fatal("Write still blocked after the output drained")
	}
	within(t, wait, "Close", func() {
		if err := w.Close(); err != nil {
			t.Error(err)
		}
	})
	if got, want := out.String(), "0\n1\n2\n3\n4\n5\n"; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
}
