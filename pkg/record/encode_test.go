package record

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

var t0 = time.Date(2026, 11, 27, 1, 2, 3, 456789000, time.UTC)

func sample() *Record {
	return &Record{
		ID: "20261127T010203.456789Z-abc-000001", Start: t0, End: t0.Add(1234500 * time.Microsecond),
		TTFB: 87100 * time.Microsecond, HasTTFB: true,
		Method: "POST", Path: "/v1/chat/completions", Query: "a=1",
		UpstreamURL: "https://api.example.com/v1/chat/completions?a=1", Client: "127.0.0.1:54321",
		Request: Request{
			Headers: []Header{{"authorization", "Bearer [REDACTED]…wxyz"}, {"content-type", "application/json"}},
			Body:    Body{Data: []byte(`{"model": "m",  "messages": []}`), WireBytes: 31},
		},
		Response: &Response{
			Status:  200,
			Headers: []Header{{"content-type", "text/event-stream"}},
			Body:    Body{Data: []byte("data: {}\n\ndata: [DONE]\n\n"), WireBytes: 24},
			Timing:  []Tick{{0, 87100 * time.Microsecond}, {10, 130900 * time.Microsecond}},
		},
	}
}

func TestAppendJSONExample(t *testing.T) {
	got := string(sample().AppendJSON(nil))
	want := `{"v":1,"id":"20261127T010203.456789Z-abc-000001","start":"2026-11-27T01:02:03.456789Z","end":"2026-11-27T01:02:04.691289Z","duration_ms":1234.5,"ttfb_ms":87.1,"method":"POST","path":"/v1/chat/completions","query":"a=1","upstream_url":"https://api.example.com/v1/chat/completions?a=1","client":"127.0.0.1:54321","request":{"headers":{"authorization":"Bearer [REDACTED]…wxyz","content-type":"application/json"},"body":{"model":"m","messages":[]},"body_encoding":"json","body_bytes":31},"response":{"status":200,"headers":{"content-type":"text/event-stream"},"body":"data: {}\n\ndata: [DONE]\n\n","body_encoding":"text","body_bytes":24,"timing":[[0,87.1],[10,130.9]]}}` + "\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestBodyEncoding(t *testing.T) {
	tests := []struct {
		name      string
		data      string
		truncated bool
		wantEnc   string
		wantBody  string // the JSON text of the "body" value
	}{
		{"json object compacted, key order kept", "{ \"b\" : 1,\n \"a\" : [1, 2] }", false, "json", `{"b":1,"a":[1,2]}`},
		{"json escapes kept", `{"s":"\u00e9\n"}`, false, "json", `{"s":"\u00e9\n"}`},
		{"json scalar", `42`, false, "json", `42`},
		{"json with line separator escaped", "{\"s\":\"a\u2028b\u2029c\"}", false, "json", `{"s":"a\u2028b\u2029c"}`},
		{"sse text", "data: {\"a\":1}\n\n", false, "text", `"data: {\"a\":1}\n\n"`},
		{"invalid json is text", `{"a":`, false, "text", `"{\"a\":"`},
		{"whitespace only is text", "  \n", false, "text", `"  \n"`},
		{"text with control chars", "a\x00b\x1fc\u2028", false, "text", `"a\u0000b\u001fc\u2028"`},
		{"binary is base64", "\xff\xfe\x00\x01", false, "base64", `"//4AAQ=="`},
		{"json with invalid utf8 is base64", "{\"a\":\"\xff\"}", false, "base64", `"eyJhIjoi/yJ9"`},
		{"truncated json is text", `{"a":1}`, true, "text", `"{\"a\":1}"`},
		{"truncated mid rune is text without the partial rune", "h\xc3\xa9llo \xe2\x98", true, "text", `"héllo "`},
		{"invalid utf8 mid text, truncated, is base64", "a\xffb\xe2\x98", true, "base64", `"Yf9i4pg="`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Record{Request: Request{Body: Body{Data: []byte(tt.data), WireBytes: int64(len(tt.data)), Truncated: tt.truncated}}}
			line := r.AppendJSON(nil)
			var p fastjson.Parser
			v, err := p.ParseBytes(line)
			if err != nil {
				t.Fatalf("invalid JSON %q: %v", line, err)
			}
			if enc := string(v.GetStringBytes("request", "body_encoding")); enc != tt.wantEnc {
				t.Errorf("encoding = %q, want %q", enc, tt.wantEnc)
			}
			raw := extractBody(t, line)
			if raw != tt.wantBody {
				t.Errorf("body = %s, want %s", raw, tt.wantBody)
			}
		})
	}
}

// extractBody returns the raw JSON text of request.body.
func extractBody(t *testing.T, line []byte) string {
	t.Helper()
	var rec struct {
		Request struct {
			Body json.RawMessage `json:"body"`
		} `json:"request"`
	}
	if err := json.Unmarshal(line, &rec); err != nil {
		t.Fatal(err)
	}
	return string(rec.Request.Body)
}

func TestAbsentBodyAndResponse(t *testing.T) {
	r := &Record{Method: "GET", Error: &Error{Kind: KindUpstreamUnreachable, Message: "dial tcp: refused"}}
	line := string(r.AppendJSON(nil))
	for _, absent := range []string{`"body"`, `"body_encoding"`, `"response"`, `"ttfb_ms"`, `"query"`} {
		if strings.Contains(line, absent) {
			t.Errorf("%s present in %s", absent, line)
		}
	}
	if !strings.Contains(line, `"error":{"kind":"upstream_unreachable","message":"dial tcp: refused"}`) {
		t.Errorf("error missing: %s", line)
	}
}

func TestAppendStringInvalidUTF8(t *testing.T) {
	got := string(appendString(nil, "a\xffb\"\\"))
	if want := `"a\ufffdb\"\\"`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestViewReadsWhatWasWritten(t *testing.T) {
	line := sample().AppendJSON(nil)
	var p fastjson.Parser
	v, err := p.ParseBytes(line)
	if err != nil {
		t.Fatal(err)
	}
	rv, err := NewView(v)
	if err != nil {
		t.Fatal(err)
	}
	if rv.ID() != sample().ID || rv.Status() != 200 || rv.Method() != "POST" || !rv.Start().Equal(t0) {
		t.Errorf("view fields wrong: %s %d %s %v", rv.ID(), rv.Status(), rv.Method(), rv.Start())
	}
	if ms, ok := rv.TTFBMS(); !ok || ms != 87.1 {
		t.Errorf("ttfb = %v %v", ms, ok)
	}
	body, err := rv.BodyBytes("response")
	if err != nil || string(body) != "data: {}\n\ndata: [DONE]\n\n" {
		t.Errorf("response body = %q, %v", body, err)
	}
	if rv.BodyJSON("request").GetStringBytes("model") == nil {
		t.Error("request body not readable as JSON")
	}
	for _, notRecord := range []string{`[]`, `{"id":"x"}`, `{"v":"1"}`, `3`} {
		v, _ := p.Parse(notRecord)
		if _, err := NewView(v); err != ErrNotRecord {
			t.Errorf("NewView(%s) = %v, want ErrNotRecord", notRecord, err)
		}
	}
}

// FuzzAppendJSON checks that any bytes in any field give one valid JSON line
// whose bodies decode back to the same bytes (or the same JSON value) and
// whose strings decode back to the same text (invalid UTF-8 as U+FFFD).
func FuzzAppendJSON(f *testing.F) {
	f.Add([]byte(`{"model":"m"}`), []byte("data: x\n\n"), "/v1/x", "authorization", "Bearer k", "a=1", false)
	f.Add([]byte("\xff\x00"), []byte("{\"a\":\"\u2028\"}"), "/p%2F", "x-h", "v\x00\xff", "", true)
	f.Add([]byte(" 1 "), []byte(`"s"`), "", "", "", "k=\u2029", false)
	f.Fuzz(func(t *testing.T, reqBody, resBody []byte, path, hname, hvalue, query string, truncated bool) {
		r := &Record{
			ID: "x", Start: t0, End: t0, Method: "POST", Path: path, Query: query,
			Request: Request{Headers: []Header{{hname, hvalue}}, Body: Body{Data: reqBody, WireBytes: int64(len(reqBody))}},
			Response: &Response{Status: 200, Headers: []Header{{hname, hvalue}},
				Body: Body{Data: resBody, WireBytes: int64(len(resBody)), Truncated: truncated}},
		}
		line := r.AppendJSON(nil)
		if bytes.IndexByte(line, '\n') != len(line)-1 {
			t.Fatalf("not one line: %q", line)
		}
		if !utf8.Valid(line) || !json.Valid(line) {
			t.Fatalf("invalid JSON line: %q", line)
		}
		var got struct {
			Path    string `json:"path"`
			Query   string `json:"query"`
			Request struct {
				Headers  map[string]string `json:"headers"`
				Body     json.RawMessage   `json:"body"`
				Encoding string            `json:"body_encoding"`
			} `json:"request"`
			Response struct {
				Body     json.RawMessage `json:"body"`
				Encoding string          `json:"body_encoding"`
			} `json:"response"`
		}
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatal(err)
		}
		if got.Path != replaceInvalid(path) || got.Query != replaceInvalid(query) {
			t.Errorf("path/query changed: %q %q", got.Path, got.Query)
		}
		if v := got.Request.Headers[replaceInvalid(hname)]; v != replaceInvalid(hvalue) {
			t.Errorf("header value changed: %q", v)
		}
		checkBody(t, reqBody, false, got.Request.Body, got.Request.Encoding)
		checkBody(t, resBody, truncated, got.Response.Body, got.Response.Encoding)
	})
}

func checkBody(t *testing.T, want []byte, truncated bool, raw json.RawMessage, enc string) {
	t.Helper()
	if len(want) == 0 {
		if raw != nil || enc != "" {
			t.Errorf("empty body recorded as %s (%s)", raw, enc)
		}
		return
	}
	switch enc {
	case EncodingJSON:
		var a, b any
		if json.Unmarshal(want, &a) != nil || json.Unmarshal(raw, &b) != nil || !reflect.DeepEqual(a, b) {
			t.Errorf("json body %s does not match %q", raw, want)
		}
	case EncodingText:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		if s != string(want) && !(truncated && strings.HasPrefix(string(want), s) && len(want)-len(s) < utf8.UTFMax) {
			t.Errorf("text body %q does not match %q", s, want)
		}
	case EncodingBase64:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || !bytes.Equal(b, want) {
			t.Errorf("base64 body %q does not match %q", b, want)
		}
	default:
		t.Errorf("unknown encoding %q", enc)
	}
}

// replaceInvalid replaces each invalid UTF-8 byte with U+FFFD, as the
// encoder (and encoding/json) does; strings.ToValidUTF8 would merge runs.
func replaceInvalid(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// TestLineSeparatorsNeverSplitARecord: a reader that splits lines
// on every Unicode line break (Python's str.splitlines) still sees one line
// per record: U+2028, U+2029 and U+0085 are written escaped, in text and in
// embedded JSON bodies alike, and decode back to the same characters.
func TestLineSeparatorsNeverSplitARecord(t *testing.T) {
	for _, body := range []string{
		"data: {\"delta\":\"before\u2028after\u0085x\u2029\"}\n\n",
		"{\"content\":\"before\u2028after\u0085x\u2029\"}",
	} {
		r := &Record{Response: &Response{Status: 200, Body: Body{Data: []byte(body), WireBytes: int64(len(body))}}}
		line := r.AppendJSON(nil)
		for _, sep := range []string{"\u2028", "\u2029", "\u0085", "\x1c", "\x1d", "\x1e", "\v", "\f", "\r"} {
			if bytes.Contains(line, []byte(sep)) {
				t.Errorf("raw %q in %s", sep, line)
			}
		}
		var got struct {
			Response struct {
				Body json.RawMessage `json:"body"`
			} `json:"response"`
		}
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatal(err)
		}
		var s string
		if json.Unmarshal(got.Response.Body, &s) == nil {
			if s != body {
				t.Errorf("text body decoded to %q", s)
			}
		} else if !strings.Contains(string(got.Response.Body), `before\u2028after\u0085x\u2029`) {
			t.Errorf("json body %s", got.Response.Body)
		}
	}
}

func TestReplayRoundTrip(t *testing.T) {
	sched := t0.Add(-1500 * time.Microsecond)
	for _, tt := range []struct {
		name   string
		replay *Replay
		want   string // the replay object as written; "" for none
		view   ReplayView
	}{
		{"not a replay", nil, "", ReplayView{}},
		{"open loop", &Replay{Of: "orig-1", Scheduled: sched, Lag: 1500 * time.Microsecond},
			`"replay":{"of":"orig-1","scheduled":"2026-11-27T01:02:03.455289Z","lag_ms":1.5}`,
			ReplayView{Of: "orig-1", Scheduled: sched, LagMS: 1.5}},
		{"with a concurrency cap", &Replay{Of: "orig-2", Scheduled: sched, Lag: 1500 * time.Microsecond, Queued: time.Millisecond, HasQueued: true},
			`"replay":{"of":"orig-2","scheduled":"2026-11-27T01:02:03.455289Z","lag_ms":1.5,"queued_ms":1}`,
			ReplayView{Of: "orig-2", Scheduled: sched, LagMS: 1.5, QueuedMS: 1, HasQueued: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := sample()
			r.Replay = tt.replay
			line := r.AppendJSON(nil)
			if got := strings.Contains(string(line), `"replay"`); got != (tt.want != "") {
				t.Fatalf("replay present = %v in %s", got, line)
			}
			if tt.want != "" && !strings.Contains(string(line), tt.want+"}\n") {
				t.Errorf("line does not end with %s: %s", tt.want, line)
			}
			var p fastjson.Parser
			rv, err := ParseLine(&p, line)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := rv.Replay()
			if ok != (tt.replay != nil) || got.Of != tt.view.Of || !got.Scheduled.Equal(tt.view.Scheduled) ||
				got.LagMS != tt.view.LagMS || got.QueuedMS != tt.view.QueuedMS || got.HasQueued != tt.view.HasQueued {
				t.Errorf("Replay() = %+v, %v; want %+v", got, ok, tt.view)
			}
		})
	}
}

// appendStringContentSlow is the escaper as first written, a byte at a
// time: the reference the word-at-a-time one must agree with.
func appendStringContentSlow(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plainASCII[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' || r == '\u0085' {
			dst = append(dst, s[start:i]...)
			if size == 1 {
				dst = append(dst, `\ufffd`...)
			} else {
				dst = append(dst, '\\', 'u', hexDigits[r>>12], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}

// escapeSeeds are strings that put every kind of byte at every offset of
// an eight-byte word.
func escapeSeeds() []string {
	seeds := []string{"", "a", `"`, `\`, "\x00", "\x1f", " ", "\x7f", "\x80", "\xff", "é", "\u2028", "\u2029", "\u0085",
		"日本語", "\xe2\x80", "\xf0\x9f\x98\x80", `data: {"choices":[{"delta":{"content":"hé\"llo\n"}}]}` + "\n\n"}
	for _, c := range []string{`"`, `\`, "\n", "\x01", "\x1f", "\x20", "\x7f", "\x80", "é", "\u2028", "\xff"} {
		for off := range 17 {
			seeds = append(seeds, strings.Repeat("x", off)+c+strings.Repeat("y", 16-off%16))
		}
	}
	// Long strings that escape to more than the room first reserved, so
	// the output grows inside the word loop: six bytes for one, two for
	// one, and a mix.
	seeds = append(seeds, strings.Repeat("\x01", 300), strings.Repeat(`"`, 500), strings.Repeat("ab\"\n\x02\u2028\xff", 120),
		strings.Repeat(`data: {"choices":[{"index":0,"delta":{"content":"t"}}]}`+"\n\n", 40))
	return seeds
}

// TestAppendStringContentWords: the escaper that reads eight bytes at a
// time (or 16 or 32 with SIMD) writes what the byte-at-a-time one writes.
func TestAppendStringContentWords(t *testing.T) {
	var all []byte
	for c := range 256 {
		all = append(all, byte(c))
	}
	eachEscaper(t, func() {
		for _, s := range append(escapeSeeds(), string(all), strings.Repeat(string(all), 3)[5:]) {
			if got, want := appendStringContent([]byte("prefix"), s), appendStringContentSlow([]byte("prefix"), s); !bytes.Equal(got, want) {
				t.Errorf("%q:\n got %q\nwant %q", s, got, want)
			}
			// A destination with no room to spare, and one with a little.
			for _, room := range []int{0, 3, 17} {
				dst := append(make([]byte, 0, 6+room), "prefix"...)
				if got, want := appendStringContent(dst, s), appendStringContentSlow([]byte("prefix"), s); !bytes.Equal(got, want) {
					t.Errorf("%q, room %d:\n got %q\nwant %q", s, room, got, want)
				}
			}
		}
	})
}

// TestAppendStringContentBlocks: every byte value at every place of a
// block of 16, 32 and 64 bytes, among neighbours of every kind, and every
// length of a string cut from either end, escapes as the byte-at-a-time
// escaper does, in every way this CPU can escape (eachEscaper).
func TestAppendStringContentBlocks(t *testing.T) {
	// A string shorter than blocksFrom is escaped by the word loop alone;
	// after this many bytes, the rest is escaped in blocks from its first
	// byte (pad is a whole number of blocks and of words).
	pad := strings.Repeat("a", blocksFrom)
	var buf []byte
	check := func(s string) {
		t.Helper()
		s = pad + s
		want := appendStringContentSlow([]byte("p"), s)
		valid := utf8.ValidString(s)
		eachEscaper(t, func() {
			buf = appendStringContent(append(buf[:0], 'p'), s)
			if !bytes.Equal(buf, want) {
				t.Fatalf("%q:\n got %q\nwant %q", s, buf, want)
			}
			var ok bool
			if buf, ok = appendText(append(buf[:0], 'p'), s, true); ok != valid || ok && !bytes.Equal(buf, want) {
				t.Fatalf("%q, strict: %v %q\nwant %v %q", s, ok, buf, valid, want)
			}
		})
	}
	for _, size := range []int{16, 32, 64} {
		fills := []byte{'a', '"', '\\', '\n', '\t', 0x01, 0x7f, 0x80, 0x85, 0xa0, 0xbf, 0xc2, 0xc3, 0xe2}
		switch size {
		case 32:
			fills = []byte{'a', '"', '\n', 0x80, 0x85, 0xa0, 0xc3}
		case 64:
			fills = []byte{'"', 0x80} // two blocks of 32: what crosses from one to the next
		}
		for _, fill := range fills {
			block := bytes.Repeat([]byte{fill}, size)
			for place := range size {
				for c := range 256 {
					block[place] = byte(c)
					check(string(block))
				}
				block[place] = fill
			}
		}
	}
	// SSE JSON, a string of quotes, and a mix of every kind of byte, cut
	// at every length: the tail after the last whole block goes to the
	// word loop and then a byte at a time.
	var mix strings.Builder
	for c := range 256 {
		mix.WriteByte(byte(c))
		mix.WriteString(`"a\` + "\n")
	}
	for _, long := range []string{
		strings.Repeat(`data: {"choices":[{"index":0,"delta":{"content":"t\u00e9 é"}}]}`+"\n\n", 4),
		strings.Repeat(`"`, 200),
		strings.Repeat("\u2028x\xffy\x01\t", 30),
		strings.Repeat("Voilà où l'été s'achève\u0085ñ\xc2\xc3 ", 8),
		// Three-byte characters: punctuation, CJK, the last before the
		// surrogates and the first after, U+FFFF; and what only looks
		// like them: overlong forms, surrogates, cut characters.
		strings.Repeat("it’s—“ok”… €5 日本\u2028\u2029\ud7ff\ue000\uffff\u0800 \xe0\x80\x80\xe0\x9f\xbf\xed\xa0\x80\xed\xbf\xbf\xe2\x80\xe2\x28\xa1", 6),
		mix.String(),
	} {
		for n := range len(long) + 1 {
			check(long[:n])
			check(long[len(long)-n:])
		}
	}
}

// TestAppendStringContentRoom: a destination with every amount of room
// around what a block needs, for strings that escape to one, two and six
// times their size: the output grows where it must and holds the same.
func TestAppendStringContentRoom(t *testing.T) {
	for _, s := range []string{
		strings.Repeat("abcdefgh", 20), strings.Repeat(`"`, 160), strings.Repeat("\x01", 100),
		strings.Repeat(`a"b\`+"\n", 40), strings.Repeat("\u2028\xff", 40),
	} {
		want := appendStringContentSlow([]byte("prefix"), s)
		eachEscaper(t, func() {
			for room := range 80 {
				dst := append(make([]byte, 0, 6+room), "prefix"...)
				if got := appendStringContent(dst, s); !bytes.Equal(got, want) {
					t.Fatalf("%q, room %d:\n got %q\nwant %q", s, room, got, want)
				}
			}
		})
	}
}

func FuzzAppendStringContent(f *testing.F) {
	for _, s := range escapeSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Padded to blocksFrom and past it, at two alignments, so that
		// short strings are escaped in blocks too.
		for _, s := range []string{s, strings.Repeat("a", blocksFrom) + s, strings.Repeat("a", blocksFrom+7) + s} {
			want := appendStringContentSlow(nil, s)
			eachEscaper(t, func() {
				if got := appendStringContent(nil, s); !bytes.Equal(got, want) {
					t.Errorf("%q:\n got %q\nwant %q", s, got, want)
				}
				if got, ok := appendText(nil, s, true); ok != utf8.ValidString(s) || ok && !bytes.Equal(got, want) {
					t.Errorf("%q, strict: %v %q\nwant %v %q", s, ok, got, utf8.ValidString(s), want)
				}
			})
		}
	})
}

// appendBodyValueTwoPass is appendBodyValue as first written: UTF-8
// checked over the whole body first, then JSON, text or base64 chosen. The
// one-pass version must write the same bytes and choose the same.
func appendBodyValueTwoPass(dst, data []byte, truncated bool) ([]byte, string) {
	if !utf8.Valid(data) {
		if trimmed := trimPartialRune(data); truncated && len(trimmed) < len(data) && utf8.Valid(trimmed) {
			return appendString(dst, bytesView(trimmed)), EncodingText
		}
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, data)
		return append(dst, '"'), EncodingBase64
	}
	if !truncated && mayBeJSON(data) {
		if out, ok := appendCompactJSON(dst, data); ok {
			return out, EncodingJSON
		}
	}
	return appendString(dst, bytesView(data)), EncodingText
}

func FuzzAppendBodyValue(f *testing.F) {
	for _, s := range escapeSeeds() {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Add([]byte("data: {\"a\":1}\n\ndata: \xff\n\n"), false)
	f.Add([]byte("data: é\xc3"), true)
	f.Add([]byte(` {"a":"\u2028"} `), false)
	f.Add([]byte("\xff\x00\x80A"), false)
	f.Fuzz(func(t *testing.T, data []byte, truncated bool) {
		if len(data)%2 == 1 {
			// Long enough to be escaped in blocks (and not JSON).
			data = append(bytes.Repeat([]byte("a"), blocksFrom), data...)
		}
		want, wantEnc := appendBodyValueTwoPass([]byte("p"), data, truncated)
		eachEscaper(t, func() {
			// Little room and much, so that the text escaped before an
			// invalid byte is dropped from a grown buffer and from dst.
			for _, dst := range [][]byte{[]byte("p"), append(make([]byte, 0, 4*len(data)+64), 'p')} {
				if got, enc := appendBodyValue(dst, data, truncated); enc != wantEnc || !bytes.Equal(got, want) {
					t.Errorf("%q (truncated %v):\n got %s %q\nwant %s %q", data, truncated, enc, got, wantEnc, want)
				}
			}
		})
	})
}

// TestAppendMillis: durations are written as strconv.AppendFloat writes
// float milliseconds, shortest form, whatever their size and sign.
func TestAppendMillis(t *testing.T) {
	var us []int64
	for _, v := range []int64{0, 1, 9, 10, 99, 100, 999, 1000, 1001, 1010, 1100, 123456, 1 << 40, 1<<51 - 1, 1 << 51, 1<<53 - 1, 1 << 53, 1<<53 + 1, math.MaxInt64 / 1000} {
		us = append(us, v, -v)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		us = append(us, rng.Int64N(1<<20), rng.Int64N(1<<54)-1<<53, rng.Int64())
	}
	for _, v := range us {
		d := time.Duration(v) * time.Microsecond
		if v > math.MaxInt64/1000 || v < math.MinInt64/1000 {
			d = time.Duration(v) // out of range as µs: any duration
		}
		want := strconv.AppendFloat(nil, float64(d.Microseconds())/1000, 'f', -1, 64)
		if got := appendMillis(nil, d); !bytes.Equal(got, want) {
			t.Fatalf("%d µs: got %s, want %s", d.Microseconds(), got, want)
		}
	}
}

// TestNeedsLook: every byte value at every place of a word, among
// neighbours of every kind, is marked exactly when a JSON string cannot
// hold it as it is.
func TestNeedsLook(t *testing.T) {
	for _, fill := range []byte{0x00, ' ', '"', '\\', 'a', 0x7f, 0x80, 0xff} {
		for place := range wordSize {
			for c := range 256 {
				var word [wordSize]byte
				for j := range word {
					word[j] = fill
				}
				word[place] = byte(c)
				got := needsLook(binary.LittleEndian.Uint64(word[:]))
				for j, b := range word {
					want := !plainASCII[b]
					if marked := got>>(8*j)&0xff == 0x80; marked != want {
						t.Fatalf("word %q: byte %d (%#x) marked %v, want %v", word, j, b, marked, want)
					}
				}
				if got&^0x8080808080808080 != 0 {
					t.Fatalf("word %q: mask %#x has bits outside the high ones", word, got)
				}
			}
		}
	}
}

// TestTrimPartialRune: only a character cut short at the end is dropped;
// bytes invalid in themselves stay, so the body is kept as base64.
func TestTrimPartialRune(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"abc", "abc"},
		{"é", "é"},
		{"a\xc3", "a"},
		{"a\xe2\x80", "a"},
		{"a\xf0\x9f\x98", "a"},
		{"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},
		{"a\xff", "a\xff"},
		{"a\x80", "a\x80"},
		{"\xed\xa8\x80\xa8", "\xed\xa8\x80\xa8"}, // a surrogate, then a stray byte
		{"a\xed\xa0", "a\xed\xa0"},               // the start of a surrogate: never valid
		{"a\xe0\x80", "a\xe0\x80"},               // the start of an overlong form
	} {
		if got := trimPartialRune([]byte(tt.in)); string(got) != tt.want {
			t.Errorf("trimPartialRune(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
