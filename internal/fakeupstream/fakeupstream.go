package fakeupstream

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"
)

// Created is the Unix time every answer carries in its "created",
// "created_at" or similar field (2026-01-01T00:00:00Z), so answers are
// byte-deterministic.
const Created int64 = 1767225600

// Options configures a [Handler]. The zero value is a silent handler.
type Options struct {
	// Log, if not nil, is called once per request with a one-line summary
	// (method, path and the knobs in effect). It may be called from many
	// goroutines at once.
	Log func(format string, args ...any)

	// Seen, if not nil, is called with each request and its whole body as
	// the handler received them, before any answer is written. It lets a test
	// check what a proxy forwarded. It may be called from many goroutines at
	// once and must not keep r after it returns; body is the caller's to keep.
	Seen func(r *http.Request, body []byte)
}

// Handler is the fake upstream. Create it with [New]; it is safe for
// concurrent use.
type Handler struct {
	opts Options
}

var _ http.Handler = (*Handler)(nil)

// New returns a fake upstream that serves the endpoints and knobs described in
// the package documentation.
func New(opts Options) *Handler {
	return &Handler{opts: opts}
}

// ServeHTTP answers one request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		// The client went away while sending; there is no one to answer.
		return
	}
	if h.opts.Seen != nil {
		h.opts.Seen(r, body)
	}
	k, knobErr := parseKnobs(r.Header)
	if h.opts.Log != nil {
		h.opts.Log("%s %s%s", r.Method, r.URL.Path, k)
	}
	w.Header().Set("X-Request-Id", "req_fake_1")
	if !k.gzip {
		h.serve(w, r, body, k, knobErr)
		return
	}
	gw := newGzipWriter(w)
	h.serve(gw, r, body, k, knobErr)
	// Not deferred: after a deliberate abort (a panic) the gzip stream must
	// stay unfinished, like the chunked body around it.
	gw.close()
}

// serve answers after the knobs have been read; knobErr is a bad knob value.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, body []byte, k knobs, knobErr error) {
	api := apiForPath(r.URL.Path)
	switch {
	case knobErr != nil:
		writeError(w, api, http.StatusBadRequest, knobErr.Error())
		return
	case k.status != 0:
		writeError(w, api, k.status, "")
		return
	case k.binary >= 0:
		writeBinary(r.Context(), w, k)
		return
	}
	route, ok := routes[r.URL.Path]
	if !ok {
		writeError(w, apiOpenAI, http.StatusNotFound,
			fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path))
		return
	}
	if r.Method != route.method {
		writeError(w, api, http.StatusMethodNotAllowed,
			fmt.Sprintf("Invalid method for URL (%s %s)", r.Method, r.URL.Path))
		return
	}
	ex := &exchange{w: w, r: r, body: body, k: k}
	if err := route.serve(ex); err != nil {
		writeError(w, api, http.StatusBadRequest, err.Error())
	}
}

// exchange is what an API handler needs to answer one request.
type exchange struct {
	w    http.ResponseWriter
	r    *http.Request
	body []byte
	k    knobs
}

// route is one endpoint: the method it accepts and the function that answers.
// serve returns an error only for a bad request body, before writing anything.
type route struct {
	method string
	serve  func(ex *exchange) error
}

var routes = map[string]route{
	"/v1/chat/completions": {http.MethodPost, serveChat},
	"/v1/completions":      {http.MethodPost, serveCompletions},
	"/v1/embeddings":       {http.MethodPost, serveEmbeddings},
	"/v1/models":           {http.MethodGet, serveModels},
	"/v1/responses":        {http.MethodPost, serveResponses},
	"/v1/messages":         {http.MethodPost, serveMessages},
}

// knobs are the fault and shape controls read from the X-Fake-* headers.
// Zero or -1 means "not asked for", as noted per field.
type knobs struct {
	status     int           // 0: off
	delay      time.Duration // 0: off
	chunks     int           // 0: default
	abortAfter int           // -1: off
	gzip       bool
	binary     int // -1: off
	size       int // 0: off
	hang       bool
}

// String lists the knobs in effect, for the log line.
func (k knobs) String() string {
	var b bytes.Buffer
	if k.status != 0 {
		fmt.Fprintf(&b, " status=%d", k.status)
	}
	if k.delay != 0 {
		fmt.Fprintf(&b, " delay=%s", k.delay)
	}
	if k.chunks != 0 {
		fmt.Fprintf(&b, " chunks=%d", k.chunks)
	}
	if k.abortAfter >= 0 {
		fmt.Fprintf(&b, " abort-after=%d", k.abortAfter)
	}
	if k.gzip {
		b.WriteString(" gzip")
	}
	if k.binary >= 0 {
		fmt.Fprintf(&b, " binary=%d", k.binary)
	}
	if k.size != 0 {
		fmt.Fprintf(&b, " size=%d", k.size)
	}
	if k.hang {
		b.WriteString(" hang")
	}
	return b.String()
}

// parseKnobs reads the X-Fake-* headers. On a bad value it returns the knobs
// read so far and an error naming the header.
func parseKnobs(h http.Header) (knobs, error) {
	k := knobs{abortAfter: -1, binary: -1}
	ints := []struct {
		name     string
		dst      *int
		min, max int
	}{
		{"X-Fake-Status", &k.status, 400, 599},
		{"X-Fake-Chunks", &k.chunks, 1, 1 << 30},
		{"X-Fake-Abort-After", &k.abortAfter, 0, 1 << 30},
		{"X-Fake-Binary", &k.binary, 0, min(1<<40, math.MaxInt)}, // 1 TiB, or what an int holds
		{"X-Fake-Size", &k.size, 0, min(1<<40, math.MaxInt)},
	}
	for _, f := range ints {
		v := h.Get(f.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < f.min || n > f.max {
			return k, fmt.Errorf("bad %s header %q: want an integer from %d to %d", f.name, v, f.min, f.max)
		}
		*f.dst = n
	}
	if v := h.Get("X-Fake-Chunk-Delay"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return k, fmt.Errorf("bad X-Fake-Chunk-Delay header %q: want a duration such as 100ms", v)
		}
		k.delay = d
	}
	bools := []struct {
		name string
		dst  *bool
	}{
		{"X-Fake-Gzip", &k.gzip},
		{"X-Fake-Hang", &k.hang},
	}
	for _, f := range bools {
		v := h.Get(f.name)
		if v == "" {
			continue
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return k, fmt.Errorf("bad %s header %q: want 1 or 0", f.name, v)
		}
		*f.dst = b
	}
	return k, nil
}

// marshal encodes v as compact JSON without HTML escaping, as the real
// services write it.
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only our own types are encoded here; they always encode.
		panic(fmt.Sprintf("fakeupstream: encode %T: %v", v, err))
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// writeJSON writes a complete JSON answer, honouring the abort, hang and size
// knobs (size is applied by the caller, which knows how to grow the text).
func writeJSON(ex *exchange, status int, body []byte) {
	w := ex.w
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body))) // gzipWriter drops it
	w.WriteHeader(status)
	switch {
	case ex.k.hang:
		flush(w)
		<-ex.r.Context().Done()
	case ex.k.abortAfter >= 0 && ex.k.abortAfter < len(body):
		w.Write(body[:ex.k.abortAfter])
		flush(w)
		panic(http.ErrAbortHandler)
	default:
		w.Write(body)
	}
}

// flush sends what has been written so far to the client. It ignores errors:
// a client that went away is noticed through the request context.
func flush(w http.ResponseWriter) {
	_ = http.NewResponseController(w).Flush()
}

// sleep waits for d or until ctx is done, and reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// sseWriter writes server-sent events, one flush per event, and applies the
// delay, abort and hang knobs. Its error is sticky: once the client has gone
// away or a write failed, every later event is a no-op and ok reports false.
type sseWriter struct {
	w      http.ResponseWriter
	ctx    context.Context
	k      knobs
	events int   // events written
	n      int64 // bytes written
	err    error
	buf    []byte
}

// startStream writes the headers of an event stream and returns its writer.
func startStream(ex *exchange) *sseWriter {
	h := ex.w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	ex.w.WriteHeader(http.StatusOK)
	flush(ex.w)
	if ex.k.abortAfter == 0 {
		panic(http.ErrAbortHandler)
	}
	return &sseWriter{w: ex.w, ctx: ex.r.Context(), k: ex.k}
}

// ok reports whether the stream can still be written.
func (s *sseWriter) ok() bool { return s.err == nil }

// event writes one event: "event: NAME\n" when name is not empty, then
// "data: DATA\n\n", and flushes it.
func (s *sseWriter) event(name string, data []byte) {
	if s.err != nil {
		return
	}
	if s.events > 0 && !sleep(s.ctx, s.k.delay) || s.ctx.Err() != nil {
		s.err = context.Cause(s.ctx)
		return
	}
	s.buf = s.buf[:0]
	if name != "" {
		s.buf = append(s.buf, "event: "...)
		s.buf = append(s.buf, name...)
		s.buf = append(s.buf, '\n')
	}
	s.buf = append(s.buf, "data: "...)
	s.buf = append(s.buf, data...)
	s.buf = append(s.buf, "\n\n"...)
	n, err := s.w.Write(s.buf)
	s.n += int64(n)
	if err != nil {
		s.err = err
		return
	}
	if err := http.NewResponseController(s.w).Flush(); err != nil {
		s.err = err
		return
	}
	s.events++
	switch {
	case s.events == s.k.abortAfter:
		panic(http.ErrAbortHandler)
	case s.k.hang:
		<-s.ctx.Done()
		s.err = context.Cause(s.ctx)
	}
}

// json writes one event whose data is v encoded as JSON.
func (s *sseWriter) json(name string, v any) {
	if s.err != nil {
		return
	}
	s.event(name, marshal(v))
}

// gzipWriter compresses a response. Flush flushes the compressor first, so a
// compressed stream still reaches the client event by event.
type gzipWriter struct {
	http.ResponseWriter
	gz          *gzip.Writer
	wroteHeader bool
}

func newGzipWriter(w http.ResponseWriter) *gzipWriter {
	return &gzipWriter{ResponseWriter: w, gz: gzip.NewWriter(w)}
}

func (g *gzipWriter) WriteHeader(code int) {
	if !g.wroteHeader {
		g.wroteHeader = true
		g.Header().Set("Content-Encoding", "gzip")
		g.Header().Del("Content-Length")
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *gzipWriter) Write(p []byte) (int, error) {
	if !g.wroteHeader {
		g.WriteHeader(http.StatusOK)
	}
	return g.gz.Write(p)
}

// FlushError is what [http.ResponseController.Flush] calls.
func (g *gzipWriter) FlushError() error {
	if err := g.gz.Flush(); err != nil {
		return err
	}
	return http.NewResponseController(g.ResponseWriter).Flush()
}

// Unwrap lets [http.ResponseController] reach the connection underneath.
func (g *gzipWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }

// close finishes the gzip stream after a normal answer.
func (g *gzipWriter) close() {
	if !g.wroteHeader {
		g.WriteHeader(http.StatusOK)
	}
	g.gz.Close()
}

// writeBinary answers X-Fake-Binary: n bytes that are not valid UTF-8.
func writeBinary(ctx context.Context, w http.ResponseWriter, k knobs) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(k.binary)) // gzipWriter drops it
	w.WriteHeader(http.StatusOK)
	buf := make([]byte, min(k.binary, 32<<10))
	for i := range buf {
		// Counts down from 0xff, a byte that never occurs in UTF-8.
		buf[i] = byte(0xff - i)
	}
	for left := k.binary; left > 0 && ctx.Err() == nil; {
		n, err := w.Write(buf[:min(left, len(buf))])
		if err != nil {
			return
		}
		left -= n
	}
}
