package proxy

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// Forward sends r to the upstream and records the exchange as ServeHTTP
// does for a client's request, for a caller that has no client connection
// to answer, such as a load generator replaying records. The record is the
// one ServeHTTP would write for the same exchange (same request sent, same
// capture, timing, failure kinds and masking); the answer's body is read
// through the capture to its end and dropped, since the record holds it.
//
// Forward returns once the exchange has ended and its record has been
// handed to the Sink: the record is decoded and encoded on the caller's
// goroutine, and a Sink that blocks holds the caller (back-pressure).
//
// r is read as a server's request would be: Method, URL (the escaped path
// and raw query), Host, Header, ContentLength, Body and RemoteAddr (the
// record's client; usually empty). Forward changes none of them and
// never closes r.Body; the Transport may still be reading r.Body when
// Forward returns, if the upstream answered before it had read it all.
// Cancelling r's context cuts the exchange: recorded as shutdown when the
// cause is ErrShutdown, else as client_cancelled, at once (there is no
// client connection whose end might be early, as ServeHTTP allows for).
// A CONNECT request is neither sent nor recorded, as with ServeHTTP.
func (t *Tap) Forward(r *http.Request) {
	if r.Method == http.MethodConnect {
		return
	}
	t.inflight.Add(1)
	defer t.inflight.Done()
	ex := t.newExchange(r)
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	ex.ctx, ex.cancel = ctx, cancel
	body := ex.takeBody(r)
	defer ex.finish()
	t.forward(ex, r, body)
	if ex.reqBody != nil {
		// As ServeHTTP does: the record keeps what the upstream left.
		ex.reqBody.finishUnread(t.cfg.MaxBody)
	}
}

// forward is ServeHTTP's httputil.ReverseProxy for Forward: the same
// outgoing request, sent straight through the Transport, the same headers
// removed from the answer before it is captured, and its body read to the
// end. Nothing is written anywhere but into the exchange.
func (t *Tap) forward(ex *exchange, in *http.Request, body io.ReadCloser) {
	out := in.WithContext(httptrace.WithClientTrace(ex.ctx, ex.trace()))
	u := *in.URL
	out.URL = &u
	out.Header = cloneHeader(in.Header, 2) // room for User-Agent and Authorization
	out.Body = body
	switch {
	case in.ContentLength == 0:
		out.Body = nil // as the proxy does: a nil Body lets the Transport retry
	case ex.wholeBody != nil:
		// outbound sends that instead.
	case out.Body != nil:
		// The Transport closes the body it is given; the caller's is the
		// caller's (the proxy wraps it so too).
		out.Body = io.NopCloser(out.Body)
	}
	out.Close = false

	// What the proxy does to the request before its Rewrite hook.
	upType := upgradeType(out.Header)
	if !isPrint(upType) {
		ex.upstreamFailed(ex.ctx, fmt.Errorf("client tried to switch to invalid protocol %q", upType))
		return
	}
	removeHopByHopHeaders(out.Header)
	if httpguts.HeaderValuesContainsToken(in.Header["Te"], "trailers") {
		out.Header.Set("Te", "trailers")
	}
	if upType != "" {
		out.Header.Set("Connection", "Upgrade")
		out.Header.Set("Upgrade", upType)
	}
	t.outbound(ex, in, out)
	if _, ok := out.Header["User-Agent"]; !ok {
		// Set empty, so that the Transport adds no User-Agent of Go's own.
		out.Header["User-Agent"] = noUserAgent
	}

	res, err := t.cfg.Transport.RoundTrip(out)
	if err != nil {
		ex.upstreamFailed(out.Context(), err)
		return
	}
	if res.StatusCode == http.StatusSwitchingProtocols {
		// Nobody to hand the connection to: the record has the answer's
		// head, as llmtap's has for a client that took the connection.
		ex.captureResponse(res)
		_ = res.Body.Close()
		return
	}
	removeHopByHopHeaders(res.Header)
	ex.captureResponse(res)
	if b := ex.resBody; b != nil {
		buf := t.copies.Get()
		for {
			if _, err := b.Read(buf); err != nil {
				break
			}
		}
		t.copies.Put(buf)
	}
	_ = res.Body.Close()
}

// noUserAgent is the value of an empty User-Agent header, shared: the
// Transport only reads it.
var noUserAgent = []string{""}

// cloneHeader is http.Header.Clone, never nil, with room for extra more
// names, so that adding them does not grow the map.
func cloneHeader(h http.Header, extra int) http.Header {
	n := 0
	for _, vv := range h {
		n += len(vv)
	}
	values := make([]string, n)
	out := make(http.Header, len(h)+extra)
	for k, vv := range h {
		if vv == nil {
			out[k] = nil // a nil value means something to the Transport
			continue
		}
		n := copy(values, vv)
		out[k] = values[:n:n]
		values = values[n:]
	}
	return out
}

// removeHopByHopHeaders removes the headers named in Connection and the
// hop-by-hop headers httputil.ReverseProxy removes from both the request
// and the answer (RFC 9110, section 7.6.1, and older ones it keeps
// removing for compatibility), as it does.
func removeHopByHopHeaders(h http.Header) {
	for _, f := range h["Connection"] {
		for sf := range strings.SplitSeq(f, ",") {
			if sf = textproto.TrimString(sf); sf != "" {
				h.Del(sf)
			}
		}
	}
	// The proxy calls Del with each canonical name; one pass over the few
	// headers there are is cheaper than nine lookups.
	for k := range h {
		if isHopHeader(k) {
			delete(h, k)
		}
	}
}

// isHopHeader reports whether a canonical header name is one of the
// hop-by-hop headers.
func isHopHeader(name string) bool {
	switch name {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
		"Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

// upgradeType is the protocol a request asks to switch to, if any.
func upgradeType(h http.Header) string {
	if !httpguts.HeaderValuesContainsToken(h["Connection"], "Upgrade") {
		return ""
	}
	return h.Get("Upgrade")
}

// isPrint reports whether s is printable ASCII.
func isPrint(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
