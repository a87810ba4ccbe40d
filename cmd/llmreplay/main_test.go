package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/llmtap/llmtap/pkg/clikit"
)

// runCLI runs llmreplay in-process.
func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb, make(chan os.Signal))
	return out.String(), errb.String(), code
}

const records = "testdata/records.jsonl"

func TestRunTable(t *testing.T) {
	target := "http://127.0.0.1:9/v1"
	for _, tt := range []struct {
		name   string
		args   []string
		stdin  string
		code   int
		stdout string   // exact, when set
		stderr []string // substrings
	}{
		{name: "no target", args: []string{records}, code: clikit.ExitUsage, stderr: []string{"--target"}},
		{name: "bad target", args: []string{"--target", "ftp://x", records}, code: clikit.ExitUsage, stderr: []string{"--target"}},
		{name: "speed and rate", args: []string{"--target", target, "--speed", "2", "--rate", "3"}, code: clikit.ExitUsage, stderr: []string{"give one"}},
		{name: "burstiness alone", args: []string{"--target", target, "--burstiness", "1"}, code: clikit.ExitUsage, stderr: []string{"--burstiness needs --rate"}},
		{name: "loop alone", args: []string{"--target", target, "--loop"}, code: clikit.ExitUsage, stderr: []string{"--loop needs"}},
		{name: "bad shard", args: []string{"--target", target, "--shard", "3/2"}, code: clikit.ExitUsage, stderr: []string{"--shard"}},
		{name: "bad header", args: []string{"--target", target, "-H", "NoColon"}, code: clikit.ExitUsage, stderr: []string{"-H"}},
		{name: "bad set", args: []string{"--target", target, "--set", "novalue"}, code: clikit.ExitUsage, stderr: []string{"--set"}},
		{name: "missing file", args: []string{"--target", target, "--dry-run", "nonexistent.jsonl"}, code: clikit.ExitUsage},
		{
			name: "dry run: original pacing in start order, policy, truncated, masked",
			args: []string{"--target", target, "--dry-run", records},
			stdout: "0.000000\tPOST\thttp://127.0.0.1:9/v1/chat/completions\t32\n" +
				"1.000000\tPOST\thttp://127.0.0.1:9/v1/v1beta/models/gemini-2.5-flash:generateContent\t15\n" +
				"4.000000\tPOST\thttp://127.0.0.1:9/v1/messages\t33\n",
			stderr: []string{"authorization is masked", "query parameter key is masked", "x-api-key is masked", "records.jsonl:4: skipped record r4: its request body",
				"dry run: would send 3; skipped 1 by endpoint policy, 1 truncated"},
		},
		{
			name:   "dry run from stdin, speed, --all, --param masked in the URL",
			args:   []string{"--target", target, "--dry-run", "--speed", "2", "--all", "--param", "key=SECRETKEY0123456789", "-H", "Authorization: Bearer x", "-H", "X-Api-Key: y"},
			stdin:  mustRead(t, records),
			stdout: "0.000000\tPOST\thttp://127.0.0.1:9/v1/chat/completions?key=[REDACTED]…6789\t32\n0.500000\tPOST\thttp://127.0.0.1:9/v1/v1beta/models/gemini-2.5-flash:generateContent?key=[REDACTED]…6789\t15\n1.000000\tGET\thttp://127.0.0.1:9/v1/models?key=[REDACTED]…6789\t0\n2.000000\tPOST\thttp://127.0.0.1:9/v1/messages?key=[REDACTED]…6789\t33\n",
		},
		{
			name:   "dry run: rate, count, model",
			args:   []string{"--target", target, "--dry-run", "--rate", "4", "--loop", "--count", "4", "--model", "m2", records},
			stdout: "0.000000\tPOST\thttp://127.0.0.1:9/v1/chat/completions\t28\n0.250000\tPOST\thttp://127.0.0.1:9/v1/v1beta/models/m2:generateContent\t15\n0.500000\tPOST\thttp://127.0.0.1:9/v1/messages\t29\n0.750000\tPOST\thttp://127.0.0.1:9/v1/chat/completions\t28\n",
		},
		{
			name:   "dry run: closed loop",
			args:   []string{"--target", target, "--dry-run", "--concurrency", "2", records},
			stdout: "+\tPOST\thttp://127.0.0.1:9/v1/chat/completions\t32\n+\tPOST\thttp://127.0.0.1:9/v1/v1beta/models/gemini-2.5-flash:generateContent\t15\n+\tPOST\thttp://127.0.0.1:9/v1/messages\t33\n",
		},
		{
			name:   "a line that is not a record: exit 1, the rest still read",
			args:   []string{"--target", target, "--dry-run"},
			stdin:  "not json\n" + strings.SplitAfter(mustRead(t, records), "\n")[0],
			code:   clikit.ExitFailure,
			stdout: "0.000000\tPOST\thttp://127.0.0.1:9/v1/chat/completions\t32\n",
			stderr: []string{"stdin:1: skipped: not JSON"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, tt.stdin, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
			if tt.stdout != "" && stdout != tt.stdout {
				t.Errorf("stdout\n%s\nwant\n%s", stdout, tt.stdout)
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
		})
	}
}

func TestRunShardsCoverInput(t *testing.T) {
	seen := map[string]int{}
	for _, shard := range []string{"1/3", "2/3", "3/3"} {
		stdout, stderr, code := runCLI(t, "", "--target", "http://127.0.0.1:9", "--dry-run", "--all", "--shard", shard, records)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
			if line != "" {
				seen[strings.Join(strings.Split(line, "\t")[1:3], " ")]++
			}
		}
	}
	if len(seen) != 4 {
		t.Errorf("shards cover %d requests, want 4: %v", len(seen), seen)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s in %d shards", k, n)
		}
	}
}

func mustRead(t *testing.T, name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRunOutputFails: a record that cannot be written ends llmreplay with
// status 1 and a message, not silently.
func TestRunOutputFails(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	// Port 9 (discard) on loopback refuses at once: an upstream_unreachable record.
	_, stderr, code := runCLI(t, "", "--target", "http://127.0.0.1:9", "-o", "/dev/full", records)
	if code != clikit.ExitFailure || !strings.Contains(stderr, "no space left on device") {
		t.Errorf("exit %d, want 1 with the write error; stderr:\n%s", code, stderr)
	}
}
