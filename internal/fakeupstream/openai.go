package fakeupstream

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"strings"
)

// OpenAI Chat Completions: https://platform.openai.com/docs/api-reference/chat

type chatRequest struct {
	Model         string        `json:"model"`
	Messages      []chatMessage `json:"messages"`
	Stream        bool          `json:"stream"`
	StreamOptions struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Tools []struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	} `json:"tools"`
	N int `json:"n"`
}

type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

type chatCompletion struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	Choices           []chatChoice `json:"choices"`
	Usage             chatUsage    `json:"usage"`
	ServiceTier       string       `json:"service_tier"`
	SystemFingerprint string       `json:"system_fingerprint"`
}

type chatChoice struct {
	Index        int        `json:"index"`
	Message      chatOutput `json:"message"`
	Logprobs     *struct{}  `json:"logprobs"`
	FinishReason string     `json:"finish_reason"`
}

type chatOutput struct {
	Role        string     `json:"role"`
	Content     *string    `json:"content"`
	ToolCalls   []toolCall `json:"tool_calls,omitempty"`
	Refusal     *string    `json:"refusal"`
	Annotations []struct{} `json:"annotations"`
}

type toolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function functionCall `json:"function"`
}

type functionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

type chatUsage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
		AudioTokens  int `json:"audio_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails struct {
		ReasoningTokens          int `json:"reasoning_tokens"`
		AudioTokens              int `json:"audio_tokens"`
		AcceptedPredictionTokens int `json:"accepted_prediction_tokens"`
		RejectedPredictionTokens int `json:"rejected_prediction_tokens"`
	} `json:"completion_tokens_details"`
}

type chatChunk struct {
	ID                string        `json:"id"`
	Object            string        `json:"object"`
	Created           int64         `json:"created"`
	Model             string        `json:"model"`
	ServiceTier       string        `json:"service_tier"`
	SystemFingerprint string        `json:"system_fingerprint"`
	Choices           []chunkChoice `json:"choices"`
	// Usage is "null" in every chunk but the last when include_usage is set,
	// and absent otherwise, as OpenAI sends it.
	Usage json.RawMessage `json:"usage,omitempty"`
}

type chunkChoice struct {
	Index        int       `json:"index"`
	Delta        chatDelta `json:"delta"`
	Logprobs     *struct{} `json:"logprobs"`
	FinishReason *string   `json:"finish_reason"`
}

// chatDelta holds raw JSON where OpenAI sends an explicit null.
type chatDelta struct {
	Role      string          `json:"role,omitempty"`
	Content   json.RawMessage `json:"content,omitempty"`
	ToolCalls []toolCallDelta `json:"tool_calls,omitempty"`
	Refusal   json.RawMessage `json:"refusal,omitempty"`
}

type toolCallDelta struct {
	Index    int    `json:"index"`
	ID       string `json:"id,omitempty"`
	Type     string `json:"type,omitempty"`
	Function struct {
		Name      string `json:"name,omitempty"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

var jsonNull = json.RawMessage("null")

// chatTurn reads what decides the answer from a chat request.
func chatTurn(req *chatRequest) turn {
	var t turn
	for i, m := range req.Messages {
		text := contentText(m.Content)
		t.count(text, i == len(req.Messages)-1)
		if m.Role == "user" {
			t.lastUser = text
		}
	}
	if len(req.Messages) > 0 {
		if last := req.Messages[len(req.Messages)-1]; last.Role == "tool" {
			t.isResult = true
			t.toolResult = contentText(last.Content)
		}
	}
	for _, tool := range req.Tools {
		if tool.Function.Name != "" {
			t.tool = tool.Function.Name
			break
		}
	}
	return t
}

// chatUsageFor counts tokens; a resent history counts as cached, and a
// reasoning model spends a few reasoning tokens.
func chatUsageFor(model string, t turn, completion int) chatUsage {
	var u chatUsage
	u.PromptTokens = t.prompt
	u.PromptTokensDetails.CachedTokens = t.history
	if isReasoningModel(model) {
		u.CompletionTokensDetails.ReasoningTokens = 16
		completion += 16
	}
	u.CompletionTokens = completion
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return u
}

func isReasoningModel(model string) bool {
	return strings.HasPrefix(model, "gpt-5") ||
		len(model) > 1 && model[0] == 'o' && model[1] >= '0' && model[1] <= '9'
}

// decodeOpenAI reads the request body into req, or gives the error OpenAI
// answers a body it cannot parse with.
func decodeOpenAI(ex *exchange, req any) error {
	if err := json.Unmarshal(ex.body, req); err != nil {
		//lint:ignore ST1005 the text is the provider's own error message
		return fmt.Errorf("We could not parse the JSON body of your request. (%v)", err)
	}
	return nil
}

func modelOr(model, fallback string) string {
	if model == "" {
		return fallback
	}
	return model
}

func serveChat(ex *exchange) error {
	var req chatRequest
	if err := decodeOpenAI(ex, &req); err != nil {
		return err
	}
	req.Model = modelOr(req.Model, "gpt-4o-mini")
	req.N = max(req.N, 1)
	t := chatTurn(&req)
	r := decide(t, ex.k.chunks, false)
	if req.Stream {
		streamChat(ex, &req, t, r)
		return nil
	}
	build := func() []byte {
		c := chatCompletion{
			ID: "chatcmpl-fake-1", Object: "chat.completion", Created: Created, Model: req.Model,
			ServiceTier: "default", SystemFingerprint: "fp_fake",
		}
		completion := len(r.pieces)
		for i := range req.N {
			ch := chatChoice{Index: i, FinishReason: "stop", Message: chatOutput{Role: "assistant", Annotations: []struct{}{}}}
			if r.tool != "" {
				ch.FinishReason = "tool_calls"
				ch.Message.ToolCalls = []toolCall{{ID: callID(i), Type: "function",
					Function: functionCall{Name: r.tool, Arguments: toolArgs}}}
				completion = len(splitArgs(toolArgs))
			} else {
				text := choiceText(r, i)
				ch.Message.Content = &text
			}
			c.Choices = append(c.Choices, ch)
		}
		c.Usage = chatUsageFor(req.Model, t, completion)
		return marshal(c)
	}
	copies := req.N
	if r.tool != "" {
		copies = 0
	}
	writePadded(ex, &r, copies, build)
	return nil
}

// callID is the id of the tool call in choice i.
func callID(i int) string { return fmt.Sprintf("call_fake_%d", i+1) }

// choiceText is the text of choice i: later choices are marked so that a
// reader can tell interleaved choices apart.
func choiceText(r reply, i int) string {
	return choicePrefix(i) + r.text()
}

func choicePrefix(i int) string {
	if i == 0 {
		return ""
	}
	return fmt.Sprintf("[%d] ", i)
}

func streamChat(ex *exchange, req *chatRequest, t turn, r reply) {
	s := startStream(ex)
	// send writes one chunk per choice, interleaved, as OpenAI streams n > 1.
	send := func(delta func(i int) chatDelta, finish *string) {
		for i := range req.N {
			c := chatChunk{
				ID: "chatcmpl-fake-1", Object: "chat.completion.chunk", Created: Created, Model: req.Model,
				ServiceTier: "default", SystemFingerprint: "fp_fake",
				Choices: []chunkChoice{{Index: i, Delta: delta(i), FinishReason: finish}},
			}
			if req.StreamOptions.IncludeUsage {
				c.Usage = jsonNull
			}
			s.json("", c)
		}
	}
	completion := 0
	finish := "stop"
	if r.tool != "" {
		finish = "tool_calls"
		// The first fragment names the call; later ones carry only
		// argument pieces under the same index.
		send(func(i int) chatDelta {
			tc := toolCallDelta{Index: 0, ID: callID(i), Type: "function"}
			tc.Function.Name = r.tool
			return chatDelta{Role: "assistant", Content: jsonNull, ToolCalls: []toolCallDelta{tc}, Refusal: jsonNull}
		}, nil)
		for _, p := range splitArgs(toolArgs) {
			send(func(int) chatDelta {
				tc := toolCallDelta{Index: 0}
				tc.Function.Arguments = p
				return chatDelta{ToolCalls: []toolCallDelta{tc}}
			}, nil)
			completion++
		}
	} else {
		send(func(int) chatDelta {
			return chatDelta{Role: "assistant", Content: json.RawMessage(`""`), Refusal: jsonNull}
		}, nil)
		for p := range r.deltas(s, nil) {
			first := completion == 0
			send(func(i int) chatDelta {
				if first {
					return chatDelta{Content: marshal(choicePrefix(i) + p)}
				}
				return chatDelta{Content: marshal(p)}
			}, nil)
			completion++
		}
	}
	send(func(int) chatDelta { return chatDelta{} }, &finish)
	if req.StreamOptions.IncludeUsage {
		s.json("", chatChunk{
			ID: "chatcmpl-fake-1", Object: "chat.completion.chunk", Created: Created, Model: req.Model,
			ServiceTier: "default", SystemFingerprint: "fp_fake",
			Choices: []chunkChoice{}, Usage: marshal(chatUsageFor(req.Model, t, completion)),
		})
	}
	s.event("", []byte("[DONE]"))
}

// OpenAI legacy Completions: https://platform.openai.com/docs/api-reference/completions

type completionRequest struct {
	Model         string          `json:"model"`
	Prompt        json.RawMessage `json:"prompt"`
	Stream        bool            `json:"stream"`
	StreamOptions struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

type textCompletion struct {
	ID      string             `json:"id"`
	Object  string             `json:"object"`
	Created int64              `json:"created"`
	Model   string             `json:"model"`
	Choices []completionChoice `json:"choices"`
	Usage   json.RawMessage    `json:"usage,omitempty"`
}

type completionChoice struct {
	Text         string    `json:"text"`
	Index        int       `json:"index"`
	Logprobs     *struct{} `json:"logprobs"`
	FinishReason *string   `json:"finish_reason"`
}

func serveCompletions(ex *exchange) error {
	var req completionRequest
	if err := decodeOpenAI(ex, &req); err != nil {
		return err
	}
	req.Model = modelOr(req.Model, "gpt-3.5-turbo-instruct")
	prompt := contentText(req.Prompt)
	t := turn{lastUser: prompt, prompt: tokens(prompt)}
	r := decide(t, ex.k.chunks, false)
	stop := "stop"
	usage := func(completion int) []byte {
		u := chatUsageFor(req.Model, t, completion)
		return marshal(struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
			TotalTokens      int `json:"total_tokens"`
		}{u.PromptTokens, u.CompletionTokens, u.TotalTokens})
	}
	c := textCompletion{ID: "cmpl-fake-1", Object: "text_completion", Created: Created, Model: req.Model}
	if !req.Stream {
		build := func() []byte {
			c.Choices = []completionChoice{{Text: r.text(), FinishReason: &stop}}
			c.Usage = usage(len(r.pieces))
			return marshal(c)
		}
		writePadded(ex, &r, 1, build)
		return nil
	}
	s := startStream(ex)
	n := 0
	for p := range r.deltas(s, nil) {
		c.Choices = []completionChoice{{Text: p}}
		s.json("", c)
		n++
	}
	c.Choices = []completionChoice{{FinishReason: &stop}}
	s.json("", c)
	if req.StreamOptions.IncludeUsage {
		c.Choices = []completionChoice{}
		c.Usage = usage(n)
		s.json("", c)
	}
	s.event("", []byte("[DONE]"))
	return nil
}

// OpenAI Embeddings: https://platform.openai.com/docs/api-reference/embeddings

type embeddingRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	Dimensions     int             `json:"dimensions"`
	EncodingFormat string          `json:"encoding_format"`
}

type embedding struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"` // []float32, or a base64 string
}

type embeddingList struct {
	Object string      `json:"object"`
	Data   []embedding `json:"data"`
	Model  string      `json:"model"`
	Usage  struct {
		PromptTokens int `json:"prompt_tokens"`
		TotalTokens  int `json:"total_tokens"`
	} `json:"usage"`
}

func serveEmbeddings(ex *exchange) error {
	var req embeddingRequest
	if err := decodeOpenAI(ex, &req); err != nil {
		return err
	}
	inputs, err := embeddingInputs(req.Input)
	if err != nil {
		return err
	}
	dims := req.Dimensions
	if dims <= 0 || dims > 4096 {
		dims = 8
	}
	out := embeddingList{Object: "list", Model: modelOr(req.Model, "text-embedding-3-small")}
	for i, in := range inputs {
		v := vector(in, dims)
		e := embedding{Object: "embedding", Index: i, Embedding: v}
		if req.EncodingFormat == "base64" {
			b := make([]byte, 0, 4*len(v))
			for _, f := range v {
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
			}
			e.Embedding = base64.StdEncoding.EncodeToString(b)
		}
		out.Data = append(out.Data, e)
		out.Usage.PromptTokens += tokens(string(in))
	}
	out.Usage.TotalTokens = out.Usage.PromptTokens
	writeJSON(ex, http.StatusOK, marshal(out))
	return nil
}

// embeddingInputs splits "input" into one raw JSON value per vector: a
// string, an array of strings, a token array, or an array of token arrays.
func embeddingInputs(raw json.RawMessage) ([]json.RawMessage, error) {
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		if len(raw) == 0 || string(raw) == "null" {
			return nil, fmt.Errorf("'input' is a required property")
		}
		return []json.RawMessage{raw}, nil
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("'input' cannot be an empty array")
	}
	var n float64
	if json.Unmarshal(list[0], &n) == nil {
		return []json.RawMessage{raw}, nil // one token array
	}
	return list, nil
}

// vector derives a fixed vector with values in [-1, 1] from the input.
func vector(in []byte, dims int) []float32 {
	h := fnv.New64a()
	h.Write(in)
	x := h.Sum64() | 1
	v := make([]float32, dims)
	for i := range v {
		x ^= x << 13 // xorshift64
		x ^= x >> 7
		x ^= x << 17
		v[i] = float32(int64(x%20001)-10000) / 10000
	}
	return v
}

// OpenAI Models: https://platform.openai.com/docs/api-reference/models

type model struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

var models = []model{
	{"gpt-4o", "model", Created, "system"},
	{"gpt-4o-mini", "model", Created, "system"},
	{"o3-mini", "model", Created, "system"},
	{"text-embedding-3-small", "model", Created, "system"},
}

func serveModels(ex *exchange) error {
	writeJSON(ex, http.StatusOK, marshal(struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}{"list", models}))
	return nil
}
