//go:build unix

package proxy

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
)

// readAhead wraps dial so that each connection reads ahead (readAheadConn),
// with buffers from one pool per transport.
func readAhead(dial dialFunc) dialFunc {
	pool := &sync.Pool{New: func() any { b := make([]byte, readAheadSize); return &b }}
	lent := new(atomic.Int64)
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		sc, ok := c.(syscall.Conn)
		if !ok {
			return c, nil
		}
		raw, err := sc.SyscallConn()
		if err != nil {
			return c, nil
		}
		rc := &readAheadConn{Conn: c, raw: raw, pool: pool, lent: lent}
		rc.readRaw = rc.readNow
		return rc, nil
	}
}

// readNow is the system call of fill; returning true, it never waits.
func (c *readAheadConn) readNow(fd uintptr) bool {
	for {
		n, err := syscall.Read(int(fd), *c.buf)
		if err == syscall.EINTR {
			continue
		}
		c.n, c.errno = max(n, 0), err
		return true
	}
}
