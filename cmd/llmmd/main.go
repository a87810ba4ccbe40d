// Command llmmd turns llmtap's JSONL records into a Markdown transcript on
// stdout, one section per exchange, flushed as each record is read, so a
// live `llmtap | llmmd` shows every exchange as it ends.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/llmtap/llmtap/pkg/clikit"
	"github.com/llmtap/llmtap/pkg/jsonl"
	"github.com/llmtap/llmtap/pkg/markdown"
	"github.com/llmtap/llmtap/pkg/provider"
	"github.com/llmtap/llmtap/pkg/record"
	"github.com/valyala/fastjson"
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
	for _, f := range c.Files {
		if f == "-" {
			continue
		}
		if info, err := os.Stat(f); err != nil {
			return err
		} else if info.IsDir() {
			return fmt.Errorf("%s: is a directory", f)
		}
	}
	return nil
}

func main() {
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
	m := &mdRun{
		out:    out,
		stderr: stderr,
		r: markdown.New(out, markdown.Options{
			Full: c.Full, NoSystem: c.NoSystem, NoReasoning: c.NoReasoning, MaxChars: c.MaxChars,
		}),
	}
	files := c.Files
	if len(files) == 0 {
		files = []string{"-"}
	}
	status := clikit.ExitOK
	for _, name := range files {
		var in io.Reader = stdin
		var f *os.File
		if name != "-" {
			var err error
			if f, err = os.Open(name); err != nil {
				fmt.Fprintf(stderr, "llmmd: %v\n", err)
				return clikit.ExitUsage
			}
			in = f
		}
		st, err := m.file(in, name)
		if f != nil {
			f.Close()
		}
		if err != nil {
			if !isBrokenPipe(err) {
				fmt.Fprintf(stderr, "llmmd: %v\n", err)
			}
			return clikit.ExitFailure
		}
		status = max(status, st)
	}
	if err := out.Flush(); err != nil {
		if !isBrokenPipe(err) {
			fmt.Fprintf(stderr, "llmmd: write: %v\n", err)
		}
		return clikit.ExitFailure
	}
	return status
}

// mdRun is the state shared by the inputs of one run.
type mdRun struct {
	out    *bufio.Writer
	stderr io.Writer
	r      *markdown.Renderer
	p      fastjson.Parser
}

// file renders the records of one input. It returns ExitFailure when a
// line was skipped, and an error when reading the input or writing the
// output failed.
func (m *mdRun) file(in io.Reader, name string) (int, error) {
	rd := jsonl.NewReader(in, name)
	status := clikit.ExitOK
	for {
		line, err := rd.Next()
		if err == io.EOF {
			return status, nil
		}
		if err != nil {
			return status, err
		}
		if jsonl.Blank(line) {
			continue
		}
		if reason := m.line(line); reason != "" {
			if rd.Unterminated() {
				reason = "truncated last line (no newline at the end): " + reason
			}
			fmt.Fprintf(m.stderr, "llmmd: %s: %s\n", rd.Pos(), reason)
			status = clikit.ExitFailure
			continue
		}
		// Flush after each record, so a live pipe shows each exchange as
		// it ends.
		if err := m.out.Flush(); err != nil {
			return status, fmt.Errorf("write: %w", err)
		}
	}
}

// line renders one line; it returns a warning, or "": why the line was
// skipped, or which body of a rendered record could not be read. A failed
// write is noticed at the flush that follows.
func (m *mdRun) line(line []byte) string {
	view, err := record.ParseLine(&m.p, line)
	if err != nil {
		return err.Error()
	}
	warning := ""
	for _, part := range []string{"request", "response"} {
		if _, err := view.BodyBytes(part); err != nil && warning == "" {
			warning = part + " body not shown: " + err.Error()
		}
	}
	_ = m.r.Render(view, provider.Parse(view))
	return warning
}

// isBrokenPipe reports a reader of stdout that went away (llmmd | head):
// not worth a message.
func isBrokenPipe(err error) bool {
	return errors.Is(err, syscall.EPIPE) || errors.Is(err, os.ErrClosed)
}
