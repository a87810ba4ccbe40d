package proxy

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const chatRequest = `{"model":"gpt-4o", "messages":[{"role":"user","content":"hi"}]}`

const chatJSON = `{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"héllo"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`

// sseToolStream is an OpenAI stream with a tool call whose arguments and a
// multibyte character arrive split across chunks.
var sseToolStream = []string{
	`data: {"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":"你"}}]}` + "\n\n",
	`data: {"id":"c1","choices":[{"index":0,"delta":{"content":"好"}}]}` + "\n\n",
	`data: {"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}` + "\n\n",
	`data: {"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}}]}` + "\n\n",
	`data: {"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}}]}` + "\n\n",
	`data: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}` + "\n\n",
	"data: [DONE]\n\n",
}

func streamHandler(chunks []string, delay time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		w.WriteHeader(200)
		for _, c := range chunks {
			if delay > 0 {
				time.Sleep(delay)
			}
			_, _ = io.WriteString(w, c)
			w.(http.Flusher).Flush()
		}
	}
}

// sameAsDirect checks that the client got through the tap exactly what it
// gets from the upstream directly.
func sameAsDirect(t *testing.T, h *harness, method, path string, body []byte, header http.Header) response {
	t.Helper()
	direct := do(t, method, h.upstream.URL+path, body, header)
	via := do(t, method, h.front.URL+path, body, header)
	if direct.err != nil || via.err != nil {
		t.Fatalf("errors: direct %v, via tap %v", direct.err, via.err)
	}
	if via.status != direct.status || !bytes.Equal(via.body, direct.body) {
		t.Fatalf("via tap: %d %q\ndirect: %d %q", via.status, via.body, direct.status, direct.body)
	}
	for _, k := range []string{"Content-Type", "Content-Encoding", "Content-Length", "Set-Cookie", "Retry-After"} {
		if fmt.Sprint(via.header.Values(k)) != fmt.Sprint(direct.header.Values(k)) {
			t.Errorf("header %s: via tap %q, direct %q", k, via.header.Values(k), direct.header.Values(k))
		}
	}
	return via
}

// TestJSONExchangeRecordedWithTimings: a record carries start, end,
// duration, time to first byte and byte counts, and
// every other field of the contract.
func TestJSONExchangeRecordedWithTimings(t *testing.T) {
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, chatJSON)
	}))
	hdr := http.Header{"Authorization": {"Bearer sk-test-0123456789abcdefWXYZ"}, "Content-Type": {"application/json"}}
	sameAsDirect(t, h, "POST", "/v1/chat/completions?trace=1", []byte(chatRequest), hdr)

	r := h.sink.wait(t, 1)[0]
	if r.V != 1 || r.ID == "" || r.Method != "POST" || r.Path != "/v1/chat/completions" || r.Query != "trace=1" {
		t.Errorf("record fields: %s", r.raw)
	}
	if want := h.upstream.URL + "/v1/chat/completions?trace=1"; r.UpstreamURL != want {
		t.Errorf("upstream_url %q, want %q", r.UpstreamURL, want)
	}
	if r.TTFBMS == nil || *r.TTFBMS <= 0 || r.DurationMS < *r.TTFBMS {
		t.Errorf("ttfb %v duration %v", r.TTFBMS, r.DurationMS)
	}
	if r.Request.BodyEncoding != "json" || string(r.Request.Body) != `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}` {
		t.Errorf("request body %s (%s)", r.Request.Body, r.Request.BodyEncoding)
	}
	if r.Request.BodyBytes != int64(len(chatRequest)) {
		t.Errorf("request body_bytes %d, want %d", r.Request.BodyBytes, len(chatRequest))
	}
	if got := r.Request.Headers["authorization"]; got != "Bearer [REDACTED]…WXYZ" {
		t.Errorf("authorization recorded as %q", got)
	}
	if r.Request.Headers["host"] == "" || r.Request.Headers["content-type"] != "application/json" {
		t.Errorf("request headers %v", r.Request.Headers)
	}
	res := r.Response
	if res == nil || res.Status != 200 || res.BodyEncoding != "json" || string(res.Body) != chatJSON || res.BodyBytes != int64(len(chatJSON)) {
		t.Fatalf("response %s", r.raw)
	}
	if res.Timing != nil || r.Error != nil {
		t.Errorf("a complete, fixed-length answer has no timing and no error: %s", r.raw)
	}
}

// TestSSEStreamWithToolCalls: multibyte characters and tool-call
// arguments split across chunks are recorded exactly as sent: no chunk is
// decoded on its own, which would corrupt a character split between two.
func TestSSEStreamWithToolCalls(t *testing.T) {
	h := newHarness(t, streamHandler(sseToolStream, 0))
	via := sameAsDirect(t, h, "POST", "/v1/chat/completions", []byte(`{"stream":true}`), nil)
	r := h.sink.wait(t, 1)[0]
	res := r.Response
	if res.BodyEncoding != "text" || !bytes.Equal(res.bytes(t), via.body) || res.BodyBytes != int64(len(via.body)) {
		t.Fatalf("recorded stream differs from what the client got: %s", r.raw)
	}
	if len(res.Timing) == 0 || res.Timing[0][0] != 0 {
		t.Fatalf("timing %v", res.Timing)
	}
	for i := 1; i < len(res.Timing); i++ {
		if res.Timing[i][0] <= res.Timing[i-1][0] || res.Timing[i][1] < res.Timing[i-1][1] {
			t.Errorf("timing not increasing: %v", res.Timing)
		}
	}
}

// TestGzipPassedThroughUntouched: the client gets the wire bytes, which its
// Content-Encoding header describes (decoded bytes under that header would
// fail to read), and the record gets the decoded body.
func TestGzipPassedThroughUntouched(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = io.WriteString(zw, chatJSON)
	_ = zw.Close()
	var sawAcceptEncoding string
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawAcceptEncoding = r.Header.Get("Accept-Encoding")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(gz.Bytes())
	}))
	via := sameAsDirect(t, h, "GET", "/v1/models", nil, nil)
	if !bytes.Equal(via.body, gz.Bytes()) || via.header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("client did not get the gzip bytes")
	}
	if sawAcceptEncoding != "" {
		t.Errorf("the tap added Accept-Encoding %q that the client did not send", sawAcceptEncoding)
	}
	r := h.sink.wait(t, 1)[0]
	res := r.Response
	if res.ContentEncoding != "gzip" || res.BodyEncoding != "json" || string(res.Body) != chatJSON || res.BodyBytes != int64(gz.Len()) {
		t.Errorf("record: %s", r.raw)
	}
}

// TestBinaryBodiesKeptExactly: binary request and response bodies
// are recorded as base64 of the exact bytes.
func TestBinaryBodiesKeptExactly(t *testing.T) {
	audio := make([]byte, 3346)
	for i := range audio {
		audio[i] = byte(i*7 + 0x80)
	}
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "audio/mpeg")
		_, _ = w.Write(audio)
	}))
	reqBody := []byte("\xff\xfe not utf-8")
	sameAsDirect(t, h, "POST", "/v1/audio/speech", reqBody, nil)
	r := h.sink.wait(t, 1)[0]
	if r.Request.BodyEncoding != "base64" || !bytes.Equal(r.Request.bytes(t), reqBody) {
		t.Errorf("request body: %s", r.Request.Body)
	}
	if r.Response.BodyEncoding != "base64" || !bytes.Equal(r.Response.bytes(t), audio) || r.Response.BodyBytes != int64(len(audio)) {
		t.Errorf("response body not exact")
	}
}

func TestMultipartUpload(t *testing.T) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("model", "whisper-1")
	fw, _ := mw.CreateFormFile("file", "a.wav")
	_, _ = fw.Write([]byte("RIFF\x00\x01\xff\xfe binary"))
	_ = mw.Close()
	var got []byte
	var gotType string
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		gotType = r.Header.Get("Content-Type")
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"text":"hello"}`)
	}))
	res := do(t, "POST", h.front.URL+"/v1/audio/transcriptions", body.Bytes(), http.Header{"Content-Type": {mw.FormDataContentType()}})
	if res.status != 200 || !bytes.Equal(got, body.Bytes()) || gotType != mw.FormDataContentType() {
		t.Fatalf("upstream got %q (%s)", got, gotType)
	}
	r := h.sink.wait(t, 1)[0]
	if r.Request.BodyEncoding != "base64" || !bytes.Equal(r.Request.bytes(t), body.Bytes()) || r.Request.BodyBytes != int64(body.Len()) {
		t.Errorf("request body not recorded exactly: %s", r.raw)
	}
}

func TestErrorStatusesPassThrough(t *testing.T) {
	for _, status := range []int{400, 401, 404, 429, 500, 503} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if status == 429 {
					w.Header().Set("Retry-After", "7")
				}
				w.WriteHeader(status)
				fmt.Fprintf(w, `{"error":{"message":"status %d","type":"x"}}`, status)
			}))
			sameAsDirect(t, h, "POST", "/v1/chat/completions", []byte(chatRequest), nil)
			r := h.sink.wait(t, 1)[0]
			if r.Response == nil || r.Response.Status != status || r.Error != nil {
				t.Errorf("record: %s", r.raw)
			}
		})
	}
}

// TestStreamingLiveness: each event reaches the client while the upstream
// waits for it, before the next is sent, so none is held back for more
// data; the record has a timing tick per event.
func TestStreamingLiveness(t *testing.T) {
	const n = 6
	got := make(chan int)
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		for i := range n {
			fmt.Fprintf(w, "data: {\"i\":%d}\n\n", i)
			w.(http.Flusher).Flush()
			select {
			case <-got:
			case <-time.After(5 * time.Second):
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
	buf := make([]byte, 4096)
	var all []byte
	for events := 0; events < n; {
		m, err := res.Body.Read(buf)
		all = append(all, buf[:m]...)
		for ; events < n && bytes.Count(all, []byte("\n\n")) > events; events++ {
			got <- events
		}
		if err != nil && events < n {
			t.Fatalf("after %d events: %v", events, err)
		}
	}
	r := h.sink.wait(t, 1)[0]
	if len(r.Response.Timing) != n {
		t.Errorf("timing has %d ticks, want %d: %v", len(r.Response.Timing), n, r.Response.Timing)
	}
}

// abortAfter sends the first chunks of a stream, then cuts the connection.
func abortAfter(chunks []string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		for _, c := range chunks {
			_, _ = io.WriteString(w, c)
		}
		w.(http.Flusher).Flush()
		time.Sleep(20 * time.Millisecond)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	}
}

// TestUpstreamDropReachesClient: when the upstream drops mid-stream, the
// client sees the cut (not a clean end), and the record says
// upstream_aborted with what arrived.
func TestUpstreamDropReachesClient(t *testing.T) {
	h := newHarness(t, abortAfter(sseToolStream[:2]))
	via := do(t, "POST", h.front.URL+"/v1/chat/completions", []byte(`{"stream":true}`), nil)
	if via.err == nil {
		t.Errorf("client saw a clean end of a cut stream: %q", via.body)
	}
	if want := strings.Join(sseToolStream[:2], ""); string(via.body) != want {
		t.Errorf("client got %q, want %q", via.body, want)
	}
	r := h.sink.wait(t, 1)[0]
	if r.errKind() != "upstream_aborted" || string(r.Response.bytes(t)) != strings.Join(sseToolStream[:2], "") {
		t.Errorf("record: %s", r.raw)
	}
}

func TestUpstreamUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	sink := &collect{}
	tap, err := New(Config{Upstream: "http://" + addr + "/v1?key=SECRETQUERYKEY123456", Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(tap)
	defer front.Close()
	via := do(t, "POST", front.URL+"/v1/chat/completions", []byte(chatRequest), nil)
	if via.status != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", via.status)
	}
	var e struct {
		Error struct{ Message, Type string }
	}
	if err := json.Unmarshal(via.body, &e); err != nil || e.Error.Type != "upstream_unreachable" || e.Error.Message == "" {
		t.Errorf("client got %s (%v)", via.body, err)
	}
	if strings.Contains(string(via.body), "SECRETQUERYKEY") {
		t.Errorf("secret in the error: %s", via.body)
	}
	r := sink.wait(t, 1)[0]
	if r.errKind() != "upstream_unreachable" || r.Response != nil || strings.Contains(r.raw, "SECRETQUERYKEY") {
		t.Errorf("record: %s", r.raw)
	}
	if string(r.Request.Body) != `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}` {
		t.Errorf("the request body is not in the record of a failed exchange: %s", r.raw)
	}
}

// TestUpstreamSilenceAnswered504AndRecorded: a silent upstream gets
// a 504 in the OpenAI error shape with a message that says why, and the
// record says upstream_timeout.
func TestUpstreamSilenceAnswered504AndRecorded(t *testing.T) {
	t.Run("before headers: 504", func(t *testing.T) {
		h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body) // the server notices a closed connection only once the body is read
			<-r.Context().Done()
		}), func(c *Config) { c.IdleTimeout = 150 * time.Millisecond })
		start := time.Now()
		via := do(t, "POST", h.front.URL+"/v1/chat/completions", []byte(chatRequest), nil)
		if via.status != http.StatusGatewayTimeout || !strings.Contains(string(via.body), "upstream_timeout") {
			t.Errorf("client got %d %s", via.status, via.body)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %v", d)
		}
		r := h.sink.wait(t, 1)[0]
		if r.errKind() != "upstream_timeout" {
			t.Errorf("record: %s", r.raw)
		}
	})
	t.Run("mid-stream: cut, with what arrived", func(t *testing.T) {
		h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "text/event-stream")
			for i := range 3 { // talks for longer than the timeout, then goes quiet
				fmt.Fprintf(w, "data: %d\n\n", i)
				w.(http.Flusher).Flush()
				time.Sleep(100 * time.Millisecond)
			}
			<-r.Context().Done()
		}), func(c *Config) { c.IdleTimeout = 250 * time.Millisecond })
		via := do(t, "POST", h.front.URL+"/v1/chat/completions", []byte(`{"stream":true}`), nil)
		if via.err == nil || string(via.body) != "data: 0\n\ndata: 1\n\ndata: 2\n\n" {
			t.Errorf("client got %q, err %v", via.body, via.err)
		}
		r := h.sink.wait(t, 1)[0]
		if r.errKind() != "upstream_timeout" || string(r.Response.bytes(t)) != "data: 0\n\ndata: 1\n\ndata: 2\n\n" {
			t.Errorf("record: %s", r.raw)
		}
	})
}

// TestClientCancelReachesUpstream: when the client goes away, the upstream
// request is cancelled (within clientGoneGrace), and the record keeps the
// partial body.
func TestClientCancelReachesUpstream(t *testing.T) {
	upstreamDone := make(chan time.Time, 1)
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 0; ; i++ {
			if _, err := fmt.Fprintf(w, "data: %d\n\n", i); err != nil {
				break
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				upstreamDone <- time.Now()
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
		upstreamDone <- time.Now()
	}))
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", h.front.URL+"/v1/chat/completions", strings.NewReader(`{"stream":true}`))
	res, err := rawClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	if _, err := io.ReadAtLeast(res.Body, buf, 8); err != nil {
		t.Fatal(err)
	}
	cancelled := time.Now()
	cancel()
	_ = res.Body.Close()
	select {
	case at := <-upstreamDone:
		if d := at.Sub(cancelled); d > 500*time.Millisecond {
			t.Errorf("upstream noticed the cancel after %v", d)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the upstream request was not cancelled")
	}
	r := h.sink.wait(t, 1)[0]
	if r.errKind() != "client_cancelled" || !strings.HasPrefix(string(r.Response.bytes(t)), "data: 0\n\n") {
		t.Errorf("record: %s", r.raw)
	}
}

func TestMaxBodyTruncatesRecordNotClient(t *testing.T) {
	big := bytes.Repeat([]byte("data: 0123456789abcdef\n\n"), 10000) // 240 kB
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write(big)
	}), func(c *Config) { c.MaxBody = 1000 })
	reqBody := bytes.Repeat([]byte("x"), 5000)
	via := do(t, "POST", h.front.URL+"/v1/chat/completions", reqBody, nil)
	if !bytes.Equal(via.body, big) {
		t.Fatalf("client got %d bytes, want %d", len(via.body), len(big))
	}
	r := h.sink.wait(t, 1)[0]
	if r.errKind() != "body_truncated" || !r.Response.Truncated || !r.Request.Truncated {
		t.Errorf("record: %.300s", r.raw)
	}
	if got := r.Response.bytes(t); !bytes.Equal(got, big[:1000]) || r.Response.BodyBytes != int64(len(big)) {
		t.Errorf("response kept %d bytes of %d", len(got), r.Response.BodyBytes)
	}
	if got := r.Request.bytes(t); len(got) != 1000 || r.Request.BodyBytes != 5000 {
		t.Errorf("request kept %d bytes of %d", len(got), r.Request.BodyBytes)
	}
}

// TestMaxBodyZeroKeepsEverything: MaxBody zero is no limit, like every
// zero limit in Config; the body passes the spill threshold and is kept whole.
func TestMaxBodyZeroKeepsEverything(t *testing.T) {
	big := bytes.Repeat([]byte("data: 0123456789abcdef\n\n"), 10000) // 240 kB
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write(big)
	}), func(c *Config) { c.MaxBody, c.SpillThreshold, c.TempDir = 0, 1000, t.TempDir() })
	via := do(t, "POST", h.front.URL+"/v1/chat/completions", []byte(chatRequest), nil)
	if !bytes.Equal(via.body, big) {
		t.Fatalf("client got %d bytes, want %d", len(via.body), len(big))
	}
	r := h.sink.wait(t, 1)[0]
	if r.Error != nil || r.Response.Truncated {
		t.Errorf("record: %.300s", r.raw)
	}
	if got := r.Response.bytes(t); !bytes.Equal(got, big) {
		t.Errorf("response kept %d bytes of %d", len(got), len(big))
	}
}

func TestConfigNegativeLimits(t *testing.T) {
	for _, tt := range []struct {
		name string
		set  func(*Config)
	}{
		{"ConnectTimeout", func(c *Config) { c.ConnectTimeout = -time.Second }},
		{"IdleTimeout", func(c *Config) { c.IdleTimeout = -time.Second }},
		{"MaxBody", func(c *Config) { c.MaxBody = -1 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Upstream: "http://127.0.0.1:1/v1", Sink: &collect{}}
			tt.set(&cfg)
			if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), tt.name) {
				t.Errorf("New: %v, want an error naming %s", err, tt.name)
			}
		})
	}
}

// TestHeadersCrossUnchanged: repeated request headers keep every
// value, Set-Cookie is not merged, no Date or Server is added or doubled,
// fixed-length and HEAD answers are not re-sent chunked, and hop-by-hop
// headers (and those named in Connection) are dropped.
func TestHeadersCrossUnchanged(t *testing.T) {
	var seen http.Header
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Clone()
		w.Header()["Set-Cookie"] = []string{"a=1; Path=/", "b=2; Path=/"}
		w.Header().Set("Date", "Mon, 01 Jan 2024 00:00:00 GMT")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "2")
		_, _ = io.WriteString(w, "{}")
	}))
	hdr := http.Header{
		"Openai-Beta":     {"assistants=v2", "other=1"},
		"X-Dup":           {"first", "second"},
		"Connection":      {"X-Hop"},
		"X-Hop":           {"secret-hop"},
		"X-Forwarded-For": {"10.0.0.1"},
	}
	for _, method := range []string{"GET", "HEAD"} {
		req, _ := http.NewRequest(method, h.front.URL+"/v1/models", nil)
		req.Header = hdr.Clone()
		res, err := rawClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
		if fmt.Sprint(seen["Openai-Beta"]) != "[assistants=v2 other=1]" || fmt.Sprint(seen["X-Dup"]) != "[first second]" {
			t.Errorf("%s: repeated headers reached the upstream as %v %v", method, seen["Openai-Beta"], seen["X-Dup"])
		}
		if seen.Get("X-Hop") != "" {
			t.Errorf("%s: a header named in Connection was forwarded", method)
		}
		if seen.Get("X-Forwarded-For") != "10.0.0.1" {
			t.Errorf("%s: X-Forwarded-For changed to %q", method, seen.Get("X-Forwarded-For"))
		}
		if len(res.Header["Set-Cookie"]) != 2 || len(res.Header["Date"]) != 1 || res.Header.Get("Date") != "Mon, 01 Jan 2024 00:00:00 GMT" || res.Header["Server"] != nil {
			t.Errorf("%s: response headers %v", method, res.Header)
		}
		if res.ContentLength != 2 || len(res.TransferEncoding) != 0 {
			t.Errorf("%s: re-sent with length %d, transfer-encoding %v", method, res.ContentLength, res.TransferEncoding)
		}
	}
	recs := h.sink.wait(t, 2)
	if !strings.Contains(recs[0].Request.Headers["openai-beta"], "assistants=v2, other=1") {
		t.Errorf("recorded headers %v", recs[0].Request.Headers)
	}
}

// TestPercentEncodingKept: %2F and %3F in a path reach the
// upstream byte for byte and never become a separator or a query.
func TestPercentEncodingKept(t *testing.T) {
	var gotURI string
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotURI = r.RequestURI
	}))
	do(t, "GET", h.front.URL+"/v1/models/meta-llama%2FLlama-3-8B%3Fx", nil, nil)
	if gotURI != "/v1/models/meta-llama%2FLlama-3-8B%3Fx" {
		t.Errorf("upstream got %q", gotURI)
	}
	r := h.sink.wait(t, 1)[0]
	if r.Path != "/v1/models/meta-llama%2FLlama-3-8B%3Fx" || r.Query != "" {
		t.Errorf("record path %q query %q", r.Path, r.Query)
	}
}

// TestEveryPathForwarded: the tap forwards every path but GET /healthz;
// /docs and /openapi.json are the upstream's, not the tap's.
func TestEveryPathForwarded(t *testing.T) {
	var paths []string
	var mu sync.Mutex
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.Method+" "+r.URL.Path)
		mu.Unlock()
	}))
	front := httptest.NewServer(WithHealth(h.tap, map[string]string{"upstream": "u"}))
	defer front.Close()
	for _, p := range []string{"/docs", "/openapi.json", "/redoc"} {
		do(t, "GET", front.URL+p, nil, nil)
	}
	do(t, "POST", front.URL+"/healthz", nil, nil)
	health := do(t, "GET", front.URL+"/healthz", nil, nil)
	if health.status != 200 || !strings.Contains(string(health.body), `"status":"ok"`) || !strings.Contains(string(health.body), `"upstream":"u"`) {
		t.Errorf("healthz: %d %s", health.status, health.body)
	}
	want := "[GET /v1/docs GET /v1/openapi.json GET /v1/redoc POST /v1/healthz]"
	if fmt.Sprint(paths) != want {
		t.Errorf("upstream saw %v, want %s", paths, want)
	}
	h.sink.wait(t, 4)
}

func TestConnectRefused(t *testing.T) {
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("CONNECT reached the upstream")
	}))
	conn, err := net.Dial("tcp", h.front.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "CONNECT other.example:443 HTTP/1.1\r\nHost: other.example:443\r\n\r\n")
	buf := make([]byte, 64)
	n, _ := conn.Read(buf)
	if !strings.HasPrefix(string(buf[:n]), "HTTP/1.1 405") {
		t.Errorf("CONNECT answered %q", buf[:n])
	}
}

// TestConcurrentExchanges: hundreds of concurrent exchanges give exactly
// that many valid, whole records with distinct ids.
func TestConcurrentExchanges(t *testing.T) {
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.URL.Query().Get("stream") != "" {
			w.Header().Set("Content-Type", "text/event-stream")
			for i := range 5 {
				fmt.Fprintf(w, "data: %s %d\n\n", b, i)
				w.(http.Flusher).Flush()
			}
			return
		}
		_, _ = w.Write(b)
	}))
	const n = 300
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := ""
			if i%2 == 0 {
				q = "?stream=1"
			}
			body := fmt.Sprintf(`{"n":%d}`, i)
			res := do(t, "POST", h.front.URL+"/v1/chat/completions"+q, []byte(body), nil)
			if res.err != nil || res.status != 200 {
				t.Errorf("request %d: %d %v", i, res.status, res.err)
			}
		}()
	}
	wg.Wait()
	recs := h.sink.wait(t, n)
	ids := map[string]bool{}
	for _, r := range recs {
		if ids[r.ID] {
			t.Errorf("duplicate id %s", r.ID)
		}
		ids[r.ID] = true
		if r.Error != nil || r.Response == nil || r.Response.Status != 200 {
			t.Errorf("record: %s", r.raw)
		}
		if !strings.Contains(string(r.Response.bytes(t)), string(r.Request.Body)) {
			t.Errorf("record mixes exchanges: %s", r.raw)
		}
	}
}
