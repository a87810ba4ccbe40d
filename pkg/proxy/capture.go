package proxy

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmtap/llmtap/pkg/record"
)

// copyPool hands out big buffers while few copies run and small ones
// beyond that. A big buffer moves a big body in fewer reads and writes, but
// a stream holds its buffer for as long as it lasts, mostly waiting for the
// next chunk: a thousand slow streams at 32 KiB each would pin 32 MB.
// The first maxBigCopies copies at a time get 32 KiB; the rest
// get 2 KiB, a few events' worth (a bigger event just takes more reads).
type copyPool struct {
	big, small sync.Pool
	bigOut     atomic.Int64 // big buffers lent and not yet returned
}

var _ httputil.BufferPool = (*copyPool)(nil)

const (
	bigCopyBuffer   = 32 << 10
	smallCopyBuffer = 2 << 10
	maxBigCopies    = 16
)

func (p *copyPool) Get() []byte {
	if p.bigOut.Add(1) <= maxBigCopies {
		return poolGet[[bigCopyBuffer]byte](&p.big)[:]
	}
	p.bigOut.Add(-1)
	return poolGet[[smallCopyBuffer]byte](&p.small)[:]
}

// poolGet takes a *T from pool, or makes one when it is empty.
func poolGet[T any](pool *sync.Pool) *T {
	if v, ok := pool.Get().(*T); ok {
		return v
	}
	return new(T)
}

// Put takes back a buffer from Get, told apart by its size. The pools hold
// the buffers' arrays, so that giving one back allocates nothing (a
// pointer to a slice would be a new one each time).
func (p *copyPool) Put(b []byte) {
	switch len(b) {
	case bigCopyBuffer:
		p.bigOut.Add(-1)
		p.big.Put((*[bigCopyBuffer]byte)(b))
	case smallCopyBuffer:
		p.small.Put((*[smallCopyBuffer]byte)(b))
	}
}

// captureBuffers pools the buffers bodies are captured into, by size
// class: a capture starts with the smallest and moves up a class when full,
// so a thousand slow streams hold a few KiB each, and a large body never pins
// more than the spill threshold. Each Tap has its own.
type captureBuffers [captureClasses]sync.Pool

const (
	minCapture       = 512 // the smallest class
	captureClasses   = 12  // 512 B … 1 MiB
	maxPooledCapture = minCapture << (captureClasses - 1)
)

// get returns an empty buffer of at least n bytes, from a pool when n is
// at most maxPooledCapture.
func (p *captureBuffers) get(n int) *[]byte {
	if n > maxPooledCapture {
		b := make([]byte, 0, n)
		return &b
	}
	class := 0
	for minCapture<<class < n {
		class++
	}
	if b, ok := p[class].Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, minCapture<<class)
	return &b
}

// put returns a buffer from get to its pool.
func (p *captureBuffers) put(b *[]byte) {
	c := cap(*b)
	if c < minCapture || c > maxPooledCapture || c&(c-1) != 0 {
		return // not one of ours: left to the garbage collector
	}
	class := 0
	for minCapture<<class < c {
		class++
	}
	*b = (*b)[:0]
	p[class].Put(b)
}

// DefaultSpillThreshold is the default for Config.SpillThreshold.
const DefaultSpillThreshold = 1 << 20

// capture keeps the first max bytes of a body and counts all of them. It
// holds them in memory up to spillAt bytes, then moves them to a temporary
// file, unlinked at once, which it writes every later byte to; the record
// reads them back from there (record.Source).
type capture struct {
	bufs      *captureBuffers
	buf       *[]byte // in memory; nil once spilled or released
	file      *os.File
	kept      int64 // bytes in buf or file
	max       int64
	n         int64
	truncated bool
	off       bool  // released or detached: count, keep nothing
	spillAt   int64 // 0: never spill
	dir       string
	spillErr  error // why the body could not be kept whole
}

func (t *Tap) newCapture() capture {
	return capture{bufs: &t.captureBufs, max: t.cfg.MaxBody, spillAt: t.cfg.SpillThreshold, dir: t.cfg.TempDir}
}

func (c *capture) write(p []byte) {
	c.n += int64(len(p))
	if c.off {
		return
	}
	room := c.max - c.kept
	if int64(len(p)) > room {
		p = p[:room]
		c.truncated = true
	}
	if len(p) == 0 {
		return
	}
	if c.file == nil && c.spillAt > 0 && c.kept+int64(len(p)) > c.spillAt {
		c.spill()
	}
	if c.file != nil {
		n, err := c.file.Write(p)
		c.kept += int64(n)
		if err != nil {
			c.fail(err)
		}
		return
	}
	if c.buf == nil {
		c.buf = c.bufs.get(len(p))
	}
	if need := len(*c.buf) + len(p); need > cap(*c.buf) {
		if need <= maxPooledCapture {
			grown := c.bufs.get(need)
			*grown = append(*grown, *c.buf...)
			c.bufs.put(c.buf)
			c.buf = grown
		}
	}
	*c.buf = append(*c.buf, p...)
	c.kept += int64(len(p))
}

// spill moves what is held in memory to a new temporary file. The file is
// unlinked at once, so that nothing is left behind whatever happens; it
// lives until closed.
func (c *capture) spill() {
	f, err := os.CreateTemp(c.dir, "llmtap-body-*")
	if err != nil {
		c.fail(err)
		return
	}
	if err := os.Remove(f.Name()); err != nil {
		_ = f.Close()
		c.fail(err)
		return
	}
	c.file = f
	if c.buf != nil {
		n, err := f.Write(*c.buf)
		c.kept = int64(n)
		c.bufs.put(c.buf)
		c.buf = nil
		if err != nil {
			c.fail(err)
		}
	}
}

// fail stops keeping bytes after a spill failure: the record keeps what
// was kept before and says why the rest is missing.
func (c *capture) fail(err error) {
	if c.spillErr == nil {
		c.spillErr = err
	}
	c.truncated = true
	c.off = true // what was kept before stays readable
}

// body returns what was kept, for a record that is used before release.
func (c *capture) body() record.Body {
	b := record.Body{WireBytes: c.n, Truncated: c.truncated}
	switch {
	case c.file != nil:
		b.Source = spillSource{f: c.file, size: c.kept}
	case c.buf != nil:
		b.Data = *c.buf
	}
	return b
}

// reader reads what was kept.
func (c *capture) reader() io.Reader {
	switch {
	case c.file != nil:
		return io.NewSectionReader(c.file, 0, c.kept)
	case c.buf != nil:
		return bytes.NewReader(*c.buf)
	}
	return errReader{io.EOF}
}

// Write adds p to the capture; it never fails.
func (c *capture) Write(p []byte) (int, error) {
	c.write(p)
	return len(p), nil
}

// release returns the buffer to the pool and closes the spill file; the
// capture keeps counting but stops keeping bytes.
func (c *capture) release() {
	c.off = true
	if c.buf != nil {
		c.bufs.put(c.buf)
		c.buf = nil
	}
	if c.file != nil {
		_ = c.file.Close()
		c.file = nil
	}
}

// detach hands the kept bytes over to a copy and leaves c counting only.
func (c *capture) detach() capture {
	d := *c
	c.buf, c.file, c.off = nil, nil, true
	return d
}

// spillSource is a spilled body as the record reads it.
type spillSource struct {
	f    *os.File
	size int64
}

var _ record.Source = spillSource{}

func (s spillSource) Size() int64 { return s.size }

func (s spillSource) Open() (io.ReadCloser, error) {
	return io.NopCloser(io.NewSectionReader(s.f, 0, s.size)), nil
}

// requestBody tees the client's request body into a capture. The Transport
// reads it from its own goroutine, which may outlive the handler, so the
// capture is guarded and detached (released) under the lock when the
// exchange finishes; reads after that still pass through.
type requestBody struct {
	rc     io.ReadCloser
	copies *copyPool // lends finishUnread its buffer

	// reading is held for each read of rc. A read that ends after the
	// handler has returned can hit EOF while net/http reads the next request
	// on the same connection, and net/http panics (invalid concurrent
	// Body.Read, golang/go#46866); Close waits for it.
	reading sync.Mutex

	mu      sync.Mutex
	capture capture
	eof     bool
	closed  bool  // Close was called: nothing more is read
	err     error // the first read error that was not EOF: the client's fault
}

func (t *Tap) newRequestBody(rc io.ReadCloser) *requestBody {
	return &requestBody{rc: rc, copies: &t.copies, capture: t.newCapture()}
}

// closeWait bounds how long Close waits for a read in flight, so a client
// that stalls mid-upload cannot hold the handler.
const closeWait = 2 * time.Second

func (b *requestBody) Read(p []byte) (int, error) {
	b.reading.Lock()
	defer b.reading.Unlock()
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return 0, http.ErrBodyReadAfterClose
	}
	return b.read(p)
}

func (b *requestBody) read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.mu.Lock()
	b.capture.write(p[:n])
	switch {
	case err == io.EOF:
		b.eof = true
	case err != nil && b.err == nil:
		b.err = err
	}
	b.mu.Unlock()
	return n, err
}

// Close ends reading, once a read in flight (from the Transport's
// goroutine) has returned. The server closes the client's body itself after
// the handler returns. The proxy closes the body before the handler returns.
func (b *requestBody) Close() error {
	markClosed := func() {
		b.mu.Lock()
		b.closed = true
		b.mu.Unlock()
	}
	if b.reading.TryLock() { // no read in flight: the usual case
		markClosed()
		b.reading.Unlock()
		return nil
	}
	done := make(chan struct{})
	go func() {
		b.reading.Lock()
		markClosed()
		b.reading.Unlock()
		close(done)
	}()
	wait := time.NewTimer(closeWait)
	defer wait.Stop()
	select {
	case <-done:
	case <-wait.C:
		markClosed()
	}
	return nil
}

// readWhole reads the body, of n bytes, through the capture and returns
// it as an in-memory body for the Transport. It is a copy of its own: the
// capture's buffer goes back to a pool when the exchange ends, which may be
// before the Transport has sent it all. If the client's body fails, what
// came is followed by that failure, as if the Transport had read it.
func (b *requestBody) readWhole(n int64) io.ReadCloser {
	buf := make([]byte, n)
	m, err := io.ReadFull(b, buf)
	if err == nil {
		var probe [1]byte
		_, err = b.Read(probe[:]) // the end, so that the body is known to have ended
		if err == io.EOF {
			return io.NopCloser(bytes.NewReader(buf))
		}
		if err == nil {
			err = errors.New("request body longer than its Content-Length") // net/http never lets this happen
		}
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return io.NopCloser(io.MultiReader(bytes.NewReader(buf[:m]), errReader{err}))
}

// errReader fails every read with err.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// readErr is the error reading the client's body failed with, if any.
func (b *requestBody) readErr() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// detach takes the capture away from the body: later reads, from a
// Transport goroutine that outlives the exchange, pass through uncaptured.
func (b *requestBody) detach() capture {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.capture.detach()
}

// untouched reports whether nothing has been read yet.
func (b *requestBody) untouched() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.capture.n == 0 && !b.eof
}

// drain reads what the upstream never took, so a record of a failed
// exchange still shows the request. It runs in the handler, while the
// client's body is still ours, past the Transport's Close. At most limit
// bytes are read.
func (b *requestBody) drain(limit int64) {
	b.reading.Lock()
	defer b.reading.Unlock()
	_, _ = io.Copy(io.Discard, io.LimitReader(readerFunc(b.read), limit))
}

// finishUnread reads what the Transport left of the client's body, at most
// limit bytes, into the capture, and reports whether the body then ended.
//
// With full duplex on (tap.go), net/http panics when a handler returns with
// the body unread and its own post-handler discard then reaches the end
// (invalid concurrent Body.Read: it starts a background read while it reads
// the next request). Reading to the end inside the handler avoids that.
func (b *requestBody) finishUnread(limit int64) (ended bool) {
	b.reading.Lock()
	defer b.reading.Unlock()
	if b.over() {
		return true // the usual case: the Transport read it all
	}
	buf := b.copies.Get()
	defer b.copies.Put(buf)
	for read := int64(0); read < limit && !b.over(); {
		n, err := b.read(buf[:min(int64(len(buf)), limit-read)])
		read += int64(n)
		if n == 0 && err == nil {
			break // a reader that returns nothing must not spin this loop
		}
	}
	return b.over()
}

// over reports whether the body has been read to its end or failed.
func (b *requestBody) over() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.eof || b.err != nil
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// responseBody tees the upstream's response body into a capture, notes when
// each chunk arrived, and keeps the silence timer from firing while bytes
// flow. The proxy reads it from the handler goroutine only.
type responseBody struct {
	rc      io.ReadCloser
	ex      *exchange
	capture capture
	timing  []record.Tick // nil unless the response is streamed
	timed   bool
	readErr error
	// eof: the body was read to its end. Atomic for clientWriter, which a
	// flush timer may call from another goroutine.
	eof atomic.Bool
}

// maxTicks bounds the timing list of one response (16 bytes a tick).
const maxTicks = 1 << 20

func (b *responseBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		at := time.Since(b.ex.start)
		b.ex.heardAt(at)
		if b.timed && len(b.timing) < maxTicks {
			b.timing = append(b.timing, record.Tick{Offset: b.capture.n, At: at})
		}
		b.capture.write(p[:n])
	}
	switch {
	case err == io.EOF:
		b.eof.Store(true)
		b.ex.quiet()
	case err != nil && b.readErr == nil:
		b.readErr = err
	}
	return n, err
}

func (b *responseBody) Close() error { return b.rc.Close() }
