// Command benchreplay measures llmreplay against its quality bars, in one
// run on one machine (the bars are ratios and tolerances, not absolute
// speeds): open-loop accuracy at a fixed rate, peak rate at a fixed
// concurrency against vegeta, and memory with many slow streams in flight.
// It serves its own fast upstream on loopback. scripts/bench-replay.sh
// builds it, llmreplay and vegeta, and runs it.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/llmtap/llmtap/internal/cputime"
	"github.com/llmtap/llmtap/pkg/replay"
)

func main() {
	llmreplay := flag.String("llmreplay", "bin/llmreplay", "the llmreplay binary")
	vegeta := flag.String("vegeta", "bin/vegeta", "the vegeta binary (skipped when missing)")
	rate := flag.Float64("rate", 1000, "open-loop rate, requests per second")
	rateFor := flag.Duration("rate-duration", 10*time.Second, "how long the open-loop run lasts")
	conc := flag.Int("concurrency", 32, "concurrency of the peak-rate runs")
	peakFor := flag.Duration("peak-duration", 5*time.Second, "how long each peak-rate run lasts")
	streams := flag.Int("streams", 1000, "slow streams in flight at once")
	streamFor := flag.Duration("stream-duration", 10*time.Second, "how long each slow stream lasts")
	only := flag.String("only", "rate,peak,streams", "which measurements to run")
	rounds := flag.Int("rounds", 3, "peak-rate rounds, llmreplay and vegeta taking turns; the median of each counts")
	flag.Parse()

	dir, err := os.MkdirTemp("", "bench-replay-")
	check(err)
	defer os.RemoveAll(dir)
	up, err := startUpstream(*streamFor)
	check(err)
	fmt.Printf("upstream %s, work in %s\n", up, dir)

	plain := filepath.Join(dir, "plain.jsonl")
	check(os.WriteFile(plain, records(plainBody), 0o644))
	slow := filepath.Join(dir, "slow.jsonl")
	check(os.WriteFile(slow, records(slowBody), 0o644))

	ok := true
	if strings.Contains(*only, "rate") {
		// The machine's own lateness at this rate, with nothing else to
		// do: what llmreplay's lag cannot go below.
		lags := sleepLags(*rate, min(*rateFor, 5*time.Second))
		fmt.Printf("machine    sleeping to absolute times at %g/s for %v, as llmreplay's clock does: late p50 %.3f ms p99 %.3f ms max %.3f ms (load average %s)\n",
			*rate, min(*rateFor, 5*time.Second), pct(lags, 50), pct(lags, 99), slices.Max(lags), cputime.LoadAverage())
		out := filepath.Join(dir, "rate.jsonl")
		run(*llmreplay, "-q", "--target", up+"/v1", "--rate", fmt.Sprint(*rate), "--loop", "--duration", rateFor.String(), "-o", out, plain)
		st := readStats(out)
		achieved := float64(st.n-1) / st.span.Seconds()
		want := int(*rate * rateFor.Seconds())
		p99 := pct(st.lags, 99)
		pass := abs(achieved / *rate - 1) <= 0.01 && p99 < 1 && abs(float64(st.n-want)) <= float64(want)/100
		ok = ok && pass
		fmt.Printf("open loop  --rate %g for %v: %d records (want %d), %.1f req/s (%.2f%% off), lag p50 %.3f ms p99 %.3f ms max %.3f ms, %d errors  %s\n",
			*rate, *rateFor, st.n, want, achieved, 100*(achieved / *rate - 1), pct(st.lags, 50), p99, slices.Max(st.lags), st.errors, verdict(pass))
	}
	if strings.Contains(*only, "peak") {
		_, err := os.Stat(*vegeta)
		haveVegeta := err == nil
		var ours, theirs, ourCPU, theirCPU []float64
		for round := range *rounds {
			out := filepath.Join(dir, fmt.Sprintf("peak%d.jsonl", round))
			cpu := run(*llmreplay, "-q", "--target", up+"/v1", "--concurrency", strconv.Itoa(*conc), "--loop", "--duration", peakFor.String(), "-o", out, plain)
			st := readStats(out)
			ours = append(ours, float64(st.n)/st.span.Seconds())
			ourCPU = append(ourCPU, float64(cpu.Nanoseconds())/1e3/float64(st.n))
			fmt.Printf("peak       round %d: llmreplay --concurrency %d for %v: %d records written, %.0f req/s, %d errors, CPU %.1f µs/request\n",
				round+1, *conc, *peakFor, st.n, ours[round], st.errors, ourCPU[round])
			if haveVegeta {
				r, n, errs, cpu := runVegeta(*vegeta, up, dir, *conc, *peakFor)
				theirs = append(theirs, r)
				theirCPU = append(theirCPU, float64(cpu.Nanoseconds())/1e3/float64(n))
				fmt.Printf("peak       round %d: vegeta -rate 0 -max-workers %d for %v: %.0f req/s, %d errors, CPU %.1f µs/request (attack; report not counted)\n",
					round+1, *conc, *peakFor, r, errs, theirCPU[round])
			}
		}
		if haveVegeta {
			// On a machine shared with other work the request rates follow
			// its load from one run to the next; the CPU time each tool
			// spends on a request hardly does. The verdict is the ratio of
			// those: the rate llmreplay would reach on the CPU vegeta uses.
			o, v := pct(ours, 50), pct(theirs, 50)
			oc, vc := pct(ourCPU, 50), pct(theirCPU, 50)
			pass := vc/oc >= 1
			ok = ok && pass
			fmt.Printf("peak       median of %d: llmreplay %.0f req/s, vegeta %.0f req/s: %.2fx (rates; the load decides them)\n", *rounds, o, v, o/v)
			fmt.Printf("peak       median of %d: llmreplay %.1f µs CPU/request, vegeta %.1f: %.2fx vegeta's requests per CPU second  %s\n", *rounds, oc, vc, vc/oc, verdict(pass))
		} else {
			fmt.Printf("peak       vegeta: %s missing, not compared\n", *vegeta)
		}
	}
	if strings.Contains(*only, "streams") {
		out := filepath.Join(dir, "streams.jsonl")
		cmd := exec.Command(*llmreplay, "-q", "--target", up+"/v1", "--concurrency", strconv.Itoa(*streams), "--loop", "--count", strconv.Itoa(*streams), "-o", out, slow)
		cmd.Stderr = os.Stderr
		check(cmd.Start())
		peak := int64(0)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		tick := time.NewTicker(100 * time.Millisecond)
	loop:
		for {
			select {
			case err := <-done:
				check(err)
				break loop
			case <-tick.C:
				peak = max(peak, rss(cmd.Process.Pid))
			}
		}
		st := readStats(out)
		pass := peak < 150<<20 && st.n == *streams && st.errors == 0
		ok = ok && pass
		fmt.Printf("streams    %d slow streams of %v in flight at once: %d records, %d errors, peak RSS %.1f MB (bar 150 MB)  %s\n",
			*streams, *streamFor, st.n, st.errors, float64(peak)/(1<<20), verdict(pass))
	}
	if !ok {
		os.Exit(1)
	}
}

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-replay:", err)
		os.Exit(2)
	}
}

// run runs a program and returns the CPU time it used.
func run(name string, args ...string) time.Duration {
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	check(cmd.Run())
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

func abs(f float64) float64 { return max(f, -f) }

// The request bodies: a plain chat request answered at once with ~1 KB of
// JSON, and a streamed one answered slowly.
var (
	plainBody = `{"model":"bench-plain","messages":[{"role":"user","content":"Say hello in one short sentence."}],"temperature":0}`
	slowBody  = `{"model":"bench-slow","stream":true,"messages":[{"role":"user","content":"Say hello, slowly."}]}`
)

// records is one record of a request with body, to be looped.
func records(body string) []byte {
	return fmt.Appendf(nil, `{"v":1,"id":"bench-1","start":"2026-01-01T00:00:00Z","method":"POST","path":"/v1/chat/completions",`+
		`"request":{"headers":{"content-type":"application/json"},"body":%s,"body_encoding":"json","body_bytes":%d}}`+"\n", body, len(body))
}

// startUpstream serves the fast upstream on loopback and returns its URL.
func startUpstream(streamFor time.Duration) (string, error) {
	answer := []byte(`{"id":"chatcmpl-bench","object":"chat.completion","created":1767225600,"model":"bench-plain","choices":[{"index":0,"message":{"role":"assistant","content":"` +
		strings.Repeat("Hello there. ", 60) + `"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":120,"total_tokens":132}}`)
	chunk := []byte(`data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hello "}}]}` + "\n\n")
	const chunks = 20
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !bytes.Contains(body, []byte(`"stream":true`)) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
			_, _ = w.Write(answer)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		t := time.NewTicker(streamFor / chunks)
		defer t.Stop()
		for range chunks {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-t.C:
			case <-r.Context().Done():
				return
			}
		}
		_, _ = io.WriteString(w, "data: [DONE]\n\n")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go func() { _ = http.Serve(ln, h) }()
	return "http://" + ln.Addr().String(), nil
}

// stats are what a run's records say.
type stats struct {
	n, errors int
	span      time.Duration // first start to last start
	lags      []float64     // replay.lag_ms
}

func readStats(path string) stats {
	f, err := os.Open(path)
	check(err)
	defer f.Close()
	var st stats
	var first, last time.Time
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var r struct {
			Start    time.Time `json:"start"`
			Response *struct {
				Status int `json:"status"`
			} `json:"response"`
			Error  json.RawMessage `json:"error"`
			Replay struct {
				LagMS float64 `json:"lag_ms"`
			} `json:"replay"`
		}
		check(json.Unmarshal(sc.Bytes(), &r))
		st.n++
		if r.Error != nil || r.Response == nil || r.Response.Status != 200 {
			st.errors++
		}
		st.lags = append(st.lags, r.Replay.LagMS)
		if first.IsZero() || r.Start.Before(first) {
			first = r.Start
		}
		if r.Start.After(last) {
			last = r.Start
		}
	}
	check(sc.Err())
	st.span = last.Sub(first)
	if st.n == 0 {
		check(fmt.Errorf("%s: no records", path))
	}
	return st
}

// pct is the p-th percentile (nearest rank).
func pct(xs []float64, p float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

// runVegeta attacks the upstream with the same request and returns its
// request rate, requests, errors and the attack's CPU time.
func runVegeta(bin, up, dir string, workers int, d time.Duration) (float64, int, int, time.Duration) {
	body := filepath.Join(dir, "body.json")
	check(os.WriteFile(body, []byte(plainBody), 0o644))
	targets := filepath.Join(dir, "targets.txt")
	check(os.WriteFile(targets, fmt.Appendf(nil, "POST %s/v1/chat/completions\nContent-Type: application/json\n@%s\n", up, body), 0o644))
	results := filepath.Join(dir, "vegeta.bin")
	cpu := run(bin, "attack", "-targets", targets, "-rate", "0", "-max-workers", strconv.Itoa(workers), "-duration", d.String(), "-output", results)
	out, err := exec.Command(bin, "report", "-type", "json", results).Output()
	check(err)
	var rep struct {
		Rate       float64        `json:"rate"`
		Requests   int            `json:"requests"`
		StatusCode map[string]int `json:"status_codes"`
	}
	check(json.Unmarshal(out, &rep))
	return rep.Rate, rep.Requests, rep.Requests - rep.StatusCode["200"], cpu
}

// sleepLags sleeps to each of rate×d absolute times with llmreplay's
// clock and returns how late each wake was, in milliseconds.
func sleepLags(rate float64, d time.Duration) []float64 {
	n := int(rate * d.Seconds())
	lags := make([]float64, 0, n)
	t0 := time.Now()
	for k := range n {
		due := t0.Add(time.Duration(float64(k) / rate * float64(time.Second)))
		_ = replay.SystemClock.SleepUntil(context.Background(), due)
		lags = append(lags, float64(time.Since(due).Microseconds())/1000)
	}
	return lags
}

// rss is the resident set of a process, in bytes.
func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
