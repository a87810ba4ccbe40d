package sse

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// event is an Event with its data as a string, comparable with ==, for
// the tables; copied from an Event during emit, it also checks that the
// data was whole then.
type event struct {
	Type, Data, ID string
	Offset, End    int64
}

func copyEvent(ev Event) event { return event{ev.Type, string(ev.Data), ev.ID, ev.Offset, ev.End} }

// noEnd is evs without their End offsets, for the tables that give only
// the start offsets; reference, which the sweeps and the fuzz target
// compare against, checks End.
func noEnd(evs []event) []event {
	out := slices.Clone(evs)
	for i := range out {
		out[i].End = 0
	}
	return out
}

func copyEvents(evs []Event) []event {
	var out []event
	for _, ev := range evs {
		out = append(out, copyEvent(ev))
	}
	return out
}

var parseTests = []struct {
	name string
	in   string
	want []event
}{
	{name: "empty input", in: "", want: nil},
	{name: "only blank lines", in: "\n\r\n\r\n\n", want: nil},
	{name: "one event", in: "data: x\n\n", want: []event{{Data: "x"}}},
	{name: "two events", in: "data: a\n\ndata: b\n\n", want: []event{{Data: "a"}, {Data: "b", Offset: 9}}},
	{name: "multi-line data", in: "data: a\ndata: b\ndata: c\n\n", want: []event{{Data: "a\nb\nc"}}},
	{name: "empty data lines", in: "data\ndata\n\n", want: []event{{Data: "\n"}}},
	{name: "data alone", in: "data\n\n", want: []event{{Data: ""}}},
	{name: "data colon alone", in: "data:\n\n", want: []event{{Data: ""}}},
	{name: "no space after colon", in: "data:x\n\n", want: []event{{Data: "x"}}},
	{name: "only one space removed", in: "data:  x \n\n", want: []event{{Data: " x "}}},
	{name: "tab is not a space", in: "data:\tx\n\n", want: []event{{Data: "\tx"}}},
	{name: "colon in value", in: "data: {\"a\":1}\n\n", want: []event{{Data: `{"a":1}`}}},
	{name: "space before colon makes another field", in: "data : x\n\n", want: nil},
	{name: "field names are case-sensitive", in: "Data: x\nEVENT: y\n\n", want: nil},
	{name: "comments", in: ": hi\ndata: x\n: mid\ndata: y\n\n", want: []event{{Data: "x\ny", Offset: 5}}},
	{name: "comment-only block", in: ": keep-alive\n\ndata: x\n\n", want: []event{{Data: "x", Offset: 14}}},
	{name: "CRLF", in: "data: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n", want: []event{{Data: "a\nb"}, {Data: "c", Offset: 20}}},
	{name: "bare CR", in: "data: a\rdata: b\r\rdata: c\r\r", want: []event{{Data: "a\nb"}, {Data: "c", Offset: 17}}},
	{name: "mixed line ends", in: "data: a\r\n\rdata: b\n\r\ndata: c\r\r\n", want: []event{{Data: "a"}, {Data: "b", Offset: 10}, {Data: "c", Offset: 20}}},
	{name: "CR CR LF is two line ends", in: "data: a\r\r\ndata: b\n\n", want: []event{{Data: "a"}, {Data: "b", Offset: 10}}},
	{name: "LF CR is two line ends", in: "data: a\n\rdata: b", want: []event{{Data: "a"}, {Data: "b", Offset: 9}}},
	{name: "no trailing blank line", in: "data: a\n\ndata: b\n", want: []event{{Data: "a"}, {Data: "b", Offset: 9}}},
	{name: "no trailing line end", in: "data: a\n\ndata: b", want: []event{{Data: "a"}, {Data: "b", Offset: 9}}},
	{name: "cut after data field name", in: "data", want: []event{{Data: ""}}},
	{name: "BOM", in: "\xEF\xBB\xBFdata: x\n\n", want: []event{{Data: "x", Offset: 3}}},
	{name: "BOM then blank line", in: "\xEF\xBB\xBF\ndata: x\n\n", want: []event{{Data: "x", Offset: 4}}},
	{name: "BOM then comment", in: "\xEF\xBB\xBF: c\ndata: x\n\n", want: []event{{Data: "x", Offset: 7}}},
	{name: "only one BOM is skipped", in: "\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\n", want: nil},
	{name: "BOM after the start is not skipped", in: "data: x\n\n\xEF\xBB\xBFdata: y\n\n", want: []event{{Data: "x"}}},
	{name: "half a BOM", in: "\xEF\xBBdata: x\n\n", want: nil},
	{name: "event type", in: "event: add\ndata: 1\n\n", want: []event{{Type: "add", Data: "1"}}},
	{name: "event type resets after dispatch", in: "event: add\ndata: 1\n\ndata: 2\n\n", want: []event{{Type: "add", Data: "1"}, {Data: "2", Offset: 20}}},
	{name: "event type resets without dispatch", in: "event: ping\n\ndata: x\n\n", want: []event{{Data: "x", Offset: 13}}},
	{name: "last event type wins", in: "event: a\nevent: b\ndata: x\n\n", want: []event{{Type: "b", Data: "x"}}},
	{name: "empty event type", in: "event: a\nevent\ndata: x\n\n", want: []event{{Data: "x"}}},
	{name: "event type after data", in: "data: x\nevent: late\n\n", want: []event{{Type: "late", Data: "x"}}},
	{name: "id carries over", in: "id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\n", want: []event{{ID: "1", Data: "a"}, {ID: "1", Data: "b", Offset: 15}, {Data: "c", Offset: 24}}},
	{name: "id from a block without data", in: "id: 7\n\ndata: x\n\n", want: []event{{ID: "7", Data: "x", Offset: 7}}},
	{name: "id with NUL is ignored", in: "id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n", want: []event{{ID: "1", Data: "a"}, {ID: "1", Data: "b", Offset: 15}}},
	{name: "id of a later line", in: "data: a\nid: 9\n\n", want: []event{{ID: "9", Data: "a"}}},
	{name: "retry and unknown fields", in: "retry: 1000\nfoo: bar\ndata: x\n\n", want: []event{{Data: "x"}}},
	{name: "U+2028 and U+0085 stay in data", in: "data: a\u2028b\u0085c\u2029d\n\n", want: []event{{Data: "a\u2028b\u0085c\u2029d"}}},
	{name: "NUL in data", in: "data: a\x00b\n\n", want: []event{{Data: "a\x00b"}}},
	{name: "invalid UTF-8 kept", in: "data: \xff\xfe\n\n", want: []event{{Data: "\xff\xfe"}}},
	{name: "multibyte", in: "data: 你好，世界\n\n", want: []event{{Data: "你好，世界"}}},
}

func TestParseAll(t *testing.T) {
	for _, tt := range parseTests {
		t.Run(tt.name, func(t *testing.T) {
			got := copyEvents(ParseAll([]byte(tt.in)))
			if !slices.Equal(noEnd(got), tt.want) {
				t.Errorf("ParseAll(%q)\n got %s\nwant %s", tt.in, dump(got), dump(tt.want))
			}
			ref := reference(tt.in)
			if !slices.Equal(noEnd(ref), tt.want) {
				t.Errorf("reference(%q) disagrees with the table\n got %s\nwant %s", tt.in, dump(ref), dump(tt.want))
			}
			if !slices.Equal(got, ref) {
				t.Errorf("ParseAll(%q) ends events elsewhere than reference\n got %s\nwant %s", tt.in, dump(got), dump(ref))
			}
		})
	}
}

// wantEvent is an expected event whose offset is found by searching the
// stream for the text its first line starts with.
type wantEvent struct {
	typ, data, id string
	at            string // the start of the event's first line; unique in the stream
}

// stream is a realistic event stream and the events it must give.
type stream struct {
	name string
	in   string
	want []wantEvent
}

// openAIStream is a chat completion stream in the shape OpenAI sends, with
// multibyte text and a tool call whose arguments come in fragments.
const openAIStream = `data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}

data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"你好，"}}]}

data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"世界 🌍"}}]}

data: {"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}

data: {"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\": \"北"}}]}}]}

data: {"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"京\"}"}}]}}]}

data: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":12,"completion_tokens":9}}

data: [DONE]

`

// anthropicStream is a Messages stream in the shape Anthropic sends, with
// event lines, a ping and text, thinking and tool input deltas.
const anthropicStream = `event: message_start
data: {"type":"message_start","message":{"id":"msg_1","role":"assistant","content":[],"model":"claude"}}

event: ping
data: {"type": "ping"}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Думаю…"}}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"こんにちは"}}

event: content_block_delta
data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"loc"}}

event: message_stop
data: {"type":"message_stop"}

`

var streams = []stream{
	{
		name: "openai",
		in:   openAIStream,
		want: openAIWant("data: "),
	},
	{
		name: "openai CRLF with comments and ids",
		in: ": OPENROUTER PROCESSING\r\n\r\n" +
			strings.ReplaceAll(strings.ReplaceAll(openAIStream, "\n\ndata: [DONE]", "\nid: 42\n\ndata: [DONE]"), "\n", "\r\n"),
		want: func() []wantEvent {
			w := openAIWant("data: ")
			w[len(w)-2].id, w[len(w)-1].id = "42", "42"
			return w
		}(),
	},
	{
		name: "openai bare CR without the last blank line",
		in:   strings.ReplaceAll(strings.TrimSuffix(openAIStream, "\n\n"), "\n", "\r"),
		want: openAIWant("data: "),
	},
	{
		name: "openai BOM no space",
		in:   "\xEF\xBB\xBF" + strings.ReplaceAll(openAIStream, "data: ", "data:"),
		want: openAIWant("data:"),
	},
	{
		name: "anthropic",
		in:   anthropicStream,
		want: []wantEvent{
			{typ: "message_start", at: "event: message_start", data: `{"type":"message_start","message":{"id":"msg_1","role":"assistant","content":[],"model":"claude"}}`},
			{typ: "ping", at: "event: ping", data: `{"type": "ping"}`},
			{typ: "content_block_start", at: "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0", data: `{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}`},
			{typ: "content_block_delta", at: "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0", data: `{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Думаю…"}}`},
			{typ: "content_block_start", at: "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1", data: `{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}`},
			{typ: "content_block_delta", at: "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1", data: `{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"こんにちは"}}`},
			{typ: "content_block_delta", at: "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":2", data: `{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"loc"}}`},
			{typ: "message_stop", at: "event: message_stop", data: `{"type":"message_stop"}`},
		},
	},
	{
		name: "multi-line data and U+2028",
		in:   "id: a\u2028b\nevent: multi\ndata: first\u2028still first\ndata: 第二\r\ndata\r\rdata: last",
		want: []wantEvent{{typ: "multi", id: "a\u2028b", at: "id: ", data: "first\u2028still first\n第二\n"}, {id: "a\u2028b", at: "data: last", data: "last"}},
	},
}

// openAIWant is what openAIStream gives, with prefix as the data field.
func openAIWant(prefix string) []wantEvent {
	var w []wantEvent
	for _, l := range strings.Split(openAIStream, "\n") {
		if d, ok := strings.CutPrefix(l, "data: "); ok {
			w = append(w, wantEvent{data: d, at: prefix + d})
		}
	}
	return w
}

// resolve turns wantEvents into events, finding each offset in in.
func resolve(t *testing.T, in string, want []wantEvent) []event {
	t.Helper()
	var out []event
	for _, w := range want {
		i := indexAcrossLineEnds(in, w.at)
		if i < 0 || indexAcrossLineEnds(in[i+1:], w.at) >= 0 {
			t.Fatalf("%q is not in the stream exactly once", w.at)
		}
		out = append(out, event{Type: w.typ, Data: w.data, ID: w.id, Offset: int64(i)})
	}
	return out
}

// indexAcrossLineEnds is strings.Index where a "\n" in sub matches any
// line end (CRLF, LF or CR) in s.
func indexAcrossLineEnds(s, sub string) int {
	parts := strings.Split(sub, "\n")
	for i := range len(s) {
		j, ok := i, true
		for k, p := range parts {
			if !strings.HasPrefix(s[j:], p) {
				ok = false
				break
			}
			j += len(p)
			if k == len(parts)-1 {
				break
			}
			switch {
			case strings.HasPrefix(s[j:], "\r\n"):
				j += 2
			case j < len(s) && (s[j] == '\r' || s[j] == '\n'):
				j++
			default:
				ok = false
			}
			if !ok {
				break
			}
		}
		if ok {
			return i
		}
	}
	return -1
}

// feedChunks feeds in to a new Parser in the given chunks and returns all
// the events.
func feedChunks(chunks [][]byte) []event {
	var out []event
	add := func(ev Event) { out = append(out, copyEvent(ev)) }
	var p Parser
	for _, c := range chunks {
		p.Feed(c, add)
	}
	p.End(add)
	return out
}

// every cuts b into chunks of n bytes, the first one first bytes long.
func every(b []byte, first, n int) [][]byte {
	var out [][]byte
	if first > 0 && first < len(b) {
		out, b = append(out, b[:first]), b[first:]
	}
	for len(b) > n {
		out, b = append(out, b[:n]), b[n:]
	}
	return append(out, b)
}

// byLine cuts b after each line end (CR, LF or CRLF).
func byLine(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := bytes.IndexAny(b, "\r\n")
		if i < 0 {
			break
		}
		if b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n' {
			i++
		}
		out, b = append(out, b[:i+1]), b[i+1:]
	}
	return append(out, b)
}

// TestChunkBoundarySweep feeds each stream whole, line by line, a byte at
// a time, two bytes at a time on even and odd boundaries, and cut in two at
// every byte (which also cuts inside every CRLF, BOM and multibyte
// character), and checks that every way gives the same events (the shape of
// cmd/internal/test2json's tests).
func TestChunkBoundarySweep(t *testing.T) {
	for _, s := range streams {
		t.Run(s.name, func(t *testing.T) {
			in := []byte(s.in)
			// The table gives where events start; reference, where they end.
			want := reference(s.in)
			if starts := resolve(t, s.in, s.want); !slices.Equal(noEnd(want), starts) {
				t.Fatalf("reference:\n got %s\nwant %s", dump(want), dump(starts))
			}
			check := func(how string, chunks [][]byte) {
				t.Helper()
				if got := feedChunks(chunks); !slices.Equal(got, want) {
					t.Fatalf("%s:\n got %s\nwant %s", how, dump(got), dump(want))
				}
			}
			if got := copyEvents(ParseAll(in)); !slices.Equal(got, want) {
				t.Fatalf("ParseAll:\n got %s\nwant %s", dump(got), dump(want))
			}
			check("whole", [][]byte{in})
			check("line by line", byLine(in))
			check("1 byte at a time", every(in, 0, 1))
			check("2 bytes at a time, even", every(in, 0, 2))
			check("2 bytes at a time, odd", every(in, 1, 2))
			check("3 bytes at a time", every(in, 0, 3))
			check("with empty chunks", [][]byte{nil, in[:len(in)/2], {}, in[len(in)/2:], nil})
			for i := 0; i <= len(in); i++ {
				check(fmt.Sprintf("cut at %d", i), [][]byte{in[:i], in[i:]})
			}
			// Every cut inside a multibyte character, in three chunks: the
			// character alone in the middle one, split again.
			for i := 0; i < len(in); {
				_, n := utf8.DecodeRune(in[i:])
				for j := i + 1; j < i+n; j++ {
					check(fmt.Sprintf("rune cut at %d", j), [][]byte{in[:i], in[i:j], in[j:]})
				}
				i += n
			}
		})
	}
}

// TestParserReuse: after End, the same Parser parses a new stream from
// scratch: offsets from 0, no ID, no leftovers, and a BOM skipped again.
func TestParserReuse(t *testing.T) {
	var p Parser
	var got []event
	add := func(ev Event) { got = append(got, copyEvent(ev)) }
	p.Feed([]byte("id: 1\nevent: e\ndata: a\n\nevent: x\ndata: cut"), add)
	p.End(add)
	p.Feed([]byte("\xEF\xBB\xBFdata: b\r"), add)
	p.Feed([]byte("\n\n"), add)
	p.End(add)
	want := []event{{Type: "e", Data: "a", ID: "1", End: 22}, {Type: "x", Data: "cut", ID: "1", Offset: 24, End: 42}, {Data: "b", Offset: 3, End: 10}}
	if !slices.Equal(got, want) {
		t.Errorf("got %s\nwant %s", dump(got), dump(want))
	}
}

// TestFeedKeepsNoChunk: what a Feed leaves unfinished (a cut line, the
// event type and ID) survives the caller reusing the chunk's memory.
func TestFeedKeepsNoChunk(t *testing.T) {
	var p Parser
	var got []event
	add := func(ev Event) { got = append(got, copyEvent(ev)) }
	chunk := []byte("event: t\nid: i\ndata: ab")
	p.Feed(chunk, add)
	for i := range chunk {
		chunk[i] = 'X'
	}
	p.Feed([]byte("c\n\n"), add)
	p.End(add)
	want := []event{{Type: "t", ID: "i", Data: "abc", End: 24}}
	if !slices.Equal(got, want) {
		t.Errorf("got %s\nwant %s", dump(got), dump(want))
	}
}

// TestParseAllCopies: ParseAll's events do not alias the stream, and
// appending to one event's data leaves the next one alone.
func TestParseAllCopies(t *testing.T) {
	in := []byte("event: t\nid: i\ndata: abc\n\ndata: def\n\n")
	got := ParseAll(in)
	for i := range in {
		in[i] = 'X'
	}
	_ = append(got[0].Data, "!!!"...)
	want := []event{{Type: "t", ID: "i", Data: "abc", End: 24}, {ID: "i", Data: "def", Offset: 26, End: 35}}
	if got := copyEvents(got); !slices.Equal(got, want) {
		t.Errorf("got %s\nwant %s", dump(got), dump(want))
	}
}

// TestLongLine: a line far longer than any chunk is kept whole.
func TestLongLine(t *testing.T) {
	long := strings.Repeat("é", 1<<20)
	in := []byte("data: " + long + "\r\n\r\n")
	got := feedChunks(every(in, 7, 4093))
	if len(got) != 1 || got[0].Data != long {
		t.Fatalf("got %d events, first data %d bytes; want 1 of %d bytes", len(got), len(got[0].Data), len(long))
	}
}

// TestFeedAllocs: in steady state, a stream whose event types repeat
// parses without allocating: not per event, chunk or byte.
func TestFeedAllocs(t *testing.T) {
	in := []byte(anthropicStream)
	chunks := every(in, 3, 5)
	var p Parser
	n := 0
	count := func(Event) { n++ }
	run := func() {
		for _, c := range chunks {
			p.Feed(c, count)
		}
		p.End(count)
	}
	run() // grow the buffers
	events := n
	allocs := testing.AllocsPerRun(20, run)
	if allocs > 0 {
		t.Errorf("%.0f allocations for %d events fed in %d chunks; want none", allocs, events, len(chunks))
	}
}

// reference is a plain, whole-stream reading of the spec, written
// independently of Parser, for the tests and the fuzz target to check
// against.
func reference(s string) []event {
	var out []event
	base := 0
	if strings.HasPrefix(s, bom) {
		base = len(bom)
	}
	var (
		data, typ, id string
		hasData       bool
		first         = -1
	)
	dataEnd := 0
	dispatch := func() {
		if hasData {
			out = append(out, event{Type: typ, Data: strings.TrimSuffix(data, "\n"), ID: id, Offset: int64(first), End: int64(dataEnd)})
		}
		data, typ, hasData, first = "", "", false, -1
	}
	for i := base; i < len(s); {
		j := i
		for j < len(s) && s[j] != '\r' && s[j] != '\n' {
			j++
		}
		line := s[i:j]
		start := i
		switch {
		case j == len(s):
			i = j
		case strings.HasPrefix(s[j:], "\r\n"):
			i = j + 2
		default:
			i = j + 1
		}
		if line == "" {
			dispatch()
			continue
		}
		if line[0] == ':' {
			continue
		}
		if first < 0 {
			first = start
		}
		name, value, found := strings.Cut(line, ":")
		if found {
			value = strings.TrimPrefix(value, " ")
		}
		switch name {
		case "data":
			data += value + "\n"
			hasData, dataEnd = true, j
		case "event":
			typ = value
		case "id":
			if !strings.Contains(value, "\x00") {
				id = value
			}
		}
	}
	dispatch()
	return out
}

func dump(evs []event) string {
	var b strings.Builder
	b.WriteString("[")
	for _, e := range evs {
		fmt.Fprintf(&b, "\n\t{Type:%q Data:%q ID:%q Offset:%d End:%d}", e.Type, e.Data, e.ID, e.Offset, e.End)
	}
	b.WriteString("]")
	return b.String()
}

// FuzzParser: for any bytes cut anywhere in two, Feed gives what ParseAll
// gives, which is what the plain reading of the spec gives; nothing panics.
func FuzzParser(f *testing.F) {
	for _, tt := range parseTests {
		f.Add([]byte(tt.in), uint(len(tt.in)/2))
	}
	for _, s := range streams {
		f.Add([]byte(s.in), uint(len(s.in)/3))
	}
	f.Fuzz(func(t *testing.T, in []byte, cut uint) {
		k := int(cut % uint(len(in)+1))
		all := copyEvents(ParseAll(in))
		if got := feedChunks([][]byte{in[:k], in[k:]}); !slices.Equal(got, all) {
			t.Fatalf("fed cut at %d:\n got %s\nParseAll %s", k, dump(got), dump(all))
		}
		if ref := reference(string(in)); !slices.Equal(all, ref) {
			t.Fatalf("ParseAll:\n got %s\nreference %s", dump(all), dump(ref))
		}
		last := int64(-1)
		for _, e := range all {
			if e.Offset <= last || e.Offset >= int64(len(in)) {
				t.Fatalf("offset %d out of order or range (previous %d, len %d)", e.Offset, last, len(in))
			}
			last = e.Offset
			if e.End <= e.Offset || e.End > int64(len(in)) {
				t.Fatalf("end %d not after offset %d or past the stream (len %d)", e.End, e.Offset, len(in))
			}
			if strings.ContainsAny(e.Type+e.ID, "\r\n") || strings.Contains(e.Data, "\r") {
				t.Fatalf("line end inside a field: %s", dump([]event{e}))
			}
		}
	})
}

// benchStream is about 1 MiB of OpenAI and Anthropic events.
func benchStream() []byte {
	var b bytes.Buffer
	for b.Len() < 1<<20 {
		b.WriteString(strings.TrimSuffix(openAIStream, "data: [DONE]\n\n"))
		b.WriteString(anthropicStream)
	}
	b.WriteString("data: [DONE]\n\n")
	return b.Bytes()
}

func BenchmarkParseAll(b *testing.B) {
	in := benchStream()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		ParseAll(in)
	}
}

// BenchmarkParserFeed feeds 4 KiB chunks, as read from a network body, to
// one reused Parser.
func BenchmarkParserFeed(b *testing.B) {
	in := benchStream()
	chunks := every(in, 0, 4<<10)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	var p Parser
	n := 0
	count := func(Event) { n++ }
	for b.Loop() {
		for _, c := range chunks {
			p.Feed(c, count)
		}
		p.End(count)
	}
}

// TestEventEnd: End is just past the last data line, whatever follows it
// (a line break of any kind, more fields, the end of a cut stream).
func TestEventEnd(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		want []int64
	}{
		{"LF", "data: ab\n\n", []int64{8}},
		{"CRLF", "data: ab\r\n\r\n", []int64{8}},
		{"CR", "data: ab\r\r", []int64{8}},
		{"last of several data lines", "data: a\ndata: bc\n\n", []int64{16}},
		{"fields after the data", "data: a\nevent: e\nid: 1\n\n", []int64{7}},
		{"cut after a data line", "data: a\n", []int64{7}},
		{"cut inside a data line", "data: a\n\ndata: {\"x", []int64{7, 18}},
		{"BOM", "\xEF\xBB\xBFdata: a\n\n", []int64{10}},
		{"comment between events", "data: a\n\n: ping\n\ndata: b\n\n", []int64{7, 24}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []int64
			for _, e := range ParseAll([]byte(tt.in)) {
				got = append(got, e.End)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ends %v, want %v", got, tt.want)
			}
		})
	}
}
