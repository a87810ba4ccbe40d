package record

import (
	"encoding/base64"
	"encoding/binary"
	"math/bits"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"
)

// TimeFormat is how record times are written: UTC RFC 3339 with microseconds.
const TimeFormat = "2006-01-02T15:04:05.000000Z07:00"

// AppendJSON appends the record as one line of JSON, with its trailing
// newline, to dst. Any bytes in any field give valid JSON: bodies that are
// not valid UTF-8 are base64, and strings that are not valid UTF-8 have each
// bad byte replaced with U+FFFD (bodies are the only fields kept byte-exact).
func (r *Record) AppendJSON(dst []byte) []byte {
	e := encoder{buf: dst}
	r.encode(&e)
	return e.buf
}

// encode writes the record into e: into e.buf, flushed to e.w as it
// grows when e.w is set.
func (r *Record) encode(e *encoder) {
	dst := e.buf
	dst = append(dst, `{"v":`...)
	dst = strconv.AppendInt(dst, Version, 10)
	dst = appendKey(dst, "id")
	dst = appendString(dst, r.ID)
	dst = appendKey(dst, "start")
	dst = appendTime(dst, r.Start)
	dst = appendKey(dst, "end")
	dst = appendTime(dst, r.End)
	dst = appendKey(dst, "duration_ms")
	dst = appendMillis(dst, r.End.Sub(r.Start))
	if r.HasTTFB {
		dst = appendKey(dst, "ttfb_ms")
		dst = appendMillis(dst, r.TTFB)
	}
	dst = appendKey(dst, "method")
	dst = appendString(dst, r.Method)
	dst = appendKey(dst, "path")
	dst = appendString(dst, r.Path)
	if r.Query != "" {
		dst = appendKey(dst, "query")
		dst = appendString(dst, r.Query)
	}
	dst = appendKey(dst, "upstream_url")
	dst = appendString(dst, r.UpstreamURL)
	if r.Client != "" {
		dst = appendKey(dst, "client")
		dst = appendString(dst, r.Client)
	}

	dst = appendKey(dst, "request")
	dst = append(dst, '{')
	dst = appendHeaders(dst, r.Request.Headers)
	dst = e.body(dst, &r.Request.Body)
	dst = append(dst, '}')

	if res := r.Response; res != nil {
		dst = appendKey(dst, "response")
		dst = append(dst, `{"status":`...)
		dst = strconv.AppendInt(dst, int64(res.Status), 10)
		dst = append(dst, ',')
		dst = appendHeaders(dst, res.Headers)
		dst = e.body(dst, &res.Body)
		if len(res.Timing) > 0 {
			dst = appendKey(dst, "timing")
			dst = append(dst, '[')
			for i, t := range res.Timing {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = append(dst, '[')
				dst = strconv.AppendInt(dst, t.Offset, 10)
				dst = append(dst, ',')
				dst = appendMillis(dst, t.At)
				dst = append(dst, ']')
				if i&1023 == 1023 {
					dst = e.spill(dst)
				}
			}
			dst = append(dst, ']')
		}
		dst = append(dst, '}')
	}

	if e := r.Error; e != nil {
		dst = appendKey(dst, "error")
		dst = append(dst, `{"kind":`...)
		dst = appendString(dst, e.Kind)
		dst = appendKey(dst, "message")
		dst = appendString(dst, e.Message)
		dst = append(dst, '}')
	}
	if rp := r.Replay; rp != nil {
		dst = appendKey(dst, "replay")
		dst = append(dst, `{"of":`...)
		dst = appendString(dst, rp.Of)
		dst = appendKey(dst, "scheduled")
		dst = appendTime(dst, rp.Scheduled)
		dst = appendKey(dst, "lag_ms")
		dst = appendMillis(dst, rp.Lag)
		if rp.HasQueued {
			dst = appendKey(dst, "queued_ms")
			dst = appendMillis(dst, rp.Queued)
		}
		dst = append(dst, '}')
	}
	e.buf = append(dst, '}', '\n')
}

// appendKey appends `,"key":`; every key after "v" follows another field.
func appendKey(dst []byte, key string) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, key...)
	return append(dst, '"', ':')
}

func appendTime(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = t.UTC().AppendFormat(dst, TimeFormat)
	return append(dst, '"')
}

// appendMillis writes a duration as float milliseconds with microsecond
// resolution: 1234.5, not 1.2345e+03.
func appendMillis(dst []byte, d time.Duration) []byte {
	us := d.Microseconds()
	if us <= -1<<51 || us >= 1<<51 {
		return strconv.AppendFloat(dst, float64(us)/1000, 'f', -1, 64)
	}
	// Below 2^51 µs (71 years) the float64 nearest us/1000 is less than
	// 0.0005 from its neighbours, so the shortest decimal AppendFloat
	// writes for it is us/1000 itself. With integers that costs a quarter
	// as much, and a stream's timing has one per chunk.
	if us < 0 {
		dst = append(dst, '-')
		us = -us
	}
	dst = strconv.AppendInt(dst, us/1000, 10)
	if frac := us % 1000; frac != 0 {
		dst = append(dst, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
		for dst[len(dst)-1] == '0' {
			dst = dst[:len(dst)-1]
		}
	}
	return dst
}

func appendHeaders(dst []byte, hs []Header) []byte {
	dst = append(dst, `"headers":{`...)
	for i, h := range hs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, h.Name)
		dst = append(dst, ':')
		dst = appendString(dst, h.Value)
	}
	return append(dst, '}')
}

func appendBody(dst []byte, b *Body) []byte {
	if len(b.Data) > 0 {
		dst = appendKey(dst, "body")
		var enc string
		dst, enc = appendBodyValue(dst, b.Data, b.Truncated)
		dst = appendKey(dst, "body_encoding")
		dst = appendString(dst, enc)
	}
	return appendBodyTail(dst, b, b.DecodeError)
}

// appendBodyTail appends the fields that follow a body's value.
func appendBodyTail(dst []byte, b *Body, decodeError string) []byte {
	dst = appendKey(dst, "body_bytes")
	dst = strconv.AppendInt(dst, b.WireBytes, 10)
	if b.ContentEncoding != "" {
		dst = appendKey(dst, "content_encoding")
		dst = appendString(dst, b.ContentEncoding)
	}
	if decodeError != "" {
		dst = appendKey(dst, "decode_error")
		dst = appendString(dst, decodeError)
	}
	if b.Truncated {
		dst = appendKey(dst, "truncated")
		dst = append(dst, "true"...)
	}
	return dst
}

// appendBodyValue embeds data as JSON when it is JSON, as a string when it is
// UTF-8 text, and as base64 otherwise, so nothing is ever decoded lossily.
func appendBodyValue(dst, data []byte, truncated bool) ([]byte, string) {
	maybeJSON := !truncated && mayBeJSON(data)
	if !truncated && !maybeJSON {
		// Such a body is text when it is valid UTF-8 (an SSE stream
		// always is): escape it and check that in one pass, and only
		// when it is not, drop what was written and decide below.
		mark := len(dst)
		out, ok := appendText(append(dst, '"'), bytesView(data), true)
		if ok {
			return append(out, '"'), EncodingText
		}
		dst = out[:mark]
	}
	if !utf8.Valid(data) {
		// A body cut at the size limit may end inside a character; keep
		// the text readable by dropping that partial character.
		if trimmed := trimPartialRune(data); truncated && len(trimmed) < len(data) && utf8.Valid(trimmed) {
			return appendString(dst, bytesView(trimmed)), EncodingText
		}
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, data)
		return append(dst, '"'), EncodingBase64
	}
	if maybeJSON {
		if out, ok := appendCompactJSON(dst, data); ok {
			return out, EncodingJSON
		}
	}
	return appendString(dst, bytesView(data)), EncodingText
}

// appendCompactJSON appends data, valid UTF-8, as json.Compact would, with
// raw U+2028, U+2029 and U+0085 written as \u2028, \u2029 and \u0085, and reports
// whether data is one JSON value as json.Valid does; when it is not, dst
// is returned as it was. Readers that split lines on every Unicode line
// separator (Python's str.splitlines) would otherwise cut the record in
// two; in valid JSON these characters occur only inside strings, where the
// escape means the same character. Most bodies are compact already (SDKs send them
// so, and so do servers): one pass validates data and finds that out, and
// such a body is copied as it is. Only one with whitespace or a line
// separator to change goes through the compactor.
func appendCompactJSON(dst, data []byte) ([]byte, bool) {
	var j jsonScan
	if !j.write(data) || !j.end() {
		return dst, false
	}
	if !j.dirty {
		return append(dst, data...), true
	}
	var c compactor
	return c.append(dst, data), true
}

// bytesView looks at b as a string without copying it; the string must not
// outlive b or be kept (appendString only reads it).
func bytesView(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// mayBeJSON is a cheap first-byte test so that SSE streams and plain text
// skip the full JSON scan.
func mayBeJSON(data []byte) bool {
	for _, c := range data {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{', '[', '"', 't', 'f', 'n', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			return true
		default:
			return false
		}
	}
	return false
}

// trimPartialRune drops an incomplete UTF-8 sequence at the end of b: the
// start of a character cut short, not bytes that are invalid on their own
// (those stay, and make the body base64).
func trimPartialRune(b []byte) []byte {
	return b[:runeCut(b)]
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Control characters, U+2028,
// U+2029 and U+0085 are escaped; each invalid UTF-8 byte becomes U+FFFD.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = appendStringContent(dst, s)
	return append(dst, '"')
}

// appendStringContent is appendString without the quotes.
func appendStringContent(dst []byte, s string) []byte {
	out, _ := appendText(dst, s, false)
	return out
}

// appendText is appendStringContent. With strict, it stops at the first
// byte that is not valid UTF-8 and reports false (what it appended up to
// there is then of no use), so that a body can be escaped and checked in
// one pass.
func appendText(dst []byte, s string, strict bool) ([]byte, bool) {
	// JSON in an SSE stream grows by about a fifth when escaped (a quote
	// every few bytes); more than that grows the buffer below.
	out := slices.Grow(dst, len(s)+len(s)/4+escapeSlack)
	// Where the CPU has SIMD for it, most of s is escaped 16 or 32 bytes
	// at a time; the word loop below takes the rest.
	i := 0
	if len(s) >= blocksFrom {
		var ok bool
		if out, i, ok = appendStringBlocks(out, s, strict); !ok {
			return out, false
		}
	}
	n := len(out)
	from := unsafe.Pointer(unsafe.StringData(s)) // read only
	for i+wordSize <= len(s) {
		// The word loop below writes at most two bytes for each it reads
		// (and stores eight at a time, within escapeSlack), so it may
		// read up to lim without looking at the room left.
		lim := min(len(s)-wordSize+1, i+(cap(out)-n-escapeSlack)/2)
		if lim <= i {
			out = slices.Grow(out[:n], min(2*(len(s)-i), escapeGrow)+escapeSlack)
			continue
		}
		to := unsafe.Pointer(unsafe.SliceData(out))
		// Eight bytes at a time: all eight are stored, and the output
		// advances up to the first that needs a look. An SSE stream of
		// JSON events has a quote every few bytes, so the escapes of two
		// bytes ('"', '\\', '\n', '\r', '\t') are written here, without
		// leaving the loop.
		for i < lim {
			w := binary.LittleEndian.Uint64((*[wordSize]byte)(unsafe.Add(from, i))[:])
			binary.LittleEndian.PutUint64((*[wordSize]byte)(unsafe.Add(to, n))[:], w)
			m := needsLook(w)
			if m == 0 {
				i += wordSize
				n += wordSize
				continue
			}
			k := bits.TrailingZeros64(m) / 8
			i += k
			n += k
			e := shortEscape[*(*byte)(unsafe.Add(from, i))]
			if e == 0 {
				break
			}
			*(*[2]byte)(unsafe.Add(to, n)) = [2]byte{'\\', e}
			i++
			n += 2
		}
		if i < lim {
			var bad bool
			out, i, bad = appendEscaped(out[:n], s, i)
			if bad && strict {
				return out, false
			}
			n = len(out)
		}
	}
	out = out[:n]
	for i < len(s) {
		if c := s[i]; plainASCII[c] {
			out = append(out, c)
			i++
			continue
		}
		var bad bool
		out, i, bad = appendEscaped(out, s, i)
		if bad && strict {
			return out, false
		}
	}
	return out, true
}

// blocksFrom is the length from which a string is worth a call to
// appendStringBlocks; below it the word loop costs less than the calls.
const blocksFrom = 64

// escapeSlack is the room appendStringContent's word loop keeps free.
const escapeSlack = 16

// escapeGrow bounds how much more room appendStringContent asks for at a
// time than the rest of the string needs unescaped.
const escapeGrow = 64 << 10

// shortEscape is, for each byte that a JSON string holds as a backslash
// and one letter, that letter; zero for every other byte.
var shortEscape = [256]byte{'"': '"', '\\': '\\', '\n': 'n', '\r': 'r', '\t': 't'}

// appendEscaped appends the character at s[i], which is not plain ASCII,
// as a JSON string holds it, and returns the index after it and whether
// s[i] was a byte that is not valid UTF-8 (written as U+FFFD).
func appendEscaped(dst []byte, s string, i int) ([]byte, int, bool) {
	if c := s[i]; c < utf8.RuneSelf {
		if e := shortEscape[c]; e != 0 {
			dst = append(dst, '\\', e)
		} else {
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		return dst, i + 1, false
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	switch {
	case r == utf8.RuneError && size == 1:
		return append(dst, `\ufffd`...), i + 1, true
	case r == '\u2028' || r == '\u2029' || r == '\u0085':
		dst = append(dst, '\\', 'u', hexDigits[r>>12], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
	default:
		dst = append(dst, s[i:i+size]...)
	}
	return dst, i + size, false
}

const wordSize = 8

// needsLook returns, for the eight bytes of w (the first in the low byte),
// a mask with the high bit set in each byte that a JSON string cannot hold
// as it is (a control character, '"', '\\') or that starts or continues a
// multi-byte character. Each byte is tested on its own (no carry crosses
// bytes), so every set bit means one.
func needsLook(w uint64) uint64 {
	const ones, highs, lows = 0x0101010101010101, 0x8080808080808080, 0x7f7f7f7f7f7f7f7f
	low := w & lows
	printable := low + 0x60*ones      // high bit: the low seven bits are 0x20 or more
	notQuote := low ^ '"'*ones + lows // high bit: not '"' in the low seven bits
	notBackslash := low ^ '\\'*ones + lows
	return (w | ^(printable & notQuote & notBackslash)) & highs
}

// plainASCII marks the bytes a JSON string holds as they are: ASCII from
// space up, except the quote and the backslash.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()
