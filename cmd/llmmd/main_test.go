package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A record from the goldens, and the heading llmmd makes of it.
const (
	goodRecord  = `{"v":1,"id":"r1","start":"2026-01-01T00:00:00.000000Z","end":"2026-01-01T00:00:00.125000Z","duration_ms":125,"ttfb_ms":120.5,"method":"POST","path":"/v1/chat/completions","upstream_url":"http://127.0.0.1:9/v1/chat/completions","request":{"headers":{"content-type":"application/json"},"body":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi there"}]},"body_encoding":"json","body_bytes":62},"response":{"status":200,"headers":{"content-type":"application/json"},"body":{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}},"body_encoding":"json","body_bytes":150}}`
	goodHeading = "## 2026-01-01 00:00:00.000 UTC · `POST /v1/chat/completions` · gpt-4o-mini · 200 · 125 ms · TTFB 120 ms · 9 in / 2 out tokens"
)

// second is goodRecord with another id and question.
var second = strings.NewReplacer(`"id":"r1"`, `"id":"r2"`, "Hi there", "Second question").Replace(goodRecord)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.jsonl", goodRecord+"\n")
	bad := write("bad.jsonl", goodRecord+"\nnot json\n\n{\"a\":1}\n"+second+"\n"+goodRecord[:80])
	crlf := write("crlf.jsonl", goodRecord+"\r\n")

	for _, tc := range []struct {
		name     string
		args     []string
		stdin    string
		exit     int
		stdout   []string // substrings
		stderr   []string // substrings; nil: stderr must be empty
		noStdout bool
	}{
		{name: "file", args: []string{good}, stdout: []string{`<a id="r1"></a>`, goodHeading, "### User\n\nHi there", "### Assistant\n\nHello!"}},
		{name: "stdin by default", stdin: goodRecord + "\n", stdout: []string{goodHeading}},
		{name: "dash is stdin", args: []string{"-"}, stdin: goodRecord + "\n", stdout: []string{goodHeading}},
		{name: "stdin and a file, in order", args: []string{"-", good}, stdin: second + "\n", stdout: []string{"Second question\n\n### Assistant\n\nHello!\n\n<a id=\"r1\"></a>"}},
		{name: "last line without newline is fine when whole", stdin: goodRecord, stdout: []string{goodHeading}},
		{name: "crlf line end", args: []string{crlf}, stdout: []string{goodHeading}},
		{
			name: "bad lines are skipped with a warning each",
			args: []string{bad}, exit: 1,
			stdout: []string{goodHeading, "Second question"},
			stderr: []string{
				"llmmd: " + bad + ":2: not JSON: ",
				"llmmd: " + bad + ":4: not a record\n",
				"llmmd: " + bad + ":6: truncated last line (no newline at the end): not JSON: ",
			},
		},
		{name: "bad line on stdin is named <stdin>", stdin: "oops\n" + goodRecord + "\n", exit: 1, stdout: []string{goodHeading}, stderr: []string{"llmmd: <stdin>:1: not JSON: "}},
		{name: "missing file", args: []string{filepath.Join(dir, "nope.jsonl")}, exit: 2, noStdout: true, stderr: []string{"llmmd: error: ", "nope.jsonl: no such file or directory"}},
		{name: "directory", args: []string{dir}, exit: 2, noStdout: true, stderr: []string{"llmmd: error: "}},
		{name: "help on stdout", args: []string{"--help"}, stdout: []string{"Usage: llmmd", "--full", "--no-system", "--no-reasoning", "--max-chars=N", "--version"}},
		{name: "version", args: []string{"--version"}, stdout: []string{"llmmd dev"}},
		{name: "unknown flag", args: []string{"--fulll"}, exit: 2, noStdout: true, stderr: []string{"llmmd: error: unknown flag --fulll"}},
		{name: "negative max-chars", args: []string{"--max-chars=-1"}, exit: 2, noStdout: true, stderr: []string{"--max-chars: must not be negative"}},
		{name: "max-chars clips", args: []string{"--max-chars", "3", good}, stdout: []string{"Hi \n\n*[… 5 more characters clipped]*"}},
		{name: "blank lines are not records", stdin: "\n  \n" + goodRecord + "\n\n", stdout: []string{goodHeading}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			exit := run(tc.args, strings.NewReader(tc.stdin), &stdout, &stderr)
			if exit != tc.exit {
				t.Errorf("exit %d, want %d; stderr:\n%s", exit, tc.exit, stderr.String())
			}
			for _, s := range tc.stdout {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout.String())
				}
			}
			if tc.noStdout && stdout.Len() > 0 {
				t.Errorf("stdout should be empty:\n%s", stdout.String())
			}
			if tc.stderr == nil && stderr.Len() > 0 {
				t.Errorf("stderr should be empty:\n%s", stderr.String())
			}
			for _, s := range tc.stderr {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr.String())
				}
			}
			if n := strings.Count(stderr.String(), "\n"); tc.name == "bad lines are skipped with a warning each" && n != 3 {
				t.Errorf("%d warning lines, want 3:\n%s", n, stderr.String())
			}
		})
	}
}

// TestFullShowsEveryRequest: the same record twice is one conversation
// (threaded: the second says it resends it) or two (--full).
func TestFullShowsEveryRequest(t *testing.T) {
	in := goodRecord + "\n" + goodRecord + "\n"
	for _, tc := range []struct {
		args []string
		n    int
	}{{nil, 1}, {[]string{"--full"}, 2}} {
		var stdout, stderr bytes.Buffer
		if exit := run(tc.args, strings.NewReader(in), &stdout, &stderr); exit != 0 {
			t.Fatalf("exit %d: %s", exit, stderr.String())
		}
		if n := strings.Count(stdout.String(), "Hi there"); n != tc.n {
			t.Errorf("%v: the question appears %d times, want %d", tc.args, n, tc.n)
		}
	}
}

// flushCounter records what reached the output at each write.
type flushCounter struct {
	writes []string
}

func (f *flushCounter) Write(p []byte) (int, error) {
	f.writes = append(f.writes, string(p))
	return len(p), nil
}

// TestFlushEachRecord: each record's section reaches stdout on its own,
// before the next record is read, so a live pipe shows it at once.
func TestFlushEachRecord(t *testing.T) {
	var out flushCounter
	var stderr bytes.Buffer
	if exit := run(nil, strings.NewReader(goodRecord+"\n"+second+"\n"), &out, &stderr); exit != 0 {
		t.Fatalf("exit %d: %s", exit, stderr.String())
	}
	if len(out.writes) != 2 || !strings.Contains(out.writes[0], "Hi there") || !strings.Contains(out.writes[1], "Second question") {
		t.Errorf("writes: %q", out.writes)
	}
}

type brokenPipe struct{}

func (brokenPipe) Write([]byte) (int, error) {
	return 0, &os.PathError{Op: "write", Path: "/dev/stdout", Err: syscall.EPIPE}
}

type diskFull struct{}

func (diskFull) Write([]byte) (int, error) { return 0, fmt.Errorf("write /out: %w", syscall.ENOSPC) }

// TestWriteErrors: a reader that went away (llmmd | head) ends llmmd
// quietly; any other failed write is reported once.
func TestWriteErrors(t *testing.T) {
	in := strings.Repeat(goodRecord+"\n", 3)
	var stderr bytes.Buffer
	if exit := run(nil, strings.NewReader(in), brokenPipe{}, &stderr); exit != 1 || stderr.Len() != 0 {
		t.Errorf("EPIPE: exit %d, stderr %q; want 1 and nothing", exit, stderr.String())
	}
	stderr.Reset()
	if exit := run(nil, strings.NewReader(in), diskFull{}, &stderr); exit != 1 || strings.Count(stderr.String(), "\n") != 1 || !strings.Contains(stderr.String(), "no space left") {
		t.Errorf("ENOSPC: exit %d, stderr %q; want 1 and one line", exit, stderr.String())
	}
}
