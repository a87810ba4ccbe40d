package proxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmtap/llmtap/pkg/decompress"
	"github.com/llmtap/llmtap/pkg/record"
)

type exchangeKey struct{}

// exchange is the state of one client request and its response while it is
// forwarded. Fields set by the trace hooks, which run on other goroutines,
// are atomic; the watch* fields belong to the Tap's silenceWatch; the rest
// belong to the handler goroutine.
type exchange struct {
	tap    *Tap
	in     *http.Request
	start  time.Time
	id     string
	ctx    context.Context
	cancel context.CancelCauseFunc

	upstreamURL string
	reqBody     *requestBody
	res         *http.Response
	resBody     *responseBody
	err         *record.Error // set by upstreamError

	ttfb atomic.Int64 // nanoseconds since start; 0 = no byte yet
	// silence watches the upstream's silence; nil when unlimited. heard
	// is when the upstream last said something, in nanoseconds since
	// start, and silenceState whether the exchange is watched.
	silence      *silenceWatch
	heard        atomic.Int64
	silenceState atomic.Int32
	// The exchange's place among silence's armed exchanges.
	watchPrev, watchNext *exchange
	watched              bool
	// wholeBody is the request body read whole (wholeBodyLimit), which
	// outbound gives the Transport in place of the client's stream.
	wholeBody io.ReadCloser
	// client is the handler's writer as the proxy writes to it (see
	// clientWriter); finish flushes it before it waits for the output.
	// Its ResponseWriter is nil for Forward, which has no client.
	client clientWriter
	once   sync.Once
	hooks  httptrace.ClientTrace // see trace
}

func (t *Tap) newExchange(r *http.Request) *exchange {
	start := time.Now()
	ex := &exchange{tap: t, in: r, start: start, id: t.newID(start)}
	if t.cfg.IdleTimeout > 0 {
		ex.silence = &t.silence // armed once the request is sent
	}
	return ex
}

// The states of an exchange's silence watch.
const (
	silenceUnarmed = iota
	silenceArmed
	silenceOver // quiet: the upstream has nothing more to say
)

func exchangeFrom(ctx context.Context) *exchange {
	ex, _ := ctx.Value(exchangeKey{}).(*exchange)
	return ex
}

// touch notes that the upstream just said something, and arms the
// silence watch the first time.
func (ex *exchange) touch() { ex.heardAt(time.Since(ex.start)) }

// heardAt is touch for a time since start already read.
//
// Resetting a timer on every chunk cost more than the rest of a chunk's
// capture (the timer's lock and heap); the time is noted instead, and the
// watch, when its timer fires, looks at it.
func (ex *exchange) heardAt(at time.Duration) {
	if ex.silence == nil {
		return
	}
	ex.heard.Store(int64(at))
	if ex.silenceState.Load() == silenceUnarmed && ex.silenceState.CompareAndSwap(silenceUnarmed, silenceArmed) {
		ex.silence.arm(ex)
	}
}

// clientWriter is the client's ResponseWriter as the proxy sees it. A
// stream is flushed on every write, so each chunk reaches the client at
// once; but when the upstream's last chunk came in the same read as the
// end of its body, the flush after it is left to net/http, which sends it
// with the end of the response as soon as the handler returns: one write
// to the client where there were two. Only once the head has gone: a
// response not yet flushed at all would get a Content-Length from net/http
// instead of the chunks the upstream sent.
type clientWriter struct {
	http.ResponseWriter
	ex      *exchange
	flushed atomic.Bool // the head has gone to the client
	held    atomic.Bool // a flush was left to net/http
}

func (w *clientWriter) FlushError() error {
	if b := w.ex.resBody; b != nil && b.eof.Load() && w.flushed.Load() {
		w.held.Store(true)
		return nil
	}
	err := http.NewResponseController(w.ResponseWriter).Flush()
	w.flushed.Store(true)
	return err
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *clientWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// flushClient sends the client what of the answer still sits in the
// server's buffer (bodyFlushInterval holds a known-length body back, and
// clientWriter a stream's last chunk).
func (ex *exchange) flushClient() { _ = http.NewResponseController(ex.client.ResponseWriter).Flush() }

// quiet stops watching the upstream's silence for good: it has nothing
// more to say.
func (ex *exchange) quiet() {
	if ex.silence != nil && ex.silenceState.Swap(silenceOver) == silenceArmed {
		ex.silence.disarm(ex)
	}
}

// rewrite is the proxy's Rewrite hook: outbound, then the trace that times
// the exchange.
func (t *Tap) rewrite(pr *httputil.ProxyRequest) {
	ex := exchangeFrom(pr.In.Context())
	t.outbound(ex, pr.In, pr.Out)
	pr.Out = pr.Out.WithContext(httptrace.WithClientTrace(pr.Out.Context(), ex.trace()))
}

// outbound points out, the request to send for in (with its own URL and
// Header), at the upstream (see upstreamPath), keeps the client's query and
// forwarding headers byte for byte, and gives it the request body read
// whole, if it was. ServeHTTP (through the proxy's Rewrite hook) and
// Forward both prepare their requests so.
func (t *Tap) outbound(ex *exchange, in, out *http.Request) {
	if ex.wholeBody != nil {
		// Here, not before: the proxy wraps the body it is given, and the
		// Transport sends the head apart unless the body is one it knows
		// is in memory.
		out.Body = ex.wholeBody
	}
	u := out.URL
	u.Scheme = t.base.Scheme
	u.Host = t.base.Host
	u.RawPath = upstreamPath(t.basePath, in.URL.EscapedPath())
	u.Path, _ = url.PathUnescape(u.RawPath) // the server already rejected bad escapes
	u.User = nil                            // never the userinfo of an absolute-form request target
	u.RawQuery = joinQuery(t.base.RawQuery, in.URL.RawQuery)
	u.ForceQuery = false
	out.Host = "" // send the upstream's host, as an API expects
	if user := t.base.User; user != nil && out.Header.Get("Authorization") == "" {
		// http.Transport ignores URL.User; a service behind basic auth
		// (or a bare token in the URL) needs the header. The client's own
		// Authorization, when it sends one, wins.
		password, _ := user.Password()
		out.SetBasicAuth(user.Username(), password)
	}

	// The proxy's Rewrite mode strips these before calling its hook; a tap
	// is transparent.
	for _, h := range forwardingHeaders {
		if v, ok := in.Header[h]; ok {
			out.Header[h] = v
		}
	}
	ex.upstreamURL = u.String()
}

// forwardingHeaders are the headers httputil.ReverseProxy's Rewrite mode
// removes from the outgoing request.
var forwardingHeaders = [...]string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto"}

// trace returns the hooks that note when the request was sent and when the
// first byte of the answer came.
func (ex *exchange) trace() *httptrace.ClientTrace {
	ex.hooks = httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { ex.touch() },
		GotFirstResponseByte: func() {
			ex.ttfb.CompareAndSwap(0, max(int64(time.Since(ex.start)), 1))
			ex.touch()
		},
	}
	return &ex.hooks
}

// captureResponse is the proxy's ModifyResponse hook; see
// exchange.captureResponse.
func (t *Tap) captureResponse(res *http.Response) error {
	exchangeFrom(res.Request.Context()).captureResponse(res)
	return nil
}

// captureResponse runs once the upstream's headers are in (hop-by-hop
// headers already removed): it wraps the body to capture it as it is read.
func (ex *exchange) captureResponse(res *http.Response) {
	ex.res = res
	if res.StatusCode == http.StatusSwitchingProtocols || res.Body == nil || res.Body == http.NoBody {
		// An upgraded connection's body must stay the raw connection for
		// the proxy to splice it; it is not captured.
		ex.quiet()
		return
	}
	ex.resBody = &responseBody{rc: res.Body, ex: ex, capture: ex.tap.newCapture(), timed: isStreamed(res)}
	res.Body = ex.resBody
}

// isStreamed reports whether a response is streamed, as every reader of
// the record will decide it; its chunk timing is recorded.
func isStreamed(res *http.Response) bool {
	return record.Streamed(res.Header.Get("Content-Type"), res.ContentLength)
}

// upstreamError is the proxy's ErrorHandler: it answers the client when no
// response came from upstream (see exchange.upstreamFailed).
func (t *Tap) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	ex := exchangeFrom(r.Context())
	status, kind, msg := ex.upstreamFailed(r.Context(), err)
	if status == 0 {
		return // the client is gone; there is nobody to answer
	}
	writeError(w, status, kind, msg)
}

// upstreamFailed notes for the record why no response came from upstream,
// and returns what to answer the client with (status 0: nobody to answer).
// ctx is the outgoing request's.
func (ex *exchange) upstreamFailed(ctx context.Context, err error) (status int, kind, msg string) {
	t := ex.tap
	ex.quiet()
	kind, status, err = ex.failure(ctx, err, false)
	msg = t.errorMessage(kind, err)
	if status == http.StatusBadRequest {
		msg = "llmtap: the request body could not be read: " + err.Error()
	}
	ex.err = &record.Error{Kind: kind, Message: msg}
	if kind == record.KindUpstreamUnreachable && ex.reqBody != nil && ex.reqBody.untouched() {
		ex.reqBody.drain(t.cfg.MaxBody)
	}
	return status, kind, msg
}

// finish gathers what was received into a record. It runs deferred, so it
// also runs when the proxy aborts a failed stream. For a client's exchange
// (ServeHTTP) the costly part (decoding a compressed body, encoding,
// writing) runs after the handler has returned, so the client's response
// ends without waiting for the record. With no client (Forward), it runs
// here, on the caller's goroutine, which waits for it anyway.
func (ex *exchange) finish() {
	ex.once.Do(func() {
		ex.quiet()
		t := ex.tap
		rec := &record.Record{
			ID:          ex.id,
			Start:       ex.start,
			End:         time.Now(),
			Method:      ex.in.Method,
			Path:        ex.in.URL.EscapedPath(),
			Query:       t.redactor.Query(ex.in.URL.RawQuery),
			UpstreamURL: t.redactor.URL(ex.upstreamURL),
			Client:      ex.in.RemoteAddr,
			Error:       ex.err,
		}
		if ns := ex.ttfb.Load(); ns > 0 {
			rec.TTFB, rec.HasTTFB = time.Duration(ns), true
		}
		rec.Request.Headers = t.headers(ex.in.Header, ex.in.Host)
		if t.cfg.Annotate != nil {
			t.cfg.Annotate(ex.in, rec)
		}
		var reqCapture, resCapture capture
		if b := ex.reqBody; b != nil {
			reqCapture = b.detach()
		}
		contentEncoding := ""
		if res := ex.res; res != nil {
			rec.Response = &record.Response{Status: res.StatusCode, Headers: t.headers(res.Header, "")}
			contentEncoding = res.Header.Get("Content-Encoding")
			if b := ex.resBody; b != nil {
				resCapture = b.capture.detach()
				rec.Response.Timing = b.timing
				if rec.Error == nil && !b.eof.Load() {
					kind, _, _ := ex.failure(ex.ctx, b.readErr, true)
					rec.Error = &record.Error{Kind: kind, Message: t.errorMessage(kind, b.readErr)}
				}
			}
		}

		if ex.client.ResponseWriter == nil {
			t.deliver(rec, reqCapture, resCapture, contentEncoding)
			return
		}
		select {
		case t.pending <- struct{}{}:
		default:
			// Back-pressure: many records wait for the output, and this
			// handler waits with them. A small answer may still sit in the
			// server's buffer (bodyFlushInterval); the client gets it first.
			ex.flushClient()
			t.pending <- struct{}{}
		}
		t.inflight.Add(1)
		go func() {
			defer func() {
				<-t.pending
				t.inflight.Done()
			}()
			t.deliver(rec, reqCapture, resCapture, contentEncoding)
		}()
	})
}

// deliver puts the captured bodies into rec, notes a body that could not
// be kept whole, hands rec to the sink and releases the captures.
func (t *Tap) deliver(rec *record.Record, reqCapture, resCapture capture, contentEncoding string) {
	var decoded capture
	defer func() {
		reqCapture.release()
		resCapture.release()
		decoded.release()
	}()
	rec.Request.Body = reqCapture.body()
	if rec.Response != nil {
		rec.Response.Body, decoded = t.decoded(&resCapture, contentEncoding)
	}
	spillErr := errors.Join(reqCapture.spillErr, resCapture.spillErr, decoded.spillErr)
	switch {
	case rec.Error != nil:
	case spillErr != nil:
		rec.Error = &record.Error{Kind: record.KindBodyTruncated,
			Message: "a body could not be kept whole: " + spillErr.Error()}
	case rec.Request.Body.Truncated || rec.Response != nil && rec.Response.Body.Truncated:
		rec.Error = &record.Error{Kind: record.KindBodyTruncated, Message: t.errorMessage(record.KindBodyTruncated, nil)}
	}
	t.cfg.Sink.Record(rec)
}

// decoded returns the body as the record keeps it: decoded when the
// upstream compressed it, the wire bytes with the reason when that fails.
// The decoded bytes are captured like a body (kept up to MaxBody, spilled
// past the threshold); the capture returned holds them, to be released
// once the record is written. The wire capture is released once decoded.
func (t *Tap) decoded(wire *capture, contentEncoding string) (record.Body, capture) {
	b := wire.body()
	if wire.kept == 0 || contentEncoding == "" {
		return b, capture{} // nothing to decode: no need of a buffer
	}
	out := t.newCapture()
	bp := t.copies.Get()
	res, err := decompress.DecodeTo(&out, wire.reader(), contentEncoding, t.cfg.MaxBody, bp)
	t.copies.Put(bp)
	if res.Identity {
		return b, capture{}
	}
	b.ContentEncoding = strings.TrimSpace(strings.ToLower(contentEncoding))
	if err != nil {
		// A cut stream decodes up to the cut; say where it stopped.
		b.DecodeError = err.Error()
	}
	if err != nil && out.kept == 0 && out.spillErr == nil {
		out.release()
		return b, capture{}
	}
	d := out.body()
	d.WireBytes = b.WireBytes
	d.ContentEncoding = b.ContentEncoding
	d.DecodeError = b.DecodeError
	d.Truncated = b.Truncated || res.Truncated || out.truncated
	wire.release()
	return d, out
}

// headers returns h as the record keeps it: lower-case names, sorted,
// repeated values joined with ", ", secrets masked. host, when set, is the
// request's Host, which net/http keeps apart from the header map.
func (t *Tap) headers(h http.Header, host string) []record.Header {
	out := make([]record.Header, 0, len(h)+1)
	if host != "" {
		out = append(out, record.Header{Name: "host", Value: host})
	}
	for name, values := range h {
		lname := lowerName(name)
		out = append(out, record.Header{Name: lname, Value: t.redactor.HeaderValue(lname, strings.Join(values, ", "))})
	}
	slices.SortFunc(out, func(a, b record.Header) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// commonNames maps the canonical form of headers most exchanges carry to
// the record's lower-case form, so that lowerName need not allocate it.
var commonNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{
		"Accept", "Accept-Encoding", "Anthropic-Version", "Authorization", "Cache-Control",
		"Connection", "Content-Encoding", "Content-Length", "Content-Type", "Date", "Openai-Organization",
		"Openai-Processing-Ms", "Openai-Version", "Request-Id", "Server", "User-Agent", "Vary",
		"X-Api-Key", "X-Request-Id", "X-Stainless-Arch", "X-Stainless-Lang", "X-Stainless-Os",
		"X-Stainless-Package-Version", "X-Stainless-Retry-Count", "X-Stainless-Runtime",
		"X-Stainless-Runtime-Version",
	} {
		m[n] = strings.ToLower(n)
	}
	return m
}()

// lowerName is strings.ToLower(name), without an allocation for common
// header names.
func lowerName(name string) string {
	if l, ok := commonNames[name]; ok {
		return l
	}
	return strings.ToLower(name)
}

// failure names what ended the exchange early, as classify does, except
// that a client body that broke (malformed chunking, a client hanging up
// mid-upload) comes first: whatever the upstream did next, that was the
// client's doing. It then answers 400 and gives the body's error as cause.
func (ex *exchange) failure(ctx context.Context, err error, midBody bool) (kind string, status int, cause error) {
	if ex.reqBody != nil {
		if bodyErr := ex.reqBody.readErr(); bodyErr != nil {
			return record.KindClientCancelled, http.StatusBadRequest, bodyErr
		}
	}
	kind, status = classify(ctx, err, midBody)
	return kind, status, err
}

// classify names what ended an exchange early and the status to answer
// with (0: the client is gone). midBody is true when the response had
// started and a body read failed or stopped.
func classify(ctx context.Context, err error, midBody bool) (kind string, status int) {
	if ctx.Err() != nil {
		switch cause := context.Cause(ctx); {
		case errors.Is(cause, errUpstreamSilent):
			return record.KindUpstreamTimeout, http.StatusGatewayTimeout
		case errors.Is(cause, ErrShutdown):
			return record.KindShutdown, http.StatusServiceUnavailable
		default:
			return record.KindClientCancelled, 0
		}
	}
	if midBody {
		if err == nil {
			// The body read was fine, so writing to the client failed.
			return record.KindClientCancelled, 0
		}
		return record.KindUpstreamAborted, 0
	}
	if isDialError(err) {
		return record.KindUpstreamUnreachable, http.StatusBadGateway
	}
	return record.KindUpstreamAborted, http.StatusBadGateway
}
