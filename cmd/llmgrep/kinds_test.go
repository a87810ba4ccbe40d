package main

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/llmtap/llmtap/pkg/record"
)

// TestHelpNamesEveryErrorKind: --help lists the kinds --error takes, and
// "--error KIND" with a space takes each of them.
func TestHelpNamesEveryErrorKind(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"--help"}, strings.NewReader(""), &out, io.Discard); code != 0 {
		t.Fatalf("--help: exit %d", code)
	}
	help := strings.Join(strings.Fields(out.String()), " ") // help wraps lines
	for _, k := range record.ErrorKinds() {
		if !strings.Contains(help, k.Name) {
			t.Errorf("--help does not name error kind %s", k.Name)
		}
		var out, errb bytes.Buffer
		line := `{"v":1,"id":"a","error":{"kind":"` + k.Name + `","message":"m"}}` + "\n"
		if code := run([]string{"--error", k.Name, "-c"}, strings.NewReader(line), &out, &errb); code != 0 || out.String() != "1\n" {
			t.Errorf("--error %s: exit %d, stdout %q, stderr %q", k.Name, code, out.String(), errb.String())
		}
	}
}
