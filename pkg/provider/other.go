package provider

import (
	"strings"
	"unicode/utf8"

	"github.com/llmtap/llmtap/pkg/humanize"
	"github.com/llmtap/llmtap/pkg/record"
	"github.com/llmtap/llmtap/pkg/sse"
	"github.com/valyala/fastjson"
)

// This file holds the exchanges that are not a conversation (embeddings,
// model lists, media and unknown endpoints), error bodies, and the helpers
// that keep base64 payloads out of any text the package returns.

// previewChars bounds the JSON previews of unknown endpoints; errorChars
// bounds an error message taken from a text body.
const (
	previewChars = 200
	errorChars   = 300
	// modelListMax is how many model ids a model list summary names.
	modelListMax = 20
)

// parseEmbeddings summarizes an embeddings exchange in one line:
// "3 inputs → 3 × 1536-dim embeddings (text-embedding-3-small)". It reads
// OpenAI's /embeddings (float arrays or base64 little-endian float32) and
// Gemini's embedContent and batchEmbedContents.
func parseEmbeddings(ex *Exchange, req, res *side) {
	inputs := -1
	if j := req.json; j != nil {
		ex.Model = str(j, "model")
		switch {
		case j.Get("input") != nil:
			inputs = embeddingInputs(j.Get("input"))
		case j.Get("requests") != nil: // Gemini batchEmbedContents
			reqs := arr(j, "requests")
			inputs = len(reqs)
			if ex.Model == "" && len(reqs) > 0 {
				ex.Model = str(reqs[0], "model")
			}
		case j.Get("content") != nil: // Gemini embedContent
			inputs = 1
		}
		ex.Model = strings.TrimPrefix(ex.Model, "models/")
	}

	vectors, dims := -1, 0
	if j := res.json; j != nil && j.Type() == fastjson.TypeObject && !has(j, "error") {
		if ex.Model == "" {
			ex.Model = str(j, "model")
		}
		var vs []*fastjson.Value
		switch {
		case j.Get("data") != nil: // OpenAI: data[].embedding
			for _, d := range arr(j, "data") {
				vs = append(vs, d.Get("embedding"))
			}
		case j.Get("embeddings") != nil: // Gemini batch: embeddings[].values
			for _, e := range arr(j, "embeddings") {
				vs = append(vs, e.Get("values"))
			}
		case j.Get("embedding") != nil: // Gemini single: embedding.values
			vs = append(vs, j.Get("embedding", "values"))
		}
		vectors = len(vs)
		if len(vs) > 0 {
			dims = embeddingDims(vs[0])
		}
		ex.Usage = openAIUsage(j.Get("usage"))
	}

	var b strings.Builder
	if inputs >= 0 {
		b.WriteString(plural(int64(inputs), "input", "inputs"))
	}
	if vectors >= 0 {
		if b.Len() > 0 {
			b.WriteString(" → ")
		}
		b.WriteString(itoa(int64(vectors)))
		b.WriteString(" × ")
		if dims > 0 {
			b.WriteString(itoa(int64(dims)))
			b.WriteString("-dim ")
		}
		if vectors == 1 {
			b.WriteString("embedding")
		} else {
			b.WriteString("embeddings")
		}
	}
	if ex.Model != "" {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("(" + ex.Model + ")")
	}
	ex.Summary = b.String()
}

// embeddingInputs counts the inputs of an OpenAI embeddings request: a
// string, an array of strings, one token array, or an array of token arrays.
func embeddingInputs(in *fastjson.Value) int {
	if in.Type() != fastjson.TypeArray {
		return 1
	}
	a, _ := in.Array()
	if len(a) > 0 && a[0].Type() == fastjson.TypeNumber {
		return 1 // one input given as tokens
	}
	return len(a)
}

// embeddingDims is the dimension of one embedding: the length of a float
// array, or the decoded size of base64 float32 data divided by four.
func embeddingDims(v *fastjson.Value) int {
	if v == nil {
		return 0
	}
	switch v.Type() {
	case fastjson.TypeArray:
		a, _ := v.Array()
		return len(a)
	case fastjson.TypeString:
		return int(base64Size(string(v.GetStringBytes())) / 4)
	}
	return 0
}

// parseModels summarizes a model list with its ids: OpenAI's data[].id,
// Gemini's models[].name, Ollama's models[].name, or one model object.
func parseModels(ex *Exchange, req, res *side) {
	j := res.json
	if j == nil || j.Type() != fastjson.TypeObject || has(j, "error") {
		return
	}
	var ids []string
	var list bool
	for _, key := range []string{"data", "models"} {
		if x := j.Get(key); x != nil && x.Type() == fastjson.TypeArray {
			list = true
			for _, m := range arr(x) {
				id := str(m, "id")
				if id == "" {
					id = strings.TrimPrefix(str(m, "name"), "models/")
				}
				if id == "" {
					id = str(m, "model")
				}
				if id != "" {
					ids = append(ids, id)
				}
			}
			break
		}
	}
	if !list {
		// One model: GET /v1/models/{id}.
		id := str(j, "id")
		if id == "" {
			id = strings.TrimPrefix(str(j, "name"), "models/")
		}
		if id != "" {
			ex.Model = id
			ex.Summary = "model " + id
		}
		return
	}
	var b strings.Builder
	b.WriteString(plural(int64(len(ids)), "model", "models"))
	for i, id := range ids {
		if i == modelListMax {
			b.WriteString(", and " + itoa(int64(len(ids)-modelListMax)) + " more")
			break
		}
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(id)
	}
	ex.Summary = b.String()
}

// summarizeGeneric describes an exchange of a media or unknown endpoint in
// one line: method, path, and for each body its media type and size, with a
// short JSON preview (base64 payloads replaced by their size), e.g.
// `POST /v1/audio/speech · request: application/json, 52 B {"model":"tts-1",…} · response: audio/mpeg, 3.3 KB`.
func summarizeGeneric(ex *Exchange, v record.View, req, res *side) {
	var b strings.Builder
	b.WriteString(v.Method())
	b.WriteByte(' ')
	b.WriteString(v.Path())
	if q := v.Query(); q != "" {
		b.WriteString("?" + q)
	}
	b.WriteString(" · request: ")
	b.WriteString(bodySummary(req))
	if v.HasResponse() {
		b.WriteString(" · response: ")
		b.WriteString(bodySummary(res))
	}
	ex.Summary = b.String()

	if j := req.json; j != nil {
		ex.Model = str(j, "model")
	}
	if j := res.json; j != nil && j.Type() == fastjson.TypeObject {
		if ex.Model == "" {
			ex.Model = str(j, "model")
		}
		ex.Usage = openAIUsage(j.Get("usage"))
	}
}

// bodySummary is "media type, size" and, for JSON, a clipped preview.
func bodySummary(s *side) string {
	if s.bytes == 0 && s.json == nil && s.text == nil && !s.binary {
		return "empty"
	}
	var b strings.Builder
	if s.contentType != "" {
		b.WriteString(s.contentType)
		b.WriteString(", ")
	}
	b.WriteString(humanize.Bytes(s.bytes))
	if s.json != nil {
		b.WriteByte(' ')
		b.WriteString(scrubbedPreview(s.json, previewChars))
	}
	return b.String()
}

// parseError reads the provider's error from an error response body:
// OpenAI's {"error":{"message","type","code"}}, Anthropic's
// {"type":"error","error":{"type","message"}}, Gemini's
// {"error":{"code","message","status"}} (also inside an array), a bare
// string error, {"message":…} or {"detail":…} from other servers, an error
// event in a stream, or the start of a text body. It returns nil when the
// body says nothing.
func parseError(res *side) *APIError {
	switch {
	case res.json != nil:
		return apiErrorOf(res.json)
	case res.text != nil && res.contentType == "text/event-stream":
		var found *APIError
		res.eachEvent(func(ev sse.Event) {
			if found != nil {
				return
			}
			if j := res.parseJSON(ev.Data); j != nil && (ev.Type == "error" || has(j, "error")) {
				found = apiErrorOf(j)
			}
		})
		return found
	case res.text != nil:
		return textError(string(res.text), res.contentType)
	}
	return nil
}

// apiErrorOf reads an error from a JSON error body or error event. Values
// are copied.
func apiErrorOf(v *fastjson.Value) *APIError {
	if v == nil {
		return nil
	}
	switch v.Type() {
	case fastjson.TypeArray:
		// Gemini answers a failed streamGenerateContent with [{"error":…}].
		a, _ := v.Array()
		if len(a) > 0 {
			return apiErrorOf(a[0])
		}
		return nil
	case fastjson.TypeString:
		if s := strings.TrimSpace(string(v.GetStringBytes())); s != "" {
			return &APIError{Message: humanize.Shorten(s, errorChars)}
		}
		return nil
	case fastjson.TypeObject:
	default:
		return &APIError{Message: v.String()}
	}

	if e := v.Get("error"); e != nil && e.Type() != fastjson.TypeNull {
		if e.Type() != fastjson.TypeObject {
			err := apiErrorOf(e)
			if err != nil && err.Type == "" {
				err.Type = str(v, "type")
				if err.Type == "error" {
					err.Type = ""
				}
			}
			return err
		}
		err := &APIError{
			Type:    str(e, "type"),
			Code:    scalarText(e.Get("code")),
			Message: str(e, "message"),
		}
		if err.Type == "" {
			err.Type = str(e, "status") // Gemini: RESOURCE_EXHAUSTED
		}
		if err.Message == "" {
			err.Message = scrubbedPreview(e, errorChars)
		}
		return err
	}
	// Other servers: {"message":…}, {"detail":…} (FastAPI), {"msg":…}.
	for _, key := range []string{"message", "detail", "msg", "error_message"} {
		if m := v.Get(key); m != nil && m.Type() != fastjson.TypeNull {
			err := &APIError{Type: str(v, "type"), Code: scalarText(v.Get("code")), Message: humanize.Shorten(textOf(m), errorChars)}
			if err.Type == "error" {
				err.Type = ""
			}
			return err
		}
	}
	return &APIError{Message: scrubbedPreview(v, errorChars)}
}

// textError reads an error from a body that is text: its start, with an
// HTML page reduced to its title or its text.
func textError(s, contentType string) *APIError {
	if contentType == "text/html" || strings.HasPrefix(strings.TrimSpace(s), "<") {
		s = htmlText(s)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	return &APIError{Message: humanize.Shorten(s, errorChars)}
}

// htmlText returns an HTML page's title, or its text without tags, on one
// line: enough to read a proxy's or gateway's error page.
func htmlText(s string) string {
	lower := strings.ToLower(s)
	if i := strings.Index(lower, "<title>"); i >= 0 {
		if j := strings.Index(lower[i:], "</title>"); j >= 0 {
			if t := strings.TrimSpace(s[i+len("<title>") : i+j]); t != "" {
				return t
			}
		}
	}
	var b strings.Builder
	inTag := false
	for _, r := range s {
		switch {
		case r == '<':
			inTag = true
		case r == '>':
			inTag = false
			b.WriteByte(' ')
		case !inTag:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// scalarText is a string as is, a number or boolean as its JSON text, and
// "" for null, absent, objects and arrays.
func scalarText(v *fastjson.Value) string {
	if v == nil {
		return ""
	}
	switch v.Type() {
	case fastjson.TypeString:
		return string(v.GetStringBytes())
	case fastjson.TypeNumber, fastjson.TypeTrue, fastjson.TypeFalse:
		return v.String()
	}
	return ""
}

// appendScrubbed appends v as compact JSON, like jsonText, but with each
// data: URL and each long base64 string replaced by a short placeholder
// string naming its type and size, so that no inline payload reaches a
// transcript or a summary.
func appendScrubbed(dst []byte, v *fastjson.Value) []byte {
	return appendValue(dst, v, scrubString, -1)
}

// scrubbedPreview is v as scrubbed compact JSON, clipped to n characters.
// It stops writing once the text is surely longer than that, so a huge
// body costs little.
func scrubbedPreview(v *fastjson.Value, n int) string {
	return humanize.Shorten(string(appendValue(nil, v, scrubString, utf8.UTFMax*(n+1))), n)
}

// scrubString replaces a data: URL or a long base64 string with a
// placeholder such as "[image/png data, 12.3 KB]"; other strings are
// returned unchanged.
func scrubString(s string) string {
	if mt, n, ok := dataURL(s); ok {
		if mt == "" {
			mt = "inline"
		}
		return "[" + mt + " data, " + humanize.Bytes(n) + "]"
	}
	if looksBase64(s) {
		return "[base64 data, " + humanize.Bytes(base64Size(s)) + "]"
	}
	return s
}

// looksBase64 reports whether s is long and made only of base64 characters
// (standard or URL alphabet), as inline images and audio are.
func looksBase64(s string) bool {
	if len(s) < 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '+' || c == '/' || c == '=' || c == '-' || c == '_' || c == '\n' || c == '\r') {
			return false
		}
	}
	return true
}

// plural is "1 input" or "3 inputs".
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return itoa(n) + " " + many
}
