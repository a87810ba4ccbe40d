package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/llmtap/llmtap/internal/testbin"
)

// buildTools builds the named commands of this module, once, and returns
// their paths. A command that does not build fails the test: a pipe that
// cannot be tested must not pass.
func buildTools(t *testing.T, names ...string) map[string]string {
	t.Helper()
	bins := map[string]string{}
	for i, path := range testbin.Paths(t, names...) {
		bins[names[i]] = path
	}
	return bins
}

// TestEndToEnd runs the built binaries in a real pipe:
// llmgrep --tool get_weather records.jsonl | llmmd.
func TestEndToEnd(t *testing.T) {
	bins := buildTools(t, "llmgrep", "llmmd")
	grep := exec.Command(bins["llmgrep"], "--tool", "get_weather", "--model", "gpt-4o*", records)
	md := exec.Command(bins["llmmd"])
	pipe, err := grep.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	md.Stdin = pipe
	var out, grepErr, mdErr bytes.Buffer
	md.Stdout, md.Stderr, grep.Stderr = &out, &mdErr, &grepErr
	if err := md.Start(); err != nil {
		t.Fatal(err)
	}
	if err := grep.Run(); err != nil {
		t.Fatalf("llmgrep: %v\n%s", err, grepErr.String())
	}
	if err := md.Wait(); err != nil {
		t.Fatalf("llmmd: %v\n%s", err, mdErr.String())
	}
	if grepErr.Len() > 0 || mdErr.Len() > 0 {
		t.Errorf("stderr: llmgrep %q, llmmd %q", grepErr.String(), mdErr.String())
	}
	md2 := out.String()
	for _, want := range []string{"get_weather", "Paris", "gpt-4o"} {
		if !strings.Contains(md2, want) {
			t.Errorf("transcript lacks %q:\n%s", want, md2)
		}
	}
	// Records the filter dropped are not in the transcript.
	for _, absent := range []string{"aurora", "claude", "haiku"} {
		if strings.Contains(md2, absent) {
			t.Errorf("transcript has %q, from a record llmgrep should have dropped:\n%s", absent, md2)
		}
	}
}

// TestEndToEndExitAndPipe checks the built llmgrep's exit status and that
// a reader that stops early (llmgrep | head) ends it quietly.
func TestEndToEndExitAndPipe(t *testing.T) {
	bins := buildTools(t, "llmgrep")
	for _, tc := range []struct {
		args []string
		exit int
	}{
		{[]string{"--status", "500", records}, 0},
		{[]string{"--status", "418", records}, 1},
		{[]string{"--status", "teapot", records}, 2},
		{[]string{"--nope"}, 2},
	} {
		cmd := exec.Command(bins["llmgrep"], tc.args...)
		code, err := testbin.ExitStatus(cmd.Run())
		if err != nil {
			t.Fatal(err)
		}
		if code != tc.exit {
			t.Errorf("%v: exit %d, want %d", tc.args, code, tc.exit)
		}
	}

	// More output than a pipe holds, to a reader that reads a little and
	// goes away.
	data, err := os.ReadFile(records)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bins["llmgrep"])
	cmd.Stdin = bytes.NewReader(bytes.Repeat(data, 20))
	var errb bytes.Buffer
	cmd.Stderr = &errb
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if _, err := io.ReadFull(r, make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	r.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("llmgrep exited 0 after its reader went away")
		}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("llmgrep did not stop after its reader went away")
	}
	if errb.Len() > 0 {
		t.Errorf("stderr after a broken pipe: %q", errb.String())
	}
}
