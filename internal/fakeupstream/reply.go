package fakeupstream

import (
	"encoding/json"
	"iter"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/llmtap/llmtap/pkg/humanize"
)

// greeting is in every answer, so that stream chunk boundaries can fall inside
// a multibyte UTF-8 sequence (☀️ is U+2600 U+FE0F, two 3-byte runes).
const greeting = "Héllo wörld ☀️!"

// filler pads answers for X-Fake-Size; it is multibyte too.
const filler = " Lörem ipsum dolor sit ämet, héllo wörld ☀️."

// padPiece is one padding delta: about 1 KiB, so a 50 MB stream is some 50,000
// events rather than a million.
var padPiece = strings.Repeat(filler, 22)

// toolArgs are the arguments of every fake tool call.
const toolArgs = `{"city":"Paris"}`

// turn is what decides an answer, read from any API's request.
type turn struct {
	lastUser   string // text of the last user message
	toolResult string // the tool result, when the request ends with one
	isResult   bool   // the request ends with a tool result
	tool       string // the first tool offered, "" if none
	prompt     int    // estimated prompt tokens
	history    int    // estimated tokens of all but the last message
}

// count adds one message's tokens (its text and a few for its framing) to
// the prompt, and to the history unless it is the last message: a resent
// history counts as cached.
func (t *turn) count(text string, last bool) {
	n := 4 + tokens(text)
	t.prompt += n
	if !last {
		t.history += n
	}
}

// reply is the fake model's answer, before any wire format.
type reply struct {
	pieces []string // the text, as stream deltas
	tool   string   // name of the tool to call, "" for none
}

// decide picks the answer for t: a tool call, a text that uses a tool result,
// or a text that echoes the user. preface is text to send before a tool call
// (Anthropic sends one; OpenAI sends none). chunks is X-Fake-Chunks.
func decide(t turn, chunks int, preface bool) reply {
	var text string
	var r reply
	switch {
	case t.isResult:
		text = "Based on the tool result (" + snip(t.toolResult, 80) + "): " + greeting + " Have a lovely day."
	case t.tool != "":
		r.tool = t.tool
		if !preface {
			return r
		}
		text = "Let me call " + t.tool + " for that."
	default:
		text = greeting + ` You said: "` + snip(t.lastUser, 60) + `".`
	}
	r.pieces = split(text, chunks)
	return r
}

// text is the whole text of the reply.
func (r reply) text() string { return strings.Join(r.pieces, "") }

// padTo grows the reply's text by extra bytes (cut on a rune boundary), for
// X-Fake-Size on a JSON answer.
func (r *reply) padTo(extra int) {
	if extra <= 0 {
		return
	}
	var b strings.Builder
	for b.Len() < extra {
		b.WriteString(padPiece)
	}
	s := b.String()[:extra]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	r.pieces = append(r.pieces, s)
}

// writePadded writes the JSON answer build makes from r; when X-Fake-Size
// asks for more than that, it pads r's text (padTo) and builds the answer
// again. copies is how many times the text stands in the answer (one per
// choice); 0 leaves it as built, for an answer whose size a tool call
// decides.
func writePadded(ex *exchange, r *reply, copies int, build func() []byte) {
	body := build()
	if copies > 0 && ex.k.size > len(body) {
		r.padTo((ex.k.size - len(body)) / copies)
		body = build()
	}
	writeJSON(ex, http.StatusOK, body)
}

// deltas yields the reply's pieces and then, under X-Fake-Size, padding pieces
// until the stream plus what the caller will still send after the deltas
// (later, in bytes; nil for a small tail) reaches the target size. It stops
// when the stream fails.
func (r reply) deltas(s *sseWriter, later func() int) iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, p := range r.pieces {
			if !s.ok() || !yield(p) {
				return
			}
		}
		for s.ok() && s.k.size > 0 {
			tail := 0
			if later != nil {
				tail = later()
			}
			if s.n+int64(tail) >= int64(s.k.size) || !yield(padPiece) {
				return
			}
		}
	}
}

// split cuts text into deltas: one per word by default (a word keeps its
// leading space, as tokenizers do), or exactly n when n > 0. For more pieces
// than the text has runes, the text is repeated.
func split(text string, n int) []string {
	if n <= 0 {
		return words(text)
	}
	base := text
	for utf8.RuneCountInString(text) < n {
		text += " " + base
	}
	if w := words(text); len(w) >= n {
		out := make([]string, n)
		for i := range n {
			out[i] = strings.Join(w[i*len(w)/n:(i+1)*len(w)/n], "")
		}
		return out
	}
	runes := []rune(text)
	out := make([]string, n)
	for i := range n {
		out[i] = string(runes[i*len(runes)/n : (i+1)*len(runes)/n])
	}
	return out
}

// words splits text before each space that follows a non-space.
func words(text string) []string {
	var out []string
	start := 0
	prevSpace := true
	for i, c := range text {
		if c == ' ' && !prevSpace {
			out = append(out, text[start:i])
			start = i
		}
		prevSpace = c == ' '
	}
	return append(out, text[start:])
}

// splitArgs cuts JSON arguments as OpenAI streams them: runs of letters and
// digits apart from runs of punctuation (`{"`, `city`, `":"`, `Paris`, `"}`).
func splitArgs(args string) []string {
	var out []string
	start := 0
	var prev rune
	for i, c := range args {
		if i > 0 && isWordRune(c) != isWordRune(prev) {
			out = append(out, args[start:i])
			start = i
		}
		prev = c
	}
	return append(out, args[start:])
}

func isWordRune(c rune) bool { return unicode.IsLetter(c) || unicode.IsDigit(c) }

// snip shortens s to at most n runes on one line, marking a cut with "…".
func snip(s string, n int) string {
	return humanize.Shorten(strings.Join(strings.Fields(s), " "), n)
}

// tokens estimates the token count of s, about four bytes a token, as a real
// tokenizer would roughly count English.
func tokens(s string) int {
	return (len(s) + 3) / 4
}

// contentText returns the text of a message content: a JSON string, or an
// array of parts whose "text" fields (and, for tool results, nested "content")
// are joined. Anything else is "".
func contentText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Text    string          `json:"text"`
		Content json.RawMessage `json:"content"`
	}
	if json.Unmarshal(raw, &parts) != nil {
		return ""
	}
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
		if len(p.Content) > 0 {
			b.WriteString(contentText(p.Content))
		}
	}
	return b.String()
}
