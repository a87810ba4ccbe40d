package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/llmtap/llmtap/internal/syncbuf"
)

// waitFor polls cond until it holds, failing the test after patience.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// hangingRecords is n chat records to replay against an upstream that
// never finishes its answers.
func hangingRecords(t *testing.T, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"v":1,"id":"h%03d","start":"2026-01-01T00:00:00Z","method":"POST","path":"/v1/chat/completions","request":{"headers":{"content-type":"application/json"},"body":{"model":"m","stream":true},"body_encoding":"json","body_bytes":26}}`+"\n", i)
	}
	path := filepath.Join(t.TempDir(), "in.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestE2ESignals(t *testing.T) {
	dir := binaries(t)
	for _, tt := range []struct {
		name   string
		grace  string
		second bool
	}{
		{"grace runs out", "100ms", false},
		{"second signal cuts at once", "1h", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var arrived atomic.Int64
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "text/event-stream")
				_, _ = io.WriteString(w, "data: {}\n\n")
				w.(http.Flusher).Flush()
				arrived.Add(1)
				<-r.Context().Done()
			}))
			defer up.Close()
			out := filepath.Join(t.TempDir(), "out.jsonl")
			cmd := exec.Command(filepath.Join(dir, "llmreplay"), "--target", up.URL, "--rate", "200", "--loop", "--count", "100000",
				"--grace", tt.grace, "-o", out, hangingRecords(t, 20))
			var stderr syncbuf.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			t.Cleanup(func() { _ = cmd.Process.Kill() })

			waitFor(t, "five requests at the upstream", func() bool { return arrived.Load() >= 5 })
			_ = cmd.Process.Signal(syscall.SIGINT)
			if tt.second {
				waitFor(t, "the first signal noted", func() bool { return strings.Contains(stderr.String(), "stopped sending") })
				_ = cmd.Process.Signal(syscall.SIGTERM)
			}
			select {
			case err := <-exited:
				if err != nil {
					t.Fatalf("exit: %v; stderr:\n%s", err, stderr.String())
				}
			case <-time.After(patience):
				t.Fatalf("still running; stderr:\n%s", stderr.String())
			}

			m := regexp.MustCompile(`sent (\d+) `).FindStringSubmatch(stderr.String())
			if m == nil {
				t.Fatalf("no summary; stderr:\n%s", stderr.String())
			}
			sent, _ := strconv.Atoi(m[1])
			recs := readRecords(t, out)
			if len(recs) != sent || sent < 5 {
				t.Fatalf("%d records for %d sent; stderr:\n%s", len(recs), sent, stderr.String())
			}
			for _, r := range recs {
				if r.Replay == nil || r.Error == nil || r.Error.Kind != "shutdown" {
					t.Errorf("record %s: error %+v replay %+v", r.ID, r.Error, r.Replay)
				}
			}
		})
	}
}

// TestE2EQueueRecorded: with a cap, a target slower than the schedule makes
// requests wait for a slot, and the records say so. Each answer takes 50 ms
// and one is due every 10 ms with one slot, so every request after the
// first must wait, however fast the machine.
func TestE2EQueueRecorded(t *testing.T) {
	dir := binaries(t)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		time.Sleep(50 * time.Millisecond)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{}`)
	}))
	defer up.Close()
	out := filepath.Join(t.TempDir(), "out.jsonl")
	cmd := exec.Command(filepath.Join(dir, "llmreplay"), "-q", "--target", up.URL, "--rate", "100", "--concurrency", "1",
		"--loop", "--count", "5", "-o", out, hangingRecords(t, 1))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	recs := readRecords(t, out)
	if len(recs) != 5 {
		t.Fatalf("%d records", len(recs))
	}
	queued := 0
	for _, r := range recs {
		if r.Replay == nil || r.Replay.QueuedMS == nil {
			t.Fatalf("record %s: no queued_ms: %+v", r.ID, r.Replay)
		}
		if *r.Replay.QueuedMS > 0 {
			queued++
		}
		if r.Replay.LagMS < *r.Replay.QueuedMS {
			t.Errorf("record %s: lag %v ms < queued %v ms", r.ID, r.Replay.LagMS, *r.Replay.QueuedMS)
		}
	}
	if queued < 4 {
		t.Errorf("%d of 5 records waited for a slot, want at least 4", queued)
	}
}
