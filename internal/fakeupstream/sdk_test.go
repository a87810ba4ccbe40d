package fakeupstream_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"

	"github.com/llmtap/llmtap/internal/fakeupstream"
)

// toolArgs are the arguments of every fake tool call.
const toolArgs = `{"city":"Paris"}`

// The tests in this file use the official SDKs as clients: if they accept an
// answer, and their stream accumulators rebuild the same message as the JSON
// answer, the fake speaks the real wire formats well enough.

func openaiClient(t *testing.T, opts ...option.RequestOption) openai.Client {
	t.Helper()
	srv := httptest.NewServer(fakeupstream.New(fakeupstream.Options{}))
	t.Cleanup(srv.Close)
	return openai.NewClient(append([]option.RequestOption{
		option.WithBaseURL(srv.URL + "/v1/"), option.WithAPIKey("sk-test"), option.WithMaxRetries(0),
	}, opts...)...)
}

func anthropicClient(t *testing.T) anthropic.Client {
	t.Helper()
	srv := httptest.NewServer(fakeupstream.New(fakeupstream.Options{}))
	t.Cleanup(srv.Close)
	return anthropic.NewClient(aoption.WithBaseURL(srv.URL), aoption.WithAPIKey("sk-ant-test"), aoption.WithMaxRetries(0))
}

var weatherTool = openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
	Name:       "get_weather",
	Parameters: shared.FunctionParameters{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}},
})

// TestOpenAISDKChat runs a tool-calling conversation, JSON and streamed.
func TestOpenAISDKChat(t *testing.T) {
	ctx := context.Background()
	client := openaiClient(t, option.WithHeader("X-Fake-Chunks", "9"))
	params := openai.ChatCompletionNewParams{
		Model:    "gpt-4o",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Weather in Paris?")},
		Tools:    []openai.ChatCompletionToolUnionParam{weatherTool},
	}

	// Turn 1: a tool call.
	res, err := client.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	calls := res.Choices[0].Message.ToolCalls
	if len(calls) != 1 || calls[0].Function.Name != "get_weather" || calls[0].Function.Arguments != toolArgs {
		t.Fatalf("tool calls %+v", calls)
	}
	acc := sdkStreamChat(t, &client, params)
	if got := acc.Choices[0].Message.ToolCalls; len(got) != 1 || got[0].ID != calls[0].ID ||
		got[0].Function.Name != "get_weather" || got[0].Function.Arguments != toolArgs {
		t.Errorf("streamed tool calls %+v", got)
	}
	if acc.Choices[0].FinishReason != "tool_calls" {
		t.Errorf("finish %q", acc.Choices[0].FinishReason)
	}

	// Turn 2: the tool result is used.
	params.Messages = append(params.Messages, res.Choices[0].Message.ToParam(),
		openai.ToolMessage("18 degrees and sunny", calls[0].ID))
	res, err = client.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	text := res.Choices[0].Message.Content
	if !strings.Contains(text, "18 degrees and sunny") || !strings.Contains(text, "wörld ☀️") {
		t.Errorf("text %q", text)
	}
	params.StreamOptions.IncludeUsage = openai.Bool(true)
	acc = sdkStreamChat(t, &client, params)
	if got := acc.Choices[0].Message.Content; got != text {
		t.Errorf("streamed %q, want %q", got, text)
	}
	if acc.Usage.TotalTokens != res.Usage.TotalTokens || acc.Usage.PromptTokensDetails.CachedTokens == 0 {
		t.Errorf("streamed usage %+v, want %+v", acc.Usage, res.Usage)
	}
}

func sdkStreamChat(t *testing.T, client *openai.Client, params openai.ChatCompletionNewParams) openai.ChatCompletionAccumulator {
	t.Helper()
	s := client.Chat.Completions.NewStreaming(context.Background(), params)
	defer s.Close()
	var acc openai.ChatCompletionAccumulator
	for s.Next() {
		if !acc.AddChunk(s.Current()) {
			t.Fatalf("accumulator rejected chunk %s", s.Current().RawJSON())
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return acc
}

// TestOpenAISDKOthers covers embeddings, models, the Responses API and errors.
func TestOpenAISDKOthers(t *testing.T) {
	ctx := context.Background()
	client := openaiClient(t)

	emb, err := client.Embeddings.New(ctx, openai.EmbeddingNewParams{
		Model: "text-embedding-3-small",
		Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"a", "b"}},
	})
	if err != nil || len(emb.Data) != 2 || len(emb.Data[1].Embedding) != 8 {
		t.Errorf("embeddings %+v, %v", emb, err)
	}

	models, err := client.Models.List(ctx)
	if err != nil || len(models.Data) == 0 || models.Data[0].ID == "" {
		t.Errorf("models %+v, %v", models, err)
	}

	params := responses.ResponseNewParams{
		Model: "gpt-4o",
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Weather in Paris?")},
	}
	resp, err := client.Responses.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	s := client.Responses.NewStreaming(ctx, params)
	var deltas strings.Builder
	var completed string
	for s.Next() {
		switch e := s.Current(); e.Type {
		case "response.output_text.delta":
			deltas.WriteString(e.Delta)
		case "response.completed":
			completed = e.AsResponseCompleted().Response.OutputText()
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if want := resp.OutputText(); !strings.Contains(want, "Paris") || deltas.String() != want || completed != want {
		t.Errorf("deltas %q, completed %q, want %q", deltas.String(), completed, want)
	}

	params.Tools = []responses.ToolUnionParam{responses.ToolParamOfFunction("get_weather", map[string]any{"type": "object"}, false)}
	resp, err = client.Responses.New(ctx, params)
	if err != nil || len(resp.Output) != 1 || resp.Output[0].Type != "function_call" || resp.Output[0].Arguments.OfString != toolArgs {
		t.Errorf("function call %+v, %v", resp, err)
	}

	_, err = client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    "gpt-4o",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
	}, option.WithHeader("X-Fake-Status", "429"))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.Code != "rate_limit_exceeded" {
		t.Errorf("429: %v", err)
	}
}

// TestAnthropicSDK runs a tool-using conversation, JSON and streamed.
func TestAnthropicSDK(t *testing.T) {
	ctx := context.Background()
	client := anthropicClient(t)
	params := anthropic.MessageNewParams{
		Model:     "claude-sonnet-4-5",
		MaxTokens: 256,
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Weather in Paris?"))},
		Tools: []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{
			Name:        "get_weather",
			InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{"city": map[string]any{"type": "string"}}},
		}}},
	}
	msg, err := client.Messages.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if msg.StopReason != "tool_use" || len(msg.Content) != 2 || msg.Content[1].Name != "get_weather" ||
		string(msg.Content[1].Input) != toolArgs {
		t.Fatalf("message %s", msg.RawJSON())
	}
	streamed := sdkStreamMessage(t, &client, params)
	if streamed.StopReason != "tool_use" || len(streamed.Content) != 2 ||
		streamed.Content[0].Text != msg.Content[0].Text || string(streamed.Content[1].Input) != toolArgs ||
		streamed.Usage.OutputTokens != msg.Usage.OutputTokens {
		t.Errorf("streamed %+v\nwant %+v", streamed, msg)
	}

	params.Messages = append(params.Messages, msg.ToParam(), anthropic.NewUserMessage(
		anthropic.NewToolResultBlock(msg.Content[1].ID, "18 degrees and sunny", false)))
	msg, err = client.Messages.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if msg.StopReason != "end_turn" || len(msg.Content) != 1 || !strings.Contains(msg.Content[0].Text, "18 degrees and sunny") {
		t.Errorf("message %s", msg.RawJSON())
	}
	streamed = sdkStreamMessage(t, &client, params)
	if len(streamed.Content) != 1 || streamed.Content[0].Text != msg.Content[0].Text {
		t.Errorf("streamed %+v", streamed.Content)
	}
}

func sdkStreamMessage(t *testing.T, client *anthropic.Client, params anthropic.MessageNewParams) anthropic.Message {
	t.Helper()
	s := client.Messages.NewStreaming(context.Background(), params)
	defer s.Close()
	var msg anthropic.Message
	for s.Next() {
		if err := msg.Accumulate(s.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return msg
}
