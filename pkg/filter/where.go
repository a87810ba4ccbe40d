package filter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/llmtap/llmtap/pkg/record"
	"github.com/valyala/fastjson"
)

const whereForms = "PATH OP VALUE, OP one of = != < <= > >= ~ !~ (request.body.temperature>0.5, response.headers.x-request-id=abc, request.body.stream=true, request.body.messages[0].role=system, request.body.messages.*.role=tool)"

// where is one --where expression: a dotted path into the record, an
// operator and a value.
//
// A path is keys separated by dots, each optionally followed by [N]
// (array index, negative from the end) or [*]; a key * (or [*]) means
// any element or member, and the expression holds when any of them
// matches (!= and !~ hold when none matches the positive form). A key of
// digits indexes an array and names a member of an object. \ makes the
// next character part of the key (\. \[ \= \ ...). A leading dot is allowed,
// as in jq.
//
// Values: a JSON number compares as a number (a string field that reads as
// a number too: headers are strings); true, false and null match those
// JSON values (a missing field counts as null, so x!=null means "x is
// present"); "a quoted string" is a JSON string; anything else is a bare
// string. Strings order lexicographically, so start>=2026-01-02 works.
// < <= > >= hold only between numbers or between strings. ~ and !~ take a
// Go regular expression (RE2), matched against a string's value, a
// number's or boolean's text, or an object's or array's JSON.
type where struct {
	src  string
	path []seg
	op   cmpOp
	val  literal
	re   *regexp.Regexp
	buf  []byte // scratch for a container's JSON under ~
}

// seg is one step of a path.
type seg struct {
	key     string
	wild    bool // * or [*]
	numeric bool // key is an integer: an index into an array
	index   int
	bracket bool // written as [N] or [*], for String
}

// litKind is what a --where value is.
type litKind uint8

const (
	litString litKind = iota
	litNumber
	litTrue
	litFalse
	litNull
)

// literal is a parsed --where value.
type literal struct {
	kind   litKind
	text   string  // a string's value, or an unquoted value's text
	num    float64 // when kind == litNumber
	quoted bool
}

var errNoPath = errors.New("missing path")

// parseWhere parses one --where expression.
func parseWhere(src string) (*where, error) {
	if !utf8.ValidString(src) {
		return nil, errors.New("not valid UTF-8")
	}
	w := &where{src: src}
	s := strings.TrimLeft(src, " \t")
	s = strings.TrimPrefix(s, ".")
	var err error
	w.path, s, err = parsePath(s)
	if err != nil {
		return nil, err
	}
	s = strings.TrimLeft(s, " \t")
	op, rest, ok := cutOp(s)
	if !ok {
		if s == "" {
			return nil, fmt.Errorf("missing operator: want %s", whereForms)
		}
		return nil, fmt.Errorf("unexpected %q after the path: want %s", s, whereForms)
	}
	w.op = op
	raw := strings.Trim(rest, " \t")
	if w.val, err = parseLiteral(raw); err != nil {
		return nil, err
	}
	switch op {
	case opRe, opNotRe:
		pattern := w.val.text
		if !w.val.quoted {
			pattern = raw
		}
		if w.re, err = regexp.Compile(pattern); err != nil {
			return nil, fmt.Errorf("bad regular expression: %v", err)
		}
	case opLt, opLe, opGt, opGe:
		if w.val.kind != litNumber && w.val.kind != litString {
			return nil, fmt.Errorf("%s compares numbers or strings, not %s", op, raw)
		}
	}
	return w, nil
}

// isPathEnd reports a byte that ends an unescaped key.
func isPathEnd(c byte) bool {
	switch c {
	case '.', '[', '=', '!', '<', '>', '~', ' ', '\t':
		return true
	}
	return false
}

// parsePath reads the path at the start of s and returns the rest.
func parsePath(s string) ([]seg, string, error) {
	var path []seg
	for {
		var sg seg
		if s != "" && s[0] == '[' {
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return nil, "", errors.New("unterminated [ in the path")
			}
			inner := s[1:end]
			s = s[end+1:]
			sg.bracket = true
			if inner == "*" {
				sg.wild = true
			} else if n, err := strconv.Atoi(inner); err == nil {
				sg.numeric, sg.index, sg.key = true, n, inner
			} else {
				return nil, "", fmt.Errorf("[%s] in the path: want [N] or [*]", inner)
			}
			if len(path) == 0 {
				return nil, "", errNoPath
			}
		} else {
			var key strings.Builder
			escaped := false
			i := 0
			for ; i < len(s) && !isPathEnd(s[i]); i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
					escaped = true
				}
				key.WriteByte(s[i])
			}
			s = s[i:]
			sg.key = key.String()
			if sg.key == "" {
				if len(path) == 0 {
					return nil, "", fmt.Errorf("%v: want %s", errNoPath, whereForms)
				}
				return nil, "", errors.New("empty key in the path (two dots?)")
			}
			if !escaped && sg.key == "*" {
				sg.wild = true
			} else if n, err := strconv.Atoi(sg.key); err == nil && !escaped {
				sg.numeric, sg.index = true, n
			}
		}
		path = append(path, sg)
		switch {
		case s != "" && s[0] == '.':
			s = s[1:]
			if s == "" || isPathEnd(s[0]) && s[0] != '[' {
				return nil, "", errors.New("empty key in the path (a dot with nothing after it)")
			}
		case s != "" && s[0] == '[':
		default:
			return path, s, nil
		}
	}
}

// parseLiteral reads a --where value.
func parseLiteral(raw string) (literal, error) {
	switch raw {
	case "true":
		return literal{kind: litTrue, text: raw}, nil
	case "false":
		return literal{kind: litFalse, text: raw}, nil
	case "null":
		return literal{kind: litNull, text: raw}, nil
	}
	if strings.HasPrefix(raw, `"`) {
		var s string
		if err := json.Unmarshal([]byte(raw), &s); err != nil {
			return literal{}, fmt.Errorf("value %s: a quoted value must be one JSON string", raw)
		}
		return literal{kind: litString, text: s, quoted: true}, nil
	}
	if isNumber(raw) {
		f, _ := strconv.ParseFloat(raw, 64)
		return literal{kind: litNumber, text: raw, num: f}, nil
	}
	return literal{kind: litString, text: raw}, nil
}

// isNumber reports whether s is a JSON number (so not NaN, Inf, 0x1p3 or 1_000).
func isNumber(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
			return false
		}
	}
	c := s[0]
	if !(c >= '0' && c <= '9' || c == '-') {
		return false
	}
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// String returns the expression in a canonical form that parses back to
// the same expression.
func (w *where) String() string {
	var b strings.Builder
	for i, sg := range w.path {
		switch {
		case sg.bracket && sg.wild:
			b.WriteString("[*]")
		case sg.bracket:
			b.WriteString("[" + strconv.Itoa(sg.index) + "]")
		default:
			if i > 0 {
				b.WriteByte('.')
			}
			if sg.wild {
				b.WriteByte('*')
				break
			}
			for j := 0; j < len(sg.key); j++ {
				c := sg.key[j]
				if isPathEnd(c) || c == '\\' || c == ']' || !sg.numeric && j == 0 && (c == '*' && len(sg.key) == 1 || c == '-' || c >= '0' && c <= '9' || c == '+') {
					b.WriteByte('\\')
				}
				b.WriteByte(c)
			}
		}
	}
	b.WriteString(w.op.String())
	if w.val.quoted || w.val.kind == litString && w.val.text != "" && strings.ContainsAny(w.val.text[:1], "=<>~!") {
		// A bare value that starts like an operator would read back as
		// part of one: quote it.
		q, _ := json.Marshal(w.val.text)
		b.Write(q)
	} else {
		b.WriteString(w.val.text)
	}
	return b.String()
}

// match evaluates the expression on a record.
func (w *where) match(root *fastjson.Value) bool {
	hit := w.walk(root, 0)
	if w.op == opNe || w.op == opNotRe {
		return !hit
	}
	return hit
}

// walk follows the path from step i and tests what it reaches: whether
// any value reached passes the positive form of the operator.
func (w *where) walk(v *fastjson.Value, i int) bool {
	if i == len(w.path) || v == nil {
		return w.test(v)
	}
	sg := &w.path[i]
	switch t := v.Type(); {
	case sg.wild && t == fastjson.TypeArray:
		a, _ := v.Array()
		for _, e := range a {
			if w.walk(e, i+1) {
				return true
			}
		}
		return false
	case sg.wild && t == fastjson.TypeObject:
		o, _ := v.Object()
		hit := false
		o.Visit(func(_ []byte, e *fastjson.Value) {
			hit = hit || w.walk(e, i+1)
		})
		return hit
	case sg.wild:
		return false
	case t == fastjson.TypeArray:
		if !sg.numeric {
			return w.walk(nil, len(w.path))
		}
		a, _ := v.Array()
		k := sg.index
		if k < 0 {
			k += len(a)
		}
		if k < 0 || k >= len(a) {
			return w.walk(nil, len(w.path))
		}
		return w.walk(a[k], i+1)
	case t == fastjson.TypeObject && !(sg.bracket && sg.numeric):
		o, _ := v.Object()
		return w.walk(o.Get(sg.key), i+1)
	default:
		return w.walk(nil, len(w.path))
	}
}

// test applies the positive form of the operator to one value (nil when
// the path reached nothing).
func (w *where) test(v *fastjson.Value) bool {
	switch w.op {
	case opEq, opNe:
		return w.equal(v)
	case opRe, opNotRe:
		return w.regex(v)
	default:
		return w.order(v)
	}
}

func (w *where) equal(v *fastjson.Value) bool {
	if v == nil {
		return w.val.kind == litNull
	}
	switch v.Type() {
	case fastjson.TypeNull:
		return w.val.kind == litNull
	case fastjson.TypeTrue:
		return w.val.kind == litTrue
	case fastjson.TypeFalse:
		return w.val.kind == litFalse
	case fastjson.TypeNumber:
		f, err := v.Float64()
		return err == nil && w.val.kind == litNumber && f == w.val.num
	case fastjson.TypeString:
		s, _ := v.StringBytes()
		switch w.val.kind {
		case litNumber:
			if f, err := strconv.ParseFloat(record.UnsafeString(s), 64); err == nil && isNumber(record.UnsafeString(s)) {
				return f == w.val.num
			}
			return record.UnsafeString(s) == w.val.text
		case litString:
			return record.UnsafeString(s) == w.val.text
		}
	}
	return false
}

func (w *where) order(v *fastjson.Value) bool {
	if v == nil {
		return false
	}
	switch v.Type() {
	case fastjson.TypeNumber:
		f, err := v.Float64()
		return err == nil && w.val.kind == litNumber && compare(w.op, f, w.val.num)
	case fastjson.TypeString:
		s, _ := v.StringBytes()
		if w.val.kind == litNumber && isNumber(record.UnsafeString(s)) {
			f, _ := strconv.ParseFloat(record.UnsafeString(s), 64)
			return compare(w.op, f, w.val.num)
		}
		return compare(w.op, strings.Compare(record.UnsafeString(s), w.val.text), 0)
	}
	return false
}

func (w *where) regex(v *fastjson.Value) bool {
	if v == nil {
		return false
	}
	switch v.Type() {
	case fastjson.TypeNull:
		return false
	case fastjson.TypeString:
		s, _ := v.StringBytes()
		return w.re.Match(s)
	default:
		// Not output: this JSON only feeds the regular expression.
		w.buf = v.MarshalTo(w.buf[:0])
		return w.re.Match(bytes.TrimSpace(w.buf))
	}
}
