// Package provider is the only place that knows the LLM wire formats: OpenAI
// Chat Completions, legacy Completions and the Responses API, Anthropic
// Messages, Gemini generateContent, embeddings, model lists and error
// bodies. It turns one llmtap record into a neutral Exchange: the
// conversation a request sends, the answer (with streamed deltas
// reassembled), tools, usage and errors. It knows nothing of Markdown,
// filters or output.
package provider

// API names the wire format of an exchange.
type API string

// The APIs Parse understands; Unknown gets only a generic summary.
const (
	Unknown           API = ""
	OpenAIChat        API = "openai.chat"
	OpenAICompletions API = "openai.completions"
	OpenAIResponses   API = "openai.responses"
	AnthropicMessages API = "anthropic.messages"
	Gemini            API = "gemini"
	Embeddings        API = "embeddings"
	Models            API = "models"
	Media             API = "media" // audio, images, files: summarized by type and size
)

// Exchange is what one record says, independent of the provider.
type Exchange struct {
	API    API
	Model  string // from the request, else from the response
	Stream bool   // the response was streamed, as record.View.Streamed decides

	// Request is the conversation the request sends, in order: system and
	// developer instructions first, then the messages.
	Request []Message
	// Tools are the tools the request offers.
	Tools []Tool
	// Response is the answer: one assistant message per choice (Choice
	// tells them apart when n>1), plus reasoning, tool calls and refusals.
	Response []Message

	Usage *Usage
	// Error is the provider's error: an HTTP error body, or an error event
	// in a stream.
	Error *APIError
	// Summary is a one-line description for exchanges that are not a
	// conversation: embeddings, model lists, media, unknown endpoints.
	Summary string
	// FirstTokenOffset is the byte offset in the response body of the last
	// byte of the first output event (one that carried text, reasoning, a
	// tool call or a refusal; see OutputKind): the byte whose arrival
	// completed it, so that a reader finds its time in the record's timing
	// the way llmstat does. -1 when unknown.
	FirstTokenOffset int64
}

// Message is one turn of a conversation.
type Message struct {
	Role string // system, developer, user, assistant, tool, function
	Name string // a participant or function name, when given
	// Choice is the choice index of a response message (OpenAI n>1).
	Choice int
	Parts  []Part
	// Reasoning is the model's visible reasoning or thinking text.
	Reasoning string
	// RedactedReasoning is set when the provider sent reasoning that cannot
	// be shown (Anthropic redacted_thinking, encrypted reasoning items).
	RedactedReasoning bool
	ToolCalls         []ToolCall
	// ToolCallID links a tool result (Role "tool") to the call it answers.
	ToolCallID   string
	Refusal      string
	FinishReason string
}

// Roles of a Message: every provider's roles are mapped to these.
const (
	RoleSystem    = "system"
	RoleDeveloper = "developer"
	RoleUser      = "user"
	RoleAssistant = "assistant"
	// RoleTool is a tool's result: OpenAI's tool message or function_call_output
	// item, Anthropic's tool_result block, Gemini's functionResponse part.
	RoleTool = "tool"
	// RoleFunction is a function's result in OpenAI's older function calling.
	RoleFunction = "function"
)

// IsToolResult reports whether m carries the result of a tool (or
// function) call, rather than something a person or the model said.
func (m *Message) IsToolResult() bool {
	return m.Role == RoleTool || m.Role == RoleFunction || m.ToolCallID != ""
}

// IsInstruction reports whether m is a system or developer instruction.
func (m *Message) IsInstruction() bool {
	return m.Role == RoleSystem || m.Role == RoleDeveloper
}

// AbnormalFinish reports whether a finish reason says the answer did not
// end as a reader expects (cut at a token limit, filtered, …): anything
// but the providers' words for a natural end, a stop sequence or a tool
// call. An empty reason is not abnormal.
func AbnormalFinish(reason string) bool {
	switch reason {
	case "",
		"stop", "tool_calls", "function_call", // OpenAI Chat and Completions
		"completed",                             // OpenAI Responses
		"end_turn", "stop_sequence", "tool_use", // Anthropic
		"STOP": // Gemini
		return false
	}
	return true
}

// PartKind says what a content part holds.
type PartKind string

// Part kinds.
const (
	PartText     PartKind = "text"
	PartImage    PartKind = "image"
	PartAudio    PartKind = "audio"
	PartFile     PartKind = "file" // files and documents
	PartData     PartKind = "data" // structured JSON content, kept as text
	PartToolCall PartKind = "tool_call"
	PartOther    PartKind = "other" // anything else, as compact JSON in Text
)

// Part is one piece of a message's content. Inline base64 data is never
// kept: only its media type and decoded size.
type Part struct {
	Kind      PartKind
	Text      string // text, or JSON for PartData and PartOther
	MediaType string // e.g. image/png, when known
	Bytes     int64  // decoded size of inline data; 0 when none
	URL       string // a non-data URL or file id, when the part points elsewhere
	Name      string // a file name, when given
}

// ToolCall is one call of a tool (function) by the model.
type ToolCall struct {
	ID        string
	Type      string // function, custom, web_search, … when given
	Name      string
	Arguments string // exactly as sent (usually JSON), reassembled when streamed
}

// IsPlainFunction reports whether the call is an ordinary function call:
// the type every API assumes when none is given. Other types (custom,
// web_search, …) are worth naming to a reader.
func (c ToolCall) IsPlainFunction() bool { return c.Type == "" || c.Type == "function" }

// Tool is one tool offered to the model.
type Tool struct {
	Name        string
	Description string
}

// Usage is token accounting, the same for every provider; a field is 0
// when not reported.
type Usage struct {
	Input       int64 // prompt / input tokens, cached ones included
	Output      int64 // completion / output tokens, reasoning included
	Total       int64
	CachedInput int64 // input tokens read from cache
	CacheWrite  int64 // input tokens written to cache (Anthropic)
	Reasoning   int64 // output tokens spent on reasoning
}

// APIError is an error reported by the provider.
type APIError struct {
	Type    string
	Code    string
	Message string
}
