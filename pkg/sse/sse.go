// Package sse parses text/event-stream (server-sent events) as the WHATWG
// HTML standard defines it ("Interpreting an event stream",
// https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation).
// It knows no provider and no JSON.
//
// A Parser is fed the stream in chunks of any size, cut anywhere (inside a
// CRLF, inside a multibyte character), and gives the same events whatever
// the cuts. Two choices differ from a browser, because this package reads
// recorded streams rather than live ones:
//   - End dispatches a last event that no blank line followed (the spec
//     drops it), since a recorded stream may have been cut short.
//   - Bytes are not decoded: invalid UTF-8 passes through unchanged instead
//     of becoming U+FFFD, so nothing recorded is lost. Only CR and LF end a
//     line; U+2028 and U+0085 are data like any other.
package sse

import (
	"bytes"
	"slices"
)

// Event is one dispatched event.
type Event struct {
	Type string // the event field; "" means the default, "message"
	// Data is the data lines joined with "\n". In an event passed to emit
	// it is the Parser's own buffer, valid only until emit returns, so that
	// a stream costs no allocation per event; copy what you keep.
	Data []byte
	// ID is the last event ID: the value of the latest "id" field in the
	// stream up to this event, which carries over from earlier events as
	// the spec says. "" when there was none.
	ID string
	// Offset is the byte offset in the stream (counting a leading BOM) of
	// the event's first line: the first line after the previous blank line
	// that is not a comment.
	Offset int64
	// End is the byte offset just past the event's last data line, its
	// line break not counted: End-1 is the last byte its data came from,
	// so the event was whole once the stream had reached that byte. A last
	// data line that the end of a cut stream left unterminated ends there.
	End int64
}

// bom is the UTF-8 byte order mark, skipped at the start of a stream.
const bom = "\xEF\xBB\xBF"

// Parser is an incremental event-stream parser. The zero value is ready for
// a stream. Feed it chunks in order with Feed, then call End. A Parser is
// not safe for use by several goroutines at once.
type Parser struct {
	off     int64  // stream offset of the next byte to be fed
	partial []byte // a line begun in an earlier chunk and not yet ended
	partOff int64  // stream offset of partial's first byte
	skipLF  bool   // the last chunk ended with a CR that ended a line: a leading LF is its other half

	started bool       // a field line of the current event has been seen
	evOff   int64      // stream offset of the current event's first line
	dataEnd int64      // stream offset just past the current event's last data line
	data    []byte     // the data buffer: each data value followed by "\n"
	typ     []byte     // the event type buffer
	types   [16]string // recent event types, reused to save an allocation per event (the Responses API uses a dozen)
	nextTyp int        // the slot of types to replace next
	id      string     // the last event ID buffer; never reset by a dispatch
}

// Feed parses the next chunk of the stream and calls emit for each event
// that a blank line completes. A line cut by the end of the chunk is kept
// until a later Feed or End completes it. emit must not call p, nor keep
// ev.Data past its return. The Parser does not keep chunk.
func (p *Parser) Feed(chunk []byte, emit func(Event)) {
	if p.skipLF && len(chunk) > 0 {
		p.skipLF = false
		if chunk[0] == '\n' {
			chunk = chunk[1:]
			p.off++
		}
	}
	// nl is the index in chunk of the next LF, or -1 when there is none
	// left. It is kept across lines so that a long run of CR-ended lines
	// does not rescan the rest of the chunk for an LF each time.
	nl := bytes.IndexByte(chunk, '\n')
	for len(chunk) > 0 {
		end := len(chunk) // where the line ends: at the first CR or LF
		if nl >= 0 {
			end = nl
		}
		if cr := bytes.IndexByte(chunk[:end], '\r'); cr >= 0 {
			end = cr
		}
		if end == len(chunk) {
			if len(p.partial) == 0 {
				p.partOff = p.off
			}
			p.partial = append(p.partial, chunk...)
			p.off += int64(len(chunk))
			return
		}
		line, lineOff := chunk[:end], p.off
		if len(p.partial) > 0 {
			p.partial = append(p.partial, line...)
			line, lineOff = p.partial, p.partOff
		}
		n := end + 1 // the line and its terminator
		if chunk[end] == '\r' {
			switch {
			case n == len(chunk):
				p.skipLF = true
			case chunk[n] == '\n':
				n++
			}
		}
		p.off += int64(n)
		p.processLine(line, lineOff, emit)
		p.partial = p.partial[:0]
		chunk = chunk[n:]
		if nl >= 0 {
			if nl -= n; nl < 0 {
				nl = bytes.IndexByte(chunk, '\n')
			}
		}
	}
}

// End ends the stream: it parses a last line that no line break ended and
// dispatches a last event that no blank line followed. It then resets p,
// keeping its buffers, so p can parse another stream.
func (p *Parser) End(emit func(Event)) {
	if len(p.partial) > 0 {
		p.processLine(p.partial, p.partOff, emit)
	}
	p.dispatch(emit)
	*p = Parser{partial: p.partial[:0], data: p.data[:0], typ: p.typ[:0], types: p.types, nextTyp: p.nextTyp}
}

// processLine handles one line, without its terminator, that began at
// stream offset off. line may alias a buffer of p: what is kept is copied.
func (p *Parser) processLine(line []byte, off int64, emit func(Event)) {
	if off == 0 && bytes.HasPrefix(line, []byte(bom)) {
		line, off = line[len(bom):], off+int64(len(bom))
	}
	if len(line) == 0 {
		p.dispatch(emit)
		return
	}
	if line[0] == ':' { // a comment
		return
	}
	if !p.started {
		p.started, p.evOff = true, off
	}
	name, value := line, line[:0]
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		name, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(name) {
	case "data":
		p.data = append(p.data, value...)
		p.data = append(p.data, '\n')
		p.dataEnd = off + int64(len(line))
	case "event":
		p.typ = append(p.typ[:0], value...)
	case "id":
		if bytes.IndexByte(value, 0) < 0 && string(value) != p.id {
			p.id = string(value)
		}
	}
	// "retry" sets a reconnection time, which a reader of recordings has no
	// use for; any other field is ignored, as the spec says.
}

// dispatch ends the current event: it calls emit unless the data buffer is
// empty, and resets the data and event type buffers (not the ID).
func (p *Parser) dispatch(emit func(Event)) {
	p.started = false
	if len(p.data) == 0 {
		p.typ = p.typ[:0]
		return
	}
	ev := Event{
		Type:   p.typeString(),
		Data:   p.data[:len(p.data)-1], // without the last "\n"
		ID:     p.id,
		Offset: p.evOff,
		End:    p.dataEnd,
	}
	p.data, p.typ = p.data[:0], p.typ[:0]
	emit(ev)
}

// typeString returns the event type buffer as a string, allocating only
// for a type not among the few seen last: a stream repeats a handful.
func (p *Parser) typeString() string {
	if len(p.typ) == 0 {
		return ""
	}
	for _, t := range p.types {
		if t == string(p.typ) {
			return t
		}
	}
	t := string(p.typ)
	p.types[p.nextTyp] = t
	p.nextTyp = (p.nextTyp + 1) % len(p.types)
	return t
}

// ParseAll parses a whole stream, including a last event that is not
// followed by a blank line. Each event's Data is its own: it does not
// alias b, and appending to it does not overwrite another event's.
func ParseAll(b []byte) []Event {
	var out []Event
	// One buffer holds all the data: a data line is longer than the data
	// it adds, so len(b) bytes are enough.
	buf := make([]byte, 0, len(b))
	add := func(ev Event) {
		start := len(buf)
		buf = append(buf, ev.Data...)
		ev.Data = buf[start:len(buf):len(buf)]
		if len(out) == cap(out) {
			out = slices.Grow(out, len(out)) // double: append grows a long slice by only a quarter
		}
		out = append(out, ev)
	}
	var p Parser
	p.Feed(b, add)
	p.End(add)
	return out
}
