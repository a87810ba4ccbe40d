// Package record is the llmtap JSONL record contract, version 1: the Go
// types llmtap fills, the encoder that turns one into one JSON line, and the
// error kinds. It knows nothing of HTTP servers, files, Markdown or filters.
//
// The schema is documented in docs/record.md, which these types must match.
// Fields may be added within version 1; none is renamed or removed.
package record

import (
	"io"
	"time"
)

// Version is the schema version written in every record's "v" field.
const Version = 1

// Error kinds, the values of a record's error.kind. ErrorKinds lists them
// with what each means.
const (
	KindUpstreamUnreachable = "upstream_unreachable"
	KindUpstreamTimeout     = "upstream_timeout"
	KindUpstreamAborted     = "upstream_aborted"
	KindClientCancelled     = "client_cancelled"
	KindShutdown            = "shutdown"
	KindBodyTruncated       = "body_truncated"
)

// ErrorKind is one value of error.kind and what it means.
type ErrorKind struct {
	Name string // the value of error.kind
	// Text says what happened, as a sentence without its full stop, for a
	// reader who does not know the name.
	Text string
}

// errorKinds is the one list of error kinds; every reader and writer of
// error.kind goes through ErrorKinds, IsErrorKind or ErrorKindText.
var errorKinds = [...]ErrorKind{
	{KindUpstreamUnreachable, "The upstream could not be reached"},
	{KindUpstreamTimeout, "The upstream went silent and the exchange timed out"},
	{KindUpstreamAborted, "The upstream broke off the response"},
	{KindClientCancelled, "The client went away before the response ended, or sent a request body that could not be read"},
	{KindShutdown, "llmtap was shutting down and cut the exchange"},
	{KindBodyTruncated, "A body was larger than llmtap keeps and was recorded cut"},
}

// ErrorKinds returns every error kind llmtap writes, in the order the
// schema documents them. The slice is the caller's own.
func ErrorKinds() []ErrorKind {
	return append([]ErrorKind(nil), errorKinds[:]...)
}

// IsErrorKind reports whether name is an error kind llmtap writes.
func IsErrorKind(name string) bool {
	_, ok := ErrorKindText(name)
	return ok
}

// ErrorKindText returns what the error kind name means; ok is false for a
// name this version does not know (a reader shows such a kind by name).
func ErrorKindText(name string) (text string, ok bool) {
	for _, k := range errorKinds {
		if k.Name == name {
			return k.Text, true
		}
	}
	return "", false
}

// Body encodings, the values of body_encoding.
const (
	EncodingJSON   = "json"
	EncodingText   = "text"
	EncodingBase64 = "base64"
)

// Header is one header as recorded: a lower-case name and its values joined
// with ", ".
type Header struct {
	Name  string
	Value string
}

// Body is a captured message body.
type Body struct {
	// Data holds the bytes kept for the record: the body as it crossed the
	// wire, or decoded when ContentEncoding is set and DecodeError is empty.
	// At most the configured maximum is kept (see Truncated).
	Data []byte
	// Source, when set, holds the kept bytes instead of Data, for a body
	// too large to hold in memory; Data is then ignored. WriteJSON streams
	// it into the record without holding it whole.
	Source Source
	// WireBytes counts every byte that crossed the wire, kept or not.
	WireBytes int64
	// Truncated reports that Data holds only the first part of the body.
	Truncated bool
	// ContentEncoding names the Content-Encoding the wire bytes had
	// (responses only); Data then holds the decoded bytes.
	ContentEncoding string
	// DecodeError says why decoding failed. Data then holds what decoded
	// before the failure (a cut stream), or the wire bytes when nothing did.
	DecodeError string

	plan *bodyPlan // how Source is encoded, once Prepare has chosen
}

// Source gives the bytes of a body kept outside memory, such as in a
// temporary file.
type Source interface {
	// Size is the number of bytes Open yields.
	Size() int64
	// Open returns a new reader of the bytes from the start; it may be
	// called more than once, and the readers are closed by the caller.
	Open() (io.ReadCloser, error)
}

// Tick is one chunk read from upstream: where it started in the body and
// when it arrived, measured from the start of the exchange.
type Tick struct {
	Offset int64
	At     time.Duration
}

// Request is the client's request as received.
type Request struct {
	Headers []Header
	Body    Body
}

// Response is the upstream's response.
type Response struct {
	Status  int
	Headers []Header
	Body    Body
	// Timing lists the arrival of each chunk of a streamed body.
	Timing []Tick
}

// Error says why an exchange did not complete normally.
type Error struct {
	Kind    string
	Message string
}

// Record is one exchange: a client request and its response.
type Record struct {
	ID    string
	Start time.Time
	End   time.Time
	// TTFB is the time from the request's arrival to the first response
	// byte from upstream; HasTTFB is false when none came.
	TTFB    time.Duration
	HasTTFB bool

	Method      string
	Path        string // as the client sent it, percent-encoding kept
	Query       string // raw query as the client sent it, secrets masked
	UpstreamURL string // secrets masked
	Client      string // remote address of the client

	Request  Request
	Response *Response // nil when no response came from upstream
	Error    *Error
	Replay   *Replay // nil for an exchange that was not a replay
}

// Replay ties a replayed exchange to the record it repeats and says how its
// send kept to the schedule. Start is the actual send, so Lag includes
// Queued.
type Replay struct {
	Of        string        // id of the original record
	Scheduled time.Time     // when the schedule said to send it
	Lag       time.Duration // actual send − scheduled send
	// Queued is the time spent waiting for a free concurrency slot;
	// HasQueued is false when no concurrency cap applied.
	Queued    time.Duration
	HasQueued bool
}
