package proxy

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"unicode/utf8"
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
	out.Header = in.Header.Clone()
	if out.Header == nil {
		out.Header = http.Header{}
	}
	out.Body = body
	if in.ContentLength == 0 {
		out.Body = nil // as the proxy does: a nil Body lets the Transport retry
	} else if out.Body != nil {
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
	if headerValuesContainToken(in.Header["Te"], "trailers") {
		out.Header.Set("Te", "trailers")
	}
	if upType != "" {
		out.Header.Set("Connection", "Upgrade")
		out.Header.Set("Upgrade", upType)
	}
	t.outbound(ex, in, out)
	if _, ok := out.Header["User-Agent"]; !ok {
		// Set empty, so that the Transport adds no User-Agent of Go's own.
		out.Header.Set("User-Agent", "")
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

// hopHeaders are the hop-by-hop headers httputil.ReverseProxy removes from
// both the request and the answer (RFC 9110, section 7.6.1, and older
// ones it keeps removing for compatibility).
var hopHeaders = [...]string{
	"Connection",
	"Proxy-Connection",
	"Keep-Alive",
	"Proxy-Authenticate",
	"Proxy-Authorization",
	"Te",
	"Trailer",
	"Transfer-Encoding",
	"Upgrade",
}

// removeHopByHopHeaders removes the headers named in Connection and the
// hopHeaders from h, as httputil.ReverseProxy does.
func removeHopByHopHeaders(h http.Header) {
	for _, f := range h["Connection"] {
		for sf := range strings.SplitSeq(f, ",") {
			if sf = textproto.TrimString(sf); sf != "" {
				h.Del(sf)
			}
		}
	}
	for _, f := range hopHeaders {
		h.Del(f)
	}
}

// upgradeType is the protocol a request asks to switch to, if any.
func upgradeType(h http.Header) string {
	if !headerValuesContainToken(h["Connection"], "Upgrade") {
		return ""
	}
	return h.Get("Upgrade")
}

// headerValuesContainToken reports whether any of the comma-separated
// values holds token, in ASCII and ignoring case and spaces around it (as
// the proxy's golang.org/x/net/http/httpguts.HeaderValuesContainsToken).
func headerValuesContainToken(values []string, token string) bool {
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			if tokenEqual(strings.Trim(t, " \t"), token) {
				return true
			}
		}
	}
	return false
}

// tokenEqual is ASCII strings.EqualFold: tokens are ASCII only.
func tokenEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i] >= utf8.RuneSelf || lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + ('a' - 'A')
	}
	return b
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
