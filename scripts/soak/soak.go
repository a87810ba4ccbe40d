package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// config is one soak run.
type config struct {
	Exchanges   int
	Concurrency int
	Seed        uint64
	Grace       time.Duration
	Outage      time.Duration
	Llmtap      string // a built binary; empty: build one
	Race        bool   // build llmtap with the race detector
	Keep        bool
	Timeout     time.Duration
	Rest        time.Duration // idle time before the memory is measured again; 0 skips it
}

// Limits a run must stay within, besides the exact counts.
const (
	maxPeakRSSKiB = 100 << 10 // llmtap's bar: 1,000 concurrent slow streams fit in 100 MB
	fdSlack       = 16        // open descriptors at the end, beyond two per client
	restSlackKiB  = 8 << 10   // anonymous RSS after the rest, beyond that at the start
	backoff       = 50 * time.Millisecond
)

// run soaks llmtap and returns what it found. progress gets a line per
// phase. An error means the soak could not run; a run that found problems
// returns a result with OK false.
func run(ctx context.Context, cfg config, progress io.Writer) (*result, error) {
	if cfg.Exchanges < 20 || cfg.Concurrency < 1 {
		return nil, errors.New("want at least 20 exchanges and 1 client")
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	began := time.Now()
	logf := func(format string, args ...any) {
		fmt.Fprintf(progress, "soak: %5.1fs "+format+"\n", append([]any{time.Since(began).Seconds()}, args...)...)
	}

	dir, err := os.MkdirTemp("", "llmtap-soak-")
	if err != nil {
		return nil, err
	}
	if cfg.Keep {
		logf("keeping %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	bin := cfg.Llmtap
	if bin == "" {
		logf("building llmtap")
		if bin, err = buildLlmtap(dir, cfg.Race); err != nil {
			return nil, err
		}
	}

	up, err := startUpstream()
	if err != nil {
		return nil, err
	}
	defer up.kill()
	out := filepath.Join(dir, "records.jsonl")
	rotated := out + ".1"
	p, err := startLlmtap(bin, "--upstream", "http://"+up.addr+"/v1", "--port", "0", "-o", out,
		"--grace", cfg.Grace.String(), "--upstream-timeout", "20s", "--connect-timeout", "2s")
	if err != nil {
		return nil, err
	}
	defer p.kill()
	logf("llmtap pid %d on %s, upstream %s", p.pid(), p.base, up.addr)

	rng := newRand(cfg.Seed)
	sec := newSecrets(rng)
	tail := min(cfg.Concurrency, cfg.Exchanges/10)
	plans := makePlans(rng, cfg.Exchanges, tail, fmt.Sprintf("%x", rng.Uint32()))
	mainPlans := plans[:len(plans)-tail]
	outcomes := make([]outcome, len(plans))
	cl := newClients(cfg.Concurrency)
	defer cl.closeIdle()

	r := &result{Exchanges: cfg.Exchanges, Concurrency: cfg.Concurrency, Faults: map[string]int{}}
	for _, pl := range plans {
		r.Faults[string(pl.fault)]++
	}
	if r.ProcStart, err = sampleProc(p.pid()); err != nil {
		return nil, err
	}

	// RSS, sampled while the load runs.
	var peak atomic.Int64
	peak.Store(r.ProcStart.RSSKiB)
	stopSampling := make(chan struct{})
	var sampling sync.WaitGroup
	sampling.Add(1)
	go func() {
		defer sampling.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-tick.C:
				if s, err := sampleProc(p.pid()); err == nil && s.RSSKiB > peak.Load() {
					peak.Store(s.RSSKiB)
				}
			}
		}
	}()
	defer func() {
		select {
		case <-stopSampling:
		default:
			close(stopSampling)
		}
		sampling.Wait()
	}()

	// The main phase: every plan but the tail, with the rotation at 30% and
	// the upstream's death and restart at 55%.
	var outage [2]time.Time
	var events sync.WaitGroup
	var eventErr error
	var eventMu sync.Mutex
	rotateAt, killAt := len(mainPlans)*30/100, len(mainPlans)*55/100
	var done atomic.Int64
	onDone := func() {
		switch int(done.Add(1)) {
		case rotateAt:
			events.Add(1)
			go func() {
				defer events.Done()
				logf("rotating the output (mv, then SIGHUP)")
				err := os.Rename(out, rotated)
				if err == nil {
					err = p.signal(syscall.SIGHUP)
				}
				eventMu.Lock()
				if err != nil {
					eventErr = errors.Join(eventErr, fmt.Errorf("rotate: %w", err))
				} else {
					r.Rotations++
				}
				eventMu.Unlock()
			}()
		case killAt:
			events.Add(1)
			go func() {
				defer events.Done()
				logf("killing the upstream for %v", cfg.Outage)
				start := time.Now()
				up.kill()
				time.Sleep(cfg.Outage)
				err := up.restart()
				end := time.Now()
				eventMu.Lock()
				outage = [2]time.Time{start, end}
				if err != nil {
					eventErr = errors.Join(eventErr, fmt.Errorf("restart the upstream: %w", err))
				}
				eventMu.Unlock()
			}()
		}
	}
	logf("driving %d exchanges, %d concurrent", len(mainPlans), cfg.Concurrency)
	work := make(chan int)
	var workers sync.WaitGroup
	for range cfg.Concurrency {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for i := range work {
				outcomes[i] = cl.run(ctx, p.base, plans[i], sec, nil)
				onDone()
				if s := outcomes[i].status; s == http.StatusBadGateway || s == http.StatusGatewayTimeout {
					// Back off, as SDKs do, so that the outage does not
					// burn through the rest of the plans.
					time.Sleep(backoff)
				}
			}
		}()
	}
	for i := range mainPlans {
		select {
		case work <- i:
		case <-ctx.Done():
		}
	}
	close(work)
	workers.Wait()
	events.Wait()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil, fmt.Errorf("soak timed out after %v", cfg.Timeout)
	} else if ctx.Err() != nil {
		return nil, errors.New("interrupted")
	}
	if eventErr != nil {
		return nil, eventErr
	}
	if !p.running() {
		return nil, fmt.Errorf("llmtap exited during the run (status %d); stderr:\n%s", p.exitCode, p.stderr.String())
	}

	// Measure at rest: the clients' idle connections closed.
	cl.closeIdle()
	time.Sleep(300 * time.Millisecond)
	if r.ProcEnd, err = sampleProc(p.pid()); err != nil {
		return nil, err
	}
	close(stopSampling)
	sampling.Wait()
	r.PeakRSSKiB = max(peak.Load(), r.ProcEnd.RSSKiB)
	if cfg.Rest > 0 {
		logf("resting %v", cfg.Rest)
		select {
		case <-time.After(cfg.Rest):
		case <-ctx.Done():
			return nil, errors.New("interrupted")
		}
		rest, err := sampleProc(p.pid())
		if err != nil {
			return nil, err
		}
		r.ProcRest, r.RestSeconds = &rest, cfg.Rest.Seconds()
	}

	// The tail: streams in flight when SIGTERM comes. The slow ones end
	// within the grace period; the hanging ones are cut when it is over.
	logf("starting %d streams, then SIGTERM (grace %v)", tail, cfg.Grace)
	var tailDone, tailStarted sync.WaitGroup
	for i := len(mainPlans); i < len(plans); i++ {
		tailDone.Add(1)
		tailStarted.Add(1)
		go func() {
			defer tailDone.Done()
			outcomes[i] = cl.run(ctx, p.base, plans[i], sec, tailStarted.Done)
		}()
	}
	startedCh := make(chan struct{})
	go func() { tailStarted.Wait(); close(startedCh) }()
	select {
	case <-startedCh:
	case <-time.After(20 * time.Second):
		return nil, errors.New("the streams for SIGTERM did not start within 20 s")
	}
	if err := p.signal(syscall.SIGTERM); err != nil {
		return nil, err
	}
	r.ExitStatus, err = p.wait(cfg.Grace + 20*time.Second)
	if err != nil {
		return nil, err
	}
	tailDone.Wait()
	r.Seconds = time.Since(began).Seconds()
	if !outage[0].IsZero() {
		r.OutageMS = float64(outage[1].Sub(outage[0]).Microseconds()) / 1000
	}
	logf("llmtap exited with status %d; verifying", r.ExitStatus)

	// Verify.
	r.RequestsSent = len(plans)
	for _, o := range outcomes {
		if o.writes > 1 {
			r.ClientRetries += o.writes - 1
		}
	}
	files, err := readOutputs(rotated, out)
	if err != nil {
		return nil, err
	}
	verify(r, files, plans, outcomes, up, sec, p.stderr.String(), outage)
	judge(r, cfg, len(files))
	r.Race = cfg.Race
	if !r.OK && cfg.Keep {
		_ = os.WriteFile(filepath.Join(dir, "llmtap.stderr"), []byte(p.stderr.String()), 0o600)
	}
	return r, nil
}

// newRand is the soak's deterministic source: one seed, one mix.
func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x50a6)) }

// judge sets OK from every check.
func judge(r *result, cfg config, nfiles int) {
	if r.RecordsWritten != r.RequestsSent+r.ClientRetries {
		r.problem("%d records for %d requests", r.RecordsWritten, r.RequestsSent)
	}
	if nfiles != 2 || r.Rotations != 1 {
		r.problem("%d output files after %d rotations, want 2 after 1", nfiles, r.Rotations)
	}
	if r.ExitStatus != 0 {
		r.problem("llmtap exited with status %d", r.ExitStatus)
	}
	rssLimit := int64(maxPeakRSSKiB)
	if cfg.Race {
		rssLimit *= 5 // the race detector's shadow memory
	}
	if r.PeakRSSKiB > rssLimit {
		r.problem("llmtap's RSS peaked at %d MiB (limit %d MiB)", r.PeakRSSKiB>>10, rssLimit>>10)
	}
	if limit := r.ProcStart.FDs + 2*cfg.Concurrency + fdSlack; r.ProcEnd.FDs > limit {
		r.problem("llmtap holds %d file descriptors at rest, %d at the start (limit %d): a leak", r.ProcEnd.FDs, r.ProcStart.FDs, limit)
	}
	if rest := r.ProcRest; rest != nil {
		// Anonymous memory only: pages of the binary also count in RSS,
		// and more of them are touched as more code paths run.
		limit := r.ProcStart.AnonKiB + restSlackKiB
		if cfg.Race {
			limit = r.ProcStart.AnonKiB + 5*restSlackKiB
		}
		if rest.AnonKiB > limit {
			r.problem("llmtap's anonymous RSS is %d MiB after %.0f s at rest, %d MiB at the start (limit %d MiB): memory not returned",
				rest.AnonKiB>>10, r.RestSeconds, r.ProcStart.AnonKiB>>10, limit>>10)
		}
	}
	if r.OutageMS == 0 {
		r.problem("the upstream was never killed")
	}
	r.OK = len(r.Problems) == 0 && r.clean()
}

// clean reports whether every count is clean: each id recorded exactly
// once, and nothing else wrong.
func (r *result) clean() bool {
	return r.IDsOnce == r.RequestsSent && r.IDsMissing == 0 && r.IDsDuplicated == 0 && r.UnknownRecords == 0 &&
		r.InvalidJSON == 0 && r.PartialLines == 0 &&
		r.BodyMismatchComplete == 0 && r.BodyNotPrefixCut == 0 && r.CutRecordedComplete == 0 &&
		r.StatusMismatch == 0 && r.ClientMismatch == 0 && r.UnexpectedKinds == 0 && r.Secrets == 0 && r.DataRaces == 0 &&
		r.ServerPanics == 0
}

// report prints the summary table and one JSON line.
func report(w io.Writer, r *result) {
	files := make([]string, len(r.FileRecords))
	for i, n := range r.FileRecords {
		files[i] = fmt.Sprint(n)
	}
	rows := [][2]string{
		{"requests sent", fmt.Sprint(r.RequestsSent)},
		{"client retries", fmt.Sprint(r.ClientRetries)},
		{"records written", fmt.Sprintf("%d (%d files: %s)", r.RecordsWritten, len(r.FileRecords), strings.Join(files, " + "))},
		{"soak ids recorded exactly once", fmt.Sprint(r.IDsOnce)},
		{"soak ids missing / duplicated", fmt.Sprintf("%d / %d", r.IDsMissing, r.IDsDuplicated)},
		{"records with no known soak id", fmt.Sprint(r.UnknownRecords)},
		{"records not valid JSON", fmt.Sprint(r.InvalidJSON)},
		{"partial lines", fmt.Sprint(r.PartialLines)},
		{"complete bodies differing from upstream", fmt.Sprint(r.BodyMismatchComplete)},
		{"cut bodies not a prefix of upstream", fmt.Sprint(r.BodyNotPrefixCut)},
		{"cut answers recorded as complete", fmt.Sprint(r.CutRecordedComplete)},
		{"statuses differing from upstream", fmt.Sprint(r.StatusMismatch)},
		{"client bodies differing from upstream", fmt.Sprint(r.ClientMismatch)},
		{"unexpected error kinds", fmt.Sprint(r.UnexpectedKinds)},
		{"secrets found in the output", fmt.Sprint(r.Secrets)},
		{"data races reported (--race)", fmt.Sprint(r.DataRaces)},
		{"llmtap server panics", fmt.Sprint(r.ServerPanics)},
		{"llmtap exit status", fmt.Sprint(r.ExitStatus)},
		{"llmtap RSS start / peak / end", fmt.Sprintf("%s / %s / %s", mib(r.ProcStart.RSSKiB), mib(r.PeakRSSKiB), mib(r.ProcEnd.RSSKiB))},
		{"llmtap RSS after the rest", restRSS(r)},
		{"llmtap anonymous RSS start / end / rest", fmt.Sprintf("%s / %s / %s", mib(r.ProcStart.AnonKiB), mib(r.ProcEnd.AnonKiB), restAnon(r))},
		{"llmtap threads start / end", fmt.Sprintf("%d / %d (goroutines: not exposed by llmtap)", r.ProcStart.Threads, r.ProcEnd.Threads)},
		{"llmtap open fds start / end", fmt.Sprintf("%d / %d", r.ProcStart.FDs, r.ProcEnd.FDs)},
		{"upstream outage", fmt.Sprintf("%.0f ms, %d exchanges disturbed, %d requests reached it twice", r.OutageMS, r.Disturbed, r.UpstreamTwice)},
		{"rotations", fmt.Sprint(r.Rotations)},
		{"streams cut by shutdown", fmt.Sprint(r.CutAtTerm)},
	}
	var faults, kinds []string
	for _, k := range sortedKeys(r.Faults) {
		faults = append(faults, fmt.Sprintf("%s %d", k, r.Faults[k]))
	}
	for _, k := range sortedKeys(r.ErrorKinds) {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, r.ErrorKinds[k]))
	}
	rows = append(rows, [2]string{"faults planned", strings.Join(faults, ", ")}, [2]string{"record error kinds", strings.Join(kinds, ", ")})
	fmt.Fprintf(w, "llmtap soak: %d exchanges, %d concurrent, %.1f s\n", r.Exchanges, r.Concurrency, r.Seconds)
	for _, row := range rows {
		fmt.Fprintf(w, "  %-42s %s\n", row[0], row[1])
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  PROBLEM: %s\n", p)
	}
	if r.OK {
		fmt.Fprintln(w, "RESULT: OK")
	} else {
		fmt.Fprintln(w, "RESULT: FAILED")
	}
	line, _ := json.Marshal(r)
	fmt.Fprintf(w, "%s\n", line)
}

// restRSS is the report's cell for the RSS after the rest.
func restRSS(r *result) string {
	if r.ProcRest == nil {
		return "not measured (--rest 0)"
	}
	return fmt.Sprintf("%s after %.0f s idle", mib(r.ProcRest.RSSKiB), r.RestSeconds)
}

func mib(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

func restAnon(r *result) string {
	if r.ProcRest == nil {
		return "-"
	}
	return mib(r.ProcRest.AnonKiB)
}
