package main

import (
	"strconv"
	"strings"

	"github.com/llmtap/llmtap/internal/fakeupstream"
)

// The scenarios: one testdata file each. Request bodies are what the SDKs
// send; answers are modelled on captures of the real services (ids,
// fingerprints and signatures are made up).

const (
	bearer = "Bearer sk-proj-test0123456789abcdefWXYZ"

	weatherTool = `{"type":"function","function":{"name":"get_weather","description":"Get the current weather in a city.","parameters":{"type":"object","properties":{"city":{"type":"string","description":"City name, e.g. Paris"}},"required":["city"],"additionalProperties":false},"strict":true}}`
	timeTool    = `{"type":"function","function":{"name":"get_time","description":"Get the local time in a city.","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}`
)

var auth = map[string]string{"Authorization": bearer}

func scenarios() []scenario {
	return []scenario{
		chatBasic(), chatTools(), chatReasoning(), chatN2(), chatFence(), chatLinesep(),
		chatMedia(), chatToolConversation(), chatInterleaved(), completions(),
		responses(), anthropic(), gemini(), otherEndpoints(), errorsScenario(), unreachable(),
	}
}

func chatBasic() scenario {
	// A chunk cut inside "こ" (3 bytes) and another cut mid-JSON, as TCP
	// may deliver them.
	stream := chatStream("chatcmpl-BbHk2xQq", "gpt-4o-mini-2024-07-18",
		textDeltas([]string{"Bonjour", " !", " In Japanese:", " こんにちは", "！"}, "stop"), usage(16, 12, 0, 0))
	var chunks []string
	for _, c := range stream {
		if i := strings.Index(c, "こんにちは"); i >= 0 {
			chunks = append(chunks, split(c, i+1)...)
		} else if i := strings.Index(c, `" !"`); i >= 0 {
			chunks = append(chunks, split(c, i+2)...)
		} else {
			chunks = append(chunks, c)
		}
	}
	var sloppy []string
	for _, p := range []string{"The", " quick", " brown", " fox", " jumps", " over"} {
		// Some local servers repeat the role in every chunk and send no usage.
		sloppy = append(sloppy, chatChunk("chatcmpl-local-7", "llama-3.1-8b-instruct", choice(0, `{"role":"assistant","content":`+q(p)+`}`, ""), "null"))
	}
	sloppy = append(sloppy, chatChunk("chatcmpl-local-7", "llama-3.1-8b-instruct", choice(0, `{"role":"assistant","content":""}`, "length"), "null"), data("[DONE]"))
	return scenario{name: "chat_basic", steps: []step{
		{
			path: "/v1/chat/completions", header: auth,
			body: `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a concise assistant."},{"role":"user","content":"Name three primary colours."}],"temperature":0.2}`,
			answer: openAIJSON(chatCompletion("chatcmpl-BbHjR4mT", "gpt-4o-mini-2024-07-18",
				message(0, `{"role":"assistant","content":"Red, yellow and blue — the traditional (RYB) primaries. For light it is red, green and blue.","refusal":null,"annotations":[]}`, "stop"),
				usage(24, 23, 0, 0))),
		},
		{
			path: "/v1/chat/completions", header: auth,
			body:   `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Say hello in French and Japanese."}]}`,
			answer: sseAnswer(chunks, openAIHeaders...),
		},
		{
			path:   "/v1/chat/completions",
			body:   `{"model":"llama-3.1-8b-instruct","stream":true,"max_tokens":6,"messages":[{"role":"user","content":"Finish the sentence: The quick brown fox"}]}`,
			answer: sseAnswer(sloppy),
		},
	}}
}

func chatTools() scenario {
	// One call, its arguments streamed in pieces (OpenAI).
	one := chatStream("chatcmpl-BbTool1", "gpt-4o-2024-08-06", []string{
		choice(0, `{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_Vx9kPq2LmN","type":"function","function":{"name":"get_weather","arguments":""}}],"refusal":null}`, ""),
		choice(0, `{"tool_calls":[{"index":0,"function":{"arguments":"{\""}}]}`, ""),
		choice(0, `{"tool_calls":[{"index":0,"function":{"arguments":"city"}}]}`, ""),
		choice(0, `{"tool_calls":[{"index":0,"function":{"arguments":"\":\""}}]}`, ""),
		choice(0, `{"tool_calls":[{"index":0,"function":{"arguments":"Zü"}}]}`, ""),
		choice(0, `{"tool_calls":[{"index":0,"function":{"arguments":"rich\"}"}}]}`, ""),
		choice(0, `{}`, "tool_calls"),
	}, usage(82, 17, 0, 0))
	// Parallel calls that all carry index 0 and differ only by a new id,
	// as some local servers send them.
	par := chatStream("chatcmpl-qwen-31", "qwen2.5-7b-instruct", []string{
		choice(0, `{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_a1","type":"function","function":{"name":"get_weather","arguments":""}}]}`, ""),
		choice(0, `{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\": "}}]}`, ""),
		choice(0, `{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}`, ""),
		choice(0, `{"tool_calls":[{"index":0,"id":"call_b2","type":"function","function":{"name":"get_time","arguments":""}}]}`, ""),
		choice(0, `{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\": \"Tokyo\"}"}}]}`, ""),
		choice(0, `{}`, "tool_calls"),
	}, "")
	// Whole calls in single chunks, without an index.
	noIndex := chatStream("chatcmpl-ollama-5", "llama3.2", []string{
		choice(0, `{"role":"assistant","content":"","tool_calls":[{"id":"call_o1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]}`, ""),
		choice(0, `{"role":"assistant","content":"","tool_calls":[{"id":"call_o2","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Bergen\"}"}}]}`, ""),
		choice(0, `{"role":"assistant","content":""}`, "tool_calls"),
	}, "")
	return scenario{name: "chat_tools", steps: []step{
		{
			path: "/v1/chat/completions", header: auth,
			body:   `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Is it raining in Zürich?"}],"tools":[` + weatherTool + `],"tool_choice":"auto"}`,
			answer: sseAnswer(one, openAIHeaders...),
		},
		{
			path:   "/v1/chat/completions",
			body:   `{"model":"qwen2.5-7b-instruct","stream":true,"messages":[{"role":"user","content":"Weather in Paris and the time in Tokyo?"}],"tools":[` + weatherTool + `,` + timeTool + `],"parallel_tool_calls":true}`,
			answer: sseAnswer(par),
		},
		{
			path:   "/v1/chat/completions",
			body:   `{"model":"llama3.2","stream":true,"messages":[{"role":"user","content":"Weather in Oslo and Bergen?"}],"tools":[` + weatherTool + `]}`,
			answer: sseAnswer(noIndex),
		},
	}}
}

func chatReasoning() scenario {
	var deltas []string
	deltas = append(deltas, choice(0, `{"role":"assistant","content":null,"reasoning_content":""}`, ""))
	for _, p := range []string{"Compare", " 9.11", " and 9.9:", " the tenths", " digit 1 < 9,", " so 9.11 is smaller."} {
		deltas = append(deltas, choice(0, `{"content":null,"reasoning_content":`+q(p)+`}`, ""))
	}
	for _, p := range []string{"9.11", " is smaller", " than 9.9."} {
		deltas = append(deltas, choice(0, `{"content":`+q(p)+`,"reasoning_content":null}`, ""))
	}
	deltas = append(deltas, choice(0, `{"content":"","reasoning_content":null}`, "stop"))
	stream := chatStream("0f8e2a5c-reasoner", "deepseek-reasoner", deltas, "")
	// The usage rides on the last chunk with choices (DeepSeek), not on a chunk of its own.
	stream[len(stream)-2] = chatChunk("0f8e2a5c-reasoner", "deepseek-reasoner", deltas[len(deltas)-1], usage(19, 61, 0, 48))

	var gpt []string
	for _, p := range []string{"User asks", " for a haiku;", " count 5-7-5."} {
		gpt = append(gpt, choice(0, `{"role":"assistant","content":"","reasoning":`+q(p)+`}`, ""))
	}
	for _, p := range []string{"Autumn moonlight—\n", "a worm digs silently\n", "into the chestnut."} {
		gpt = append(gpt, choice(0, `{"role":"assistant","content":`+q(p)+`}`, ""))
	}
	gpt = append(gpt, choice(0, `{}`, "stop"))
	return scenario{name: "chat_reasoning", steps: []step{
		{
			path: "/v1/chat/completions", header: auth,
			body: `{"model":"deepseek-reasoner","messages":[{"role":"user","content":"Which is smaller, 9.11 or 9.9?"}]}`,
			answer: openAIJSON(chatCompletion("c1a7-reasoner", "deepseek-reasoner",
				message(0, `{"role":"assistant","content":"9.11 is smaller than 9.9.","reasoning_content":"Compare the tenths digits: 9.11 has 1, 9.9 has 9. Since 1 < 9, 9.11 < 9.9."}`, "stop"),
				usage(19, 52, 0, 38))),
		},
		{
			path: "/v1/chat/completions", header: auth,
			body:   `{"model":"deepseek-reasoner","stream":true,"messages":[{"role":"user","content":"Which is smaller, 9.11 or 9.9? Think it through."}]}`,
			answer: sseAnswer(stream),
		},
		{
			path:   "/v1/chat/completions",
			body:   `{"model":"openai/gpt-oss-20b","stream":true,"messages":[{"role":"user","content":"Write a haiku about autumn."}]}`,
			answer: sseAnswer(chatStream("gen-1767225600-oss", "openai/gpt-oss-20b", gpt, usage(14, 31, 0, 9))),
		},
	}}
}

func chatN2() scenario {
	// Two choices interleaved: a reader that keys choices by their
	// position in the array, not by their index, prints
	// "Red Blue applesberries.!".
	stream := chatStream("chatcmpl-n2", "gpt-4o-mini-2024-07-18", []string{
		choice(0, `{"role":"assistant","content":"","refusal":null}`, ""),
		choice(1, `{"role":"assistant","content":"","refusal":null}`, ""),
		choice(0, `{"content":"Red"}`, ""),
		choice(1, `{"content":"Blue"}`, ""),
		choice(0, `{"content":" apples"}`, ""),
		choice(1, `{"content":"berries"}`, ""),
		choice(0, `{"content":"."}`, ""),
		choice(1, `{"content":"!"}`, ""),
		choice(0, `{}`, "stop"),
		choice(1, `{}`, "stop"),
	}, usage(13, 8, 0, 0))
	return scenario{name: "chat_n2", steps: []step{
		{
			path: "/v1/chat/completions", header: auth,
			body:   `{"model":"gpt-4o-mini","n":2,"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Name a fruit with a colour, in two words."}]}`,
			answer: sseAnswer(stream, openAIHeaders...),
		},
		{
			path: "/v1/chat/completions", header: auth,
			body: `{"model":"gpt-4o-mini","n":2,"messages":[{"role":"user","content":"One word for happy?"}]}`,
			answer: openAIJSON(chatCompletion("chatcmpl-n2json", "gpt-4o-mini-2024-07-18",
				message(0, `{"role":"assistant","content":"Joyful.","refusal":null,"annotations":[]}`, "stop")+","+
					message(1, `{"role":"assistant","content":"Cheerful.","refusal":null,"annotations":[]}`, "stop"),
				usage(12, 6, 0, 0))),
		},
	}}
}

func chatFence() scenario {
	nested := "Here is how to show a fenced block inside Markdown:\n\n````markdown\n```python\nprint(\"hi\")\n```\n````\n\nWrap code in ``` fences."
	cut := chatStream("chatcmpl-cut", "gpt-4o-mini-2024-07-18", textDeltas([]string{
		"Run this:\n\n", "```", "bash\n", "for i in 1 2 3; do\n", "  echo \"$i\"\n", "  sleep",
	}, "length"), usage(20, 24, 0, 0))
	html := "Use <details> to fold text:\n\n<details><summary>More</summary>\n\nHidden ``` text\n</details>\n\n<!-- a comment that never ends"
	return scenario{name: "chat_fence", steps: []step{
		{
			path: "/v1/chat/completions", header: auth,
			body: `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"How do I put a code fence inside a code block?"}]}`,
			answer: openAIJSON(chatCompletion("chatcmpl-fence1", "gpt-4o-mini-2024-07-18",
				message(0, `{"role":"assistant","content":`+q(nested)+`,"refusal":null,"annotations":[]}`, "stop"), usage(18, 40, 0, 0))),
		},
		{
			path: "/v1/chat/completions", header: auth,
			body: `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"A Python function returning 1, please."}]}`,
			answer: sseAnswer(chatStream("chatcmpl-fence2", "gpt-4o-mini-2024-07-18", textDeltas([]string{
				"```", "python\n", "def f():\n", "    return 1\n", "```", "\n\nDone.",
			}, "stop"), ""), openAIHeaders...),
		},
		{
			path: "/v1/chat/completions", header: auth,
			body:   `{"model":"gpt-4o-mini","stream":true,"max_tokens":24,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"A bash loop over 1 2 3 with a pause."}]}`,
			answer: sseAnswer(cut, openAIHeaders...),
		},
		{
			path: "/v1/chat/completions", header: auth,
			body: `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"How do I fold text in GitHub Markdown?"}]}`,
			answer: openAIJSON(chatCompletion("chatcmpl-fence4", "gpt-4o-mini-2024-07-18",
				message(0, `{"role":"assistant","content":`+q(html)+`,"refusal":null,"annotations":[]}`, "stop"), usage(16, 44, 0, 0))),
		},
	}}
}

func chatLinesep() scenario {
	// Deltas holding U+2028 or U+0085 vanish in a reader that splits SSE
	// lines with Python's str.splitlines().
	stream := chatStream("chatcmpl-ls", "gpt-4o-mini-2024-07-18", textDeltas([]string{
		"before", "\u2028", "after", " and\u0085next", " end",
	}, "stop"), "")
	return scenario{name: "chat_linesep", steps: []step{
		{
			path: "/v1/chat/completions", header: auth,
			body:   `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Echo with separators."}]}`,
			answer: sseAnswer(stream, openAIHeaders...),
		},
		{
			path: "/v1/chat/completions", header: auth,
			body: `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Line\u2028separator in JSON too."}]}`,
			answer: openAIJSON(chatCompletion("chatcmpl-ls2", "gpt-4o-mini-2024-07-18",
				message(0, `{"role":"assistant","content":"one\u2028two\u2029three\u0085four","refusal":null,"annotations":[]}`, "stop"), usage(12, 7, 0, 0))),
		},
	}}
}

func chatMedia() scenario {
	img := pngDataURL(12300)
	wav := "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQAAAAA=" // a 44-byte empty WAV
	pdf := "data:application/pdf;base64,JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFI+PgpzdHJlYW0K"
	return scenario{name: "chat_media", steps: []step{
		{
			path: "/v1/chat/completions", header: auth,
			body: `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"What is in this image, and what does the report say?"},{"type":"image_url","image_url":{"url":"` + img + `","detail":"high"}},{"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}},{"type":"input_audio","input_audio":{"data":"` + wav + `","format":"wav"}},{"type":"file","file":{"filename":"report.pdf","file_data":"` + pdf + `"}}]}],"max_tokens":300}`,
			answer: openAIJSON(chatCompletion("chatcmpl-img", "gpt-4o-2024-08-06",
				message(0, `{"role":"assistant","content":"A 64×64 test pattern; the second image is a cat; the audio is silent; the report is empty.","refusal":null,"annotations":[]}`, "stop"),
				usage(1123, 25, 1024, 0))),
		},
	}}
}

func chatToolConversation() scenario {
	sys := `{"role":"system","content":"You are a travel assistant. Use tools for live data."}`
	user1 := `{"role":"user","content":"What's the weather in Paris and Tokyo?"}`
	calls := `{"role":"assistant","content":null,"tool_calls":[{"id":"call_P4r1s","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},{"id":"call_T0ky0","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Tokyo\"}"}}],"refusal":null,"annotations":[]}`
	// The SDK sends the assistant message back as it came, less the null fields.
	callsBack := `{"role":"assistant","tool_calls":[{"id":"call_P4r1s","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},{"id":"call_T0ky0","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Tokyo\"}"}}]}`
	results := `{"role":"tool","tool_call_id":"call_P4r1s","content":"{\"temp_c\":18,\"sky\":\"sunny\"}"},{"role":"tool","tool_call_id":"call_T0ky0","content":"{\"temp_c\":22,\"sky\":\"cloudy\"}"}`
	answer2 := "Paris: 18 °C and sunny. Tokyo: 22 °C and cloudy."
	user3 := `{"role":"user","content":"Which one is warmer?"}`
	tools := `[` + weatherTool + `]`
	return scenario{name: "chat_tool_conversation", steps: []step{
		{
			path: "/v1/chat/completions", header: auth,
			body: `{"model":"gpt-4o","messages":[` + sys + `,` + user1 + `],"tools":` + tools + `}`,
			answer: openAIJSON(chatCompletion("chatcmpl-turn1", "gpt-4o-2024-08-06",
				message(0, calls, "tool_calls"), usage(96, 46, 0, 0))),
		},
		{
			path: "/v1/chat/completions", header: auth,
			body: `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[` + sys + `,` + user1 + `,` + callsBack + `,` + results + `],"tools":` + tools + `}`,
			answer: sseAnswer(chatStream("chatcmpl-turn2", "gpt-4o-2024-08-06",
				textDeltas([]string{"Paris: 18 °C", " and sunny.", " Tokyo: 22 °C", " and cloudy."}, "stop"), usage(171, 18, 0, 0)), openAIHeaders...),
		},
		{
			path: "/v1/chat/completions", header: auth,
			body: `{"model":"gpt-4o","messages":[` + sys + `,` + user1 + `,` + callsBack + `,` + results + `,{"role":"assistant","content":` + q(answer2) + `},` + user3 + `],"tools":` + tools + `}`,
			answer: openAIJSON(chatCompletion("chatcmpl-turn3", "gpt-4o-2024-08-06",
				message(0, `{"role":"assistant","content":"Tokyo, by 4 °C.","refusal":null,"annotations":[]}`, "stop"), usage(201, 7, 128, 0))),
		},
	}}
}

func chatInterleaved() scenario {
	chefSys := `{"role":"system","content":"You are a chef."}`
	a1 := `{"role":"user","content":"Give me a quick pasta idea."}`
	a1r := "Aglio e olio: spaghetti, garlic, olive oil, chilli and parsley."
	a2 := `{"role":"user","content":"How long does it take?"}`
	a2r := "About 15 minutes."
	b1 := `{"role":"user","content":"What is 12 × 12?"}`
	b2 := `{"role":"user","content":"And 13 × 13?"}`
	ans := func(id, text string, n int) fakeupstream.Canned {
		return openAIJSON(chatCompletion(id, "gpt-4o-mini-2024-07-18",
			message(0, `{"role":"assistant","content":`+q(text)+`,"refusal":null,"annotations":[]}`, "stop"), usage(20+10*n, 9, 0, 0)))
	}
	streamed := func(id string, pieces ...string) fakeupstream.Canned {
		return sseAnswer(chatStream(id, "gpt-4o-mini-2024-07-18", textDeltas(pieces, "stop"), usage(14, 3, 0, 0)), openAIHeaders...)
	}
	return scenario{name: "chat_interleaved", steps: []step{
		{path: "/v1/chat/completions", header: auth, answer: ans("chatcmpl-a1", a1r, 0),
			body: `{"model":"gpt-4o-mini","messages":[` + chefSys + `,` + a1 + `]}`},
		{path: "/v1/chat/completions", header: auth, answer: streamed("chatcmpl-b1", "12 × 12", " = 144."),
			body: `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[` + b1 + `]}`},
		{path: "/v1/chat/completions", header: auth, answer: ans("chatcmpl-a2", a2r, 1),
			body: `{"model":"gpt-4o-mini","messages":[` + chefSys + `,` + a1 + `,{"role":"assistant","content":` + q(a1r) + `},` + a2 + `]}`},
		{path: "/v1/chat/completions", header: auth, answer: streamed("chatcmpl-b2", "13 × 13", " = 169."),
			body: `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[` + b1 + `,{"role":"assistant","content":"12 × 12 = 144."},` + b2 + `]}`},
		{path: "/v1/chat/completions", header: auth, answer: ans("chatcmpl-a3", "Buon appetito!", 2),
			body: `{"model":"gpt-4o-mini","messages":[` + chefSys + `,` + a1 + `,{"role":"assistant","content":` + q(a1r) + `},` + a2 + `,{"role":"assistant","content":` + q(a2r) + `},{"role":"user","content":"Thanks!"}]}`},
	}}
}

func completions() scenario {
	chunk := func(text, finish string) string {
		f := "null"
		if finish != "" {
			f = `"` + finish + `"`
		}
		return data(`{"id":"cmpl-Bc9sT","object":"text_completion","created":` + created + `,"choices":[{"text":` + q(text) + `,"index":0,"logprobs":null,"finish_reason":` + f + `}],"model":"gpt-3.5-turbo-instruct"}`)
	}
	var stream []string
	for _, p := range []string{" there", " was", " a", " lighthouse"} {
		stream = append(stream, chunk(p, ""))
	}
	stream = append(stream, chunk(" keeper", "length"), data("[DONE]"))
	return scenario{name: "completions", steps: []step{
		{
			path: "/v1/completions", header: auth,
			body:   `{"model":"gpt-3.5-turbo-instruct","prompt":"Say this is a test","max_tokens":7,"temperature":0}`,
			answer: openAIJSON(`{"id":"cmpl-Bc9rA","object":"text_completion","created":` + created + `,"model":"gpt-3.5-turbo-instruct","choices":[{"text":"\n\nThis is a test.","index":0,"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":6,"total_tokens":11}}`),
		},
		{
			path: "/v1/completions", header: auth,
			body:   `{"model":"gpt-3.5-turbo-instruct","prompt":"Once upon a time","max_tokens":5,"stream":true}`,
			answer: sseAnswer(stream, openAIHeaders...),
		},
	}}
}

func responses() scenario {
	tool := `{"type":"function","name":"get_weather","description":"Get the current weather in a city.","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false},"strict":true}`
	call := `{"id":"fc_68c1a2b3","type":"function_call","status":"completed","arguments":"{\"city\":\"Paris\"}","call_id":"call_R3sP4ris","name":"get_weather"}`
	resp := func(id, status, output, usage string) string {
		return `{"id":"` + id + `","object":"response","created_at":` + created + `,"status":"` + status + `","background":false,"error":null,"incomplete_details":null,"instructions":"You are a weather bot.","max_output_tokens":null,"model":"gpt-4.1-2025-04-14","output":[` + output + `],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":true,"temperature":1.0,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[` + tool + `],"top_p":1.0,"truncation":"disabled","usage":` + usage + `,"user":null,"metadata":{}}`
	}
	rusage := func(in, out, cached, reasoning int) string {
		return `{"input_tokens":` + itoa(in) + `,"input_tokens_details":{"cached_tokens":` + itoa(cached) + `},"output_tokens":` + itoa(out) + `,"output_tokens_details":{"reasoning_tokens":` + itoa(reasoning) + `},"total_tokens":` + itoa(in+out) + `}`
	}
	msg := `{"id":"msg_68c1a2c4","type":"message","status":"completed","content":[{"type":"output_text","annotations":[],"logprobs":[],"text":"It is 18 °C and sunny in Paris."}],"role":"assistant"}`

	// A streamed answer from a reasoning model: a reasoning summary, then a
	// function call.
	n := 0
	ev := func(name, body string) string {
		n++
		return event(name, `{"type":"`+name+`","sequence_number":`+itoa(n-1)+`,`+body+`}`)
	}
	sresp := func(status, output, usage string) string {
		return `{"id":"resp_68c1b0","object":"response","created_at":` + created + `,"status":"` + status + `","error":null,"instructions":null,"model":"o4-mini-2025-04-16","output":[` + output + `],"reasoning":{"effort":"medium","summary":"auto"},"tools":[` + strings.Replace(tool, "get_weather", "is_prime", 1) + `],"usage":` + usage + `}`
	}
	summary := []string{"**Checking primality**\n\n", "The user asks whether 2^31−1 is prime;", " I should call is_prime", " rather than guess."}
	var s1 []string
	s1 = append(s1,
		ev("response.created", `"response":`+sresp("in_progress", "", "null")),
		ev("response.in_progress", `"response":`+sresp("in_progress", "", "null")),
		ev("response.output_item.added", `"output_index":0,"item":{"id":"rs_68c1b1","type":"reasoning","summary":[]}`),
		ev("response.reasoning_summary_part.added", `"item_id":"rs_68c1b1","output_index":0,"summary_index":0,"part":{"type":"summary_text","text":""}`))
	for _, p := range summary {
		s1 = append(s1, ev("response.reasoning_summary_text.delta", `"item_id":"rs_68c1b1","output_index":0,"summary_index":0,"delta":`+q(p)+`,"obfuscation":"x1"`))
	}
	full := strings.Join(summary, "")
	rsItem := `{"id":"rs_68c1b1","type":"reasoning","summary":[{"type":"summary_text","text":` + q(full) + `}]}`
	fcItem := `{"id":"fc_68c1b2","type":"function_call","status":"completed","arguments":"{\"n\":2147483647}","call_id":"call_Pr1m3","name":"is_prime"}`
	s1 = append(s1,
		ev("response.reasoning_summary_text.done", `"item_id":"rs_68c1b1","output_index":0,"summary_index":0,"text":`+q(full)),
		ev("response.reasoning_summary_part.done", `"item_id":"rs_68c1b1","output_index":0,"summary_index":0,"part":{"type":"summary_text","text":`+q(full)+`}`),
		ev("response.output_item.done", `"output_index":0,"item":`+rsItem),
		ev("response.output_item.added", `"output_index":1,"item":{"id":"fc_68c1b2","type":"function_call","status":"in_progress","arguments":"","call_id":"call_Pr1m3","name":"is_prime"}`))
	for _, p := range []string{`{"`, `n":`, `2147`, `483647`, `}`} {
		s1 = append(s1, ev("response.function_call_arguments.delta", `"item_id":"fc_68c1b2","output_index":1,"delta":`+q(p)+`,"obfuscation":"y2"`))
	}
	s1 = append(s1,
		ev("response.function_call_arguments.done", `"item_id":"fc_68c1b2","output_index":1,"arguments":"{\"n\":2147483647}"`),
		ev("response.output_item.done", `"output_index":1,"item":`+fcItem),
		ev("response.completed", `"response":`+sresp("completed", rsItem+","+fcItem, rusage(74, 210, 0, 192))))

	// The next turn, streamed text.
	n = 0
	var s2 []string
	answer := []string{"Yes:", " 2^31−1 = 2,147,483,647", " is a Mersenne prime."}
	s2 = append(s2,
		ev("response.created", `"response":`+sresp("in_progress", "", "null")),
		ev("response.output_item.added", `"output_index":0,"item":{"id":"msg_68c1c0","type":"message","status":"in_progress","content":[],"role":"assistant"}`),
		ev("response.content_part.added", `"item_id":"msg_68c1c0","output_index":0,"content_index":0,"part":{"type":"output_text","annotations":[],"logprobs":[],"text":""}`))
	for _, p := range answer {
		s2 = append(s2, ev("response.output_text.delta", `"item_id":"msg_68c1c0","output_index":0,"content_index":0,"delta":`+q(p)+`,"logprobs":[]`))
	}
	text := strings.Join(answer, "")
	outMsg := `{"id":"msg_68c1c0","type":"message","status":"completed","content":[{"type":"output_text","annotations":[],"logprobs":[],"text":` + q(text) + `}],"role":"assistant"}`
	s2 = append(s2,
		ev("response.output_text.done", `"item_id":"msg_68c1c0","output_index":0,"content_index":0,"text":`+q(text)+`,"logprobs":[]`),
		ev("response.content_part.done", `"item_id":"msg_68c1c0","output_index":0,"content_index":0,"part":{"type":"output_text","annotations":[],"logprobs":[],"text":`+q(text)+`}`),
		ev("response.output_item.done", `"output_index":0,"item":`+outMsg),
		ev("response.completed", `"response":`+sresp("completed", outMsg, rusage(310, 18, 256, 0))))

	// A stream that fails.
	n = 0
	failed := []string{
		ev("response.created", `"response":`+sresp("in_progress", "", "null")),
		ev("response.failed", `"response":{"id":"resp_68c1d0","object":"response","status":"failed","error":{"code":"server_error","message":"The model failed to generate a response."},"model":"o4-mini-2025-04-16","output":[],"usage":null}`),
	}

	primeInput := `{"role":"user","content":"Is 2^31-1 prime?"}`
	primeTools := `[` + strings.Replace(tool, "get_weather", "is_prime", 1) + `]`
	return scenario{name: "responses", steps: []step{
		{
			path: "/v1/responses", header: auth,
			body:   `{"model":"gpt-4.1","instructions":"You are a weather bot.","input":[{"role":"user","content":"Weather in Paris?"}],"tools":[` + tool + `]}`,
			answer: openAIJSON(resp("resp_68c1a2", "completed", call, rusage(61, 17, 0, 0))),
		},
		{
			path: "/v1/responses", header: auth,
			body:   `{"model":"gpt-4.1","instructions":"You are a weather bot.","input":[{"role":"user","content":"Weather in Paris?"},` + call + `,{"type":"function_call_output","call_id":"call_R3sP4ris","output":"{\"temp_c\":18,\"sky\":\"sunny\"}"}],"tools":[` + tool + `]}`,
			answer: openAIJSON(resp("resp_68c1a3", "completed", msg, rusage(97, 13, 0, 0))),
		},
		{
			path: "/v1/responses", header: auth,
			body:   `{"model":"o4-mini","input":[` + primeInput + `],"reasoning":{"effort":"medium","summary":"auto"},"tools":` + primeTools + `,"stream":true}`,
			answer: sseAnswer(s1, openAIHeaders...),
		},
		{
			path: "/v1/responses", header: auth,
			body:   `{"model":"o4-mini","input":[` + primeInput + `,` + rsItem + `,` + fcItem + `,{"type":"function_call_output","call_id":"call_Pr1m3","output":"true"}],"reasoning":{"effort":"medium","summary":"auto"},"tools":` + primeTools + `,"stream":true}`,
			answer: sseAnswer(s2, openAIHeaders...),
		},
		{
			path: "/v1/responses", header: auth,
			body:   `{"model":"o4-mini","input":"Tell me a long story.","stream":true}`,
			answer: sseAnswer(failed, openAIHeaders...),
		},
	}}
}

func anthropic() scenario {
	hdr := map[string]string{"X-Api-Key": "sk-ant-api03-test0123456789-abcdAA", "Anthropic-Version": "2023-06-01"}
	ah := []string{"Request-Id", "req_011CT7xK9", "Anthropic-Organization-Id", "0e3b0c44-98fc-4c14-9af4-test"}
	tool := `{"name":"get_weather","description":"Get the current weather in a city.","input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}`
	thinking := []string{"The user wants the weather in Paris.", " I have a get_weather tool;", " I'll call it with city=Paris."}
	sig := "EqQBCkYIBxgCKkBexampleSignatureAAAA=="
	var s []string
	s = append(s,
		event("message_start", `{"type":"message_start","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":412,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":4,"service_tier":"standard"}}}`),
		event("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}`),
		event("ping", `{"type": "ping"}`))
	for _, p := range thinking {
		s = append(s, event("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":`+q(p)+`}}`))
	}
	s = append(s,
		event("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"`+sig+`"}}`),
		event("content_block_stop", `{"type":"content_block_stop","index":0}`),
		event("content_block_start", `{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}`),
		event("content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"I'll check the"}}`),
		event("content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":" weather in Paris."}}`),
		event("content_block_stop", `{"type":"content_block_stop","index":1}`),
		event("content_block_start", `{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_01A09q90qw90lq917835lq9","name":"get_weather","input":{}}}`),
		event("content_block_delta", `{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}`),
		event("content_block_delta", `{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Pa"}}`),
		event("content_block_delta", `{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"ris\"}"}}`),
		event("content_block_stop", `{"type":"content_block_stop","index":2}`),
		event("message_delta", `{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}`),
		event("message_stop", `{"type":"message_stop"}`))
	user := `{"role":"user","content":"What's the weather like in Paris?"}`
	assistant := `{"role":"assistant","content":[{"type":"thinking","thinking":` + q(strings.Join(thinking, "")) + `,"signature":"` + sig + `"},{"type":"text","text":"I'll check the weather in Paris."},{"type":"tool_use","id":"toolu_01A09q90qw90lq917835lq9","name":"get_weather","input":{"city":"Paris"}}]}`
	result := `{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01A09q90qw90lq917835lq9","content":[{"type":"text","text":"18 °C, sunny"}]}]}`
	return scenario{name: "anthropic", steps: []step{
		{
			path: "/v1/messages", header: hdr,
			body:   `{"model":"claude-haiku-4-5","max_tokens":1024,"system":[{"type":"text","text":"You are a poet. Answer in one line.","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"Describe the sea."}]}`,
			answer: jsonAnswer(200, `{"id":"msg_013Zva2CMHLNnXjNJJKqJ2EF","type":"message","role":"assistant","model":"claude-haiku-4-5-20251001","content":[{"type":"text","text":"Endless grey silk, stitched by gulls to a restless sky."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":3,"cache_creation_input_tokens":0,"cache_read_input_tokens":1204,"output_tokens":17,"service_tier":"standard"}}`, ah...),
		},
		{
			path: "/v1/messages", header: hdr,
			body:   `{"model":"claude-sonnet-4-5","max_tokens":2048,"stream":true,"thinking":{"type":"enabled","budget_tokens":1024},"tools":[` + tool + `],"messages":[` + user + `]}`,
			answer: sseAnswer(s, ah...),
		},
		{
			path: "/v1/messages", header: hdr,
			body:   `{"model":"claude-sonnet-4-5","max_tokens":2048,"thinking":{"type":"enabled","budget_tokens":1024},"tools":[` + tool + `],"messages":[` + user + `,` + assistant + `,` + result + `]}`,
			answer: jsonAnswer(200, `{"id":"msg_01Bx7sXb4tWv","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"It's 18 °C and sunny in Paris — a fine day for a walk along the Seine."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":530,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":24,"service_tier":"standard"}}`, ah...),
		},
	}}
}

func gemini() scenario {
	hdr := map[string]string{"X-Goog-Api-Key": "AIzaSyTest0123456789abcdefghijkLMNO"}
	gh := []string{"Server", "scaffolding on HTTPServer2", "Vary", "Origin, X-Origin, Referer"}
	decl := `{"functionDeclarations":[{"name":"get_weather","description":"Get the current weather in a city.","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}]}`
	user := `{"role":"user","parts":[{"text":"What's the weather in Paris?"}]}`
	model := `{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"CiQB0e2Kb1example"}]}`
	fresp := `{"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"temp_c":18,"sky":"sunny"}}}]}`
	// Gemini ends its events with CRLF CRLF.
	chunk := func(parts, extra string) string {
		return "data: {\"candidates\": [{\"content\": {\"parts\": [" + parts + "],\"role\": \"model\"}" + extra + ",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 58,\"totalTokenCount\": 58,\"promptTokensDetails\": [{\"modality\": \"TEXT\",\"tokenCount\": 58}]},\"modelVersion\": \"gemini-2.5-flash\",\"responseId\": \"aBcDeFgHiJkLmN\"}\r\n\r\n"
	}
	stream := []string{
		chunk(`{"text": "**Reading the tool result**\n\nThe function says 18 and sunny; report it.","thought": true}`, ""),
		chunk(`{"text": "It's 18 °C and"}`, ""),
		chunk(`{"text": " sunny in Paris."}`, ""),
		"data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"\"}],\"role\": \"model\"},\"finishReason\": \"STOP\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 58,\"candidatesTokenCount\": 11,\"totalTokenCount\": 102,\"thoughtsTokenCount\": 33,\"promptTokensDetails\": [{\"modality\": \"TEXT\",\"tokenCount\": 58}]},\"modelVersion\": \"gemini-2.5-flash\",\"responseId\": \"aBcDeFgHiJkLmN\"}\r\n\r\n",
	}
	return scenario{name: "gemini", steps: []step{
		{
			path: "/v1beta/models/gemini-2.5-flash:generateContent", header: hdr,
			body:   `{"systemInstruction":{"parts":[{"text":"You are a weather bot."}]},"contents":[` + user + `],"tools":[` + decl + `]}`,
			answer: jsonAnswer(200, "{\n  \"candidates\": [\n    {\n      \"content\": {\n        \"parts\": [\n          {\n            \"functionCall\": {\n              \"name\": \"get_weather\",\n              \"args\": {\n                \"city\": \"Paris\"\n              }\n            },\n            \"thoughtSignature\": \"CiQB0e2Kb1example\"\n          }\n        ],\n        \"role\": \"model\"\n      },\n      \"finishReason\": \"STOP\",\n      \"index\": 0\n    }\n  ],\n  \"usageMetadata\": {\n    \"promptTokenCount\": 41,\n    \"candidatesTokenCount\": 15,\n    \"totalTokenCount\": 104,\n    \"thoughtsTokenCount\": 48\n  },\n  \"modelVersion\": \"gemini-2.5-flash\",\n  \"responseId\": \"xYzAbCdEfGhIj\"\n}\n", gh...),
		},
		{
			path: "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", header: hdr,
			body:   `{"systemInstruction":{"parts":[{"text":"You are a weather bot."}]},"contents":[` + user + `,` + model + `,` + fresp + `],"tools":[` + decl + `],"generationConfig":{"thinkingConfig":{"includeThoughts":true}}}`,
			answer: sseAnswer(stream, gh...),
		},
	}}
}

func otherEndpoints() scenario {
	emb := `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.0023064255,-0.009327292,0.015797347,-0.0077780345,-0.0046922187,0.014984909,-0.010264426,-0.005863442]},{"object":"embedding","index":1,"embedding":[-0.012470211,0.0062337914,0.020143062,0.0019041587,-0.017765494,0.0087531395,0.0041216053,-0.013402175]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":9,"total_tokens":9}}`
	models := `{"object":"list","data":[{"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"system"},{"id":"gpt-4o-mini","object":"model","created":1721172741,"owned_by":"system"},{"id":"o4-mini","object":"model","created":1744225351,"owned_by":"system"},{"id":"text-embedding-3-small","object":"model","created":1705948997,"owned_by":"system"}]}`
	mp3 := "ID3\x04\x00\x00\x00\x00\x00#TSSE\x00\x00\x00\x0f\x00\x00\x03Lavf58.76.100\x00\xff\xfb\x90d\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xfe\x80"
	return scenario{name: "other_endpoints", steps: []step{
		{
			path: "/v1/embeddings", header: auth,
			body:   `{"model":"text-embedding-3-small","input":["The food was delicious.","The service was slow."],"dimensions":8,"encoding_format":"float"}`,
			answer: openAIJSON(emb),
		},
		{method: "GET", path: "/v1/models", header: auth, answer: openAIJSON(models)},
		{
			path: "/v1/audio/speech", header: auth,
			body:   `{"model":"gpt-4o-mini-tts","input":"Today is a wonderful day.","voice":"coral","response_format":"mp3"}`,
			answer: fakeupstream.Canned{Header: header("Content-Type", "audio/mpeg"), Chunks: []string{mp3}},
		},
		{
			path: "/v1/moderations", header: auth,
			body:   `{"model":"omni-moderation-latest","input":"I want to bake a cake."}`,
			answer: openAIJSON(`{"id":"modr-970d409e","model":"omni-moderation-latest","results":[{"flagged":false,"categories":{"harassment":false,"violence":false},"category_scores":{"harassment":0.0000127,"violence":0.0000231}}]}`),
		},
	}}
}

func errorsScenario() scenario {
	req := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Summarise the plot of Hamlet in one sentence."}]}`
	abort := chatStream("chatcmpl-abort", "gpt-4o-mini-2024-07-18", textDeltas([]string{"Prince Hamlet", " feigns madness", " to avenge"}, "stop"), "")
	abort = abort[:4] // the role and three deltas, then the connection drops
	hang := chatStream("chatcmpl-cancel", "gpt-4o-mini-2024-07-18", textDeltas([]string{"Once", " upon", " a time"}, "stop"), "")[:3]
	hangBytes := 0
	for _, c := range hang {
		hangBytes += len(c)
	}
	overloaded := []string{
		event("message_start", `{"type":"message_start","message":{"id":"msg_01Over","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}`),
		event("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`),
		event("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Sure, here"}}`),
		event("error", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`),
	}
	return scenario{name: "errors", steps: []step{
		{
			path: "/v1/chat/completions", header: auth, body: req,
			answer: jsonAnswer(429, `{"error":{"message":"Rate limit reached for gpt-4o-mini in organization org-test on tokens per min (TPM): Limit 200000, Used 199625, Requested 1042. Please try again in 200ms.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}`,
				"Retry-After", "1", "X-Ratelimit-Limit-Tokens", "200000", "X-Ratelimit-Remaining-Tokens", "375", "X-Request-Id", "req_429test"),
		},
		{
			path: "/v1/chat/completions", header: auth, body: req,
			answer: openAIJSON(chatCompletion("chatcmpl-retry", "gpt-4o-mini-2024-07-18",
				message(0, `{"role":"assistant","content":"A Danish prince avenges his father's murder, and nearly everyone dies.","refusal":null,"annotations":[]}`, "stop"), usage(19, 15, 0, 0))),
		},
		{
			path: "/v1/chat/completions", header: auth,
			body:   `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello?"}]}`,
			answer: jsonAnswer(500, `{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}`, "X-Request-Id", "req_500test"),
		},
		{
			path: "/v1/messages", header: map[string]string{"X-Api-Key": "sk-ant-api03-test0123456789-abcdAA", "Anthropic-Version": "2023-06-01"},
			body:   `{"model":"claude-sonnet-4-5","max_tokens":512,"messages":[{"role":"user","content":"Hi"}]}`,
			answer: jsonAnswer(529, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_011Over"}`),
		},
		{
			path: "/v1/chat/completions", header: auth,
			body:   `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Summarise the plot of Hamlet in one sentence."}]}`,
			answer: func() fakeupstream.Canned { c := sseAnswer(abort, openAIHeaders...); c.Abort = true; return c }(),
		},
		{
			path: "/v1/chat/completions", header: auth,
			body:        `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Tell me a very long story."}]}`,
			answer:      func() fakeupstream.Canned { c := sseAnswer(hang, openAIHeaders...); c.Hang = true; return c }(),
			cancelAfter: hangBytes,
		},
		{
			path: "/v1/messages", header: map[string]string{"X-Api-Key": "sk-ant-api03-test0123456789-abcdAA", "Anthropic-Version": "2023-06-01"},
			body:   `{"model":"claude-sonnet-4-5","max_tokens":512,"stream":true,"messages":[{"role":"user","content":"Write me a limerick."}]}`,
			answer: sseAnswer(overloaded),
		},
	}}
}

func unreachable() scenario {
	return scenario{name: "unreachable", dead: true, steps: []step{
		{
			path: "/v1/chat/completions", header: auth,
			body: `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Anyone there?"}]}`,
		},
	}}
}

func itoa(n int) string { return strconv.Itoa(n) }
