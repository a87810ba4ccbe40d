package proxy

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Real upstreams are https and negotiate HTTP/2, which the default
// transport attempts (ForceAttemptHTTP2). These tests run the proxy's main
// paths against a TLS upstream that speaks HTTP/2, and check that it did.

// h2Wait bounds every wait in these tests. It is a deadline for a test that
// has gone wrong, never a measure: each step waits for an event.
const h2Wait = 5 * time.Second

// tlsTransport returns the default transport, trusting the certificate of
// up (an httptest TLS server) as well.
func tlsTransport(t *testing.T, up *httptest.Server) *http.Transport {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(up.Certificate())
	tr := NewTransport(h2Wait)
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// newH2Harness is newHarness with a TLS upstream that speaks HTTP/2; the
// test fails if a request reaches it over anything else.
func newH2Harness(t *testing.T, upstream http.Handler, configure ...func(*Config)) *harness {
	t.Helper()
	var requests atomic.Int64
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.ProtoMajor != 2 || r.TLS == nil {
			t.Errorf("the upstream got %s (TLS: %v), want HTTP/2 over TLS", r.Proto, r.TLS != nil)
		}
		upstream.ServeHTTP(w, r)
	}))
	up.EnableHTTP2 = true
	up.StartTLS()
	t.Cleanup(up.Close)
	t.Cleanup(func() {
		if requests.Load() == 0 {
			t.Error("no request reached the upstream")
		}
	})
	tr := tlsTransport(t, up)
	return newHarnessOn(t, up, append([]func(*Config){func(c *Config) { c.Transport = tr }}, configure...)...)
}

// TestH2StreamEventsAsTheyArrive: each event reaches the client before the
// upstream sends the next one (the upstream waits for the client to have
// it), and the record keeps the stream whole, with a tick per event.
func TestH2StreamEventsAsTheyArrive(t *testing.T) {
	const n = 4
	got := make(chan int)
	h := newH2Harness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range n {
			fmt.Fprintf(w, "data: {\"i\":%d}\n\n", i)
			w.(http.Flusher).Flush()
			select {
			case j := <-got:
				if j != i {
					t.Errorf("client got event %d, want %d", j, i)
				}
			case <-time.After(h2Wait):
				t.Errorf("event %d did not reach the client while the upstream waited", i)
				return
			}
		}
	}))
	res, err := rawClient.Post(h.front.URL+"/v1/chat/completions", "application/json", strings.NewReader(`{"stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var all bytes.Buffer
	buf := make([]byte, 4096)
	for i := 0; i < n; {
		m, err := res.Body.Read(buf)
		all.Write(buf[:m])
		for ; i < n && bytes.Count(all.Bytes(), []byte("\n\n")) > i; i++ {
			got <- i
		}
		if err != nil && i < n {
			t.Fatalf("after %d events: %v", i, err)
		}
	}
	if _, err := io.Copy(&all, res.Body); err != nil {
		t.Fatal(err)
	}
	r := h.sink.wait(t, 1)[0]
	if r.Error != nil || !bytes.Equal(r.Response.bytes(t), all.Bytes()) {
		t.Errorf("record (client got %q): %s", all.Bytes(), r.raw)
	}
	if len(r.Response.Timing) != n {
		t.Errorf("timing has %d ticks, want %d: %v", len(r.Response.Timing), n, r.Response.Timing)
	}
}

// TestH2ClientCancelResetsUpstream: a client that leaves mid-stream gets
// the upstream's HTTP/2 stream reset (its request context ends), and the
// record says client_cancelled with what arrived.
func TestH2ClientCancelResetsUpstream(t *testing.T) {
	upstreamDone := make(chan struct{})
	h := newH2Harness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(upstreamDone)
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: 0\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(h2Wait):
			t.Error("the upstream stream was not reset after the client left")
		}
	}))
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", h.front.URL+"/v1/chat/completions", strings.NewReader(`{"stream":true}`))
	res, err := rawClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAtLeast(res.Body, make([]byte, 9), 9); err != nil {
		t.Fatal(err)
	}
	cancel()
	_ = res.Body.Close()
	<-upstreamDone
	r := h.sink.wait(t, 1)[0]
	if r.errKind() != "client_cancelled" || string(r.Response.bytes(t)) != "data: 0\n\n" {
		t.Errorf("record: %s", r.raw)
	}
}

// TestH2GzipPassedThroughUntouched: over HTTP/2 too, the client gets the
// gzip bytes, the tap asks for no encoding the client did not, and the
// record holds the decoded body.
func TestH2GzipPassedThroughUntouched(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = io.WriteString(zw, chatJSON)
	_ = zw.Close()
	var sawAcceptEncoding atomic.Value
	h := newH2Harness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawAcceptEncoding.Store(r.Header.Get("Accept-Encoding"))
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(gz.Bytes())
	}))
	via := do(t, "POST", h.front.URL+"/v1/chat/completions", []byte(chatRequest), nil)
	if via.err != nil || !bytes.Equal(via.body, gz.Bytes()) || via.header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("client did not get the gzip bytes (err %v)", via.err)
	}
	if got := sawAcceptEncoding.Load(); got != "" {
		t.Errorf("the tap added Accept-Encoding %q that the client did not send", got)
	}
	r := h.sink.wait(t, 1)[0]
	res := r.Response
	if r.Error != nil || res.ContentEncoding != "gzip" || res.BodyEncoding != "json" || string(res.Body) != chatJSON || res.BodyBytes != int64(gz.Len()) {
		t.Errorf("record: %s", r.raw)
	}
}

// TestH2UpstreamResetsMidBody: an upstream that resets its HTTP/2 stream
// mid-body cuts the client's response too (no clean end), and the record
// says upstream_aborted with what arrived.
func TestH2UpstreamResetsMidBody(t *testing.T) {
	h := newH2Harness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, c := range sseToolStream[:2] {
			_, _ = io.WriteString(w, c)
		}
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // the server resets the stream (RST_STREAM)
	}))
	via := do(t, "POST", h.front.URL+"/v1/chat/completions", []byte(`{"stream":true}`), nil)
	want := strings.Join(sseToolStream[:2], "")
	if via.err == nil {
		t.Errorf("client saw a clean end of a reset stream: %q", via.body)
	}
	if string(via.body) != want {
		t.Errorf("client got %q, want %q", via.body, want)
	}
	r := h.sink.wait(t, 1)[0]
	if r.errKind() != "upstream_aborted" || string(r.Response.bytes(t)) != want {
		t.Errorf("record: %s", r.raw)
	}
}

// TestH2TrailersReachClient: trailers an upstream sends after the body (an
// HTTP/2 HEADERS frame) reach an HTTP/1.1 client as chunked trailers, and
// the exchange is recorded complete.
func TestH2TrailersReachClient(t *testing.T) {
	h := newH2Harness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Usage")
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, chatJSON)
		w.(http.Flusher).Flush()
		w.Header().Set("X-Usage", "5")
		w.Header().Set(http.TrailerPrefix+"X-Undeclared", "yes")
	}))
	res, err := rawClient.Post(h.front.URL+"/v1/chat/completions", "application/json", strings.NewReader(chatRequest))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if err != nil || string(body) != chatJSON {
		t.Fatalf("client got %q, %v", body, err)
	}
	if got := res.Trailer.Get("X-Usage"); got != "5" {
		t.Errorf("trailer X-Usage %q, want 5 (trailers %v)", got, res.Trailer)
	}
	if got := res.Trailer.Get("X-Undeclared"); got != "yes" {
		t.Errorf("trailer X-Undeclared %q, want yes (trailers %v)", got, res.Trailer)
	}
	r := h.sink.wait(t, 1)[0]
	if r.Error != nil || string(r.Response.Body) != chatJSON {
		t.Errorf("record: %s", r.raw)
	}
}
