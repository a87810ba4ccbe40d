package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/llmtap/llmtap/pkg/record"
)

// discard is a Sink that encodes each record, as llmtap does, and drops it.
type discard struct{}

func (discard) Record(rec *record.Record) {
	bp := lineBuffers.Get().(*[]byte)
	line := rec.AppendJSON((*bp)[:0])
	Release(line)
}

// benchProxies runs the same streamed exchange through a bare
// httputil.ReverseProxy (the floor for a Go proxy) and through the Tap, so
// the two can be compared in one run (go test -bench Proxy -benchtime 3s).
func BenchmarkProxySSE(b *testing.B) {
	chunks := make([]string, 20)
	for i := range chunks {
		chunks[i] = `data: {"choices":[{"index":0,"delta":{"content":"token"}}]}` + "\n\n"
	}
	upstream := httptest.NewServer(streamHandler(chunks, 0))
	defer upstream.Close()
	target, _ := url.Parse(upstream.URL)
	bare := &httputil.ReverseProxy{
		Rewrite:       func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		Transport:     NewTransport(0),
		FlushInterval: -1,
	}
	tap, err := New(Config{Upstream: upstream.URL + "/v1", Sink: discard{}, IdleTimeout: 300e9})
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		h    http.Handler
	}{{"bare", fullDuplex(bare)}, {"tap", tap}} {
		b.Run(tc.name, func(b *testing.B) {
			front := httptest.NewServer(tc.h)
			defer front.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					res, err := client.Post(front.URL+"/v1/chat/completions", "application/json", strings.NewReader(`{"stream":true}`))
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, res.Body)
					_ = res.Body.Close()
				}
			})
		})
	}
}

// fullDuplex gives the bare proxy the same net/http setting the Tap uses
// (golang/go#40747), so the comparison is fair.
func fullDuplex(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).EnableFullDuplex()
		h.ServeHTTP(w, r)
	})
}
