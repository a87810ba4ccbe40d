package testbin

import (
	"io"
	"os/exec"
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

func TestExitStatus(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want int
	}{
		{name: "success", args: []string{"version"}, want: 0},
		{name: "failure", args: []string{"no-such-subcommand"}, want: 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ExitStatus(exec.Command("go", tt.args...).Run())
			if err != nil || got != tt.want {
				t.Errorf("ExitStatus: %d, %v; want %d, nil", got, err, tt.want)
			}
		})
	}
	if _, err := ExitStatus(exec.Command("/no/such/program").Run()); err == nil {
		t.Error("ExitStatus of a program that could not start: no error")
	}
}
