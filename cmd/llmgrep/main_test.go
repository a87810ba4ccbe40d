package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alecthomas/kong"
	"github.com/valyala/fastjson"

	"github.com/llmtap/llmtap/internal/syncbuf"
)

// records is the file of real llmtap records the filter tests use too.
const records = "../../pkg/filter/testdata/records.jsonl"

// The records of records.jsonl the tests select, by id, named for the
// scenario its generator (pkg/filter/gen_test.go) recorded under that id.
const (
	idChat                 = "20260101T000000.000000Z-5eed01-000001"
	idChatStream           = "20260101T000100.000000Z-5eed01-000002"
	idChatTools            = "20260101T000200.000000Z-5eed01-000003"
	idChatToolsStream      = "20260101T000300.000000Z-5eed01-000004"
	idChatEscapedTool      = "20260101T000500.000000Z-5eed01-000006"
	idChatSlowStream       = "20260101T000600.000000Z-5eed01-000007"
	idChatLateHeaders      = "20260101T000700.000000Z-5eed01-000008"
	idResponsesStream      = "20260101T001100.000000Z-5eed01-000012"
	idAnthropicToolsStream = "20260101T001400.000000Z-5eed01-000015"
	idRateLimited          = "20260101T001600.000000Z-5eed01-000017"
	idServerError          = "20260101T001700.000000Z-5eed01-000018"
	idNotFound             = "20260101T001800.000000Z-5eed01-000019"
	idAbortedStream        = "20260101T001900.000000Z-5eed01-000020"
	idCancelledStream      = "20260101T002000.000000Z-5eed01-000021"
	idUpstreamTimeout      = "20260101T002100.000000Z-5eed01-000022"
	idUnreachable          = "20260101T002200.000000Z-5eed01-000023"
)

// recordsByID returns a lookup of the lines of records, with their
// newlines, by id, and the whole file. The lookup fails the test for an
// id the file does not have (a regenerated file: update the ids above).
func recordsByID(t *testing.T) (func(id string) string, string) {
	t.Helper()
	data, err := os.ReadFile(records)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]string{}
	var p fastjson.Parser
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if line == "" {
			continue
		}
		if !strings.HasSuffix(line, "\n") {
			t.Fatalf("%s: last line has no newline", records)
		}
		v, err := p.Parse(line)
		if err != nil {
			t.Fatalf("%s: %v", records, err)
		}
		byID[string(v.GetStringBytes("id"))] = line
	}
	return func(id string) string {
		t.Helper()
		line, ok := byID[id]
		if !ok {
			t.Fatalf("%s has no record %s", records, id)
		}
		return line
	}, string(data)
}

// cliNow is the time relative --since and --until count back from.
var cliNow = time.Date(2026, 1, 1, 0, 30, 0, 0, time.UTC)

func TestCLI(t *testing.T) {
	R, all := recordsByID(t)
	dir := t.TempDir()
	other := filepath.Join(dir, "other.jsonl")
	if err := os.WriteFile(other, []byte(R(idRateLimited)+R(idChatTools)), 0o644); err != nil {
		t.Fatal(err)
	}
	// A file named like a pattern, to pin the PATTERN-or-FILE rule.
	paris := filepath.Join(dir, "Paris")
	if err := os.WriteFile(paris, []byte(R(idChat)), 0o644); err != nil {
		t.Fatal(err)
	}
	mixed := R(idRateLimited) + "not json\n\n  \n" + `{"v":1,"id":"cut` + "\n" + `{"id":"no version"}` + "\n" + R(idServerError)
	tests := []struct {
		name   string
		args   []string
		stdin  string
		stdout string
		stderr string // substring; "" means stderr must be empty
		exit   int
	}{
		{name: "status", args: []string{"--status", "429", records}, stdout: R(idRateLimited)},
		{name: "status class OR", args: []string{"--status", "429", "--status", "5xx", records}, stdout: R(idRateLimited) + R(idServerError)},
		{name: "status expression", args: []string{"--status", ">=400", "-c", records}, stdout: "3\n"},
		{name: "status != with = form", args: []string{"--status=!=200", "-c", records}, stdout: "3\n"},
		{name: "no match", args: []string{"--status", "418", records}, exit: 1},
		{name: "no filter prints every line byte for byte", args: []string{records}, stdout: all},
		{name: "AND", args: []string{"--model", "gpt-4o*", "--tool", "get_weather", "--ids", records}, stdout: idChatTools + "\n" + idChatToolsStream + "\n"},

		// --error: bare means any error; a value takes = or is a known kind.
		{name: "error any", args: []string{"--error", "-c", records}, stdout: "4\n"},
		{name: "error any before a file", args: []string{"--error", records}, stdout: R(idAbortedStream) + R(idCancelledStream) + R(idUpstreamTimeout) + R(idUnreachable)},
		{name: "error=kind", args: []string{"--error=client_cancelled", records}, stdout: R(idCancelledStream)},
		{name: "error kind with a space", args: []string{"--error", "upstream_aborted", records}, stdout: R(idAbortedStream)},
		{name: "error glob", args: []string{"--error=upstream_*", "--ids", records}, stdout: idAbortedStream + "\n" + idUpstreamTimeout + "\n" + idUnreachable + "\n"},
		{name: "error repeated ORs", args: []string{"--error=shutdown", "--error", "client_cancelled", records}, stdout: R(idCancelledStream)},
		{name: "error any and a kind", args: []string{"--error", "--error=shutdown", "-c", records}, stdout: "4\n"},
		{name: "error unknown kind", args: []string{"--error=timeout", records}, stderr: `llmgrep: error: --error "timeout": unknown kind: want one of upstream_unreachable, upstream_timeout`, exit: 2},
		{name: "error unknown word after a space is a pattern", args: []string{"--error", "cancelled", records}, exit: 1},
		{name: "ok", args: []string{"--ok", "-c", records}, stdout: "19\n"},

		{name: "stream", args: []string{"--stream", "-c", records}, stdout: "10\n"},
		{name: "no-stream", args: []string{"--no-stream", "-c", records}, stdout: "16\n"},
		{name: "stream=false", args: []string{"--stream=false", "-c", records}, stdout: "16\n"},

		{name: "tool", args: []string{"--tool", "get_weather", "-c", records}, stdout: "4\n"},
		{name: "tool in request", args: []string{"--tool", "lookup_db", "--in-request", records}, stdout: R(idChatEscapedTool)},
		{name: "in-request alone", args: []string{"--in-request", records}, stderr: `llmgrep: error: --in-request: goes with --tool NAME`, exit: 2},

		{name: "slower", args: []string{"--slower", "400ms", records}, stdout: R(idChatSlowStream)},
		{name: "faster", args: []string{"--faster", "50ms", "-c", records}, stdout: "22\n"},
		{name: "ttfb", args: []string{"--ttfb-over", "100ms", records}, stdout: R(idChatLateHeaders)},
		{name: "slower bare number", args: []string{"--slower", "500", records}, stderr: `llmgrep: error: --slower "500": a number needs a unit: want a duration with a unit (250ms, 2s, 1m30s)`, exit: 2},

		{name: "since", args: []string{"--since", "2026-01-01T00:24:00Z", "-c", records}, stdout: "2\n"},
		{name: "since relative", args: []string{"--since", "10m", "-c", records}, stdout: "6\n"},
		{name: "since and until", args: []string{"--since", "2026-01-01T00:05:00Z", "--until", "2026-01-01T00:07:00Z", "--ids", records}, stdout: idChatEscapedTool + "\n" + idChatSlowStream + "\n"},
		{name: "since bad", args: []string{"--since", "yesterday", records}, stderr: `llmgrep: error: --since "yesterday": want an RFC 3339 time`, exit: 2},

		{name: "where", args: []string{"--where", "request.body.temperature>0.5", records}, stdout: R(idChatStream)},
		{name: "where with commas and spaces", args: []string{"--where", `request.body.model = "gpt-4o,mini"`, records}, exit: 1},
		{name: "where AND", args: []string{"--where", "request.body.stream=true", "--where", "error.kind=client_cancelled", records}, stdout: R(idCancelledStream)},
		{name: "where bad", args: []string{"--where", "request.body.model", records}, stderr: `llmgrep: error: --where "request.body.model": missing operator: want PATH OP VALUE`, exit: 2},

		{name: "model method path id", args: []string{"--model", "claude-*", "--method", "post", "--path", "/v1/messages", "--id", "*-000015", records}, stdout: R(idAnthropicToolsStream)},
		{name: "model glob with comma is one glob", args: []string{"--model", "gpt-4o,claude-*", records}, exit: 1},

		// PATTERN or FILE.
		{name: "pattern then file", args: []string{"Paris", "-c", records}, stdout: "7\n"},
		{name: "first argument a file", args: []string{"--status", "500", records}, stdout: R(idServerError)},
		{name: "pattern from stdin", args: []string{"aurora"}, stdin: all, stdout: R(idChatStream)},
		{name: "dash is stdin", args: []string{"-", "--status", "429"}, stdin: all, stdout: R(idRateLimited)},
		{name: "pattern and dash", args: []string{"haiku", "-"}, stdin: all, stdout: R(idResponsesStream)},
		{name: "existing file wins over pattern", args: []string{paris, "-c"}, stdout: "1\n"},
		{name: "-e makes every argument a file", args: []string{"-e", "Paris", paris, records, "-c"}, stdout: "7\n"},
		{name: "-e repeated ORs", args: []string{"-e", "haiku", "-e", "aurora", "--ids", records}, stdout: idChatStream + "\n" + idResponsesStream + "\n"},
		{name: "-e with a file name as text", args: []string{"-e", "records.jsonl", records}, exit: 1},
		{name: "missing jsonl is not a pattern", args: []string{"--status", "500", "typo.jsonl"}, stderr: `llmgrep: error: typo.jsonl: no such file (to search the text for it, use -e "typo.jsonl")`, exit: 2},
		{name: "missing second file", args: []string{"Paris", "nope.jsonl"}, stderr: "llmgrep: error: nope.jsonl: no such file or directory", exit: 2},
		{name: "-i", args: []string{"-i", "HAIKU", "-c", records}, stdout: "1\n"},
		{name: "-F", args: []string{"-F", "a.c", records}, exit: 1},
		{name: "bad regex", args: []string{"(", records}, stderr: `llmgrep: error: PATTERN "(": want a Go regular expression (RE2), or -F for a fixed string`, exit: 2},
		{name: "empty pattern", args: []string{"", "-c", records}, stdout: "26\n"},

		// Flags and arguments in any order (see permute).
		{name: "flags after a file", args: []string{records, "--status", "429", other}, stdout: R(idRateLimited) + R(idRateLimited)},
		{name: "short cluster with a value", args: []string{"-vm", "1", "--status", "200", records}, stdout: R(idRateLimited)},
		{name: "short flag with its value attached", args: []string{"-m2", records}, stdout: R(idChat) + R(idChatStream)},
		{name: "dash dash before a pattern with a dash", args: []string{"--", "-x", records}, exit: 1},
		{name: "regexp=value with a dash", args: []string{"--regexp=-HAIKU", "-i", records}, exit: 1},

		// Output modes.
		{name: "invert", args: []string{"-v", "--status", "200", "--ids", records}, stdout: idRateLimited + "\n" + idServerError + "\n" + idNotFound + "\n" + idUnreachable + "\n"},
		{name: "invert count", args: []string{"-v", "--stream", "-c", records}, stdout: "16\n"},
		{name: "max count", args: []string{"--stream", "-m", "2", records}, stdout: R(idChatStream) + R(idChatToolsStream)},
		{name: "max count across files", args: []string{"--status", "429", "-m", "1", records, other}, stdout: R(idRateLimited)},
		{name: "max count zero", args: []string{"-m", "0", records}, exit: 1},
		{name: "max count with count", args: []string{"-m", "3", "-c", records}, stdout: "3\n"},
		{name: "files with matches", args: []string{"-l", "--tool", "get_weather", records, other, paris}, stdout: records + "\n" + other + "\n"},
		{name: "with filename", args: []string{"-H", "--status", "429", records, other}, stdout: records + ":" + R(idRateLimited) + other + ":" + R(idRateLimited)},
		{name: "count per file", args: []string{"-H", "-c", "--status", "429", records, other, paris}, stdout: records + ":1\n" + other + ":1\n" + paris + ":0\n"},
		{name: "count total", args: []string{"-c", "--status", "429", records, other}, stdout: "2\n"},
		{name: "ids with filename", args: []string{"-H", "--ids", "--status", "500", records}, stdout: records + ":" + idServerError + "\n"},
		{name: "count and list", args: []string{"-c", "-l", records}, stderr: "llmgrep: error: --count and --files-with-matches can't be used together", exit: 2},
		{name: "stdin name", args: []string{"-H", "--status", "500"}, stdin: all, stdout: "<stdin>:" + R(idServerError)},

		// Bad lines: one warning each, skipped, never selected.
		{name: "bad lines warned", args: []string{"--status", ">=400"}, stdin: mixed, stdout: R(idRateLimited) + R(idServerError),
			stderr: "llmgrep: <stdin>:2: not JSON: cannot parse JSON"},
		{name: "bad lines not selected by -v", args: []string{"-v", "--status", "418"}, stdin: mixed, stdout: R(idRateLimited) + R(idServerError),
			stderr: "llmgrep: <stdin>:6: not a record"},
		{name: "only bad lines", args: []string{}, stdin: "nope\n", exit: 1, stderr: "llmgrep: <stdin>:1: not JSON"},
		{name: "last line without newline", args: []string{"--status", "500"}, stdin: strings.TrimSuffix(R(idServerError), "\n"), stdout: R(idServerError)},
		{name: "CRLF kept", args: []string{"--status", "500"}, stdin: strings.TrimSuffix(R(idServerError), "\n") + "\r\n", stdout: strings.TrimSuffix(R(idServerError), "\n") + "\r\n"},
		{name: "file and line in warning", args: []string{"--status", "200", "-c", records, filepath.Join(dir, "bad.jsonl")}, stdout: "23\n", stderr: "bad.jsonl:2: not JSON"},

		// Usage.
		{name: "unknown flag", args: []string{"--colour"}, stderr: "llmgrep: error: unknown flag --colour", exit: 2},
		{name: "status bad", args: []string{"--status", "abc", records}, stderr: `llmgrep: error: --status "abc": want a code (200), a class (4xx), or a comparison (>=400, <500, !=200, !=2xx)`, exit: 2},
		{name: "negative max count", args: []string{"-m", "-5", records}, stderr: "--max-count", exit: 2},
		{name: "version", args: []string{"--version"}, stdout: "llmgrep dev\n"},
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.jsonl"), []byte(R(idChat)+"{oops\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := runAt(cliNow, tc.args, strings.NewReader(tc.stdin), &out, &errb)
			if code != tc.exit {
				t.Errorf("exit %d, want %d; stderr: %s", code, tc.exit, errb.String())
			}
			if out.String() != tc.stdout {
				t.Errorf("stdout\n%.2000q\nwant\n%.2000q", out.String(), tc.stdout)
			}
			if tc.stderr == "" && errb.Len() > 0 || !strings.Contains(errb.String(), tc.stderr) {
				t.Errorf("stderr\n%s\nwant it to contain\n%s", errb.String(), tc.stderr)
			}
			if strings.Count(errb.String(), "llmgrep:") != strings.Count(errb.String(), "\n") {
				t.Errorf("stderr has lines without the program name:\n%s", errb.String())
			}
		})
	}
}

// TestHelp checks that --help goes to stdout and exits 0, and that a usage
// error prints no usage at all on stdout (it would feed the next command).
func TestHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"--help"}, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"Usage: llmgrep", "PATTERN or FILE", "--where='PATH OP VALUE'", "--[no-]stream", "--error"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"--bogus"}, strings.NewReader(""), &out, &errb); code != 2 || out.Len() != 0 {
		t.Errorf("exit %d, stdout %q", code, out.String())
	}
}

// failWriter fails every write with err.
type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

// TestWriteErrors checks that a reader that went away (EPIPE) ends llmgrep
// quietly with a non-zero status, and any other write error is reported.
func TestWriteErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		stderr string
	}{
		{"broken pipe", syscall.EPIPE, ""},
		{"disk full", syscall.ENOSPC, "llmgrep: write: no space left on device\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var errb bytes.Buffer
			code := run([]string{records}, strings.NewReader(""), failWriter{tc.err}, &errb)
			if code != 2 || errb.String() != tc.stderr {
				t.Errorf("exit %d, stderr %q; want 2, %q", code, errb.String(), tc.stderr)
			}
		})
	}
}

// TestLivePipe checks that a record reaches stdout as soon as it is read
// when no more input is waiting (llmtap | llmgrep), not when the input ends.
func TestLivePipe(t *testing.T) {
	R, _ := recordsByID(t)
	pr, pw := io.Pipe()
	out := &syncbuf.Buffer{}
	done := make(chan int)
	go func() { done <- run([]string{"--status", ">=400"}, pr, out, io.Discard) }()
	for _, id := range []string{idRateLimited, idServerError} {
		if _, err := pw.Write([]byte(R(id))); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for !strings.HasSuffix(out.String(), R(id)) {
			if time.Now().After(deadline) {
				t.Fatalf("record %s not written while the input stays open; stdout %q", id, out.String())
			}
			time.Sleep(time.Millisecond)
		}
	}
	pw.Close()
	if code := <-done; code != 0 {
		t.Errorf("exit %d", code)
	}
}

// TestLongLine checks a record longer than the reader's buffer.
func TestLongLine(t *testing.T) {
	big := strings.Repeat("x", 300<<10)
	line := `{"v":1,"id":"big","method":"POST","path":"/v1/chat/completions","request":{"headers":{},"body":{"model":"gpt-4o","messages":[{"role":"user","content":"` + big + ` needle"}]},"body_encoding":"json"}}` + "\n"
	var out bytes.Buffer
	code := run([]string{"needle$"}, strings.NewReader(L1()+line), &out, io.Discard)
	if code != 0 || out.String() != line {
		t.Errorf("exit %d, %d bytes out", code, out.Len())
	}
}

// L1 is a short record that does not match "needle".
func L1() string {
	return `{"v":1,"id":"small","method":"GET","path":"/v1/models"}` + "\n"
}

// TestPermute pins how arguments are reordered for kong.
func TestPermute(t *testing.T) {
	var c cli
	parser, err := kong.New(&c)
	if err != nil {
		t.Fatal(err)
	}
	flags := parser.Model.AllFlags(false)
	tests := []struct{ in, want string }{
		{"", ""},
		{"--status 500 f", "--status 500 -- f"},
		{"f --status 500", "--status 500 -- f"},
		{"Paris -c f g", "-c -- Paris f g"},
		{"--status=500 f", "--status=500 -- f"},
		{"-m 2 f", "-m 2 -- f"},
		{"-m2 f", "-m2 -- f"},
		{"-vm 2 f", "-vm 2 -- f"},
		{"-e -x f", "-e -x -- f"},
		{"--error f", "--error -- f"},
		{"--error client_cancelled f", "--error client_cancelled -- f"},
		{"--error=client_cancelled f", "--error=client_cancelled -- f"},
		{"--stream --no-stream -", "--stream --no-stream -- -"},
		{"a -- -b --c", "-- a -b --c"},
		{"--where a=1 -H", "--where a=1 -H"},
		{"--status", "--status"},
	}
	for _, tc := range tests {
		got := strings.Join(permute(strings.Fields(tc.in), flags), " ")
		if got != tc.want {
			t.Errorf("%q: %q, want %q", tc.in, got, tc.want)
		}
	}
}
