package record

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// memSource is a Source over bytes whose readers return at most step bytes
// a read, so that small bodies cross many chunk boundaries.
type memSource struct {
	data  []byte
	step  int
	opens int
	err   error // returned by Open
}

var _ Source = (*memSource)(nil)

func (s *memSource) Size() int64 { return int64(len(s.data)) }

func (s *memSource) Open() (io.ReadCloser, error) {
	s.opens++
	if s.err != nil {
		return nil, s.err
	}
	return io.NopCloser(&stepReader{data: s.data, step: s.step}), nil
}

type stepReader struct {
	data []byte
	step int
	i    int // read count, to vary the step
}

func (r *stepReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	r.i++
	n := min(len(p), len(r.data), max(1, r.step+r.i%3))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// streamed returns a copy of r whose bodies are read from sources that
// return step bytes at a time.
func streamed(r *Record, step int) *Record {
	c := *r
	c.Request.Body.Source = &memSource{data: r.Request.Body.Data, step: step}
	c.Request.Body.Data = nil
	if r.Response != nil {
		res := *r.Response
		res.Body.Source = &memSource{data: r.Response.Body.Data, step: step}
		res.Body.Data = nil
		c.Response = &res
	}
	return &c
}

// checkSame checks that WriteJSON and AppendJSON of the streamed record
// give the same bytes as AppendJSON of the in-memory one.
func checkSame(t *testing.T, r *Record) {
	t.Helper()
	want := r.AppendJSON(nil)
	for _, step := range []int{1, 2, 3, 7, 4096} {
		s := streamed(r, step)
		var buf bytes.Buffer
		if err := s.WriteJSON(&buf); err != nil {
			t.Fatalf("step %d: WriteJSON: %v", step, err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Fatalf("step %d: WriteJSON\n%q\nwant\n%q", step, buf.Bytes(), want)
		}
		// Prepared, with the output written through a one-byte writer.
		s = streamed(r, step)
		s.Prepare()
		buf.Reset()
		if err := s.WriteJSON(&oneByteWriter{&buf}); err != nil {
			t.Fatalf("step %d: prepared WriteJSON: %v", step, err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Fatalf("step %d: prepared WriteJSON\n%q\nwant\n%q", step, buf.Bytes(), want)
		}
		if got := streamed(r, step).AppendJSON(nil); !bytes.Equal(got, want) {
			t.Fatalf("step %d: AppendJSON of sources\n%q\nwant\n%q", step, got, want)
		}
	}
}

type oneByteWriter struct{ w io.Writer }

func (o *oneByteWriter) Write(p []byte) (int, error) {
	for i := range p {
		if _, err := o.w.Write(p[i : i+1]); err != nil {
			return i, err
		}
	}
	return len(p), nil
}

var streamBodies = []struct {
	name      string
	data      string
	truncated bool
}{
	{"empty", "", false},
	{"json compacted", "{ \"b\" : 1,\n \"a\" : [1, 2, {\"x\" :\t\"y z\"}] }", false},
	{"json escapes and spaces in strings", `{"s" : "\u00e9\n \" \\ ", "t":"a b"}`, false},
	{"json line separators", "{\"s\":\"a\u2028b\u2029c\u2028\"}", false},
	{"json NEL", "{\"s\":\"a\u0085b\"}\n", false},
	{"text NEL", "data: \u0085\u0085x\n\n", false},
	{"json scalars", " 42 ", false},
	{"json numbers", `[0, -0.5e+10, 1E3, 12.25, -7]`, false},
	{"json literals", `[true,false,null]`, false},
	{"json top-level string with U+2028", "\"\u2028\"", false},
	{"not json: trailing comma", `[1,]`, false},
	{"not json: leading zero", `[01]`, false},
	{"not json: two values", `1 2`, false},
	{"not json: cut", `{"a":`, false},
	{"not json: bad escape", `"\x"`, false},
	{"not json: control char in string", "\"a\tb\"", false},
	{"not json: bare minus", `-`, false},
	{"not json: literal cut", `tru`, false},
	{"not json: literal wrong", `nul1`, false},
	{"whitespace only", "  \n", false},
	{"sse text", "data: {\"a\":1}\n\ndata: \u2028é☃😀\n\n", false},
	{"text with controls", "a\x00b\x1fc\u2028\"\\", false},
	{"binary", "\xff\xfe\x00\x01", false},
	{"json with invalid utf8", "{\"a\":\"\xff\"}", false},
	{"invalid utf8 late", strings.Repeat("é", 20) + "\xe2\x98" + "x", false},
	{"truncated json is text", `{"a":1}`, true},
	{"truncated mid rune", "h\xc3\xa9llo \xe2\x98", true},
	{"truncated mid 4-byte rune", "ab😀\xf0\x9f\x98", true},
	{"truncated invalid then cut", "a\xffb\xe2\x98", true},
	{"truncated ending in invalid byte", "abc\xff", true},
	{"truncated only partial rune", "\xe2\x98", true},
	{"not truncated partial rune", "abc\xe2\x98", false},
	{"ends with U+FFFD", "a\xff\uFFFD", true},
}

func TestWriteJSONMatchesAppendJSON(t *testing.T) {
	deep := strings.Repeat("[", maxNestingDepth) + strings.Repeat("]", maxNestingDepth)
	tooDeep := "[" + deep + "]"
	bodies := append(streamBodies[:len(streamBodies):len(streamBodies)],
		struct {
			name      string
			data      string
			truncated bool
		}{"max depth", deep, false},
		struct {
			name      string
			data      string
			truncated bool
		}{"too deep", tooDeep, false},
	)
	for _, tt := range bodies {
		t.Run(tt.name, func(t *testing.T) {
			r := sample()
			r.Request.Body = Body{Data: []byte(tt.data), WireBytes: int64(len(tt.data)), Truncated: tt.truncated}
			r.Response.Body = Body{Data: []byte(tt.data), WireBytes: 99, Truncated: tt.truncated,
				ContentEncoding: "gzip", DecodeError: "cut"}
			checkSame(t, r)
		})
	}
}

func TestWriteJSONLongTiming(t *testing.T) {
	r := sample()
	r.Response.Timing = make([]Tick, 10000)
	for i := range r.Response.Timing {
		r.Response.Timing[i] = Tick{Offset: int64(i * 100), At: 1}
	}
	r.Response.Body.Data = bytes.Repeat([]byte("data: x\n\n"), 20000)
	checkSame(t, r)
}

func TestWriteJSONSourceErrors(t *testing.T) {
	open := errors.New("open failed")
	r := &Record{Request: Request{Body: Body{Source: &memSource{err: open}, WireBytes: 5}}}
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	line := buf.String()
	if strings.Contains(line, `"body"`) || !strings.Contains(line, `"decode_error":"body not recorded: open failed"`) {
		t.Errorf("got %s", line)
	}
	if got := string(r.AppendJSON(nil)); got != line {
		t.Errorf("AppendJSON %s, WriteJSON %s", got, line)
	}

	// A read that fails after part of a large body was written fails the
	// write: the line is incomplete and the caller must know.
	big := bytes.Repeat([]byte("x"), 4*flushAt)
	r = &Record{Request: Request{Body: Body{Source: &failLate{data: big}, WireBytes: int64(len(big))}}}
	if err := r.WriteJSON(io.Discard); err == nil {
		t.Error("WriteJSON of a source failing mid-way: no error")
	}
	// A failing writer is reported.
	r = streamed(sample(), 10)
	if err := r.WriteJSON(iotest.TruncateWriter(io.Discard, 0)); err != nil {
		t.Errorf("TruncateWriter never fails, got %v", err)
	}
	if err := r.WriteJSON(errWriter{}); err == nil {
		t.Error("failing writer: no error")
	}
}

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// failLate reads fine the first time (the scan) and fails half-way the
// second time.
type failLate struct {
	data  []byte
	opens int
}

func (f *failLate) Size() int64 { return int64(len(f.data)) }

func (f *failLate) Open() (io.ReadCloser, error) {
	f.opens++
	if f.opens == 1 {
		return io.NopCloser(bytes.NewReader(f.data)), nil
	}
	return io.NopCloser(io.MultiReader(bytes.NewReader(f.data[:len(f.data)/2]), iotest.ErrReader(errors.New("io error")))), nil
}

// FuzzWriteJSON checks WriteJSON of bodies read from sources against
// AppendJSON of the same bodies in memory.
func FuzzWriteJSON(f *testing.F) {
	for _, b := range streamBodies {
		f.Add([]byte(b.data), b.truncated, uint8(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, truncated bool, step uint8) {
		r := sample()
		r.Request.Body = Body{Data: data, WireBytes: int64(len(data))}
		r.Response.Body = Body{Data: data, WireBytes: int64(len(data)), Truncated: truncated}
		want := r.AppendJSON(nil)
		var buf bytes.Buffer
		if err := streamed(r, int(step%16)+1).WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Fatalf("WriteJSON\n%q\nwant\n%q", buf.Bytes(), want)
		}
	})
}

// BenchmarkWriteJSONSource encodes records whose 8 MiB bodies are read from
// a Source: an SSE stream (text), a JSON document (compacted) and binary
// (base64).
func BenchmarkWriteJSONSource(b *testing.B) {
	sse := bytes.Repeat([]byte("data: {\"choices\":[{\"delta\":{\"content\":\"lorem ipsum \\u00e9\"}}]}\n\n"), 8<<20/64)
	doc := append([]byte(`{"data": [`), bytes.Repeat([]byte(`{"embedding": [0.1, 0.2, 0.3], "object": "embedding"}, `), 8<<20/56)...)
	doc = append(doc, "1]}"...)
	bin := make([]byte, 8<<20)
	for i := range bin {
		bin[i] = byte(i * 7)
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{{"text", sse}, {"json", doc}, {"base64", bin}} {
		b.Run(tc.name, func(b *testing.B) {
			r := sample()
			r.Response.Body = Body{Source: &memSource{data: tc.data, step: 1 << 20}, WireBytes: int64(len(tc.data))}
			b.SetBytes(int64(len(tc.data)))
			b.ReportAllocs()
			for b.Loop() {
				r.Response.Body.plan = nil
				if err := r.WriteJSON(io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
