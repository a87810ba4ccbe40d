// Command llmstat reads llmtap records and reports serving metrics (TTFT,
// TPOT, ITL, latency, throughput, goodput, errors) per model or any other
// group, as a table, JSON or CSV, per exchange, as a plot, or compared with
// a baseline as a regression gate.
package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/llmtap/llmtap/pkg/clikit"
	"github.com/llmtap/llmtap/pkg/gctune"
	"github.com/llmtap/llmtap/pkg/statcli"
	"github.com/llmtap/llmtap/pkg/stats"
)

var version = "dev" // set with -ldflags "-X main.version=…"

const description = `Serving metrics from llmtap records: TTFT, TPOT, ITL, latency, throughput, goodput, errors.

Reads JSONL records from the files given (- or none: stdin) and reports, per group (by
default per model), what vllm bench serve reports for its own traffic:

  llmstat raw.jsonl
  llmgrep --model 'gpt-4o*' raw.jsonl | llmstat --by path --json
  llmstat --baseline monday.jsonl today.jsonl --fail-on 'p99_ttft_ms>+10%'
  tail -f raw.jsonl | llmstat --every 10s
  llmstat --rows --csv raw.jsonl > rows.csv      # one line per exchange, for DuckDB
  llmstat --by path --interval 1h --csv raw.jsonl # a time series: per path and hour
  llmreplay --target http://127.0.0.1:8001 --rate 50 prod.jsonl | llmstat --from-schedule

Latency statistics and token throughput count completed requests only; a request failed
when it has an error, no response, or a status of 400 or more. Percentiles are exact up to
a million samples of a metric per group, then come from a sketch within 1%, so memory does
not grow with the input (except --plot, which keeps up to 50,000 points per series and a
uniform sample past that). The metrics are defined in docs/llmstat.md. Replayed records (llmreplay) add the
statistics of their send lag and concurrency-slot wait; --from-schedule measures their
latency from when each was due, so a target that made the replay fall behind cannot
look fast.

Exit status: 0; 1 when a line was skipped, a --fail-on threshold was breached, or output
failed; 2 on bad flags or a file that cannot be read.`

type cli struct {
	clikit.Common

	Files []string `arg:"" optional:"" placeholder:"FILE" help:"JSONL files of llmtap records, read in order; - or none reads stdin."`

	By           string        `group:"Groups" default:"model" placeholder:"KEY[,KEY]" help:"Group by model, path, status, upstream, client, error, api, or none (one group). Default: ${default}."`
	Interval     time.Duration `group:"Groups" placeholder:"D" help:"One result per group per time window of this length (10s, 1m), by request start."`
	Percentiles  string        `group:"Metrics" default:"50,90,99" placeholder:"P[,P]" help:"Percentiles to report for each latency metric. Default: ${default}."`
	Goodput      string        `group:"Metrics" placeholder:"NAME:MS[,NAME:MS]" help:"Targets of a good request, vLLM's syntax: ttft:200,tpot:50,e2el:2000 (milliseconds); adds goodput and goodput_share."`
	FromSchedule bool          `group:"Metrics" help:"For replayed records, measure latency, TTFT, TTFO and TTFB from when each request was scheduled, not sent (wrk2's correction)."`

	JSON  bool          `group:"Output" xor:"format" help:"JSON lines: one object per group or window (or per exchange with --rows)."`
	CSV   bool          `group:"Output" xor:"format" help:"CSV with a header line."`
	Rows  bool          `group:"Output" help:"No aggregation: one line per exchange (JSON lines, or CSV with --csv)."`
	Plot  string        `group:"Output" placeholder:"FILE" help:"Also draw TTFT and latency over time and the CDFs of TTFT, TPOT and ITL to FILE (.svg or .png). It keeps the points it draws: up to 50,000 per series, a uniform sample past that."`
	Every time.Duration `group:"Output" placeholder:"D" help:"While reading, print the results so far every D (for tail -f or a live pipe); the final results at the end."`

	Baseline []string `group:"Comparison" placeholder:"FILE" help:"Compare with the records in FILE (repeatable): baseline, now and change for every metric of every group."`
	FailOn   []string `group:"Comparison" sep:"none" placeholder:"'METRIC OP CHANGE'" help:"With --baseline, exit 1 when a change crosses this (repeatable): 'p99_ttft_ms>+10%', 'error_rate>+0.005', 'output_throughput<-5%'."`

	parsed statcli.Options
}

// Validate checks the values kong cannot, and builds the options.
func (c *cli) Validate() error {
	o := &c.parsed
	by, err := stats.ParseKeys(c.By)
	if err != nil {
		return fmt.Errorf("--by: %w", err)
	}
	o.Stats.By = by
	if c.Interval < 0 {
		return errors.New("--interval: must not be negative")
	}
	o.Stats.Interval = c.Interval
	for f := range strings.SplitSeq(c.Percentiles, ",") {
		p, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || p < 0 || p > 100 || math.IsNaN(p) {
			return fmt.Errorf("--percentiles: %q is not a number from 0 to 100", f)
		}
		o.Stats.Percentiles = append(o.Stats.Percentiles, p)
	}
	if c.Goodput != "" {
		if o.Stats.Goodput, err = stats.ParseGoodput(c.Goodput); err != nil {
			return fmt.Errorf("--goodput: %w", err)
		}
	}
	o.FromSchedule = c.FromSchedule
	switch {
	case c.JSON:
		o.Format = statcli.JSON
	case c.CSV:
		o.Format = statcli.CSV
	}
	if c.Rows && (len(c.Baseline) > 0 || c.Every > 0 || c.Interval > 0) {
		return errors.New("--rows: not with --baseline, --every or --interval (rows are not aggregated)")
	}
	o.Rows = c.Rows
	if c.Plot != "" {
		if ext := strings.ToLower(filepath.Ext(c.Plot)); ext != ".svg" && ext != ".png" {
			return fmt.Errorf("--plot %s: want a file ending in .svg or .png", c.Plot)
		}
	}
	o.Plot = c.Plot
	if c.Every < 0 {
		return errors.New("--every: must not be negative")
	}
	o.Every = c.Every
	if len(c.FailOn) > 0 && len(c.Baseline) == 0 {
		return errors.New("--fail-on: needs --baseline")
	}
	if len(c.Baseline) > 0 && (c.Interval > 0 || c.Every > 0) {
		return errors.New("--baseline: not with --interval or --every")
	}
	for _, f := range c.FailOn {
		t, err := statcli.ParseThreshold(f)
		if err != nil {
			return err
		}
		o.FailOn = append(o.FailOn, t)
	}
	if err := clikit.CheckInputs(c.Baseline); err != nil {
		return err
	}
	if err := clikit.CheckInputs(c.Files); err != nil {
		return err
	}
	o.Files, o.Baselines = c.Files, c.Baseline
	return nil
}

// gcPolicy lets the heap grow 16 MiB past what is live, at most 4 times
// it: reading records allocates fast and keeps little (1-2 MiB besides the
// samples), so Go's default collects a 4 MB heap over and over, which
// costs about 6 % of the CPU time on a big file; the heap stays well
// under the 100 MB llmstat is held to.
var gcPolicy = gctune.Config{Headroom: 16 << 20, MinPercent: 25, MaxPercent: 400}

func main() {
	clikit.CatchBrokenPipe()
	gctune.Start(gcPolicy)
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run parses args and runs llmstat; it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var c cli
	if status, stop := clikit.ParseArgs(&c, "llmstat", description, version, args, stdout, stderr, nil); stop {
		return status
	}
	return statcli.Run(c.parsed, stdin, stdout, stderr)
}
