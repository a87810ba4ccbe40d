package main

// The tools together, as the README composes them: the real binaries
// joined by pipes, against fake upstreams whose speed the test sets. The
// tests compare numbers that differ by construction (a delay the upstream
// adds, a queue the schedule must build), never a number with the clock.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmtap/llmtap/internal/fakeupstream"
	"github.com/llmtap/llmtap/internal/testbin"
)

// pipe runs cmds as a shell pipeline (each one's stdout is the next one's
// stdin) and returns the last one's stdout, and every one's stderr and exit
// status.
func pipe(t *testing.T, cmds ...*exec.Cmd) (stdout string, stderr []string, codes []int) {
	t.Helper()
	errs := make([]*bytes.Buffer, len(cmds))
	for i, c := range cmds {
		errs[i] = &bytes.Buffer{}
		c.Stderr = errs[i]
		if i > 0 {
			r, err := cmds[i-1].StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			c.Stdin = r
		}
	}
	var out bytes.Buffer
	cmds[len(cmds)-1].Stdout = &out
	for _, c := range cmds {
		if err := c.Start(); err != nil {
			t.Fatalf("%s: %v", c.Path, err)
		}
	}
	// Only a broken pipeline comes near this; each process by its pid.
	watchdog := time.AfterFunc(3*patience, func() {
		for _, c := range cmds {
			_ = c.Process.Kill()
		}
	})
	defer watchdog.Stop()
	for i, c := range cmds {
		code, err := testbin.ExitStatus(c.Wait())
		if err != nil {
			t.Fatalf("%s: %v", c.Path, err)
		}
		codes = append(codes, code)
		stderr = append(stderr, errs[i].String())
	}
	return out.String(), stderr, codes
}

// tool is the command for one of the built binaries.
func tool(t *testing.T, name string, args ...string) *exec.Cmd {
	return exec.Command(filepath.Join(binaries(t), name), args...)
}

// tee is the system's tee, as a pipeline stage.
func tee(t *testing.T, file string) *exec.Cmd {
	path, err := exec.LookPath("tee")
	if err != nil {
		t.Skip("no tee command")
	}
	return exec.Command(path, file)
}

// delayed is fakeupstream behind a fixed delay before each answer, and
// behind one slot when single is set: one request is answered at a time, so
// each request also waits for those ahead of it, and the upstream gets
// slower the more requests are in flight.
func delayed(t *testing.T, delay time.Duration, single bool) *httptest.Server {
	fake := fakeupstream.New(fakeupstream.Options{})
	var slot sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if single {
			slot.Lock()
			defer slot.Unlock()
		}
		time.Sleep(delay)
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// stat is one llmstat --json result.
type stat map[string]any

func (s stat) num(t *testing.T, key string) float64 {
	t.Helper()
	v, ok := s[key].(float64)
	if !ok {
		t.Fatalf("llmstat --json has no %s: %v", key, s)
	}
	return v
}

// parseStat reads the single line of llmstat --json --by none.
func parseStat(t *testing.T, out string) stat {
	t.Helper()
	var s stat
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &s); err != nil {
		t.Fatalf("llmstat --json: %v\n%s", err, out)
	}
	return s
}

// TestE2EFromSchedule: llmreplay into llmstat --from-schedule, against an
// upstream that answers one request at a time (10 ms each), at 1,000
// requests a second with at most 4 in flight. Request k (from 0) is due at
// k ms, but request k ≥ 4 can only be sent once request k−4 has ended,
// after at least (k−3)·10 ms, so it is sent late however fast the machine:
// measured from the scheduled send, latency is larger than measured from
// the actual send, by the lag llmstat reports.
func TestE2EFromSchedule(t *testing.T) {
	const requests = 12
	up := delayed(t, 10*time.Millisecond, true)
	in := chatRecords(t, 1)
	replayedFile := filepath.Join(t.TempDir(), "replayed.jsonl")

	out, stderr, codes := pipe(t,
		tool(t, "llmreplay", "-q", "--target", up.URL+"/v1", "--rate", "1000", "--concurrency", "4",
			"--loop", "--count", fmt.Sprint(requests), in),
		tee(t, replayedFile),
		tool(t, "llmstat", "--from-schedule", "--json", "--by", "none"))
	for i, c := range codes {
		if c != 0 {
			t.Fatalf("stage %d exited %d; stderr:\n%s", i, c, strings.Join(stderr, "\n"))
		}
	}
	corrected := parseStat(t, out)
	plain, err := tool(t, "llmstat", "--json", "--by", "none", replayedFile).Output()
	if err != nil {
		t.Fatalf("llmstat: %v", err)
	}
	sent := parseStat(t, string(plain))

	if n := corrected.num(t, "completed"); n != requests {
		t.Fatalf("completed %v, want %d", n, requests)
	}
	if q := corrected.num(t, "max_queued_ms"); q <= 0 {
		t.Errorf("max_queued_ms %v: no request waited for a slot", q)
	}
	lag := corrected.num(t, "mean_lag_ms")
	for _, m := range []string{"e2el", "ttft", "ttfb"} {
		c, s := corrected.num(t, "mean_"+m+"_ms"), sent.num(t, "mean_"+m+"_ms")
		if c <= s {
			t.Errorf("mean %s: %.3f ms from the schedule, %.3f ms from the send; want the first larger", m, c, s)
		}
		// Each request moves by its own lag, so the means move by the mean lag.
		if math.Abs((c-s)-lag) > 0.01 {
			t.Errorf("mean %s: from the schedule %.3f ms − from the send %.3f ms = %.3f ms, want the mean lag %.3f ms",
				m, c, s, c-s, lag)
		}
		for _, st := range []string{"p99", "max"} {
			k := st + "_" + m + "_ms"
			if c, s := corrected.num(t, k), sent.num(t, k); c < s {
				t.Errorf("%s: %.3f ms from the schedule < %.3f ms from the send", k, c, s)
			}
		}
	}
	t.Logf("mean e2el from the send %.1f ms, from the schedule %.1f ms; p99 %.1f and %.1f ms; mean lag %.1f ms",
		sent.num(t, "mean_e2el_ms"), corrected.num(t, "mean_e2el_ms"),
		sent.num(t, "p99_e2el_ms"), corrected.num(t, "p99_e2el_ms"), lag)
}

// chatRecords writes n records of a plain chat request and returns the file.
func chatRecords(t *testing.T, n int) string {
	const body = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello."}]}`
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"v":1,"id":"c%03d","start":"2026-01-01T00:00:00Z","method":"POST","path":"/v1/chat/completions",`+
			`"request":{"headers":{"content-type":"application/json"},"body":%s,"body_encoding":"json","body_bytes":%d}}`+"\n",
			i, body, len(body))
	}
	path := filepath.Join(t.TempDir(), "chat.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// recordStreams runs llmtap in front of up and sends n streamed chat
// requests through it, and one that the upstream fails with a 500, and
// returns the records file.
func recordStreams(t *testing.T, up *httptest.Server, n int) string {
	out := filepath.Join(t.TempDir(), "raw.jsonl")
	throughTap(t, up.URL, out, func(base string) {
		client := &http.Client{Timeout: patience}
		post := func(status string) {
			req, err := http.NewRequest("POST", base+"/v1/chat/completions", strings.NewReader(
				`{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Count to five."}]}`))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			if status != "" {
				req.Header.Set("X-Fake-Status", status)
			}
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		for range n {
			post("")
		}
		post("500")
	})
	return out
}

// TestE2ERegressionGate runs the README's regression gate with the real
// binaries:
//
//	llmgrep --ok raw.jsonl | llmreplay --target URL --concurrency 4 \
//	  | tee staging.jsonl | llmstat --baseline raw.jsonl --fail-on 'p99_ttft_ms>+10%'
//
// The records were made through llmtap in front of an upstream that waits
// 100 ms before each answer. A target that waits ten times as long breaches
// the gate; one that does not wait at all passes it.
func TestE2ERegressionGate(t *testing.T) {
	const streams = 8
	raw := recordStreams(t, delayed(t, 100*time.Millisecond, false), streams)

	for _, tt := range []struct {
		name  string
		delay time.Duration
		want  int
	}{
		{"ten times slower breaches", time.Second, 1},
		{"faster passes", 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			target := delayed(t, tt.delay, false)
			staging := filepath.Join(t.TempDir(), "staging.jsonl")
			out, stderr, codes := pipe(t,
				tool(t, "llmgrep", "--ok", raw),
				tool(t, "llmreplay", "--target", target.URL+"/v1", "--concurrency", "4"),
				tee(t, staging),
				tool(t, "llmstat", "--baseline", raw, "--fail-on", "p99_ttft_ms>+10%"))
			all := strings.Join(stderr, "\n")
			if codes[0] != 0 || codes[1] != 0 || codes[2] != 0 {
				t.Fatalf("llmgrep, llmreplay, tee exited %v; stderr:\n%s", codes[:3], all)
			}
			if codes[3] != tt.want {
				t.Errorf("llmstat exited %d, want %d; its stderr:\n%s\nstdout:\n%s", codes[3], tt.want, stderr[3], out)
			}
			breach := strings.Contains(stderr[3], "p99_ttft_ms")
			if breach != (tt.want == 1) {
				t.Errorf("llmstat's stderr names p99_ttft_ms: %v, want %v; stderr:\n%s", breach, tt.want == 1, stderr[3])
			}
			if !strings.Contains(stderr[1], fmt.Sprintf("sent %d ", streams)) {
				t.Errorf("llmreplay did not send the %d completed exchanges (llmgrep --ok leaves out the 500); stderr:\n%s", streams, stderr[1])
			}
			recs := readRecords(t, staging)
			if len(recs) != streams {
				t.Fatalf("staging.jsonl has %d records, want %d", len(recs), streams)
			}
			for _, r := range recs {
				if r.Response == nil || r.Response.Status != 200 || r.Replay == nil {
					t.Errorf("record %s: response %+v, replay %+v", r.ID, r.Response, r.Replay)
				}
			}
			if !strings.Contains(out, "p99_ttft_ms") {
				t.Errorf("the comparison has no p99_ttft_ms row:\n%s", out)
			}
			t.Logf("llmstat's stderr: %s", strings.TrimSpace(stderr[3]))
		})
	}
}
