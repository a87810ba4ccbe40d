package filter

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/llmtap/llmtap/pkg/provider"
)

// textSearch is the PATTERN search over the conversation text.
type textSearch struct {
	res  []*regexp.Regexp
	lits []string // -F without -i: plain substring tests
}

// compileText compiles the patterns (OR); with fixed they are literal
// strings, with fold case-insensitive.
func compileText(patterns []string, fixed, fold bool) (*textSearch, error) {
	t := &textSearch{}
	for _, p := range patterns {
		if p == "" {
			return nil, nil // an empty pattern matches every record, as in grep
		}
		if fixed && !fold {
			t.lits = append(t.lits, p)
			continue
		}
		src := p
		if fixed {
			src = regexp.QuoteMeta(p)
		}
		if fold {
			src = "(?i)" + src
		}
		re, err := regexp.Compile(src)
		if err != nil {
			return nil, &ArgError{"PATTERN", p, fmt.Errorf("want a Go regular expression (RE2), or -F for a fixed string: %v", err)}
		}
		t.res = append(t.res, re)
	}
	return t, nil
}

// matchString reports whether any pattern matches s.
func (t *textSearch) matchString(s string) bool {
	for _, l := range t.lits {
		if strings.Contains(s, l) {
			return true
		}
	}
	for _, re := range t.res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// match reports whether any pattern matches any text of the exchange.
func (t *textSearch) match(ex *provider.Exchange) bool {
	return eachText(ex, t.matchString)
}

// eachText calls f on each piece of the conversation text of ex, in order,
// until f returns true: every message's text parts (and structured data
// parts, as JSON), reasoning, refusal, tool calls (name and arguments) and
// tool results, request then response, and the provider's error message.
// Each piece is searched on its own, so ^ and $ anchor to a piece.
func eachText(ex *provider.Exchange, f func(string) bool) bool {
	for _, msgs := range [2][]provider.Message{ex.Request, ex.Response} {
		for i := range msgs {
			m := &msgs[i]
			if m.IsToolResult() && m.Name != "" && f(m.Name) {
				return true
			}
			for _, p := range m.Parts {
				switch p.Kind {
				case provider.PartText, provider.PartData, provider.PartOther, provider.PartToolCall:
					if p.Text != "" && f(p.Text) {
						return true
					}
				}
			}
			if m.Reasoning != "" && f(m.Reasoning) || m.Refusal != "" && f(m.Refusal) {
				return true
			}
			for _, c := range m.ToolCalls {
				if f(c.Name) || c.Arguments != "" && f(c.Arguments) {
					return true
				}
			}
		}
	}
	return ex.Error != nil && ex.Error.Message != "" && f(ex.Error.Message)
}

// toolCalled reports whether a tool whose name matches one of tools was
// called in the response, or, with inRequest, also in the request's
// history (calls the assistant made, and tool results that name their
// tool).
func toolCalled(ex *provider.Exchange, tools []glob, inRequest bool) bool {
	called := func(msgs []provider.Message, results bool) bool {
		for i := range msgs {
			m := &msgs[i]
			for _, c := range m.ToolCalls {
				if anyGlob(tools, c.Name) {
					return true
				}
			}
			if results && m.IsToolResult() && m.Name != "" && anyGlob(tools, m.Name) {
				return true
			}
		}
		return false
	}
	return called(ex.Response, false) || inRequest && called(ex.Request, true)
}

func anyGlob(gs []glob, s string) bool {
	for _, g := range gs {
		if g.match(s) {
			return true
		}
	}
	return false
}
