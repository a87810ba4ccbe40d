package provider

import (
	"slices"
	"strings"

	"github.com/llmtap/llmtap/pkg/sse"
	"github.com/valyala/fastjson"
)

// OpenAI Chat Completions: https://platform.openai.com/docs/api-reference/chat
// and the many servers that speak it, each a little differently.

// parseChat reads a Chat Completions exchange: the request's messages and
// tools, and the answer as JSON choices or as a reassembled SSE stream.
func parseChat(ex *Exchange, req, res *side) {
	if j := req.json; j != nil && j.Type() == fastjson.TypeObject {
		ex.Model = str(j, "model")
		for _, m := range arr(j, "messages") {
			ex.Request = append(ex.Request, chatMessage(m))
		}
		ex.Tools = openAITools(j)
	}
	switch {
	case res.json != nil:
		chatJSON(ex, res.json)
	case res.text != nil:
		chatStream(ex, res)
	}
}

// chatMessage reads one request message (or a response choice's message).
func chatMessage(m *fastjson.Value) Message {
	msg := Message{Role: str(m, "role"), Name: str(m, "name"), ToolCallID: str(m, "tool_call_id")}
	if m.Type() != fastjson.TypeObject {
		return msg
	}
	msg.Parts, msg.Refusal = openAIContent(m.Get("content"))
	if r := str(m, "refusal"); r != "" {
		msg.Refusal = r
	}
	msg.Reasoning = chatReasoning(m)
	for _, tc := range arr(m, "tool_calls") {
		msg.ToolCalls = append(msg.ToolCalls, chatToolCall(tc))
	}
	if fc := m.Get("function_call"); fc != nil && fc.Type() == fastjson.TypeObject {
		// The legacy form of a tool call, from before tool_calls.
		msg.ToolCalls = append(msg.ToolCalls, ToolCall{Type: "function", Name: str(fc, "name"), Arguments: argText(fc.Get("arguments"))})
	}
	return msg
}

// chatReasoning is the visible reasoning of a message or delta: DeepSeek's
// and vLLM's reasoning_content, or OpenRouter's and Ollama's reasoning. Some
// servers send both with the same text; one is taken, never both.
func chatReasoning(m *fastjson.Value) string {
	if r := str(m, "reasoning_content"); r != "" {
		return r
	}
	return str(m, "reasoning")
}

// argText is a tool call's arguments or input as text: a string as is,
// other JSON (some servers send an object) as compact JSON, null as "".
func argText(v *fastjson.Value) string {
	if v == nil || v.Type() == fastjson.TypeNull {
		return ""
	}
	return textOf(v)
}

// chatToolCall reads a complete tool call: a function call, or a custom
// tool's call with free-form input.
func chatToolCall(tc *fastjson.Value) ToolCall {
	call := ToolCall{ID: str(tc, "id"), Type: str(tc, "type")}
	switch {
	case tc.Get("function") != nil:
		call.Name = str(tc, "function", "name")
		// Some servers send the arguments as an object, not a JSON string.
		call.Arguments = argText(tc.Get("function", "arguments"))
	case tc.Get("custom") != nil:
		call.Name = str(tc, "custom", "name")
		call.Arguments = argText(tc.Get("custom", "input"))
	}
	return call
}

// openAIContent reads an OpenAI message content: a string, or an array of
// parts (Chat Completions and Responses part types alike). A refusal part
// is returned apart, as refusal.
func openAIContent(c *fastjson.Value) (parts []Part, refusal string) {
	if c == nil {
		return nil, ""
	}
	switch c.Type() {
	case fastjson.TypeString:
		if s := string(c.GetStringBytes()); s != "" {
			parts = append(parts, Part{Kind: PartText, Text: s})
		}
	case fastjson.TypeArray:
		a, _ := c.Array()
		for _, p := range a {
			if p.Type() == fastjson.TypeString { // a bare string in the list
				if s := string(p.GetStringBytes()); s != "" {
					parts = append(parts, Part{Kind: PartText, Text: s})
				}
				continue
			}
			if str(p, "type") == "refusal" {
				refusal += str(p, "refusal")
				continue
			}
			if part, ok := openAIPart(p); ok {
				parts = append(parts, part)
			}
		}
	case fastjson.TypeNull:
	default:
		parts = append(parts, Part{Kind: PartData, Text: string(appendScrubbed(nil, c))})
	}
	return parts, refusal
}

// openAIPart reads one content part. Inline data (data: URLs, base64) is
// never kept, only its media type and decoded size. ok is false for an
// empty text part.
func openAIPart(p *fastjson.Value) (part Part, ok bool) {
	switch str(p, "type") {
	case "text", "input_text", "output_text", "summary_text", "reasoning_text":
		t := str(p, "text")
		return Part{Kind: PartText, Text: t}, t != ""
	case "image_url": // Chat: {"image_url":{"url":…}} or {"image_url":"…"}
		u := str(p, "image_url", "url")
		if u == "" {
			u = str(p, "image_url")
		}
		return imagePart(u), true
	case "input_image": // Responses: {"image_url":"…"} or {"file_id":…}
		if u := str(p, "image_url"); u != "" {
			return imagePart(u), true
		}
		return Part{Kind: PartImage, URL: str(p, "file_id")}, true
	case "input_audio": // {"input_audio":{"data","format"}}
		a := p.Get("input_audio")
		if a == nil {
			a = p
		}
		return audioPart(str(a, "data"), str(a, "format")), true
	case "file": // Chat: {"file":{"filename","file_data","file_id"}}
		return filePart(p.Get("file")), true
	case "input_file": // Responses: {"filename","file_data","file_id","file_url"}
		return filePart(p), true
	}
	return Part{Kind: PartOther, Text: string(appendScrubbed(nil, p))}, true
}

// imagePart points at an image by URL, or describes inline image data.
func imagePart(u string) Part {
	if mt, n, ok := dataURL(u); ok {
		return Part{Kind: PartImage, MediaType: mt, Bytes: n}
	}
	if looksBase64(u) { // raw base64 without a data: prefix
		return Part{Kind: PartImage, Bytes: base64Size(u)}
	}
	return Part{Kind: PartImage, URL: u}
}

// audioPart describes inline base64 audio of a format such as "wav".
func audioPart(data, format string) Part {
	part := Part{Kind: PartAudio, Bytes: base64Size(data)}
	switch format {
	case "":
	case "mp3":
		part.MediaType = "audio/mpeg"
	default:
		part.MediaType = "audio/" + format
	}
	return part
}

// filePart describes a file part: a name, a file id or URL, and the size of
// inline file_data (a data: URL or bare base64).
func filePart(f *fastjson.Value) Part {
	part := Part{Kind: PartFile, Name: str(f, "filename"), URL: str(f, "file_id")}
	if part.URL == "" {
		part.URL = str(f, "file_url")
	}
	if d := str(f, "file_data"); d != "" {
		if mt, n, ok := dataURL(d); ok {
			part.MediaType, part.Bytes = mt, n
		} else {
			part.Bytes = base64Size(d)
		}
	}
	return part
}

// openAITools lists the tools a Chat Completions or Responses request
// offers: function tools by name and description (nested under "function"
// in Chat, flat in Responses), the legacy "functions", and built-in tools
// (web_search, file_search, …) by type.
func openAITools(j *fastjson.Value) []Tool {
	var tools []Tool
	for _, t := range arr(j, "tools") {
		typ := str(t, "type")
		var tool Tool
		switch {
		case t.Get("function") != nil:
			tool = Tool{Name: str(t, "function", "name"), Description: str(t, "function", "description")}
		case t.Get("custom") != nil:
			tool = Tool{Name: str(t, "custom", "name"), Description: str(t, "custom", "description")}
		case str(t, "name") != "":
			tool = Tool{Name: str(t, "name"), Description: str(t, "description")}
		case typ == "mcp":
			tool = Tool{Name: typ, Description: str(t, "server_label")}
		default:
			tool = Tool{Name: typ}
		}
		if tool.Name == "" {
			tool.Name = typ
		}
		tools = append(tools, tool)
	}
	for _, f := range arr(j, "functions") {
		tools = append(tools, Tool{Name: str(f, "name"), Description: str(f, "description")})
	}
	return tools
}

// openAIUsage reads usage in the Chat Completions names (prompt_tokens,
// completion_tokens) or the Responses names (input_tokens, output_tokens),
// with cached and reasoning tokens; nil when there is none.
func openAIUsage(u *fastjson.Value) *Usage {
	if u == nil || u.Type() != fastjson.TypeObject {
		return nil // before us is declared: it escapes, so it costs an allocation
	}
	us, _ := openAIUsageOf(u)
	return &us
}

// openAIUsageOf is openAIUsage without an allocation; ok is false when u is
// not a usage object. Both names count cached tokens in the input and
// reasoning tokens in the output, as the totals already do.
func openAIUsageOf(u *fastjson.Value) (usage Usage, ok bool) {
	if u == nil || u.Type() != fastjson.TypeObject {
		return Usage{}, false
	}
	usage = Usage{
		Input:       num(u, "prompt_tokens"),
		Output:      num(u, "completion_tokens"),
		Total:       num(u, "total_tokens"),
		CachedInput: num(u, "prompt_tokens_details", "cached_tokens"),
		Reasoning:   num(u, "completion_tokens_details", "reasoning_tokens"),
	}
	if !has(u, "prompt_tokens") && !has(u, "completion_tokens") {
		usage.Input = num(u, "input_tokens")
		usage.Output = num(u, "output_tokens")
		usage.CachedInput = num(u, "input_tokens_details", "cached_tokens")
		usage.Reasoning = num(u, "output_tokens_details", "reasoning_tokens")
	}
	if usage.CachedInput == 0 {
		usage.CachedInput = num(u, "prompt_cache_hit_tokens") // DeepSeek
	}
	return usage, true
}

// chatJSON reads a JSON answer: choices keyed by their index (not their
// position in the array), usage, and an error object.
func chatJSON(ex *Exchange, j *fastjson.Value) {
	if j.Type() != fastjson.TypeObject {
		return
	}
	if ex.Model == "" {
		ex.Model = str(j, "model")
	}
	for i, c := range arr(j, "choices") {
		m := c.Get("message")
		if m == nil {
			m = c.Get("delta") // a server that answers JSON in chunk form
		}
		var msg Message
		if m != nil {
			msg = chatMessage(m)
		}
		if msg.Role == "" {
			msg.Role = "assistant"
		}
		msg.Choice = choiceIndex(c, i)
		msg.FinishReason = str(c, "finish_reason")
		ex.Response = append(ex.Response, msg)
	}
	slices.SortStableFunc(ex.Response, func(a, b Message) int { return a.Choice - b.Choice })
	ex.Usage = openAIUsage(j.Get("usage"))
	if has(j, "error") {
		ex.Error = apiErrorOf(j)
	}
}

// openAIChunk takes from one streamed Chat or Completions chunk what every
// chunk may carry: an error (it then reports false: the chunk has nothing
// else), the model, and usage (cumulative where a server repeats it: the
// last wins).
func openAIChunk(ex *Exchange, ev sse.Event, j *fastjson.Value) bool {
	if ev.Type == "error" || has(j, "error") || str(j, "object") == "error" {
		if ex.Error == nil {
			ex.Error = apiErrorOf(j)
		}
		return false
	}
	if ex.Model == "" {
		ex.Model = str(j, "model")
	}
	if u := openAIUsage(j.Get("usage")); u != nil {
		ex.Usage = u
	}
	return true
}

// choiceIndex is a choice's "index", or its position when it has none.
func choiceIndex(c *fastjson.Value, pos int) int {
	if x := c.Get("index"); x != nil && x.Type() == fastjson.TypeNumber {
		return x.GetInt()
	}
	return pos
}

// chatChoice is one choice being reassembled from a stream.
type chatChoice struct {
	index                       int
	role, finish                string
	content, reasoning, refusal strings.Builder
	calls                       []*chatCall
	byIndex                     map[int]*chatCall // the latest call at each tool-call index
	last                        *chatCall         // the call the last fragment went to
}

// chatCall is one tool call being reassembled from fragments.
type chatCall struct {
	id, typ, name string
	args          strings.Builder
}

// chatStream reassembles a streamed answer from its chunks: text,
// reasoning, refusal and tool-call fragments of each choice by choice index
// and tool-call index, usage from the chunk that carries it, and error
// events.
func chatStream(ex *Exchange, res *side) {
	var choices []*chatChoice
	byIndex := map[int]*chatChoice{}
	choice := func(i int) *chatChoice {
		c := byIndex[i]
		if c == nil {
			c = &chatChoice{index: i, byIndex: map[int]*chatCall{}}
			byIndex[i] = c
			choices = append(choices, c)
		}
		return c
	}
	res.jsonEvents(func(ev sse.Event, j *fastjson.Value) {
		if !openAIChunk(ex, ev, j) {
			return
		}
		for pos, c := range arr(j, "choices") {
			chatDelta(choice(choiceIndex(c, pos)), c)
		}
		if ex.FirstTokenOffset < 0 && chatOutput(j) != 0 {
			ex.FirstTokenOffset = ev.End - 1
		}
	})
	slices.SortStableFunc(choices, func(a, b *chatChoice) int { return a.index - b.index })
	for _, c := range choices {
		msg := Message{Role: c.role, Choice: c.index, Reasoning: c.reasoning.String(),
			Refusal: c.refusal.String(), FinishReason: c.finish}
		if msg.Role == "" {
			msg.Role = "assistant"
		}
		if c.content.Len() > 0 {
			msg.Parts = []Part{{Kind: PartText, Text: c.content.String()}}
		}
		for _, call := range c.calls {
			msg.ToolCalls = append(msg.ToolCalls, ToolCall{ID: call.id, Type: call.typ, Name: call.name, Arguments: call.args.String()})
		}
		ex.Response = append(ex.Response, msg)
	}
}

// chatDelta adds one chunk's choice to c.
func chatDelta(c *chatChoice, ch *fastjson.Value) {
	keepStr(&c.finish, ch, "finish_reason")
	d := ch.Get("delta")
	if d == nil {
		d = ch.Get("message") // a server that streams whole messages
	}
	if d == nil || d.Type() != fastjson.TypeObject {
		return
	}
	keepStr(&c.role, d, "role") // some servers repeat it in every chunk
	appendString(&c.content, d, "content")
	// Some servers send reasoning_content and reasoning with the same text:
	// take one (|| does not evaluate the second when the first was sent).
	if !appendString(&c.reasoning, d, "reasoning_content") {
		appendString(&c.reasoning, d, "reasoning")
	}
	appendString(&c.refusal, d, "refusal")
	if x := d.Get("content"); x != nil && x.Type() == fastjson.TypeArray {
		// A server that streams content parts: keep their text.
		parts, _ := openAIContent(x)
		for _, p := range parts {
			if p.Kind == PartText {
				c.content.WriteString(p.Text)
			}
		}
	}
	for _, tc := range arr(d, "tool_calls") {
		c.toolFragment(tc)
	}
	if fc := d.Get("function_call"); fc != nil && fc.Type() == fastjson.TypeObject {
		// Legacy function_call deltas: one call, name first, then arguments.
		if c.last == nil {
			c.last = &chatCall{typ: "function"}
			c.calls = append(c.calls, c.last)
		}
		if n := str(fc, "name"); n != "" && c.last.name == "" {
			c.last.name = n
		}
		c.last.args.WriteString(argText(fc.Get("arguments")))
	}
}

// appendString appends the string at key of v to b, without a copy of its
// own, and reports whether it was a string that is not empty.
func appendString(b *strings.Builder, v *fastjson.Value, key string) bool {
	x := v.Get(key)
	if x == nil || x.Type() != fastjson.TypeString {
		return false
	}
	s := x.GetStringBytes()
	writeGrowing(b, s)
	return len(s) > 0
}

// toolFragment adds one tool_calls fragment to its call. A call is found by
// its tool-call index; id, type and name arrive once and the arguments in
// pieces. Two kinds of sloppy server are handled: those that send every
// parallel call with index 0, told apart only by a new id (a fragment with
// a new id at an index whose call already has a different id starts a new
// call), and those that send no index (a fragment continues the last call,
// or starts one when it brings an id other than the last call's).
func (c *chatChoice) toolFragment(tc *fastjson.Value) {
	id := str(tc, "id")
	var call *chatCall
	if x := tc.Get("index"); x != nil && x.Type() == fastjson.TypeNumber {
		i := x.GetInt()
		call = c.byIndex[i]
		if call == nil || id != "" && call.id != "" && id != call.id {
			call = &chatCall{}
			c.calls = append(c.calls, call)
			c.byIndex[i] = call
		}
	} else {
		call = c.last
		if call == nil || id != "" && id != call.id {
			call = &chatCall{}
			c.calls = append(c.calls, call)
		}
	}
	c.last = call
	if call.id == "" {
		call.id = id
	}
	if t := str(tc, "type"); t != "" && call.typ == "" {
		call.typ = t
	}
	f := tc.Get("function")
	if f == nil {
		f = tc.Get("custom")
	}
	if f == nil {
		return
	}
	if n := str(f, "name"); n != "" && call.name == "" {
		call.name = n // some servers repeat the name: keep it once
	}
	key := "arguments"
	if f.Get(key) == nil {
		key = "input"
	}
	if !appendString(&call.args, f, key) {
		call.args.WriteString(argText(f.Get(key))) // an object, from a sloppy server
	}
}
