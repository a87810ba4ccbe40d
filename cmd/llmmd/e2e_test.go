package main

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/llmtap/llmtap/internal/fakeupstream"
	"github.com/llmtap/llmtap/internal/testbin"
)

// TestPipeEndToEnd runs `llmtap --upstream <fake> --port 0 | llmmd` as a
// real pipe between the built binaries, sends requests through llmtap, and
// sees each exchange's section on llmmd's stdout while llmtap is still
// running: llmtap writes each record as its exchange ends, and llmmd
// flushes each section as it reads the record.
func TestPipeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	bins := testbin.Paths(t, "llmtap", "llmmd")
	llmtapBin, llmmdBin := bins[0], bins[1]
	upstream := httptest.NewServer(fakeupstream.New(fakeupstream.Options{}))
	defer upstream.Close()

	tap := exec.Command(llmtapBin, "--upstream", upstream.URL+"/v1", "--port", "0")
	md := exec.Command(llmmdBin)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	tap.Stdout, md.Stdin = pw, pr
	tapErr, err := tap.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	mdOut, err := md.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var mdErr strings.Builder
	md.Stderr = &mdErr
	if err := md.Start(); err != nil {
		t.Fatal(err)
	}
	if err := tap.Start(); err != nil {
		t.Fatal(err)
	}
	pr.Close() // the children hold their own ends
	pw.Close()
	defer func() {
		// Only if the test failed half-way; by pid, never by name.
		for _, c := range []*exec.Cmd{tap, md} {
			if c.ProcessState == nil {
				_ = c.Process.Kill()
				_ = c.Wait()
			}
		}
	}()

	url, err := testbin.ListenURL(tapErr, io.Discard)
	if err != nil {
		t.Fatal(err)
	}

	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(mdOut)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// waitFor reads llmmd's output until a line contains want.
	waitFor := func(want string) {
		t.Helper()
		timeout := time.After(15 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("llmmd ended before %q; stderr: %s", want, mdErr.String())
				}
				if strings.Contains(l, want) {
					return
				}
			case <-timeout:
				t.Fatalf("no %q from llmmd within 15s", want)
			}
		}
	}

	for _, tc := range []struct{ body, want string }{
		{`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Say hello through a pipe."}]}`, "Say hello through a pipe."},
		{`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"And once more."}]}`, "And once more."},
	} {
		res, err := http.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		waitFor("`POST /v1/chat/completions` · gpt-4o-mini · 200")
		waitFor(tc.want)
		if tap.ProcessState != nil || tap.Process.Signal(syscall.Signal(0)) != nil {
			t.Fatal("llmtap is no longer running")
		}
	}

	if err := tap.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := tap.Wait(); err != nil {
		t.Errorf("llmtap: %v", err)
	}
	for range lines {
	}
	if err := md.Wait(); err != nil {
		t.Errorf("llmmd: %v; stderr: %s", err, mdErr.String())
	}
}
