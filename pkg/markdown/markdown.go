// Package markdown renders llmtap exchanges as a Markdown transcript: one
// section per exchange, with a heading line to scan (time, endpoint, model,
// status, duration, time to first token, token usage, errors), the
// conversation under role headings, reasoning in collapsible blocks, tool
// calls as pretty JSON, and placeholders instead of inline media.
//
// By default a conversation is threaded: a request that continues an
// earlier exchange shows only what it adds, with a link back (see
// thread.go). Options.Full shows every request whole.
//
// The package knows no JSON field names: it reads the record through
// record.View and the conversation through provider.Exchange. It knows no
// flags either; Options is what a command line sets.
package markdown

import (
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/llmtap/llmtap/pkg/humanize"
	"github.com/llmtap/llmtap/pkg/provider"
	"github.com/llmtap/llmtap/pkg/record"
)

// Limits, in characters, on what a transcript shows of values that are not
// the conversation and that no option clips: a heading stays one line, and
// a hostile record cannot fill a screen with one field.
const (
	maxEndpointChars    = 200  // method, path and query in a heading
	maxModelChars       = 100  // the model name in a heading
	maxRecordErrorChars = 500  // the message of the record's error
	maxAPIErrorChars    = 2000 // the provider's error message
	maxMediaFieldChars  = 200  // a name, media type or URL in a media placeholder
)

// Options tunes a Renderer. The zero value threads conversations and shows
// everything unclipped.
type Options struct {
	// Full shows every request's messages whole, instead of only those it
	// adds to the conversation it continues.
	Full bool
	// NoSystem leaves out system and developer messages.
	NoSystem bool
	// NoReasoning leaves out reasoning and thinking.
	NoReasoning bool
	// MaxChars clips each text (a message part, reasoning, tool arguments
	// or a tool result) to this many characters, with a note saying how
	// many were cut; 0 means no clipping.
	MaxChars int
}

// Renderer writes the transcript of a sequence of exchanges. It remembers
// the conversations it has shown, so one Renderer must see the exchanges
// in order. It is not safe for concurrent use.
type Renderer struct {
	w    io.Writer
	opts Options
	t    *threads
	buf  []byte
	n    int // exchanges rendered, for anchors of records without an id
}

// New returns a Renderer that writes to w.
func New(w io.Writer, opts Options) *Renderer {
	return &Renderer{w: w, opts: opts, t: newThreads()}
}

// Render writes the section of one exchange to w in one Write: v is the
// record, ex what provider.Parse made of it (nil is treated as an exchange
// nothing was understood of). The output is valid UTF-8 whatever the input.
// The only error is w's.
func (r *Renderer) Render(v record.View, ex *provider.Exchange) error {
	if ex == nil {
		ex = &provider.Exchange{FirstTokenOffset: -1}
	}
	r.n++
	s := section{r: r, v: v, ex: ex, b: r.buf[:0]}
	s.render()
	out := sanitize(s.b)
	_, err := r.w.Write(out)
	if cap(s.b) <= 4<<20 {
		r.buf = s.b[:0] // keep the buffer, unless one huge record grew it
	}
	return err
}

// section renders one exchange.
type section struct {
	r     *Renderer
	v     record.View
	ex    *provider.Exchange
	b     []byte
	ref   int  // this exchange in r.t.refs
	shown bool // something below the heading was written
}

func (s *section) render() {
	ex, opts := s.ex, s.r.opts
	anchor := anchorOf(s.v.ID(), s.r.n)
	tools := s.r.t.toolsHash(ex.Tools)
	s.ref = s.r.t.add(exchangeRef{anchor: anchor, start: s.v.Start(), tools: tools})

	s.b = append(s.b, `<a id="`...)
	s.b = append(s.b, anchor...)
	s.b = append(s.b, "\"></a>\n\n"...)
	s.heading()
	s.problems()
	if ex.Summary != "" {
		s.b = appendInline(s.b, ex.Summary)
		s.b = append(s.b, "\n\n"...)
		s.shown = true
	}

	start, cont, resend := 0, -1, false
	if !opts.Full {
		start, cont, resend = s.thread()
	}
	if cont >= 0 {
		c := s.r.t.refs[cont]
		if resend {
			s.b = append(s.b, "↪ Resends the conversation of ["...)
		} else {
			s.b = append(s.b, "↪ Continues ["...)
		}
		s.b = appendTimeLabel(s.b, c.start)
		s.b = append(s.b, "](#"...)
		s.b = append(s.b, c.anchor...)
		s.b = append(s.b, ')')
		if resend {
			s.b = append(s.b, " with no new messages"...)
		}
		s.b = append(s.b, ".\n\n"...)
		s.shown = true
	}
	if len(ex.Tools) > 0 && (cont < 0 || s.r.t.refs[cont].tools != tools) {
		s.tools()
	}
	history := false // an assistant message is shown before the answer
	for i := start; i < len(ex.Request); i++ {
		s.message(&ex.Request[i], true, "")
		history = history || ex.Request[i].Role == provider.RoleAssistant
	}
	s.response(history)
	if !s.shown {
		s.b = append(s.b, "*Nothing to show: "...)
		s.b = humanize.AppendBytes(s.b, s.v.BodySize("request"))
		s.b = append(s.b, " sent, "...)
		s.b = humanize.AppendBytes(s.b, s.v.BodySize("response"))
		s.b = append(s.b, " received.*\n\n"...)
	}
}

// thread finds where this exchange's request continues a conversation
// already shown, and remembers its own chains. It returns the index of the
// first message to show, the exchange continued (-1 for none), and whether
// the request adds nothing to it.
func (s *section) thread() (start, cont int, resend bool) {
	t := s.r.t
	units := t.chain(s.ex.Request)
	cont, start = -1, 0
	known := -1
	for j := len(units) - 1; j >= 0; j-- {
		if ref, ok := t.seen[units[j].chain]; ok {
			known, cont = j, ref
			break
		}
	}
	if known >= 0 {
		if known+1 < len(units) {
			start = units[known+1].first
		} else {
			start, resend = len(s.ex.Request), true
		}
	}
	for _, u := range units {
		if _, ok := t.seen[u.chain]; !ok {
			t.seen[u.chain] = s.ref
		}
	}
	// The answer continues the chain: one answer per choice.
	var last uint64
	if len(units) > 0 {
		last = units[len(units)-1].chain
	}
	resp := s.ex.Response
	for i := 0; i < len(resp); {
		j := i + 1
		for j < len(resp) && resp[j].Choice == resp[i].Choice {
			j++
		}
		if h := t.unitHash(last, resp[i:j]); hasContent(resp[i:j]) {
			if _, ok := t.seen[h]; !ok {
				t.seen[h] = s.ref
			}
		}
		i = j
	}
	return start, cont, resend
}

// hasContent reports whether an answer holds anything a client would send
// back: text, a refusal or a tool call.
func hasContent(msgs []provider.Message) bool {
	for i := range msgs {
		if len(msgs[i].ToolCalls) > 0 || msgs[i].Refusal != "" {
			return true
		}
		for _, p := range msgs[i].Parts {
			if p.Text != "" || p.Bytes > 0 || p.URL != "" {
				return true
			}
		}
	}
	return false
}

// anchorOf makes an HTML id from a record id: characters other than
// letters, digits, '-', '_', '.' and ':' become '-'.
func anchorOf(id string, n int) string {
	if id == "" {
		return "exchange-" + strconv.Itoa(n)
	}
	clean := true
	for i := 0; i < len(id); i++ {
		if !isAnchorByte(id[i]) {
			clean = false
			break
		}
	}
	if clean {
		return id
	}
	b := []byte(id)
	for i, c := range b {
		if !isAnchorByte(c) {
			b[i] = '-'
		}
	}
	return string(b)
}

func isAnchorByte(c byte) bool {
	return isLetter(c) || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':'
}

const headingTime = "2006-01-02 15:04:05.000"

// appendTimeLabel names an exchange in a link: by its start time, or as
// "an earlier exchange" when the record has none.
func appendTimeLabel(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, "an earlier exchange"...)
	}
	b = append(b, "the exchange at "...)
	return t.UTC().AppendFormat(b, headingTime)
}

// heading writes the exchange's heading line: time · endpoint · model ·
// status · duration · first token · tokens · error.
func (s *section) heading() {
	v, ex := s.v, s.ex
	b := append(s.b, "## "...)
	sep := func() { b = append(b, " · "...) }
	if t := v.Start(); !t.IsZero() {
		b = t.UTC().AppendFormat(b, headingTime)
		b = append(b, " UTC"...)
		sep()
	}
	endpoint := v.Method() + " " + v.Path()
	if q := v.Query(); q != "" {
		endpoint += "?" + q
	}
	endpoint, _ = humanize.Clip(endpoint, maxEndpointChars)
	b = appendCode(b, endpoint)
	if ex.Model != "" {
		sep()
		m, _ := humanize.Clip(ex.Model, maxModelChars)
		b = appendInline(b, m)
	}
	sep()
	switch st := v.Status(); {
	case !v.HasResponse():
		b = append(b, "⚠ no response"...)
	case st >= 400:
		b = append(b, "⚠ "...)
		b = strconv.AppendInt(b, int64(st), 10)
	default:
		b = strconv.AppendInt(b, int64(st), 10)
	}
	if ex.Stream {
		b = append(b, " · stream"...)
	}
	if d := v.DurationMS(); d > 0 {
		sep()
		b = appendMillis(b, d)
	}
	if ms, ok := v.TickMS(ex.FirstTokenOffset); ok {
		sep()
		b = append(b, "TTFT "...)
		b = appendMillis(b, ms)
	} else if ms, ok := v.TTFBMS(); ok {
		sep()
		b = append(b, "TTFB "...)
		b = appendMillis(b, ms)
	}
	if u := ex.Usage; u != nil && (u.Input != 0 || u.Output != 0) {
		sep()
		b = appendUsage(b, u)
	}
	if k := v.ErrorKind(); k != "" {
		sep()
		b = append(b, "⚠ "...)
		b = appendInline(b, k)
	} else if ex.Error != nil && v.Status() < 400 {
		sep()
		b = append(b, "⚠ error"...)
	}
	s.b = append(b, "\n\n"...)
}

// appendMillis writes a duration given in milliseconds for a reader:
// 0.42 ms, 87 ms, 1.23 s, 2m05s.
func appendMillis(b []byte, ms float64) []byte {
	switch {
	case ms < 10:
		b = strconv.AppendFloat(b, ms, 'f', 2, 64)
		return append(b, " ms"...)
	case ms < 1000:
		b = strconv.AppendFloat(b, ms, 'f', 0, 64)
		return append(b, " ms"...)
	case ms < 60_000:
		b = strconv.AppendFloat(b, ms/1000, 'f', 2, 64)
		return append(b, " s"...)
	default:
		sec := int64(ms / 1000)
		b = strconv.AppendInt(b, sec/60, 10)
		b = append(b, 'm')
		if sec%60 < 10 {
			b = append(b, '0')
		}
		b = strconv.AppendInt(b, sec%60, 10)
		return append(b, 's')
	}
}

// appendUsage writes token usage: 1,200 in (1,000 cached) / 30 out (16
// reasoning) tokens.
func appendUsage(b []byte, u *provider.Usage) []byte {
	b = appendCount(b, u.Input)
	b = append(b, " in"...)
	if u.CachedInput != 0 || u.CacheWrite != 0 {
		b = append(b, " ("...)
		if u.CachedInput != 0 {
			b = appendCount(b, u.CachedInput)
			b = append(b, " cached"...)
		}
		if u.CacheWrite != 0 {
			if u.CachedInput != 0 {
				b = append(b, ", "...)
			}
			b = appendCount(b, u.CacheWrite)
			b = append(b, " cache write"...)
		}
		b = append(b, ')')
	}
	if u.Output == 0 && u.Reasoning == 0 {
		return append(b, " tokens"...) // embeddings: nothing comes out
	}
	b = append(b, " / "...)
	b = appendCount(b, u.Output)
	b = append(b, " out"...)
	if u.Reasoning != 0 {
		b = append(b, " ("...)
		b = appendCount(b, u.Reasoning)
		b = append(b, " reasoning)"...)
	}
	return append(b, " tokens"...)
}

// problems writes what went wrong, plainly, before the conversation: the
// record's error and the provider's error message.
func (s *section) problems() {
	v, ex := s.v, s.ex
	if k := v.ErrorKind(); k != "" {
		s.b = append(s.b, "> ⚠ **"...)
		if text, ok := record.ErrorKindText(k); ok {
			s.b = append(s.b, text...)
		} else {
			s.b = append(s.b, "Error"...)
		}
		s.b = append(s.b, "** ("...)
		s.b = appendInline(s.b, k)
		s.b = append(s.b, ')')
		if m := v.ErrorMessage(); m != "" {
			s.b = append(s.b, ": "...)
			m, _ = humanize.Clip(m, maxRecordErrorChars)
			s.b = appendInline(s.b, m)
		}
		s.b = append(s.b, '.')
		if len(ex.Response) > 0 {
			s.b = append(s.b, " What arrived before that is shown below."...)
		}
		s.b = append(s.b, "\n\n"...)
		s.shown = true
	}
	st := v.Status()
	if ex.Error == nil && st < 400 {
		return
	}
	s.b = append(s.b, "> ⚠ **"...)
	if st >= 400 {
		s.b = append(s.b, "HTTP "...)
		s.b = strconv.AppendInt(s.b, int64(st), 10)
	} else {
		s.b = append(s.b, "Error"...)
	}
	s.b = append(s.b, "**"...)
	if e := ex.Error; e != nil {
		if e.Type != "" {
			s.b = append(s.b, ' ')
			s.b = appendCode(s.b, e.Type)
		}
		if e.Code != "" && e.Code != e.Type {
			s.b = append(s.b, ' ')
			s.b = appendCode(s.b, e.Code)
		}
		if e.Message != "" {
			s.b = append(s.b, ": "...)
			m, _ := humanize.Clip(e.Message, maxAPIErrorChars)
			s.b = appendInline(s.b, m)
		}
	} else {
		s.b = append(s.b, ": no error message in the response"...)
	}
	s.b = append(s.b, "\n\n"...)
	s.shown = true
}

// tools lists the tools offered, by name, on one line.
func (s *section) tools() {
	s.b = append(s.b, "**Tools offered:** "...)
	for i, t := range s.ex.Tools {
		if i > 0 {
			s.b = append(s.b, ", "...)
		}
		name := t.Name
		if name == "" {
			name = "(unnamed)"
		}
		s.b = appendCode(s.b, name)
	}
	s.b = append(s.b, "\n\n"...)
	s.shown = true
}

// response writes the answer: one assistant block per choice, labelled
// as the answer when there are several, or when assistant messages of the
// request's history are shown above it.
func (s *section) response(history bool) {
	resp := s.ex.Response
	choices := 0
	for i := range resp {
		if i == 0 || resp[i].Choice != resp[i-1].Choice {
			choices++
		}
	}
	n := 0
	for i := range resp {
		// Messages of one choice after its first continue its answer.
		first := i == 0 || resp[i].Choice != resp[i-1].Choice
		label := ""
		if first {
			n++
			switch {
			case choices > 1:
				label = " · answer " + strconv.Itoa(n) + " of " + strconv.Itoa(choices)
			case history:
				label = " · answer"
			}
		}
		s.message(&resp[i], first, label)
	}
}

// roleTitle is the heading of a role: a known role's name, or the role
// capitalised and escaped.
func roleTitle(role string) string {
	switch role {
	case provider.RoleSystem:
		return "System"
	case provider.RoleDeveloper:
		return "Developer"
	case provider.RoleUser:
		return "User"
	case provider.RoleAssistant:
		return "Assistant"
	case provider.RoleTool:
		return "Tool result"
	case provider.RoleFunction:
		return "Function result"
	case "":
		return "Message"
	}
	r, size := utf8.DecodeRuneInString(role)
	return string(appendInline(nil, string(unicode.ToTitle(r))+role[size:]))
}

// message writes one message, under its role heading (with label added)
// when heading is set.
func (s *section) message(m *provider.Message, heading bool, label string) {
	opts := s.r.opts
	if opts.NoSystem && m.IsInstruction() {
		return
	}
	s.shown = true
	if heading {
		s.messageHeading(m, label)
	}
	if !opts.NoReasoning {
		if r := trimText(m.Reasoning); r != "" {
			s.b = append(s.b, "<details><summary>Reasoning</summary>\n\n"...)
			s.b = appendText(s.b, r, opts.MaxChars)
			s.b = append(s.b, "</details>\n\n"...)
		}
		if m.RedactedReasoning {
			s.b = append(s.b, "*[reasoning not shown by the provider]*\n\n"...)
		}
	}
	call := 0
	for _, p := range m.Parts {
		if p.Kind == provider.PartToolCall {
			if call < len(m.ToolCalls) {
				s.toolCall(&m.ToolCalls[call])
				call++
			}
			continue
		}
		s.part(&p)
	}
	if m.Refusal != "" {
		s.b = append(s.b, "**Refusal:**\n\n"...)
		s.b = appendText(s.b, m.Refusal, opts.MaxChars)
	}
	for ; call < len(m.ToolCalls); call++ {
		s.toolCall(&m.ToolCalls[call])
	}
	if f := m.FinishReason; provider.AbnormalFinish(f) {
		s.b = append(s.b, "*Finish reason: "...)
		s.b = appendInline(s.b, f)
		s.b = append(s.b, "*\n\n"...)
	}
}

func (s *section) messageHeading(m *provider.Message, label string) {
	b := append(s.b, "### "...)
	b = append(b, roleTitle(m.Role)...)
	if m.IsToolResult() {
		name := m.Name
		ref, known := s.r.t.calls[m.ToolCallID]
		if name == "" && known {
			name = ref.name
		}
		if name != "" {
			b = append(b, " · "...)
			b = appendCode(b, name)
		}
		if id := m.ToolCallID; id != "" {
			b = append(b, " · call "...)
			if known && ref.ref != s.ref && ref.ref < len(s.r.t.refs) {
				b = append(b, '[')
				b = appendCode(b, id)
				b = append(b, "](#"...)
				b = append(b, s.r.t.refs[ref.ref].anchor...)
				b = append(b, ')')
			} else {
				b = appendCode(b, id)
			}
		}
	} else if m.Name != "" {
		b = append(b, " · "...)
		b = appendInline(b, m.Name)
	}
	b = append(b, label...)
	s.b = append(b, "\n\n"...)
}

// toolCall writes one call: its name and id, then its arguments as pretty
// JSON (or exactly as sent when they are not JSON).
func (s *section) toolCall(c *provider.ToolCall) {
	if c.ID != "" {
		s.r.t.calls[c.ID] = callRef{ref: s.ref, name: c.Name}
	}
	b := append(s.b, "**Tool call** "...)
	name := c.Name
	if name == "" {
		name = "(unnamed)"
	}
	b = appendCode(b, name)
	if c.ID != "" {
		b = append(b, " · id "...)
		b = appendCode(b, c.ID)
	}
	if !c.IsPlainFunction() {
		b = append(b, " · "...)
		b = appendInline(b, c.Type)
	}
	b = append(b, "\n\n"...)
	args := c.Arguments
	switch pretty, ok := prettyJSON(args); {
	case ok:
		pretty, cut := humanize.Clip(pretty, s.r.opts.MaxChars)
		b = appendFenced(b, "json", pretty)
		b = appendClipNote(b, cut)
	case strings.TrimSpace(args) == "":
		b = append(b, "*(no arguments)*\n\n"...)
	default:
		args, cut := humanize.Clip(args, s.r.opts.MaxChars)
		b = appendFenced(b, "", args)
		b = appendClipNote(b, cut)
	}
	s.b = b
}

// part writes one content part: text, or a placeholder for media.
func (s *section) part(p *provider.Part) {
	switch p.Kind {
	case provider.PartImage, provider.PartAudio, provider.PartFile:
		s.b = appendPlaceholder(s.b, p)
		s.b = append(s.b, "\n\n"...)
	default:
		s.b = appendText(s.b, p.Text, s.r.opts.MaxChars)
	}
}

// appendPlaceholder writes a media part as one line, never its data:
// [image: image/png, 12.3 KB].
func appendPlaceholder(b []byte, p *provider.Part) []byte {
	b = append(b, '[')
	b = append(b, p.Kind...)
	sep := ": "
	field := func(s string) {
		if s == "" {
			return
		}
		b = append(b, sep...)
		sep = ", "
		s, _ = humanize.Clip(s, maxMediaFieldChars)
		b = appendInline(b, s)
	}
	field(p.Name)
	field(p.MediaType)
	if p.Bytes > 0 {
		b = append(b, sep...)
		sep = ", "
		b = humanize.AppendBytes(b, p.Bytes)
	}
	if !strings.HasPrefix(p.URL, "data:") {
		field(p.URL)
	}
	return append(b, ']')
}
