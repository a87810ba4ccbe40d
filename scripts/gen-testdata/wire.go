package main

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/llmtap/llmtap/internal/fakeupstream"
)

// Helpers that build wire bodies the way the real services write them.

// gap spaces the chunks of a stream, so llmtap reads each on its own.
const gap = 10 * time.Millisecond

// header builds response headers from name, value pairs.
func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

var openAIHeaders = []string{
	"Openai-Organization", "user-abc123", "Openai-Processing-Ms", "412",
	"Openai-Version", "2020-10-01", "X-Request-Id", "req_7f3c1e0d9b2a4c6e8f10",
}

// jsonAnswer is a complete JSON answer, sent in one write with its length.
func jsonAnswer(status int, body string, kv ...string) fakeupstream.Canned {
	h := header(append([]string{"Content-Type", "application/json"}, kv...)...)
	return fakeupstream.Canned{Status: status, Header: h, Chunks: []string{body}}
}

// openAIJSON is a 200 JSON answer with OpenAI's headers.
func openAIJSON(body string) fakeupstream.Canned {
	return jsonAnswer(200, body, openAIHeaders...)
}

// sseAnswer is an event stream; each chunk is one write.
func sseAnswer(chunks []string, kv ...string) fakeupstream.Canned {
	h := header(append([]string{"Content-Type", "text/event-stream; charset=utf-8", "Cache-Control", "no-cache"}, kv...)...)
	return fakeupstream.Canned{Header: h, Chunks: chunks, Gap: gap}
}

// data is one SSE event with a data line, as OpenAI writes it.
func data(v string) string { return "data: " + v + "\n\n" }

// event is one SSE event with a name, as Anthropic and the Responses API write it.
func event(name, v string) string { return "event: " + name + "\ndata: " + v + "\n\n" }

// split cuts s at the byte offsets given, into chunks sent one by one:
// real servers and TCP cut events anywhere, mid-JSON and mid-character.
func split(s string, at ...int) []string {
	var out []string
	prev := 0
	for _, i := range at {
		out = append(out, s[prev:i])
		prev = i
	}
	return append(out, s[prev:])
}

const created = "1767225600"

// chatChunk is one chat.completion.chunk event with the given choices (a
// JSON array's members) and usage (JSON, "null" for none).
func chatChunk(id, model, choices, usage string) string {
	return data(`{"id":"` + id + `","object":"chat.completion.chunk","created":` + created + `,"model":"` + model +
		`","service_tier":"default","system_fingerprint":"fp_560af6e559","choices":[` + choices + `],"usage":` + usage + `}`)
}

// choice is one streamed choice: a delta (JSON object) and a finish reason
// ("" while the answer goes on).
func choice(index int, delta, finish string) string {
	f := "null"
	if finish != "" {
		f = `"` + finish + `"`
	}
	return fmt.Sprintf(`{"index":%d,"delta":%s,"logprobs":null,"finish_reason":%s}`, index, delta, f)
}

// chatStream builds a whole chat stream: one chunk per choice list, then
// the usage chunk (with an empty choices array, as OpenAI sends it with
// stream_options.include_usage) when usage is not "", then [DONE].
func chatStream(id, model string, chunks []string, usage string) []string {
	var out []string
	for _, c := range chunks {
		out = append(out, chatChunk(id, model, c, "null"))
	}
	if usage != "" {
		out = append(out, chatChunk(id, model, "", usage))
	}
	return append(out, data("[DONE]"))
}

// textDeltas streams text as content deltas of choice 0: the role first,
// one delta per piece, then the finish reason.
func textDeltas(pieces []string, finish string) []string {
	out := []string{choice(0, `{"role":"assistant","content":"","refusal":null}`, "")}
	for _, p := range pieces {
		out = append(out, choice(0, `{"content":`+q(p)+`}`, ""))
	}
	return append(out, choice(0, `{}`, finish))
}

// chatCompletion is a complete chat.completion JSON body.
func chatCompletion(id, model, choices, usage string) string {
	return `{"id":"` + id + `","object":"chat.completion","created":` + created + `,"model":"` + model +
		`","choices":[` + choices + `],"usage":` + usage + `,"service_tier":"default","system_fingerprint":"fp_560af6e559"}`
}

// message is one JSON choice.
func message(index int, msg, finish string) string {
	return fmt.Sprintf(`{"index":%d,"message":%s,"logprobs":null,"finish_reason":"%s"}`, index, msg, finish)
}

// usage is OpenAI's chat usage object.
func usage(prompt, completion, cached, reasoning int) string {
	return fmt.Sprintf(`{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d,"prompt_tokens_details":{"cached_tokens":%d,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":%d,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}`,
		prompt, completion, prompt+completion, cached, reasoning)
}

// q quotes s as a JSON string the way the services do: no HTML escaping,
// non-ASCII as UTF-8.
func q(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// pngDataURL is a data: URL of a PNG of about n bytes: a real PNG
// signature and header, then filler, so a renderer sees the type and size.
func pngDataURL(n int) string {
	img := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x40\x00\x00\x00\x40\x08\x06\x00\x00\x00")
	for i := 0; len(img) < n; i++ {
		img = append(img, byte(i*131+7))
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(img)
}
