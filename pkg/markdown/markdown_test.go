package markdown_test

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/llmtap/llmtap/pkg/markdown"
	"github.com/llmtap/llmtap/pkg/provider"
	"github.com/llmtap/llmtap/pkg/record"
	"github.com/valyala/fastjson"
)

func renderFile(t *testing.T, name string, opts markdown.Options) string {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name + ".jsonl")
	if err != nil {
		t.Fatal(err)
	}
	return string(render(t, data, opts))
}

// sections splits a transcript at its anchors.
func sections(md string) []string {
	parts := strings.Split(md, `<a id="`)
	return parts[1:]
}

// TestThreadingToolConversation: a 3-turn tool-using conversation shows
// each message exactly once, each turn linked to the one it continues;
// --full shows every request whole.
func TestThreadingToolConversation(t *testing.T) {
	md := renderFile(t, "chat_tool_conversation", markdown.Options{})
	once := []string{
		"You are a travel assistant.",
		"What's the weather in Paris and Tokyo?",
		"**Tool call** `get_weather` · id `call_P4r1s`",
		"**Tool call** `get_weather` · id `call_T0ky0`",
		"### Tool result · `get_weather` · call [`call_P4r1s`](#20260101T000000.000000Z-000000-000001)",
		"### Tool result · `get_weather` · call [`call_T0ky0`](#20260101T000000.000000Z-000000-000001)",
		`"temp_c": 18`,
		"Paris: 18 °C and sunny. Tokyo: 22 °C and cloudy.",
		"Which one is warmer?",
		"Tokyo, by 4 °C.",
		"**Tools offered:**",
	}
	for _, s := range once {
		if n := strings.Count(md, s); n != 1 {
			t.Errorf("%q appears %d times, want once", s, n)
		}
	}
	secs := sections(md)
	if len(secs) != 3 {
		t.Fatalf("%d sections, want 3", len(secs))
	}
	for i, want := range []string{"", "↪ Continues [the exchange at 2026-01-01 00:00:00.000](#20260101T000000.000000Z-000000-000001).", "↪ Continues [the exchange at 2026-01-01 00:00:01.000](#20260101T000001.000000Z-000000-000002)."} {
		if want == "" {
			if strings.Contains(secs[i], "↪") {
				t.Errorf("section %d continues something:\n%s", i+1, secs[i])
			}
		} else if !strings.Contains(secs[i], want) {
			t.Errorf("section %d does not say %q:\n%s", i+1, want, secs[i])
		}
	}

	full := renderFile(t, "chat_tool_conversation", markdown.Options{Full: true})
	for s, n := range map[string]int{
		"What's the weather in Paris and Tokyo?":              3,
		"**Tool call** `get_weather` · id `call_P4r1s`":       3,
		"### Tool result · `get_weather` · call `call_P4r1s`": 2,
		"Paris: 18 °C and sunny. Tokyo: 22 °C and cloudy.":    2,
		"Which one is warmer?":                                1,
		"↪":                                                   0,
	} {
		if got := strings.Count(full, s); got != n {
			t.Errorf("--full: %q appears %d times, want %d", s, got, n)
		}
	}
}

// TestThreadingInterleaved: two conversations interleaved in one file stay
// apart: each turn links to the previous turn of its own conversation.
func TestThreadingInterleaved(t *testing.T) {
	md := renderFile(t, "chat_interleaved", markdown.Options{})
	secs := sections(md)
	if len(secs) != 5 {
		t.Fatalf("%d sections, want 5", len(secs))
	}
	links := []string{"", "", "(#20260101T000000.000000Z-000000-000001)", "(#20260101T000001.000000Z-000000-000002)", "(#20260101T000002.000000Z-000000-000003)"}
	for i, l := range links {
		if l == "" {
			if strings.Contains(secs[i], "↪") {
				t.Errorf("section %d continues something", i+1)
			}
			continue
		}
		if !strings.Contains(secs[i], "↪ Continues [") || !strings.Contains(secs[i], l) {
			t.Errorf("section %d should continue %s:\n%s", i+1, l, secs[i])
		}
	}
	for _, s := range []string{"You are a chef.", "Give me a quick pasta idea.", "Aglio e olio", "What is 12 × 12?", "12 × 12 = 144.", "And 13 × 13?", "How long does it take?", "About 15 minutes.", "Thanks!"} {
		if n := strings.Count(md, s); n != 1 {
			t.Errorf("%q appears %d times, want once", s, n)
		}
	}
	full := renderFile(t, "chat_interleaved", markdown.Options{Full: true})
	if n := strings.Count(full, "Give me a quick pasta idea."); n != 3 {
		t.Errorf("--full: the first question appears %d times, want 3", n)
	}
}

// view makes a minimal record for threading tests.
func view(t *testing.T, id string) record.View {
	t.Helper()
	var p fastjson.Parser
	v, err := p.Parse(`{"v":1,"id":"` + id + `","start":"2026-01-01T00:00:00Z","method":"POST","path":"/v1/chat/completions","response":{"status":200}}`)
	if err != nil {
		t.Fatal(err)
	}
	rv, err := record.NewView(v)
	if err != nil {
		t.Fatal(err)
	}
	return rv
}

func text(role, s string) provider.Message {
	return provider.Message{Role: role, Parts: []provider.Part{{Kind: provider.PartText, Text: s}}}
}

// TestThreadingShapes checks that an answer is recognised when the client
// sends it back in another shape than it came.
func TestThreadingShapes(t *testing.T) {
	call := provider.ToolCall{ID: "call_1", Name: "get_weather", Arguments: `{"city": "Paris"}`}
	sentBack := provider.ToolCall{ID: "call_1", Name: "get_weather", Arguments: `{"city":"Paris"}`}
	result := provider.Message{Role: "tool", ToolCallID: "call_1", Parts: []provider.Part{{Kind: provider.PartText, Text: "18 C"}}}
	q := text("user", "Weather in Paris?")

	for _, tc := range []struct {
		name   string
		answer []provider.Message
		next   []provider.Message
	}{
		{
			// A Responses API answer comes as reasoning, message and
			// function_call items, and goes back as input items.
			name: "split into items",
			answer: []provider.Message{
				{Role: "assistant", Reasoning: "think"},
				text("assistant", "Let me check."),
				{Role: "assistant", ToolCalls: []provider.ToolCall{call}},
			},
			next: []provider.Message{q,
				{Role: "assistant", RedactedReasoning: true},
				text("assistant", "Let me check."),
				{Role: "assistant", ToolCalls: []provider.ToolCall{sentBack}},
				result},
		},
		{
			// Anthropic: the streamed input's spacing differs from the
			// object the SDK sends back; the thinking goes back too.
			name:   "tool input spacing and reasoning",
			answer: []provider.Message{{Role: "assistant", Reasoning: "think", Parts: []provider.Part{{Kind: provider.PartText, Text: "Let me check.\n"}}, ToolCalls: []provider.ToolCall{call}, FinishReason: "tool_use"}},
			next: []provider.Message{q,
				{Role: "assistant", Reasoning: "think", Parts: []provider.Part{{Kind: provider.PartText, Text: "Let me check."}}, ToolCalls: []provider.ToolCall{sentBack}},
				result},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			r := markdown.New(&out, markdown.Options{})
			must(t, r.Render(view(t, "one"), &provider.Exchange{Request: []provider.Message{q}, Response: tc.answer, FirstTokenOffset: -1}))
			out.Reset()
			must(t, r.Render(view(t, "two"), &provider.Exchange{Request: tc.next, Response: []provider.Message{text("assistant", "18 C in Paris.")}, FirstTokenOffset: -1}))
			got := out.String()
			if !strings.Contains(got, "↪ Continues [the exchange at 2026-01-01 00:00:00.000](#one).") {
				t.Errorf("no link to the first exchange:\n%s", got)
			}
			if strings.Contains(got, "Weather in Paris?") || strings.Contains(got, "Let me check.") || strings.Contains(got, "**Tool call**") {
				t.Errorf("the history is shown again:\n%s", got)
			}
			if !strings.Contains(got, "### Tool result · `get_weather` · call [`call_1`](#one)") {
				t.Errorf("the tool result is not linked to its call:\n%s", got)
			}
		})
	}
}

// TestThreadingBranch: a request that edits the last question continues
// the conversation before it, and a retry of the same request says that
// it adds nothing.
func TestThreadingBranch(t *testing.T) {
	var out bytes.Buffer
	r := markdown.New(&out, markdown.Options{})
	u1, a1 := text("user", "Q1"), text("assistant", "A1")
	must(t, r.Render(view(t, "e1"), &provider.Exchange{Request: []provider.Message{u1}, Response: []provider.Message{a1}, FirstTokenOffset: -1}))
	must(t, r.Render(view(t, "e2"), &provider.Exchange{Request: []provider.Message{u1, a1, text("user", "Q2")}, Response: []provider.Message{text("assistant", "A2")}, FirstTokenOffset: -1}))
	out.Reset()
	must(t, r.Render(view(t, "e3"), &provider.Exchange{Request: []provider.Message{u1, a1, text("user", "Q2 edited")}, Response: []provider.Message{text("assistant", "A2'")}, FirstTokenOffset: -1}))
	if got := out.String(); !strings.Contains(got, "(#e1)") || strings.Contains(got, "Q1") || !strings.Contains(got, "Q2 edited") {
		t.Errorf("edited turn:\n%s", got)
	}
	out.Reset()
	must(t, r.Render(view(t, "e4"), &provider.Exchange{Request: []provider.Message{u1, a1, text("user", "Q2")}, FirstTokenOffset: -1}))
	if got := out.String(); !strings.Contains(got, "↪ Resends the conversation of [the exchange at 2026-01-01 00:00:00.000](#e2) with no new messages.") || strings.Contains(got, "### User") {
		t.Errorf("retry:\n%s", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestMarkdownGaps holds one regression test for each way a naive
// transcript renderer loses or garbles content.
func TestMarkdownGaps(t *testing.T) {
	for _, tc := range []struct {
		name    string
		file    string
		want    []string
		notWant []string
		opts    markdown.Options
	}{
		{
			name: "responses_stream_has_an_entry",
			file: "responses",
			want: []string{"Is 2^31-1 prime?", "<details><summary>Reasoning</summary>", "**Checking primality**", "**Tool call** `is_prime` · id `call_Pr1m3`", `"n": 2147483647`, "Yes: 2^31−1 = 2,147,483,647 is a Mersenne prime."},
		},
		{
			name:    "responses_nonstream_text_input_instructions_and_function_call",
			file:    "responses",
			want:    []string{"### System\n\nYou are a weather bot.", "Weather in Paris?", "**Tool call** `get_weather` · id `call_R3sP4ris`", "It is 18 °C and sunny in Paris."},
			notWant: []string{`"output_text"`, `"type":`},
		},
		{
			name: "anthropic_assistant_reply_shown",
			file: "anthropic",
			want: []string{"Endless grey silk, stitched by gulls to a restless sky.", "I'll check the weather in Paris.", "**Tool call** `get_weather` · id `toolu_01A09q90qw90lq917835lq9`", "a fine day for a walk along the Seine"},
		},
		{
			name: "reasoning_content_shown_streamed_and_not",
			file: "chat_reasoning",
			want: []string{"Compare the tenths digits: 9.11 has 1, 9.9 has 9.", "Compare 9.11 and 9.9: the tenths digit 1 < 9, so 9.11 is smaller.", "User asks for a haiku; count 5-7-5."},
		},
		{
			name:    "n2_choices_kept_apart",
			file:    "chat_n2",
			want:    []string{"### Assistant · answer 1 of 2\n\nRed apples.\n", "### Assistant · answer 2 of 2\n\nBlueberries!\n", "Joyful.", "Cheerful."},
			notWant: []string{"Red Blue", "applesberries"},
		},
		{
			name:    "line_separators_in_deltas_kept",
			file:    "chat_linesep",
			want:    []string{"before\u2028after and\u0085next end", "one\u2028two\u2029three\u0085four"},
			notWant: []string{"before  after"},
		},
		{
			name: "nested_code_fences_do_not_break_the_document",
			file: "chat_fence",
			// checkDocument (run on every golden) proves the structure;
			// these are the blocks themselves.
			want: []string{"````markdown\n```python\nprint(\"hi\")\n```\n````", "```python\ndef f():\n    return 1\n```", "  sleep\n```\n\n*Finish reason: length*", "````text\nUse <details> to fold text:"},
		},
		{
			name:    "tool_message_shown_once_with_its_call_id",
			file:    "chat_tool_conversation",
			want:    []string{"### Tool result · `get_weather` · call [`call_P4r1s`]"},
			notWant: []string{"### Tool\n", "Tool Result: `tool`"},
		},
		{
			name:    "image_data_url_not_inline",
			file:    "chat_media",
			want:    []string{"[image: image/png, 12.3 KB]", "[audio: audio/wav, 44 B]", "[file: report.pdf, application/pdf, 48 B]"},
			notWant: []string{"base64", "iVBOR", "UklGR", "JVBER", `"image_url"`},
		},
		{
			name:    "history_not_repeated_each_turn",
			file:    "chat_interleaved",
			want:    []string{"↪ Continues ["},
			notWant: nil, // counted in TestThreadingInterleaved
		},
		{
			name: "http_errors_model_usage_finish_status_and_request_time_shown",
			file: "errors",
			want: []string{
				"## 2026-01-01 00:00:00.000 UTC · `POST /v1/chat/completions` · gpt-4o-mini · ⚠ 429",
				"> ⚠ **HTTP 429** `tokens` `rate_limit_exceeded`: Rate limit reached for gpt-4o-mini",
				"> ⚠ **HTTP 500** `server_error`: The server had an error",
				"> ⚠ **HTTP 529** `overloaded_error`: Overloaded",
				"19 in / 15 out tokens",
				"⚠ upstream_aborted", "Prince Hamlet feigns madness to avenge",
				"⚠ client_cancelled", "Once upon",
			},
		},
		{
			name: "finish_reason_shown_when_it_matters",
			file: "chat_basic",
			want: []string{"The quick brown fox jumps over\n\n*Finish reason: length*"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			md := renderFile(t, tc.file, tc.opts)
			for _, s := range tc.want {
				if !strings.Contains(md, s) {
					t.Errorf("missing %q", s)
				}
			}
			for _, s := range tc.notWant {
				if strings.Contains(md, s) {
					t.Errorf("has %q", s)
				}
			}
		})
	}
}

func TestOptions(t *testing.T) {
	t.Run("no-system", func(t *testing.T) {
		md := renderFile(t, "chat_tool_conversation", markdown.Options{NoSystem: true})
		if strings.Contains(md, "### System") || strings.Contains(md, "travel assistant") {
			t.Errorf("system message shown")
		}
		if !strings.Contains(md, "What's the weather in Paris and Tokyo?") {
			t.Errorf("user message missing")
		}
	})
	t.Run("no-reasoning", func(t *testing.T) {
		md := renderFile(t, "chat_reasoning", markdown.Options{NoReasoning: true})
		if strings.Contains(md, "<details>") || strings.Contains(md, "tenths") {
			t.Errorf("reasoning shown")
		}
		if !strings.Contains(md, "9.11 is smaller than 9.9.") {
			t.Errorf("answer missing")
		}
	})
	t.Run("max-chars", func(t *testing.T) {
		md := renderFile(t, "chat_tool_conversation", markdown.Options{MaxChars: 10})
		for _, s := range []string{"Paris: 18 \n\n*[… 38 more characters clipped]*", "What's the\n\n*[… 28 more characters clipped]*"} {
			if !strings.Contains(md, s) {
				t.Errorf("missing %q in\n%s", s, md)
			}
		}
		if err := checkDocument([]byte(md)); err != nil {
			t.Error(err)
		}
	})
}

// TestInvalidUTF8 feeds strings that are not UTF-8 (as fastjson can decode
// from lone surrogate escapes) and control characters through every field.
func TestInvalidUTF8(t *testing.T) {
	bad := "a\xffb\xed\xa0\x80c\x1b[2Jd\r"
	ex := &provider.Exchange{
		Model:    bad,
		Request:  []provider.Message{{Role: bad, Name: bad, Parts: []provider.Part{{Kind: provider.PartText, Text: bad}, {Kind: provider.PartImage, MediaType: bad, URL: bad}}}},
		Tools:    []provider.Tool{{Name: bad}},
		Response: []provider.Message{{Role: "assistant", Reasoning: bad, Refusal: bad, FinishReason: bad, ToolCalls: []provider.ToolCall{{ID: bad, Name: bad, Arguments: bad}}}},
		Error:    &provider.APIError{Type: bad, Message: bad},
		Summary:  bad,
		Usage:    &provider.Usage{Input: 1},
	}
	var out bytes.Buffer
	must(t, markdown.New(&out, markdown.Options{}).Render(view(t, bad), ex))
	if !utf8.Valid(out.Bytes()) {
		t.Errorf("invalid UTF-8 out:\n%q", out.String())
	}
	if err := checkDocument(out.Bytes()); err != nil {
		t.Errorf("%v:\n%s", err, out.String())
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteError(t *testing.T) {
	err := markdown.New(failWriter{}, markdown.Options{}).Render(view(t, "x"), nil)
	if err == nil || err.Error() != "disk full" {
		t.Errorf("Render = %v, want the writer's error", err)
	}
}

// TestTimeToFirstToken: the heading shows the arrival time of the chunk
// that holds the first content event (record.View.TickMS), and falls back
// to the time to first byte when it cannot be known.
func TestTimeToFirstToken(t *testing.T) {
	for _, tc := range []struct {
		name     string
		response string
		offset   int64
		want     string
	}{
		{"inside a later chunk", `"timing":[[0,100],[50,150.5],[120,200]]`, 60, "· TTFT 150 ms"},
		{"at a chunk start", `"timing":[[0,100],[50,150],[120,200]]`, 120, "· TTFT 200 ms"},
		{"first chunk", `"timing":[[0,100],[50,150]]`, 0, "· TTFT 100 ms"},
		{"unknown offset", `"timing":[[0,100],[50,150]]`, -1, "· TTFB 87 ms"},
		{"no timing", `"body_bytes":5`, 3, "· TTFB 87 ms"},
		{"decoded body: offsets count wire bytes", `"content_encoding":"gzip","timing":[[0,100],[50,150]]`, 60, "· TTFB 87 ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p fastjson.Parser
			v, err := p.Parse(`{"v":1,"id":"x","duration_ms":300,"ttfb_ms":87.1,"method":"POST","path":"/v1/chat/completions","response":{"status":200,` + tc.response + `}}`)
			if err != nil {
				t.Fatal(err)
			}
			rv, err := record.NewView(v)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			must(t, markdown.New(&out, markdown.Options{}).Render(rv, &provider.Exchange{FirstTokenOffset: tc.offset}))
			heading, _, _ := strings.Cut(strings.SplitN(out.String(), "\n\n", 3)[1], "\n")
			if !strings.Contains(heading, tc.want) {
				t.Errorf("heading %q lacks %q", heading, tc.want)
			}
		})
	}
}
