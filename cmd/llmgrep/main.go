// Command llmgrep prints the llmtap records that match its filters, byte
// for byte, so its output feeds llmmd, jq, wc -l or another llmgrep.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kong"
	"github.com/llmtap/llmtap/pkg/clikit"
	"github.com/llmtap/llmtap/pkg/filter"
	"github.com/llmtap/llmtap/pkg/jsonl"
	"github.com/llmtap/llmtap/pkg/record"
)

var version = "dev" // set with -ldflags "-X main.version=…"

const description = `Print the llmtap records that match, byte for byte.

Reads JSONL records from the files given (- or none: stdin). Filters combine with AND;
a filter given twice matches either value (OR):

  llmgrep --status '>=400' old/*.jsonl | llmmd
  llmgrep --model 'gpt-4o*' --tool get_weather raw.jsonl | wc -l
  llmgrep -i 'rate limit' --since 1h raw.jsonl
  llmgrep --where 'request.body.temperature>0.5' --where 'response.headers.x-request-id=abc' raw.jsonl

PATTERN or FILE: without -e, the first argument is the PATTERN unless it is - or an
existing file (so 'llmgrep --status 500 raw.jsonl' reads raw.jsonl). A first argument
that ends in .jsonl, .json or .ndjson but does not exist is an error, not a pattern.
Use -e PATTERN to search for text that is also a file name; with -e, every argument
is a file.

A line that is not a record is skipped with a warning naming its file and line; it
never matches, not even with -v.
Exit status: 0 when a record was selected, 1 when none was, 2 on bad arguments or an
input that cannot be read (grep's convention).`

type cli struct {
	clikit.Common

	Args []string `arg:"" optional:"" name:"pattern-or-file" placeholder:"[PATTERN] [FILE]" help:"A regular expression over the conversation text (see PATTERN or FILE above), then JSONL files; - or none reads stdin."`

	Regexp     []string `short:"e" name:"regexp" sep:"none" placeholder:"PATTERN" group:"Text" help:"Search the conversation text (messages, reasoning, tool names, arguments and results, the response, streams reassembled) for PATTERN. Repeat for OR. With -e, every argument is a file."`
	IgnoreCase bool     `short:"i" group:"Text" help:"Ignore case in PATTERN."`
	Fixed      bool     `short:"F" name:"fixed-strings" group:"Text" help:"PATTERN is a fixed string, not a regular expression."`

	Model     []string   `sep:"none" placeholder:"GLOB" group:"Filters" help:"The model in the request body, else in the response (or a Gemini path). Globs: * ? [a-z]."`
	Path      []string   `sep:"none" placeholder:"GLOB" group:"Filters" help:"The request path, without the query: /v1/chat/completions, '*/messages'."`
	Method    []string   `sep:"none" placeholder:"METHOD" group:"Filters" help:"The HTTP method, any case."`
	ID        []string   `name:"id" sep:"none" placeholder:"GLOB" group:"Filters" help:"The record id."`
	Status    []string   `sep:"none" placeholder:"EXPR" group:"Filters" help:"The upstream's status: 200, 4xx, >=400, <500, !=200, !=2xx. A record without a response never matches."`
	Error     errorFlag  `placeholder:"KIND" group:"Filters" help:"Exchanges that failed (error.kind set); --error=KIND for one kind: upstream_unreachable, upstream_timeout, upstream_aborted, client_cancelled, shutdown, body_truncated, or a glob (upstream_*). '--error KIND' with a space works for those kinds. HTTP error statuses: --status."`
	OK        bool       `name:"ok" group:"Filters" help:"Exchanges that completed: a 2xx response and no error."`
	Stream    streamFlag `negatable:"" group:"Filters" help:"Streamed exchanges (an event-stream or NDJSON response, as docs/record.md defines it); --no-stream for the others. A request that asked for a stream and got no response: --where request.body.stream=true."`
	Tool      []string   `sep:"none" placeholder:"NAME" group:"Filters" help:"A tool called in the response (any provider). Globs: * ? [a-z]."`
	InRequest bool       `group:"Filters" help:"With --tool: also match calls (and tool results) in the request's history."`
	Slower    []string   `sep:"none" placeholder:"DURATION" group:"Filters" help:"Total duration above DURATION (250ms, 2s, 1m)."`
	Faster    []string   `sep:"none" placeholder:"DURATION" group:"Filters" help:"Total duration below DURATION."`
	TTFBOver  []string   `name:"ttfb-over" sep:"none" placeholder:"DURATION" group:"Filters" help:"Time to first byte above DURATION (a record without one never matches)."`
	Since     []string   `sep:"none" placeholder:"TIME" group:"Filters" help:"Started at or after TIME: RFC 3339 (2026-01-02T15:04:05Z), a date (2026-01-02, UTC) or a time ago (30m, 1h, 2d)."`
	Until     []string   `sep:"none" placeholder:"TIME" group:"Filters" help:"Started before TIME (same forms as --since)."`
	Where     []string   `sep:"none" placeholder:"'PATH OP VALUE'" group:"Filters" help:"Any field by a dotted path: request.body.temperature>0.5, response.headers.x-request-id=abc, request.body.stream=true, request.body.messages[-1].role=tool, request.body.tools.*.function.name~^get_. OP: = != < <= > >= ~ !~. Numbers compare as numbers; true, false, null; \"quoted\" or bare strings; a missing field is null. Repeat for AND."`

	Invert       bool `short:"v" name:"invert-match" group:"Output" help:"Select the records that do not match."`
	Count        bool `short:"c" xor:"mode" group:"Output" help:"Print the number of selected records (per file, as FILE:N, with -H)."`
	MaxCount     int  `short:"m" default:"-1" placeholder:"N" group:"Output" help:"Stop after N selected records in all."`
	List         bool `short:"l" name:"files-with-matches" xor:"mode" group:"Output" help:"Print the name of each file with a selected record."`
	WithFilename bool `short:"H" name:"with-filename" group:"Output" help:"Prefix each line with its file name and a colon, like grep."`
	IDs          bool `name:"ids" xor:"mode" group:"Output" help:"Print the ids of the selected records, one a line."`

	now     time.Time // for relative times; zero means time.Now()
	matcher *filter.Matcher
	files   []string
}

// Validate resolves PATTERN and FILEs and compiles the filters, so a bad
// argument is a usage error (exit 2) that names its flag.
func (c *cli) Validate() error {
	patterns, files, err := splitArgs(c.Regexp, c.Args)
	if err != nil {
		return err
	}
	c.files = files
	if c.MaxCount < -1 {
		return fmt.Errorf("--max-count %d: want a number of records, 0 or more", c.MaxCount)
	}
	spec := filter.Spec{
		Models: c.Model, Paths: c.Path, Methods: c.Method, IDs: c.ID, Status: c.Status,
		Errors: c.Error, OK: c.OK, Stream: c.Stream.value(),
		Tools: c.Tool, InRequest: c.InRequest,
		Slower: c.Slower, Faster: c.Faster, TTFBOver: c.TTFBOver,
		Since: c.Since, Until: c.Until, Where: c.Where,
		Patterns: patterns, Fixed: c.Fixed, IgnoreCase: c.IgnoreCase,
		Invert: c.Invert, Now: c.now,
	}
	c.matcher, err = filter.Compile(spec)
	return err
}

// splitArgs applies the PATTERN-or-FILE rule: with -e every argument is a
// file; without, the first argument is the pattern unless it is - or an
// existing file. Files that do not exist are reported here, as usage
// errors, so a typo in a file name never silently becomes a pattern that
// waits on stdin.
func splitArgs(regexps, args []string) (patterns, files []string, err error) {
	patterns = regexps
	if len(regexps) == 0 && len(args) > 0 && !isInput(args[0]) {
		first := args[0]
		for _, ext := range []string{".jsonl", ".json", ".ndjson"} {
			if strings.HasSuffix(first, ext) {
				return nil, nil, fmt.Errorf("%s: no such file (to search the text for it, use -e %s)", first, strconv.Quote(first))
			}
		}
		patterns, args = args[:1], args[1:]
	}
	if err := clikit.CheckInputs(args); err != nil {
		return nil, nil, err
	}
	return patterns, args, nil
}

func isInput(arg string) bool {
	if arg == "-" {
		return true
	}
	_, err := os.Stat(arg)
	return err == nil
}

// errorFlag is --error with an optional kind, in kong's optional-value
// pattern (a bool mapper that takes a value only after =): --error means
// any error (""), --error=KIND one kind. --error KIND with a space also
// takes KIND when it is exactly one of the kinds llmtap writes (permute
// keeps it next to the flag), so that form, the one a reader of the docs
// tries first, works too; anything else after a bare --error stays a
// pattern or a file.
type errorFlag []string

var _ kong.BoolMapperValue = (*errorFlag)(nil)

// Decode implements kong.MapperValue.
func (e *errorFlag) Decode(ctx *kong.DecodeContext) error {
	t := ctx.Scan.Peek()
	switch {
	case t.Type == kong.FlagValueToken:
		ctx.Scan.Pop()
		*e = append(*e, fmt.Sprint(t.Value))
	case t.Type == kong.UntypedToken && record.IsErrorKind(t.String()):
		ctx.Scan.Pop()
		*e = append(*e, t.String())
	default:
		*e = append(*e, "")
	}
	return nil
}

// IsBool implements kong.BoolMapperValue: --error needs no value.
func (e *errorFlag) IsBool() bool { return true }

// streamFlag is --stream / --no-stream: unset, true or false.
type streamFlag struct {
	set, on bool
}

var _ kong.BoolMapperValue = (*streamFlag)(nil)

// Decode implements kong.MapperValue; kong passes false for --no-stream.
func (s *streamFlag) Decode(ctx *kong.DecodeContext) error {
	s.set, s.on = true, true
	if t := ctx.Scan.Peek(); t.Type == kong.FlagValueToken {
		ctx.Scan.Pop()
		switch v := t.Value.(type) {
		case bool:
			s.on = v
		default:
			b, err := strconv.ParseBool(fmt.Sprint(v))
			if err != nil {
				return fmt.Errorf("--stream=%v: want true or false", v)
			}
			s.on = b
		}
	}
	return nil
}

// IsBool implements kong.BoolMapperValue.
func (s *streamFlag) IsBool() bool { return true }

func (s streamFlag) value() *bool {
	if !s.set {
		return nil
	}
	return &s.on
}

func main() {
	clikit.CatchBrokenPipe()
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run parses args and filters; it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runAt(time.Time{}, args, stdin, stdout, stderr)
}

// runAt is run with the time relative --since and --until count from
// (zero: now), for tests.
func runAt(now time.Time, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := cli{now: now}
	reorder := func(k *kong.Kong, args []string) []string { return permute(args, k.Model.AllFlags(false)) }
	if status, stop := clikit.ParseArgs(&c, "llmgrep", description, version, args, stdout, stderr, reorder); stop {
		return status
	}
	return c.run(stdin, stdout, stderr)
}

// permute moves the arguments that are not flags (PATTERN and FILEs) after
// every flag and a "--", keeping their order, as GNU grep does, so that
// 'llmgrep Paris -c raw.jsonl' and 'llmgrep raw.jsonl --status 500 old.jsonl'
// work: kong takes a list of positional arguments only in one piece. A flag
// that takes a value keeps the argument after it (--status 500, -m 2, but
// not --status=500 or -m2); a bare --error keeps the next argument only
// when it is an error kind (see errorFlag). Everything after "--" is
// positional, so a pattern that starts with - still works.
func permute(args []string, groups [][]*kong.Flag) []string {
	takesValue := map[string]bool{}
	for _, flags := range groups {
		for _, f := range flags {
			v := !f.IsBool() && !f.IsCounter()
			takesValue["--"+f.Name] = v
			for _, a := range f.Aliases {
				takesValue["--"+a] = v
			}
			if f.Short != 0 {
				takesValue["-"+string(f.Short)] = v
			}
		}
	}
	var flags, positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() {
			if i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
		}
		switch {
		case a == "--":
			positional = append(positional, args[i+1:]...)
			i = len(args)
		case a == "-" || !strings.HasPrefix(a, "-"):
			positional = append(positional, a)
		case strings.HasPrefix(a, "--"):
			flags = append(flags, a)
			if a == "--error" && i+1 < len(args) && record.IsErrorKind(args[i+1]) || takesValue[a] {
				next()
			}
		default: // -v, -Hc, -m2, -m 2, -vm 2
			flags = append(flags, a)
			for j := 1; j < len(a); j++ {
				if takesValue["-"+a[j:j+1]] {
					if j == len(a)-1 {
						next()
					}
					break
				}
			}
		}
	}
	if len(positional) == 0 {
		return flags
	}
	return append(append(flags, "--"), positional...)
}

// grepRun is the state of one run over all inputs.
type grepRun struct {
	c        *cli
	out      *bufio.Writer
	selected int           // records selected so far, in all inputs
	in       *jsonl.Reader // the input being read
	n        int           // records selected in it
}

// run filters every input and returns the exit status.
func (c *cli) run(stdin io.Reader, stdout, stderr io.Writer) int {
	g := &grepRun{c: c, out: bufio.NewWriterSize(stdout, 64<<10)}
	s := jsonl.Scanner{Prog: "llmgrep", Stdin: stdin, Stderr: stderr}
	if c.Count && c.WithFilename {
		s.EndInput = func(rd *jsonl.Reader) error {
			fmt.Fprintf(g.out, "%s:%d\n", rd.Name(), g.count(rd))
			return g.out.Flush()
		}
	}
	err := s.Scan(c.files, g.line)
	if err == nil && c.Count && !c.WithFilename {
		fmt.Fprintf(g.out, "%d\n", g.selected)
	}
	if err == nil {
		err = g.out.Flush()
	}
	if err != nil {
		// A write failed: the only error a scan returns.
		clikit.WriteFailed(stderr, "llmgrep", err)
		return clikit.ExitUsage
	}
	switch {
	case s.BadInputs() > 0:
		return clikit.ExitUsage
	case g.selected > 0:
		return clikit.ExitOK
	}
	return clikit.ExitFailure
}

// count returns how many records of rd were selected, from 0 for an input
// not seen before.
func (g *grepRun) count(rd *jsonl.Reader) int {
	if g.in != rd {
		g.in, g.n = rd, 0
	}
	return g.n
}

// line filters one line of rd. A line that is not a record is skipped with
// a warning; it never matches, not even with -v.
func (g *grepRun) line(rd *jsonl.Reader, line []byte) error {
	c := g.c
	sel, err := c.matcher.Match(line)
	if err != nil {
		return jsonl.Skip(err)
	}
	if sel {
		if c.MaxCount >= 0 && g.selected >= c.MaxCount {
			return jsonl.Stop
		}
		g.count(rd)
		g.selected++
		g.n++
		if c.List {
			g.out.WriteString(rd.Name())
			g.out.WriteByte('\n')
			return g.flushed(jsonl.SkipInput)
		}
		if !c.Count {
			if c.WithFilename {
				g.out.WriteString(rd.Name())
				g.out.WriteByte(':')
			}
			if c.IDs {
				g.out.Write(c.matcher.ID(line))
			} else {
				g.out.Write(line)
			}
			g.out.WriteByte('\n')
		}
		if c.MaxCount >= 0 && g.selected >= c.MaxCount {
			return g.flushed(jsonl.Stop)
		}
	}
	// Flush when the input has nothing more buffered: a live pipe
	// (llmtap | llmgrep) sees each record at once; a big file still gets
	// large writes.
	if rd.Buffered() == 0 {
		return g.out.Flush()
	}
	return nil
}

// flushed flushes the output and returns then, or the write's error.
func (g *grepRun) flushed(then error) error {
	if err := g.out.Flush(); err != nil {
		return err
	}
	return then
}
