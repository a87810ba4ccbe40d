//go:build linux

package proxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// readAheadPair returns the two ends of a loopback TCP connection, the
// client end dialled through readAhead.
func readAheadPair(t *testing.T) (*readAheadConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := readAhead((&net.Dialer{}).DialContext)(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peer := <-accepted
	if peer == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { c.Close(); peer.Close() })
	rc, ok := c.(*readAheadConn)
	if !ok {
		t.Fatalf("dialled a %T, want a *readAheadConn", c)
	}
	return rc, peer.(*net.TCPConn)
}

// waitBuffered blocks until the kernel holds at least n unread bytes for c,
// so that a burst is there as a whole when the test reads it.
func waitBuffered(t *testing.T, c *readAheadConn, n int) {
	t.Helper()
	for {
		var avail int32
		_ = c.raw.Control(func(fd uintptr) {
			_, _, _ = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&avail)))
		})
		if int(avail) >= n {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// waitClosed blocks until c's socket has seen its peer's reset.
func waitClosed(t *testing.T, c *readAheadConn) {
	t.Helper()
	const tcpClose = 7 // TCP_CLOSE, the first byte of struct tcp_info
	for {
		var state int
		_ = c.raw.Control(func(fd uintptr) {
			state, _ = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_INFO)
		})
		if state&0xff == tcpClose {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// TestReadAheadBurst: a burst bigger than the caller's buffer is taken from
// the socket at once and handed out in order; once read out, the
// connection holds no buffer, also while it waits for more.
func TestReadAheadBurst(t *testing.T) {
	c, peer := readAheadPair(t)
	burst := bytes.Repeat([]byte("data: {\"t\":\"x\"}\n\n"), 1000) // 17 KB
	if _, err := peer.Write(burst); err != nil {
		t.Fatal(err)
	}
	waitBuffered(t, c, len(burst))

	p := make([]byte, 1024) // the Transport's read buffer
	var got []byte
	n, err := c.Read(p)
	got = append(got, p[:n]...)
	if err != nil || n != len(p) {
		t.Fatalf("first read: %d, %v", n, err)
	}
	if c.buf == nil || c.w-c.r != len(burst)-n {
		t.Fatalf("after the first read, %d bytes read ahead, want %d", c.w-c.r, len(burst)-n)
	}
	for len(got) < len(burst) {
		n, err := c.Read(p)
		got = append(got, p[:n]...)
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, burst) {
		t.Fatal("bytes differ from those sent")
	}
	if c.buf != nil || c.lent.Load() != 0 {
		t.Errorf("once read out, the read-ahead buffer is still held (%v) or counted as lent (%d)", c.buf != nil, c.lent.Load())
	}

	// A chunk that fits the caller's buffer is read as before.
	done := make(chan error, 1)
	go func() {
		n, err := c.Read(p)
		if err == nil && string(p[:n]) != "data: 1\n\n" {
			err = errors.New("read " + string(p[:n]))
		}
		done <- err
	}()
	if _, err := peer.Write([]byte("data: 1\n\n")); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if c.buf != nil {
		t.Error("a buffer is held after a small read")
	}
}

// TestReadAheadEnd: the end of the stream and a reset are reported after
// the bytes that came before them, as a plain connection reports them, also
// when it is the read ahead that meets them (a burst of exactly one buffer).
func TestReadAheadEnd(t *testing.T) {
	for _, tc := range []struct {
		name  string
		size  int
		reset bool
	}{
		{"eof", 4096, false}, {"eof after one buffer", 1024, false},
		{"reset", 4096, true}, {"reset after one buffer", 1024, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, peer := readAheadPair(t)
			burst := bytes.Repeat([]byte("0123456789abcdef"), tc.size/16)
			if _, err := peer.Write(burst); err != nil {
				t.Fatal(err)
			}
			waitBuffered(t, c, len(burst))
			if tc.reset {
				_ = peer.SetLinger(0) // close sends a reset
			}
			_ = peer.Close()
			if tc.reset {
				waitClosed(t, c)
			}

			p := make([]byte, 1024)
			var got []byte
			var err error
			for err == nil {
				var n int
				n, err = c.Read(p)
				got = append(got, p[:n]...)
			}
			if tc.reset {
				// A reset may discard what was unread; what came must be
				// a prefix, and the error the one net.Conn gives.
				var op *net.OpError
				if !errors.As(err, &op) || op.Op != "read" || !errors.Is(err, syscall.ECONNRESET) {
					t.Errorf("error %#v, want a read OpError with ECONNRESET", err)
				}
				if !bytes.HasPrefix(burst, got) {
					t.Error("bytes differ from those sent")
				}
				return
			}
			if err != io.EOF {
				t.Errorf("error %v, want EOF", err)
			}
			if !bytes.Equal(got, burst) {
				t.Errorf("got %d bytes, want the %d sent", len(got), len(burst))
			}
		})
	}
}

// TestReadAheadLent: a connection closed while it holds a read-ahead
// buffer gives it back; past maxReadAheads buffers lent, a full read reads
// no further.
func TestReadAheadLent(t *testing.T) {
	burst := bytes.Repeat([]byte("x"), 4096)
	p := make([]byte, 1024)

	c, peer := readAheadPair(t)
	if _, err := peer.Write(burst); err != nil {
		t.Fatal(err)
	}
	waitBuffered(t, c, len(burst))
	if n, err := c.Read(p); n != len(p) || err != nil {
		t.Fatalf("read %d, %v", n, err)
	}
	if c.lent.Load() != 1 {
		t.Fatalf("%d buffers lent after a full read, want 1", c.lent.Load())
	}
	_ = c.Close()
	if c.lent.Load() != 0 || c.buf != nil {
		t.Errorf("after Close, %d buffers lent, buffer held: %v", c.lent.Load(), c.buf != nil)
	}

	c, peer = readAheadPair(t)
	c.lent.Store(maxReadAheads) // as if every buffer were out
	if _, err := peer.Write(burst); err != nil {
		t.Fatal(err)
	}
	waitBuffered(t, c, len(burst))
	if n, err := c.Read(p); n != len(p) || err != nil {
		t.Fatalf("read %d, %v", n, err)
	}
	if c.buf != nil || c.lent.Load() != maxReadAheads {
		t.Errorf("read ahead past the bound: buffer held %v, %d lent", c.buf != nil, c.lent.Load())
	}
}
