package main

import (
	"bytes"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// hostileTimeout bounds each hostile case.
const hostileTimeout = 20 * time.Second

// runBounded runs llmmd on stdin and fails the test if it takes longer
// than hostileTimeout or panics.
func runBounded(t *testing.T, stdin io.Reader, stdout io.Writer) (code int, stderr string) {
	t.Helper()
	var errb bytes.Buffer
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		code = run(nil, stdin, stdout, &errb)
	}()
	select {
	case p := <-done:
		if p != nil {
			t.Fatalf("panic: %v", p)
		}
	case <-time.After(hostileTimeout):
		t.Fatalf("still running after %v", hostileTimeout)
	}
	return code, errb.String()
}

// replaceBody returns goodRecord with the request body replaced by body
// (raw JSON) and its body_encoding by enc.
func replaceBody(body, enc string) string {
	const req = `"body":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi there"}]},"body_encoding":"json"`
	return strings.Replace(goodRecord, req, `"body":`+body+`,"body_encoding":"`+enc+`"`, 1)
}

// TestHostile: a hostile or malformed line between two good records is
// skipped with a warning naming its line (or rendered, when it is a
// record), never panics, and the good records around it are rendered.
func TestHostile(t *testing.T) {
	deepA := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	deepO := strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000)
	noResponse := goodRecord[:strings.Index(goodRecord, `,"response":`)]
	for _, tc := range []struct {
		name  string
		line  string // the line between the good records
		input string // instead of good + line + second
		warn  string // "": no warning; else the warning for line 2 starts so
		exit  int
		shows string // text the transcript must have
	}{
		{name: "deep arrays", line: deepA, warn: "not JSON: ", exit: 1},
		{name: "deep arrays in a body", line: strings.Replace(goodRecord, `"Hi there"`, deepA, 1), warn: "not JSON: ", exit: 1},
		{name: "deep objects in a body", line: strings.Replace(goodRecord, `"Hi there"`, deepO, 1), warn: "not JSON: ", exit: 1},
		{name: "invalid UTF-8 in a string", line: strings.Replace(goodRecord, "Hi there", "Hi \xff\xfe th\xc3ere", 1)},
		{name: "invalid UTF-8 outside strings", line: "\xff" + goodRecord, warn: "not JSON: ", exit: 1},
		{name: "NUL byte in a string", line: strings.Replace(goodRecord, "Hi there", "Hi \x00 there", 1)},
		{name: "escaped NUL in a string", line: strings.Replace(goodRecord, "Hi there", `Hi \u0000 there`, 1)},
		{name: "NUL byte outside strings", line: strings.Replace(goodRecord, `"v":1,`, "\x00\"v\":1,", 1), warn: "not JSON: ", exit: 1},
		{name: "no v", line: strings.Replace(goodRecord, `"v":1,`, "", 1), warn: "not a record", exit: 1},
		{name: "v a string", line: strings.Replace(goodRecord, `"v":1,`, `"v":"1",`, 1), warn: "not a record", exit: 1},
		{name: "not an object", line: `[1,2,3]`, warn: "not a record", exit: 1},
		{name: "no request", line: strings.Replace(goodRecord, `"request":`, `"requestx":`, 1)},
		{name: "no response", line: noResponse + "}"},
		{name: "response null", line: noResponse + `,"response":null}`},
		{name: "empty line", line: ""},
		{name: "CRLF lines", input: goodRecord + "\r\n\r\n" + second + "\r\n"},
		{
			name: "truncated last line", input: goodRecord + "\n" + second + "\n" + goodRecord[:80],
			exit: 1,
		},
		{
			name: "body_encoding unknown", line: replaceBody(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi there"}]}`, "rot13"),
			warn: "request body not shown: request.body_encoding: unknown", exit: 1,
		},
		{
			name: "base64 body that is not base64", line: replaceBody(`"%%% not base64 !"`, "base64"),
			warn: "request body not shown: request.body: illegal base64", exit: 1,
		},
		{
			name: "json body that is a string", line: replaceBody(`"just a string"`, "json"),
			shows: `request body is not a JSON object: "just a string"`,
		},
		{
			name: "json body that is a number", line: replaceBody(`42`, "json"),
			shows: `request body is not a JSON object: 42`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			input := tc.input
			if input == "" {
				input = goodRecord + "\n" + tc.line + "\n" + second + "\n"
			}
			var stdout bytes.Buffer
			code, stderr := runBounded(t, strings.NewReader(input), &stdout)
			if code != tc.exit {
				t.Errorf("exit %d, want %d; stderr:\n%.500s", code, tc.exit, stderr)
			}
			out := stdout.String()
			if !strings.Contains(out, goodHeading) || !strings.Contains(out, "Second question") {
				t.Errorf("the good records around the line are not rendered:\n%.2000s", out)
			}
			if !utf8.ValidString(out) {
				t.Errorf("output is not valid UTF-8")
			}
			if tc.shows != "" && !strings.Contains(out, tc.shows) {
				t.Errorf("the transcript does not show %q:\n%.2000s", tc.shows, out)
			}
			switch {
			case tc.name == "truncated last line":
				if want := "llmmd: <stdin>:3: truncated last line (no newline at the end): not JSON: "; !strings.HasPrefix(stderr, want) {
					t.Errorf("stderr = %.300q, want it to start %q", stderr, want)
				}
			case tc.warn == "":
				if stderr != "" {
					t.Errorf("unexpected warning: %.500s", stderr)
				}
			default:
				if want := "llmmd: <stdin>:2: " + tc.warn; !strings.HasPrefix(stderr, want) {
					t.Errorf("stderr = %.300q, want it to start %q", stderr, want)
				}
				if n := strings.Count(stderr, "\n"); n != 1 {
					t.Errorf("%d lines on stderr, want 1", n)
				}
			}
		})
	}
	t.Run("deep nesting warning is short", func(t *testing.T) {
		_, stderr := runBounded(t, strings.NewReader(deepA+"\n"), io.Discard)
		if len(stderr) > 1000 {
			t.Errorf("the warning for deeply nested JSON is %d bytes long (fastjson repeats its context once per level)", len(stderr))
		}
	})
}

// hugeLine is the size of TestHostileHugeLine's line: 200 MB, or 16 MB
// under the race detector, which makes each byte many times slower.
func hugeLine() int {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" && s.Value == "true" {
				return 16 << 20
			}
		}
	}
	return 200 << 20
}

// countWriter counts and discards what it is given.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// giantReader yields prefix, then n bytes of 'a', then suffix, without
// holding them in memory.
type giantReader struct {
	prefix, suffix string
	n              int
}

func (g *giantReader) Read(p []byte) (int, error) {
	total := 0
	for len(p) > 0 {
		switch {
		case g.prefix != "":
			c := copy(p, g.prefix)
			g.prefix = g.prefix[c:]
			p, total = p[c:], total+c
		case g.n > 0:
			c := min(len(p), g.n)
			for i := range c {
				p[i] = 'a'
			}
			g.n -= c
			p, total = p[c:], total+c
		case g.suffix != "":
			c := copy(p, g.suffix)
			g.suffix = g.suffix[c:]
			p, total = p[c:], total+c
		default:
			if total == 0 {
				return 0, io.EOF
			}
			return total, nil
		}
	}
	return total, nil
}

// TestHostileHugeLine: a 200 MB record (16 MB under -race) (one giant message) is rendered,
// and memory grows by a bounded multiple of the line (about 6× measured:
// the reader's growing buffer, the parser's copy, the rendered text).
func TestHostileHugeLine(t *testing.T) {
	if testing.Short() {
		t.Skip("200 MB line: not in -short")
	}
	size := hugeLine()
	i := strings.Index(goodRecord, "Hi there")
	in := &giantReader{prefix: goodRecord[:i], n: size, suffix: goodRecord[i+len("Hi there"):] + "\n" + second + "\n"}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var out countWriter
	start := time.Now()
	code, stderr := runBounded(t, in, &out)
	runtime.ReadMemStats(&after)
	t.Logf("%v, output %d bytes, Sys grew %d MB", time.Since(start), out.n, (after.Sys-before.Sys)>>20)
	if code != 0 || stderr != "" {
		t.Errorf("exit %d, stderr %q; want 0 and none", code, stderr)
	}
	if out.n < int64(size) {
		t.Errorf("output %d bytes, want the %d-byte message in it", out.n, size)
	}
	if grew := after.Sys - before.Sys; grew > uint64(8*size) {
		t.Errorf("memory grew by %d MB for a %d MB line", grew>>20, size>>20)
	}
}
