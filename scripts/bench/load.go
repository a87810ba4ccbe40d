package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// newTransport is the load generator's one shared Transport: keep-alive,
// enough idle connections for every worker, no compression, no env proxy.
func newTransport(conns int) *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		DisableCompression:    true,
		MaxIdleConns:          0,
		MaxIdleConnsPerHost:   conns + 16,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		ReadBufferSize:        32 << 10,
		WriteBufferSize:       8 << 10,
	}
}

// loadSpec is one case: conns workers repeating one request for warmup then
// duration.
type loadSpec struct {
	url       string
	body      []byte
	wantBytes int64
	conns     int
	warmup    time.Duration
	duration  time.Duration
	// stagger spreads the workers' first requests evenly over this time.
	// Streams of equal length started together stay in lockstep, so every
	// request would arrive in a burst with all the others and its time to
	// first byte would measure how fast the target drains the burst.
	stagger time.Duration
	// cpu, when set, reads the target's CPU time; it is read when the
	// measured window opens and when it closes.
	cpu func() time.Duration
}

// loadResult counts what happened. Only requests that started after the
// warmup are sampled; every error, warmup included, is counted.
type loadResult struct {
	ok       int64 // successful requests completed inside the measured window
	errors   int64
	firstErr string
	window   time.Duration
	lat      []time.Duration // full request time, successful sampled requests
	ttfb     []time.Duration // time to the first body byte, same requests
	cpu      time.Duration   // the target's CPU time over the measured window; 0 if not read
}

// cpuPerExchange is the target's CPU time per exchange completed in the
// measured window, in µs.
func (r *loadResult) cpuPerExchange() (float64, bool) {
	if r.cpu <= 0 || r.ok == 0 {
		return 0, false
	}
	return float64(r.cpu) / float64(time.Microsecond) / float64(r.ok), true
}

func (r *loadResult) rate() float64 {
	if r.window <= 0 {
		return 0
	}
	return float64(r.ok) / r.window.Seconds()
}

// percentile returns the q-quantile (0..1) of sorted in milliseconds.
func percentile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted)) + 0.5)
	i = min(max(i-1, 0), len(sorted)-1)
	return float64(sorted[i]) / float64(time.Millisecond)
}

type workerStats struct {
	ok       int64
	errors   int64
	firstErr string
	lat      []time.Duration
	ttfb     []time.Duration
}

// doRequest sends one request, reads the whole body into buf-sized reads and
// checks status and byte count.
func doRequest(ctx context.Context, client *http.Client, url string, body []byte, want int64, buf []byte, sent *atomic.Int64) (total, ttfb time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header["Content-Type"] = []string{"application/json"}
	req.Header["Accept"] = []string{"application/json, text/event-stream"}
	req.Header["Authorization"] = []string{"Bearer sk-bench-0000000000000000000000000000abcd"}
	sent.Add(1)
	t0 := time.Now()
	res, err := client.Do(req)
	if err != nil {
		if isDial(err) {
			sent.Add(-1) // never reached the target, so no record is due
		}
		return 0, 0, err
	}
	defer res.Body.Close()
	var n int64
	for {
		m, rerr := res.Body.Read(buf)
		if m > 0 && n == 0 {
			ttfb = time.Since(t0)
		}
		n += int64(m)
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return 0, 0, fmt.Errorf("read body after %d bytes: %w", n, rerr)
		}
	}
	total = time.Since(t0)
	if res.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("status %d", res.StatusCode)
	}
	if n != want {
		return 0, 0, fmt.Errorf("got %d body bytes, want %d", n, want)
	}
	return total, ttfb, nil
}

// runLoad runs one case. sent counts every request sent (for the
// record-count check).
func runLoad(ctx context.Context, client *http.Client, spec loadSpec, sent *atomic.Int64) loadResult {
	start := time.Now()
	measureFrom := start.Add(spec.warmup)
	end := measureFrom.Add(spec.duration)
	// In-flight requests may finish after end; give up on them eventually.
	hardCtx, cancel := context.WithDeadline(ctx, end.Add(30*time.Second+spec.duration))
	defer cancel()

	stats := make([]workerStats, spec.conns)
	var wg sync.WaitGroup
	var cpu time.Duration
	if spec.cpu != nil {
		wg.Go(func() {
			if sleepCtx(hardCtx, time.Until(measureFrom)) != nil {
				return
			}
			c0 := spec.cpu()
			if sleepCtx(hardCtx, time.Until(end)) != nil {
				return
			}
			cpu = spec.cpu() - c0
		})
	}
	for w := range spec.conns {
		wg.Go(func() {
			st := &stats[w]
			buf := make([]byte, 32<<10)
			if d := firstDelay(spec, w); d > 0 {
				sleepCtx(hardCtx, d)
			}
			for hardCtx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(end) {
					return
				}
				total, ttfb, err := doRequest(hardCtx, client, spec.url, spec.body, spec.wantBytes, buf, sent)
				if err != nil {
					if ctx.Err() != nil {
						return // interrupted: not the target's fault
					}
					st.errors++
					if st.firstErr == "" {
						st.firstErr = err.Error()
					}
					sleepCtx(hardCtx, 5*time.Millisecond) // no hot loop on a dead target
					continue
				}
				done := t0.Add(total)
				if !done.Before(measureFrom) && !done.After(end) {
					st.ok++
				}
				if !t0.Before(measureFrom) {
					st.lat = append(st.lat, total)
					st.ttfb = append(st.ttfb, ttfb)
				}
			}
		})
	}
	wg.Wait()

	r := loadResult{window: spec.duration, cpu: cpu}
	for _, st := range stats {
		r.ok += st.ok
		r.errors += st.errors
		if r.firstErr == "" {
			r.firstErr = st.firstErr
		}
		r.lat = append(r.lat, st.lat...)
		r.ttfb = append(r.ttfb, st.ttfb...)
	}
	slices.Sort(r.lat)
	slices.Sort(r.ttfb)
	return r
}

// bigResult is the large-stream case: reps sequential downloads.
type bigResult struct {
	times    []time.Duration // successful reps, sorted
	errors   int64
	firstErr string
}

func runBig(ctx context.Context, client *http.Client, url string, body []byte, want int64, reps int, sent *atomic.Int64) bigResult {
	var r bigResult
	buf := make([]byte, 64<<10)
	for range reps {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		total, _, err := doRequest(rctx, client, url, body, want, buf, sent)
		cancel()
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			r.errors++
			if r.firstErr == "" {
				r.firstErr = err.Error()
			}
			continue
		}
		r.times = append(r.times, total)
	}
	slices.Sort(r.times)
	return r
}

// waitReady sends the plain request until it succeeds, up to 20 s.
func waitReady(ctx context.Context, client *http.Client, url string, p *payloads, pr *proc, sent *atomic.Int64) error {
	deadline := time.Now().Add(20 * time.Second)
	buf := make([]byte, 32<<10)
	var last error
	for time.Now().Before(deadline) {
		if pr != nil && pr.exited() {
			return fmt.Errorf("%s exited (%v): %s", pr.name, pr.waitErr, logTail(pr.logPath))
		}
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, _, err := doRequest(rctx, client, url, p.plainReq, int64(len(p.plainResp)), buf, sent)
		cancel()
		if err == nil {
			return nil
		}
		last = err
		if ctx.Err() != nil {
			return ctx.Err()
		}
		sleepCtx(ctx, 50*time.Millisecond)
	}
	if errors.Is(last, context.DeadlineExceeded) || last == nil {
		last = errors.New("timed out")
	}
	return fmt.Errorf("not ready after 20s: %v", last)
}

func isDial(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// firstDelay is how long worker w waits before its first request: the
// workers' starts spread evenly over spec.stagger, or all at once when it
// is zero.
func firstDelay(spec loadSpec, w int) time.Duration {
	if spec.stagger <= 0 || spec.conns <= 0 {
		return 0
	}
	return spec.stagger * time.Duration(w) / time.Duration(spec.conns)
}
