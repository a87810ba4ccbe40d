package markdown_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/llmtap/llmtap/pkg/markdown"
	"github.com/llmtap/llmtap/pkg/provider"
	"github.com/llmtap/llmtap/pkg/record"
	"github.com/valyala/fastjson"
)

// TestEveryErrorKindInWords: a transcript says what each error kind means,
// not only its name.
func TestEveryErrorKindInWords(t *testing.T) {
	for _, k := range record.ErrorKinds() {
		t.Run(k.Name, func(t *testing.T) {
			line := `{"v":1,"id":"a","method":"POST","path":"/v1/chat/completions","error":{"kind":"` + k.Name + `","message":"m"}}`
			view, err := record.NewView(fastjson.MustParse(line))
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := markdown.New(&out, markdown.Options{}).Render(view, provider.Parse(view)); err != nil {
				t.Fatal(err)
			}
			if want := "> ⚠ **" + k.Text + "** (" + k.Name + ")"; !strings.Contains(out.String(), want) {
				t.Errorf("no %q in\n%s", want, out.String())
			}
		})
	}
}
