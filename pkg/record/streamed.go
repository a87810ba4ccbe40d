package record

import (
	"strings"
	"unsafe"
)

// Streamed reports whether a response is streamed, that is, delivered as
// it is produced, from its Content-Type and its length (-1 when unknown):
// it is an event stream (text/event-stream) or JSON lines (NDJSON, as
// Ollama sends), or it has no length and is not one JSON document. A JSON
// answer sent in chunks of unknown length is not streamed: it means
// nothing until it is whole.
//
// This is the one definition: llmtap records timing for exactly these
// responses, and every reader asks View.Streamed, which applies it to the
// recorded headers.
func Streamed(contentType string, length int64) bool {
	mt := mediaType(contentType)
	switch {
	case strings.EqualFold(mt, "text/event-stream"),
		strings.EqualFold(mt, "application/x-ndjson"),
		strings.EqualFold(mt, "application/ndjson"),
		strings.EqualFold(mt, "application/jsonl"),
		strings.EqualFold(mt, "application/x-jsonlines"):
		return true
	case length >= 0:
		return false
	}
	return !strings.EqualFold(mt, "application/json") && !hasSuffixFold(mt, "+json")
}

// mediaType is the media type of a Content-Type value, without parameters
// or surrounding space; it does not allocate.
func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.TrimSpace(ct)
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

// Streamed reports whether the record's response was streamed, by
// Streamed over its recorded content-type and content-length headers.
// It is false when no response came.
func (r View) Streamed() bool {
	res := r.v.Get("response")
	if res == nil {
		return false
	}
	length := int64(-1)
	if cl := res.GetStringBytes("headers", "content-length"); len(cl) > 0 {
		length = parseLength(cl)
	}
	return Streamed(UnsafeString(res.GetStringBytes("headers", "content-type")), length)
}

// parseLength parses a Content-Length value; -1 when it is not a plain
// decimal number, as net/http treats it.
func parseLength(b []byte) int64 {
	if len(b) == 0 || len(b) > 18 {
		return -1
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

// UnsafeString views b as a string without copying, for a map lookup or a
// comparison on a hot path. The string shares b's memory: it is valid only
// while b is neither changed nor reused (a View's bytes, until the next
// Parse), so it must not be kept; copy it (strings.Clone) to keep it.
func UnsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
