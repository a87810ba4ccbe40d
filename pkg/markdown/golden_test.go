package markdown_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmtap/llmtap/pkg/jsonl"
	"github.com/llmtap/llmtap/pkg/markdown"
	"github.com/llmtap/llmtap/pkg/record"
	"github.com/llmtap/llmtap/pkg/records"
)

var update = flag.Bool("update", false, "rewrite testdata/*.md golden files")

// fullGoldens are the inputs also rendered with Options.Full into
// *.full.md: the ones where threading hides something.
var fullGoldens = map[string]bool{
	"chat_tool_conversation": true,
	"chat_interleaved":       true,
	"responses":              true,
	"anthropic":              true,
	"gemini":                 true,
	"errors":                 true,
}

// render renders a JSONL file of records with the loop and the renderer
// llmmd uses, into a buffer.
func render(t testing.TB, in []byte, opts markdown.Options) []byte {
	t.Helper()
	var out, warnings bytes.Buffer
	r := markdown.New(&out, opts)
	s := records.Scanner{Scanner: jsonl.Scanner{Prog: "golden", Stdin: bytes.NewReader(in), Stderr: &warnings}}
	if err := s.Scan(nil, func(_ *jsonl.Reader, v record.View) error { return r.Record(v) }); err != nil {
		t.Fatal(err)
	}
	if warnings.Len() > 0 {
		t.Fatalf("warnings:\n%s", warnings.String())
	}
	return out.Bytes()
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.jsonl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, in := range files {
		name := strings.TrimSuffix(filepath.Base(in), ".jsonl")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			compare(t, strings.TrimSuffix(in, ".jsonl")+".md", render(t, data, markdown.Options{}))
			if fullGoldens[name] {
				compare(t, strings.TrimSuffix(in, ".jsonl")+".full.md", render(t, data, markdown.Options{Full: true}))
			}
		})
	}
}

// compare checks got against the golden file, or rewrites the file (only
// when it differs) with -update.
func compare(t *testing.T, golden string, got []byte) {
	t.Helper()
	if err := checkDocument(got); err != nil {
		t.Errorf("%s: %v", golden, err)
	}
	want, err := os.ReadFile(golden)
	if *update {
		if err != nil || !bytes.Equal(want, got) {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs; run go test ./pkg/markdown -update and review the diff\n%s", golden, lineDiff(string(want), string(got)))
	}
}

// lineDiff shows the first lines where want and got differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 10; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n- %q\n+ %q\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}
