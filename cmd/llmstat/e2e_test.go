package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/llmtap/llmtap/internal/fakeupstream"
)

// buildTools builds llmtap and llmstat into dir, as make build does.
func buildTools(t *testing.T, dir string) (llmtap, llmstat string) {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the binaries with")
	}
	llmtap, llmstat = filepath.Join(dir, "llmtap"), filepath.Join(dir, "llmstat")
	for bin, pkg := range map[string]string{llmtap: "github.com/llmtap/llmtap/cmd/llmtap", llmstat: "github.com/llmtap/llmtap/cmd/llmstat"} {
		out, err := exec.Command(goBin, "build", "-o", bin, pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	return llmtap, llmstat
}

// clientTiming is what the client itself measured of one streamed answer.
type clientTiming struct {
	ttft float64   // ms from sending the request to the first text
	itl  []float64 // ms between text events
}

// TestEndToEndTiming streams answers from fakeupstream with a known
// schedule (the first token firstDelay+gap after the request, then one every
// gap), through the real llmtap, into the real llmstat, and checks TTFT,
// TPOT and ITL against the schedule and against what the client measured.
func TestEndToEndTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	const (
		firstDelay = 60 * time.Millisecond // before the response headers
		gap        = 25 * time.Millisecond // X-Fake-Chunk-Delay: between events
		chunks     = 8                     // text deltas, one token each in usage
		requests   = 5
		tolerance  = 2.0 // ms
	)
	dir := t.TempDir()
	llmtapBin, llmstatBin := buildTools(t, dir)
	fake := fakeupstream.New(fakeupstream.Options{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(firstDelay)
		fake.ServeHTTP(w, r)
	}))
	defer upstream.Close()

	records := filepath.Join(dir, "records.jsonl")
	tap := exec.Command(llmtapBin, "--upstream", upstream.URL+"/v1", "--port", "0", "-o", records)
	tapErr, err := tap.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := tap.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if tap.ProcessState == nil { // only if the test failed half-way; by pid
			_ = tap.Process.Kill()
			_ = tap.Wait()
		}
	}()
	errLines := bufio.NewReader(tapErr)
	first, err := errLines.ReadString('\n')
	url, ok := strings.CutPrefix(strings.TrimSpace(first), "llmtap: listening on ")
	if err != nil || !ok {
		t.Fatalf("llmtap's first line: %q, %v", first, err)
	}
	go func() { _, _ = io.Copy(io.Discard, errLines) }()

	var measured []clientTiming
	for range requests {
		measured = append(measured, streamOnce(t, url, gap, chunks))
	}
	if err := tap.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := tap.Wait(); err != nil {
		t.Fatalf("llmtap: %v", err)
	}

	out, err := exec.Command(llmstatBin, "--rows", records).Output()
	if err != nil {
		t.Fatalf("llmstat --rows: %v", err)
	}
	var rows []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var row map[string]any
		if err := json.Unmarshal([]byte(l), &row); err != nil {
			t.Fatalf("row %q: %v", l, err)
		}
		rows = append(rows, row)
	}
	if len(rows) != requests {
		t.Fatalf("%d rows, want %d", len(rows), requests)
	}
	if _, ok := rows[0]["ttft_ms"]; !ok {
		t.Skip("stats.Extractor does not fill TTFT, TPOT and ITL yet (it needs pkg/provider's output events); nothing to compare")
	}

	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > tolerance {
			t.Errorf("%s = %.3f ms, want %.3f ± %.0f ms", what, got, want, tolerance)
		}
	}
	num := func(row map[string]any, k string) float64 {
		v, ok := row[k].(float64)
		if !ok {
			t.Fatalf("row has no %s: %v", k, row)
		}
		return v
	}
	for i, row := range rows {
		c := measured[i]
		var sum float64
		for _, v := range c.itl {
			sum += v
		}
		near("client's vs llmstat's TTFT", num(row, "ttft_ms"), c.ttft)
		near("client's vs llmstat's mean ITL", num(row, "itl_mean_ms"), sum/float64(len(c.itl)))
		// One token per text event here, so the client's TPOT is its
		// first-to-last text time over the gaps.
		near("client's vs llmstat's TPOT", num(row, "tpot_ms"), sum/float64(len(c.itl)))
		if n := num(row, "itl_count"); int(n) != len(c.itl) {
			t.Errorf("itl_count %v, client saw %d gaps", n, len(c.itl))
		}
	}

	// The schedule, from the aggregate: medians, so that one late wake-up
	// of a timer on a loaded machine does not decide.
	agg, err := exec.Command(llmstatBin, "--json", "--by", "none", records).Output()
	if err != nil {
		t.Fatalf("llmstat --json: %v", err)
	}
	var res map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(agg), &res); err != nil {
		t.Fatalf("llmstat --json: %v\n%s", err, agg)
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	near("median TTFT vs the schedule", res["median_ttft_ms"].(float64), ms(firstDelay+gap))
	near("median TPOT vs the schedule", res["median_tpot_ms"].(float64), ms(gap))
	near("median ITL vs the schedule", res["median_itl_ms"].(float64), ms(gap))
	if res["completed"].(float64) != requests {
		t.Errorf("completed %v, want %d", res["completed"], requests)
	}
}

// streamOnce sends one streamed chat request and times its text events as
// they arrive.
func streamOnce(t *testing.T, url string, gap time.Duration, chunks int) clientTiming {
	t.Helper()
	body := `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Count slowly."}]}`
	req, err := http.NewRequest("POST", url+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Fake-Chunk-Delay", gap.String())
	req.Header.Set("X-Fake-Chunks", strconv.Itoa(chunks))
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var c clientTiming
	var last time.Time
	rd := bufio.NewReader(res.Body)
	for {
		line, err := rd.ReadString('\n')
		if strings.HasPrefix(line, "data: {") {
			var chunk struct {
				Choices []struct {
					Delta struct {
						Content string `json:"content"`
					} `json:"delta"`
				} `json:"choices"`
			}
			if json.Unmarshal([]byte(line[len("data: "):]), &chunk) == nil &&
				len(chunk.Choices) > 0 && chunk.Choices[0].Delta.Content != "" {
				now := time.Now()
				if last.IsZero() {
					c.ttft = float64(now.Sub(start)) / float64(time.Millisecond)
				} else {
					c.itl = append(c.itl, float64(now.Sub(last))/float64(time.Millisecond))
				}
				last = now
			}
		}
		if err != nil {
			break
		}
	}
	if len(c.itl) != chunks-1 {
		t.Fatalf("client saw %d text events, want %d", len(c.itl)+1, chunks)
	}
	return c
}
