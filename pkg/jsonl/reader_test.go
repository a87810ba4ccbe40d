package jsonl

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// bigLine is a 5 MB line, far over the Reader's buffer.
var bigLine = `{"v":1,"body":"` + strings.Repeat("iVBORw0KGgo=", 5<<20/12) + `"}`

var readerTests = []struct {
	name string
	in   string
	want []string
}{
	{name: "empty input", in: "", want: nil},
	{name: "one line", in: "{}\n", want: []string{"{}"}},
	{name: "no trailing newline", in: "a\nb", want: []string{"a", "b"}},
	{name: "only an unterminated line", in: "{\"v\":1", want: []string{`{"v":1`}},
	{name: "CRLF kept", in: "a\r\nb\r\n", want: []string{"a\r", "b\r"}},
	{name: "bare CR is not a line end", in: "a\rb\n\r", want: []string{"a\rb", "\r"}},
	{name: "empty lines returned", in: "\n\n\na\n\n", want: []string{"", "", "", "a", ""}},
	{name: "only a newline", in: "\n", want: []string{""}},
	{name: "bytes kept", in: "\x00\xff\u2028\u0085\t \n", want: []string{"\x00\xff\u2028\u0085\t "}},
	{name: "lines around small buffer sizes", in: edgeLines(14, 15, 16, 17, 18, 31, 32, 33, 34, 100) + "\n" + strings.Repeat("u", 33),
		want: strings.Split(edgeLines(14, 15, 16, 17, 18, 31, 32, 33, 34, 100)+"\n"+strings.Repeat("u", 33), "\n")},
	{name: "5 MB line", in: "a\n" + bigLine + "\nb\n", want: []string{"a", bigLine, "b"}},
	{name: "5 MB last line unterminated", in: "a\n" + bigLine, want: []string{"a", bigLine}},
	{name: "5 MB lines in a row", in: bigLine + "\n" + bigLine[1:] + "\n\n", want: []string{bigLine, bigLine[1:], ""}},
}

// edgeLines returns lines of the given lengths joined with '\n'.
func edgeLines(lengths ...int) string {
	var lines []string
	for i, n := range lengths {
		lines = append(lines, strings.Repeat(string(rune('a'+i)), n))
	}
	return strings.Join(lines, "\n")
}

// readLines reads every line from r, copying each, and checks Line as it
// goes.
func readLines(t *testing.T, r *Reader) []string {
	t.Helper()
	var got []string
	for {
		line, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Next after %d lines: %v", len(got), err)
		}
		got = append(got, string(line))
		if r.Line() != len(got) {
			t.Fatalf("Line() = %d after %d lines", r.Line(), len(got))
		}
	}
	return got
}

// TestReader reads each input through buffers of several sizes and from
// inputs that return a byte at a time, half their data, or data with
// io.EOF, and checks that every way gives the same lines.
func TestReader(t *testing.T) {
	wraps := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"plain", func(r io.Reader) io.Reader { return r }},
		{"one byte", iotest.OneByteReader},
		{"half", iotest.HalfReader},
		{"data with EOF", iotest.DataErrReader},
	}
	for _, tt := range readerTests {
		for _, size := range []int{16, 17, readSize} {
			for _, w := range wraps {
				if len(tt.in) > 1<<20 && (w.name == "one byte" || size < readSize) {
					continue // slow, and the small inputs cover these paths
				}
				t.Run(fmt.Sprintf("%s/buf=%d/%s", tt.name, size, w.name), func(t *testing.T) {
					r := newReaderSize(w.wrap(strings.NewReader(tt.in)), "in.jsonl", size)
					got := readLines(t, r)
					if len(got) != len(tt.want) {
						t.Fatalf("got %d lines, want %d", len(got), len(tt.want))
					}
					for i := range got {
						if got[i] != tt.want[i] {
							t.Errorf("line %d: got %.60q (%d bytes), want %.60q (%d bytes)", i+1, got[i], len(got[i]), tt.want[i], len(tt.want[i]))
						}
					}
					if line, err := r.Next(); err != io.EOF || line != nil {
						t.Errorf("Next after the end = %q, %v; want nil, io.EOF", line, err)
					}
					if r.Line() != len(tt.want) {
						t.Errorf("Line() after the end = %d, want %d", r.Line(), len(tt.want))
					}
				})
			}
		}
	}
}

// TestReaderManyLines: line numbers and contents stay right over many
// lines that cross the buffer's edge at every position.
func TestReaderManyLines(t *testing.T) {
	var in bytes.Buffer
	const n = 100_000
	for i := range n {
		fmt.Fprintf(&in, `{"i":%d,"pad":"%s"}`+"\n", i, strings.Repeat("x", i%300))
	}
	r := NewReader(&in, "many.jsonl")
	for i := range n {
		line, err := r.Next()
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if want := fmt.Sprintf(`{"i":%d,"pad":"%s"}`, i, strings.Repeat("x", i%300)); string(line) != want {
			t.Fatalf("line %d = %.60q, want %.60q", i+1, line, want)
		}
		if r.Line() != i+1 {
			t.Fatalf("Line() = %d, want %d", r.Line(), i+1)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("Next after the end: %v", err)
	}
}

func TestReaderNames(t *testing.T) {
	for _, tt := range []struct{ name, shown string }{
		{"-", "<stdin>"},
		{"raw.jsonl", "raw.jsonl"},
		{"old/a b.jsonl", "old/a b.jsonl"},
		{"", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader("a\nb\n"), tt.name)
			if r.Name() != tt.shown {
				t.Errorf("Name() = %q, want %q", r.Name(), tt.shown)
			}
			if want := tt.shown + ":0"; r.Pos() != want {
				t.Errorf("Pos() before Next = %q, want %q", r.Pos(), want)
			}
			r.Next()
			r.Next()
			if want := tt.shown + ":2"; r.Pos() != want {
				t.Errorf("Pos() = %q, want %q", r.Pos(), want)
			}
		})
	}
}

// TestReaderError: a failed read first gives the partial line read before
// it, then an error that names the input and line and wraps the cause, and
// the same error again after that.
func TestReaderError(t *testing.T) {
	errBroken := errors.New("broken pipe")
	r := NewReader(io.MultiReader(strings.NewReader("a\nb"), iotest.ErrReader(errBroken)), "-")
	for i, want := range []string{"a", "b"} {
		line, err := r.Next()
		if err != nil || string(line) != want {
			t.Fatalf("Next %d = %q, %v; want %q, nil", i+1, line, err, want)
		}
	}
	for range 2 {
		line, err := r.Next()
		if !errors.Is(err, errBroken) || line != nil {
			t.Fatalf("Next = %q, %v; want nil and %v", line, err, errBroken)
		}
		if want := "read <stdin>:2: broken pipe"; err.Error() != want {
			t.Errorf("error %q, want %q", err, want)
		}
	}
}

// TestReaderBuffered: Buffered counts what is read and not yet returned,
// and is 0 when the next line has not arrived, which is when a filter
// flushes its output.
func TestReaderBuffered(t *testing.T) {
	r := NewReader(strings.NewReader("a\nbb\n"), "x")
	if n := r.Buffered(); n != 0 {
		t.Errorf("Buffered() before any read = %d", n)
	}
	r.Next()
	if n := r.Buffered(); n != 3 {
		t.Errorf("Buffered() after the first line = %d, want 3", n)
	}
	r.Next()
	if n := r.Buffered(); n != 0 {
		t.Errorf("Buffered() after the last line = %d, want 0", n)
	}

	pr, pw := io.Pipe()
	defer pr.Close()
	go func() {
		pw.Write([]byte("one\n"))
		pw.Write([]byte("two\n"))
		pw.Close()
	}()
	r = NewReader(pr, "-")
	for _, want := range []string{"one", "two"} {
		line, err := r.Next()
		if err != nil || string(line) != want {
			t.Fatalf("Next = %q, %v; want %q", line, err, want)
		}
		if n := r.Buffered(); n != 0 {
			t.Errorf("Buffered() after %q from a pipe = %d, want 0", want, n)
		}
	}
}

// TestReaderAllocs: lines that fit in the buffer are returned without
// allocating; a long line reuses its buffer.
func TestReaderAllocs(t *testing.T) {
	in := []byte(strings.Repeat(`{"v":1,"path":"/v1/chat/completions"}`+"\n", 1000) + strings.Repeat("x", 200<<10) + "\n")
	src := bytes.NewReader(in)
	r := NewReader(src, "x")
	readAll := func() {
		src.Reset(in)
		r.err = nil
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	}
	readAll() // grow the long-line buffer
	if allocs := testing.AllocsPerRun(10, readAll); allocs != 0 {
		t.Errorf("%.0f allocations per pass over %d lines, want 0", allocs, 1001)
	}
}

// FuzzReader: joining the lines with '\n' gives back the input, less a
// final '\n', whatever the buffer size and the sizes of the input's reads.
func FuzzReader(f *testing.F) {
	for _, tt := range readerTests {
		if len(tt.in) < 1<<10 {
			f.Add([]byte(tt.in), uint8(0), uint8(0))
		}
	}
	f.Add([]byte(strings.Repeat("0123456789abcdef", 5)+"\n\n"+strings.Repeat("z", 33)), uint8(1), uint8(3))
	f.Fuzz(func(t *testing.T, in []byte, bufExtra, readMax uint8) {
		src := &chunkedReader{b: in, max: int(readMax%32) + 1}
		r := newReaderSize(src, "fuzz", 16+int(bufExtra%64))
		var lines [][]byte
		for {
			line, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if bytes.IndexByte(line, '\n') >= 0 {
				t.Fatalf("line %d holds a newline: %q", r.Line(), line)
			}
			lines = append(lines, bytes.Clone(line))
			if r.Line() != len(lines) {
				t.Fatalf("Line() = %d after %d lines", r.Line(), len(lines))
			}
		}
		joined := bytes.Join(lines, []byte("\n"))
		if len(in) > 0 && in[len(in)-1] == '\n' {
			joined = append(joined, '\n')
		}
		if !bytes.Equal(joined, in) {
			t.Fatalf("lines %q joined give %q, want %q", lines, joined, in)
		}
	})
}

// chunkedReader returns at most max bytes per Read.
type chunkedReader struct {
	b   []byte
	max int
}

func (c *chunkedReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.max)], c.b)
	c.b = c.b[n:]
	return n, nil
}

// BenchmarkReader reads 16 MiB of record-like lines, mostly a few KiB
// long, with a few over the 64 KiB buffer.
func BenchmarkReader(b *testing.B) {
	var in bytes.Buffer
	for i := 0; in.Len() < 16<<20; i++ {
		pad := 200 + i*37%4000
		if i%97 == 0 {
			pad = 100 << 10
		}
		fmt.Fprintf(&in, `{"v":1,"id":"%d","body":"%s"}`+"\n", i, strings.Repeat("a", pad))
	}
	data := in.Bytes()
	src := bytes.NewReader(data)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		src.Reset(data)
		r := NewReader(src, "bench")
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	}
}
