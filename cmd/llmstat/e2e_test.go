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
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/llmtap/llmtap/internal/fakeupstream"
	"github.com/llmtap/llmtap/internal/testbin"
)

// timedWriter notes when the handler started and when each Write came.
type timedWriter struct {
	http.ResponseWriter
	in     time.Time
	mu     sync.Mutex
	writes []time.Time
}

func (w *timedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.writes = append(w.writes, time.Now())
	w.mu.Unlock()
	return w.ResponseWriter.Write(p)
}

// times returns the times of the writes so far.
func (w *timedWriter) times() []time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Time(nil), w.writes...)
}

// Unwrap lets http.NewResponseController reach the real flusher.
func (w *timedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

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
		requests   = 7
		tolerance  = 2.0 // ms
	)
	dir := t.TempDir()
	bins := testbin.Paths(t, "llmtap", "llmstat")
	llmtapBin, llmstatBin := bins[0], bins[1]
	// The upstream keeps the schedule it really kept: when each request
	// came in and when each event was written (fakeupstream writes one
	// event per Write). Timers on a loaded machine wake late; what counts
	// is what was sent when.
	fake := fakeupstream.New(fakeupstream.Options{})
	var (
		mu    sync.Mutex
		sched []*timedWriter
	)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw := &timedWriter{ResponseWriter: w, in: time.Now()}
		mu.Lock()
		sched = append(sched, tw)
		mu.Unlock()
		time.Sleep(firstDelay)
		fake.ServeHTTP(tw, r)
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
	url, err := testbin.ListenURL(tapErr, io.Discard)
	if err != nil {
		t.Fatal(err)
	}

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

	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	// near collects the differences of one comparison over the requests;
	// check then holds their median within the tolerance. A median, because
	// on a loaded machine under -race a timer or a goroutine can wake a few
	// ms late for one request, and the test is about the definitions, not
	// about that machine's scheduler.
	diffs := map[string][]float64{}
	var names []string
	near := func(what string, got, want float64) {
		if _, ok := diffs[what]; !ok {
			names = append(names, what)
		}
		diffs[what] = append(diffs[what], got-want)
	}
	num := func(row map[string]any, k string) float64 {
		v, ok := row[k].(float64)
		if !ok {
			t.Fatalf("row has no %s: %v", k, row)
		}
		return v
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sched) != requests {
		t.Fatalf("the upstream saw %d requests, want %d", len(sched), requests)
	}
	for i, row := range rows {
		// The schedule as sent: event 0 is the role-only opener, events 1
		// to chunks the text.
		w := sched[i].times()
		if len(w) < chunks+1 {
			t.Fatalf("request %d: the upstream wrote %d events", i, len(w))
		}
		sentTTFT := ms(w[1].Sub(sched[i].in))
		sentGap := ms(w[chunks].Sub(w[1])) / (chunks - 1)
		// The knobs did what they say; timers wake late, never early.
		if sentTTFT < ms(firstDelay+gap)-0.5 || sentGap < ms(gap)-0.5 {
			t.Errorf("request %d: the upstream sent the first token after %.1f ms and then one every %.1f ms; asked for %v and %v",
				i, sentTTFT, sentGap, firstDelay+gap, gap)
		}
		near("llmstat's TTFT vs the schedule sent", num(row, "ttft_ms"), sentTTFT)
		near("llmstat's TPOT vs the schedule sent", num(row, "tpot_ms"), sentGap)
		near("llmstat's mean ITL vs the schedule sent", num(row, "itl_mean_ms"), sentGap)

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

	for _, what := range names {
		d := diffs[what]
		abs := make([]float64, len(d))
		for i, v := range d {
			abs[i] = math.Abs(v)
		}
		slices.Sort(abs)
		if med := abs[len(abs)/2]; med > tolerance {
			t.Errorf("%s: median difference %.3f ms, want at most %.0f ms (each request: %.3f)", what, med, tolerance, d)
		}
	}

	// The aggregate agrees with the rows.
	agg, err := exec.Command(llmstatBin, "--json", "--by", "none", records).Output()
	if err != nil {
		t.Fatalf("llmstat --json: %v", err)
	}
	var res map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(agg), &res); err != nil {
		t.Fatalf("llmstat --json: %v\n%s", err, agg)
	}
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
