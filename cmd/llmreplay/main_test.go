package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// The command-line promises are testscript files (testdata/script); these
// are the checks a script cannot express.

// runCLI runs llmreplay in-process.
func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb, make(chan os.Signal))
	return out.String(), errb.String(), code
}

// TestRunShardsCoverInput: the shards of a file are disjoint and together
// hold every record.
func TestRunShardsCoverInput(t *testing.T) {
	seen := map[string]int{}
	for _, shard := range []string{"1/3", "2/3", "3/3"} {
		stdout, stderr, code := runCLI(t, "", "--target", "http://127.0.0.1:9", "--dry-run", "--all", "--shard", shard, "testdata/records.jsonl")
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
