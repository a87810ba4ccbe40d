package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/llmtap/llmtap/pkg/jsonl"
)

// The bounded stages that hold records while the output's reader stalls
// (BENCHMARKS.md, "Back-pressure: output on a slow pipe"), besides the pipe
// and the writer's buffer.
const (
	recordQueue    = jsonl.DefaultQueue
	pendingRecords = 1024      // pkg/proxy: maxPendingRecords
	writerBuffer   = 256 << 10 // pkg/jsonl: writeBuffer
)

// bpResult is the outcome of one request of TestE2EBackPressure.
type bpResult struct {
	latency time.Duration
	err     error // a transport error, a timeout or a status other than 200
}

// TestE2EBackPressure: with -o a FIFO whose reader holds it open but does
// not read, forwarding goes on at normal latency until the bounded buffers
// in front of the output are full, then requests stall (no loss, no
// unbounded memory); /healthz still answers. Once the reader resumes,
// requests flow again, and after SIGTERM the output holds exactly one whole
// record for every answered request, with unique ids.
func TestE2EBackPressure(t *testing.T) {
	const (
		workers = 4               // keep-alive connections, one request at a time each
		timeout = 2 * time.Second // a request that takes this long is stalled
		// Well below the capacity (5,120 and more): every one of these must be
		// answered at normal latency.
		fastRequests = 3000
		block        = 500
		// The bound on each block's p99, checked with LLMTAP_PERF set (make
		// perf): a measure, which a loaded machine may miss. Normal is a few
		// ms; a p99 this high would mean forwarding waits on something.
		maxP99 = 500 * time.Millisecond
		// Back-pressure must come long before this; if it does not, records
		// are kept without bound or dropped.
		maxRequests = 12000
		resumed     = 200 // requests sent once the reader reads again
	)
	perf := os.Getenv("LLMTAP_PERF") != ""
	up := upstream(t, nil)
	fifo := filepath.Join(t.TempDir(), "records.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// With O_NONBLOCK the open does not wait for a writer, so llmtap's open
	// for writing finds this reader. The runtime poller makes reads wait for
	// data; they end at EOF once llmtap has exited.
	stalled, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stalled.Close() })
	p := startTap(t, nil, "--upstream", up.URL+"/v1", "--port", "0", "-o", fifo)
	start := time.Now()

	// Each worker has its own client, so its connection is kept alive, and
	// takes the next request number until one of its requests fails.
	results := make([]bpResult, maxRequests+resumed) // by request number
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range workers {
		c := newClient(t)
		c.Timeout = timeout
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				n := int(next.Add(1)) - 1
				if n >= maxRequests {
					return
				}
				results[n] = bpRequest(c, p.base, n)
				if results[n].err != nil {
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	sent := min(int(next.Load()), maxRequests)
	stallTime := time.Since(start)

	answered := map[int]bool{} // request numbers
	firstFailure := -1
	for n, r := range results[:sent] {
		switch {
		case r.err == nil:
			answered[n] = true
		case !isTimeout(r.err):
			t.Fatalf("request %d failed, not by a timeout: %v; stderr:\n%s", n, r.err, p.stderr.String())
		case firstFailure < 0:
			firstFailure = n
		}
	}
	t.Logf("%d requests sent in %v, %d answered; first to time out: %d", sent, stallTime.Round(time.Millisecond), len(answered), firstFailure)
	if firstFailure < 0 {
		t.Fatalf("no back-pressure after %d requests: records are kept without bound, or dropped", sent)
	}
	if firstFailure < fastRequests {
		t.Fatalf("request %d timed out (%v): forwarding waits on the stalled output", firstFailure, results[firstFailure].err)
	}
	for lo := 0; lo < firstFailure; lo += block {
		hi := min(lo+block, firstFailure)
		var lat []time.Duration
		for _, r := range results[lo:hi] {
			lat = append(lat, r.latency)
		}
		p50, p99, top := percentile(lat, 50), percentile(lat, 99), slices.Max(lat)
		t.Logf("requests %5d-%5d: p50 %v, p99 %v, max %v", lo, hi-1, p50, p99, top)
		if perf && hi <= fastRequests && p99 > maxP99 {
			t.Errorf("requests %d-%d: p99 %v, want under %v: forwarding slowed down as records piled up", lo, hi-1, p99, maxP99)
		}
	}

	// The stall is in the record path, not a dead server.
	health := newClient(t)
	health.Timeout = timeout
	if res, err := health.Get(p.base + "/healthz"); err != nil {
		t.Errorf("/healthz during the stall: %v", err)
	} else {
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("/healthz during the stall: status %d", res.StatusCode)
		}
	}

	// The reader resumes: requests flow again.
	var out bytes.Buffer
	drained := make(chan error, 1)
	go func() {
		_, err := io.Copy(&out, stalled)
		drained <- err
	}()
	c := newClient(t)
	c.Timeout = timeout
	resumeStart := time.Now()
	for n := sent; n < sent+resumed; n++ {
		results[n] = bpRequest(c, p.base, n)
		if err := results[n].err; err != nil {
			t.Fatalf("request %d, after the reader resumed: %v", n, err)
		}
		answered[n] = true
	}
	t.Logf("%d requests after the reader resumed: %v", resumed, time.Since(resumeStart).Round(time.Millisecond))
	p.stop()
	select {
	case err := <-drained:
		if err != nil {
			t.Fatalf("reading the FIFO: %v", err)
		}
	case <-time.After(patience):
		t.Fatal("the FIFO was not closed after llmtap exited")
	}

	// One whole record for every answered request, each id once; a request
	// that timed out may have been recorded too, once its exchange could end.
	data := out.String()
	recs := byQuery(t, parseRecords(t, "fifo", data))
	minLine := len(data)
	for _, line := range strings.SplitAfter(data, "\n") {
		if line != "" {
			minLine = min(minLine, len(line))
		}
	}
	t.Logf("%d records, %d bytes (lines of %d bytes and more), %v in all", len(recs), out.Len(), minLine, time.Since(start).Round(time.Millisecond))
	for n := range sent + resumed {
		if !answered[n] {
			continue
		}
		r, ok := recs["n="+strconv.Itoa(n)]
		switch {
		case !ok:
			t.Errorf("request %d was answered but has no record", n)
		case r.Response == nil || r.Response.Status != 200 || r.Error != nil:
			t.Errorf("record of request %d: response %+v, error %+v", n, r.Response, r.Error)
		}
	}
	var late int // records of requests that timed out
	for q := range recs {
		n, err := strconv.Atoi(strings.TrimPrefix(q, "n="))
		switch {
		case err != nil || n < 0 || n >= sent+resumed:
			t.Errorf("a record for a request never sent: query %q", q)
		case !answered[n]:
			late++
			// Read by llmtap only once the output moved again: an exchange
			// that waits for room must not sit on an answer its client
			// never gets (the request before it on its connection was
			// answered in full).
			if st := recs[q].Start; st.Before(resumeStart.Add(-50 * time.Millisecond)) {
				t.Errorf("request %d timed out, yet its exchange started %v before the reader resumed", n, resumeStart.Sub(st).Round(time.Millisecond))
			}
		}
	}
	t.Logf("%d records of requests that timed out", late)
	if len(recs) < len(answered) {
		t.Errorf("%d records for %d answered requests", len(recs), len(answered))
	}

	// How many requests were answered before the stall says which buffers
	// held records: the queue and the pending records, full, plus the lines
	// in the pipe and the writer's buffer, plus at most one exchange per
	// connection answered while it waited for room.
	held := len(answered) - resumed
	floor := recordQueue + pendingRecords
	ceiling := floor + (pipeBuffer(t, stalled)+writerBuffer)/minLine + 1 + workers
	t.Logf("%d records held while the reader stalled; the bounded buffers hold %d to %d", held, floor, ceiling)
	if held < floor || held > ceiling {
		t.Errorf("%d requests answered before the stall, want %d to %d (BENCHMARKS.md, Back-pressure)", held, floor, ceiling)
	}
}

// bpRequest sends request n, a small chat completion marked ?n=N, and
// reads the whole answer.
func bpRequest(c *http.Client, base string, n int) bpResult {
	start := time.Now()
	res, err := c.Post(fmt.Sprintf("%s/v1/chat/completions?n=%d", base, n), "application/json", strings.NewReader(chatBody))
	if err != nil {
		return bpResult{err: err}
	}
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	r := bpResult{latency: time.Since(start), err: err}
	if err == nil && res.StatusCode != 200 {
		r.err = fmt.Errorf("status %d", res.StatusCode)
	}
	return r
}

// isTimeout tells whether err is the client giving up on a request.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// percentile returns the p-th percentile of d (nearest rank).
func percentile(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[max(0, (len(s)*p+99)/100-1)]
}
