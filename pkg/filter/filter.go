// Package filter is llmgrep's matching: it parses the filter expressions
// (--status, --where, globs, durations, times, text patterns) into a
// Matcher, and matches raw llmtap record lines against it.
//
// A Matcher parses each line once with one reused fastjson.Parser and reads
// only the fields its filters need, cheapest first; it asks the provider
// package for the conversation (--tool, PATTERN, and --model when the
// request names none) only on lines that passed every other filter. It
// knows nothing of files or output.
package filter

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/llmtap/llmtap/pkg/provider"
	"github.com/llmtap/llmtap/pkg/record"
	"github.com/valyala/fastjson"
)

// Spec is a filter as llmgrep's flags give it. Every field is optional.
// Different fields combine with AND; the values of one field with OR.
type Spec struct {
	Models  []string // globs over the request's model, else the response's; a record that names none never matches
	Paths   []string // globs over the request path (without the query)
	Methods []string // HTTP methods, any case
	IDs     []string // globs over the record id
	Status  []string // 200, 4xx, >=400, !=200, …; never matches a record without a response
	// Errors are error.kind globs; "" means any error. It matches records
	// that carry an error object (HTTP error statuses are --status).
	Errors []string
	// OK matches exchanges that completed: a 2xx response and no error.
	OK bool
	// Stream, when set, matches streamed (true) or unstreamed (false)
	// exchanges, as record.View.Streamed decides from the response; an
	// exchange without a response was not streamed.
	Stream *bool
	// Tools are globs over the names of the tools called in the response;
	// with InRequest, also in the request's history.
	Tools     []string
	InRequest bool
	Slower    []string // durations: duration_ms above
	Faster    []string // durations: duration_ms below
	TTFBOver  []string // durations: ttfb_ms above (a record without one never matches)
	Since     []string // start at or after; RFC 3339, a date, or a time ago (1h)
	Until     []string // start before
	Where     []string // PATH OP VALUE expressions, each one a filter of its own (AND)
	// Patterns are regular expressions (OR) over the conversation text;
	// Fixed makes them literal strings, IgnoreCase case-insensitive.
	Patterns   []string
	Fixed      bool
	IgnoreCase bool
	// Invert selects the valid records that do not match.
	Invert bool
	// Now is the time relative --since and --until count back from; zero
	// means time.Now().
	Now time.Time
}

// pred is one filter over a parsed line.
type pred func(l *line) bool

// line is the line being matched: its parsed record and, once asked for,
// its conversation.
type line struct {
	v    *fastjson.Value
	view record.View
	ex   *provider.Exchange
}

// exchange parses the conversation once per line.
func (l *line) exchange() *provider.Exchange {
	if l.ex == nil {
		l.ex = provider.Parse(l.view)
	}
	return l.ex
}

// Matcher matches record lines. It is not safe for concurrent use: it
// holds one fastjson.Parser and scratch buffers; give each goroutine its
// own (Compile the Spec again).
type Matcher struct {
	p      fastjson.Parser
	preds  []pred // cheap filters first, then those that read the conversation
	invert bool
	// pre lists, for each filter that has them, literals of which a line
	// must contain one to match; see precheck.
	pre [][][]byte
	cur line
	// parsed reports that cur holds the line Match saw last.
	parsed bool
}

// Compile checks every expression of s and returns its Matcher. An error
// is an *ArgError naming the flag, the value and the accepted forms.
func Compile(s Spec) (*Matcher, error) {
	m := &Matcher{invert: s.Invert}
	if s.Now.IsZero() {
		s.Now = time.Now()
	}
	for _, c := range compilers {
		if err := c(m, &s); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Matcher) add(p pred) { m.preds = append(m.preds, p) }

// addPrecheck records the literals one of which a line must contain for
// one of gs to match, when every glob has one that JSON can only write as
// itself: no ", \ or / (which have short escapes) and no control
// character. Any other character can only be hidden by a \u escape, and a
// line with "\u" in it is always parsed (see precheck). This relies on the
// provider taking a tool name whole from one JSON string, never piecing it
// together.
func (m *Matcher) addPrecheck(gs []glob) {
	lits := make([][]byte, 0, len(gs))
	for _, g := range gs {
		lit := g.required()
		if lit == "" || strings.ContainsFunc(lit, func(r rune) bool { return r < 0x20 || r == '"' || r == '\\' || r == '/' }) {
			return
		}
		lits = append(lits, []byte(lit))
	}
	m.pre = append(m.pre, lits)
}

// precheck reports whether line may match: false only when some filter
// needs one of several literals and the line contains none of them, while
// it has no \u escape that could hide one.
func (m *Matcher) precheck(line []byte) bool {
	if len(m.pre) == 0 || bytes.Contains(line, []byte(`\u`)) {
		return true
	}
	for _, lits := range m.pre {
		found := false
		for _, lit := range lits {
			if bytes.Contains(line, lit) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// BadLineError says why a line is not a record.
type BadLineError struct {
	Reason string
}

var _ error = (*BadLineError)(nil)

// Error returns the reason, such as "not a record".
func (e *BadLineError) Error() string { return e.Reason }

// Match reports whether line (one record, without its newline) is
// selected: it matches the filters, or with Invert it does not. A line that
// is not a record is never selected, even with Invert, and Match returns a
// *BadLineError that says why.
//
// Without Invert, a line that cannot contain an --id or --tool literal is
// rejected unparsed. It is still checked to start like a record and end
// with }, so a truncated line, text, or other JSON is reported as always;
// only a line that looks whole but is broken inside goes unreported (it
// could not match anyway). That is what makes --id fast on a big file.
func (m *Matcher) Match(ln []byte) (bool, error) {
	m.parsed = false
	m.cur = line{}
	if !m.invert && !m.precheck(ln) && framed(ln) {
		return false, nil
	}
	view, err := record.ParseLine(&m.p, ln)
	if err != nil {
		return false, &BadLineError{err.Error()}
	}
	m.cur = line{v: view.Value(), view: view}
	m.parsed = true
	for _, p := range m.preds {
		if !p(&m.cur) {
			return m.invert, nil
		}
	}
	return !m.invert, nil
}

// ID returns the id of the line Match saw last, which must be ln. It is
// valid until the next call to Match or ID.
func (m *Matcher) ID(ln []byte) []byte {
	if !m.parsed {
		v, err := m.p.ParseBytes(ln)
		if err != nil {
			return nil
		}
		m.cur = line{v: v}
		m.parsed = true
	}
	return m.cur.v.GetStringBytes("id")
}

// framed reports whether ln looks like a whole record as llmtap writes
// it: less surrounding whitespace, it starts with {"v": and a number, and
// ends with }. A truncated line, a line of some other JSON or of text is
// not framed.
func framed(ln []byte) bool {
	ln = bytes.TrimSpace(ln)
	rest, ok := bytes.CutPrefix(ln, []byte(`{"v":`))
	rest = bytes.TrimLeft(rest, " \t")
	return ok && len(rest) > 0 && (rest[0] >= '0' && rest[0] <= '9' || rest[0] == '-') && ln[len(ln)-1] == '}'
}

// globs compiles the globs of one flag; nil when there are none.
func globs(flag string, vals []string) ([]glob, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	gs := make([]glob, len(vals))
	for i, v := range vals {
		g, err := compileGlob(v)
		if err != nil {
			return nil, &ArgError{flag, v, fmt.Errorf("%v: want %s", err, globForms)}
		}
		gs[i] = g
	}
	return gs, nil
}

// errorGlobs compiles --error values: "" means any error; a kind must be
// one llmtap writes (or a glob that matches one), so a typo is an error,
// not a silent empty result.
func errorGlobs(vals []string) (gs []glob, anyErr bool, err error) {
	kinds := record.ErrorKinds()
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.Name
	}
	forms := "want one of " + strings.Join(names, ", ") + ", or a glob over them (upstream_*)"
	for _, v := range vals {
		if v == "" {
			anyErr = true
			continue
		}
		g, err := compileGlob(v)
		if err != nil {
			return nil, false, &ArgError{"--error", v, fmt.Errorf("%v: %s", err, forms)}
		}
		if !slices.ContainsFunc(names, g.match) {
			return nil, false, &ArgError{"--error", v, fmt.Errorf("unknown kind: %s", forms)}
		}
		gs = append(gs, g)
	}
	return gs, anyErr, nil
}

func anyGlobBytes(gs []glob, b []byte) bool {
	for _, g := range gs {
		if g.matchBytes(b) {
			return true
		}
	}
	return false
}
