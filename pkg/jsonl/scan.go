package jsonl

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// SkipInput, returned by a Scanner's function, leaves the rest of the
// current input unread and goes on with the next (llmgrep -l: one selected
// line names the file).
//
//lint:ignore ST1012 a signal to the loop, as fs.SkipDir is, not a failure
var SkipInput = errors.New("jsonl: skip the rest of this input")

// Stop, returned by a Scanner's function, ends the scan without an error
// (llmgrep -m: enough lines selected).
//
//lint:ignore ST1012 a signal to the loop, as fs.SkipAll is, not a failure
var Stop = errors.New("jsonl: stop reading")

// Skip returns an error that tells a Scanner to skip the current line with
// a warning saying reason, and go on.
func Skip(reason error) error { return skipError{reason} }

// skipError is a line's reason to be skipped.
type skipError struct{ reason error }

func (e skipError) Error() string { return e.reason.Error() }
func (e skipError) Unwrap() error { return e.reason }

// Scanner is the loop every reader of lines shares: it reads a list of
// inputs (files, or "-" for standard input) in order, hands each line
// that is not blank to a function, and reports on Stderr, once each, the
// lines that function rejects ("llmmd: raw.jsonl:42: not a record") and
// the inputs that cannot be opened or read. A bad line or input never ends
// the scan; the counts say afterwards what was skipped.
//
// The zero value reads nothing from stdin and writes messages nowhere: set
// Prog, Stdin and Stderr.
type Scanner struct {
	// Prog starts each message: "llmmd".
	Prog string
	// Stdin is read for the input named "-".
	Stdin io.Reader
	// Stderr gets the messages.
	Stderr io.Writer
	// EndInput, if set, is called after each input that was read to its
	// end, left with SkipInput or ended with Stop (llmgrep -c -H prints
	// its count per file here). Its error ends the scan, as the
	// function's does.
	EndInput func(rd *Reader) error

	skipped, warned, failed int
}

// Scan reads the inputs named, in order (none: "-"), and calls fn with
// each line that is not blank (see Blank). The line is valid until fn
// returns; rd tells its position and name. What fn returns decides what
// follows:
//
//   - nil: the next line;
//   - an error made by Skip: a warning naming the input and the line
//     ("truncated last line" when the input ended without a newline), the
//     line counted as skipped, then the next line;
//   - SkipInput: the next input;
//   - Stop: the end of the scan; Scan returns nil;
//   - any other error (a failed write): the end of the scan; Scan returns
//     it as it is, so the caller can tell a reader that went away.
//
// An input that cannot be opened, or fails while it is read, gets one
// message; the scan goes on with the next, and BadInputs counts it.
func (s *Scanner) Scan(names []string, fn func(rd *Reader, line []byte) error) error {
	if len(names) == 0 {
		names = []string{"-"}
	}
	for _, name := range names {
		if err := s.input(name, fn); err != nil {
			if errors.Is(err, Stop) {
				return nil
			}
			return err
		}
	}
	return nil
}

// input scans one input.
func (s *Scanner) input(name string, fn func(rd *Reader, line []byte) error) (err error) {
	in := s.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			s.badInput(err)
			return nil
		}
		defer f.Close()
		in = f
	} else if in == nil {
		in = eofReader{}
	}
	rd := NewReader(in, name)
	defer func() {
		if s.EndInput != nil && (err == nil || errors.Is(err, Stop)) {
			if eerr := s.EndInput(rd); eerr != nil {
				err = eerr
			}
		}
	}()
	for {
		line, err := rd.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			s.badInput(err)
			return nil
		}
		if Blank(line) {
			continue
		}
		if err = fn(rd, line); err == nil {
			continue // before skip is declared: it escapes, and would cost an allocation per line
		}
		var skip skipError
		switch {
		case errors.As(err, &skip):
			s.Warn(rd, skip.reason)
			s.skipped++
		case errors.Is(err, SkipInput):
			return nil
		default:
			return err
		}
	}
}

// Warn writes a warning about the line rd returned last: "PROG: FILE:LINE:
// reason", saying first when it is a last line the input ended without a
// newline (a log cut by a crash, or still being written). It is for a line
// that was used, but not all of it; Skip is for a line left out.
func (s *Scanner) Warn(rd *Reader, reason error) {
	s.warned++
	if s.Stderr == nil {
		return
	}
	prefix := ""
	if rd.Unterminated() {
		prefix = "truncated last line (no newline at the end): "
	}
	fmt.Fprintf(s.Stderr, "%s: %s: %s%v\n", s.Prog, rd.Pos(), prefix, reason)
}

func (s *Scanner) badInput(err error) {
	s.failed++
	if s.Stderr != nil {
		fmt.Fprintf(s.Stderr, "%s: %v\n", s.Prog, err)
	}
}

// Skipped returns how many lines were skipped so far, in all inputs.
func (s *Scanner) Skipped() int { return s.skipped }

// Warned returns how many lines were warned about so far, skipped or not.
func (s *Scanner) Warned() int { return s.warned }

// BadInputs returns how many inputs could not be opened or were cut short
// by a read error.
func (s *Scanner) BadInputs() int { return s.failed }

// eofReader is an empty input: a Scanner with no Stdin.
type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
