package provider

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/llmtap/llmtap/pkg/rawjson"
)

// SetModel returns a request changed to ask for another model, and whether
// it knew where the model goes. Gemini's native API names the model in the
// path (…/models/NAME:generateContent, :streamGenerateContent,
// :embedContent, :countTokens…); every other format this package knows
// (OpenAI, Anthropic, Ollama) names it in the JSON body's top-level
// "model", which is replaced, or added when absent. The rest of the body
// is kept byte for byte. path is escaped, as a record holds it. A body
// that is not a JSON object (multipart, audio) is left alone: ok is false.
func SetModel(path string, body []byte, model string) (newPath string, newBody []byte, ok bool) {
	if p, ok := setGeminiModel(path, model); ok {
		return p, body, true
	}
	v, err := json.Marshal(model)
	if err != nil {
		return path, body, false
	}
	out, err := rawjson.Set(body, []string{"model"}, v)
	if err != nil {
		return path, body, false
	}
	return path, out, true
}

// setGeminiModel replaces NAME in a path ending …/models/NAME:method.
func setGeminiModel(path, model string) (string, bool) {
	i := strings.LastIndex(path, "/models/")
	if i < 0 {
		return path, false
	}
	rest := path[i+len("/models/"):]
	colon := strings.IndexByte(rest, ':')
	if colon <= 0 || strings.Contains(rest[:colon], "/") {
		return path, false
	}
	return path[:i+len("/models/")] + url.PathEscape(model) + rest[colon:], true
}
