package jsonl

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// readSize is the Reader's buffer: a line that fits is returned without a
// copy; a longer one is gathered in a second buffer.
const readSize = 64 << 10

// Reader reads lines of any length from one input and keeps the input's
// name and the line number for messages ("raw.jsonl:42"). It is not safe
// for use by several goroutines at once.
type Reader struct {
	br   *bufio.Reader
	name string
	line int
	long []byte // gathers a line longer than br's buffer; reused
	err  error  // sticky: returned by every Next after the input ended
	// unterminated: the line Next returned last had no '\n' (the input
	// ended inside it: a log cut by a crash, or still being written).
	unterminated bool
}

// NewReader returns a Reader of r, called name in messages; the name "-"
// (standard input) is shown as "<stdin>".
func NewReader(r io.Reader, name string) *Reader {
	return newReaderSize(r, name, readSize)
}

// newReaderSize is NewReader with a buffer of size bytes, so tests can
// cross the buffer's edge with small inputs.
func newReaderSize(r io.Reader, name string, size int) *Reader {
	if name == "-" {
		name = "<stdin>"
	}
	return &Reader{br: bufio.NewReaderSize(r, size), name: name}
}

// Next returns the next line without its '\n'. Every other byte is kept as
// it was, including a '\r' before the '\n'. The line is valid until the next
// call to Next. There is no limit on its length. A last line that no '\n'
// ends is still returned; the caller decides whether it is whole. At the
// end of the input Next returns io.EOF, and a failed read returns an error
// that names the input and line; either is returned again by later calls.
func (r *Reader) Next() ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	b, err := r.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		// b aliases br's buffer, which the next ReadSlice overwrites.
		r.long = append(r.long[:0], b...)
		for errors.Is(err, bufio.ErrBufferFull) {
			b, err = r.br.ReadSlice('\n')
			r.long = append(r.long, b...)
		}
		b = r.long
	}
	r.unterminated = err != nil
	switch {
	case err == nil:
		r.line++
		return b[:len(b)-1], nil
	case err != io.EOF:
		err = fmt.Errorf("read %s:%d: %w", r.name, r.line+1, err)
	}
	r.err = err
	if len(b) > 0 {
		r.line++
		return b, nil
	}
	return nil, err
}

// Line returns the number, from 1, of the line Next returned last; 0
// before the first.
func (r *Reader) Line() int { return r.line }

// Unterminated reports whether the line Next returned last ended the input
// without a newline, so a caller can say a bad last line was cut short.
func (r *Reader) Unterminated() bool { return r.unterminated }

// Name returns the input's name as messages show it.
func (r *Reader) Name() string { return r.name }

// Pos returns "name:line" for the line Next returned last, for messages
// such as "raw.jsonl:42: not a record".
func (r *Reader) Pos() string { return r.name + ":" + strconv.Itoa(r.line) }

// Buffered returns how many bytes have been read from the input and not
// yet returned. When it is 0, the next Next may block on the input, so a
// caller writing output should flush it first: a live pipe then sees each
// result at once, and a big file still gets large writes.
func (r *Reader) Buffered() int { return r.br.Buffered() }

// Blank reports whether a line holds only spaces, tabs and a CR: readers of
// records skip such lines without a warning.
func Blank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}
