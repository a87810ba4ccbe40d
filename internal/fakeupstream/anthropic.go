package fakeupstream

import (
	"encoding/json"
	"fmt"
)

// Anthropic Messages: https://docs.anthropic.com/en/api/messages and
// https://docs.anthropic.com/en/docs/build-with-claude/streaming

type messagesRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	System json.RawMessage `json:"system"`
	Stream bool            `json:"stream"`
	Tools  []struct {
		Name string `json:"name"`
	} `json:"tools"`
}

type anthropicMessage struct {
	ID           string         `json:"id"`
	Type         string         `json:"type"`
	Role         string         `json:"role"`
	Model        string         `json:"model"`
	Content      []any          `json:"content"`
	StopReason   *string        `json:"stop_reason"`
	StopSequence *string        `json:"stop_sequence"`
	Usage        anthropicUsage `json:"usage"`
}

type anthropicUsage struct {
	InputTokens              int `json:"input_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
	OutputTokens             int `json:"output_tokens"`
}

type textBlock struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type toolUseBlock struct {
	Type  string          `json:"type"`
	ID    string          `json:"id"`
	Name  string          `json:"name"`
	Input json.RawMessage `json:"input"`
}

// anthropicEvent is any streamed event; each kind fills its own fields.
type anthropicEvent struct {
	Type         string            `json:"type"`
	Message      *anthropicMessage `json:"message,omitempty"`
	Index        *int              `json:"index,omitempty"`
	ContentBlock any               `json:"content_block,omitempty"`
	Delta        any               `json:"delta,omitempty"`
	Usage        *outputUsage      `json:"usage,omitempty"`
}

type outputUsage struct {
	OutputTokens int `json:"output_tokens"`
}

type textDelta struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type inputJSONDelta struct {
	Type        string `json:"type"`
	PartialJSON string `json:"partial_json"`
}

type messageDelta struct {
	StopReason   string  `json:"stop_reason"`
	StopSequence *string `json:"stop_sequence"`
}

// messagesTurn reads what decides the answer from a Messages request. A tool
// result is a tool_result block in the last user message.
func messagesTurn(req *messagesRequest) turn {
	t := turn{prompt: tokens(contentText(req.System))}
	for i, m := range req.Messages {
		text := contentText(m.Content)
		t.count(text, i == len(req.Messages)-1)
		if m.Role != "user" {
			continue
		}
		t.lastUser = text
		var blocks []struct {
			Type    string          `json:"type"`
			Content json.RawMessage `json:"content"`
		}
		_ = json.Unmarshal(m.Content, &blocks)
		t.isResult, t.toolResult = false, ""
		for _, b := range blocks {
			if b.Type == "tool_result" {
				t.isResult = true
				t.toolResult += contentText(b.Content)
			}
		}
	}
	if len(req.Messages) > 0 && req.Messages[len(req.Messages)-1].Role != "user" {
		t.isResult = false
	}
	for _, tool := range req.Tools {
		if tool.Name != "" {
			t.tool = tool.Name
			break
		}
	}
	return t
}

func serveMessages(ex *exchange) error {
	var req messagesRequest
	if err := json.Unmarshal(ex.body, &req); err != nil {
		//lint:ignore ST1005 the text is the provider's own error message
		return fmt.Errorf("There was an issue with your request body: %v", err)
	}
	req.Model = modelOr(req.Model, "claude-sonnet-4-5")
	t := messagesTurn(&req)
	r := decide(t, ex.k.chunks, true)
	stop := "end_turn"
	if r.tool != "" {
		stop = "tool_use"
	}
	toolUse := toolUseBlock{Type: "tool_use", ID: "toolu_fake_1", Name: r.tool, Input: json.RawMessage(toolArgs)}
	msg := anthropicMessage{
		ID: "msg_fake_1", Type: "message", Role: "assistant", Model: req.Model, Content: []any{},
		Usage: anthropicUsage{InputTokens: t.prompt - t.history, CacheReadInputTokens: t.history, OutputTokens: 1},
	}

	if !req.Stream {
		build := func() []byte {
			msg.Content = []any{textBlock{Type: "text", Text: r.text()}}
			msg.Usage.OutputTokens = len(r.pieces)
			if r.tool != "" {
				msg.Content = append(msg.Content, toolUse)
				msg.Usage.OutputTokens += len(splitArgs(toolArgs))
			}
			msg.StopReason = &stop
			return marshal(msg)
		}
		writePadded(ex, &r, 1, build)
		return nil
	}

	s := startStream(ex)
	send := func(e anthropicEvent) { s.json(e.Type, e) }
	index := 0
	send(anthropicEvent{Type: "message_start", Message: &msg})
	send(anthropicEvent{Type: "content_block_start", Index: &index, ContentBlock: textBlock{Type: "text"}})
	send(anthropicEvent{Type: "ping"})
	completion := 0
	for p := range r.deltas(s, nil) {
		send(anthropicEvent{Type: "content_block_delta", Index: &index, Delta: textDelta{Type: "text_delta", Text: p}})
		completion++
	}
	send(anthropicEvent{Type: "content_block_stop", Index: &index})
	if r.tool != "" {
		index++
		start := toolUse
		start.Input = json.RawMessage(`{}`)
		send(anthropicEvent{Type: "content_block_start", Index: &index, ContentBlock: start})
		send(anthropicEvent{Type: "content_block_delta", Index: &index, Delta: inputJSONDelta{Type: "input_json_delta"}})
		for _, p := range splitArgs(toolArgs) {
			send(anthropicEvent{Type: "content_block_delta", Index: &index, Delta: inputJSONDelta{Type: "input_json_delta", PartialJSON: p}})
			completion++
		}
		send(anthropicEvent{Type: "content_block_stop", Index: &index})
	}
	send(anthropicEvent{Type: "message_delta", Delta: messageDelta{StopReason: stop}, Usage: &outputUsage{OutputTokens: completion}})
	send(anthropicEvent{Type: "message_stop"})
	return nil
}
