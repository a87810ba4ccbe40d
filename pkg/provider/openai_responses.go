package provider

import (
	"slices"
	"strings"

	"github.com/llmtap/llmtap/pkg/sse"
	"github.com/valyala/fastjson"
)

// OpenAI Responses API: https://platform.openai.com/docs/api-reference/responses
//
// Input and output are lists of items (messages, reasoning, function calls
// and their outputs, built-in tool calls). Both are read by the same
// functions, so that a request that resends an earlier answer's items
// reads as the same messages that answer read as.

// respKind is the kind of a Responses item, which decides how consecutive
// items group into messages.
type respKind int

const (
	respMessage   respKind = iota + 1 // a message item, any role
	respReasoning                     // a reasoning item
	respCall                          // function_call, custom_tool_call
	respOutput                        // a call's output: a tool message
	respOther                         // anything else, as PartOther
)

// respItem is one item, read into a message before grouping.
type respItem struct {
	kind respKind
	msg  Message
}

// parseResponses reads a Responses exchange: instructions and input items,
// tools, and the output from a response object or a reassembled stream.
func parseResponses(ex *Exchange, req, res *side) {
	if j := req.json; j != nil && j.Type() == fastjson.TypeObject {
		ex.Model = str(j, "model")
		var items []respItem
		items = append(items, respInput(j.Get("instructions"), "system")...)
		items = append(items, respInput(j.Get("input"), "user")...)
		ex.Request = groupItems(items)
		ex.Tools = openAITools(j)
	}
	switch {
	case res.json != nil:
		if res.json.Type() == fastjson.TypeObject {
			respObject(ex, res.json)
		}
	case res.text != nil:
		respStream(ex, res)
	}
}

// respInput reads "input" or "instructions": a string (a message of role)
// or a list of items.
func respInput(v *fastjson.Value, role string) []respItem {
	if v == nil {
		return nil
	}
	switch v.Type() {
	case fastjson.TypeString:
		if s := string(v.GetStringBytes()); s != "" {
			return []respItem{{kind: respMessage, msg: Message{Role: role, Parts: []Part{{Kind: PartText, Text: s}}}}}
		}
	case fastjson.TypeArray:
		a, _ := v.Array()
		items := make([]respItem, 0, len(a))
		for _, x := range a {
			if x.Type() == fastjson.TypeObject {
				items = append(items, respItemOf(x))
			}
		}
		return items
	}
	return nil
}

// respItemOf reads one input or output item.
func respItemOf(it *fastjson.Value) respItem {
	typ := str(it, "type")
	switch typ {
	case "message":
		return respMessageItem(it)
	case "function_call":
		return respItem{kind: respCall, msg: Message{Role: "assistant", ToolCalls: []ToolCall{{
			ID: str(it, "call_id"), Type: "function", Name: str(it, "name"), Arguments: argText(it.Get("arguments"))}}}}
	case "custom_tool_call":
		return respItem{kind: respCall, msg: Message{Role: "assistant", ToolCalls: []ToolCall{{
			ID: str(it, "call_id"), Type: "custom", Name: str(it, "name"), Arguments: argText(it.Get("input"))}}}}
	case "function_call_output", "custom_tool_call_output":
		msg := Message{Role: "tool", ToolCallID: str(it, "call_id")}
		msg.Parts, _ = openAIContent(it.Get("output"))
		return respItem{kind: respOutput, msg: msg}
	case "reasoning":
		msg := Message{Role: "assistant", RedactedReasoning: str(it, "encrypted_content") != ""}
		msg.Reasoning = joinTexts(arr(it, "summary"))
		if msg.Reasoning == "" {
			msg.Reasoning = joinTexts(arr(it, "content")) // reasoning_text parts
		}
		return respItem{kind: respReasoning, msg: msg}
	case "":
		if has(it, "role") { // an "easy input message" without a type
			return respMessageItem(it)
		}
	}
	// Built-in tool calls (web_search_call, file_search_call, computer_call,
	// image_generation_call, mcp_call, …), their outputs, item references.
	msg := Message{Role: str(it, "role"), Parts: []Part{{Kind: PartOther, Text: string(appendScrubbed(nil, it))}}}
	if msg.Role == "" {
		if strings.HasSuffix(typ, "_output") {
			msg.Role, msg.ToolCallID = "tool", str(it, "call_id")
		} else {
			msg.Role = "assistant"
		}
	}
	return respItem{kind: respOther, msg: msg}
}

// respMessageItem reads a message item: a role and content given as a
// string or as parts.
func respMessageItem(it *fastjson.Value) respItem {
	msg := Message{Role: str(it, "role")}
	if msg.Role == "" {
		msg.Role = "assistant" // output messages always name it; be safe
	}
	msg.Parts, msg.Refusal = openAIContent(it.Get("content"))
	return respItem{kind: respMessage, msg: msg}
}

// joinTexts joins the "text" of summary or reasoning parts with blank
// lines.
func joinTexts(parts []*fastjson.Value) string {
	var texts []string
	for _, p := range parts {
		if t := str(p, "text"); t != "" {
			texts = append(texts, t)
		}
	}
	return strings.Join(texts, "\n\n")
}

// groupItems turns items into messages the way a chat shows them: the
// assistant-side items of one turn (reasoning, then a message, then tool
// calls and built-in tool calls) become one assistant message; everything
// else is a message of its own. Order is kept: reasoning after content or
// calls, or content after calls, starts a new message.
func groupItems(items []respItem) []Message {
	var out []Message
	for _, it := range items {
		var last *Message
		if n := len(out); n > 0 && out[n-1].Role == "assistant" && it.msg.Role == "assistant" {
			last = &out[n-1]
		}
		switch {
		case last == nil:
			out = append(out, it.msg)
		case it.kind == respReasoning && len(last.Parts) == 0 && len(last.ToolCalls) == 0 && last.Refusal == "":
			if last.Reasoning != "" && it.msg.Reasoning != "" {
				last.Reasoning += "\n\n"
			}
			last.Reasoning += it.msg.Reasoning
			last.RedactedReasoning = last.RedactedReasoning || it.msg.RedactedReasoning
		case (it.kind == respMessage || it.kind == respOther) && len(last.ToolCalls) == 0:
			last.Parts = append(last.Parts, it.msg.Parts...)
			last.Refusal += it.msg.Refusal
		case it.kind == respCall:
			last.ToolCalls = append(last.ToolCalls, it.msg.ToolCalls...)
		default:
			out = append(out, it.msg)
		}
	}
	return out
}

// respObject reads a response object (a JSON answer, or the response of a
// response.completed, .incomplete or .failed event): model, output, usage,
// error and how it ended.
func respObject(ex *Exchange, r *fastjson.Value) {
	if ex.Model == "" {
		ex.Model = str(r, "model")
	}
	if out := respInput(r.Get("output"), "assistant"); len(out) > 0 {
		ex.Response = groupItems(out)
	}
	if u := openAIUsage(r.Get("usage")); u != nil {
		ex.Usage = u
	}
	if has(r, "error") && ex.Error == nil {
		ex.Error = apiErrorOf(r)
	}
	respFinish(ex, r)
}

// respFinish records how the response ended (its status, or why it is
// incomplete) as the finish reason of the last answer message.
func respFinish(ex *Exchange, r *fastjson.Value) {
	setFinish(ex, respEndReason(r))
}

// respEndReason is a response's status, or for an incomplete response the
// reason it is incomplete (max_output_tokens, content_filter).
func respEndReason(r *fastjson.Value) string {
	reason := str(r, "status")
	if reason == "incomplete" {
		if why := str(r, "incomplete_details", "reason"); why != "" {
			reason = why
		}
	}
	return reason
}

// setFinish sets the finish reason of the last answer message.
func setFinish(ex *Exchange, reason string) {
	if n := len(ex.Response); n > 0 && reason != "" {
		ex.Response[n-1].FinishReason = reason
	}
}

// respStreamItem is one output item being reassembled from stream events.
type respStreamItem struct {
	outIndex int    // output_index, -1 when no event gave one
	id       string // the item's id, which delta events name as item_id
	meta     *respItem
	done     *respItem // from response.output_item.done: the whole item

	deltas    bool         // any delta came for this item
	text      indexedTexts // output_text by content_index
	refusal   strings.Builder
	summary   indexedTexts // reasoning summary by summary_index
	reasoning strings.Builder
	args      strings.Builder
}

// indexedTexts are texts built from deltas that name their index (a content
// part, a summary part). Indexes come from the stream, so they are not used
// as slice positions.
type indexedTexts struct {
	at    map[int]*strings.Builder
	order []int // the indexes in the order they first came
}

// add appends s to the text at index.
func (t *indexedTexts) add(index int, s []byte) {
	b := t.at[index]
	if b == nil {
		if t.at == nil {
			t.at = map[int]*strings.Builder{}
		}
		b = &strings.Builder{}
		t.at[index] = b
		t.order = append(t.order, index)
	}
	writeGrowing(b, s)
}

// texts returns the texts that are not empty, by index.
func (t *indexedTexts) texts() []string {
	order := slices.Clone(t.order)
	slices.Sort(order)
	var out []string
	for _, i := range order {
		if b := t.at[i]; b.Len() > 0 {
			out = append(out, b.String())
		}
	}
	return out
}

// respAssembly is a response being reassembled from stream events.
type respAssembly struct {
	ex      *Exchange
	items   []*respStreamItem
	byIndex map[int]*respStreamItem
	byID    map[string]*respStreamItem
	final   []Message // the output of response.completed, when it came
	reason  string    // how the response ended
}

// respStream reassembles a streamed response from its events. The output
// is rebuilt from the deltas of each item (text, refusal, reasoning summary
// and text, call arguments), keyed by output_index or item_id; when a
// response.completed (or .incomplete, .failed) event carries the final
// output, that output is used as is.
func respStream(ex *Exchange, res *side) {
	a := respAssembly{ex: ex, byIndex: map[int]*respStreamItem{}, byID: map[string]*respStreamItem{}}
	res.jsonEvents(a.event)
	ex.Response = a.final
	if a.final == nil {
		ex.Response = respStreamed(a.items)
	}
	setFinish(ex, a.reason)
}

// event reads one stream event.
func (a *respAssembly) event(ev sse.Event, j *fastjson.Value) {
	// type and delta are not copied: the deltas are appended to builders,
	// and this runs per event.
	typ := strBytes(j, "type")
	if len(typ) == 0 {
		typ = []byte(ev.Type)
	}
	switch string(typ) {
	case "response.created", "response.in_progress", "response.queued":
		if a.ex.Model == "" {
			a.ex.Model = str(j, "response", "model")
		}
	case "response.output_item.added", "response.output_item.done":
		a.itemEvent(string(typ) == "response.output_item.done", j)
	case "response.output_text.delta", "response.refusal.delta",
		"response.reasoning_summary_text.delta", "response.reasoning_text.delta",
		"response.function_call_arguments.delta", "response.custom_tool_call_input.delta":
		a.delta(typ, j)
	case "response.completed", "response.incomplete", "response.failed":
		a.completed(j.Get("response"))
	case "error":
		if a.ex.Error == nil {
			a.ex.Error = apiErrorOf(j)
		}
	}
	if a.ex.FirstTokenOffset < 0 && respEventOutput(typ, j) != 0 {
		a.ex.FirstTokenOffset = ev.End - 1
	}
}

// item finds the item an event is about, by output_index, else item_id,
// else the latest item; it makes one when there is none yet.
func (a *respAssembly) item(j *fastjson.Value) *respStreamItem {
	// id is copied only when an item keeps it: this runs per event.
	idx, id := -1, strBytes(j, "item_id")
	if x := j.Get("output_index"); x != nil && x.Type() == fastjson.TypeNumber {
		idx = max(x.GetInt(), -1)
	}
	if len(id) == 0 {
		id = strBytes(j, "item", "id")
	}
	it := a.byIndex[idx]
	switch {
	case idx >= 0:
	case len(id) > 0:
		it = a.byID[string(id)]
	case len(a.items) > 0:
		it = a.items[len(a.items)-1] // neither index nor id: the latest item
	}
	if it == nil {
		it = &respStreamItem{outIndex: idx}
		a.items = append(a.items, it)
		if idx >= 0 {
			a.byIndex[idx] = it
		}
	}
	if it.id == "" && len(id) > 0 {
		it.id = string(id)
		if a.byID[it.id] == nil {
			a.byID[it.id] = it
		}
	}
	return it
}

// itemEvent reads response.output_item.added, or .done when done is set.
func (a *respAssembly) itemEvent(done bool, j *fastjson.Value) {
	x := j.Get("item")
	if x == nil || x.Type() != fastjson.TypeObject {
		return
	}
	it, ri := a.item(j), respItemOf(x)
	if done {
		it.done = &ri
	} else {
		it.meta = &ri
	}
}

// delta adds a delta event of type typ to its item.
func (a *respAssembly) delta(typ []byte, j *fastjson.Value) {
	it, d := a.item(j), strBytes(j, "delta")
	it.deltas = true
	switch string(typ) {
	case "response.output_text.delta":
		it.text.add(int(num(j, "content_index")), d)
	case "response.refusal.delta":
		writeGrowing(&it.refusal, d)
	case "response.reasoning_summary_text.delta":
		it.summary.add(int(num(j, "summary_index")), d)
	case "response.reasoning_text.delta":
		writeGrowing(&it.reasoning, d)
	default: // function call arguments, custom tool call input
		writeGrowing(&it.args, d)
	}
}

// completed reads the response object of the last event: model, usage,
// error, the final output and how it ended.
func (a *respAssembly) completed(r *fastjson.Value) {
	if r == nil || r.Type() != fastjson.TypeObject {
		return
	}
	ex := a.ex
	if ex.Model == "" {
		ex.Model = str(r, "model")
	}
	if u := openAIUsage(r.Get("usage")); u != nil {
		ex.Usage = u
	}
	if has(r, "error") && ex.Error == nil {
		ex.Error = apiErrorOf(r)
	}
	if out := respInput(r.Get("output"), "assistant"); len(out) > 0 {
		a.final = groupItems(out)
	}
	a.reason = respEndReason(r)
}

// respStreamed turns the reassembled items into messages, in output order.
func respStreamed(items []*respStreamItem) []Message {
	indexed := !slices.ContainsFunc(items, func(it *respStreamItem) bool { return it.outIndex < 0 })
	if indexed {
		items = slices.Clone(items)
		slices.SortStableFunc(items, func(a, b *respStreamItem) int { return a.outIndex - b.outIndex })
	}
	out := make([]respItem, 0, len(items))
	for _, it := range items {
		if ri, ok := it.result(); ok {
			out = append(out, ri)
		}
	}
	return groupItems(out)
}

// result is the item: rebuilt from its deltas when any came, else the
// item from output_item.done, else the one from output_item.added.
func (it *respStreamItem) result() (respItem, bool) {
	meta := it.done
	if meta == nil {
		meta = it.meta
	}
	if !it.deltas {
		if meta == nil {
			return respItem{}, false
		}
		return *meta, true
	}
	var ri respItem
	if meta != nil {
		ri = *meta
		ri.msg.Parts = slices.Clone(ri.msg.Parts)
		ri.msg.ToolCalls = slices.Clone(ri.msg.ToolCalls)
	} else {
		// No item event: tell the kind from the deltas.
		ri.msg.Role = "assistant"
		switch {
		case it.args.Len() > 0:
			ri.kind = respCall
		case len(it.text.order) > 0 || it.refusal.Len() > 0:
			ri.kind = respMessage
		default:
			ri.kind = respReasoning
		}
	}
	switch ri.kind {
	case respMessage:
		var parts []Part
		for _, t := range it.text.texts() {
			parts = append(parts, Part{Kind: PartText, Text: t})
		}
		if parts != nil || it.refusal.Len() > 0 {
			ri.msg.Parts, ri.msg.Refusal = parts, it.refusal.String()
		}
	case respReasoning:
		r := strings.Join(it.summary.texts(), "\n\n")
		if r == "" {
			r = it.reasoning.String()
		}
		if r != "" {
			ri.msg.Reasoning = r
		}
	case respCall:
		if len(ri.msg.ToolCalls) == 0 {
			ri.msg.ToolCalls = []ToolCall{{Type: "function"}}
		}
		ri.msg.ToolCalls[0].Arguments = it.args.String()
	}
	return ri, true
}
