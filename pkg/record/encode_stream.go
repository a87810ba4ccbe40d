package record

import (
	"encoding/base64"
	"errors"
	"io"
	"sync"
	"unicode/utf8"
)

// WriteJSON writes the record as one line of JSON, with its trailing
// newline, to w: the same bytes AppendJSON gives, but a body held in a
// Source is read from it in chunks and never held whole. It
// returns the first error from w, or from a Source that fails after part of
// its body was written (the line on w is then incomplete). A Source that
// fails before any of its body is written gives a record without that body
// and a decode_error saying why.
func (r *Record) WriteJSON(w io.Writer) error {
	bp := streamBuffers.Get().(*[]byte)
	e := encoder{buf: (*bp)[:0], w: w}
	r.encode(&e)
	e.buf = e.flush(e.buf)
	*bp = e.buf[:0]
	streamBuffers.Put(bp)
	return e.err
}

// Prepare reads each body held in a Source once, to choose its
// body_encoding, so that a later WriteJSON or AppendJSON only writes. It is
// optional: a body not prepared is read twice by the encoder itself. Call it
// where the time spent scanning a large body does no harm.
func (r *Record) Prepare() {
	r.Request.Body.prepare()
	if r.Response != nil {
		r.Response.Body.prepare()
	}
}

// HasSource reports whether a body of the record is held in a Source, so
// that WriteJSON is the way to encode it without holding it.
func (r *Record) HasSource() bool {
	return r.Request.Body.Source != nil || r.Response != nil && r.Response.Body.Source != nil
}

func (b *Body) prepare() {
	if b.Source != nil && b.plan == nil {
		b.plan = scanSource(b.Source, b.Truncated)
	}
}

// flushAt is how much encoded output WriteJSON gathers before writing it.
const flushAt = 64 << 10

// chunkSize is how much of a Source is read at a time.
const chunkSize = 32 << 10

var (
	streamBuffers = sync.Pool{New: func() any { b := make([]byte, 0, flushAt+chunkSize); return &b }}
	chunkBuffers  = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}
)

// encoder is where encode writes: buf, flushed to w as it grows when w is
// set (WriteJSON), or only buf (AppendJSON).
type encoder struct {
	buf     []byte
	w       io.Writer
	err     error // the first failure; nothing more is written after it
	written int64 // bytes given to w
}

// spill writes dst to w once it is large, and returns what to append to.
func (e *encoder) spill(dst []byte) []byte {
	if e.w == nil || len(dst) < flushAt {
		return dst
	}
	return e.flush(dst)
}

func (e *encoder) flush(dst []byte) []byte {
	if e.w == nil {
		return dst
	}
	if e.err == nil && len(dst) > 0 {
		if _, err := e.w.Write(dst); err != nil {
			e.err = err
		}
		e.written += int64(len(dst))
	}
	return dst[:0]
}

// body appends a body and its fields; a body in a Source is streamed.
func (e *encoder) body(dst []byte, b *Body) []byte {
	if b.Source == nil {
		return appendBody(dst, b)
	}
	b.prepare()
	p := b.plan
	decodeError := b.DecodeError
	if p.err == nil && p.total > 0 {
		mark, written := len(dst), e.written
		dst = appendKey(dst, "body")
		// writeBody's closures keep their encoder: give them a copy, so
		// that e (and AppendJSON's small records) stays off the heap.
		h := new(encoder)
		*h = *e
		var err error
		dst, err = h.writeBody(dst, b.Source, p)
		*e = *h
		switch {
		case err == nil:
			dst = appendKey(dst, "body_encoding")
			dst = appendString(dst, p.enc)
		case e.written == written:
			// Nothing of the body has left dst: drop it, say why.
			dst = dst[:mark]
			decodeError = joinError(decodeError, err)
		default:
			if e.err == nil {
				e.err = err
			}
			return dst
		}
	} else if p.err != nil {
		decodeError = joinError(decodeError, p.err)
	}
	return appendBodyTail(dst, b, decodeError)
}

func joinError(decodeError string, err error) string {
	msg := "body not recorded: " + err.Error()
	if decodeError != "" {
		return decodeError + "; " + msg
	}
	return msg
}

var errSourceChanged = errors.New("body source changed between reads")

// writeBody appends the body's value as planned, reading it from src.
func (e *encoder) writeBody(dst []byte, src Source, p *bodyPlan) ([]byte, error) {
	rc, err := src.Open()
	if err != nil {
		return dst, err
	}
	defer rc.Close()
	r := io.LimitReader(rc, p.n)
	cp := chunkBuffers.Get().(*[]byte)
	defer chunkBuffers.Put(cp)
	var n int64
	switch p.enc {
	case EncodingBase64:
		dst = append(dst, '"')
		aw := &appendWriter{e: e, dst: dst}
		enc := base64.NewEncoder(base64.StdEncoding, aw)
		n, err = readChunks(r, *cp, false, func(b []byte) { _, _ = enc.Write(b) })
		_ = enc.Close()
		dst = append(aw.dst, '"')
	case EncodingText:
		dst = append(dst, '"')
		n, err = readChunks(r, *cp, true, func(b []byte) {
			dst = e.spill(appendStringContent(dst, bytesView(b)))
		})
		dst = append(dst, '"')
	default: // EncodingJSON
		var c compactor
		n, err = readChunks(r, *cp, true, func(b []byte) {
			dst = e.spill(c.append(dst, b))
		})
	}
	if err == nil && e.err != nil {
		err = e.err
	}
	if err == nil && n != p.n {
		err = errSourceChanged
	}
	return dst, err
}

// appendWriter is an io.Writer onto an encoder's output.
type appendWriter struct {
	e   *encoder
	dst []byte
}

func (a *appendWriter) Write(p []byte) (int, error) {
	a.dst = a.e.spill(append(a.dst, p...))
	return len(p), nil
}

// readChunks reads r to its end with buf and gives fn each chunk; with
// whole, chunks end on a UTF-8 character boundary (the last one excepted),
// so a character is never split between two calls. It returns the bytes
// read.
func readChunks(r io.Reader, buf []byte, whole bool, fn func([]byte)) (int64, error) {
	var total int64
	carry := 0
	for {
		n, err := r.Read(buf[carry:])
		total += int64(n)
		data := buf[:carry+n]
		if err != nil {
			if len(data) > 0 {
				fn(data)
			}
			if err == io.EOF {
				err = nil
			}
			return total, err
		}
		cut := len(data)
		if whole {
			cut = runeCut(data)
		}
		if cut > 0 {
			fn(data[:cut])
		}
		carry = copy(buf, data[cut:])
	}
}

// runeCut returns where an incomplete UTF-8 sequence at the end of p
// starts, or len(p) when there is none.
func runeCut(p []byte) int {
	for i := 1; i <= utf8.UTFMax-1 && i <= len(p); i++ {
		if utf8.RuneStart(p[len(p)-i]) {
			if !utf8.FullRune(p[len(p)-i:]) {
				return len(p) - i
			}
			return len(p)
		}
	}
	return len(p)
}

// bodyPlan is how a body in a Source is encoded, chosen by reading it once
// with the same rules as appendBodyValue.
type bodyPlan struct {
	enc   string
	total int64 // bytes in the source
	n     int64 // bytes to encode: total, or less for a cut character
	err   error // reading failed
}

func scanSource(src Source, truncated bool) *bodyPlan {
	p := &bodyPlan{}
	rc, err := src.Open()
	if err != nil {
		p.err = err
		return p
	}
	defer rc.Close()
	cp := chunkBuffers.Get().(*[]byte)
	defer chunkBuffers.Put(cp)
	u := utf8Scan{firstBad: -1}
	var j jsonScan
	maybeJSON := !truncated
	for {
		n, err := rc.Read(*cp)
		if n > 0 {
			data := (*cp)[:n]
			u.write(data)
			if maybeJSON {
				maybeJSON = u.firstBad < 0 && j.write(data)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			p.err = err
			return p
		}
	}
	u.end()
	p.total, p.n = u.total, u.total
	switch {
	case u.firstBad >= 0:
		// As appendBodyValue: a cut body ending in a partial character is
		// text without it, when the rest is valid.
		last := u.last[:u.nlast]
		trimmed := u.total - int64(len(last)-len(trimPartialRune(last)))
		if truncated && trimmed < u.total && u.firstBad >= trimmed {
			p.enc, p.n = EncodingText, trimmed
		} else {
			p.enc = EncodingBase64
		}
	case maybeJSON && j.end():
		p.enc = EncodingJSON
	default:
		p.enc = EncodingText
	}
	return p
}

// utf8Scan checks UTF-8 validity chunk by chunk and finds the offset of the
// first invalid byte, as decoding the whole would.
type utf8Scan struct {
	total    int64 // bytes seen
	off      int64 // bytes checked (before carry)
	carry    [utf8.UTFMax]byte
	nc       int
	firstBad int64 // -1: none yet
	last     [utf8.UTFMax]byte
	nlast    int
}

func (u *utf8Scan) write(p []byte) {
	u.total += int64(len(p))
	u.keepLast(p)
	if u.firstBad >= 0 {
		return
	}
	if u.nc > 0 {
		var tmp [2 * utf8.UTFMax]byte
		t := append(tmp[:0], u.carry[:u.nc]...)
		t = append(t, p[:min(len(p), utf8.UTFMax)]...)
		if !utf8.FullRune(t) {
			u.nc = copy(u.carry[:], t)
			return
		}
		r, size := utf8.DecodeRune(t)
		if r == utf8.RuneError && size == 1 {
			u.firstBad = u.off
			return
		}
		p = p[size-u.nc:]
		u.off += int64(size)
		u.nc = 0
	}
	cut := runeCut(p)
	if !utf8.Valid(p[:cut]) {
		for i := 0; i < cut; {
			r, size := utf8.DecodeRune(p[i:cut])
			if r == utf8.RuneError && size == 1 {
				u.firstBad = u.off + int64(i)
				return
			}
			i += size
		}
	}
	u.off += int64(cut)
	u.nc = copy(u.carry[:], p[cut:])
}

func (u *utf8Scan) keepLast(p []byte) {
	if len(p) >= utf8.UTFMax {
		u.nlast = copy(u.last[:], p[len(p)-utf8.UTFMax:])
		return
	}
	keep := min(u.nlast, utf8.UTFMax-len(p))
	copy(u.last[:], u.last[u.nlast-keep:u.nlast])
	u.nlast = keep + copy(u.last[keep:], p)
}

// end notes an incomplete character left at the end.
func (u *utf8Scan) end() {
	if u.firstBad < 0 && u.nc > 0 {
		u.firstBad = u.off
	}
}

// compactor drops the whitespace outside strings from valid JSON given in
// chunks that end on character boundaries, and escapes U+2028, U+2029 and U+0085,
// giving what json.Compact gives with those escaped, as appendCompactJSON does.
type compactor struct {
	inString, escaped bool
}

func (c *compactor) append(dst, p []byte) []byte {
	start := 0
	for i := 0; i < len(p); i++ {
		b := p[i]
		if !c.inString {
			switch b {
			case ' ', '\t', '\r', '\n':
				dst = append(dst, p[start:i]...)
				start = i + 1
			case '"':
				c.inString = true
			}
			continue
		}
		switch {
		case c.escaped:
			c.escaped = false
		case b == '\\':
			c.escaped = true
		case b == '"':
			c.inString = false
		case b == 0xE2 && i+2 < len(p) && p[i+1] == 0x80 && p[i+2]&^1 == 0xA8:
			dst = append(dst, p[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[p[i+2]&0xf])
			i += 2
			start = i + 1
		case b == 0xC2 && i+1 < len(p) && p[i+1] == 0x85:
			dst = append(dst, p[start:i]...)
			dst = append(dst, `\u0085`...)
			i++
			start = i + 1
		}
	}
	return append(dst, p[start:]...)
}

// jsonScan reports, chunk by chunk, whether the input is exactly one JSON
// value with optional surrounding whitespace: what json.Valid reports
// (including its nesting limit), for input already known to be UTF-8.
type jsonScan struct {
	// The open containers, one bit each (1: an object), the first 256
	// in near, deeper ones in far: a scan on the stack allocates nothing
	// for the nesting of ordinary bodies.
	depth  int
	near   [4]uint64
	far    []bool
	state  uint8
	isKey  bool   // the string being read is an object key
	lit    string // the rest of a literal being matched
	hex    int    // hex digits left in a \u escape
	failed bool
	// dirty is set when the input may not be compact: it has whitespace
	// outside strings or a raw U+2028, U+2029 or U+0085 (which the record
	// escapes) in one. Clean input is its own compacted form.
	dirty bool
}

const (
	jsValue      = iota // a value is expected
	jsValueOrEnd        // after '[': a value or ']'
	jsKeyOrEnd          // after '{': a key or '}'
	jsKey               // after ',' in an object: a key
	jsColon             // after a key
	jsAfter             // after a value inside a container
	jsDone              // after the top-level value
	jsString            // inside a string
	jsEscape            // after '\' in a string
	jsHex               // inside \uXXXX
	jsLiteral           // inside true, false or null
	jsMinus             // after '-'
	jsZero              // after a leading 0
	jsInt               // in integer digits
	jsDot               // after '.'
	jsFrac              // in fraction digits
	jsE                 // after 'e'
	jsESign             // after the exponent's sign
	jsExp               // in exponent digits
)

// maxNestingDepth is encoding/json's limit: deeper input is not valid.
const maxNestingDepth = 10000

func (j *jsonScan) write(p []byte) bool {
	if j.failed {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
	again:
		switch j.state {
		case jsString:
			// Skip plain string bytes quickly.
			for !stringStop[c] {
				i++
				if i == len(p) {
					return true
				}
				c = p[i]
			}
			switch {
			case c == '"':
				if j.isKey {
					j.state = jsColon
				} else {
					j.valueEnd()
				}
			case c == '\\':
				j.state = jsEscape
			case c >= utf8.RuneSelf:
				// The lead byte of U+0085 (C2 85) or of U+2028 and
				// U+2029 (E2 80 A8, E2 80 A9); a sequence cut by the
				// chunk's end counts as one.
				rest := p[i:]
				if len(rest) < 3 && c == 0xE2 || len(rest) < 2 ||
					c == 0xC2 && rest[1] == 0x85 || c == 0xE2 && rest[1] == 0x80 && rest[2]&^1 == 0xA8 {
					j.dirty = true
				}
			default:
				return j.fail()
			}
		case jsEscape:
			switch c {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j.state = jsString
			case 'u':
				j.state, j.hex = jsHex, 4
			default:
				return j.fail()
			}
		case jsHex:
			if !isHex(c) {
				return j.fail()
			}
			if j.hex--; j.hex == 0 {
				j.state = jsString
			}
		case jsLiteral:
			if c != j.lit[0] {
				return j.fail()
			}
			if j.lit = j.lit[1:]; j.lit == "" {
				j.valueEnd()
			}
		case jsValue, jsValueOrEnd:
			switch {
			case isSpace(c):
				j.dirty = true
			case c == '{':
				if !j.push('{') {
					return false
				}
				j.state = jsKeyOrEnd
			case c == '[':
				if !j.push('[') {
					return false
				}
				j.state = jsValueOrEnd
			case c == '"':
				j.state, j.isKey = jsString, false
			case c == '-':
				j.state = jsMinus
			case c == '0':
				j.state = jsZero
			case '1' <= c && c <= '9':
				j.state = jsInt
			case c == 't':
				j.state, j.lit = jsLiteral, "rue"
			case c == 'f':
				j.state, j.lit = jsLiteral, "alse"
			case c == 'n':
				j.state, j.lit = jsLiteral, "ull"
			case c == ']' && j.state == jsValueOrEnd:
				j.pop()
			default:
				return j.fail()
			}
		case jsKeyOrEnd, jsKey:
			switch {
			case isSpace(c):
				j.dirty = true
			case c == '"':
				j.state, j.isKey = jsString, true
			case c == '}' && j.state == jsKeyOrEnd:
				j.pop()
			default:
				return j.fail()
			}
		case jsColon:
			switch {
			case isSpace(c):
				j.dirty = true
			case c == ':':
				j.state = jsValue
			default:
				return j.fail()
			}
		case jsAfter:
			top := j.top()
			switch {
			case isSpace(c):
				j.dirty = true
			case c == ',' && top == '{':
				j.state = jsKey
			case c == ',':
				j.state = jsValue
			case c == '}' && top == '{', c == ']' && top == '[':
				j.pop()
			default:
				return j.fail()
			}
		case jsDone:
			if !isSpace(c) {
				return j.fail()
			}
			j.dirty = true
		case jsMinus:
			switch {
			case c == '0':
				j.state = jsZero
			case '1' <= c && c <= '9':
				j.state = jsInt
			default:
				return j.fail()
			}
		case jsZero, jsInt:
			switch {
			case j.state == jsInt && '0' <= c && c <= '9':
			case c == '.':
				j.state = jsDot
			case c == 'e' || c == 'E':
				j.state = jsE
			default:
				j.valueEnd()
				goto again
			}
		case jsDot:
			if c < '0' || c > '9' {
				return j.fail()
			}
			j.state = jsFrac
		case jsFrac:
			switch {
			case '0' <= c && c <= '9':
			case c == 'e' || c == 'E':
				j.state = jsE
			default:
				j.valueEnd()
				goto again
			}
		case jsE:
			switch {
			case c == '+' || c == '-':
				j.state = jsESign
			case '0' <= c && c <= '9':
				j.state = jsExp
			default:
				return j.fail()
			}
		case jsESign:
			if c < '0' || c > '9' {
				return j.fail()
			}
			j.state = jsExp
		case jsExp:
			if c < '0' || c > '9' {
				j.valueEnd()
				goto again
			}
		}
	}
	return true
}

// end reports whether the input seen is one complete JSON value.
func (j *jsonScan) end() bool {
	if j.failed || j.depth > 0 {
		return false
	}
	switch j.state {
	case jsDone, jsZero, jsInt, jsFrac, jsExp:
		return true
	}
	return false
}

func (j *jsonScan) fail() bool {
	j.failed = true
	return false
}

func (j *jsonScan) push(c byte) bool {
	obj := c == '{'
	if j.depth < 64*len(j.near) {
		w, bit := &j.near[j.depth/64], uint64(1)<<(j.depth%64)
		if obj {
			*w |= bit
		} else {
			*w &^= bit
		}
	} else {
		j.far = append(j.far, obj)
	}
	if j.depth++; j.depth > maxNestingDepth {
		return j.fail()
	}
	return true
}

// top is the innermost open container: '{' or '['.
func (j *jsonScan) top() byte {
	d := j.depth - 1
	var obj bool
	if d < 64*len(j.near) {
		obj = j.near[d/64]&(1<<(d%64)) != 0
	} else {
		obj = j.far[len(j.far)-1]
	}
	if obj {
		return '{'
	}
	return '['
}

func (j *jsonScan) pop() {
	j.depth--
	if j.depth >= 64*len(j.near) {
		j.far = j.far[:len(j.far)-1]
	}
	j.valueEnd()
}

// valueEnd moves past a complete value.
func (j *jsonScan) valueEnd() {
	if j.depth == 0 {
		j.state = jsDone
	} else {
		j.state = jsAfter
	}
}

// stringStop marks the bytes that end jsonScan's fast run through a
// string: the quote, the backslash, control characters (invalid there),
// and the lead bytes of the line separators the record escapes.
var stringStop = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'], t[0xC2], t[0xE2] = true, true, true, true
	return t
}()

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
