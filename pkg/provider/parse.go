package provider

import (
	"bytes"
	"fmt"
	"mime"
	"strings"
	"sync"

	"github.com/llmtap/llmtap/pkg/record"
	"github.com/llmtap/llmtap/pkg/sse"
	"github.com/valyala/fastjson"
)

// side is one body of a record in the forms the format parsers need. Its
// *fastjson.Value lives only as long as the Parse call that made it.
type side struct {
	json        *fastjson.Value // the body as JSON, when it is JSON
	text        []byte          // the body when it is text that is not JSON (an SSE stream)
	binary      bool            // the body was base64: not text
	bytes       int64           // body_bytes: the size on the wire
	contentType string          // media type, lower case, without parameters
	parser      *fastjson.Parser
}

// eachEvent calls fn for each event of a text body parsed as a
// server-sent event stream. ev.Data is valid only during the call.
func (s *side) eachEvent(fn func(ev sse.Event)) {
	if s.text == nil {
		return
	}
	p := sseParsers.Get().(*sse.Parser)
	p.Feed(s.text, fn)
	p.End(fn)
	// Not deferred: a Parser that fn panicked out of is dropped, not reused.
	sseParsers.Put(p)
}

// sseParsers keeps event parsers, with their grown buffers, from one
// record to the next.
var sseParsers = sync.Pool{New: func() any { return new(sse.Parser) }}

// jsonEvents calls fn for each event of a stream whose data is a JSON
// object, in order, skipping empty events and OpenAI's "[DONE]" sentinel.
// The value and ev.Data are valid only during the call.
func (s *side) jsonEvents(fn func(ev sse.Event, j *fastjson.Value)) {
	s.eachEvent(func(ev sse.Event) {
		data := bytes.TrimSpace(ev.Data)
		if len(data) == 0 || string(data) == "[DONE]" {
			return
		}
		if j := s.parseJSON(data); j != nil && j.Type() == fastjson.TypeObject {
			fn(ev, j)
		}
	})
}

// writeGrowing appends s to b, doubling b's buffer when it is full: Write
// alone grows a long buffer by only a quarter, which copies a long streamed
// text several times over.
func writeGrowing(b *strings.Builder, s []byte) {
	b.Grow(len(s))
	b.Write(s)
}

// parseJSON parses one event's data as JSON with the side's own parser;
// the value is valid until the next call. The parser copies data.
func (s *side) parseJSON(data []byte) *fastjson.Value {
	v, err := s.parser.ParseBytes(data)
	if err != nil {
		return nil
	}
	return v
}

var parsers fastjson.ParserPool

// Parse reads one record into an Exchange. It never fails: what it cannot
// understand is left out, and an exchange it cannot read at all gets a
// Summary that says so.
func Parse(v record.View) (ex *Exchange) {
	ex = &Exchange{FirstTokenOffset: -1}
	// One parser per body that may need one (a value dies at its parser's
	// next Parse), and one for the events of a stream.
	reqp, resp, ep := parsers.Get(), parsers.Get(), parsers.Get()
	defer func() {
		parsers.Put(reqp)
		parsers.Put(resp)
		parsers.Put(ep)
		// A malformed body must never crash a reader of a log; report it
		// as unreadable instead. The fuzz tests keep this path cold.
		if r := recover(); r != nil {
			*ex = Exchange{API: ex.API, FirstTokenOffset: -1, Summary: fmt.Sprintf("unreadable %s exchange: %v", ex.API, r)}
		}
	}()
	req := readSide(v, "request", reqp, ep)
	res := readSide(v, "response", resp, ep)
	ex.API = Detect(v.Method(), v.Path(), req.json)
	ex.Stream = v.Streamed()

	switch ex.API {
	case OpenAIChat:
		parseChat(ex, &req, &res)
	case OpenAICompletions:
		parseCompletions(ex, &req, &res)
	case OpenAIResponses:
		parseResponses(ex, &req, &res)
	case AnthropicMessages:
		parseAnthropic(ex, &req, &res)
	case Gemini:
		parseGemini(ex, v.Path(), &req, &res)
	case Embeddings:
		parseEmbeddings(ex, &req, &res)
	case Models:
		parseModels(ex, &req, &res)
	default:
		summarizeGeneric(ex, v, &req, &res)
	}
	if ex.Error == nil && v.Status() >= 400 {
		ex.Error = parseError(&res)
	}
	if ex.Summary == "" {
		ex.Summary = oddBodies(ex.API, v.Status(), &req, &res)
	}
	return ex
}

// oddBodies describes the JSON bodies of a conversation API that are not
// the object its format reads (a bare string, a number, an array), which
// would otherwise leave nothing of them in a transcript; "" when there are
// none. A Gemini answer may be an array of chunks, and an error answer is
// read by parseError whatever its shape.
func oddBodies(api API, status int, req, res *side) string {
	switch api {
	case OpenAIChat, OpenAICompletions, OpenAIResponses, AnthropicMessages, Gemini:
	default:
		return "" // summarized whatever the shape
	}
	odd := func(s *side, arrayOK bool) bool {
		if s.json == nil {
			return false
		}
		t := s.json.Type()
		return t != fastjson.TypeObject && !(arrayOK && t == fastjson.TypeArray)
	}
	var parts []string
	if odd(req, false) {
		parts = append(parts, "request body is not a JSON object: "+scrubbedPreview(req.json, previewChars))
	}
	if status < 400 && odd(res, api == Gemini) {
		parts = append(parts, "response body is not a JSON object: "+scrubbedPreview(res.json, previewChars))
	}
	return strings.Join(parts, " · ")
}

// readSide gathers one body. A text body that is JSON after all (a JSON
// answer labelled text/plain, or cut at --max-body and so not recorded as
// json) is parsed with jp; SSE data is parsed with ep later.
func readSide(v record.View, part string, jp, ep *fastjson.Parser) side {
	s := side{bytes: v.Value().GetInt64(part, "body_bytes"), parser: ep}
	if mt, _, err := mime.ParseMediaType(v.Header(part, "content-type")); err == nil {
		s.contentType = strings.ToLower(mt)
	}
	switch v.BodyEncoding(part) {
	case record.EncodingJSON:
		s.json = v.BodyJSON(part)
	case record.EncodingText:
		b, _ := v.BodyBytes(part)
		if s.contentType != "text/event-stream" {
			if j, err := jp.ParseBytes(b); err == nil {
				s.json = j
				return s
			}
		}
		s.text = b
	case record.EncodingBase64:
		s.binary = true
	}
	return s
}

// Detect names the API of a request from its method, path and JSON body.
func Detect(method, path string, body *fastjson.Value) API {
	p := strings.ToLower(path)
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	p = strings.TrimRight(p, "/")
	switch {
	case strings.HasSuffix(p, "/chat/completions"):
		return OpenAIChat
	case strings.HasSuffix(p, "/completions"):
		return OpenAICompletions
	case strings.HasSuffix(p, "/responses") || strings.Contains(p, "/responses/"):
		return OpenAIResponses
	case strings.HasSuffix(p, "/messages") && !strings.Contains(p, "/threads/"):
		return AnthropicMessages
	case isGeminiPath(p):
		return Gemini
	case strings.HasSuffix(p, "/embeddings") || strings.Contains(p, ":embedcontent") || strings.Contains(p, ":batchembedcontents"):
		return Embeddings
	case method == "GET" && (strings.HasSuffix(p, "/models") || strings.Contains(p, "/models/")):
		return Models
	case strings.Contains(p, "/audio/") || strings.Contains(p, "/images/") || strings.HasSuffix(p, "/files") || strings.Contains(p, "/files/"):
		return Media
	}
	if body != nil && body.Get("messages") != nil && body.Get("model") != nil {
		// An OpenAI-style chat body on an unusual path (a gateway's own route).
		return OpenAIChat
	}
	return Unknown
}
