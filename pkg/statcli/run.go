// Package statcli is llmstat's command behind its flags: it reads records,
// hands them to pkg/stats, and writes tables, JSON, CSV, per-exchange rows,
// baseline comparisons and plots. It works on io.Readers and io.Writers and
// takes its ticker from the caller, so tests drive it without a terminal or
// a clock.
package statcli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/llmtap/llmtap/pkg/clikit"
	"github.com/llmtap/llmtap/pkg/jsonl"
	"github.com/llmtap/llmtap/pkg/record"
	"github.com/llmtap/llmtap/pkg/stats"
	"github.com/valyala/fastjson"
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
		if !isBrokenPipe(r.writeErr) {
			fmt.Fprintf(stderr, "llmstat: write: %v\n", r.writeErr)
		}
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
	agg      *stats.Aggregator
	csvCols  []string       // the CSV header, once written
	written  []stats.Result // closed windows written, kept for --plot only
}

// errUnreadable is a file that cannot be opened or read: exit status 2.
type errUnreadable struct{ err error }

func (e errUnreadable) Error() string { return e.err.Error() }

func (r *runner) run() int {
	var base *stats.Aggregator
	if len(r.opts.Baselines) > 0 {
		bopts := r.opts.Stats
		bopts.Interval = 0
		base = stats.NewAggregator(bopts)
		if err := r.read(r.opts.Baselines, func(q *stats.Request) { base.Add(q) }); err != nil {
			return r.fail(err)
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
	err := r.read(r.opts.Files, func(q *stats.Request) {
		n++
		if rows != nil {
			if err := rows.write(q); err != nil && r.writeErr == nil {
				r.writeErr = err
			}
		} else {
			mu.Lock()
			agg.Add(q)
			// Windows that can no longer change are written at once and
			// forgotten.
			if closed := agg.TakeClosed(); len(closed) > 0 {
				r.write(closed)
				if plot != nil {
					r.written = append(r.written, closed...)
				}
			}
			mu.Unlock()
		}
		if plot != nil {
			plot.add(q)
		}
	})
	stopEvery()
	if err != nil {
		return r.fail(err)
	}
	if r.writeErr != nil {
		return clikit.ExitFailure
	}
	status := clikit.ExitOK
	if r.skipped {
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
				status = clikit.ExitFailure
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
			status = clikit.ExitFailure
		}
	}
	return status
}

// fail reports err and returns the exit status for it.
func (r *runner) fail(err error) int {
	fmt.Fprintf(r.stderr, "llmstat: %v\n", err)
	var u errUnreadable
	if errors.As(err, &u) {
		return clikit.ExitUsage
	}
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

// read reads the records of every file in order (stdin for "-" or none),
// calling fn with each; a bad line is reported with its FILE:LINE and
// skipped.
func (r *runner) read(files []string, fn func(*stats.Request)) error {
	if len(files) == 0 {
		files = []string{"-"}
	}
	x := stats.NewExtractor()
	var q stats.Request
	for _, name := range files {
		var in io.Reader = r.stdin
		var f *os.File
		if name != "-" {
			var err error
			if f, err = os.Open(name); err != nil {
				return errUnreadable{err}
			}
			in = f
		}
		err := eachRecord(in, name, r.stderr, func(v record.View) {
			x.Extract(v, &q)
			if r.opts.FromSchedule {
				stats.FromSchedule(&q)
			}
			fn(&q)
		}, &r.skipped)
		if f != nil {
			f.Close()
		}
		if err != nil {
			return errUnreadable{err}
		}
	}
	return nil
}

// eachRecord calls fn with each record of in, warning on stderr with
// NAME:LINE about a line that is not a record, and setting *skipped.
func eachRecord(in io.Reader, name string, stderr io.Writer, fn func(record.View), skipped *bool) error {
	rd := jsonl.NewReader(in, name)
	var p fastjson.Parser
	for {
		line, err := rd.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if jsonl.Blank(line) {
			continue
		}
		v, err := record.ParseLine(&p, line)
		if err != nil {
			reason := err.Error()
			if rd.Unterminated() {
				reason = "truncated last line (no newline at the end): " + reason
			}
			fmt.Fprintf(stderr, "llmstat: %s: %s\n", rd.Pos(), reason)
			*skipped = true
			continue
		}
		fn(v)
	}
}

// isBrokenPipe reports a reader of stdout that went away (llmstat | head):
// not worth a message.
func isBrokenPipe(err error) bool {
	return errors.Is(err, syscall.EPIPE) || errors.Is(err, os.ErrClosed)
}
