package markdown_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/llmtap/llmtap/pkg/markdown"
	"github.com/llmtap/llmtap/pkg/provider"
	"github.com/llmtap/llmtap/pkg/record"
	"github.com/valyala/fastjson"
)

// FuzzRender renders any line that is a record: no panic, and the
// transcript keeps its structure (checkDocument: valid UTF-8, no control
// characters, every fence closed, no section swallowed by a fence or a
// <details> block), threaded, full and clipped alike. Seeds: every golden
// input line, plus testdata/fuzz/FuzzRender.
func FuzzRender(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.jsonl")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for line := range bytes.SplitSeq(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
			f.Add(line)
		}
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var p fastjson.Parser
		v, err := p.ParseBytes(line)
		if err != nil {
			return
		}
		view, err := record.NewView(v)
		if err != nil {
			return
		}
		ex := provider.Parse(view)
		for _, opts := range []markdown.Options{{}, {Full: true, MaxChars: 7}} {
			var out bytes.Buffer
			r := markdown.New(&out, opts)
			// Twice: the second time the conversation is known.
			for range 2 {
				if err := r.Render(view, ex); err != nil {
					t.Fatal(err)
				}
			}
			if err := checkDocument(out.Bytes()); err != nil {
				t.Fatalf("%+v: %v\n%s", opts, err, out.Bytes())
			}
		}
	})
}

// BenchmarkRender measures llmmd's work per record on one core, for the mix
// of records in testdata (every format, streamed and not, errors, a 16 KB
// image): parse the line, read the exchange, render it. SetBytes counts the
// record bytes, so ns/op converts to MB/s of records.
func BenchmarkRender(b *testing.B) {
	lines := benchLines(b)
	var total int64
	for _, l := range lines {
		total += int64(len(l))
	}
	b.SetBytes(total)
	b.ReportAllocs()
	var p fastjson.Parser
	r := markdown.New(io.Discard, markdown.Options{})
	for b.Loop() {
		for _, l := range lines {
			v, err := p.ParseBytes(l)
			if err != nil {
				b.Fatal(err)
			}
			view, _ := record.NewView(v)
			if err := r.Render(view, provider.Parse(view)); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkRenderOnly is the renderer's own share: the exchanges are
// parsed once, outside the loop.
func BenchmarkRenderOnly(b *testing.B) {
	lines := benchLines(b)
	var total int64
	type item struct {
		view record.View
		ex   *provider.Exchange
	}
	var items []item
	for _, l := range lines {
		total += int64(len(l))
		var p fastjson.Parser // one each: the views must stay valid
		v, err := p.ParseBytes(l)
		if err != nil {
			b.Fatal(err)
		}
		view, _ := record.NewView(v)
		items = append(items, item{view, provider.Parse(view)})
	}
	b.SetBytes(total)
	b.ReportAllocs()
	r := markdown.New(io.Discard, markdown.Options{})
	for b.Loop() {
		for _, it := range items {
			if err := r.Render(it.view, it.ex); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func benchLines(b *testing.B) [][]byte {
	files, _ := filepath.Glob("testdata/*.jsonl")
	var lines [][]byte
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			b.Fatal(err)
		}
		for line := range bytes.SplitSeq(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		b.Fatal("no testdata")
	}
	return lines
}
