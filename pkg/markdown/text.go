package markdown

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/llmtap/llmtap/pkg/humanize"
)

// Fence returns the backtick fence for a fenced code block holding content:
// at least three backticks, and one more than the longest run of backticks
// in content, so no line of content can close it (a ``` inside a ```text
// block would otherwise end the block early).
func Fence(content string) string {
	longest, run := 0, 0
	for i := 0; i < len(content); i++ {
		if content[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// appendFenced appends content as a fenced code block with the info string
// info ("json", "text" or ""), followed by a blank line.
func appendFenced(dst []byte, info, content string) []byte {
	f := Fence(content)
	dst = append(dst, f...)
	dst = append(dst, info...)
	dst = append(dst, '\n')
	dst = append(dst, content...)
	if !strings.HasSuffix(content, "\n") {
		dst = append(dst, '\n')
	}
	dst = append(dst, f...)
	return append(dst, "\n\n"...)
}

// appendCode appends s as inline code, with a backtick run longer than any in
// s and padding where s starts or ends with a backtick (CommonMark 6.1).
// Line breaks become spaces: a code span must stay on its line.
func appendCode(dst []byte, s string) []byte {
	s = oneLine(s)
	if s == "" {
		return append(dst, "` `"...)
	}
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	ticks := strings.Repeat("`", longest+1)
	pad := strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`")
	dst = append(dst, ticks...)
	if pad {
		dst = append(dst, ' ')
	}
	dst = append(dst, s...)
	if pad {
		dst = append(dst, ' ')
	}
	return append(dst, ticks...)
}

// oneLine joins the lines of s with spaces.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }), " ")
}

// appendInline appends s as plain inline text on one line: characters that
// Markdown or HTML would interpret are escaped with a backslash, so a model
// name or an error message is shown as written.
func appendInline(dst []byte, s string) []byte {
	s = oneLine(s)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\', '`', '*', '<', '>', '&', '#', '~':
			dst = append(dst, '\\')
		case '[':
			// Only a line's first '[' can start a link reference
			// definition; elsewhere the ']' decides.
			if i == 0 {
				dst = append(dst, '\\')
			}
		case ']':
			// "](", "][" and "]:" could complete a link.
			if i+1 < len(s) && (s[i+1] == '(' || s[i+1] == '[' || s[i+1] == ':') {
				dst = append(dst, '\\')
			}
		case '_':
			// Intraword underscores never emphasise (snake_case stays
			// readable); only escape one at a word's edge.
			if i == 0 || i == len(s)-1 || !isWordByte(s[i-1]) || !isWordByte(s[i+1]) {
				dst = append(dst, '\\')
			}
		}
		dst = append(dst, c)
	}
	return dst
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= utf8.RuneSelf
}

// appendClipNote appends the marker for n characters cut by --max-chars.
func appendClipNote(dst []byte, n int) []byte {
	if n == 0 {
		return dst
	}
	dst = append(dst, "*[… "...)
	dst = appendCount(dst, int64(n))
	if n == 1 {
		dst = append(dst, " more character clipped]*\n\n"...)
	} else {
		dst = append(dst, " more characters clipped]*\n\n"...)
	}
	return dst
}

// appendCount appends n with thousands separators: 12,345.
func appendCount(dst []byte, n int64) []byte {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		dst = append(dst, '-')
		s = s[1:]
	}
	for i := 0; i < len(s); i++ {
		if i > 0 && (len(s)-i)%3 == 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, s[i])
	}
	return dst
}

// trimText drops trailing white space and leading blank lines, which
// carry nothing in a transcript and would upset the blank line that ends
// every block. Leading indentation of the first line is kept.
func trimText(s string) string {
	s = strings.TrimRight(s, " \t\r\n")
	for {
		i := strings.IndexByte(s, '\n')
		if i < 0 || strings.TrimLeft(s[:i], " \t\r") != "" {
			return s
		}
		s = s[i+1:]
	}
}

// prettyJSON returns s indented by two spaces when s is a JSON object or
// array; ok is false otherwise. json.Indent keeps key order and the escapes
// as written, so the text is the same JSON.
func prettyJSON(s string) (string, bool) {
	t := strings.TrimSpace(s)
	if t == "" || (t[0] != '{' && t[0] != '[') || !json.Valid([]byte(t)) {
		return "", false
	}
	var b bytes.Buffer
	b.Grow(len(t) + len(t)/4)
	if err := json.Indent(&b, []byte(t), "", "  "); err != nil {
		return "", false
	}
	return b.String(), true
}

// appendText appends one piece of content (message text, reasoning, a tool
// result) as a block followed by a blank line, clipped to maxChars:
//
//   - a JSON object or array is pretty-printed in a ```json block;
//   - Markdown that cannot disturb the rest of the transcript is written as
//     it is, so a model's formatting renders; a code fence it leaves open
//     (a stream cut short, or --max-chars) is closed;
//   - anything else (raw HTML, which could open a comment or an element
//     that swallows the following sections) is shown in a fenced block.
func appendText(dst []byte, s string, maxChars int) []byte {
	s = trimText(s)
	if s == "" {
		return dst
	}
	if pretty, ok := prettyJSON(s); ok {
		pretty, cut := humanize.Clip(pretty, maxChars)
		dst = appendFenced(dst, "json", pretty)
		return appendClipNote(dst, cut)
	}
	s, cut := humanize.Clip(s, maxChars)
	if closer, ok := markdownSafe(s); ok {
		dst = append(dst, s...)
		if closer != "" {
			dst = append(dst, '\n')
			dst = append(dst, closer...)
		}
		dst = append(dst, "\n\n"...)
	} else {
		dst = appendFenced(dst, "text", s)
	}
	return appendClipNote(dst, cut)
}

// fenceLine reports whether line opens or closes a fenced code block: its
// indentation, the fence character and run length, and whether anything
// follows the run (an info string, which a closing fence may not have).
// Any indentation counts, so fences in nested list items are seen; the
// closer appended for an open fence copies the opener's indentation, so it
// lands in the same container (or in the same indented code block).
func fenceLine(line string) (indent string, char byte, n int, info bool, ok bool) {
	t := strings.TrimLeft(line, " \t")
	if len(t) < 3 || (t[0] != '`' && t[0] != '~') {
		return "", 0, 0, false, false
	}
	c := t[0]
	for n < len(t) && t[n] == c {
		n++
	}
	if n < 3 {
		return "", 0, 0, false, false
	}
	rest := strings.TrimSpace(t[n:])
	if c == '`' && strings.IndexByte(rest, '`') >= 0 {
		return "", 0, 0, false, false // inline code, not a fence (CommonMark 4.5)
	}
	return line[:len(line)-len(t)], c, n, rest != "", true
}

// markdownSafe reports whether s can be written as Markdown without
// changing how the rest of the document renders, and returns the line that
// closes a code fence s leaves open ("" when none is open). s is unsafe
// when, outside code, it holds raw HTML: a tag, a comment or a processing
// instruction could hide or wrap everything that follows. Autolinks such
// as <https://example.com> are fine.
func markdownSafe(s string) (closer string, ok bool) {
	var open struct {
		indent string
		char   byte
		n      int
	}
	for line := range strings.SplitSeq(s, "\n") {
		if indent, c, n, info, isFence := fenceLine(line); isFence {
			switch {
			case open.n == 0:
				open.indent, open.char, open.n = indent, c, n
				continue
			case c == open.char && n >= open.n && !info:
				open.n = 0
				continue
			}
		}
		if open.n == 0 && hasHTML(line) {
			return "", false
		}
	}
	if open.n > 0 {
		return open.indent + strings.Repeat(string(open.char), open.n), true
	}
	return "", true
}

// hasHTML reports whether a line of Markdown holds something a renderer
// would pass through as raw HTML: '<' followed by a letter, '/', '!' or
// '?', outside code spans, that is not an autolink.
func hasHTML(line string) bool {
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '`':
			// Skip a code span: a run of n backticks up to the next run of
			// exactly n on this line (an unmatched run is literal).
			n := 1
			for i+n < len(line) && line[i+n] == '`' {
				n++
			}
			if end := closingTicks(line[i+n:], n); end >= 0 {
				i += n + end + n - 1
			} else {
				i += n - 1
			}
		case '\\':
			i++ // an escaped character is literal
		case '<':
			if i+1 < len(line) {
				c := line[i+1]
				if c == '/' || c == '!' || c == '?' || isLetter(c) && !isAutolink(line[i+1:]) {
					return true
				}
			}
		}
	}
	return false
}

// closingTicks returns the index in s of the first run of exactly n
// backticks, or -1.
func closingTicks(s string, n int) int {
	for i := 0; i < len(s); i++ {
		if s[i] != '`' {
			continue
		}
		j := i
		for j < len(s) && s[j] == '`' {
			j++
		}
		if j-i == n {
			return i
		}
		i = j - 1
	}
	return -1
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// isAutolink reports whether s (what follows a '<') is an absolute URI
// closed by '>': a scheme of 2 to 32 characters, ':', then no space, '<'
// or '>' until the '>' (CommonMark 6.5).
func isAutolink(s string) bool {
	i := 0
	for i < len(s) && (isLetter(s[i]) || i > 0 && (s[i] >= '0' && s[i] <= '9' || s[i] == '+' || s[i] == '.' || s[i] == '-')) {
		i++
	}
	if i < 2 || i > 32 || i >= len(s) || s[i] != ':' {
		return false
	}
	for i++; i < len(s); i++ {
		switch c := s[i]; {
		case c == '>':
			return true
		case c <= ' ' || c == '<':
			return false
		}
	}
	return false
}

// sanitize makes the finished section safe to print and to store: each
// invalid UTF-8 byte becomes U+FFFD, a CR before LF is dropped, and other
// C0 control characters and DEL (which a terminal would act on, e.g. ESC
// sequences) become their visible Control Pictures (U+2400 block). Line
// separators other than '\n' (U+2028, U+0085) are content and are kept.
func sanitize(b []byte) []byte {
	clean := true
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\t' || c == 0x7f {
			clean = false
			break
		}
	}
	if clean && utf8.Valid(b) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '\r' && i+1 < len(b) && b[i+1] == '\n':
			i++
		case c < 0x20 && c != '\n' && c != '\t':
			out = utf8.AppendRune(out, 0x2400+rune(c))
			i++
		case c == 0x7f:
			out = utf8.AppendRune(out, 0x2421)
			i++
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				out = append(out, "\uFFFD"...)
			} else {
				out = append(out, b[i:i+size]...)
			}
			i += size
		}
	}
	return out
}
