package proxy

import (
	"encoding/json"
	"net/http"
	"sync"

	"github.com/llmtap/llmtap/pkg/record"
)

// LineWriter takes ownership of one encoded record line; jsonl.Writer is one.
type LineWriter interface {
	Write(line []byte) error
}

// LineSink encodes each record as one JSON line, in the exchange's own
// goroutine (so encoding runs in parallel and never on the writer's
// goroutine), and hands it to W. Pass Release as the writer's release hook
// so line buffers are reused.
type LineSink struct {
	W LineWriter
}

var _ Sink = LineSink{}

var lineBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// Record encodes rec and queues it. A failed writer has already reported its
// failure (and the program is stopping), so the error is not repeated here.
func (s LineSink) Record(rec *record.Record) {
	bp := lineBuffers.Get().(*[]byte)
	line := rec.AppendJSON((*bp)[:0])
	_ = s.W.Write(line)
}

// Release returns a written line's buffer to the pool.
func Release(line []byte) {
	if cap(line) <= maxPooledCapture {
		line = line[:0]
		lineBuffers.Put(&line)
	}
}

// WithHealth serves GET and HEAD /healthz locally with info as a JSON object
// and passes every other request to next. Other methods on /healthz are
// forwarded like any path.
func WithHealth(next http.Handler, info map[string]string) http.Handler {
	all := map[string]string{"status": "ok"}
	for k, v := range info {
		all[k] = v
	}
	body, _ := json.Marshal(all)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
			return
		}
		next.ServeHTTP(w, r)
	})
}
