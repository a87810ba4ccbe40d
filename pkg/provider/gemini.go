package provider

import (
	"sort"
	"strings"

	"github.com/llmtap/llmtap/pkg/sse"
	"github.com/valyala/fastjson"
)

// Gemini native API (POST …/models/M:generateContent and
// …/models/M:streamGenerateContent, with or without ?alt=sse):
// https://ai.google.dev/api/generate-content.
//
// How the Gemini shapes map onto the neutral model:
//   - The model is the path segment before the colon
//     (models/gemini-2.5-flash:generateContent), else the answer's
//     modelVersion.
//   - systemInstruction becomes one "system" message; contents[] with role
//     "model" become "assistant" messages, any other role (usually "user",
//     or none) is kept as sent, "" read as "user".
//   - Parts: text (thought: true → Reasoning), inlineData (image, audio or
//     else file by mime type; decoded size only), fileData (the URI),
//     functionCall (ToolCalls, args as compact JSON), executableCode,
//     codeExecutionResult and unknown parts (PartOther, compact JSON).
//   - Each functionResponse part becomes a Message{Role: "tool", Name,
//     ToolCallID: id when given} holding the response object as PartData,
//     placed where it stood among the content's parts.
//   - A JSON answer keeps each text part apart; a streamed one (SSE, or the
//     JSON array of chunks that streamGenerateContent without alt=sse
//     returns) joins the text of each candidate across chunks, by candidate
//     index, and takes the last usageMetadata.
//   - promptFeedback.blockReason (a prompt refused before any candidate) and
//     an {"error":{…}} chunk become Error.
//   - The request's snake_case spellings (system_instruction, inline_data,
//     function_call, …), which the REST API accepts too, are read as well.

// parseGemini fills ex from a Gemini generateContent exchange; path is the
// request path, which names the model.
func parseGemini(ex *Exchange, path string, req, res *side) {
	ex.Model = string(geminiPathModel([]byte(path)))
	if b := req.json; b != nil && b.Type() == fastjson.TypeObject {
		geminiRequest(ex, b)
	}
	g := geminiAnswer{cands: map[int64]*geminiCand{}}
	switch {
	case res.json != nil && res.json.Type() == fastjson.TypeArray:
		// streamGenerateContent without alt=sse: one JSON array of chunks.
		// The chunks' byte offsets on the wire are not known.
		g.merge = true
		chunks, _ := res.json.Array()
		for _, c := range chunks {
			g.chunk(ex, c, -1)
		}
	case res.json != nil:
		g.chunk(ex, res.json, -1)
	case res.text != nil:
		res.eachEvent(func(e sse.Event) {
			g.merge = true
			if d := res.parseJSON(e.Data); d != nil {
				g.chunk(ex, d, e.End-1)
			}
		})
	}
	g.finish(ex)
}

// gget returns v's field by its lowerCamel name, else by its snake_case one.
func gget(v *fastjson.Value, camel, snake string) *fastjson.Value {
	if x := v.Get(camel); x != nil {
		return x
	}
	return v.Get(snake)
}

func geminiRequest(ex *Exchange, b *fastjson.Value) {
	if si := gget(b, "systemInstruction", "system_instruction"); si != nil {
		c := geminiCand{m: Message{Role: "system"}}
		if si.Type() == fastjson.TypeString {
			c.part(si)
		} else {
			for _, p := range arr(si, "parts") {
				c.part(p)
			}
		}
		if m := c.message(); !emptyTurn(&m) {
			ex.Request = append(ex.Request, m)
		}
	}
	contents := b.Get("contents")
	if contents != nil && contents.Type() == fastjson.TypeObject {
		// A single Content where a list is expected; accept it.
		ex.Request = geminiContent(ex.Request, contents)
	}
	for _, c := range arr(b, "contents") {
		ex.Request = geminiContent(ex.Request, c)
	}
	for _, t := range arr(b, "tools") {
		o, err := t.Object()
		if err != nil {
			continue
		}
		o.Visit(func(k []byte, x *fastjson.Value) {
			switch key := string(k); key {
			case "functionDeclarations", "function_declarations":
				for _, fd := range arr(x) {
					ex.Tools = append(ex.Tools, Tool{Name: str(fd, "name"), Description: str(fd, "description")})
				}
			default:
				// A built-in tool: googleSearch, codeExecution, urlContext, …
				ex.Tools = append(ex.Tools, Tool{Name: key})
			}
		})
	}
}

// geminiContent appends the messages one Content makes: itself, split around
// its functionResponse parts, which become tool messages.
func geminiContent(out []Message, content *fastjson.Value) []Message {
	role := str(content, "role")
	switch role {
	case "model":
		role = "assistant"
	case "":
		role = "user"
	}
	n := len(out)
	c := geminiCand{m: Message{Role: role}}
	for _, p := range arr(content, "parts") {
		fr := gget(p, "functionResponse", "function_response")
		if fr == nil {
			c.part(p)
			continue
		}
		if m := c.message(); !emptyTurn(&m) {
			out = append(out, m)
		}
		c = geminiCand{m: Message{Role: role}}
		out = append(out, geminiFunctionResponse(fr))
	}
	if m := c.message(); !emptyTurn(&m) || len(out) == n {
		out = append(out, m)
	}
	return out
}

func geminiFunctionResponse(fr *fastjson.Value) Message {
	m := Message{Role: "tool", Name: str(fr, "name"), ToolCallID: str(fr, "id")}
	if r := fr.Get("response"); r != nil {
		m.Parts = append(m.Parts, Part{Kind: PartData, Text: jsonText(r)})
	}
	// Multimodal function responses carry parts of their own.
	c := geminiCand{}
	for _, p := range arr(fr, "parts") {
		c.part(p)
	}
	m.Parts = append(m.Parts, c.message().Parts...)
	return m
}

// geminiCand builds one message from parts: a request Content, or a
// response candidate across the chunks of a stream.
type geminiCand struct {
	m         Message
	merge     bool            // join text parts (a stream's fragments)
	text      strings.Builder // text not yet in m.Parts, when merging
	reasoning strings.Builder
}

// part adds one Part to the message and reports whether it carried
// content.
func (c *geminiCand) part(p *fastjson.Value) bool {
	if p.Type() == fastjson.TypeString {
		return c.addText(p.GetStringBytes())
	}
	if t := p.Get("text"); t != nil {
		s := t.GetStringBytes()
		if p.GetBool("thought") {
			writeGrowing(&c.reasoning, s)
			return len(s) > 0
		}
		return c.addText(s)
	}
	if d := gget(p, "inlineData", "inline_data"); d != nil {
		mt := str(gget(d, "mimeType", "mime_type"))
		c.add(Part{Kind: geminiKind(mt), MediaType: mt, Bytes: base64ValueSize(d.Get("data"))})
		return true
	}
	if f := gget(p, "fileData", "file_data"); f != nil {
		mt := str(gget(f, "mimeType", "mime_type"))
		c.add(Part{Kind: geminiKind(mt), MediaType: mt, URL: str(gget(f, "fileUri", "file_uri"))})
		return true
	}
	if fc := gget(p, "functionCall", "function_call"); fc != nil {
		c.m.ToolCalls = append(c.m.ToolCalls, ToolCall{
			ID: str(fc, "id"), Name: str(fc, "name"), Arguments: jsonText(fc.Get("args")),
		})
		return true
	}
	o, err := p.Object()
	if err != nil {
		return false
	}
	meaningful := false
	o.Visit(func(k []byte, _ *fastjson.Value) {
		switch string(k) {
		case "thought", "thoughtSignature", "thought_signature", "videoMetadata", "video_metadata", "partMetadata", "mediaResolution":
		default:
			meaningful = true
		}
	})
	if !meaningful {
		return false // only a thought signature: nothing to show
	}
	c.add(Part{Kind: PartOther, Text: jsonText(p)})
	return true
}

func (c *geminiCand) addText(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	if c.merge {
		writeGrowing(&c.text, s)
	} else {
		c.m.Parts = append(c.m.Parts, Part{Kind: PartText, Text: string(s)})
	}
	return true
}

func (c *geminiCand) add(p Part) {
	c.flush()
	c.m.Parts = append(c.m.Parts, p)
}

func (c *geminiCand) flush() {
	if c.text.Len() > 0 {
		c.m.Parts = append(c.m.Parts, Part{Kind: PartText, Text: c.text.String()})
		c.text.Reset()
	}
}

// message returns the message built so far.
func (c *geminiCand) message() Message {
	c.flush()
	m := c.m
	m.Reasoning = c.reasoning.String()
	return m
}

// geminiKind names a part kind from a mime type.
func geminiKind(mediaType string) PartKind {
	switch {
	case strings.HasPrefix(mediaType, "image/"):
		return PartImage
	case strings.HasPrefix(mediaType, "audio/"):
		return PartAudio
	}
	return PartFile
}

// geminiAnswer gathers a response: one JSON object, or the chunks of a
// stream.
type geminiAnswer struct {
	merge bool
	cands map[int64]*geminiCand
	usage *Usage
}

// chunk reads one GenerateContentResponse; off is the offset of its
// event's last byte, -1 when unknown.
func (g *geminiAnswer) chunk(ex *Exchange, v *fastjson.Value, off int64) {
	if v.Type() != fastjson.TypeObject {
		return
	}
	if e := v.Get("error"); e != nil {
		ex.Error = geminiError(e)
	}
	if ex.Model == "" {
		ex.Model = str(v, "modelVersion")
	}
	if u := v.Get("usageMetadata"); u != nil && u.Type() == fastjson.TypeObject {
		us := geminiUsage(u)
		g.usage = &us
	}
	if r := str(v, "promptFeedback", "blockReason"); r != "" {
		msg := "prompt blocked: " + r
		if s := str(v, "promptFeedback", "blockReasonMessage"); s != "" {
			msg += ": " + s
		}
		ex.Error = &APIError{Type: "prompt_blocked", Code: r, Message: msg}
	}
	for _, cand := range arr(v, "candidates") {
		i := num(cand, "index")
		c := g.cands[i]
		if c == nil {
			c = &geminiCand{m: Message{Role: "assistant", Choice: int(i)}, merge: g.merge}
			g.cands[i] = c
		}
		for _, p := range arr(cand, "content", "parts") {
			c.part(p)
		}
		if s := str(cand, "finishReason"); s != "" {
			c.m.FinishReason = s
		}
	}
	if off >= 0 && ex.FirstTokenOffset < 0 && geminiOutput(v) != 0 {
		ex.FirstTokenOffset = off
	}
}

// finish puts the candidates, in index order, and the usage into ex.
func (g *geminiAnswer) finish(ex *Exchange) {
	idx := make([]int64, 0, len(g.cands))
	for i := range g.cands {
		idx = append(idx, i)
	}
	sort.Slice(idx, func(a, b int) bool { return idx[a] < idx[b] })
	for _, i := range idx {
		ex.Response = append(ex.Response, g.cands[i].message())
	}
	if g.usage != nil {
		ex.Usage = g.usage
	}
}

// geminiUsage reads usageMetadata. Gemini counts thinking apart from the
// candidates (thoughtsTokenCount); Output counts both, as the other
// providers' output counts do, and Reasoning the thinking alone. The prompt
// count already includes cachedContentTokenCount.
func geminiUsage(u *fastjson.Value) Usage {
	us := Usage{
		Input:       num(u, "promptTokenCount"),
		Output:      num(u, "candidatesTokenCount") + num(u, "thoughtsTokenCount"),
		Total:       num(u, "totalTokenCount"),
		CachedInput: num(u, "cachedContentTokenCount"),
		Reasoning:   num(u, "thoughtsTokenCount"),
	}
	if us.Total == 0 {
		us.Total = us.Input + us.Output + num(u, "toolUsePromptTokenCount")
	}
	return us
}

// geminiError reads a Google API error: {"code":429,"message":…,"status":…}.
func geminiError(e *fastjson.Value) *APIError {
	if e.Type() != fastjson.TypeObject {
		return &APIError{Type: "error", Message: textOf(e)}
	}
	return &APIError{Type: str(e, "status"), Code: textOf(e.Get("code")), Message: str(e, "message")}
}
