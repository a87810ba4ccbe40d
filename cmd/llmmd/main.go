// Command llmmd turns llmtap's JSONL records into a Markdown transcript on
// stdout, one section per exchange, flushed as each record is read, so a
// live `llmtap | llmmd` shows every exchange as it ends.
package main

import (
	"bufio"
	"errors"
	"io"
	"os"

	"github.com/llmtap/llmtap/pkg/clikit"
	"github.com/llmtap/llmtap/pkg/jsonl"
	"github.com/llmtap/llmtap/pkg/markdown"
	"github.com/llmtap/llmtap/pkg/record"
	"github.com/llmtap/llmtap/pkg/records"
)

var version = "dev" // set with -ldflags "-X main.version=…"

const description = `Turn llmtap records into a readable Markdown transcript.

Reads JSONL records from the files given (- or none: stdin) and writes one section per
exchange to stdout, flushed as each record is read:

  llmtap --upstream https://api.openai.com/v1 | tee raw.jsonl | llmmd > chat.md
  llmgrep --status '>=400' old/*.jsonl | llmmd

A conversation is shown once: a request that continues an earlier exchange shows only
the messages it adds, with a link back (--full shows every request whole).
A line that is not a record is skipped with a warning naming its file and line.
Exit status: 0 when every line was rendered, 1 when a line was skipped or output failed,
2 on bad flags or a file that cannot be read.`

type cli struct {
	clikit.Common

	// Not type:"existingfile": that makes each path absolute, and warnings
	// should name a file as the user gave it.
	Files []string `arg:"" optional:"" placeholder:"FILE" help:"JSONL files of llmtap records, read in order; - or none reads stdin."`

	Full        bool `group:"Transcript" help:"Show every request whole, instead of only the messages it adds to the conversation it continues."`
	NoSystem    bool `group:"Transcript" help:"Leave out system and developer messages."`
	NoReasoning bool `group:"Transcript" help:"Leave out reasoning and thinking."`
	MaxChars    int  `group:"Transcript" default:"0" placeholder:"N" help:"Clip each text (message, reasoning, tool arguments or result) to N characters, saying how much was cut; 0 keeps everything."`
}

// Validate checks the values kong cannot.
func (c *cli) Validate() error {
	if c.MaxChars < 0 {
		return errors.New("--max-chars: must not be negative")
	}
	if err := clikit.CheckInputs(c.Files); err != nil {
		return err
	}
	return nil
}

func main() {
	clikit.CatchBrokenPipe()
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run parses args and renders; it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var c cli
	if status, stop := clikit.ParseArgs(&c, "llmmd", description, version, args, stdout, stderr, nil); stop {
		return status
	}
	return c.run(stdin, stdout, stderr)
}

// run renders every input and returns the exit status.
func (c *cli) run(stdin io.Reader, stdout, stderr io.Writer) int {
	out := bufio.NewWriterSize(stdout, 64<<10)
	md := markdown.New(out, markdown.Options{
		Full: c.Full, NoSystem: c.NoSystem, NoReasoning: c.NoReasoning, MaxChars: c.MaxChars,
	})
	s := records.Scanner{Scanner: jsonl.Scanner{Prog: "llmmd", Stdin: stdin, Stderr: stderr}}
	err := s.Scan(c.Files, func(rd *jsonl.Reader, v record.View) error {
		// A failed write is noticed at the flush.
		if err := md.Record(v); errors.Is(err, markdown.ErrBodyNotShown) {
			s.Warn(rd, err)
		}
		// Flush after each record, so a live pipe shows each exchange as
		// it ends.
		return out.Flush()
	})
	if err == nil {
		err = out.Flush()
	}
	if err != nil {
		clikit.WriteFailed(stderr, "llmmd", err)
		return clikit.ExitFailure
	}
	switch {
	case s.BadInputs() > 0:
		return clikit.ExitUsage
	case s.Warned() > 0:
		return clikit.ExitFailure
	}
	return clikit.ExitOK
}
