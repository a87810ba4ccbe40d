package testbin

import (
	"strings"
	"testing"
)

// TestBuildNamesWhatFailed checks that a command that does not build is
// an error that names it and carries the go command's words.
func TestBuildNamesWhatFailed(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	err := Build(t.TempDir(), "no-such-command")
	if err == nil {
		t.Fatal("Build of a missing command: no error")
	}
	for _, want := range []string{"go build", "no-such-command"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
