package proxy

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
)

// readAheadSize is the most one read ahead takes from the socket. It is
// also what a stream whose client reads slowly can hold in the process on
// top of its other buffers, while before it stayed in the kernel: 16 KiB
// takes most bursts in one read (32 KiB measured no cheaper).
const readAheadSize = 16 << 10

// maxReadAheads bounds the read-ahead buffers lent at once by one
// transport, and so the memory they can hold: under a burst of a thousand
// streams the process falls behind, every socket holds more than a buffer,
// and each connection would keep one until read out. Past the bound a
// connection reads as it did without.
const maxReadAheads = 64

// dialFunc is the shape of net.Dialer.DialContext.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// readAheadConn is an upstream connection whose reads cost one system call
// per burst rather than one per buffer of the reader above it.
//
// The Transport reads a connection through a small buffer (ReadBufferSize),
// kept small because every connection holds it for as long as it lives, a
// slow stream's too. A burst of events larger than that buffer, which is
// what a busy upstream sends, took one read(2) per buffer-full. Here, when
// a read fills the caller's buffer, a second read takes whatever else the
// socket holds at that moment, without waiting, into a buffer lent from a
// pool and given back as soon as it has been read out. A connection that
// waits for its next chunk holds no such buffer, and a chunk that fits the
// caller's buffer costs no more system calls than before.
type readAheadConn struct {
	net.Conn
	raw     syscall.RawConn
	pool    *sync.Pool
	lent    *atomic.Int64         // buffers of pool lent out, at most maxReadAheads
	readRaw func(fd uintptr) bool // readNow, bound once

	// mu guards the fields below against Close, which the Transport may
	// call from another goroutine while a read is in progress.
	mu     sync.Mutex
	buf    *[]byte // lent while it holds unread bytes, else nil
	r, w   int     // the unread bytes are (*buf)[r:w]
	err    error   // a read error met ahead, returned once buf is read out
	closed bool

	// The result of readNow.
	n     int
	errno error
}

// Read returns bytes read ahead, if any, else reads the socket.
func (c *readAheadConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if c.buf != nil {
		n := copy(p, (*c.buf)[c.r:c.w])
		c.r += n
		if c.r == c.w {
			c.giveBack()
		}
		c.mu.Unlock()
		return n, nil
	}
	err := c.err
	c.err = nil
	c.mu.Unlock()
	if err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	if err == nil && n == len(p) && n < readAheadSize {
		c.mu.Lock()
		if !c.closed {
			c.fill()
		}
		c.mu.Unlock()
	}
	return n, err
}

// Close closes the connection and gives back a buffer it holds.
func (c *readAheadConn) Close() error {
	c.mu.Lock()
	c.closed = true
	if c.buf != nil {
		c.giveBack()
	}
	c.mu.Unlock()
	return c.Conn.Close()
}

// fill reads what the socket holds now, without waiting for more.
func (c *readAheadConn) fill() {
	if c.lent.Add(1) > maxReadAheads {
		c.lent.Add(-1)
		return
	}
	c.buf = c.pool.Get().(*[]byte) // readNow reads into it
	if err := c.raw.Read(c.readRaw); err != nil {
		c.n, c.errno = 0, nil // closed, or past a deadline: the next Read says so
	}
	switch n, errno := c.n, c.errno; {
	case n > 0:
		c.r, c.w = 0, n
		return
	case errno != nil && !errors.Is(errno, syscall.EAGAIN):
		// As net.Conn's Read reports it, in its turn.
		c.err = &net.OpError{Op: "read", Net: c.LocalAddr().Network(), Source: c.LocalAddr(), Addr: c.RemoteAddr(),
			Err: os.NewSyscallError("read", errno)}
	}
	// Nothing waiting, or the end of the stream, which a socket reports
	// again on the next read.
	c.giveBack()
}

// giveBack returns the read-ahead buffer to the pool.
func (c *readAheadConn) giveBack() {
	c.pool.Put(c.buf)
	c.buf = nil
	c.lent.Add(-1)
}
