package proxy

// Hostile and malformed input: requests that try to make the tap
// talk to another host or to smuggle a second request past it, oversized
// headers and bodies, upstreams that break HTTP, and secrets in error paths.
// Every test talks to loopback only and is bounded in time: raw connections
// carry deadlines, and records are awaited with collect.wait.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmtap/llmtap/internal/syncbuf"
)

// seenRequest is what the upstream received.
type seenRequest struct {
	method, host, remote, uri string
	header                    http.Header
	transferEncoding          []string
	contentLength             int64
	body                      []byte
}

// spy is an upstream that keeps every request it receives and answers 200
// with a small JSON body.
type spy struct {
	mu   sync.Mutex
	reqs []seenRequest
}

func (s *spy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.reqs = append(s.reqs, seenRequest{
		method: r.Method, host: r.Host, remote: r.RemoteAddr, uri: r.RequestURI,
		header: r.Header.Clone(), transferEncoding: r.TransferEncoding,
		contentLength: r.ContentLength, body: b,
	})
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"ok":true}`)
}

func (s *spy) got() []seenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seenRequest(nil), s.reqs...)
}

func (s *spy) reset() {
	s.mu.Lock()
	s.reqs = nil
	s.mu.Unlock()
}

// newDecoy starts a server that no request may ever reach, and returns its
// address and its hit counter.
func newDecoy(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	hits := new(atomic.Int64)
	d := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, "DECOY")
	}))
	t.Cleanup(d.Close)
	return d.Listener.Addr().String(), hits
}

// onlyUpstream checks that every request the spy saw came to the configured
// upstream: its Host is the upstream's address and it came from loopback
// (the tap's own connection), and that the decoy saw nothing.
func (h *harness) onlyUpstream(t *testing.T, s *spy, decoyHits *atomic.Int64) {
	t.Helper()
	want := h.upstream.Listener.Addr().String()
	for _, r := range s.got() {
		if r.host != want {
			t.Errorf("upstream got Host %q for %s %s, want %q", r.host, r.method, r.uri, want)
		}
		if host, _, err := net.SplitHostPort(r.remote); err != nil || !net.ParseIP(host).IsLoopback() {
			t.Errorf("upstream request from %q, want the tap on loopback", r.remote)
		}
	}
	if n := decoyHits.Load(); n != 0 {
		t.Errorf("the decoy host got %d requests", n)
	}
}

// rawResponse is one response read off a raw connection.
type rawResponse struct {
	status int
	header http.Header
	body   []byte
}

// rawExchange writes raw to addr over a fresh connection and reads every
// response until the server closes the connection (or 5 s pass). The last
// request in raw should say "Connection: close". The write runs on its own
// goroutine, so a server that answers early (431) does not deadlock it.
func rawExchange(t *testing.T, addr, raw string) []rawResponse {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	go func() { _, _ = io.WriteString(conn, raw) }()
	br := bufio.NewReader(conn)
	var out []rawResponse
	for {
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Errorf("no answer within 5 s (after %d responses)", len(out))
			}
			return out
		}
		b, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		out = append(out, rawResponse{status: res.StatusCode, header: res.Header, body: b})
	}
}

// statuses lists the status of each response.
func statuses(rs []rawResponse) []int {
	out := make([]int, len(rs))
	for i, r := range rs {
		out[i] = r.status
	}
	return out
}

// TestHostileAbsoluteFormTarget: a request target in absolute form names
// another host; the tap forwards to its upstream only, on the path part.
func TestHostileAbsoluteFormTarget(t *testing.T) {
	s := &spy{}
	h := newHarness(t, s)
	decoy, hits := newDecoy(t)
	for _, tc := range []struct{ target, wantURI string }{
		{"http://" + decoy + "/v1/models", "/v1/models"},
		{"https://" + decoy + "/v1/models", "/v1/models"},
		{"http://user:pw@" + decoy + "/v1/models?a=1", "/v1/models?a=1"},
		{"HTTP://" + decoy + "/x", "/v1/x"},
		{"http://" + decoy, "/v1"},
		{"http://other.example/v1/chat/completions", "/v1/chat/completions"},
	} {
		t.Run(tc.target, func(t *testing.T) {
			s.reset()
			rs := rawExchange(t, h.front.Listener.Addr().String(),
				"GET "+tc.target+" HTTP/1.1\r\nHost: "+decoy+"\r\nConnection: close\r\n\r\n")
			if len(rs) != 1 || rs[0].status != 200 || string(rs[0].body) != `{"ok":true}` {
				t.Fatalf("client got %v", rs)
			}
			got := s.got()
			if len(got) != 1 || got[0].uri != tc.wantURI {
				t.Fatalf("upstream got %+v, want one request for %s", got, tc.wantURI)
			}
			h.onlyUpstream(t, s, hits)
		})
	}
	recs := h.sink.wait(t, 6)
	for _, r := range recs {
		if !strings.HasPrefix(r.UpstreamURL, h.upstream.URL+"/") {
			t.Errorf("upstream_url %q", r.UpstreamURL)
		}
		if strings.Contains(r.raw, "user:pw") {
			t.Errorf("userinfo of the request target reached the record: %s", r.raw)
		}
	}
}

// TestHostileConnect: CONNECT, whatever its target, is answered 405 (or
// rejected by net/http) and nothing is forwarded anywhere.
func TestHostileConnect(t *testing.T) {
	s := &spy{}
	h := newHarness(t, s)
	decoy, hits := newDecoy(t)
	for _, target := range []string{decoy, "/v1/chat/completions", "other.example:443"} {
		t.Run(target, func(t *testing.T) {
			// What follows the CONNECT would be tunnelled by a forward
			// proxy; here it must be a plain request to the upstream, if
			// anything.
			raw := "CONNECT " + target + " HTTP/1.1\r\nHost: " + decoy + "\r\n\r\n" +
				"GET /v1/models HTTP/1.1\r\nHost: " + decoy + "\r\nConnection: close\r\n\r\n"
			s.reset()
			rs := rawExchange(t, h.front.Listener.Addr().String(), raw)
			if len(rs) == 0 || rs[0].status != http.StatusMethodNotAllowed {
				t.Fatalf("CONNECT answered %v, want 405", statuses(rs))
			}
			for _, r := range s.got() {
				if r.method == http.MethodConnect {
					t.Errorf("CONNECT reached the upstream: %+v", r)
				}
			}
			h.onlyUpstream(t, s, hits)
		})
	}
}

// TestHostileSpoofedHost: the Host header and the forwarding headers never
// change where the tap connects; the upstream sees its own host.
func TestHostileSpoofedHost(t *testing.T) {
	s := &spy{}
	h := newHarness(t, s)
	decoy, hits := newDecoy(t)
	addr := h.front.Listener.Addr().String()
	for _, tc := range []struct {
		name, raw  string
		wantStatus int
	}{
		{"decoy", "GET /v1/models HTTP/1.1\r\nHost: " + decoy + "\r\nConnection: close\r\n\r\n", 200},
		{"evil name", "GET /v1/models HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n", 200},
		{"userinfo", "GET /v1/models HTTP/1.1\r\nHost: user@" + decoy + "\r\nConnection: close\r\n\r\n", 400},
		{"forwarded headers", "GET /v1/models HTTP/1.1\r\nHost: " + addr + "\r\nX-Forwarded-Host: " + decoy +
			"\r\nForwarded: host=" + decoy + "\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n", 200},
		{"two hosts", "GET /v1/models HTTP/1.1\r\nHost: " + addr + "\r\nHost: " + decoy + "\r\nConnection: close\r\n\r\n", 400},
		{"no host 1.1", "GET /v1/models HTTP/1.1\r\nConnection: close\r\n\r\n", 400},
		{"no host 1.0", "GET /v1/models HTTP/1.0\r\n\r\n", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.reset()
			rs := rawExchange(t, addr, tc.raw)
			if len(rs) != 1 || rs[0].status != tc.wantStatus {
				t.Fatalf("answered %v, want [%d]", statuses(rs), tc.wantStatus)
			}
			if n := len(s.got()); tc.wantStatus == 200 && n != 1 || tc.wantStatus != 200 && n != 0 {
				t.Errorf("upstream got %d requests", n)
			}
			h.onlyUpstream(t, s, hits)
		})
	}
	t.Run("client Host field", func(t *testing.T) {
		s.reset()
		req, _ := http.NewRequest("GET", h.front.URL+"/v1/models", nil)
		req.Host = decoy
		res, err := rawClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
		if res.StatusCode != 200 || len(s.got()) != 1 {
			t.Fatalf("status %d, upstream got %d", res.StatusCode, len(s.got()))
		}
		h.onlyUpstream(t, s, hits)
	})
	for _, r := range h.sink.wait(t, 5) {
		if !strings.HasPrefix(r.UpstreamURL, h.upstream.URL+"/") {
			t.Errorf("upstream_url %q", r.UpstreamURL)
		}
	}
}

// TestHostilePaths: dot segments, encoded dots and slashes, '@' and a
// leading '//' stay in the path on the upstream's host. The tap neither
// cleans nor decodes a path: the upstream gets it as the client sent it,
// under the base path per the path rules.
func TestHostilePaths(t *testing.T) {
	for _, tc := range []struct {
		method, target string
		wantV1         string // upstream https://h/v1
		wantRoot       string // upstream https://h
	}{
		{"GET", "/v1/../../etc/passwd", "/v1/../../etc/passwd", "/v1/../../etc/passwd"},
		{"GET", "/..", "/v1/..", "/.."},
		{"GET", "/v1/%2e%2e/%2e%2e/x", "/v1/%2e%2e/%2e%2e/x", "/v1/%2e%2e/%2e%2e/x"},
		{"GET", "/v1/models/a%2F..%2F..%2Fx", "/v1/models/a%2F..%2F..%2Fx", "/v1/models/a%2F..%2F..%2Fx"},
		{"GET", "/%2F%2Fevil.example/x", "/v1/%2F%2Fevil.example/x", "/%2F%2Fevil.example/x"},
		{"GET", "/v1/chat@evil.example/completions", "/v1/chat@evil.example/completions", "/v1/chat@evil.example/completions"},
		{"GET", "/@evil.example/x", "/v1/@evil.example/x", "/@evil.example/x"},
		{"GET", "//evil.example/x", "/v1//evil.example/x", "//evil.example/x"},
		{"GET", "//user:pw@evil.example:80/x", "/v1//user:pw@evil.example:80/x", "//user:pw@evil.example:80/x"},
		{"GET", "/v1//evil.example/x", "/v1//evil.example/x", "/v1//evil.example/x"},
		{"GET", "/%5Cevil.example/x", "/v1/%5Cevil.example/x", "/%5Cevil.example/x"},
		{"GET", "/v1/x%0D%0AHost:%20evil.example", "/v1/x%0D%0AHost:%20evil.example", "/v1/x%0D%0AHost:%20evil.example"},
		{"GET", "/v1/models?u=http://evil.example/&@evil.example", "/v1/models?u=http://evil.example/&@evil.example", "/v1/models?u=http://evil.example/&@evil.example"},
		{"GET", "*", "/v1*", "*"},
		{"OPTIONS", "*", "", ""}, // net/http answers OPTIONS * itself
	} {
		for _, root := range []bool{false, true} {
			want, base := tc.wantV1, "v1"
			if root {
				want, base = tc.wantRoot, "root"
			}
			t.Run(base+" "+tc.method+" "+tc.target, func(t *testing.T) {
				s := &spy{}
				h := newHarness(t, s, func(c *Config) {
					if root {
						c.Upstream = strings.TrimSuffix(c.Upstream, "/v1")
					}
				})
				decoy, hits := newDecoy(t)
				rs := rawExchange(t, h.front.Listener.Addr().String(),
					tc.method+" "+tc.target+" HTTP/1.1\r\nHost: "+decoy+"\r\nConnection: close\r\n\r\n")
				if len(rs) != 1 || rs[0].status != 200 {
					t.Fatalf("answered %v", statuses(rs))
				}
				got := s.got()
				if want == "" {
					if len(got) != 0 {
						t.Errorf("upstream got %+v, want nothing", got)
					}
					h.onlyUpstream(t, s, hits)
					return
				}
				if len(got) != 1 || got[0].uri != want {
					t.Fatalf("upstream got %+v, want %q", got, want)
				}
				h.onlyUpstream(t, s, hits)
				r := h.sink.wait(t, 1)[0]
				if !strings.HasPrefix(r.UpstreamURL, h.upstream.URL+"/") {
					t.Errorf("upstream_url %q", r.UpstreamURL)
				}
			})
		}
	}
}

// TestHostileSmuggling: requests framed ambiguously are either rejected by
// net/http before the tap sees them, or read one well-defined way. Either
// way the upstream gets only requests the tap itself parsed and recorded,
// re-framed by the Transport (never a Content-Length next to a
// Transfer-Encoding), so nothing can ride along to the upstream unseen.
func TestHostileSmuggling(t *testing.T) {
	const end = "GET /v1/end HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
	smuggled := "GET /v1/smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
	for _, tc := range []struct {
		name string
		raw  string
		// wantStatus is the answer to the first request; wantBody, when
		// wantStatus is 200, the body the upstream got for it.
		wantStatus int
		wantBody   string
	}{
		{"CL and TE: TE wins",
			"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " + fmt.Sprint(len("5\r\nhello\r\n0\r\n\r\n")+len(smuggled)) +
				"\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + smuggled + end,
			200, "hello"},
		{"TE and CL: TE wins",
			"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + end,
			200, "hello"},
		{"duplicate differing CL",
			"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!" + end,
			400, ""},
		{"duplicate equal CL",
			"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello" + end,
			200, "hello"},
		{"CL list", "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello!" + end, 400, ""},
		{"CL plus sign", "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello" + end, 400, ""},
		{"CL negative", "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n" + end, 400, ""},
		{"CL hex", "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 0x5\r\n\r\nhello" + end, 400, ""},
		{"two TE fields",
			"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + end,
			501, ""},
		{"TE list", "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n" + end, 501, ""},
		{"TE xchunked", "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nContent-Length: 5\r\n\r\nhello" + end, 501, ""},
		{"TE space before colon",
			"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\nhello" + end, 400, ""},
		{"TE folded: read as chunked",
			"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + end,
			200, "hello"},
		{"TE ignored on HTTP/1.0",
			"POST /v1/chat/completions HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello", 200, "hello"},
		{"NUL in a header", "GET /v1/models HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n" + end, 400, ""},
		{"bare CR in a header", "GET /v1/models HTTP/1.1\r\nHost: x\r\nX-A: a\rGET /v1/smuggled HTTP/1.1\r\n\r\n" + end, 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &spy{}
			h := newHarness(t, s)
			rs := rawExchange(t, h.front.Listener.Addr().String(), tc.raw)
			if len(rs) == 0 || rs[0].status != tc.wantStatus {
				t.Fatalf("answered %v, want %d first", statuses(rs), tc.wantStatus)
			}
			got := s.got()
			if tc.wantStatus != 200 {
				if len(got) != 0 || len(rs) != 1 {
					t.Errorf("rejected, yet the upstream got %+v and the client %v answers", got, statuses(rs))
				}
				if n := len(h.sink.wait(t, 0)); n != 0 {
					t.Errorf("%d records of a rejected request", n)
				}
				return
			}
			if len(got) == 0 || string(got[0].body) != tc.wantBody {
				t.Fatalf("upstream got %+v, want the body %q first", got, tc.wantBody)
			}
			for _, r := range got {
				if len(r.transferEncoding) > 0 && r.header.Get("Content-Length") != "" {
					t.Errorf("upstream got both Transfer-Encoding and Content-Length: %+v", r)
				}
				if r.uri == "/v1/smuggled" {
					// net/http reads what follows a chunked body as the next
					// request on the connection, even after a Content-Length
					// that said otherwise (RFC 9112 6.3 asks a server to close
					// the connection instead). The tap parsed it, answered it
					// and records it like any request: no desync.
					t.Logf("net/http served the bytes after the chunked body as a request of their own")
				}
			}
			if len(rs) != len(got) {
				t.Errorf("client got %d answers, upstream %d requests", len(rs), len(got))
			}
			recs := h.sink.wait(t, len(got))
			for i, r := range recs {
				if r.Response == nil || r.Response.Status != 200 {
					t.Errorf("record %d: %s", i, r.raw)
				}
			}
		})
	}
}

// TestHostileOversizedHeaders: more than 1 MB of request headers is answered
// 431 by net/http; nothing is forwarded or recorded.
func TestHostileOversizedHeaders(t *testing.T) {
	s := &spy{}
	h := newHarness(t, s)
	oneBig := "GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 1<<20+8192) + "\r\n\r\n"
	var many strings.Builder
	many.WriteString("GET /v1/models HTTP/1.1\r\nHost: x\r\n")
	for i := 0; many.Len() < 1<<20+8192; i++ {
		fmt.Fprintf(&many, "X-H-%06d: %s\r\n", i, strings.Repeat("v", 48))
	}
	many.WriteString("\r\n")
	for name, raw := range map[string]string{"one big header": oneBig, "many headers": many.String()} {
		t.Run(name, func(t *testing.T) {
			rs := rawExchange(t, h.front.Listener.Addr().String(), raw)
			if len(rs) != 1 || rs[0].status != http.StatusRequestHeaderFieldsTooLarge {
				t.Errorf("answered %v, want [431]", statuses(rs))
			}
		})
	}
	if n := len(s.got()); n != 0 {
		t.Errorf("upstream got %d requests", n)
	}
	h.sink.wait(t, 0)
}

// memoryBound is the most a test's heap may grow while size bytes pass
// through. With LLMTAP_PERF set (make perf) it is the bar, which a loaded
// machine under -race may miss; without (make test), half of size, which
// only a tap that holds a body whole fails.
func memoryBound(bar, size int64) int64 {
	if os.Getenv("LLMTAP_PERF") != "" {
		return bar
	}
	return size / 2
}

// peakHeapGrowth runs f and returns the highest HeapInuse seen while it ran,
// less HeapInuse before it.
func peakHeapGrowth(f func()) int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	peak := base
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapInuse)
			}
		}
	}()
	f()
	close(stop)
	<-done
	return int64(peak) - int64(base)
}

// patternReader yields n bytes of a repeating pattern without holding them.
type patternReader struct {
	n   int64
	off int64
}

var pattern = func() []byte {
	b := make([]byte, 32<<10)
	for i := range b {
		b[i] = "abcdefghijklmnopqrstuvwxyz0123456789\n"[i%37]
	}
	return b
}()

// patternPrefix is the first n bytes a patternReader yields.
func patternPrefix(n int64) []byte {
	b, _ := io.ReadAll(&patternReader{n: n})
	return b
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	k := 0
	for k < len(b) && p.off < p.n {
		start := p.off % int64(len(pattern))
		c := copy(b[k:], pattern[start:min(int64(len(pattern)), start+p.n-p.off)])
		k += c
		p.off += int64(c)
	}
	return k, nil
}

// TestHostileLargeRequestBody: a request body much larger than MaxBody, of
// unknown length, reaches the upstream whole; the record keeps MaxBody bytes
// and says so; memory stays far below the body's size.
func TestHostileLargeRequestBody(t *testing.T) {
	const size = 64 << 20
	const maxBody = 64 << 10
	var upstreamCRC uint32
	var upstreamN int64
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := crc32.NewIEEE()
		upstreamN, _ = io.Copy(c, r.Body)
		upstreamCRC = c.Sum32()
		_, _ = io.WriteString(w, `{"ok":true}`)
	}), func(c *Config) { c.MaxBody = maxBody })
	wantCRC := crc32.NewIEEE()
	_, _ = io.Copy(wantCRC, &patternReader{n: size})

	var status int
	growth := peakHeapGrowth(func() {
		req, _ := http.NewRequest("POST", h.front.URL+"/v1/files", io.NopCloser(&patternReader{n: size}))
		res, err := rawClient.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
		status = res.StatusCode
	})
	if status != 200 || upstreamN != size || upstreamCRC != wantCRC.Sum32() {
		t.Fatalf("status %d; upstream got %d bytes (crc %x, want %x)", status, upstreamN, upstreamCRC, wantCRC.Sum32())
	}
	r := h.sink.wait(t, 1)[0]
	if r.errKind() != "body_truncated" || !r.Request.Truncated || r.Request.BodyBytes != size ||
		!bytes.Equal(r.Request.bytes(t), patternPrefix(maxBody)) {
		t.Errorf("record: %.400s", r.raw)
	}
	t.Logf("heap grew by at most %d KiB for a %d MiB body", growth>>10, size>>20)
	if growth > memoryBound(16<<20, size) {
		t.Errorf("heap grew by %d MiB for a %d MiB body", growth>>20, size>>20)
	}
}

// rawUpstream serves each connection by reading one request and writing
// resp as it is, then closing the connection. It returns its address.
func rawUpstream(t *testing.T, resp string) string {
	return serveRaw(t, func(c net.Conn) {
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, req.Body)
		_, _ = io.WriteString(c, resp)
	})
}

// serveRaw listens on loopback and runs serve on each connection it
// accepts, in a goroutine of its own, with a deadline of 5 s; it closes the
// connection after. It returns the address, and stops when the test ends.
func serveRaw(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				serve(c)
			})
		}
	})
	return ln.Addr().String()
}

// TestHostileUpstreamFraming: an upstream whose response head is broken
// gets the client a 502 and an upstream_aborted record; one whose body
// falls short cuts the client's stream and is recorded with what came.
func TestHostileUpstreamFraming(t *testing.T) {
	for _, tc := range []struct {
		name, resp string
		wantStatus int
		wantBody   string // what the client and the record get
		wantKind   string
	}{
		{"CL not a number", "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nhello", 502, "", "upstream_aborted"},
		{"CL negative", "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nhello", 502, "", "upstream_aborted"},
		{"CL twice, differing", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 502, "", "upstream_aborted"},
		{"CL larger than body", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"short\":", 200, `{"short":`, "upstream_aborted"},
		{"CL smaller than body", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhello", 200, "he", ""},
		{"CL and TE", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 200, "hello", ""},
		{"bad chunk", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n", 200, "hello", "upstream_aborted"},
		{"bad status line", "HTTP/1.1 abc OK\r\n\r\n", 502, "", "upstream_aborted"},
		{"not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", 502, "", "upstream_aborted"},
		{"nothing", "", 502, "", "upstream_aborted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := rawUpstream(t, tc.resp)
			var logged bytes.Buffer
			h := newHarness(t, http.NotFoundHandler(), func(c *Config) {
				c.Upstream = "http://" + addr + "/v1"
				c.ErrorLog = log.New(&logged, "", 0)
			})
			start := time.Now()
			via := do(t, "POST", h.front.URL+"/v1/chat/completions", []byte(chatRequest), nil)
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v", d)
			}
			if via.status != tc.wantStatus {
				t.Fatalf("client got %d %q (%v), want %d", via.status, via.body, via.err, tc.wantStatus)
			}
			if tc.wantStatus == 502 {
				if !strings.Contains(string(via.body), tc.wantKind) {
					t.Errorf("client got %s", via.body)
				}
			} else if string(via.body) != tc.wantBody || (via.err != nil) != (tc.wantKind != "") {
				t.Errorf("client got %q, err %v", via.body, via.err)
			}
			r := h.sink.wait(t, 1)[0]
			if r.errKind() != tc.wantKind {
				t.Errorf("record error %q, want %q: %s", r.errKind(), tc.wantKind, r.raw)
			}
			if tc.wantStatus == 502 && r.Response != nil {
				t.Errorf("record has a response: %s", r.raw)
			}
			if tc.wantStatus == 200 && (r.Response == nil || string(r.Response.bytes(t)) != tc.wantBody) {
				t.Errorf("record: %s", r.raw)
			}
			if r.Request.BodyBytes != int64(len(chatRequest)) {
				t.Errorf("request not recorded: %s", r.raw)
			}
		})
	}
}

// TestHostileCorruptGzip: a gzip body that does not decode reaches the
// client byte for byte; the record keeps what it could and says why.
func TestHostileCorruptGzip(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = io.WriteString(zw, strings.Repeat(chatJSON, 50))
	_ = zw.Close()
	whole := gz.Bytes()
	garbage := append(append([]byte(nil), whole[:10]...), bytes.Repeat([]byte{0xff, 0x00, 0x13}, 40)...)
	flipped := append([]byte(nil), whole...)
	flipped[len(flipped)-6] ^= 0xff // the CRC-32 trailer
	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"garbage after the header", garbage},
		{"cut in the middle", whole[:len(whole)/2]},
		{"bad checksum", flipped},
		{"not gzip at all", []byte("plain text, labelled gzip")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Encoding", "gzip")
				_, _ = w.Write(tc.body)
			}))
			via := do(t, "GET", h.front.URL+"/v1/models", nil, nil)
			if via.err != nil || via.status != 200 || !bytes.Equal(via.body, tc.body) || via.header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("client got %d %q (%v)", via.status, via.body, via.err)
			}
			r := h.sink.wait(t, 1)[0]
			var extra struct {
				Response struct {
					DecodeError string `json:"decode_error"`
				} `json:"response"`
			}
			if err := json.Unmarshal([]byte(r.raw), &extra); err != nil {
				t.Fatal(err)
			}
			if r.Response.ContentEncoding != "gzip" || extra.Response.DecodeError == "" || r.Response.BodyBytes != int64(len(tc.body)) {
				t.Errorf("record: %s", r.raw)
			}
			if r.Error != nil {
				t.Errorf("a body the client got whole is not an exchange error: %s", r.raw)
			}
		})
	}
}

// TestHostileEndlessStream: an event stream that goes silent and never ends
// is cut by the silence timeout and recorded with what came; one that keeps
// talking for longer than the timeout is not cut.
func TestHostileEndlessStream(t *testing.T) {
	const idle = 200 * time.Millisecond
	t.Run("silent", func(t *testing.T) {
		released := make(chan struct{})
		h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "data: 0\n\n")
			w.(http.Flusher).Flush()
			select { // never ends on its own
			case <-r.Context().Done():
			case <-released:
			}
		}), func(c *Config) { c.IdleTimeout = idle })
		defer close(released)
		start := time.Now()
		via := do(t, "POST", h.front.URL+"/v1/chat/completions", []byte(`{"stream":true}`), nil)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("cut after %v, want about %v", d, idle)
		}
		if via.err == nil || via.status != 200 || string(via.body) != "data: 0\n\n" {
			t.Errorf("client got %d %q, err %v", via.status, via.body, via.err)
		}
		r := h.sink.wait(t, 1)[0]
		if r.errKind() != "upstream_timeout" || string(r.Response.bytes(t)) != "data: 0\n\n" {
			t.Errorf("record: %s", r.raw)
		}
	})
	t.Run("headers only", func(t *testing.T) {
		released := make(chan struct{})
		h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-released:
			}
		}), func(c *Config) { c.IdleTimeout = idle })
		defer close(released)
		via := do(t, "POST", h.front.URL+"/v1/chat/completions", []byte(`{"stream":true}`), nil)
		if via.err == nil || via.status != 200 || len(via.body) != 0 {
			t.Errorf("client got %d %q, err %v", via.status, via.body, via.err)
		}
		r := h.sink.wait(t, 1)[0]
		if r.errKind() != "upstream_timeout" || r.Response == nil || r.Response.Status != 200 {
			t.Errorf("record: %s", r.raw)
		}
	})
	t.Run("keeps talking", func(t *testing.T) {
		// 15 pauses of a tenth of the timeout: longer than the timeout in
		// all, never silent for more than a tenth of it, so only a stall
		// of nine tenths of the timeout could cut it. TestSilenceTimer
		// holds the timer's decision itself without any clock.
		const n = 15
		h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			for i := range n {
				fmt.Fprintf(w, ": ping %d\n\n", i)
				w.(http.Flusher).Flush()
				time.Sleep(idle / 10)
			}
			_, _ = io.WriteString(w, "data: [DONE]\n\n")
		}), func(c *Config) { c.IdleTimeout = idle })
		via := do(t, "POST", h.front.URL+"/v1/chat/completions", []byte(`{"stream":true}`), nil)
		if via.err != nil || !strings.HasSuffix(string(via.body), "data: [DONE]\n\n") {
			t.Errorf("client got %q, err %v", via.body, via.err)
		}
		r := h.sink.wait(t, 1)[0]
		if r.Error != nil || r.DurationMS < float64(idle.Milliseconds()) {
			t.Errorf("record: %s", r.raw)
		}
	})
}

// TestHostileManyResponseHeaders: a response with 10,000 headers passes
// through and is recorded whole.
func TestHostileManyResponseHeaders(t *testing.T) {
	const n = 10000
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range n {
			w.Header()[fmt.Sprintf("X-H-%05d", i)] = []string{fmt.Sprintf("v%05d", i)}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	start := time.Now()
	via := do(t, "GET", h.front.URL+"/v1/models", nil, nil)
	if via.err != nil || via.status != 200 || string(via.body) != `{"ok":true}` {
		t.Fatalf("client got %d %q (%v)", via.status, via.body, via.err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
	got := 0
	for k := range via.header {
		if strings.HasPrefix(k, "X-H-") {
			got++
		}
	}
	if got != n || via.header.Get("X-H-09999") != "v09999" {
		t.Errorf("client got %d of %d headers", got, n)
	}
	r := h.sink.wait(t, 1)[0]
	recorded := 0
	for k := range r.Response.Headers {
		if strings.HasPrefix(k, "x-h-") {
			recorded++
		}
	}
	if recorded != n || r.Response.Headers["x-h-00042"] != "v00042" {
		t.Errorf("record has %d of %d headers", recorded, n)
	}
}

// TestHostileHugeResponse: a 200 MB response, generated on the fly, streams
// through whole while the record keeps MaxBody, and memory stays far below
// the response's size.
func TestHostileHugeResponse(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 200 MB: 1 to 2 s under -race")
	}
	const size = 200 << 20
	const maxBody = 64 << 10
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream") // unknown length: streamed
		_, _ = io.Copy(w, &patternReader{n: size})
	}), func(c *Config) { c.MaxBody = maxBody })
	wantCRC := crc32.NewIEEE()
	_, _ = io.Copy(wantCRC, &patternReader{n: size})

	var n int64
	var sum uint32
	var err error
	start := time.Now()
	growth := peakHeapGrowth(func() {
		res, e := rawClient.Get(h.front.URL + "/v1/files/big/content")
		if e != nil {
			err = e
			return
		}
		defer res.Body.Close()
		c := crc32.NewIEEE()
		n, err = io.Copy(c, res.Body)
		sum = c.Sum32()
	})
	if err != nil || n != size || sum != wantCRC.Sum32() {
		t.Fatalf("client got %d bytes (crc %x, want %x), err %v", n, sum, wantCRC.Sum32(), err)
	}
	r := h.sink.wait(t, 1)[0]
	if r.errKind() != "body_truncated" || !r.Response.Truncated || r.Response.BodyBytes != size ||
		!bytes.Equal(r.Response.bytes(t), patternPrefix(maxBody)) {
		t.Errorf("record: %.400s", r.raw)
	}
	t.Logf("200 MiB in %v; heap grew by at most %d KiB", time.Since(start).Round(time.Millisecond), growth>>10)
	if growth > memoryBound(32<<20, size) {
		t.Errorf("heap grew by %d MiB for a %d MiB response", growth>>20, size>>20)
	}
}

// TestHostileSecretsInErrors: when the upstream cannot be reached, neither
// the password in its URL, nor its ?key=, nor the client's keys reach the
// client's 502, the record, the error log or the displayed upstream.
func TestHostileSecretsInErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	secrets := []string{"PASSWORDSECRET", "USERTOKENSECRET", "BASEKEYSECRET", "CLIENTKEYSECRET", "AUTHSECRET", "XAPISECRET"}
	for _, upstream := range []string{
		"http://user:PASSWORDSECRET0123456789@" + addr + "/v1?key=BASEKEYSECRET0123456789&api-version=1",
		"http://USERTOKENSECRET0123456789@" + addr + "/v1?api_key=BASEKEYSECRET0123456789",
		"https://user:PASSWORDSECRET0123456789@" + addr + "/v1?key=BASEKEYSECRET0123456789",
	} {
		t.Run(upstream[:5], func(t *testing.T) {
			var logged bytes.Buffer
			sink := &collect{}
			tap, err := New(Config{Upstream: upstream, Sink: sink, ErrorLog: log.New(&logged, "llmtap: ", 0), ConnectTimeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			front := httptest.NewServer(tap)
			defer front.Close()
			hdr := http.Header{"Authorization": {"Bearer AUTHSECRET0123456789"}, "X-Api-Key": {"XAPISECRET0123456789"}}
			via := do(t, "POST", front.URL+"/v1/chat/completions?key=CLIENTKEYSECRET0123456789", []byte(chatRequest), hdr)
			if via.status != http.StatusBadGateway || !strings.Contains(string(via.body), "upstream_unreachable") {
				t.Fatalf("client got %d %s", via.status, via.body)
			}
			r := sink.wait(t, 1)[0]
			if r.errKind() != "upstream_unreachable" {
				t.Errorf("record: %s", r.raw)
			}
			for what, text := range map[string]string{
				"502 body": string(via.body), "record": r.raw, "error log": logged.String(), "Upstream()": tap.Upstream(),
			} {
				for _, s := range secrets {
					if strings.Contains(text, s) {
						t.Errorf("%s leaked into the %s: %s", s, what, text)
					}
				}
			}
		})
	}
}

// waitStarted waits until the tap has begun n exchanges.
func waitStarted(t *testing.T, tap *Tap, n uint64) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); tap.Started() < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the tap began %d exchanges, want %d", tap.Started(), n)
		}
	}
}

// TestHostileBrokenRequestBody: a client whose request body is malformed
// (a bad chunk size) or cut off (the client hangs up halfway) is at fault,
// not the upstream: the record must not say upstream_aborted, and the
// client must not be told that the upstream failed.
func TestHostileBrokenRequestBody(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  string
		// hangUp closes the connection after raw instead of reading answers.
		hangUp   bool
		wantKind string
	}{
		{"bad chunk size", "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", false, "client_cancelled"},
		{"cut chunked body", "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", true, "client_cancelled"},
		{"cut fixed-length body", "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"model\":", true, "client_cancelled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &spy{}
			h := newHarness(t, s)
			var statuses []int
			if tc.hangUp {
				conn, err := net.Dial("tcp", h.front.Listener.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.WriteString(conn, tc.raw)
				waitStarted(t, h.tap, 1) // the tap is reading the body
				_ = conn.Close()
			} else {
				for _, r := range rawExchange(t, h.front.Listener.Addr().String(), tc.raw+"GET /v1/end HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") {
					statuses = append(statuses, r.status)
				}
			}
			r := h.sink.wait(t, 1)[0]
			if r.errKind() == "upstream_aborted" || len(statuses) > 0 && statuses[0] == http.StatusBadGateway {
				t.Errorf("a broken client request body is blamed on the upstream: client got %v, record %s", statuses, r.raw)
			}
			if r.errKind() != tc.wantKind {
				t.Errorf("record error %q, want %q: %s", r.errKind(), tc.wantKind, r.raw)
			}
		})
	}
}

// TestHostileSecretsInStreamErrors: an upstream with secrets in its URL that
// cuts a stream or goes silent: the client, the record and the error log
// (which gets the proxy's copy errors) hold none of them.
func TestHostileSecretsInStreamErrors(t *testing.T) {
	secrets := []string{"PASSWORDSECRET", "BASEKEYSECRET", "CLIENTKEYSECRET", "AUTHSECRET"}
	for name, handler := range map[string]http.Handler{
		"aborted": abortAfter(sseToolStream[:2]),
		"silent": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "data: 0\n\n")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}),
	} {
		t.Run(name, func(t *testing.T) {
			var logged bytes.Buffer
			h := newHarness(t, handler, func(c *Config) {
				c.Upstream = strings.Replace(c.Upstream, "http://", "http://user:PASSWORDSECRET0123456789@", 1) + "?key=BASEKEYSECRET0123456789"
				c.ErrorLog = log.New(&logged, "llmtap: ", 0)
				c.IdleTimeout = 150 * time.Millisecond
			})
			via := do(t, "POST", h.front.URL+"/v1/chat/completions?api_key=CLIENTKEYSECRET0123456789", []byte(`{"stream":true}`),
				http.Header{"Authorization": {"Bearer AUTHSECRET0123456789"}})
			r := h.sink.wait(t, 1)[0]
			if r.Error == nil {
				t.Errorf("record: %s", r.raw)
			}
			for _, s := range secrets {
				if strings.Contains(string(via.body)+fmt.Sprint(via.err)+r.raw+logged.String(), s) {
					t.Errorf("%s leaked: client %q %v\nrecord %s\nlog %s", s, via.body, via.err, r.raw, logged.String())
				}
			}
		})
	}
}

// TestHostileUpstreamUserinfoSent: an upstream URL with credentials in it
// (https://user:pass@h/v1, or https://TOKEN@h, which the redactor masks
// because "several services take a bare token" that way) is meant to
// authenticate: the upstream should get them as Basic authorization when
// the client sends no Authorization of its own.
func TestHostileUpstreamUserinfoSent(t *testing.T) {
	s := &spy{}
	h := newHarness(t, s, func(c *Config) {
		c.Upstream = strings.Replace(c.Upstream, "http://", "http://user:pass@", 1)
	})
	do(t, "GET", h.front.URL+"/v1/models", nil, nil)
	got := s.got()
	if len(got) != 1 {
		t.Fatalf("upstream got %d requests", len(got))
	}
	h.sink.wait(t, 1)
	user, pass, ok := (&http.Request{Header: got[0].header}).BasicAuth()
	if !ok {
		t.Fatal("the userinfo of --upstream was not sent as Basic authorization (http.Transport ignores URL.User)")
	}
	if user != "user" || pass != "pass" {
		t.Errorf("upstream got Basic %q:%q", user, pass)
	}
}

// TestHostileUpstreamDropsMidRequest: an upstream that drops connections
// while request bodies are still being sent (a crash, a restart) gets every
// client a 502 and one record each; the clients' keep-alive connections to
// the tap survive, so the next request on each is served and recorded too.
func TestHostileUpstreamDropsMidRequest(t *testing.T) {
	logged := &syncbuf.Buffer{}
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close() // before reading the body
		}
	}), func(c *Config) { c.MaxBody = 1 << 10 })
	h.front.Config.ErrorLog = log.New(logged, "", 0)
	body := bytes.Repeat([]byte("x"), 300<<10)
	client := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()
	var sent, lost atomic.Int64
	var firstErr atomic.Value
	deadline := time.Now().Add(500 * time.Millisecond)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				sent.Add(1)
				res, err := client.Post(h.front.URL+"/v1/chat/completions", "application/json", bytes.NewReader(body))
				if err != nil {
					lost.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				_ = res.Body.Close()
				if res.StatusCode != http.StatusBadGateway {
					t.Errorf("status %d, want 502", res.StatusCode)
				}
			}
		}()
	}
	wg.Wait()
	h.tap.Wait() // every exchange that started has handed over its record
	h.sink.mu.Lock()
	recorded := int64(len(h.sink.lines))
	h.sink.mu.Unlock()
	for _, r := range h.sink.wait(t, int(recorded)) {
		if r.errKind() != "upstream_aborted" {
			t.Errorf("record: %.300s", r.raw)
			break
		}
	}
	if lost.Load() > 0 || recorded != sent.Load() || strings.Contains(logged.String(), "panic serving") {
		// A Transport goroutine still reading the previous request's body
		// after the handler had returned would race net/http's next read of
		// the connection, which drops it unanswered.
		t.Errorf("%d requests, %d records, %d requests lost (the client got %v); the tap's server logged: %.200s",
			sent.Load(), recorded, lost.Load(), firstErr.Load(), logged.String())
	}
}
