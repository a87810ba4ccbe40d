package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alecthomas/kong"

	"github.com/llmtap/llmtap/internal/fakeupstream"
	"github.com/llmtap/llmtap/pkg/clikit"
	"github.com/llmtap/llmtap/pkg/proxy"

	"github.com/llmtap/llmtap/internal/syncbuf"
)

// exited is what the test's kong exit function panics with, so that parsing
// stops where os.Exit would have ended the process.
type exited struct{ code int }

// parsed is the outcome of parsing one argument list.
type parsed struct {
	cli    cli
	stdout string
	stderr string
	code   int // -1: parsing went on (no exit)
}

// parse parses args as main does (kong.Parse is New, Parse, FatalIfErrorf),
// with buffers for stdout and stderr and an exit that panics.
func parse(t *testing.T, args ...string) parsed {
	t.Helper()
	var p parsed
	var out, errb bytes.Buffer
	p.code = -1
	parser, err := kong.New(&p.cli, clikit.Options("llmtap", description, version, &out, &errb, func(code int) { panic(exited{code}) })...)
	if err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				e, ok := r.(exited)
				if !ok {
					panic(r)
				}
				p.code = e.code
			}
		}()
		_, err := parser.Parse(args)
		parser.FatalIfErrorf(err)
	}()
	p.stdout, p.stderr = out.String(), errb.String()
	return p
}

// mustParse parses args that must be valid.
func mustParse(t *testing.T, args ...string) *cli {
	t.Helper()
	p := parse(t, args...)
	if p.code != -1 || p.stderr != "" || p.stdout != "" {
		t.Fatalf("parse %q: exit %d, stdout %q, stderr %q", args, p.code, p.stdout, p.stderr)
	}
	return &p.cli
}

// clearEnv unsets every LLMTAP_ variable for the test (and restores them
// after), so the tester's own environment cannot change the results.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "LLMTAP_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
}

func TestHelp(t *testing.T) {
	clearEnv(t)
	p := parse(t, "--help")
	if p.code != 0 || p.stderr != "" {
		t.Fatalf("--help: exit %d, stderr %q", p.code, p.stderr)
	}
	// Every flag the parser knows, so that a new flag is checked too.
	parser, err := kong.New(&cli{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range parser.Model.Flags {
		names = append(names, "--"+f.Name)
		for _, a := range f.Aliases {
			names = append(names, "--"+a)
		}
		if f.Short != 0 {
			names = append(names, "-"+string(f.Short))
		}
	}
	if len(names) < 13 {
		t.Fatalf("found only %d flags in the model: %q", len(names), names)
	}
	names = append(names, "--upstream-base-url", "$LLMTAP_UPSTREAM", "SIGHUP", "SIGTERM", "Exit status")
	for _, n := range names {
		if !strings.Contains(p.stdout, n) {
			t.Errorf("--help does not mention %s", n)
		}
	}
}

func TestVersion(t *testing.T) {
	clearEnv(t)
	p := parse(t, "--version")
	if p.code != 0 || p.stdout != "llmtap dev\n" || p.stderr != "" {
		t.Errorf("--version: exit %d, stdout %q, stderr %q", p.code, p.stdout, p.stderr)
	}
}

// TestUsageErrors: a bad command line exits 2 with one message on stderr
// and nothing at all on stdout (which may be feeding the next tool).
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // in the message
	}{
		{"unknown flag", []string{"--upstream", "http://u", "--bogus"}, "unknown flag --bogus"},
		{"missing upstream", nil, "--upstream"},
		{"bad max-body", []string{"--upstream", "http://u", "--max-body", "lots"}, "--max-body"},
		{"negative max-body", []string{"--upstream", "http://u", "--max-body", "-1"}, "--max-body"},
		{"bad upstream-timeout", []string{"--upstream", "http://u", "--upstream-timeout", "soon"}, "--upstream-timeout"},
		{"negative grace", []string{"--upstream", "http://u", "--grace", "-1s"}, "--grace"},
		{"negative connect-timeout", []string{"--upstream", "http://u", "--connect-timeout", "-1"}, "--connect-timeout"},
		{"negative header-timeout", []string{"--upstream", "http://u", "--header-timeout", "-1s"}, "--header-timeout"},
		{"negative upstream-timeout", []string{"--upstream", "http://u", "--upstream-timeout", "-5"}, "--upstream-timeout"},
		{"bad port", []string{"--upstream", "http://u", "--port", "http"}, "--port"},
		{"positional", []string{"--upstream", "http://u", "extra"}, "extra"},
		{"output and log-dir", []string{"--upstream", "http://u", "-o", "x.jsonl", "--log-dir", "d"}, "--log-dir"},
		{"bad upstream scheme", []string{"--upstream", "ftp://example.com/v1"}, "want an http:// or https:// URL"},
		{"upstream without host", []string{"--upstream", "http:///v1"}, "no host"},
		{"upstream not a URL", []string{"--upstream", "http://[::1"}, "--upstream"},
		{"relative upstream", []string{"--upstream", "api.openai.com/v1"}, "want an http:// or https:// URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			p := parse(t, tt.args...)
			if p.code != clikit.ExitUsage {
				t.Errorf("exit %d, want %d", p.code, clikit.ExitUsage)
			}
			if p.stdout != "" {
				t.Errorf("stdout should be empty, got %q", p.stdout)
			}
			if !strings.HasPrefix(p.stderr, "llmtap: error: ") || !strings.Contains(p.stderr, tt.want) {
				t.Errorf("stderr %q, want an error naming %s", p.stderr, tt.want)
			}
		})
	}
}

func TestFlags(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		clearEnv(t)
		c := mustParse(t, "--upstream", "http://u/v1")
		want := cli{
			Upstream:        "http://u/v1",
			Host:            "127.0.0.1",
			Port:            8000,
			UpstreamTimeout: clikit.Seconds(300 * time.Second),
			ConnectTimeout:  clikit.Seconds(10 * time.Second),
			HeaderTimeout:   clikit.Seconds(10 * time.Second),
			Grace:           clikit.Seconds(10 * time.Second),
			Output:          "-",
			MaxBody:         64 << 20,
		}
		if !reflect.DeepEqual(*c, want) {
			t.Errorf("got  %+v\nwant %+v", *c, want)
		}
	})
	t.Run("env upstream", func(t *testing.T) {
		clearEnv(t)
		t.Setenv("LLMTAP_UPSTREAM", "http://from-env/v1")
		if c := mustParse(t); c.Upstream != "http://from-env/v1" {
			t.Errorf("upstream %q", c.Upstream)
		}
		if c := mustParse(t, "--upstream", "http://flag"); c.Upstream != "http://flag" {
			t.Errorf("a flag should win over the environment, got %q", c.Upstream)
		}
	})
	t.Run("env others", func(t *testing.T) {
		clearEnv(t)
		t.Setenv("LLMTAP_HOST", "0.0.0.0")
		t.Setenv("LLMTAP_PORT", "9001")
		t.Setenv("LLMTAP_OUTPUT", "raw.jsonl")
		c := mustParse(t, "--upstream", "http://u")
		if c.Host != "0.0.0.0" || c.Port != 9001 || c.Output != "raw.jsonl" {
			t.Errorf("host %q, port %d, output %q", c.Host, c.Port, c.Output)
		}
	})
	t.Run("upstream-base-url alias", func(t *testing.T) {
		clearEnv(t)
		if c := mustParse(t, "--upstream-base-url", "http://old/v1"); c.Upstream != "http://old/v1" {
			t.Errorf("upstream %q", c.Upstream)
		}
		if c := mustParse(t, "--upstream-base-url=http://old/v1"); c.Upstream != "http://old/v1" {
			t.Errorf("upstream %q", c.Upstream)
		}
	})
	t.Run("bare seconds", func(t *testing.T) {
		clearEnv(t)
		a := mustParse(t, "--upstream", "http://u", "--upstream-timeout", "300", "--grace", "2.5", "--connect-timeout", "0")
		b := mustParse(t, "--upstream", "http://u", "--upstream-timeout", "300s", "--grace", "2500ms", "--connect-timeout", "0s")
		if a.UpstreamTimeout != b.UpstreamTimeout || a.UpstreamTimeout.Duration() != 300*time.Second {
			t.Errorf("--upstream-timeout 300 = %v, 300s = %v", a.UpstreamTimeout.Duration(), b.UpstreamTimeout.Duration())
		}
		if a.Grace != b.Grace || a.ConnectTimeout != b.ConnectTimeout {
			t.Errorf("grace %v vs %v, connect %v vs %v", a.Grace.Duration(), b.Grace.Duration(), a.ConnectTimeout.Duration(), b.ConnectTimeout.Duration())
		}
	})
	t.Run("sizes and lists", func(t *testing.T) {
		clearEnv(t)
		c := mustParse(t, "--upstream", "http://u", "--max-body", "1GB", "--redact-header", "X-A,B", "--redact-header", "X-C", "-o", "f.jsonl", "--fsync")
		if c.MaxBody != 1_000_000_000 || !reflect.DeepEqual(c.RedactHeader, []string{"X-A,B", "X-C"}) || c.Output != "f.jsonl" || !c.Fsync {
			t.Errorf("max-body %d, redact %q, output %q, fsync %v", c.MaxBody, c.RedactHeader, c.Output, c.Fsync)
		}
	})
	t.Run("log-dir alone", func(t *testing.T) {
		clearEnv(t)
		if c := mustParse(t, "--upstream", "http://u", "--log-dir", "logs"); c.LogDir != "logs" || c.Output != "-" {
			t.Errorf("log-dir %q, output %q", c.LogDir, c.Output)
		}
	})
}

// TestZeroMeansNoLimit: 0 given to any of the four limits reaches the tap
// and the server as zero, which both read as no limit.
func TestZeroMeansNoLimit(t *testing.T) {
	clearEnv(t)
	c := mustParse(t, "--upstream", "http://u/v1", "--max-body", "0", "--connect-timeout", "0",
		"--upstream-timeout", "0", "--header-timeout", "0")
	cfg := c.tapConfig(proxy.LineSink{}, nil)
	if cfg.MaxBody != 0 || cfg.ConnectTimeout != 0 || cfg.IdleTimeout != 0 {
		t.Errorf("tap config: max body %d, connect %v, idle %v; want zeros", cfg.MaxBody, cfg.ConnectTimeout, cfg.IdleTimeout)
	}
	tap, err := proxy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if srv := c.server(tap, "stdout", nil, context.Background()); srv.ReadHeaderTimeout != 0 || srv.ReadTimeout != 0 {
		t.Errorf("server: header timeout %v, read timeout %v; want none", srv.ReadHeaderTimeout, srv.ReadTimeout)
	}
}

// runResult is what c.run returned, with what it wrote.
type runResult struct {
	code           int
	stdout, stderr string
}

// runSync runs c and expects it to return soon (an error path).
func runSync(t *testing.T, c *cli) runResult {
	t.Helper()
	var out, errb syncbuf.Buffer
	done := make(chan int, 1)
	go func() { done <- c.run(&out, &errb, make(chan os.Signal)) }()
	select {
	case code := <-done:
		return runResult{code, out.String(), errb.String()}
	case <-time.After(5 * time.Second):
		t.Fatalf("run did not return; stderr %q", errb.String())
		return runResult{}
	}
}

func TestRunErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		args []string
		want []string // in stderr
	}{
		{"port in use", []string{"--upstream", "http://127.0.0.1:1/v1", "--port", busyPort}, []string{"address already in use"}},
		{"host not ours", []string{"--upstream", "http://127.0.0.1:1/v1", "--host", "192.0.2.1"}, []string{"192.0.2.1"}}, // TEST-NET-1
		{"output in missing dir", []string{"--upstream", "http://127.0.0.1:1/v1", "-o", filepath.Join(notDir, "x", "out.jsonl")}, []string{"open output"}},
		{"log-dir not creatable", []string{"--upstream", "http://127.0.0.1:1/v1", "--log-dir", filepath.Join(notDir, "logs")}, []string{"--log-dir"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			args := tt.args
			if !slices.Contains(args, "--port") {
				args = append(args, "--port", "0")
			}
			c := mustParse(t, args...)
			r := runSync(t, c)
			if r.code != clikit.ExitFailure {
				t.Errorf("exit %d, want %d", r.code, clikit.ExitFailure)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			if !strings.HasPrefix(r.stderr, "llmtap: ") || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("stderr %q, want one line starting llmtap: ", r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not mention %q", r.stderr, w)
				}
			}
		})
	}
}

// waitFor polls cond until it holds, or fails the test after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// listenBase waits for the first line run writes on errb, "llmtap:
// listening on URL", and returns the URL ("" when the line says otherwise).
func listenBase(t *testing.T, errb *syncbuf.Buffer) string {
	t.Helper()
	var base string
	waitFor(t, 5*time.Second, "the listening line", func() bool {
		line, _, ok := strings.Cut(errb.String(), "\n")
		base, _ = strings.CutPrefix(line, "llmtap: listening on ")
		return ok
	})
	return base
}

// TestRun serves in-process (under the race detector when the tests are)
// with records on stdout: a request, SIGHUP (stdout is kept open), another
// request, SIGTERM, exit 0 with both records and nothing else on stdout.
func TestRun(t *testing.T) {
	clearEnv(t)
	up := httptest.NewServer(fakeupstream.New(fakeupstream.Options{}))
	defer up.Close()
	c := mustParse(t, "--upstream", up.URL+"/v1", "--port", "0", "--fsync")
	var out, errb syncbuf.Buffer
	sigs := make(chan os.Signal, 4)
	done := make(chan int, 1)
	go func() { done <- c.run(&out, &errb, sigs) }()
	base := listenBase(t, &errb)
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("first stderr line: %q", errb.String())
	}
	client := &http.Client{Timeout: 5 * time.Second}
	get := func(path string) {
		t.Helper()
		res, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: %s", path, res.Status)
		}
	}
	get("/v1/models?n=1")
	waitFor(t, 5*time.Second, "the first record", func() bool { return strings.Count(out.String(), "\n") == 1 })
	sigs <- syscall.SIGHUP
	get("/models?n=2")
	sigs <- syscall.SIGTERM
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d; stderr:\n%s", code, errb.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return after SIGTERM")
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("stdout has %d lines, want 2:\n%s", len(lines), out.String())
	}
	for i, line := range lines {
		var rec struct {
			Query       string
			UpstreamURL string `json:"upstream_url"`
			Response    struct{ Status int }
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		n := strconv.Itoa(i + 1)
		if !strings.HasSuffix(rec.UpstreamURL, "/v1/models?n="+n) || rec.Query != "n="+n || rec.Response.Status != 200 {
			t.Errorf("record %d: %+v", i+1, rec)
		}
	}
	if !strings.Contains(errb.String(), "recording to stdout") {
		t.Errorf("stderr does not say where records go:\n%s", errb.String())
	}
}

// TestRunOutputFails: a record that cannot be written ends run with exit 1
// and the reason on stderr.
func TestRunOutputFails(t *testing.T) {
	clearEnv(t)
	up := httptest.NewServer(fakeupstream.New(fakeupstream.Options{}))
	defer up.Close()
	c := mustParse(t, "--upstream", up.URL+"/v1", "--port", "0")
	var errb syncbuf.Buffer
	done := make(chan int, 1)
	go func() { done <- c.run(failingWriter{}, &errb, make(chan os.Signal)) }()
	base := listenBase(t, &errb)
	if res, err := (&http.Client{Timeout: 5 * time.Second}).Get(base + "/v1/models"); err == nil {
		res.Body.Close()
	}
	select {
	case code := <-done:
		if code != clikit.ExitFailure {
			t.Errorf("exit %d, want %d", code, clikit.ExitFailure)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not stop after the output failed")
	}
	if !strings.Contains(errb.String(), "pipe is broken") {
		t.Errorf("stderr does not give the reason:\n%s", errb.String())
	}
}

// failingWriter is a stdout whose every write fails.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("pipe is broken") }
