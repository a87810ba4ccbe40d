package provider

import (
	"encoding/base64"
	"sort"
	"strings"

	"github.com/llmtap/llmtap/pkg/sse"
	"github.com/valyala/fastjson"
)

// Anthropic Messages (POST /v1/messages):
// https://docs.anthropic.com/en/api/messages and
// https://docs.anthropic.com/en/docs/build-with-claude/streaming.
//
// How the Anthropic shapes map onto the neutral model:
//   - system (a string or text blocks) becomes one "system" message, a part
//     per block.
//   - A message's content blocks become parts in order, except tool_result
//     blocks: each becomes a Message{Role: "tool", ToolCallID: tool_use_id} of
//     its own, placed where it stood, so a user turn that mixes results and
//     text becomes tool messages and a user message in wire order.
//   - A tool_result with is_error: true has "error: " put before its text
//     (or a lone "error" part when it has no text first), so any reader shows
//     it without knowing the flag.
//   - tool_use blocks become ToolCalls with the input as compact JSON;
//     streamed input_json_delta pieces are joined and, when they form valid
//     JSON, compacted the same way, so a streamed answer and the same answer
//     resent in the next request's history read the same.
//   - thinking blocks become Reasoning (several joined by a blank line);
//     redacted_thinking sets RedactedReasoning.
//   - server_tool_use, web_search_tool_result and any block this parser does
//     not know become PartOther with the block as compact JSON.
//   - FirstTokenOffset is the last byte of the first event that carries
//     text, thinking or tool input, or a tool_use block start (the model
//     has already chosen the tool's name by then).
//   - Usage.Input is input_tokens + cache_read_input_tokens +
//     cache_creation_input_tokens (Anthropic leaves the cached tokens out of
//     input_tokens; the other providers count them in); Total, which
//     Anthropic never sends, is input + output.

// parseAnthropic fills ex from an Anthropic Messages exchange.
func parseAnthropic(ex *Exchange, req, res *side) {
	if b := req.json; b != nil && b.Type() == fastjson.TypeObject {
		ex.Model = str(b, "model")
		anthRequest(ex, b)
	}
	switch {
	case res.json != nil:
		anthResponse(ex, res.json)
	case res.text != nil:
		anthStream(ex, res)
	}
	if ex.Usage != nil {
		anthTotals(ex.Usage)
	}
}

func anthRequest(ex *Exchange, b *fastjson.Value) {
	if sys := b.Get("system"); sys != nil && sys.Type() != fastjson.TypeNull {
		m := Message{Role: "system"}
		anthContent(&m, sys)
		if !emptyTurn(&m) {
			ex.Request = append(ex.Request, m)
		}
	}
	for _, msg := range arr(b, "messages") {
		ex.Request = anthMessages(ex.Request, str(msg, "role"), msg.Get("content"))
	}
	for _, t := range arr(b, "tools") {
		// Client tools have a name, a description and an input_schema;
		// server tools (web_search_20250305, bash_20250124, …) a type and
		// a name. The type tells a reader which kind of tool it is.
		typ := str(t, "type")
		tool := Tool{Name: str(t, "name"), Description: str(t, "description")}
		if tool.Name == "" {
			tool.Name = typ
		}
		if tool.Description == "" && typ != "" && typ != "custom" {
			tool.Description = typ
		}
		ex.Tools = append(ex.Tools, tool)
	}
}

// anthMessages appends the messages one wire message makes: itself, split
// around its tool_result blocks, which become tool messages. A message with no
// content at all is kept (empty), so the turn still shows.
func anthMessages(out []Message, role string, content *fastjson.Value) []Message {
	n := len(out)
	m := Message{Role: role}
	if content == nil || content.Type() == fastjson.TypeNull {
		return append(out, m)
	}
	switch content.Type() {
	case fastjson.TypeString:
		if s := content.GetStringBytes(); len(s) > 0 {
			m.Parts = append(m.Parts, Part{Kind: PartText, Text: string(s)})
		}
	case fastjson.TypeArray:
		blocks, _ := content.Array()
		for _, b := range blocks {
			if str(b, "type") != "tool_result" {
				anthBlock(&m, b)
				continue
			}
			if !emptyTurn(&m) {
				out = append(out, m)
				m = Message{Role: role}
			}
			out = append(out, anthToolResult(b))
		}
	default:
		anthBlock(&m, content)
	}
	if !emptyTurn(&m) || len(out) == n {
		out = append(out, m)
	}
	return out
}

func emptyTurn(m *Message) bool {
	return len(m.Parts) == 0 && len(m.ToolCalls) == 0 && m.Reasoning == "" && !m.RedactedReasoning
}

// anthBlock adds one content block (anything but tool_result) to m.
func anthBlock(m *Message, b *fastjson.Value) {
	if b.Type() == fastjson.TypeString {
		if s := b.GetStringBytes(); len(s) > 0 {
			m.Parts = append(m.Parts, Part{Kind: PartText, Text: string(s)})
		}
		return
	}
	switch str(b, "type") {
	case "text":
		if s := b.GetStringBytes("text"); len(s) > 0 {
			m.Parts = append(m.Parts, Part{Kind: PartText, Text: string(s)})
		}
	case "image":
		m.Parts = append(m.Parts, anthSource(PartImage, b.Get("source")))
	case "document":
		p := anthSource(PartFile, b.Get("source"))
		p.Name = str(b, "title")
		m.Parts = append(m.Parts, p)
	case "tool_use":
		m.ToolCalls = append(m.ToolCalls, ToolCall{
			ID: str(b, "id"), Name: str(b, "name"), Arguments: jsonText(b.Get("input")),
		})
	case "thinking":
		m.Reasoning = anthJoinThinking(m.Reasoning, str(b, "thinking"))
	case "redacted_thinking":
		m.RedactedReasoning = true
	default:
		m.Parts = append(m.Parts, Part{Kind: PartOther, Text: jsonText(b)})
	}
}

// anthJoinThinking joins the text of thinking blocks with a blank line.
func anthJoinThinking(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "\n\n" + b
}

// anthSource reads an image or document source: base64 data (only its
// media type and decoded size are kept), a URL, a Files API id, plain text
// or content blocks (a document's text is kept).
func anthSource(kind PartKind, src *fastjson.Value) Part {
	p := Part{Kind: kind}
	if src == nil {
		return p
	}
	switch str(src, "type") {
	case "base64":
		p.MediaType = str(src, "media_type")
		p.Bytes = base64ValueSize(src.Get("data"))
	case "url":
		p.URL = str(src, "url")
		if mt, size, ok := dataURL(p.URL); ok {
			p.URL, p.MediaType, p.Bytes = "", mt, size
		}
	case "file":
		p.URL = str(src, "file_id")
	case "text":
		p.MediaType = str(src, "media_type")
		p.Text = str(src, "data")
		p.Bytes = int64(len(p.Text))
	case "content":
		var m Message
		anthContent(&m, src.Get("content"))
		var b strings.Builder
		for _, q := range m.Parts {
			if q.Kind == PartText {
				if b.Len() > 0 {
					b.WriteString("\n\n")
				}
				b.WriteString(q.Text)
			}
		}
		p.Text = b.String()
	}
	return p
}

// anthContent adds content (a string or blocks, tool results treated as
// any other block) to m.
func anthContent(m *Message, content *fastjson.Value) {
	if content == nil || content.Type() == fastjson.TypeNull {
		return
	}
	if content.Type() == fastjson.TypeArray {
		blocks, _ := content.Array()
		for _, b := range blocks {
			anthBlock(m, b)
		}
		return
	}
	anthBlock(m, content)
}

// anthToolResult turns a tool_result block into a tool message.
func anthToolResult(b *fastjson.Value) Message {
	m := Message{Role: "tool", ToolCallID: str(b, "tool_use_id")}
	anthContent(&m, b.Get("content"))
	if b.GetBool("is_error") {
		if len(m.Parts) > 0 && m.Parts[0].Kind == PartText {
			m.Parts[0].Text = "error: " + m.Parts[0].Text
		} else {
			m.Parts = append([]Part{{Kind: PartText, Text: "error"}}, m.Parts...)
		}
	}
	return m
}

// base64ValueSize is the decoded size of a base64 JSON string, computed
// without copying it out of the parsed value.
func base64ValueSize(v *fastjson.Value) int64 {
	if v == nil {
		return 0
	}
	b := v.GetStringBytes()
	for len(b) > 0 && b[len(b)-1] == '=' {
		b = b[:len(b)-1]
	}
	return int64(base64.RawStdEncoding.DecodedLen(len(b)))
}

// anthError reads {"type":"error","error":{"type":…,"message":…}}, the
// body of an error answer and the data of a stream's error event.
func anthError(v *fastjson.Value) *APIError {
	e := v.Get("error")
	if e == nil {
		return &APIError{Type: "error", Message: "error event without details"}
	}
	if e.Type() != fastjson.TypeObject {
		return &APIError{Type: "error", Message: textOf(e)}
	}
	return &APIError{Type: str(e, "type"), Message: str(e, "message")}
}

// anthUsage merges a usage object into u: fields present in x replace those
// in u (message_delta's counts are cumulative). Input holds input_tokens
// alone until anthTotals adds the cache counts.
func anthUsage(u *Usage, x *fastjson.Value) *Usage {
	if x == nil || x.Type() != fastjson.TypeObject {
		return u
	}
	if u == nil {
		u = &Usage{}
	}
	anthMergeUsage(u, x)
	return u
}

// anthMergeUsage is anthUsage for a usage object x, without an allocation.
// It reports whether x counted the output tokens.
func anthMergeUsage(u *Usage, x *fastjson.Value) (output bool) {
	if n := x.Get("input_tokens"); n != nil && n.Type() == fastjson.TypeNumber {
		u.Input = n.GetInt64()
	}
	if n := x.Get("output_tokens"); n != nil && n.Type() == fastjson.TypeNumber {
		u.Output, output = n.GetInt64(), true
	}
	if n := x.Get("cache_read_input_tokens"); n != nil && n.Type() == fastjson.TypeNumber {
		u.CachedInput = n.GetInt64()
	}
	if n := x.Get("cache_creation_input_tokens"); n != nil && n.Type() == fastjson.TypeNumber {
		u.CacheWrite = n.GetInt64()
	}
	return output
}

// anthTotals turns merged Anthropic counts into the neutral ones: Anthropic
// leaves the tokens read from and written to the cache out of input_tokens,
// where the other providers count them, so Input gets both; and Total,
// which Anthropic never sends, is input + output.
func anthTotals(u *Usage) {
	u.Input += u.CachedInput + u.CacheWrite
	if u.Total == 0 {
		u.Total = u.Input + u.Output
	}
}

// anthResponse reads a JSON answer: a message, or an error.
func anthResponse(ex *Exchange, v *fastjson.Value) {
	if v.Type() != fastjson.TypeObject {
		return
	}
	if str(v, "type") == "error" {
		ex.Error = anthError(v)
		return
	}
	content := v.Get("content")
	if str(v, "type") != "message" && (content == nil || content.Type() != fastjson.TypeArray) {
		return // not a message: some other error shape, left to parseError
	}
	if ex.Model == "" {
		ex.Model = str(v, "model")
	}
	m := Message{Role: str(v, "role"), FinishReason: str(v, "stop_reason")}
	if m.Role == "" {
		m.Role = "assistant"
	}
	for _, b := range arr(v, "content") {
		anthBlock(&m, b)
	}
	ex.Response = append(ex.Response, m)
	ex.Usage = anthUsage(nil, v.Get("usage"))
}

// anthStreamBlock is one content block of a streamed answer, keyed by its
// index.
type anthStreamBlock struct {
	index    int64
	typ      string
	id, name string
	text     strings.Builder // text or thinking
	input    strings.Builder // input_json_delta pieces
	start    string          // content_block as compact JSON, for PartOther blocks
	input0   string          // content_block.input as compact JSON
}

// anthAssembly is an answer being reassembled from an SSE stream.
type anthAssembly struct {
	ex      *Exchange
	res     *side
	events  int
	blocks  []*anthStreamBlock
	byIndex map[int64]*anthStreamBlock
	started bool // a message_start came
	role    string
	finish  string
	usage   *Usage
}

// anthStream reassembles an SSE answer.
func anthStream(ex *Exchange, res *side) {
	a := anthAssembly{ex: ex, res: res, byIndex: map[int64]*anthStreamBlock{}}
	res.eachEvent(a.event)
	a.done()
}

// event reads one event of the stream.
func (a *anthAssembly) event(e sse.Event) {
	a.events++
	d := a.res.parseJSON(e.Data)
	if d == nil || d.Type() != fastjson.TypeObject {
		return
	}
	// Not copied: this runs per event.
	typ := strBytes(d, "type")
	if len(typ) == 0 {
		typ = []byte(e.Type)
	}
	switch string(typ) {
	case "message_start":
		a.started = true
		m := d.Get("message")
		if a.ex.Model == "" {
			a.ex.Model = str(m, "model")
		}
		a.role = str(m, "role")
		a.usage = anthUsage(a.usage, m.Get("usage"))
	case "content_block_start":
		a.blockStart(d)
	case "content_block_delta":
		a.blockDelta(d)
	case "message_delta":
		if s := str(d, "delta", "stop_reason"); s != "" {
			a.finish = s
		}
		a.usage = anthUsage(a.usage, d.Get("usage"))
	case "error":
		a.ex.Error = anthError(d)
	}
	if a.ex.FirstTokenOffset < 0 && anthOutput(typ, d) != 0 {
		a.ex.FirstTokenOffset = e.End - 1
	}
}

// block returns the block at index i, made with type typ when new.
func (a *anthAssembly) block(i int64, typ string) *anthStreamBlock {
	b := a.byIndex[i]
	if b == nil {
		b = &anthStreamBlock{index: i}
		a.byIndex[i] = b
		a.blocks = append(a.blocks, b)
	}
	if b.typ == "" {
		b.typ = typ
	}
	return b
}

// blockStart reads a content_block_start event.
func (a *anthAssembly) blockStart(d *fastjson.Value) {
	cb := d.Get("content_block")
	b := a.block(num(d, "index"), str(cb, "type"))
	b.id, b.name = str(cb, "id"), str(cb, "name")
	b.start = jsonText(cb)
	b.input0 = jsonText(cb.Get("input"))
	if b.typ == "text" || b.typ == "thinking" {
		// The start usually carries "" and the text follows in deltas,
		// but a block may arrive whole.
		b.text.Write(cb.GetStringBytes(b.typ))
	}
}

// blockDelta reads a content_block_delta event. signature_delta and
// citations_delta say nothing a reader of the conversation needs.
func (a *anthAssembly) blockDelta(d *fastjson.Value) {
	dl := d.Get("delta")
	i := num(d, "index")
	switch string(strBytes(dl, "type")) {
	case "text_delta":
		writeGrowing(&a.block(i, "text").text, dl.GetStringBytes("text"))
	case "thinking_delta":
		writeGrowing(&a.block(i, "thinking").text, dl.GetStringBytes("thinking"))
	case "input_json_delta":
		writeGrowing(&a.block(i, "tool_use").input, dl.GetStringBytes("partial_json"))
	}
}

// done puts the usage and the reassembled message into the exchange.
func (a *anthAssembly) done() {
	if a.events == 0 {
		return
	}
	a.ex.Usage = a.usage
	if !a.started && len(a.blocks) == 0 {
		return
	}
	// Blocks arrive in index order; sort in case a server interleaves them.
	sort.SliceStable(a.blocks, func(i, j int) bool { return a.blocks[i].index < a.blocks[j].index })
	m := Message{Role: a.role, FinishReason: a.finish}
	if m.Role == "" {
		m.Role = "assistant"
	}
	for _, b := range a.blocks {
		b.addTo(&m, a.res.parser)
	}
	a.ex.Response = append(a.ex.Response, m)
}

// addTo adds the reassembled block to m; p parses streamed tool input.
func (b *anthStreamBlock) addTo(m *Message, p *fastjson.Parser) {
	switch b.typ {
	case "text":
		if b.text.Len() > 0 {
			m.Parts = append(m.Parts, Part{Kind: PartText, Text: b.text.String()})
		}
	case "thinking":
		m.Reasoning = anthJoinThinking(m.Reasoning, b.text.String())
	case "redacted_thinking":
		m.RedactedReasoning = true
	case "tool_use":
		args := b.input0
		if b.input.Len() > 0 {
			args = compactJSONText(p, b.input.String())
		}
		m.ToolCalls = append(m.ToolCalls, ToolCall{ID: b.id, Name: b.name, Arguments: args})
	default:
		text := b.start
		if b.input.Len() > 0 {
			text = anthWithInput(p, b.start, b.input.String())
		}
		m.Parts = append(m.Parts, Part{Kind: PartOther, Text: text})
	}
}

// compactJSONText returns s as compact JSON (as jsonText writes it) when it
// is valid JSON, and s unchanged otherwise (a stream cut mid-argument).
func compactJSONText(p *fastjson.Parser, s string) string {
	v, err := p.Parse(s)
	if err != nil {
		return s
	}
	return jsonText(v)
}

// anthWithInput returns the block start (compact JSON of an object) with its
// "input" replaced by the streamed input: a server_tool_use block as it
// would appear whole.
func anthWithInput(p *fastjson.Parser, start, input string) string {
	in := compactJSONText(p, input)
	valid := fastjson.Validate(input) == nil
	v, err := p.Parse(start)
	if err != nil || v.Type() != fastjson.TypeObject {
		return start
	}
	o, _ := v.Object()
	dst := []byte{'{'}
	seen := false
	writeInput := func() {
		dst = appendQuoted(dst, "input")
		dst = append(dst, ':')
		if valid {
			dst = append(dst, in...)
		} else {
			dst = appendQuoted(dst, in)
		}
	}
	o.Visit(func(k []byte, x *fastjson.Value) {
		if len(dst) > 1 {
			dst = append(dst, ',')
		}
		if string(k) == "input" {
			seen = true
			writeInput()
			return
		}
		dst = appendQuoted(dst, string(k))
		dst = append(dst, ':')
		dst = appendJSON(dst, x)
	})
	if !seen {
		if len(dst) > 1 {
			dst = append(dst, ',')
		}
		writeInput()
	}
	return string(append(dst, '}'))
}
