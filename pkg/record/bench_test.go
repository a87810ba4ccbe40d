package record

import (
	"bytes"
	"strings"
	"testing"
	"time"
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
			for b.Loop() {
				buf = r.AppendJSON(buf[:0])
			}
		})
	}
}
