package replay

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/llmtap/llmtap/pkg/proxy"
	"github.com/llmtap/llmtap/pkg/record"
)

// Sender sends requests to a target through an in-process proxy.Tap's
// Forward, as if a client had sent them to llmtap: the target gets them by
// llmtap's path rules, headers and body untouched (no User-Agent or
// Accept-Encoding of its own, no decompression), and each attempt is
// recorded by llmtap's own capture and encoding code, with its replay
// object added. The record's start is when the Tap took the request, which
// is the actual send.
type Sender struct {
	tap  *proxy.Tap
	host string
}

// NewSender returns a Sender for cfg (cfg.Upstream is the target). It sets
// cfg.Annotate, which adds the replay object to each record, and, when
// cfg.Transport is nil, a transport with larger buffers than llmtap's.
func NewSender(cfg proxy.Config) (*Sender, error) {
	cfg.Annotate = annotate
	if cfg.Transport == nil {
		cfg.Transport = newTransport(cfg.ConnectTimeout)
	}
	tap, err := proxy.New(cfg)
	if err != nil {
		return nil, err
	}
	u, _ := proxy.ParseUpstream(cfg.Upstream) // proxy.New checked it
	return &Sender{tap: tap, host: u.Host}, nil
}

// connBuffer is the size of the read and the write buffer of each
// connection to the target. llmtap's transport keeps them small (1 and
// 2 KiB) for a thousand slow streams held open; a replay sends and reads
// many short exchanges, and a typical answer's head and body (over 1 KiB)
// then take two reads. With 4 KiB they take one, and a thousand
// connections cost 5 MB more.
const connBuffer = 4 << 10

// newTransport is proxy.NewTransport with connBuffer-sized buffers.
func newTransport(connectTimeout time.Duration) *http.Transport {
	t := proxy.NewTransport(connectTimeout)
	t.ReadBufferSize, t.WriteBufferSize = connBuffer, connBuffer
	return t
}

// Target is the target URL with secrets masked, for display.
func (s *Sender) Target() string { return s.tap.Upstream() }

// URL is where req goes: the target's URL for it, by llmtap's path rules.
func (s *Sender) URL(req *Request) string { return s.tap.UpstreamURL(req.Path, req.Query) }

// Wait blocks until every record of the sends made has been handed to the
// sink.
func (s *Sender) Wait() { s.tap.Wait() }

type sendKey struct{}

// sent is what annotate needs to know of a send.
type sent struct {
	of   string
	plan Plan
}

// annotate adds the replay object; the lag is from the scheduled time to
// the record's start, the actual send.
func annotate(in *http.Request, rec *record.Record) {
	s, ok := in.Context().Value(sendKey{}).(*sent)
	if !ok {
		return
	}
	rec.Replay = &record.Replay{
		Of:        s.of,
		Scheduled: s.plan.Scheduled,
		Lag:       rec.Start.Sub(s.plan.Scheduled),
		Queued:    s.plan.Queued,
		HasQueued: s.plan.HasQueued,
	}
}

// Send sends req and returns once the exchange has ended and its record
// has been handed to the Tap's sink. Cancelling ctx with proxy.ErrShutdown
// as its cause cuts the exchange, recorded with error.kind shutdown.
func (s *Sender) Send(ctx context.Context, req *Request, plan Plan) {
	ctx = context.WithValue(ctx, sendKey{}, &sent{of: req.Of, plan: plan})
	u := &url.URL{RawPath: req.Path, RawQuery: req.Query}
	if p, err := url.PathUnescape(req.Path); err == nil {
		u.Path = p
	} else {
		u.Path = req.Path
	}
	hr := (&http.Request{
		Method: req.Method, URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: req.Header, // read only: Forward sends a copy
		Host:   s.host,
		Body:   http.NoBody,
	}).WithContext(ctx)
	if len(req.Body) > 0 {
		hr.Body = io.NopCloser(bytes.NewReader(req.Body))
		hr.ContentLength = int64(len(req.Body))
	}
	s.tap.Forward(hr)
}
