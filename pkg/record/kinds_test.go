package record

import (
	"os"
	"strings"
	"testing"
)

// TestErrorKindsDocumented keeps the schema's table of error kinds and
// the list in the code the same.
func TestErrorKindsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/record.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, _ := strings.Cut(string(doc), "### Error kinds")
	table, _, _ = strings.Cut(table, "\n## ")
	documented := map[string]bool{}
	for _, ln := range strings.Split(table, "\n") {
		if name, ok := strings.CutPrefix(ln, "| `"); ok {
			name, _, _ = strings.Cut(name, "`")
			documented[name] = true
		}
	}
	for _, k := range ErrorKinds() {
		if !documented[k.Name] {
			t.Errorf("docs/record.md does not list error kind %q", k.Name)
		}
		delete(documented, k.Name)
		if k.Text == "" || strings.HasSuffix(k.Text, ".") {
			t.Errorf("%s: text %q: want a sentence without its full stop", k.Name, k.Text)
		}
	}
	delete(documented, "error.kind") // the table's heading
	for name := range documented {
		t.Errorf("docs/record.md lists error kind %q, which ErrorKinds does not", name)
	}
}

func TestErrorKindLookups(t *testing.T) {
	for _, k := range ErrorKinds() {
		if !IsErrorKind(k.Name) {
			t.Errorf("IsErrorKind(%q) = false", k.Name)
		}
		if text, ok := ErrorKindText(k.Name); !ok || text != k.Text {
			t.Errorf("ErrorKindText(%q) = %q, %v", k.Name, text, ok)
		}
	}
	for _, name := range []string{"", "Shutdown", "upstream_*", "http_error"} {
		if IsErrorKind(name) {
			t.Errorf("IsErrorKind(%q) = true", name)
		}
	}
	ks := ErrorKinds()
	ks[0].Name = "changed"
	if ErrorKinds()[0].Name == "changed" {
		t.Error("ErrorKinds returns the package's own slice")
	}
}
