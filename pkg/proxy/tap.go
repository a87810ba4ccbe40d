// Package proxy is llmtap's forwarding core: an httputil.ReverseProxy that
// passes every request to one upstream untouched, streams responses through
// without delay, captures both bodies, and hands one finished record per
// exchange to a Sink. It owns the path rules, the silence timeout and the
// mapping of failures to 502/504 answers and record error kinds. It knows
// nothing of files, signals, flags or Markdown.
package proxy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmtap/llmtap/pkg/record"
	"github.com/llmtap/llmtap/pkg/redact"
)

// ErrShutdown is the cancellation cause the server gives in-flight requests
// when the shutdown grace period is over; their records say "shutdown".
var ErrShutdown = errors.New("llmtap is shutting down")

// errClientGone is the cancellation cause once the client has gone away.
var errClientGone = errors.New("client went away")

// clientGoneGrace is how long the upstream may go on once the client has
// gone away, so that a response already complete on the wire ends cleanly.
const clientGoneGrace = 100 * time.Millisecond

// errUpstreamSilent is the cancellation cause set by the silence watch.
var errUpstreamSilent = errors.New("upstream silent for too long")

// Sink receives each finished record exactly once, from the exchange's own
// goroutine, after the client has been answered (Forward: from its
// caller's goroutine, before Forward returns). It may block
// (back-pressure). It must not keep rec or any slice in it after returning:
// the capture buffers go back to a pool, and a body's record.Source (a
// large body, spilled to a temporary file) is closed.
type Sink interface {
	Record(rec *record.Record)
}

// Config configures a Tap. A limit of zero (ConnectTimeout, IdleTimeout,
// MaxBody) means no limit, as it does for net/http's timeouts; a negative
// one is an error.
type Config struct {
	// Upstream is the base URL every request is forwarded to, e.g.
	// https://api.openai.com/v1. Its query, if any, is kept on every request.
	Upstream string
	// Sink receives the records. Required.
	Sink Sink
	// Transport sends requests upstream. Nil: NewTransport(ConnectTimeout).
	// It must not decompress bodies (http.Transport.DisableCompression).
	Transport http.RoundTripper
	// ConnectTimeout bounds connecting to the upstream, TLS handshake
	// included, when Transport is nil. Zero: no limit but the operating
	// system's own.
	ConnectTimeout time.Duration
	// IdleTimeout is the longest the upstream may stay silent once the
	// request is sent: waiting for headers or between body chunks. It is not
	// a cap on a long stream that keeps talking. Zero: no limit.
	IdleTimeout time.Duration
	// MaxBody is the most bytes of each body kept in a record; the client
	// always gets all of it. Zero: no limit (a body larger than
	// SpillThreshold waits on disk, whatever its size).
	MaxBody int64
	// SpillThreshold is how many bytes of a body are held in memory; a
	// larger body is kept in a temporary file, unlinked at once, and read
	// back into its record, so a big body costs no memory. Zero:
	// DefaultSpillThreshold (1 MiB); negative: never spill.
	SpillThreshold int64
	// TempDir is where bodies spill; empty: os.TempDir().
	TempDir string
	// RedactHeaders names extra headers whose values never reach a record.
	RedactHeaders []string
	// Annotate, if set, is called once per exchange, on the handler's (or
	// Forward's caller's) goroutine, with the request as ServeHTTP (or
	// Forward) received it and the record once its times, method, path and
	// headers are set (before its bodies and before the sink sees it). It
	// may fill fields the tap knows nothing of, such as a replay's Replay
	// object, from the request's context. It must not keep rec.
	Annotate func(in *http.Request, rec *record.Record)
	// ErrorLog receives the tap's own problems. Nil: the log package's
	// standard logger. Nothing from a request body or a secret goes there.
	ErrorLog *log.Logger
}

// Tap is an http.Handler that forwards to the upstream and records.
type Tap struct {
	cfg      Config
	base     *url.URL
	basePath string // escaped, without a trailing slash
	rp       *httputil.ReverseProxy
	redactor *redact.Redactor
	idPrefix string
	seq      atomic.Uint64
	inflight sync.WaitGroup // exchanges and their record delivery
	pending  chan struct{}  // records being decoded, encoded and written

	copies      copyPool       // the buffers bodies are copied through
	captureBufs captureBuffers // the buffers bodies are captured into
	silence     silenceWatch   // ends exchanges silent for IdleTimeout
}

// maxPendingRecords bounds the records finished but not yet handed to the
// sink; past it, finishing exchanges wait (back-pressure, never loss).
const maxPendingRecords = 1024

var _ http.Handler = (*Tap)(nil)

// New checks cfg and returns a Tap.
func New(cfg Config) (*Tap, error) {
	base, err := ParseUpstream(cfg.Upstream)
	if err != nil {
		return nil, err
	}
	if cfg.Sink == nil {
		return nil, errors.New("proxy: no sink")
	}
	switch {
	case cfg.ConnectTimeout < 0:
		return nil, errors.New("proxy: negative ConnectTimeout")
	case cfg.IdleTimeout < 0:
		return nil, errors.New("proxy: negative IdleTimeout")
	case cfg.MaxBody < 0:
		return nil, errors.New("proxy: negative MaxBody")
	}
	if cfg.Transport == nil {
		cfg.Transport = NewTransport(cfg.ConnectTimeout)
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = math.MaxInt64
	}
	switch {
	case cfg.SpillThreshold == 0:
		cfg.SpillThreshold = DefaultSpillThreshold
	case cfg.SpillThreshold < 0:
		cfg.SpillThreshold = 0 // capture: 0 means never
	}
	if cfg.ErrorLog == nil {
		cfg.ErrorLog = log.Default()
	}
	var rnd [3]byte
	_, _ = rand.Read(rnd[:])
	t := &Tap{
		cfg:      cfg,
		base:     base,
		basePath: strings.TrimRight(base.EscapedPath(), "/"),
		redactor: redact.New(cfg.RedactHeaders),
		idPrefix: hex.EncodeToString(rnd[:]),
		pending:  make(chan struct{}, maxPendingRecords),
		silence:  silenceWatch{idle: cfg.IdleTimeout},
	}
	t.rp = &httputil.ReverseProxy{
		Rewrite:        t.rewrite,
		Transport:      cfg.Transport,
		FlushInterval:  bodyFlushInterval,
		BufferPool:     &t.copies,
		ModifyResponse: t.captureResponse,
		ErrorHandler:   t.upstreamError,
		ErrorLog:       cfg.ErrorLog,
	}
	return t, nil
}

// bodyFlushInterval bounds how long bytes of a body of known length wait in
// the server's buffer. Streams (text/event-stream, or no Content-Length) are
// flushed on every write whatever this says (httputil.ReverseProxy), so each
// chunk reaches the client as it arrives. A known-length answer is not a
// stream: flushing it on every write, as -1 would, sends the headers and the
// body in separate writes; with a short interval a small answer goes out in
// one write, and a slow one still moves within this time.
const bodyFlushInterval = 5 * time.Millisecond

// wholeBodyLimit is the largest request body of known length read whole
// before it is forwarded. The Transport sends the head of a request on its
// own, ahead of a body that is a stream (it might be slow), so each request
// cost a write more and woke the upstream twice; a body in memory goes out
// with its head. The upstream needs all of such a body before it can answer
// anyway. Not done when the client waits for "100 Continue", which is the
// upstream's to give.
const wholeBodyLimit = 64 << 10

// ParseUpstream checks an upstream base URL: absolute http or https, with a
// host, and no fragment.
func ParseUpstream(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("upstream %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("upstream %q: want an http:// or https:// URL", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("upstream %q: no host", raw)
	}
	if u.Fragment != "" {
		return nil, fmt.Errorf("upstream %q: a fragment (#…) is never sent to a server", raw)
	}
	return u, nil
}

// The default transport's settings.
const (
	// dialKeepAlive is the TCP keep-alive period of upstream connections,
	// net.Dialer's own default, so a dead peer is noticed on an idle
	// connection.
	dialKeepAlive = 30 * time.Second
	// maxIdleConns and maxIdleConnsPerHost keep enough idle connections to
	// the one upstream for a burst of concurrent exchanges to reuse them,
	// rather than dial (and handshake TLS) each time: net/http's default of
	// 2 per host would close most after every burst.
	maxIdleConns        = 1024
	maxIdleConnsPerHost = 256
	// idleConnTimeout closes an upstream connection unused this long, the
	// value of net/http's DefaultTransport.
	idleConnTimeout = 90 * time.Second
	// expectContinueTimeout is how long a request that asks for
	// "100 Continue" waits for it before its body is sent anyway.
	expectContinueTimeout = time.Second
	// upstreamWriteBuffer is the size of each upstream connection's write
	// buffer. The connection keeps it for as long as it lives, while it is
	// only needed for a request's head and the start of its body (a body
	// beyond it is copied straight to the connection): 2 KiB, not the
	// default 4, saves 2 MB on a thousand streams.
	upstreamWriteBuffer = 2 << 10
	// upstreamReadBuffer is the same for the read buffer: it holds the
	// answer's head, and a body read of a copy buffer's size (2 KiB and up)
	// bypasses it.
	upstreamReadBuffer = 1 << 10
)

// NewTransport returns the transport a Tap uses by default: HTTP/2 when the
// upstream offers it, a large idle pool, proxy settings from the environment,
// and no transparent decompression, so the client gets the wire bytes.
// connectTimeout bounds the TCP connect and the TLS handshake each; zero
// means no limit.
func NewTransport(connectTimeout time.Duration) *http.Transport {
	dialer := &net.Dialer{Timeout: connectTimeout, KeepAlive: dialKeepAlive}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           readAhead(dialer.DialContext),
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          maxIdleConns,
		MaxIdleConnsPerHost:   maxIdleConnsPerHost,
		IdleConnTimeout:       idleConnTimeout,
		TLSHandshakeTimeout:   connectTimeout,
		ExpectContinueTimeout: expectContinueTimeout,
		DisableCompression:    true,
		WriteBufferSize:       upstreamWriteBuffer,
		ReadBufferSize:        upstreamReadBuffer,
	}
}

// Upstream is the upstream base URL with secrets masked, for display.
func (t *Tap) Upstream() string { return t.redactor.URL(t.base.String()) }

// Started is how many exchanges have begun; it changes while the tap is busy.
func (t *Tap) Started() uint64 { return t.seq.Load() }

// Wait blocks until every exchange that has started has written its record.
func (t *Tap) Wait() { t.inflight.Wait() }

// ServeHTTP forwards one exchange and records it.
func (t *Tap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		// llmtap forwards to its one upstream only; it is not a tunnel.
		writeError(w, http.StatusMethodNotAllowed, "invalid_request_error", "llmtap: CONNECT is not supported")
		return
	}
	t.inflight.Add(1)
	defer t.inflight.Done()
	// An upstream may answer before it has read the whole request body; by
	// default net/http then closes that body under the Transport, which cuts
	// the response mid-stream (golang/go#40747, #15527).
	_ = http.NewResponseController(w).EnableFullDuplex()

	ex := t.newExchange(r)
	// The upstream request gets its own context. A client that goes away
	// cancels it after clientGoneGrace, not at once: many SDKs close the
	// connection as soon as they have read the last event, while the end of
	// the body is still on its way, and that exchange is complete. A client
	// that really left mid-stream is noticed sooner, by the first write to
	// it that fails, which ends the copy and closes the upstream connection.
	clientCtx := r.Context() // r is replaced below; the callback needs this one
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(clientCtx))
	defer cancel(nil)
	clientGone := context.AfterFunc(clientCtx, func() {
		if cause := context.Cause(clientCtx); errors.Is(cause, ErrShutdown) {
			cancel(cause)
			return
		}
		time.AfterFunc(clientGoneGrace, func() { cancel(errClientGone) })
	})
	defer clientGone()
	ex.cancel = cancel
	ex.ctx = ctx
	r.Body = ex.takeBody(r)
	r = r.WithContext(context.WithValue(ctx, exchangeKey{}, ex))

	// The proxy ends a stream that fails mid-way with
	// panic(http.ErrAbortHandler); the deferred finish still writes the
	// record with everything received.
	ex.client = clientWriter{ResponseWriter: w, ex: ex}
	defer ex.finish()
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				// What came before the upstream failed reaches the client
				// before the connection is cut.
				ex.flushClient()
			}
			panic(v)
		}
	}()
	t.rp.ServeHTTP(&ex.client, r)

	b := ex.reqBody
	if b == nil || b.over() {
		return // the usual case: the Transport read the whole body
	}
	if ex.client.held.Load() {
		// The upstream answered before it took the whole request body, and
		// the answer's last chunk waits in the server's buffer
		// (clientWriter): the client gets it before the tap reads on.
		ex.flushClient()
	}
	if !b.finishUnread(t.cfg.MaxBody) {
		// Still more body after MaxBody: close the connection rather than
		// let net/http read on past the handler (see finishUnread).
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			go lingerClose(conn)
		}
	}
}

// takeBody starts capturing r's body, if it has one, and returns the body
// to forward in its place. A small body of known length is read whole at
// once (wholeBodyLimit); outbound sends that copy.
func (ex *exchange) takeBody(r *http.Request) io.ReadCloser {
	if r.Body == nil || r.Body == http.NoBody {
		return r.Body
	}
	ex.reqBody = ex.tap.newRequestBody(r.Body)
	if 0 < r.ContentLength && r.ContentLength <= wholeBodyLimit && r.Header.Get("Expect") == "" {
		ex.wholeBody = ex.reqBody.readWhole(r.ContentLength)
	}
	return ex.reqBody
}

// lingerTime is how long lingerClose lets a client go on sending.
const lingerTime = 500 * time.Millisecond

// lingerClose closes a connection whose client may still be sending a body
// that nobody will read. Closing a socket with unread bytes makes the
// kernel send a reset, and a reset can destroy the answer already sent
// before the client has read it. So, as net/http does, it half-closes
// first, then reads and drops what still comes for a short while.
func lingerClose(conn net.Conn) {
	defer conn.Close()
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	if conn.SetReadDeadline(time.Now().Add(lingerTime)) == nil {
		_, _ = io.Copy(io.Discard, conn)
	}
}

// newID returns an id that sorts by start time: the start to the
// microsecond, this process's random tag, and a sequence number.
func (t *Tap) newID(start time.Time) string {
	b := make([]byte, 0, 48)
	b = start.UTC().AppendFormat(b, "20060102T150405.000000Z")
	b = append(b, '-')
	b = append(b, t.idPrefix...)
	b = append(b, '-')
	return string(appendSeq(b, t.seq.Add(1)))
}

// appendSeq appends n in decimal, zero-padded to six digits, as
// fmt's %06d would, without fmt's cost on every exchange.
func appendSeq(b []byte, n uint64) []byte {
	var digits [20]byte
	d := strconv.AppendUint(digits[:0], n, 10)
	for range 6 - len(d) {
		b = append(b, '0')
	}
	return append(b, d...)
}
