package proxy

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"

	"github.com/llmtap/llmtap/pkg/record"
)

// LineWriter takes ownership of one encoded record line; jsonl.Writer is one.
type LineWriter interface {
	Write(line []byte) error
}

// FuncWriter is a LineWriter that can also run a function that writes one
// line, in order with the others, and return once it has run;
// jsonl.Writer is one. LineSink writes records with a spilled body so.
type FuncWriter interface {
	LineWriter
	WriteFunc(fn func(io.Writer) error) error
}

// LineSink encodes each record as one JSON line, in the exchange's own
// goroutine (so encoding runs in parallel and never on the writer's
// goroutine), and hands it to W. Pass Release as the writer's release hook
// so line buffers are reused.
//
// A record with a body spilled to a temporary file (record.Source) is not
// encoded in memory when W is a FuncWriter: its bodies are scanned here,
// and the writer's goroutine streams the line to the output with
// rec.WriteJSON; Record returns once it is written, and the files are
// closed after. The memory a large body costs is then a few buffers.
type LineSink struct {
	W LineWriter
}

var _ Sink = LineSink{}

// maxPooledLine is the largest line buffer kept for reuse.
const maxPooledLine = 1 << 20

var lineBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// Record encodes rec and queues it. A failed writer has already reported its
// failure (and the program is stopping), so the error is not repeated here.
func (s LineSink) Record(rec *record.Record) {
	if fw, ok := s.W.(FuncWriter); ok && rec.HasSource() {
		rec.Prepare()
		_ = fw.WriteFunc(rec.WriteJSON)
		return
	}
	bp := lineBuffers.Get().(*[]byte)
	line := rec.AppendJSON((*bp)[:0])
	_ = s.W.Write(line)
}

// Release returns a written line's buffer to the pool.
func Release(line []byte) {
	if cap(line) <= maxPooledLine {
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
