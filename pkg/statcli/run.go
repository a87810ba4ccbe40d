// Package statcli is llmstat's command behind its flags: it reads records,
// hands them to pkg/stats, and writes tables, JSON, CSV, per-exchange rows,
// baseline comparisons and plots. It works on io.Readers and io.Writers and
// takes its ticker from the caller, so tests drive it without a terminal or
// a clock.
package statcli

import (
	"bufio"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/llmtap/llmtap/pkg/clikit"
	"github.com/llmtap/llmtap/pkg/jsonl"
	"github.com/llmtap/llmtap/pkg/record"
	"github.com/llmtap/llmtap/pkg/records"
	"github.com/llmtap/llmtap/pkg/stats"
)

// Format is how results are written.
type Format int

// The output formats.
const (
	Text Format = iota // aligned blocks, one per group
	JSON               // JSON lines, one object per group or window
	CSV                // a header, then one line per group or window
)

// Options is what llmstat was asked to do.
type Options struct {
	Files        []string // "-" is stdin; none means stdin
	Stats        stats.Options
	FromSchedule bool
	Format       Format
	Rows         bool
	Plot         string // a .svg or .png path, or ""
	Baselines    []string
	FailOn       []Threshold
	Every        time.Duration
	// NewTicker returns a channel that ticks every d and a function that
	// stops it; nil means time.NewTicker. Tests step --every with it.
	NewTicker func(d time.Duration) (<-chan time.Time, func())
}

// Run does what opts asks, reading stdin for "-", and returns the exit
// status: 0, 1 when a line was skipped, a threshold was breached or output
// failed, 2 when a file cannot be read.
func Run(opts Options, stdin io.Reader, stdout, stderr io.Writer) int {
	r := &runner{opts: opts, stdin: stdin, stderr: stderr,
		out: bufio.NewWriterSize(stdout, 64<<10)}
	status := r.run()
	if err := r.out.Flush(); err != nil && r.writeErr == nil {
		r.writeErr = err
	}
	if r.writeErr != nil {
		clikit.WriteFailed(stderr, "llmstat", r.writeErr)
		return clikit.ExitFailure
	}
	return status
}

type runner struct {
	opts     Options
	stdin    io.Reader
	stderr   io.Writer
	out      *bufio.Writer
	writeErr error
	skipped  bool
	// badInputs: an input could not be read (reported by the loop).
	badInputs bool
	agg       *stats.Aggregator
	csvCols   []string       // the CSV header, once written
	written   []stats.Result // closed windows written, kept for --plot only
}

func (r *runner) run() int {
	var base *stats.Aggregator
	if len(r.opts.Baselines) > 0 {
		bopts := r.opts.Stats
		bopts.Interval = 0
		base = stats.NewAggregator(bopts)
		if err := r.read(r.opts.Baselines, func(q *stats.Request) error { base.Add(q); return nil }); err != nil {
			return r.fail(err)
		}
		if r.badInputs {
			return clikit.ExitUsage // a comparison with part of the baseline misleads
		}
	}
	agg := stats.NewAggregator(r.opts.Stats)
	r.agg = agg
	var plot *plotState
	if r.opts.Plot != "" {
		plot = newPlotState(r.opts)
	}
	var rows *rowWriter
	if r.opts.Rows {
		rows = newRowWriter(r.out, r.opts.Format == CSV)
	}
	var mu sync.Mutex // guards agg and r.out while --every prints
	stopEvery := r.every(&mu, agg)
	n := 0
	err := r.read(r.opts.Files, func(q *stats.Request) error {
		n++
		if plot != nil {
			plot.add(q)
		}
		if rows != nil {
			if err := rows.write(q); err != nil {
				r.writeErr = err
				return err // no one reads on: stop
			}
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		agg.Add(q)
		// Windows that can no longer change are written at once and
		// forgotten.
		if closed := agg.TakeClosed(); len(closed) > 0 {
			r.write(closed)
			if plot != nil {
				r.written = append(r.written, closed...)
			}
		}
		return r.writeErr // set by --every's printer
	})
	stopEvery()
	if r.writeErr != nil {
		return clikit.ExitFailure // reported by Run
	}
	if err != nil {
		return r.fail(err)
	}
	status := clikit.ExitOK
	switch {
	case r.badInputs:
		status = clikit.ExitUsage
	case r.skipped:
		status = clikit.ExitFailure
	}
	if n == 0 {
		fmt.Fprintln(r.stderr, "llmstat: no records")
		return status
	}
	if rows == nil {
		results := agg.Results()
		if base != nil {
			if r.compare(base.Results(), results) {
				status = max(status, clikit.ExitFailure)
			}
		} else {
			r.write(results)
		}
		if plot != nil {
			plot.results = append(r.written, results...)
		}
	}
	if plot != nil {
		if err := plot.save(r.opts.Plot); err != nil {
			fmt.Fprintf(r.stderr, "llmstat: --plot: %v\n", err)
			status = max(status, clikit.ExitFailure)
		}
	}
	return status
}

// fail reports err and returns the exit status for it.
func (r *runner) fail(err error) int {
	fmt.Fprintf(r.stderr, "llmstat: %v\n", err)
	return clikit.ExitFailure
}

// every starts printing the cumulative results every --every, and returns
// the function that stops it.
func (r *runner) every(mu *sync.Mutex, agg *stats.Aggregator) func() {
	if r.opts.Every <= 0 {
		return func() {}
	}
	newTicker := r.opts.NewTicker
	if newTicker == nil {
		newTicker = func(d time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(d)
			return t.C, t.Stop
		}
	}
	tick, stop := newTicker(r.opts.Every)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-done:
				return
			case <-tick:
				mu.Lock()
				if agg.Len() > 0 && r.writeErr == nil {
					if r.opts.Format == Text {
						fmt.Fprintf(r.out, "--- after %d records ---\n", agg.Len())
					}
					r.write(agg.Results())
					if err := r.out.Flush(); err != nil {
						r.writeErr = err
					}
				}
				mu.Unlock()
			}
		}
	}()
	return func() {
		stop()
		close(done)
		<-finished
	}
}

// read reads the records of every file in order (stdin for "-" or none)
// with the shared records loop, calling fn with each; a bad line is
// reported with its FILE:LINE and skipped. An input that cannot be read is
// reported and left out; it makes the exit status 2. An error from fn ends
// the reading and is returned.
func (r *runner) read(files []string, fn func(*stats.Request) error) error {
	x := stats.NewExtractor()
	var q stats.Request
	s := records.Scanner{Scanner: jsonl.Scanner{Prog: "llmstat", Stdin: r.stdin, Stderr: r.stderr}}
	err := s.Scan(files, func(_ *jsonl.Reader, v record.View) error {
		x.Extract(v, &q)
		if r.opts.FromSchedule {
			stats.FromSchedule(&q)
		}
		return fn(&q)
	})
	if s.Warned() > 0 {
		r.skipped = true
	}
	if s.BadInputs() > 0 {
		r.badInputs = true
	}
	return err
}
