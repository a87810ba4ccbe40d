package provider

import (
	"slices"
	"strings"

	"github.com/llmtap/llmtap/pkg/sse"
	"github.com/valyala/fastjson"
)

// OpenAI legacy Completions: https://platform.openai.com/docs/api-reference/completions

// parseCompletions reads a legacy Completions exchange: the prompt as user
// messages (one per prompt when several are sent), and each choice's text,
// from JSON or reassembled from a stream, keyed by choice index.
func parseCompletions(ex *Exchange, req, res *side) {
	if j := req.json; j != nil && j.Type() == fastjson.TypeObject {
		ex.Model = str(j, "model")
		ex.Request = completionPrompts(j.Get("prompt"))
	}
	switch {
	case res.json != nil:
		completionsJSON(ex, res.json)
	case res.text != nil:
		completionsStream(ex, res)
	}
}

// completionPrompts reads "prompt": a string, an array of strings (one
// message each), or tokens (kept as JSON text).
func completionPrompts(p *fastjson.Value) []Message {
	if p == nil {
		return nil
	}
	user := func(part Part) Message { return Message{Role: "user", Parts: []Part{part}} }
	switch p.Type() {
	case fastjson.TypeString:
		if len(p.GetStringBytes()) == 0 {
			return nil
		}
		return []Message{user(Part{Kind: PartText, Text: string(p.GetStringBytes())})}
	case fastjson.TypeArray:
		a, _ := p.Array()
		if len(a) > 0 && a[0].Type() == fastjson.TypeNumber {
			return []Message{user(Part{Kind: PartData, Text: jsonText(p)})} // one prompt as tokens
		}
		var msgs []Message
		for _, x := range a {
			if x.Type() == fastjson.TypeString {
				msgs = append(msgs, user(Part{Kind: PartText, Text: string(x.GetStringBytes())}))
			} else {
				msgs = append(msgs, user(Part{Kind: PartData, Text: jsonText(x)}))
			}
		}
		return msgs
	case fastjson.TypeNull:
		return nil
	}
	return []Message{user(Part{Kind: PartData, Text: jsonText(p)})}
}

// completionsJSON reads a JSON answer's choices, usage and error.
func completionsJSON(ex *Exchange, j *fastjson.Value) {
	if j.Type() != fastjson.TypeObject {
		return
	}
	if ex.Model == "" {
		ex.Model = str(j, "model")
	}
	for i, c := range arr(j, "choices") {
		msg := Message{Role: "assistant", Choice: choiceIndex(c, i), FinishReason: str(c, "finish_reason")}
		if t := str(c, "text"); t != "" {
			msg.Parts = []Part{{Kind: PartText, Text: t}}
		}
		ex.Response = append(ex.Response, msg)
	}
	slices.SortStableFunc(ex.Response, func(a, b Message) int { return a.Choice - b.Choice })
	ex.Usage = openAIUsage(j.Get("usage"))
	if has(j, "error") {
		ex.Error = apiErrorOf(j)
	}
}

// completionChoice is one choice being reassembled from a stream.
type completionChoice struct {
	index  int
	finish string
	text   strings.Builder
}

// completionsStream reassembles a streamed answer: each chunk's
// choices[].text appended by choice index, usage from the chunk that
// carries it, and error events.
func completionsStream(ex *Exchange, res *side) {
	var choices []*completionChoice
	byIndex := map[int]*completionChoice{}
	res.jsonEvents(func(ev sse.Event, j *fastjson.Value) {
		if !openAIChunk(ex, ev, j) {
			return
		}
		for pos, c := range arr(j, "choices") {
			i := choiceIndex(c, pos)
			ch := byIndex[i]
			if ch == nil {
				ch = &completionChoice{index: i}
				byIndex[i] = ch
				choices = append(choices, ch)
			}
			keepStr(&ch.finish, c, "finish_reason")
			writeGrowing(&ch.text, strBytes(c, "text"))
		}
		if ex.FirstTokenOffset < 0 && completionOutput(j) != 0 {
			ex.FirstTokenOffset = ev.End - 1
		}
	})
	slices.SortStableFunc(choices, func(a, b *completionChoice) int { return a.index - b.index })
	for _, c := range choices {
		msg := Message{Role: "assistant", Choice: c.index, FinishReason: c.finish}
		if c.text.Len() > 0 {
			msg.Parts = []Part{{Kind: PartText, Text: c.text.String()}}
		}
		ex.Response = append(ex.Response, msg)
	}
}
