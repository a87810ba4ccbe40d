package testbin

import (
	"io"
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

func TestListenURL(t *testing.T) {
	tests := []struct {
		name, stderr, want, wantErr string
	}{
		{name: "listening", stderr: "llmtap: listening on http://127.0.0.1:4711\nllmtap: forwarding to x\n", want: "http://127.0.0.1:4711"},
		{name: "other first line", stderr: "llmtap: --upstream: missing\n", wantErr: "--upstream: missing"},
		{name: "nothing", stderr: "", wantErr: "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ListenURL(strings.NewReader(tt.stderr), io.Discard)
			if got != tt.want {
				t.Errorf("URL %q, want %q", got, tt.want)
			}
			if (tt.wantErr == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want one with %q", err, tt.wantErr)
			}
		})
	}
}
