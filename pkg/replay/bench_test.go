package replay

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/llmtap/llmtap/internal/cputime"
	"github.com/llmtap/llmtap/pkg/proxy"
	"github.com/llmtap/llmtap/pkg/record"
)

// nopSink encodes each record, as llmreplay's sink does, and drops it.
type nopSink struct{}

func (nopSink) Record(rec *record.Record) { proxy.LineSink{W: dropLines{}}.Record(rec) }

// dropLines is a LineWriter that gives each line's buffer back at once.
type dropLines struct{}

func (dropLines) Write(line []byte) error { proxy.Release(line); return nil }

// benchAnswer is scripts/benchreplay's answer: about 1 KB of JSON.
var benchAnswer = `{"id":"chatcmpl-bench","object":"chat.completion","created":1767225600,"model":"bench-plain","choices":[{"index":0,"message":{"role":"assistant","content":"` +
	strings.Repeat("Hello there. ", 60) + `"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":120,"total_tokens":132}}`

func benchUpstream(b *testing.B) *httptest.Server {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(benchAnswer)))
		_, _ = io.WriteString(w, benchAnswer)
	}))
	b.Cleanup(up.Close)
	return up
}

var benchReq = Request{Of: "x", Method: "POST", Path: "/v1/chat/completions",
	Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`)}

// BenchmarkSend is one replayed request through the Tap, its record
// encoded, 32 at a time (the CPU time per request includes the upstream's,
// in the same process); BenchmarkClient is the same request without the
// Tap. The difference is what recording every exchange with llmtap's own
// code costs a replay.
func BenchmarkSend(b *testing.B) {
	up := benchUpstream(b)
	s, err := NewSender(proxy.Config{Upstream: up.URL, Sink: nopSink{}})
	if err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(16)
	b.ReportAllocs()
	start := cputime.Self()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.Send(context.Background(), &benchReq, Plan{Scheduled: time.Now()})
		}
	})
	s.Wait()
	cputime.Report(b, start)
}

// BenchmarkClient is the same request with a bare http.Client.
func BenchmarkClient(b *testing.B) {
	up := benchUpstream(b)
	c := &http.Client{Transport: proxy.NewTransport(10 * time.Second)}
	b.SetParallelism(16)
	b.ReportAllocs()
	start := cputime.Self()
	defer cputime.Report(b, start)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", up.URL+"/v1/chat/completions", strings.NewReader(string(benchReq.Body)))
			req.Header = benchReq.Header.Clone()
			res, err := c.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
	})
}
