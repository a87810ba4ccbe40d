package provider_test

import (
	"testing"

	"github.com/llmtap/llmtap/pkg/provider"
)

func TestCompletions(t *testing.T) {
	tests := []struct {
		name    string
		req     string
		status  int
		resType string
		res     string   // a JSON body, or
		frames  []string // an SSE stream
		first   int
		want    provider.Exchange
	}{{
		name:    "json",
		req:     `{"model":"gpt-3.5-turbo-instruct","prompt":"Say hi","max_tokens":5}`,
		resType: tapJSONType,
		res:     `{"id":"cmpl-1","object":"text_completion","model":"gpt-3.5-turbo-instruct","choices":[{"text":" Hi!","index":0,"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":2,"completion_tokens":2,"total_tokens":4}}`,
		want: provider.Exchange{Model: "gpt-3.5-turbo-instruct",
			Request:  []provider.Message{{Role: "user", Parts: tapText("Say hi")}},
			Response: []provider.Message{{Role: "assistant", Parts: tapText(" Hi!"), FinishReason: "stop"}},
			Usage:    &provider.Usage{Input: 2, Output: 2, Total: 4}},
	}, {
		name:    "prompts array and n=2, choices keyed by index",
		req:     `{"model":"m","prompt":["A","B"]}`,
		resType: tapJSONType,
		res:     `{"model":"m","choices":[{"text":"b","index":1,"finish_reason":"length"},{"text":"a","index":0,"finish_reason":"stop"}]}`,
		want: provider.Exchange{Model: "m",
			Request: []provider.Message{{Role: "user", Parts: tapText("A")}, {Role: "user", Parts: tapText("B")}},
			Response: []provider.Message{
				{Role: "assistant", Choice: 0, Parts: tapText("a"), FinishReason: "stop"},
				{Role: "assistant", Choice: 1, Parts: tapText("b"), FinishReason: "length"},
			}},
	}, {
		name: "token prompt",
		req:  `{"model":"m","prompt":[1,2,3]}`,
		want: provider.Exchange{Model: "m",
			Request: []provider.Message{{Role: "user", Parts: []provider.Part{{Kind: provider.PartData, Text: "[1,2,3]"}}}}},
	}, {
		name: "stream, usage chunk with empty choices",
		req:  `{"model":"m","prompt":"Hi","stream":true,"stream_options":{"include_usage":true}}`,
		frames: []string{
			tapData(`{"id":"cmpl-1","object":"text_completion","model":"m","choices":[{"text":"","index":0,"logprobs":null,"finish_reason":null}]}`),
			tapData(`{"id":"cmpl-1","object":"text_completion","model":"m","choices":[{"text":"Hé","index":0,"logprobs":null,"finish_reason":null}]}`),
			tapData(`{"id":"cmpl-1","object":"text_completion","model":"m","choices":[{"text":"llo ☀️","index":0,"logprobs":null,"finish_reason":null}]}`),
			tapData(`{"id":"cmpl-1","object":"text_completion","model":"m","choices":[{"text":"","index":0,"logprobs":null,"finish_reason":"stop"}]}`),
			tapData(`{"id":"cmpl-1","object":"text_completion","model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`),
			tapData(`[DONE]`),
		},
		first: 1,
		want: provider.Exchange{Model: "m", Stream: true,
			Request:  []provider.Message{{Role: "user", Parts: tapText("Hi")}},
			Response: []provider.Message{{Role: "assistant", Parts: tapText("Héllo ☀️"), FinishReason: "stop"}},
			Usage:    &provider.Usage{Input: 1, Output: 2, Total: 3}},
	}, {
		name: "stream n=2 interleaved",
		req:  `{"model":"m","prompt":"Hi","n":2,"stream":true}`,
		frames: []string{
			tapData(`{"choices":[{"text":"Red","index":0}]}`),
			tapData(`{"choices":[{"text":"Blue","index":1}]}`),
			tapData(`{"choices":[{"text":" apples","index":0}]}`),
			tapData(`{"choices":[{"text":" berries","index":1}]}`),
		},
		first: 0,
		want: provider.Exchange{Model: "m", Stream: true,
			Request: []provider.Message{{Role: "user", Parts: tapText("Hi")}},
			Response: []provider.Message{
				{Role: "assistant", Choice: 0, Parts: tapText("Red apples")},
				{Role: "assistant", Choice: 1, Parts: tapText("Blue berries")},
			}},
	}, {
		name: "stream error event",
		req:  `{"model":"m","prompt":"Hi","stream":true}`,
		frames: []string{
			tapData(`{"choices":[{"text":"a","index":0}]}`),
			tapData(`{"error":{"message":"boom","type":"server_error"}}`),
		},
		first: 0,
		want: provider.Exchange{Model: "m", Stream: true,
			Request:  []provider.Message{{Role: "user", Parts: tapText("Hi")}},
			Response: []provider.Message{{Role: "assistant", Parts: tapText("a")}},
			Error:    &provider.APIError{Type: "server_error", Message: "boom"}},
	}, {
		name:    "error 400",
		req:     `{"model":"m","prompt":"Hi"}`,
		status:  400,
		resType: tapJSONType,
		res:     `{"error":{"message":"bad prompt","type":"invalid_request_error","param":"prompt","code":null}}`,
		want: provider.Exchange{Model: "m",
			Request: []provider.Message{{Role: "user", Parts: tapText("Hi")}},
			Error:   &provider.APIError{Type: "invalid_request_error", Message: "bad prompt"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tapRec{path: "/v1/completions", req: tt.req, status: tt.status, resType: tt.resType, res: tt.res}
			if tt.frames != nil {
				r.resType, r.res = tapSSEType, tapSSE(tt.frames...)
			}
			if r.res == "" {
				r.noResponse = true
			}
			want := tt.want
			want.API = provider.OpenAICompletions
			want.FirstTokenOffset = -1
			if tt.frames != nil {
				want.FirstTokenOffset = tapLastByte(r.res, tapOffset(tt.frames, tt.first))
			}
			tapCheck(t, tapParse(t, r.record()), &want)
		})
	}
}

func TestCompletionsFakeUpstream(t *testing.T) {
	const greeting = `Héllo wörld ☀️! You said: "Hi".`
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "json", true: "stream"}[stream], func(t *testing.T) {
			req := `{"model":"gpt-3.5-turbo-instruct","prompt":"Hi","stream":` + tapJSON(stream) + `,"stream_options":{"include_usage":true}}`
			got := tapParse(t, tapFake(t, "POST", "/v1/completions", req).record())
			want := &provider.Exchange{API: provider.OpenAICompletions, Model: "gpt-3.5-turbo-instruct", Stream: stream,
				Request:          []provider.Message{{Role: "user", Parts: tapText("Hi")}},
				Response:         []provider.Message{{Role: "assistant", Parts: tapText(greeting), FinishReason: "stop"}},
				Usage:            &provider.Usage{Input: 1, Output: 6, Total: 7},
				FirstTokenOffset: -1}
			if stream {
				want.FirstTokenOffset = tapLastByte(tapFake(t, "POST", "/v1/completions", req).res, 0)
			}
			tapCheck(t, got, want)
		})
	}
}
