package proxy

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/llmtap/llmtap/internal/cputime"
	"github.com/llmtap/llmtap/pkg/record"
)

// discard is a Sink that encodes each record, as llmtap does, and drops it.
type discard struct{}

func (discard) Record(rec *record.Record) {
	bp := lineBuffers.Get().(*[]byte)
	line := rec.AppendJSON((*bp)[:0])
	Release(line)
}

// benchEvents returns n SSE events of a chat completion stream; small ones
// carry one short token each, as a reasoning model sends them.
func benchEvents(n int, small bool) []string {
	chunks := make([]string, n)
	for i := range chunks {
		if small {
			chunks[i] = fmt.Sprintf(`data: {"choices":[{"index":0,"delta":{"reasoning_content":"t%d"}}]}`+"\n\n", i%10)
			continue
		}
		chunks[i] = fmt.Sprintf(`data: {"id":"chatcmpl-bench0001","object":"chat.completion.chunk","created":1767225600,"model":"bench",`+
			`"choices":[{"index":0,"delta":{"content":"tok%02d "},"logprobs":null,"finish_reason":null}]}`+"\n\n", i%100)
	}
	return chunks
}

// bareProxy is scripts/bareproxy in process: httputil.ReverseProxy with
// streaming and untouched bodies, nothing recorded.
func bareProxy(upstream string) http.Handler {
	target, _ := url.Parse(upstream)
	return fullDuplex(&httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.URL.RawQuery = pr.In.URL.RawQuery
		},
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			DisableCompression:  true,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
		},
		FlushInterval: -1,
	})
}

// BenchmarkProxy runs the same exchanges through a bare
// httputil.ReverseProxy (the floor for a Go proxy) and through the Tap, so
// the two can be compared in one run:
//
//	go test -run '^$' -bench BenchmarkProxy -benchtime 2000x -benchmem ./pkg/proxy/
//
// Upstream, proxy and client share the process, so cpu-µs/op counts all
// three; the upstream's and the client's share is the same for both
// proxies, and the difference is what the Tap adds. cpu-µs/op is steadier
// than ns/op on a shared machine.
func BenchmarkProxy(b *testing.B) {
	for _, c := range []struct {
		name   string
		chunks []string // nil: a plain JSON answer
	}{
		{"sse50", benchEvents(50, false)},
		{"sse200small", benchEvents(200, true)},
		{"plain", nil},
	} {
		h := streamHandler(c.chunks, 0)
		if c.chunks == nil {
			answer := strings.Repeat(`{"choices":[{"message":{"content":"hello"}}]}`, 20)
			h = func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, answer)
			}
		}
		upstream := httptest.NewServer(h)
		tap, err := New(Config{Upstream: upstream.URL + "/v1", Sink: discard{}, IdleTimeout: 300 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range []struct {
			name string
			h    http.Handler
		}{{"bare", bareProxy(upstream.URL)}, {"tap", tap}} {
			b.Run(c.name+"/"+p.name, func(b *testing.B) { benchExchanges(b, p.h) })
		}
		upstream.Close()
	}
}

func benchExchanges(b *testing.B, h http.Handler) {
	front := httptest.NewServer(h)
	defer front.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	body := `{"model":"bench","stream":true,"messages":[{"role":"user","content":"hello"}]}`
	b.ReportAllocs()
	b.SetParallelism(8) // 16 connections on 2 cores
	cpu0 := cputime.Self()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 32<<10)
		for pb.Next() {
			res, err := client.Post(front.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			for {
				if _, err := res.Body.Read(buf); err != nil {
					break
				}
			}
			_ = res.Body.Close()
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(cputime.Self()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
}

// fullDuplex gives the bare proxy the same net/http setting the Tap uses
// (golang/go#40747), so the comparison is fair.
func fullDuplex(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).EnableFullDuplex()
		h.ServeHTTP(w, r)
	})
}

// eventReader returns one event per Read, as a slow stream arrives.
type eventReader struct {
	event []byte
	left  int
}

func (r *eventReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	r.left--
	return copy(p, r.event), nil
}

func (r *eventReader) Close() error { return nil }

// BenchmarkBodyRead is the Tap's own work per chunk of a streamed answer:
// the read through responseBody (capture, timing, silence timer) of
// streams of 200 events, one chunk a read, against the bare reads.
func BenchmarkBodyRead(b *testing.B) {
	tap, err := New(Config{Upstream: "http://127.0.0.1:1/v1", Sink: discard{}, IdleTimeout: 300 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	event := []byte(benchEvents(1, false)[0])
	const events = 200
	for _, tapped := range []bool{false, true} {
		name := "bare"
		if tapped {
			name = "tap"
		}
		b.Run(name, func(b *testing.B) {
			p := make([]byte, 32<<10)
			src := &eventReader{event: event}
			var body io.Reader = src
			var rb *responseBody
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if i%events == 0 {
					src.left = events
					if tapped {
						if rb != nil {
							rb.capture.release()
						}
						ex := tap.newExchange(httptest.NewRequest("POST", "/v1/chat/completions", nil))
						ex.touch() // armed, as once the request is sent
						rb = &responseBody{rc: src, ex: ex, capture: tap.newCapture(), timed: true}
						body = rb
					}
				}
				if _, err := body.Read(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
