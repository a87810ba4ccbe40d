package proxy

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingListener counts the writes made to the connections it accepts,
// and keeps what was written, write by write.
type countingListener struct {
	net.Listener
	writes  atomic.Int64
	mu      sync.Mutex
	written bytes.Buffer
	apart   []string // each write
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, writes: &l.writes, l: l}, nil
}

// each returns the writes made so far, one string each.
func (l *countingListener) each() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.apart)
}

// sent reports whether s has been written to a client.
func (l *countingListener) sent(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Contains(l.written.Bytes(), []byte(s))
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
	l      *countingListener // nil: count only
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	if c.l != nil {
		c.l.mu.Lock()
		c.l.written.Write(p)
		c.l.apart = append(c.l.apart, string(p))
		c.l.mu.Unlock()
	}
	return c.Conn.Write(p)
}

// flushWait bounds the waits below; it is a deadline for a test gone wrong,
// never a measure.
const flushWait = 5 * time.Second

// TestResponseWrites: a small answer of known length reaches the client in
// one write, head and body together (a write each for the head and the body
// would cost a syscall and a wake-up per request); a stream is written chunk
// by chunk.
//
// The tap flushes a known-length body at least every bodyFlushInterval; a
// loaded machine could let that timer fire between the head and the body,
// so the JSON case sets the interval out of reach: the one write left is the
// one at the end of the answer. The stream's upstream sends each event only
// once the previous one has reached the client, so no two can share a write
// by chance.
func TestResponseWrites(t *testing.T) {
	answer := `{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"` +
		strings.Repeat("hello ", 150) + `"}}]}`
	for _, tc := range []struct {
		name       string
		upstream   func(l *countingListener) http.HandlerFunc
		wantWrites func(int64) bool
		want       string
	}{
		{"json with Content-Length", func(*countingListener) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
				_, _ = io.WriteString(w, answer)
			}
		}, func(n int64) bool { return n == 1 }, "1"},
		{"event stream", func(l *countingListener) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				for i := range 3 {
					event := "data: " + strconv.Itoa(i) + "\n\n"
					_, _ = io.WriteString(w, event)
					w.(http.Flusher).Flush()
					for deadline := time.Now().Add(flushWait); !l.sent(event); time.Sleep(time.Millisecond) {
						if time.Now().After(deadline) {
							t.Errorf("event %d did not reach the client", i)
							return
						}
					}
				}
			}
		}, func(n int64) bool { return n >= 3 }, ">= 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			counted := &countingListener{Listener: ln}
			up := httptest.NewServer(tc.upstream(counted))
			defer up.Close()
			tap, err := New(Config{Upstream: up.URL, Sink: &collect{}})
			if err != nil {
				t.Fatal(err)
			}
			tap.rp.FlushInterval = time.Hour // see above; streams flush on every write regardless
			front := httptest.NewUnstartedServer(tap)
			front.Listener = counted
			front.Start()
			defer front.Close()

			res := do(t, "POST", front.URL+"/v1/chat/completions", []byte(`{}`), nil)
			if res.err != nil || res.status != 200 {
				t.Fatalf("client got %d, %v", res.status, res.err)
			}
			if n := counted.writes.Load(); !tc.wantWrites(n) {
				t.Errorf("the response took %d writes, want %s", n, tc.want)
			}
		})
	}
}

// TestKnownLengthBodyStillMoves: the bytes of a body of known length that
// trickles in reach the client while the rest is still to come, not at its
// end: the upstream sends the rest only once the client has the first part.
func TestKnownLengthBodyStillMoves(t *testing.T) {
	clientGot := make(chan struct{})
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10")
		_, _ = io.WriteString(w, "first")
		w.(http.Flusher).Flush()
		select {
		case <-clientGot:
		case <-time.After(flushWait):
			t.Error("the first part did not reach the client while the upstream waited")
		}
		_, _ = io.WriteString(w, "-last")
	}))
	res, err := rawClient.Get(h.front.URL + "/v1/files/x/content")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	buf := make([]byte, 5)
	if _, err := io.ReadFull(res.Body, buf); err != nil {
		t.Fatal(err)
	}
	close(clientGot)
	if !bytes.Equal(buf, []byte("first")) {
		t.Errorf("got %q, want \"first\"", buf)
	}
	if rest, err := io.ReadAll(res.Body); err != nil || string(rest) != "-last" {
		t.Errorf("then got %q, %v; want \"-last\"", rest, err)
	}
}

// TestRequestWrites: a small request body of known length goes to the
// upstream in the same write as the request's head; a large one is still
// streamed. Either way the upstream gets it whole.
func TestRequestWrites(t *testing.T) {
	for _, tc := range []struct {
		name       string
		body       string
		wantWrites func(int64) bool
		want       string
	}{
		{"small body", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, func(n int64) bool { return n == 1 }, "1"},
		{"over wholeBodyLimit", strings.Repeat("x", wholeBodyLimit+1), func(n int64) bool { return n > 1 }, "> 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got atomic.Value
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				got.Store(string(b))
			}))
			defer up.Close()
			var writes atomic.Int64
			transport := NewTransport(time.Second)
			dial := transport.DialContext
			transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := dial(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return &countingConn{Conn: c, writes: &writes}, nil
			}
			h := newHarness(t, http.NotFoundHandler(), func(c *Config) {
				c.Upstream = up.URL
				c.Transport = transport
			})
			res := do(t, "POST", h.front.URL+"/v1/chat/completions", []byte(tc.body), nil)
			if res.err != nil || res.status != 200 {
				t.Fatalf("client got %d, %v", res.status, res.err)
			}
			if g, _ := got.Load().(string); g != tc.body {
				t.Errorf("the upstream got %d bytes, want %d", len(g), len(tc.body))
			}
			if n := writes.Load(); !tc.wantWrites(n) {
				t.Errorf("the request took %d writes, want %s", n, tc.want)
			}
			if r := h.sink.wait(t, 1)[0]; r.Request.BodyBytes != int64(len(tc.body)) {
				t.Errorf("record has %d request bytes, want %d", r.Request.BodyBytes, len(tc.body))
			}
		})
	}
}
