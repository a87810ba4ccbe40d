package proxy

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingListener counts the writes made to the connections it accepts.
type countingListener struct {
	net.Listener
	writes atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, writes: &l.writes}, nil
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// TestResponseWrites: a small answer of known length reaches the client in
// one write, head and body together (a write each for the head and the body
// would cost a syscall and a wake-up per request); a stream is written chunk
// by chunk.
func TestResponseWrites(t *testing.T) {
	answer := `{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"` +
		strings.Repeat("hello ", 150) + `"}}]}`
	for _, tc := range []struct {
		name       string
		upstream   http.HandlerFunc
		wantWrites func(int64) bool
		want       string
	}{
		{"json with Content-Length", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
			_, _ = io.WriteString(w, answer)
		}, func(n int64) bool { return n == 1 }, "1"},
		{"event stream", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			for i := range 3 {
				_, _ = io.WriteString(w, "data: "+strconv.Itoa(i)+"\n\n")
				w.(http.Flusher).Flush()
				time.Sleep(10 * time.Millisecond)
			}
		}, func(n int64) bool { return n >= 3 }, ">= 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := httptest.NewServer(tc.upstream)
			defer up.Close()
			tap, err := New(Config{Upstream: up.URL, Sink: &collect{}})
			if err != nil {
				t.Fatal(err)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			counted := &countingListener{Listener: ln}
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
// trickles in reach the client soon after they arrive, not at its end.
func TestKnownLengthBodyStillMoves(t *testing.T) {
	var sent atomic.Int64 // UnixNano when the first half was sent
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10")
		_, _ = io.WriteString(w, "first")
		w.(http.Flusher).Flush()
		sent.Store(time.Now().UnixNano())
		time.Sleep(300 * time.Millisecond)
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
	lag := time.Since(time.Unix(0, sent.Load()))
	if !bytes.Equal(buf, []byte("first")) || lag > 150*time.Millisecond {
		t.Errorf("got %q %v after it was sent; want \"first\" well before the rest (300ms)", buf, lag)
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
