package filter

import (
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/llmtap/llmtap/pkg/record"
)

// glob is a shell-style pattern for --model, --path, --id, --tool and
// --error: * matches any string (slashes included, since model names such
// as meta-llama/Llama-3 have them), ? one character, [abc], [a-z] and
// [!a] one character of a class, and \ makes the next character literal.
// Matching is case-sensitive.
type glob struct {
	pat string
	// lit is the unescaped pattern when it has no metacharacters, so the
	// common case is a plain comparison.
	lit   string
	isLit bool
}

// errGlobClass is the one way a glob can be malformed.
var errGlobClass = errors.New("unterminated [ ] class")

// compileGlob checks p and returns its glob.
func compileGlob(p string) (glob, error) {
	g := glob{pat: p}
	var lit strings.Builder
	g.isLit = true
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '*', '?':
			g.isLit = false
		case '[':
			g.isLit = false
			end, ok := classEnd(p, i)
			if !ok {
				return glob{}, errGlobClass
			}
			i = end - 1
		case '\\':
			if i+1 < len(p) {
				i++
			}
			lit.WriteByte(p[i])
		default:
			lit.WriteByte(p[i])
		}
	}
	if g.isLit {
		g.lit = lit.String()
	}
	return g, nil
}

// match reports whether s matches the whole pattern.
func (g glob) match(s string) bool {
	if g.isLit {
		return s == g.lit
	}
	return globMatch(g.pat, s)
}

// matchBytes is match for a byte slice, without copying it.
func (g glob) matchBytes(b []byte) bool { return g.match(record.UnsafeString(b)) }

// required returns the longest run of literal text that every match
// contains, for the bytes pre-check; "" when there is none.
func (g glob) required() string {
	if g.isLit {
		return g.lit
	}
	var best, cur strings.Builder
	flush := func() {
		if cur.Len() > best.Len() {
			best.Reset()
			best.WriteString(cur.String())
		}
		cur.Reset()
	}
	p := g.pat
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '*', '?':
			flush()
		case '[':
			flush()
			end, _ := classEnd(p, i)
			i = end - 1
		case '\\':
			if i+1 < len(p) {
				i++
			}
			cur.WriteByte(p[i])
		default:
			cur.WriteByte(p[i])
		}
	}
	flush()
	return best.String()
}

// globMatch matches s against pat, rune by rune. A failed match returns to
// the last * and lets it take one more rune: linear in practice, quadratic
// at worst, never exponential.
func globMatch(pat, s string) bool {
	px, sx := 0, 0
	starP, starS := -1, 0
	for sx < len(s) {
		if px < len(pat) {
			switch c := pat[px]; c {
			case '*':
				starP, starS = px, sx
				px++
				continue
			case '?':
				_, n := utf8.DecodeRuneInString(s[sx:])
				px++
				sx += n
				continue
			case '[':
				end, _ := classEnd(pat, px)
				r, n := utf8.DecodeRuneInString(s[sx:])
				if classMatch(pat[px+1:end-1], r) {
					px = end
					sx += n
					continue
				}
			case '\\':
				if px+1 < len(pat) && pat[px+1] == s[sx] {
					px += 2
					sx++
					continue
				}
				if px+1 == len(pat) && s[sx] == '\\' {
					px++
					sx++
					continue
				}
			default:
				if c == s[sx] {
					px++
					sx++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		px, sx = starP+1, starS
	}
	for px < len(pat) && pat[px] == '*' {
		px++
	}
	return px == len(pat)
}

// classEnd returns the index just past the ] that closes the class opened
// at p[i] == '['. A ] right after [ or [! is a member, not the end.
func classEnd(p string, i int) (int, bool) {
	j := i + 1
	if j < len(p) && (p[j] == '!' || p[j] == '^') {
		j++
	}
	if j < len(p) && p[j] == ']' {
		j++
	}
	for ; j < len(p); j++ {
		switch p[j] {
		case '\\':
			j++
		case ']':
			return j + 1, true
		}
	}
	return len(p), false
}

// classMatch reports whether r is in the class body (the text between [
// and ]).
func classMatch(body string, r rune) bool {
	negate := false
	if body != "" && (body[0] == '!' || body[0] == '^') {
		negate, body = true, body[1:]
	}
	in := false
	for body != "" {
		lo, n := classRune(body)
		body = body[n:]
		hi := lo
		if len(body) >= 2 && body[0] == '-' {
			hi, n = classRune(body[1:])
			body = body[1+n:]
		}
		if lo <= r && r <= hi {
			in = true
		}
	}
	return in != negate
}

// classRune reads one member of a class, unescaping \x.
func classRune(s string) (rune, int) {
	if s[0] == '\\' && len(s) > 1 {
		r, n := utf8.DecodeRuneInString(s[1:])
		return r, n + 1
	}
	return utf8.DecodeRuneInString(s)
}
