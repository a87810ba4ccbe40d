package proxy

import (
	"io"
	"net/http/httputil"
	"sync"
	"time"

	"github.com/llmtap/llmtap/pkg/record"
)

// copyBuffers pools the 32 KiB buffers the proxy copies response bodies with.
var copyBuffers httputil.BufferPool = &bufferPool{size: 32 << 10}

type bufferPool struct {
	size int
	pool sync.Pool
}

func (p *bufferPool) Get() []byte {
	if b, ok := p.pool.Get().(*[]byte); ok {
		return *b
	}
	return make([]byte, p.size)
}

func (p *bufferPool) Put(b []byte) { p.pool.Put(&b) }

// captureBuffers pools the buffers bodies are captured into. Buffers that
// grew past maxPooledCapture are left to the garbage collector, so the pool
// never pins a large body's memory.
var captureBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

const maxPooledCapture = 1 << 20

// capture keeps the first max bytes of a body and counts all of them.
type capture struct {
	buf       *[]byte
	max       int64
	n         int64
	truncated bool
}

func newCapture(max int64) capture {
	return capture{buf: captureBuffers.Get().(*[]byte), max: max}
}

func (c *capture) write(p []byte) {
	c.n += int64(len(p))
	if c.buf == nil {
		return
	}
	room := c.max - int64(len(*c.buf))
	if int64(len(p)) > room {
		p = p[:room]
		c.truncated = true
	}
	*c.buf = append(*c.buf, p...)
}

// body returns what was kept, for a record that is used before release.
func (c *capture) body() record.Body {
	b := record.Body{WireBytes: c.n, Truncated: c.truncated}
	if c.buf != nil {
		b.Data = *c.buf
	}
	return b
}

// release returns the buffer to the pool; the capture keeps counting but
// stops keeping bytes.
func (c *capture) release() {
	if c.buf == nil {
		return
	}
	if cap(*c.buf) <= maxPooledCapture {
		*c.buf = (*c.buf)[:0]
		captureBuffers.Put(c.buf)
	}
	c.buf = nil
}

// requestBody tees the client's request body into a capture. The Transport
// reads it from its own goroutine, which may outlive the handler, so the
// capture is guarded and detached (released) under the lock when the
// exchange finishes; reads after that still pass through.
type requestBody struct {
	rc io.ReadCloser

	mu      sync.Mutex
	capture capture
	eof     bool
}

func (b *requestBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.mu.Lock()
	b.capture.write(p[:n])
	if err == io.EOF {
		b.eof = true
	}
	b.mu.Unlock()
	return n, err
}

// Close does not close the client's body: the server does that after the
// handler returns, and the record may still need the unread rest (drain).
func (b *requestBody) Close() error { return nil }

// detach takes the capture away from the body: later reads, from a
// Transport goroutine that outlives the exchange, pass through uncaptured.
func (b *requestBody) detach() capture {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.capture
	b.capture.buf = nil
	return c
}

// untouched reports whether nothing has been read yet.
func (b *requestBody) untouched() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.capture.n == 0 && !b.eof
}

// drain reads what the upstream never took, so a record of a failed
// exchange still shows the request. At most limit bytes are read.
func (b *requestBody) drain(limit int64) {
	_, _ = io.Copy(io.Discard, io.LimitReader(b, limit))
}

// responseBody tees the upstream's response body into a capture, notes when
// each chunk arrived, and keeps the silence timer from firing while bytes
// flow. The proxy reads it from the handler goroutine only.
type responseBody struct {
	rc      io.ReadCloser
	ex      *exchange
	capture capture
	timing  []record.Tick // nil unless the response is streamed
	timed   bool
	eof     bool
	readErr error
}

// maxTicks bounds the timing list of one response (16 bytes a tick).
const maxTicks = 1 << 20

func (b *responseBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.ex.touch()
		if b.timed && len(b.timing) < maxTicks {
			b.timing = append(b.timing, record.Tick{Offset: b.capture.n, At: time.Since(b.ex.start)})
		}
		b.capture.write(p[:n])
	}
	switch {
	case err == io.EOF:
		b.eof = true
		b.ex.quiet()
	case err != nil && b.readErr == nil:
		b.readErr = err
	}
	return n, err
}

func (b *responseBody) Close() error { return b.rc.Close() }
