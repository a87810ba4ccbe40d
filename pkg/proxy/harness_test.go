package proxy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/llmtap/llmtap/pkg/record"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// collect is a Sink that encodes each record the way llmtap writes it and
// keeps the lines.
type collect struct {
	mu    sync.Mutex
	lines [][]byte
	added chan struct{}
}

var _ Sink = (*collect)(nil)

func (c *collect) Record(rec *record.Record) {
	line := rec.AppendJSON(nil)
	c.mu.Lock()
	c.lines = append(c.lines, line)
	ch := c.added
	c.mu.Unlock()
	if ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// wait returns the records once there are n of them, failing the test after
// a few seconds.
func (c *collect) wait(t *testing.T, n int) []rec {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		got := len(c.lines)
		c.mu.Unlock()
		if got >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d records, want %d", got, n)
		}
		time.Sleep(2 * time.Millisecond)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.lines) != n {
		t.Fatalf("got %d records, want %d", len(c.lines), n)
	}
	out := make([]rec, n)
	for i, line := range c.lines {
		if bytes.IndexByte(line, '\n') != len(line)-1 {
			t.Fatalf("record %d is not one line: %q", i, line)
		}
		if err := json.Unmarshal(line, &out[i]); err != nil {
			t.Fatalf("record %d is not JSON: %v\n%s", i, err, line)
		}
		out[i].raw = string(line)
	}
	return out
}

// rec is a decoded record for assertions.
type rec struct {
	raw         string
	V           int      `json:"v"`
	ID          string   `json:"id"`
	Start       string   `json:"start"`
	End         string   `json:"end"`
	DurationMS  float64  `json:"duration_ms"`
	TTFBMS      *float64 `json:"ttfb_ms"`
	Method      string   `json:"method"`
	Path        string   `json:"path"`
	Query       string   `json:"query"`
	UpstreamURL string   `json:"upstream_url"`
	Client      string   `json:"client"`
	Request     part     `json:"request"`
	Response    *part    `json:"response"`
	Error       *struct {
		Kind    string `json:"kind"`
		Message string `json:"message"`
	} `json:"error"`
}

type part struct {
	Status          int               `json:"status"`
	Headers         map[string]string `json:"headers"`
	Body            json.RawMessage   `json:"body"`
	BodyEncoding    string            `json:"body_encoding"`
	BodyBytes       int64             `json:"body_bytes"`
	ContentEncoding string            `json:"content_encoding"`
	Truncated       bool              `json:"truncated"`
	Timing          [][2]float64      `json:"timing"`
}

// bytes returns the recorded body as bytes (json bodies as their compact text).
func (p part) bytes(t *testing.T) []byte {
	t.Helper()
	switch p.BodyEncoding {
	case "":
		return nil
	case "json":
		return p.Body
	case "text":
		var s string
		if err := json.Unmarshal(p.Body, &s); err != nil {
			t.Fatal(err)
		}
		return []byte(s)
	case "base64":
		var s string
		if err := json.Unmarshal(p.Body, &s); err != nil {
			t.Fatal(err)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Fatalf("unknown body_encoding %q", p.BodyEncoding)
	return nil
}

func (r rec) errKind() string {
	if r.Error == nil {
		return ""
	}
	return r.Error.Kind
}

// harness is an upstream, a Tap in front of it, and the records it wrote.
type harness struct {
	upstream *httptest.Server
	front    *httptest.Server
	tap      *Tap
	sink     *collect
}

func newHarness(t *testing.T, upstream http.Handler, configure ...func(*Config)) *harness {
	t.Helper()
	up := httptest.NewServer(upstream)
	t.Cleanup(up.Close)
	return newHarnessOn(t, up, configure...)
}

// newHarnessOn is newHarness with an upstream already started.
func newHarnessOn(t *testing.T, up *httptest.Server, configure ...func(*Config)) *harness {
	t.Helper()
	h := &harness{upstream: up, sink: &collect{}}
	cfg := Config{Upstream: h.upstream.URL + "/v1", Sink: h.sink, IdleTimeout: 5 * time.Second}
	for _, f := range configure {
		f(&cfg)
	}
	tap, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.tap = tap
	h.front = httptest.NewServer(tap)
	t.Cleanup(h.front.Close)
	return h
}

// response is what a client received.
type response struct {
	status int
	header http.Header
	body   []byte
	err    error // a read error: the stream was cut
}

// do sends the same request to url and returns what came back. It uses a
// transport that asks for no compression, so bodies arrive as sent.
func do(t *testing.T, method, url string, body []byte, header http.Header) response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == nil {
		req.Body = http.NoBody
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := rawClient.Do(req)
	if err != nil {
		return response{err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b, err: err}
}

var rawClient = &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 512}}
