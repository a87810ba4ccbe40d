package proxy

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmtap/llmtap/pkg/record"
)

// sentRequest is what the upstream received: everything of a request that
// the tap decides.
type sentRequest struct {
	Method, RequestURI, Host string
	Header                   http.Header
	ContentLength            int64
	TransferEncoding         []string
	Body                     string
}

// readMeter counts the bytes the tap has read of the answers' bodies, so
// that an upstream can send its next chunk only once the last one has been
// read: each read then takes exactly one chunk, on both paths, and the
// records' chunk offsets are the same.
type readMeter struct {
	mu      sync.Mutex
	n       int64
	changed chan struct{} // closed and replaced on every read
}

func newReadMeter() *readMeter { return &readMeter{changed: make(chan struct{})} }

func (m *readMeter) add(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.n += int64(n)
	close(m.changed)
	m.changed = make(chan struct{})
}

// waitFor returns once n bytes in all have been read, or done is closed.
func (m *readMeter) waitFor(n int64, done <-chan struct{}) {
	for {
		m.mu.Lock()
		got, ch := m.n, m.changed
		m.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-ch:
		case <-done:
			return
		}
	}
}

func (m *readMeter) reset() {
	m.mu.Lock()
	m.n = 0
	m.mu.Unlock()
}

// meteredBody counts what is read of a response body.
type meteredBody struct {
	io.ReadCloser
	m *readMeter
}

func (b meteredBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.m.add(n)
	}
	return n, err
}

// equivalenceCase is one exchange, sent once through ServeHTTP and once
// through Forward.
type equivalenceCase struct {
	name string
	// upstream answers; m counts what the tap has read of its answers.
	upstream func(w http.ResponseWriter, r *http.Request, m *readMeter)
	// base is the upstream base URL; "" is the test upstream's /v1, and
	// it is formatted with the test upstream's host:port.
	base      string
	configure func(*Config)
	// request makes the request (its body read once).
	request func() *http.Request
	// cut, when set, runs beside the exchange with a function that cancels
	// the request's context with a cause.
	cut func(ctx context.Context, m *readMeter, cancel context.CancelCauseFunc)
	// wantKind is the record's error kind, to be sure the case tests what
	// it says.
	wantKind string
}

// TestForwardEquivalentToServeHTTP: for the same exchanges, Forward sends
// the upstream the same request, byte for byte, as ServeHTTP, and writes
// the same record, but for its id and times.
func TestForwardEquivalentToServeHTTP(t *testing.T) {
	sse := []string{"data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n", "data: {\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n\n", "data: [DONE]\n\n"}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(chatJSON))
	_ = zw.Close()
	big := `{"model":"m","messages":[{"role":"user","content":"` + strings.Repeat("x", 100<<10) + `"}]}`

	post := func(path, body string, header ...string) func() *http.Request {
		return func() *http.Request {
			r := httptest.NewRequest("POST", path, strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			for i := 0; i+1 < len(header); i += 2 {
				r.Header.Add(header[i], header[i+1])
			}
			return r
		}
	}
	chat := post("/v1/chat/completions", chatRequest, "Authorization", "Bearer sk-secret-0123456789abcdef")
	answerJSON := func(status int) func(http.ResponseWriter, *http.Request, *readMeter) {
		return func(w http.ResponseWriter, r *http.Request, _ *readMeter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, chatJSON)
		}
	}
	stream := func(chunks []string, thenWait bool) func(http.ResponseWriter, *http.Request, *readMeter) {
		return func(w http.ResponseWriter, r *http.Request, m *readMeter) {
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			sent := int64(0)
			for _, c := range chunks {
				_, _ = io.WriteString(w, c)
				w.(http.Flusher).Flush()
				sent += int64(len(c))
				m.waitFor(sent, r.Context().Done())
			}
			if thenWait {
				<-r.Context().Done()
			}
		}
	}

	cases := []equivalenceCase{
		{name: "plain JSON", upstream: answerJSON(http.StatusOK), request: chat},
		{name: "SSE stream", upstream: stream(sse, false),
			request: post("/chat/completions", `{"model":"m","stream":true}`, "Accept", "text/event-stream")},
		{name: "gzip answer", upstream: func(w http.ResponseWriter, r *http.Request, _ *readMeter) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(gz.Bytes())
		}, request: chat},
		{name: "upstream unreachable", base: "http://127.0.0.1:1/v1", request: chat, wantKind: record.KindUpstreamUnreachable},
		{name: "upstream aborts mid-body", upstream: func(w http.ResponseWriter, r *http.Request, _ *readMeter) {
			_, _ = io.Copy(io.Discard, r.Body)
			conn, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				panic(err)
			}
			_, _ = brw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"partial\":")
			_ = brw.Flush()
			_ = conn.Close()
		}, request: chat, wantKind: record.KindUpstreamAborted},
		{name: "silence timeout mid-stream", upstream: stream(sse[:1], true), request: chat,
			configure: func(c *Config) { c.IdleTimeout = 250 * time.Millisecond }, wantKind: record.KindUpstreamTimeout},
		{name: "silence timeout before headers", upstream: func(w http.ResponseWriter, r *http.Request, _ *readMeter) {
			_, _ = io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
		}, request: chat, configure: func(c *Config) { c.IdleTimeout = 100 * time.Millisecond }, wantKind: record.KindUpstreamTimeout},
		{name: "shutdown cancel mid-stream", upstream: stream(sse[:1], true), request: chat,
			cut: func(ctx context.Context, m *readMeter, cancel context.CancelCauseFunc) {
				m.waitFor(int64(len(sse[0])), ctx.Done())
				cancel(ErrShutdown)
			}, wantKind: record.KindShutdown},
		{name: "404", upstream: answerJSON(http.StatusNotFound), request: chat},
		{name: "503", upstream: answerJSON(http.StatusServiceUnavailable), request: chat},
		{name: "hop-by-hop headers in the answer", upstream: func(w http.ResponseWriter, r *http.Request, _ *readMeter) {
			h := w.Header()
			h.Set("Content-Type", "application/json")
			h.Set("Connection", "X-Hop")
			h.Set("X-Hop", "dropped")
			h.Set("Keep-Alive", "timeout=5")
			h.Set("Proxy-Authenticate", "Basic")
			h.Set("Upgrade", "h2c")
			h.Set("Trailer", "X-Checksum")
			h.Set("X-Kept", "kept")
			_, _ = io.WriteString(w, chatJSON)
			h.Set("X-Checksum", "abc")
		}, request: chat},
		{name: "request with a large body and hop-by-hop, forwarding and trace headers",
			upstream: answerJSON(http.StatusOK),
			base:     "http://user:pa55@%s/v1?api-version=2024",
			request: post("/v1/chat/completions?a=%2F&b", big,
				"Connection", "X-Hop-Req", "X-Hop-Req", "dropped", "Keep-Alive", "300",
				"Te", "trailers, deflate", "Proxy-Authorization", "Basic xyz",
				"X-Forwarded-For", "10.0.0.1", "Forwarded", "for=10.0.0.1", "User-Agent", "my-sdk/1.0")},
		{name: "no body, native path", upstream: answerJSON(http.StatusOK), request: func() *http.Request {
			return httptest.NewRequest("GET", "/api/tags", nil)
		}},
		{name: "body of unknown length", upstream: answerJSON(http.StatusOK), request: func() *http.Request {
			r := httptest.NewRequest("POST", "/v1/embeddings", io.MultiReader(strings.NewReader(`{"input":`), strings.NewReader(`"hi"}`)))
			r.ContentLength = -1
			return r
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var (
				mu   sync.Mutex
				sent []sentRequest
			)
			m := newReadMeter()
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				mu.Lock()
				sent = append(sent, sentRequest{r.Method, r.RequestURI, r.Host, r.Header.Clone(), r.ContentLength, r.TransferEncoding, string(body)})
				mu.Unlock()
				tc.upstream(w, r, m)
			}))
			defer up.Close()
			base := up.URL + "/v1"
			if tc.base != "" {
				base = tc.base
				if strings.Contains(base, "%s") {
					base = fmt.Sprintf(base, up.Listener.Addr())
				}
			}
			sink := &collect{}
			inner := NewTransport(time.Second)
			defer inner.CloseIdleConnections()
			cfg := Config{Upstream: base, Sink: sink, ErrorLog: log.New(io.Discard, "", 0),
				Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
					res, err := inner.RoundTrip(r)
					if err == nil {
						res.Body = meteredBody{res.Body, m}
					}
					return res, err
				}),
				Annotate: func(in *http.Request, rec *record.Record) {
					rec.Replay = &record.Replay{Of: in.Header.Get("Content-Type"), Scheduled: rec.Start}
				},
			}
			if tc.configure != nil {
				tc.configure(&cfg)
			}
			tap, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}

			run := func(send func(*http.Request)) {
				m.reset()
				ctx, cancel := context.WithCancelCause(context.Background())
				defer cancel(nil)
				r := tc.request().WithContext(ctx)
				if tc.cut != nil {
					go tc.cut(ctx, m, cancel)
				}
				send(r)
				tap.Wait()
			}
			run(func(r *http.Request) { tap.ServeHTTP(httptest.NewRecorder(), r) })
			run(tap.Forward)

			recs := sink.wait(t, 2)
			served, forwarded := normalised(t, recs[0].raw), normalised(t, recs[1].raw)
			if served != forwarded {
				t.Errorf("records differ:\nServeHTTP: %s\nForward:   %s", served, forwarded)
			}
			if recs[1].errKind() != tc.wantKind {
				t.Errorf("error kind %q, want %q: %s", recs[1].errKind(), tc.wantKind, recs[1].raw)
			}
			mu.Lock()
			defer mu.Unlock()
			if tc.base == "http://127.0.0.1:1/v1" {
				if len(sent) != 0 {
					t.Fatalf("the upstream got %d requests", len(sent))
				}
				return
			}
			if len(sent) != 2 {
				t.Fatalf("the upstream got %d requests, want 2", len(sent))
			}
			if !reflect.DeepEqual(sent[0], sent[1]) {
				t.Errorf("the upstream got different requests:\nServeHTTP: %+v\nForward:   %+v", sent[0], sent[1])
			}
		})
	}
}

// normalised is an encoded record with its id and times (and the answer's
// Date) replaced by "*", its keys sorted.
func normalised(t *testing.T, line string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "start", "end", "duration_ms"} {
		if _, ok := m[k]; ok {
			m[k] = "*"
		}
	}
	if _, ok := m["ttfb_ms"]; ok {
		m["ttfb_ms"] = "present"
	}
	if rp, ok := m["replay"].(map[string]any); ok {
		rp["scheduled"] = "*"
	}
	if res, ok := m["response"].(map[string]any); ok {
		if h, ok := res["headers"].(map[string]any); ok && h["date"] != nil {
			h["date"] = "*"
		}
		if timing, ok := res["timing"].([]any); ok {
			for _, tick := range timing {
				tick.([]any)[1] = "*"
			}
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestForwardKeepsRequest: Forward changes nothing of the request it is
// given, so one request may be sent many times at once (-race).
func TestForwardKeepsRequest(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "ok")
	}))
	defer up.Close()
	sink := &collect{}
	tap, err := New(Config{Upstream: "http://u:p@" + up.Listener.Addr().String() + "/v1", Sink: sink, IdleTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	header := http.Header{"Content-Type": {"application/json"}, "Connection": {"X-Hop"}, "X-Hop": {"1"}}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := httptest.NewRequest("POST", "/v1/chat/completions?x=1", strings.NewReader(chatRequest))
			r.Header = header
			tap.Forward(r)
			if r.URL.Path != "/v1/chat/completions" || r.URL.Host != "" || r.Host != "example.com" {
				t.Errorf("request changed: %v host %q", r.URL, r.Host)
			}
		}()
	}
	wg.Wait()
	if got := len(sink.wait(t, 8)); got != 8 || len(header) != 3 || header.Get("User-Agent") != "" {
		t.Errorf("%d records; header now %v", got, header)
	}
}

// TestForwardRecordsBeforeReturning: the record is in the sink when
// Forward returns, written on the caller's goroutine.
func TestForwardRecordsBeforeReturning(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	defer up.Close()
	sink := &collect{}
	tap, err := New(Config{Upstream: up.URL, Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		tap.Forward(httptest.NewRequest("GET", "/v1/models", nil))
		sink.mu.Lock()
		n := len(sink.lines)
		sink.mu.Unlock()
		if n != i+1 {
			t.Fatalf("after %d Forwards, %d records", i+1, n)
		}
	}
}

// TestRemoveHopByHopHeaders: the request and answer headers Forward drops
// are the ones httputil.ReverseProxy drops.
func TestRemoveHopByHopHeaders(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   http.Header
		want http.Header
	}{
		{"named in Connection", http.Header{"Connection": {"X-A, x-b", " ,X-C "}, "X-A": {"1"}, "X-B": {"2"}, "X-C": {"3"}, "X-D": {"4"}},
			http.Header{"X-D": {"4"}}},
		{"the fixed list", http.Header{"Keep-Alive": {"1"}, "Proxy-Connection": {"1"}, "Proxy-Authenticate": {"1"}, "Proxy-Authorization": {"1"},
			"Te": {"trailers"}, "Trailer": {"X"}, "Transfer-Encoding": {"chunked"}, "Upgrade": {"h2c"}, "Content-Type": {"a/b"}},
			http.Header{"Content-Type": {"a/b"}}},
		{"nothing to drop", http.Header{"Authorization": {"x"}}, http.Header{"Authorization": {"x"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.in.Clone()
			removeHopByHopHeaders(h)
			if !reflect.DeepEqual(h, tc.want) {
				t.Errorf("got %v, want %v", h, tc.want)
			}
		})
	}
}

// TestUpgradeType: the protocol a request asks for, as the proxy reads it.
func TestUpgradeType(t *testing.T) {
	for _, tc := range []struct {
		connection []string
		upgrade    string
		want       string
	}{
		{nil, "websocket", ""},
		{[]string{"keep-alive, Upgrade"}, "websocket", "websocket"},
		{[]string{"close", "\tupgrade "}, "h2c", "h2c"},
		{[]string{"upgrades"}, "websocket", ""},
		{[]string{"UPGRADE"}, "", ""},
	} {
		h := http.Header{"Connection": tc.connection}
		if tc.upgrade != "" {
			h.Set("Upgrade", tc.upgrade)
		}
		if got := upgradeType(h); got != tc.want {
			t.Errorf("Connection %q Upgrade %q: %q, want %q", tc.connection, tc.upgrade, got, tc.want)
		}
	}
}

// TestCloneHeader: cloneHeader is http.Header.Clone, but never nil.
func TestCloneHeader(t *testing.T) {
	for _, h := range []http.Header{
		nil,
		{},
		{"A": {"1", "2"}, "B": {"3"}, "C": nil, "D": {}},
	} {
		got := cloneHeader(h, 2)
		want := h.Clone()
		if want == nil {
			want = http.Header{}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("cloneHeader(%v) = %v, want %v", h, got, want)
		}
		if len(h) > 0 {
			got["A"][0] = "changed"
			got.Add("B", "4")
			if h["A"][0] != "1" || len(h["B"]) != 1 {
				t.Errorf("the clone shares values with %v", h)
			}
		}
	}
}

// TestForwardSwitchingProtocols: an upstream that switches protocols has
// nobody to hand the connection to; the record keeps its answer's head,
// with the upgrade headers, as llmtap's does for a client that took the
// connection, and the connection is closed.
func TestForwardSwitchingProtocols(t *testing.T) {
	var gotUpgrade string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotUpgrade = r.Header.Get("Connection") + "/" + r.Header.Get("Upgrade")
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
		_ = brw.Flush()
		_, _ = io.Copy(io.Discard, brw) // until the tap closes the connection
	}))
	defer up.Close()
	sink := &collect{}
	tap, err := New(Config{Upstream: up.URL, Sink: sink, IdleTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/v1/realtime", nil)
	r.Header.Set("Connection", "Upgrade")
	r.Header.Set("Upgrade", "websocket")
	tap.Forward(r)
	rec := sink.wait(t, 1)[0]
	if gotUpgrade != "Upgrade/websocket" {
		t.Errorf("the upstream got Connection/Upgrade %q", gotUpgrade)
	}
	if rec.Response == nil || rec.Response.Status != http.StatusSwitchingProtocols || rec.Error != nil ||
		rec.Response.Headers["upgrade"] != "websocket" {
		t.Errorf("record: %s", rec.raw)
	}
}
