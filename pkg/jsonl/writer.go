// Package jsonl reads and writes newline-delimited lines: a serialized,
// flushing, reopenable line writer. It does not know what a line means.
package jsonl

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sync"
	"syscall"
)

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("jsonl: writer closed")

// Options tunes a Writer. The zero value is usable.
type Options struct {
	// Queue is how many lines may wait for the writer goroutine before
	// Write blocks (back-pressure, never loss). Default 4096.
	Queue int
	// Fsync syncs the output after each batch of lines written, when the
	// output supports it (an *os.File that is a regular file).
	Fsync bool
	// Release, if set, is given each line once it has been written, so the
	// caller can pool its buffers.
	Release func([]byte)
}

// Writer writes whole lines from many goroutines to one output. One
// goroutine owns the output and its buffer, so lines never interleave and a
// caller never waits on the disk, only on a full queue. The output is
// flushed whenever the queue is empty: at once when idle, batched under load.
type Writer struct {
	open  func() (io.WriteCloser, error)
	opts  Options
	lines chan []byte
	ops   chan chan error // reopen requests
	done  chan struct{}   // closed when the goroutine has exited
	fail  chan error      // receives the first write failure

	mu     sync.RWMutex // guards closed against Write racing Close
	closed bool

	// errMu guards err. It is not mu: a Write blocked on a full queue holds
	// mu.RLock, and the goroutine that would make room must still be able to
	// record a failure.
	errMu sync.Mutex
	err   error
}

// NewWriter opens the output with open and starts the writer goroutine.
// Reopen calls open again (log rotation); open may return the same stream.
func NewWriter(open func() (io.WriteCloser, error), opts Options) (*Writer, error) {
	if opts.Queue <= 0 {
		opts.Queue = 4096
	}
	out, err := open()
	if err != nil {
		return nil, err
	}
	w := &Writer{
		open:  open,
		opts:  opts,
		lines: make(chan []byte, opts.Queue),
		ops:   make(chan chan error),
		done:  make(chan struct{}),
		fail:  make(chan error, 1),
	}
	go w.run(out)
	return w, nil
}

// Write queues one complete line (ending in '\n') and takes ownership of it.
// It blocks only while the queue is full. After a write failure it returns
// that failure; after Close, ErrClosed.
func (w *Writer) Write(line []byte) error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return ErrClosed
	}
	if err := w.failure(); err != nil {
		return err
	}
	select {
	case w.lines <- line:
		return nil
	case <-w.done:
		return w.failure()
	}
}

// Failed receives the first write failure, once. The caller reports it and
// stops: lines after a failure are not written.
func (w *Writer) Failed() <-chan error { return w.fail }

// Reopen flushes and closes the output and opens it again, in order with the
// lines already queued. It returns the open error, if any; the writer then
// has failed.
func (w *Writer) Reopen() error {
	reply := make(chan error, 1)
	select {
	case w.ops <- reply:
		return <-reply
	case <-w.done:
		return w.failure()
	}
}

// Close writes every queued line, flushes, closes the output and returns the
// first failure, if any.
func (w *Writer) Close() error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.lines)
	}
	w.mu.Unlock()
	<-w.done
	return w.failure()
}

func (w *Writer) failure() error {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	return w.err
}

func (w *Writer) setFailure(err error) {
	w.errMu.Lock()
	if w.err == nil {
		w.err = err
		w.fail <- err
	}
	w.errMu.Unlock()
}

// run owns out until Close. After a failure it keeps draining the queue so
// that no Write blocks forever, and writes nothing more.
func (w *Writer) run(out io.WriteCloser) {
	defer close(w.done)
	bw := bufio.NewWriterSize(out, 64<<10)
	var failed bool
	fail := func(err error) {
		if !failed {
			failed = true
			w.setFailure(err)
		}
	}
	flush := func() {
		if failed {
			return
		}
		if err := bw.Flush(); err != nil {
			fail(fmt.Errorf("write output: %w", err))
			return
		}
		if w.opts.Fsync {
			if s, ok := out.(interface{ Sync() error }); ok {
				if err := s.Sync(); err != nil && !isNotSyncable(err) {
					fail(fmt.Errorf("sync output: %w", err))
				}
			}
		}
	}
	put := func(line []byte) {
		if !failed {
			if _, err := bw.Write(line); err != nil {
				fail(fmt.Errorf("write output: %w", err))
			}
		}
		if w.opts.Release != nil {
			w.opts.Release(line)
		}
	}
	for {
		select {
		case line, ok := <-w.lines:
			if !ok {
				flush()
				if err := out.Close(); err != nil && !failed {
					fail(fmt.Errorf("close output: %w", err))
				}
				return
			}
			put(line)
			if len(w.lines) == 0 {
				flush()
			}
		case reply := <-w.ops:
			// select picks at random among ready cases: lines queued before
			// Reopen was called still belong to the old output.
			for n := len(w.lines); n > 0; n-- {
				line, ok := <-w.lines
				if !ok {
					break
				}
				put(line)
			}
			flush()
			if failed {
				reply <- w.failure()
				continue
			}
			if err := out.Close(); err != nil {
				fail(fmt.Errorf("close output: %w", err))
				reply <- w.failure()
				continue
			}
			next, err := w.open()
			if err != nil {
				fail(fmt.Errorf("reopen output: %w", err))
				reply <- w.failure()
				continue
			}
			out = next
			bw.Reset(out)
			reply <- nil
		}
	}
}

// isNotSyncable reports errors from syncing a pipe or terminal, which have
// nothing to sync.
func isNotSyncable(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP)
}
