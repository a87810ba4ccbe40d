package filter

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Accepted forms, quoted in the errors for a bad argument.
const (
	statusForms   = "a code (200), a class (4xx), or a comparison (>=400, <500, !=200, !=2xx)"
	durationForms = "a duration with a unit (250ms, 2s, 1m30s)"
	timeForms     = "an RFC 3339 time (2026-01-02T15:04:05Z), a date (2026-01-02, UTC), or a time ago (30m, 1h, 2d)"
	globForms     = "a name or a glob (* any text, ? one character, [a-z] a class, \\ escapes)"
	methodForms   = "an HTTP method (GET, POST, …)"
)

// ArgError is a bad filter argument: it names the flag, the value, and the
// forms the flag accepts.
type ArgError struct {
	Flag  string // e.g. "--status"
	Value string
	Err   error
}

var _ error = (*ArgError)(nil)

// Error reads `--status "abc": want a code (200), …`.
func (e *ArgError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s: %v", e.Flag, e.Err)
	}
	return fmt.Sprintf("%s %q: %v", e.Flag, e.Value, e.Err)
}

// Unwrap returns the reason.
func (e *ArgError) Unwrap() error { return e.Err }

// cmpOp is a comparison.
type cmpOp uint8

const (
	opEq cmpOp = iota
	opNe
	opLt
	opLe
	opGt
	opGe
	opRe    // ~
	opNotRe // !~
)

var opNames = [...]string{opEq: "=", opNe: "!=", opLt: "<", opLe: "<=", opGt: ">", opGe: ">=", opRe: "~", opNotRe: "!~"}

func (o cmpOp) String() string { return opNames[o] }

// cutOp reads a comparison operator at the start of s: the longest of
// != !~ <= >= == and then = < > ~. ok is false when s starts with none.
func cutOp(s string) (op cmpOp, rest string, ok bool) {
	if len(s) >= 2 {
		switch s[:2] {
		case "!=":
			return opNe, s[2:], true
		case "!~":
			return opNotRe, s[2:], true
		case "<=":
			return opLe, s[2:], true
		case ">=":
			return opGe, s[2:], true
		case "==":
			return opEq, s[2:], true
		}
	}
	if s != "" {
		switch s[0] {
		case '=':
			return opEq, s[1:], true
		case '<':
			return opLt, s[1:], true
		case '>':
			return opGt, s[1:], true
		case '~':
			return opRe, s[1:], true
		}
	}
	return 0, s, false
}

// compare applies op (not a regex op) to a and b.
func compare[T cmp.Ordered](op cmpOp, a, b T) bool {
	switch op {
	case opEq:
		return a == b
	case opNe:
		return a != b
	case opLt:
		return a < b
	case opLe:
		return a <= b
	case opGt:
		return a > b
	case opGe:
		return a >= b
	}
	return false
}

// statusExpr is one --status value: a comparison with a code, or
// (= or !=) a class such as 4xx.
type statusExpr struct {
	op    cmpOp
	code  int // when class == 0
	class int // 1 to 9 for 1xx to 9xx; 0 for a code
}

func parseStatus(s string) (statusExpr, error) {
	bad := fmt.Errorf("want %s", statusForms)
	t := strings.TrimSpace(s)
	op, rest, hasOp := cutOp(t)
	if !hasOp {
		op = opEq
	}
	if op == opRe || op == opNotRe {
		return statusExpr{}, bad
	}
	rest = strings.TrimSpace(rest)
	if len(rest) == 3 && rest[0] >= '1' && rest[0] <= '9' && strings.EqualFold(rest[1:], "xx") {
		if op != opEq && op != opNe {
			return statusExpr{}, fmt.Errorf("a class (%s) takes only = or !=; %s", rest, bad)
		}
		return statusExpr{op: op, class: int(rest[0] - '0')}, nil
	}
	code, err := strconv.Atoi(rest)
	if err != nil || len(rest) != 3 || code < 100 {
		return statusExpr{}, bad
	}
	return statusExpr{op: op, code: code}, nil
}

func (e statusExpr) match(status int) bool {
	if e.class != 0 {
		in := status/100 == e.class
		return in == (e.op == opEq)
	}
	return compare(e.op, status, e.code)
}

// parseDuration reads a --slower, --faster or --ttfb-over value.
func parseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if _, err := strconv.ParseFloat(t, 64); err == nil {
		return 0, fmt.Errorf("a number needs a unit: want %s", durationForms)
	}
	d, err := time.ParseDuration(t)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("want %s", durationForms)
	}
	return d, nil
}

// millis is d in float milliseconds, the unit of duration_ms and ttfb_ms.
func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// parseTime reads a --since or --until value; relative times count back
// from now.
func parseTime(s string, now time.Time) (time.Time, error) {
	t := strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02 15:04", "2006-01-02"} {
		if at, err := time.Parse(layout, t); err == nil {
			return at, nil // layouts without a zone read as UTC, as records are
		}
	}
	if d, ok := parseAgo(t); ok {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("want %s", timeForms)
}

// parseAgo reads a relative time: a Go duration (90s, 1h30m) or a whole
// number of days (2d) or weeks (1w).
func parseAgo(s string) (time.Duration, bool) {
	if n := len(s); n > 1 && (s[n-1] == 'd' || s[n-1] == 'w') {
		k, err := strconv.Atoi(s[:n-1])
		if err != nil || k < 0 || k > 100000 {
			return 0, false
		}
		unit := 24 * time.Hour
		if s[n-1] == 'w' {
			unit *= 7
		}
		return time.Duration(k) * unit, true
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, false
	}
	return d, true
}
