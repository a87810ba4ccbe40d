package proxy

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"

	"github.com/llmtap/llmtap/pkg/humanize"
	"github.com/llmtap/llmtap/pkg/record"
)

// errorMessage is the human message for a record's error and the client's
// error body. It never includes the request URL (url.Error puts the whole
// URL, query keys and all, in its text), so no secret reaches it.
func (t *Tap) errorMessage(kind string, err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	detail := ""
	if err != nil {
		detail = ": " + err.Error()
	}
	switch kind {
	case record.KindUpstreamUnreachable:
		return "llmtap: upstream unreachable" + detail
	case record.KindUpstreamTimeout:
		return "llmtap: upstream sent nothing for " + t.cfg.IdleTimeout.String() + " (--upstream-timeout)"
	case record.KindUpstreamAborted:
		return "llmtap: upstream closed the connection before the response was complete" + detail
	case record.KindClientCancelled:
		return "llmtap: the client went away before the response was complete"
	case record.KindShutdown:
		return "llmtap: shut down before the response was complete"
	case record.KindBodyTruncated:
		// Only in the record: the client got the whole body.
		return "a body was larger than --max-body; the record keeps its first " + humanize.Bytes(t.cfg.MaxBody)
	default:
		return "llmtap: " + kind + detail
	}
}

// isDialError reports whether err means no connection to the upstream could
// be made: DNS, connect or TLS handshake failures.
func isDialError(err error) bool {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var recErr tls.RecordHeaderError
	var certErr *tls.CertificateVerificationError
	return errors.As(err, &recErr) || errors.As(err, &certErr)
}

// writeError answers with an error in the OpenAI shape, which every
// OpenAI-compatible SDK parses and shows.
func writeError(w http.ResponseWriter, status int, kind, msg string) {
	// encoding/json, not strconv.Quote: Go escapes are not JSON escapes.
	m, _ := json.Marshal(msg)
	k, _ := json.Marshal(kind)
	body := fmt.Appendf(nil, `{"error":{"message":%s,"type":%s,"param":null,"code":%s}}`+"\n", m, k, k)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
