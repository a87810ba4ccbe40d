// Package decompress decodes HTTP content-codings (gzip, deflate, br, zstd)
// so that llmtap can record a compressed response as readable bytes while the
// client gets the wire bytes untouched.
//
// It knows Content-Encoding values but not HTTP: callers pass the header value
// and the bytes. DecodeTo bounds its output, so a small hostile body cannot
// make the recorder allocate gigabytes.
package decompress

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

// ErrUnsupported is wrapped by the error for a Content-Encoding that names a
// coding this package does not know, or too many codings.
var ErrUnsupported = errors.New("unsupported content-coding")

// MaxCodings is the most codings one Content-Encoding may stack. Each layer
// costs a decoder (up to 8 MiB for zstd), and no real server stacks more than
// two; curl stops at 5 for the same reason (its MAX_ENCODE_STACK).
const MaxCodings = 5

// zstdMaxWindow is the largest zstd window accepted: RFC 9659 caps the window
// of the "zstd" content-coding at 8 MiB so that receivers can bound memory.
const zstdMaxWindow = 8 << 20

// codings splits a Content-Encoding value into lower-case coding names, in
// the order listed, dropping "identity" and empty list elements (RFC 9110
// section 5.6.1 allows "gzip,,br").
func codings(contentEncoding string) ([]string, error) {
	var out []string
	for part := range strings.SplitSeq(contentEncoding, ",") {
		c := strings.ToLower(strings.Trim(part, " \t"))
		switch c {
		case "", "identity":
			continue
		case "gzip", "x-gzip", "deflate", "br", "zstd":
		default:
			return nil, fmt.Errorf("decompress: %w %q", ErrUnsupported, c)
		}
		if len(out) == MaxCodings {
			return nil, fmt.Errorf("decompress: %w: more than %d codings in %q", ErrUnsupported, MaxCodings, contentEncoding)
		}
		out = append(out, c)
	}
	return out, nil
}

// Supported reports whether every coding in a Content-Encoding value
// (comma-separated, case-insensitive, "identity" ignored) is known: gzip,
// x-gzip, deflate, br, zstd. An empty value is supported: there is nothing to
// decode. More than MaxCodings codings are not.
func Supported(contentEncoding string) bool {
	_, err := codings(contentEncoding)
	return err == nil
}

// NewReader wraps r to decode contentEncoding (codings applied in reverse
// order of listing: "deflate, gzip" means deflate was applied first, so gzip
// is undone first). The only error is for an unsupported coding; each
// decoder starts on the first Read, so a corrupt header shows up there.
//
// An empty stream decodes to an empty stream under any coding, because
// HEAD, 204 and 304 responses carry a Content-Encoding and no body.
// Close releases the decoders; it does not close r.
func NewReader(contentEncoding string, r io.Reader) (io.ReadCloser, error) {
	cs, err := codings(contentEncoding)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return io.NopCloser(r), nil
	}
	s := &stack{}
	for i := len(cs) - 1; i >= 0; i-- {
		l := &layer{coding: cs[i], src: r}
		s.layers = append(s.layers, l)
		r = l
	}
	s.top = r
	return s, nil
}

// stack is the io.ReadCloser NewReader returns: the last layer is read, and
// Close closes every layer.
type stack struct {
	layers []*layer
	top    io.Reader
}

func (s *stack) Read(p []byte) (int, error) { return s.top.Read(p) }

func (s *stack) Close() error {
	for _, l := range s.layers {
		l.close()
	}
	return nil
}

// layer decodes one coding. Its decoder is built on the first Read so that
// building one (which reads a header) reports errors in the same place as
// decoding does, and so that an empty input can be recognised first.
type layer struct {
	coding string
	src    io.Reader
	dec    io.Reader // nil until the first Read
	closer func()    // releases dec, if it needs it
	err    error     // sticky: set once, returned by every later Read
}

func (l *layer) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	if l.dec == nil {
		if err := l.start(); err != nil {
			l.err = err
			return 0, err
		}
	}
	n, err := l.dec.Read(p)
	if err != nil {
		if l.coding == "br" && err.Error() == brotliExcessiveInput {
			err = io.EOF // see brotliExcessiveInput
		}
		l.err = l.wrap(err)
	}
	return n, l.err
}

// brotliExcessiveInput is the message of an error that brotli v1.3.0's
// Reader returns, wrongly, at the end of a valid stream whose last bytes
// reached it split across two reads (it then checks its internal bit buffer,
// which is still marked in use, rather than the input left over). That
// happens on any stream read in small network chunks. The error comes only
// after the stream's last byte of output has been returned, so it is taken
// as the end of the stream. The cost: trailing garbage after a complete
// brotli stream is ignored too, as the two cannot be told apart from outside.
// The error value is unexported, hence the comparison by message; the tests
// pin it.
const brotliExcessiveInput = "brotli: excessive input"

// start builds the decoder for l.coding over a buffered l.src.
func (l *layer) start() error {
	br := bufio.NewReader(l.src) // also an io.ByteReader, so flate adds no buffer of its own
	if _, err := br.Peek(1); err == io.EOF {
		return io.EOF // empty body, see NewReader
	}
	switch l.coding {
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(br)
		if err != nil {
			return l.wrap(noEOF(err))
		}
		l.dec, l.closer = zr, func() { zr.Close() }
	case "deflate":
		// RFC 9110 8.4.1.2: "deflate" is a zlib stream (RFC 1950), but some
		// servers send raw deflate (RFC 1951). Browsers accept both, so tell
		// them apart by the zlib header, as they do.
		if hdr, _ := br.Peek(2); isZlibHeader(hdr) {
			zr, err := zlib.NewReader(br)
			if err != nil {
				return l.wrap(noEOF(err))
			}
			l.dec, l.closer = zr, func() { zr.Close() }
		} else {
			fr := flate.NewReader(br)
			l.dec, l.closer = fr, func() { fr.Close() }
		}
	case "br":
		l.dec = brotli.NewReader(br) // holds no resources beyond memory
	case "zstd":
		zr, err := zstd.NewReader(br,
			zstd.WithDecoderConcurrency(1), // decode in the caller's goroutine: no goroutines to leak
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(zstdMaxWindow),
			// Never decode a whole in-memory input at once: that path is
			// bounded by WithDecoderMaxMemory, not by the caller's limit.
			// (bufio.Reader has no Bytes method, so this is belt and braces.)
			zstd.WithDecodeBuffersBelow(0),
		)
		if err != nil {
			return l.wrap(err)
		}
		l.dec, l.closer = zr, zr.Close
	}
	return nil
}

func (l *layer) close() {
	if l.closer != nil {
		l.closer()
		l.closer = nil
	}
	if l.err == nil {
		l.err = errClosed
	}
}

var errClosed = errors.New("decompress: read after close")

// wrap adds the coding to a decoder error, once: an inner layer's error that
// surfaces through an outer decoder keeps the name of the layer that failed.
func (l *layer) wrap(err error) error {
	var ce *codingError
	if err == io.EOF || errors.As(err, &ce) || err == errClosed {
		return err
	}
	return &codingError{coding: l.coding, err: err}
}

// codingError is a decoding failure in one coding.
type codingError struct {
	coding string
	err    error
}

func (e *codingError) Error() string { return "decompress " + e.coding + ": " + e.err.Error() }
func (e *codingError) Unwrap() error { return e.err }

// noEOF turns a header cut short into io.ErrUnexpectedEOF: the input was not
// empty (start checked), so an EOF here means a truncated body.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// isZlibHeader reports whether b starts with a zlib header (RFC 1950 2.2):
// compression method 8 (deflate), a window of at most 32 KiB, and a check
// value making CMF*256+FLG a multiple of 31. A raw deflate stream matches by
// chance only rarely, since its first bits are a block header.
func isZlibHeader(b []byte) bool {
	if len(b) < 2 {
		return false
	}
	cmf, flg := b[0], b[1]
	return cmf&0x0f == 8 && cmf>>4 <= 7 && (uint16(cmf)<<8|uint16(flg))%31 == 0
}

// Result is what DecodeTo did.
type Result struct {
	// Identity reports that the Content-Encoding names no coding to undo
	// (it is empty, or lists only "identity"): nothing was read or
	// written, and the body is its own decoding.
	Identity bool
	// Written is how many decoded bytes went to dst.
	Written int64
	// Truncated reports that the decoding goes on past the limit: dst got
	// its first limit bytes, and the rest was never decoded.
	Truncated bool
}

// copyBufferSize is the size of the buffer DecodeTo makes when given none.
const copyBufferSize = 32 << 10

// DecodeTo writes the decoding of src, a body sent with contentEncoding, to
// dst, stopping at limit bytes. A decompression bomb costs no more than
// limit bytes of output and the decoders' own fixed state: it stops
// decoding one byte past the limit, and that byte is not written. buf is the
// copy buffer (nil: one of 32 KiB is made).
//
// With no coding to undo (Result.Identity) it reads and writes nothing: the
// caller keeps the body as it is, cut to limit if it likes, and does not
// copy it. An unsupported coding is an error wrapping ErrUnsupported, with
// nothing written. On a decoding error, dst holds what was decoded before
// it: a stream cut off mid-way (an aborted upstream) still yields its first
// part. A body that runs past the limit is not an error, whatever lies
// beyond the limit. A negative limit counts as zero. An error from dst is
// returned as it is.
func DecodeTo(dst io.Writer, src io.Reader, contentEncoding string, limit int64, buf []byte) (Result, error) {
	var res Result
	limit = max(limit, 0)
	cs, err := codings(contentEncoding)
	if err != nil {
		return res, err
	}
	if len(cs) == 0 {
		res.Identity = true
		return res, nil
	}
	rd, err := NewReader(contentEncoding, src)
	if err != nil {
		return res, err
	}
	defer rd.Close()
	if len(buf) == 0 {
		buf = make([]byte, copyBufferSize)
	}
	for {
		// Read one byte past the limit, to tell "exactly limit" from "more".
		want := int64(len(buf))
		if room := limit - res.Written; room < want {
			want = room + 1
		}
		n, rerr := rd.Read(buf[:want])
		if room := limit - res.Written; int64(n) > room {
			n = int(room)
			res.Truncated = true
		}
		if n > 0 {
			m, werr := dst.Write(buf[:n])
			res.Written += int64(m)
			if werr == nil && m < n {
				werr = io.ErrShortWrite
			}
			if werr != nil {
				return res, werr
			}
		}
		switch {
		case res.Truncated:
			return res, nil
		case rerr == io.EOF:
			return res, nil
		case rerr != nil:
			return res, rerr
		}
	}
}
