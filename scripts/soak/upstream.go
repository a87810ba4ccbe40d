package main

import (
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/llmtap/llmtap/internal/fakeupstream"
)

// sentAnswer is what the upstream wrote for one request: the status and
// every body byte handed to net/http, in order.
type sentAnswer struct {
	status int
	body   []byte
	// finished is true when the handler returned normally, so the whole
	// answer was written; false when it cut the connection on purpose
	// (X-Fake-Abort-After panics with http.ErrAbortHandler).
	finished bool
}

// upstream is the fake upstream (internal/fakeupstream) on a fixed loopback port,
// with a hook that keeps what it sent for each soak id, and a kill switch:
// kill closes the listener and every connection, restart listens on the same
// port again.
type upstream struct {
	fake http.Handler
	addr string

	mu   sync.Mutex
	srv  *http.Server
	sent map[string][]*sentAnswer // by X-Soak-Id; more than one if a request reached it twice
}

func startUpstream() (*upstream, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	u := &upstream{
		fake: fakeupstream.New(fakeupstream.Options{}),
		addr: ln.Addr().String(),
		sent: map[string][]*sentAnswer{},
	}
	u.serve(ln)
	return u, nil
}

func (u *upstream) serve(ln net.Listener) {
	srv := &http.Server{
		Handler:           http.HandlerFunc(u.handle),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // cut connections are the point
	}
	u.mu.Lock()
	u.srv = srv
	u.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// kill closes the listener and every connection at once, as a crashed
// upstream would.
func (u *upstream) kill() {
	u.mu.Lock()
	srv := u.srv
	u.srv = nil
	u.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// restart listens on the same address again.
func (u *upstream) restart() error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		ln, err := net.Listen("tcp", u.addr)
		if err == nil {
			u.serve(ln)
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// answers returns what was sent for id.
func (u *upstream) answers(id string) []*sentAnswer {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.sent[id]
}

func (u *upstream) handle(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get("X-Soak-Id")
	cw := &captureWriter{ResponseWriter: w}
	a := &sentAnswer{}
	// Deferred, so that an answer cut with panic(http.ErrAbortHandler) is
	// kept too; the panic goes on to net/http.
	defer func() {
		a.status, a.body = cw.status, cw.buf
		if a.status == 0 && a.finished {
			a.status = http.StatusOK
		}
		u.mu.Lock()
		u.sent[id] = append(u.sent[id], a)
		u.mu.Unlock()
	}()
	u.fake.ServeHTTP(cw, r)
	a.finished = true
}

// captureWriter keeps a copy of the status and body written through it.
// Unwrap lets http.ResponseController reach the real flusher.
type captureWriter struct {
	http.ResponseWriter
	status int
	buf    []byte
}

func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *captureWriter) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	n, err := c.ResponseWriter.Write(p)
	c.buf = append(c.buf, p[:n]...)
	return n, err
}

func (c *captureWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
