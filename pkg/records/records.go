// Package records is the loop the tools that read llmtap records share:
// JSONL from files or stdin, lines of any length, each parsed once into a
// record.View with one reused parser, a bad line warned about with its
// file and line and skipped, every good record handed to the caller, which
// renders it (llmmd) or aggregates it. It knows no output format.
package records

import (
	"github.com/llmtap/llmtap/pkg/jsonl"
	"github.com/llmtap/llmtap/pkg/record"
	"github.com/valyala/fastjson"
)

// Scanner reads records. Set the embedded jsonl.Scanner's Prog, Stdin and
// Stderr; its counts (Skipped, Warned, BadInputs) say afterwards what was
// left out. A Scanner is not safe for use by several goroutines at once.
type Scanner struct {
	jsonl.Scanner
	p fastjson.Parser
}

// Scan reads the inputs named, in order (none: "-"), and calls fn with each
// record. A line that is not JSON, or not a record (record.ParseLine), is
// skipped with a warning. The view lives until fn returns: copy what you
// keep. fn's error decides what follows, as for jsonl.Scanner.Scan: nil
// goes on, jsonl.Skip skips the record with a warning, jsonl.SkipInput and
// jsonl.Stop leave the input or the scan, and any other error ends the
// scan and is returned.
func (s *Scanner) Scan(names []string, fn func(rd *jsonl.Reader, v record.View) error) error {
	return s.Scanner.Scan(names, func(rd *jsonl.Reader, line []byte) error {
		v, err := record.ParseLine(&s.p, line)
		if err != nil {
			return jsonl.Skip(err)
		}
		return fn(rd, v)
	})
}
