package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"
)

// active is a started target with its row and per-case samples.
type active struct {
	t    *target
	r    *row
	agg  map[string]*caseAgg
	dead bool
}

// caseAgg collects one case's rounds for one target.
type caseAgg struct {
	rates, p50s, p99s []float64
	cpus              []float64 // the target's CPU µs per exchange, per round
	bigTimes          []time.Duration
	errors            int64
	firstErr          string
	peakRSS, addRSS   int64
}

var setups = map[string]func(*env) (*target, error){
	"direct": setupDirect, "bareproxy": setupBareproxy, "nginx": setupNginx,
	"original": setupOriginal, "llmtap": setupLlmtap,
}

// runAll starts every selected target, then runs each case for each round,
// the targets taking turns (in an order rotated each round) so that noise
// from other work on the machine falls on all of them alike. It stops every
// target and returns one row per selected target.
func runAll(ctx context.Context, e *env, client *http.Client, p *payloads) []*row {
	cli := e.cli
	var rows []*row
	var act []*active
	defer func() {
		for _, a := range act {
			a.finish(ctx)
		}
	}()
	for _, name := range allTargets {
		if !slices.Contains(cli.Only, name) || ctx.Err() != nil {
			continue
		}
		r := &row{target: name, m: map[string]float64{}}
		rows = append(rows, r)
		t, err := setups[name](e)
		if errors.Is(err, errSkip) {
			r.skipped = strings.TrimPrefix(err.Error(), errSkip.Error()+" "+name+": ")
			fmt.Println(err)
			continue
		}
		if err != nil {
			r.err = err.Error()
			fmt.Fprintf(os.Stderr, "bench: %s: %v\n", name, err)
			continue
		}
		a := &active{t: t, r: r, agg: map[string]*caseAgg{}}
		act = append(act, a)
		fmt.Fprintf(os.Stderr, "bench: %-9s starting\n", name)
		if err := waitReady(ctx, client, t.url, p, t.proc, &r.sent); err != nil {
			r.err = err.Error()
			a.dead = true
			fmt.Fprintf(os.Stderr, "bench: %s: %v\n", name, err)
		}
	}
	sleepCtx(ctx, 300*time.Millisecond)
	for _, a := range act {
		if !a.dead {
			idle, _ := a.t.proc.memory()
			a.r.m["rss_idle_mb"] = mib(idle)
		}
	}

	for _, c := range cli.Cases {
		for round := range cli.Rounds {
			n := len(act)
			for k := range n {
				a := act[(k+round)%max(n, 1)]
				if a.dead || ctx.Err() != nil {
					continue
				}
				fmt.Fprintf(os.Stderr, "bench: %-5s round %d/%d  %s\n", c, round+1, cli.Rounds, a.t.name)
				a.runCase(ctx, e, client, p, c)
				if c == "many" {
					client.Transport.(*http.Transport).CloseIdleConnections()
				}
			}
		}
	}
	if ctx.Err() != nil {
		return rows
	}
	for _, a := range act {
		a.aggregate(cli)
	}
	return rows
}

// runCase runs one round of case c against the target and keeps its samples.
func (a *active) runCase(ctx context.Context, e *env, client *http.Client, p *payloads, c string) {
	cli, t, r := e.cli, a.t, a.r
	ag := a.agg[c]
	if ag == nil {
		ag = &caseAgg{}
		a.agg[c] = ag
	}
	spec := func(body []byte, want int64, conns int) loadSpec {
		return loadSpec{url: t.url, body: body, wantBytes: want, conns: conns, warmup: cli.Warmup, duration: cli.Duration, cpu: t.proc.cpu}
	}
	// A slow stream lasts SlowChunks×SlowInterval: warm up for at least one
	// and measure at least five, even in --quick runs.
	slowSpec := func(conns int) loadSpec {
		s := spec(p.slowReq, p.slowBytes, conns)
		streamDur := time.Duration(cli.SlowChunks) * cli.SlowInterval
		s.warmup = max(s.warmup, streamDur+100*time.Millisecond)
		s.duration = max(s.duration, 5*streamDur)
		return s
	}
	t.proc.resetPeak()
	before, _ := t.proc.memory()
	var lr loadResult
	var samples []time.Duration
	switch c {
	case "plain":
		lr = runLoad(ctx, client, spec(p.plainReq, int64(len(p.plainResp)), cli.Conns), &r.sent)
		samples = lr.lat
	case "sse":
		lr = runLoad(ctx, client, spec(p.sseReq, p.sseBytes, cli.Conns), &r.sent)
		samples = lr.lat
	case "sse-small":
		lr = runLoad(ctx, client, spec(p.smallReq, p.smallBytes, cli.Conns), &r.sent)
		samples = lr.lat
	case "slow":
		s := slowSpec(cli.Conns)
		if !cli.Lockstep {
			s.stagger = time.Duration(cli.SlowChunks) * cli.SlowInterval
		}
		lr = runLoad(ctx, client, s, &r.sent)
		samples = lr.ttfb
	case "many":
		lr = runLoad(ctx, client, slowSpec(cli.SlowConns), &r.sent)
		samples = lr.ttfb
	case "big":
		br := runBig(ctx, client, t.url, p.bigReq, p.bigBytes, cli.BigReps, &r.sent)
		lr.errors, lr.firstErr = br.errors, br.firstErr
		ag.bigTimes = append(ag.bigTimes, br.times...)
	}
	if ctx.Err() != nil {
		return
	}
	if c != "big" {
		ag.rates = append(ag.rates, lr.rate())
		if v, ok := lr.cpuPerExchange(); ok {
			ag.cpus = append(ag.cpus, v)
		}
		if len(samples) > 0 {
			ag.p50s = append(ag.p50s, percentile(samples, .50))
			ag.p99s = append(ag.p99s, percentile(samples, .99))
		}
	}
	ag.errors += lr.errors
	if ag.firstErr == "" {
		ag.firstErr = lr.firstErr
	}
	t.settle(ctx, 200*time.Millisecond)
	_, hwm := t.proc.memory()
	ag.peakRSS = max(ag.peakRSS, hwm)
	ag.addRSS = max(ag.addRSS, hwm-before)
	if t.proc.exited() {
		r.err = fmt.Sprintf("exited during %s (%v): %s", c, t.proc.waitErr, logTail(t.proc.logPath))
		a.dead = true
	}
}

// metricPrefix is the case's name as metric names spell it.
func metricPrefix(c string) string { return strings.ReplaceAll(c, "-", "_") }

func median(v []float64) (float64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2], true
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2, true
}

// aggregate turns the rounds into the row's metrics: medians of the rounds'
// rates and percentiles, summed errors, the highest memory peaks.
func (a *active) aggregate(cli *CLI) {
	r := a.r
	var peak int64
	for _, c := range cli.Cases {
		ag := a.agg[c]
		if ag == nil {
			continue
		}
		peak = max(peak, ag.peakRSS)
		r.m[metricPrefix(c)+"_errors"] = float64(ag.errors)
		if ag.firstErr != "" {
			r.notes = append(r.notes, fmt.Sprintf("%s: %d errors, first: %s", c, ag.errors, ag.firstErr))
		}
		key := metricPrefix(c)
		kind, rate := "", "_streams_per_s"
		switch c {
		case "plain":
			rate = "_rps"
		case "slow", "many":
			kind = "ttfb_"
		case "big":
			if len(ag.bigTimes) == 0 {
				continue
			}
			slices.Sort(ag.bigTimes)
			med := ag.bigTimes[len(ag.bigTimes)/2]
			r.m["big_ms"] = float64(med) / float64(time.Millisecond)
			r.m["big_mb_per_s"] = float64(cli.BigMB) / med.Seconds()
			r.m["big_added_rss_mb"] = mib(ag.addRSS)
			continue
		}
		if v, ok := median(ag.rates); ok {
			r.m[key+rate] = v
		}
		if v, ok := median(ag.cpus); ok {
			r.m[key+"_cpu_us"] = v
		}
		if v, ok := median(ag.p50s); ok {
			r.m[key+"_"+kind+"p50_ms"] = v
		}
		if v, ok := median(ag.p99s); ok {
			r.m[key+"_"+kind+"p99_ms"] = v
		}
		if len(ag.p50s) < len(ag.rates) {
			r.notes = append(r.notes, fmt.Sprintf("%s: %d of %d rounds completed no request in the measured window", c, len(ag.rates)-len(ag.p50s), len(ag.rates)))
		}
		if c == "many" {
			r.m["many_peak_rss_mb"] = mib(ag.peakRSS)
			if idle, ok := r.m["rss_idle_mb"]; ok && ag.peakRSS > 0 {
				// What each open stream costs above the idle process.
				r.m["many_kib_per_stream"] = (mib(ag.peakRSS) - idle) * 1024 / float64(cli.SlowConns)
			}
		}
	}
	if peak > 0 {
		r.m["rss_peak_mb"] = mib(peak)
	}
}

// finish reads the final RSS, stops the target and checks its records.
func (a *active) finish(ctx context.Context) {
	t, r := a.t, a.r
	if !a.dead && ctx.Err() == nil {
		sleepCtx(ctx, 500*time.Millisecond)
		end, _ := t.proc.memory()
		r.m["rss_end_mb"] = mib(end)
	}
	if t.shared {
		return
	}
	err := t.proc.stop(t.grace)
	// Only llmtap promises a clean exit on SIGTERM: drain, flush, exit 0.
	if err != nil && ctx.Err() == nil && !a.dead && t.name == "llmtap" {
		r.notes = append(r.notes, fmt.Sprintf("exit after SIGTERM: %v", err))
	}
	if size, lines, ok := t.recordStats(); ok {
		sent := r.sent.Load()
		r.m["record_bytes"], r.m["records"], r.m["requests"] = float64(size), float64(lines), float64(sent)
		if t.name == "llmtap" && lines != sent {
			r.notes = append(r.notes, fmt.Sprintf("%d records for %d requests (want one line per exchange)", lines, sent))
		}
	}
}
