package provider_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/llmtap/llmtap/internal/fakeupstream"
	"github.com/llmtap/llmtap/pkg/provider"
	"github.com/llmtap/llmtap/pkg/record"
	"github.com/llmtap/llmtap/pkg/sse"
	"github.com/valyala/fastjson"
)

// tapRec describes a record under test by the fields the parsers read.
type tapRec struct {
	method, path, query string
	reqType             string // request content type; "application/json" when req is set and this is empty
	req                 string // request body
	noResponse          bool   // no response came from upstream
	status              int    // 200 when 0
	resType             string // response content type
	res                 string // response body
	resBytes            int64  // body_bytes of the response; len(res) when 0
	errKind             string // record error kind
}

// record builds the llmtap record.
func (r tapRec) record() record.Record {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := record.Record{
		ID: "01TEST", Start: start, End: start.Add(time.Second),
		Method: r.method, Path: r.path, Query: r.query,
		UpstreamURL: "https://api.example.com" + r.path,
	}
	if rec.Method == "" {
		rec.Method = "POST"
	}
	if r.req != "" {
		t := r.reqType
		if t == "" {
			t = "application/json"
		}
		rec.Request.Headers = []record.Header{{Name: "content-type", Value: t}}
		rec.Request.Body = record.Body{Data: []byte(r.req), WireBytes: int64(len(r.req))}
	}
	if !r.noResponse {
		res := &record.Response{Status: r.status}
		if res.Status == 0 {
			res.Status = 200
		}
		n := r.resBytes
		if n == 0 {
			n = int64(len(r.res))
		}
		// As an upstream sends them: a length, except on an event stream.
		if !strings.HasPrefix(r.resType, "text/event-stream") {
			res.Headers = append(res.Headers, record.Header{Name: "content-length", Value: strconv.FormatInt(n, 10)})
		}
		if r.resType != "" {
			res.Headers = append(res.Headers, record.Header{Name: "content-type", Value: r.resType})
		}
		res.Body = record.Body{Data: []byte(r.res), WireBytes: n}
		rec.Response = res
	}
	if r.errKind != "" {
		rec.Error = &record.Error{Kind: r.errKind, Message: "test"}
	}
	return rec
}

// tapParse encodes rec as a JSONL line, reads it back and parses it, as
// llmmd does. It fails the test when Parse recovered from a panic.
func tapParse(t testing.TB, rec record.Record) *provider.Exchange {
	t.Helper()
	line := rec.AppendJSON(nil)
	var p fastjson.Parser
	v, err := p.ParseBytes(line)
	if err != nil {
		t.Fatalf("record is not JSON: %v\n%s", err, line)
	}
	view, err := record.NewView(v)
	if err != nil {
		t.Fatal(err)
	}
	ex := provider.Parse(view)
	if strings.HasPrefix(ex.Summary, "unreadable") {
		t.Fatalf("Parse panicked: %s", ex.Summary)
	}
	return ex
}

// tapSSE joins SSE frames (each one or more field lines) into a stream
// body, each frame followed by a blank line.
func tapSSE(frames ...string) string {
	return strings.Join(frames, "\n\n") + "\n\n"
}

// tapOffset is the byte offset in tapSSE(frames...) of frame k, or -1 when
// k < 0.
func tapOffset(frames []string, k int) int64 {
	if k < 0 {
		return -1
	}
	var n int64
	for _, f := range frames[:k] {
		n += int64(len(f)) + 2
	}
	return n
}

// tapLastByte is the offset of the last byte of the event that starts at
// start in an SSE body, where FirstTokenOffset points; -1 stays -1.
func tapLastByte(body string, start int64) int64 {
	if start < 0 {
		return -1
	}
	for _, e := range sse.ParseAll([]byte(body)) {
		if e.Offset == start {
			return e.End - 1
		}
	}
	return -2 // no event starts there: the test is wrong
}

// tapData is a frame with one data line.
func tapData(data string) string { return "data: " + data }

// tapEvent is a frame with an event type and one data line.
func tapEvent(typ, data string) string { return "event: " + typ + "\ndata: " + data }

// tapJSON marshals v as a JSON string literal or value (for building
// bodies with exact escapes), like a server would.
func tapJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// tapASCII marshals s as a JSON string with every non-ASCII character
// escaped as \uXXXX, as Python's json.dumps does by default.
func tapASCII(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range tapJSON(s)[1 : len(tapJSON(s))-1] {
		if r < 0x80 {
			b.WriteRune(r)
			continue
		}
		for _, u := range tapUTF16(r) {
			b.WriteString(`\u`)
			const hex = "0123456789abcdef"
			b.Write([]byte{hex[u>>12&15], hex[u>>8&15], hex[u>>4&15], hex[u&15]})
		}
	}
	b.WriteByte('"')
	return b.String()
}

func tapUTF16(r rune) []uint16 {
	if r < 0x10000 {
		return []uint16{uint16(r)}
	}
	r -= 0x10000
	return []uint16{uint16(0xd800 + r>>10), uint16(0xdc00 + r&0x3ff)}
}

// tapCheck compares an Exchange with the one wanted, showing both as JSON
// when they differ.
func tapCheck(t testing.TB, got, want *provider.Exchange) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	g, _ := json.MarshalIndent(got, "", "  ")
	w, _ := json.MarshalIndent(want, "", "  ")
	gl, wl := strings.Split(string(g), "\n"), strings.Split(string(w), "\n")
	i := 0
	for i < len(gl) && i < len(wl) && gl[i] == wl[i] {
		i++
	}
	from := max(i-8, 0)
	t.Errorf("Exchange differs at line %d\n got: …\n%s\nwant: …\n%s", i+1,
		strings.Join(gl[from:min(i+8, len(gl))], "\n"), strings.Join(wl[from:min(i+8, len(wl))], "\n"))
}

// tapFake sends one request to the fake upstream and returns the record
// llmtap would write for it: realistic bodies, byte for byte.
func tapFake(t testing.TB, method, path, body string, header ...string) tapRec {
	t.Helper()
	srv := httptest.NewServer(fakeupstream.New(fakeupstream.Options{}))
	defer srv.Close()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return tapRec{method: method, path: path, req: body, status: res.StatusCode,
		resType: res.Header.Get("Content-Type"), res: string(b)}
}

// tapText is a message content of one text part.
func tapText(s string) []provider.Part { return []provider.Part{{Kind: provider.PartText, Text: s}} }
