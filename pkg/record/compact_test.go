package record

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// compactCases are JSON and not-JSON bodies for appendCompactJSON, as
// compact, spaced, with line separators, and at the edges of validity.
var compactCases = []string{
	`{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
	"{\"a\": [1, 2.5e-3, true, false, null],\n\t\"b\": {}}\r\n",
	" \"s\" ",
	`0`, `-0.1E+5`, `[]`, `[[[]]]`, `{"a":{"b":{"c":[]}}}`,
	"{\"a\":\"\u2028\u2029\u0085\"}",
	"{\"a\" : \"x\u2028y\"}",
	`{"esc":"\u2028 \" \\ \/ \b\f\n\r\t \u00e9"}`,
	`{"a":"é€𝄞"}`,
	`{"a":1,}`, `[1 2]`, `{"a"}`, `01`, `1.`, `-`, `tru`, `nul`, `"\x"`, `"\u12g4"`,
	"\"a\x01\"", `{"a":1}}`, `{} {}`, ``, ` `, `[`,
	strings.Repeat("[", 300) + strings.Repeat("]", 300),
	strings.Repeat(`{"a":`, 300) + "1" + strings.Repeat("}", 300),
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
}

// FuzzCompactJSON holds appendCompactJSON to what the record did before
// it: json.Valid, json.Compact and escapeLineSeparators, byte for byte,
// appended after bytes already in dst.
func FuzzCompactJSON(f *testing.F) {
	for _, c := range compactCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !utf8.Valid(data) {
			return // appendBodyValue sends other bytes to base64
		}
		prefix := []byte(`{"body":`)
		got, ok := appendCompactJSON(bytes.Clone(prefix), data)
		var want bytes.Buffer
		want.Write(prefix)
		wantOK := json.Valid(data) && json.Compact(&want, data) == nil
		switch {
		case ok != wantOK:
			t.Fatalf("appendCompactJSON(%q) valid = %v, json.Valid = %v", data, ok, wantOK)
		case !ok && !bytes.Equal(got, prefix):
			t.Fatalf("appendCompactJSON(%q) not JSON but changed dst to %q", data, got)
		case ok && !bytes.Equal(got, escapeLineSeparators(want.Bytes(), len(prefix))):
			t.Fatalf("appendCompactJSON(%q)\n = %q\nwant %q", data, got, escapeLineSeparators(want.Bytes(), len(prefix)))
		}
	})
}

func TestCompactJSONCases(t *testing.T) {
	for _, c := range compactCases {
		name := c
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			var want bytes.Buffer
			wantOK := json.Valid([]byte(c)) && json.Compact(&want, []byte(c)) == nil
			got, ok := appendCompactJSON(nil, []byte(c))
			if ok != wantOK || ok && !bytes.Equal(got, escapeLineSeparators(want.Bytes(), 0)) {
				t.Errorf("= %q, %v; want %q, %v", got, ok, escapeLineSeparators(want.Bytes(), 0), wantOK)
			}
		})
	}
}

// TestCompactJSONCopiesCompact checks the fast path: a body with nothing
// to change is taken as it is, with no allocation.
func TestCompactJSONCopiesCompact(t *testing.T) {
	data := []byte(compactCases[0])
	dst := make([]byte, 0, 2*len(data))
	if n := testing.AllocsPerRun(100, func() { dst, _ = appendCompactJSON(dst[:0], data) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
	if !bytes.Equal(dst, data) {
		t.Errorf("= %q", dst)
	}
}

// escapeLineSeparators rewrites raw U+2028, U+2029 and U+0085 (NEL) in the
// JSON that starts at from as \u2028, \u2029 and \u0085, as the record
// did with json.Compact before appendCompactJSON: the reference the fuzz
// test holds appendCompactJSON to.
func escapeLineSeparators(b []byte, from int) []byte {
	if !bytes.Contains(b[from:], []byte("\u2028")) && !bytes.Contains(b[from:], []byte("\u2029")) && !bytes.Contains(b[from:], []byte("\u0085")) {
		return b
	}
	tail := bytes.ReplaceAll(b[from:], []byte("\u2028"), []byte(`\u2028`))
	tail = bytes.ReplaceAll(tail, []byte("\u2029"), []byte(`\u2029`))
	tail = bytes.ReplaceAll(tail, []byte("\u0085"), []byte(`\u0085`))
	return append(b[:from], tail...)
}
