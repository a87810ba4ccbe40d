package jsonl

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeFile is a regular file in memory that holds at most limit bytes: a
// write past it writes what fits and fails with ENOSPC, as a full disk does.
type fakeFile struct {
	mu        sync.Mutex
	data      []byte
	limit     int
	mode      fs.FileMode
	truncErr  error // returned by Truncate, if set
	truncates int
	stats     int
}

func (f *fakeFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	room := max(f.limit-len(f.data), 0)
	if len(p) <= room {
		f.data = append(f.data, p...)
		return len(p), nil
	}
	f.data = append(f.data, p[:room]...)
	return room, syscall.ENOSPC
}

func (f *fakeFile) Close() error { return nil }

func (f *fakeFile) Stat() (fs.FileInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stats++
	return fakeInfo{size: int64(len(f.data)), mode: f.mode}, nil
}

func (f *fakeFile) Truncate(size int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.truncates++
	if f.truncErr != nil {
		return f.truncErr
	}
	f.data = f.data[:size]
	return nil
}

func (f *fakeFile) contents() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return string(f.data)
}

type fakeInfo struct {
	size int64
	mode fs.FileMode
}

func (i fakeInfo) Name() string       { return "fake" }
func (i fakeInfo) Size() int64        { return i.size }
func (i fakeInfo) Mode() fs.FileMode  { return i.mode }
func (i fakeInfo) ModTime() time.Time { return time.Time{} }
func (i fakeInfo) IsDir() bool        { return false }
func (i fakeInfo) Sys() any           { return nil }

// partialLines are lines of many sizes, some larger than the writer's
// buffer, so that a failure falls inside a buffered and a direct write.
func partialLines() []string {
	var lines []string
	for i, n := range []int{10, 300, 70 << 10, 5, 200 << 10, 40, 1000, 64 << 10, 3} {
		lines = append(lines, fmt.Sprintf("%d:%s\n", i, strings.Repeat("x", n)))
	}
	return lines
}

// checkWholeLines fails unless got is prefix followed by whole lines of
// want, in order.
func checkWholeLines(t *testing.T, got, prefix string, want []string) {
	t.Helper()
	if !strings.HasPrefix(got, prefix) {
		t.Fatalf("the file's earlier content is gone: starts %.40q", got)
	}
	rest := got[len(prefix):]
	for _, l := range want {
		if rest == "" {
			return
		}
		if !strings.HasPrefix(rest, l) {
			t.Fatalf("the file ends with a partial line (%d bytes left after the whole ones: %.40q…)", len(rest), rest)
		}
		rest = rest[len(l):]
	}
	if rest != "" {
		t.Fatalf("%d unexpected bytes at the end", len(rest))
	}
}

// TestPartialLineCut: a write that fails part way leaves the file ending
// with its last whole line, whatever the limit, with lines written one at a
// time (each flushed) or all at once (flushed in batches).
func TestPartialLineCut(t *testing.T) {
	lines := partialLines()
	total := len(strings.Join(lines, ""))
	const prefix = "an earlier record\n"
	for _, batch := range []bool{false, true} {
		for _, limit := range []int{len(prefix), len(prefix) + 1, len(prefix) + 11, len(prefix) + 400, len(prefix) + 50<<10, len(prefix) + 100<<10, len(prefix) + 300<<10, len(prefix) + total - 1} {
			t.Run(fmt.Sprintf("batch=%v/limit=%d", batch, limit), func(t *testing.T) {
				f := &fakeFile{data: []byte(prefix), limit: limit}
				w, err := NewWriter(openOnce(f), Options{})
				if err != nil {
					t.Fatal(err)
				}
				within(t, wait, "writing", func() {
					for _, l := range lines {
						if err := w.Write([]byte(l)); err != nil {
							break
						}
						if !batch {
							// Let the writer flush each line on its own.
							for range 100 {
								if len(w.lines) == 0 {
									break
								}
								time.Sleep(time.Millisecond)
							}
						}
					}
				})
				var cerr error
				within(t, wait, "Close", func() { cerr = w.Close() })
				if !errors.Is(cerr, syscall.ENOSPC) || !strings.HasPrefix(cerr.Error(), "write output: ") {
					t.Errorf("Close = %v, want write output: …ENOSPC", cerr)
				}
				checkWholeLines(t, f.contents(), prefix, lines)
			})
		}
	}
}

// TestPartialLineWriteFunc: an output failure inside a WriteFunc line is
// cut back too.
func TestPartialLineWriteFunc(t *testing.T) {
	const prefix = "first\n"
	f := &fakeFile{limit: len(prefix) + 100<<10}
	w, err := NewWriter(openOnce(f), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]byte(prefix)); err != nil {
		t.Fatal(err)
	}
	err = w.WriteFunc(func(out io.Writer) error {
		for range 100 {
			if _, err := out.Write(bytes.Repeat([]byte("y"), 4<<10)); err != nil {
				return err
			}
		}
		_, err := out.Write([]byte("\n"))
		return err
	})
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("WriteFunc = %v, want ENOSPC", err)
	}
	w.Close()
	if got := f.contents(); got != prefix {
		t.Errorf("file holds %d bytes (%.20q…), want only %q", len(got), got, prefix)
	}
}

// TestPartialLineCutFails: when the cut fails too, the failure says so.
func TestPartialLineCutFails(t *testing.T) {
	f := &fakeFile{limit: 5, truncErr: errors.New("read-only file system")}
	w, err := NewWriter(openOnce(f), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Write([]byte("0123456789\n"))
	err = w.Close()
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "cutting the partial line it left failed: read-only file system") {
		t.Errorf("Close = %v, want the write failure and the failed cut", err)
	}
}

// TestPartialLineNotRegular: an output that is not a regular file (a
// device, a pipe) is never truncated.
func TestPartialLineNotRegular(t *testing.T) {
	f := &fakeFile{limit: 5, mode: fs.ModeDevice | fs.ModeCharDevice}
	w, err := NewWriter(openOnce(f), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Write([]byte("0123456789\n"))
	if err := w.Close(); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Close = %v, want ENOSPC", err)
	}
	if f.truncates != 0 {
		t.Errorf("a device was truncated %d times", f.truncates)
	}
	if got := f.contents(); got != "01234" {
		t.Errorf("device got %q", got)
	}
}

// TestPartialLineCutReopen: after a Reopen the mark is the new file's.
func TestPartialLineCutReopen(t *testing.T) {
	a := &fakeFile{limit: 1 << 20}
	b := &fakeFile{data: []byte("old\n"), limit: 4 + 8}
	files := []*fakeFile{a, b}
	w, err := NewWriter(func() (io.WriteCloser, error) {
		f := files[0]
		files = files[1:]
		return f, nil
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"a1\n", "a2\n"} {
		if err := w.Write([]byte(l)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Reopen(); err != nil {
		t.Fatal(err)
	}
	_ = w.Write([]byte("b1\n"))
	_ = w.Write([]byte("b2 is too long\n"))
	if err := w.Close(); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Close = %v, want ENOSPC", err)
	}
	if got := a.contents(); got != "a1\na2\n" {
		t.Errorf("first file = %q", got)
	}
	if got := b.contents(); got != "old\nb1\n" {
		t.Errorf("second file = %q, want %q", got, "old\nb1\n")
	}
}

// TestPartialLineFileSizeLimit: a real file that reaches the process's
// file size limit (RLIMIT_FSIZE, with SIGXFSZ ignored, so the write fails
// with EFBIG) ends with a whole line. It runs in a child process, which
// alone gets the limit.
func TestPartialLineFileSizeLimit(t *testing.T) {
	if path := os.Getenv("JSONL_FSIZE_CHILD"); path != "" {
		fsizeChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "out.jsonl")
	if err := os.WriteFile(path, []byte("an earlier record\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPartialLineFileSizeLimit$")
	cmd.Env = append(os.Environ(), "JSONL_FSIZE_CHILD="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 3 {
			t.Fatalf("child: %v, want exit 3; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(wait):
		_ = cmd.Process.Kill()
		t.Fatal("child still running")
	}
	if !strings.Contains(stderr.String(), "write output: ") || !strings.Contains(stderr.String(), "file too large") {
		t.Errorf("child's stderr does not say the write failed:\n%s", stderr.String())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) >= fsizeLimit {
		t.Errorf("file is %d bytes: the partial line was not cut (limit %d)", len(data), fsizeLimit)
	}
	checkWholeLines(t, string(data), "an earlier record\n", partialLines())
}

const fsizeLimit = 150 << 10

// fsizeChild writes partialLines to path under a file size limit and
// exits 3 with the failure on stderr, or 0 if nothing failed.
func fsizeChild(path string) {
	signal.Ignore(syscall.SIGXFSZ)
	lim := syscall.Rlimit{Cur: fsizeLimit, Max: fsizeLimit}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		fmt.Fprintln(os.Stderr, "setrlimit:", err)
		os.Exit(4)
	}
	w, err := NewWriter(func() (io.WriteCloser, error) {
		return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	}, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(4)
	}
	for _, l := range partialLines() {
		if w.Write([]byte(l)) != nil {
			break
		}
	}
	if err := w.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	fmt.Fprintln(os.Stderr, "no failure at "+strconv.Itoa(fsizeLimit)+" bytes")
	os.Exit(0)
}

// TestFlushDoesNotStat: keeping track of the last whole line costs no
// syscall per flush; the file is looked at when it is opened and
// when a write has failed, not after every record.
func TestFlushDoesNotStat(t *testing.T) {
	f := &fakeFile{limit: 1 << 30}
	w, err := NewWriter(func() (io.WriteCloser, error) { return f, nil }, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if err := w.Write([]byte(strconv.Itoa(i) + "\n")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Microsecond) // idle: each line is flushed on its own
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stats != 1 {
		t.Errorf("Stat was called %d times for 100 lines, want 1 (at open)", f.stats)
	}
}
