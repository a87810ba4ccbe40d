package fakeupstream

import (
	"encoding/json"
	"strings"
)

// OpenAI Responses: https://platform.openai.com/docs/api-reference/responses

type responsesRequest struct {
	Model        string            `json:"model"`
	Input        json.RawMessage   `json:"input"`
	Instructions *string           `json:"instructions"`
	Stream       bool              `json:"stream"`
	Tools        []json.RawMessage `json:"tools"`
}

// responsesInput is one input item: a message (type "message" or absent), a
// function_call, or a function_call_output.
type responsesInput struct {
	Type    string          `json:"type"`
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
	Output  json.RawMessage `json:"output"`
}

type response struct {
	ID                string            `json:"id"`
	Object            string            `json:"object"`
	CreatedAt         int64             `json:"created_at"`
	Status            string            `json:"status"`
	Error             *struct{}         `json:"error"`
	IncompleteDetails *struct{}         `json:"incomplete_details"`
	Instructions      *string           `json:"instructions"`
	Model             string            `json:"model"`
	Output            []any             `json:"output"`
	ParallelToolCalls bool              `json:"parallel_tool_calls"`
	ToolChoice        string            `json:"tool_choice"`
	Tools             []json.RawMessage `json:"tools"`
	Usage             *responsesUsage   `json:"usage"`
}

type responsesUsage struct {
	InputTokens        int `json:"input_tokens"`
	InputTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputTokens        int `json:"output_tokens"`
	OutputTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
	TotalTokens int `json:"total_tokens"`
}

type messageItem struct {
	Type    string       `json:"type"`
	ID      string       `json:"id"`
	Status  string       `json:"status"`
	Role    string       `json:"role"`
	Content []outputText `json:"content"`
}

type outputText struct {
	Type        string     `json:"type"`
	Text        string     `json:"text"`
	Annotations []struct{} `json:"annotations"`
}

type functionCallItem struct {
	Type      string `json:"type"`
	ID        string `json:"id"`
	CallID    string `json:"call_id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
	Status    string `json:"status"`
}

// responsesEvent is any streamed event; each kind fills its own fields.
type responsesEvent struct {
	Type           string    `json:"type"`
	SequenceNumber int       `json:"sequence_number"`
	Response       *response `json:"response,omitempty"`
	OutputIndex    *int      `json:"output_index,omitempty"`
	ItemID         string    `json:"item_id,omitempty"`
	ContentIndex   *int      `json:"content_index,omitempty"`
	Item           any       `json:"item,omitempty"`
	Part           any       `json:"part,omitempty"`
	Delta          *string   `json:"delta,omitempty"`
	Text           *string   `json:"text,omitempty"`
	Arguments      *string   `json:"arguments,omitempty"`
}

// responsesTurn reads what decides the answer from a Responses request.
func responsesTurn(req *responsesRequest) turn {
	var t turn
	if req.Instructions != nil {
		t.prompt += tokens(*req.Instructions)
	}
	var s string
	if json.Unmarshal(req.Input, &s) == nil {
		t.lastUser = s
		t.count(s, true)
	} else {
		var items []responsesInput
		_ = json.Unmarshal(req.Input, &items)
		for i, it := range items {
			text := contentText(it.Content) + contentText(it.Output)
			t.count(text, i == len(items)-1)
			if it.Role == "user" {
				t.lastUser = text
			}
			t.isResult = it.Type == "function_call_output"
			t.toolResult = contentText(it.Output)
		}
	}
	for _, raw := range req.Tools {
		var tool struct {
			Type string `json:"type"`
			Name string `json:"name"`
		}
		if json.Unmarshal(raw, &tool) == nil && tool.Type == "function" && tool.Name != "" {
			t.tool = tool.Name
			break
		}
	}
	return t
}

func serveResponses(ex *exchange) error {
	var req responsesRequest
	if err := decodeOpenAI(ex, &req); err != nil {
		return err
	}
	req.Model = modelOr(req.Model, "gpt-4o-mini")
	if req.Tools == nil {
		req.Tools = []json.RawMessage{}
	}
	t := responsesTurn(&req)
	r := decide(t, ex.k.chunks, false)
	resp := response{
		ID: "resp_fake_1", Object: "response", CreatedAt: Created, Status: "in_progress",
		Instructions: req.Instructions, Model: req.Model, Output: []any{},
		ParallelToolCalls: true, ToolChoice: "auto", Tools: req.Tools,
	}
	usage := func(completion int) *responsesUsage {
		c := chatUsageFor(req.Model, t, completion)
		u := &responsesUsage{InputTokens: c.PromptTokens, OutputTokens: c.CompletionTokens, TotalTokens: c.TotalTokens}
		u.InputTokensDetails.CachedTokens = c.PromptTokensDetails.CachedTokens
		u.OutputTokensDetails.ReasoningTokens = c.CompletionTokensDetails.ReasoningTokens
		return u
	}
	call := functionCallItem{Type: "function_call", ID: "fc_fake_1", CallID: "call_fake_1",
		Name: r.tool, Arguments: toolArgs, Status: "completed"}
	message := func(text string) messageItem {
		return messageItem{Type: "message", ID: "msg_fake_1", Status: "completed", Role: "assistant",
			Content: []outputText{{Type: "output_text", Text: text, Annotations: []struct{}{}}}}
	}

	if !req.Stream {
		build := func() []byte {
			resp.Status = "completed"
			if r.tool != "" {
				resp.Output = []any{call}
				resp.Usage = usage(len(splitArgs(toolArgs)))
			} else {
				resp.Output = []any{message(r.text())}
				resp.Usage = usage(len(r.pieces))
			}
			return marshal(resp)
		}
		copies := 1
		if r.tool != "" {
			copies = 0
		}
		writePadded(ex, &r, copies, build)
		return nil
	}

	s := startStream(ex)
	seq := 0
	send := func(e responsesEvent) {
		e.SequenceNumber = seq
		seq++
		s.json(e.Type, e)
	}
	zero := 0
	send(responsesEvent{Type: "response.created", Response: &resp})
	send(responsesEvent{Type: "response.in_progress", Response: &resp})
	var item any
	completion := 0
	if r.tool != "" {
		added := call
		added.Arguments, added.Status = "", "in_progress"
		send(responsesEvent{Type: "response.output_item.added", OutputIndex: &zero, Item: added})
		for _, p := range splitArgs(toolArgs) {
			send(responsesEvent{Type: "response.function_call_arguments.delta", ItemID: call.ID, OutputIndex: &zero, Delta: &p})
			completion++
		}
		args := toolArgs
		send(responsesEvent{Type: "response.function_call_arguments.done", ItemID: call.ID, OutputIndex: &zero, Arguments: &args})
		item = call
	} else {
		added := message("")
		added.Status, added.Content = "in_progress", []outputText{}
		send(responsesEvent{Type: "response.output_item.added", OutputIndex: &zero, Item: added})
		part := outputText{Type: "output_text", Annotations: []struct{}{}}
		send(responsesEvent{Type: "response.content_part.added", ItemID: "msg_fake_1", OutputIndex: &zero, ContentIndex: &zero, Part: part})
		var text strings.Builder
		// The text comes again in output_text.done, content_part.done,
		// output_item.done and response.completed.
		for p := range r.deltas(s, func() int { return 4 * text.Len() }) {
			send(responsesEvent{Type: "response.output_text.delta", ItemID: "msg_fake_1", OutputIndex: &zero, ContentIndex: &zero, Delta: &p})
			text.WriteString(p)
			completion++
		}
		full := text.String()
		send(responsesEvent{Type: "response.output_text.done", ItemID: "msg_fake_1", OutputIndex: &zero, ContentIndex: &zero, Text: &full})
		part.Text = full
		send(responsesEvent{Type: "response.content_part.done", ItemID: "msg_fake_1", OutputIndex: &zero, ContentIndex: &zero, Part: part})
		item = message(full)
	}
	send(responsesEvent{Type: "response.output_item.done", OutputIndex: &zero, Item: item})
	resp.Status = "completed"
	resp.Output = []any{item}
	resp.Usage = usage(completion)
	send(responsesEvent{Type: "response.completed", Response: &resp})
	return nil
}
