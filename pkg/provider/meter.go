package provider

import (
	"bytes"
	"strings"

	"github.com/llmtap/llmtap/pkg/record"
	"github.com/llmtap/llmtap/pkg/sse"
	"github.com/valyala/fastjson"
)

// OutputEvent is one event of a streamed response that carried new output.
type OutputEvent struct {
	// End is the byte offset in the recorded (decoded) response body just
	// past the event's last data line: End-1 is the byte whose arrival
	// completed the event (see sse.Event.End).
	End  int64
	Kind OutputKind
}

// Metrics is what one record says about speed and tokens, in no
// provider's terms: the output events of a streamed answer, and the usage.
// Its fields live until the next Measure call on the Meter that made it.
type Metrics struct {
	API   API
	Model string // the request's model, else the response's
	// Stream is record.View.Streamed: the one definition of a streamed
	// response, from its recorded headers.
	Stream bool
	// Events are the output events of an SSE body, in stream order.
	Events []OutputEvent
	// Counted is true when Events is all the output the answer had: the
	// API is one whose output events Meter knows (OpenAI Chat,
	// Completions and Responses, Anthropic Messages, Gemini) and, for a
	// stream, its body held server-sent events. Streams of JSON lines, such
	// as Ollama's native /api/chat and /api/generate, are not read, and a
	// stream cut before its first event says nothing of its output.
	Counted bool
	// Usage is the usage the response reported, in Parse's terms: Input
	// counts cached tokens, Output counts reasoning tokens.
	Usage Usage
	// HasInput and HasOutput say whether the response reported input and
	// output tokens. A stream cut before its last event usually reported
	// neither; Anthropic's opening count of output tokens is a placeholder
	// and does not set HasOutput.
	HasInput, HasOutput bool
}

// Meter reads Metrics from records. Unlike Parse it builds no
// conversation and only classifies each event, and it keeps its parsers
// and buffers from one record to the next: in steady state an event costs
// no allocation, and a record none but a model name not seen before. A
// Meter is not safe for use by several goroutines at once; use one per
// goroutine.
type Meter struct {
	m      Metrics
	req    fastjson.Parser // a request body recorded as text
	res    fastjson.Parser // a response body recorded as text
	ev     fastjson.Parser // each event's data
	sse    sse.Parser
	emit   func(sse.Event)   // m.event, made once
	model  bool              // the request named the model
	sawSSE bool              // an SSE event with data came
	raw    Usage             // Anthropic's counts as sent, merged event by event
	models map[string]string // the model names seen, each once
}

// NewMeter returns a Meter.
func NewMeter() *Meter {
	m := &Meter{}
	m.emit = m.event
	return m
}

// Measure reads the metrics of the record v. The result, and its Events,
// are reused by the next call. A malformed record never panics: what
// cannot be read is left out.
func (m *Meter) Measure(v record.View) *Metrics {
	mt := &m.m
	*mt = Metrics{Events: mt.Events[:0], Model: mt.Model}
	m.raw, m.sawSSE = Usage{}, false
	req := v.BodyJSON("request")
	if req == nil && v.BodyEncoding("request") == record.EncodingText {
		b, _ := v.BodyBytes("request")
		if j, err := m.req.ParseBytes(b); err == nil {
			req = j
		}
	}
	// Views of the parsed record, not copies: nothing here keeps them.
	mt.API = Detect(record.UnsafeString(v.MethodBytes()), record.UnsafeString(v.PathBytes()), req)
	model := RequestModel(v)
	if model == nil && mt.API != Gemini {
		model = strBytes(req, "model") // a request body recorded as text
	}
	m.setModel(model)
	m.model = mt.Model != ""
	switch mt.API {
	case OpenAIChat, OpenAICompletions, OpenAIResponses, AnthropicMessages, Gemini:
		mt.Counted = true
	}
	mt.Stream = v.Streamed()
	defer func() {
		if recover() != nil { // as in Parse: a bad record is not a crash
			*mt = Metrics{API: mt.API, Model: mt.Model, Stream: mt.Stream, Events: mt.Events[:0]}
		}
	}()
	ct := record.UnsafeString(v.HeaderBytes("response", "content-type"))
	switch v.BodyEncoding("response") {
	case record.EncodingJSON:
		m.answer(v.BodyJSON("response"))
	case record.EncodingText:
		b, _ := v.BodyBytes("response")
		if !isEventStream(ct) {
			if j, err := m.res.ParseBytes(b); err == nil {
				m.answer(j)
				return mt
			}
		}
		m.sse.Feed(b, m.emit)
		m.sse.End(m.emit)
	}
	if mt.Stream && !m.sawSSE {
		mt.Counted = false
	}
	return mt
}

// setModel sets the result's model to b: the string the last record had
// when they are equal, or one seen before (a log goes back and forth among
// a few models), or else a copy.
func (m *Meter) setModel(b []byte) {
	if string(b) == m.m.Model {
		return
	}
	if s, ok := m.models[string(b)]; ok {
		m.m.Model = s
		return
	}
	if m.models == nil || len(m.models) >= maxModels {
		m.models = make(map[string]string) // forget them: a log of ever new names must not grow it
	}
	s := string(b)
	m.models[s] = s
	m.m.Model = s
}

// maxModels bounds the model names a Meter keeps.
const maxModels = 1024

// isEventStream reports whether a Content-Type header names
// text/event-stream, as readSide's media type parse would, without its
// allocations.
func isEventStream(ct string) bool {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.EqualFold(strings.TrimSpace(ct), "text/event-stream")
}

// responseModel takes the response's model when the request named none.
func (m *Meter) responseModel(v *fastjson.Value, keys ...string) {
	if !m.model {
		if b := strBytes(v, keys...); len(b) > 0 {
			m.setModel(b)
		}
	}
}

// answer reads a JSON response (for Gemini, maybe the JSON array of chunks
// that streamGenerateContent without alt=sse sends: one document, whose
// chunks' places on the wire are not recorded): its usage and model.
func (m *Meter) answer(j *fastjson.Value) {
	if j == nil {
		return
	}
	mt := &m.m
	switch mt.API {
	case OpenAIChat, OpenAICompletions, OpenAIResponses, Embeddings, Media:
		m.responseModel(j, "model")
		m.openAIUsage(j.Get("usage"))
	case AnthropicMessages:
		m.responseModel(j, "model")
		if u := j.Get("usage"); u != nil && u.Type() == fastjson.TypeObject {
			mt.HasInput, mt.HasOutput = true, anthMergeUsage(&mt.Usage, u)
			anthTotals(&mt.Usage)
		}
	case Gemini:
		if j.Type() != fastjson.TypeArray {
			m.geminiChunk(j, -1)
			return
		}
		a, _ := j.Array()
		for _, c := range a {
			m.geminiChunk(c, -1)
		}
	}
}

// openAIUsage takes an OpenAI usage object (Chat, Completions or
// Responses names) when u is one; the last one wins.
func (m *Meter) openAIUsage(u *fastjson.Value) {
	if us, ok := openAIUsageOf(u); ok {
		m.m.Usage, m.m.HasInput, m.m.HasOutput = us, true, true
	}
}

// event reads one event of a streamed response.
func (m *Meter) event(ev sse.Event) {
	data := bytes.TrimSpace(ev.Data)
	if len(data) == 0 || string(data) == "[DONE]" {
		return
	}
	m.sawSSE = true
	j, err := m.ev.ParseBytes(data)
	if err != nil || j.Type() != fastjson.TypeObject {
		return
	}
	var k OutputKind
	switch m.m.API {
	case OpenAIChat, OpenAICompletions:
		if ev.Type == "error" || has(j, "error") || string(strBytes(j, "object")) == "error" {
			return
		}
		m.responseModel(j, "model")
		m.openAIUsage(j.Get("usage"))
		if m.m.API == OpenAIChat {
			k = chatOutput(j)
		} else {
			k = completionOutput(j)
		}
	case OpenAIResponses:
		k = m.respEvent(ev, j)
	case AnthropicMessages:
		k = m.anthEvent(ev, j)
	case Gemini:
		m.geminiChunk(j, ev.End)
		return
	}
	m.add(ev.End, k)
}

// add records an output event of kind k ending at end; k == 0 is none.
func (m *Meter) add(end int64, k OutputKind) {
	if k != 0 {
		m.m.Events = append(m.m.Events, OutputEvent{End: end, Kind: k})
	}
}

// respEvent reads one Responses stream event: the model from the
// response's first events, the usage from the last.
func (m *Meter) respEvent(ev sse.Event, j *fastjson.Value) OutputKind {
	typ := strBytes(j, "type")
	if len(typ) == 0 {
		typ = []byte(ev.Type)
	}
	switch string(typ) {
	case "response.created", "response.in_progress", "response.queued":
		m.responseModel(j, "response", "model")
	case "response.completed", "response.incomplete", "response.failed":
		m.responseModel(j, "response", "model")
		m.openAIUsage(j.Get("response", "usage"))
	}
	return respEventOutput(typ, j)
}

// anthEvent reads one Anthropic stream event: the model and input counts
// from message_start, the cumulative counts from message_delta.
func (m *Meter) anthEvent(ev sse.Event, d *fastjson.Value) OutputKind {
	typ := strBytes(d, "type")
	if len(typ) == 0 {
		typ = []byte(ev.Type)
	}
	mt := &m.m
	var u *fastjson.Value
	switch string(typ) {
	case "message_start":
		m.responseModel(d, "message", "model")
		u = d.Get("message", "usage")
	case "message_delta":
		u = d.Get("usage")
	}
	if u != nil && u.Type() == fastjson.TypeObject {
		// message_start's output_tokens is a placeholder (1 or so): only
		// message_delta's count is the answer's.
		out := anthMergeUsage(&m.raw, u)
		mt.HasInput = true
		mt.HasOutput = mt.HasOutput || out && string(typ) == "message_delta"
		mt.Usage = m.raw
		anthTotals(&mt.Usage)
	}
	return anthOutput(typ, d)
}

// geminiChunk reads one GenerateContentResponse, streamed or not; end is
// its event's end offset, -1 when it came in a JSON document.
func (m *Meter) geminiChunk(v *fastjson.Value, end int64) {
	if v.Type() != fastjson.TypeObject {
		return
	}
	m.responseModel(v, "modelVersion")
	if u := v.Get("usageMetadata"); u != nil && u.Type() == fastjson.TypeObject {
		m.m.Usage, m.m.HasInput, m.m.HasOutput = geminiUsage(u), true, true
	}
	if end >= 0 {
		m.add(end, geminiOutput(v))
	}
}
