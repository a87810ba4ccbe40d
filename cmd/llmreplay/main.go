// Command llmreplay sends recorded requests again, to any target, at the
// original pace or at a chosen load, and records each attempt in the same
// JSONL format as llmtap, with a replay object tying it to the original.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/llmtap/llmtap/pkg/clikit"
	"github.com/llmtap/llmtap/pkg/gctune"
	"github.com/llmtap/llmtap/pkg/jsonl"
	"github.com/llmtap/llmtap/pkg/proxy"
	"github.com/llmtap/llmtap/pkg/record"
	"github.com/llmtap/llmtap/pkg/replay"
)

var version = "dev" // set with -ldflags "-X main.version=…"

const description = `Send recorded requests again and record the answers.

Each record read (files, or stdin) becomes one request to --target: the same method,
path (by llmtap's path rules), query, headers and body. Masked secrets cannot be sent
again: give them with -H and --param. Only inference endpoints are replayed unless --all.
Each attempt is written as one llmtap record (docs/record.md) with a "replay" object
(the original's id, when it was due, how late it went), so llmmd, llmgrep and llmstat
read the output unchanged:

  # a regression gate: staging against the recorded production traffic
  llmgrep --ok prod.jsonl | llmreplay --target http://staging:8000/v1 \
    -H "Authorization: Bearer $KEY" --concurrency 16 \
    | tee staging.jsonl | llmstat --baseline prod.jsonl --fail-on 'p99_ttft_ms>+10%'
  llmreplay --target http://127.0.0.1:8001 --speed 4 yesterday.jsonl | llmmd
  llmreplay --target http://127.0.0.1:8001 --rate 20 --duration 5m --loop prod.jsonl > load.jsonl
  llmstat --from-schedule load.jsonl     # latency from when each request was due
  llmreplay --target http://127.0.0.1:8001 --shard 2/3 prod.jsonl    # one of 3 machines
  llmreplay --target http://127.0.0.1:8001 --dry-run prod.jsonl      # what would go, when

When: by default the original pacing (--speed scales it); --rate R is an open loop of
R req/s (--burstiness B: gamma gaps, 1 = Poisson); --concurrency N alone is a closed
loop of N workers, and with --rate or --speed (--speed 1: the original pacing) a cap on
requests in flight, whose wait is recorded as replay.queued_ms.

Signals: SIGINT/SIGTERM stop sending, let requests in flight finish for --grace, write
every record and exit 0; a second signal cuts them at once.

Exit status: 0; 1 when an input line is not a record or a record could not be written;
2 on bad flags.`

type cli struct {
	clikit.Common

	Files []string `arg:"" optional:"" placeholder:"FILE" help:"Record files to replay; none or - reads stdin."`

	Target         string         `required:"" placeholder:"URL" group:"Requests" help:"Base URL to send to, e.g. http://staging:8000/v1; paths are mapped onto it as llmtap maps them onto its upstream."`
	Header         []string       `short:"H" sep:"none" placeholder:"'NAME: VALUE'" group:"Requests" help:"Set or replace a header on every request (repeatable), e.g. -H 'Authorization: Bearer $KEY'."`
	Param          []string       `sep:"none" placeholder:"NAME=VALUE" group:"Requests" help:"Set or replace a query parameter on every request (repeatable), e.g. --param key=$GEMINI_KEY."`
	Model          string         `placeholder:"NAME" group:"Requests" help:"Send every request to this model (the body's model, or the model in a Gemini path)."`
	Set            []string       `sep:"none" placeholder:"PATH=VALUE" group:"Requests" help:"Set a field of every JSON body (repeatable): --set max_tokens=64 --set stream_options.include_usage=true. VALUE is JSON when it parses as JSON, else a string; a dotted PATH creates the objects it needs."`
	All            bool           `group:"Requests" help:"Replay every record, not only inference endpoints (chat, completions, responses, messages, embeddings, moderations, audio, image generation, Gemini and Ollama generation)."`
	Timeout        clikit.Seconds `default:"300s" placeholder:"DURATION" group:"Requests" help:"Longest silence from the target, waiting for headers or between chunks, before the request fails (upstream_timeout). 0 disables it. Default: ${default}."`
	ConnectTimeout clikit.Seconds `default:"10s" placeholder:"DURATION" group:"Requests" help:"Longest wait to connect to the target. Default: ${default}."`

	Speed       float64        `placeholder:"X" group:"Schedule" help:"Original pacing, X times faster (default 1)."`
	Rate        float64        `placeholder:"R" group:"Schedule" help:"Open loop: R requests per second, evenly spaced, whatever the answers do."`
	Burstiness  float64        `placeholder:"B" group:"Schedule" help:"With --rate: gamma-distributed gaps of shape B and mean 1/R (1 is Poisson; below 1 is burstier)."`
	Seed        int64          `default:"-1" placeholder:"S" group:"Schedule" help:"Seed of the --burstiness gaps, for a reproducible schedule (default: random)."`
	Concurrency int            `placeholder:"N" group:"Schedule" help:"At most N requests in flight. Alone, a closed loop (the next goes as soon as one ends); with --rate or --speed, a cap (the wait is recorded as queued_ms)."`
	Count       int            `placeholder:"N" group:"Schedule" help:"Stop after N requests."`
	Duration    clikit.Seconds `placeholder:"DURATION" group:"Schedule" help:"Stop sending after DURATION (e.g. 5m)."`
	Loop        bool           `group:"Schedule" help:"Cycle through the input until --count or --duration stops it."`
	Shard       string         `placeholder:"I/N" group:"Schedule" help:"Replay only shard I of N (1-based): the records whose id hashes there, so N machines replay disjoint parts of one file."`

	Output string         `short:"o" default:"-" placeholder:"FILE" group:"Output" help:"Append records to FILE; - is stdout."`
	Quiet  bool           `short:"q" group:"Output" help:"No progress line and no summary on stderr."`
	Grace  clikit.Seconds `default:"10s" placeholder:"DURATION" group:"Output" help:"On SIGINT/SIGTERM, how long requests in flight may finish before they are cut (recorded with error.kind shutdown). Default: ${default}."`
	DryRun bool           `group:"Output" help:"Print what would be sent (scheduled time, method, URL, body bytes) and send nothing."`

	shard, shards int
}

// Validate rejects flags that do not go together, as usage errors.
func (c *cli) Validate() error {
	if c.Target != "" {
		if _, err := proxy.ParseUpstream(c.Target); err != nil {
			return fmt.Errorf("--target: %w", err)
		}
	}
	switch {
	case c.Speed < 0 || c.Rate < 0 || c.Burstiness < 0 || c.Concurrency < 0 || c.Count < 0:
		return errors.New("--speed, --rate, --burstiness, --concurrency and --count must not be negative")
	case c.Speed > 0 && c.Rate > 0:
		return errors.New("--speed scales the original pacing; --rate replaces it: give one")
	case c.Burstiness > 0 && c.Rate == 0:
		return errors.New("--burstiness needs --rate")
	case c.Loop && c.Count == 0 && c.Duration == 0:
		return errors.New("--loop needs --count or --duration to stop it")
	}
	for _, h := range c.Header {
		if _, err := replay.ParseHeader(h); err != nil {
			return fmt.Errorf("-H: %w", err)
		}
	}
	for _, p := range c.Param {
		if _, err := replay.ParseParam(p); err != nil {
			return fmt.Errorf("--param: %w", err)
		}
	}
	for _, s := range c.Set {
		if _, err := replay.ParseSet(s); err != nil {
			return fmt.Errorf("--set: %w", err)
		}
	}
	if err := clikit.CheckInputs(c.Files); err != nil {
		return err
	}
	if c.Shard != "" {
		i, n, ok := strings.Cut(c.Shard, "/")
		c.shard, _ = strconv.Atoi(i)
		c.shards, _ = strconv.Atoi(n)
		if !ok || c.shards < 1 || c.shard < 1 || c.shard > c.shards {
			return fmt.Errorf("--shard %q: want I/N with 1 ≤ I ≤ N", c.Shard)
		}
	}
	return nil
}

// gcPolicy gives the heap more room than llmtap's between collections: a
// load generator's collections cost request rate, and its memory bar is
// 150 MB with a thousand streams in flight, not 100. Under plain load the
// heap stays near 40 MB; with a thousand streams (about 35 MiB live) the
// collector runs at GOGC 137.
var gcPolicy = gctune.Config{Headroom: 48 << 20, MinPercent: 25, MaxPercent: 1000}

func main() {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	// With SIGPIPE handled, a write to a stdout whose reader has gone
	// fails with EPIPE, which is reported, instead of killing llmreplay.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	gctune.Start(gcPolicy)
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, sigs))
}

// run parses args and replays; it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, sigs <-chan os.Signal) int {
	var c cli
	if status, stop := clikit.ParseArgs(&c, "llmreplay", description, version, args, stdout, stderr, nil); stop {
		return status
	}
	return c.run(stdin, stdout, stderr, sigs)
}

// pace is the schedule the flags ask for.
func (c *cli) pace() replay.Pace {
	seed := uint64(c.Seed)
	if c.Seed < 0 {
		seed = rand.Uint64()
	}
	return replay.Pace{
		Speed:      c.Speed,
		Rate:       c.Rate,
		Burstiness: c.Burstiness,
		Seed:       seed,
		Closed:     c.Concurrency > 0 && c.Rate == 0 && c.Speed == 0,
		Count:      c.Count,
		Duration:   c.Duration.Duration(),
		Loop:       c.Loop,
	}
}

// reader is the record reader the flags ask for (flags already validated).
func (c *cli) reader(warn func(string)) *replay.Reader {
	rd := &replay.Reader{Model: c.Model, All: c.All, Shard: c.shard, Shards: c.shards, Warn: warn}
	for _, h := range c.Header {
		x, _ := replay.ParseHeader(h)
		rd.Headers = append(rd.Headers, x)
	}
	for _, p := range c.Param {
		x, _ := replay.ParseParam(p)
		rd.Params = append(rd.Params, x)
	}
	for _, s := range c.Set {
		x, _ := replay.ParseSet(s)
		rd.Sets = append(rd.Sets, x)
	}
	return rd
}

// inputs holds the requests read and what was skipped.
type inputs struct {
	reqs      []replay.Request
	starts    []time.Time
	endpoint  int // skipped: not an inference endpoint
	truncated int // skipped: request body cut or not kept
	bad       int // lines that are not records, and inputs that could not be read
}

// read reads every input whole: a schedule needs the number of requests
// and, under the original pacing, their order by start time. Only the
// request parts are kept. A line that is not a record, or a request body
// not kept whole, is warned about with its file and line.
func (c *cli) read(stdin io.Reader, stderr io.Writer, logger *log.Logger) *inputs {
	in := &inputs{}
	rd := c.reader(func(msg string) { logger.Print(msg) })
	sc := &jsonl.Scanner{Prog: "llmreplay", Stdin: stdin, Stderr: stderr}
	_ = sc.Scan(c.Files, func(pos *jsonl.Reader, line []byte) error {
		req, skip, err := rd.Read(line)
		switch {
		case err != nil:
			return jsonl.Skip(err)
		case skip == replay.SkipEndpoint:
			in.endpoint++
		case skip == replay.SkipTruncated:
			sc.Warn(pos, fmt.Errorf("skipped record %s: its request body was not kept whole", req.Of))
			in.truncated++
		case skip == replay.Keep:
			in.reqs = append(in.reqs, req)
			in.starts = append(in.starts, req.Start)
		}
		return nil // the function never fails: Scan returns nil
	})
	in.bad = sc.Skipped() + sc.BadInputs()
	return in
}

// run replays and returns the exit status.
func (c *cli) run(stdin io.Reader, stdout, stderr io.Writer, sigs <-chan os.Signal) int {
	logger := log.New(stderr, "llmreplay: ", 0)
	status := clikit.ExitOK

	in := c.read(stdin, stderr, logger)
	if in.bad > 0 {
		status = clikit.ExitFailure
	}
	pace := c.pace()
	sched := replay.NewSchedule(pace, in.starts)

	if c.DryRun {
		return max(status, c.dryRun(stdout, logger, sched, in))
	}

	w, err := jsonl.NewWriter(clikit.OpenOutput(c.Output, stdout), jsonl.Options{Release: proxy.Release})
	if err != nil {
		logger.Printf("%v", err)
		return clikit.ExitFailure
	}
	tally := &replay.Tally{}
	showProgress := c.showProgress(stderr)
	if showProgress {
		// Someone watches: read each record's time to first token for
		// the progress line.
		tally.Next = proxy.LineSink{W: tally.MeasureTTFT(w)}
	} else {
		tally.Next = proxy.LineSink{W: w}
	}
	sender, err := replay.NewSender(proxy.Config{
		Upstream:       c.Target,
		Sink:           tally,
		ConnectTimeout: c.ConnectTimeout.Duration(),
		IdleTimeout:    c.Timeout.Duration(),
		ErrorLog:       logger,
	})
	if err != nil {
		_ = w.Close()
		logger.Printf("%v", err)
		return clikit.ExitUsage
	}

	stop, stopSending := context.WithCancel(context.Background())
	defer stopSending()
	sendCtx, cut := context.WithCancelCause(context.Background())
	defer cut(nil)
	runner := &replay.Runner{
		Schedule:    sched,
		Requests:    in.reqs,
		Concurrency: c.Concurrency,
		Duration:    pace.Duration,
		Send:        sender.Send,
		SendCtx:     sendCtx,
	}

	// Signals and a failed output: the first signal stops sending, a
	// second (or the end of the grace period) cuts what is in flight.
	var mu sync.Mutex
	writeFailed := false
	done := make(chan struct{})
	signalled := make(chan struct{})
	go func() {
		n := 0
		for {
			select {
			case sig := <-sigs:
				n++
				if n == 1 {
					logger.Printf("%v: stopped sending; finishing requests in flight (up to %v; signal again to cut them now)", sig, c.Grace.Duration())
					stopSending()
					close(signalled)
					continue
				}
				cut(proxy.ErrShutdown)
				return
			case err := <-w.Failed():
				logger.Printf("%v; stopping", err)
				mu.Lock()
				writeFailed = true
				mu.Unlock()
				stopSending()
				cut(proxy.ErrShutdown)
				return
			case <-done:
				return
			}
		}
	}()

	start := time.Now()
	progressDone := func() {}
	if showProgress {
		progressDone = progress(stderr.(*os.File), tally, runner, sched.Total(), start)
	}
	runner.Run(stop)
	ended := make(chan struct{})
	go func() { runner.Wait(); close(ended) }()
	select {
	case <-signalled:
		// Stopped by a signal: the requests in flight get the grace period.
		select {
		case <-ended:
		case <-time.After(c.Grace.Duration()):
			cut(proxy.ErrShutdown)
		}
	case <-ended:
	}
	<-ended
	sender.Wait()
	close(done)
	progressDone()
	closeErr := w.Close()
	elapsed := time.Since(start)

	mu.Lock()
	if writeFailed {
		status = clikit.ExitFailure
	}
	mu.Unlock()
	if closeErr != nil && status == clikit.ExitOK {
		logger.Printf("%v", closeErr)
		status = clikit.ExitFailure
	}
	if !c.Quiet {
		logger.Print(summary(tally.Counts(), runner.Sent(), elapsed, in))
	}
	return status
}

// summary is the line printed at the end.
func summary(cn replay.Counts, sent int, elapsed time.Duration, in *inputs) string {
	rate := 0.0
	if elapsed > 0 {
		rate = float64(sent) / elapsed.Seconds()
	}
	s := fmt.Sprintf("sent %d in %s (%.1f req/s): %d ok, %d HTTP errors, %d transport errors",
		sent, elapsed.Round(time.Millisecond), rate, cn.OK, cn.HTTPErrors, cn.TransportErrors)
	if cn.Shutdown > 0 {
		s += fmt.Sprintf(" (%d cut by shutdown)", cn.Shutdown)
	}
	s += fmt.Sprintf("; skipped %d by endpoint policy, %d truncated", in.endpoint, in.truncated)
	if in.bad > 0 {
		s += fmt.Sprintf(", %d lines or inputs unreadable", in.bad)
	}
	return s
}

// progressInterval is how often the progress line is redrawn (at most 10
// times a second).
const progressInterval = 100 * time.Millisecond

// showProgress reports whether to draw the progress line: on a terminal,
// unless -q.
func (c *cli) showProgress(stderr io.Writer) bool {
	f, ok := stderr.(*os.File)
	return !c.Quiet && ok && isTerminal(f)
}

// progress draws the live status line on f and returns a function that
// stops it and clears the line.
func progress(f *os.File, tally *replay.Tally, runner *replay.Runner, total int, start time.Time) func() {
	stop := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(progressInterval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				fmt.Fprint(f, "\r\x1b[K")
				return
			case <-t.C:
				fmt.Fprintf(f, "\r%s\x1b[K", tally.Progress(runner.Sent(), total, runner.InFlight(), time.Since(start)))
			}
		}
	}()
	return func() { close(stop); <-stopped }
}

// isTerminal reports whether f is a character device, as a terminal is.
func isTerminal(f *os.File) bool {
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// dryRun prints the schedule: when each request would go (seconds from
// the start, or "+" when it goes as soon as a concurrency slot is free),
// its method, URL and body size.
func (c *cli) dryRun(stdout io.Writer, logger *log.Logger, sched *replay.Schedule, in *inputs) int {
	tap, err := replay.NewSender(proxy.Config{Upstream: c.Target, Sink: discardSink{}})
	if err != nil {
		logger.Printf("%v", err)
		return clikit.ExitUsage
	}
	out := bufio.NewWriter(stdout)
	closed := c.pace().Closed
	limit := -1
	if closed && sched.Total() < 0 {
		// A closed loop bounded by time has no end to print: show one pass.
		limit = len(in.reqs)
		logger.Printf("a closed loop runs until --duration; showing one pass through the input")
	}
	n := 0
	for ; limit < 0 || n < limit; n++ {
		item, ok := sched.Next()
		if !ok {
			break
		}
		req := &in.reqs[item.Index]
		when := fmt.Sprintf("%.6f", item.At.Seconds())
		if closed {
			when = "+"
		}
		fmt.Fprintf(out, "%s\t%s\t%s\t%d\n", when, req.Method, tap.URL(req), len(req.Body))
	}
	if err := out.Flush(); err != nil {
		logger.Printf("write: %v", err)
		return clikit.ExitFailure
	}
	if !c.Quiet {
		logger.Printf("dry run: would send %d; skipped %d by endpoint policy, %d truncated", n, in.endpoint, in.truncated)
	}
	return clikit.ExitOK
}

// discardSink is the sink of the dry run's Tap, which never sends.
type discardSink struct{}

func (discardSink) Record(*record.Record) {}
