// Package replay sends recorded requests again: it reads records into
// requests (with the user's edits), decides when each is due (the
// schedule), and sends them through a proxy.Tap so that each attempt is
// recorded by the same capture and encoding code as llmtap, plus the
// record's replay object. It knows nothing of flags, signals or terminals.
package replay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/llmtap/llmtap/pkg/provider"
	"github.com/llmtap/llmtap/pkg/rawjson"
	"github.com/llmtap/llmtap/pkg/record"
	"github.com/llmtap/llmtap/pkg/redact"
	"github.com/valyala/fastjson"
)

// Request is one request to send again, read from a record. It is not
// changed once read, so concurrent sends of it (--loop) may share it.
type Request struct {
	Of     string    // the record's id
	Start  time.Time // when the original arrived; zero when the record had none
	Method string
	Path   string // escaped, as the client sent it
	Query  string // raw, as the client sent it less masked values, plus the parameters set
	Header http.Header
	Body   []byte
}

// Header is a header every request gets (-H), replacing any recorded one.
type Header struct{ Name, Value string }

// Param is a query parameter every request gets (--param), replacing any
// recorded one of the same name.
type Param struct{ Name, Value string }

// Set is an edit of every JSON body (--set): the value at a dotted path.
type Set struct {
	Path  []string
	Value []byte // JSON text
}

// ParseHeader reads "Name: value".
func ParseHeader(s string) (Header, error) {
	name, value, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.ContainsAny(name, " \t\r\n") {
		return Header{}, fmt.Errorf("header %q: want 'Name: value'", s)
	}
	return Header{Name: name, Value: strings.TrimSpace(value)}, nil
}

// ParseParam reads "name=value".
func ParseParam(s string) (Param, error) {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return Param{}, fmt.Errorf("parameter %q: want name=value", s)
	}
	return Param{Name: name, Value: value}, nil
}

// ParseSet reads "PATH=VALUE": VALUE is a JSON literal when it parses as
// one (64, true, null, "x", {"a":1}), else a string.
func ParseSet(s string) (Set, error) {
	path, value, ok := strings.Cut(s, "=")
	if !ok || path == "" {
		return Set{}, fmt.Errorf("set %q: want PATH=VALUE", s)
	}
	keys := strings.Split(path, ".")
	for _, k := range keys {
		if k == "" {
			return Set{}, fmt.Errorf("set %q: empty key in the path", s)
		}
	}
	v := []byte(strings.TrimSpace(value))
	if !json.Valid(v) {
		v, _ = json.Marshal(value) // a Go string always marshals
	}
	return Set{Path: keys, Value: v}, nil
}

// Skip says why a record is not replayed.
type Skip int

// The reasons a record is not replayed.
const (
	Keep          Skip = iota
	SkipEndpoint       // not an inference endpoint (see provider.Inference), without --all
	SkipTruncated      // its request body was cut or not kept
	SkipShard          // it belongs to another shard
)

// Reader turns record lines into requests. Its fields are set before the
// first Read; it is not safe for concurrent use.
type Reader struct {
	Headers []Header
	Params  []Param
	Model   string // "": keep each request's model
	Sets    []Set
	// All replays every record, not only inference endpoints.
	All bool
	// Shard and Shards (1-based; Shards 0: no sharding) keep only the
	// records whose id hashes to this shard.
	Shard, Shards int
	// Warn receives each warning once: a masked header or parameter that is
	// dropped, an edit that does not apply to some body.
	Warn func(msg string)

	p      fastjson.Parser
	warned map[string]bool
}

// warnOnce passes msg to Warn the first time key is seen.
func (rd *Reader) warnOnce(key, msg string) {
	if rd.warned == nil {
		rd.warned = map[string]bool{}
	}
	if rd.warned[key] || rd.Warn == nil {
		return
	}
	rd.warned[key] = true
	rd.Warn(msg)
}

// InShard reports whether id belongs to shard i of n (1-based): FNV-1a 64
// of the id, modulo n, is i−1. Every id is in exactly one shard.
func InShard(id string, i, n int) bool {
	if n <= 1 {
		return true
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	return h.Sum64()%uint64(n) == uint64(i-1)
}

// Read turns one record line into a request. err says why the line is not
// a record (the caller names the line); a record that is one but is not
// replayed gives its reason in skip.
func (rd *Reader) Read(line []byte) (req Request, skip Skip, err error) {
	v, err := record.ParseLine(&rd.p, line)
	if err != nil {
		return Request{}, Keep, err
	}
	req.Of = v.ID()
	req.Method = v.Method()
	req.Path = v.Path()
	if req.Method == "" || !strings.HasPrefix(req.Path, "/") {
		return Request{}, Keep, fmt.Errorf("record %q has no method or path", req.Of)
	}
	if rd.Shards > 1 && !InShard(req.Of, rd.Shard, rd.Shards) {
		return Request{}, SkipShard, nil
	}
	if !rd.All && !provider.Inference(req.Method, req.Path) {
		return Request{}, SkipEndpoint, nil
	}
	req.Start = v.Start()

	enc := v.BodyEncoding("request")
	if bodyCut(v, enc) {
		return Request{Of: req.Of}, SkipTruncated, nil
	}
	switch enc {
	case record.EncodingJSON:
		req.Body = bytes.Clone(rawjson.Get(line, "request", "body"))
	case "":
	default:
		b, err := v.BodyBytes("request")
		if err != nil {
			return Request{}, Keep, fmt.Errorf("record %q: %w", req.Of, err)
		}
		req.Body = bytes.Clone(b)
	}
	req.Header = rd.header(v)
	req.Query = rd.query(v.Query())
	rd.edit(&req, enc == record.EncodingJSON)
	return req, Keep, nil
}

// bodyCut reports a request body the record does not hold whole: cut at
// the size limit, not kept, or shorter than its Content-Length (a client
// that went away mid-upload).
func bodyCut(v record.View, enc string) bool {
	size := v.BodySize("request")
	if v.Value().GetBool("request", "truncated") || (enc == "" && size > 0) {
		return true
	}
	if cl := v.Header("request", "content-length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n != size {
			return true
		}
	}
	return false
}

// notSent are the recorded request headers never sent again: hop-by-hop
// headers (RFC 9110, section 7.6.1, and the ones net/http/httputil drops),
// and the ones the connection to the target sets itself.
var notSent = map[string]bool{
	"connection": true, "proxy-connection": true, "keep-alive": true,
	"proxy-authenticate": true, "proxy-authorization": true, "te": true,
	"trailer": true, "transfer-encoding": true, "upgrade": true,
	"host": true, "content-length": true,
}

// header builds the headers to send: the recorded ones less notSent and
// those named in Connection, less masked values (warned about once per
// name), with -H set over them.
func (rd *Reader) header(v record.View) http.Header {
	h := http.Header{}
	hs := v.Value().GetObject("request", "headers")
	if hs == nil {
		return rd.addHeaders(h)
	}
	var connection []string
	if c := hs.Get("connection"); c != nil {
		for _, n := range strings.Split(string(c.GetStringBytes()), ",") {
			connection = append(connection, strings.ToLower(strings.TrimSpace(n)))
		}
	}
	hs.Visit(func(k []byte, val *fastjson.Value) {
		name := strings.ToLower(string(k))
		if notSent[name] || slices.Contains(connection, name) || rd.overridden(name) {
			return
		}
		value := string(val.GetStringBytes())
		if strings.Contains(value, redact.Marker) {
			rd.warnOnce("header "+name, fmt.Sprintf("header %s is masked in the records and not set with -H; sent without it", name))
			return
		}
		h[textproto.CanonicalMIMEHeaderKey(name)] = []string{value}
	})
	return rd.addHeaders(h)
}

func (rd *Reader) addHeaders(h http.Header) http.Header {
	for _, x := range rd.Headers {
		h.Set(x.Name, x.Value)
	}
	return h
}

func (rd *Reader) overridden(name string) bool {
	for _, x := range rd.Headers {
		if strings.EqualFold(x.Name, name) {
			return true
		}
	}
	return false
}

// query rebuilds the raw query: every recorded pair byte for byte, less
// those --param replaces and those with a masked value (warned about once
// per name), then the --param pairs.
func (rd *Reader) query(raw string) string {
	if raw == "" && len(rd.Params) == 0 {
		return ""
	}
	var b strings.Builder
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		rawName, rawValue, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			name = rawName
		}
		if rd.paramSet(name) {
			continue
		}
		if value, err := url.QueryUnescape(rawValue); strings.Contains(rawValue, redact.Marker) || (err == nil && strings.Contains(value, redact.Marker)) {
			rd.warnOnce("param "+name, fmt.Sprintf("query parameter %s is masked in the records and not set with --param; sent without it", name))
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(pair)
	}
	for _, p := range rd.Params {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p.Name))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p.Value))
	}
	return b.String()
}

func (rd *Reader) paramSet(name string) bool {
	for _, p := range rd.Params {
		if p.Name == name {
			return true
		}
	}
	return false
}

// edit applies --model and --set. Both apply to JSON bodies only (the
// model of a Gemini request is in its path); another body goes unchanged,
// with one warning.
func (rd *Reader) edit(req *Request, isJSON bool) {
	if rd.Model != "" {
		body := req.Body
		if !isJSON {
			body = nil // SetModel still finds a model in the path
		}
		path, out, ok := provider.SetModel(req.Path, body, rd.Model)
		switch {
		case ok && (isJSON || path != req.Path):
			req.Path = path
			if isJSON {
				req.Body = out
			}
		default:
			rd.warnOnce("model", fmt.Sprintf("--model: a request (%s %s, record %s) has no JSON body to set the model in; such requests are sent unchanged", req.Method, req.Path, req.Of))
		}
	}
	for _, s := range rd.Sets {
		if !isJSON {
			rd.warnOnce("set", fmt.Sprintf("--set: a request (%s %s, record %s) has no JSON body; such requests are sent without the edits", req.Method, req.Path, req.Of))
			return
		}
		out, err := rawjson.Set(req.Body, s.Path, s.Value)
		if err != nil {
			rd.warnOnce("set "+strings.Join(s.Path, "."), fmt.Sprintf("--set %s: %v in record %s; such requests are sent without this edit", strings.Join(s.Path, "."), err, req.Of))
			continue
		}
		req.Body = out
	}
}
