package proxy

import (
	"testing"

	"github.com/llmtap/llmtap/pkg/record"
)

// TestErrorMessageForEveryKind: each error kind has its own message, not
// the fallback that only repeats the kind's name.
func TestErrorMessageForEveryKind(t *testing.T) {
	tap := &Tap{}
	for _, k := range record.ErrorKinds() {
		if msg := tap.errorMessage(k.Name, nil); msg == "" || msg == "llmtap: "+k.Name {
			t.Errorf("errorMessage(%s) = %q: the kind has no message of its own", k.Name, msg)
		}
	}
}
