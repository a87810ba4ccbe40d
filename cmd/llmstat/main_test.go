package main

import (
	"bytes"
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmtap/llmtap/internal/syncbuf"
	"github.com/llmtap/llmtap/pkg/statcli"
)

// rec is one record line: start is seconds after a fixed time.
func rec(id string, start, durMS, ttfbMS float64, model string, status int, errKind string) string {
	t := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC).Add(time.Duration(start * float64(time.Second)))
	var b strings.Builder
	fmt.Fprintf(&b, `{"v":1,"id":%q,"start":%q,"duration_ms":%v,"ttfb_ms":%v,"method":"POST","path":"/v1/chat/completions",`,
		id, t.Format(time.RFC3339Nano), durMS, ttfbMS)
	fmt.Fprintf(&b, `"request":{"body":{"model":%q},"body_encoding":"json"}`, model)
	if status > 0 {
		fmt.Fprintf(&b, `,"response":{"status":%d}`, status)
	}
	if errKind != "" {
		fmt.Fprintf(&b, `,"error":{"kind":%q,"message":"x"}`, errKind)
	}
	b.WriteString("}\n")
	return b.String()
}

// lines returns n records with durations base, base+step, …
func lines(n int, base, step float64) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(rec(fmt.Sprintf("r%d", i), float64(i)/10, base+float64(i)*step, 5, "m", 200, ""))
	}
	return b.String()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	base := writeFile(t, dir, "base.jsonl", lines(10, 100, 1))     // e2el 100..109
	slower := writeFile(t, dir, "slower.jsonl", lines(10, 120, 1)) // 20% slower
	same := writeFile(t, dir, "same.jsonl", lines(10, 101, 1))     // 1% slower
	mixed := writeFile(t, dir, "mixed.jsonl", rec("a", 0, 100, 5, "m", 200, "")+
		"not json\n"+rec("b", 1, 300, 5, "m", 500, "")+rec("c", 2, 50, 0, "", 0, "upstream_unreachable"))
	empty := writeFile(t, dir, "empty.jsonl", "")

	tests := []struct {
		name       string
		args       []string
		stdin      string
		code       int
		stdout     []string // substrings
		noStdout   bool
		stderr     []string
		noStderr   bool
		exactLines int // when > 0, stdout has this many lines
	}{
		{name: "table", args: []string{"--by", "path", base}, stdout: []string{" path=/v1/chat/completions ", "Successful requests:", "P99 E2EL (ms):", "108.91"}, noStderr: true},
		{name: "stdin", args: []string{"--json", "--by", "path"}, stdin: lines(3, 10, 0), stdout: []string{`{"path":"/v1/chat/completions","completed":3,`}, exactLines: 1},
		{name: "json keys as vLLM", args: []string{"--json", "--by", "none", base},
			stdout: []string{`"completed":10`, `"failed":0`, `"mean_e2el_ms":104.5`, `"median_e2el_ms":104.5`, `"p99_e2el_ms":108.91`, `"max_e2el_ms":109`, `"error_rate":0`}, exactLines: 1},
		{name: "percentiles", args: []string{"--json", "--percentiles", "25,99.9", base}, stdout: []string{`"p25_e2el_ms":102.25`, `"p99.9_e2el_ms":108.991`}},
		{name: "csv", args: []string{"--csv", "--by", "path", base}, stdout: []string{"path,completed,failed,duration_s", "\n/v1/chat/completions,10,0,"}, exactLines: 2},
		{name: "bad line", args: []string{"--json", "--by", "status", mixed}, code: 1,
			stderr: []string{"mixed.jsonl:2: "}, stdout: []string{`"status_code":200`, `"status_code":500`, `"status_code":null`, `"errors":{"upstream_unreachable":1}`}, exactLines: 3},
		{name: "empty", args: []string{empty}, stderr: []string{"no records"}, noStdout: true},
		{name: "empty json", args: []string{"--json"}, stdin: "\n", stderr: []string{"no records"}, noStdout: true},
		{name: "unreadable", args: []string{filepath.Join(dir, "missing.jsonl")}, code: 2, stderr: []string{"missing.jsonl"}, noStdout: true},
		{name: "bad flag", args: []string{"--by", "colour", base}, code: 2, stderr: []string{"unknown group key"}, noStdout: true},
		{name: "fail-on without baseline", args: []string{"--fail-on", "p99_ttft_ms>+10%", base}, code: 2, stderr: []string{"needs --baseline"}},
		{name: "fail-on unknown metric", args: []string{"--baseline", base, "--fail-on", "p99_tft_ms>+10%", base}, code: 2, stderr: []string{"unknown metric"}},
		{name: "json and csv", args: []string{"--json", "--csv", base}, code: 2},
		{name: "goodput", args: []string{"--json", "--goodput", "e2el:104.5", base}, stdout: []string{`"goodput_share":0.5`}},
		{name: "bad goodput", args: []string{"--goodput", "ttft=5", base}, code: 2, stderr: []string{"NAME:MILLISECONDS"}},
		{name: "rows", args: []string{"--rows", mixed}, code: 1, exactLines: 3,
			stdout: []string{`{"id":"a","start":"2026-12-01T10:00:00Z",`, `"path":"/v1/chat/completions",`, `"status":200,"failed":false,"ttfb_ms":5,`, `"e2el_ms":100,`, `"id":"c"`, `"error":"upstream_unreachable","failed":true`}},
		{name: "rows csv", args: []string{"--rows", "--csv", base}, exactLines: 11, stdout: []string{"id,start,model,path,api,status,error,failed,ttfb_ms,ttft_ms", "\nr0,2026-12-01T10:00:00Z,", ",/v1/chat/completions,", ",200,,false,5,"}},
		{name: "rows with baseline", args: []string{"--rows", "--baseline", base, base}, code: 2},

		{name: "baseline breach", args: []string{"--by", "path", "--baseline", base, "--fail-on", "p99_e2el_ms>+10%", slower}, code: 1,
			stdout: []string{"p99_e2el_ms", "108.91", "128.91", "+20.00", "+18.4%"}, stderr: []string{"path=/v1/chat/completions: p99_e2el_ms>+10% breached: baseline 108.91, now 128.91 (+20, +18.363787%)"}},
		{name: "baseline no breach", args: []string{"--baseline", base, "--fail-on", "p99_e2el_ms>+10%", "--fail-on", "error_rate>+0.005", same}, stdout: []string{"mean_e2el_ms"}, noStderr: true},
		{name: "baseline absolute", args: []string{"--baseline", base, "--fail-on", "mean_e2el_ms>=+20", slower}, code: 1, stderr: []string{"breached"}},
		{name: "baseline drop", args: []string{"--baseline", slower, "--fail-on", "request_throughput<-5%", base}, noStderr: true},
		{name: "baseline json", args: []string{"--json", "--by", "path", "--baseline", base, same},
			stdout: []string{`{"path":"/v1/chat/completions","metric":"max_e2el_ms","baseline":109,"now":110,"change":1,"change_pct":0.917431}`}},
		{name: "baseline metric nowhere", args: []string{"--baseline", base, "--fail-on", "p99_lag_ms>+10%", same}, code: 1, stderr: []string{"could not be checked"}},
		{name: "baseline other group", args: []string{"--baseline", base, "--by", "status", mixed}, code: 1, stderr: []string{"status_code=500: not in the baseline"}},
		{name: "baseline only group", args: []string{"--baseline", mixed, "--by", "status", base}, code: 1, stderr: []string{"status_code=500: only in the baseline"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, strings.NewReader(tt.stdin), &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstderr: %s", code, tt.code, stderr.String())
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout.String())
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr.String())
				}
			}
			if tt.noStdout && stdout.Len() > 0 {
				t.Errorf("stdout not empty:\n%s", stdout.String())
			}
			if tt.noStderr && stderr.Len() > 0 {
				t.Errorf("stderr not empty:\n%s", stderr.String())
			}
			if n := strings.Count(stdout.String(), "\n"); tt.exactLines > 0 && n != tt.exactLines {
				t.Errorf("%d lines, want %d:\n%s", n, tt.exactLines, stdout.String())
			}
		})
	}
}

func TestPlot(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "in.jsonl", lines(200, 50, 0.5))
	for _, name := range []string{"p.png", "p.svg"} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(dir, name)
			var stdout, stderr bytes.Buffer
			if code := run([]string{"--plot", out, in}, nil, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			f, err := os.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if name == "p.png" {
				img, err := png.Decode(f)
				if err != nil {
					t.Fatal(err)
				}
				if b := img.Bounds(); b.Dx() < 800 || b.Dy() < 600 {
					t.Errorf("png is %dx%d, want at least 800x600", b.Dx(), b.Dy())
				}
				return
			}
			data, _ := io.ReadAll(f)
			s := string(data)
			if !strings.HasPrefix(s, "<?xml") || !strings.Contains(s, "<svg") || !strings.HasSuffix(strings.TrimSpace(s), "</svg>") {
				t.Errorf("not an SVG: %.200s", s)
			}
			for _, want := range []string{"End-to-end latency", "CDF of time to first token", "p50 and p99 (dashed) per"} {
				if !strings.Contains(s, want) {
					t.Errorf("SVG lacks %q", want)
				}
			}
		})
	}
	var stderr bytes.Buffer
	if code := run([]string{"--plot", filepath.Join(dir, "p.gif"), in}, nil, io.Discard, &stderr); code != 2 {
		t.Errorf("--plot p.gif: exit %d, want 2", code)
	}
}

// --every prints the results so far at each tick and the final ones at
// the end. The ticker is the test's: each tick is a send on an unbuffered
// channel, which returns once llmstat has taken it, and a write to the
// input pipe returns once llmstat has read the bytes before it.
func TestEvery(t *testing.T) {
	ticks := make(chan time.Time)
	pr, pw := io.Pipe()
	var stdout, stderr syncbuf.Buffer
	opts := statcli.Options{Format: statcli.JSON, Every: time.Second,
		NewTicker: func(time.Duration) (<-chan time.Time, func()) { return ticks, func() {} }}
	opts.Stats.By = nil
	done := make(chan int)
	go func() { done <- statcli.Run(opts, pr, &stdout, &stderr) }()

	ticks <- time.Time{} // nothing read yet: prints nothing
	io.WriteString(pw, rec("a", 0, 100, 5, "m", 200, ""))
	io.WriteString(pw, "\n") // returns once the record above was handled
	ticks <- time.Time{}
	ticks <- time.Time{} // returns once the first tick's output is written
	ticks <- time.Time{} // and this once the second's is; its own may be half written
	if got := strings.Count(stdout.String(), `"completed":1,`); got < 2 {
		t.Errorf("after two ticks: %d results with one request, want 2 (or 3):\n%s", got, stdout.String())
	}
	io.WriteString(pw, rec("b", 1, 100, 5, "m", 200, ""))
	pw.Close()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.HasSuffix(stdout.String(), "}\n") || !strings.Contains(stdout.String(), `"completed":2,`) {
		t.Errorf("no final result:\n%s", stdout.String())
	}
}

// A reader of stdout that goes away ends llmstat quietly.
func TestBrokenPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	var stderr bytes.Buffer
	code := run([]string{"--rows"}, strings.NewReader(lines(2000, 1, 0)), w, &stderr)
	w.Close()
	if code != 1 || stderr.Len() != 0 {
		t.Errorf("exit %d, stderr %q; want 1 and nothing", code, stderr.String())
	}
}
