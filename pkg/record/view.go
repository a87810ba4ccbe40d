package record

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/valyala/fastjson"
)

// ErrNotRecord is returned for valid JSON that is not an llmtap record: not
// an object, or without a numeric "v".
var ErrNotRecord = errors.New("not a record")

// View reads the fields of one parsed record. It holds the *fastjson.Value
// it was made from, so it is valid only until that value's parser parses
// again; copy what you keep.
type View struct {
	v *fastjson.Value
}

// NewView checks that v is a record (an object with a numeric "v"; higher
// versions are accepted, unknown fields ignored) and returns a view of it.
func NewView(v *fastjson.Value) (View, error) {
	if v == nil || v.Type() != fastjson.TypeObject {
		return View{}, ErrNotRecord
	}
	if ver := v.Get("v"); ver == nil || ver.Type() != fastjson.TypeNumber {
		return View{}, ErrNotRecord
	}
	return View{v: v}, nil
}

// maxParseError bounds the parse error ParseLine reports: fastjson repeats
// its context once per nesting level, which for a deeply nested line makes a
// warning of many kilobytes.
const maxParseError = 160

// ParseLine parses one JSONL line with p and returns a view of the record.
// Its error says briefly why the line is not one: "not JSON: …" or
// ErrNotRecord. The view lives until p parses again.
func ParseLine(p *fastjson.Parser, line []byte) (View, error) {
	v, err := p.ParseBytes(line)
	if err != nil {
		msg := err.Error()
		if len(msg) > maxParseError {
			msg = strings.ToValidUTF8(msg[:maxParseError], "") + "…"
		}
		return View{}, errors.New("not JSON: " + msg)
	}
	return NewView(v)
}

// Value is the whole record, for fields the view has no method for.
func (r View) Value() *fastjson.Value { return r.v }

// Version is the record's "v".
func (r View) Version() int { return r.v.GetInt("v") }

// ID is the record's id.
func (r View) ID() string { return string(r.v.GetStringBytes("id")) }

// Method is the HTTP method.
func (r View) Method() string { return string(r.MethodBytes()) }

// Path is the request path as the client sent it.
func (r View) Path() string { return string(r.PathBytes()) }

// Query is the raw query string, secrets masked.
func (r View) Query() string { return string(r.v.GetStringBytes("query")) }

// UpstreamURL is upstream_url: where the request went, secrets masked.
func (r View) UpstreamURL() string { return string(r.UpstreamURLBytes()) }

// Client is the client's address as recorded (host:port).
func (r View) Client() string { return string(r.ClientBytes()) }

// MethodBytes, PathBytes, UpstreamURLBytes, ClientBytes and HeaderBytes
// are Method, Path, UpstreamURL, Client and Header without a copy, for a
// hot path that compares or looks up and keeps nothing: the bytes are the
// parsed record's own, valid (like the View) only until its parser parses
// again; copy what you keep.

// MethodBytes is Method without a copy; see the lifetime rule above.
func (r View) MethodBytes() []byte { return r.v.GetStringBytes("method") }

// PathBytes is Path without a copy; see the lifetime rule above.
func (r View) PathBytes() []byte { return r.v.GetStringBytes("path") }

// UpstreamURLBytes is UpstreamURL without a copy; see the lifetime rule
// above.
func (r View) UpstreamURLBytes() []byte { return r.v.GetStringBytes("upstream_url") }

// ClientBytes is Client without a copy; see the lifetime rule above.
func (r View) ClientBytes() []byte { return r.v.GetStringBytes("client") }

// Start is when the request arrived; zero when absent or malformed.
func (r View) Start() time.Time { return r.time("start") }

// End is when the exchange ended; zero when absent or malformed.
func (r View) End() time.Time { return r.time("end") }

func (r View) time(key string) time.Time {
	return parseTime(r.v.GetStringBytes(key))
}

// parseTime parses an RFC 3339 time; zero when b is not one. The layout
// llmtap writes (TimeFormat in UTC: 2006-01-02T15:04:05.000000Z) is read
// by hand, without time.Parse's allocation and generality; anything else,
// or a field out of range, goes to time.Parse.
func parseTime(b []byte) time.Time {
	if t, ok := parseRecordTime(b); ok {
		return t
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return time.Time{}
	}
	return t
}

// parseRecordTime parses b when it is exactly TimeFormat in UTC with every
// field in range; ok is false otherwise.
func parseRecordTime(b []byte) (t time.Time, ok bool) {
	const layout = "0000-00-00T00:00:00.000000Z"
	if len(b) != len(layout) {
		return time.Time{}, false
	}
	for i := range len(layout) {
		if c := b[i]; layout[i] == '0' && (c < '0' || c > '9') || layout[i] != '0' && c != layout[i] {
			return time.Time{}, false
		}
	}
	num := func(i, j int) int {
		n := 0
		for _, c := range b[i:j] {
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := num(0, 4), num(5, 7), num(8, 10)
	hour, minute, sec, micro := num(11, 13), num(14, 16), num(17, 19), num(20, 26)
	if month < 1 || month > 12 || day < 1 || day > daysIn(time.Month(month), year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, micro*1000, time.UTC), true
}

// daysIn is the number of days of month in year (Gregorian, as package
// time counts them).
func daysIn(month time.Month, year int) int {
	if month == time.February && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		return 29
	}
	return int(monthDays[month-1])
}

var monthDays = [12]uint8{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// ReplayView is the optional replay object of a record made by a replay.
type ReplayView struct {
	Of        string
	Scheduled time.Time // zero when absent or malformed
	LagMS     float64
	QueuedMS  float64
	HasQueued bool // queued_ms was present (a concurrency cap applied)
}

// Replay is the record's replay object; ok is false for a record that is
// not a replay.
func (r View) Replay() (rv ReplayView, ok bool) {
	o := r.v.Get("replay")
	if o == nil || o.Type() != fastjson.TypeObject {
		return ReplayView{}, false
	}
	rv.Of = string(o.GetStringBytes("of"))
	rv.Scheduled = parseTime(o.GetStringBytes("scheduled"))
	rv.LagMS = o.GetFloat64("lag_ms")
	if q := o.Get("queued_ms"); q != nil && q.Type() == fastjson.TypeNumber {
		rv.QueuedMS, rv.HasQueued = q.GetFloat64(), true
	}
	return rv, true
}

// DurationMS is duration_ms.
func (r View) DurationMS() float64 { return r.v.GetFloat64("duration_ms") }

// TTFBMS is ttfb_ms; ok is false when the record has none.
func (r View) TTFBMS() (ms float64, ok bool) {
	t := r.v.Get("ttfb_ms")
	if t == nil || t.Type() != fastjson.TypeNumber {
		return 0, false
	}
	return t.GetFloat64(), true
}

// Status is the upstream's status code, 0 when no response came.
func (r View) Status() int { return r.v.GetInt("response", "status") }

// HasResponse reports whether a response from upstream was recorded.
func (r View) HasResponse() bool { return r.v.Get("response") != nil }

// ErrorKind is error.kind, "" when the exchange completed.
func (r View) ErrorKind() string { return string(r.v.GetStringBytes("error", "kind")) }

// ErrorMessage is error.message.
func (r View) ErrorMessage() string { return string(r.v.GetStringBytes("error", "message")) }

// Header returns a recorded header of part ("request" or "response") by its
// lower-case name.
func (r View) Header(part, name string) string {
	return string(r.HeaderBytes(part, name))
}

// HeaderBytes is Header without a copy; see MethodBytes for how long the
// bytes last.
func (r View) HeaderBytes(part, name string) []byte {
	return r.v.GetStringBytes(part, "headers", name)
}

// BodyEncoding is body_encoding of part ("request" or "response"); "" when
// the part has no body.
func (r View) BodyEncoding(part string) string {
	return string(r.v.GetStringBytes(part, "body_encoding"))
}

// BodyJSON returns the embedded body of part when its encoding is json.
func (r View) BodyJSON(part string) *fastjson.Value {
	if r.BodyEncoding(part) != EncodingJSON {
		return nil
	}
	return r.v.Get(part, "body")
}

// BodyBytes returns the bytes of part's body for the text and base64
// encodings (text aliases the parsed record: do not modify it). For json it
// returns nil: use BodyJSON, because re-marshalling a parsed value is not
// byte-exact.
func (r View) BodyBytes(part string) ([]byte, error) {
	switch enc := r.BodyEncoding(part); enc {
	case "":
		return nil, nil
	case EncodingText:
		return r.v.GetStringBytes(part, "body"), nil
	case EncodingBase64:
		b, err := base64.StdEncoding.DecodeString(string(r.v.GetStringBytes(part, "body")))
		if err != nil {
			return nil, fmt.Errorf("%s.body: %w", part, err)
		}
		return b, nil
	case EncodingJSON:
		return nil, nil
	default:
		return nil, fmt.Errorf("%s.body_encoding: unknown %q", part, enc)
	}
}

// BodySize is body_bytes of part ("request" or "response"): the size of the
// body on the wire, whether or not the record kept it.
func (r View) BodySize(part string) int64 { return r.v.GetInt64(part, "body_bytes") }

// TickMS returns when the chunk of the response body that holds byte offset
// arrived, in milliseconds since the start of the exchange: the time of the
// last timing tick at or before offset. ok is false when the record has no
// timing, offset is before the first tick or negative, or the body was
// recorded decoded from a Content-Encoding (timing offsets count wire bytes,
// so they do not map onto the decoded body).
func (r View) TickMS(offset int64) (ms float64, ok bool) {
	if offset < 0 || len(r.v.GetStringBytes("response", "content_encoding")) > 0 {
		return 0, false
	}
	ticks := r.v.GetArray("response", "timing")
	// Ticks are in offset order: find the first tick past offset.
	lo, hi := 0, len(ticks)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if ticks[mid].GetInt64("0") <= offset {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == 0 {
		return 0, false
	}
	t := ticks[lo-1].Get("1")
	if t == nil || t.Type() != fastjson.TypeNumber {
		return 0, false
	}
	return t.GetFloat64(), true
}
