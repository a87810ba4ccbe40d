package provider

import (
	"github.com/valyala/fastjson"
)

// What counts as output, once for every format: an event is an output
// event when it carries new, non-empty output (text, reasoning, a tool
// call's name or a piece of its arguments, a refusal, or another part of
// the answer such as an image). Events that only repeat output already
// sent (the Responses API's *.done events and response.completed, final
// snapshots) and empty deltas (an opening "content":"", a role alone) are
// not. Parse's FirstTokenOffset and Meter's events both ask these
// functions, so llmmd and llmstat agree on when the first token came.

// OutputKind says what an output event carried. An event may carry several
// kinds at once (a chunk with reasoning and text), so it is a set of bits.
type OutputKind uint8

// The kinds of output.
const (
	OutputText      OutputKind = 1 << iota // answer text
	OutputReasoning                        // reasoning or thinking text
	OutputToolCall                         // a tool call's name or a piece of its arguments
	OutputRefusal                          // a refusal
	OutputOther                            // any other part of an answer: an image, code, audio
)

// Answer reports whether k holds anything but reasoning: an event of such
// a kind starts the answer proper of a reasoning model.
func (k OutputKind) Answer() bool { return k&^OutputReasoning != 0 }

// nonEmptyString reports whether v's field key is a string that is not
// empty.
func nonEmptyString(v *fastjson.Value, key string) bool {
	x := v.Get(key)
	return x != nil && x.Type() == fastjson.TypeString && len(x.GetStringBytes()) > 0
}

// nonEmptyValue reports whether v's field key carries something: a string
// that is not empty, or any other value but null (some servers send tool
// arguments as an object).
func nonEmptyValue(v *fastjson.Value, key string) bool {
	x := v.Get(key)
	if x == nil {
		return false
	}
	switch x.Type() {
	case fastjson.TypeNull:
		return false
	case fastjson.TypeString:
		return len(x.GetStringBytes()) > 0
	}
	return true
}

// chatOutput classifies one chunk of a Chat Completions stream: the output
// of its choices' deltas (or whole messages, from servers that stream
// those). A tool-call fragment counts when it brings the name or a piece
// of the arguments, not when it brings only an id or an index.
func chatOutput(j *fastjson.Value) (k OutputKind) {
	for _, c := range arr(j, "choices") {
		d := c.Get("delta")
		if d == nil {
			d = c.Get("message")
		}
		if d == nil || d.Type() != fastjson.TypeObject {
			continue
		}
		if x := d.Get("content"); x != nil {
			switch x.Type() {
			case fastjson.TypeString:
				if len(x.GetStringBytes()) > 0 {
					k |= OutputText
				}
			case fastjson.TypeArray:
				if partsHaveText(x) {
					k |= OutputText
				}
			}
		}
		if nonEmptyString(d, "reasoning_content") || nonEmptyString(d, "reasoning") {
			k |= OutputReasoning
		}
		if nonEmptyString(d, "refusal") {
			k |= OutputRefusal
		}
		for _, tc := range arr(d, "tool_calls") {
			f := tc.Get("function")
			if f == nil {
				f = tc.Get("custom")
			}
			if f != nil && (nonEmptyString(f, "name") || nonEmptyValue(f, "arguments") || nonEmptyValue(f, "input")) {
				k |= OutputToolCall
			}
		}
		if fc := d.Get("function_call"); fc != nil && (nonEmptyString(fc, "name") || nonEmptyValue(fc, "arguments")) {
			k |= OutputToolCall
		}
	}
	return k
}

// partsHaveText reports whether a list of content parts holds text that is
// not empty.
func partsHaveText(parts *fastjson.Value) bool {
	a, _ := parts.Array()
	for _, p := range a {
		if p.Type() == fastjson.TypeString && len(p.GetStringBytes()) > 0 || nonEmptyString(p, "text") {
			return true
		}
	}
	return false
}

// completionOutput classifies one chunk of a legacy Completions stream.
func completionOutput(j *fastjson.Value) OutputKind {
	for _, c := range arr(j, "choices") {
		if nonEmptyString(c, "text") {
			return OutputText
		}
	}
	return 0
}

// respEventOutput classifies one event of a Responses stream of type typ. The
// start of a function or custom tool call names the tool; *.done events,
// response.completed and content_part events only repeat or frame output.
func respEventOutput(typ []byte, j *fastjson.Value) OutputKind {
	switch string(typ) {
	case "response.output_item.added":
		switch string(strBytes(j, "item", "type")) {
		case "function_call", "custom_tool_call":
			return OutputToolCall
		}
	case "response.output_text.delta":
		return deltaKind(j, OutputText)
	case "response.refusal.delta":
		return deltaKind(j, OutputRefusal)
	case "response.reasoning_summary_text.delta", "response.reasoning_text.delta":
		return deltaKind(j, OutputReasoning)
	case "response.function_call_arguments.delta", "response.custom_tool_call_input.delta":
		return deltaKind(j, OutputToolCall)
	}
	return 0
}

// deltaKind is k when j's "delta" is a string that is not empty.
func deltaKind(j *fastjson.Value, k OutputKind) OutputKind {
	if nonEmptyString(j, "delta") {
		return k
	}
	return 0
}

// anthOutput classifies one event of an Anthropic Messages stream of type
// typ. The start of a tool_use (or server_tool_use) block counts: the model
// has chosen the tool's name by then. signature_delta and citations_delta
// are not output.
func anthOutput(typ []byte, d *fastjson.Value) OutputKind {
	switch string(typ) {
	case "content_block_start":
		cb := d.Get("content_block")
		switch string(strBytes(cb, "type")) {
		case "text":
			if nonEmptyString(cb, "text") {
				return OutputText
			}
		case "thinking":
			if nonEmptyString(cb, "thinking") {
				return OutputReasoning
			}
		case "tool_use", "server_tool_use":
			return OutputToolCall
		}
	case "content_block_delta":
		dl := d.Get("delta")
		switch string(strBytes(dl, "type")) {
		case "text_delta":
			if nonEmptyString(dl, "text") {
				return OutputText
			}
		case "thinking_delta":
			if nonEmptyString(dl, "thinking") {
				return OutputReasoning
			}
		case "input_json_delta":
			if nonEmptyString(dl, "partial_json") {
				return OutputToolCall
			}
		}
	}
	return 0
}

// geminiOutput classifies one chunk of a Gemini stream: the parts of its
// candidates.
func geminiOutput(v *fastjson.Value) (k OutputKind) {
	for _, cand := range arr(v, "candidates") {
		for _, p := range arr(cand, "content", "parts") {
			k |= geminiPartOutput(p)
		}
	}
	return k
}

// geminiPartOutput classifies one part, as geminiCand.part reads it: a
// part that holds only a thought signature or metadata is not output.
func geminiPartOutput(p *fastjson.Value) OutputKind {
	switch p.Type() {
	case fastjson.TypeString:
		if len(p.GetStringBytes()) > 0 {
			return OutputText
		}
		return 0
	case fastjson.TypeObject:
	default:
		return 0
	}
	if t := p.Get("text"); t != nil {
		switch {
		case len(t.GetStringBytes()) == 0:
			return 0
		case p.GetBool("thought"):
			return OutputReasoning
		}
		return OutputText
	}
	if gget(p, "functionCall", "function_call") != nil {
		return OutputToolCall
	}
	o, _ := p.Object()
	var k OutputKind
	o.Visit(func(key []byte, _ *fastjson.Value) {
		switch string(key) {
		case "thought", "thoughtSignature", "thought_signature", "videoMetadata", "video_metadata", "partMetadata", "mediaResolution":
		default:
			k = OutputOther // inline data, file data, code and its results
		}
	})
	return k
}
