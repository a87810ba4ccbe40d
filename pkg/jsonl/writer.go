// Package jsonl reads and writes newline-delimited lines: a serialized,
// flushing, reopenable line writer. It does not know what a line means.
package jsonl

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("jsonl: writer closed")

// DefaultQueue is Options.Queue when it is not set: enough finished lines
// to ride out a burst or a slow moment of the disk.
const DefaultQueue = 4096

// writeBuffer is the size of the writer's buffer: a flush under load is one
// large write, of the lines of a flushPause (a record of a long stream
// takes some 40 KB).
const writeBuffer = 256 << 10

// flushPause is the least time between two flushes of a busy writer. A
// writer that has not flushed for this long flushes a line at once; under
// load the lines of a pause go out together, so that the kernel takes one
// larger write and the reader (tee, llmmd, a file's readers) is woken once,
// not once per line. A line waits at most this long. In the benchmark this
// was about 3 % of llmtap's CPU per streamed exchange.
const flushPause = time.Millisecond

// Options tunes a Writer. The zero value is usable.
type Options struct {
	// Queue is how many lines may wait for the writer goroutine before
	// Write blocks (back-pressure, never loss). Default DefaultQueue.
	Queue int
	// Fsync syncs the output after each batch of lines written, when the
	// output supports it (an *os.File that is a regular file).
	Fsync bool
	// Release, if set, is given each line once it has been written, so the
	// caller can pool its buffers.
	Release func([]byte)
	// Transform, if set, writes each line given to Write to the output in
	// its place, on the writer goroutine and in order, for an output made
	// from the lines (llmtap's Markdown transcript). It must write whole
	// lines, or nothing. Its error is a write failure, handled as a
	// WriteFunc function's is. Lines of WriteFunc are not transformed.
	Transform func(w io.Writer, line []byte) error
}

// Writer writes whole lines from many goroutines to one output. One
// goroutine owns the output and its buffer, so lines never interleave and a
// caller never waits on the disk, only on a full queue. The output is
// flushed whenever the queue is empty: at once when idle, and under load at
// most once per flushPause, in one write of the lines since.
//
// A failed write (a full disk) can leave part of a line behind. When the
// output is a regular file (an *os.File, or anything with the same Stat and
// Truncate), the Writer cuts the file back to the end of its last whole
// line, so a reader sees only whole lines; if that cut fails too, the
// failure says so. A pipe or a terminal cannot be taken back: its reader
// may see a last line without its '\n', which llmmd and llmgrep report as
// a truncated last line.
type Writer struct {
	open  func() (io.WriteCloser, error)
	opts  Options
	lines chan item
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

	clock clock // times the flush pause
}

// clock is the time as the writer's flush pause sees it; a test gives its
// own.
type clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// NewWriter opens the output with open and starts the writer goroutine.
// Reopen calls open again (log rotation); open may return the same stream.
func NewWriter(open func() (io.WriteCloser, error), opts Options) (*Writer, error) {
	return newWriter(open, opts, systemClock{})
}

func newWriter(open func() (io.WriteCloser, error), opts Options, clk clock) (*Writer, error) {
	if opts.Queue <= 0 {
		opts.Queue = DefaultQueue
	}
	out, err := open()
	if err != nil {
		return nil, err
	}
	w := &Writer{
		open:  open,
		opts:  opts,
		lines: make(chan item, opts.Queue),
		ops:   make(chan chan error),
		done:  make(chan struct{}),
		fail:  make(chan error, 1),
		clock: clk,
	}
	go w.run(out)
	return w, nil
}

// Write queues one complete line (ending in '\n') and takes ownership of it.
// It blocks only while the queue is full. After a write failure it returns
// that failure; after Close, ErrClosed.
func (w *Writer) Write(line []byte) error {
	return w.enqueue(item{line: line})
}

// item is one queued line, or a function that writes one.
type item struct {
	line []byte
	fn   func(io.Writer) error
	done chan error // for fn: the outcome, once fn has run or was skipped
}

// WriteFunc queues fn, which writes one complete line (ending in '\n') to
// the io.Writer it is given, in order with the other lines, on the writer
// goroutine; it is for a line too large to hold in memory. It blocks until
// fn has run, so whatever fn reads may be freed once WriteFunc returns.
//
// An error from fn is a write failure, reported on Failed like one, and
// nothing more is written. If the output itself did not fail, the line fn
// left incomplete is ended with a '\n' and flushed with the lines before
// it, so that a reader sees every earlier record and then one bad line,
// never two lines run together.
func (w *Writer) WriteFunc(fn func(io.Writer) error) error {
	done := make(chan error, 1)
	if err := w.enqueue(item{fn: fn, done: done}); err != nil {
		return err
	}
	return <-done
}

func (w *Writer) enqueue(it item) error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return ErrClosed
	}
	if err := w.failure(); err != nil {
		return err
	}
	select {
	case w.lines <- it:
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
	l := &writeLoop{w: w}
	l.use(out)
	var (
		flushed time.Time        // the last flush; zero: none yet
		pause   <-chan time.Time // while a flush waits for flushPause to end
	)
	flush := func() {
		l.flush()
		flushed = w.clock.Now()
	}
	for {
		select {
		case it, ok := <-w.lines:
			if !ok {
				l.close()
				return
			}
			l.put(it)
			if len(w.lines) == 0 {
				// Let exchanges ending at this moment queue their records
				// first: under load this makes one write of several (about
				// a quarter as many writes in the benchmark), and costs an
				// idle writer nothing it could notice.
				runtime.Gosched()
			}
			if len(w.lines) == 0 && pause == nil {
				if wait := flushPause - w.clock.Now().Sub(flushed); wait > 0 {
					pause = w.clock.After(wait)
				} else {
					flush()
				}
			}
		case <-pause:
			pause = nil
			flush()
		case reply := <-w.ops:
			reply <- l.reopen()
		}
	}
}

// writeLoop is the writer goroutine's state: the output, its buffer, where
// its last whole line ends, and whether it has failed (after which nothing
// more is written).
type writeLoop struct {
	w      *Writer
	out    io.WriteCloser
	mark   *lineMark
	bw     *bufio.Writer
	failed bool
}

// use makes out the output, behind a fresh line mark and the buffer.
func (l *writeLoop) use(out io.WriteCloser) {
	l.out = out
	l.mark = newLineMark(out)
	if l.bw == nil {
		l.bw = bufio.NewWriterSize(l.mark, writeBuffer)
	} else {
		l.bw.Reset(l.mark)
	}
}

// fail notes the first failure and reports it on Failed.
func (l *writeLoop) fail(err error) {
	if !l.failed {
		l.failed = true
		l.w.setFailure(err)
	}
}

// failOutput is fail for a failed write: it first cuts the partial line
// the write may have left.
func (l *writeLoop) failOutput(err error) {
	if l.failed {
		return
	}
	err = fmt.Errorf("write output: %w", err)
	if cerr := l.mark.cut(); cerr != nil {
		err = fmt.Errorf("%w (and cutting the partial line it left failed: %v)", err, cerr)
	}
	l.fail(err)
}

// flush writes the buffer out, and syncs the output when asked to.
func (l *writeLoop) flush() {
	if l.failed {
		return
	}
	if err := l.bw.Flush(); err != nil {
		l.failOutput(err)
		return
	}
	l.mark.update()
	if l.w.opts.Fsync {
		if s, ok := l.out.(interface{ Sync() error }); ok {
			if err := s.Sync(); err != nil && !isNotSyncable(err) {
				l.fail(fmt.Errorf("sync output: %w", err))
			}
		}
	}
}

// put writes one queued item to the buffer: a line (transformed, if the
// Writer has a Transform) or a WriteFunc function, whose caller then learns
// the outcome.
func (l *writeLoop) put(it item) {
	switch {
	case it.fn != nil:
		if !l.failed {
			l.writeFunc(it.fn)
		}
		it.done <- l.w.failure()
		return
	case l.failed:
	case l.w.opts.Transform != nil:
		l.writeFunc(func(ow io.Writer) error { return l.w.opts.Transform(ow, it.line) })
	default:
		l.mark.line(len(it.line))
		if _, err := l.bw.Write(it.line); err != nil {
			l.failOutput(err)
		}
	}
	if l.w.opts.Release != nil {
		l.w.opts.Release(it.line)
	}
}

// writeFunc runs fn, which writes one line to the buffer. A failure of the
// output is a write failure; any other error of fn ends the line it left
// incomplete, so that the lines before it reach the output whole, and is
// then the failure.
func (l *writeLoop) writeFunc(fn func(io.Writer) error) {
	ow := &outputWriter{w: l.bw}
	err := fn(ow)
	switch {
	case err == nil:
		l.mark.line(ow.n)
	case ow.err != nil:
		l.failOutput(ow.err)
	default:
		_ = l.bw.WriteByte('\n')
		l.mark.line(ow.n + 1)
		if ferr := l.bw.Flush(); ferr != nil {
			l.failOutput(ferr)
		}
		l.fail(fmt.Errorf("write record: %w", err))
	}
}

// reopen writes the lines queued before the request to the old output,
// closes it and opens the output again.
func (l *writeLoop) reopen() error {
	// select picks at random among ready cases: lines queued before Reopen
	// was called still belong to the old output.
	for n := len(l.w.lines); n > 0; n-- {
		it, ok := <-l.w.lines
		if !ok {
			break
		}
		l.put(it)
	}
	l.flush()
	if l.failed {
		return l.w.failure()
	}
	if err := l.out.Close(); err != nil {
		l.fail(fmt.Errorf("close output: %w", err))
		return l.w.failure()
	}
	next, err := l.w.open()
	if err != nil {
		l.fail(fmt.Errorf("reopen output: %w", err))
		return l.w.failure()
	}
	l.use(next)
	return nil
}

// close flushes and closes the output, after the queue was closed and
// drained.
func (l *writeLoop) close() {
	l.flush()
	if err := l.out.Close(); err != nil && !l.failed {
		l.fail(fmt.Errorf("close output: %w", err))
	}
}

// outputWriter is the output as a WriteFunc function sees it; it notes
// whether a failure was the output's.
type outputWriter struct {
	w   *bufio.Writer
	n   int // bytes written
	err error
}

func (o *outputWriter) Write(p []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	n, err := o.w.Write(p)
	o.n += n
	if err != nil {
		o.err = err
	}
	return n, err
}

// truncatable is an output that a failed write can be taken back from: a
// regular file (*os.File), or a test's stand-in for one.
type truncatable interface {
	Stat() (fs.FileInfo, error)
	Truncate(size int64) error
}

// lineMark stands between the buffer and the output and knows where the
// last whole line the output took ends, so that a failed write can cut back
// what it left of a line. It tracks this only for a regular file.
type lineMark struct {
	out io.Writer
	f   truncatable // nil: the output cannot be cut (pipe, terminal, device)
	// The offsets count from the last flush, after which the file ended on
	// a whole line.
	written int64   // bytes the output took
	queued  int64   // bytes given to the buffer
	ends    []int64 // where the lines given to the buffer end
}

func newLineMark(out io.Writer) *lineMark {
	m := &lineMark{out: out}
	if f, ok := out.(truncatable); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			m.f = f
		}
	}
	return m
}

// Write writes to the output and counts what it took.
func (m *lineMark) Write(p []byte) (int, error) {
	n, err := m.out.Write(p)
	m.written += int64(n)
	return n, err
}

// line notes a whole line of n bytes given to the buffer.
func (m *lineMark) line(n int) {
	if m.f == nil {
		return
	}
	m.queued += int64(n)
	m.ends = append(m.ends, m.queued)
}

// update notes a flush: everything given to the buffer was taken, whole
// lines only. (No stat here: it would be a second syscall per flush.)
func (m *lineMark) update() {
	m.written, m.queued, m.ends = 0, 0, m.ends[:0]
}

// cut truncates the file after the last whole line the output took, if a
// write went past it: the bytes past that line were the last ones appended.
// A file now shorter than those bytes (cut by someone else meanwhile) is
// left alone.
func (m *lineMark) cut() error {
	if m.f == nil {
		return nil
	}
	end := int64(0)
	for i := len(m.ends) - 1; i >= 0; i-- {
		if m.ends[i] <= m.written {
			end = m.ends[i]
			break
		}
	}
	partial := m.written - end
	if partial == 0 {
		return nil
	}
	fi, err := m.f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() < partial {
		return nil
	}
	return m.f.Truncate(fi.Size() - partial)
}

// isNotSyncable reports errors from syncing a pipe or terminal, which have
// nothing to sync.
func isNotSyncable(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP)
}
