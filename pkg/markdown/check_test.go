package markdown_test

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// checkDocument checks the properties every transcript has, whatever the
// input: valid UTF-8; each section's anchor and heading outside any code
// fence (content never swallows the structure around it); every fence
// closed at the end; our <details> blocks balanced; no control characters
// but tab and newline.
func checkDocument(md []byte) error {
	if !utf8.Valid(md) {
		return errors.New("output is not valid UTF-8")
	}
	for i, c := range md {
		if c < 0x20 && c != '\n' && c != '\t' || c == 0x7f {
			return fmt.Errorf("control character %#x at byte %d", c, i)
		}
	}
	var fence struct {
		char byte
		n    int
		line int
	}
	details := 0
	for i, line := range strings.Split(string(md), "\n") {
		char, n, info, ok := fenceOf(line)
		if ok {
			switch {
			case fence.n == 0:
				fence.char, fence.n, fence.line = char, n, i+1
				continue
			case char == fence.char && n >= fence.n && !info:
				fence.n = 0
				continue
			}
		}
		if fence.n > 0 {
			if strings.HasPrefix(line, `<a id="`) || strings.HasPrefix(line, "## ") {
				return fmt.Errorf("line %d: section start inside the fence opened on line %d", i+1, fence.line)
			}
			continue
		}
		switch {
		case strings.HasPrefix(line, "<details><summary>"):
			details++
			if details > 1 {
				return fmt.Errorf("line %d: nested <details>", i+1)
			}
		case line == "</details>":
			details--
			if details < 0 {
				return fmt.Errorf("line %d: </details> without <details>", i+1)
			}
		case strings.HasPrefix(line, `<a id="`) && details > 0:
			return fmt.Errorf("line %d: section start inside <details>", i+1)
		}
	}
	if fence.n > 0 {
		return fmt.Errorf("the fence opened on line %d is never closed", fence.line)
	}
	if details != 0 {
		return errors.New("a <details> block is never closed")
	}
	return nil
}

// fenceOf reads a fence line with any indentation, as the renderer does.
func fenceOf(line string) (char byte, n int, info, ok bool) {
	t := strings.TrimLeft(line, " \t")
	if len(t) < 3 || (t[0] != '`' && t[0] != '~') {
		return 0, 0, false, false
	}
	for n < len(t) && t[n] == t[0] {
		n++
	}
	if n < 3 {
		return 0, 0, false, false
	}
	rest := strings.TrimSpace(t[n:])
	if t[0] == '`' && strings.Contains(rest, "`") {
		return 0, 0, false, false
	}
	return t[0], n, rest != "", true
}
