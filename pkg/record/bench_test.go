package record

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/llmtap/llmtap/internal/cputime"
)

// benchRecords are typical records: a small JSON chat, a streamed answer,
// and a binary body.
func benchRecords() map[string]*Record {
	chat := sample()
	var sse strings.Builder
	for i := range 200 {
		sse.WriteString(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"token `)
		sse.WriteString(strings.Repeat("x", i%7))
		sse.WriteString(`"},"finish_reason":null}]}` + "\n\n")
	}
	stream := sample()
	stream.Response.Body = Body{Data: []byte(sse.String()), WireBytes: int64(sse.Len())}
	for i := range 200 {
		stream.Response.Timing = append(stream.Response.Timing, Tick{Offset: int64(i * 100), At: time.Duration(i) * time.Millisecond})
	}
	bin := sample()
	bin.Response.Body = Body{Data: bytes.Repeat([]byte{0xff, 0x00, 0x80, 0x41}, 16<<10), WireBytes: 64 << 10}
	return map[string]*Record{"chat": chat, "stream": stream, "binary": bin}
}

func BenchmarkAppendJSON(b *testing.B) {
	for name, r := range benchRecords() {
		b.Run(name, func(b *testing.B) {
			buf := r.AppendJSON(nil)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			start := cputime.Self()
			for b.Loop() {
				buf = r.AppendJSON(buf[:0])
			}
			cputime.Report(b, start)
		})
	}
}

// BenchmarkAppendBodyValue embeds a 1.2 KB JSON answer: as servers send it
// (compact), indented, and with a line separator in a string; and the
// streamed answer of benchRecords, text escaped into a JSON string.
func BenchmarkAppendBodyValue(b *testing.B) {
	compact := []byte(`{"id":"chatcmpl-bench","object":"chat.completion","created":1767225600,"model":"bench-plain","choices":[{"index":0,"message":{"role":"assistant","content":"` +
		strings.Repeat("Hello there. ", 60) + `"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":120,"total_tokens":132}}`)
	var indented bytes.Buffer
	if err := json.Indent(&indented, compact, "", "  "); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"compact", compact},
		{"indented", indented.Bytes()},
		{"separator", bytes.Replace(compact, []byte("Hello"), []byte("Hello\u2028"), 1)},
		{"sse", benchRecords()["stream"].Response.Body.Data},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.data)))
			b.ReportAllocs()
			buf := make([]byte, 0, 2*len(tc.data))
			start := cputime.Self()
			for b.Loop() {
				buf, _ = appendBodyValue(buf[:0], tc.data, false)
			}
			cputime.Report(b, start)
		})
	}
}
